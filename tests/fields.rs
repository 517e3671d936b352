//! The one text-field behaviour every screen shares: tui-input's editing keys, ^H as
//! Backspace, no letters typed by Ctrl, a prefill the first character replaces, a
//! length limit; and money typed cents-first or with a point.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use till::tui::field::{CentsField, Edit, TextField};

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn typed(field: &mut TextField, text: &str) {
    for c in text.chars() {
        field.edit(key(KeyCode::Char(c)));
    }
}

#[test]
fn editing_keys_work_as_in_a_shell() {
    let mut f = TextField::with_max(40);
    typed(&mut f, "receipt shows");
    assert_eq!(f.edit(ctrl('w')), Edit::Changed);
    assert_eq!(f.text, "receipt ");
    f.edit(key(KeyCode::Home));
    typed(&mut f, "the ");
    assert_eq!(f.text, "the receipt ");
    assert_eq!(f.shown(true), "the |receipt ");
    f.edit(key(KeyCode::End));
    f.edit(ctrl('h')); // what some SSH clients send for Backspace
    assert_eq!(f.text, "the receipt");
    f.edit(key(KeyCode::Left));
    f.edit(key(KeyCode::Backspace));
    assert_eq!(f.text, "the receit");
    // Ctrl and a letter never types the letter.
    assert_eq!(f.edit(ctrl('r')), Edit::Ignored);
    assert_eq!(f.text, "the receit");
    f.edit(ctrl('u'));
    assert_eq!((f.text.as_str(), f.shown(true).as_str()), ("", "_"));
}

#[test]
fn a_prefill_is_replaced_by_typing_and_kept_by_editing() {
    let mut f = TextField::order_no();
    f.prefill("L01-AAAAA-1124-000001");
    typed(&mut f, "l02-x");
    assert_eq!(
        f.text, "L02-X",
        "replaced, and order numbers are upper case"
    );
    f.prefill("L01-AAAAA-1124-000001");
    f.edit(key(KeyCode::Backspace));
    typed(&mut f, "2");
    assert_eq!(f.text, "L01-AAAAA-1124-000002", "edited, not replaced");
}

#[test]
fn a_full_field_says_so() {
    let mut f = TextField::order_no();
    typed(&mut f, &"A".repeat(32));
    assert_eq!(f.edit(key(KeyCode::Char('B'))), Edit::Full);
    assert_eq!(f.text.len(), 32);
}

#[test]
fn money_fields_take_digits_a_point_and_the_clearing_keys() {
    let mut m = CentsField::prefill(1200);
    assert_eq!(m.display(2), "12.00");
    m.edit(key(KeyCode::Char('5')));
    assert_eq!(m.display(2), "0.05", "the suggested amount is replaced");
    m.edit(key(KeyCode::Char('0')));
    m.edit(key(KeyCode::Char('0')));
    assert_eq!(m.display(2), "5.00");
    assert_eq!(m.edit(key(KeyCode::Char('x'))), Edit::Refused);
    assert_eq!(m.edit(ctrl('x')), Edit::Ignored);
    m.edit(ctrl('h'));
    assert_eq!(m.display(2), "0.50");
    m.edit(ctrl('u'));
    assert!(m.is_empty());
    for c in "7.5".chars() {
        m.edit(key(KeyCode::Char(c)));
    }
    assert_eq!(m.minor(2), 750);
    assert_eq!(m.minor(0), 7, "a currency without decimals");
    assert_eq!(m.minor(3), 7500);
}
