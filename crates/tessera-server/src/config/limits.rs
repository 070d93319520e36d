//! `[limits]`: what one person, one address or one request may ask of
//! the service.

use serde::{Deserialize, Serialize};

/// `[limits]`: how much one person, or one request, may ask of the
/// service. Counts are kept in the database, so that they hold on any
/// number of nodes however requests race. Each group below is one
/// subject's limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    // --- Binding attempts and SMS codes, in any rolling 24 hours
    // (`tessera_core::error::LIMIT_WINDOW_SECS`). An attempt counts when it
    // reaches the issuer; an SMS code when it is sent.
    /// Binding attempts per card (by PAN fingerprint, whoever binds it).
    pub card_bindings_per_day: u32,
    /// Binding attempts per person.
    pub user_bindings_per_day: u32,
    /// SMS codes sent to one phone.
    pub phone_sms_per_day: u32,
    // ---- Attempts per account: sign-in and text-message codes. ----
    // Counted in the database before anything secret is compared, so they
    // hold however many requests or nodes race (`flows/users.rs`,
    // `flows/password_reset.rs`).
    /// Passwords checked per phone number in `sign_in_window_secs`; past
    /// them the phone is locked (`too_many_attempts`) until the window
    /// ends or the password is reset.
    pub sign_in_max_attempts: u32,
    pub sign_in_window_secs: u64,
    /// Wrong payment passwords in a row before everything that needs it is
    /// locked (`payment_password_locked`) for `payment_password_lock_secs`,
    /// or until it is reset with a text-message code and the ID number.
    pub payment_password_max_failures: u32,
    pub payment_password_lock_secs: u64,
    /// How long a confirmation (`POST /v1/me/verifications`) may be used.
    pub verification_ttl_secs: u64,
    /// How long a text-message code (password reset) stays valid.
    pub sms_code_ttl_secs: u64,
    /// Comparisons one text-message code allows; then it is spent.
    pub sms_code_max_attempts: u32,
    /// Wallets one ID number may open (by its keyed hash); a further
    /// sign-up is `id_number_taken`.
    pub wallets_per_id_number: u32,
    /// Wallets one card (by PAN fingerprint) may be in at once, pending
    /// ones included; one more is `card_wallet_limit_reached`.
    pub max_wallets_per_card: u32,
    /// Password hashes one server keeps queued or running on its Argon2
    /// threads; a request past them is shed at once with `overloaded`.
    /// Two threads run about a hundred hashes a second, so 64 waiting
    /// means well under a second's wait.
    pub password_queue_max: usize,
    /// Requests to the routes that need no account (sign-up, sign-in,
    /// text-message codes, password resets) one client address may send a
    /// minute, and all addresses together a second, on one node; beyond,
    /// `429 rate_limited`.
    pub public_per_address_per_minute: u32,
    pub public_per_second: u32,
    /// Card-number prefixes (`GET /v1/bins/{first6}`) one signed-in person
    /// may look up a minute, on one node; beyond, `429 rate_limited`.
    pub bin_lookups_per_minute: u32,
    // ---- End of the attempts per account. ----
    // ---- Field sizes, in characters (not bytes). Each field also has a
    // character set, fixed in code (`http/fields.rs`). A longer value is
    // refused with `field_too_long` before anything is written.
    /// A person's name: a card's holder name, the real name at sign-up.
    pub name_chars: usize,
    /// A device id the app sends (`device.id` at binding, `device_id` for
    /// keys).
    pub device_id_chars: usize,
    /// Each of a binding's device details: model, OS, app version,
    /// network type, locale.
    pub device_field_chars: usize,
    /// A support ticket's message.
    pub message_chars: usize,
    /// Why a token was suspended, resumed or deleted, or an issuer event's
    /// reason.
    pub reason_chars: usize,
    /// A merchant's name on a payment.
    pub merchant_name_chars: usize,
    /// Each language of an operator's maintenance notice.
    pub notice_chars: usize,
    /// Other identifiers a caller chooses: issuer event ids, the trace id
    /// a ticket names.
    pub identifier_chars: usize,
    // ---- End of field sizes.
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            card_bindings_per_day: 5,
            user_bindings_per_day: 10,
            phone_sms_per_day: 10,
            sign_in_max_attempts: 5,
            sign_in_window_secs: 15 * 60,
            payment_password_max_failures: 5,
            payment_password_lock_secs: 3 * 3600,
            verification_ttl_secs: 5 * 60,
            sms_code_ttl_secs: 5 * 60,
            sms_code_max_attempts: 5,
            wallets_per_id_number: 1,
            max_wallets_per_card: 3,
            password_queue_max: 64,
            public_per_address_per_minute: 60,
            public_per_second: 500,
            bin_lookups_per_minute: 30,
            name_chars: 64,
            device_id_chars: 128,
            device_field_chars: 64,
            message_chars: 2000,
            reason_chars: 200,
            merchant_name_chars: 100,
            notice_chars: 500,
            identifier_chars: 128,
        }
    }
}

impl LimitsConfig {
    /// What `tessera serve --load-test` raises the binding limits to: out
    /// of reach of any benchmark, still counted on every binding.
    pub const LOAD_TEST: u32 = 1_000_000_000;

    /// Raises the per-card, per-person and per-phone limits out of reach.
    pub fn raise_for_load_test(&mut self) {
        self.card_bindings_per_day = Self::LOAD_TEST;
        self.user_bindings_per_day = Self::LOAD_TEST;
        self.phone_sms_per_day = Self::LOAD_TEST;
        // Every benchmark connection may wait on a hash: none is shed.
        self.password_queue_max = self.password_queue_max.max(4096);
        // A benchmark signs up and in from one address.
        self.public_per_address_per_minute = Self::LOAD_TEST;
        self.public_per_second = Self::LOAD_TEST;
    }

    pub fn sign_in_window(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(
            i64::try_from(self.sign_in_window_secs).unwrap_or(i64::MAX / 1000),
        )
    }

    pub fn payment_password_lock(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(
            i64::try_from(self.payment_password_lock_secs).unwrap_or(i64::MAX / 1000),
        )
    }

    pub fn sms_code_ttl(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(i64::try_from(self.sms_code_ttl_secs).unwrap_or(i64::MAX / 1000))
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        if self.sign_in_max_attempts == 0
            || self.payment_password_max_failures == 0
            || self.sms_code_max_attempts == 0
            || self.wallets_per_id_number == 0
            || self.max_wallets_per_card == 0
            || self.password_queue_max == 0
            || self.public_per_address_per_minute == 0
            || self.public_per_second == 0
            || self.bin_lookups_per_minute == 0
        {
            return Err(
                "limits.sign_in_max_attempts, payment_password_max_failures, \
                 sms_code_max_attempts, wallets_per_id_number, max_wallets_per_card, \
                 password_queue_max, public_per_address_per_minute, public_per_second and \
                 bin_lookups_per_minute must be at least 1"
                    .to_owned(),
            );
        }
        // A day at most: longer would lock a person out for good in effect,
        // and keeps the spans far from overflowing.
        for (name, secs) in [
            ("sign_in_window_secs", self.sign_in_window_secs),
            (
                "payment_password_lock_secs",
                self.payment_password_lock_secs,
            ),
            ("sms_code_ttl_secs", self.sms_code_ttl_secs),
        ] {
            if secs == 0 || secs > 24 * 3600 {
                return Err(format!("limits.{name} must be 1 to 86400"));
            }
        }
        let sizes = [
            ("name_chars", self.name_chars),
            ("device_id_chars", self.device_id_chars),
            ("device_field_chars", self.device_field_chars),
            ("message_chars", self.message_chars),
            ("reason_chars", self.reason_chars),
            ("merchant_name_chars", self.merchant_name_chars),
            ("notice_chars", self.notice_chars),
            ("identifier_chars", self.identifier_chars),
        ];
        // An answer names the limit as a u16 (`max_length`).
        if let Some((name, _)) = sizes
            .iter()
            .find(|(_, size)| *size == 0 || *size > usize::from(u16::MAX))
        {
            return Err(format!("limits.{name} must be 1 to 65535"));
        }
        Ok(())
    }
}
