//! The Authorisation Response Cryptogram the issuer sends back so the card
//! (or the device's payment applet) can trust the answer: EMV Book 2 8.2
//! method 1 (8 bytes, over ARQC and a response code) and method 2 (4 bytes,
//! over ARQC, card status update and optional proprietary data).

use std::fmt;

use zeroize::Zeroize;

use crate::emv::EmvError;
use crate::emv::arqc::Arqc;
use crate::emv::cipher::{BlockCipher, DesBlock};
use crate::emv::keys::SessionKey;
use crate::emv::mac::{Padding, retail_mac};

/// The Authorisation Response Code method 1 binds (tag 8A, 2 bytes, e.g.
/// "00" in ASCII, 3030, for approved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpcResponseCode(pub [u8; 2]);

impl ArpcResponseCode {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EmvError> {
        fixed(bytes, "arc", "2").map(ArpcResponseCode)
    }
}

/// The Card Status Update method 2 binds (4 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CardStatusUpdate(pub [u8; 4]);

impl CardStatusUpdate {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EmvError> {
        fixed(bytes, "csu", "4").map(CardStatusUpdate)
    }
}

/// The most proprietary authentication data method 2 carries.
pub const MAX_PROPRIETARY_LEN: usize = 8;

/// An ARPC, with the method that made it (they differ in length). Not
/// secret: it goes to the card in the authorisation response.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Arpc {
    Method1([u8; 8]),
    Method2([u8; 4]),
}

impl Arpc {
    /// Method 1: TDES(SK)[ARQC xor (ARC || 00 00 00 00 00 00)].
    pub fn method1(key: &SessionKey, arqc: &Arqc, arc: ArpcResponseCode) -> Arpc {
        let mut block: DesBlock = *arqc.as_bytes();
        block[0] ^= arc.0[0];
        block[1] ^= arc.0[1];
        key.cipher().encrypt_block(&mut block);
        Arpc::Method1(block)
    }

    /// Method 2: the first 4 bytes of the retail MAC (padding method 2) of
    /// ARQC || CSU || proprietary authentication data (0 to 8 bytes).
    pub fn method2(
        key: &SessionKey,
        arqc: &Arqc,
        csu: CardStatusUpdate,
        proprietary: &[u8],
    ) -> Result<Arpc, EmvError> {
        if proprietary.len() > MAX_PROPRIETARY_LEN {
            return Err(EmvError::Length {
                field: "proprietary_auth_data",
                expected: "0 to 8",
                got: proprietary.len(),
            });
        }
        let mut input = [0u8; 8 + 4 + MAX_PROPRIETARY_LEN];
        input[..8].copy_from_slice(arqc.as_bytes());
        input[8..12].copy_from_slice(&csu.0);
        input[12..12 + proprietary.len()].copy_from_slice(proprietary);
        let mut mac = retail_mac(key, &input[..12 + proprietary.len()], Padding::Method2);
        input.zeroize();
        let arpc = Arpc::Method2([mac[0], mac[1], mac[2], mac[3]]);
        mac.zeroize();
        Ok(arpc)
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Arpc::Method1(bytes) => bytes,
            Arpc::Method2(bytes) => bytes,
        }
    }
}

impl fmt::Display for Arpc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode_upper(self.as_bytes()))
    }
}

impl fmt::Debug for Arpc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arpc::Method1(_) => write!(f, "Arpc::Method1({self})"),
            Arpc::Method2(_) => write!(f, "Arpc::Method2({self})"),
        }
    }
}

fn fixed<const N: usize>(
    bytes: &[u8],
    field: &'static str,
    expected: &'static str,
) -> Result<[u8; N], EmvError> {
    bytes.try_into().map_err(|_| EmvError::Length {
        field,
        expected,
        got: bytes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(hex: &str) -> SessionKey {
        SessionKey::from_bytes(&hex::decode(hex).unwrap()).unwrap()
    }

    fn arqc(hex: &str) -> Arqc {
        Arqc::from_bytes(&hex::decode(hex).unwrap()).unwrap()
    }

    #[test]
    fn pyemv_published_examples() {
        // pyemv.ac docstrings for generate_arpc_1 and generate_arpc_2.
        let key = key("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
        let arqc = arqc("1234567890ABCDEF");
        let arpc = Arpc::method1(&key, &arqc, ArpcResponseCode([0, 0]));
        assert_eq!(arpc.to_string(), "F5E6F44147E2F1B0");
        let arpc = Arpc::method2(&key, &arqc, CardStatusUpdate([0; 4]), &[]).unwrap();
        assert_eq!(arpc.to_string(), "9308BEBC");
        assert_eq!(format!("{arpc:?}"), "Arpc::Method2(9308BEBC)");
    }

    #[test]
    fn checks_lengths() {
        let key = key("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
        let arqc = arqc("1234567890ABCDEF");
        let error = Arpc::method2(&key, &arqc, CardStatusUpdate([0; 4]), &[0; 9]).unwrap_err();
        assert_eq!(error.field(), Some("proprietary_auth_data"));
        assert!(Arpc::method2(&key, &arqc, CardStatusUpdate([0; 4]), &[0; 8]).is_ok());
        assert_eq!(
            ArpcResponseCode::from_bytes(&[0; 3]).unwrap_err().field(),
            Some("arc")
        );
        assert_eq!(
            CardStatusUpdate::from_bytes(&[0; 2]).unwrap_err().field(),
            Some("csu")
        );
    }
}
