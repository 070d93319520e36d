//! `tessera audit`: check the audit chains for tampering, and export the
//! entries as JSON lines for a SIEM. Entries hold ids and actions only.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tessera_server::flows::audit_chain;

use crate::cmd::serve::{ServiceArgs, open, runtime};

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Walk every chain and its checkpoints; name each entry changed,
    /// removed, inserted or reordered, and entries cut from a chain's
    /// end. Exits non-zero on any finding.
    Verify {
        #[command(flatten)]
        service: ServiceArgs,
    },
    /// Write the entries made at or after --since as JSON lines, oldest
    /// first, to standard output.
    Export {
        /// An RFC 3339 time, such as 2026-12-01T00:00:00Z.
        #[arg(long)]
        since: String,
        #[command(flatten)]
        service: ServiceArgs,
    },
}

pub fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify { service } => {
            let config = service.load()?;
            runtime()?.block_on(async {
                let state = open(config).await?;
                let report = audit_chain::verify(state.store.as_ref(), &state.keys)
                    .await
                    .context("cannot read the audit")?;
                for (chain, entries) in &report.chains {
                    println!("chain {chain}: {entries} entries");
                }
                if report.unchained > 0 {
                    println!(
                        "{} entries predate the chain and are not checked",
                        report.unchained
                    );
                }
                println!("{} checkpoints", report.checkpoints);
                if report.findings.is_empty() {
                    println!("ok: every chain is whole");
                    return Ok(ExitCode::SUCCESS);
                }
                for finding in &report.findings {
                    println!("TAMPERED: {finding}");
                }
                eprintln!(
                    "{} findings: the audit was changed outside Tessera",
                    report.findings.len()
                );
                Ok(ExitCode::FAILURE)
            })
        }
        AuditCommand::Export { since, service } => {
            let since: DateTime<Utc> = DateTime::parse_from_rfc3339(since.trim())
                .map(|t| t.with_timezone(&Utc))
                .with_context(|| {
                    format!(
                        "--since {since:?}: expected an RFC 3339 time such as 2026-12-01T00:00:00Z"
                    )
                })?;
            let config = service.load()?;
            runtime()?.block_on(async {
                let state = open(config).await?;
                let entries = state
                    .store
                    .audit_entries_since(since)
                    .await
                    .context("cannot read the audit")?;
                let mut out = std::io::stdout().lock();
                for entry in &entries {
                    let link = entry.link.as_ref();
                    // The key's holder stays out: a name, not an id.
                    let line = serde_json::json!({
                        "id": entry.id,
                        "at": entry.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        "action": entry.action,
                        "role": entry.role,
                        "key_id": entry.key_id,
                        "user_id": entry.user_id.as_ref().map(|u| u.as_str()),
                        "subject": entry.subject,
                        "trace_id": entry.trace_id,
                        "chain_id": link.map(|l| l.chain_id.as_str()),
                        "seq": link.map(|l| l.seq),
                        "prev_hash": link.map(|l| l.prev_hash.as_str()),
                        "entry_hash": link.map(|l| l.entry_hash.as_str()),
                    });
                    writeln!(out, "{line}")?;
                }
                Ok(ExitCode::SUCCESS)
            })
        }
    }
}
