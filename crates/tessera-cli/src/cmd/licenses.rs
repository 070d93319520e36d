//! `tessera licenses` (to be written).

use std::process::ExitCode;

pub const LONG_VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn run() -> anyhow::Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
