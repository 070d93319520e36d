//! The catalogue as data: one row per [`ErrorCode`](super::ErrorCode), in the
//! enum's order. The rows are kept in four files only to keep each short;
//! they are joined here into the one table.

mod binding;
mod money;
mod safety;
mod service;

use super::CatalogEntry;

/// The catalogue itself, one entry per code, in the enum's order.
pub static CATALOGUE: [CatalogEntry; 71] = join(&FIRST_THREE, &safety::ROWS);

const FIRST_TWO: [CatalogEntry; 57] = join(&binding::ROWS, &service::ROWS);
const FIRST_THREE: [CatalogEntry; 67] = join(&FIRST_TWO, &money::ROWS);

/// `a` then `b`, as one array (at compile time).
const fn join<const A: usize, const B: usize, const N: usize>(
    a: &[CatalogEntry; A],
    b: &[CatalogEntry; B],
) -> [CatalogEntry; N] {
    assert!(A + B == N, "the two parts must fill the catalogue exactly");
    let mut out = [a[0]; N];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - A];
        i += 1;
    }
    out
}
