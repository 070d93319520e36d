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
}

impl NotSupportedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            NotSupportedReason::UnknownBin => "unknown_bin",
            NotSupportedReason::Brand => "brand",
            NotSupportedReason::CardType => "card_type",
            NotSupportedReason::Country => "country",
            NotSupportedReason::Issuer => "issuer",
        }
    }

    pub fn parse(reason: &str) -> Option<NotSupportedReason> {
        [
            NotSupportedReason::UnknownBin,
            NotSupportedReason::Brand,
            NotSupportedReason::CardType,
            NotSupportedReason::Country,
            NotSupportedReason::Issuer,
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
}

impl DeclineCode {
    pub fn all() -> [DeclineCode; 5] {
        [
            DeclineCode::DoNotHonor,
            DeclineCode::LostCard,
            DeclineCode::StolenCard,
            DeclineCode::InsufficientFunds,
            DeclineCode::ExceedsLimit,
        ]
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeclineCode::DoNotHonor => "do_not_honor",
            DeclineCode::LostCard => "lost_card",
            DeclineCode::StolenCard => "stolen_card",
            DeclineCode::InsufficientFunds => "insufficient_funds",
            DeclineCode::ExceedsLimit => "exceeds_limit",
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
                "发卡行提示这张卡已被报告被盗",
                "Your bank says this card was reported stolen",
            ),
            DeclineCode::InsufficientFunds => t("卡内余额不足", "The card has insufficient funds"),
            DeclineCode::ExceedsLimit => t(
                "超出这张卡的交易限额",
                "This payment exceeds the card's limit",
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
                "请存入足够的资金，或换一张卡支付",
                "Add funds to the account, or pay with another card",
            ),
            DeclineCode::ExceedsLimit => t(
                "请减少金额，或联系发卡行调整限额，或换一张卡",
                "Lower the amount, ask your bank to raise the limit, or use another card",
            ),
        }
    }
}
