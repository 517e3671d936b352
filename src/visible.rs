//! Text from outside (a terminal's or a gateway's message, a device's name, a frame)
//! made safe to put on a terminal, in a log line or on the screen: every control
//! character, and every character that reorders text (bidi overrides), is shown as a
//! visible escape (`\x1b`, `\u{202e}`) instead of acting. An escape sequence then reads
//! as text: it cannot recolour a declined sale as approved, move the cursor or write the
//! clipboard (OSC 52). One function, used where text leaves the program: the command
//! line's output, the log file and the screen.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters that reorder the text around them, shown as escapes too.
fn reorders(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

fn escaped(c: char, keep: &[char]) -> bool {
    (c.is_control() || reorders(c)) && !keep.contains(&c)
}

fn escape<'a>(text: &'a str, keep: &[char]) -> Cow<'a, str> {
    if !text.chars().any(|c| escaped(c, keep)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !escaped(c, keep) => out.push(c),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// One line: every control character shown as an escape, line breaks and tabs too.
pub(crate) fn visible(text: &str) -> Cow<'_, str> {
    escape(text, &[])
}

/// Text of several lines (the command line's output, a log line): as `visible`, but
/// line breaks and tabs stay what they are.
pub(crate) fn visible_lines(text: &str) -> Cow<'_, str> {
    escape(text, &['\n', '\t'])
}

/// A JSON value as text no terminal acts on: serde_json escapes C0 controls itself;
/// DEL, C1 controls and bidi overrides (all in the BMP, and found only inside strings)
/// are written as `\uXXXX` too, which reads back as the same value.
pub fn json_text(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if escaped(c, &[]) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_read_as_text() {
        assert_eq!(visible("DECLINED"), "DECLINED");
        assert!(matches!(visible("plain text, ünïcode"), Cow::Borrowed(_)));
        assert_eq!(
            visible("\x1b[2K\rAPPROVED\x1b[0m"),
            "\\x1b[2K\\x0dAPPROVED\\x1b[0m"
        );
        // OSC 52 (the clipboard), ended by BEL or by ST.
        assert_eq!(
            visible("\x1b]52;c;ZWNobyBoaQ==\x07"),
            "\\x1b]52;c;ZWNobyBoaQ==\\x07"
        );
        // C1 controls (a one-byte CSI), DEL, bidi overrides.
        assert_eq!(visible("a\u{9b}31mb\x7f"), "a\\x9b31mb\\x7f");
        assert_eq!(visible("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(visible("two\nlines\t"), "two\\x0alines\\x09");
        assert_eq!(visible_lines("two\nlines\tx\x1b"), "two\nlines\tx\\x1b");
    }

    #[test]
    fn json_text_reads_back_as_the_same_value() {
        let value = serde_json::json!({"msg": "a\x1b]52\x07\u{9b}2J\u{202e}b\x7f"});
        let text = json_text(&value);
        assert!(text.is_ascii(), "{text}");
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
