//! What every write shares: its audit line and its commit.

use std::path::Path;

use rusqlite::params;

use super::{JournalError, TxnState, now, rollup};
use crate::mask::mask_pans;

/// Commits a write, first tallying again the quarter hours whose totals it changed
/// (see `rollup`). Tallying may fail (an unreadable archive holds an original): the
/// write still commits, its quarter hours stay dirty, and reports read their rows.
pub(super) fn commit(mut tx: rusqlite::Transaction, path: &Path) -> Result<(), JournalError> {
    let sp = tx.savepoint()?;
    match rollup::refresh_own(&sp, path) {
        Ok(_) => sp.commit()?,
        Err(e) => {
            drop(sp);
            tracing::warn!("report totals left to tally later: {e}");
        }
    }
    tx.commit()?;
    Ok(())
}

/// Commits a row's admission without tallying it, so the commit a request waits for
/// before it is sent writes the row and little else. The row stays marked dirty
/// (`rollup`) and the next write adds its share (on the lane's path the sent mark,
/// once the request has left); meanwhile a report reads rows, and a process that
/// stops first leaves it to the next open's tally.
pub(super) fn commit_untallied(tx: rusqlite::Transaction) -> Result<(), JournalError> {
    tx.commit()?;
    Ok(())
}

pub(super) fn audit(
    tx: &rusqlite::Transaction,
    order_no: &str,
    who: &str,
    from: Option<TxnState>,
    to: TxnState,
    why: &str,
) -> Result<(), JournalError> {
    tx.prepare_cached(
        "INSERT INTO audit (order_no, at, who, from_state, to_state, why) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(
        params![order_no, now(), who, from.map(TxnState::name), to.name(), mask_pans(why)],
    )?;
    Ok(())
}
