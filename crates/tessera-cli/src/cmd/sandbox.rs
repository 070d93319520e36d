//! `tessera sandbox`: helpers for a server in sandbox mode, where SMS codes
//! are kept in an outbox instead of being sent.

use std::process::ExitCode;

use serde::Deserialize;

use super::client::{ApiClient, ClientArgs, Failure, Lang};

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub command: SandboxCommand,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum SandboxCommand {
    /// List the SMS messages the sandbox "sent" to a phone (OTP codes).
    Sms {
        #[arg(long)]
        phone: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SmsList {
    data: Vec<Sms>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Sms {
    phone: String,
    body: String,
    created_at: String,
}

pub fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let (lang, json) = (args.client.lang, args.client.json);
    Ok(match execute(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(lang, json),
    })
}

fn execute(args: &SandboxArgs) -> Result<(), Failure> {
    let client = ApiClient::new(&args.client)?;
    let SandboxCommand::Sms { phone } = &args.command;
    let answer = client.get("/v1/sandbox/sms", &[("phone", phone)])?;
    if args.client.json {
        answer.print_raw();
        return Ok(());
    }
    let list: SmsList = answer.parse()?;
    if list.data.is_empty() {
        println!(
            "{}",
            match client.lang() {
                Lang::Zh => format!("{phone} 没有短信。"),
                Lang::En => format!("no messages for {phone}."),
            }
        );
    }
    for sms in &list.data {
        println!("{}  {}", sms.created_at, sms.phone);
        println!("  {}", sms.body);
    }
    Ok(())
}
