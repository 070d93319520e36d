//! The help center, as a browser reads it: the FAQ and one page for every
//! error code in both languages, each made from the catalogue, escaped, and
//! reachable from every error response's `doc_url`.

use reqwest::{Method, StatusCode};
use tessera_core::error::{CATALOGUE, DomainError, Lang};
use tessera_server::http::error::error_body;

use crate::{Backend, TestServer, assert_error};

async fn page(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let mut request = server.client.get(format!("{}{path}", server.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

/// Text as the pages escape it (askama's HTML escaping).
fn escape(text: &str) -> String {
    askama::filters::escape(text, askama::filters::Html)
        .unwrap()
        .to_string()
}

fn has_han(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Fails if any code lacks its page in either language.
async fn every_error_code_has_a_page_in_both_languages(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    for entry in &CATALOGUE {
        let code = entry.code.as_str();
        for (lang, query) in [(Lang::ZhCn, "zh"), (Lang::En, "en")] {
            let (status, content_type, html) =
                page(&server, &format!("/help/errors/{code}?lang={query}"), &[]).await;
            assert_eq!(status, StatusCode::OK, "{code} {query}");
            assert!(content_type.starts_with("text/html"), "{code}");
            assert!(
                html.contains(&format!("<html lang=\"{}\">", lang.tag())),
                "{code}"
            );
            for text in [entry.message, entry.why, entry.remedy] {
                assert!(
                    html.contains(&escape(text.get(lang))),
                    "{code} {query} lacks {:?}",
                    text.get(lang)
                );
            }
            // A page for people names no code: the developers' page does.
            assert!(!html.contains(&format!("<code>{code}</code>")), "{code}");
            assert!(!html.contains("HTTP"), "{code}");
            let headings = match lang {
                Lang::ZhCn => ["这是什么意思", "为什么会出现", "怎么办"],
                Lang::En => ["What it means", "Why it happens", "What to do"],
            };
            for heading in headings {
                assert!(html.contains(heading), "{code} {query} lacks {heading}");
            }
            assert!(html.contains("name=\"viewport\""));
        }
    }
    // The pages for people explain each reason and each bank's reason in
    // words; the developers' page names their codes.
    let (_, _, html) = page(&server, "/help/errors/card_not_supported?lang=en", &[]).await;
    assert!(html.contains("Class I") && html.contains("prepaid cards"));
    assert!(!html.contains("unknown_bin"));
    let (_, _, html) = page(&server, "/help/errors/card_declined?lang=zh", &[]).await;
    assert!(html.contains(&escape("卡内余额不足（信用卡为可用额度不足）")));
    assert!(!html.contains("do_not_honor"));
    for (lang, query) in [(Lang::ZhCn, "zh"), (Lang::En, "en")] {
        let (status, _, html) = page(&server, &format!("/help/developers?lang={query}"), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(&format!("<html lang=\"{}\">", lang.tag())));
        for entry in &CATALOGUE {
            assert!(
                html.contains(&format!("<code>{}</code>", entry.code_str))
                    && html.contains(&format!("<td>{}</td>", entry.http_status)),
                "{}",
                entry.code_str
            );
        }
        for code in [
            "unknown_bin",
            "account_class",
            "do_not_honor",
            "card_reissued",
            "Idempotency-Key",
            "/openapi.json",
        ] {
            assert!(html.contains(code), "{code}");
        }
    }
    // The help center's footer leads there; the wallet's pages do not.
    let (_, _, html) = page(&server, "/help?lang=zh", &[]).await;
    assert!(html.contains("href=\"/help/developers?lang=zh\""));
    let (_, _, html) = page(&server, "/sign-in?lang=zh", &[]).await;
    assert!(!html.contains("/help/developers"));
}

async fn the_language_follows_the_query_then_accept_language(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (_, _, zh) = page(&server, "/help/errors/phone_mismatch", &[]).await;
    assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("约一天"));
    let (_, _, en) = page(
        &server,
        "/help/errors/phone_mismatch",
        &[("accept-language", "en-US,en;q=0.9")],
    )
    .await;
    assert!(en.contains("<html lang=\"en\">") && en.contains("about a day"));
    let (_, _, zh) = page(
        &server,
        "/help/errors/phone_mismatch?lang=zh-CN",
        &[("accept-language", "en")],
    )
    .await;
    assert!(zh.contains("<html lang=\"zh-CN\">"));
    // Each page links to the other language.
    assert!(zh.contains("href=\"/help/errors/phone_mismatch?lang=en\""));
}

async fn the_faq_answers_the_questions_people_ask(backend: Backend) {
    let server = TestServer::start_on(backend, |config| config.card_limit = 7).await;
    let (status, _, zh) = page(&server, "/help?lang=zh", &[]).await;
    assert_eq!(status, StatusCode::OK);
    for question in [
        "可以绑定几张银行卡",
        "为什么要绑定几张卡",
        "怎样解绑一张卡",
        "绑卡收费吗",
        "怎样保障资金安全",
        "怎样联系客服",
        "最多可以同时绑定7张",
        "一类账户",
    ] {
        assert!(zh.contains(question), "{question}");
    }
    let (status, _, en) = page(&server, "/help?lang=en", &[]).await;
    assert_eq!(status, StatusCode::OK);
    for question in [
        "How many cards can I add?",
        "Why add several cards?",
        "How do I remove a card?",
        "Does adding a card cost anything?",
        "How do I keep my money safe?",
        "How do I contact support?",
        "How do I sign up and sign in?",
        "What if I forget my password?",
        "How do I add a card?",
        "up to 7 cards",
        "Card adding history",
        "Contact support",
        "Payment security",
        "Forgot password",
    ] {
        assert!(en.contains(question), "{question}");
    }
    // Every code is listed and linked, in the page's language.
    for entry in &CATALOGUE {
        assert!(en.contains(&format!("/help/errors/{}?lang=en", entry.code.as_str())));
        assert!(zh.contains(&format!("/help/errors/{}?lang=zh", entry.code.as_str())));
    }
    // The English page says nothing in Chinese but the language switch.
    let without_switch = en.replace("中文", "");
    assert!(!has_han(&without_switch));
}

async fn unknown_codes_get_an_escaped_page_and_every_doc_url_resolves(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let (status, content_type, html) = page(
        &server,
        "/help/errors/%3Cscript%3Ealert(1)%3C%2Fscript%3E?lang=en",
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(content_type.starts_with("text/html"));
    assert!(html.contains("No such error code"));
    assert!(!html.contains("<script>"));
    // An error response's doc_url leads to its page.
    let user = server.user().await;
    let (status, body) = server
        .post(
            "/v1/cards",
            &user.token,
            serde_json::json!({"number": "4242424242424241", "holder_name": "张三"}),
        )
        .await;
    let error = assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "incorrect_number",
    );
    let doc_url = error["doc_url"].as_str().unwrap();
    let (status, _, html) = page(&server, doc_url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("卡号最后一位是由前面各位算出的校验位"));
    // So does every other code's: the doc_url its body carries (made the
    // way every error response's is) opens the page of that code.
    for entry in &CATALOGUE {
        let code = entry.code.as_str();
        let body = error_body(&DomainError::new(entry.code), Lang::En, "trace_doc_url");
        let doc_url = body["error"]["doc_url"].as_str().unwrap();
        let (status, content_type, html) = page(&server, doc_url, &[]).await;
        assert_eq!(status, StatusCode::OK, "{code}: {doc_url}");
        assert!(content_type.starts_with("text/html"), "{code}");
        assert!(
            html.contains(&format!(
                "<title>{} - Tessera</title>",
                escape(entry.message.get(Lang::ZhCn))
            )),
            "{code}: {doc_url} is not its page"
        );
    }
    // HTML pages are not API: a POST is still a catalogue error.
    let (status, _, body) = server.call(Method::POST, "/help", None, None, &[]).await;
    assert_error(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
}

on_both_backends!(
    every_error_code_has_a_page_in_both_languages,
    the_language_follows_the_query_then_accept_language,
    the_faq_answers_the_questions_people_ask,
    unknown_codes_get_an_escaped_page_and_every_doc_url_resolves,
);
