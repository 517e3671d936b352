//! Order numbers and lane ids: checking the ones a person types, and handing out new
//! ones (see `numbering` for the identity in them).

use std::path::Path;

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::{Journal, JournalError, numbering};

/// The wire's limit on `merchant_order_no`.
pub(crate) const ORDER_NO_MAX: usize = 32;

/// Checks an order number a person typed: 1 to 32 visible ASCII characters.
pub(crate) fn check_order_no(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("enter an order number, e.g. L01-KQXRT-1124-000042".into());
    }
    if text.chars().count() > ORDER_NO_MAX {
        return Err(format!(
            "order numbers have at most {ORDER_NO_MAX} characters"
        ));
    }
    if !text.chars().all(|c| c.is_ascii_graphic()) {
        return Err(format!(
            "'{text}' is not an order number (letters, digits and dashes only)"
        ));
    }
    Ok(text.to_string())
}

/// A lane id as it goes into order numbers: 1 to 8 letters or digits, upper case.
pub(crate) fn check_lane(lane: &str) -> Result<String, JournalError> {
    let lane = lane.trim().to_ascii_uppercase();
    if lane.is_empty() || lane.len() > 8 || !lane.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(JournalError::Invalid(format!(
            "lane id '{lane}': use 1 to 8 letters or digits"
        )));
    }
    Ok(lane)
}

impl Journal {
    /// A new order number, `L01-KQXRT-1124-000042`: lane id, the journal's numbering
    /// identity, month and day, and a per-lane sequence kept in the journal. Unique
    /// without the clock: the sequence never resets, the lane keeps lanes sharing a store
    /// apart and the identity keeps a journal started afresh, restored from a copy or
    /// moved to another machine apart from the one before it (see `numbering`).
    pub fn next_order_no(&mut self, lane: &str) -> Result<String, JournalError> {
        let lane = check_lane(lane)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (order_no, mark) = next_order_no_in(&tx, &lane, &self.path)?;
        tx.commit()?;
        mark.wait()?;
        Ok(order_no)
    }
}

/// A new order number, inside the caller's write transaction, and its numbering mark
/// on its way to the disk (see `numbering::count_one`).
pub(super) fn next_order_no_in(
    tx: &rusqlite::Transaction,
    lane: &str,
    journal: &Path,
) -> Result<(String, numbering::Syncing), JournalError> {
    let (identity, mark) = numbering::count_one(tx, journal)?;
    let next: i64 = tx
        .prepare_cached("SELECT next FROM order_seq WHERE lane = ?1")?
        .query_row([lane], |r| r.get(0))
        .optional()?
        .unwrap_or(1);
    tx.prepare_cached(
        "INSERT INTO order_seq (lane, next) VALUES (?1, ?2) ON CONFLICT(lane) DO UPDATE SET next = excluded.next")?.execute(
        params![lane, next + 1],
    )?;
    let day = chrono::Local::now().format("%m%d");
    Ok((format!("{lane}-{identity}-{day}-{next:06}"), mark))
}
