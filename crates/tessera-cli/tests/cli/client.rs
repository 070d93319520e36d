//! The `tessera` client commands, run as the real binary against the real
//! server (tessera-server on a loopback port, a temporary SQLite file, the
//! sandbox issuer): what they print, what they never print, how they exit.

use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use tessera_server::test_support::TestServer;

const PHONE: &str = "13800138000";
const MASKED_PHONE: &str = "138****8000";
const NAME: &str = "张三";
const ID_NUMBER: &str = "11010519491231002X";
const PASSWORD: &str = "s3cret-pass-1";

/// The test server the CLI is pointed at.
struct Server {
    base: String,
    server: TestServer,
}

impl Server {
    async fn start() -> Server {
        let server = TestServer::start().await;
        Server {
            base: server.base.clone(),
            server,
        }
    }

    /// Runs `tessera` against this server, with `token` when given.
    async fn tessera(&self, args: &[&str], token: Option<&str>) -> Output {
        let mut envs = vec![("TESSERA_SERVER", self.base.as_str())];
        envs.extend(token.map(|token| ("TESSERA_TOKEN", token)));
        tessera(args, &envs).await
    }

    /// Signs up the test user and logs in with the CLI; returns the token.
    async fn user_token(&self) -> String {
        let mut args = vec![
            "signup",
            "--phone",
            PHONE,
            "--real-name",
            NAME,
            "--id-number",
            ID_NUMBER,
        ];
        let envs = [
            ("TESSERA_SERVER", self.base.as_str()),
            ("TESSERA_PASSWORD", PASSWORD),
        ];
        // First a code is texted to the phone; the command says what next.
        let asked = tessera(&args, &envs).await;
        assert_success(&asked);
        assert!(
            stdout(&asked).contains("--sms-code CODE"),
            "{}",
            stdout(&asked)
        );
        let (status, texts) = self
            .server
            .get(
                &format!("/v1/sandbox/sms?phone={PHONE}"),
                &self.server.operator_key,
            )
            .await;
        assert!(status.is_success(), "{texts}");
        let code =
            tessera_server::client::code_in(texts["data"][0]["body"].as_str().unwrap()).unwrap();
        args.extend(["--sms-code", &code]);
        let signup = tessera(&args, &envs).await;
        assert_success(&signup);
        assert!(
            stdout(&signup).contains(MASKED_PHONE),
            "{}",
            stdout(&signup)
        );
        let login = tessera(
            &["login", "--phone", PHONE],
            &[
                ("TESSERA_SERVER", &self.base),
                ("TESSERA_PASSWORD", PASSWORD),
            ],
        )
        .await;
        assert_success(&login);
        // The token alone on its line, for `export TESSERA_TOKEN=$(tessera login ...)`.
        let token = stdout(&login);
        assert!(
            token.starts_with("tss_") && token.ends_with('\n'),
            "{token:?}"
        );
        assert_eq!(token.lines().count(), 1, "{token:?}");
        assert!(!stderr(&login).contains(PASSWORD));
        token.trim_end().to_owned()
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

async fn tessera(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tessera"));
    command
        .args(args)
        // Not a terminal: the CLI must never wait for a prompt here.
        .stdin(Stdio::null())
        .env_remove("TESSERA_SERVER")
        .env_remove("TESSERA_TOKEN")
        .env_remove("TESSERA_PASSWORD");
    for proxy in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        command.env_remove(proxy);
    }
    command.envs(envs.iter().copied());
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("tessera did not finish")
        .unwrap()
}

/// A sandbox card number that asks the sandbox issuer for `outcome`.
async fn sandbox_card(outcome: &str) -> String {
    let out = tessera(
        &["sandbox", "card", "--bin", "622848", "--outcome", outcome],
        &[],
    )
    .await;
    assert_success(&out);
    stdout(&out).trim().to_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// The card id from the first line of a printed card ("card card_...").
fn card_id(printed: &str) -> String {
    let first = printed.lines().next().unwrap();
    first.split_whitespace().nth(1).unwrap().to_owned()
}

fn masked(number: &str) -> String {
    format!("{} ******** {}", &number[..6], &number[number.len() - 4..])
}

#[tokio::test(flavor = "multi_thread")]
async fn signup_login_bind_with_sms_code_then_default_and_unbind() {
    let server = Server::start().await;
    let token = server.user_token().await;
    let token = Some(token.as_str());
    let number = sandbox_card("otp").await;
    let bind = [
        "cards",
        "bind",
        "--number",
        &number,
        "--holder-name",
        NAME,
        "--idempotency-key",
        "bind-1",
        "--device-model",
        "Pixel 8",
        "--lang",
        "en",
    ];

    let bound = server.tessera(&bind, token).await;
    assert_success(&bound);
    let printed = stdout(&bound);
    let id = card_id(&printed);
    for expected in [
        masked(&number).as_str(),
        // Its status in words, not the API's code.
        "waiting for its SMS code",
        "Agricultural Bank of China",
        MASKED_PHONE,
        &format!("tessera cards verify {id} --otp CODE"),
    ] {
        assert!(
            printed.contains(expected),
            "missing {expected:?} in:\n{printed}"
        );
    }
    for output in [printed.as_str(), &stderr(&bound)] {
        assert!(
            !output.contains(&number),
            "full card number printed:\n{output}"
        );
    }

    // The same Idempotency-Key gets the first answer, not a second binding.
    let again = server.tessera(&bind, token).await;
    assert_success(&again);
    assert_eq!(card_id(&stdout(&again)), id);

    let sms = server
        .tessera(&["sandbox", "sms", "--phone", PHONE, "--json"], token)
        .await;
    assert_success(&sms);
    let sms: Value = serde_json::from_str(&stdout(&sms)).unwrap();
    let body = sms["data"][0]["body"].as_str().unwrap();
    let code: String = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 6)
        .unwrap()
        .to_owned();

    let verified = server
        .tessera(&["cards", "verify", &id, "--otp", &code], token)
        .await;
    assert_success(&verified);
    let printed = stdout(&verified);
    assert!(
        printed.contains("可以使用") && printed.contains("中国农业银行"),
        "{printed}"
    );

    let listed = server.tessera(&["cards", "list"], token).await;
    assert_success(&listed);
    assert!(stdout(&listed).contains(&id), "{}", stdout(&listed));

    let default = server
        .tessera(&["cards", "default", &id, "--lang", "en"], token)
        .await;
    assert_success(&default);
    assert!(
        stdout(&default).contains("[default]"),
        "{}",
        stdout(&default)
    );

    // Unbinding takes a confirmation: with no payment password set, the
    // first run texts a code and says what next; the second uses it.
    let asked = server
        .tessera(&["cards", "unbind", &id, "--lang", "en"], token)
        .await;
    assert_success(&asked);
    assert!(
        stdout(&asked).contains("--sms-code CODE"),
        "{}",
        stdout(&asked)
    );
    let sms = server
        .tessera(&["sandbox", "sms", "--phone", PHONE, "--json"], token)
        .await;
    let sms: Value = serde_json::from_str(&stdout(&sms)).unwrap();
    let code = tessera_server::client::code_in(sms["data"][0]["body"].as_str().unwrap()).unwrap();
    let unbound = server
        .tessera(&["cards", "unbind", &id, "--sms-code", &code], token)
        .await;
    assert_success(&unbound);
    assert!(stdout(&unbound).contains("已解绑"), "{}", stdout(&unbound));
    let live = server
        .tessera(&["cards", "list", "--lang", "en"], token)
        .await;
    assert!(stdout(&live).contains("no cards yet"), "{}", stdout(&live));
    let all = server.tessera(&["cards", "list", "--all"], token).await;
    assert!(stdout(&all).contains(&id), "{}", stdout(&all));

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn transfers_send_is_confirmed_then_sent_and_never_prints_the_number() {
    let server = Server::start().await;
    let token = server.user_token().await;
    let token = Some(token.as_str());
    let number = sandbox_card("approve").await;
    let bound = server
        .tessera(
            &["cards", "bind", "--number", &number, "--holder-name", NAME],
            token,
        )
        .await;
    assert_success(&bound);
    let id = card_id(&stdout(&bound));
    let to = sandbox_card("approve").await;
    let send = |code: Option<&str>| {
        let mut args = vec![
            "transfers",
            "send",
            "--card",
            &id,
            "--to",
            &to,
            "--name",
            "李四",
            "--amount",
            "100.00",
            "--lang",
            "en",
        ];
        if let Some(code) = code {
            args.extend(["--sms-code", code]);
        }
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    // With no payment password set, the first run texts a code.
    let args = send(None);
    let asked = server
        .tessera(&args.iter().map(String::as_str).collect::<Vec<_>>(), token)
        .await;
    assert_success(&asked);
    assert!(
        stdout(&asked).contains("--sms-code CODE"),
        "{}",
        stdout(&asked)
    );
    let sms = server
        .tessera(&["sandbox", "sms", "--phone", PHONE, "--json"], token)
        .await;
    let sms: Value = serde_json::from_str(&stdout(&sms)).unwrap();
    let code = tessera_server::client::code_in(sms["data"][0]["body"].as_str().unwrap()).unwrap();
    let args = send(Some(&code));
    let sent = server
        .tessera(&args.iter().map(String::as_str).collect::<Vec<_>>(), token)
        .await;
    assert_success(&sent);
    let printed = stdout(&sent);
    assert!(
        printed.contains("settled 100.00 CNY") && printed.contains("(fee 0.00 CNY)"),
        "{printed}"
    );
    assert!(
        printed.contains(&to[to.len() - 4..]) && !printed.contains(&to),
        "{printed}"
    );
    let listed = server.tessera(&["transfers", "list"], token).await;
    assert!(stdout(&listed).contains("settled"), "{}", stdout(&listed));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_error_prints_code_message_remedy_and_trace_id_and_exits_1() {
    let server = Server::start().await;
    let token = server.user_token().await;
    // A sandbox number with its last digit changed fails the Luhn check.
    let mut number = sandbox_card("approve").await;
    let last = number.pop().unwrap();
    number.push(if last == '0' { '1' } else { '0' });

    let out = server
        .tessera(
            &[
                "cards",
                "bind",
                "--number",
                &number,
                "--holder-name",
                NAME,
                "--cvc",
                "739",
            ],
            Some(&token),
        )
        .await;

    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let printed = stderr(&out);
    // zh-CN by default: the server's message and remedy, our labels.
    for expected in [
        "error: incorrect_number",
        "卡号有误",
        "处理建议：",
        "trace id: req_",
    ] {
        assert!(
            printed.contains(expected),
            "missing {expected:?} in:\n{printed}"
        );
    }
    assert!(
        !printed.contains(&number) && !printed.contains("739"),
        "{printed}"
    );
    assert!(out.stdout.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn json_prints_the_servers_body_as_is_and_still_exits_1_on_errors() {
    let server = Server::start().await;
    let token = server.user_token().await;
    let number = sandbox_card("approve").await;
    let bound = server
        .tessera(
            &["cards", "bind", "--number", &number, "--holder-name", NAME],
            Some(&token),
        )
        .await;
    assert_success(&bound);
    let id = card_id(&stdout(&bound));

    let shown = server
        .tessera(&["cards", "show", &id, "--json"], Some(&token))
        .await;
    assert_success(&shown);
    let direct = reqwest::Client::new()
        .get(format!("{}/v1/cards/{id}", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(stdout(&shown).trim_end(), direct);

    let missing = server
        .tessera(
            &["cards", "--json", "show", "card_nope", "--lang", "en"],
            Some(&token),
        )
        .await;
    assert_eq!(missing.status.code(), Some(1));
    let error: Value = serde_json::from_str(&stdout(&missing)).unwrap();
    assert_eq!(error["error"]["code"], "not_found");
    assert!(
        error["error"]["trace_id"]
            .as_str()
            .unwrap()
            .starts_with("req_")
    );
    assert!(missing.stderr.is_empty(), "{}", stderr(&missing));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_token_or_a_terminal_it_says_how_to_log_in_and_exits_2() {
    let server = Server::start().await;
    let out = server
        .tessera(&["cards", "list", "--lang", "en"], None)
        .await;
    assert_eq!(out.status.code(), Some(2));
    let printed = stderr(&out);
    assert!(
        printed.contains("TESSERA_TOKEN") && printed.contains("tessera login"),
        "{printed}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_refused_names_the_server_and_exits_2() {
    // A port that was just free: nothing listens on it now.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base = format!("http://{addr}");

    let out = tessera(
        &[
            "cards", "list", "--server", &base, "--token", "t", "--lang", "en",
        ],
        &[],
    )
    .await;

    assert_eq!(out.status.code(), Some(2));
    let printed = stderr(&out);
    assert!(printed.contains(&base), "{printed}");
    assert!(printed.contains("tessera serve"), "{printed}");
    assert!(out.stdout.is_empty());
}
