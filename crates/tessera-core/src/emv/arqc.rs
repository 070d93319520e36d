//! The Authorisation Request Cryptogram: the retail MAC (padding method 2)
//! of the CDOL1 data under the session key for the ATC. Generated on the
//! device, verified here in constant time.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use subtle::ConstantTimeEq;

use crate::emv::EmvError;
use crate::emv::keys::{Atc, SessionKey};
use crate::emv::mac::{Padding, retail_mac};

pub const ARQC_LEN: usize = 8;

/// An ARQC (tag 9F26). Not secret: it travels in the authorisation request.
/// Its `==` is constant-time, so comparing a given one to the expected one
/// never leaks how many bytes matched.
#[derive(Clone, Copy)]
pub struct Arqc([u8; ARQC_LEN]);

impl Arqc {
    pub fn from_bytes(bytes: &[u8]) -> Result<Arqc, EmvError> {
        let bytes: [u8; ARQC_LEN] = bytes.try_into().map_err(|_| EmvError::Length {
            field: "arqc",
            expected: "8",
            got: bytes.len(),
        })?;
        Ok(Arqc(bytes))
    }

    /// What the card computes: MAC algorithm 3, padding method 2, over the
    /// transaction data as given (CDOL1 order; see `Cdol1`).
    pub fn generate(key: &SessionKey, data: &[u8]) -> Arqc {
        Arqc(retail_mac(key, data, Padding::Method2))
    }

    /// Recomputes the ARQC and compares it in constant time. A mismatch says
    /// only that: the expected value stays here, because handing it back
    /// would let anyone with the data forge a cryptogram.
    pub fn verify(&self, key: &SessionKey, data: &[u8]) -> Result<(), EmvError> {
        if *self == Arqc::generate(key, data) {
            Ok(())
        } else {
            Err(EmvError::CryptogramMismatch)
        }
    }

    pub fn as_bytes(&self) -> &[u8; ARQC_LEN] {
        &self.0
    }
}

impl PartialEq for Arqc {
    fn eq(&self, other: &Arqc) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Arqc {}

impl fmt::Display for Arqc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode_upper(self.0))
    }
}

impl fmt::Debug for Arqc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Arqc({self})")
    }
}

/// The CDOL1 data the ARQC covers, in EMV Book 2's recommended order (see
/// docs/architecture.md, payment path). Numbers are the values, encoded here
/// as the BCD the card uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cdol1 {
    /// Amount, Authorised (9F02, n12): minor units of `currency`.
    pub amount: u64,
    /// Amount, Other (9F03, n12): cashback, in minor units.
    pub other_amount: u64,
    /// Terminal Country Code (9F1A, n3): ISO 3166-1 numeric, 156 for China.
    pub terminal_country: u16,
    /// Terminal Verification Results (95).
    pub tvr: [u8; 5],
    /// Transaction Currency Code (5F2A, n3): ISO 4217 numeric, 156 for CNY.
    pub currency: u16,
    /// Transaction Date (9A, n6 YYMMDD).
    pub date: NaiveDate,
    /// Transaction Type (9C, n2): 00 purchase, 01 cash, 20 refund.
    pub transaction_type: u8,
    /// Unpredictable Number (9F37).
    pub unpredictable_number: [u8; 4],
    /// Application Interchange Profile (82).
    pub aip: [u8; 2],
    /// Application Transaction Counter (9F36).
    pub atc: Atc,
    /// Issuer Application Data (9F10), appended where the profile has one.
    pub iad: Option<Vec<u8>>,
}

/// The largest value of an n12 amount field.
const MAX_AMOUNT: u64 = 999_999_999_999;

impl Cdol1 {
    /// The bytes the ARQC is computed over: 33 bytes, plus the IAD.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EmvError> {
        let mut out = Vec::with_capacity(33 + self.iad.as_ref().map_or(0, Vec::len));
        out.extend_from_slice(&bcd::<6>(self.amount, "amount", MAX_AMOUNT)?);
        out.extend_from_slice(&bcd::<6>(self.other_amount, "other_amount", MAX_AMOUNT)?);
        out.extend_from_slice(&bcd::<2>(
            self.terminal_country.into(),
            "terminal_country",
            999,
        )?);
        out.extend_from_slice(&self.tvr);
        out.extend_from_slice(&bcd::<2>(self.currency.into(), "currency", 999)?);
        let date = &self.date;
        let yymmdd = u64::from(date.year().rem_euclid(100).unsigned_abs()) * 10_000
            + u64::from(date.month()) * 100
            + u64::from(date.day());
        out.extend_from_slice(&bcd::<3>(yymmdd, "date", 999_999)?);
        out.extend_from_slice(&bcd::<1>(
            self.transaction_type.into(),
            "transaction_type",
            99,
        )?);
        out.extend_from_slice(&self.unpredictable_number);
        out.extend_from_slice(&self.aip);
        out.extend_from_slice(&self.atc.to_be_bytes());
        if let Some(iad) = &self.iad {
            out.extend_from_slice(iad);
        }
        Ok(out)
    }
}

/// `value` as N bytes of packed BCD, right-aligned; `max` is the field's
/// own limit (n3 in two bytes stops at 999, not 9999).
fn bcd<const N: usize>(value: u64, field: &'static str, max: u64) -> Result<[u8; N], EmvError> {
    if value > max {
        return Err(EmvError::OutOfRange { field, max });
    }
    let mut out = [0u8; N];
    let mut rest = value;
    for byte in out.iter_mut().rev() {
        let low = (rest % 10) as u8;
        let high = ((rest / 10) % 10) as u8;
        *byte = (high << 4) | low;
        rest /= 100;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emv::keys::{DerivationOption, IccMasterKey, IssuerMasterKey, Psn};
    use proptest::prelude::*;

    fn session_key(hex: &str) -> SessionKey {
        SessionKey::from_bytes(&hex::decode(hex).unwrap()).unwrap()
    }

    /// pyemv's `generate_ac` docstring: its CDOL1 fields and its ARQC.
    fn pyemv_example() -> Cdol1 {
        Cdol1 {
            amount: 2000,
            other_amount: 0,
            terminal_country: 124,
            tvr: [0x00, 0x00, 0x00, 0x80, 0x00],
            currency: 124,
            date: NaiveDate::from_ymd_opt(2011, 3, 9).unwrap(),
            transaction_type: 0,
            unpredictable_number: [0x38, 0x04, 0x82, 0x3E],
            aip: [0x58, 0x00],
            atc: Atc::new(1),
            iad: None,
        }
    }

    #[test]
    fn builds_pyemv_published_cdol1_and_arqc() {
        let data = pyemv_example().to_bytes().unwrap();
        assert_eq!(
            hex::encode_upper(&data),
            "000000002000000000000000012400000080000124110309003804823E58000001"
        );
        let key = session_key("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
        let arqc = Arqc::generate(&key, &data);
        assert_eq!(arqc.to_string(), "3B76CF10FECD8789");
        assert_eq!(arqc.verify(&key, &data), Ok(()));
    }

    #[test]
    fn appends_iad_and_checks_ranges() {
        let mut cdol = pyemv_example();
        cdol.iad = Some(vec![0x06, 0x01, 0x0A, 0x03, 0xA0, 0x00, 0x00]);
        let data = cdol.to_bytes().unwrap();
        assert_eq!(data.len(), 33 + 7);
        assert!(data.ends_with(&[0x00, 0x01, 0x06, 0x01, 0x0A, 0x03, 0xA0, 0x00, 0x00]));

        let mut cdol = pyemv_example();
        cdol.amount = MAX_AMOUNT + 1;
        assert_eq!(
            cdol.to_bytes().unwrap_err(),
            EmvError::OutOfRange {
                field: "amount",
                max: MAX_AMOUNT
            }
        );
        let mut cdol = pyemv_example();
        cdol.currency = 1000;
        assert_eq!(cdol.to_bytes().unwrap_err().field(), Some("currency"));
        let mut cdol = pyemv_example();
        cdol.transaction_type = 100;
        assert_eq!(
            cdol.to_bytes().unwrap_err().field(),
            Some("transaction_type")
        );
    }

    #[test]
    fn bcd_is_right_aligned() {
        assert_eq!(
            bcd::<6>(123_456_789, "a", MAX_AMOUNT).unwrap(),
            [0, 0x01, 0x23, 0x45, 0x67, 0x89]
        );
    }

    #[test]
    fn arqc_length_is_checked_and_debug_is_the_hex() {
        assert_eq!(
            Arqc::from_bytes(&[0; 7]).unwrap_err(),
            EmvError::Length {
                field: "arqc",
                expected: "8",
                got: 7
            }
        );
        let arqc = Arqc::from_bytes(&[0xAB; 8]).unwrap();
        assert_eq!(format!("{arqc:?}"), "Arqc(ABABABABABABABAB)");
    }

    fn master_key(seed: &[u8; 16]) -> IccMasterKey {
        let imk = IssuerMasterKey::from_bytes(seed).unwrap();
        IccMasterKey::derive(
            &imk,
            "6212345678901234567",
            Psn::default(),
            DerivationOption::B,
        )
        .unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Any change to the data, to the ATC or to the key makes a valid
        /// ARQC fail. (A DES MAC collision is possible in principle, at odds
        /// of 2^-64 per case: not something a test run will meet.)
        #[test]
        fn arqc_binds_data_atc_and_key(
            seed in any::<[u8; 16]>(),
            other_seed in any::<[u8; 16]>(),
            data in proptest::collection::vec(any::<u8>(), 0..64),
            flip_at in any::<prop::sample::Index>(),
            flip_bits in 1u8..=255,
            atc in any::<u16>(),
            other_atc in any::<u16>(),
            extra in proptest::collection::vec(any::<u8>(), 1..4),
        ) {
            let mk = master_key(&seed);
            let key = mk.session_key(Atc::new(atc));
            let arqc = Arqc::generate(&key, &data);
            prop_assert_eq!(arqc.verify(&key, &data), Ok(()));

            if !data.is_empty() {
                let mut changed = data.clone();
                changed[flip_at.index(data.len())] ^= flip_bits;
                prop_assert_eq!(arqc.verify(&key, &changed), Err(EmvError::CryptogramMismatch));
            }
            let mut longer = data.clone();
            longer.extend_from_slice(&extra);
            prop_assert_eq!(arqc.verify(&key, &longer), Err(EmvError::CryptogramMismatch));

            if other_atc != atc {
                let other = mk.session_key(Atc::new(other_atc));
                prop_assert_eq!(arqc.verify(&other, &data), Err(EmvError::CryptogramMismatch));
            }
            // DES ignores each byte's low bit: keys differing only there are
            // the same key, so compare with parity stripped.
            let strip = |k: &[u8; 16]| k.map(|b| b & 0xFE);
            if strip(&seed) != strip(&other_seed) {
                let other = master_key(&other_seed).session_key(Atc::new(atc));
                prop_assert_eq!(arqc.verify(&other, &data), Err(EmvError::CryptogramMismatch));
            }
        }
    }
}
