//! Each rule alone, their sum, and what the thresholds decide.

use chrono::{TimeDelta, TimeZone, Utc};

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap()
}

fn ago(secs: i64) -> DateTime<Utc> {
    now() - TimeDelta::seconds(secs)
}

fn paid(amount: i64, secs_ago: i64, same_token: bool) -> RecentPayment {
    RecentPayment {
        same_token,
        approved: true,
        declined: false,
        amount,
        at: ago(secs_ago),
    }
}

fn facts(amount: i64, recent: &[RecentPayment]) -> PaymentFacts<'_> {
    PaymentFacts {
        amount,
        now: now(),
        recent,
        token_bound_at: ago(30 * 86_400),
        device_since: Some(ago(30 * 86_400)),
        wallet_since: Some(ago(30 * 86_400)),
        credentials_reset_at: None,
    }
}

#[test]
fn an_ordinary_payment_scores_nothing() {
    let recent = [paid(2_000, 86_400, true), paid(3_000, 7 * 86_400, false)];
    let assessment = assess(&RiskRules::default(), &facts(2_500, &recent));
    assert_eq!(
        assessment,
        Assessment {
            score: 0,
            reasons: vec![],
            decision: Decision::Approve
        }
    );
}

#[test]
fn each_rule_gives_its_reason() {
    let rules = RiskRules::default();
    let burst: Vec<RecentPayment> = (0..6).map(|i| paid(100, 60 * i, true)).collect();
    let other_cards: Vec<RecentPayment> = (0..21).map(|i| paid(100, 60 * i, false)).collect();
    let declines: Vec<RecentPayment> = (0..3)
        .map(|i| RecentPayment {
            approved: false,
            declined: true,
            ..paid(100, 60 * i, false)
        })
        .collect();
    let history = [
        paid(5_000, 10 * 86_400, false),
        paid(8_000, 11 * 86_400, false),
        paid(9_000, 12 * 86_400, false),
    ];
    let cases: Vec<(PaymentFacts<'_>, RiskReason)> = vec![
        (facts(100, &burst), RiskReason::TokenVelocity),
        (facts(100, &other_cards), RiskReason::PersonVelocity),
        (facts(100, &declines), RiskReason::RepeatedDeclines),
        (facts(100_000, &history), RiskReason::UnusualAmount),
        (
            PaymentFacts {
                device_since: Some(ago(3_600)),
                ..facts(100, &[])
            },
            RiskReason::NewDevice,
        ),
        (
            PaymentFacts {
                token_bound_at: ago(120),
                ..facts(100, &[])
            },
            RiskReason::CardJustBound,
        ),
        (
            PaymentFacts {
                credentials_reset_at: Some(ago(600)),
                ..facts(100, &[])
            },
            RiskReason::AfterPasswordReset,
        ),
    ];
    for (facts, reason) in cases {
        let assessment = assess(&rules, &facts);
        assert_eq!(assessment.reasons, vec![reason], "{reason:?}");
        assert!(assessment.score > 0);
        assert_eq!(RiskReason::parse(reason.as_str()), Some(reason));
    }
}

#[test]
fn the_limits_of_each_rule_hold() {
    let rules = RiskRules::default();
    // Five with the token in ten minutes is not yet many; old ones do not count.
    let five: Vec<RecentPayment> = (0..5).map(|i| paid(100, 60 * i, true)).collect();
    assert_eq!(assess(&rules, &facts(100, &five)).score, 0);
    let old: Vec<RecentPayment> = (0..9).map(|i| paid(100, 700 + 60 * i, true)).collect();
    assert!(
        !assess(&rules, &facts(100, &old))
            .reasons
            .contains(&RiskReason::TokenVelocity)
    );
    // Under the floor, or with too little history, an amount is not unusual.
    let history = [paid(100, 86_400, false); 3];
    assert_eq!(assess(&rules, &facts(49_999, &history)).score, 0);
    assert_eq!(assess(&rules, &facts(1_000_000, &history[..2])).score, 0);
    // The wallet's first phone is not a new one.
    let first = PaymentFacts {
        device_since: Some(ago(3_600)),
        wallet_since: Some(ago(3_600)),
        ..facts(100, &[])
    };
    assert_eq!(assess(&rules, &first).score, 0);
}

#[test]
fn the_score_decides_and_is_capped() {
    let rules = RiskRules::default();
    let step_up = PaymentFacts {
        device_since: Some(ago(600)),
        token_bound_at: ago(300),
        ..facts(100, &[])
    };
    let assessment = assess(&rules, &step_up);
    assert_eq!(
        (assessment.score, assessment.decision),
        (50, Decision::StepUp)
    );
    assert_eq!(assessment.reasons_text(), "new_device,card_just_bound");
    let declines: Vec<RecentPayment> = (0..6)
        .map(|i| RecentPayment {
            approved: false,
            declined: true,
            ..paid(100, 60 * i, true)
        })
        .collect();
    let stopped = PaymentFacts {
        credentials_reset_at: Some(ago(60)),
        ..step_up
    };
    let stopped = PaymentFacts {
        recent: &declines,
        ..stopped
    };
    let assessment = assess(&rules, &stopped);
    assert_eq!(
        (assessment.score, assessment.decision),
        (100, Decision::Decline)
    );
    let mut raised = rules.clone();
    raised.raise_for_load_test();
    let assessment = assess(&raised, &stopped);
    assert_eq!(
        (assessment.score, assessment.decision),
        (100, Decision::Approve)
    );
}
