//! `tessera sandbox`: test card numbers for every sandbox outcome.

use std::process::ExitCode;

use tessera_core::bins::BinIndex;
use tessera_server::issuer::sandbox::{self, Outcome};

use crate::cmd::serve::card_length;

#[derive(Debug, clap::Subcommand)]
pub enum SandboxCommand {
    /// Print a valid card number that asks the sandbox issuer for an outcome.
    Card {
        /// The BIN (issuer prefix) to start with, e.g. 622848.
        #[arg(long)]
        bin: String,
        /// approve, otp, do_not_honor, lost_card, stolen_card, incorrect_cvc,
        /// phone_mismatch, not_participating, unavailable, slow
        #[arg(long, default_value = "approve")]
        outcome: String,
        /// Digits in the number; the BIN table's length by default.
        #[arg(long)]
        length: Option<usize>,
    },
    /// List the outcomes and the digits that choose them.
    Outcomes,
}

pub fn run(command: SandboxCommand) -> anyhow::Result<ExitCode> {
    match command {
        SandboxCommand::Card {
            bin,
            outcome,
            length,
        } => {
            let Some(outcome) = Outcome::parse(&outcome) else {
                let names: Vec<&str> = Outcome::ALL.iter().map(|o| o.name()).collect();
                anyhow::bail!("unknown outcome {outcome:?}: one of {}", names.join(", "));
            };
            let length = match length {
                Some(length) => length,
                None => {
                    let bins = BinIndex::builtin().map_err(|e| anyhow::anyhow!("{e}"))?;
                    card_length(&bins, &bin)
                }
            };
            let number = sandbox::card_number(&bin, length, outcome).map_err(anyhow::Error::msg)?;
            println!("{number}");
            Ok(ExitCode::SUCCESS)
        }
        SandboxCommand::Outcomes => {
            println!("{:<18} {:<7} what happens", "outcome", "digits");
            for outcome in Outcome::ALL {
                println!(
                    "{:<18} {:<7} {}",
                    outcome.name(),
                    outcome.digits(),
                    outcome.description()
                );
            }
            println!("\nThe digits stand just before the check digit; any other digits approve.");
            Ok(ExitCode::SUCCESS)
        }
    }
}
