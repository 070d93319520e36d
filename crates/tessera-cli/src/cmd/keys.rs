//! `tessera keys`: back up the vault's key file under a passphrase, restore it,
//! and show its state. Nothing here ever prints key material.

use std::fs;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use tessera_core::vault::key_file::{self, unix_mode};
use tessera_core::vault::{self, KeyFile, KeyRing};
use tessera_server::flows::audit::{self, Actor};
use tessera_server::{Config, Overrides};
use zeroize::Zeroizing;

use crate::cmd::emv_generations::{self, EmvGenerationCommand, StoreArgs};
use crate::cmd::keys_hsm::{self, MoveToHsmArgs};
use crate::cmd::keys_rotation::{self, DatabaseArgs, RetireArgs, RotateArgs};
use crate::cmd::serve::runtime;

/// Scripts pass the backup passphrase in this variable instead of a prompt.
pub const ENV_BACKUP_PASSPHRASE: &str = "TESSERA_BACKUP_PASSPHRASE";

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Write an encrypted copy of the key file (Argon2id + AES-256-GCM).
    Backup(BackupArgs),
    /// Restore the key file from an encrypted backup.
    Restore(RestoreArgs),
    /// Show the key file's path, mode, key versions and EMV key generations
    /// with their live tokens, and the database's versions and
    /// re-encryption (never key material).
    Status(StoreArgs),
    /// Add or retire an EMV key generation.
    #[command(subcommand)]
    EmvGeneration(EmvGenerationCommand),
    /// Add a data key version, make it active on every node and start
    /// re-encrypting every stored value under it.
    Rotate(RotateArgs),
    /// Delete a data key version that no record uses any more.
    Retire(RetireArgs),
    /// Replace the key file's root key and re-wrap every data key under it.
    RotateRoot(DatabaseArgs),
    /// Copy the key file's keys into a PKCS#11 token (an HSM) as keys that
    /// cannot be extracted; then set `[vault] backend = "pkcs11"` and
    /// restart. Running it again changes nothing.
    MoveToHsm(MoveToHsmArgs),
}

#[derive(Debug, clap::Args)]
pub struct DataDirArg {
    /// The data directory holding `tessera.keys`.
    #[arg(long, env = "TESSERA_DATA_DIR", default_value = "./tessera-data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to write the backup; must not exist yet.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub dir: DataDirArg,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup file written by `tessera keys backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// Replace an existing key file. Whatever it alone could decrypt is lost.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub dir: DataDirArg,
    /// The PostgreSQL database whose audit records the restore (else the
    /// SQLite database in the data directory, when there is one).
    #[arg(long, env = "TESSERA_DATABASE_URL")]
    pub database_url: Option<String>,
}

pub fn run(command: KeysCommand) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::Backup(args) => backup(&args),
        KeysCommand::Restore(args) => restore(&args),
        KeysCommand::Status(args) => {
            let code = match keys_hsm::configured_token()? {
                Some((location, pin)) => {
                    keys_hsm::print_status(&location, &pin)?;
                    ExitCode::SUCCESS
                }
                None => status(&args)?,
            };
            keys_rotation::print_database_status(&args.data_dir, args.database_url)?;
            Ok(code)
        }
        KeysCommand::EmvGeneration(command) => emv_generations::run(command),
        KeysCommand::Rotate(args) => keys_rotation::rotate(&args),
        KeysCommand::Retire(args) => keys_rotation::retire(&args),
        KeysCommand::RotateRoot(args) => keys_rotation::rotate_root(&args),
        KeysCommand::MoveToHsm(args) => keys_hsm::move_to_hsm(&args),
    }
}

fn backup(args: &BackupArgs) -> anyhow::Result<ExitCode> {
    let file = KeyFile::in_dir(&args.dir.data_dir);
    if !file.exists() {
        bail!(
            "no key file at {}: nothing to back up (use --data-dir or TESSERA_DATA_DIR)",
            file.path().display()
        );
    }
    let ring = file.load()?;
    if args.out.exists() {
        bail!(
            "{} already exists; refusing to overwrite it. Choose another --out.",
            args.out.display()
        );
    }
    let passphrase = passphrase(true)?;
    let bytes = vault::backup(&ring, &passphrase)?;
    key_file::write_new_private_file(&args.out, &bytes)
        .and_then(|()| key_file::sync_parent_dir(&args.out))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "Wrote an encrypted backup of {} (key versions {}, active {}) to {} (mode 0600).",
        file.path().display(),
        list(&ring.versions()),
        ring.active_version(),
        args.out.display()
    );
    println!(
        "Keep it, and its passphrase, apart from the data directory: without the key file every stored card is unreadable."
    );
    Ok(ExitCode::SUCCESS)
}

fn restore(args: &RestoreArgs) -> anyhow::Result<ExitCode> {
    let file = KeyFile::in_dir(&args.dir.data_dir);
    if file.exists() && !args.force {
        bail!(
            "key file {} already exists; refusing to overwrite it. Back it up first, then pass --force to replace it.",
            file.path().display()
        );
    }
    let bytes = fs::read(&args.from)
        .with_context(|| format!("cannot read backup {}", args.from.display()))?;
    let passphrase = passphrase(false)?;
    let ring = vault::restore(&bytes, &passphrase)
        .with_context(|| format!("cannot restore from {}", args.from.display()))?;
    key_file::create_private_dir(&args.dir.data_dir)
        .with_context(|| format!("cannot create {}", args.dir.data_dir.display()))?;
    if file.exists() {
        file.replace(&ring)?;
    } else {
        file.create(&ring)?;
    }
    println!(
        "Restored {} (key versions {}, active {}, mode 0600).",
        file.path().display(),
        list(&ring.versions()),
        ring.active_version()
    );
    if let Err(error) = audit_restore(args, &ring) {
        eprintln!("The restore is not in the audit: {error:#}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Records the restore in the audit of the database beside the key file,
/// if there is one yet: a key ring replaced is a security event.
fn audit_restore(args: &RestoreArgs, ring: &KeyRing) -> anyhow::Result<()> {
    let sqlite = args.dir.data_dir.join(tessera_store::sqlite::DATABASE_FILE);
    if args.database_url.is_none() && !sqlite.exists() {
        return Ok(());
    }
    let overrides = Overrides {
        data_dir: Some(args.dir.data_dir.clone()),
        database_url: args.database_url.clone(),
        ..Overrides::default()
    };
    let config = Config::load(None, &overrides).map_err(anyhow::Error::msg)?;
    let subject = format!(
        "key_versions:{} active:{}",
        list(&ring.versions()),
        ring.active_version()
    );
    runtime()?.block_on(async {
        let state = tessera_server::open(config).await?.state;
        let trace_id = tessera_server::ids::request_id();
        Actor::service(&trace_id)
            .record(&state, audit::KEY_RING_RESTORED, None, Some(subject))
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.0.code.as_str()))
    })
}

fn status(args: &StoreArgs) -> anyhow::Result<ExitCode> {
    let file = KeyFile::in_dir(&args.data_dir);
    let metadata = match fs::metadata(file.path()) {
        Ok(metadata) => metadata,
        Err(error) => bail!("no key file at {}: {error}", file.path().display()),
    };
    println!("key file:       {}", file.path().display());
    if let Some(mode) = unix_mode(&metadata) {
        let verdict = if mode & 0o077 == 0 {
            "ok"
        } else {
            "too open: run chmod 600"
        };
        println!("mode:           {mode:04o} ({verdict})");
    }
    let ring: KeyRing = file.load()?;
    match ring.root_version() {
        Some(root) => println!("root version:   {root}"),
        None => println!("root version:   none yet (format 1: the next start adds one)"),
    }
    println!("active version: {}", ring.active_version());
    println!("versions:");
    for info in ring.version_info() {
        println!(
            "  {:>4}  created {}{}",
            info.version,
            info.created_at.to_rfc3339(),
            if info.active { "  (active)" } else { "" }
        );
    }
    emv_generations::print_status(&ring, args);
    Ok(ExitCode::SUCCESS)
}

/// The passphrase from `TESSERA_BACKUP_PASSPHRASE`, else from the terminal
/// (twice when choosing a new one).
fn passphrase(confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Some(value) = std::env::var_os(ENV_BACKUP_PASSPHRASE) {
        let value = value
            .into_string()
            .map_err(|_| anyhow::anyhow!("{ENV_BACKUP_PASSPHRASE} is not valid UTF-8"))?;
        return Ok(Zeroizing::new(value));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the passphrase: set {ENV_BACKUP_PASSPHRASE}");
    }
    let first = Zeroizing::new(rpassword::prompt_password("Backup passphrase: ")?);
    if confirm {
        let second = Zeroizing::new(rpassword::prompt_password("Same passphrase again: ")?);
        if *first != *second {
            bail!("the two passphrases differ; nothing was written");
        }
    }
    Ok(first)
}

fn list(versions: &[u32]) -> String {
    versions
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
