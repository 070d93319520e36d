//! Where a bound card stands, and how a binding attempt ended: the words
//! the store keeps and the service reads, one enum each.

/// A card's status, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardStatus {
    /// Reserved while its issuer is asked (a lock, never anyone's answer).
    Binding,
    /// Waiting for the SMS code the issuer sent.
    PendingVerification,
    Active,
    /// Too many wrong codes: the card was not bound.
    VerificationFailed,
    /// The code ran out before it was entered: the card was not bound.
    VerificationExpired,
    /// Unbound by its holder (or its token deleted); its PAN is erased.
    Unbound,
    /// Closed by its issuer (reported lost or stolen, or the account
    /// closed); its PAN is erased.
    Closed,
}

impl CardStatus {
    pub const ALL: [CardStatus; 7] = [
        CardStatus::Binding,
        CardStatus::PendingVerification,
        CardStatus::Active,
        CardStatus::VerificationFailed,
        CardStatus::VerificationExpired,
        CardStatus::Unbound,
        CardStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CardStatus::Binding => "binding",
            CardStatus::PendingVerification => "pending_verification",
            CardStatus::Active => "active",
            CardStatus::VerificationFailed => "verification_failed",
            CardStatus::VerificationExpired => "verification_expired",
            CardStatus::Unbound => "unbound",
            CardStatus::Closed => "closed",
        }
    }

    pub fn parse(name: &str) -> Option<CardStatus> {
        CardStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Holds the person's slot: bound, or on its way to being bound.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            CardStatus::Binding | CardStatus::PendingVerification | CardStatus::Active
        )
    }
}

/// How a binding attempt ended, as recorded for support. An attempt is
/// recorded as failed unless it says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AttemptOutcome {
    /// The card was bound.
    Success,
    /// The issuer sent an SMS code; the card waits for it.
    PendingVerification,
    /// The SMS code was right: the waiting card is bound (an attempt of its
    /// own, recorded when the code is entered).
    Verified,
    /// The binding failed; the attempt's error code says why.
    #[default]
    Error,
}

impl AttemptOutcome {
    pub const ALL: [AttemptOutcome; 4] = [
        AttemptOutcome::Success,
        AttemptOutcome::PendingVerification,
        AttemptOutcome::Verified,
        AttemptOutcome::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Success => "success",
            AttemptOutcome::PendingVerification => "pending_verification",
            AttemptOutcome::Verified => "verified",
            AttemptOutcome::Error => "error",
        }
    }

    pub fn parse(name: &str) -> Option<AttemptOutcome> {
        AttemptOutcome::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

impl std::fmt::Display for CardStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for AttemptOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_and_outcome_reads_back_from_its_name() {
        for status in CardStatus::ALL {
            assert_eq!(CardStatus::parse(status.as_str()), Some(status));
        }
        for outcome in AttemptOutcome::ALL {
            assert_eq!(AttemptOutcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(CardStatus::parse("Active"), None);
        assert_eq!(AttemptOutcome::parse(""), None);
    }

    #[test]
    fn live_cards_are_the_ones_that_hold_a_slot() {
        let live: Vec<_> = CardStatus::ALL
            .into_iter()
            .filter(|s| s.is_live())
            .collect();
        assert_eq!(
            live,
            [
                CardStatus::Binding,
                CardStatus::PendingVerification,
                CardStatus::Active
            ]
        );
    }
}
