//! `[fees]` as an operator writes it: the defaults, a rule changed in part,
//! a channel's own rule, and the rules the arithmetic could not honour.

use tessera_core::fees::{FeeChannel, FeeOperation, FeeRule};

use super::*;

#[test]
fn the_fee_schedule_reads_from_toml_over_its_defaults() {
    let defaults = Config::from_toml("").unwrap();
    let cross = defaults
        .fees
        .rule(FeeOperation::TransferCrossBank, FeeChannel::InApp);
    assert_eq!(
        cross.rule,
        FeeRule {
            rate_bps: 10,
            fixed: 0,
            min: 100,
            max: Some(5_000)
        }
    );
    // One value changed; the rest of the rule keeps its defaults.
    let config = Config::from_toml("[fees.transfer_cross_bank.any]\nmax = 3000\n").unwrap();
    let cross = config
        .fees
        .rule(FeeOperation::TransferCrossBank, FeeChannel::Web);
    assert_eq!(
        (cross.rule.rate_bps, cross.rule.min, cross.rule.max),
        (10, 100, Some(3_000))
    );
    // A channel's own rule starts free and takes what it names.
    let config = Config::from_toml(
        "[fees.transfer_same_bank.web]\nfixed = 50\n[fees.transfer_cross_bank.in_app]\nrate_bps = 5\n",
    )
    .unwrap();
    let same_web = config
        .fees
        .rule(FeeOperation::TransferSameBank, FeeChannel::Web);
    assert_eq!(
        (same_web.channel, same_web.rule.quote(10_000).fee),
        (FeeChannel::Web, 50)
    );
    let same_app = config
        .fees
        .rule(FeeOperation::TransferSameBank, FeeChannel::InApp);
    assert_eq!(same_app.rule.quote(10_000).fee, 0);
    let cross_app = config
        .fees
        .rule(FeeOperation::TransferCrossBank, FeeChannel::InApp);
    assert_eq!(cross_app.rule.rate_bps, 5);
}

#[test]
fn a_fee_rule_that_cannot_hold_is_refused_naming_it() {
    for (toml, named) in [
        (
            "[fees.transfer_cross_bank.any]\nmin = 6000\n",
            "fees.transfer_cross_bank.any: min 6000 is above max 5000",
        ),
        (
            "[fees.transfer_same_bank.web]\nrate_bps = 20000\n",
            "fees.transfer_same_bank.web: rate_bps",
        ),
        ("[fees.binding.any]\nfixed = 1\n", "binding"),
        ("[fees.transfer_cross_bank.phone]\nfixed = 1\n", "phone"),
        ("[fees.transfer_cross_bank.any]\npercent = 1\n", "percent"),
        ("[fees.transfer_cross_bank.any]\nmin = -1\n", "min"),
    ] {
        let error = Config::from_toml(toml).unwrap_err();
        assert!(error.contains(named), "{toml}: {error}");
    }
}
