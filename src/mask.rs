//! PCI: nothing stores, logs or shows more of a card number than first 6 / last 4.
//!
//! Three rules, and in a JSON frame the key decides which one a value gets:
//!
//! - **Card fields** (`card_no` and the like, see `CARD_KEYS`): always masked, whatever
//!   their checksum (a terminal may send a test or corrupted PAN).
//! - **Reference fields** (`trans_no`, `ref_no`, `auth_code`, order numbers, the
//!   original's references, our own `request_id`/`msg_id` and `timestamp`, see
//!   `REFERENCE_KEYS`): keep their digits, unless a card number *by issuer range* is in
//!   them (Luhn-valid and a real network prefix and length, see `ISSUERS`). A processor's
//!   16-digit transaction number passes Luhn one time in ten: the plain PCI rule would
//!   destroy the number reconciliation needs. In a frame, a reference led by a day the
//!   frame itself names (`trans_end_time` and other date or time fields, as YYYYMMDD or
//!   YYMMDD) is a reference: processors number by the transaction's day, and a
//!   YYMMDD lead of 22 to 27 would otherwise read as Mastercard's 2-series.
//! - **Everything else** (free text, unknown fields, key names, text that is not JSON):
//!   the PCI rule, any run of 13 to 19 digits passing Luhn.
//!
//! A run is found however it is spelled. Digits are any Unicode decimal digits
//! (`4111`, `４１１１`, `٤١١١`, JSON `\u0034`), and digit groups are joined by any
//! number of separators: spaces of every kind (no-break, thin, ideographic, zero-width),
//! tabs and line breaks, dots, dashes of every kind, `+`, and the percent-encoded forms
//! (`%20`, `%C2%A0`, ...). Within such a chain every stretch of whole groups holding 13 to
//! 19 digits is a candidate, so a card number written after other numbers (`ref 12 4111
//! 1111 1111 1111`) is found too. A run is never cut inside a group: `41111111111111110`
//! is a 17-digit number, not a card number with a digit stuck to it. Masking replaces
//! every digit but the first 6 and the last 4 of a card number by `*` and keeps the rest
//! of the spelling.

use std::borrow::Cow;

use crate::visible;
use serde_json::Value;

const MIN_DIGITS: usize = 13;
const MAX_DIGITS: usize = 19;

/// Keys (compared by `key_is`: case and `_`/`-` ignored) whose value is a card number by
/// definition.
const CARD_KEYS: [&str; 7] = [
    "cardno",
    "cardnumber",
    "pan",
    "maskedpan",
    "maskedcardno",
    "primaryaccountnumber",
    "origcardno",
];

/// Keys whose value is a reference the business needs whole (reconciliation, matching a
/// reply, reading a log): masked only where a card number by issuer range is in it.
const REFERENCE_KEYS: [&str; 11] = [
    "transno",
    "origtransno",
    "refno",
    "origrefno",
    "authcode",
    "origauthcode",
    "merchantorderno",
    "origmerchantorderno",
    "requestid",
    "msgid",
    "timestamp",
];

/// How a value is masked; in JSON, its key decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Every digit but the first 6 and last 4, whatever the checksum.
    Card,
    /// Only card numbers by issuer range (`is_issuer_card_number`).
    Reference,
    /// The PCI rule: every 13 to 19 digit run passing Luhn.
    Text,
}

/// The rule for the value of `key`.
pub(crate) fn rule_for(key: &str) -> Rule {
    if CARD_KEYS.iter().any(|k| key_is(key, k)) {
        Rule::Card
    } else if REFERENCE_KEYS.iter().any(|k| key_is(key, k)) {
        Rule::Reference
    } else {
        Rule::Text
    }
}

/// `key` names `name` (lower case, no separators): `trans_no`, `transNo`, `TRANS-NO`
/// all name `transno`.
fn key_is(key: &str, name: &str) -> bool {
    let mut letters = key
        .bytes()
        .filter(|b| !matches!(b, b'_' | b'-'))
        .map(|b| b.to_ascii_lowercase());
    name.bytes().all(|n| letters.next() == Some(n)) && letters.next().is_none()
}

/// One card network's numbers: the first `prefix_digits` digits lie in `low..=high`
/// and the number has one of `lengths` digits.
struct Issuer {
    prefix_digits: usize,
    low: u32,
    high: u32,
    lengths: &'static [usize],
}

const fn issuer(prefix_digits: usize, low: u32, high: u32, lengths: &'static [usize]) -> Issuer {
    Issuer {
        prefix_digits,
        low,
        high,
        lengths,
    }
}

const L16_19: &[usize] = &[16, 17, 18, 19];

/// Issuer ranges of the card networks a European or Asian register may see (the
/// networks' published IIN ranges; only lengths 13-19 matter here, the PCI range).
/// A prefix outside all of these is no card, whatever its checksum: a date-prefixed
/// `20261203…` never matches, so processors' date-prefixed references survive.
const ISSUERS: [Issuer; 17] = [
    // Visa
    issuer(1, 4, 4, &[13, 16, 19]),
    // Mastercard, its 2-series, and Mir
    issuer(2, 51, 55, &[16]),
    issuer(4, 2221, 2720, &[16]),
    issuer(4, 2200, 2204, &[16, 17, 18, 19]),
    // American Express
    issuer(2, 34, 34, &[15]),
    issuer(2, 37, 37, &[15]),
    // Discover
    issuer(4, 6011, 6011, L16_19),
    issuer(3, 644, 649, L16_19),
    issuer(2, 65, 65, L16_19),
    // JCB
    issuer(4, 3528, 3589, L16_19),
    // Diners Club
    issuer(3, 300, 305, &[14, 15, 16, 17, 18, 19]),
    issuer(4, 3095, 3095, &[14, 15, 16, 17, 18, 19]),
    issuer(2, 36, 36, &[14, 15, 16, 17, 18, 19]),
    issuer(2, 38, 39, &[16, 17, 18, 19]),
    // UnionPay
    issuer(2, 62, 62, L16_19),
    // Maestro (its 60-69 also covers RuPay's 60 and 65)
    issuer(2, 50, 50, &[12, 13, 14, 15, 16, 17, 18, 19]),
    issuer(2, 56, 69, &[12, 13, 14, 15, 16, 17, 18, 19]),
];

/// Whether `digits` (values 0-9) is a card number by the PCI rule: 13 to 19 digits
/// passing Luhn.
fn pci_card(digits: &[u8]) -> bool {
    (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) && luhn_valid(digits)
}

/// Whether `digits` (values 0-9) is a card number by issuer range: the PCI rule, and
/// a prefix and length some network issues.
fn issuer_card(digits: &[u8]) -> bool {
    pci_card(digits)
        && ISSUERS.iter().any(|i| {
            i.lengths.contains(&digits.len())
                && (i.low..=i.high).contains(&prefix_value(digits, i.prefix_digits))
        })
}

fn prefix_value(digits: &[u8], n: usize) -> u32 {
    digits
        .iter()
        .take(n)
        .fold(0, |acc, &d| acc * 10 + u32::from(d))
}

/// Masks every card number in `text` by the PCI rule, however spelled:
/// 4111111111111111 becomes 411111******1111 and 4111 1111 1111 1111 becomes
/// 4111 11** **** 1111.
pub fn mask_pans(text: &str) -> Cow<'_, str> {
    mask_runs(text, pci_card)
}

/// `mask_pans` for an owned string: no copy when there is nothing to mask.
pub(crate) fn mask_pans_owned(text: String) -> String {
    match mask_pans(&text) {
        Cow::Owned(masked) => masked,
        Cow::Borrowed(_) => text,
    }
}

/// Masks a reference (a transaction number, an order number, an id, a timestamp): only
/// what is a card number by issuer range, however spelled, so the digits the business
/// needs survive.
pub(crate) fn mask_reference(text: &str) -> Cow<'_, str> {
    mask_runs(text, issuer_card)
}

/// Text from outside (a terminal's name, an app name) as shown to a person: card
/// numbers masked, control characters (escape sequences) shown as escapes
/// (`crate::visible`), at most 64 characters.
pub(crate) fn outside_line(text: &str) -> String {
    let line: String = text.chars().take(64).collect();
    visible::visible(&mask_pans_owned(line)).into_owned()
}

/// The last four characters of a masked card number (all of a shorter one): what a
/// screen shows and a search matches.
pub(crate) fn last_four(card: &str) -> String {
    let start = card.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
    card[start..].to_string()
}

/// Masks a value known to be a card number: all but the first 6 and last 4 digits (of
/// any script).
pub(crate) fn mask_card_no(text: &str) -> String {
    let digits = text.chars().filter(|&c| digit_value(c).is_some()).count();
    if digits <= 10 {
        return text.to_string();
    }
    let mut seen = 0;
    text.chars()
        .map(|c| {
            if digit_value(c).is_none() {
                return c;
            }
            seen += 1;
            if seen > 6 && seen <= digits - 4 {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// Masks card numbers anywhere in a JSON value, each value by the rule its key decides
/// (`rule_for`); under a card key everything is a card. Key names are text: a key can
/// be a card number too.
pub(crate) fn mask_json(value: Value) -> Value {
    let mut days = Vec::new();
    frame_days(&value, &mut days);
    mask_value(value, Rule::Text, &days)
}

/// A day as its eight digit values, YYYYMMDD.
type Day = [u8; 8];

/// The days the date and time fields of a frame name (`trans_end_time`,
/// `create_date`, ...): `2026-12-03 10:00:00`, `2026/12/03`, `20261203100000`.
fn frame_days(value: &Value, days: &mut Vec<Day>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = k.to_ascii_lowercase();
                match v {
                    Value::String(text) if key.contains("time") || key.contains("date") => {
                        days.extend(day_of(text));
                    }
                    other => frame_days(other, days),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| frame_days(v, days)),
        _ => {}
    }
}

/// The day `text` begins with, its date's separators skipped.
fn day_of(text: &str) -> Option<Day> {
    let mut day = [0u8; 8];
    let mut n = 0;
    for c in text.chars().take(10) {
        match c {
            '0'..='9' if n < 8 => {
                day[n] = c as u8 - b'0';
                n += 1;
            }
            '-' | '/' | '.' if n == 4 || n == 6 => {}
            _ => break,
        }
    }
    // This century only: a made-up "date" such as 4111-11-11 must not shield the card
    // number it spells.
    let month = day[4] * 10 + day[5];
    let date = day[6] * 10 + day[7];
    let plausible = day[..2] == [2, 0] && (1..=12).contains(&month) && (1..=31).contains(&date);
    (n == 8 && plausible).then_some(day)
}

/// A card number by issuer range in a reference field, unless led by a day its frame
/// names (YYYYMMDD or YYMMDD).
fn reference_card(digits: &[u8], days: &[Day]) -> bool {
    issuer_card(digits)
        && !days
            .iter()
            .any(|d| digits.starts_with(d) || digits.starts_with(&d[2..]))
}

fn mask_value(value: Value, rule: Rule, days: &[Day]) -> Value {
    match value {
        Value::String(s) => Value::String(mask_string(s, rule, days)),
        Value::Number(n) => mask_number(n, rule, days),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| mask_value(v, rule, days))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let inner = match rule {
                        Rule::Card => Rule::Card,
                        _ => rule_for(&k),
                    };
                    (mask_pans_owned(k), mask_value(v, inner, days))
                })
                .collect(),
        ),
        other => other,
    }
}

/// `text` masked by `rule`, in a frame naming `days`.
fn mask_by<'a>(text: &'a str, rule: Rule, days: &[Day]) -> Cow<'a, str> {
    match rule {
        Rule::Card => {
            let masked = mask_card_no(text);
            if masked == text {
                Cow::Borrowed(text)
            } else {
                Cow::Owned(masked)
            }
        }
        Rule::Reference => mask_runs(text, |digits| reference_card(digits, days)),
        Rule::Text => mask_pans(text),
    }
}

fn mask_number(n: serde_json::Number, rule: Rule, days: &[Day]) -> Value {
    let literal = n.to_string();
    match mask_by(&literal, rule, days) {
        Cow::Borrowed(_) => Value::Number(n),
        Cow::Owned(masked) => Value::String(masked),
    }
}

/// A string value; one that holds JSON (a terminal may send `biz_data` serialized into
/// a string) is masked as JSON, so its keys decide too, and its days count.
fn mask_string(s: String, rule: Rule, days: &[Day]) -> String {
    let trimmed = s.trim_start();
    let looks_like_json = trimmed.starts_with('{') || trimmed.starts_with('[');
    if let Some(inner) = looks_like_json
        .then(|| serde_json::from_str::<Value>(&s).ok())
        .flatten()
    {
        let mut days = days.to_vec();
        frame_days(&inner, &mut days);
        let masked = mask_value(inner.clone(), rule, &days);
        // Unchanged: the text keeps its own spelling.
        return if masked == inner {
            s
        } else {
            masked.to_string()
        };
    }
    match mask_by(&s, rule, days) {
        Cow::Borrowed(_) => s,
        Cow::Owned(masked) => masked,
    }
}

/// Masks a raw frame for the wire log, the journal's raw copy and the log file, field
/// by field (`mask_json`). A frame that is not JSON cannot be read for its keys, so
/// every 13 to 19 digit run in it (in any spelling) is masked, Luhn or not.
pub fn mask_frame(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => mask_json(value).to_string(),
        Err(_) => mask_runs(text, |_| true).into_owned(),
    }
}

/// Masks a log line: each JSON object in it (a frame logged whole) field by field, as
/// in the wire log, and the words around them by the PCI rule.
pub fn mask_line(text: &str) -> Cow<'_, str> {
    if !text.contains('{') {
        return mask_pans(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| from + i) {
        let mut values =
            serde_json::Deserializer::from_str(&text[open..]).into_iter::<serde_json::Value>();
        match values.next() {
            Some(Ok(value @ Value::Object(_))) => {
                let end = open + values.byte_offset();
                out.push_str(&mask_pans(&text[done..open]));
                out.push_str(&mask_json(value).to_string());
                done = end;
                from = end;
            }
            _ => from = open + 1,
        }
    }
    if done == 0 {
        return mask_pans(text);
    }
    out.push_str(&mask_pans(&text[done..]));
    Cow::Owned(out)
}

/// Shows enough of an app id to recognise it, not enough to reuse it.
pub(crate) fn mask_app_id(app_id: &str) -> String {
    let chars: Vec<char> = app_id.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 6))
}

/// The zero of every run of ten Unicode decimal digits (general category Nd, Unicode
/// 17), in order. `char::to_digit` knows ASCII only and `char::is_numeric` also takes
/// `½`, `²` and `①`, which spell no card number; each Nd block is ten digits from zero.
const ND_ZEROS: [u32; 77] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x10D40, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x116D0, 0x116DA, 0x11730, 0x118E0, 0x11950, 0x11BF0, 0x11C50, 0x11D50,
    0x11DA0, 0x11DE0, 0x11F50, 0x16130, 0x16A60, 0x16AC0, 0x16B50, 0x16D70, 0x1CCF0, 0x1D7CE,
    0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E5F1, 0x1E950, 0x1FBF0,
];

/// The value of a decimal digit in any script (`'７'` is 7), None for anything else.
pub fn digit_value(c: char) -> Option<u8> {
    let code = u32::from(c);
    let index = ND_ZEROS.partition_point(|&zero| zero <= code);
    let zero = ND_ZEROS.get(index.checked_sub(1)?)?;
    u8::try_from(code - zero).ok().filter(|&d| d < 10)
}

/// Percent-encoded separators (compared ignoring case): space, tab, `+`, `-`, `.`,
/// no-break space, ideographic space.
const PERCENT_SEPARATORS: [&str; 7] = ["%20", "%09", "%2B", "%2D", "%2E", "%C2%A0", "%E3%80%80"];

/// A character that may stand between two digit groups of one spelled number.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | '-'
                | '+'
                | '\u{00AD}' // soft hyphen
                | '\u{00B7}' // middle dot
                | '\u{180E}' // Mongolian vowel separator (a space before Unicode 6.3)
                | '\u{200B}'..='\u{200D}' // zero-width space, non-joiner, joiner
                | '\u{2060}' // word joiner
                | '\u{FEFF}' // zero-width no-break space
                | '\u{2010}'..='\u{2015}' // hyphens and dashes
                | '\u{2024}' // one dot leader
                | '\u{2212}' // minus sign
                | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' // small and full-width dashes
                | '\u{FF0B}' | '\u{FF0E}' // full-width plus and full stop
        )
}

enum Token {
    Digit(u8),
    Separator,
    Other,
}

/// The token that starts at byte `i` of `text` (a char boundary), and its length.
fn token_at(text: &str, i: usize) -> (Token, usize) {
    let rest = &text[i..];
    let Some(c) = rest.chars().next() else {
        return (Token::Other, 1);
    };
    if let Some(d) = digit_value(c) {
        return (Token::Digit(d), c.len_utf8());
    }
    if is_separator(c) {
        return (Token::Separator, c.len_utf8());
    }
    match c {
        '%' => {
            let bytes = rest.as_bytes();
            for sep in PERCENT_SEPARATORS {
                if bytes.len() >= sep.len()
                    && bytes[..sep.len()].eq_ignore_ascii_case(sep.as_bytes())
                {
                    return (Token::Separator, sep.len());
                }
            }
            (Token::Other, 1)
        }
        // Escapes as they stand in raw (unparsed) JSON: `\t`, `\n`, `\u00a0`, `\u0034`.
        '\\' => {
            let bytes = rest.as_bytes();
            match bytes.get(1) {
                Some(b't' | b'n' | b'r') => (Token::Separator, 2),
                Some(b'u') => {
                    let escaped = rest
                        .get(2..6)
                        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                        .and_then(char::from_u32);
                    match escaped {
                        Some(e) => match digit_value(e) {
                            Some(d) => (Token::Digit(d), 6),
                            None if is_separator(e) => (Token::Separator, 6),
                            None => (Token::Other, 6),
                        },
                        None => (Token::Other, 1),
                    }
                }
                _ => (Token::Other, 1),
            }
        }
        _ => (Token::Other, c.len_utf8()),
    }
}

/// A digit of the text: its bytes and its value.
struct Digit {
    start: usize,
    end: usize,
    value: u8,
}

/// Masks, in every chain of digit groups (see the module's note), each stretch of whole
/// groups that holds 13 to 19 digits and that `is_card` accepts: all its digits but
/// the first 6 and the last 4 become `*`; separators stay. Stretches may overlap;
/// each is judged on the original digits and all their masks apply.
fn mask_runs(text: &str, is_card: impl Fn(&[u8]) -> bool) -> Cow<'_, str> {
    // Most text holds no digit at all: nothing to look at.
    if !text.bytes().any(|b| b.is_ascii_digit() || b >= 0x80) {
        return Cow::Borrowed(text);
    }
    let mut chain = Chain::default();
    let mut masked: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let (token, len) = token_at(text, i);
        match token {
            Token::Digit(value) => chain.push(Digit {
                start: i,
                end: i + len,
                value,
            }),
            Token::Separator => chain.gap(),
            Token::Other => chain.end(&is_card, &mut masked),
        }
        i += len;
    }
    chain.end(&is_card, &mut masked);
    if masked.is_empty() {
        return Cow::Borrowed(text);
    }
    masked.sort_unstable();
    masked.dedup();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in masked {
        out.push_str(&text[at..start]);
        out.push('*');
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// The digit groups seen since the last character that ends a chain.
#[derive(Default)]
struct Chain {
    digits: Vec<Digit>,
    /// Index in `digits` of each group's first digit.
    groups: Vec<usize>,
    /// A separator came after the last digit: the next digit starts a group.
    gap: bool,
    values: Vec<u8>,
}

impl Chain {
    fn push(&mut self, digit: Digit) {
        if self.digits.is_empty() || self.gap {
            self.groups.push(self.digits.len());
        }
        self.gap = false;
        self.digits.push(digit);
    }

    fn gap(&mut self) {
        self.gap = !self.digits.is_empty();
    }

    /// Judges every stretch of whole groups, records the digits to mask, starts afresh.
    fn end(&mut self, is_card: &impl Fn(&[u8]) -> bool, masked: &mut Vec<(usize, usize)>) {
        if self.digits.len() >= MIN_DIGITS {
            for (first, &start) in self.groups.iter().enumerate() {
                for last in first..self.groups.len() {
                    let end = self
                        .groups
                        .get(last + 1)
                        .copied()
                        .unwrap_or(self.digits.len());
                    let count = end - start;
                    if count > MAX_DIGITS {
                        break;
                    }
                    if count < MIN_DIGITS {
                        continue;
                    }
                    self.values.clear();
                    self.values
                        .extend(self.digits[start..end].iter().map(|d| d.value));
                    if is_card(&self.values) {
                        masked.extend(
                            self.digits[start + 6..end - 4]
                                .iter()
                                .map(|d| (d.start, d.end)),
                        );
                    }
                }
            }
        }
        self.digits.clear();
        self.groups.clear();
        self.gap = false;
    }
}

/// Whether `digits` is a card number by the PCI rule: 13 to 19 ASCII digits passing Luhn.
pub fn is_card_number(digits: &str) -> bool {
    digits.bytes().all(|b| b.is_ascii_digit()) && pci_card(&ascii_values(digits))
}

/// Whether `digits` is a card number by issuer range: 13 to 19 ASCII digits passing
/// Luhn, with a prefix and length a card network issues. What a reference field must
/// not keep.
pub fn is_issuer_card_number(digits: &str) -> bool {
    digits.bytes().all(|b| b.is_ascii_digit()) && issuer_card(&ascii_values(digits))
}

fn ascii_values(digits: &str) -> Vec<u8> {
    digits.bytes().map(|b| b.wrapping_sub(b'0')).collect()
}

/// Luhn over digit values (0-9).
fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn masks_luhn_valid_runs_only() {
        assert_eq!(mask_pans("4111111111111111"), "411111******1111");
        assert_eq!(
            mask_pans(r#"{"card_no":"4111111111111111"}"#),
            r#"{"card_no":"411111******1111"}"#
        );
        // Fails Luhn: an order or reference number, left alone.
        assert_eq!(mask_pans("4111111111111112"), "4111111111111112");
        // Too short and too long runs are not card numbers.
        assert_eq!(mask_pans("411111111116"), "411111111116");
        assert_eq!(mask_pans("41111111111111111113"), "41111111111111111113");
        assert_eq!(mask_pans("456331******3919"), "456331******3919");
        assert_eq!(
            mask_pans("a 4111111111111111 b 5555555555554444"),
            "a 411111******1111 b 555555******4444"
        );
        assert!(matches!(mask_pans("no digits"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_reference_led_by_its_frames_day_keeps_its_digits() {
        // 2612030000000003 passes Luhn and lies in Mastercard's 2-series.
        let reference = "2612030000000003";
        assert!(is_issuer_card_number(reference));
        let alone = json!({"biz_data": {"trans_no": reference}});
        assert!(!mask_json(alone).to_string().contains(reference));
        for when in ["2026-12-03 10:11:12", "20261203101112", "2026/12/03"] {
            let frame = json!({"biz_data": {"trans_no": reference, "trans_end_time": when}});
            assert!(mask_json(frame).to_string().contains(reference), "{when}");
        }
        // Another day, a date that is no date, or a card field: masked all the same.
        for when in ["2026-12-04 10:11:12", "2612-03-00", "4111-11-11"] {
            let frame = json!({"biz_data": {"trans_no": reference, "trans_end_time": when}});
            assert!(!mask_json(frame).to_string().contains(reference), "{when}");
        }
        let card = json!({"card_no": reference, "trans_end_time": "2026-12-03"});
        assert!(!mask_json(card).to_string().contains(reference));
        let visa = json!({"trans_no": "4111111111111111", "trans_end_time": "4111-11-11"});
        assert!(!mask_json(visa).to_string().contains("4111111111111111"));
        // In biz_data sent as a string, its own days count.
        let inner = json!({"trans_no": reference, "trans_end_time": "2026-12-03"}).to_string();
        let frame = json!({"biz_data": inner});
        assert!(mask_json(frame).to_string().contains(reference));
    }

    #[test]
    fn card_fields_are_masked_whatever_their_checksum() {
        assert_eq!(mask_card_no("4563311234563919"), "456331******3919");
        assert_eq!(mask_card_no("456331******3919"), "456331******3919");
        assert_eq!(mask_card_no("4563 3112 3456 3919"), "4563 31** **** 3919");
        assert_eq!(mask_card_no("1234"), "1234");
    }

    #[test]
    fn frames_are_masked_as_json_or_as_text() {
        let frame = r#"{"biz_data":{"card_no":"4563311234563919","trans_no":202611231200001234,"x":[4111111111111111]}}"#;
        let masked = mask_frame(frame);
        assert!(
            masked.contains(r#""card_no":"456331******3919""#),
            "{masked}"
        );
        assert!(masked.contains("202611231200001234"), "{masked}");
        assert!(masked.contains(r#""411111******1111""#), "{masked}");
        assert_eq!(
            mask_frame(r#"{"card_no":"4563311234563919"#),
            r#"{"card_no":"456331******3919"#
        );
    }

    #[test]
    fn app_ids_are_partly_masked() {
        assert_eq!(mask_app_id("wz6012822ca2f1as78"), "wz60************78");
        assert_eq!(mask_app_id("short"), "*****");
    }

    /// The digits of a text, separators (space, dash) dropped: what a reader could
    /// still put together from it.
    fn joined(text: &str) -> String {
        text.chars().filter(|c| !matches!(c, ' ' | '-')).collect()
    }

    #[test]
    fn spaced_and_dashed_card_numbers_are_masked() {
        assert_eq!(mask_pans("4111 1111 1111 1111"), "4111 11** **** 1111");
        assert_eq!(mask_pans("4111-1111-1111-1111"), "4111-11**-****-1111");
        // Mixed separators, and groups of any size (Amex 4-6-5, Diners 4-6-4).
        assert_eq!(mask_pans("4111 1111-1111 1111"), "4111 11**-**** 1111");
        assert_eq!(mask_pans("3782 822463 10005"), "3782 82**** *0005");
        assert_eq!(mask_pans("3056 930902 5904"), "3056 93**** 5904");
        assert_eq!(
            mask_pans("4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"),
            "4 1 1 1 1 1 * * * * * * 1 1 1 1"
        );
        // 19 digits.
        assert_eq!(
            mask_pans("6000 0000 0000 0000 004"),
            "6000 00** **** ***0 004"
        );
    }

    #[test]
    fn card_numbers_within_text_and_beside_other_digits() {
        assert_eq!(
            mask_pans("Declined card 4111 1111 1111 1111 / 4111-1111-1111-1111"),
            "Declined card 4111 11** **** 1111 / 4111-11**-****-1111"
        );
        assert_eq!(
            mask_pans("card:4111-1111-1111-1111."),
            "card:4111-11**-****-1111."
        );
        assert_eq!(
            mask_pans("PAN4111 1111 1111 1111x"),
            "PAN4111 11** **** 1111x"
        );
        // Other numbers in the same chain: the card number is a stretch of it.
        assert_eq!(
            mask_pans("ref 12 4111 1111 1111 1111 ok"),
            "ref 12 4111 11** **** 1111 ok"
        );
        assert_eq!(
            mask_pans("4111-1111-1111-1111-7 and 99 5555 5555 5555 4444"),
            "4111-11**-****-1111-7 and 99 5555 55** **** 4444"
        );
        assert_eq!(
            mask_pans("4111111111111111 5555555555554444"),
            "411111******1111 555555******4444"
        );
        // In quotes, in JSON text.
        assert_eq!(
            mask_pans(r#"{"msg":"4111 1111 1111 1111"}"#),
            r#"{"msg":"4111 11** **** 1111"}"#
        );
    }

    #[test]
    fn ordinary_numbers_are_left_alone() {
        for text in [
            "12.34",
            "amount 1234.56 tip 2.00",
            "2026-11-25 12:00:01",
            "2026/11/23 12:00:01",
            "L01-1124-000042",
            "C01-1124-999999",
            "L01-1124-000042 L01-1124-000043",
            "1 234 567.89",
            // 16 digits that fail the Luhn check, spelled every way.
            "4111 1111 1111 1112",
            "4111-1111-1111-1112",
            // A digit stuck to the card number makes another number.
            "41111111111111110",
            "4111 1111 1111 11110",
            // A separator at either end is not part of the number.
            "-4111-1111-1111-111-",
            "12 digits: 4111 1111 1116",
        ] {
            assert_eq!(mask_pans(text), text, "{text}");
            assert!(matches!(mask_pans(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn keys_and_card_shaped_timestamps_are_masked() {
        // 4111111111111111 is a Visa number by issuer range: a reference key keeps no card.
        let frame = r#"{"timestamp":"4111111111111111","t2":4111111111111111,"4111 1111 1111 1111":"x","biz_data":{"5555-5555-5555-4444":1}}"#;
        let masked = mask_frame(frame);
        assert!(
            masked.contains(r#""timestamp":"411111******1111""#),
            "{masked}"
        );
        assert!(masked.contains(r#""t2":"411111******1111""#), "{masked}");
        assert!(masked.contains(r#""4111 11** **** 1111":"x""#), "{masked}");
        assert!(masked.contains(r#""5555-55**-****-4444":1"#), "{masked}");
        // A Luhn-valid 13-digit epoch is no card by issuer range: it stays, as does an
        // invalid one.
        assert!(is_card_number("1700000000004"));
        let valid = mask_frame(r#"{"timestamp":"1700000000004"}"#);
        assert_eq!(valid, r#"{"timestamp":"1700000000004"}"#);
        let invalid = mask_frame(r#"{"timestamp":"1700000000000"}"#);
        assert_eq!(invalid, r#"{"timestamp":"1700000000000"}"#);
    }

    #[test]
    fn spelled_card_numbers_in_json_and_raw_frames() {
        let frame = r#"{"response_msg":"Declined card 4111 1111 1111 1111","biz_data":"{\"card_no\":\"1234 5678 9012 3456\",\"note\":\"4111-1111-1111-1111\"}"}"#;
        let masked = mask_frame(frame);
        for leak in [
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "1234 5678 9012 3456",
        ] {
            assert!(!masked.contains(leak), "{leak} in {masked}");
        }
        // biz_data as a JSON string: its card key is masked though it fails Luhn.
        assert!(masked.contains(r#"1234 56** **** 3456"#), "{masked}");
        // Not JSON: every 13 to 19 digit run, however spelled, Luhn or not.
        let raw = mask_frame(r#"{"msg":"4111 1111 1111 1112", oops"#);
        assert_eq!(raw, r#"{"msg":"4111 11** **** 1112", oops"#);
        let raw = mask_frame("card 4111-1111-1111-1111 at 2026-11-25 12:00:01");
        assert_eq!(raw, "card 4111-11**-****-1111 at 2026-11-25 12:00:01");
        // A string that only looks like JSON keeps its spelling when nothing is masked.
        let plain = mask_frame(r#"{"msg":"[51, 52]"}"#);
        assert_eq!(plain, r#"{"msg":"[51, 52]"}"#);
    }

    #[test]
    fn owned_variant_masks_the_same() {
        assert_eq!(
            mask_pans_owned("x 4111 1111 1111 1111".into()),
            "x 4111 11** **** 1111"
        );
        assert_eq!(mask_pans_owned("12.34".into()), "12.34");
        assert!(
            !joined(&mask_pans_owned("4111-1111 1111-1111".into())).contains("4111111111111111")
        );
    }

    /// A Luhn-valid number of `len` digits from `body` (its first len-1 digits).
    fn with_check_digit(body: &[u8]) -> Vec<u8> {
        let mut digits = body.to_vec();
        digits.push(b'0');
        for check in b'0'..=b'9' {
            *digits.last_mut().unwrap() = check;
            if luhn_valid(&ascii_values(&String::from_utf8_lossy(&digits))) {
                break;
            }
        }
        digits
    }

    fn card_number() -> impl Strategy<Value = Vec<u8>> {
        (13usize..=19)
            .prop_flat_map(|len| prop::collection::vec(b'0'..=b'9', len - 1))
            .prop_map(|body| with_check_digit(&body))
    }

    /// Spells a number with a separator (or none) chosen per gap between digits.
    fn spelled(digits: &[u8], gaps: &[u8]) -> String {
        let mut out = String::new();
        for (i, d) in digits.iter().enumerate() {
            if i > 0 {
                match gaps[i % gaps.len()] % 4 {
                    0 => out.push(' '),
                    1 => out.push('-'),
                    _ => {}
                }
            }
            out.push(char::from(*d));
        }
        out
    }

    proptest! {
        #[test]
        fn never_leaves_a_card_number(text in "[0-9a-z\" ]{0,60}") {
            let masked = mask_pans(&text);
            prop_assert_eq!(masked.len(), text.len());
            for run in masked.split(|c: char| !c.is_ascii_digit()) {
                prop_assert!(!((13..=19).contains(&run.len()) && is_card_number(run)));
            }
        }

        #[test]
        fn no_spelling_of_a_card_number_survives(
            digits in card_number(),
            gaps in prop::collection::vec(any::<u8>(), 1..20),
            before in "([a-zA-Z:#=/(]{0,6}|[0-9]{1,4}[ -]|[a-z]{1,5} [0-9]{1,3} )",
            after in "([a-zA-Z.,;)]{0,6}|[ -][0-9]{1,4}| [0-9]{1,3} [a-z]{1,5})",
        ) {
            prop_assume!(is_card_number(&String::from_utf8_lossy(&digits)));
            let pan = String::from_utf8(digits.clone()).unwrap();
            let card = spelled(&digits, &gaps);
            let text = format!("{before}{card}{after}");
            let masked = mask_pans(&text);
            prop_assert_eq!(masked.len(), text.len());
            // Not JSON (or a bare number, which is): the raw-frame path.
            for masked in [masked.into_owned(), mask_frame(&text)] {
                prop_assert!(!masked.contains(&card), "{} in {}", card, masked);
                prop_assert!(!joined(&masked).contains(&pan), "{} in {}", pan, masked);
                // First 6 and last 4 stay; the rest is hidden.
                prop_assert!(masked.matches('*').count() >= pan.len() - 10, "{}", masked);
            }
            let json = serde_json::json!({"response_msg": text.clone(), "nested": [{"x": text.clone()}], text.clone(): 1});
            let masked = mask_frame(&json.to_string());
            prop_assert!(!joined(&masked).contains(&pan), "{} in {}", pan, masked);
        }

        #[test]
        fn amounts_dates_and_order_numbers_stay(
            major in 0u32..100_000, minor in 0u32..100,
            month in 1u32..=12, day in 1u32..=28, h in 0u32..24, m in 0u32..60, s in 0u32..60,
            lane in "[A-Z][0-9]{0,2}", seq in 0u32..1_000_000,
        ) {
            for text in [
                format!("{major}.{minor:02}"),
                format!("2026-{month:02}-{day:02} {h:02}:{m:02}:{s:02}"),
                format!("{lane}-{month:02}{day:02}-{seq:06}"),
                format!("total {major}.{minor:02} at 2026-{month:02}-{day:02} {h:02}:{m:02}:{s:02} order {lane}-{month:02}{day:02}-{seq:06}"),
            ] {
                prop_assert_eq!(mask_pans(&text), text.as_str());
            }
        }
    }

    #[test]
    fn digits_of_every_script_are_read() {
        for (c, v) in [
            ('7', 7),
            ('７', 7),
            ('٣', 3),
            ('۴', 4),
            ('९', 9),
            ('๑', 1),
            ('𝟘', 0),
            ('𝟡', 9),
        ] {
            assert_eq!(digit_value(c), Some(v), "{c}");
        }
        for c in ['a', '½', '²', '①', 'Ⅻ', '/', ':', '*', ' '] {
            assert_eq!(digit_value(c), None, "{c}");
        }
        // The table agrees with the standard library's Unicode data: ten numerals from
        // each zero, blocks in order and apart.
        for pair in ND_ZEROS.windows(2) {
            assert!(pair[0] + 10 <= pair[1], "{:X}", pair[1]);
        }
        for zero in ND_ZEROS {
            for k in 0..10 {
                let c = char::from_u32(zero + k).expect("a char");
                assert!(c.is_numeric(), "{:X}", zero + k);
                assert_eq!(digit_value(c), Some(k as u8));
            }
        }
    }

    /// The digits of a masked text with everything else dropped but `*`: what a reader
    /// could put together, whatever the spelling.
    /// Percent-encodings and `\u` escapes are read as what they stand for.
    fn digits_and_stars(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            let encoded = PERCENT_SEPARATORS.iter().find(|sep| {
                rest.len() >= sep.len()
                    && rest.as_bytes()[..sep.len()].eq_ignore_ascii_case(sep.as_bytes())
            });
            let escaped = rest
                .strip_prefix("\\u")
                .and_then(|hex| hex.get(..4))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .and_then(char::from_u32);
            let (c, len) = match (encoded, escaped) {
                (Some(sep), _) => (' ', sep.len()),
                (None, Some(e)) => (e, 6),
                (None, None) => (c, c.len_utf8()),
            };
            match digit_value(c) {
                Some(d) => out.push(char::from(b'0' + d)),
                None if c == '*' => out.push('*'),
                None => {}
            }
            rest = &rest[len..];
        }
        out
    }

    #[test]
    fn every_spelling_of_a_card_number_is_masked() {
        for spelled in [
            "4111  1111   1111    1111",
            "4111\u{a0}1111\u{a0}1111\u{a0}1111",
            "4111\u{2009}1111\u{202f}1111\u{3000}1111",
            "4111\u{200b}1111\u{2007}1111\u{205f}1111",
            "4111\t1111\t1111\t1111",
            "4111\n1111\r\n1111 1111",
            "4111.1111.1111.1111",
            "4111 - 1111 - 1111 - 1111",
            "4111\u{2013}1111\u{2014}1111\u{2212}1111",
            "4111--1111--1111--1111",
            "4111%201111%201111%201111",
            "4111%C2%A01111%c2%a01111%2d1111",
            "4111+1111+1111+1111",
            "４１１１１１１１１１１１１１１１",
            "４１１１　１１１１　１１１１　１１１１",
            "٤١١١١١١١١١١١١١١١",
            "४१११ ११११ ११११ ११११",
            "𝟒𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏",
            "4１1١ 1111.1111-1111",
            r"4111\u00a01111\u00a01111\u00a01111",
            r"\u0034111111111111111",
            r"4111\t1111\t1111\t1111",
        ] {
            for text in [
                spelled.to_string(),
                format!("Declined: card {spelled}, try again"),
            ] {
                let masked = mask_pans(&text);
                assert_eq!(
                    digits_and_stars(&masked),
                    "411111******1111",
                    "{text:?} -> {masked:?}"
                );
                let frame = serde_json::json!({"response_msg": text, "trans_no": text});
                let masked = mask_frame(&frame.to_string());
                assert!(!masked.contains(spelled), "{masked}");
                assert!(
                    !digits_and_stars(&masked).contains("4111111111111111"),
                    "{masked}"
                );
            }
        }
        assert_eq!(
            mask_pans("4111\u{a0}1111\u{a0}1111\u{a0}1111"),
            "4111\u{a0}11**\u{a0}****\u{a0}1111"
        );
        assert_eq!(
            mask_pans("4111%201111%201111%201111"),
            "4111%2011**%20****%201111"
        );
        assert_eq!(
            mask_pans("４１１１１１１１１１１１１１１１"),
            "４１１１１１******１１１１"
        );
        // Not card numbers in any spelling: fails Luhn, or too few digits.
        for text in [
            "4111 1111 1111 1112",
            "４１１１ １１１１ １１１６",
            "1 2 3 4 5 6 7 8 9 0 1 2",
        ] {
            assert_eq!(mask_pans(text), text);
        }
    }

    #[test]
    fn reference_fields_keep_processor_numbers() {
        // 2026120300000108 passes Luhn: a date-prefixed processor number, no issuer's.
        assert!(is_card_number("2026120300000108"));
        assert!(!is_issuer_card_number("2026120300000108"));
        let frame = r#"{"request_id":"c0a8f1e2-1796-3012-3432-600000000000","timestamp":"1764000000000","response_msg":"ref 2026120300000108","biz_data":{"trans_no":"2026120300000108","ref_no":2026120300000116,"orig_trans_no":"202600000000000139","auth_code":"1796301234326","merchant_order_no":"0000000012345674","orig_merchant_order_no":"L01-1796301234326","card_no":"1234567890123456","TransNo":"2026120300000124"}}"#;
        let masked = mask_frame(frame);
        for kept in [
            r#""timestamp":"1764000000000""#,
            r#""trans_no":"2026120300000108""#,
            r#""ref_no":2026120300000116"#,
            r#""orig_trans_no":"202600000000000139""#,
            r#""auth_code":"1796301234326""#,
            r#""merchant_order_no":"0000000012345674""#,
            r#""orig_merchant_order_no":"L01-1796301234326""#,
            r#""TransNo":"2026120300000124""#,
            "c0a8f1e2-1796-3012-3432-600000000000",
        ] {
            assert!(masked.contains(kept), "{kept} not in {masked}");
        }
        // Free text keeps the PCI rule; a card field is masked whatever it holds.
        assert!(
            masked.contains(r#""response_msg":"ref 202612******0108""#),
            "{masked}"
        );
        assert!(
            masked.contains(r#""card_no":"123456******3456""#),
            "{masked}"
        );
        // biz_data as a JSON string: the same keys decide inside it.
        let inner = serde_json::json!({"biz_data": r#"{"trans_no":"2026120300000108","msg":"4111111111111111"}"#});
        let masked = mask_frame(&inner.to_string());
        assert!(masked.contains("2026120300000108"), "{masked}");
        assert!(masked.contains("411111******1111"), "{masked}");
        // A card number by issuer range in a reference field is masked, however spelled.
        for (value, want) in [
            ("4111111111111111", "411111******1111"),
            ("REF 4111 1111 1111 1111", "REF 4111 11** **** 1111"),
            (
                "２２２１０００００００００００９",
                "２２２１００******０００９",
            ),
        ] {
            let frame = serde_json::json!({"biz_data": {"trans_no": value, "request_id": value}});
            let masked = mask_frame(&frame.to_string());
            assert_eq!(masked.matches(want).count(), 2, "{masked}");
        }
        assert_eq!(
            mask_frame(r#"{"trans_no":4111111111111111}"#),
            r#"{"trans_no":"411111******1111"}"#
        );
    }

    #[test]
    fn issuer_ranges() {
        for pan in [
            "4111111111111111",
            "4222222222222",
            "5555555555554444",
            "2221000000000009",
            "378282246310005",
            "6011111111111117",
            "3530111333300000",
            "30569309025904",
            "6200000000000005",
            "6759649826438453",
        ] {
            assert!(is_issuer_card_number(pan), "{pan}");
        }
        // Luhn-valid, but no network issues these: a 15-digit "Visa", date and
        // timestamp prefixes, zero-padded counters.
        for reference in [
            "411111111111116",
            "2026120300000108",
            "1764000000000",
            "1700000000000001",
            "0000000012345674",
            "202600000000000139",
        ] {
            assert!(is_card_number(reference), "{reference}");
            assert!(!is_issuer_card_number(reference), "{reference}");
        }
        // A YYMMDD prefix in 2022-2027 is Mastercard's 2-series: 16 digits are a card.
        assert!(is_issuer_card_number("2612031234567890"));
        assert_eq!(rule_for("trans_no"), Rule::Reference);
        assert_eq!(rule_for("origTransNo"), Rule::Reference);
        assert_eq!(rule_for("CARD_NO"), Rule::Card);
        assert_eq!(rule_for("response_msg"), Rule::Text);
        assert_eq!(rule_for("trans_no_x"), Rule::Text);
    }

    #[test]
    fn log_lines_mask_frames_field_by_field() {
        let line = r#"DEBUG frame in frame={"biz_data":{"msg":"4111 1111 1111 1111","trans_no":"2026120300000108"},"timestamp":"1764000000000"} then 4111111111111111 {"x": 1"#;
        let masked = mask_line(line);
        assert_eq!(
            masked,
            r#"DEBUG frame in frame={"biz_data":{"msg":"4111 11** **** 1111","trans_no":"2026120300000108"},"timestamp":"1764000000000"} then 411111******1111 {"x": 1"#
        );
        assert_eq!(
            mask_line("no frame 2026120300000108"),
            "no frame 202612******0108"
        );
        assert_eq!(
            mask_line("{\"card_no\":\"4111111111111112\"}"),
            "{\"card_no\":\"411111******1112\"}"
        );
    }

    /// Ways a number's digit groups may be joined, "" the most often.
    const GAPS: [&str; 16] = [
        "", "", "", "", " ", "  ", "\u{a0}", "\t", ".", "-", " - ", "%20", "+", "\u{3000}",
        "\u{2009}", "\u{200b}",
    ];
    /// Scripts a digit may be written in (zero points).
    const SCRIPTS: [u32; 6] = [0x30, 0x30, 0xFF10, 0x660, 0x966, 0x1D7CE];
    /// Issuer prefixes and lengths.
    const ISSUED: [(&str, usize); 19] = [
        ("4", 16),
        ("4", 13),
        ("4", 19),
        ("51", 16),
        ("55", 16),
        ("2221", 16),
        ("2720", 16),
        ("34", 15),
        ("37", 15),
        ("6011", 16),
        ("65", 19),
        ("644", 16),
        ("3528", 16),
        ("3589", 19),
        ("36", 14),
        ("300", 14),
        ("62", 17),
        ("50", 13),
        ("67", 19),
    ];

    fn issuer_card_number() -> impl Strategy<Value = Vec<u8>> {
        (0..ISSUED.len())
            .prop_flat_map(|i| {
                let (prefix, len) = ISSUED[i];
                prop::collection::vec(b'0'..=b'9', len - 1 - prefix.len())
                    .prop_map(move |rest| [prefix.as_bytes(), &rest].concat())
            })
            .prop_map(|body| with_check_digit(&body))
    }

    /// Spells `digits` (ASCII) with a gap and a script chosen per digit.
    fn spelled_any(digits: &[u8], choices: &[(usize, usize)]) -> String {
        let mut out = String::new();
        for (i, d) in digits.iter().enumerate() {
            let (gap, script) = choices[i % choices.len()];
            if i > 0 {
                out.push_str(GAPS[gap % GAPS.len()]);
            }
            let code = SCRIPTS[script % SCRIPTS.len()] + u32::from(d - b'0');
            out.push(char::from_u32(code).unwrap_or('?'));
        }
        out
    }

    proptest! {
        #[test]
        fn issuer_cards_in_any_spelling_never_survive(
            digits in issuer_card_number(),
            choices in prop::collection::vec((any::<usize>(), any::<usize>()), 1..24),
            before in "[a-zA-Zé:#=/( ]{0,8}",
            after in "[a-zA-Zé.,;) ]{0,8}",
            noise in "( [0-9]{1,3} [a-z]{1,4}| [0-9.]{1,6})?",
        ) {
            let pan = String::from_utf8(digits.clone()).unwrap();
            prop_assume!(is_issuer_card_number(&pan));
            let card = spelled_any(&digits, &choices);
            let want = format!("{}{}{}", &pan[..6], "*".repeat(pan.len() - 10), &pan[pan.len() - 4..]);
            let text = format!("{before}{card}{after}");
            // Nothing but the card's digits in the text: exactly first 6, stars, last 4.
            for masked in [mask_pans(&text).into_owned(), mask_reference(&text).into_owned(), mask_frame(&text)] {
                prop_assert_eq!(digits_and_stars(&masked), want.clone(), "{:?} -> {:?}", text, masked);
            }
            // With other numbers around, in free-text and reference fields, and in
            // biz_data as a string: the card's digits are nowhere in a row.
            let text = format!("{before}{noise} {card}{after}{noise}");
            let frame = serde_json::json!({
                "response_msg": text.clone(),
                "biz_data": {"trans_no": text.clone(), "msg": text.clone()},
                "timestamp": text.clone(),
            });
            let nested = serde_json::json!({"biz_data": frame.to_string()});
            for masked in [mask_frame(&frame.to_string()), mask_frame(&nested.to_string()), mask_line(&format!("x={frame} {text}")).into_owned()] {
                let seen = digits_and_stars(&masked);
                prop_assert!(!seen.contains(&pan), "{} in {}", pan, masked);
                // Digits around may form another masked stretch overlapping the card's
                // first or last digits: at least its middle is gone.
                prop_assert!(seen.matches('*').count() >= pan.len() - 10, "{}", masked);
            }
        }

        #[test]
        fn date_prefixed_references_survive_in_reference_fields(
            day in 1u32..=28, month in 1u32..=12, rest in "[0-9]{4,11}",
        ) {
            let reference = format!("2026{month:02}{day:02}{rest}");
            let frame = serde_json::json!({"biz_data": {"trans_no": reference, "ref_no": reference}}).to_string();
            prop_assert_eq!(mask_frame(&frame), frame);
        }
    }
}
