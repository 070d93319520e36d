//! A released migration is never edited, only followed by a new one: a
//! database it migrated never runs it again, so an edit would leave that
//! database and a new one with different schemas under the same version.
//! These tests pin the SHA-256 of every migration of both backends.

use std::path::Path;

use sha2::{Digest, Sha256};

/// (backend, version, SHA-256 of the migration's file), for every
/// migration of both backends. A new migration gets its line here when it
/// is written, deliberately; once released, a line never changes.
const RELEASED: &[(&str, i64, &str)] = &[
    (
        "sqlite",
        1,
        "0dc624a67276569beccc2696e84f2ac7c03737f172b6d6f2198aa89297bbc06d",
    ),
    (
        "postgres",
        1,
        "a8bacf33de57d9ff8e2d8e3a20ee5a970d9231eddbe40f4d006c3e70f90699a9",
    ),
    (
        "sqlite",
        2,
        "1797161177e139ec356541d1303a297c52f6ace7a8517f5864b97c65acf31c2c",
    ),
    (
        "postgres",
        2,
        "5eb01373c4c4dd23d1c7f273937324f518fc0b72d4f24abde936e95792dc2bc8",
    ),
];

/// Each backend's embedded migrations, as its migrator applies them.
fn embedded() -> [(&'static str, &'static [(i64, &'static str)]); 2] {
    [
        ("sqlite", crate::sqlite::migrate::MIGRATIONS),
        ("postgres", crate::postgres::migrate::MIGRATIONS),
    ]
}

fn sha256_hex(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

#[test]
fn released_migrations_are_never_edited() {
    for (backend, migrations) in embedded() {
        for (version, sql) in migrations {
            let actual = sha256_hex(sql);
            let Some((_, _, pinned)) =
                RELEASED.iter().find(|(pinned_backend, pinned_version, _)| {
                    *pinned_backend == backend && pinned_version == version
                })
            else {
                panic!(
                    "{backend} migration {version} has no pinned checksum: add \
                     (\"{backend}\", {version}, \"{actual}\") to RELEASED"
                );
            };
            assert_eq!(
                actual, *pinned,
                "{backend} migration {version}: a released migration was edited: \
                 add a new migration instead"
            );
        }
    }
}

#[test]
fn every_pinned_migration_is_still_applied() {
    for (backend, version, _) in RELEASED {
        let (_, migrations) = embedded()
            .into_iter()
            .find(|(name, _)| name == backend)
            .unwrap_or_else(|| panic!("no backend {backend}"));
        assert!(
            migrations.iter().any(|(known, _)| known == version),
            "{backend} migration {version} was released but is no longer applied: \
             a released migration stays, followed by a new one"
        );
    }
}

/// A file in `migrations/<backend>` that its migrator does not list would
/// never run, and would escape the checksums above.
#[test]
fn every_migration_file_is_applied() {
    for (backend, migrations) in embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let version: i64 = name
                .split('_')
                .next()
                .and_then(|number| number.parse().ok())
                .unwrap_or_else(|| panic!("{backend}/{name}: not NNNN_name.sql"));
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                migrations
                    .iter()
                    .any(|(known, sql)| *known == version && *sql == text),
                "{backend}/{name} is not in {backend}/migrate.rs's MIGRATIONS as version {version}"
            );
            files += 1;
        }
        assert_eq!(files, migrations.len(), "{backend}: files and MIGRATIONS");
    }
}
