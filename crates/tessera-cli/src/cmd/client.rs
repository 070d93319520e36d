//! The HTTP side of the client commands: one small client for a running
//! `tessera serve` (base URL, bearer token, Accept-Language, Idempotency-Key),
//! and one `Failure` that knows how to report itself and which exit code it has.
//! Plain http only: reqwest is built without TLS.

use std::fmt;
use std::io::{self, BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use zeroize::Zeroizing;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// Exit code for usage, local and connection problems (API errors exit 1).
const EXIT_USAGE: u8 = 2;

/// The language of messages: sent as `Accept-Language`, used for our own text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn accept_language(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// Options every client command takes, before or after its subcommand.
#[derive(Clone, clap::Args)]
pub struct ClientArgs {
    /// Base URL of a running `tessera serve`. Plain http only: this client is
    /// built without TLS.
    #[arg(long, env = "TESSERA_SERVER", default_value = DEFAULT_SERVER, global = true)]
    pub server: String,
    /// Session token from `tessera login`, sent as `Authorization: Bearer`.
    #[arg(long, env = "TESSERA_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Language of messages and remedies.
    #[arg(long, value_enum, default_value_t = Lang::Zh, global = true)]
    pub lang: Lang,
    /// Print the server's JSON answer as is (errors too, on stdout).
    #[arg(long, global = true)]
    pub json: bool,
}

impl fmt::Debug for ClientArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientArgs")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("lang", &self.lang)
            .field("json", &self.json)
            .finish()
    }
}

/// A successful answer: the body exactly as received, and parsed.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    pub json: Value,
}

impl Answer {
    /// Reads the answer as `T`; a shape we cannot read is the server's fault.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Failure> {
        T::deserialize(&self.json).map_err(|error| Failure::BadAnswer {
            status: self.status,
            detail: error.to_string(),
        })
    }

    /// Prints the body as received, for `--json`.
    pub fn print_raw(&self) {
        print_body(&self.body);
    }
}

/// The `error` object of the API's error envelope.
#[derive(Debug, serde::Deserialize)]
pub struct ApiError {
    pub code: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub remedy: Option<String>,
    #[serde(default)]
    pub param: Option<String>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub attempts_left: Option<Value>,
    #[serde(default)]
    pub retry_after: Option<Value>,
    #[serde(default)]
    pub limit: Option<String>,
    #[serde(default)]
    pub locked_until: Option<String>,
    #[serde(default)]
    pub suspended_by: Option<Value>,
    #[serde(default)]
    pub payment_id: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct Envelope {
    error: ApiError,
}

/// Why a client command failed. API answers exit 1; everything that never got
/// an answer (bad usage, no terminal, connection refused) exits 2.
#[derive(Debug)]
pub enum Failure {
    /// The server answered with an error status.
    Api {
        server: String,
        status: StatusCode,
        body: String,
        error: Option<Box<ApiError>>,
    },
    /// The server answered 2xx with a body we cannot read.
    BadAnswer { status: StatusCode, detail: String },
    /// Nothing listens at the server URL, or the name does not resolve.
    Unreachable { server: String, detail: String },
    /// The request started but no complete answer came back.
    Transport { server: String, detail: String },
    /// Bad usage or a local problem; the message is already in the user's language.
    Local(String),
}

impl Failure {
    /// Prints the failure (the body on stdout for `--json` API errors, else a
    /// report on stderr) and returns the exit code.
    pub fn report(&self, lang: Lang, json: bool) -> ExitCode {
        match self {
            Failure::Api { body, .. } if json => {
                print_body(body);
                ExitCode::FAILURE
            }
            Failure::Api {
                error: Some(error), ..
            } => {
                report_api_error(error, lang);
                ExitCode::FAILURE
            }
            Failure::Api {
                server,
                status,
                error: None,
                ..
            } => {
                eprintln!("error: HTTP {status}");
                eprintln!(
                    "{}",
                    match lang {
                        Lang::Zh => format!(
                            "{server} 的应答不是 Tessera 的错误格式；请确认 --server 指向 `tessera serve`。"
                        ),
                        Lang::En => format!(
                            "the answer from {server} is not a Tessera error; check that --server points at `tessera serve`."
                        ),
                    }
                );
                ExitCode::FAILURE
            }
            Failure::BadAnswer { status, detail } => {
                eprintln!("error: unreadable_answer (HTTP {status})");
                eprintln!(
                    "{}: {detail}",
                    lang.pick(
                        "服务器的应答无法解析",
                        "the server's answer could not be read"
                    )
                );
                ExitCode::FAILURE
            }
            Failure::Unreachable { server, detail } => {
                match lang {
                    Lang::Zh => {
                        eprintln!("error: 无法连接 Tessera 服务器 {server}：{detail}");
                        eprintln!(
                            "请确认 `tessera serve` 正在该地址运行，或用 --server / TESSERA_SERVER 指定服务器。"
                        );
                    }
                    Lang::En => {
                        eprintln!(
                            "error: cannot connect to the Tessera server at {server}: {detail}"
                        );
                        eprintln!(
                            "Is `tessera serve` running there? Choose another server with --server or TESSERA_SERVER."
                        );
                    }
                }
                ExitCode::from(EXIT_USAGE)
            }
            Failure::Transport { server, detail } => {
                match lang {
                    Lang::Zh => {
                        eprintln!("error: 未收到 {server} 的完整应答：{detail}");
                        eprintln!(
                            "服务器可能已处理该请求：重试前请先查看结果；绑卡时使用相同的 --idempotency-key 重试不会重复绑卡。"
                        );
                    }
                    Lang::En => {
                        eprintln!("error: no complete answer from {server}: {detail}");
                        eprintln!(
                            "The server may have acted on the request: check before retrying; a bind retried with the same --idempotency-key never binds twice."
                        );
                    }
                }
                ExitCode::from(EXIT_USAGE)
            }
            Failure::Local(message) => {
                eprintln!("error: {message}");
                ExitCode::from(EXIT_USAGE)
            }
        }
    }
}

fn report_api_error(error: &ApiError, lang: Lang) {
    eprintln!("error: {}", error.code);
    if let Some(message) = &error.message {
        eprintln!("{message}");
    }
    if let Some(remedy) = &error.remedy {
        eprintln!("{}{remedy}", lang.pick("处理建议：", "remedy: "));
    }
    let text = |value: &Value| match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let details = [
        (lang.pick("字段：", "param: "), error.param.clone()),
        (lang.pick("原因：", "reason: "), error.reason.clone()),
        (
            lang.pick("拒绝代码：", "decline code: "),
            error.decline_code.clone(),
        ),
        (
            lang.pick("剩余次数：", "attempts left: "),
            error.attempts_left.as_ref().map(text),
        ),
        (
            lang.pick("重试等待（秒）：", "retry after (s): "),
            error.retry_after.as_ref().map(text),
        ),
        (lang.pick("限制：", "limit: "), error.limit.clone()),
        (
            lang.pick("锁定至：", "locked until: "),
            error.locked_until.clone(),
        ),
        (
            lang.pick("暂停方：", "suspended by: "),
            error.suspended_by.as_ref().map(|by| suspenders(by, lang)),
        ),
        (
            lang.pick("支付单号：", "payment: "),
            error.payment_id.clone(),
        ),
    ];
    for (label, value) in details {
        if let Some(value) = value {
            eprintln!("{label}{value}");
        }
    }
    if let Some(trace_id) = &error.trace_id {
        eprintln!("trace id: {trace_id}");
    }
}

/// Who suspended a token, in words: "发卡行、你本人".
fn suspenders(value: &Value, lang: Lang) -> String {
    let names: Vec<&str> = match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        Value::String(one) => vec![one.as_str()],
        _ => Vec::new(),
    };
    let words: Vec<&str> = names
        .into_iter()
        .map(|name| match name {
            "issuer" => lang.pick("发卡行", "your bank"),
            "risk" => lang.pick("钱包的风控", "the wallet's risk checks"),
            "wallet" => lang.pick("钱包", "the wallet"),
            "cardholder" => lang.pick("你本人", "you"),
            other => other,
        })
        .collect();
    words.join(lang.pick("、", ", "))
}

fn print_body(body: &str) {
    if body.ends_with('\n') {
        emit(body);
    } else {
        emit(&format!("{body}\n"));
    }
}

/// Writes to stdout, ignoring a closed pipe (`tessera cards list | head`),
/// where `println!` would panic.
pub fn emit(text: &str) {
    let mut stdout = io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

pub fn emit_lines(lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    emit(&text);
}

/// A client for one server, with its own small runtime so commands stay
/// synchronous.
pub struct ApiClient {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    /// The base URL without a trailing slash.
    base: String,
    token: Option<Zeroizing<String>>,
    lang: Lang,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("lang", &self.lang)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    pub fn new(args: &ClientArgs) -> Result<Self, Failure> {
        let lang = args.lang;
        let base = args.server.trim().trim_end_matches('/').to_owned();
        let url = Url::parse(&base).map_err(|error| {
            Failure::Local(match lang {
                Lang::Zh => format!("服务器地址 {base:?} 无效：{error}"),
                Lang::En => format!("server URL {base:?} is not valid: {error}"),
            })
        })?;
        match url.scheme() {
            "http" => {}
            "https" => {
                return Err(Failure::Local(
                    lang.pick(
                        "本客户端只支持明文 http（编译时未包含 TLS）；请使用 http:// 地址，或经本地代理/隧道访问 https 服务器",
                        "this client speaks plain http only (built without TLS); use an http:// URL, or reach an https server through a local proxy or tunnel",
                    )
                    .to_owned(),
                ));
            }
            other => {
                return Err(Failure::Local(match lang {
                    Lang::Zh => format!("服务器地址须以 http:// 开头，而不是 {other}://"),
                    Lang::En => format!("the server URL must start with http://, not {other}://"),
                }));
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| Failure::Local(format!("tokio runtime: {error}")))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // Binding waits on the issuer, which may take a while.
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("tessera-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| Failure::Local(format!("http client: {error}")))?;
        let token = args
            .token
            .as_deref()
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .map(|token| Zeroizing::new(token.to_owned()));
        Ok(ApiClient {
            runtime,
            http,
            base,
            token,
            lang,
        })
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    pub fn set_token(&mut self, token: Zeroizing<String>) {
        self.token = Some(token);
    }

    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Answer, Failure> {
        self.send(Method::GET, path, query, None, &[])
    }

    pub fn post(
        &self,
        path: &str,
        body: &impl Serialize,
        idempotency_key: Option<&str>,
    ) -> Result<Answer, Failure> {
        let body = serde_json::to_value(body)
            .map_err(|error| Failure::Local(format!("request body: {error}")))?;
        let headers: Vec<(&str, &str)> = idempotency_key
            .map(|key| ("Idempotency-Key", key))
            .into_iter()
            .collect();
        self.send(Method::POST, path, &[], Some(&body), &headers)
    }

    /// A POST confirmed by `verification` (`Tessera-Verification`), sent
    /// with an idempotency key.
    pub fn post_confirmed(
        &self,
        path: &str,
        body: &impl Serialize,
        idempotency_key: &str,
        verification: &str,
    ) -> Result<Answer, Failure> {
        let body = serde_json::to_value(body)
            .map_err(|error| Failure::Local(format!("request body: {error}")))?;
        self.send(
            Method::POST,
            path,
            &[],
            Some(&body),
            &[
                ("Idempotency-Key", idempotency_key),
                ("Tessera-Verification", verification),
            ],
        )
    }

    /// A POST whose meaning is all in the path (`/default`).
    pub fn post_empty(&self, path: &str) -> Result<Answer, Failure> {
        self.send(Method::POST, path, &[], None, &[])
    }

    /// A DELETE confirmed by `verification` (`Tessera-Verification`).
    pub fn delete_confirmed(&self, path: &str, verification: &str) -> Result<Answer, Failure> {
        self.send(
            Method::DELETE,
            path,
            &[],
            None,
            &[("Tessera-Verification", verification)],
        )
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, Failure> {
        let mut url = Url::parse(&format!("{}{path}", self.base))
            .map_err(|error| Failure::Local(format!("{}{path}: {error}", self.base)))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self
            .http
            .request(method, url)
            .header(ACCEPT, "application/json")
            .header(ACCEPT_LANGUAGE, self.lang.accept_language());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.as_str());
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let outcome = self.runtime.block_on(async {
            let response = request.send().await?;
            let status = response.status();
            let text = response.text().await?;
            Ok::<_, reqwest::Error>((status, text))
        });
        let (status, body) = match outcome {
            Ok(answer) => answer,
            Err(error) if error.is_builder() => {
                return Err(Failure::Local(
                    self.lang
                        .pick(
                            "令牌、幂等键或确认码含有 HTTP 头中不允许的字符",
                            "the token, idempotency key or confirmation has characters an HTTP header cannot carry",
                        )
                        .to_owned(),
                ));
            }
            Err(error) if error.is_connect() => {
                return Err(Failure::Unreachable {
                    server: self.base.clone(),
                    detail: root_cause(&error),
                });
            }
            Err(error) => {
                return Err(Failure::Transport {
                    server: self.base.clone(),
                    detail: root_cause(&error),
                });
            }
        };
        if status.is_success() {
            let json = if body.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&body).map_err(|error| Failure::BadAnswer {
                    status,
                    detail: error.to_string(),
                })?
            };
            Ok(Answer { status, body, json })
        } else {
            let error = serde_json::from_str::<Envelope>(&body)
                .ok()
                .map(|envelope| Box::new(envelope.error));
            Err(Failure::Api {
                server: self.base.clone(),
                status,
                body,
                error,
            })
        }
    }
}

/// The innermost cause, e.g. "Connection refused (os error 111)": reqwest's
/// own message ("error sending request") says nothing useful.
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// A path segment from the user (a card id): checked, so `../users` or `?x`
/// cannot reach another route.
pub fn path_id(id: &str, lang: Lang) -> Result<&str, Failure> {
    let fine = !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if fine {
        Ok(id)
    } else {
        Err(Failure::Local(match lang {
            Lang::Zh => format!("{id:?} 不是有效的卡片 ID"),
            Lang::En => format!("{id:?} is not a card id"),
        }))
    }
}

/// Whether we may ask the user questions: stdin is a terminal.
pub fn interactive() -> bool {
    io::stdin().is_terminal()
}

/// Asks for one line on the terminal (the prompt goes to stderr so stdout
/// stays clean for `$(...)`).
pub fn prompt_line(prompt: &str) -> Result<String, Failure> {
    eprint!("{prompt}");
    let _ = io::stderr().flush();
    let mut line = String::new();
    io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| Failure::Local(format!("stdin: {error}")))?;
    Ok(line.trim().to_owned())
}

/// Asks for a secret on the terminal without echo.
pub fn prompt_secret(prompt: &str) -> Result<Zeroizing<String>, Failure> {
    rpassword::prompt_password(prompt)
        .map(Zeroizing::new)
        .map_err(|error| Failure::Local(format!("terminal: {error}")))
}
