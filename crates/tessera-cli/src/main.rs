//! The `tessera` binary: the service, its client commands and the tools that
//! support engineers use (BIN lookup, card checks, keys, EMV).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// mimalloc, not the system allocator: glibc's malloc and free were a fifth
/// of the runtime threads' time under load (BENCHMARKS.md), its per-thread
/// caches cost a lock on most frees from another thread.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "tessera", version, long_version = cmd::licenses::LONG_VERSION, about = "Tessera: a Token 2.0 wallet service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service: SQLite, generated keys and the sandbox issuer by default.
    Serve(cmd::serve::ServeArgs),
    /// Run the service with a demo user, and print the URLs and test cards.
    Demo(cmd::serve::ServeArgs),
    /// Operator tasks on the service's own data (API keys, closing accounts).
    #[command(subcommand)]
    Admin(cmd::admin::AdminCommand),
    /// The audit trail: verify its chains, export it as JSON lines.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
    /// Sandbox test cards, and the SMS codes a sandbox server kept.
    #[command(subcommand)]
    Sandbox(cmd::sandbox::SandboxCommand),
    /// Look up BIN data for a card number or prefix.
    #[command(subcommand)]
    Bins(cmd::bins::BinsCommand),
    /// Check a card's fields and the support policy without binding it.
    CheckCard(cmd::check_card::CheckCardArgs),
    /// EMV cryptogram tools: derive keys, compute or verify an ARQC, an ARPC.
    Emv(cmd::emv::EmvArgs),
    /// Back up the embedded database while the server serves, restore it.
    #[command(subcommand)]
    Db(cmd::db::DbCommand),
    /// Manage the vault's key file: back it up, restore it.
    #[command(subcommand)]
    Keys(cmd::keys::KeysCommand),
    /// Print the licences of the data shipped inside this binary.
    Licenses,
    /// Create a wallet user on a running server.
    Signup(cmd::login::SignupArgs),
    /// Log in to a running server and print a session token.
    Login(cmd::login::LoginArgs),
    /// Bind and manage your cards on a running server.
    Cards(cmd::cards::CardsArgs),
    /// Pay with a card as a phone and a terminal would: limited-use key,
    /// ARQC, authorization, ARPC.
    Pay(Box<cmd::pay::PayArgs>),
    /// Send money from a bound card to a bank card; list and show transfers.
    Transfers(cmd::transfers::TransfersArgs),
    /// Why a binding or a payment failed: verdict, story, device and next
    /// steps, by trace id, payment id or for everything a user tried
    /// (support or operator API key).
    Diagnose(cmd::diagnose::DiagnoseArgs),
    /// Load a running server with a scenario and report throughput and latency.
    Bench(cmd::bench::BenchArgs),
    /// The sandbox bank as a process of its own, speaking the issuer
    /// protocol (docs/issuer-protocol.md), with faults set at run time.
    IssuerSim(cmd::issuer_sim::IssuerSimArgs),
    /// Fill the service's database with users and bound cards, for load tests.
    Seed(cmd::seed::SeedArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => cmd::serve::serve(args),
        Command::Demo(args) => cmd::serve::demo(args),
        Command::Admin(command) => cmd::admin::run(command),
        Command::Audit(command) => cmd::audit::run(command),
        Command::Sandbox(command) => cmd::sandbox::run(command),
        Command::Bins(command) => cmd::bins::run(command),
        Command::CheckCard(args) => cmd::check_card::run(args),
        Command::Emv(args) => cmd::emv::run(args),
        Command::Db(command) => cmd::db::run(command),
        Command::Keys(command) => cmd::keys::run(command),
        Command::Licenses => cmd::licenses::run(),
        Command::Signup(args) => cmd::login::run_signup(args),
        Command::Login(args) => cmd::login::run_login(args),
        Command::Cards(args) => cmd::cards::run(args),
        Command::Pay(args) => cmd::pay::run(*args),
        Command::Transfers(args) => cmd::transfers::run(args),
        Command::Diagnose(args) => cmd::diagnose::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Seed(args) => cmd::seed::run(args),
        Command::IssuerSim(args) => cmd::issuer_sim::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
