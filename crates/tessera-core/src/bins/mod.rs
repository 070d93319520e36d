//! BIN lookup: which brand, issuer, card type and country a card number
//! belongs to, from the shipped tables, and the support policy over them.

mod banks;
mod csv;
pub mod index;
pub mod policy;
mod table;

pub use index::{BinIndex, BinIndexStats, BinRecord, BinSource, BinTableError};
pub use policy::SupportPolicy;

use std::fmt;

/// A card scheme. The shipped tables name some fifty; the ones the wallet
/// has rules for are variants, the rest keep their table name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Brand {
    UnionPay,
    Visa,
    Mastercard,
    Amex,
    Jcb,
    Discover,
    Diners,
    Maestro,
    Mir,
    RuPay,
    Dankort,
    /// China's domestic-only cards in the Chinese table (no international brand).
    CnDomestic,
    /// Any other scheme, by its upper-case table name ("ELO", "TROY").
    Other(String),
}

impl Brand {
    /// The machine name used in the API, config and storage.
    pub fn code(&self) -> &str {
        match self {
            Brand::UnionPay => "unionpay",
            Brand::Visa => "visa",
            Brand::Mastercard => "mastercard",
            Brand::Amex => "amex",
            Brand::Jcb => "jcb",
            Brand::Discover => "discover",
            Brand::Diners => "diners",
            Brand::Maestro => "maestro",
            Brand::Mir => "mir",
            Brand::RuPay => "rupay",
            Brand::Dankort => "dankort",
            Brand::CnDomestic => "cn_domestic",
            Brand::Other(name) => name,
        }
    }

    /// Reads a brand from any of the names the tables and config use
    /// (`UNIONPAY`, `CHINA UNION PAY`, `unionpay`, `AMERICAN EXPRESS`, ...).
    pub fn parse(name: &str) -> Brand {
        let upper = name.trim().to_ascii_uppercase().replace(['-', '_'], " ");
        match upper.as_str() {
            "UNIONPAY" | "CHINA UNION PAY" | "UNION PAY" | "CUP" => Brand::UnionPay,
            "VISA" => Brand::Visa,
            "MASTERCARD" | "MASTER CARD" => Brand::Mastercard,
            "AMEX" | "AMERICAN EXPRESS" => Brand::Amex,
            "JCB" => Brand::Jcb,
            "DISCOVER" => Brand::Discover,
            "DINERS" | "DINERS CLUB INTERNATIONAL" | "DINERS CLUB" => Brand::Diners,
            "MAESTRO" => Brand::Maestro,
            "MIR" | "NSPK MIR" => Brand::Mir,
            "RUPAY" => Brand::RuPay,
            "DANKORT" => Brand::Dankort,
            "CN DOMESTIC" => Brand::CnDomestic,
            _ => Brand::Other(upper.to_ascii_lowercase().replace(' ', "_")),
        }
    }

    /// How people call cards of this brand, for messages ("银联卡").
    pub fn cards_name_zh(&self) -> String {
        match self {
            Brand::UnionPay => "银联卡".to_owned(),
            Brand::Visa => "Visa卡".to_owned(),
            Brand::Mastercard => "万事达卡".to_owned(),
            Brand::Amex => "美国运通卡".to_owned(),
            Brand::Jcb => "JCB卡".to_owned(),
            Brand::Discover => "Discover卡".to_owned(),
            Brand::Diners => "大来卡".to_owned(),
            Brand::CnDomestic => "国内专用卡".to_owned(),
            other => format!("{}卡", other.code().to_ascii_uppercase()),
        }
    }

    pub fn cards_name_en(&self) -> String {
        match self {
            Brand::UnionPay => "UnionPay cards".to_owned(),
            Brand::Visa => "Visa cards".to_owned(),
            Brand::Mastercard => "Mastercard cards".to_owned(),
            Brand::Amex => "American Express cards".to_owned(),
            Brand::Jcb => "JCB cards".to_owned(),
            Brand::Discover => "Discover cards".to_owned(),
            Brand::Diners => "Diners Club cards".to_owned(),
            Brand::CnDomestic => "China domestic cards".to_owned(),
            other => format!("{} cards", other.code().to_ascii_uppercase()),
        }
    }
}

impl fmt::Display for Brand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What kind of account the card draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CardType {
    Debit,
    Credit,
    /// 准贷记卡: a debit account with a small overdraft, common in China.
    SemiCredit,
    Prepaid,
}

impl CardType {
    pub fn code(self) -> &'static str {
        match self {
            CardType::Debit => "debit",
            CardType::Credit => "credit",
            CardType::SemiCredit => "semi_credit",
            CardType::Prepaid => "prepaid",
        }
    }

    pub fn parse(name: &str) -> Option<CardType> {
        match name.trim().to_ascii_uppercase().replace('-', "_").as_str() {
            "DEBIT" => Some(CardType::Debit),
            "CREDIT" | "CHARGE CARD" | "CHARGE" => Some(CardType::Credit),
            "SEMI_CREDIT" | "SEMI CREDIT" => Some(CardType::SemiCredit),
            "PREPAID" => Some(CardType::Prepaid),
            _ => None,
        }
    }

    /// Chinese banks check expiry and CVC only on credit accounts.
    pub fn requires_expiry_and_cvc(self) -> bool {
        matches!(self, CardType::Credit | CardType::SemiCredit)
    }

    pub fn cards_name_zh(self) -> &'static str {
        match self {
            CardType::Debit => "借记卡",
            CardType::Credit => "信用卡",
            CardType::SemiCredit => "准贷记卡",
            CardType::Prepaid => "预付费卡",
        }
    }

    pub fn cards_name_en(self) -> &'static str {
        match self {
            CardType::Debit => "Debit cards",
            CardType::Credit => "Credit cards",
            CardType::SemiCredit => "Semi-credit cards",
            CardType::Prepaid => "Prepaid cards",
        }
    }
}

impl fmt::Display for CardType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

// Config and storage name brands and card types by their codes
// (`unionpay`, `prepaid`); table spellings are read too.
impl serde::Serialize for Brand {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Brand {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        if name.trim().is_empty() {
            return Err(serde::de::Error::custom("a brand name is empty"));
        }
        Ok(Brand::parse(&name))
    }
}

impl serde::Serialize for CardType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for CardType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        CardType::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown card type {name:?}: expected debit, credit, semi_credit or prepaid"
            ))
        })
    }
}
