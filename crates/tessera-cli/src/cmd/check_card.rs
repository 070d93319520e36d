//! `tessera check-card` (to be written).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckCardArgs {}

pub fn run(_args: CheckCardArgs) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
