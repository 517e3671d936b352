//! PCI: nothing stores, logs or shows more of a card number than first 6 / last 4.
//! Any run of 13 to 19 digits that passes the Luhn check is treated as a card number.

use std::borrow::Cow;

use serde_json::Value;

/// Keys whose value is a card number by definition, masked whether or not it passes
/// the Luhn check (a terminal may send a test or corrupted PAN).
const CARD_KEYS: [&str; 4] = ["card_no", "card_number", "pan", "cardNo"];

/// Masks every card number in `text`: 4111111111111111 becomes 411111******1111.
pub fn mask_pans(text: &str) -> Cow<'_, str> {
    mask_runs(text, luhn_valid)
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

/// Keys that carry epoch milliseconds: thirteen digits that pass the Luhn check one
/// time in ten, and never a card number.
const TIME_KEYS: [&str; 1] = ["timestamp"];

/// Masks card numbers anywhere in a JSON value: card-number keys unconditionally,
/// every other string or number by the Luhn rule.
pub fn mask_json(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(mask_pans(&s).into_owned()),
        Value::Number(n) => {
            let literal = n.to_string();
            match mask_pans(&literal) {
                Cow::Borrowed(_) => Value::Number(n),
                Cow::Owned(masked) => Value::String(masked),
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(mask_json).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if CARD_KEYS.contains(&k.as_str()) => {
                            Value::String(mask_card_no(&s))
                        }
                        Value::Number(n) if CARD_KEYS.contains(&k.as_str()) => {
                            Value::String(mask_card_no(&n.to_string()))
                        }
                        other if TIME_KEYS.contains(&k.as_str()) && is_digits(&other) => other,
                        other => mask_json(other),
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

fn is_digits(value: &Value) -> bool {
    match value {
        Value::String(s) => s.bytes().all(|b| b.is_ascii_digit()),
        Value::Number(n) => n.to_string().bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

/// Masks a raw frame for the wire log, the journal's raw copy and the log file. A frame
/// that is not JSON cannot be read for card fields, so every 13 to 19 digit run in it
/// is masked, Luhn or not.
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

fn mask_runs(text: &str, is_card: impl Fn(&[u8]) -> bool) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let run = &bytes[start..i];
        if (13..=19).contains(&run.len()) && is_card(run) {
            let buf = out.get_or_insert_with(|| bytes.to_vec());
            buf[start + 6..i - 4].fill(b'*');
        }
    }
    match out {
        // Only ASCII digits were replaced by ASCII '*', so the text is still UTF-8.
        Some(buf) => Cow::Owned(String::from_utf8(buf).unwrap_or_default()),
        None => Cow::Borrowed(text),
    }
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

    proptest! {
        #[test]
        fn never_leaves_a_card_number(text in "[0-9a-z\" ]{0,60}") {
            let masked = mask_pans(&text);
            prop_assert_eq!(masked.len(), text.len());
            for run in masked.split(|c: char| !c.is_ascii_digit()) {
                prop_assert!(!((13..=19).contains(&run.len()) && luhn_valid(run.as_bytes())));
            }
        }
    }
}
