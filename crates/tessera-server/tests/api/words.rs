//! Every word a person reads, read by a test: the error catalogue (each
//! code in both languages, and every text an error puts in its place), the
//! web catalogue (`src/web/words.rs` and `src/web/words/*.rs`, parsed from
//! the source, so that words added later are read too), and every page of
//! the help center and the wallet's sign-in and sign-up pages, rendered by
//! a real server. A text fails on
//! - half-width `,:;()?"` beside a Chinese character in Chinese text;
//! - a developer word in a text meant for people (`DEVELOPER_WORDS`, and
//!   any snake_case error code);
//! - a placeholder left unfilled (`{...}`, `{{`, `%s`).
//!
//! The help center's page for developers and the support console are
//! exempt from the developer-word rule: they speak to integrators and
//! support staff, for whom codes, HTTP statuses and the API are the point.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use tessera_core::error::{
    AttemptLimit, CATALOGUE, DeclineCode, DomainError, ErrorCode, Lang, Lockout, NotSupported,
    NotSupportedReason,
};
use tessera_core::payment_password::TooSimple;
use tessera_core::risk::RiskReason;
use tessera_core::token::lifecycle::Suspender;

use crate::{Backend, TestServer};

/// Words that mean nothing to a person using the wallet. Matched without
/// regard to case, so `openapi` also finds `OpenAPI`.
const DEVELOPER_WORDS: &[&str] = &[
    "幂等",
    "json",
    "http",
    "openapi",
    "idempotency",
    "param",
    "max_length",
    "endpoint",
    "api",
    "trace id",
    "null",
];

/// What is wrong with one text, or nothing.
fn defects(text: &str, lang: Lang, for_people: bool) -> Vec<String> {
    let mut found = Vec::new();
    if lang == Lang::ZhCn
        && let Some(at) = half_width_beside_chinese(text)
    {
        found.push(format!("half-width punctuation beside Chinese: …{at}…"));
    }
    if for_people {
        found.extend(
            developer_words(text)
                .into_iter()
                .map(|w| format!("developer word {w:?}")),
        );
    }
    if let Some(at) = placeholder(text) {
        found.push(format!("unfilled placeholder {at:?}"));
    }
    found
}

fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}')
        || matches!(c, '“' | '”' | '‘' | '’' | '…' | '·')
}

/// Half-width `,:;()?"` (or `!`) with a Chinese character on either side,
/// spaces skipped; `12:30` and `1,000` between digits stay allowed.
fn half_width_beside_chinese(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let neighbour = |from: usize, step: isize| -> Option<char> {
        let mut i = from as isize + step;
        while i >= 0 && (i as usize) < chars.len() {
            let c = chars[i as usize];
            if c != ' ' {
                return Some(c);
            }
            i += step;
        }
        None
    };
    chars.iter().enumerate().find_map(|(i, &c)| {
        if !matches!(c, ',' | ':' | ';' | '(' | ')' | '?' | '!' | '"') {
            return None;
        }
        let before = neighbour(i, -1);
        let after = neighbour(i, 1);
        let beside = before.is_some_and(is_chinese) || after.is_some_and(is_chinese);
        beside.then(|| {
            chars[i.saturating_sub(8)..(i + 8).min(chars.len())]
                .iter()
                .collect()
        })
    })
}

/// The developer words and snake_case error codes in `text`, as whole
/// words (so "happens" holds no "api", and "trace identifier" no code).
fn developer_words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut found: Vec<String> = Vec::new();
    let codes = CATALOGUE
        .iter()
        .map(|e| e.code_str)
        .chain(DeclineCode::all().into_iter().map(DeclineCode::as_str))
        .chain(AttemptLimit::ALL.iter().map(|l| l.as_str()))
        .filter(|code| code.contains('_'));
    for word in DEVELOPER_WORDS.iter().copied().chain(codes) {
        if contains_word(&lower, word) {
            found.push(word.to_owned());
        }
    }
    found
}

fn contains_word(text: &str, word: &str) -> bool {
    let wordish = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        // A Chinese word has no spaces around it: any neighbour will do.
        let ascii = word.is_ascii();
        !ascii || (!before.is_some_and(wordish) && !after.is_some_and(wordish))
    })
}

/// `{name}`, `{{`, `}}` or `%s` left in a text.
fn placeholder(text: &str) -> Option<String> {
    for mark in ["{{", "}}", "%s", "%d"] {
        if text.contains(mark) {
            return Some(mark.to_owned());
        }
    }
    let open = text.find('{')?;
    let close = text[open..].find('}')?;
    Some(text[open..=open + close].to_owned())
}

/// Fails with every defect of `texts`, each named by where it came from.
fn assert_clean(texts: &[(String, Lang, String, bool)]) {
    let failures: Vec<String> = texts
        .iter()
        .flat_map(|(source, lang, text, for_people)| {
            defects(text, *lang, *for_people)
                .into_iter()
                .map(move |defect| format!("{source} ({}): {defect}\n    {text}", lang.tag()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} texts need rewording:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every text the error catalogue can answer with: each code's message,
/// remedy and why, and the texts an error's detail puts in their place.
fn catalogue_texts() -> Vec<(String, Lang, String, bool)> {
    let mut errors: Vec<(String, DomainError)> = Vec::new();
    for code in ErrorCode::all() {
        errors.push((code.as_str().to_owned(), DomainError::new(code)));
        errors.push((
            format!("{code} with attempts left"),
            DomainError::new(code).with_attempts_left(2),
        ));
    }
    for decline in DeclineCode::all() {
        errors.push((decline.as_str().to_owned(), DomainError::declined(decline)));
    }
    for reason in [
        NotSupportedReason::UnknownBin,
        NotSupportedReason::Brand,
        NotSupportedReason::CardType,
        NotSupportedReason::Country,
        NotSupportedReason::Issuer,
        NotSupportedReason::AccountClass,
    ] {
        errors.push((
            reason.as_str().to_owned(),
            DomainError::not_supported(NotSupported {
                reason,
                subject_zh: "预付费卡".to_owned(),
                subject_en: "Prepaid cards".to_owned(),
            }),
        ));
    }
    let now = chrono::Utc::now();
    let later = now + chrono::Duration::minutes(12);
    for limit in AttemptLimit::ALL {
        errors.push((
            limit.as_str().to_owned(),
            DomainError::limit_hit(limit, 5, Some((later, now))),
        ));
        errors.push((
            format!("{} without a time", limit.as_str()),
            DomainError::limit_hit(limit, 5, None),
        ));
    }
    for lockout in [Lockout::SignIn, Lockout::SmsCode] {
        errors.push((
            format!("{lockout:?} lockout"),
            DomainError::locked_out(lockout)
                .with_locked_until(later)
                .with_retry_after(720),
        ));
    }
    errors.push((
        "payment_password_locked for 12 minutes".to_owned(),
        DomainError::new(ErrorCode::PaymentPasswordLocked)
            .with_locked_until(later)
            .with_retry_after(720),
    ));
    for reason in [
        TooSimple::NotSixDigits,
        TooSimple::SameDigit,
        TooSimple::Run,
        TooSimple::Repeated,
        TooSimple::Birthday,
        TooSimple::PhoneNumber,
    ] {
        errors.push((reason.as_str().to_owned(), DomainError::too_simple(reason)));
    }
    for suspender in Suspender::ALL {
        errors.push((
            format!("suspended by {}", suspender.as_str()),
            DomainError::new(ErrorCode::TokenSuspended)
                .with_suspenders(vec![suspender.as_str().to_owned()]),
        ));
    }
    for (code, param) in [
        (ErrorCode::InvalidNumber, "number"),
        (ErrorCode::InvalidExpiryMonth, "expiry_month"),
        (ErrorCode::InvalidExpiryYear, "expiry_year"),
        (ErrorCode::InvalidCvc, "cvc"),
    ] {
        errors.push((
            format!("{param} missing"),
            DomainError::missing(code, param),
        ));
    }
    errors.push((
        "field_too_long".to_owned(),
        DomainError::new(ErrorCode::FieldTooLong)
            .with_param("holder_name")
            .with_max_length(40),
    ));
    errors.push((
        "card never added".to_owned(),
        tessera_core::token::lifecycle::never_added(),
    ));
    errors.push((
        "card closed by the bank".to_owned(),
        tessera_core::token::lifecycle::closed_by_issuer(),
    ));
    let mut texts = Vec::new();
    for (source, error) in &errors {
        for lang in [Lang::ZhCn, Lang::En] {
            texts.push((source.clone(), lang, error.message(lang), true));
            texts.push((format!("{source} remedy"), lang, error.remedy(lang), true));
        }
    }
    for entry in &CATALOGUE {
        for lang in [Lang::ZhCn, Lang::En] {
            texts.push((
                format!("{} why", entry.code_str),
                lang,
                entry.why.get(lang).to_owned(),
                true,
            ));
        }
    }
    for reason in RiskReason::ALL {
        for lang in [Lang::ZhCn, Lang::En] {
            texts.push((
                format!("risk reason {}", reason.as_str()),
                lang,
                reason.message().get(lang).to_owned(),
                true,
            ));
        }
    }
    texts
}

#[test]
fn every_catalogue_text_reads_as_a_person_writes() {
    let texts = catalogue_texts();
    // Every code, both languages, message and remedy and why at least.
    assert!(texts.len() >= CATALOGUE.len() * 6, "{}", texts.len());
    assert_clean(&texts);
}

/// One `pub const NAME: Text = t("…", "…");` of a words file.
#[derive(Debug)]
struct Word {
    name: String,
    zh: String,
    en: String,
}

/// Reads a Rust string literal at the start of `source` (after spaces):
/// its text and what follows it. Escapes as Rust reads them, a
/// backslash before a line break included.
fn string_literal(source: &str) -> Option<(String, &str)> {
    let rest = source.trim_start().strip_prefix('"')?;
    let mut text = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((text, &rest[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => text.push('\n'),
                't' => text.push('\t'),
                '\n' => {
                    // A continued line: its leading spaces are dropped.
                    let peek = chars.clone();
                    for (_, c) in peek {
                        if !c.is_whitespace() {
                            break;
                        }
                        chars.next();
                    }
                }
                other => text.push(other),
            },
            c => text.push(c),
        }
    }
    None
}

/// Every `Text` constant of a words file.
fn words_of(source: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("pub const ") {
        rest = &rest[at + "pub const ".len()..];
        let Some((name, after)) = rest.split_once(':') else {
            break;
        };
        let Some(after) = after.trim_start().strip_prefix("Text = t(") else {
            continue;
        };
        let (zh, after) = string_literal(after).expect("the Chinese text of a word");
        let after = after.trim_start().strip_prefix(',').expect("a comma");
        let (en, after) = string_literal(after).expect("the English text of a word");
        words.push(Word {
            name: name.trim().to_owned(),
            zh,
            en,
        });
        rest = after;
    }
    words
}

fn words_files() -> Vec<PathBuf> {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut files = vec![web.join("words.rs")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(web.join("words"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .collect();
    more.sort();
    files.extend(more);
    files
}

#[test]
fn every_web_word_reads_as_a_person_writes() {
    let mut texts = Vec::new();
    let mut count = 0;
    for file in words_files() {
        let source = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        // `web/words.rs` holds the support console's words (API keys,
        // trace ids and RFC 3339 times are its staff's daily work); the
        // files beside it hold the wallet's and the help center's.
        let for_people = name != "words.rs";
        for word in words_of(&source) {
            count += 1;
            let source = format!("{name} {}", word.name);
            texts.push((source.clone(), Lang::ZhCn, word.zh, for_people));
            texts.push((source, Lang::En, word.en, for_people));
        }
    }
    // The parser found the words: a file it misreads fails here.
    assert!(count > 150, "only {count} words were read");
    assert_clean(&texts);
}

/// The text a page shows, tags dropped and entities read.
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push('\n');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn page(server: &TestServer, path: &str) -> (StatusCode, String) {
    let response = server
        .client
        .get(format!("{}{path}", server.base))
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Every page of the help center and the wallet's sign-in and sign-up
/// pages, in both languages, read line by line.
async fn every_page_a_person_reads_is_clean(backend: Backend) {
    let server = TestServer::start_on(backend, |_| {}).await;
    let mut paths: Vec<(String, bool)> = vec![
        ("/help".to_owned(), true),
        ("/help/errors/no_such_code".to_owned(), true),
        ("/help/developers".to_owned(), false),
        ("/sign-in".to_owned(), true),
        ("/sign-up".to_owned(), true),
        ("/forgot-password".to_owned(), true),
    ];
    paths.extend(
        CATALOGUE
            .iter()
            .map(|e| (format!("/help/errors/{}", e.code_str), true)),
    );
    let mut texts = Vec::new();
    for (path, for_people) in &paths {
        for (lang, query) in [(Lang::ZhCn, "zh"), (Lang::En, "en")] {
            let (status, html) = page(&server, &format!("{path}?lang={query}")).await;
            assert!(
                status == StatusCode::OK || path.contains("no_such_code"),
                "{path}: {status}"
            );
            for line in visible_text(&html).lines().filter(|l| !l.trim().is_empty()) {
                texts.push((path.clone(), lang, line.trim().to_owned(), *for_people));
            }
        }
    }
    // A refusal on the sign-in page, as a wrong password gets it.
    for (lang, query) in [(Lang::ZhCn, "zh"), (Lang::En, "en")] {
        let response = server
            .client
            .post(format!("{}/sign-in?lang={query}", server.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("phone=13800138000&password=not-the-password1")
            .send()
            .await
            .unwrap();
        let html = response.text().await.unwrap();
        let wrong = match lang {
            Lang::ZhCn => "手机号或密码不正确",
            Lang::En => "The phone number or password is incorrect",
        };
        assert!(html.contains(wrong), "a wrong password is said as such");
        for line in visible_text(&html).lines().filter(|l| !l.trim().is_empty()) {
            texts.push((
                "/sign-in refused".to_owned(),
                lang,
                line.trim().to_owned(),
                true,
            ));
        }
    }
    assert_clean(&texts);
}

#[test]
fn the_checks_see_what_they_look_for() {
    let planted = [
        ("卡号有误,请核对", Lang::ZhCn, true),
        ("请输入验证码(6位)", Lang::ZhCn, true),
        ("请检查请求的JSON格式", Lang::ZhCn, true),
        ("同一个幂等键被用于不同的请求", Lang::ZhCn, true),
        ("See /openapi.json", Lang::En, true),
        ("HTTP 402", Lang::En, true),
        ("error card_already_bound", Lang::En, true),
        ("还可尝试{left}次", Lang::ZhCn, true),
        ("{{ message }}", Lang::En, true),
        ("%s attempts", Lang::En, true),
    ];
    for (text, lang, for_people) in planted {
        assert!(!defects(text, lang, for_people).is_empty(), "{text}");
    }
    for (text, lang) in [
        ("请在 12:30 后重试", Lang::ZhCn),
        ("单笔 1,000 元", Lang::ZhCn),
        ("What happens when a card is declined", Lang::En),
        ("卡号前6位和后4位（尾号0007，共2次）", Lang::ZhCn),
    ] {
        assert!(defects(text, lang, true).is_empty(), "{text}");
    }
    // The console's words may name the API; people's may not.
    assert!(defects("API 密钥", Lang::ZhCn, false).is_empty());
    assert!(!defects("API 密钥", Lang::ZhCn, true).is_empty());
    // The parser reads a continued line and an escaped quote.
    let words = words_of(
        "pub const A: Text = t(\"一\\\n        二\", \"say \\\"hi\\\"\");\npub const B: Text = t(\"三\", \"c\");",
    );
    assert_eq!(words.len(), 2);
    assert_eq!(
        (words[0].zh.as_str(), words[0].en.as_str()),
        ("一二", "say \"hi\"")
    );
}

on_both_backends!(every_page_a_person_reads_is_clean);
