//! The support policy: which cards the wallet accepts, judged on a card's BIN
//! record. A refusal is `card_not_supported` naming what was refused (a
//! brand, a card type, a country, an issuer) so the person knows why.
//!
//! Checks run in this order: brand, card type, country, issuer. A refused
//! list beats an accepted list. When a policy accepts only some card types,
//! countries or issuers and the BIN does not say which one the card has, the
//! card is refused as `unknown_bin`: the wallet cannot tell it is allowed.

use serde::{Deserialize, Serialize};

use super::index::canonical_issuer_code;
use super::{BinRecord, Brand, CardType};
use crate::error::{DomainError, NotSupported, NotSupportedReason};

/// Which cards can be bound. Config names fields in snake_case; every field
/// may be left out and takes its default: every brand, country and issuer
/// accepted, prepaid cards refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportPolicy {
    /// `None`: every brand not refused.
    pub accepted_brands: Option<Vec<Brand>>,
    pub refused_brands: Vec<Brand>,
    /// `None`: every card type not refused.
    pub accepted_card_types: Option<Vec<CardType>>,
    /// Default: `["prepaid"]`.
    pub refused_card_types: Vec<CardType>,
    /// ISO 3166-1 alpha-2 codes; `None`: every country not refused.
    pub accepted_countries: Option<Vec<String>>,
    pub refused_countries: Vec<String>,
    /// Issuer codes as in the BIN tables (`ICBC`, `CMB`; `BOCOM` works for
    /// `COMM`); `None`: every issuer not refused.
    pub accepted_issuers: Option<Vec<String>>,
    pub refused_issuers: Vec<String>,
}

impl Default for SupportPolicy {
    fn default() -> Self {
        SupportPolicy {
            accepted_brands: None,
            refused_brands: Vec::new(),
            accepted_card_types: None,
            refused_card_types: vec![CardType::Prepaid],
            accepted_countries: None,
            refused_countries: Vec::new(),
            accepted_issuers: None,
            refused_issuers: Vec::new(),
        }
    }
}

/// A policy that cannot be right, found when the config is loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("support policy: {0}")]
pub struct PolicyConfigError(pub String);

impl SupportPolicy {
    /// A policy that accepts every card, prepaid included.
    pub fn accept_all() -> Self {
        SupportPolicy {
            refused_card_types: Vec::new(),
            ..SupportPolicy::default()
        }
    }

    /// Rejects country codes that are not two letters and accepted lists
    /// that are empty (they would refuse every card).
    pub fn validate(&self) -> Result<(), PolicyConfigError> {
        let empty = |name: &str, list: Option<usize>| match list {
            Some(0) => Err(PolicyConfigError(format!(
                "{name} is an empty list, which refuses every card; leave it out to accept all"
            ))),
            _ => Ok(()),
        };
        empty(
            "accepted_brands",
            self.accepted_brands.as_ref().map(Vec::len),
        )?;
        empty(
            "accepted_card_types",
            self.accepted_card_types.as_ref().map(Vec::len),
        )?;
        empty(
            "accepted_countries",
            self.accepted_countries.as_ref().map(Vec::len),
        )?;
        empty(
            "accepted_issuers",
            self.accepted_issuers.as_ref().map(Vec::len),
        )?;
        let countries = self
            .accepted_countries
            .iter()
            .flatten()
            .chain(&self.refused_countries);
        for country in countries {
            let ok = country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic());
            if !ok {
                return Err(PolicyConfigError(format!(
                    "country {country:?} is not an ISO 3166 alpha-2 code (CN, HK, US, ...)"
                )));
            }
        }
        let issuers = self
            .accepted_issuers
            .iter()
            .flatten()
            .chain(&self.refused_issuers);
        for issuer in issuers {
            if issuer.trim().is_empty() {
                return Err(PolicyConfigError("an issuer code is empty".to_owned()));
            }
        }
        Ok(())
    }

    /// Whether a card with this BIN record may be bound. `None` (no table
    /// and no scheme range knows the number) is `unknown_bin`.
    pub fn check(&self, record: Option<&BinRecord>) -> Result<(), DomainError> {
        let Some(record) = record else {
            return Err(unknown_bin());
        };
        self.check_brand(&record.brand)?;
        self.check_card_type(record.card_type)?;
        self.check_country(record.country.as_deref())?;
        self.check_issuer(record)
    }

    fn check_brand(&self, brand: &Brand) -> Result<(), DomainError> {
        let refused = self.refused_brands.contains(brand)
            || self
                .accepted_brands
                .as_ref()
                .is_some_and(|accepted| !accepted.contains(brand));
        if refused {
            return Err(refusal(
                NotSupportedReason::Brand,
                brand.cards_name_zh(),
                brand.cards_name_en(),
            ));
        }
        Ok(())
    }

    fn check_card_type(&self, card_type: Option<CardType>) -> Result<(), DomainError> {
        let Some(card_type) = card_type else {
            return match self.accepted_card_types {
                Some(_) => Err(unknown_bin()),
                None => Ok(()),
            };
        };
        let refused = self.refused_card_types.contains(&card_type)
            || self
                .accepted_card_types
                .as_ref()
                .is_some_and(|accepted| !accepted.contains(&card_type));
        if refused {
            return Err(refusal(
                NotSupportedReason::CardType,
                card_type.cards_name_zh().to_owned(),
                card_type.cards_name_en().to_owned(),
            ));
        }
        Ok(())
    }

    fn check_country(&self, country: Option<&str>) -> Result<(), DomainError> {
        let Some(country) = country else {
            return match self.accepted_countries {
                Some(_) => Err(unknown_bin()),
                None => Ok(()),
            };
        };
        let listed = |list: &[String]| list.iter().any(|c| c.eq_ignore_ascii_case(country));
        let refused = listed(&self.refused_countries)
            || self
                .accepted_countries
                .as_ref()
                .is_some_and(|accepted| !listed(accepted));
        if !refused {
            return Ok(());
        }
        // A domestic-only wallet refuses everything else as "境外".
        let domestic_only = self
            .accepted_countries
            .as_ref()
            .is_some_and(|a| a.len() == 1 && a[0].eq_ignore_ascii_case("CN"));
        let (zh, en) = if domestic_only && !country.eq_ignore_ascii_case("CN") {
            (
                "境外".to_owned(),
                "places outside mainland China".to_owned(),
            )
        } else {
            country_names(country)
        };
        Err(refusal(NotSupportedReason::Country, zh, en))
    }

    fn check_issuer(&self, record: &BinRecord) -> Result<(), DomainError> {
        let code = record.issuer_code.as_deref().map(canonical_issuer_code);
        let listed = |list: &[String]| {
            code.as_ref()
                .is_some_and(|code| list.iter().any(|c| &canonical_issuer_code(c) == code))
        };
        if listed(&self.refused_issuers) {
            return Err(issuer_refusal(record));
        }
        match &self.accepted_issuers {
            Some(_) if code.is_none() => Err(unknown_bin()),
            Some(accepted) if !listed(accepted) => Err(issuer_refusal(record)),
            _ => Ok(()),
        }
    }
}

fn refusal(reason: NotSupportedReason, subject_zh: String, subject_en: String) -> DomainError {
    DomainError::not_supported(NotSupported {
        reason,
        subject_zh,
        subject_en,
    })
}

/// The `card_not_supported` answer for a number no table or range knows.
pub fn unknown_bin() -> DomainError {
    refusal(
        NotSupportedReason::UnknownBin,
        "未知卡号段".to_owned(),
        "an unknown BIN".to_owned(),
    )
}

fn issuer_refusal(record: &BinRecord) -> DomainError {
    let zh = record.issuer_display_zh().unwrap_or("该发卡行").to_owned();
    let en = record.issuer_display_en().unwrap_or("this bank").to_owned();
    refusal(NotSupportedReason::Issuer, zh, en)
}

/// A country's name in Chinese and English for messages; the code itself
/// for countries not listed here.
pub fn country_names(code: &str) -> (String, String) {
    let upper = code.to_ascii_uppercase();
    let names = match upper.as_str() {
        "CN" => Some(("中国大陆", "mainland China")),
        "HK" => Some(("中国香港", "Hong Kong SAR")),
        "MO" => Some(("中国澳门", "Macao SAR")),
        "TW" => Some(("中国台湾", "Taiwan, China")),
        "US" => Some(("美国", "the United States")),
        "GB" => Some(("英国", "the United Kingdom")),
        "JP" => Some(("日本", "Japan")),
        "KR" => Some(("韩国", "South Korea")),
        "SG" => Some(("新加坡", "Singapore")),
        "MY" => Some(("马来西亚", "Malaysia")),
        "TH" => Some(("泰国", "Thailand")),
        "AU" => Some(("澳大利亚", "Australia")),
        "CA" => Some(("加拿大", "Canada")),
        "DE" => Some(("德国", "Germany")),
        "FR" => Some(("法国", "France")),
        "RU" => Some(("俄罗斯", "Russia")),
        "IN" => Some(("印度", "India")),
        "BR" => Some(("巴西", "Brazil")),
        _ => None,
    };
    match names {
        Some((zh, en)) => (zh.to_owned(), en.to_owned()),
        None => (upper.clone(), upper),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bins::index::test_index;
    use crate::bins::{BinIndex, BinSource};
    use crate::card::luhn;
    use crate::card::pan::Pan;
    use crate::error::{ErrorCode, Lang};

    fn pan(prefix: &str, len: usize) -> Pan {
        let mut payload = prefix.to_owned();
        while payload.len() < len - 1 {
            payload.push('0');
        }
        let digit = luhn::check_digit(&payload).unwrap();
        Pan::parse(&format!("{payload}{digit}")).unwrap()
    }

    fn refusal_of(policy: &SupportPolicy, record: Option<&BinRecord>) -> DomainError {
        let error = policy.check(record).unwrap_err();
        assert_eq!(error.code, ErrorCode::CardNotSupported);
        assert_eq!(error.param.as_deref(), Some("number"));
        error
    }

    fn reason(error: &DomainError) -> NotSupportedReason {
        error.not_supported.as_ref().unwrap().reason
    }

    #[test]
    fn prepaid_is_refused_by_default_and_says_so() {
        // 620010, 16 digits: a 平安银行 prepaid card in the China table.
        let record = test_index().lookup_pan(&pan("620010", 16)).unwrap();
        assert_eq!(record.card_type, Some(CardType::Prepaid));
        let error = refusal_of(&SupportPolicy::default(), Some(&record));
        assert_eq!(reason(&error), NotSupportedReason::CardType);
        assert_eq!(error.message(Lang::ZhCn), "预付费卡暂不支持绑定");
        assert_eq!(error.message(Lang::En), "Prepaid cards can't be added");
        assert_eq!(SupportPolicy::accept_all().check(Some(&record)), Ok(()));
    }

    #[test]
    fn the_default_accepts_debit_credit_and_scheme_only_cards() {
        let policy = SupportPolicy::default();
        for (prefix, len) in [("436742", 19), ("622202", 19), ("356390", 16)] {
            let record = test_index().lookup_pan(&pan(prefix, len)).unwrap();
            assert_eq!(policy.check(Some(&record)), Ok(()), "{prefix}");
        }
        let scheme_only = test_index().lookup("2222400070000005").unwrap();
        assert_eq!(scheme_only.source, BinSource::SchemeRanges);
        assert_eq!(policy.check(Some(&scheme_only)), Ok(()));
    }

    #[test]
    fn an_unknown_bin_is_refused_as_unknown() {
        let index = BinIndex::schemes_only().unwrap();
        let record = index.lookup("9999999999999995");
        assert_eq!(record, None);
        let error = refusal_of(&SupportPolicy::default(), record.as_ref());
        assert_eq!(reason(&error), NotSupportedReason::UnknownBin);
        assert!(error.message(Lang::ZhCn).contains("无法识别"));
    }

    #[test]
    fn brands_are_refused_by_name() {
        let record = test_index().lookup_pan(&pan("436742", 19)).unwrap();
        let policy = SupportPolicy {
            accepted_brands: Some(vec![Brand::UnionPay]),
            ..SupportPolicy::default()
        };
        let error = refusal_of(&policy, Some(&record));
        assert_eq!(reason(&error), NotSupportedReason::Brand);
        assert_eq!(error.message(Lang::ZhCn), "Visa卡暂不支持绑定");
        assert_eq!(error.message(Lang::En), "Visa cards can't be added");
        let policy = SupportPolicy {
            refused_brands: vec![Brand::UnionPay],
            ..SupportPolicy::default()
        };
        let unionpay = test_index().lookup_pan(&pan("622202", 19)).unwrap();
        assert_eq!(
            refusal_of(&policy, Some(&unionpay)).message(Lang::ZhCn),
            "银联卡暂不支持绑定"
        );
        assert_eq!(policy.check(Some(&record)), Ok(()));
    }

    #[test]
    fn a_domestic_wallet_refuses_cards_from_abroad_as_jingwai() {
        let policy = SupportPolicy {
            accepted_countries: Some(vec!["CN".to_owned()]),
            ..SupportPolicy::default()
        };
        // 510510: Bank of Hawaii, US.
        let us = test_index().lookup("5105105105105100").unwrap();
        assert_eq!(us.country.as_deref(), Some("US"));
        let error = refusal_of(&policy, Some(&us));
        assert_eq!(reason(&error), NotSupportedReason::Country);
        assert_eq!(error.message(Lang::ZhCn), "暂不支持绑定境外发行的卡");
        assert_eq!(
            error.message(Lang::En),
            "Cards issued in places outside mainland China can't be added"
        );
        let cn = test_index().lookup_pan(&pan("622202", 19)).unwrap();
        assert_eq!(policy.check(Some(&cn)), Ok(()));
        // No country known (scheme ranges only): the wallet cannot tell.
        let scheme_only = test_index().lookup("2222400070000005").unwrap();
        assert_eq!(
            reason(&refusal_of(&policy, Some(&scheme_only))),
            NotSupportedReason::UnknownBin
        );
        // A refused country is named.
        let policy = SupportPolicy {
            refused_countries: vec!["us".to_owned()],
            ..SupportPolicy::default()
        };
        assert_eq!(
            refusal_of(&policy, Some(&us)).message(Lang::ZhCn),
            "暂不支持绑定美国发行的卡"
        );
    }

    #[test]
    fn issuers_are_refused_by_code_and_named() {
        let record = test_index().lookup_pan(&pan("622202", 19)).unwrap();
        let policy = SupportPolicy {
            refused_issuers: vec!["icbc".to_owned()],
            ..SupportPolicy::default()
        };
        let error = refusal_of(&policy, Some(&record));
        assert_eq!(reason(&error), NotSupportedReason::Issuer);
        assert_eq!(error.message(Lang::ZhCn), "中国工商银行的卡暂不支持绑定");
        assert_eq!(
            error.message(Lang::En),
            "Cards from Industrial and Commercial Bank of China can't be added yet"
        );
        // Aliases: BOCOM is the table's COMM.
        let comm = test_index().lookup_pan(&pan("621056801", 19)).unwrap();
        assert_eq!(comm.issuer_code.as_deref(), Some("COMM"));
        let policy = SupportPolicy {
            accepted_issuers: Some(vec!["BOCOM".to_owned()]),
            ..SupportPolicy::default()
        };
        assert_eq!(policy.check(Some(&comm)), Ok(()));
        assert_eq!(
            reason(&refusal_of(&policy, Some(&record))),
            NotSupportedReason::Issuer
        );
    }

    #[test]
    fn config_reads_snake_case_and_keeps_defaults() {
        let policy: SupportPolicy = serde_json::from_str(
            r#"{"accepted_brands": ["UNIONPAY", "visa"], "refused_issuers": ["CMB"]}"#,
        )
        .unwrap();
        assert_eq!(
            policy.accepted_brands,
            Some(vec![Brand::UnionPay, Brand::Visa])
        );
        assert_eq!(policy.refused_card_types, vec![CardType::Prepaid]);
        let policy: SupportPolicy = serde_json::from_str(r#"{"refused_card_types": []}"#).unwrap();
        assert_eq!(policy, SupportPolicy::accept_all());
        assert!(serde_json::from_str::<SupportPolicy>(r#"{"refused_card_type": []}"#).is_err());
        assert!(
            serde_json::from_str::<SupportPolicy>(r#"{"refused_card_types": ["gold"]}"#).is_err()
        );
        let round_trip: SupportPolicy =
            serde_json::from_str(&serde_json::to_string(&SupportPolicy::default()).unwrap())
                .unwrap();
        assert_eq!(round_trip, SupportPolicy::default());
    }

    #[test]
    fn validate_catches_policies_that_cannot_be_meant() {
        assert_eq!(SupportPolicy::default().validate(), Ok(()));
        let empty = SupportPolicy {
            accepted_countries: Some(Vec::new()),
            ..SupportPolicy::default()
        };
        assert!(
            empty
                .validate()
                .unwrap_err()
                .0
                .contains("accepted_countries")
        );
        let bad = SupportPolicy {
            refused_countries: vec!["CHN".to_owned()],
            ..SupportPolicy::default()
        };
        assert!(bad.validate().unwrap_err().0.contains("\"CHN\""));
    }
}
