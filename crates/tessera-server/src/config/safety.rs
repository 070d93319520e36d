//! `[consent]`: the no-confirmation limits (小额免密) the wallet offers. The
//! risk rules (`[risk]`) are `tessera_core::risk::RiskRules`.

use serde::{Deserialize, Serialize};

/// Minor units of CNY. A person chooses their limits between 0 (every
/// payment is confirmed) and the maxima; until they choose, the defaults
/// apply.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ConsentConfig {
    pub default_per_payment: i64,
    pub default_per_day: i64,
    pub max_per_payment: i64,
    pub max_per_day: i64,
}

impl Default for ConsentConfig {
    fn default() -> Self {
        ConsentConfig {
            default_per_payment: 30_000,
            default_per_day: 100_000,
            max_per_payment: 200_000,
            max_per_day: 500_000,
        }
    }
}

impl ConsentConfig {
    /// For `tessera serve --load-test`: no payment needs confirming, and
    /// no day is summed (`i64::MAX` is no daily limit).
    pub fn raise_for_load_test(&mut self) {
        *self = ConsentConfig {
            default_per_payment: i64::MAX,
            default_per_day: i64::MAX,
            max_per_payment: i64::MAX,
            max_per_day: i64::MAX,
        };
    }

    pub(super) fn check(&self) -> Result<(), String> {
        let ConsentConfig {
            default_per_payment,
            default_per_day,
            max_per_payment,
            max_per_day,
        } = *self;
        if default_per_payment < 0
            || default_per_day < 0
            || default_per_payment > max_per_payment
            || default_per_day > max_per_day
        {
            return Err(
                "consent.default_per_payment and default_per_day must be 0 to \
                 consent.max_per_payment and max_per_day"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

/// `[webauthn]`: who the wallet is to a passkey. `rp_id` is the domain
/// passkeys are made for (never changed once people hold them); `rp_origin`
/// the address the wallet's pages are served from, on that domain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct WebauthnConfig {
    pub rp_id: String,
    pub rp_origin: String,
    pub rp_name: String,
    /// How long a registration or assertion challenge may be answered.
    pub challenge_ttl_secs: u64,
}

impl Default for WebauthnConfig {
    fn default() -> Self {
        WebauthnConfig {
            rp_id: "localhost".to_owned(),
            rp_origin: "http://localhost:8080".to_owned(),
            rp_name: "Tessera".to_owned(),
            challenge_ttl_secs: 300,
        }
    }
}
