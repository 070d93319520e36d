//! `tessera db`: a consistent copy of the embedded SQLite database, taken
//! while the server serves, and put back. The key file is not in it: keep
//! a `tessera keys backup` beside every copy, or its cards cannot be read.
//! PostgreSQL is backed up with its own tools (the README gives them).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use tessera_store::sqlite::DATABASE_FILE;
use tessera_store::sqlite::backup::{self, CopyProgress};

use crate::cmd::serve::ServiceArgs;

#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Copy the live SQLite database into a new file, while the server
    /// serves: everything acknowledged before the copy began is in it.
    Backup {
        /// Where to write the copy; must not exist yet.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// Put a copy made by `db backup` in place of the SQLite database.
    /// The server must be stopped.
    Restore {
        /// The copy written by `tessera db backup`.
        #[arg(long)]
        from: PathBuf,
        /// Replace an existing database. Everything in it is lost.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        service: ServiceArgs,
    },
}

pub fn run(command: DbCommand) -> anyhow::Result<ExitCode> {
    match command {
        DbCommand::Backup { out, service } => {
            let database = sqlite_file(&service)?;
            let version = backup::back_up(&database, &out, &mut progress("backup"))?;
            finish_progress();
            println!(
                "backed up {} to {} (schema {version})",
                database.display(),
                out.display()
            );
            eprintln!(
                "The key file is not in this copy: keep a `tessera keys backup` of the same \
                 data directory beside it, or the cards in it cannot be read."
            );
        }
        DbCommand::Restore {
            from,
            force,
            service,
        } => {
            let database = sqlite_file(&service)?;
            if let Some(dir) = database.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let version = backup::restore(&from, &database, force, &mut progress("restore"))?;
            finish_progress();
            println!(
                "restored {} from {} (schema {version})",
                database.display(),
                from.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The SQLite file of the configured data directory; PostgreSQL is refused
/// with the tools that back it up.
fn sqlite_file(service: &ServiceArgs) -> anyhow::Result<PathBuf> {
    let config = service.load()?;
    if config.database_url.is_some() {
        bail!(
            "this service uses PostgreSQL: back it up with pg_dump -Fc and restore it with \
             pg_restore (see the README's Backups section)"
        );
    }
    Ok(Path::new(&config.data_dir).join(DATABASE_FILE))
}

/// Progress on standard error: one line redrawn on a terminal, a line per
/// tenth otherwise (logs stay short).
fn progress(what: &'static str) -> impl FnMut(CopyProgress) {
    let terminal = std::io::stderr().is_terminal();
    let mut last_tenth = None;
    move |now: CopyProgress| {
        let percent = (now.copied * 100).checked_div(now.total).unwrap_or(100);
        let line = format!("{what}: {} of {} pages ({percent}%)", now.copied, now.total);
        let mut stderr = std::io::stderr().lock();
        if terminal {
            let _ = write!(stderr, "\r{line}");
        } else if last_tenth != Some(percent / 10) {
            last_tenth = Some(percent / 10);
            let _ = writeln!(stderr, "{line}");
        }
    }
}

fn finish_progress() {
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
}
