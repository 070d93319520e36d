//! ISO/IEC 9797-1 MAC algorithm 3, the "retail MAC": CBC with single DES
//! under the key's left half, and only the last block finished with TDES
//! (decrypt under the right half, encrypt under the left). ARQC and ARPC
//! method 2 are this MAC.

use zeroize::Zeroize;

use crate::emv::cipher::{BlockCipher, DesBlock};
use crate::emv::keys::SessionKey;

/// How the data is brought to a whole number of 8-byte blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Padding {
    /// ISO/IEC 9797-1 method 1: zero bytes up to the block boundary, none
    /// when already there (one zero block for empty data). pyemv calls it
    /// `PaddingType.VISA`, as some Visa cryptogram versions use it.
    Method1,
    /// ISO/IEC 9797-1 method 2: a mandatory 80, then zero bytes. pyemv's
    /// `PaddingType.EMV`; EMV Book 2 uses it for the ARQC.
    Method2,
}

/// The 8-byte retail MAC of `data` under a double-length key.
///
/// Streams the data block by block, so a MAC never copies the transaction
/// data; the chaining state is wiped before returning.
pub fn retail_mac(key: &SessionKey, data: &[u8], padding: Padding) -> [u8; 8] {
    let (left, right) = key.des_halves();
    let mut state = DesBlock::default();
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        xor_into(&mut state, block);
        left.encrypt_block(&mut state);
    }
    let rest = blocks.remainder();
    let last = match padding {
        Padding::Method1 if rest.is_empty() && !data.is_empty() => None,
        Padding::Method1 => Some(padded_block(rest, None)),
        Padding::Method2 => Some(padded_block(rest, Some(0x80))),
    };
    if let Some(mut last) = last {
        xor_into(&mut state, &last);
        left.encrypt_block(&mut state);
        last.zeroize();
    }
    // The output transformation: only here does the right half come in.
    right.decrypt_block(&mut state);
    left.encrypt_block(&mut state);
    let mac = state;
    state.zeroize();
    mac
}

/// The tail of the data (under 8 bytes), an optional marker byte, zeros.
fn padded_block(rest: &[u8], marker: Option<u8>) -> DesBlock {
    let mut block = DesBlock::default();
    block[..rest.len()].copy_from_slice(rest);
    if let Some(marker) = marker {
        block[rest.len()] = marker;
    }
    block
}

fn xor_into(state: &mut DesBlock, block: &[u8]) {
    for (s, b) in state.iter_mut().zip(block) {
        *s ^= b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(hex: &str) -> SessionKey {
        SessionKey::from_bytes(&hex::decode(hex).unwrap()).unwrap()
    }

    #[test]
    fn paddings_differ_only_where_they_should() {
        let key = key("0123456789ABCDEFFEDCBA9876543210");
        // Method 1 on a whole block adds nothing, so appending its zero
        // padding by hand gives the same MAC; method 2 always adds a block.
        let data = [0x12u8, 0x34];
        let by_hand = [0x12u8, 0x34, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            retail_mac(&key, &data, Padding::Method1),
            retail_mac(&key, &by_hand, Padding::Method1)
        );
        let by_hand = [0x12u8, 0x34, 0x80, 0, 0, 0, 0, 0];
        assert_eq!(
            retail_mac(&key, &data, Padding::Method2),
            retail_mac(&key, &by_hand, Padding::Method1)
        );
        assert_eq!(
            retail_mac(&key, &[], Padding::Method1),
            retail_mac(&key, &[0; 8], Padding::Method1)
        );
        assert_ne!(
            retail_mac(&key, &[0; 8], Padding::Method1),
            retail_mac(&key, &[0; 8], Padding::Method2)
        );
    }
}
