//! `tessera keys rotate`, `retire`, `rotate-root`, and the database's half
//! of `tessera keys status`: the vault's data key versions as the database
//! holds them (`tessera_server::flows::key_rotation`). Nothing here prints
//! key material, wrapped or not.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use tessera_core::vault::{DataKeyState, KeyFile};
use tessera_server::flows::audit::{self, Actor};
use tessera_server::flows::key_rotation::{self, RotationState};
use tessera_server::{AppState, Config, Overrides};

use crate::cmd::keys::DataDirArg;
use crate::cmd::serve::runtime;

#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    #[command(flatten)]
    pub dir: DataDirArg,
    /// The PostgreSQL database (else the SQLite database in the data
    /// directory).
    #[arg(long, env = "TESSERA_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Stay until re-encryption has finished, with a progress bar (this
    /// process walks too, when no server holds the lease).
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, clap::Args)]
pub struct RetireArgs {
    /// The data key version to retire; no record may still use it.
    #[arg(long)]
    pub version: u32,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

async fn open(args: &DatabaseArgs) -> anyhow::Result<AppState> {
    let sqlite = args.dir.data_dir.join(tessera_store::sqlite::DATABASE_FILE);
    if args.database_url.is_none() && !sqlite.exists() {
        bail!(
            "no database at {} (use --data-dir, or --database-url for PostgreSQL)",
            sqlite.display()
        );
    }
    let overrides = Overrides {
        data_dir: Some(args.dir.data_dir.clone()),
        database_url: args.database_url.clone(),
        ..Overrides::default()
    };
    let config = Config::load(None, &overrides).map_err(anyhow::Error::msg)?;
    Ok(tessera_server::open(config).await?.state)
}

pub fn rotate(args: &RotateArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let state = open(&args.db).await?;
        let trace_id = tessera_server::ids::request_id();
        let version = key_rotation::rotate(&state, Actor::service(&trace_id)).await?;
        let rotation = key_rotation::rotation_state(state.store.as_ref()).await?;
        println!(
            "Data key version {version} is active. Running servers learn it within \
             vault.refresh_secs ({} s); until then they refuse to seal (key_version_stale, \
             retryable).",
            state.config.vault.refresh_secs
        );
        println!(
            "Re-encryption started: {} records under older versions.",
            rotation.records_left()
        );
        if args.wait {
            wait(&state).await?;
        } else {
            println!(
                "A running server re-encrypts them; watch with `tessera keys status` or \
                 GET /v1/admin/keys/rotation."
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Walks (or waits for the node that holds the lease) until every record
/// is under the active version, with a progress bar.
async fn wait(state: &AppState) -> anyhow::Result<()> {
    let first = key_rotation::rotation_state(state.store.as_ref()).await?;
    let total = first.records_left();
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "re-encrypting [{bar:40}] {pos}/{len} records ({per_sec}, {eta} left)",
        )
        .context("progress bar template")?
        .progress_chars("=> "),
    );
    // The progress rows are cheap to read; counting every table's records
    // is a full scan, done only when the walk says it has finished.
    let already: u64 = first.resealed();
    loop {
        let walked = key_rotation::reencrypt_batch(state).await?;
        let progress = state.store.reencryption_progress().await?;
        let resealed: u64 = progress.iter().map(|p| p.resealed).sum();
        bar.set_position(resealed.saturating_sub(already).min(total));
        if progress.iter().all(|p| p.finished_at.is_some()) {
            let rotation = key_rotation::rotation_state(state.store.as_ref()).await?;
            if rotation.finished() {
                bar.set_position(total.saturating_sub(rotation.records_left()));
                break;
            }
            let unreadable: u64 = rotation
                .counts
                .iter()
                .filter(|c| {
                    c.version != rotation.active_version && !state.keys.has_version(c.version)
                })
                .map(|c| c.records)
                .sum();
            if unreadable == rotation.records_left() {
                bar.abandon();
                bail!(
                    "{unreadable} records are sealed under versions this key ring does not hold, \
                     so they cannot be re-encrypted: look for them in the log (\"a sealed value \
                     cannot be re-encrypted\", by record id) and restore the key file that holds \
                     their version"
                );
            }
        }
        if walked == 0 {
            // Another node holds the lease, or has the batch in hand.
            tokio::time::sleep(Duration::from_millis(500)).await;
            key_rotation::refresh(state.store.as_ref(), &state.keys).await?;
        }
    }
    bar.finish();
    let rotation = key_rotation::rotation_state(state.store.as_ref()).await?;
    println!(
        "Re-encryption finished: {} values resealed, every record under version {}.",
        rotation.resealed(),
        rotation.active_version
    );
    print_retirable(&rotation);
    Ok(())
}

fn print_retirable(rotation: &RotationState) {
    for key in &rotation.versions {
        if key.state == DataKeyState::Retiring && rotation.records_of(key.version) == 0 {
            println!(
                "Version {} seals nothing any more: `tessera keys retire --version {}` deletes it.",
                key.version, key.version
            );
        }
    }
}

pub fn retire(args: &RetireArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let state = open(&args.db).await?;
        let trace_id = tessera_server::ids::request_id();
        key_rotation::retire(&state, args.version, Actor::service(&trace_id)).await?;
        println!(
            "Data key version {} is retired: its key is deleted from the database, and every \
             server drops it within vault.refresh_secs. Old backups of the database no longer \
             open under it once the key files' copies of it are gone too.",
            args.version
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// A new root key in the key file; every data key wrapped under it; the old
/// root removed from the file only after that.
pub fn rotate_root(args: &DatabaseArgs) -> anyhow::Result<ExitCode> {
    if std::env::var_os(tessera_core::vault::ENV_MASTER_KEY).is_some() {
        bail!(
            "{} is set: the root key is replaced in the key file only. Unset it, run this \
             with the key file in --data-dir, then put the base64 of the new file in {}.",
            tessera_core::vault::ENV_MASTER_KEY,
            tessera_core::vault::ENV_MASTER_KEY
        );
    }
    let file = KeyFile::in_dir(&args.dir.data_dir);
    runtime()?.block_on(async {
        // Opening joins the database's versions and adds a root to a
        // format 1 file.
        let state = open(args).await?;
        if state.keys.hsm().is_some() {
            bail!(
                "vault.backend is \"pkcs11\": the data keys live in the token, unwrapped, so \
                 there is no root key to rotate. Rotate the data key instead (`tessera keys \
                 rotate`)."
            );
        }
        let mut ring = file.load()?;
        let old = ring.root_version();
        let new = ring.add_root()?;
        file.replace(&ring)?;
        let stored = state.store.vault_data_keys().await?;
        let rewrapped = stored
            .iter()
            .filter(|key| key.state != DataKeyState::Retired)
            .map(|key| ring.rewrap(key))
            .collect::<Result<Vec<_>, _>>()?;
        state.store.rewrap_vault_data_keys(&rewrapped).await?;
        if let Some(old) = old {
            ring.retire_root(old)?;
            file.replace(&ring)?;
        }
        let trace_id = tessera_server::ids::request_id();
        Actor::service(&trace_id)
            .record(
                &state,
                audit::ROOT_ROTATED,
                None,
                Some(format!("root_version:{new}")),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.0.code.as_str()))?;
        println!(
            "Root key version {new} wraps all {} data key versions in the database; {} holds \
             it alone. Give every node this key file now (a node with the old one cannot \
             start), and take a new backup (`tessera keys backup`).",
            rewrapped.len(),
            file.path().display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// The database's half of `tessera keys status`, when there is a database.
pub fn print_database_status(
    data_dir: &std::path::Path,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let args = DatabaseArgs {
        dir: DataDirArg {
            data_dir: PathBuf::from(data_dir),
        },
        database_url,
    };
    let sqlite = data_dir.join(tessera_store::sqlite::DATABASE_FILE);
    if args.database_url.is_none() && !sqlite.exists() {
        return Ok(());
    }
    runtime()?.block_on(async {
        let state = open(&args).await?;
        let rotation = key_rotation::rotation_state(state.store.as_ref()).await?;
        println!("database:");
        println!("  active version: {}", rotation.active_version);
        for key in &rotation.versions {
            println!(
                "  {:>4}  {:<8}  root {}  created {}  {} records",
                key.version,
                key.state.as_str(),
                key.root_version,
                key.created_at.to_rfc3339(),
                rotation.records_of(key.version)
            );
        }
        if !rotation.progress.is_empty() {
            println!(
                "  re-encryption: {} ({} resealed, {} left, {:.0}/s)",
                if rotation.finished() {
                    "finished"
                } else {
                    "running"
                },
                rotation.resealed(),
                rotation.records_left(),
                rotation.rate_per_sec()
            );
        }
        print_retirable(&rotation);
        Ok(())
    })
}
