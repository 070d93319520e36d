//! A payment's verdicts, stories and next steps.

use super::*;
use crate::risk::RiskReason;

fn suspended_by(actor: &str, reason: Option<&str>) -> TokenFacts {
    TokenFacts {
        status: "suspended".to_owned(),
        suspended_by: vec![actor.to_owned()],
        events: vec![TokenEventFacts {
            kind: "suspend".to_owned(),
            actor: actor.to_owned(),
            reason: reason.map(str::to_owned),
            at_ms: 1_700_000_000_000 - 3 * 60_000,
        }],
        card_status: Some("active".to_owned()),
        card_reissued_at_ms: None,
    }
}

fn all_texts(diagnosis: &Diagnosis) -> Vec<&Bilingual> {
    let mut texts = vec![
        &diagnosis.headline,
        &diagnosis.story,
        &diagnosis.device,
        &diagnosis.next_step_person,
        &diagnosis.next_step_support,
    ];
    for explained in &diagnosis.attempts {
        texts.extend([&explained.happened, &explained.message]);
    }
    texts
}

fn check_languages(diagnosis: &Diagnosis, what: &str) {
    for text in all_texts(diagnosis) {
        assert!(has_han(&text.zh), "{what}: zh {:?}", text.zh);
        assert!(!text.en.trim().is_empty(), "{what}: en empty");
        assert!(!has_han(&text.en), "{what}: en {:?}", text.en);
        assert_no_empty_brackets(text, what);
    }
}

#[test]
fn an_approved_payment_needs_nothing() {
    let diagnosis = pay_support(&[paid("p1", 0)], "p1");
    assert_eq!(diagnosis.verdict, VerdictKind::Approved);
    assert_eq!(diagnosis.verdict.cause(), None);
    assert_eq!(diagnosis.payment_id.as_deref(), Some("p1"));
    assert_eq!(diagnosis.trace_id.as_deref(), Some("req_p1"));
    assert_eq!(
        diagnosis.story.en,
        "This person paid 12.00 CNY at Luckin Coffee, approved."
    );
    assert!(diagnosis.next_step_person.en.starts_with("Nothing to do"));
    assert!(diagnosis.next_step_support.en.contains("nothing to do"));
    // Found by its trace id too.
    assert_eq!(
        pay_support(&[paid("p1", 0)], "req_p1")
            .payment_id
            .as_deref(),
        Some("p1")
    );
    assert!(diagnose_payment(&[paid("p1", 0)], "p9", None, Audience::Support).is_none());
}

#[test]
fn a_suspended_token_says_who_suspended_it() {
    let payment = declined("p1", 0, ErrorCode::TokenSuspended, |_| {});
    let mine = pay_with_token(
        std::slice::from_ref(&payment),
        "p1",
        &suspended_by("cardholder", Some("lost phone")),
    );
    assert_eq!(mine.verdict, VerdictKind::TokenSuspended);
    assert_eq!(mine.verdict.cause(), Some(Cause::Security));
    assert!(
        mine.story
            .en
            .contains("The card had been suspended by the cardholder (reason: lost phone), 3 minutes before this payment."),
        "{}",
        mine.story.en
    );
    assert!(mine.story.zh.contains("被持卡人本人暂停"));
    assert!(mine.next_step_person.en.contains("You suspended this card"));
    assert!(mine.next_step_support.en.contains("only they can resume"));

    let bank = pay_with_token(
        std::slice::from_ref(&payment),
        "p1",
        &suspended_by("issuer", None),
    );
    assert!(
        bank.next_step_person
            .en
            .starts_with("Agricultural Bank of China suspended")
    );
    assert!(bank.next_step_support.en.contains("cannot lift"));

    let wallet = pay_with_token(
        std::slice::from_ref(&payment),
        "p1",
        &suspended_by("wallet", None),
    );
    assert!(wallet.next_step_person.en.contains("the wallet suspended"));
    assert!(
        wallet
            .next_step_support
            .en
            .starts_with("The wallet suspended")
    );
    check_languages(&wallet, "suspended");
}

#[test]
fn a_removed_an_expired_and_a_replaced_card_each_say_so() {
    let unbound = pay_support(&[declined("p1", 0, ErrorCode::CardUnbound, |_| {})], "p1");
    assert_eq!(unbound.verdict, VerdictKind::CardUnbound);
    assert!(unbound.next_step_person.en.contains("add it again"));
    let closed = pay_with_token(
        &[declined("p1", 0, ErrorCode::CardUnbound, |_| {})],
        "p1",
        &TokenFacts {
            card_status: Some("closed".to_owned()),
            ..TokenFacts::default()
        },
    );
    assert!(closed.next_step_support.en.contains("closed the card"));

    let expired = pay_support(&[declined("p1", 0, ErrorCode::TokenExpired, |_| {})], "p1");
    assert_eq!(expired.verdict, VerdictKind::TokenExpired);
    assert!(expired.next_step_person.en.contains("expired"));

    let replaced = pay_support(
        &[declined("p1", 0, ErrorCode::CardDeclined, |p| {
            p.decline_code = Some(DeclineCode::CardReissued)
        })],
        "p1",
    );
    assert_eq!(replaced.verdict, VerdictKind::CardReissued);
    assert!(replaced.next_step_person.en.contains("new card"));
    assert!(replaced.next_step_support.en.contains("replaced the card"));
    for diagnosis in [&unbound, &closed, &expired, &replaced] {
        check_languages(diagnosis, diagnosis.verdict.as_str());
    }
}

#[test]
fn keys_from_before_a_renewal_are_told_as_such() {
    let renewed = TokenFacts {
        status: "active".to_owned(),
        suspended_by: Vec::new(),
        events: vec![TokenEventFacts {
            kind: "renewed".to_owned(),
            actor: "wallet".to_owned(),
            reason: Some("atc".to_owned()),
            at_ms: 1_700_000_000_000 - 3 * 60_000,
        }],
        card_status: Some("active".to_owned()),
        card_reissued_at_ms: None,
    };
    let payment = declined("p1", 0, ErrorCode::CryptogramInvalid, |p| {
        p.cryptogram_result = "invalid".into()
    });
    let told = pay_with_token(std::slice::from_ref(&payment), "p1", &renewed);
    assert_eq!(told.verdict, VerdictKind::CryptogramInvalid);
    assert!(
        told.story.en.contains(
            "The card had been renewed (new keys: the ones from before pay no more) by the wallet (reason: atc), 3 minutes before this payment."
        ),
        "{}",
        told.story.en
    );
    assert!(told.story.zh.contains("续期"), "{}", told.story.zh);
    check_languages(&told, "renewed");
    // Without a renewal the story says nothing of one.
    let plain = pay_support(std::slice::from_ref(&payment), "p1");
    assert!(!plain.story.en.contains("renewed"), "{}", plain.story.en);
}

#[test]
fn cryptogram_atc_and_domain_failures_are_told_apart() {
    let invalid = pay_support(
        &[declined("p1", 0, ErrorCode::CryptogramInvalid, |p| {
            p.cryptogram_result = "invalid".into()
        })],
        "p1",
    );
    assert_eq!(invalid.verdict, VerdictKind::CryptogramInvalid);
    assert!(invalid.next_step_support.en.contains("ARQC failed"));
    let early = pay_support(
        &[declined("p1", 0, ErrorCode::CryptogramInvalid, |p| {
            p.cryptogram_result = "not_checked".into()
        })],
        "p1",
    );
    assert!(early.next_step_support.en.contains("before the cryptogram"));

    let replayed = pay_support(
        &[declined("p1", 0, ErrorCode::AtcReplayed, |p| {
            p.atc = Some(0x2a)
        })],
        "p1",
    );
    assert_eq!(replayed.verdict, VerdictKind::AtcReplayed);
    assert!(replayed.next_step_support.en.contains("ATC 002A"));
    assert!(replayed.next_step_person.en.contains("don't pay twice"));

    let merchant = pay_support(
        &[declined("p1", 0, ErrorCode::DomainMismatch, |p| {
            p.mismatch = Some("merchant_id".into())
        })],
        "p1",
    );
    assert_eq!(merchant.verdict, VerdictKind::DomainMismatch);
    assert!(
        merchant
            .next_step_person
            .en
            .contains("at the merchant it was made for")
    );
    let channel = pay_support(
        &[declined("p1", 0, ErrorCode::DomainMismatch, |p| {
            p.mismatch = Some("channel".into())
        })],
        "p1",
    );
    assert!(channel.next_step_person.en.contains("tap to pay (NFC)"));
    assert_ne!(merchant.next_step_support, channel.next_step_support);
    for diagnosis in [&invalid, &early, &replayed, &merchant, &channel] {
        check_languages(diagnosis, diagnosis.verdict.as_str());
    }
}

#[test]
fn risk_confirmation_and_frozen_wallets_say_why() {
    let risky = pay_support(
        &[declined("p1", 0, ErrorCode::RiskDeclined, |p| {
            p.risk_score = Some(85);
            p.risk_reasons = vec![RiskReason::UnusualAmount, RiskReason::NewDevice];
        })],
        "p1",
    );
    assert_eq!(risky.verdict, VerdictKind::RiskDeclined);
    let unusual = RiskReason::UnusualAmount.message();
    assert!(risky.next_step_person.zh.contains(unusual.zh));
    assert!(risky.next_step_support.zh.contains(unusual.zh));
    assert!(
        risky
            .next_step_support
            .en
            .contains("(score 85): this amount is far above what you usually pay; this card was added on a phone new to your wallet")
    );

    let confirm = pay_support(
        &[declined("p1", 0, ErrorCode::AuthenticationRequired, |_| {})],
        "p1",
    );
    assert_eq!(confirm.verdict, VerdictKind::ConfirmationRequired);
    assert!(
        confirm
            .next_step_person
            .en
            .contains("needs your confirmation")
    );

    let frozen = pay_support(&[declined("p1", 0, ErrorCode::AccountFrozen, |_| {})], "p1");
    assert_eq!(frozen.verdict, VerdictKind::AccountFrozen);
    assert_eq!(frozen.verdict.cause(), Some(Cause::Account));
    assert!(frozen.next_step_person.en.contains("Your wallet is frozen"));
    for diagnosis in [&risky, &confirm, &frozen] {
        check_languages(diagnosis, diagnosis.verdict.as_str());
    }
}

#[test]
fn every_decline_code_has_its_own_advice() {
    let mut persons = std::collections::BTreeSet::new();
    let mut supports = std::collections::BTreeSet::new();
    for code in DeclineCode::all() {
        let diagnosis = pay_support(
            &[declined("p1", 0, ErrorCode::CardDeclined, |p| {
                p.decline_code = Some(code)
            })],
            "p1",
        );
        check_languages(&diagnosis, code.as_str());
        if code == DeclineCode::CardReissued {
            assert_eq!(diagnosis.verdict, VerdictKind::CardReissued);
            continue;
        }
        assert_eq!(diagnosis.verdict, VerdictKind::DeclinedByIssuer, "{code:?}");
        assert!(
            diagnosis.next_step_support.en.contains(code.as_str()),
            "{code:?}"
        );
        persons.insert(diagnosis.next_step_person.en.clone());
        supports.insert(diagnosis.next_step_support.en.clone());
    }
    // Lost and stolen share their advice; every other code has its own.
    assert_eq!(persons.len(), DeclineCode::all().len() - 2);
    assert_eq!(supports.len(), DeclineCode::all().len() - 1);
    let funds = pay_support(
        &[declined("p1", 0, ErrorCode::CardDeclined, |p| {
            p.decline_code = Some(DeclineCode::InsufficientFunds)
        })],
        "p1",
    );
    assert!(
        funds
            .next_step_person
            .en
            .contains("Put money into the account")
    );
}

#[test]
fn an_unanswering_bank_charged_nothing() {
    let diagnosis = pay_support(
        &[declined("p1", 0, ErrorCode::IssuerUnavailable, |_| {})],
        "p1",
    );
    assert_eq!(diagnosis.verdict, VerdictKind::NetworkOrIssuer);
    assert!(
        diagnosis
            .next_step_person
            .en
            .contains("nothing was charged")
    );
    assert!(
        diagnosis
            .next_step_support
            .en
            .contains("ATC was given back")
    );
    check_languages(&diagnosis, "issuer_unavailable");
}

#[test]
fn a_decline_followed_by_an_approval_on_the_same_card_is_solved() {
    let payments = [
        paid("p0", 0),
        declined("p1", 1, ErrorCode::CardDeclined, |p| {
            p.decline_code = Some(DeclineCode::InsufficientFunds)
        }),
        // Another card's payment in between is not the same card.
        with_payment(declined("p2", 2, ErrorCode::TokenExpired, |_| {}), |p| {
            p.token_ref = "tok_2".into()
        }),
        paid("p3", 4),
    ];
    let diagnosis = pay_support(&payments, "p1");
    assert_eq!(diagnosis.verdict, VerdictKind::DeclinedByIssuer);
    assert_eq!(diagnosis.resolved_by.as_deref(), Some("req_p3"));
    assert!(
        diagnosis.story.en.contains("3 minutes later, this person paid 12.00 CNY at Luckin Coffee with the same card, approved."),
        "{}",
        diagnosis.story.en
    );
    assert!(
        diagnosis.story.en.starts_with(
            "This person paid 12.00 CNY at Luckin Coffee, approved, then tried to pay"
        )
    );
    assert!(diagnosis.next_step_support.en.starts_with("Nothing to do"));
    assert!(diagnosis.next_step_support.zh.starts_with("无需处理"));
    assert!(diagnosis.next_step_person.en.starts_with("Nothing to do"));
    assert_eq!(diagnosis.attempts.len(), 4);

    // Still failing afterwards: the story says so, the problem stays open.
    let failing = [
        declined("p1", 1, ErrorCode::CardDeclined, |_| {}),
        declined("p2", 2, ErrorCode::CardDeclined, |_| {}),
    ];
    let open = pay_support(&failing, "p1");
    assert_eq!(open.resolved_by, None);
    assert!(open.story.en.ends_with(
        "Afterwards this person tried to pay with the same card once more, without success."
    ));
    assert!(!open.next_step_support.en.starts_with("Nothing to do"));
}
