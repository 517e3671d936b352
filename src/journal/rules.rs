//! What may be done to a row, in one place. The lane checks these inside the write
//! transaction that journals the request (so two processes cannot both pass them), and
//! the screens call the same functions to decide what to offer.
//!
//! A follow-up "counts" once it is approved or still unresolved: a refund whose answer
//! is unknown may have moved money, so it uses up what is refundable until it is known.

use super::{TxnKind, TxnRow, TxnState};
use crate::ecr::TransType as T;
use crate::money::Money;

/// A follow-up that may have happened: approved, or not known yet.
fn counts(row: &TxnRow) -> bool {
    row.state != TxnState::Declined
}

/// The follow-ups of `orig` that count, from any list of rows.
fn follow_ups<'a>(orig: &'a TxnRow, rows: &'a [TxnRow]) -> impl Iterator<Item = &'a TxnRow> {
    rows.iter()
        .filter(move |r| r.orig_order_no.as_deref() == Some(orig.order_no.as_str()))
        .filter(|r| counts(r))
}

/// What the terminal calls a void of a row of this kind, if it can be voided at all.
pub fn void_kind(orig: TxnKind) -> Option<T> {
    match orig {
        TxnKind::Trans(T::Sale | T::CashbackSale | T::Refund) => Some(T::Void),
        TxnKind::Trans(T::PreAuth) => Some(T::PreAuthCancel),
        TxnKind::Trans(T::Completion) => Some(T::CompletionCancel),
        _ => None,
    }
}

/// What the terminal calls a referenced refund of a row of this kind.
pub fn refund_kind(orig: TxnKind) -> Option<T> {
    match orig {
        TxnKind::Trans(T::Sale | T::CashbackSale) => Some(T::Refund),
        TxnKind::Trans(T::Completion) => Some(T::CompletionRefund),
        _ => None,
    }
}

/// The tip in force on a sale: its latest approved adjustment, else its own tip.
pub fn effective_tip(sale: &TxnRow, rows: &[TxnRow]) -> i64 {
    rows.iter()
        .filter(|r| r.kind == TxnKind::TipAdjust && r.state == TxnState::Approved)
        .filter(|r| r.orig_order_no.as_deref() == Some(&sale.order_no))
        .max_by_key(|r| r.id)
        .map(|r| r.amount.minor())
        .or(sale.tip.map(|t| t.minor()))
        .unwrap_or(0)
}

/// What of `orig` can still be refunded: the amount that moved and the tip in force,
/// less every refund that counts; nothing once voided or if it never moved money.
pub fn refundable(orig: &TxnRow, rows: &[TxnRow]) -> Money {
    let zero = Money::zero(orig.amount.exponent());
    if orig.state != TxnState::Approved || refund_kind(orig.kind).is_none() {
        return zero;
    }
    let mut refunded = 0;
    for r in follow_ups(orig, rows) {
        match r.kind {
            TxnKind::Trans(T::Void | T::CompletionCancel) => return zero,
            TxnKind::Trans(T::Refund | T::CompletionRefund) => refunded += r.amount.minor(),
            _ => {}
        }
    }
    let left = (orig.amount.minor() + effective_tip(orig, rows) - refunded).max(0);
    Money::from_minor(left, orig.amount.exponent()).unwrap_or(zero)
}

/// Whether a request of this kind names an amount on the wire (and so may be approved
/// for another amount than it asked).
pub fn asks_amount(kind: TxnKind) -> bool {
    matches!(kind, TxnKind::Trans(t) if t.carries_amount())
}

/// Why a new request's own amount is not acceptable, before any original is looked at.
pub fn check_amount(kind: TxnKind, amount: Money) -> Result<(), String> {
    if asks_amount(kind) && amount.is_zero() {
        return Err(format!("a {} of {amount} moves no money", kind.name()));
    }
    Ok(())
}

/// Whether a request of `kind` (and `amount`, where it has one) may be done to `orig`,
/// given the other rows of the journal that reference it and the open batch.
pub fn check(
    kind: TxnKind,
    amount: Money,
    orig: &TxnRow,
    rows: &[TxnRow],
    open_batch: i64,
) -> Result<(), String> {
    check_amount(kind, amount)?;
    let name = &orig.order_no;
    if orig.state != TxnState::Approved {
        return Err(format!(
            "order {name} was not approved ({})",
            orig.state.name()
        ));
    }
    let fits = match kind {
        TxnKind::Trans(T::Void | T::PreAuthCancel | T::CompletionCancel) => {
            void_kind(orig.kind) == kind_trans(kind)
        }
        TxnKind::Trans(T::Refund | T::CompletionRefund) => {
            refund_kind(orig.kind) == kind_trans(kind)
        }
        TxnKind::TipAdjust => matches!(orig.kind, TxnKind::Trans(T::Sale | T::CashbackSale)),
        TxnKind::Trans(T::Completion) => orig.kind == TxnKind::Trans(T::PreAuth),
        _ => false,
    };
    if !fits {
        return Err(format!(
            "order {name} is a {}; a {} cannot be done to it",
            orig.kind.name(),
            kind.name()
        ));
    }
    let settled_in = (orig.batch != open_batch).then_some(orig.batch);
    let mut later = follow_ups(orig, rows);
    match kind {
        // A void or cancel gives back an untouched payment of the open batch.
        TxnKind::Trans(T::Void | T::PreAuthCancel | T::CompletionCancel) => {
            if let Some(batch) = settled_in {
                return Err(format!(
                    "order {name} was settled with batch {batch}; refund it instead"
                ));
            }
            if let Some(r) = later.find(|r| r.kind != TxnKind::TipAdjust) {
                return Err(format!(
                    "order {name} already has a {} ({}); it can no longer be voided",
                    r.kind.name(),
                    r.order_no
                ));
            }
        }
        TxnKind::TipAdjust => {
            if let Some(batch) = settled_in {
                return Err(format!(
                    "order {name} was settled with batch {batch}; its tip can no longer change"
                ));
            }
            if let Some(r) = later.find(|r| r.kind == TxnKind::Trans(T::Void)) {
                return Err(format!(
                    "order {name} already has a void ({}); its tip can no longer change",
                    r.order_no
                ));
            }
        }
        TxnKind::Trans(T::Completion) => {
            if let Some(r) = later.next() {
                return Err(format!(
                    "pre-auth {name} already has a {} ({})",
                    r.kind.name(),
                    r.order_no
                ));
            }
            if amount > orig.amount {
                return Err(format!(
                    "a completion of {amount} is more than pre-auth {name} holds ({})",
                    orig.amount
                ));
            }
        }
        TxnKind::Trans(T::Refund | T::CompletionRefund) => {
            let left = refundable(orig, rows);
            if amount > left {
                return Err(format!(
                    "at most {left} of order {name} can still be refunded"
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

fn kind_trans(kind: TxnKind) -> Option<T> {
    match kind {
        TxnKind::Trans(t) => Some(t),
        _ => None,
    }
}

/// Whether a screen should offer to void (or cancel) `orig`.
pub fn may_void(orig: &TxnRow, rows: &[TxnRow], open_batch: i64) -> bool {
    void_kind(orig.kind)
        .is_some_and(|t| check(TxnKind::Trans(t), orig.amount, orig, rows, open_batch).is_ok())
}

/// Whether a screen should offer to change the tip of `orig`.
pub fn may_tip(orig: &TxnRow, rows: &[TxnRow], open_batch: i64) -> bool {
    check(
        TxnKind::TipAdjust,
        Money::zero(orig.amount.exponent()),
        orig,
        rows,
        open_batch,
    )
    .is_ok()
}
