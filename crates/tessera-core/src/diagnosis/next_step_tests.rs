//! Next steps that fit their case, and stories that see what came next.

use super::*;

fn bound(trace: &str, ms: i64) -> AttemptFacts {
    with(failed(trace, 0, ErrorCode::InternalError), |a| {
        a.ending = Ending::Bound;
        a.at_ms += ms;
    })
}

#[test]
fn a_retry_that_bound_the_card_solves_the_failure() {
    let attempts = [
        with(failed("t1", 0, ErrorCode::IssuerUnavailable), |a| {
            a.issuer_response = Some("unavailable".into())
        }),
        bound("t2", 300),
    ];
    let diagnosis = diagnose(
        &attempts,
        Some("t1"),
        Audience::Support,
        &Circumstances::default(),
    );
    assert_eq!(diagnosis.verdict, VerdictKind::NetworkOrIssuer);
    assert_eq!(diagnosis.resolved_by.as_deref(), Some("t2"));
    assert!(
        diagnosis
            .story
            .en
            .ends_with("0.3 s later, this person tried the same card again and it was bound."),
        "{}",
        diagnosis.story.en
    );
    assert!(
        diagnosis
            .story
            .zh
            .ends_with("0.3秒后，此用户用同一张卡重试，绑定成功。")
    );
    assert!(diagnosis.next_step_support.en.starts_with("Nothing to do"));
    assert!(diagnosis.next_step_support.en.contains("t2"));
    assert!(diagnosis.next_step_person.en.starts_with("Nothing to do"));

    // Another card bound later does not solve this one.
    let other = with(bound("t2", 300), |a| {
        a.card.masked_pan = Some("622848*********9999".into());
        a.card.last4 = Some("9999".into());
    });
    let open = diagnose(
        &[attempts[0].clone(), other],
        Some("t1"),
        Audience::Support,
        &Circumstances::default(),
    );
    assert_eq!(open.resolved_by, None);
    assert!(!open.next_step_support.en.starts_with("Nothing to do"));

    // Failing again afterwards is told, and stays open.
    let again = diagnose(
        &[
            attempts[0].clone(),
            with(failed("t3", 1, ErrorCode::IssuerUnavailable), |a| {
                a.issuer_response = Some("unavailable".into())
            }),
        ],
        Some("t1"),
        Audience::Support,
        &Circumstances::default(),
    );
    assert!(
        again.story.en.ends_with(
            "Afterwards this person tried the same card once more, still without success."
        )
    );
    assert_eq!(again.resolved_by, None);
}

#[test]
fn a_wrong_sms_code_gets_advice_about_the_code() {
    let attempt = with(failed("t1", 0, ErrorCode::OtpIncorrect), |a| {
        a.step = Step::Verify;
        a.param = Some("otp".into());
        a.reason = Some(format!("{ATTEMPTS_LEFT}2"));
        a.issuer_response = Some(OTP_CHECKED.into());
    });
    let diagnosis = support(&[attempt]);
    assert_eq!(diagnosis.verdict, VerdictKind::InputMistake);
    let (person, help) = (&diagnosis.next_step_person, &diagnosis.next_step_support);
    for text in [person, help] {
        assert!(!text.zh.contains("前6位") && !text.en.contains("first 6"));
        assert!(text.en.contains("newest"), "{}", text.en);
        assert!(text.zh.contains("最新一条短信"));
    }
    assert!(person.en.contains("tried 2 more times"));
    assert!(person.zh.contains("还能再输2次"));
    assert!(help.en.contains("2 tries are left"));
    assert!(help.en.contains("new code"));
    assert!(help.en.contains("SMS code was wrong"));
}

#[test]
fn a_malformed_number_shows_its_ends_or_no_brackets() {
    let kept = with(failed("t1", 0, ErrorCode::IncorrectNumber), |a| {
        a.param = Some("number".into());
        a.card = CardFacts {
            masked_pan: Some("622848********0012".into()),
            last4: Some("0012".into()),
            ..CardFacts::default()
        };
    });
    let diagnosis = support(&[kept]);
    assert!(
        diagnosis
            .next_step_support
            .zh
            .contains("请核对卡号前6位和后4位（622848********0012）")
    );
    let short = with(failed("t1", 0, ErrorCode::InvalidNumber), |a| {
        a.param = Some("number".into());
        a.card = CardFacts::default();
    });
    let diagnosis = support(&[short]);
    assert_no_empty_brackets(&diagnosis.next_step_support, "short number");
    assert!(diagnosis.next_step_support.en.contains("digit by digit"));
}

#[test]
fn a_bank_that_answered_is_not_the_persons_network() {
    for (response, latency, says) in [
        (
            "unavailable",
            120,
            "answered after 0.1 s that it could not serve",
        ),
        (
            ISSUER_TIMEOUT,
            10_000,
            "had no answer after waiting 10.0 s (a timeout)",
        ),
    ] {
        let attempt = with(failed("t1", 0, ErrorCode::IssuerUnavailable), |a| {
            a.issuer_response = Some(response.into());
            a.latency_ms = latency;
            a.device = xiaomi("3g");
        });
        let help = support(&[attempt]).next_step_support;
        assert!(help.en.contains(says), "{}", help.en);
        assert!(help.en.contains("not their network"));
        assert!(!help.zh.contains("多半是用户的网络问题"));
        assert!(help.zh.contains("不是用户的网络问题"));
    }
}

#[test]
fn phone_mismatch_says_which_number_was_compared() {
    let typed = with(failed("t1", 0, ErrorCode::PhoneMismatch), |a| {
        a.reason = Some(PHONE_TYPED.into());
        a.issuer_response = Some("refused:phone_mismatch".into());
    });
    let help = support(&[typed]).next_step_support;
    assert!(help.en.contains("the bank phone the person typed"));
    assert!(help.zh.contains("自己填写的银行预留手机号"));
    let account = with(failed("t1", 0, ErrorCode::PhoneMismatch), |a| {
        a.reason = Some(PHONE_OF_ACCOUNT.into());
        a.issuer_response = Some("refused:phone_mismatch".into());
    });
    let help = support(&[account]).next_step_support;
    assert!(help.en.contains("the wallet account's phone was compared"));
    assert!(help.zh.contains("比对的是钱包账户的手机号"));
}

#[test]
fn the_wallets_own_name_check_does_not_blame_the_banks_old_id() {
    let ours = support(&[with(failed("t1", 0, ErrorCode::NameMismatch), |a| {
        a.param = Some("holder_name".into())
    })]);
    assert_eq!(ours.verdict, VerdictKind::RealName);
    assert!(!ours.next_step_support.en.contains("15-digit"));
    assert!(!ours.next_step_support.zh.contains("15位"));
    assert!(
        ours.next_step_support
            .en
            .contains("before the bank was asked")
    );
    let banks = support(&[with(failed("t1", 0, ErrorCode::NameMismatch), |a| {
        a.issuer_response = Some("refused:name_mismatch".into())
    })]);
    assert!(banks.next_step_support.en.contains("15-digit ID"));
}

#[test]
fn a_bank_decline_gets_the_advice_of_its_code() {
    let funds = support(&[with(failed("t1", 0, ErrorCode::CardDeclined), |a| {
        a.reason = Some("online_payment_disabled".into())
    })]);
    assert!(
        funds
            .next_step_person
            .en
            .contains("Turn on online (quick) payments")
    );
}
