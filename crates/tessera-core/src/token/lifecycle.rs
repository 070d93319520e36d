//! A token's lifecycle (docs/architecture.md, payment path): `inactive` until
//! its card is verified, then `active`; `suspended` while any suspender
//! (issuer, wallet, cardholder, risk) holds it, active again only when every
//! one has resumed; `deleted` is final. Pure transitions: the store persists
//! their results.

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDate;

use crate::card::CardStatus;
use crate::card::expiry::Expiry;
use crate::error::{DeclineCode, DomainError, ErrorCode, Lang, Text};

/// Who suspended a token. Each one lifts only its own suspension.
/// The order is the order of authority, used to pick the reason a person
/// reads first: the bank's suspension outranks the wallet's, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Suspender {
    Issuer,
    Risk,
    Wallet,
    Cardholder,
}

impl Suspender {
    pub const ALL: [Suspender; 4] = [
        Suspender::Issuer,
        Suspender::Risk,
        Suspender::Wallet,
        Suspender::Cardholder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Suspender::Issuer => "issuer",
            Suspender::Risk => "risk",
            Suspender::Wallet => "wallet",
            Suspender::Cardholder => "cardholder",
        }
    }

    pub fn parse(name: &str) -> Option<Suspender> {
        Suspender::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Why the card cannot pay, as its holder reads it.
    pub fn message(self) -> Text {
        match self {
            Suspender::Issuer => Text {
                zh: "此卡已被发卡行暂停使用",
                en: "Suspended by your bank",
            },
            Suspender::Risk => Text {
                zh: "此卡因安全风险被暂停使用",
                en: "Suspended for your safety after unusual activity",
            },
            Suspender::Wallet => Text {
                zh: "此卡已被钱包暂停使用",
                en: "Suspended by the wallet",
            },
            Suspender::Cardholder => Text {
                zh: "此卡已被你本人暂停使用",
                en: "Suspended by you",
            },
        }
    }

    /// What the holder can do about it.
    pub fn remedy(self) -> Text {
        match self {
            Suspender::Issuer => Text {
                zh: "请联系发卡行了解原因；银行恢复后即可继续支付",
                en: "Contact your bank to find out why; you can pay again once the bank lifts it",
            },
            Suspender::Risk => Text {
                zh: "请联系钱包客服核实身份后恢复",
                en: "Contact the wallet's support to confirm it was you, then it can be lifted",
            },
            Suspender::Wallet => Text {
                zh: "请联系钱包客服了解原因",
                en: "Contact the wallet's support to find out why",
            },
            Suspender::Cardholder => Text {
                zh: "如需继续使用，请在钱包中恢复这张卡",
                en: "Resume the card in the wallet to pay with it again",
            },
        }
    }
}

impl fmt::Display for Suspender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token's status, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenStatus {
    /// Issued, waiting for its card's SMS verification.
    Inactive,
    Active,
    Suspended,
    /// Final: the token never pays again.
    Deleted,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Inactive => "inactive",
            TokenStatus::Active => "active",
            TokenStatus::Suspended => "suspended",
            TokenStatus::Deleted => "deleted",
        }
    }

    pub fn parse(name: &str) -> Option<TokenStatus> {
        [
            TokenStatus::Inactive,
            TokenStatus::Active,
            TokenStatus::Suspended,
            TokenStatus::Deleted,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// Why a lifecycle change cannot happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("the token is deleted: no change is possible")]
    Deleted,
    #[error("the token is not active yet: its card still needs verification")]
    Inactive,
    #[error("a stored token state is inconsistent: {0}")]
    Corrupt(&'static str),
}

impl From<LifecycleError> for DomainError {
    fn from(error: LifecycleError) -> Self {
        match error {
            LifecycleError::Deleted => DomainError::new(ErrorCode::CardUnbound),
            LifecycleError::Inactive => DomainError::new(ErrorCode::OtpRequired),
            LifecycleError::Corrupt(_) => DomainError::new(ErrorCode::InternalError),
        }
    }
}

/// A token's status with the set of its suspenders. The invariant: the
/// status is `suspended` exactly when the set is not empty (a deleted or
/// inactive token has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenState {
    status: TokenStatus,
    suspenders: BTreeSet<Suspender>,
}

impl TokenState {
    pub fn active() -> TokenState {
        TokenState {
            status: TokenStatus::Active,
            suspenders: BTreeSet::new(),
        }
    }

    /// Reads a stored state back, refusing one that breaks the invariant.
    pub fn from_stored(
        status: TokenStatus,
        suspenders: &[String],
    ) -> Result<TokenState, LifecycleError> {
        if status == TokenStatus::Deleted {
            // Deletion ends every suspension; rows deleted before this
            // module existed may still list their suspenders.
            return Ok(TokenState::active().delete());
        }
        let suspenders = suspenders
            .iter()
            .map(|s| Suspender::parse(s).ok_or(LifecycleError::Corrupt("unknown suspender")))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let suspended = status == TokenStatus::Suspended;
        if suspended == suspenders.is_empty() {
            return Err(LifecycleError::Corrupt(
                "suspended exactly when suspenders are set",
            ));
        }
        Ok(TokenState { status, suspenders })
    }

    pub fn status(&self) -> TokenStatus {
        self.status
    }

    /// Suspenders in order of authority.
    pub fn suspenders(&self) -> impl Iterator<Item = Suspender> + '_ {
        self.suspenders.iter().copied()
    }

    /// The suspenders as stored and shown (`["issuer", "cardholder"]`).
    pub fn suspender_names(&self) -> Vec<String> {
        self.suspenders().map(|s| s.as_str().to_owned()).collect()
    }

    /// `by` suspends the token. Suspending twice by the same party changes
    /// nothing; an inactive or deleted token cannot be suspended.
    pub fn suspend(&self, by: Suspender) -> Result<TokenState, LifecycleError> {
        match self.status {
            TokenStatus::Deleted => Err(LifecycleError::Deleted),
            TokenStatus::Inactive => Err(LifecycleError::Inactive),
            TokenStatus::Active | TokenStatus::Suspended => {
                let mut suspenders = self.suspenders.clone();
                suspenders.insert(by);
                Ok(TokenState {
                    status: TokenStatus::Suspended,
                    suspenders,
                })
            }
        }
    }

    /// `by` lifts its own suspension. The token is active again only when no
    /// other suspender holds it; resuming what `by` never suspended changes
    /// nothing (a cardholder cannot lift the bank's suspension).
    pub fn resume(&self, by: Suspender) -> Result<TokenState, LifecycleError> {
        match self.status {
            TokenStatus::Deleted => Err(LifecycleError::Deleted),
            TokenStatus::Inactive => Err(LifecycleError::Inactive),
            TokenStatus::Active | TokenStatus::Suspended => {
                let mut suspenders = self.suspenders.clone();
                suspenders.remove(&by);
                let status = if suspenders.is_empty() {
                    TokenStatus::Active
                } else {
                    TokenStatus::Suspended
                };
                Ok(TokenState { status, suspenders })
            }
        }
    }

    /// Deletes the token, whatever its state: final.
    pub fn delete(&self) -> TokenState {
        TokenState {
            status: TokenStatus::Deleted,
            suspenders: BTreeSet::new(),
        }
    }

    /// Whether the token may pay now, or the precise reason it may not.
    pub fn check_payable(&self) -> Result<(), DomainError> {
        match self.status {
            TokenStatus::Active => Ok(()),
            TokenStatus::Suspended => {
                Err(DomainError::new(ErrorCode::TokenSuspended)
                    .with_suspenders(self.suspender_names()))
            }
            TokenStatus::Inactive => Err(DomainError::new(ErrorCode::OtpRequired)),
            TokenStatus::Deleted => Err(DomainError::new(ErrorCode::CardUnbound)),
        }
    }
}

/// Why a card cannot pay right now, or `Ok` when it can: the card's own
/// status first, then whether its bank replaced it, then its token's state, then the token's expiry (judged on
/// `today`, the wallet's date). The error is the one a payment would get.
pub fn payability(
    card_status: CardStatus,
    reissued: bool,
    token: Option<&TokenState>,
    token_expiry: Option<Expiry>,
    today: NaiveDate,
) -> Result<(), DomainError> {
    match card_status {
        CardStatus::Active => {}
        CardStatus::PendingVerification => return Err(DomainError::new(ErrorCode::OtpRequired)),
        CardStatus::Closed => return Err(closed_by_issuer()),
        CardStatus::Binding | CardStatus::VerificationFailed | CardStatus::VerificationExpired => {
            return Err(never_added());
        }
        CardStatus::Unbound => return Err(DomainError::new(ErrorCode::CardUnbound)),
    }
    // The bank replaced the card: whatever its token's state, the old
    // number pays no more, and the answer says to bind the new card.
    if reissued {
        return Err(DomainError::declined(DeclineCode::CardReissued));
    }
    let token = token.ok_or_else(|| DomainError::new(ErrorCode::CardUnbound))?;
    token.check_payable()?;
    match token_expiry {
        Some(expiry) if !expiry.is_expired_on(today) => Ok(()),
        _ => Err(DomainError::new(ErrorCode::TokenExpired)),
    }
}

/// `card_unbound`, told as a card whose adding never finished (its
/// text-message check failed or ran out): it was never removed.
pub fn never_added() -> DomainError {
    DomainError::new(ErrorCode::CardUnbound).with_notice(
        "这张卡没有添加成功（短信验证没有完成），不能用于支付",
        "This card was never fully added (its text-message check was not completed), so it cannot pay",
    )
}

/// `card_unbound`, told as the bank closing the card.
pub fn closed_by_issuer() -> DomainError {
    DomainError::new(ErrorCode::CardUnbound).with_notice(
        "发卡行已注销这张卡，不能再用于支付",
        "Your bank closed this card: it can no longer pay",
    )
}

/// The message a suspended token's holder reads: the highest-authority
/// suspender's, when the error names one.
pub fn suspension_text(
    suspended_by: &[String],
    lang: Lang,
) -> Option<(&'static str, &'static str)> {
    let first = suspended_by
        .iter()
        .filter_map(|s| Suspender::parse(s))
        .min()?;
    Some((first.message().get(lang), first.remedy().get(lang)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(state: &TokenState) -> (TokenStatus, Vec<String>) {
        (state.status(), state.suspender_names())
    }

    #[test]
    fn active_again_only_when_every_suspender_has_resumed() {
        let active = TokenState::active();
        let by_issuer = active.suspend(Suspender::Issuer).unwrap();
        let by_both = by_issuer.suspend(Suspender::Cardholder).unwrap();
        assert_eq!(by_both.status(), TokenStatus::Suspended);
        assert_eq!(by_both.suspender_names(), ["issuer", "cardholder"]);
        // The cardholder lifts their own suspension: the bank's still holds.
        let still = by_both.resume(Suspender::Cardholder).unwrap();
        assert_eq!(still, by_issuer);
        // Nobody lifts another's: the cardholder resuming again is a no-op.
        assert_eq!(still.resume(Suspender::Cardholder).unwrap(), by_issuer);
        assert_eq!(
            still.resume(Suspender::Issuer).unwrap(),
            TokenState::active()
        );
        // Suspending twice by one party is one suspension.
        assert_eq!(by_issuer.suspend(Suspender::Issuer).unwrap(), by_issuer);
        // Resuming an active token changes nothing.
        assert_eq!(active.resume(Suspender::Wallet).unwrap(), active);
    }

    #[test]
    fn deleted_is_final_and_inactive_waits_for_verification() {
        let deleted = TokenState::active()
            .suspend(Suspender::Risk)
            .unwrap()
            .delete();
        assert_eq!(deleted.status(), TokenStatus::Deleted);
        assert_eq!(deleted.suspender_names(), Vec::<String>::new());
        for by in Suspender::ALL {
            assert_eq!(deleted.suspend(by), Err(LifecycleError::Deleted));
            assert_eq!(deleted.resume(by), Err(LifecycleError::Deleted));
        }
        assert_eq!(deleted.delete(), deleted);
        let inactive = TokenState::from_stored(TokenStatus::Inactive, &[]).unwrap();
        assert_eq!(
            inactive.suspend(Suspender::Issuer),
            Err(LifecycleError::Inactive)
        );
        assert_eq!(
            DomainError::from(LifecycleError::Deleted).code,
            ErrorCode::CardUnbound
        );
    }

    #[test]
    fn stored_states_round_trip_and_broken_ones_are_refused() {
        let state = TokenState::active()
            .suspend(Suspender::Wallet)
            .unwrap()
            .suspend(Suspender::Issuer)
            .unwrap();
        let (status, suspenders) = stored(&state);
        assert_eq!(TokenState::from_stored(status, &suspenders).unwrap(), state);
        assert!(TokenState::from_stored(TokenStatus::Suspended, &[]).is_err());
        assert!(TokenState::from_stored(TokenStatus::Active, &["issuer".to_owned()]).is_err());
        assert!(TokenState::from_stored(TokenStatus::Suspended, &["bank".to_owned()]).is_err());
        assert!(TokenStatus::parse("frozen").is_none());
    }

    #[test]
    fn payability_names_the_first_reason() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 15).unwrap();
        let good = Expiry::new(3, 2027).ok();
        let old = Expiry::new(2, 2027).ok();
        let active = TokenState::active();
        assert_eq!(
            payability(CardStatus::Active, false, Some(&active), good, today),
            Ok(())
        );
        let code = |result: Result<(), DomainError>| result.unwrap_err().code;
        assert_eq!(
            code(payability(
                CardStatus::Active,
                false,
                Some(&active),
                old,
                today
            )),
            ErrorCode::TokenExpired
        );
        let suspended = active
            .suspend(Suspender::Cardholder)
            .unwrap()
            .suspend(Suspender::Issuer)
            .unwrap();
        let error =
            payability(CardStatus::Active, false, Some(&suspended), good, today).unwrap_err();
        assert_eq!(error.code, ErrorCode::TokenSuspended);
        assert_eq!(error.suspended_by, ["issuer", "cardholder"]);
        assert_eq!(
            error.message(Lang::ZhCn),
            "此卡已被发卡行暂停使用",
            "the bank's reason comes first"
        );
        assert_eq!(error.message(Lang::En), "Suspended by your bank");
        assert_eq!(
            code(payability(
                CardStatus::Unbound,
                false,
                Some(&active.delete()),
                good,
                today
            )),
            ErrorCode::CardUnbound
        );
        assert_eq!(
            code(payability(
                CardStatus::PendingVerification,
                false,
                None,
                good,
                today
            )),
            ErrorCode::OtpRequired
        );
        let closed = payability(CardStatus::Closed, false, None, good, today).unwrap_err();
        assert_eq!(closed.code, ErrorCode::CardUnbound);
        assert_eq!(
            closed.message(Lang::En),
            "Your bank closed this card: it can no longer pay"
        );
    }

    #[test]
    fn every_suspender_speaks_both_languages() {
        for by in Suspender::ALL {
            assert_eq!(Suspender::parse(by.as_str()), Some(by));
            for text in [by.message(), by.remedy()] {
                assert!(!text.zh.is_empty() && !text.en.is_empty());
            }
        }
        assert_eq!(
            suspension_text(&["cardholder".to_owned()], Lang::ZhCn).map(|t| t.0),
            Some("此卡已被你本人暂停使用")
        );
        assert_eq!(suspension_text(&[], Lang::En), None);
    }
}
