//! BIN lookup: which brand, issuer, card type and country a card number
//! belongs to, from the shipped tables, and the support policy over them.

pub mod policy;
