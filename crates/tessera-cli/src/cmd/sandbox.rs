//! `tessera sandbox`: test card numbers for every sandbox outcome, and the
//! SMS messages a sandbox server kept instead of sending them (OTP codes).

use std::process::ExitCode;

use tessera_core::bins::BinIndex;
use tessera_server::issuer::sandbox::{self, Outcome};

use crate::cmd::client::{ApiClient, ClientArgs, Failure, Lang, emit_lines};
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
    /// List the SMS messages a sandbox server "sent" to a phone (OTP codes);
    /// needs that phone's session or an operator key.
    Sms(SmsArgs),
}

#[derive(Debug, clap::Args)]
pub struct SmsArgs {
    #[arg(long)]
    pub phone: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct SmsList {
    data: Vec<Sms>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Sms {
    phone: String,
    body: String,
    created_at: String,
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
        SandboxCommand::Sms(args) => Ok(match sms(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => failure.report(args.client.lang, args.client.json),
        }),
    }
}

fn sms(args: &SmsArgs) -> Result<(), Failure> {
    let mut client = ApiClient::new(&args.client)?;
    // The phone's owner (or an operator key) may read its messages.
    crate::cmd::login::ensure_session(&mut client)?;
    let phone = args.phone.as_str();
    let answer = client.get("/v1/sandbox/sms", &[("phone", phone)])?;
    if args.client.json {
        answer.print_raw();
        return Ok(());
    }
    let list: SmsList = answer.parse()?;
    let mut lines = Vec::new();
    if list.data.is_empty() {
        lines.push(match client.lang() {
            Lang::Zh => format!("{phone} 没有短信。"),
            Lang::En => format!("no messages for {phone}."),
        });
    }
    for sms in &list.data {
        lines.push(format!("{}  {}", sms.created_at, sms.phone));
        lines.push(format!("  {}", sms.body));
    }
    emit_lines(&lines);
    Ok(())
}
