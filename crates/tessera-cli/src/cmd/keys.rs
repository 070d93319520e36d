//! `tessera keys` (to be written).

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Write an encrypted copy of the key file.
    Backup,
}

pub fn run(_command: KeysCommand) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
