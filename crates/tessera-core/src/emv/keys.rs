//! The EMV key ladder: issuer master key -> ICC master key (per token PAN and
//! PSN, EMV Book 2 A1.4 Option A or B) -> session key (per ATC, the common
//! session key of A1.3). Every key zeroizes on drop and prints only its KCV.

use std::fmt;

use sha1::{Digest, Sha1};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::card::pan;
use crate::emv::EmvError;
use crate::emv::cipher::{BlockCipher, DesBlock, SingleDes, Tdes2};

/// Every EMV TDES key is double length.
pub const KEY_LEN: usize = 16;

/// The 16 key bytes shared by the three key types; private so that each
/// key keeps its own name and nobody mixes an IMK up with a session key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
struct KeyBytes([u8; KEY_LEN]);

impl KeyBytes {
    fn from_slice(bytes: &[u8], key: &'static str) -> Result<KeyBytes, EmvError> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| EmvError::KeyLength {
            key,
            got: bytes.len(),
        })?;
        Ok(KeyBytes(array))
    }

    fn cipher(&self) -> Tdes2 {
        Tdes2::new(&self.0)
    }

    /// The key check value: the first 3 bytes of the key encrypting a zero
    /// block. It names a key in logs and on a support call without showing it.
    fn check_value(&self) -> [u8; 3] {
        let mut block = DesBlock::default();
        self.cipher().encrypt_block(&mut block);
        [block[0], block[1], block[2]]
    }

    fn fmt_named(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{name}(kcv {})", hex::encode_upper(self.check_value()))
    }
}

/// The issuer's master key for application cryptograms (IMK-AC). Lives in
/// the key ring or an HSM; in memory only while deriving.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct IssuerMasterKey(KeyBytes);

/// The per-card (per-token) master key, derived from the IMK.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct IccMasterKey(KeyBytes);

/// The per-transaction key, derived from the ICC master key and the ATC.
/// Devices hold a batch of these (limited-use keys), never the master key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SessionKey(KeyBytes);

impl IssuerMasterKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EmvError> {
        KeyBytes::from_slice(bytes, "imk").map(IssuerMasterKey)
    }

    /// The clear key. Only for the key ring and support tooling.
    pub fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0.0
    }

    pub fn check_value(&self) -> [u8; 3] {
        self.0.check_value()
    }
}

impl IccMasterKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EmvError> {
        KeyBytes::from_slice(bytes, "icc_mk").map(IccMasterKey)
    }

    /// Derives the ICC master key (EMV Book 2 A1.4): Y from the PAN and PSN
    /// by `option`, then TDES(IMK)[Y] || TDES(IMK)[Y xor FF..FF], parity
    /// adjusted. `pan` is the digits alone; it need not pass Luhn, since
    /// test cards and published examples often do not.
    pub fn derive(
        imk: &IssuerMasterKey,
        pan: &str,
        psn: Psn,
        option: DerivationOption,
    ) -> Result<IccMasterKey, EmvError> {
        let mut digits = PanPsnDigits::new(pan, psn)?;
        let mut y = match option.applied_to(pan.len()) {
            DerivationOption::A => digits.option_a(),
            DerivationOption::B => digits.option_b(),
        };
        digits.zeroize();
        let cipher = imk.0.cipher();
        let mut key = KeyBytes([0; KEY_LEN]);
        let (left, right) = key.0.split_at_mut(8);
        left.copy_from_slice(&y);
        for byte in &mut y {
            *byte = !*byte;
        }
        right.copy_from_slice(&y);
        y.zeroize();
        encrypt_halves(&cipher, &mut key.0);
        adjust_parity(&mut key.0);
        Ok(IccMasterKey(key))
    }

    /// What the IMK encrypts (two-key TDES-ECB) to make this key: Y ||
    /// (Y xor FF..FF). For an IMK held in an HSM, which does the encrypting.
    pub fn derivation_input(
        pan: &str,
        psn: Psn,
        option: DerivationOption,
    ) -> Result<zeroize::Zeroizing<[u8; KEY_LEN]>, EmvError> {
        let mut digits = PanPsnDigits::new(pan, psn)?;
        let mut y = match option.applied_to(pan.len()) {
            DerivationOption::A => digits.option_a(),
            DerivationOption::B => digits.option_b(),
        };
        digits.zeroize();
        let mut input = zeroize::Zeroizing::new([0u8; KEY_LEN]);
        let (left, right) = input.split_at_mut(8);
        left.copy_from_slice(&y);
        for byte in &mut y {
            *byte = !*byte;
        }
        right.copy_from_slice(&y);
        y.zeroize();
        Ok(input)
    }

    /// The key from the IMK's encryption of [`IccMasterKey::derivation_input`],
    /// parity adjusted as [`IccMasterKey::derive`] does.
    pub fn from_derived(mut bytes: [u8; KEY_LEN]) -> IccMasterKey {
        adjust_parity(&mut bytes);
        let key = IccMasterKey(KeyBytes(bytes));
        bytes.zeroize();
        key
    }

    /// The EMV common session key for this ATC (EMV Book 2 A1.3.1, as
    /// pyemv's `derive_common_sk`): R = ATC || 00 00 00 00 00 00, then
    /// TDES(MK)[R with byte 2 = F0] || TDES(MK)[R with byte 2 = 0F], parity
    /// adjusted.
    pub fn session_key(&self, atc: Atc) -> SessionKey {
        let [high, low] = atc.to_be_bytes();
        let mut key = KeyBytes([0; KEY_LEN]);
        key.0[..3].copy_from_slice(&[high, low, 0xF0]);
        key.0[8..11].copy_from_slice(&[high, low, 0x0F]);
        encrypt_halves(&self.0.cipher(), &mut key.0);
        adjust_parity(&mut key.0);
        SessionKey(key)
    }

    pub fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0.0
    }

    pub fn check_value(&self) -> [u8; 3] {
        self.0.check_value()
    }
}

impl SessionKey {
    /// A session key handed over as such (a device's limited-use key, or
    /// one pasted into the support tool).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EmvError> {
        KeyBytes::from_slice(bytes, "session_key").map(SessionKey)
    }

    pub fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0.0
    }

    pub fn check_value(&self) -> [u8; 3] {
        self.0.check_value()
    }

    /// Single DES under each half, as the retail MAC keys them separately.
    pub(crate) fn des_halves(&self) -> (SingleDes, SingleDes) {
        let mut left = [0u8; 8];
        let mut right = [0u8; 8];
        left.copy_from_slice(&self.0.0[..8]);
        right.copy_from_slice(&self.0.0[8..]);
        let ciphers = (SingleDes::new(&left), SingleDes::new(&right));
        left.zeroize();
        right.zeroize();
        ciphers
    }

    pub(crate) fn cipher(&self) -> Tdes2 {
        self.0.cipher()
    }
}

impl fmt::Debug for IssuerMasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_named("IssuerMasterKey", f)
    }
}

impl fmt::Debug for IccMasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_named("IccMasterKey", f)
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_named("SessionKey", f)
    }
}

/// Encrypts both 8-byte halves of a 16-byte buffer in ECB mode.
fn encrypt_halves(cipher: &Tdes2, buffer: &mut [u8; KEY_LEN]) {
    for half in buffer.chunks_exact_mut(8) {
        let mut block = DesBlock::default();
        block.copy_from_slice(half);
        cipher.encrypt_block(&mut block);
        half.copy_from_slice(&block);
        block.zeroize();
    }
}

/// Sets each byte to odd parity by flipping its lowest bit where needed, as
/// DES keys are written down (pyemv's `adjust_key_parity`). DES ignores that
/// bit, so this changes the written key, never the cipher.
pub fn adjust_parity(key: &mut [u8]) {
    for byte in key {
        if byte.count_ones() % 2 == 0 {
            *byte ^= 1;
        }
    }
}

/// Which way to turn a PAN and PSN into the 8-byte Y of EMV Book 2 A1.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DerivationOption {
    /// The rightmost 16 digits of PAN || PSN, zero-padded on the left.
    A,
    /// SHA-1 of PAN || PSN, decimalised to 16 digits; for PANs over 16 digits.
    B,
}

impl DerivationOption {
    /// The option EMV prescribes for a PAN of this many digits: A up to 16,
    /// B above.
    pub fn for_pan_len(len: usize) -> DerivationOption {
        if len <= 16 {
            DerivationOption::A
        } else {
            DerivationOption::B
        }
    }

    /// The option that actually runs: Option B is defined for PANs over 16
    /// digits only and is Option A below that (Book 2 A1.4.2, and pyemv).
    /// Option A may be forced on a longer PAN, as pyemv's published example
    /// does with a 17-digit PAN.
    pub fn applied_to(self, pan_len: usize) -> DerivationOption {
        match self {
            DerivationOption::B if pan_len <= 16 => DerivationOption::A,
            option => option,
        }
    }
}

/// The PAN Sequence Number (tag 5F34, n2): tells apart cards that share a
/// PAN. 00 when the card has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Psn(u8);

impl Psn {
    pub fn new(value: u8) -> Result<Psn, EmvError> {
        if value <= 99 {
            Ok(Psn(value))
        } else {
            Err(EmvError::Psn)
        }
    }

    /// One or two decimal digits: "1" and "01" are the same PSN.
    pub fn parse(text: &str) -> Result<Psn, EmvError> {
        if text.is_empty() || text.len() > 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(EmvError::Psn);
        }
        text.parse::<u8>()
            .map_err(|_| EmvError::Psn)
            .and_then(Psn::new)
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Psn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

/// The Application Transaction Counter (tag 9F36): counts the card's
/// transactions and picks the session key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atc(u16);

impl Atc {
    pub fn new(value: u16) -> Atc {
        Atc(value)
    }

    pub fn from_be_bytes(bytes: [u8; 2]) -> Atc {
        Atc(u16::from_be_bytes(bytes))
    }

    /// Two bytes, big-endian, as in the CDOL1 data.
    pub fn from_bytes(bytes: &[u8]) -> Result<Atc, EmvError> {
        let bytes: [u8; 2] = bytes.try_into().map_err(|_| EmvError::Length {
            field: "atc",
            expected: "2",
            got: bytes.len(),
        })?;
        Ok(Atc::from_be_bytes(bytes))
    }

    pub fn value(self) -> u16 {
        self.0
    }

    pub fn to_be_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

/// Four hex digits, as terminals and logs show the ATC.
impl fmt::Display for Atc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

/// PAN || PSN as decimal digit values, on the stack and wiped after use.
#[derive(Zeroize, ZeroizeOnDrop)]
struct PanPsnDigits {
    digits: [u8; pan::MAX_LEN + 2],
    len: usize,
}

impl PanPsnDigits {
    fn new(pan_digits: &str, psn: Psn) -> Result<PanPsnDigits, EmvError> {
        let pan_len = pan_digits.len();
        if !(pan::MIN_LEN..=pan::MAX_LEN).contains(&pan_len)
            || !pan_digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(EmvError::Pan);
        }
        let mut out = PanPsnDigits {
            digits: [0; pan::MAX_LEN + 2],
            len: pan_len + 2,
        };
        for (slot, byte) in out.digits.iter_mut().zip(pan_digits.bytes()) {
            *slot = byte - b'0';
        }
        out.digits[pan_len] = psn.0 / 10;
        out.digits[pan_len + 1] = psn.0 % 10;
        Ok(out)
    }

    fn as_slice(&self) -> &[u8] {
        &self.digits[..self.len]
    }

    /// Option A: the rightmost 16 digits of PAN || PSN, left-padded with
    /// zeros when shorter.
    fn option_a(&self) -> DesBlock {
        let digits = self.as_slice();
        let start = digits.len().saturating_sub(16);
        let mut sixteen = [0u8; 16];
        sixteen[16 - (digits.len() - start)..].copy_from_slice(&digits[start..]);
        let y = pack_bcd(&sixteen);
        sixteen.zeroize();
        y
    }

    /// Option B: SHA-1 over PAN || PSN packed as BCD (a leading 0 nibble
    /// when the count is odd), then the hash's hex digits decimalised: its
    /// decimal digits first, left to right; if fewer than 16, its letters
    /// A-F mapped to 0-5, left to right.
    fn option_b(&self) -> DesBlock {
        let digits = self.as_slice();
        let mut padded = [0u8; pan::MAX_LEN + 3];
        let offset = digits.len() % 2;
        padded[offset..offset + digits.len()].copy_from_slice(digits);
        let padded_len = offset + digits.len();
        let mut packed = [0u8; pan::MAX_LEN.div_ceil(2) + 2];
        let packed_len = padded_len / 2;
        for (byte, pair) in packed.iter_mut().zip(padded[..padded_len].chunks_exact(2)) {
            *byte = (pair[0] << 4) | pair[1];
        }
        let mut hash = Sha1::digest(&packed[..packed_len]);
        padded.zeroize();
        packed.zeroize();

        let nibbles = hash.iter().flat_map(|byte| [byte >> 4, byte & 0x0F]);
        let mut sixteen = [0u8; 16];
        let mut filled = 0;
        for nibble in nibbles.clone().filter(|n| *n < 10) {
            if filled == 16 {
                break;
            }
            sixteen[filled] = nibble;
            filled += 1;
        }
        for nibble in nibbles.filter(|n| *n >= 10) {
            if filled == 16 {
                break;
            }
            sixteen[filled] = nibble - 10;
            filled += 1;
        }
        hash.as_mut_slice().zeroize();
        let y = pack_bcd(&sixteen);
        sixteen.zeroize();
        y
    }
}

/// Packs 16 decimal digit values into 8 BCD bytes.
fn pack_bcd(digits: &[u8; 16]) -> DesBlock {
    let mut out = DesBlock::default();
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (pair[0] << 4) | pair[1];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imk(hex: &str) -> IssuerMasterKey {
        IssuerMasterKey::from_bytes(&hex::decode(hex).unwrap()).unwrap()
    }

    #[test]
    fn pyemv_published_option_a_example() {
        // pyemv's kd module docstring: a 17-digit PAN derived by Option A.
        let imk = imk("0123456789ABCDEFFEDCBA9876543210");
        let psn = Psn::parse("45").unwrap();
        let mk = IccMasterKey::derive(&imk, "99012345678901234", psn, DerivationOption::A).unwrap();
        assert_eq!(
            hex::encode_upper(mk.expose_bytes()),
            "67F8292358083E5EA7AB7FDA58D53B6B"
        );
    }

    #[test]
    fn option_b_on_a_short_pan_is_option_a() {
        let imk = imk("0123456789ABCDEFFEDCBA9876543210");
        let psn = Psn::new(1).unwrap();
        let pan = "4242424242424242";
        let a = IccMasterKey::derive(&imk, pan, psn, DerivationOption::A).unwrap();
        let b = IccMasterKey::derive(&imk, pan, psn, DerivationOption::B).unwrap();
        assert_eq!(a.expose_bytes(), b.expose_bytes());
        assert_eq!(
            DerivationOption::B.applied_to(pan.len()),
            DerivationOption::A
        );
        assert_eq!(DerivationOption::for_pan_len(16), DerivationOption::A);
        assert_eq!(DerivationOption::for_pan_len(17), DerivationOption::B);
    }

    #[test]
    fn option_a_pads_short_pan_psn_on_the_left() {
        let digits = PanPsnDigits::new("123456789012", Psn::new(3).unwrap()).unwrap();
        assert_eq!(hex::encode(digits.option_a()), "0012345678901203");
        let digits = PanPsnDigits::new("1234567890123456789", Psn::new(7).unwrap()).unwrap();
        assert_eq!(hex::encode(digits.option_a()), "6789012345678907");
    }

    #[test]
    fn rejects_bad_inputs() {
        let imk = imk("0123456789ABCDEFFEDCBA9876543210");
        let psn = Psn::default();
        for pan in [
            "",
            "12345678901",
            "12345678901234567890",
            "4242x42424242424",
        ] {
            let error = IccMasterKey::derive(&imk, pan, psn, DerivationOption::A).unwrap_err();
            assert_eq!(error, EmvError::Pan, "{pan:?}");
        }
        for psn in ["", "100", "1a", "-1", " 1"] {
            assert_eq!(Psn::parse(psn), Err(EmvError::Psn), "{psn:?}");
        }
        assert_eq!(Psn::parse("7").unwrap().to_string(), "07");
        assert_eq!(
            IssuerMasterKey::from_bytes(&[0; 8]).unwrap_err(),
            EmvError::KeyLength { key: "imk", got: 8 }
        );
        assert_eq!(Atc::from_bytes(&[0; 3]).unwrap_err().field(), Some("atc"));
    }

    #[test]
    fn parity_is_odd_and_touches_only_the_low_bit() {
        let mut key = hex::decode("1A2B3C4D5F0A1B2C4D5F6A7B8C9D0F1A").unwrap();
        adjust_parity(&mut key);
        // pyemv's adjust_key_parity docstring.
        assert_eq!(hex::encode_upper(&key), "1A2A3D4C5E0B1A2C4C5E6B7A8C9D0E1A");
        assert!(key.iter().all(|b| b.count_ones() % 2 == 1));
    }

    #[test]
    fn debug_shows_the_check_value_not_the_key() {
        let imk = imk("0123456789ABCDEFFEDCBA9876543210");
        let shown = format!("{imk:?}");
        assert!(shown.starts_with("IssuerMasterKey(kcv "), "{shown}");
        assert!(!shown.contains("0123456789"));
        // The widely published KCV of this test key.
        assert_eq!(hex::encode_upper(imk.check_value()), "08D7B4");
    }

    #[test]
    fn atc_prints_as_four_hex_digits() {
        assert_eq!(Atc::new(0x1C).to_string(), "001C");
        assert_eq!(Atc::from_be_bytes([0xAB, 0xCD]).value(), 0xABCD);
    }
}
