//! `tessera admin`: operator tasks run against the service's own data.

use std::process::ExitCode;

use tessera_core::error::{ErrorCode, Lang};
use tessera_server::flows::closure;
use tessera_server::http::fields::Fields;
use tessera_server::http::views::CloseAccountRequest;
use tessera_store::UserId;

use crate::cmd::serve::{ServiceArgs, open, runtime};

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Create an API key with a role. It is printed once, alone on its
    /// line; an issuer key's signing secret follows on the next line.
    CreateKey {
        /// operator, support, merchant or issuer
        #[arg(long)]
        role: String,
        /// An issuer code of the BIN table (CCB, ICBC, ABC, ...) the issuer
        /// key acts for; repeat for several. Issuer keys need one.
        #[arg(long = "issuer", value_name = "CODE")]
        issuers: Vec<String>,
        /// A merchant id the merchant key pays as; repeat for several.
        /// Merchant keys need one.
        #[arg(long = "merchant", value_name = "ID")]
        merchants: Vec<String>,
        /// A note on the key.
        #[arg(long, default_value = "")]
        label: String,
        /// Who holds the key (a person or a team): shown in the key list
        /// and kept with every read of a person's data the key makes.
        #[arg(long, default_value = "")]
        holder: String,
        #[command(flatten)]
        service: ServiceArgs,
        /// Print {"id", "key", "role", "scope", "holder", "signing_secret"}
        /// instead.
        #[arg(long)]
        json: bool,
    },
    /// List or revoke API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Close a person's account for good, as `POST
    /// /v1/admin/users/{id}/close` does: cards' tokens deleted, PANs
    /// erased, sessions ended; the reason is kept with the closure.
    CloseAccount {
        /// The person's user id (usr_...).
        user_id: String,
        /// Why, kept with the closure.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        service: ServiceArgs,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Every API key, revoked ones too: id, role, scope, holder, created,
    /// revoked, label. Never a secret.
    List {
        #[command(flatten)]
        service: ServiceArgs,
        /// Print the list as JSON, as `GET /v1/admin/keys` answers it.
        #[arg(long)]
        json: bool,
    },
    /// Revoke the API key ID (`key_...`, from `keys list`): every node
    /// refuses it from its next request on.
    Revoke {
        id: String,
        #[command(flatten)]
        service: ServiceArgs,
    },
}

pub fn run(command: AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::CreateKey {
            role,
            issuers,
            merchants,
            label,
            holder,
            service,
            json,
        } => {
            let config = service.load()?;
            runtime()?.block_on(async {
                let state = open(config).await?;
                // --issuer on a merchant key (or the reverse) is refused,
                // not taken as the other kind of owner.
                match role.as_str() {
                    "issuer" if !merchants.is_empty() => {
                        anyhow::bail!(
                            "--merchant is for merchant keys: an issuer key takes --issuer CODE"
                        )
                    }
                    "merchant" if !issuers.is_empty() => {
                        anyhow::bail!(
                            "--issuer is for issuer keys: a merchant key takes --merchant ID"
                        )
                    }
                    _ => {}
                }
                let scope: Vec<String> = issuers.into_iter().chain(merchants).collect();
                let created =
                    tessera_server::create_api_key_held_by(&state, &role, &label, &holder, &scope)
                        .await?;
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "id": created.id,
                            "key": created.key,
                            "role": created.role.as_str(),
                            "scope": created.scope,
                            "holder": created.holder,
                            "signing_secret": created.signing_secret,
                        })
                    );
                } else {
                    println!("{}", created.key);
                    if let Some(secret) = &created.signing_secret {
                        println!("{secret}");
                        eprintln!(
                            "The second line is the key's signing secret: sign its events with \
                             it (HMAC-SHA256). Neither is shown again."
                        );
                    }
                }
                Ok(ExitCode::SUCCESS)
            })
        }
        AdminCommand::Keys(KeysCommand::List { service, json }) => {
            let config = service.load()?;
            runtime()?.block_on(async {
                let state = open(config).await?;
                let list = tessera_server::flows::keys::list(&state)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot list the keys: {}", e.0.code.as_str()))?;
                if json {
                    println!("{}", serde_json::to_string(&list)?);
                    return Ok(ExitCode::SUCCESS);
                }
                println!(
                    "{:<22} {:<9} {:<24} {:<16} {:<21} {:<21} label",
                    "id", "role", "scope", "holder", "created", "revoked"
                );
                for key in &list.data {
                    let scope = if key.scope.is_empty() {
                        "-".to_owned()
                    } else {
                        key.scope.join(",")
                    };
                    let holder = if key.holder.is_empty() {
                        "-"
                    } else {
                        key.holder.as_str()
                    };
                    println!(
                        "{:<22} {:<9} {:<24} {:<16} {:<21} {:<21} {}",
                        key.id,
                        key.role,
                        scope,
                        holder,
                        key.created_at,
                        key.revoked_at.as_deref().unwrap_or("-"),
                        key.label
                    );
                }
                Ok(ExitCode::SUCCESS)
            })
        }
        AdminCommand::Keys(KeysCommand::Revoke { id, service }) => {
            let config = service.load()?;
            runtime()?.block_on(async {
                let state = open(config).await?;
                let now = state.now();
                let trace_id = tessera_server::ids::request_id();
                let by = tessera_server::flows::audit::Actor::service(&trace_id);
                match tessera_server::flows::keys::revoke(&state, id.trim(), by, now).await {
                    Ok(key) => {
                        println!(
                            "revoked {} ({}) at {}",
                            key.id,
                            key.role,
                            key.revoked_at.as_deref().unwrap_or("-")
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(error) if error.0.code == tessera_core::error::ErrorCode::NotFound => {
                        eprintln!(
                            "no API key has the id {id:?}: `tessera admin keys list` shows them"
                        );
                        Ok(ExitCode::FAILURE)
                    }
                    Err(error) => Err(anyhow::anyhow!(
                        "cannot revoke the key: {}",
                        error.0.code.as_str()
                    )),
                }
            })
        }
        AdminCommand::CloseAccount {
            user_id,
            reason,
            service,
        } => {
            let config = service.load()?;
            runtime()?.block_on(async {
                let state = open(config).await?;
                let request = CloseAccountRequest { reason };
                let now = state.now();
                let trace_id = tessera_server::ids::request_id();
                let closed = match request.check_fields(&state.config.limits) {
                    Ok(()) => {
                        closure::close_by_operator(
                            &state,
                            &UserId::from(user_id.trim().to_owned()),
                            "cli",
                            &request.reason,
                            &trace_id,
                            now,
                        )
                        .await
                    }
                    Err(error) => Err(error.into()),
                };
                match closed {
                    Ok(closed) => {
                        println!(
                            "closed {} at {}; masked records kept until {}",
                            closed.user_id, closed.closed_at, closed.records_kept_until
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(error) if error.0.code == ErrorCode::NotFound => {
                        eprintln!("no user has the id {user_id:?}");
                        Ok(ExitCode::FAILURE)
                    }
                    Err(error) => {
                        eprintln!(
                            "cannot close the account: {} ({})",
                            error.0.message(Lang::En),
                            error.0.code.as_str()
                        );
                        Ok(ExitCode::FAILURE)
                    }
                }
            })
        }
    }
}
