//! PCI: nothing stores, logs or shows more of a card number than first 6 / last 4.
//!
//! A card number is any run of 13 to 19 digits that passes the Luhn check, however it
//! is spelled: `4111111111111111`, `4111 1111 1111 1111`, `4111-1111-1111-1111`,
//! `3782 822463 10005`. A run is a chain of digit groups joined by single spaces or
//! dashes; within a chain every stretch of whole groups holding 13 to 19 digits is a
//! candidate, so a card number written after other numbers (`ref 12 4111 1111 1111
//! 1111`) is found too. A run is never cut inside a group: `41111111111111110` is a
//! 17-digit number, not a card number with a digit stuck to it. Amounts (`12.34`),
//! dates (`2026-11-25 12:00:01`) and order numbers (`L01-1124-000042`) hold too few
//! digits per run to be mistaken for one.

use std::borrow::Cow;

use serde_json::Value;

/// Keys whose value is a card number by definition, masked whether or not it passes
/// the Luhn check (a terminal may send a test or corrupted PAN).
const CARD_KEYS: [&str; 4] = ["card_no", "card_number", "pan", "cardNo"];

/// What may stand between two digit groups of one spelled number (one of them, once).
const SEPARATORS: [u8; 2] = [b' ', b'-'];

const MIN_DIGITS: usize = 13;
const MAX_DIGITS: usize = 19;

/// Masks every card number in `text`, however spelled: 4111111111111111 becomes
/// 411111******1111 and 4111 1111 1111 1111 becomes 4111 11** **** 1111.
pub fn mask_pans(text: &str) -> Cow<'_, str> {
    mask_runs(text, luhn_valid)
}

/// `mask_pans` for an owned string: no copy when there is nothing to mask.
pub fn mask_pans_owned(text: String) -> String {
    match mask_pans(&text) {
        Cow::Owned(masked) => masked,
        Cow::Borrowed(_) => text,
    }
}

/// Text from outside (a terminal's name, an app name) as shown to a person: card
/// numbers masked, control characters (escape sequences) made `?`, at most 64
/// characters.
pub fn outside_line(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(64)
        .collect();
    mask_pans_owned(line)
}

/// The last four characters of a masked card number (all of a shorter one): what a
/// screen shows and a search matches.
pub fn last_four(card: &str) -> String {
    let start = card.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
    card[start..].to_string()
}

/// Masks a value known to be a card number: all but the first 6 and last 4 digits.
pub fn mask_card_no(text: &str) -> String {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    if digits <= 10 {
        return text.to_string();
    }
    let mut seen = 0;
    text.chars()
        .map(|c| {
            if !c.is_ascii_digit() {
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

/// Masks card numbers anywhere in a JSON value: card-number keys unconditionally,
/// every other string, number and key name by the Luhn rule. No key is exempt (an
/// epoch-milliseconds `timestamp` passes the Luhn check one time in ten and is masked
/// then: a technician loses little, and no field name can smuggle a card number out).
pub fn mask_json(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(mask_string(s)),
        Value::Number(n) => mask_number(n),
        Value::Array(items) => Value::Array(items.into_iter().map(mask_json).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if CARD_KEYS.contains(&k.as_str()) {
                        match v {
                            Value::String(s) => Value::String(mask_card_no(&s)),
                            Value::Number(n) => Value::String(mask_card_no(&n.to_string())),
                            other => mask_json(other),
                        }
                    } else {
                        mask_json(v)
                    };
                    (mask_pans_owned(k), v)
                })
                .collect(),
        ),
        other => other,
    }
}

fn mask_number(n: serde_json::Number) -> Value {
    let literal = n.to_string();
    match mask_pans(&literal) {
        Cow::Borrowed(_) => Value::Number(n),
        Cow::Owned(masked) => Value::String(masked),
    }
}

/// A string value; one that holds JSON (a terminal may send `biz_data` serialized into
/// a string) is masked as JSON, so its card-number keys are found too.
fn mask_string(s: String) -> String {
    let trimmed = s.trim_start();
    let looks_like_json = trimmed.starts_with('{') || trimmed.starts_with('[');
    if let Some(inner) = looks_like_json
        .then(|| serde_json::from_str::<Value>(&s).ok())
        .flatten()
    {
        let masked = mask_json(inner.clone());
        if masked != inner {
            return masked.to_string();
        }
    }
    mask_pans_owned(s)
}

/// Masks a raw frame for the wire log, the journal's raw copy and the log file. A frame
/// that is not JSON cannot be read for card fields, so every 13 to 19 digit run in it
/// (in any spelling) is masked, Luhn or not.
pub fn mask_frame(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => mask_json(value).to_string(),
        Err(_) => mask_runs(text, |_| true).into_owned(),
    }
}

/// Shows enough of an app id to recognise it, not enough to reuse it.
pub fn mask_app_id(app_id: &str) -> String {
    let chars: Vec<char> = app_id.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 6))
}

/// Masks, in every chain of digit groups (see the module's note), each stretch of whole
/// groups that holds 13 to 19 digits and that `is_card` accepts: all its digits but
/// the first 6 and the last 4 become `*`; separators stay. Stretches may overlap;
/// each is judged on the original digits and all their masks apply.
fn mask_runs(text: &str, is_card: impl Fn(&[u8]) -> bool) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut digits: Vec<u8> = Vec::with_capacity(MAX_DIGITS);
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        groups.clear();
        loop {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            groups.push((start, i));
            // One separator with a digit right after it continues the chain.
            let joined = i + 1 < bytes.len()
                && SEPARATORS.contains(&bytes[i])
                && bytes[i + 1].is_ascii_digit();
            if !joined {
                break;
            }
            i += 1;
        }
        for first in 0..groups.len() {
            let mut count = 0;
            for last in first..groups.len() {
                let (start, end) = groups[last];
                count += end - start;
                if count > MAX_DIGITS {
                    break;
                }
                if count < MIN_DIGITS {
                    continue;
                }
                digits.clear();
                for &(s, e) in &groups[first..=last] {
                    digits.extend_from_slice(&bytes[s..e]);
                }
                if !is_card(&digits) {
                    continue;
                }
                let buf = out.get_or_insert_with(|| bytes.to_vec());
                let mut seen = 0;
                for &(s, e) in &groups[first..=last] {
                    for byte in &mut buf[s..e] {
                        if seen >= 6 && seen < count - 4 {
                            *byte = b'*';
                        }
                        seen += 1;
                    }
                }
            }
        }
    }
    match out {
        // Only ASCII digits were replaced by ASCII '*', so the text is still UTF-8.
        Some(buf) => Cow::Owned(String::from_utf8(buf).unwrap_or_default()),
        None => Cow::Borrowed(text),
    }
}

/// Whether `digits` is a card number by the PCI rule: 13 to 19 digits passing Luhn.
pub fn is_card_number(digits: &str) -> bool {
    (13..=19).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && luhn_valid(digits.as_bytes())
}

fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
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
            // Two separators in a row end a run.
            "4111  1111  1111  1111",
            "4111--1111--1111--1111",
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
        // Two separators do not join groups, so neither half is a card number.
        assert_eq!(mask_pans("4111 1111  1111 1111"), "4111 1111  1111 1111");
    }

    #[test]
    fn keys_and_timestamps_are_masked_like_any_field() {
        // 4111111111111111 is also a Luhn-valid 16-digit "epoch": exempt no longer.
        let frame = r#"{"timestamp":"4111111111111111","t2":4111111111111111,"4111 1111 1111 1111":"x","biz_data":{"5555-5555-5555-4444":1}}"#;
        let masked = mask_frame(frame);
        assert!(
            masked.contains(r#""timestamp":"411111******1111""#),
            "{masked}"
        );
        assert!(masked.contains(r#""t2":"411111******1111""#), "{masked}");
        assert!(masked.contains(r#""4111 11** **** 1111":"x""#), "{masked}");
        assert!(masked.contains(r#""5555-55**-****-4444":1"#), "{masked}");
        // A Luhn-valid 13-digit epoch is masked; an invalid one stays.
        assert!(luhn_valid(b"1700000000004"));
        let valid = mask_frame(r#"{"timestamp":"1700000000004"}"#);
        assert_eq!(valid, r#"{"timestamp":"170000***0004"}"#);
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
            if luhn_valid(&digits) {
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
                prop_assert!(!((13..=19).contains(&run.len()) && luhn_valid(run.as_bytes())));
            }
        }

        #[test]
        fn no_spelling_of_a_card_number_survives(
            digits in card_number(),
            gaps in prop::collection::vec(any::<u8>(), 1..20),
            before in "([a-zA-Z:#=/(]{0,6}|[0-9]{1,4}[ -]|[a-z]{1,5} [0-9]{1,3} )",
            after in "([a-zA-Z.,;)]{0,6}|[ -][0-9]{1,4}| [0-9]{1,3} [a-z]{1,5})",
        ) {
            prop_assume!(luhn_valid(&digits));
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
}
