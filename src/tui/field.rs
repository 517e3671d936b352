//! The text fields every screen shares: one editing behaviour everywhere. Text takes
//! tui-input's keys (Ctrl-U/W/A/E/K, Home/End, arrows, Backspace, and ^H, which some SSH
//! clients send for it); money takes digits cents-first or as written with a point.
//! A value the screen filled in is replaced by the first character typed.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::backend::crossterm::to_input_request;
use tui_input::{Input, InputRequest};

use crate::journal::ORDER_NO_MAX;
use crate::money::Money;

/// What a key did to a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    /// The value or the cursor changed.
    Changed,
    /// The field is full: the character was not taken.
    Full,
    /// Not a key for this field (the screen may use it).
    Ignored,
    /// A character this field does not take.
    Refused,
}

/// A plain text field (order numbers, notes, addresses, frames).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextField {
    pub text: String,
    pub(crate) max: usize,
    /// In characters, from the start.
    pub(crate) cursor: usize,
    /// Filled in by the screen: the first character typed replaces it.
    pub(crate) prefilled: bool,
    /// Letters are taken in upper case (order numbers).
    pub(crate) upper: bool,
}

impl Default for TextField {
    fn default() -> TextField {
        TextField::with_max(200)
    }
}

impl TextField {
    pub fn with_max(max: usize) -> TextField {
        TextField {
            text: String::new(),
            max,
            cursor: 0,
            prefilled: false,
            upper: false,
        }
    }

    /// An order number field: up to 32 characters, upper case.
    pub fn order_no() -> TextField {
        TextField {
            upper: true,
            ..TextField::with_max(ORDER_NO_MAX)
        }
    }

    /// A value the screen suggests; typing replaces it, editing keys keep it.
    pub fn prefill(&mut self, text: &str) {
        self.set(text);
        self.prefilled = true;
    }

    pub(crate) fn set(&mut self, text: &str) {
        self.text = text.to_string();
        self.cursor = self.text.chars().count();
        self.prefilled = false;
    }

    pub(crate) fn clear(&mut self) {
        self.set("");
    }

    /// The text as drawn: with the cursor when focused (`_` at the end, `|` inside).
    pub fn shown(&self, focused: bool) -> String {
        if !focused {
            return self.text.clone();
        }
        let before: String = self.text.chars().take(self.cursor).collect();
        let after: String = self.text.chars().skip(self.cursor).collect();
        let mark = if after.is_empty() { '_' } else { '|' };
        format!("{before}{mark}{after}")
    }

    pub fn edit(&mut self, key: KeyEvent) -> Edit {
        let Some(request) = to_input_request(&Event::Key(key)) else {
            return Edit::Ignored;
        };
        let request = match request {
            InputRequest::InsertChar(c) if c.is_control() => return Edit::Ignored,
            InputRequest::InsertChar(c) => {
                if self.prefilled {
                    self.clear();
                }
                if self.text.chars().count() >= self.max {
                    return Edit::Full;
                }
                InputRequest::InsertChar(if self.upper {
                    c.to_ascii_uppercase()
                } else {
                    c
                })
            }
            other => other,
        };
        self.prefilled = false;
        let mut input = Input::new(std::mem::take(&mut self.text)).with_cursor(self.cursor);
        input.handle(request);
        self.cursor = input.cursor();
        self.text = input.value().to_string();
        Edit::Changed
    }
}

/// A money field typed cents-first, as registers do: 1 2 3 4 shows 12.34. A typed
/// point switches to reading the amount as written: 1 2 . 5 is 12.50.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CentsField {
    pub(crate) digits: String,
    /// Where the typed point sits in `digits`, if one was typed.
    pub(crate) point: Option<usize>,
    /// Filled in by the screen: the first digit typed replaces it.
    pub(crate) prefilled: bool,
}

impl CentsField {
    /// An amount the screen suggests (what is left to refund, a declined sale's).
    pub fn prefill(minor: i64) -> CentsField {
        CentsField {
            digits: if minor > 0 {
                minor.to_string()
            } else {
                String::new()
            },
            point: None,
            prefilled: true,
        }
    }

    /// Twelve digits: the largest amount `Money` accepts.
    const MAX_DIGITS: usize = 12;

    pub(crate) fn push(&mut self, c: char) {
        if c == '.' {
            self.point.get_or_insert(self.digits.len());
            return;
        }
        if !c.is_ascii_digit() || (self.digits.is_empty() && c == '0' && self.point.is_none()) {
            return;
        }
        if self.digits.len() < Self::MAX_DIGITS {
            self.digits.push(c);
        }
    }

    pub(crate) fn pop(&mut self) {
        if self.point == Some(self.digits.len()) {
            self.point = None;
        } else {
            self.digits.pop();
        }
    }

    pub(crate) fn clear(&mut self) {
        *self = CentsField::default();
    }

    pub fn is_empty(&self) -> bool {
        self.digits.is_empty() && self.point.is_none()
    }

    /// The amount in minor units of a currency with `exponent` decimals.
    pub fn minor(&self, exponent: u8) -> i64 {
        let text = match self.point {
            None => self.digits.clone(),
            Some(p) => {
                let (whole, frac) = self.digits.split_at(p.min(self.digits.len()));
                let places = usize::from(exponent);
                let frac: String = frac
                    .chars()
                    .chain(std::iter::repeat('0'))
                    .take(places)
                    .collect();
                format!("{whole}{frac}")
            }
        };
        text.parse().unwrap_or(0)
    }

    pub(crate) fn money(&self, exponent: u8) -> Option<Money> {
        Money::from_minor(self.minor(exponent), exponent)
            .ok()
            .filter(|m| !m.is_zero())
    }

    pub fn display(&self, exponent: u8) -> String {
        Money::from_minor(self.minor(exponent), exponent)
            .map(|m| m.grouped())
            .unwrap_or_default()
    }
}

impl CentsField {
    /// The editing keys of a money field: digits and a point, Backspace (or ^H),
    /// Delete or Ctrl-U to clear.
    pub fn edit(&mut self, key: KeyEvent) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            // A filled-in amount is one whole: taking a digit off it would leave digits
            // nobody typed for the next ones to join.
            KeyCode::Backspace if self.prefilled => self.clear(),
            KeyCode::Char('h') if ctrl && self.prefilled => self.clear(),
            KeyCode::Backspace => self.pop(),
            KeyCode::Char('h') if ctrl => self.pop(),
            KeyCode::Delete => self.clear(),
            KeyCode::Char('u') if ctrl => self.clear(),
            KeyCode::Char(_) if ctrl => return Edit::Ignored,
            KeyCode::Char(c) if c.is_ascii_digit() || c == '.' => {
                if self.prefilled {
                    self.clear();
                }
                self.push(c);
            }
            KeyCode::Char(_) => return Edit::Refused,
            _ => return Edit::Ignored,
        }
        self.prefilled = false;
        Edit::Changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_first_entry() {
        let mut f = CentsField::default();
        for d in "1234".chars() {
            f.push(d);
        }
        assert_eq!(f.display(2), "12.34");
        f.pop();
        assert_eq!(f.display(2), "1.23");
        f.clear();
        f.push('0');
        assert_eq!(f.digits, "", "leading zero ignored");
        f.push('5');
        assert_eq!(f.display(2), "0.05");
        assert_eq!(f.display(0), "5");
        for _ in 0..20 {
            f.push('9');
        }
        assert_eq!(f.digits.len(), 12);
        assert!(f.money(2).is_some());
        f.push('x');
        assert_eq!(f.digits.len(), 12);
    }
}
