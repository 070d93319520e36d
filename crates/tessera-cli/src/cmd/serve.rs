//! `tessera serve` and `tessera demo`: run the service on its embedded
//! default (SQLite, generated keys, sandbox issuer) under one data directory.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use tessera_core::bins::BinIndex;
use tessera_server::config::{LimitsConfig, WebauthnConfig};
use tessera_server::issuer::sandbox::{self, Outcome};
use tessera_server::{AppState, Config, Overrides};

/// Settings shared by every command that opens the service's own data.
#[derive(Debug, clap::Args)]
pub struct ServiceArgs {
    /// A TOML file with settings (see the README's Configuration section).
    #[arg(long, env = "TESSERA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where the database and the key file live [default: ./tessera-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// postgres://... to share one database between nodes.
    #[arg(long)]
    pub database_url: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub service: ServiceArgs,
    /// Address to listen on; port 0 picks a free one [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<String>,
    /// Cards one user may hold at once [default: 5].
    #[arg(long)]
    pub card_limit: Option<u32>,
    /// Log format: human or json [default: human].
    #[arg(long)]
    pub log_format: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// For benchmarks only: raise the binding limits per card, per person
    /// and per phone, and the card limit (unless --card-limit is given), out
    /// of reach; they are still counted. The connection cap goes as far as
    /// the open-file limit allows. Loopback addresses only.
    #[arg(long)]
    pub load_test: bool,
}

impl ServeArgs {
    fn load(&self) -> anyhow::Result<Config> {
        let overrides = Overrides {
            data_dir: self.service.data_dir.clone(),
            listen: self.listen.clone(),
            database_url: self.service.database_url.clone(),
            card_limit: self.card_limit,
            log_format: self.log_format.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
        };
        let mut config =
            Config::load(self.service.config.as_deref(), &overrides).map_err(anyhow::Error::msg)?;
        if self.load_test {
            load_test(&mut config, self.card_limit.is_some())?;
        }
        Ok(config)
    }
}

/// `--load-test`: the limits out of a benchmark's way, on this machine only.
fn load_test(config: &mut Config, card_limit_given: bool) -> anyhow::Result<()> {
    let listen: std::net::SocketAddr = config
        .listen
        .parse()
        .with_context(|| format!("listen: {:?} is not an address:port", config.listen))?;
    if !listen.ip().is_loopback() {
        anyhow::bail!(
            "--load-test raises the binding limits, so it listens on loopback only \
             (127.0.0.1 or ::1), not {}",
            config.listen
        );
    }
    config.limits.raise_for_load_test();
    // Every payment is still scored; none needs confirming or is stopped.
    config.consent.raise_for_load_test();
    config.risk.raise_for_load_test();
    config.listener.raise_for_load_test();
    if !card_limit_given {
        config.card_limit = LimitsConfig::LOAD_TEST;
    }
    eprintln!(
        "WARNING: --load-test: the binding limits per card, per person and per phone{} are \
         raised to {} (still counted), payments need no confirmation and the risk rules score \
         without stopping any, and the connection cap is what the open-file limit \
         allows. For benchmarks on this machine only; never serve \
         people with it.",
        if card_limit_given {
            ""
        } else {
            " and the card limit"
        },
        LimitsConfig::LOAD_TEST
    );
    Ok(())
}

impl ServiceArgs {
    pub fn load(&self) -> anyhow::Result<Config> {
        let overrides = Overrides {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            ..Overrides::default()
        };
        Config::load(self.config.as_deref(), &overrides).map_err(anyhow::Error::msg)
    }
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Opens the service's state and says what a first start must say.
pub async fn open(config: Config) -> anyhow::Result<AppState> {
    let opened = tessera_server::open(config).await?;
    if let Some(path) = &opened.created_keys {
        eprintln!(
            "A new vault key file was created at {}.\n\
             It is the vault: without it every stored card is unreadable. Back it up now with\n  \
             tessera keys backup --out tessera-keys.backup --data-dir {}",
            path.display(),
            opened.state.config.data_dir.display()
        );
    }
    Ok(opened.state)
}

pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = args.load()?;
    tessera_server::check_tls(&config)?;
    tessera_server::init_tracing(&config.log_format);
    runtime()?.block_on(async {
        let state = open(config).await?;
        let server = tessera_server::start(state).await?;
        println!("tessera listening on {}", server.base_url());
        server.wait().await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The demo user's sign-in.
pub const DEMO_PHONE: &str = "13800138000";
pub const DEMO_PASSWORD: &str = "demo-1234";
pub const DEMO_NAME: &str = "张三";
pub const DEMO_ID_NUMBER: &str = "11010519491231002X";
/// Who holds the demo's support key, as the console's audit names them.
pub const DEMO_SUPPORT_HOLDER: &str = "demo support desk";
/// The merchant id the demo's merchant key pays as.
pub const DEMO_MERCHANT: &str = "SHOP-1";

pub fn demo(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = args.load()?;
    config.sandbox_print_sms = true;
    tessera_server::check_tls(&config)?;
    tessera_server::init_tracing(&config.log_format);
    runtime()?.block_on(async {
        // Bound before the state is made: a port the system chooses
        // (`--listen 127.0.0.1:0`) is then known to the passkey origin.
        let tcp = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let bound = tcp.local_addr()?;
        config.listen = bound.to_string();
        demo_webauthn(&mut config, bound.port());
        let state = open(config).await?;
        let server = tessera_server::start_on(state.clone(), tcp).await?;
        let base = server.base_url();
        let operator_key = tessera_server::create_api_key(&state, "operator", "demo", &[])
            .await?
            .key;
        let merchant_key =
            tessera_server::create_api_key(&state, "merchant", "demo", &[DEMO_MERCHANT.to_owned()])
                .await?
                .key;
        let support_key = tessera_server::create_api_key_held_by(
            &state,
            "support",
            "demo",
            DEMO_SUPPORT_HOLDER,
            &[],
        )
        .await?
        .key;
        let created = demo_user(&state).await?;
        println!("tessera demo listening on {base}");
        println!();
        println!("  wallet         {base}/ (sign in as the demo user, or sign up)");
        println!("  API            {base}/v1");
        println!("  OpenAPI        {base}/openapi.json");
        println!("  health         {base}/healthz");
        println!(
            "  demo user      phone {DEMO_PHONE}, password {DEMO_PASSWORD}, real name {DEMO_NAME}{}",
            if created { "" } else { " (already existed)" }
        );
        println!("  operator key   {operator_key}");
        println!("  merchant key   {merchant_key} (pays as {DEMO_MERCHANT})");
        println!("  support key    {support_key}");
        println!("  console        {base}/support (sign in with the support or operator key)");
        println!();
        println!("Sign in:");
        println!(
            "  curl -s -X POST {base}/v1/sessions -H 'content-type: application/json' \\\n    -d '{{\"phone\":\"{DEMO_PHONE}\",\"password\":\"{DEMO_PASSWORD}\"}}'"
        );
        println!();
        println!("Sandbox test cards (holder name {DEMO_NAME}; new numbers: tessera sandbox card --bin BIN --outcome NAME):");
        print_card_table(&state.bins)?;
        println!();
        println!("Pay with a bound card, as a phone and a terminal would (TOKEN from the sign-in):");
        println!(
            "  tessera pay --server {base} --token $TOKEN --merchant-key {merchant_key} \\\n    --card CARD_ID --amount 12.34 --merchant SHOP-1"
        );
        println!(
            "  amounts ending in 05, 41, 43, 51, 61 (minor units) are declined, 91 finds the bank unavailable"
        );
        println!();
        println!("Sign up another person: a code to the phone first, then the sign-up with it:");
        println!(
            "  curl -s -X POST {base}/v1/sms-codes -H 'content-type: application/json' \\\n    -d '{{\"phone\":\"13900139000\",\"purpose\":\"sign_up\"}}'"
        );
        println!(
            "  ID numbers whose 15th-17th digits are 990, 991, 992: the sandbox identity check \
             finds the name differs, no such ID, or is unavailable"
        );
        println!();
        println!("Sign-up and OTP codes arrive on the sandbox phone (GET {base}/v1/sandbox/sms?phone=PHONE, operator key) and are shown here:");
        server.wait().await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The demo's passkeys are made for `localhost` on the port it listens on,
/// so that a browser at `http://localhost:PORT` may register one. Only the
/// built-in default is replaced: a `[webauthn]` the configuration names is
/// kept as written, and `tessera serve` always takes it as configured.
fn demo_webauthn(config: &mut Config, port: u16) {
    if config.webauthn == WebauthnConfig::default() {
        let scheme = if config.listener.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        config.webauthn.rp_origin = format!("{scheme}://localhost:{port}");
    }
}

/// Signs the demo user up as a person would: a sign-up code texted to the
/// demo phone (shown on the sandbox phone and here), then the sign-up with
/// it.
async fn demo_user(state: &AppState) -> anyhow::Result<bool> {
    if state.store.user_by_phone(DEMO_PHONE).await?.is_some() {
        return Ok(false);
    }
    let failed = |e: tessera_server::http::error::ApiError| {
        anyhow::anyhow!("could not create the demo user: {}", e.0)
    };
    let asked = tessera_server::http::views::SmsCodeRequest {
        phone: DEMO_PHONE.to_owned(),
        purpose: "sign_up".to_owned(),
    };
    tessera_server::flows::sms_codes::request_code(state, &asked, state.now())
        .await
        .map_err(failed)?;
    let texts = state.store.sandbox_sms(DEMO_PHONE, 1).await?;
    let sms_code = texts
        .first()
        .and_then(|text| tessera_server::client::code_in(&text.body))
        .ok_or_else(|| anyhow::anyhow!("the sandbox phone shows no sign-up code"))?;
    let request = tessera_server::http::views::CreateUserRequest {
        phone: DEMO_PHONE.to_owned(),
        real_name: DEMO_NAME.to_owned(),
        id_number: DEMO_ID_NUMBER.to_owned(),
        password: DEMO_PASSWORD.to_owned(),
        sms_code,
    };
    tessera_server::flows::users::sign_up(state, &request, state.now())
        .await
        .map_err(failed)?;
    Ok(true)
}

/// The debit card BIN and the credit card BIN the demo table uses.
const DEMO_DEBIT_BIN: &str = "622848";
const DEMO_CREDIT_BIN: &str = "622575";

pub fn print_card_table(bins: &BinIndex) -> anyhow::Result<()> {
    let debit_len = card_length(bins, DEMO_DEBIT_BIN);
    println!("  {:<18} {:<22} what happens", "outcome", "card number");
    for outcome in Outcome::ALL {
        let number =
            sandbox::card_number(DEMO_DEBIT_BIN, debit_len, outcome).map_err(anyhow::Error::msg)?;
        println!(
            "  {:<18} {:<22} {}",
            outcome.name(),
            number,
            outcome.description()
        );
    }
    let credit_len = card_length(bins, DEMO_CREDIT_BIN);
    let credit = sandbox::card_number(DEMO_CREDIT_BIN, credit_len, Outcome::Approve)
        .map_err(anyhow::Error::msg)?;
    println!(
        "  {:<18} {:<22} a credit card: needs expiry (any future MM/YY) and a 3-digit CVC",
        "approve (credit)", credit
    );
    Ok(())
}

/// The length the BIN table gives for a prefix, 16 when it says nothing.
pub fn card_length(bins: &BinIndex, prefix: &str) -> usize {
    bins.lookup(prefix)
        .and_then(|record| record.pan_lengths.first().copied())
        .map_or(16, usize::from)
}
