//! The web wallet's account pages, as a browser drives them: each a client
//! of the API's own route, so its refusals are the API's, shown beside the
//! field they concern; a session cookie scripts cannot read, opening the
//! same session the app's sign-in opens; forms refused, with nothing
//! changed, without their CSRF token or from another site.

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use serde_json::Value;
use tessera_server::test_support::{PASSWORD, User};

use crate::pages::{Browser, Page};
use crate::{Backend, TestServer, id_number, phone};

const COOKIE: &str = "tessera_wallet";

/// A form's fields, as `Browser::post` takes them.
type Form<'a> = &'a [(&'a str, &'a str)];

/// Signs `user` in through the sign-in form; keeps the cookie.
async fn sign_in(browser: &mut Browser, user: &User, next: &str) -> Page {
    let page = browser
        .post(
            "/sign-in",
            &[
                ("phone", &user.phone),
                ("password", PASSWORD),
                ("next", next),
            ],
        )
        .await;
    browser.keep_cookie(&page);
    page
}

async fn me(server: &TestServer, token: &str) -> StatusCode {
    server.get("/v1/me", token).await.0
}

async fn signing_in_opens_the_apps_own_session_in_a_cookie_scripts_cannot_read(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let mut browser = Browser::new(&server, COOKIE);

    let home = browser.get("/?lang=zh").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location(), "/sign-in?next=%2F%3Flang%3Dzh");

    // A wrong password: the API's words above the form, no cookie.
    let wrong = browser
        .post(
            "/sign-in",
            &[
                ("phone", &user.phone),
                ("password", "not-it-123"),
                ("next", "/"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.headers.get(SET_COOKIE).is_none());
    assert!(wrong.html.contains("手机号或密码不正确"), "{}", wrong.html);
    assert!(
        wrong
            .html
            .contains("/help/errors/invalid_credentials?lang=zh")
    );
    assert!(wrong.html.contains(&format!("value=\"{}\"", user.phone)));
    assert!(
        !wrong.html.contains("not-it-123"),
        "a password is never echoed"
    );

    // A malformed phone where the API names the field (signing up):
    // refused beside it.
    let malformed = browser
        .post("/sign-up", &[("phone", "12"), ("intent", "code")])
        .await;
    assert!(malformed.status.is_client_error());
    assert!(
        malformed
            .html
            .contains("aria-describedby=\"phone-problem\""),
        "{}",
        malformed.html
    );

    let page = sign_in(&mut browser, &user, "/records").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/records");
    let cookie = page.headers[SET_COOKIE].to_str().unwrap();
    for attribute in ["; HttpOnly", "; SameSite=Strict", "; Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP here: {cookie}");
    assert!(!cookie.contains("Max-Age"), "the server's session decides");
    // The cookie holds the app's own session: the API takes it as a bearer.
    let token = browser.cookie.clone().unwrap();
    assert!(token.starts_with("tss_"));
    assert_eq!(me(&server, &token).await, StatusCode::OK);

    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.html.contains("action=\"/sign-out\""));
    assert!(home.html.contains("<h1>我的银行卡</h1>"), "{}", home.html);

    // Only this site's own paths are places to go after signing in.
    for next in [
        "//evil.example/x",
        "https://evil.example",
        "/\\evil.example",
        "",
    ] {
        let mut other = Browser::new(&server, COOKIE);
        let page = sign_in(&mut other, &user, next).await;
        assert_eq!(page.location(), "/", "{next}");
    }
}

async fn forms_without_their_token_or_from_elsewhere_change_nothing(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let mut browser = Browser::new(&server, COOKIE);
    sign_in(&mut browser, &user, "/").await;
    let token = browser.cookie.clone().unwrap();
    let csrf = browser.get("/").await.csrf();

    let refusals: [(Form, Option<&str>); 4] = [
        (&[], Some(browser.base.as_str())),
        (&[("csrf", "not-the-token")], Some(browser.base.as_str())),
        (&[("csrf", csrf.as_str())], Some("https://evil.example")),
        (&[("csrf", csrf.as_str())], Some("null")),
    ];
    for (form, origin) in refusals {
        let page = browser.post_from("/sign-out", form, origin).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{form:?} {origin:?}");
        assert!(page.html.contains("没有做任何更改"), "{}", page.html);
        assert_eq!(me(&server, &token).await, StatusCode::OK, "still signed in");
    }

    // A sign-in sent from another site is refused before it is tried.
    let other = Browser::new(&server, COOKIE);
    let page = other
        .post_from(
            "/sign-in",
            &[("phone", &user.phone), ("password", PASSWORD)],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.headers.get(SET_COOKIE).is_none());

    let out = browser.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/sign-in?signed_out=1");
    let cleared = out.headers[SET_COOKIE].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(me(&server, &token).await, StatusCode::UNAUTHORIZED);
}

async fn an_ended_session_sends_the_person_to_sign_in_again(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let mut browser = Browser::new(&server, COOKIE);
    sign_in(&mut browser, &user, "/").await;
    // Every session ends (from the app, say): the cookie opens nothing.
    let (status, _) = server.delete("/v1/sessions", &user.token).await;
    assert!(status.is_success(), "{status}");
    let page = browser.get("/").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/sign-in?next=%2F&ended=1");
    assert!(
        page.headers[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    browser.cookie = None;
    let sign_in_page = browser.get("/sign-in?next=%2F&ended=1").await;
    assert!(
        sign_in_page.html.contains("登录已过期"),
        "{}",
        sign_in_page.html
    );
}

/// A form's owned fields as `Browser::post` takes them.
fn pairs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

/// The newest code texted to `phone`, read from the sandbox phone.
async fn texted_code(server: &TestServer, phone: &str) -> String {
    let (status, sms) = server
        .get(
            &format!("/v1/sandbox/sms?phone={phone}"),
            &server.operator_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sms}");
    let body = sms["data"][0]["body"].as_str().unwrap_or_default();
    body.split(|c: char| !c.is_ascii_digit())
        .find(|digits| digits.len() == 6)
        .unwrap_or_else(|| panic!("no code in {sms}"))
        .to_owned()
}

async fn signing_up_proves_the_phone_and_a_refusal_stores_nobody(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let mut browser = Browser::new(&server, COOKIE);
    let phone = phone();
    let step = browser
        .post("/sign-up", &[("phone", &phone), ("intent", "code")])
        .await;
    assert_eq!(step.status, StatusCode::OK);
    assert!(step.html.contains("name=\"sms_code\""), "{}", step.html);
    let code = texted_code(&server, &phone).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let id_number = id_number();
    let fields = |code: &str| -> Vec<(&'static str, String)> {
        vec![
            ("phone", phone.clone()),
            ("sms_code", code.to_owned()),
            ("real_name", "张三".to_owned()),
            ("id_number", id_number.clone()),
            ("password", PASSWORD.to_owned()),
            ("intent", "create".to_owned()),
        ]
    };
    let refused = browser.post("/sign-up", &pairs(&fields(wrong))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .html
            .contains("aria-describedby=\"sms_code-problem\""),
        "{}",
        refused.html
    );
    assert!(
        !refused.html.contains(&id_number),
        "the ID number is never echoed"
    );
    assert!(browser.cookie.is_none());
    let stored = server.state().store.user_by_phone(&phone).await.unwrap();
    assert!(stored.is_none(), "a refused sign-up stored a user");

    let made = browser.post("/sign-up", &pairs(&fields(&code))).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.html);
    assert_eq!(made.location(), "/");
    browser.keep_cookie(&made);
    let token = browser.cookie.clone().expect("signed in after signing up");
    let (status, me): (StatusCode, Value) = server.get("/v1/me", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["real_name"], "张三");
}

/// Closing from the safety page: the page says what goes and what stays,
/// a wrong code closes nothing, the texted code closes the account, the
/// cookie is cleared and the sign-in page says so.
async fn closing_the_account_from_the_safety_page(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let user = server.user().await;
    let mut browser = Browser::new(&server, COOKIE);
    sign_in(&mut browser, &user, "/").await;
    let token = browser.cookie.clone().expect("signed in");

    let safety = browser.get("/safety?lang=zh").await;
    assert_eq!(safety.status, StatusCode::OK);
    assert!(
        safety.html.contains("href=\"/safety/close\""),
        "{}",
        safety.html
    );
    let page = browser.get("/safety/close?lang=zh").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("注销后不能恢复。"), "{}", page.html);
    assert!(page.html.contains("前六位和后四位"), "{}", page.html);
    assert!(page.html.contains("name=\"sms_code\""), "{}", page.html);
    let csrf = page.csrf();
    let sign_up_code = server.latest_otp(&user).await;

    let sent = browser
        .post(
            "/safety/close?lang=zh",
            &[
                ("csrf", &csrf),
                ("idempotency_key", "close-page-1"),
                ("send_code", "1"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.html);
    // The page answers before the text goes out: wait for it.
    let mut code = server.latest_otp(&user).await;
    for _ in 0..50 {
        if code != sign_up_code {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        code = server.latest_otp(&user).await;
    }
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = browser
        .post(
            "/safety/close?lang=zh",
            &[
                ("csrf", &csrf),
                ("idempotency_key", "close-page-2"),
                ("sms_code", wrong),
            ],
        )
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.html);
    assert!(
        refused.html.contains("sms_code-problem"),
        "{}",
        refused.html
    );
    assert_eq!(
        me(&server, &token).await,
        StatusCode::OK,
        "nothing was closed"
    );

    let closed = browser
        .post(
            "/safety/close?lang=zh",
            &[
                ("csrf", &csrf),
                ("idempotency_key", "close-page-3"),
                ("sms_code", &code),
            ],
        )
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.html);
    assert_eq!(closed.location(), "/sign-in?closed=1");
    let cleared = closed.headers.get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cleared.starts_with("tessera_wallet=;"), "{cleared}");
    assert_eq!(me(&server, &token).await, StatusCode::UNAUTHORIZED);
    let after = Browser::new(&server, COOKIE)
        .get("/sign-in?closed=1&lang=zh")
        .await;
    assert!(after.html.contains("你的账户已注销"), "{}", after.html);
}

on_both_backends!(
    closing_the_account_from_the_safety_page,
    signing_in_opens_the_apps_own_session_in_a_cookie_scripts_cannot_read,
    forms_without_their_token_or_from_elsewhere_change_nothing,
    an_ended_session_sends_the_person_to_sign_in_again,
    signing_up_proves_the_phone_and_a_refusal_stores_nobody,
);
