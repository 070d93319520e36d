//! `tessera signup` and `tessera login` against a running server, and the
//! session step other client commands take when no token was given.
//! Passwords come from a no-echo terminal prompt or TESSERA_PASSWORD, never a flag.

use std::process::ExitCode;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::client::{self, ApiClient, ClientArgs, Failure, Lang};

const PASSWORD_ENV: &str = "TESSERA_PASSWORD";

#[derive(Debug, clap::Args)]
#[command(after_help = "The password is asked twice on a terminal; scripts set TESSERA_PASSWORD.")]
pub struct SignupArgs {
    /// Mainland mobile number, used to log in.
    #[arg(long)]
    pub phone: String,
    /// Name on the resident ID card (real-name record).
    #[arg(long)]
    pub real_name: String,
    /// 18-character resident ID number.
    #[arg(long)]
    pub id_number: String,
    /// The 6-digit code texted to the phone. Without it, a code is sent
    /// and the command says how to run again with it.
    #[arg(long)]
    pub sms_code: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Prints the session token alone, so `export TESSERA_TOKEN=$(tessera login --phone P)` works.\nThe password is asked on a terminal; scripts set TESSERA_PASSWORD."
)]
pub struct LoginArgs {
    /// The phone number you signed up with.
    #[arg(long)]
    pub phone: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Serialize)]
struct SignupBody<'a> {
    phone: &'a str,
    real_name: &'a str,
    id_number: &'a str,
    password: &'a str,
    sms_code: &'a str,
}

#[derive(Serialize)]
struct SmsCodeBody<'a> {
    phone: &'a str,
    purpose: &'a str,
}

#[derive(Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    real_name: Option<String>,
}

#[derive(Serialize)]
struct SessionBody<'a> {
    phone: &'a str,
    password: &'a str,
}

#[derive(Deserialize)]
struct Session {
    token: String,
    #[serde(default)]
    expires_at: Option<String>,
}

pub fn run_signup(args: SignupArgs) -> anyhow::Result<ExitCode> {
    let (lang, json) = (args.client.lang, args.client.json);
    Ok(match signup(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(lang, json),
    })
}

pub fn run_login(args: LoginArgs) -> anyhow::Result<ExitCode> {
    let (lang, json) = (args.client.lang, args.client.json);
    Ok(match login(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(lang, json),
    })
}

fn signup(args: &SignupArgs) -> Result<(), Failure> {
    let client = ApiClient::new(&args.client)?;
    let lang = client.lang();
    let Some(sms_code) = args.sms_code.as_deref() else {
        // First the phone is proven: a code is texted to it.
        let answer = client.post(
            "/v1/sms-codes",
            &SmsCodeBody {
                phone: &args.phone,
                purpose: "sign_up",
            },
            None,
        )?;
        if args.client.json {
            answer.print_raw();
            return Ok(());
        }
        let again = format!(
            "tessera signup --phone {} --real-name {} --id-number {} --sms-code CODE",
            args.phone, args.real_name, args.id_number
        );
        client::emit_lines(&match lang {
            Lang::Zh => [
                format!("验证码已发送到 {}。", args.phone),
                format!("收到后运行：{again}"),
            ],
            Lang::En => [
                format!("a code was texted to {}", args.phone),
                format!("then run: {again}"),
            ],
        });
        return Ok(());
    };
    let password = password(lang, true)?;
    let answer = client.post(
        "/v1/users",
        &SignupBody {
            phone: &args.phone,
            real_name: &args.real_name,
            id_number: &args.id_number,
            password: &password,
            sms_code,
        },
        None,
    )?;
    if args.client.json {
        answer.print_raw();
        return Ok(());
    }
    let user: User = answer.parse()?;
    let phone = user.phone.as_deref().unwrap_or("-");
    let name = user.real_name.as_deref().unwrap_or("-");
    let id = &user.id;
    client::emit_lines(&match lang {
        Lang::Zh => [
            format!("注册成功：用户 {id}，手机 {phone}，姓名 {name}"),
            format!("下一步：tessera login --phone {}", args.phone),
        ],
        Lang::En => [
            format!("signed up: user {id}, phone {phone}, name {name}"),
            format!("next: tessera login --phone {}", args.phone),
        ],
    });
    Ok(())
}

fn login(args: &LoginArgs) -> Result<(), Failure> {
    let client = ApiClient::new(&args.client)?;
    let password = password(client.lang(), false)?;
    let answer = open_session(&client, &args.phone, &password)?;
    if args.client.json {
        answer.print_raw();
        return Ok(());
    }
    let session: Session = answer.parse()?;
    // The token alone on stdout, for `export TESSERA_TOKEN=$(tessera login ...)`.
    client::emit(&format!("{}\n", session.token));
    if let Some(expires_at) = session.expires_at
        && client::interactive()
    {
        eprintln!(
            "{} {expires_at}",
            client.lang().pick("会话有效期至", "session expires at")
        );
    }
    Ok(())
}

fn open_session(
    client: &ApiClient,
    phone: &str,
    password: &str,
) -> Result<client::Answer, Failure> {
    client.post("/v1/sessions", &SessionBody { phone, password }, None)
}

/// Makes sure `client` carries a session token: the one given, or a login
/// asked for on the terminal. Without a terminal it fails and says how to get one.
pub fn ensure_session(client: &mut ApiClient) -> Result<(), Failure> {
    if client.has_token() {
        return Ok(());
    }
    let lang = client.lang();
    if !client::interactive() {
        return Err(Failure::Local(
            lang.pick(
                "未登录：请用 --token 或 TESSERA_TOKEN 提供会话令牌（先运行 `tessera login --phone 手机号`）",
                "not logged in: pass --token or set TESSERA_TOKEN (get one with `tessera login --phone P`)",
            )
            .to_owned(),
        ));
    }
    eprintln!("{}", lang.pick("请先登录。", "Log in first."));
    let phone = client::prompt_line(lang.pick("手机号：", "Phone: "))?;
    let password = client::prompt_secret(lang.pick("登录密码：", "Password: "))?;
    let session: Session = open_session(client, &phone, &password)?.parse()?;
    client.set_token(Zeroizing::new(session.token));
    Ok(())
}

/// The password from TESSERA_PASSWORD, else asked on the terminal (twice
/// when `confirm`), else a usage error.
fn password(lang: Lang, confirm: bool) -> Result<Zeroizing<String>, Failure> {
    if let Ok(password) = std::env::var(PASSWORD_ENV)
        && !password.is_empty()
    {
        return Ok(Zeroizing::new(password));
    }
    if !client::interactive() {
        return Err(Failure::Local(
            lang.pick(
                "需要密码：请在终端中运行，或设置环境变量 TESSERA_PASSWORD",
                "a password is needed: run on a terminal or set TESSERA_PASSWORD",
            )
            .to_owned(),
        ));
    }
    let first = client::prompt_secret(lang.pick("密码：", "Password: "))?;
    if confirm {
        let second = client::prompt_secret(lang.pick("再次输入密码：", "Password again: "))?;
        if *first != *second {
            return Err(Failure::Local(
                lang.pick("两次输入的密码不一致", "the two passwords differ")
                    .to_owned(),
            ));
        }
    }
    Ok(first)
}
