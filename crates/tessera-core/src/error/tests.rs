use super::*;

fn has_han(text: &str) -> bool {
    text.chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c))
}

#[test]
fn catalogue_is_in_enum_order_and_complete() {
    for (index, entry) in CATALOGUE.iter().enumerate() {
        assert_eq!(entry.code as usize, index, "{} is out of order", entry.code);
    }
    let mut codes: Vec<&str> = ErrorCode::all().map(ErrorCode::as_str).collect();
    let count = codes.len();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), count, "two codes share a name");
}

/// The variant's name in snake_case, as the API spells codes.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[test]
fn every_row_names_its_code_once_in_snake_case() {
    let mut seen = std::collections::HashSet::new();
    for entry in &CATALOGUE {
        let name = entry.code_str;
        assert!(seen.insert(name), "{name} names two rows");
        let is_snake = name.starts_with(|c: char| c.is_ascii_lowercase())
            && !name.ends_with('_')
            && !name.contains("__")
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        assert!(is_snake, "{name} is not snake_case");
        // The row's string is its variant's name: a row pasted from another
        // keeps the other's string and fails here.
        assert_eq!(name, snake_case(&format!("{:?}", entry.code)));
        assert_eq!(entry.code.as_str(), name);
    }
}

#[test]
fn every_code_has_both_languages_and_a_remedy() {
    for entry in &CATALOGUE {
        for text in [entry.message, entry.remedy, entry.why] {
            assert!(!text.zh.trim().is_empty(), "{} lacks zh", entry.code);
            assert!(!text.en.trim().is_empty(), "{} lacks en", entry.code);
            assert!(
                has_han(text.zh),
                "{} zh text has no Chinese: {}",
                entry.code,
                text.zh
            );
            assert!(
                !has_han(text.en),
                "{} en text has Chinese: {}",
                entry.code,
                text.en
            );
            assert!(
                !text.en.contains('，') && !text.en.contains('：'),
                "{} en text has full-width punctuation",
                entry.code
            );
        }
    }
    for decline in DeclineCode::all() {
        for text in [decline.message(), decline.remedy()] {
            assert!(
                has_han(text.zh) && !has_han(text.en),
                "{}",
                decline.as_str()
            );
        }
    }
}

#[test]
fn every_code_says_why_it_happens_in_its_own_words() {
    for entry in &CATALOGUE {
        let why = entry.why;
        for lang in [Lang::ZhCn, Lang::En] {
            let text = why.get(lang);
            assert_ne!(
                text,
                entry.message.get(lang),
                "{} why = message",
                entry.code
            );
            assert_ne!(text, entry.remedy.get(lang), "{} why = remedy", entry.code);
        }
        assert!(
            why.zh.chars().count() >= 10,
            "{} zh why is thin",
            entry.code
        );
        assert!(
            why.en.split(' ').count() >= 8,
            "{} en why is thin",
            entry.code
        );
    }
}

#[test]
fn codes_round_trip_through_their_names() {
    for code in ErrorCode::all() {
        assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
    }
    assert_eq!(ErrorCode::parse("no_such_code"), None);
}

#[test]
fn statuses_follow_the_design() {
    assert_eq!(ErrorCode::CardDeclined.http_status(), 402);
    assert_eq!(ErrorCode::CardAlreadyBound.http_status(), 409);
    assert_eq!(ErrorCode::InvalidRequest.http_status(), 400);
    assert_eq!(ErrorCode::Maintenance.http_status(), 503);
    assert!(ErrorCode::IssuerUnavailable.retryable());
    assert!(!ErrorCode::IncorrectNumber.retryable());
    for code in ErrorCode::all() {
        let status = code.http_status();
        assert!((400..600).contains(&status), "{code}: {status}");
    }
}

#[test]
fn not_supported_message_names_the_reason() {
    let error = DomainError::not_supported(NotSupported {
        reason: NotSupportedReason::CardType,
        subject_zh: "预付费卡".into(),
        subject_en: "Prepaid cards".into(),
    });
    assert_eq!(error.message(Lang::ZhCn), "预付费卡暂不支持绑定");
    assert_eq!(error.message(Lang::En), "Prepaid cards can't be added");
    assert_eq!(error.param.as_deref(), Some("number"));
}

#[test]
fn attempts_left_is_spoken() {
    let error = DomainError::new(ErrorCode::OtpIncorrect).with_attempts_left(2);
    assert!(error.message(Lang::ZhCn).contains("还可尝试2次"));
    assert!(error.message(Lang::En).ends_with("2 attempts left"));
}

#[test]
fn a_detail_replaces_the_json_message_and_remedy_and_stays_small() {
    let error = DomainError::new(ErrorCode::InvalidRequest)
        .with_param("since")
        .with_detail("since 的值无法识别", "since was not understood");
    assert_eq!(error.message(Lang::ZhCn), "since 的值无法识别");
    assert_eq!(error.message(Lang::En), "since was not understood");
    for lang in [Lang::ZhCn, Lang::En] {
        assert!(
            !error.remedy(lang).contains("JSON"),
            "{}",
            error.remedy(lang)
        );
    }
    // clippy's result_large_err bound: what an error carries is boxed.
    assert!(std::mem::size_of::<DomainError>() < 128);
}

#[test]
fn accept_language_picks_by_quality() {
    assert_eq!(Lang::from_accept_language(None), Lang::ZhCn);
    assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
    assert_eq!(
        Lang::from_accept_language(Some("fr, en;q=0.5, zh-CN;q=0.8")),
        Lang::ZhCn
    );
    assert_eq!(Lang::from_accept_language(Some("de")), Lang::ZhCn);
}

#[test]
fn each_limit_says_which_it_is_and_when_it_lifts_in_both_languages() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z")
        .unwrap()
        .to_utc();
    let until = now + chrono::TimeDelta::seconds(3 * 3600 + 4 * 60 + 30);
    for limit in AttemptLimit::ALL {
        assert_eq!(AttemptLimit::parse(limit.as_str()), Some(limit));
        let lifts = (limit != AttemptLimit::OtpAttempts).then_some((until, now));
        let error = DomainError::limit_hit(limit, 7, lifts);
        assert_eq!(error.code, ErrorCode::TooManyAttempts);
        let zh = [error.message(Lang::ZhCn), error.remedy(Lang::ZhCn)];
        let en = [error.message(Lang::En), error.remedy(Lang::En)];
        assert!(zh[0].contains('7') && en[0].contains('7'), "{zh:?} {en:?}");
        for text in &zh {
            assert!(has_han(text), "{text}");
            // New Chinese text is written with full-width punctuation.
            assert!(!text.contains([',', ';', ':', '(', ')']), "{text}");
        }
        for text in &en {
            assert!(!has_han(text), "{text}");
        }
        if limit == AttemptLimit::OtpAttempts {
            assert_eq!(error.retry_after_secs, None);
            assert!(en[1].contains("add the card again"));
        } else {
            // 3 h 4 min 30 s, rounded up to the minute.
            assert_eq!(error.retry_after_secs, Some(3 * 3600 + 4 * 60 + 30));
            assert_eq!(error.limit.as_ref().unwrap().until, Some(until));
            assert!(zh[1].contains("3小时5分钟后"), "{}", zh[1]);
            assert!(en[1].contains("in 3 hours 5 minutes"), "{}", en[1]);
            assert!(zh[0].contains("24小时") && en[0].contains("24 hours"));
        }
    }
    assert_eq!(wait_zh(59), "1分钟");
    assert_eq!(wait_en(3600), "1 hour");
    assert_eq!(wait_en(86_400), "24 hours");
    assert_eq!(wait_en(61), "2 minutes");
}

/// Half-width punctuation in a Chinese text, with what surrounds it; digits
/// either side of `:` or `,` (a time, a number) are allowed.
fn half_width_in(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().find_map(|(i, &c)| {
        let between_digits = i > 0
            && chars.get(i + 1).is_some_and(char::is_ascii_digit)
            && chars[i - 1].is_ascii_digit();
        let found =
            matches!(c, ',' | ';' | '?' | '!' | '(' | ')' | '"') || (c == ':' && !between_digits);
        (found && !(c == ',' && between_digits)).then(|| {
            chars[i.saturating_sub(6)..(i + 6).min(chars.len())]
                .iter()
                .collect()
        })
    })
}

#[test]
fn chinese_texts_use_full_width_punctuation() {
    let mut texts: Vec<(String, &str)> = Vec::new();
    for entry in &CATALOGUE {
        for text in [entry.message, entry.remedy, entry.why] {
            texts.push((entry.code.to_string(), text.zh));
        }
    }
    for decline in DeclineCode::all() {
        for text in [decline.message(), decline.remedy()] {
            texts.push((decline.as_str().to_owned(), text.zh));
        }
    }
    for (code, text) in texts {
        assert_eq!(half_width_in(text), None, "{code}: {text}");
    }
    // The check sees what it looks for.
    assert!(half_width_in("卡号有误,请核对").is_some());
    assert!(half_width_in("请在 12:30 后重试").is_none());
}

#[test]
fn a_field_left_empty_is_said_to_be_missing_not_wrong() {
    let error = DomainError::missing(ErrorCode::InvalidExpiryMonth, "expiry_month");
    assert_eq!(error.code, ErrorCode::InvalidExpiryMonth);
    assert_eq!(error.message(Lang::ZhCn), "还没有填写有效期的月份");
    assert!(error.remedy(Lang::ZhCn).contains("信用卡需要填写有效期"));
    assert_eq!(error.message(Lang::En), "The expiry month is missing");
    // A wrong month keeps the catalogue's words.
    let wrong = DomainError::new(ErrorCode::InvalidExpiryMonth).with_param("expiry_month");
    assert_eq!(wrong.message(Lang::ZhCn), "有效期的月份不对");
}

#[test]
fn a_lock_says_how_long_it_lasts() {
    let until = chrono::Utc::now() + chrono::Duration::minutes(12);
    let sign_in = DomainError::locked_out(crate::error::Lockout::SignIn)
        .with_locked_until(until)
        .with_retry_after(720);
    assert!(sign_in.message(Lang::ZhCn).ends_with("12分钟后自动解锁"));
    assert!(
        sign_in
            .message(Lang::En)
            .ends_with(". It unlocks in 12 minutes")
    );
    assert!(sign_in.remedy(Lang::ZhCn).contains("忘记密码"));
    let payment = DomainError::new(ErrorCode::PaymentPasswordLocked)
        .with_locked_until(until)
        .with_retry_after(720)
        .with_attempts_left(0);
    assert_eq!(
        payment.message(Lang::ZhCn),
        "支付密码已被锁定，12分钟后自动解锁"
    );
}

#[test]
fn a_refusal_to_come_back_later_says_when() {
    let limited = DomainError::new(ErrorCode::RateLimited).with_retry_after(30);
    assert_eq!(limited.remedy(Lang::ZhCn), "请过30秒再试。");
    assert_eq!(limited.remedy(Lang::En), "Try again in 30 seconds.");
    let shed = DomainError::new(ErrorCode::Overloaded).with_retry_after(1);
    assert!(
        shed.remedy(Lang::ZhCn)
            .starts_with("这不是你的问题，请过1秒再试。")
    );
    let soon = DomainError::new(ErrorCode::OtpResendTooSoon).with_retry_after(125);
    assert!(
        soon.remedy(Lang::ZhCn)
            .contains("请过3分钟再重新发送验证码")
    );
}
