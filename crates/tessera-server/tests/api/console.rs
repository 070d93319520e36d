//! The support console at /support, as a browser drives it: sign-in with a
//! live support or operator key only, a cookie scoped to the console, CSRF
//! tokens and origins checked on every form, sessions that end when idle,
//! past their lifetime, at sign-out or with their key; pages that escape
//! what people typed, show no card digits beyond the first six and last
//! four, and audit their reads as the API does.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use serde_json::{Value, json};
use tessera_server::issuer::sandbox::Outcome;
use tessera_server::test_support::User;

use crate::diagnose::{bind_from, xiaomi};
use crate::pages::{Browser, OwnedForm, Page, encoded};
use crate::{Backend, TestServer, card};

/// Console sign-in on the shared page browser.
trait ConsoleSignIn {
    async fn sign_in(&mut self, key: &str) -> Page;
}

impl ConsoleSignIn for Browser {
    /// Signs in with `key`; keeps the session cookie when one is set.
    async fn sign_in(&mut self, key: &str) -> Page {
        let page = self.post("/support/sign-in", &[("key", key)]).await;
        self.keep_cookie(&page);
        page
    }
}

/// A person with a failed binding (the bank does not take part) and a
/// ticket about it whose text tries to run a script; answers the person,
/// the trace id and the ticket id.
async fn person_with_a_ticket(server: &TestServer) -> (User, String, String) {
    let user = server.user().await;
    let (status, _, trace_id) = bind_from(
        server,
        &user,
        &card(Outcome::NotParticipating),
        xiaomi("wifi"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, ticket) = server
        .call(
            reqwest::Method::POST,
            "/v1/tickets",
            Some(&user.token),
            Some(&json!({
                "trace_id": trace_id,
                "message": "<script>alert('x')</script> & \"绑不上\"",
            })),
            &[("idempotency-key", "console-ticket")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    (user, trace_id, ticket["id"].as_str().unwrap().to_owned())
}

async fn make_key(server: &TestServer, role: &str, holder: &str) -> (String, String) {
    let mut body = json!({"role": role, "holder": holder});
    if role == "merchant" {
        body["merchants"] = json!(["SHOP-1"]);
    }
    let (status, made) = server
        .post("/v1/admin/keys", &server.operator_key, body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    (
        made["key"].as_str().unwrap().to_owned(),
        made["id"].as_str().unwrap().to_owned(),
    )
}

async fn signing_in_takes_live_support_and_operator_keys_only(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (merchant, _) = make_key(&server, "merchant", "商户").await;
    let (revoked, revoked_id) = make_key(&server, "support", "已离职").await;
    let (status, _) = server
        .delete(
            &format!("/v1/admin/keys/{revoked_id}"),
            &server.operator_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    for key in [
        "tsk_support_nothing_like_it",
        "",
        merchant.as_str(),
        revoked.as_str(),
    ] {
        let mut browser = Browser::new(&server, "tessera_console");
        let page = browser.sign_in(key).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{key}");
        assert!(page.headers.get(SET_COOKIE).is_none(), "{key}");
        assert!(page.html.contains("id=\"refused\""), "{}", page.html);
        if !key.is_empty() {
            assert!(!page.html.contains(key));
        }
        assert!(browser.cookie.is_none());
    }

    for key in [&server.support_key, &server.operator_key] {
        let mut browser = Browser::new(&server, "tessera_console");
        let page = browser.sign_in(key).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), "/support");
        assert!(!page.location().contains("tsk_"));
        let cookie = page.headers[SET_COOKIE].to_str().unwrap();
        assert!(cookie.starts_with("tessera_console=tcs_"), "{cookie}");
        for attribute in ["; HttpOnly", "; SameSite=Strict", "; Path=/support"] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }
        // Plain HTTP here: a Secure cookie would never come back.
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert!(!cookie.contains(key.as_str()));
        // The store keeps only a hash of the cookie's id.
        let id = browser.cookie.clone().unwrap();
        assert!(
            server
                .state()
                .store
                .console_session(&id)
                .await
                .unwrap()
                .is_none()
        );
        let home = browser.get("/support").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.html.contains("action=\"/support/sign-out\""));
        let keys_page = browser.get("/support/keys").await;
        let operator = key == &server.operator_key;
        assert_eq!(
            keys_page.status,
            if operator {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            }
        );
    }

    // A sign-in sent from another site is refused before the key is read.
    let mut browser = Browser::new(&server, "tessera_console");
    let page = browser
        .post_from(
            "/support/sign-in",
            &[("key", server.support_key.as_str())],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.headers.get(SET_COOKIE).is_none());
    browser.cookie = None;
    assert_eq!(browser.get("/support/tickets").await.location(), "/support");
}

async fn a_revoked_key_ends_its_sessions_at_the_next_request(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (key, key_id) = make_key(&server, "support", "客服 李雷").await;
    let mut browser = Browser::new(&server, "tessera_console");
    assert_eq!(browser.sign_in(&key).await.status, StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/support/tickets").await.status, StatusCode::OK);
    let (status, _) = server
        .delete(&format!("/v1/admin/keys/{key_id}"), &server.operator_key)
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = browser.get("/support/tickets").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/support?ended=1");
    let cleared = page.headers[SET_COOKIE].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let sign_in = browser.get("/support?ended=1").await;
    assert!(sign_in.html.contains("会话已结束"), "{}", sign_in.html);
}

async fn sessions_end_when_idle_past_their_lifetime_and_at_sign_out(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let mut browser = Browser::new(&server, "tessera_console");
    browser.sign_in(&server.support_key).await;
    // Used every 29 minutes, a session lives on...
    server.advance(Duration::from_secs(29 * 60));
    assert_eq!(browser.get("/support/tickets").await.status, StatusCode::OK);
    // ...unused for 30, it has ended.
    server.advance(Duration::from_secs(30 * 60));
    assert_eq!(
        browser.get("/support/tickets").await.location(),
        "/support?ended=1"
    );

    // However busy, it ends 12 hours after the sign-in.
    browser.sign_in(&server.support_key).await;
    for _ in 0..24 {
        server.advance(Duration::from_secs(29 * 60));
        assert_eq!(browser.get("/support/tickets").await.status, StatusCode::OK);
    }
    server.advance(Duration::from_secs(25 * 60));
    assert_eq!(
        browser.get("/support/tickets").await.location(),
        "/support?ended=1"
    );

    // Sign-out needs the form's token, then ends the session for good.
    browser.sign_in(&server.support_key).await;
    let home = browser.get("/support").await;
    let refused = browser
        .post("/support/sign-out", &[("csrf", "not-the-token")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/support/tickets").await.status, StatusCode::OK);
    let out = browser
        .post("/support/sign-out", &[("csrf", &home.csrf())])
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/support?signed_out=1");
    assert!(
        out.headers[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        browser.get("/support/tickets").await.location(),
        "/support?ended=1"
    );
}

/// The entries written on a ticket, as support reads them over the API.
async fn entries(server: &TestServer, ticket_id: &str) -> Vec<Value> {
    let (status, body) = server
        .get(
            &format!("/v1/support/tickets/{ticket_id}"),
            &server.support_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["entries"].as_array().unwrap().clone()
}

async fn forms_without_the_session_token_or_from_elsewhere_change_nothing(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (user, _, ticket_id) = person_with_a_ticket(&server).await;
    let mut browser = Browser::new(&server, "tessera_console");
    browser.sign_in(&server.support_key).await;
    let path = format!("/support/tickets/{ticket_id}");
    let token = browser.get(&path).await.csrf();
    let reply = [
        ("message", "请换一张一类账户的借记卡。"),
        ("status", "resolved"),
    ];
    let with = |csrf: &str| {
        let mut form: OwnedForm = reply.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        form.push(("csrf", csrf.to_owned()));
        form
    };
    let refusals: [(OwnedForm, Option<&str>); 4] = [
        (
            reply.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            Some(browser.base.as_str()),
        ),
        (
            with("0123456789ABCDEFGHJKMNPQRSTVWXYZ"),
            Some(browser.base.as_str()),
        ),
        (with(&token), Some("https://evil.example")),
        (with(&token), Some("null")),
    ];
    for (form, origin) in &refusals {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = browser.post_from(&path, &form, *origin).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{origin:?}");
        assert!(page.html.contains("没有做任何更改"), "{}", page.html);
    }
    // Another site's request, as the browser marks it.
    let page = browser
        .send(
            browser
                .client
                .post(format!("{}{path}", browser.base))
                .header("sec-fetch-site", "cross-site")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encoded(
                    &with(&token)
                        .iter()
                        .map(|(k, v)| (*k, v.as_str()))
                        .collect::<Vec<_>>(),
                )),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(entries(&server, &ticket_id).await.is_empty());
    let (_, mine) = server
        .get(&format!("/v1/tickets/{ticket_id}"), &user.token)
        .await;
    assert_eq!(mine["ticket"]["status"], "open");

    // With the token, from the console itself: written, then shown.
    let form = with(&token);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = browser.post(&path, &form).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
    assert_eq!(page.location(), format!("{path}?saved=1"));
    let written = entries(&server, &ticket_id).await;
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["message"], "请换一张一类账户的借记卡。");
    assert_eq!(written[0]["status"], "resolved");
    let (_, mine) = server
        .get(&format!("/v1/tickets/{ticket_id}"), &user.token)
        .await;
    assert_eq!(mine["ticket"]["status"], "resolved");
    assert_eq!(mine["replies"][0]["message"], "请换一张一类账户的借记卡。");

    // An empty form is a clear refusal that writes nothing.
    let page = browser.post(&path, &[("csrf", token.as_str())]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.html.contains("role=\"alert\""));
    assert_eq!(entries(&server, &ticket_id).await.len(), 1);
}

/// Every run of 12 or more digits on a page: no card number, whole or
/// nearly, is shown anywhere.
fn long_digit_runs(html: &str) -> Vec<String> {
    html.split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() >= 12)
        .map(str::to_owned)
        .collect()
}

async fn pages_escape_what_people_typed_and_show_no_card_digits(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (user, trace_id, ticket_id) = person_with_a_ticket(&server).await;
    let bound = card(Outcome::Approve);
    let (status, _) = server.bind(&user, &bound).await;
    assert_eq!(status, StatusCode::CREATED);
    let failed = card(Outcome::NotParticipating);
    let mut browser = Browser::new(&server, "tessera_console");
    browser.sign_in(&server.support_key).await;
    let pages = [
        format!("/support/people?phone={}", user.phone),
        format!("/support/people/{}", user.id),
        format!("/support/diagnosis?trace_id={trace_id}"),
        "/support/tickets".to_owned(),
        format!("/support/tickets/{ticket_id}"),
        "/support/health".to_owned(),
    ];
    for path in &pages {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.html);
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
        assert_eq!(page.headers["cache-control"], "no-store");
        for number in [&bound, &failed] {
            assert!(!page.html.contains(number.as_str()), "{path}");
            assert!(!page.html.contains(&number[6..number.len() - 4]), "{path}");
        }
        assert_eq!(long_digit_runs(&page.html), Vec::<String>::new(), "{path}");
        assert!(!page.html.contains("<script>alert"), "{path}");
        assert!(!page.html.contains(&user.phone), "{path}");
    }
    let ticket = browser.get(&format!("/support/tickets/{ticket_id}")).await;
    assert!(
        ticket
            .html
            .contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;绑不上&quot;")
            || ticket.html.contains(
                "&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#38; &#34;绑不上&#34;"
            ),
        "{}",
        ticket.html
    );
    let person = browser.get(&format!("/support/people/{}", user.id)).await;
    assert!(person.html.contains(&bound[..6]) && person.html.contains(&bound[bound.len() - 4..]));
    assert!(
        person.html.contains("/support/diagnosis?trace_id="),
        "{}",
        person.html
    );
}

/// The timeline filters by entry type and by time, as its JSON route
/// does; a time it cannot read is named on the page.
async fn a_person_s_timeline_filters_by_type_and_time(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (user, _, _) = person_with_a_ticket(&server).await;
    let mut browser = Browser::new(&server, "tessera_console");
    browser.sign_in(&server.support_key).await;
    let path = format!("/support/people/{}", user.id);
    let all = browser.get(&path).await;
    for kind in ["signup", "binding_attempt", "ticket"] {
        assert!(all.html.contains(&format!("<code>{kind}</code>")), "{kind}");
    }
    let tickets = browser.get(&format!("{path}?type=ticket&since=1h")).await;
    assert_eq!(tickets.status, StatusCode::OK, "{}", tickets.html);
    assert!(tickets.html.contains("<code>ticket</code>"));
    assert!(!tickets.html.contains("<code>binding_attempt</code>"));
    assert!(tickets.html.contains("<option value=\"ticket\" selected>"));
    let bad = browser.get(&format!("{path}?since=3x&lang=en")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.html);
    assert!(
        bad.html.contains("since was not understood"),
        "{}",
        bad.html
    );
}

/// The queue shows fifty tickets a page and links the next page, which
/// keeps the queue's filters and holds the rest.
async fn the_ticket_queue_pages_past_its_first_fifty(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (user, trace_id, _) = person_with_a_ticket(&server).await;
    for n in 0..51 {
        let (status, _, ticket) = server
            .call(
                reqwest::Method::POST,
                "/v1/tickets",
                Some(&user.token),
                Some(&json!({"trace_id": trace_id, "message": format!("第{n}次：还是绑不上")})),
                &[("idempotency-key", &format!("queue-{n}"))],
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
    }
    let mut browser = Browser::new(&server, "tessera_console");
    browser.sign_in(&server.support_key).await;
    let rows = |page: &Page| page.html.matches("<a href=\"/support/tickets/").count();
    let first = browser.get("/support/tickets?status=open").await;
    assert_eq!(rows(&first), 50, "{}", first.html);
    let next = first
        .html
        .split("<a href=\"")
        .map(|rest| rest.split('"').next().unwrap_or(""))
        .find(|href| href.contains("cursor="))
        .expect("a link to the next page")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    assert!(next.contains("status=open"), "{next}");
    let second = browser.get(&next).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.html);
    assert_eq!(rows(&second), 2, "{}", second.html);
    assert!(
        !second.html.contains("cursor="),
        "the last page links no further"
    );
}

/// The audit's reads of people's data as (action, key id, holder, user
/// id), oldest first.
async fn audit(server: &TestServer) -> Vec<(String, String, String, String)> {
    let (status, body) = server
        .get("/v1/admin/audit-events?limit=200", &server.operator_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut rows: Vec<_> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["action"].as_str().unwrap().starts_with("support."))
        .map(|row| {
            (
                row["action"].as_str().unwrap().to_owned(),
                row["key_id"].as_str().unwrap().to_owned(),
                row["key_holder"].as_str().unwrap().to_owned(),
                row["user_id"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    rows.reverse();
    rows
}

async fn console_and_api_reads_of_a_person_are_audited_alike(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (user, trace_id, ticket_id) = person_with_a_ticket(&server).await;
    let (key, key_id) = make_key(&server, "support", "客服 王芳").await;
    assert!(audit(&server).await.is_empty());
    let mut browser = Browser::new(&server, "tessera_console");
    browser.sign_in(&key).await;
    // Apart in time, so the audit's order is theirs.
    for path in [
        format!("/support/people/{}", user.id),
        format!("/support/diagnosis?trace_id={trace_id}"),
        format!("/support/tickets/{ticket_id}"),
    ] {
        server.advance(Duration::from_millis(5));
        assert_eq!(browser.get(&path).await.status, StatusCode::OK, "{path}");
    }
    let row = |action: &str| {
        (
            action.to_owned(),
            key_id.clone(),
            "客服 王芳".to_owned(),
            user.id.to_string(),
        )
    };
    let console = vec![
        row("support.users.search"),
        row("support.user.timeline"),
        row("support.diagnosis"),
        row("support.ticket"),
    ];
    assert_eq!(audit(&server).await, console);
    // The JSON API's reads of the same record the same rows.
    for path in [
        format!("/v1/support/users/{}/timeline", user.id),
        format!("/v1/support/diagnose?trace_id={trace_id}"),
        format!("/v1/support/tickets/{ticket_id}"),
    ] {
        server.advance(Duration::from_millis(5));
        let (status, body) = server.get(&path, &key).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let mut both = console.clone();
    both.extend(console[1..].iter().cloned());
    assert_eq!(audit(&server).await, both);
}

async fn operators_make_and_revoke_keys_and_switch_maintenance(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let mut browser = Browser::new(&server, "tessera_console");
    browser.sign_in(&server.operator_key).await;
    let token = browser.get("/support/keys").await.csrf();
    let made = browser
        .post(
            "/support/keys",
            &[
                ("csrf", token.as_str()),
                ("role", "support"),
                ("holder", "客服 <b>韩梅梅</b>"),
                ("label", ""),
                ("scope", ""),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.html);
    let (_, rest) = made.html.split_once("id=\"new-key\">").unwrap();
    let key = rest.split('<').next().unwrap().to_owned();
    assert!(key.starts_with("tsk_support_"), "{key}");
    assert!(
        made.html.contains("客服 &lt;b&gt;韩梅梅&lt;/b&gt;") || made.html.contains("&#60;b&#62;")
    );
    // The new key signs in; shown once, it is not on the list.
    let mut other = Browser::new(&server, "tessera_console");
    assert_eq!(other.sign_in(&key).await.status, StatusCode::SEE_OTHER);
    let list = browser.get("/support/keys").await;
    assert!(!list.html.contains(&key));
    let (_, keys) = server.get("/v1/admin/keys", &server.operator_key).await;
    let id = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["holder"] == "客服 <b>韩梅梅</b>")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Without the token, nothing is revoked; with it, the key and its
    // session are done.
    let path = format!("/support/keys/{id}/revoke");
    assert_eq!(
        browser.post(&path, &[("csrf", "x")]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(other.get("/support/tickets").await.status, StatusCode::OK);
    assert_eq!(
        browser
            .post(&path, &[("csrf", token.as_str())])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        other.get("/support/tickets").await.location(),
        "/support?ended=1"
    );
    // A support key may not make keys.
    let mut support = Browser::new(&server, "tessera_console");
    support.sign_in(&server.support_key).await;
    let support_token = support.get("/support").await.csrf();
    let refused = support
        .post(
            "/support/keys",
            &[
                ("csrf", support_token.as_str()),
                ("role", "support"),
                ("holder", "x"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Maintenance on for 30 minutes, then off, as the API reports it.
    let on = browser
        .post(
            "/support/maintenance",
            &[
                ("csrf", token.as_str()),
                ("action", "start"),
                ("minutes", "30"),
                ("message_zh", "系统升级中"),
                ("message_en", "Upgrading"),
            ],
        )
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER, "{}", on.html);
    let (_, status) = server
        .get("/v1/admin/maintenance", &server.operator_key)
        .await;
    assert_eq!(status["active"], true);
    assert_eq!(status["window"]["message_zh"], "系统升级中");
    let bad = browser
        .post(
            "/support/maintenance",
            &[
                ("csrf", token.as_str()),
                ("action", "start"),
                ("minutes", "0"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let off = browser
        .post(
            "/support/maintenance",
            &[("csrf", token.as_str()), ("action", "end")],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let (_, status) = server
        .get("/v1/admin/maintenance", &server.operator_key)
        .await;
    assert_eq!(status["active"], false);
}

async fn pages_speak_the_chosen_language_and_remember_it(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let browser = Browser::new(&server, "tessera_console");
    let zh = browser.get("/support").await;
    assert!(zh.html.contains("<html lang=\"zh-CN\">"));
    assert!(zh.html.contains("客服工作台"));
    let en = browser.get("/support?lang=en").await;
    assert!(en.html.contains("<html lang=\"en\">"));
    assert!(en.html.contains("Support console"));
    let remembered = en.headers[SET_COOKIE].to_str().unwrap();
    assert!(remembered.starts_with("tessera_lang=en;"), "{remembered}");
    let by_cookie = browser
        .send(
            browser
                .client
                .get(format!("{}/support", browser.base))
                .header("cookie", "tessera_lang=en")
                .header("accept-language", "zh-CN"),
        )
        .await;
    assert!(by_cookie.html.contains("<html lang=\"en\">"));
    let by_header = browser
        .send(
            browser
                .client
                .get(format!("{}/support", browser.base))
                .header("accept-language", "en-US,en;q=0.9"),
        )
        .await;
    assert!(by_header.html.contains("<html lang=\"en\">"));
    // The stylesheet is served under its content hash, for a year.
    let (_, rest) = zh.html.split_once("href=\"/assets/").unwrap();
    let css = rest.split('"').next().unwrap();
    let sheet = browser.get(&format!("/assets/{css}")).await;
    assert_eq!(sheet.status, StatusCode::OK);
    assert!(
        sheet.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert!(
        sheet.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(
        browser.get("/assets/site.000000000000.css").await.status,
        StatusCode::NOT_FOUND
    );
}

on_both_backends!(
    signing_in_takes_live_support_and_operator_keys_only,
    a_revoked_key_ends_its_sessions_at_the_next_request,
    sessions_end_when_idle_past_their_lifetime_and_at_sign_out,
    forms_without_the_session_token_or_from_elsewhere_change_nothing,
    pages_escape_what_people_typed_and_show_no_card_digits,
    console_and_api_reads_of_a_person_are_audited_alike,
    operators_make_and_revoke_keys_and_switch_maintenance,
    pages_speak_the_chosen_language_and_remember_it,
    the_ticket_queue_pages_past_its_first_fifty,
    a_person_s_timeline_filters_by_type_and_time,
);
