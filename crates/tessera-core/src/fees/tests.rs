use proptest::prelude::*;

use super::*;

const CROSS: FeeRule = FeeRule {
    rate_bps: 10,
    fixed: 0,
    min: 100,
    max: Some(5_000),
};

#[test]
fn the_defaults_charge_cross_bank_only() {
    let schedule = FeeSchedule::default();
    for channel in [FeeChannel::InApp, FeeChannel::Web] {
        let same = schedule.rule(FeeOperation::TransferSameBank, channel);
        assert_eq!(same.rule.quote(1_000_000).fee, 0);
        let cross = schedule.rule(FeeOperation::TransferCrossBank, channel);
        assert_eq!((cross.channel, cross.rule), (FeeChannel::Any, CROSS));
    }
    assert_eq!(schedule.validate(), Ok(()));
}

#[test]
fn rounding_is_half_up_to_the_fen_at_the_minimum_and_the_maximum() {
    // 0.1% of 1,234.50 CNY is 123.45 fen: rounds to 123.
    let quote = CROSS.quote(123_450);
    assert_eq!((quote.fee, quote.clamped), (123, None));
    assert_eq!(quote.exact_percentage_text(), "123.4500");
    // 123.455 fen: the fraction is under a half, 123; 123.5 fen is 124.
    assert_eq!(CROSS.quote(123_455).fee, 123);
    assert_eq!(CROSS.quote(123_500).fee, 124);
    // Exactly half a fen goes up: 50% of 1 fen is 1, of 3 fen 2.
    let half = FeeRule {
        rate_bps: 5_000,
        ..FeeRule::FREE
    };
    assert_eq!(half.quote(1).fee, 1);
    assert_eq!(half.quote(3).fee, 2);
    let just_below = FeeRule {
        rate_bps: 4_999,
        ..FeeRule::FREE
    };
    assert_eq!(just_below.quote(1).fee, 0);

    // The minimum: 0.1% of 999.49 CNY is 99.949 fen, rounds to 100, the
    // minimum itself, not raised to it.
    let at_min = CROSS.quote(99_949);
    assert_eq!((at_min.fee, at_min.clamped), (100, None));
    // 0.1% of 999.49... below: 99.449 rounds to 99, raised to 100.
    let under = CROSS.quote(99_449);
    assert_eq!((under.rounded_percentage, under.fee), (99, 100));
    assert_eq!(under.clamped, Some(Clamp::Min));
    // Half a fen below the minimum rounds up onto it.
    assert_eq!(CROSS.quote(99_500).clamped, None);
    assert_eq!(CROSS.quote(99_499).clamped, Some(Clamp::Min));

    // The maximum: 0.1% of 50,000.49 CNY is 5,000.049 fen, rounds to 5,000:
    // the maximum, not lowered to it.
    let at_max = CROSS.quote(5_000_049);
    assert_eq!((at_max.fee, at_max.clamped), (5_000, None));
    // 5,000.5 fen rounds up to 5,001, lowered to 5,000.
    let over = CROSS.quote(5_000_500);
    assert_eq!((over.rounded_percentage, over.fee), (5_001, 5_000));
    assert_eq!(over.clamped, Some(Clamp::Max));
    assert_eq!(CROSS.quote(u64::MAX).fee, 5_000);
}

#[test]
fn the_fixed_part_is_added_before_the_bounds() {
    let rule = FeeRule {
        rate_bps: 10,
        fixed: 50,
        min: 100,
        max: Some(200),
    };
    assert_eq!(rule.quote(10_000).fee, 100, "10 + 50 raised to 100");
    assert_eq!(rule.quote(100_000).fee, 150);
    assert_eq!(rule.quote(1_000_000).fee, 200, "1000 + 50 lowered to 200");
}

#[test]
fn a_rule_the_arithmetic_cannot_honour_is_refused_naming_it() {
    let upside_down = FeeRule {
        min: 500,
        max: Some(100),
        ..FeeRule::FREE
    };
    assert!(upside_down.validate().unwrap_err().contains("min 500"));
    let greedy = FeeRule {
        rate_bps: 10_001,
        ..FeeRule::FREE
    };
    assert!(greedy.validate().is_err());
    let mut schedule = FeeSchedule::default();
    schedule
        .0
        .entry(FeeOperation::TransferCrossBank)
        .or_default()
        .insert(FeeChannel::Web, upside_down);
    let error = schedule.validate().unwrap_err();
    assert!(
        error.starts_with("fees.transfer_cross_bank.web:"),
        "{error}"
    );
}

#[test]
fn a_channel_s_own_rule_comes_before_any() {
    let mut schedule = FeeSchedule::default();
    let web = FeeRule {
        rate_bps: 20,
        ..CROSS
    };
    schedule
        .0
        .entry(FeeOperation::TransferCrossBank)
        .or_default()
        .insert(FeeChannel::Web, web);
    let chosen = schedule.rule(FeeOperation::TransferCrossBank, FeeChannel::Web);
    assert_eq!((chosen.channel, chosen.rule), (FeeChannel::Web, web));
    let chosen = schedule.rule(FeeOperation::TransferCrossBank, FeeChannel::InApp);
    assert_eq!((chosen.channel, chosen.rule), (FeeChannel::Any, CROSS));
    // An operation the schedule leaves out is free.
    let empty = FeeSchedule(BTreeMap::new());
    let chosen = empty.rule(FeeOperation::TransferCrossBank, FeeChannel::Web);
    assert_eq!(chosen.rule.quote(1_000_000).fee, 0);
}

#[test]
fn rules_are_described_in_both_languages() {
    let zh = CROSS.describe(FeeOperation::TransferCrossBank, Lang::ZhCn);
    assert_eq!(
        zh,
        "跨行转账手续费：按金额的0.1%收取，最低1.00元，最高50.00元"
    );
    let en = CROSS.describe(FeeOperation::TransferCrossBank, Lang::En);
    assert_eq!(
        en,
        "The fee for a transfer to another bank is 0.1% of the amount, at least 1.00 CNY, \
         at most 50.00 CNY"
    );
    assert_eq!(
        FeeRule::FREE.describe(FeeOperation::TransferSameBank, Lang::ZhCn),
        "本行转账免手续费"
    );
    assert_eq!(
        FeeRule::FREE.describe(FeeOperation::TransferSameBank, Lang::En),
        "No fee for a transfer within the same bank"
    );
    assert_eq!(percent_text(250), "2.5");
    assert_eq!(percent_text(100), "1");
    assert_eq!(percent_text(5), "0.05");
    // Chinese text in full-width punctuation, English in half-width.
    assert!(!zh.contains([',', ':']) && !en.contains(['，', '：']));
    assert!(!rounding_text(Lang::ZhCn).contains([',', ';']));
}

#[test]
fn names_round_trip() {
    for operation in FeeOperation::ALL {
        assert_eq!(FeeOperation::parse(operation.as_str()), Some(operation));
    }
    assert_eq!(FeeOperation::parse("binding"), None);
    assert_eq!(FeeChannel::parse_request("web"), Some(FeeChannel::Web));
    assert_eq!(FeeChannel::parse_request("any"), None);
}

fn rule() -> impl Strategy<Value = FeeRule> {
    (
        0u32..=10_000,
        0u64..10_000,
        0u64..100_000,
        proptest::option::of(0u64..1_000_000),
    )
        .prop_filter_map("min above max", |(rate_bps, fixed, min, max)| {
            let rule = FeeRule {
                rate_bps,
                fixed,
                min,
                max,
            };
            rule.validate().is_ok().then_some(rule)
        })
}

proptest! {
    /// Within its bounds, whatever the amount; exactly the rounded sum
    /// when no bound held it; and a larger amount never costs less.
    #[test]
    fn a_fee_stays_within_its_rule(rule in rule(), amount in any::<u64>(), more in any::<u64>()) {
        let quote = rule.quote(amount);
        prop_assert!(quote.fee >= rule.min);
        if let Some(max) = rule.max {
            prop_assert!(quote.fee <= max);
        }
        // Half up: the rounded part is within half a fen of the exact one.
        let exact = u128::from(amount) * u128::from(rule.rate_bps);
        let rounded = u128::from(quote.rounded_percentage) * 10_000;
        prop_assert!(rounded + 5_000 > exact && rounded <= exact + 5_000);
        if quote.clamped.is_none() {
            prop_assert_eq!(quote.fee, quote.rounded_percentage.saturating_add(rule.fixed));
        }
        let larger = amount.saturating_add(more);
        prop_assert!(rule.quote(larger).fee >= quote.fee);
    }

    /// Even a rule that validation would refuse (min above max) never
    /// charges above its maximum.
    #[test]
    fn the_maximum_always_wins(min in any::<u64>(), max in any::<u64>(), amount in any::<u64>()) {
        let rule = FeeRule { rate_bps: 10_000, fixed: 0, min, max: Some(max) };
        prop_assert!(rule.quote(amount).fee <= max);
    }
}
