//! The person's failed attempts to add a card, explained (`GET
//! /v1/cards/attempts`); contacting support about one (`POST /v1/tickets`,
//! with the error as shown and the device written from); their tickets and
//! each conversation with support (`GET /v1/tickets`, `GET
//! /v1/tickets/{id}`, `POST /v1/tickets/{id}/replies`).

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tessera_core::error::{Lang, Text};
use tessera_core::text::mask_card_numbers;

use super::account::{Problem, failure_page, message_page, refused, see_other};
use super::{Call, Refusal, Visit, Wallet, WalletForm, form_key};
use crate::web::{Chrome, assets, words as w};

/// The wallet's own version, sent as the app version of the device a
/// ticket is written from.
const WALLET_VERSION: &str = concat!("web ", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Deserialize)]
struct AttemptCard {
    #[serde(default)]
    masked_pan: Option<String>,
    #[serde(default)]
    brand: Option<String>,
    #[serde(default)]
    issuer_name: Option<String>,
    #[serde(default)]
    card_type: Option<String>,
}

/// One of the person's attempts as `GET /v1/cards/attempts` explains it.
#[derive(Debug, Clone, Deserialize)]
struct Attempt {
    trace_id: String,
    created_at: String,
    card: AttemptCard,
    happened: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    remedy: Option<String>,
    #[serde(default)]
    help_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Summary {
    title: String,
    headline: String,
    #[serde(default)]
    next_step: String,
}

#[derive(Debug, Deserialize)]
struct Attempts {
    data: Vec<Attempt>,
    summary: Summary,
}

/// An attempt as a page shows it.
#[derive(Debug)]
struct AttemptRow {
    trace_id: String,
    at: String,
    /// The bank, brand and card type.
    card: String,
    /// First six and last four, as the API gives it.
    masked_pan: Option<String>,
    happened: String,
    message: Option<String>,
    remedy: Option<String>,
    help_href: Option<String>,
}

impl AttemptRow {
    fn of(visit: &Visit, attempt: &Attempt) -> AttemptRow {
        let brand = attempt.card.brand.as_deref().map(brand_name);
        let kind = attempt
            .card
            .card_type
            .as_deref()
            .and_then(|kind| match kind {
                "debit" => Some(visit.t(w::SUP_DEBIT_CARD)),
                "credit" => Some(visit.t(w::SUP_CREDIT_CARD)),
                _ => None,
            });
        let card = [attempt.card.issuer_name.as_deref(), brand, kind]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
        let lang = crate::web::lang_code(visit.lang);
        AttemptRow {
            trace_id: attempt.trace_id.clone(),
            at: visit.when(&attempt.created_at),
            card: if card.is_empty() {
                visit.t(w::UNKNOWN_BANK).to_owned()
            } else {
                card
            },
            masked_pan: attempt.card.masked_pan.clone(),
            happened: attempt.happened.clone(),
            message: attempt.message.clone(),
            remedy: attempt.remedy.clone(),
            help_href: attempt
                .help_url
                .as_ref()
                .map(|url| format!("{url}?lang={lang}")),
        }
    }

    /// The error as the person was shown it.
    fn error_text(&self) -> &str {
        self.message.as_deref().unwrap_or(&self.happened)
    }
}

/// A card brand as people write it.
fn brand_name(code: &str) -> &str {
    match code {
        "unionpay" => "UnionPay",
        "visa" => "Visa",
        "mastercard" => "Mastercard",
        "amex" => "American Express",
        "jcb" => "JCB",
        "discover" => "Discover",
        "diners" => "Diners Club",
        "maestro" => "Maestro",
        "mir" => "Mir",
        other => other,
    }
}

/// The person's failed attempts, newest first.
async fn attempts_of(wallet: &Wallet) -> Result<Attempts, Refusal> {
    wallet
        .read(Call::get("/v1/cards/attempts").token(wallet.token()))
        .await
}

#[derive(Template)]
#[template(path = "wallet/attempts.html")]
struct AttemptsPage {
    chrome: Chrome,
    summary: Option<Summary>,
    attempts: Vec<AttemptRow>,
}

/// `/attempts`: each failed attempt explained, with its help page and a
/// way to contact support about it.
pub async fn attempts(wallet: Wallet) -> Response {
    let found = match attempts_of(&wallet).await {
        Ok(found) => found,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    let attempts: Vec<AttemptRow> = found
        .data
        .iter()
        .map(|attempt| AttemptRow::of(&wallet, attempt))
        .collect();
    wallet.page(
        StatusCode::OK,
        &AttemptsPage {
            chrome: wallet.chrome(wallet.t(w::MY_ATTEMPTS)),
            summary: (!attempts.is_empty()).then_some(found.summary),
            attempts,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct ContactQuery {
    #[serde(default)]
    trace_id: String,
}

#[derive(Template)]
#[template(path = "wallet/contact.html")]
struct ContactPage {
    chrome: Chrome,
    attempt: AttemptRow,
    csrf: String,
    key: String,
    /// The person's words, card numbers masked, when the form comes back.
    message: String,
    problem: Problem,
}

const CONTACT_FIELDS: &[&str] = &["message"];

fn contact_page(
    wallet: &Wallet,
    status: StatusCode,
    attempt: AttemptRow,
    message: &str,
    problem: Problem,
) -> Response {
    let mut chrome = wallet.chrome(wallet.t(w::SUP_CONTACT_SUPPORT));
    chrome
        .scripts
        .push(format!("/assets/{}", assets::SUPPORT_SCRIPT.served_as));
    wallet.page(
        status,
        &ContactPage {
            chrome,
            attempt,
            csrf: wallet.person.csrf.clone(),
            key: form_key(),
            message: mask_card_numbers(message).into_owned(),
            problem,
        },
    )
}

/// The attempt `trace_id` among the person's failed ones, or the page that
/// says it is not there.
async fn attempt_for(wallet: &Wallet, trace_id: &str) -> Result<AttemptRow, Response> {
    let found = attempts_of(wallet)
        .await
        .map_err(|refusal| refused(wallet, &refusal))?;
    found
        .data
        .iter()
        .find(|attempt| attempt.trace_id == trace_id)
        .map(|attempt| AttemptRow::of(wallet, attempt))
        .ok_or_else(|| {
            message_page(
                wallet,
                StatusCode::NOT_FOUND,
                w::SUP_CONTACT_SUPPORT,
                wallet.t(w::SUP_ATTEMPT_GONE).to_owned(),
            )
        })
}

/// `/tickets/new?trace_id=`: contacting support about one attempt.
pub async fn contact_page_for(wallet: Wallet, Query(query): Query<ContactQuery>) -> Response {
    match attempt_for(&wallet, &query.trace_id).await {
        Ok(attempt) => contact_page(&wallet, StatusCode::OK, attempt, "", Problem::none()),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    trace_id: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    idempotency_key: String,
    /// What `support.js` read from the browser; empty without it.
    #[serde(default)]
    device_model: String,
    #[serde(default)]
    device_os: String,
    #[serde(default)]
    device_network: String,
    #[serde(default)]
    device_locale: String,
}

// The person's words may hold a card number they typed: never printed.
impl std::fmt::Debug for ContactForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactForm")
            .field("trace_id", &self.trace_id)
            .field("message", &"***")
            .finish_non_exhaustive()
    }
}

/// The device a ticket is written from: what the browser said of itself
/// (`support.js`), else what its User-Agent says; the wallet's version.
fn device_of(form: &ContactForm, headers: &HeaderMap, lang: Lang) -> serde_json::Value {
    let given = |text: &str| {
        let text = text.trim();
        (!text.is_empty()).then(|| text.chars().take(120).collect::<String>())
    };
    let (mut model, mut os) = (given(&form.device_model), given(&form.device_os));
    if model.is_none() && os.is_none() {
        let agent = headers
            .get(header::USER_AGENT)
            .and_then(|agent| agent.to_str().ok())
            .unwrap_or("");
        (model, os) = from_user_agent(agent);
    }
    json!({
        "model": model,
        "os": os,
        "app_version": WALLET_VERSION,
        "network_type": given(&form.device_network),
        "locale": given(&form.device_locale).unwrap_or_else(|| lang.tag().to_owned()),
    })
}

/// A device's model (or, when the browser does not tell it, the browser)
/// and system, as far as a User-Agent says them.
fn from_user_agent(agent: &str) -> (Option<String>, Option<String>) {
    // The part in the first parentheses: `Linux; Android 14; 23127PN0CC`.
    let platform = agent
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map_or("", |(inside, _)| inside);
    let parts: Vec<&str> = platform.split(';').map(str::trim).collect();
    let version_after = |marker: &str| {
        agent.split_once(marker).map(|(_, rest)| {
            rest.split([';', ')', ' '])
                .next()
                .unwrap_or("")
                .replace('_', ".")
        })
    };
    let mut model = None;
    let os = if let Some(at) = parts.iter().position(|p| p.starts_with("Android")) {
        model = parts
            .get(at + 1)
            .map(|m| m.split(" Build").next().unwrap_or(m).trim().to_owned())
            .filter(|m| !m.is_empty() && *m != "K" && *m != "wv");
        Some(parts[at].to_owned())
    } else if platform.contains("iPhone") || platform.contains("iPad") {
        model = Some(
            if platform.contains("iPad") {
                "iPad"
            } else {
                "iPhone"
            }
            .to_owned(),
        );
        version_after(" OS ").map(|v| format!("iOS {v}"))
    } else if platform.contains("Windows") {
        Some("Windows".to_owned())
    } else if platform.contains("Mac OS X") {
        version_after("Mac OS X ").map(|v| format!("macOS {v}"))
    } else if platform.contains("CrOS") {
        Some("ChromeOS".to_owned())
    } else if platform.contains("Linux") {
        Some("Linux".to_owned())
    } else {
        None
    };
    if model.is_none() {
        model = browser_of(agent);
    }
    (model, os)
}

/// The browser and its major version, the last product that names one.
fn browser_of(agent: &str) -> Option<String> {
    for (marker, name) in [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
    ] {
        if let Some((_, rest)) = agent.split_once(marker) {
            let major = rest.split(['.', ' ']).next().unwrap_or("");
            return Some(format!("{name} {major}").trim().to_owned());
        }
    }
    None
}

#[derive(Debug, Deserialize)]
struct Opened {
    id: String,
}

/// Opens the ticket: the person's words (a plain request when they wrote
/// none), the error as shown on the attempt, the device.
pub async fn contact(
    headers: HeaderMap,
    WalletForm { wallet, form }: WalletForm<ContactForm>,
) -> Response {
    let attempt = match attempt_for(&wallet, form.trace_id.trim()).await {
        Ok(attempt) => attempt,
        Err(response) => return response,
    };
    let words = form.message.trim();
    let message = if words.is_empty() {
        wallet.t(w::SUP_DEFAULT_TICKET_WORDS)
    } else {
        words
    };
    let body = json!({
        "trace_id": attempt.trace_id,
        "message": message,
        "error_text": attempt.error_text(),
        "device": device_of(&form, &headers, wallet.lang),
    });
    let answer: Result<Opened, Refusal> = wallet
        .read(
            Call::post("/v1/tickets")
                .token(wallet.token())
                .idempotency_key(&form.idempotency_key)
                .json(&body),
        )
        .await;
    match answer {
        Ok(ticket) => see_other(&format!("/tickets/{}?opened=1", ticket.id)),
        Err(refusal) if refusal.code == "unauthenticated" => refused(&wallet, &refusal),
        Err(refusal) => {
            let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
            contact_page(
                &wallet,
                status,
                attempt,
                words,
                Problem::of(refusal, CONTACT_FIELDS),
            )
        }
    }
}

/// A ticket as `GET /v1/tickets` gives it.
#[derive(Debug, Deserialize)]
struct Ticket {
    id: String,
    status: String,
    kind: String,
    message: String,
    #[serde(default)]
    error_text: Option<String>,
    created_at: String,
    last_activity_at: String,
    reply_count: i64,
}

#[derive(Debug, Deserialize)]
struct Tickets {
    data: Vec<Ticket>,
}

/// A ticket as a page shows it.
#[derive(Debug)]
struct TicketRow {
    id: String,
    status: &'static str,
    /// Support has answered and waits for the person.
    their_turn: bool,
    about: &'static str,
    message: String,
    error_text: Option<String>,
    opened_at: String,
    last_activity_at: String,
    reply_count: i64,
}

fn status_words(status: &str) -> Text {
    match status {
        "open" => w::SUP_STATUS_OPEN,
        "waiting_for_person" => w::SUP_STATUS_WAITING_FOR_PERSON,
        "resolved" => w::SUP_STATUS_RESOLVED,
        _ => w::SUP_STATUS_OTHER,
    }
}

fn kind_words(kind: &str) -> Text {
    match kind {
        "binding" => w::SUP_ABOUT_BINDING,
        "payment" => w::SUP_ABOUT_PAYMENT,
        "transfer" => w::SUP_ABOUT_TRANSFER,
        "payment_report" => w::SUP_ABOUT_PAYMENT_REPORT,
        "wallet_freeze" => w::SUP_ABOUT_WALLET_FREEZE,
        _ => w::SUP_ABOUT_OTHER,
    }
}

impl TicketRow {
    fn of(visit: &Visit, ticket: Ticket) -> TicketRow {
        TicketRow {
            status: visit.t(status_words(&ticket.status)),
            their_turn: ticket.status == "waiting_for_person",
            about: visit.t(kind_words(&ticket.kind)),
            opened_at: visit.when(&ticket.created_at),
            last_activity_at: visit.when(&ticket.last_activity_at),
            id: ticket.id,
            message: ticket.message,
            error_text: ticket.error_text,
            reply_count: ticket.reply_count,
        }
    }
}

#[derive(Template)]
#[template(path = "wallet/tickets.html")]
struct TicketsPage {
    chrome: Chrome,
    tickets: Vec<TicketRow>,
}

/// `/tickets`: the person's tickets, newest first.
pub async fn tickets(wallet: Wallet) -> Response {
    let found: Tickets = match wallet
        .read(Call::get("/v1/tickets").token(wallet.token()))
        .await
    {
        Ok(found) => found,
        Err(refusal) => return refused(&wallet, &refusal),
    };
    wallet.page(
        StatusCode::OK,
        &TicketsPage {
            chrome: wallet.chrome(wallet.t(w::SUP_MY_TICKETS)),
            tickets: found
                .data
                .into_iter()
                .map(|ticket| TicketRow::of(&wallet, ticket))
                .collect(),
        },
    )
}

#[derive(Debug, Deserialize)]
struct Reply {
    author: String,
    message: String,
    created_at: String,
}

#[derive(Debug, Deserialize)]
struct Conversation {
    ticket: Ticket,
    replies: Vec<Reply>,
}

/// A reply as the conversation shows it.
#[derive(Debug)]
struct ReplyRow {
    from_support: bool,
    message: String,
    at: String,
}

#[derive(Template)]
#[template(path = "wallet/ticket.html")]
struct TicketPage {
    chrome: Chrome,
    ticket: TicketRow,
    replies: Vec<ReplyRow>,
    notice: Option<&'static str>,
    csrf: String,
    key: String,
    message: String,
    problem: Problem,
}

#[derive(Debug, Default, Deserialize)]
pub struct TicketQuery {
    #[serde(default)]
    opened: Option<String>,
    #[serde(default)]
    replied: Option<String>,
}

const REPLY_FIELDS: &[&str] = &["message"];

/// A ticket id as the API makes them; anything else would be a path of
/// its own inside the API's address.
fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn not_found(wallet: &Wallet) -> Response {
    message_page(
        wallet,
        StatusCode::NOT_FOUND,
        w::SUP_MY_TICKETS,
        wallet.t(w::SUP_TICKET_NOT_FOUND).to_owned(),
    )
}

/// The conversation, or the page that says why not.
async fn conversation(wallet: &Wallet, id: &str) -> Result<Conversation, Response> {
    if !plausible_id(id) {
        return Err(not_found(wallet));
    }
    match wallet
        .read(Call::get(format!("/v1/tickets/{id}")).token(wallet.token()))
        .await
    {
        Ok(conversation) => Ok(conversation),
        Err(refusal) if refusal.code == "not_found" => Err(not_found(wallet)),
        Err(refusal) => Err(refused(wallet, &refusal)),
    }
}

fn ticket_page(
    wallet: &Wallet,
    status: StatusCode,
    conversation: Conversation,
    notice: Option<&'static str>,
    message: &str,
    problem: Problem,
) -> Response {
    let replies = conversation
        .replies
        .into_iter()
        .map(|reply| ReplyRow {
            from_support: reply.author == "support",
            at: wallet.when(&reply.created_at),
            message: reply.message,
        })
        .collect();
    wallet.page(
        status,
        &TicketPage {
            chrome: wallet.chrome(wallet.t(w::SUP_CONVERSATION)),
            ticket: TicketRow::of(wallet, conversation.ticket),
            replies,
            notice,
            csrf: wallet.person.csrf.clone(),
            key: form_key(),
            message: mask_card_numbers(message).into_owned(),
            problem,
        },
    )
}

/// `/tickets/{id}`: the conversation with support, and the reply form.
pub async fn ticket(
    wallet: Wallet,
    Path(id): Path<String>,
    Query(query): Query<TicketQuery>,
) -> Response {
    let conversation = match conversation(&wallet, &id).await {
        Ok(conversation) => conversation,
        Err(response) => return response,
    };
    let notice = if query.opened.is_some() {
        Some(wallet.t(w::SUP_TICKET_OPENED))
    } else if query.replied.is_some() {
        Some(wallet.t(w::SUP_REPLY_SENT))
    } else {
        None
    };
    ticket_page(
        &wallet,
        StatusCode::OK,
        conversation,
        notice,
        "",
        Problem::none(),
    )
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    message: String,
    #[serde(default)]
    idempotency_key: String,
}

impl std::fmt::Debug for ReplyForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyForm")
            .field("message", &"***")
            .finish_non_exhaustive()
    }
}

/// Answers support on the ticket (`POST /v1/tickets/{id}/replies`).
pub async fn reply(
    Path(id): Path<String>,
    WalletForm { wallet, form }: WalletForm<ReplyForm>,
) -> Response {
    if !plausible_id(&id) {
        return not_found(&wallet);
    }
    let answer = wallet
        .send(
            Call::post(format!("/v1/tickets/{id}/replies"))
                .token(wallet.token())
                .idempotency_key(&form.idempotency_key)
                .json(&json!({"message": form.message})),
        )
        .await;
    let refusal = match answer {
        Ok(_) => return see_other(&format!("/tickets/{id}?replied=1#latest")),
        Err(refusal) => refusal,
    };
    if refusal.code == "unauthenticated" {
        return refused(&wallet, &refusal);
    }
    match conversation(&wallet, &id).await {
        Ok(conversation) => ticket_page(
            &wallet,
            StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST),
            conversation,
            None,
            &form.message,
            Problem::of(refusal, REPLY_FIELDS),
        ),
        Err(_) => failure_page(&wallet, &refusal),
    }
}

#[cfg(test)]
mod tests {
    use super::from_user_agent;

    #[test]
    fn a_user_agent_names_the_device_and_system() {
        let android = "Mozilla/5.0 (Linux; Android 14; 23127PN0CC Build/UKQ1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
        assert_eq!(
            from_user_agent(android),
            (Some("23127PN0CC".to_owned()), Some("Android 14".to_owned()))
        );
        // Reduced agents hide the model behind `K`: the browser says more.
        let reduced = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
        assert_eq!(
            from_user_agent(reduced),
            (Some("Chrome 131".to_owned()), Some("Android 10".to_owned()))
        );
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
        assert_eq!(
            from_user_agent(iphone),
            (Some("iPhone".to_owned()), Some("iOS 17.4".to_owned()))
        );
        let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
        assert_eq!(
            from_user_agent(mac),
            (
                Some("Safari 17".to_owned()),
                Some("macOS 10.15.7".to_owned())
            )
        );
        assert_eq!(from_user_agent(""), (None, None));
    }
}
