//! The cardholder's name as typed at binding: a Chinese name (Han characters,
//! with the middle dot of transliterated names) or a Latin one. It keeps what
//! was typed and a canonical form, used to compare with the wallet's real name.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{DomainError, ErrorCode};

/// Han names: at least a surname and a given name. The upper bound is generous
/// because transliterated minority names (several parts joined by middle dots)
/// run much longer than the usual two to four characters.
pub const HAN_MIN_CHARS: usize = 2;
pub const HAN_MAX_CHARS: usize = 30;
/// Latin names, counted in the canonical form (whitespace collapsed).
pub const LATIN_MIN_CHARS: usize = 2;
pub const LATIN_MAX_CHARS: usize = 64;

/// The one middle dot the canonical form uses.
const MIDDLE_DOT: char = '\u{00B7}';

/// Which writing a name is in. A name is one or the other, never both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameScript {
    Han,
    Latin,
}

/// A holder name that passed the checks. Names are personal data: `Debug`
/// prints only the masked form, there is no `Display`, and the text is wiped
/// on drop. Two names are `==` exactly when [`names_match`] says so.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct HolderName {
    typed: String,
    normalized: String,
    #[zeroize(skip)]
    script: NameScript,
}

impl HolderName {
    /// Accepts a Chinese name (Han characters, optionally parts joined by a
    /// middle dot in any of its common spellings, spaces ignored) or a Latin
    /// name (letters, accented ones too, spaces, hyphens, apostrophes and
    /// periods). Digits, other symbols, mixed scripts or an empty name are
    /// `invalid_holder_name` with `param: "holder_name"`.
    pub fn parse(input: &str) -> Result<HolderName, DomainError> {
        let typed = input.trim();
        let has_han = typed.chars().any(is_han);
        let has_latin = typed.chars().any(is_latin_letter);
        let (script, normalized) = match (has_han, has_latin) {
            (true, false) => (NameScript::Han, normalize_han(typed)?),
            (false, true) => (NameScript::Latin, normalize_latin(typed)?),
            _ => return Err(invalid()),
        };
        Ok(HolderName {
            typed: typed.to_owned(),
            normalized,
            script,
        })
    }

    /// What the person typed, trimmed.
    pub fn as_str(&self) -> &str {
        &self.typed
    }

    /// The canonical form: Han names without spaces and with every middle dot
    /// as U+00B7; Latin names in upper case, fullwidth letters as ASCII,
    /// letters with combining accents composed, whitespace collapsed to one
    /// space, typographic apostrophes and hyphens as ASCII.
    ///
    /// What it cannot fold without Unicode tables: traditional and simplified
    /// Han characters, CJK compatibility ideographs, and the order of several
    /// combining marks on one letter. Those names simply do not match.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    pub fn script(&self) -> NameScript {
        self.script
    }

    /// The name as a support console may show it: a Han name keeps only its
    /// last character ("*三", "**·***美"), a Latin name the first letter of each
    /// word ("Z**** S**").
    pub fn masked(&self) -> String {
        match self.script {
            NameScript::Han => {
                let count = self.normalized.chars().count();
                self.normalized
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if c == MIDDLE_DOT || i + 1 == count {
                            c
                        } else {
                            '*'
                        }
                    })
                    .collect()
            }
            NameScript::Latin => {
                let mut word_start = true;
                self.normalized
                    .chars()
                    .map(|c| {
                        let shown = if c == ' ' || c == '-' || word_start {
                            c
                        } else {
                            '*'
                        };
                        word_start = c == ' ' || c == '-';
                        shown
                    })
                    .collect()
            }
        }
    }
}

/// True when two holder names are the same after normalization.
///
/// Deliberately strict: equality of the canonical forms, nothing more.
/// Normalization removes only differences of typing (spacing, case, fullwidth
/// forms, spellings of the middle dot, composed or combining accents) that
/// never tell two people apart. Reordering parts would: "SAN ZHANG" and "ZHANG
/// SAN" can be two different people, and a card in someone else's name must
/// not pass the real-name check. A Han name never matches a Latin (pinyin)
/// spelling: converting needs a dictionary and is ambiguous for polyphonic
/// characters; issuers that check the pinyin (credit cards) do it themselves.
pub fn names_match(a: &HolderName, b: &HolderName) -> bool {
    a.normalized == b.normalized
}

impl PartialEq for HolderName {
    fn eq(&self, other: &Self) -> bool {
        names_match(self, other)
    }
}

impl Eq for HolderName {}

impl fmt::Debug for HolderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HolderName({})", self.masked())
    }
}

fn invalid() -> DomainError {
    DomainError::new(ErrorCode::InvalidHolderName).with_param("holder_name")
}

/// CJK Unified Ideographs with extensions A to I, and the compatibility
/// ideographs. Rare characters from the extensions do occur in real names.
fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{323AF}')
}

/// The middle dot as people actually type it on Chinese, Japanese and Western
/// keyboards. U+0387 is canonically the same character as U+00B7.
fn is_middle_dot(c: char) -> bool {
    matches!(
        c,
        '\u{00B7}'
            | '\u{0387}'
            | '\u{30FB}'
            | '\u{2022}'
            | '\u{FF0E}'
            | '\u{2027}'
            | '\u{FF65}'
            | '\u{2219}'
    )
}

/// Latin letters: ASCII, Latin-1, Latin Extended-A, -B and -C, Latin Extended
/// Additional (Vietnamese), and their fullwidth ASCII forms.
fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c,
            '\u{00C0}'..='\u{00D6}'
            | '\u{00D8}'..='\u{00F6}'
            | '\u{00F8}'..='\u{024F}'
            | '\u{1E00}'..='\u{1EFF}'
            | '\u{2C60}'..='\u{2C7F}'
            | '\u{FF21}'..='\u{FF3A}'
            | '\u{FF41}'..='\u{FF5A}')
}

fn is_combining_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// Invisible characters that come along when a name is pasted from a chat.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

fn normalize_han(typed: &str) -> Result<String, DomainError> {
    let mut out = String::with_capacity(typed.len());
    let mut dot_pending = false;
    for c in typed.chars() {
        if c.is_whitespace() || is_invisible(c) {
            continue;
        }
        if is_han(c) {
            if dot_pending {
                out.push(MIDDLE_DOT);
                dot_pending = false;
            }
            out.push(c);
        } else if is_middle_dot(c) || c == '.' {
            // A dot only joins two parts: not first, not doubled.
            if out.is_empty() || dot_pending {
                return Err(invalid());
            }
            dot_pending = true;
        } else {
            return Err(invalid());
        }
    }
    let count = out.chars().count();
    if dot_pending || !(HAN_MIN_CHARS..=HAN_MAX_CHARS).contains(&count) {
        return Err(invalid());
    }
    Ok(out)
}

fn normalize_latin(typed: &str) -> Result<String, DomainError> {
    let mut out = String::with_capacity(typed.len());
    let mut letters = 0usize;
    let mut space_pending = false;
    for c in typed.chars() {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            space_pending = !out.is_empty();
            continue;
        }
        if space_pending {
            out.push(' ');
            space_pending = false;
        }
        // Upper-casing first makes "é" and "e" + U+0301 meet the same table;
        // the folded result is checked, so the canonical form parses back
        // to itself.
        for upper in fold_fullwidth(c).to_uppercase() {
            push_latin(&mut out, fold_latin_punctuation(upper), &mut letters)?;
        }
    }
    let ends_well = out
        .chars()
        .next_back()
        .is_some_and(|c| is_latin_letter(c) || is_combining_mark(c) || c == '.');
    let count = out.chars().count();
    if !ends_well || letters < 2 || !(LATIN_MIN_CHARS..=LATIN_MAX_CHARS).contains(&count) {
        return Err(invalid());
    }
    Ok(out)
}

/// Appends one upper-case character of a Latin name, or refuses the name.
fn push_latin(out: &mut String, c: char, letters: &mut usize) -> Result<(), DomainError> {
    let previous = out.chars().next_back();
    if is_latin_letter(c) {
        *letters += 1;
        out.push(c);
    } else if is_combining_mark(c) {
        // A mark belongs to the letter before it.
        if !previous.is_some_and(|p| is_latin_letter(p) || is_combining_mark(p)) {
            return Err(invalid());
        }
        push_composed(out, c);
    } else if matches!(c, '-' | '\'' | '.') {
        // Punctuation joins or ends words: never first, never doubled.
        if previous.is_none_or(|p| p == ' ' || p == c) {
            return Err(invalid());
        }
        out.push(c);
    } else {
        return Err(invalid());
    }
    Ok(())
}

/// Fullwidth ASCII (U+FF01..U+FF5E) to ASCII; other characters unchanged.
fn fold_fullwidth(c: char) -> char {
    if ('\u{FF01}'..='\u{FF5E}').contains(&c) {
        char::from_u32(u32::from(c) - 0xFF01 + 0x21).unwrap_or(c)
    } else {
        c
    }
}

/// Typographic apostrophes and hyphens, as phones auto-correct them, to ASCII.
fn fold_latin_punctuation(c: char) -> char {
    match c {
        '\u{2019}' | '\u{02BC}' => '\'',
        '\u{2010}'..='\u{2013}' => '-',
        other => other,
    }
}

/// Appends a combining mark, composing it with the letter before it when
/// Unicode has a precomposed upper-case letter for the pair (the NFC result).
fn push_composed(out: &mut String, mark: char) {
    let composed = out.chars().next_back().and_then(|base| compose(base, mark));
    match composed {
        Some(letter) => {
            out.pop();
            out.push(letter);
        }
        None => out.push(mark),
    }
}

fn compose(base: char, mark: char) -> Option<char> {
    let (_, bases, letters) = COMPOSITIONS.iter().find(|(m, _, _)| *m == mark)?;
    let index = bases.chars().position(|b| b == base)?;
    letters.chars().nth(index)
}

/// Canonical compositions whose result is an upper-case Latin letter (in
/// U+00C0..U+024F and U+1E00..U+1EFF), by combining mark: the n-th base plus
/// the mark is the n-th letter. Generated from the Unicode 14 character
/// database; a base may itself be composed (Ü + macron is Ǖ, for pinyin).
const COMPOSITIONS: &[(char, &str, &str)] = &[
    ('\u{300}', "AEIOUÜNĒŌWÂĂÊÔƠƯY", "ÀÈÌÒÙǛǸḔṐẀẦẰỀỒỜỪỲ"),
    (
        '\u{301}',
        "AEIOUYCLNRSZÜGÅÆØÇĒÏKMÕŌPŨWÂĂÊÔƠƯ",
        "ÁÉÍÓÚÝĆĹŃŔŚŹǗǴǺǼǾḈḖḮḰḾṌṒṔṸẂẤẮẾỐỚỨ",
    ),
    ('\u{302}', "AEIOUCGHJSWYZẠẸỌ", "ÂÊÎÔÛĈĜĤĴŜŴŶẐẬỆỘ"),
    ('\u{303}', "ANOIUVÂĂEÊÔƠƯY", "ÃÑÕĨŨṼẪẴẼỄỖỠỮỸ"),
    ('\u{304}', "AEIOUÜÄȦÆǪÖÕȮYGḶṚ", "ĀĒĪŌŪǕǞǠǢǬȪȬȰȲḠḸṜ"),
    ('\u{306}', "AEGIOUȨẠ", "ĂĔĞĬŎŬḜẶ"),
    (
        '\u{307}',
        "CEGIZAOBDFHMNPRSŚŠṢTWXY",
        "ĊĖĠİŻȦȮḂḊḞḢṀṄṖṘṠṤṦṨṪẆẊẎ",
    ),
    ('\u{308}', "AEIOUYHÕŪWX", "ÄËÏÖÜŸḦṎṺẄẌ"),
    ('\u{309}', "AÂĂEÊIOÔƠUƯY", "ẢẨẲẺỂỈỎỔỞỦỬỶ"),
    ('\u{30A}', "AU", "ÅŮ"),
    ('\u{30B}', "OU", "ŐŰ"),
    ('\u{30C}', "CDELNRSTZAIOUÜGKƷH", "ČĎĚĽŇŘŠŤŽǍǏǑǓǙǦǨǮȞ"),
    ('\u{30F}', "AEIORU", "ȀȄȈȌȐȔ"),
    ('\u{311}', "AEIORU", "ȂȆȊȎȒȖ"),
    ('\u{31B}', "OU", "ƠƯ"),
    ('\u{323}', "BDHKLMNRSTVWZAEIOƠUƯY", "ḄḌḤḲḶṂṆṚṢṬṾẈẒẠẸỊỌỢỤỰỴ"),
    ('\u{324}', "U", "Ṳ"),
    ('\u{325}', "A", "Ḁ"),
    ('\u{326}', "ST", "ȘȚ"),
    ('\u{327}', "CGKLNRSTEDH", "ÇĢĶĻŅŖŞŢȨḐḨ"),
    ('\u{328}', "AEIUO", "ĄĘĮŲǪ"),
    ('\u{32D}', "DELNTU", "ḒḘḼṊṰṶ"),
    ('\u{32E}', "H", "Ḫ"),
    ('\u{330}', "EIU", "ḚḬṴ"),
    ('\u{331}', "BDKLNRTZ", "ḆḎḴḺṈṞṮẔ"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn norm(input: &str) -> String {
        HolderName::parse(input)
            .unwrap_or_else(|e| panic!("{input:?} refused: {e}"))
            .normalized()
            .to_owned()
    }

    fn refused(input: &str) {
        let error = HolderName::parse(input)
            .err()
            .unwrap_or_else(|| panic!("{input:?} accepted"));
        assert_eq!(error.code, ErrorCode::InvalidHolderName, "{input:?}");
        assert_eq!(error.param.as_deref(), Some("holder_name"));
    }

    #[test]
    fn chinese_names() {
        assert_eq!(norm("张三"), "张三");
        assert_eq!(norm("  欧阳娜娜 "), "欧阳娜娜");
        assert_eq!(norm("张 三"), "张三");
        assert_eq!(norm("张\u{3000}三"), "张三");
        // Rare characters from extension A and B.
        assert_eq!(norm("刘䶮"), "刘䶮");
        assert_eq!(norm("王𪚥"), "王𪚥");
        let name = HolderName::parse(" 张 三").unwrap();
        assert_eq!(name.as_str(), "张 三");
        assert_eq!(name.script(), NameScript::Han);
    }

    #[test]
    fn every_middle_dot_folds_to_one() {
        for dot in [
            '\u{00B7}', '\u{0387}', '\u{30FB}', '\u{2022}', '\u{FF0E}', '\u{2027}', '\u{FF65}',
            '\u{2219}', '.',
        ] {
            assert_eq!(
                norm(&format!("阿沛{dot}阿旺晋美")),
                "阿沛·阿旺晋美",
                "{dot:?}"
            );
        }
        assert_eq!(norm("阿沛 · 阿旺晋美"), "阿沛·阿旺晋美");
        assert_eq!(norm("买买提・艾力・吐尔逊"), "买买提·艾力·吐尔逊");
    }

    #[test]
    fn bad_chinese_names() {
        for input in [
            "张",
            "·张三",
            "张三·",
            "张··三",
            "张·.三",
            "张3",
            "张三!",
            "张_三",
            "张San",
            "张三。",
        ] {
            refused(input);
        }
        assert!(HolderName::parse(&"张".repeat(HAN_MAX_CHARS)).is_ok());
        refused(&"张".repeat(HAN_MAX_CHARS + 1));
    }

    #[test]
    fn latin_names() {
        assert_eq!(norm("Zhang San"), "ZHANG SAN");
        assert_eq!(norm("  zhang \t  san "), "ZHANG SAN");
        assert_eq!(norm("Ｚｈａｎｇ\u{3000}Ｓａｎ"), "ZHANG SAN");
        assert_eq!(norm("O’Brien"), "O'BRIEN");
        assert_eq!(norm("Jean\u{2010}Pierre Dupont"), "JEAN-PIERRE DUPONT");
        assert_eq!(norm("J. R. R. Tolkien"), "J. R. R. TOLKIEN");
        assert_eq!(norm("Jr."), "JR.");
        assert_eq!(norm("Li"), "LI");
        assert_eq!(HolderName::parse("Li").unwrap().script(), NameScript::Latin);
    }

    #[test]
    fn accents_compose_whichever_way_they_were_typed() {
        assert_eq!(norm("José"), "JOSÉ");
        assert_eq!(norm("Jose\u{301}"), "JOSÉ");
        // Pinyin with tone marks: ü plus a tone, built from two marks.
        assert_eq!(norm("Lu\u{308}\u{30C} Bu\u{300}"), "LǙ BÙ");
        assert_eq!(norm("lǚ bù"), "LǙ BÙ");
        // Vietnamese: dot below, then circumflex (the canonical order).
        assert_eq!(norm("Nguye\u{323}\u{302}n"), "NGUYỆN");
        assert_eq!(norm("Nguyện"), "NGUYỆN");
        // No precomposed letter: the mark stays, after the letter.
        assert_eq!(norm("Q\u{301}i"), "Q\u{301}I");
    }

    #[test]
    fn bad_latin_names() {
        for input in [
            "",
            "   ",
            "A",
            "A.",
            "Z3",
            "Zhang_San",
            "Zhang, San",
            "-Zhang",
            "Zhang-",
            "Zha--ng",
            "O''Brien",
            "John Smith 2",
            "\u{301}Jose",
            "Jose \u{301}",
            "Zhang 😀",
            "Jean·Pierre",
            "Zhang@San",
            "ＺＨＡＮＧ１",
        ] {
            refused(input);
        }
        assert!(HolderName::parse(&"A".repeat(LATIN_MAX_CHARS)).is_ok());
        refused(&"A".repeat(LATIN_MAX_CHARS + 1));
    }

    #[test]
    fn pasted_invisible_characters_are_ignored() {
        assert_eq!(norm("\u{FEFF}张\u{200B}三"), "张三");
        assert_eq!(norm("Zhang\u{200D} San"), "ZHANG SAN");
    }

    #[test]
    fn matching_is_equality_after_normalization() {
        let m = |a: &str, b: &str| {
            names_match(
                &HolderName::parse(a).unwrap(),
                &HolderName::parse(b).unwrap(),
            )
        };
        assert!(m("张三", "张 三"));
        assert!(m("阿沛·阿旺晋美", "阿沛・阿旺晋美"));
        assert!(m("zhang san", "ZHANG  SAN"));
        assert!(m("Ｚｈａｎｇ Ｓａｎ", "zhang san"));
        assert!(!m("ZHANG SAN", "SAN ZHANG"));
        assert!(!m("张三", "ZHANG SAN"));
        assert!(!m("张三", "张叁"));
        assert!(!m("阿沛阿旺晋美", "阿沛·阿旺晋美"));
        assert_eq!(
            HolderName::parse("张 三").unwrap(),
            HolderName::parse("张三").unwrap()
        );
    }

    #[test]
    fn debug_prints_only_the_masked_name() {
        let name = HolderName::parse("张三").unwrap();
        assert_eq!(format!("{name:?}"), "HolderName(*三)");
        let name = HolderName::parse("阿沛·阿旺晋美").unwrap();
        assert_eq!(name.masked(), "**·***美");
        let name = HolderName::parse("zhang san-feng").unwrap();
        assert_eq!(format!("{name:?}"), "HolderName(Z**** S**-F***)");
    }

    #[test]
    fn composition_table_is_well_formed() {
        for (mark, bases, letters) in COMPOSITIONS {
            assert!(is_combining_mark(*mark));
            assert_eq!(bases.chars().count(), letters.chars().count(), "{mark:?}");
            for letter in letters.chars() {
                assert!(is_latin_letter(letter), "{letter}");
                assert_eq!(
                    letter.to_uppercase().collect::<String>(),
                    letter.to_string()
                );
            }
        }
        assert_eq!(compose('E', '\u{301}'), Some('É'));
        assert_eq!(compose('Ü', '\u{304}'), Some('Ǖ'));
        assert_eq!(compose('Q', '\u{301}'), None);
    }

    const HAN: &str = "张王李赵刘陈杨黄周吴欧阳娜买提艾力吐尔逊晋美䶮𪚥";

    fn han_name() -> impl Strategy<Value = Vec<String>> {
        let han: Vec<char> = HAN.chars().collect();
        prop::collection::vec(
            prop::collection::vec(prop::sample::select(han), 1..5)
                .prop_map(|chars| chars.into_iter().collect::<String>()),
            1..4,
        )
        .prop_filter("two characters at least", |parts| {
            parts.iter().map(|p| p.chars().count()).sum::<usize>() >= 2
        })
    }

    proptest! {
        #[test]
        fn han_spacing_and_dot_spelling_never_matter(
            parts in han_name(),
            dot in prop::sample::select(vec!['\u{00B7}', '\u{30FB}', '\u{2022}', '\u{FF0E}', '\u{2027}', '\u{FF65}', '\u{2219}', '.']),
        ) {
            let canonical = parts.join("·");
            let spaced: String = parts
                .join(&format!(" {dot} "))
                .chars()
                .flat_map(|c| [c, ' '])
                .collect();
            let a = HolderName::parse(&canonical).unwrap();
            let b = HolderName::parse(&spaced).unwrap();
            prop_assert_eq!(a.normalized(), canonical.as_str());
            prop_assert!(names_match(&a, &b));
        }

        #[test]
        fn latin_case_and_spacing_never_matter(words in prop::collection::vec("[a-zA-Z]{1,10}", 1..4), gap in "[ \t\u{3000}]{1,3}") {
            let name = words.join(" ");
            prop_assume!(name.chars().filter(char::is_ascii_alphabetic).count() >= 2);
            let a = HolderName::parse(&name).unwrap();
            let b = HolderName::parse(&words.join(&gap).to_lowercase()).unwrap();
            prop_assert!(names_match(&a, &b));
            prop_assert_eq!(a.normalized(), name.to_uppercase());
        }

        #[test]
        fn normalized_form_is_a_fixed_point(
            input in "[a-zA-Zéü'\\- .]{2,20}|[张三欧阳·・ ]{2,12}|[a-z\u{C0}-\u{24F}\u{1E00}-\u{1EFF}\u{300}-\u{36F}\u{2019} .-]{2,12}",
        ) {
            if let Ok(name) = HolderName::parse(&input) {
                let again = HolderName::parse(name.normalized()).unwrap();
                prop_assert_eq!(again.normalized(), name.normalized());
            }
        }

        #[test]
        fn a_digit_anywhere_is_refused(input in "[a-zA-Z张三 ]{0,8}[0-9０-９][a-zA-Z张三 ]{0,8}") {
            prop_assert!(HolderName::parse(&input).is_err());
        }
    }
}
