//! `tessera bins`: BIN lookup (to be written).

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum BinsCommand {
    /// Look up a card number or prefix.
    Lookup,
}

pub fn run(_command: BinsCommand) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
