//! `tessera keys move-to-hsm`: copies the key file's keys into a PKCS#11
//! token (`tessera_core::vault::hsm_ring`), after which the operator
//! switches `[vault] backend` to `pkcs11` and restarts. Prints labels and
//! counts, never key material.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use tessera_core::vault::{ENV_HSM_PIN, HsmLocation, HsmToken};
use tessera_server::config::VaultBackend;
use tessera_server::flows::audit::{self, Actor};
use tessera_server::{Config, Overrides};

use crate::cmd::keys_rotation::DatabaseArgs;
use crate::cmd::serve::runtime;

#[derive(Debug, clap::Args)]
pub struct MoveToHsmArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// The config file the nodes run with: its token BIN ranges are those
    /// whose issuer master keys are imported.
    #[arg(long, env = "TESSERA_CONFIG")]
    pub config: Option<PathBuf>,
    /// The PKCS#11 module (Debian's SoftHSM2:
    /// /usr/lib/softhsm/libsofthsm2.so).
    #[arg(long)]
    pub module: PathBuf,
    /// The label of the initialized token to fill; its user PIN comes from
    /// TESSERA_HSM_PIN.
    #[arg(long)]
    pub token: String,
}

pub fn move_to_hsm(args: &MoveToHsmArgs) -> anyhow::Result<ExitCode> {
    let pin = std::env::var(ENV_HSM_PIN).map_err(|_| {
        anyhow::anyhow!(
            "set {ENV_HSM_PIN} to the user PIN of token {:?} (read from the environment only)",
            args.token
        )
    })?;
    let sqlite = args
        .db
        .dir
        .data_dir
        .join(tessera_store::sqlite::DATABASE_FILE);
    if args.db.database_url.is_none() && !sqlite.exists() {
        bail!(
            "no database at {}: start `tessera serve` once with the key file (it records the \
             data key versions), then move (use --data-dir, or --database-url for PostgreSQL)",
            sqlite.display()
        );
    }
    let overrides = Overrides {
        data_dir: Some(args.db.dir.data_dir.clone()),
        database_url: args.db.database_url.clone(),
        ..Overrides::default()
    };
    let mut config =
        Config::load(args.config.as_deref(), &overrides).map_err(anyhow::Error::msg)?;
    // The keys are read from the key file (or TESSERA_MASTER_KEY), joined
    // with the data key versions the database holds, whatever the
    // environment says the backend will be.
    config.vault.backend = VaultBackend::File;
    let ranges: Vec<String> = config
        .token_bin_ranges
        .all()
        .iter()
        .map(|(_, range)| range.prefix().to_owned())
        .collect();
    let location = HsmLocation {
        module: args.module.clone(),
        token: args.token.clone(),
    };
    runtime()?.block_on(async {
        let state = tessera_server::open(config)
            .await
            .context("cannot read the key file's keys")?
            .state;
        let token = HsmToken::open(&location, &pin)?;
        let ranges: Vec<&str> = ranges.iter().map(String::as_str).collect();
        let report = state.keys.move_to_hsm(&token, &ranges)?;
        let trace_id = tessera_server::ids::request_id();
        Actor::service(&trace_id)
            .record(
                &state,
                audit::KEYS_MOVED_TO_HSM,
                None,
                Some(format!("token:{}", args.token)),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.0.code.as_str()))?;
        let imported = report.imported();
        println!(
            "Token {:?} holds the key file's {} keys ({imported} imported now, {} there \
             already and matching), none of them extractable but the two password peppers.",
            args.token,
            report.steps.len(),
            report.steps.len() - imported
        );
        println!("Next, on every node:");
        println!("  1. in the config file:");
        println!("       [vault]");
        println!("       backend = \"pkcs11\"");
        println!(
            "       pkcs11_module = {:?}",
            args.module.display().to_string()
        );
        println!("       pkcs11_token = {:?}", args.token);
        println!("  2. export {ENV_HSM_PIN} with the token's user PIN");
        println!("  3. restart `tessera serve`");
        println!(
            "Keep the key file (and `tessera keys backup` of it) offline: it is the copy of \
             these keys. Until the first `tessera keys rotate` under the HSM, a node can go \
             back to it by setting vault.backend = \"file\"."
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// The token the environment's config names (`TESSERA_VAULT__BACKEND=pkcs11`
/// and the rest), with its PIN; None with the key file backend.
pub fn configured_token() -> anyhow::Result<Option<(HsmLocation, String)>> {
    let config = Config::load(None, &Overrides::default()).map_err(anyhow::Error::msg)?;
    let Some(location) = config.vault.hsm_location().map_err(anyhow::Error::msg)? else {
        return Ok(None);
    };
    let pin = std::env::var(ENV_HSM_PIN).map_err(|_| {
        anyhow::anyhow!(
            "set {ENV_HSM_PIN} to the user PIN of token {:?}",
            location.token
        )
    })?;
    Ok(Some((location, pin)))
}

/// `tessera keys status` with the HSM backend: where the keys are. The
/// database's versions follow, as with the key file.
pub fn print_status(location: &HsmLocation, pin: &str) -> anyhow::Result<()> {
    let ring = tessera_core::vault::KeyRing::open_hsm(location, pin)?;
    println!(
        "keys:           in PKCS#11 token {:?} (module {})",
        location.token,
        location.module.display()
    );
    let generations: Vec<String> = ring
        .emv_generations()
        .iter()
        .map(|info| info.generation.to_string())
        .collect();
    println!("EMV generations in the token: {}", generations.join(", "));
    Ok(())
}

/// `tessera keys emv-generation add` with the HSM backend: a root made
/// inside the token.
pub fn add_emv_generation(location: &HsmLocation, pin: &str) -> anyhow::Result<ExitCode> {
    let mut ring = tessera_core::vault::KeyRing::open_hsm(location, pin)?;
    let generation = ring.add_emv_generation()?;
    println!("{generation}");
    eprintln!(
        "Added EMV key generation {generation} to token {:?}: every node of the token has it \
         after a restart; then set payments.imk_generation = {generation}.",
        location.token
    );
    Ok(ExitCode::SUCCESS)
}
