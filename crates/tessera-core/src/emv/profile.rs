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

/// How the phone verified its holder before it made the cryptogram
/// (consumer-device cardholder verification), carried in the IAD so that
/// the ARQC covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceCvm {
    /// Not verified: a tap within the no-confirmation limits.
    None,
    /// The phone's passcode.
    Passcode,
    /// A fingerprint or the face.
    Biometric,
}

impl DeviceCvm {
    pub const ALL: [DeviceCvm; 3] = [DeviceCvm::None, DeviceCvm::Passcode, DeviceCvm::Biometric];

    pub fn byte(self) -> u8 {
        match self {
            DeviceCvm::None => 0x00,
            DeviceCvm::Passcode => 0x01,
            DeviceCvm::Biometric => 0x02,
        }
    }

    /// What an IAD says the phone did, before it is checked against a
    /// token's profile (`TokenProfile::cvm_of`); None when its byte is no
    /// method's.
    pub fn claimed_in(iad: &[u8]) -> Option<DeviceCvm> {
        DeviceCvm::ALL
            .into_iter()
            .find(|cvm| iad.get(4) == Some(&cvm.byte()))
    }
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
    /// (03 then three bytes: a cloud token has no offline counters to
    /// report, so the first says only how the phone verified its holder,
    /// `DeviceCvm`, and the other two are 00).
    pub fn iad(&self) -> [u8; 7] {
        self.iad_with(DeviceCvm::None)
    }

    /// The IAD of a payment the phone verified its holder for with `cvm`.
    pub fn iad_with(&self, cvm: DeviceCvm) -> [u8; 7] {
        [
            0x06,
            self.dki,
            CRYPTOGRAM_VERSION,
            0x03,
            cvm.byte(),
            0x00,
            0x00,
        ]
    }

    /// How the phone verified its holder, read from an IAD it sent; None
    /// when the IAD is not this profile's.
    pub fn cvm_of(&self, iad: &[u8]) -> Option<DeviceCvm> {
        let cvm = DeviceCvm::claimed_in(iad)?;
        (iad == self.iad_with(cvm)).then_some(cvm)
    }

    /// The CDOL1 data of `transaction` at `atc` under this profile.
    pub fn cdol1(&self, transaction: &Transaction, atc: Atc) -> Cdol1 {
        self.cdol1_with_iad(transaction, atc, self.iad())
    }

    /// The CDOL1 data with the IAD the phone sent (`iad_with`).
    pub fn cdol1_with_iad(&self, transaction: &Transaction, atc: Atc, iad: [u8; 7]) -> Cdol1 {
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
            iad: Some(iad.to_vec()),
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
        // The phone's verification is covered: the same purchase said to
        // be verified by fingerprint does not verify.
        let profile = TokenProfile { dki: 1 };
        let verified = profile.iad_with(DeviceCvm::Biometric);
        let claimed = profile.cdol1_with_iad(&transaction(), Atc::new(7), verified);
        assert!(arqc.verify(&key, &claimed.to_bytes().unwrap()).is_err());
    }

    #[test]
    fn the_iad_says_how_the_phone_verified_its_holder() {
        let profile = TokenProfile { dki: 3 };
        for cvm in DeviceCvm::ALL {
            assert_eq!(profile.cvm_of(&profile.iad_with(cvm)), Some(cvm));
        }
        assert_eq!(
            hex::encode_upper(profile.iad_with(DeviceCvm::Biometric)),
            "06031203020000"
        );
        // Another generation, an unknown method, a changed byte: not ours.
        let theirs = TokenProfile { dki: 4 }.iad_with(DeviceCvm::Passcode);
        assert_eq!(profile.cvm_of(&theirs), None);
        let mut unknown = profile.iad();
        unknown[4] = 0x07;
        assert_eq!(profile.cvm_of(&unknown), None);
        let mut changed = profile.iad();
        changed[6] = 0x01;
        assert_eq!(profile.cvm_of(&changed), None);
        assert_eq!(profile.cvm_of(&profile.iad()[..6]), None);
    }
}
