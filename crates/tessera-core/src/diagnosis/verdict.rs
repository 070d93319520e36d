//! The verdict: what stopped a binding, and the headline that says it.

use super::{AttemptFacts, Bilingual};
use crate::error::{Cause, ErrorCode, Lang, Text};

/// The verdict: what stopped the binding, one of the four causes (input,
/// card not supported, network, system) or a wallet rule, told finer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictKind {
    NoAttempts,
    Bound,
    AwaitingSmsCode,
    InputMistake,
    CardNotSupported,
    DeclinedByIssuer,
    NetworkOrIssuer,
    SystemOrMaintenance,
    RealName,
    PhoneOnFile,
    CardLimit,
    Duplicate,
    SecurityLock,
    /// The card or account is no longer in a state to pay (unbound, expired).
    AccountState,
    /// A payment went through: nothing to fix.
    Approved,
    /// A payment whose outcome is not on record yet.
    PaymentPending,
    /// The token was suspended (by the person, the bank or the wallet).
    TokenSuspended,
    /// The card was unbound or its token deleted.
    CardUnbound,
    TokenExpired,
    /// The bank replaced the card: the old number pays no more.
    CardReissued,
    CryptogramInvalid,
    AtcReplayed,
    /// The payment data was used on another channel or merchant than it
    /// was made for.
    DomainMismatch,
    /// Stopped by the wallet's risk rules.
    RiskDeclined,
    /// The payment needed the person's confirmation and did not carry it.
    ConfirmationRequired,
    AccountFrozen,
}

impl VerdictKind {
    pub const ALL: [VerdictKind; 26] = [
        VerdictKind::NoAttempts,
        VerdictKind::Bound,
        VerdictKind::AwaitingSmsCode,
        VerdictKind::InputMistake,
        VerdictKind::CardNotSupported,
        VerdictKind::DeclinedByIssuer,
        VerdictKind::NetworkOrIssuer,
        VerdictKind::SystemOrMaintenance,
        VerdictKind::RealName,
        VerdictKind::PhoneOnFile,
        VerdictKind::CardLimit,
        VerdictKind::Duplicate,
        VerdictKind::SecurityLock,
        VerdictKind::AccountState,
        VerdictKind::Approved,
        VerdictKind::PaymentPending,
        VerdictKind::TokenSuspended,
        VerdictKind::CardUnbound,
        VerdictKind::TokenExpired,
        VerdictKind::CardReissued,
        VerdictKind::CryptogramInvalid,
        VerdictKind::AtcReplayed,
        VerdictKind::DomainMismatch,
        VerdictKind::RiskDeclined,
        VerdictKind::ConfirmationRequired,
        VerdictKind::AccountFrozen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::NoAttempts => "no_attempts",
            VerdictKind::Bound => "bound",
            VerdictKind::AwaitingSmsCode => "awaiting_sms_code",
            VerdictKind::InputMistake => "input_mistake",
            VerdictKind::CardNotSupported => "card_not_supported",
            VerdictKind::DeclinedByIssuer => "declined_by_issuer",
            VerdictKind::NetworkOrIssuer => "network_or_issuer",
            VerdictKind::SystemOrMaintenance => "system_or_maintenance",
            VerdictKind::RealName => "real_name",
            VerdictKind::PhoneOnFile => "phone_on_file",
            VerdictKind::CardLimit => "card_limit",
            VerdictKind::Duplicate => "duplicate",
            VerdictKind::SecurityLock => "security_lock",
            VerdictKind::AccountState => "account_state",
            VerdictKind::Approved => "approved",
            VerdictKind::PaymentPending => "payment_pending",
            VerdictKind::TokenSuspended => "token_suspended",
            VerdictKind::CardUnbound => "card_unbound",
            VerdictKind::TokenExpired => "token_expired",
            VerdictKind::CardReissued => "card_reissued",
            VerdictKind::CryptogramInvalid => "cryptogram_invalid",
            VerdictKind::AtcReplayed => "atc_replayed",
            VerdictKind::DomainMismatch => "domain_mismatch",
            VerdictKind::RiskDeclined => "risk_declined",
            VerdictKind::ConfirmationRequired => "confirmation_required",
            VerdictKind::AccountFrozen => "account_frozen",
        }
    }

    /// The cause (or the wallet's own rule) this verdict belongs to.
    pub fn cause(self) -> Option<Cause> {
        match self {
            VerdictKind::NoAttempts
            | VerdictKind::Bound
            | VerdictKind::AwaitingSmsCode
            | VerdictKind::Approved
            | VerdictKind::PaymentPending => None,
            // The phone the person typed is not the one the bank keeps:
            // theirs to correct (or the bank's record to update), no
            // rule of the wallet's.
            VerdictKind::InputMistake | VerdictKind::PhoneOnFile => Some(Cause::Input),
            VerdictKind::CardNotSupported | VerdictKind::DeclinedByIssuer => {
                Some(Cause::CardNotSupported)
            }
            VerdictKind::NetworkOrIssuer => Some(Cause::Network),
            VerdictKind::SystemOrMaintenance => Some(Cause::System),
            VerdictKind::RealName
            | VerdictKind::CardLimit
            | VerdictKind::Duplicate
            | VerdictKind::AccountState
            | VerdictKind::CardUnbound
            | VerdictKind::TokenExpired
            | VerdictKind::CardReissued
            | VerdictKind::AccountFrozen => Some(Cause::Account),
            VerdictKind::SecurityLock
            | VerdictKind::TokenSuspended
            | VerdictKind::CryptogramInvalid
            | VerdictKind::AtcReplayed
            | VerdictKind::DomainMismatch
            | VerdictKind::RiskDeclined
            | VerdictKind::ConfirmationRequired => Some(Cause::Security),
        }
    }

    pub fn title(self) -> Text {
        let t = |zh, en| Text { zh, en };
        match self {
            VerdictKind::NoAttempts => t("没有绑卡记录", "No binding attempts"),
            VerdictKind::Bound => t("已绑定成功", "Bound"),
            VerdictKind::AwaitingSmsCode => t("等待短信验证", "Waiting for the SMS code"),
            VerdictKind::InputMistake => t("输入有误", "Input mistake"),
            VerdictKind::CardNotSupported => t("卡片不受支持", "Card not supported"),
            VerdictKind::DeclinedByIssuer => t("发卡行拒绝", "Declined by the bank"),
            VerdictKind::NetworkOrIssuer => t("网络或发卡行不稳定", "Unstable network or bank"),
            VerdictKind::SystemOrMaintenance => {
                t("系统故障或维护", "System failure or maintenance")
            }
            VerdictKind::RealName => t("与实名信息不一致", "Real name does not match"),
            VerdictKind::PhoneOnFile => t(
                "与银行预留手机号不一致",
                "Phone number on file at the bank does not match",
            ),
            VerdictKind::CardLimit => t("绑卡数量已达上限", "Card limit reached"),
            VerdictKind::Duplicate => t("这张卡已绑定", "Card already added"),
            VerdictKind::SecurityLock => t("安全锁定", "Security lock"),
            VerdictKind::AccountState => t("卡片状态不可用", "Card no longer usable"),
            VerdictKind::Approved => t("支付成功", "Payment approved"),
            VerdictKind::PaymentPending => t("支付结果待定", "Payment outcome pending"),
            VerdictKind::TokenSuspended => t("卡片已暂停支付", "Card suspended"),
            VerdictKind::CardUnbound => t("卡片已解绑", "Card removed"),
            VerdictKind::TokenExpired => t("卡片支付凭证已过期", "Card's payment token expired"),
            VerdictKind::CardReissued => t("银行已换发新卡", "Card replaced by the bank"),
            VerdictKind::CryptogramInvalid => {
                t("支付数据校验未通过", "Payment data failed its check")
            }
            VerdictKind::AtcReplayed => t("支付数据被重复使用", "Payment data used twice"),
            VerdictKind::DomainMismatch => t(
                "支付方式或商户与凭证不符",
                "Wrong payment method or merchant for this payment data",
            ),
            VerdictKind::RiskDeclined => t("被风控规则拦截", "Stopped by the risk rules"),
            VerdictKind::ConfirmationRequired => t("需要本人确认", "Confirmation required"),
            VerdictKind::AccountFrozen => t("钱包已冻结", "Wallet frozen"),
        }
    }

    /// The verdict a failure with this code gives.
    pub fn of_code(code: ErrorCode) -> VerdictKind {
        use ErrorCode as E;
        match code {
            E::CardNotSupported => VerdictKind::CardNotSupported,
            E::CardDeclined | E::RefundDeclined | E::TransferDeclined => {
                VerdictKind::DeclinedByIssuer
            }
            E::NameMismatch => VerdictKind::RealName,
            E::PhoneMismatch => VerdictKind::PhoneOnFile,
            E::CardLimitReached | E::CardWalletLimitReached => VerdictKind::CardLimit,
            E::CardAlreadyBound => VerdictKind::Duplicate,
            // A resend asked too soon: the code sent last may still come.
            E::OtpRequired | E::OtpResendTooSoon => VerdictKind::AwaitingSmsCode,
            E::IssuerUnavailable | E::RequestInProgress => VerdictKind::NetworkOrIssuer,
            E::Maintenance
            | E::InternalError
            | E::DatabaseUnavailable
            | E::Overloaded
            | E::KeyVersionStale => VerdictKind::SystemOrMaintenance,
            E::TokenSuspended => VerdictKind::TokenSuspended,
            E::CardUnbound => VerdictKind::CardUnbound,
            E::TokenExpired => VerdictKind::TokenExpired,
            E::CryptogramInvalid => VerdictKind::CryptogramInvalid,
            E::AtcReplayed => VerdictKind::AtcReplayed,
            E::DomainMismatch => VerdictKind::DomainMismatch,
            E::RiskDeclined => VerdictKind::RiskDeclined,
            E::AuthenticationRequired => VerdictKind::ConfirmationRequired,
            E::AccountFrozen => VerdictKind::AccountFrozen,
            other => match other.cause() {
                Cause::Input => VerdictKind::InputMistake,
                Cause::CardNotSupported => VerdictKind::CardNotSupported,
                Cause::Network => VerdictKind::NetworkOrIssuer,
                Cause::System => VerdictKind::SystemOrMaintenance,
                Cause::Account => VerdictKind::AccountState,
                Cause::Security => VerdictKind::SecurityLock,
            },
        }
    }
}

pub(super) fn headline(focused: &AttemptFacts, verdict: VerdictKind) -> Bilingual {
    let title = verdict.title();
    match focused.error() {
        Some(error) => Bilingual::new(
            format!("{}：{}", title.zh, error.message(Lang::ZhCn)),
            format!("{}: {}", title.en, error.message(Lang::En)),
        ),
        None => Bilingual::from_text(title),
    }
}
