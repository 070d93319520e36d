//! The particulars of two refusals: why a card is not supported
//! (`NotSupported`) and why an issuer declined (`DeclineCode`).

use super::lang::{Lang, Text, t};

/// Why a card is not supported, machine-readable (`reason` in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotSupportedReason {
    UnknownBin,
    Brand,
    CardType,
    Country,
    Issuer,
    /// A Class II or Class III bank account (二类户、三类户): only Class I
    /// accounts may be bound.
    AccountClass,
}

impl NotSupportedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            NotSupportedReason::UnknownBin => "unknown_bin",
            NotSupportedReason::Brand => "brand",
            NotSupportedReason::CardType => "card_type",
            NotSupportedReason::Country => "country",
            NotSupportedReason::Issuer => "issuer",
            NotSupportedReason::AccountClass => "account_class",
        }
    }

    pub fn parse(reason: &str) -> Option<NotSupportedReason> {
        [
            NotSupportedReason::UnknownBin,
            NotSupportedReason::Brand,
            NotSupportedReason::CardType,
            NotSupportedReason::Country,
            NotSupportedReason::Issuer,
            NotSupportedReason::AccountClass,
        ]
        .into_iter()
        .find(|r| r.as_str() == reason)
    }
}

/// A `card_not_supported` refusal: the reason and what it names (a brand, a
/// card type, a country or an issuer), so that the message can say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSupported {
    pub reason: NotSupportedReason,
    /// What was refused, as people say it in Chinese ("预付费卡", "工商银行").
    pub subject_zh: String,
    /// The same in English ("Prepaid cards", "ICBC").
    pub subject_en: String,
}

impl NotSupported {
    pub(super) fn message(&self, lang: Lang) -> String {
        match (self.reason, lang) {
            (NotSupportedReason::UnknownBin, Lang::ZhCn) => {
                "无法识别这张卡的发卡行，暂不支持绑定".to_owned()
            }
            (NotSupportedReason::UnknownBin, Lang::En) => {
                "We don't recognise the bank that issued this card, so it can't be added".to_owned()
            }
            (NotSupportedReason::CardType | NotSupportedReason::Brand, Lang::ZhCn) => {
                format!("{}暂不支持绑定", self.subject_zh)
            }
            (NotSupportedReason::CardType | NotSupportedReason::Brand, Lang::En) => {
                format!("{} can't be added", self.subject_en)
            }
            (NotSupportedReason::Country, Lang::ZhCn) => {
                format!("暂不支持绑定{}发行的卡", self.subject_zh)
            }
            (NotSupportedReason::Country, Lang::En) => {
                format!("Cards issued in {} can't be added", self.subject_en)
            }
            (NotSupportedReason::Issuer, Lang::ZhCn) => {
                format!("{}的卡暂不支持绑定", self.subject_zh)
            }
            (NotSupportedReason::Issuer, Lang::En) => {
                format!("Cards from {} can't be added yet", self.subject_en)
            }
            (NotSupportedReason::AccountClass, Lang::ZhCn) => format!(
                "这张卡对应的是{}，只有一类账户的卡可以绑定",
                self.subject_zh
            ),
            (NotSupportedReason::AccountClass, Lang::En) => format!(
                "This card belongs to a {}: only cards of Class I accounts can be added",
                self.subject_en
            ),
        }
    }

    /// What the person can do, when the reason has its own advice.
    pub(super) fn remedy(&self) -> Option<Text> {
        match self.reason {
            NotSupportedReason::AccountClass => Some(t(
                "请换一张一类账户的借记卡（通常是在银行柜台开户时办的卡）来绑定，或联系发卡行把这个账户升级为一类账户",
                "Use a debit card of a Class I account (usually the card you got when you opened the account at a branch), or ask your bank to upgrade this account to Class I",
            )),
            _ => None,
        }
    }
}

/// Why an issuer declined, machine-readable (`decline_code` in the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeclineCode {
    DoNotHonor,
    LostCard,
    StolenCard,
    InsufficientFunds,
    ExceedsLimit,
    /// Over the bank's own limit for quick payments (快捷支付限额), which
    /// is lower than the card's limit at a counter or a POS.
    QuickPayLimitExceeded,
    /// Online (card-not-present, quick) payments are turned off on the card.
    OnlinePaymentDisabled,
    /// The bank replaced the card (换卡): the old number no longer pays.
    CardReissued,
}

impl DeclineCode {
    pub fn all() -> [DeclineCode; 8] {
        [
            DeclineCode::DoNotHonor,
            DeclineCode::LostCard,
            DeclineCode::StolenCard,
            DeclineCode::InsufficientFunds,
            DeclineCode::ExceedsLimit,
            DeclineCode::QuickPayLimitExceeded,
            DeclineCode::OnlinePaymentDisabled,
            DeclineCode::CardReissued,
        ]
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeclineCode::DoNotHonor => "do_not_honor",
            DeclineCode::LostCard => "lost_card",
            DeclineCode::StolenCard => "stolen_card",
            DeclineCode::InsufficientFunds => "insufficient_funds",
            DeclineCode::ExceedsLimit => "exceeds_limit",
            DeclineCode::QuickPayLimitExceeded => "quick_pay_limit_exceeded",
            DeclineCode::OnlinePaymentDisabled => "online_payment_disabled",
            DeclineCode::CardReissued => "card_reissued",
        }
    }

    pub fn parse(code: &str) -> Option<DeclineCode> {
        DeclineCode::all().into_iter().find(|c| c.as_str() == code)
    }

    pub fn message(self) -> Text {
        match self {
            DeclineCode::DoNotHonor => t(
                "发卡行拒绝了这张卡，未说明原因",
                "Your bank declined this card without giving a reason",
            ),
            DeclineCode::LostCard => t(
                "发卡行提示这张卡已挂失",
                "Your bank says this card was reported lost",
            ),
            DeclineCode::StolenCard => t(
                "发卡行提示这张卡已登记为被盗",
                "Your bank says this card was reported stolen",
            ),
            DeclineCode::InsufficientFunds => t(
                "卡内余额不足（信用卡为可用额度不足）",
                "There is not enough money on the card (or credit left, for a credit card)",
            ),
            DeclineCode::ExceedsLimit => t(
                "超出这张卡的交易限额",
                "This payment exceeds the card's limit",
            ),
            DeclineCode::QuickPayLimitExceeded => t(
                "超出了发卡行给这张卡设定的快捷支付限额",
                "This payment is over your bank's quick payment limit for this card",
            ),
            DeclineCode::OnlinePaymentDisabled => t(
                "这张卡没有开通网上支付（快捷支付）功能",
                "Online (quick) payments are not turned on for this card",
            ),
            DeclineCode::CardReissued => t(
                "发卡行提示这张卡已换新卡，原来的卡不能再支付",
                "Your bank says this card was replaced with a new one: the old card can no longer pay",
            ),
        }
    }

    pub fn remedy(self) -> Text {
        match self {
            DeclineCode::DoNotHonor => t(
                "卡片可能被冻结、未激活或被银行风控拦截，请致电发卡行确认卡片状态，或换一张卡",
                "The card may be frozen, not yet activated or blocked by the bank's fraud checks: call your bank to check the card, or use another card",
            ),
            DeclineCode::LostCard | DeclineCode::StolenCard => t(
                "请联系发卡行补办新卡后绑定新卡",
                "Contact your bank for a replacement card and add the new one",
            ),
            DeclineCode::InsufficientFunds => t(
                "请先往卡里存钱（信用卡请先还款），或换一张卡支付",
                "Put money into the account (for a credit card, make a repayment) or pay with another card",
            ),
            DeclineCode::ExceedsLimit => t(
                "请减少金额，或联系发卡行调整限额，或换一张卡",
                "Lower the amount, ask your bank to raise the limit, or use another card",
            ),
            DeclineCode::QuickPayLimitExceeded => t(
                "快捷支付的单笔和每日限额通常比柜台和刷卡低。请减少金额或分几笔支付，或在发卡行的手机银行里调高快捷支付限额，或换一张卡",
                "Banks set a lower limit, per payment and per day, for quick payments than for a counter or a card reader. Pay a smaller amount or in parts, raise the quick payment limit in your bank's app, or use another card",
            ),
            DeclineCode::OnlinePaymentDisabled => t(
                "请在发卡行的手机银行或网点开通网上支付（快捷支付），或换一张卡支付",
                "Turn on online (quick) payments in your bank's app or at a branch, or pay with another card",
            ),
            DeclineCode::CardReissued => t(
                "请在钱包里绑定发卡行寄给你的新卡，再用新卡支付；旧卡可以解绑",
                "Add the new card your bank sent you to the wallet and pay with it; you can remove the old one",
            ),
        }
    }
}
