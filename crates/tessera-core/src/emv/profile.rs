//! The card profile every Tessera token is personalised with: its AIP, its
//! IAD, how the ICC master key is derived, and the response codes its ARPC
//! carries. The server and a device (`tessera pay`) build the CDOL1 data the
//! ARQC covers from a transaction and this profile, in one place.

use chrono::NaiveDate;

use crate::emv::EmvError;
use crate::emv::arpc::ArpcResponseCode;
use crate::emv::arqc::Cdol1;
use crate::emv::keys::{Atc, DerivationOption, IccMasterKey, IssuerMasterKey, Psn, SessionKey};

/// Application Interchange Profile (82): cardholder verification and
/// terminal risk management supported (18), contactless EMV mode (80). No
/// offline data authentication: a cloud token has no card certificate.
pub const AIP: [u8; 2] = [0x18, 0x80];

/// Cryptogram version number carried in the IAD: 0x12, "common core TDES".
pub const CRYPTOGRAM_VERSION: u8 = 0x12;

/// Authorisation Response Code (8A) of an approval, bound by ARPC method 1.
pub const ARC_APPROVED: ArpcResponseCode = ArpcResponseCode(*b"00");

/// The profile of one token: its IMK generation, carried as the IAD's
/// derivation key index so that the issuer side knows which IMK made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenProfile {
    pub dki: u8,
}

/// The terminal's half of the CDOL1 data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Minor units.
    pub amount: u64,
    pub other_amount: u64,
    /// ISO 3166-1 numeric (156 China).
    pub terminal_country: u16,
    pub tvr: [u8; 5],
    /// ISO 4217 numeric (156 CNY).
    pub currency: u16,
    pub date: NaiveDate,
    /// 00 purchase.
    pub transaction_type: u8,
    pub unpredictable_number: [u8; 4],
}

impl TokenProfile {
    /// Issuer Application Data (9F10), 7 bytes: length 06, the derivation
    /// key index, the cryptogram version, and a card verification result
    /// fixed by the profile (03 00 00 00: a cloud token has no offline
    /// counters to report).
    pub fn iad(&self) -> [u8; 7] {
        [0x06, self.dki, CRYPTOGRAM_VERSION, 0x03, 0x00, 0x00, 0x00]
    }

    /// The CDOL1 data of `transaction` at `atc` under this profile.
    pub fn cdol1(&self, transaction: &Transaction, atc: Atc) -> Cdol1 {
        Cdol1 {
            amount: transaction.amount,
            other_amount: transaction.other_amount,
            terminal_country: transaction.terminal_country,
            tvr: transaction.tvr,
            currency: transaction.currency,
            date: transaction.date,
            transaction_type: transaction.transaction_type,
            unpredictable_number: transaction.unpredictable_number,
            aip: AIP,
            atc,
            iad: Some(self.iad().to_vec()),
        }
    }

    /// The session key for one ATC of a token: IMK -> ICC master key (Option
    /// A up to 16 digits, B above) -> common session key.
    pub fn session_key(
        imk: &IssuerMasterKey,
        token_pan: &str,
        psn: Psn,
        atc: Atc,
    ) -> Result<SessionKey, EmvError> {
        let option = DerivationOption::for_pan_len(token_pan.len());
        Ok(IccMasterKey::derive(imk, token_pan, psn, option)?.session_key(atc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emv::arqc::Arqc;

    fn transaction() -> Transaction {
        Transaction {
            amount: 1234,
            other_amount: 0,
            terminal_country: 156,
            tvr: [0; 5],
            currency: 156,
            date: NaiveDate::from_ymd_opt(2027, 1, 2).unwrap(),
            transaction_type: 0,
            unpredictable_number: [1, 2, 3, 4],
        }
    }

    #[test]
    fn cdol1_carries_the_profile_and_binds_every_field() {
        let profile = TokenProfile { dki: 1 };
        let data = profile
            .cdol1(&transaction(), Atc::new(7))
            .to_bytes()
            .unwrap();
        assert_eq!(
            hex::encode_upper(&data),
            "000000001234000000000000015600000000000156270102000102030418800007\
             06011203000000"
        );
        let imk = IssuerMasterKey::from_bytes(&[0x11; 16]).unwrap();
        let pan = "6299901234567890123";
        let key = TokenProfile::session_key(&imk, pan, Psn::default(), Atc::new(7)).unwrap();
        let arqc = Arqc::generate(&key, &data);
        // Another generation's IAD, another ATC's key: neither verifies.
        let other = TokenProfile { dki: 2 }.cdol1(&transaction(), Atc::new(7));
        assert!(arqc.verify(&key, &other.to_bytes().unwrap()).is_err());
        let key8 = TokenProfile::session_key(&imk, pan, Psn::default(), Atc::new(8)).unwrap();
        assert!(arqc.verify(&key8, &data).is_err());
        assert!(arqc.verify(&key, &data).is_ok());
    }
}
