//! `tessera issuer-sim`: the sandbox bank as a process of its own, speaking
//! the issuer protocol (docs/issuer-protocol.md) with the sandbox's answer
//! table (`tessera_server::issuer::sandbox`), so that a Tessera server can
//! be pointed at a bank over a real network. Faults are set at run time
//! (`PUT /control/faults`): added latency, no answer at all, a reset
//! connection, a 5xx, a body that is not JSON or is cut short, an answer
//! after the caller's timeout. It speaks HTTP/1.1 on plain sockets, one
//! request per connection, so that each fault is exactly what goes on the
//! wire.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tessera_server::issuer::protocol::{
    AUTHORIZATION_PATH, AuthorizationRequest, AuthorizationResponse, BINDING_PATH, BindingRequest,
    BindingResponse, CREDIT_PATH, CreditRequest, REFUND_PATH, REQUEST_ID_HEADER, RefundRequest,
    TransferResponse,
};
use tessera_server::issuer::sandbox::{self, Outcome};
use tessera_server::issuer::signature::{SIGNATURE_HEADER, verify_signature_header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request's head and body together may be this large.
const MAX_REQUEST: usize = 64 * 1024;
/// A signature this far from the simulator's clock is a replay.
const MAX_SIGNATURE_AGE_SECS: u64 = 300;

#[derive(Debug, clap::Args)]
pub struct IssuerSimArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub listen: String,
    /// The secret requests are signed with: the `signing_secret` of the
    /// server's `[issuers.<CODE>]` table.
    #[arg(long, env = "TESSERA_ISSUER_SIM_SECRET")]
    pub signing_secret: String,
    /// How long the sandbox's `slow` outcome (digits 510) takes.
    #[arg(long, default_value_t = 2000)]
    pub slow_ms: u64,
}

/// What goes wrong, set with `PUT /control/faults`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    #[default]
    None,
    /// The request is read and never answered; the connection stays open.
    Timeout,
    /// The connection is reset (TCP RST) instead of an answer.
    Reset,
    /// 500 Internal Server Error.
    ServerError,
    /// 200 with a body that is not JSON.
    NotJson,
    /// 200 with half of the answer's body, then the connection closes.
    CutShort,
    /// The right answer, `late_ms` after the request.
    Late,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added before every protocol answer.
    pub latency_ms: u64,
    pub fault: Fault,
    /// For `late`.
    pub late_ms: u64,
    /// The fault holds for this many more protocol requests, then is
    /// `none` (absent: until changed).
    pub remaining: Option<u64>,
}

#[derive(Debug, Default)]
struct Bank {
    faults: Faults,
    /// Protocol requests received, by request id: a retry counts under
    /// its first try's id.
    requests: BTreeMap<String, u64>,
    /// The first answer to each request id, given again to a repeat.
    answers: BTreeMap<String, Vec<u8>>,
}

type Shared = Arc<Mutex<Bank>>;

#[derive(Debug)]
struct Request {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

pub fn run(args: IssuerSimArgs) -> anyhow::Result<ExitCode> {
    if args.signing_secret.len() < 16 {
        anyhow::bail!("--signing-secret must be at least 16 characters");
    }
    super::serve::runtime()?.block_on(async move {
        let listener = TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        println!(
            "tessera issuer-sim listening on http://{}",
            listener.local_addr()?
        );
        let bank: Shared = Arc::default();
        let args = Arc::new(args);
        loop {
            let (stream, _) = listener.accept().await?;
            let (bank, args) = (bank.clone(), args.clone());
            tokio::spawn(async move {
                if let Err(error) = connection(stream, bank, args).await {
                    eprintln!("issuer-sim: {error}");
                }
            });
        }
    })
}

async fn connection(
    mut stream: TcpStream,
    bank: Shared,
    args: Arc<IssuerSimArgs>,
) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else {
        return write(&mut stream, 400, b"{\"error\":\"not an HTTP request\"}").await;
    };
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/control/faults") => {
            let faults = lock(&bank).faults.clone();
            write(&mut stream, 200, &to_json(&faults)).await
        }
        ("PUT", "/control/faults") => match serde_json::from_slice::<Faults>(&request.body) {
            Ok(faults) => {
                lock(&bank).faults = faults.clone();
                write(&mut stream, 200, &to_json(&faults)).await
            }
            Err(error) => {
                let body = serde_json::json!({"error": error.to_string()});
                write(&mut stream, 400, &to_json(&body)).await
            }
        },
        ("GET", "/control/requests") => {
            let requests = lock(&bank).requests.clone();
            let total: u64 = requests.values().sum();
            let body = serde_json::json!({"total": total, "by_request_id": requests});
            write(&mut stream, 200, &to_json(&body)).await
        }
        ("POST", BINDING_PATH | AUTHORIZATION_PATH | REFUND_PATH | CREDIT_PATH) => {
            protocol(stream, request, bank, &args).await
        }
        _ => write(&mut stream, 404, b"{\"error\":\"no such path\"}").await,
    }
}

/// A protocol request: counted, then the fault, then the sandbox's answer.
async fn protocol(
    mut stream: TcpStream,
    request: Request,
    bank: Shared,
    args: &IssuerSimArgs,
) -> std::io::Result<()> {
    let Some(request_id) = request.headers.get(REQUEST_ID_HEADER).cloned() else {
        return write(&mut stream, 400, b"{\"error\":\"no tessera-request-id\"}").await;
    };
    let faults = {
        let mut bank = lock(&bank);
        *bank.requests.entry(request_id.clone()).or_default() += 1;
        let faults = bank.faults.clone();
        match &mut bank.faults.remaining {
            Some(0) => bank.faults = Faults::default(),
            Some(left) => *left -= 1,
            None => {}
        }
        match faults.remaining {
            Some(0) => Faults::default(),
            _ => faults,
        }
    };
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    match faults.fault {
        Fault::Timeout => {
            // Held until the caller gives up and closes its end.
            let mut buffer = [0u8; 1024];
            while stream.read(&mut buffer).await? > 0 {}
            return Ok(());
        }
        Fault::Reset => {
            stream.set_zero_linger()?;
            return Ok(());
        }
        Fault::ServerError => {
            return write(&mut stream, 500, b"{\"error\":\"internal\"}").await;
        }
        Fault::NotJson => {
            return write(&mut stream, 200, b"<html>bank maintenance</html>").await;
        }
        Fault::Late => tokio::time::sleep(Duration::from_millis(faults.late_ms)).await,
        Fault::None | Fault::CutShort => {}
    }
    let signed = request.headers.get(SIGNATURE_HEADER).is_some_and(|header| {
        verify_signature_header(
            header,
            args.signing_secret.as_bytes(),
            &request.body,
            chrono::Utc::now().timestamp(),
            MAX_SIGNATURE_AGE_SECS,
        )
    });
    if !signed {
        return write(&mut stream, 401, b"{\"error\":\"bad_signature\"}").await;
    }
    let known = lock(&bank).answers.get(&request_id).cloned();
    let answer = match known {
        Some(answer) => answer,
        None => {
            let Some(answer) = answer(&request, args).await else {
                return write(&mut stream, 400, b"{\"error\":\"not this path's request\"}").await;
            };
            lock(&bank)
                .answers
                .entry(request_id)
                .or_insert(answer)
                .clone()
        }
    };
    if faults.fault == Fault::CutShort {
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n",
            answer.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&answer[..answer.len() / 2]).await?;
        return stream.shutdown().await;
    }
    write(&mut stream, 200, &answer).await
}

/// The sandbox's answer to a protocol request, as JSON; None when the body
/// is not that path's request.
async fn answer(request: &Request, args: &IssuerSimArgs) -> Option<Vec<u8>> {
    match request.path.as_str() {
        BINDING_PATH => {
            let asked: BindingRequest = parse(&request.body)?;
            let (outcome, answer) =
                sandbox::binding_answer(&asked.card.number, &asked.bank_phone, &asked.wallet_phone);
            if outcome == Outcome::Slow {
                tokio::time::sleep(Duration::from_millis(args.slow_ms)).await;
            }
            Some(to_json(&BindingResponse::of(&answer)))
        }
        AUTHORIZATION_PATH => {
            let asked: AuthorizationRequest = parse(&request.body)?;
            let answer = sandbox::payment_answer(asked.amount);
            Some(to_json(&AuthorizationResponse::of(&answer)))
        }
        REFUND_PATH => {
            let asked: RefundRequest = parse(&request.body)?;
            let answer = sandbox::transfer_answer(asked.amount, "rfd_");
            Some(to_json(&TransferResponse::of(&answer)))
        }
        CREDIT_PATH => {
            let asked: CreditRequest = parse(&request.body)?;
            let (answer, slow) = sandbox::credit_answer(&asked.card.number, asked.amount);
            if slow {
                tokio::time::sleep(Duration::from_millis(args.slow_ms)).await;
            }
            Some(to_json(&TransferResponse::of(&answer)))
        }
        _ => None,
    }
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_slice(body).ok()
}

fn to_json(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

fn lock(bank: &Shared) -> std::sync::MutexGuard<'_, Bank> {
    // A panic elsewhere leaves the counts as they were: still usable.
    bank.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads one request: its head, then `content-length` bytes of body.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut head = httparse::Request::new(&mut headers);
        let Ok(status) = head.parse(&buffer) else {
            return Ok(None);
        };
        let httparse::Status::Complete(head_len) = status else {
            if buffer.len() > MAX_REQUEST {
                return Ok(None);
            }
            continue;
        };
        let headers: BTreeMap<String, String> = head
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let length: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if head_len + length > MAX_REQUEST {
            return Ok(None);
        }
        let (method, path) = (
            head.method.unwrap_or("").to_owned(),
            head.path.unwrap_or("").to_owned(),
        );
        while buffer.len() < head_len + length {
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Ok(None);
            }
            buffer.extend_from_slice(&chunk[..read]);
        }
        let body = buffer[head_len..head_len + length].to_vec();
        return Ok(Some(Request {
            method,
            path,
            headers,
            body,
        }));
    }
}

async fn write(stream: &mut TcpStream, status: u16, body: &[u8]) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}
