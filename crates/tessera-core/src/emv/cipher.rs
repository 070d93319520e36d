//! The block cipher under the cryptograms, behind a small trait so that the
//! AES profile of EMV Book 2 can follow without touching the MAC, key
//! derivation and ARPC code above it. Today: single DES and two-key TDES.

use des::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};

/// A keyed block cipher working on one block in place.
///
/// The block is an array type, so a wrong length is a compile error rather
/// than a runtime check; padding and chaining are the callers' job.
pub trait BlockCipher {
    type Block: Copy + Default + AsRef<[u8]> + AsMut<[u8]>;

    fn encrypt_block(&self, block: &mut Self::Block);
    fn decrypt_block(&self, block: &mut Self::Block);
}

/// The 8-byte block of DES and TDES.
pub type DesBlock = [u8; 8];

/// Single DES, keyed with one half of a double-length key. Only the retail
/// MAC uses it, for every block but the last (ISO/IEC 9797-1 algorithm 3).
pub struct SingleDes(des::Des);

impl SingleDes {
    pub fn new(key: &[u8; 8]) -> Self {
        SingleDes(des::Des::new(key.into()))
    }
}

impl BlockCipher for SingleDes {
    type Block = DesBlock;

    fn encrypt_block(&self, block: &mut DesBlock) {
        self.0.encrypt_block(block.into());
    }

    fn decrypt_block(&self, block: &mut DesBlock) {
        self.0.decrypt_block(block.into());
    }
}

/// Two-key triple DES (EDE, K1 K2 K1): what EMV uses for every
/// double-length key.
pub struct Tdes2(des::TdesEde2);

impl Tdes2 {
    pub fn new(key: &[u8; 16]) -> Self {
        Tdes2(des::TdesEde2::new(key.into()))
    }
}

impl BlockCipher for Tdes2 {
    type Block = DesBlock;

    fn encrypt_block(&self, block: &mut DesBlock) {
        self.0.encrypt_block(block.into());
    }

    fn decrypt_block(&self, block: &mut DesBlock) {
        self.0.decrypt_block(block.into());
    }
}

// The key schedules are key material: print the algorithm only.
impl std::fmt::Debug for SingleDes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SingleDes(..)")
    }
}

impl std::fmt::Debug for Tdes2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tdes2(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(hex: &str) -> DesBlock {
        hex::decode(hex).unwrap().try_into().unwrap()
    }

    #[test]
    fn des_matches_the_classic_fips_example() {
        // The worked example of FIPS 46 tutorials: key 133457799BBCDFF1.
        let key = block("133457799BBCDFF1");
        let mut data = block("0123456789ABCDEF");
        let cipher = SingleDes::new(&key);
        cipher.encrypt_block(&mut data);
        assert_eq!(data, block("85E813540F0AB405"));
        cipher.decrypt_block(&mut data);
        assert_eq!(data, block("0123456789ABCDEF"));
    }

    #[test]
    fn tdes_with_equal_halves_is_single_des() {
        let half = block("0123456789ABCDEF");
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&half);
        key[8..].copy_from_slice(&half);
        let mut a = block("4E6F772069732074");
        let mut b = a;
        Tdes2::new(&key).encrypt_block(&mut a);
        SingleDes::new(&half).encrypt_block(&mut b);
        assert_eq!(a, b);
    }

    #[test]
    fn debug_shows_no_key() {
        let shown = format!("{:?}", Tdes2::new(&[0x11; 16]));
        assert_eq!(shown, "Tdes2(..)");
    }
}
