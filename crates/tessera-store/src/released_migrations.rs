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
        "postgres",
        1,
        "a8bacf33de57d9ff8e2d8e3a20ee5a970d9231eddbe40f4d006c3e70f90699a9",
    ),
    (
        "sqlite",
        1,
        "0dc624a67276569beccc2696e84f2ac7c03737f172b6d6f2198aa89297bbc06d",
    ),
    (
        "postgres",
        2,
        "a0476820eff1f68ca6588d7a26894899912dd1e3891484e5e86c9b4589358c42",
    ),
    (
        "sqlite",
        2,
        "c4e282d68a8ee23b9cb182119232407f2d1bed566a0da29b13788c907c42d6b5",
    ),
    (
        "postgres",
        3,
        "a84e59a7de0dd558a9461173cb47c1bcb34675aa32e35421bbaaa817f9786790",
    ),
    (
        "sqlite",
        3,
        "ff56049c5d82a7c6011fadc7214cb61ee69dae08d3899617c9a4bc2a6ea7ca15",
    ),
    (
        "postgres",
        4,
        "acc37eb8644e7134297d595f161d0cc143ecd55b1727e0b507311ccaf4a70983",
    ),
    (
        "sqlite",
        4,
        "769d7816b8b21259c739a96cdcadc352bd9de30438462fb507da5f3e314a1289",
    ),
    (
        "postgres",
        5,
        "c1779be3f76c90eebdcb20009d5c7ce4006dba5f25e19adbc7ee860c4e9b6b75",
    ),
    (
        "sqlite",
        5,
        "b3db3d964f4d13aa53281478e760e8a7bbdd19ddf83ab744c28518798e1250e1",
    ),
    (
        "postgres",
        6,
        "bbed787efb719c50e3f63bd30714fa64b4c0294bd1ef26dbc6ce57b93d715185",
    ),
    (
        "sqlite",
        6,
        "bbed787efb719c50e3f63bd30714fa64b4c0294bd1ef26dbc6ce57b93d715185",
    ),
    (
        "postgres",
        7,
        "74b3ce6c7bea3d37a0333363d3eca928ef127e5efa66a245e7399de85f1ae30f",
    ),
    (
        "sqlite",
        7,
        "4eb437f4b3f3afd10693f1d751e20c0a228d1209f5b2635ca40812a4ee3cebd2",
    ),
    (
        "postgres",
        8,
        "5eb01373c4c4dd23d1c7f273937324f518fc0b72d4f24abde936e95792dc2bc8",
    ),
    (
        "sqlite",
        8,
        "1797161177e139ec356541d1303a297c52f6ace7a8517f5864b97c65acf31c2c",
    ),
    (
        "postgres",
        9,
        "a6231083a8be8a29b925fea95c3d6b6041929738cb8747c6a06bdf333b134c8c",
    ),
    (
        "sqlite",
        9,
        "a6231083a8be8a29b925fea95c3d6b6041929738cb8747c6a06bdf333b134c8c",
    ),
    (
        "postgres",
        10,
        "34367ee62a8d3f10e7622241991a5bf99cd5887e406a669754fb60aaea92372c",
    ),
    (
        "sqlite",
        10,
        "ec3e27097f1254ca476ab11ee83b2fcee362572e1ec2b2368c2d6e0470ef98bb",
    ),
    (
        "postgres",
        11,
        "b181e35fafdf7b0acb75d5e820ed2e03e3c28d936384a2f3b7c8ed82fbb6bcc9",
    ),
    (
        "postgres",
        12,
        "014f0ccb68301e617c913bba9d14a48d076de09b8196aa9281c1565d064ea456",
    ),
    (
        "postgres",
        13,
        "b58a7c793521cffcb9809188d5dad61ef58e0caac072569d7b4b98ce9d4f3689",
    ),
    (
        "postgres",
        14,
        "121476df79d01dad7b807b2ebf916ac022e88753208b9ee50b804221ef30510a",
    ),
    (
        "sqlite",
        11,
        "48462190be4ef12fbdd1971d37b5c09ec4fd9ca2547d551f89f347018a180fa6",
    ),
    (
        "postgres",
        15,
        "d0770331e0a19b9833689ea485f0f15d1aff3c0dfda608530abba3dcf7f4433f",
    ),
    (
        "sqlite",
        12,
        "97dd2c20e749eabe1ea8f45cde80e8ae391edd833d3851b123ffaefc798d9c53",
    ),
    (
        "postgres",
        16,
        "72df56467217dcb923e394e167d751c3dfa7b6c01220d2705925d2f92703ea2d",
    ),
    (
        "sqlite",
        13,
        "f41b51cec3644ec490cf6cb11fe6e473a591da5a01f847e76e0435e986d796d3",
    ),
    (
        "sqlite",
        14,
        "dfd4a6bb8c4eedb387ead9022e2e1fc0d77b591d7d7ad563b2926297c33067f1",
    ),
    (
        "postgres",
        17,
        "1d3fddd7c0ee5a7d4e7c92160bdaf62482ae0979948fef910100ce0ccd63c0d8",
    ),
    (
        "postgres",
        18,
        "bdbeb0bb5c2e57477307a27d174264b19d62a38c34b1b02885f748a08cb58ff3",
    ),
    (
        "sqlite",
        15,
        "10061f2e8bb201b5350d9792392ce36d206cce4edc1741cea59996a31e85aa58",
    ),
    (
        "sqlite",
        16,
        "258e19e5ad9828a7b2d97abbe645184453a0c4dc86fb1af73d8aa38e041d98fe",
    ),
    (
        "postgres",
        19,
        "a3b54161d998e21b5714a19b246542f3a2983ffd977a80d5969e1ac42612001b",
    ),
    (
        "postgres",
        20,
        "1a87d63c83b15bdeb8e583100379c94ce487523b3a3c5ec1e9ab6f8b632d749b",
    ),
    (
        "sqlite",
        17,
        "87d5010ef2b61b41c2156ed66a84d4c6d3160dc7ae081a9f4e093b47f31827f6",
    ),
    (
        "postgres",
        21,
        "107eeeaf2b954f505d66361f2fd4328e82792a1c2bd90e2ddc5bb7dbc59921d2",
    ),
    (
        "sqlite",
        18,
        "0b5fd3243da9418f69661cb8242e49532de540aaf76ecc7b0469217ba3d9c1a0",
    ),
    (
        "postgres",
        22,
        "d79ada0ae2714e2b9e74e60c21837413e89b897c42498aec6afc5567f46ae2b9",
    ),
    (
        "sqlite",
        19,
        "9eb4dffcf9e44edf308548f11d851360c6eff864a6c3a979fa3a0117e78a271e",
    ),
    (
        "postgres",
        23,
        "94248df18d28bd61274952e7ad141827cd252a2021bf52def894a5d550e2a4c6",
    ),
    (
        "sqlite",
        20,
        "e04dc2f38a989074fcef2ede5f8e3eeedf36768d1f85d586c02907218a1fcb17",
    ),
    (
        "postgres",
        24,
        "507c36e425bc0a591b9bb5f2eafdabccce2cf99eb887c7bfd751b3bdff095fcd",
    ),
    (
        "sqlite",
        21,
        "507c36e425bc0a591b9bb5f2eafdabccce2cf99eb887c7bfd751b3bdff095fcd",
    ),
    (
        "postgres",
        25,
        "9a94179793d6a9e341f4161495537a9917a8f1f1c36080d81bc45b276469bece",
    ),
    (
        "sqlite",
        22,
        "2e27897a6653bf7b7b66d83ba9f5c2c5d6ae6f07ee7e1be5b0d505aded0c7ce2",
    ),
    (
        "postgres",
        26,
        "ecae4f7dac6e886d5284d85de11669ac94f5f97fdb41ef222d4248d2a9ae8cf4",
    ),
    (
        "postgres",
        27,
        "75050a9f61165b27e56884d77dda8c63f81f7b8f59e27ad1af79e57dfa93852d",
    ),
    (
        "sqlite",
        23,
        "4a5ba205893dcb69341fb7892a51a672d7c1b66dfd79679d503a946f74612a98",
    ),
    (
        "sqlite",
        24,
        "9eb48d15958e967cb5119ab7719743a0d961560bbe6a50985b4e343c44892740",
    ),
    (
        "postgres",
        28,
        "5a8966a785130fd23c8182eed540be61ed5876baf4c65428b4baa63df7e5eafb",
    ),
    (
        "postgres",
        29,
        "284340d842caf35ac2f746b84731d23aabd02d634b66e0a2791bfe41b5138d52",
    ),
    (
        "postgres",
        30,
        "d4399c8daa15ac1407a5472078465994951749364e6e8d467bd7c547ad409d62",
    ),
    (
        "sqlite",
        25,
        "584372ebfbd8b6013b0164a7337556882935893c0d0ab3823323f07b4f80325a",
    ),
    (
        "sqlite",
        26,
        "492ad0e98d218b9dbc92bc9e2752ea99a8ef24e64a9545ef8a96bec21b554b0a",
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
