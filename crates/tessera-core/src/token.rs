//! Payment token issuance: the token PAN that stands in for a card number, the
//! token reference id, the token's expiry and the Payment Account Reference
//! (PAR) that links every token of one card without revealing it.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::bins::Brand;
use crate::card::luhn;
use crate::card::pan::Pan;
use crate::crypto::{self, CryptoError};
use crate::error::DomainError;
use crate::vault::{KeyRing, LookupPurpose};

pub mod lifecycle;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token BIN range {0:?} is not 6 to 8 digits")]
    InvalidRange(String),
    #[error(
        "token BIN range {prefix} for {brand} cards starts a real issuer's BIN: its tokens could be mistaken for cards. Configure a range that no BIN table row covers."
    )]
    RangeIsRealBin { brand: String, prefix: String },
    #[error("the card number is too short for token BIN range {0}")]
    CardTooShort(String),
    #[error("could not draw a token PAN distinct from the card number")]
    Exhausted,
    #[error("BIN controller id {0:?} is not 4 upper-case letters or digits")]
    InvalidBinControllerId(String),
    #[error(transparent)]
    Random(#[from] CryptoError),
}

/// The leading digits every token PAN of one brand starts with: 6 to 8
/// digits, and never the start of a real issuer's BIN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenBinRange(String);

impl TokenBinRange {
    pub fn new(prefix: &str) -> Result<TokenBinRange, TokenError> {
        let valid = (6..=8).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_digit());
        if valid {
            Ok(TokenBinRange(prefix.to_owned()))
        } else {
            Err(TokenError::InvalidRange(prefix.to_owned()))
        }
    }

    pub fn prefix(&self) -> &str {
        &self.0
    }

    /// The 6-digit BIN every token of this range carries.
    pub fn first6(&self) -> &str {
        self.0.get(..6).unwrap_or(&self.0)
    }

    /// True when `digits` starts with this range.
    pub fn contains(&self, digits: &str) -> bool {
        digits.starts_with(&self.0)
    }
}

impl TryFrom<String> for TokenBinRange {
    type Error = TokenError;

    fn try_from(prefix: String) -> Result<TokenBinRange, TokenError> {
        TokenBinRange::new(&prefix)
    }
}

impl From<TokenBinRange> for String {
    fn from(range: TokenBinRange) -> String {
        range.0
    }
}

impl fmt::Display for TokenBinRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Token BIN ranges per brand, from config (`[token_bins]` with keys
/// `unionpay`, `visa`, `mastercard`, `amex`, `jcb`, `fallback`; a missing key
/// keeps its default).
///
/// The defaults are checked by a test against every row of the shipped BIN
/// tables (`bins_cn.csv`, `bins_global_ccby.csv.gz`): none equals, starts or is
/// started by a real BIN. UnionPay (629990), Visa (471099) and Mastercard
/// (270599, 2-series) sit inside their scheme's range, as networks' own token
/// BINs do. Amex and JCB cannot: the global table lists every 6-digit BIN of
/// 34, 37 and 3528-3589, so their defaults (329990, 359990) and the fallback
/// for other brands (990000) sit in space no scheme range claims. Real
/// deployments configure the ranges their networks assign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenBinRanges {
    /// UnionPay cards, and China's domestic cards (they clear through UnionPay).
    pub unionpay: TokenBinRange,
    pub visa: TokenBinRange,
    pub mastercard: TokenBinRange,
    pub amex: TokenBinRange,
    pub jcb: TokenBinRange,
    /// Every other brand.
    pub fallback: TokenBinRange,
}

impl Default for TokenBinRanges {
    fn default() -> TokenBinRanges {
        let range = |prefix: &str| TokenBinRange(prefix.to_owned());
        TokenBinRanges {
            unionpay: range("629990"),
            visa: range("471099"),
            mastercard: range("270599"),
            amex: range("329990"),
            jcb: range("359990"),
            fallback: range("990000"),
        }
    }
}

impl TokenBinRanges {
    /// The range tokens of `brand` are issued from.
    pub fn for_brand(&self, brand: &Brand) -> &TokenBinRange {
        match brand {
            Brand::UnionPay | Brand::CnDomestic => &self.unionpay,
            Brand::Visa => &self.visa,
            Brand::Mastercard => &self.mastercard,
            Brand::Amex => &self.amex,
            Brand::Jcb => &self.jcb,
            _ => &self.fallback,
        }
    }

    /// Every configured range with its config key.
    pub fn all(&self) -> [(&'static str, &TokenBinRange); 6] {
        [
            ("unionpay", &self.unionpay),
            ("visa", &self.visa),
            ("mastercard", &self.mastercard),
            ("amex", &self.amex),
            ("jcb", &self.jcb),
            ("fallback", &self.fallback),
        ]
    }

    /// Checks every range against the BIN index at start-up, so a bad config
    /// fails before the first binding. `is_real_bin(prefix)` answers whether
    /// a real issuer's BIN row overlaps `prefix` (the row starts with it, or
    /// it starts with the row): `BinIndex::is_issued_prefix`.
    pub fn check(&self, is_real_bin: impl Fn(&str) -> bool) -> Result<(), TokenError> {
        for (brand, range) in self.all() {
            if is_real_bin(range.prefix()) {
                return Err(TokenError::RangeIsRealBin {
                    brand: brand.to_owned(),
                    prefix: range.prefix().to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// A token PAN: 12 to 19 digits, Luhn-valid, from a token BIN range. Less
/// sensitive than a PAN but handled the same way, so it is one: it prints
/// masked (first 6 + last 4) and is wiped from memory on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenPan(Pan);

impl TokenPan {
    /// Parses a token PAN as a merchant sends it; the same rules and error
    /// codes as a card number.
    pub fn parse(input: &str) -> Result<TokenPan, DomainError> {
        Pan::parse(input).map(TokenPan)
    }

    /// The full token PAN, for storage and for the token's own device; never
    /// log it.
    pub fn expose_digits(&self) -> &str {
        self.0.expose_digits()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn first6(&self) -> &str {
        self.0.first6()
    }

    pub fn last4(&self) -> &str {
        self.0.last4()
    }

    pub fn masked(&self) -> String {
        self.0.masked()
    }
}

impl fmt::Debug for TokenPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenPan({})", self.masked())
    }
}

impl fmt::Display for TokenPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Draws a token PAN for `card`: the card's length, starting with the brand's
/// token range (refused if `is_real_bin`, as in [`TokenBinRanges::check`], says
/// a real BIN overlaps it), random middle digits from the OS CSPRNG (uniform, no modulo
/// bias), a correct Luhn check digit, and never equal to the card. The store
/// must still enforce uniqueness across tokens (a unique index), and retry on
/// a collision.
pub fn issue_token_pan(
    card: &Pan,
    brand: &Brand,
    ranges: &TokenBinRanges,
    is_real_bin: impl Fn(&str) -> bool,
) -> Result<TokenPan, TokenError> {
    let range = ranges.for_brand(brand);
    if is_real_bin(range.prefix()) {
        return Err(TokenError::RangeIsRealBin {
            brand: brand.code().to_owned(),
            prefix: range.prefix().to_owned(),
        });
    }
    // Room for at least two random digits and the check digit.
    let random_len = card
        .len()
        .checked_sub(range.prefix().len() + 1)
        .filter(|&n| n >= 2)
        .ok_or_else(|| TokenError::CardTooShort(range.prefix().to_owned()))?;

    for _ in 0..16 {
        let mut digits = zeroize::Zeroizing::new(vec![0u8; random_len]);
        crypto::random_digits(&mut digits)?;
        let mut token = String::with_capacity(card.len());
        token.push_str(range.prefix());
        token.extend(digits.iter().map(|&d| char::from(d)));
        let Some(check) = luhn::check_digit(&token) else {
            token.zeroize();
            return Err(TokenError::Exhausted);
        };
        token.push(char::from(b'0' + check));
        let parsed = Pan::parse(&token);
        token.zeroize();
        let token = TokenPan(parsed.map_err(|_| TokenError::Exhausted)?);
        // Only possible when the card itself sits in the token range.
        if token.expose_digits() != card.expose_digits() {
            return Ok(token);
        }
    }
    Err(TokenError::Exhausted)
}

/// A token's reference id: `tok_` and 24 base32 characters (the time, then
/// 70 random bits).
/// Not secret: it names the token in APIs, logs and support tools.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenRef(String);

impl TokenRef {
    pub const PREFIX: &'static str = "tok_";

    /// A new reference: 24 characters of lowercase base32, the first ten
    /// the time (`crate::ids`), the rest 70 random bits. The time part is
    /// written with the same letters in ascending order, so that
    /// references sort by time and parse as before.
    pub fn generate() -> Result<TokenRef, TokenError> {
        let body = crate::ids::time_ordered(BASE32_LOWER_SORTED, 24)?;
        Ok(TokenRef(format!("{}{body}", Self::PREFIX)))
    }

    pub fn parse(text: &str) -> Option<TokenRef> {
        let body = text.strip_prefix(Self::PREFIX)?;
        let valid = body.len() == 24 && body.bytes().all(|b| BASE32_LOWER.contains(&b));
        valid.then(|| TokenRef(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TokenRef {
    type Error = String;

    fn try_from(text: String) -> Result<TokenRef, String> {
        TokenRef::parse(&text).ok_or_else(|| format!("{text:?} is not a token reference"))
    }
}

impl From<TokenRef> for String {
    fn from(token_ref: TokenRef) -> String {
        token_ref.0
    }
}

impl fmt::Display for TokenRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest a token lives before it must be renewed, in months.
pub const MAX_TOKEN_LIFETIME_MONTHS: u32 = 36;

/// A token's expiry (month 1-12, four-digit year): the card's own expiry, or
/// 36 months after the current month if that comes first. A token thus never
/// outlives its card, and a card with a far-off expiry still gets its token
/// renewed (new keys, new expiry) at least every three years. `today` is the
/// date in the wallet's time zone; the card's expiry is taken as validated.
pub fn token_expiry(card_expiry_month: u32, card_expiry_year: i32, today: NaiveDate) -> (u32, i32) {
    let months = today.year() * 12 + today.month0() as i32 + MAX_TOKEN_LIFETIME_MONTHS as i32;
    let cap = (months.rem_euclid(12) as u32 + 1, months.div_euclid(12));
    if (card_expiry_year, card_expiry_month) <= (cap.1, cap.0) {
        (card_expiry_month, card_expiry_year)
    } else {
        cap
    }
}

/// The 4-character id of the BIN controller that assigns PARs; the first four
/// characters of every PAR.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BinControllerId(String);

impl BinControllerId {
    pub fn new(id: &str) -> Result<BinControllerId, TokenError> {
        let valid = id.len() == 4
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if valid {
            Ok(BinControllerId(id.to_owned()))
        } else {
            Err(TokenError::InvalidBinControllerId(id.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `T001`: a placeholder until a scheme assigns one.
impl Default for BinControllerId {
    fn default() -> BinControllerId {
        BinControllerId("T001".to_owned())
    }
}

impl TryFrom<String> for BinControllerId {
    type Error = TokenError;

    fn try_from(id: String) -> Result<BinControllerId, TokenError> {
        BinControllerId::new(&id)
    }
}

impl From<BinControllerId> for String {
    fn from(id: BinControllerId) -> String {
        id.0
    }
}

/// The Payment Account Reference: 29 upper-case letters and digits, the BIN
/// controller id then 25 characters of an HMAC of the PAN under the ring's PAR
/// key. Every token of one card shares it; without the key it says nothing
/// about the card. Store it on the card: when an issuer replaces the card
/// number, the card keeps its PAR rather than deriving a new one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Par(String);

impl Par {
    pub const LEN: usize = 29;

    pub fn derive(ring: &KeyRing, bin_controller: &BinControllerId, pan: &Pan) -> Par {
        let mac = ring.keyed_hash(LookupPurpose::Par, pan.expose_digits().as_bytes());
        // 16 bytes give 26 base32 characters; 25 of them carry 125 bits.
        let mut encoded = base32(&mac[..16], BASE32_UPPER);
        encoded.truncate(Par::LEN - 4);
        Par(format!("{}{encoded}", bin_controller.as_str()))
    }

    pub fn parse(text: &str) -> Option<Par> {
        let valid = text.len() == Par::LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        valid.then(|| Par(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn bin_controller_id(&self) -> &str {
        self.0.get(..4).unwrap_or(&self.0)
    }
}

impl TryFrom<String> for Par {
    type Error = String;

    fn try_from(text: String) -> Result<Par, String> {
        Par::parse(&text).ok_or_else(|| format!("{text:?} is not a PAR"))
    }
}

impl From<Par> for String {
    fn from(par: Par) -> String {
        par.0
    }
}

impl fmt::Display for Par {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const BASE32_LOWER: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// `BASE32_LOWER`'s letters in byte order, for ids that sort by time.
const BASE32_LOWER_SORTED: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
const BASE32_UPPER: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding.
fn base32(bytes: &[u8], alphabet: &[u8; 32]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u16 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(alphabet[usize::from((buffer >> bits) & 31)]));
        }
    }
    if bits > 0 {
        out.push(char::from(
            alphabet[usize::from((buffer << (5 - bits)) & 31)],
        ));
    }
    out
}

#[cfg(test)]
mod tests;
