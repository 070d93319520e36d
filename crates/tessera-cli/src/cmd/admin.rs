//! `tessera admin`: operator tasks run against the service's own data.

use std::process::ExitCode;

use crate::cmd::serve::{ServiceArgs, open, runtime};

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Create an API key with a role. It is printed once, alone on its line.
    CreateKey {
        /// operator, support, merchant or issuer
        #[arg(long)]
        role: String,
        /// A note on who holds the key.
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        service: ServiceArgs,
        /// Print {"key": ...} instead.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::CreateKey {
            role,
            label,
            service,
            json,
        } => {
            let config = service.load()?;
            runtime()?.block_on(async {
                let state = open(config).await?;
                let key = tessera_server::create_api_key(&state, &role, &label).await?;
                if json {
                    println!("{}", serde_json::json!({ "key": key, "role": role }));
                } else {
                    println!("{key}");
                }
                Ok(ExitCode::SUCCESS)
            })
        }
    }
}
