//! `tessera keys emv-generation`: add an EMV key generation (a fresh root
//! in the key file) and retire one no live token uses; and the generations
//! `tessera keys status` lists. Nothing here prints key material.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use tessera_core::vault::{ENV_MASTER_KEY, EmvDerivation, KeyFile, KeyRing};
use tessera_server::flows::audit::{self, Actor};
use tessera_server::flows::token_renewal;
use tessera_server::{AppState, Config, Overrides};
use tessera_store::GenerationTokens;

use crate::cmd::serve::runtime;

#[derive(Debug, clap::Subcommand)]
pub enum EmvGenerationCommand {
    /// Add the next EMV key generation with a fresh random root; prints its
    /// number. Copy the key file to every node before issuing under it.
    Add(StoreArgs),
    /// Remove a generation's root once no live token uses it.
    Retire(RetireArgs),
    /// Renew every live token of a generation under the current one
    /// (`payments.imk_generation`, or `--to`), so that it can be retired.
    /// Phones get new keys at their next request.
    Renew(RenewArgs),
}

#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// The data directory holding `tessera.keys` (and the SQLite database).
    #[arg(long, env = "TESSERA_DATA_DIR", default_value = "./tessera-data")]
    pub data_dir: PathBuf,
    /// The PostgreSQL database the tokens are in (else the SQLite database
    /// in the data directory).
    #[arg(long, env = "TESSERA_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RetireArgs {
    /// The generation to retire.
    #[arg(long)]
    pub generation: u8,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, clap::Args)]
pub struct RenewArgs {
    /// The generation whose tokens are renewed.
    #[arg(long)]
    pub generation: u8,
    /// The generation they are renewed under; the configuration's
    /// `payments.imk_generation` when left out.
    #[arg(long)]
    pub to: Option<u8>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(command: EmvGenerationCommand) -> anyhow::Result<ExitCode> {
    match command {
        EmvGenerationCommand::Add(args) => add(&args),
        EmvGenerationCommand::Retire(args) => retire(&args),
        EmvGenerationCommand::Renew(args) => renew(&args),
    }
}

fn renew(args: &RenewArgs) -> anyhow::Result<ExitCode> {
    let from = args.generation;
    if !has_database(&args.store) {
        bail!(
            "no database in {} (use --data-dir, or --database-url for PostgreSQL)",
            args.store.data_dir.display()
        );
    }
    runtime()?.block_on(async {
        let state = open_with(&args.store, args.to).await?;
        let to = state.config.payments.imk_generation;
        // Renewed under a generation this key ring lacks, the tokens
        // would never pay again.
        tessera_server::emv_generations::check_issuing_generation(&state.keys, to)
            .map_err(|error| anyhow::anyhow!("{}; nothing was changed.", error.0))?;
        if from == to {
            bail!(
                "tokens are already issued under EMV key generation {to}: name the old \
                 generation with --generation, or the new one with --to; nothing was changed."
            );
        }
        let total = counts(&state)
            .await?
            .iter()
            .find(|c| c.generation == from)
            .map_or(0, |c| c.live);
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "renewing [{bar:40}] {pos}/{len} tokens ({per_sec}, {eta} left)",
            )
            .context("progress bar template")?
            .progress_chars("=> "),
        );
        let trace_id = tessera_server::ids::request_id();
        let moved = token_renewal::move_generation(
            &state,
            from,
            RENEW_BATCH,
            Actor::service(&trace_id),
            |done| bar.set_position(done.renewed + done.left),
        )
        .await
        .map_err(|error| anyhow::anyhow!("{}", error.0.code.as_str()))?;
        bar.finish();
        println!(
            "Renewed {} live token(s) of EMV key generation {from} under generation {to}.",
            moved.renewed
        );
        if moved.left > 0 {
            println!(
                "{} token(s) were not renewed: renewed 99 times already, or changed while this \
                 ran (the log names each). Run the command again; a token left after that \
                 must be bound again.",
                moved.left
            );
            return Ok(ExitCode::FAILURE);
        }
        println!(
            "No live token uses generation {from} any more: `tessera keys emv-generation retire \
             --generation {from}` removes its root."
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Tokens read at a time while renewing a generation.
const RENEW_BATCH: u32 = 500;

fn add(args: &StoreArgs) -> anyhow::Result<ExitCode> {
    if let Some((location, pin)) = crate::cmd::keys_hsm::configured_token()? {
        return crate::cmd::keys_hsm::add_emv_generation(&location, &pin);
    }
    let file = key_file(&args.data_dir)?;
    let mut ring = file.load()?;
    runtime()?.block_on(async {
        let state = open_existing(args).await?;
        // A key file from before generation roots: the generations its
        // tokens were issued under stay the lookup root's once it lists them.
        if let Some(state) = &state {
            record_lookup_root_generations(state, &mut ring).await?;
        }
        let generation = ring.add_emv_generation()?;
        file.replace(&ring)?;
        println!("{generation}");
        eprintln!(
            "Added EMV key generation {generation} to {}. Copy this key file to every node \
             (and take a new `tessera keys backup`), then set payments.imk_generation = \
             {generation} and restart the nodes: new tokens are issued under it, older tokens \
             keep paying under theirs.",
            file.path().display()
        );
        if let Some(state) = &state {
            record(state, audit::EMV_GENERATION_ADDED, generation).await;
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn retire(args: &RetireArgs) -> anyhow::Result<ExitCode> {
    let generation = args.generation;
    let file = key_file(&args.store.data_dir)?;
    let mut ring = file.load()?;
    runtime()?.block_on(async {
        let state = open_existing(&args.store).await?;
        let counts = match &state {
            Some(state) => counts(state).await?,
            None => Vec::new(),
        };
        let live = counts
            .iter()
            .find(|c| c.generation == generation)
            .map_or(0, |c| c.live);
        if live > 0 {
            bail!(
                "EMV key generation {generation} still has {live} live token(s): retiring it \
                 would stop them paying. Wait until they are renewed or deleted (`tessera keys \
                 status` shows the count); nothing was changed."
            );
        }
        if !ring.has_emv_generation(generation) {
            bail!(
                "{} has no EMV key generation {generation}; nothing was changed.",
                file.path().display()
            );
        }
        if let Some(state) = &state {
            record_lookup_root_generations(state, &mut ring).await?;
        }
        ring.retire_emv_generation(generation)?;
        file.replace(&ring)?;
        println!(
            "Retired EMV key generation {generation} from {}. Copy this key file to every node \
             and restart them.",
            file.path().display()
        );
        if let Some(state) = &state {
            record(state, audit::EMV_GENERATION_RETIRED, generation).await;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The generations `tessera keys status` prints, with their live tokens
/// when the database can be opened.
pub fn print_status(ring: &KeyRing, args: &StoreArgs) {
    let mut ring = ring.clone();
    let counts = if has_database(args) {
        runtime().and_then(|runtime| {
            runtime.block_on(async {
                let state = open(args).await?;
                tessera_server::emv_generations::adopt_stored_generations(
                    state.store.as_ref(),
                    &mut ring,
                    state.now(),
                )
                .await?;
                counts(&state).await
            })
        })
    } else {
        Ok(Vec::new())
    };
    println!("EMV key generations:");
    for info in ring.emv_generations() {
        let root = match info.derivation {
            EmvDerivation::LookupRoot => "lookup root",
            EmvDerivation::OwnRoot => "own root",
            EmvDerivation::Hsm => "HSM token",
        };
        let created = info
            .created_at
            .map(|at| format!("  created {}", at.to_rfc3339()))
            .unwrap_or_default();
        let live = match &counts {
            Ok(counts) => {
                let live = counts
                    .iter()
                    .find(|c| c.generation == info.generation)
                    .map_or(0, |c| c.live);
                format!("  {live} live token(s)")
            }
            Err(_) => String::new(),
        };
        println!("  {:>4}  {root}{created}{live}", info.generation);
    }
    match counts {
        Ok(counts) => {
            for missing in counts
                .iter()
                .filter(|c| !ring.has_emv_generation(c.generation))
            {
                println!(
                    "  {:>4}  not in this key file  {} live token(s): copy the key file that \
                     holds it here",
                    missing.generation, missing.live
                );
            }
        }
        Err(error) => println!("  (live tokens unknown: {error:#})"),
    }
}

/// The key file these commands change: never the environment's copy.
fn key_file(data_dir: &Path) -> anyhow::Result<KeyFile> {
    if std::env::var_os(ENV_MASTER_KEY).is_some() {
        bail!(
            "{ENV_MASTER_KEY} is set: this command changes the key file, not the variable. Run \
             it without {ENV_MASTER_KEY} against the data directory's key file, then set \
             {ENV_MASTER_KEY} to `base64 -w0 tessera.keys` of the result."
        );
    }
    let file = KeyFile::in_dir(data_dir);
    if !file.exists() {
        bail!(
            "no key file at {} (use --data-dir or TESSERA_DATA_DIR)",
            file.path().display()
        );
    }
    Ok(file)
}

/// Whether there is a database to count tokens in: a data directory whose
/// service never started has none, and opening one would create it.
fn has_database(args: &StoreArgs) -> bool {
    args.database_url.is_some()
        || args
            .data_dir
            .join(tessera_store::sqlite::DATABASE_FILE)
            .exists()
}

async fn open_existing(args: &StoreArgs) -> anyhow::Result<Option<AppState>> {
    if !has_database(args) {
        return Ok(None);
    }
    open(args).await.map(Some)
}

async fn open(args: &StoreArgs) -> anyhow::Result<AppState> {
    open_with(args, None).await
}

/// The service's state over the database, issuing under `generation` when
/// given: a node would not start under one its key ring lacks, nor does this.
async fn open_with(args: &StoreArgs, generation: Option<u8>) -> anyhow::Result<AppState> {
    let overrides = Overrides {
        data_dir: Some(args.data_dir.clone()),
        database_url: args.database_url.clone(),
        ..Overrides::default()
    };
    let mut config = Config::load(None, &overrides).map_err(anyhow::Error::msg)?;
    if let Some(generation) = generation {
        config.payments.imk_generation = generation;
    }
    let state = tessera_server::open(config)
        .await
        .context("cannot open the database")?
        .state;
    Ok(state)
}

async fn record_lookup_root_generations(
    state: &AppState,
    ring: &mut KeyRing,
) -> anyhow::Result<()> {
    tessera_server::emv_generations::record_lookup_root_generations(
        state.store.as_ref(),
        ring,
        state.now(),
    )
    .await?;
    Ok(())
}

async fn counts(state: &AppState) -> anyhow::Result<Vec<GenerationTokens>> {
    Ok(state.store.tokens_by_generation().await?)
}

/// A generation added or retired is a security event; the key file is
/// already written, so a failed entry is said, not undone.
async fn record(state: &AppState, action: &str, generation: u8) {
    let trace_id = tessera_server::ids::request_id();
    let subject = format!("emv_generation:{generation}");
    if let Err(error) = Actor::service(&trace_id)
        .record(state, action, None, Some(subject))
        .await
    {
        eprintln!("The change is not in the audit: {}", error.0.code.as_str());
    }
}
