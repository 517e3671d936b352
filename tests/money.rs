//! Money: parsing what people and the wire give, formatting for the wire.

use proptest::prelude::*;
use till::money::{MAX_MINOR, Money, MoneyError, format_minor};

fn minor(text: &str, exp: u8) -> i64 {
    Money::parse(text, exp).unwrap().minor()
}

#[test]
fn parses_what_people_and_the_wire_give() {
    assert_eq!(minor("12.34", 2), 1234);
    assert_eq!(minor("12.3", 2), 1230);
    assert_eq!(minor("12", 2), 1200);
    assert_eq!(minor("0.05", 2), 5);
    assert_eq!(minor(" 7.00 ", 2), 700);
    assert_eq!(minor("0", 2), 0);
    assert_eq!(minor("1500", 0), 1500);
    assert_eq!(minor("1.234", 3), 1234);
    assert_eq!(minor("0.5", 3), 500);
}

#[test]
fn rejects_the_rest_with_a_reason() {
    assert_eq!(Money::parse("1,5", 2), Err(MoneyError::Comma));
    assert_eq!(Money::parse("-1", 2), Err(MoneyError::Negative));
    assert_eq!(
        Money::parse("12.345", 2),
        Err(MoneyError::TooManyDecimals { max: 2 })
    );
    assert_eq!(Money::parse("", 2), Err(MoneyError::Empty));
    assert_eq!(Money::parse("   ", 2), Err(MoneyError::Empty));
    assert!(matches!(
        Money::parse("1e3", 2),
        Err(MoneyError::NotANumber(_))
    ));
    for bad in ["abc", "12.", ".5", "+5", "1 2", "1.2.3", "0x10", "١٢"] {
        assert!(Money::parse(bad, 2).is_err(), "{bad} accepted");
    }
    assert!(matches!(
        Money::parse("99999999999999999999999999", 2),
        Err(MoneyError::TooLarge { .. })
    ));
    assert!(matches!(
        Money::parse("10000000000", 2),
        Err(MoneyError::TooLarge { .. })
    ));
    assert_eq!(minor("9999999999.99", 2), MAX_MINOR);
    assert_eq!(
        Money::parse("1.5", 0),
        Err(MoneyError::TooManyDecimals { max: 0 })
    );
    assert_eq!(Money::parse("1", 9), Err(MoneyError::BadExponent(9)));
    assert_eq!(
        Money::parse("10000000000", 2).unwrap_err().to_string(),
        "amount is too large (at most 9999999999.99)"
    );
}

#[test]
fn formats_for_the_wire() {
    assert_eq!(Money::from_minor(1234, 2).unwrap().to_wire(), "12.34");
    assert_eq!(Money::from_minor(5, 2).unwrap().to_wire(), "0.05");
    assert_eq!(Money::from_minor(1500, 0).unwrap().to_wire(), "1500");
    assert_eq!(Money::from_minor(1, 3).unwrap().to_wire(), "0.001");
    assert_eq!(format_minor(-1234, 2), "-12.34");
}

#[test]
fn amounts_for_people_group_their_thousands() {
    use till::money::grouped_minor;
    assert_eq!(grouped_minor(123_456_789, 2), "1,234,567.89");
    assert_eq!(grouped_minor(-123_456_789, 2), "-1,234,567.89");
    assert_eq!(grouped_minor(99_999, 2), "999.99");
    assert_eq!(grouped_minor(100_000, 2), "1,000.00");
    assert_eq!(grouped_minor(1_500_000, 0), "1,500,000");
    assert_eq!(grouped_minor(5, 2), "0.05");
    assert_eq!(
        Money::from_minor(MAX_MINOR, 2).unwrap().grouped(),
        "9,999,999,999.99"
    );
}

#[test]
fn arithmetic_is_checked() {
    let a = Money::from_minor(MAX_MINOR, 2).unwrap();
    let one = Money::from_minor(1, 2).unwrap();
    assert_eq!(a.checked_add(one), None);
    assert_eq!(one.checked_sub(a), None);
    assert_eq!(one.checked_add(Money::from_minor(1, 3).unwrap()), None);
    assert_eq!(a.checked_sub(one).unwrap().minor(), MAX_MINOR - 1);
}

proptest! {
    #[test]
    fn wire_round_trip(minor in 0..=MAX_MINOR, exponent in 0u8..=3) {
        let money = Money::from_minor(minor, exponent).unwrap();
        prop_assert_eq!(Money::parse(&money.to_wire(), exponent).unwrap(), money);
    }

    #[test]
    fn parse_never_panics(text in "\\PC{0,40}", exponent in 0u8..=6) {
        let _ = Money::parse(&text, exponent);
    }

    #[test]
    fn parsed_text_formats_back_canonically(whole in 0u64..10_000_000, frac in "[0-9]{0,2}") {
        let text = if frac.is_empty() { whole.to_string() } else { format!("{whole}.{frac}") };
        let money = Money::parse(&text, 2).unwrap();
        let again = Money::parse(&money.to_wire(), 2).unwrap();
        prop_assert_eq!(money, again);
    }
}
