//! Money in integer minor units. Decimal strings exist only at the edges: what a person
//! types and what the wire carries. Nothing here touches floating point.

use std::fmt;

/// The largest amount accepted: twelve digits of minor units, the width of the amount
/// field card networks carry (ISO 8583 field 4). Anything larger is a typo or an attack.
pub const MAX_MINOR: i64 = 999_999_999_999;

/// The largest currency exponent in ISO 4217 use (KWD, BHD, ... use 3).
pub(crate) const MAX_EXPONENT: u8 = 4;

/// An amount of money: `minor` units of a currency with `exponent` decimal places.
/// Amounts are never negative; direction (sale or refund) is the transaction kind's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money {
    minor: i64,
    exponent: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("enter an amount")]
    Empty,
    #[error("amount cannot be negative")]
    Negative,
    #[error("use a dot for the decimal point, without thousands separators")]
    Comma,
    #[error("'{0}' is not a number")]
    NotANumber(String),
    #[error("at most {max} digits after the decimal point")]
    TooManyDecimals { max: u8 },
    #[error("amount is too large (at most {max})")]
    TooLarge { max: String },
    #[error("currency exponent {0} is not supported")]
    BadExponent(u8),
}

impl Money {
    /// `minor` units with the given exponent; refuses negative or oversized amounts.
    pub fn from_minor(minor: i64, exponent: u8) -> Result<Self, MoneyError> {
        check_exponent(exponent)?;
        if minor < 0 {
            return Err(MoneyError::Negative);
        }
        if minor > MAX_MINOR {
            return Err(too_large(exponent));
        }
        Ok(Money { minor, exponent })
    }

    pub fn zero(exponent: u8) -> Self {
        Money { minor: 0, exponent }
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn exponent(self) -> u8 {
        self.exponent
    }

    pub(crate) fn is_zero(self) -> bool {
        self.minor == 0
    }

    /// Parses a decimal in major units as a person or the wire gives it: "12.34",
    /// "12.3", "12", "0.05". Surrounding blanks are ignored; signs, separators,
    /// exponents and more decimals than the currency has are refused.
    pub fn parse(text: &str, exponent: u8) -> Result<Self, MoneyError> {
        check_exponent(exponent)?;
        let text = text.trim();
        if text.is_empty() {
            return Err(MoneyError::Empty);
        }
        if text.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        if text.contains(',') {
            return Err(MoneyError::Comma);
        }
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (text, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || frac.is_some_and(|f| !all_digits(f)) {
            return Err(MoneyError::NotANumber(text.chars().take(40).collect()));
        }
        let frac = frac.unwrap_or("");
        if frac.len() > usize::from(exponent) {
            return Err(MoneyError::TooManyDecimals { max: exponent });
        }
        let whole = whole.trim_start_matches('0');
        // Digit counts bound the value before any arithmetic can overflow.
        if whole.len() + usize::from(exponent) > 12 {
            return Err(too_large(exponent));
        }
        let mut minor: i64 = 0;
        let padded = frac
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(exponent.into());
        for digit in whole.bytes().chain(padded) {
            minor = minor * 10 + i64::from(digit - b'0');
        }
        Money::from_minor(minor, exponent)
    }

    /// The wire's decimal string in major units: 1234 with exponent 2 is "12.34".
    pub fn to_wire(self) -> String {
        self.to_string()
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.exponent != other.exponent {
            return None;
        }
        Money::from_minor(self.minor.checked_add(other.minor)?, self.exponent).ok()
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        if self.exponent != other.exponent {
            return None;
        }
        Money::from_minor(self.minor.checked_sub(other.minor)?, self.exponent).ok()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_minor(self.minor, self.exponent, f)
    }
}

/// Formats a signed sum of minor units (report totals may be negative).
pub fn format_minor(minor: i64, exponent: u8) -> String {
    struct Signed(i64, u8);
    impl fmt::Display for Signed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt_minor(self.0, self.1, f)
        }
    }
    Signed(minor, exponent).to_string()
}

/// A signed sum of minor units for people to read: thousands grouped with commas
/// (`1,234,567.89`). Never for the wire or a file, which take `format_minor`.
pub fn grouped_minor(minor: i64, exponent: u8) -> String {
    let plain = format_minor(minor, exponent);
    let (sign, rest) = plain.split_at(usize::from(plain.starts_with('-')));
    let (whole, frac) = rest.split_at(rest.find('.').unwrap_or(rest.len()));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}{frac}")
}

impl Money {
    /// The amount for people to read, thousands grouped (see `grouped_minor`).
    pub fn grouped(self) -> String {
        grouped_minor(self.minor, self.exponent)
    }
}

fn fmt_minor(minor: i64, exponent: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if exponent == 0 {
        return write!(f, "{sign}{abs}");
    }
    let scale = 10u64.pow(exponent.into());
    let width = usize::from(exponent);
    write!(f, "{sign}{}.{:0width$}", abs / scale, abs % scale)
}

fn check_exponent(exponent: u8) -> Result<(), MoneyError> {
    if exponent > MAX_EXPONENT {
        return Err(MoneyError::BadExponent(exponent));
    }
    Ok(())
}

fn too_large(exponent: u8) -> MoneyError {
    MoneyError::TooLarge {
        max: format_minor(MAX_MINOR, exponent),
    }
}

/// The number of decimal places of an ISO 4217 currency (2 when not listed).
pub(crate) fn exponent_of(currency: &str) -> u8 {
    match currency.to_ascii_uppercase().as_str() {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" | "RWF" => 0,
        "KWD" | "BHD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
        _ => 2,
    }
}
