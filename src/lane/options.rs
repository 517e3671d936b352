//! What the terminal does around a payment beyond taking the card: a tip or a signature
//! asked on its screen, a confirmation by the cashier on it, which receipts it prints, a
//! description. Set per payment, with the lane's defaults (config) under them; what
//! neither sets is left to the terminal's own settings.

use crate::ecr::{OrderOptions, Receipts};
use crate::mask::mask_pans_owned;

/// Options of a sale, refund or void. `None` everywhere: the terminal decides. Only a
/// sale takes every one; a refund or a void takes `confirm_on_terminal` and
/// `receipts`; the rest are not sent for them (the protocol lists them for sales only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SaleOptions {
    /// The terminal asks the customer for a tip (sale).
    pub tip_on_terminal: Option<bool>,
    /// The terminal asks the customer to sign (sale).
    pub signature_on_terminal: Option<bool>,
    /// The cashier confirms on the terminal before it goes ahead (sale, refund, void).
    pub confirm_on_terminal: Option<bool>,
    /// Which receipts the terminal prints (sale, refund, void).
    pub receipts: Option<Receipts>,
    /// Free text that goes with the sale.
    pub description: Option<Description>,
}

impl SaleOptions {
    /// These options, with `defaults` wherever these leave one unset.
    pub(crate) fn or(self, defaults: &SaleOptions) -> SaleOptions {
        SaleOptions {
            tip_on_terminal: self.tip_on_terminal.or(defaults.tip_on_terminal),
            signature_on_terminal: self
                .signature_on_terminal
                .or(defaults.signature_on_terminal),
            confirm_on_terminal: self.confirm_on_terminal.or(defaults.confirm_on_terminal),
            receipts: self.receipts.or(defaults.receipts),
            description: self.description.or_else(|| defaults.description.clone()),
        }
    }

    /// The same options in the wire's words.
    pub(crate) fn wire(&self) -> OrderOptions {
        OrderOptions {
            on_screen_tip: self.tip_on_terminal,
            on_screen_signature: self.signature_on_terminal,
            confirm_on_terminal: self.confirm_on_terminal,
            receipt_print_mode: self.receipts,
            description: self.description.as_ref().map(|d| d.as_str().to_string()),
        }
    }
}

/// A sale's description: one line of at most `MAX_CHARS` printable characters, with any
/// card number in it masked to first 6 / last 4. Made only by `Description::new`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description(String);

/// Why a description was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DescriptionError {
    #[error("the description is empty")]
    Empty,
    #[error(
        "the description is {chars} characters long: at most {max}",
        max = Description::MAX_CHARS
    )]
    TooLong { chars: usize },
    #[error(
        "the description has a control or invisible character ({code}) at character {at}: use printable text on one line"
    )]
    NotPrintable { at: usize, code: String },
}

impl Description {
    pub(crate) const MAX_CHARS: usize = 128;

    /// Checks `text` (surrounding white space dropped) and masks card numbers in it.
    pub fn new(text: &str) -> Result<Description, DescriptionError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DescriptionError::Empty);
        }
        if let Some((i, c)) = text.chars().enumerate().find(|(_, c)| !printable(*c)) {
            return Err(DescriptionError::NotPrintable {
                at: i + 1,
                code: format!("U+{:04X}", u32::from(c)),
            });
        }
        let chars = text.chars().count();
        if chars > Description::MAX_CHARS {
            return Err(DescriptionError::TooLong { chars });
        }
        Ok(Description(mask_pans_owned(text.to_string())))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Not a control character (tab and line breaks included) nor an invisible one that
/// changes how the rest reads (zero-width, direction overrides, byte-order mark).
fn printable(c: char) -> bool {
    !c.is_control()
        && !matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_checked_and_masked() {
        assert_eq!(
            Description::new("  table 4 ").map(|d| d.as_str().to_string()),
            Ok("table 4".into())
        );
        assert_eq!(
            Description::new("card 4111 1111 1111 1111 declined").map(|d| d.as_str().to_string()),
            Ok("card 4111 11** **** 1111 declined".into())
        );
        assert_eq!(Description::new("   "), Err(DescriptionError::Empty));
        let long = "x".repeat(129);
        assert_eq!(
            Description::new(&long),
            Err(DescriptionError::TooLong { chars: 129 })
        );
        assert!(
            Description::new(&"é".repeat(128)).is_ok(),
            "characters, not bytes"
        );
        for bad in ["a\nb", "a\tb", "a\u{7f}", "a\u{202E}b", "a\u{200B}"] {
            let err = Description::new(bad).expect_err(bad);
            assert!(
                matches!(err, DescriptionError::NotPrintable { at: 2, .. }),
                "{bad:?}: {err}"
            );
        }
        let err = Description::new("a\u{1b}[31m").expect_err("escape");
        assert!(err.to_string().contains("U+001B"), "{err}");
    }

    #[test]
    fn a_payment_s_options_win_over_the_lane_s() {
        let lane = SaleOptions {
            tip_on_terminal: Some(true),
            receipts: Some(Receipts::Both),
            ..SaleOptions::default()
        };
        let sale = SaleOptions {
            tip_on_terminal: Some(false),
            confirm_on_terminal: Some(true),
            ..SaleOptions::default()
        };
        assert_eq!(
            sale.or(&lane),
            SaleOptions {
                tip_on_terminal: Some(false),
                confirm_on_terminal: Some(true),
                receipts: Some(Receipts::Both),
                ..SaleOptions::default()
            }
        );
        assert_eq!(SaleOptions::default().wire(), OrderOptions::default());
    }
}
