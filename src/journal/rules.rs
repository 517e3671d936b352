//! What may be done to a row, in one place. The lane checks these inside the write
//! transaction that journals the request (so two processes cannot both pass them), and
//! the screens call the same functions to decide what to offer.
//!
//! A follow-up "counts" once it is approved or still unresolved: a refund whose answer
//! is unknown may have moved money, so it uses up what is refundable until it is known.

use std::collections::HashMap;

use super::{Aftermath, TxnKind, TxnRow, TxnState};
use crate::ecr::{PayScenario, TransType as T};
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
pub(crate) fn void_kind(orig: TxnKind) -> Option<T> {
    match orig {
        TxnKind::Trans(T::Sale | T::CashbackSale | T::Refund) => Some(T::Void),
        TxnKind::Trans(T::PreAuth) => Some(T::PreAuthCancel),
        TxnKind::Trans(T::Completion) => Some(T::CompletionCancel),
        _ => None,
    }
}

/// What the terminal calls a referenced refund of a row of this kind.
pub(crate) fn refund_kind(orig: TxnKind) -> Option<T> {
    match orig {
        TxnKind::Trans(T::Sale | T::CashbackSale) => Some(T::Refund),
        TxnKind::Trans(T::Completion) => Some(T::CompletionRefund),
        _ => None,
    }
}

/// The tip in force on a sale: its latest approved adjustment, else its own tip.
pub fn effective_tip(sale: &TxnRow, rows: &[TxnRow]) -> i64 {
    tip_in_force(sale, &Aftermath::of_rows(&sale.order_no, rows))
}

fn tip_in_force(sale: &TxnRow, after: &[Aftermath]) -> i64 {
    after
        .iter()
        .find_map(|a| match a {
            Aftermath::TipAdjusted(t) => Some(t.minor()),
            _ => None,
        })
        .or(sale.tip.map(Money::minor))
        .unwrap_or(0)
}

/// What of `orig` can still be refunded: the amount that moved and the tip in force,
/// less every refund that counts; nothing once voided or if it never moved money.
pub(crate) fn refundable(orig: &TxnRow, rows: &[TxnRow]) -> Money {
    refundable_after(orig, &Aftermath::of_rows(&orig.order_no, rows))
}

/// `refundable`, from what happened to `orig` since (a page's `Journal::aftermath`).
/// A tip adjustment not known yet may lower the tip: until it is known the lower of
/// the two tips is what can be given back, so refunds never exceed what moved.
pub(crate) fn refundable_after(orig: &TxnRow, after: &[Aftermath]) -> Money {
    let zero = Money::zero(orig.amount.exponent());
    if orig.state != TxnState::Approved || refund_kind(orig.kind).is_none() {
        return zero;
    }
    let mut refunded = 0;
    let mut tip = tip_in_force(orig, after);
    for a in after {
        match a {
            Aftermath::Voided
            | Aftermath::Unresolved(TxnKind::Trans(T::Void | T::CompletionCancel), _) => {
                return zero;
            }
            Aftermath::Refunded(m)
            | Aftermath::Unresolved(TxnKind::Trans(T::Refund | T::CompletionRefund), m) => {
                refunded += m.minor()
            }
            Aftermath::Unresolved(TxnKind::TipAdjust, asked) => tip = tip.min(asked.minor()),
            _ => {}
        }
    }
    let left = (orig.amount.minor() + tip - refunded).max(0);
    Money::from_minor(left, orig.amount.exponent()).unwrap_or(zero)
}

/// Whether a pre-auth can still be completed: approved, and nothing (completion or
/// cancel, approved or unresolved) has happened to it since.
pub(crate) fn completable_after(orig: &TxnRow, after: &[Aftermath]) -> bool {
    orig.state == TxnState::Approved && orig.kind == TxnKind::Trans(T::PreAuth) && after.is_empty()
}

/// Why a sale cannot go as asked: cash-back is cash handed over against a card
/// payment; a QR payment has no card to take it from.
pub(crate) fn check_sale(scenario: PayScenario, cashback: Option<Money>) -> Result<(), String> {
    if cashback.is_some_and(|c| !c.is_zero()) && scenario != PayScenario::Card {
        return Err("cash-back only on card: pay by card, or take the cash-back off".to_string());
    }
    Ok(())
}

/// The words a row is booked with when the terminal approved it for an amount that
/// does not read as money: it stays unknown until a person settles it.
pub(crate) const AMOUNT_UNREADABLE: &str = "approved, amount unreadable";

/// Whether no query can settle `row` and a person must (`till resolve`): the terminal
/// approved it, for an amount nobody can read. For what screens and commands say only;
/// the lane decides from the terminal's answer, not from these words.
pub fn needs_person(row: &TxnRow) -> bool {
    row.state == TxnState::Unknown
        && row
            .reply
            .response_msg
            .as_deref()
            .is_some_and(|m| m.starts_with(AMOUNT_UNREADABLE))
}

/// Whether a request of this kind names an amount on the wire (and so may be approved
/// for another amount than it asked).
pub(crate) fn asks_amount(kind: TxnKind) -> bool {
    matches!(kind, TxnKind::Trans(t) if t.carries_amount())
}

/// Why a new request's own amount is not acceptable, before any original is looked at.
pub(crate) fn check_amount(kind: TxnKind, amount: Money) -> Result<(), String> {
    if asks_amount(kind) && amount.is_zero() {
        return Err(format!("a {} of {amount} moves no money", kind.name()));
    }
    Ok(())
}

/// Whether a request of `kind` (and `amount`, where it has one) may be done to `orig`,
/// given the other rows of the journal that reference it and the open batch.
pub(crate) fn check(
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
    if !fits(kind, orig.kind) {
        return Err(format!(
            "order {name} is a {}; a {} cannot be done to it",
            orig.kind.name(),
            kind.name()
        ));
    }
    let settled_in = (orig.batch != open_batch).then_some(orig.batch);
    let later: Vec<&TxnRow> = follow_ups(orig, rows).collect();
    match kind {
        TxnKind::Trans(T::Void | T::PreAuthCancel | T::CompletionCancel) => {
            check_void(name, settled_in, &later)?
        }
        TxnKind::TipAdjust => check_tip(name, settled_in, &later)?,
        TxnKind::Trans(T::Completion) => {
            if !completable_after(orig, &Aftermath::of_rows(name, rows))
                && let Some(r) = later.first()
            {
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

/// Whether a request of `kind` can be done to an original of `orig`'s kind at all.
fn fits(kind: TxnKind, orig: TxnKind) -> bool {
    match kind {
        TxnKind::Trans(T::Void | T::PreAuthCancel | T::CompletionCancel) => {
            void_kind(orig) == kind_trans(kind)
        }
        TxnKind::Trans(T::Refund | T::CompletionRefund) => refund_kind(orig) == kind_trans(kind),
        TxnKind::TipAdjust => matches!(orig, TxnKind::Trans(T::Sale | T::CashbackSale)),
        TxnKind::Trans(T::Completion) => orig == TxnKind::Trans(T::PreAuth),
        _ => false,
    }
}

/// A void or cancel gives back an untouched payment of the open batch.
fn check_void(name: &str, settled_in: Option<i64>, later: &[&TxnRow]) -> Result<(), String> {
    if let Some(batch) = settled_in {
        return Err(format!(
            "order {name} was settled with batch {batch}; refund it instead"
        ));
    }
    if let Some(r) = later.iter().find(|r| r.kind != TxnKind::TipAdjust) {
        return Err(format!(
            "order {name} already has a {} ({}); it can no longer be voided",
            r.kind.name(),
            r.order_no
        ));
    }
    Ok(())
}

/// A tip changes on an approved sale of the open batch, neither voided nor refunded,
/// one change at a time.
fn check_tip(name: &str, settled_in: Option<i64>, later: &[&TxnRow]) -> Result<(), String> {
    if let Some(batch) = settled_in {
        return Err(format!(
            "order {name} was settled with batch {batch}; its tip can no longer change"
        ));
    }
    if let Some(r) = later.iter().find(|r| r.kind == TxnKind::Trans(T::Void)) {
        return Err(format!(
            "order {name} already has a void ({}); its tip can no longer change",
            r.order_no
        ));
    }
    // A refund gave back part of the tip in force: changing the tip now would
    // give back more than moved (a cut) or charge a refunded sale again (a rise).
    if let Some(r) = later.iter().find(|r| r.kind == TxnKind::Trans(T::Refund)) {
        return Err(format!(
            "order {name} has a refund ({}); its tip can no longer change",
            r.order_no
        ));
    }
    // Until the terminal says which tip is in force, a second change could
    // not be judged against it (nor its own lost answer).
    if let Some(r) = later
        .iter()
        .find(|r| r.kind == TxnKind::TipAdjust && r.state != TxnState::Approved)
    {
        return Err(format!(
            "order {name} has a tip adjustment not known yet ({}); its tip can change once that is settled",
            r.order_no
        ));
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
fn may_void(orig: &TxnRow, rows: &[TxnRow], open_batch: i64) -> bool {
    void_kind(orig.kind)
        .is_some_and(|t| check(TxnKind::Trans(t), orig.amount, orig, rows, open_batch).is_ok())
}

/// The rows of `rows` a screen should offer to void (or cancel), each judged against
/// its follow-ups among `rows` and its own batch. The follow-ups are grouped once: a
/// batch of thousands of rows is not read again for every row of it.
pub(crate) fn voidable(rows: &[TxnRow]) -> impl Iterator<Item = &TxnRow> {
    let mut follow_ups: HashMap<&str, Vec<TxnRow>> = HashMap::new();
    for r in rows {
        if let Some(orig) = r.orig_order_no.as_deref() {
            follow_ups.entry(orig).or_default().push(r.clone());
        }
    }
    rows.iter().filter(move |r| {
        let theirs = follow_ups
            .get(r.order_no.as_str())
            .map_or(&[][..], Vec::as_slice);
        may_void(r, theirs, r.batch)
    })
}

/// Whether a screen should offer to change the tip of `orig`.
pub(crate) fn may_tip(orig: &TxnRow, rows: &[TxnRow], open_batch: i64) -> bool {
    check(
        TxnKind::TipAdjust,
        Money::zero(orig.amount.exponent()),
        orig,
        rows,
        open_batch,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(minor: i64) -> Money {
        Money::from_minor(minor, 2).expect("amount")
    }

    fn row(id: i64, kind: TxnKind, state: TxnState, minor: i64, orig: Option<&str>) -> TxnRow {
        TxnRow {
            id,
            order_no: format!("L01-{id}"),
            request_id: String::new(),
            kind,
            state,
            amount: m(minor),
            asked: m(minor),
            tip: None,
            cashback: None,
            currency: "USD".into(),
            orig_order_no: orig.map(String::from),
            lane: "L01".into(),
            scenario: None,
            batch: 1,
            created_at: String::new(),
            sent_at: None,
            updated_at: String::new(),
            reply: super::super::TerminalReply::default(),
            via: super::super::Via::Lan,
            terminal_sn: None,
        }
    }

    /// A 10.00 sale with a 5.00 tip, approved, in batch 1.
    fn tipped_sale() -> TxnRow {
        let mut s = row(1, TxnKind::Trans(T::Sale), TxnState::Approved, 1000, None);
        s.tip = Some(m(500));
        s
    }

    fn follow(id: i64, kind: TxnKind, state: TxnState, minor: i64) -> TxnRow {
        row(id, kind, state, minor, Some("L01-1"))
    }

    #[test]
    fn the_voidable_rows_are_those_each_row_judged_against_the_whole_list_gives() {
        use TxnState::{Approved, Declined, Unknown};
        let t = TxnKind::Trans;
        let rows = [
            row(1, t(T::Sale), Approved, 1000, None),
            row(2, t(T::Void), Approved, 1000, Some("L01-1")),
            row(3, t(T::Sale), Approved, 2000, None),
            row(4, t(T::Refund), Approved, 500, Some("L01-3")),
            row(5, t(T::PreAuth), Approved, 3000, None),
            row(6, t(T::Completion), Unknown, 2500, Some("L01-5")),
            row(7, t(T::PreAuth), Approved, 4000, None),
            row(8, t(T::PreAuthCancel), Declined, 4000, Some("L01-7")),
            row(9, t(T::Sale), Declined, 100, None),
            row(10, t(T::Refund), Approved, 300, None),
            row(11, TxnKind::TipAdjust, Approved, 200, Some("L01-3")),
        ];
        let each: Vec<i64> = rows
            .iter()
            .filter(|r| may_void(r, &rows, r.batch))
            .map(|r| r.id)
            .collect();
        let grouped: Vec<i64> = voidable(&rows).map(|r| r.id).collect();
        assert_eq!(grouped, each);
        // Not the voided sale, the pre-auth completing nor the declined sale.
        assert!(!grouped.contains(&1) && !grouped.contains(&5) && !grouped.contains(&9));
        assert!(grouped.contains(&7), "{grouped:?}");
    }

    #[test]
    fn rules_refuse_a_tip_change_once_a_refund_counts() {
        let sale = tipped_sale();
        for state in [TxnState::Approved, TxnState::Unknown, TxnState::Pending] {
            let rows = [follow(2, TxnKind::Trans(T::Refund), state, 1500)];
            for tip in [100, 900] {
                let why = check(TxnKind::TipAdjust, m(tip), &sale, &rows, 1)
                    .expect_err("a refunded sale's tip is fixed");
                assert_eq!(
                    why,
                    "order L01-1 has a refund (L01-2); its tip can no longer change"
                );
            }
            assert!(!may_tip(&sale, &rows, 1));
        }
        // A declined refund gave nothing back.
        let rows = [follow(
            2,
            TxnKind::Trans(T::Refund),
            TxnState::Declined,
            1500,
        )];
        assert!(check(TxnKind::TipAdjust, m(100), &sale, &rows, 1).is_ok());
    }

    #[test]
    fn rules_take_one_tip_change_at_a_time() {
        let sale = tipped_sale();
        let rows = [follow(2, TxnKind::TipAdjust, TxnState::Unknown, 100)];
        let why = check(TxnKind::TipAdjust, m(200), &sale, &rows, 1).expect_err("one at a time");
        assert!(
            why.contains("tip adjustment not known yet (L01-2)"),
            "{why}"
        );
        let rows = [follow(2, TxnKind::TipAdjust, TxnState::Approved, 100)];
        assert!(check(TxnKind::TipAdjust, m(200), &sale, &rows, 1).is_ok());
    }

    #[test]
    fn rules_refund_at_most_the_lower_tip_while_an_adjustment_is_unknown() {
        let sale = tipped_sale();
        assert_eq!(refundable(&sale, &[]), m(1500));
        // Cut to 1.00 or not: until known, 11.00 is all that surely moved.
        let rows = [follow(2, TxnKind::TipAdjust, TxnState::Unknown, 100)];
        assert_eq!(refundable(&sale, &rows), m(1100));
        // Raised to 9.00 or not: 15.00 surely moved.
        let rows = [follow(2, TxnKind::TipAdjust, TxnState::Unknown, 900)];
        assert_eq!(refundable(&sale, &rows), m(1500));
        let rows = [
            follow(2, TxnKind::TipAdjust, TxnState::Approved, 900),
            follow(3, TxnKind::Trans(T::Refund), TxnState::Unknown, 400),
        ];
        assert_eq!(refundable(&sale, &rows), m(1500));
        assert_eq!(effective_tip(&sale, &rows), 900);
        let rows = [follow(2, TxnKind::Trans(T::Void), TxnState::Unknown, 1500)];
        assert_eq!(refundable(&sale, &rows), m(0));
    }

    #[test]
    fn rules_screens_and_lane_agree_on_what_is_left() {
        let sale = tipped_sale();
        let rows = [
            follow(2, TxnKind::TipAdjust, TxnState::Approved, 200),
            follow(3, TxnKind::Trans(T::Refund), TxnState::Approved, 300),
            follow(4, TxnKind::Trans(T::Refund), TxnState::Unknown, 100),
            follow(5, TxnKind::Trans(T::Refund), TxnState::Declined, 700),
        ];
        let after = Aftermath::of_rows(&sale.order_no, &rows);
        assert_eq!(refundable_after(&sale, &after), m(800));
        assert_eq!(refundable(&sale, &rows), m(800));
        assert!(check(TxnKind::Trans(T::Refund), m(800), &sale, &rows, 1).is_ok());
        assert!(check(TxnKind::Trans(T::Refund), m(801), &sale, &rows, 1).is_err());
    }

    #[test]
    fn rules_give_cash_back_on_card_only() {
        assert!(check_sale(PayScenario::Card, Some(m(2000))).is_ok());
        assert!(check_sale(PayScenario::CustomerScansQr, None).is_ok());
        assert!(check_sale(PayScenario::CustomerScansQr, Some(m(0))).is_ok());
        for qr in [PayScenario::CustomerScansQr, PayScenario::MerchantScansQr] {
            let why = check_sale(qr, Some(m(2000))).expect_err("no cash-back on QR");
            assert!(why.starts_with("cash-back only on card"), "{why}");
        }
    }
}
