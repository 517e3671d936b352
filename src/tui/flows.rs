//! The flows the screens share, below them all: a payment started (with the
//! supervisor's PIN when it needs one), a confirmation asked, a selection moved.

use crossterm::event::{KeyCode, KeyEvent};

use super::desk::{Confirmed, Desk, Flight, Modal, OnNo, PinFor};
use super::field::TextField;
use super::msg::Effect;
use crate::lane::PayRequest;
use crate::supervisor_pin;
use crate::supervisor_pin::Act;
use crate::supervisor_pin::tries::TRIES;

/// What a cashier reads when an order number field is full.
pub(crate) const ORDER_FULL: &str = "order numbers have at most 32 characters";

/// Keys every screen shares at its top level: Esc opens the menu.
pub(crate) fn top_level(d: &mut Desk, key: KeyEvent) -> Vec<Effect> {
    if key.code == KeyCode::Esc {
        d.modal = Some(Modal::Menu);
    }
    vec![]
}

/// Hands a money-moving request to the lane; the overlay stays up until its end.
pub(crate) fn start(d: &mut Desk, req: PayRequest) -> Vec<Effect> {
    let act = Act::of(&req);
    if let Some(why) = supervisor_pin::needs_pin(&act, &d.supervisor) {
        d.modal = Some(pin_modal(d, PinFor::Pay(req), &why.to_string()));
        return vec![];
    }
    fly(d, req, false)
}

/// The request goes to the lane; the overlay stays up until its end.
pub(crate) fn fly(d: &mut Desk, req: PayRequest, supervised: bool) -> Vec<Effect> {
    d.flight = Some(Flight {
        request: req.clone(),
        order_no: None,
        started: std::time::Instant::now(),
        progress: Vec::new(),
        cancel_asked: false,
        unknown: false,
        from: None,
    });
    d.result = None;
    if supervised {
        vec![Effect::PaySupervised(req)]
    } else {
        vec![Effect::Pay(req)]
    }
}

pub(crate) fn confirm(d: &mut Desk, question: String, req: PayRequest) -> Vec<Effect> {
    d.modal = Some(Modal::Confirm {
        question,
        then: Confirmed::Pay(req),
        on_no: OnNo::Keep,
    });
    vec![]
}

/// ↑/↓, Home/End, and PgUp/PgDn by `page` rows (what shows) in a list of `len`.
pub(crate) fn move_sel(sel: &mut usize, len: usize, page: usize, key: KeyCode) -> bool {
    let last = len.saturating_sub(1);
    *sel = match key {
        KeyCode::Up => sel.saturating_sub(1),
        KeyCode::Down => (*sel + 1).min(last),
        KeyCode::PageUp => sel.saturating_sub(page),
        KeyCode::PageDown => (*sel + page).min(last),
        KeyCode::Home => 0,
        KeyCode::End => last,
        _ => return false,
    };
    true
}

/// A dialog asking the supervisor's PIN for `then`; while PIN entry is locked it
/// says so from the start.
pub(crate) fn pin_modal(d: &Desk, then: PinFor, why: &str) -> Modal {
    let locked = d.pin_lock();
    Modal::Pin {
        then,
        why: why.to_string(),
        pin: TextField::with_max(12),
        error: locked.map(|until| pin_locked(d.utc_offset, until)),
        checking: false,
    }
}

/// What the PIN prompt says while wrong PINs have locked PIN entry.
pub(crate) fn pin_locked(
    offset: chrono::FixedOffset,
    until: chrono::DateTime<chrono::Utc>,
) -> String {
    format!(
        "{} wrong PINs in a row: locked until {}",
        TRIES,
        until.with_timezone(&offset).format("%H:%M:%S")
    )
}
