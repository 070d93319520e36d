//! The scenarios: what each simulated client sends, what counts as done,
//! and the users and cards a scenario needs before the clock starts (made
//! through the API, or signed in from `tessera seed`'s users).

use std::sync::Arc;

use anyhow::{Context, bail};
use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};
use tessera_server::client::{self, Device, Purchase};
use tessera_server::issuer::sandbox::{self, Outcome};

use super::conn::{Answer, Connection, Target, TransportError};
use crate::cmd::seed;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// GET /healthz: the HTTP ceiling of this machine.
    Healthz,
    /// POST /v1/cards: a new sandbox card each time, approved at once.
    Bind,
    /// GET /v1/cards/{id} of cards bound before the run.
    GetCard,
    /// Payments with limited-use keys and real cryptograms.
    Pay,
    /// 70% get-card, 20% bind, 10% healthz.
    Mixed,
    /// POST /v1/sessions with the right password, users signed up before
    /// the run taken in turn: Argon2 and a new session each.
    SignIn,
    /// Up to --slow-connections connections that send a request's headers
    /// a few bytes at a time and never finish, while normal clients ask
    /// GET /healthz (`bench/siege.rs`).
    SlowHeaders,
    /// GET /v1/support/users/{id}/timeline of the first seeded user (made
    /// with `tessera seed --history`), 50 entries a page, each client
    /// walking its pages by cursor and starting over at the end; with a
    /// support or operator key (--operator-key).
    Timeline,
}

/// The merchant id the pay scenario pays as: its merchant key must be made
/// for it (`--merchant BENCH`).
pub const BENCH_MERCHANT: &str = "BENCH";

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthz => "healthz",
            Scenario::Bind => "bind",
            Scenario::GetCard => "get-card",
            Scenario::Pay => "pay",
            Scenario::Mixed => "mixed",
            Scenario::SignIn => "sign-in",
            Scenario::SlowHeaders => "slow-headers",
            Scenario::Timeline => "timeline",
        }
    }

    /// Refuses what cannot run, before anything is sent.
    pub fn check_available(
        self,
        merchant_key: Option<&str>,
        operator_key: Option<&str>,
    ) -> anyhow::Result<()> {
        if self == Scenario::Timeline && operator_key.is_none_or(|k| k.trim().is_empty()) {
            bail!(
                "the timeline scenario reads as support: give --operator-key (or \
                 TESSERA_OPERATOR_KEY), made with `tessera admin create-key --role support` \
                 (or operator)"
            );
        }
        if self == Scenario::Pay && merchant_key.is_none_or(|k| k.trim().is_empty()) {
            bail!(
                "the pay scenario submits payments as the merchant {BENCH_MERCHANT}: give \
                 --merchant-key (or TESSERA_MERCHANT_KEY), made with `tessera admin create-key \
                 --role merchant --merchant {BENCH_MERCHANT}`"
            );
        }
        Ok(())
    }

    fn needs_users(self) -> bool {
        !matches!(self, Scenario::Healthz | Scenario::SlowHeaders)
    }

    fn needs_cards(self) -> bool {
        matches!(self, Scenario::GetCard | Scenario::Mixed | Scenario::Pay)
    }

    /// The kind of the next request, from a number in 0..100.
    pub fn pick(self, percent: u64) -> Kind {
        match self {
            Scenario::Healthz | Scenario::SlowHeaders => Kind::Healthz,
            Scenario::Pay => Kind::Pay,
            Scenario::Bind => Kind::Bind,
            Scenario::GetCard => Kind::GetCard,
            Scenario::SignIn => Kind::SignIn,
            Scenario::Timeline => Kind::Timeline,
            Scenario::Mixed => match percent {
                0..70 => Kind::GetCard,
                70..90 => Kind::Bind,
                _ => Kind::Healthz,
            },
        }
    }
}

/// One request of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Healthz,
    Bind,
    GetCard,
    Pay,
    SignIn,
    Timeline,
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub struct BenchUser {
    pub token: String,
    pub real_name: String,
    /// The body of a sign-in as this user: phone and password.
    pub sign_in: Bytes,
}

/// What the run works on: users (for bind) and their bound cards.
#[derive(Debug, Default)]
pub struct Fixture {
    pub users: Vec<BenchUser>,
    /// (index into users, card id)
    pub cards: Vec<(usize, String)>,
    /// The user the next sign-in is for, in turn over all clients: with
    /// more users than connections no phone has two sign-ins in flight.
    pub next_sign_in: std::sync::atomic::AtomicUsize,
    /// The id of the person whose timeline the timeline scenario reads.
    pub timeline_user: Option<String>,
}

impl Fixture {
    /// The body of the next sign-in, the users taken in turn.
    pub fn next_sign_in(&self) -> Option<Bytes> {
        let next = self
            .next_sign_in
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let user = self.users.get(next % self.users.len().max(1))?;
        Some(user.sign_in.clone())
    }
}

/// A sign-in's body, as `POST /v1/sessions` has always taken it.
fn sign_in_body(phone: &str, password: &str) -> Bytes {
    Bytes::from(json!({"phone": phone, "password": password}).to_string())
}

/// Where the users come from.
#[derive(Debug, Clone, Copy)]
pub enum UserSource {
    /// Sign up this many new users through the API.
    Create(usize),
    /// Sign in as the first this many users `tessera seed` made.
    Seeded(usize),
}

/// Names for the users the bench signs up; the holder name of their cards.
const NAMES: [&str; 6] = ["张三", "李四", "王芳", "刘洋", "陈静", "杨磊"];
/// The password of the users the bench signs up.
const PASSWORD: &str = "bench-pass-2024";
/// Cards each user created by the bench binds before a get-card or mixed run.
const CARDS_PER_USER: usize = 2;
/// Sign-ups run this many at a time (each costs the server an Argon2 hash).
const SETUP_CONCURRENCY: usize = 4;

/// Builds the fixture a scenario needs.
pub async fn prepare(
    scenario: Scenario,
    target: &Target,
    source: UserSource,
    connections: usize,
    operator_key: Option<&str>,
) -> anyhow::Result<Fixture> {
    let operator_key: Option<Arc<str>> = operator_key.map(Arc::from);
    if !scenario.needs_users() {
        return Ok(Fixture::default());
    }
    let count = match source {
        UserSource::Create(n) | UserSource::Seeded(n) => n.max(1),
    };
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..SETUP_CONCURRENCY.min(count) {
        let (target, next) = (target.clone(), next.clone());
        let operator_key = operator_key.clone();
        let needs_cards = scenario.needs_cards();
        tasks.push(tokio::spawn(async move {
            let mut conn = Connection::new(target);
            let mut made = Vec::new();
            loop {
                let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if index >= count {
                    break;
                }
                let (user, mut cards) = match source {
                    UserSource::Create(_) => {
                        let user = create_user(&mut conn, index, operator_key.as_deref()).await?;
                        let mut cards = Vec::new();
                        if needs_cards {
                            for _ in 0..CARDS_PER_USER {
                                cards.push(bind_setup_card(&mut conn, &user).await?);
                            }
                        }
                        (user, cards)
                    }
                    UserSource::Seeded(_) => seeded_user(&mut conn, index).await?,
                };
                made.push((index, user, std::mem::take(&mut cards)));
            }
            anyhow::Ok(made)
        }));
    }
    let mut made = Vec::new();
    for task in tasks {
        made.extend(task.await.context("a setup task stopped")??);
    }
    made.sort_by_key(|(index, _, _)| *index);
    let mut fixture = Fixture::default();
    for (_, user, cards) in made {
        let user_index = fixture.users.len();
        fixture.users.push(user);
        fixture
            .cards
            .extend(cards.into_iter().map(|card| (user_index, card)));
    }
    if scenario == Scenario::Pay && fixture.cards.len() < connections {
        bail!(
            "pay gives each connection a card of its own (their ATCs must not interleave): \
             {} cards for {connections} connections; sign up more --users",
            fixture.cards.len()
        );
    }
    if scenario == Scenario::Timeline {
        let mut conn = Connection::new(target.clone());
        let token = fixture.users.first().map(|u| u.token.clone());
        let me = json_of(&call(&mut conn, Method::GET, "/v1/me", token.as_deref(), None).await?);
        let id = me["id"].as_str().context("GET /v1/me gave no id")?;
        fixture.timeline_user = Some(id.to_owned());
    }
    if scenario.needs_cards() && fixture.cards.is_empty() {
        bail!(
            "the users hold no active card: {} needs some",
            scenario.name()
        );
    }
    Ok(fixture)
}

async fn call(
    conn: &mut Connection,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> anyhow::Result<Answer> {
    let body = body.map(|b| Bytes::from(b.to_string()));
    conn.send(method, path, token, body)
        .await
        .map_err(|e| anyhow::anyhow!("{path}: no answer from the server ({})", e.key()))
}

fn json_of(answer: &Answer) -> Value {
    serde_json::from_slice(&answer.body).unwrap_or(Value::Null)
}

async fn create_user(
    conn: &mut Connection,
    index: usize,
    operator_key: Option<&str>,
) -> anyhow::Result<BenchUser> {
    let real_name = NAMES[index % NAMES.len()];
    // A fresh phone number each (a second run against the same server gets
    // new users), outside `tessera seed`'s range; each phone proven by its
    // code, read from the sandbox phone with the operator key.
    let user = client::sign_up(conn, real_name, PASSWORD, operator_key)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(BenchUser {
        sign_in: sign_in_body(&user.phone, &user.password),
        token: user.token,
        real_name: user.real_name,
    })
}

async fn bind_setup_card(conn: &mut Connection, user: &BenchUser) -> anyhow::Result<String> {
    let answer = send_bind(conn, user)
        .await
        .map_err(|e| anyhow::anyhow!("binding a card before the run: no answer ({})", e.key()))?;
    let body = json_of(&answer);
    match body["id"].as_str() {
        Some(id) if answer.status == 201 => Ok(id.to_owned()),
        _ => bail!(
            "binding a card before the run answered {}: {}{}",
            answer.status,
            error_key(&answer),
            limit_hint(&error_key(&answer))
        ),
    }
}

async fn seeded_user(
    conn: &mut Connection,
    index: usize,
) -> anyhow::Result<(BenchUser, Vec<String>)> {
    let phone = seed::phone(index as u64);
    let token = client::sign_in(conn, &phone, seed::PASSWORD)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| {
            format!("seeded user {index} (run `tessera seed` on the server's data first)")
        })?;
    let me = json_of(&call(conn, Method::GET, "/v1/me", Some(&token), None).await?);
    let real_name = me["real_name"].as_str().unwrap_or_default().to_owned();
    let list = json_of(&call(conn, Method::GET, "/v1/cards", Some(&token), None).await?);
    let cards = list["data"]
        .as_array()
        .map(|cards| {
            cards
                .iter()
                .filter(|c| c["status"] == "active")
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let user = BenchUser {
        token,
        real_name,
        sign_in: sign_in_body(&phone, seed::PASSWORD),
    };
    Ok((user, cards))
}

/// A new approved sandbox card, bound to `user`.
pub async fn send_bind(conn: &mut Connection, user: &BenchUser) -> Result<Answer, TransportError> {
    // 622848 is a 19-digit debit BIN: no expiry or CVC needed.
    let number = sandbox::card_number("622848", 19, Outcome::Approve).unwrap_or_default();
    let body = json!({"number": number, "holder_name": user.real_name});
    conn.send(
        Method::POST,
        "/v1/cards",
        Some(&user.token),
        Some(Bytes::from(body.to_string())),
    )
    .await
}

/// The key an answer is counted under when it did not do the work.
pub fn error_key(answer: &Answer) -> String {
    client::error_code(answer.status, &json_of(answer))
}

/// What to do about the errors most likely to stop a bind run: the card
/// limit and the binding limits, which `serve --load-test` raises.
pub fn limit_hint(code: &str) -> &'static str {
    match code {
        "card_limit_reached" => {
            " (start the server with --load-test, or a raised --card-limit, e.g. 1000000)"
        }
        "too_many_attempts" => " (start the server with --load-test)",
        _ => "",
    }
}

/// What a phone holds to pay with one card: its token and a batch of
/// limited-use keys (`tessera_server::client::Device`).
#[derive(Debug)]
pub struct PayDevice {
    user_token: String,
    card_id: String,
    token_ref: Option<String>,
    device: Option<Device>,
}

/// Keys fetched per `POST /v1/tokens/{ref}/keys` (the server's default most).
const KEY_BATCH: u16 = 50;

impl PayDevice {
    pub fn new(fixture: &Fixture, worker: usize) -> PayDevice {
        let (user, card) = &fixture.cards[worker % fixture.cards.len().max(1)];
        PayDevice {
            user_token: fixture.users[*user].token.clone(),
            card_id: card.clone(),
            token_ref: None,
            device: None,
        }
    }

    /// Fetches the next batch of keys when none is left (outside the
    /// measured request). Errors are counted under their key.
    pub async fn ensure_keys(&mut self, conn: &mut Connection) -> Result<(), String> {
        if self.device.as_ref().is_some_and(|d| !d.keys.is_empty()) {
            return Ok(());
        }
        if self.token_ref.is_none() {
            let path = format!("/v1/cards/{}", self.card_id);
            let answer = conn
                .send(Method::GET, &path, Some(&self.user_token), None)
                .await
                .map_err(|e| e.key().to_owned())?;
            let card = json_of(&answer);
            let token_ref = card["token"]["ref"]
                .as_str()
                .ok_or_else(|| format!("keys_{}", error_key(&answer)))?;
            self.token_ref = Some(token_ref.to_owned());
        }
        let path = format!(
            "/v1/tokens/{}/keys",
            self.token_ref.as_deref().unwrap_or_default()
        );
        let body = Bytes::from(json!({"count": KEY_BATCH}).to_string());
        let answer = conn
            .send(Method::POST, &path, Some(&self.user_token), Some(body))
            .await
            .map_err(|e| e.key().to_owned())?;
        if answer.status != 200 {
            return Err(format!("keys_{}", error_key(&answer)));
        }
        let device = Device::from_keys(&json_of(&answer)).map_err(|_| "keys_unreadable")?;
        self.device = Some(device);
        Ok(())
    }

    /// The merchant's request for the next payment: the ARQC computed with
    /// the next limited-use key, as the phone would. None when out of keys.
    pub fn sign(&mut self, amount: u64) -> Option<Bytes> {
        let purchase = Purchase::new(amount, BENCH_MERCHANT).named("tessera bench");
        let signed = self.device.as_mut()?.sign(&purchase).ok()?;
        Some(Bytes::from(signed.body.to_string()))
    }
}

/// The next timeline page a client reads: the first, or the one after
/// `cursor`.
pub fn timeline_path(user_id: &str, cursor: Option<&str>) -> String {
    match cursor {
        Some(cursor) => format!("/v1/support/users/{user_id}/timeline?limit=50&cursor={cursor}"),
        None => format!("/v1/support/users/{user_id}/timeline?limit=50"),
    }
}

/// A timeline page's `next_cursor`: None at the end.
pub fn next_cursor(answer: &Answer) -> Option<String> {
    json_of(answer)["next_cursor"].as_str().map(str::to_owned)
}
