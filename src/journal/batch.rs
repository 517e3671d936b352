//! Batches: each lane's open one, closing it when its terminal settled, and the
//! list of them.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::read::select;
use super::{BatchReport, Journal, JournalError, TxnKind, TxnState, Via, now, rollup};
use crate::mask::mask_frame;

/// A batch: the open one of a lane, or one by its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchSel<'a> {
    Open(&'a str),
    Number(i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchInfo {
    pub number: i64,
    /// None: a batch closed before batches were per lane, holding every lane's rows.
    pub lane: Option<String>,
    pub(crate) opened_at: String,
    pub closed_at: Option<String>,
    pub count: i64,
}

impl Journal {
    /// The number of the batch the lane's new rows go into. A lane that has none yet
    /// (new, or last used before batches were per lane) opens one now.
    pub fn open_batch(&self, lane: &str) -> Result<i64, JournalError> {
        if let Some(number) = open_batch_of(&self.conn, lane)? {
            return Ok(number);
        }
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let number = open_batch_in(&tx, lane)?;
        tx.commit()?;
        Ok(number)
    }

    pub(super) fn batch_number(&self, sel: BatchSel) -> Result<i64, JournalError> {
        match sel {
            BatchSel::Open(lane) => self.open_batch(lane),
            BatchSel::Number(n) => {
                let exists: Option<i64> = self
                    .conn
                    .query_row("SELECT number FROM batch WHERE number = ?1", [n], |r| {
                        r.get(0)
                    })
                    .optional()?;
                exists.ok_or_else(|| JournalError::Invalid(format!("there is no batch {n}")))
            }
        }
    }

    /// Every batch, newest first.
    pub fn batches(&self) -> Result<Vec<BatchInfo>, JournalError> {
        // Rows per batch from the days' kept totals (a few thousand lines a year), not
        // by counting every batch's rows; from the rows while the totals are behind.
        let sql = if rollup::fresh(&self.conn)? {
            "SELECT b.number, b.opened_at, b.closed_at, COALESCE(c.n, 0), b.lane
             FROM batch b LEFT JOIN (SELECT batch, SUM(count) AS n FROM tally_day
                                     WHERE dim = 'rows' GROUP BY batch) c ON c.batch = b.number
             ORDER BY b.number DESC"
        } else {
            "SELECT b.number, b.opened_at, b.closed_at, (SELECT COUNT(*) FROM txn t WHERE t.batch = b.number),
                b.lane
             FROM batch b ORDER BY b.number DESC"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(BatchInfo {
                    number: r.get(0)?,
                    opened_at: r.get(1)?,
                    closed_at: r.get(2)?,
                    count: r.get(3)?,
                    lane: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn report(&self, sel: BatchSel) -> Result<BatchReport, JournalError> {
        let batch = self.batch_number(sel)?;
        let rows = self.select("WHERE batch = ?1 ORDER BY id", [batch])?;
        Ok(BatchReport::of(batch, &rows))
    }

    /// Closes what the approved batch close `order_no` settled (see `settle_in`) after
    /// the terminal answered: stores the journal's own totals beside the terminal's
    /// reply and opens the lane's next batch. The report is of the row's lane.
    pub fn close_batch(
        &mut self,
        order_no: &str,
        terminal_reply: &str,
    ) -> Result<BatchReport, JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let report = settle_in(&tx, order_no, terminal_reply)?;
        tx.commit()?;
        Ok(report)
    }

    /// The stored terminal reply and journal totals of a closed batch.
    pub fn batch_close_record(
        &self,
        number: i64,
    ) -> Result<Option<(String, String)>, JournalError> {
        Ok(self
            .conn
            .query_row(
                "SELECT journal_totals, terminal_reply FROM batch WHERE number = ?1 AND closed_at IS NOT NULL",
                [number],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }
}

/// The lane's open batch, if it has one.
fn open_batch_of(conn: &Connection, lane: &str) -> Result<Option<i64>, JournalError> {
    Ok(conn
        .prepare_cached("SELECT number FROM batch WHERE closed_at IS NULL AND lane = ?1")?
        .query_row([lane.trim().to_ascii_uppercase()], |r| r.get(0))
        .optional()?)
}

/// The lane's open batch, opened (inside the caller's write transaction) when it has
/// none. Batch numbers are one sequence across lanes, above every batch archived.
pub(super) fn open_batch_in(tx: &rusqlite::Transaction, lane: &str) -> Result<i64, JournalError> {
    if let Some(number) = open_batch_of(tx, lane)? {
        return Ok(number);
    }
    tx.prepare_cached(
        "INSERT INTO batch (number, opened_at, lane)
         VALUES (1 + MAX(COALESCE((SELECT MAX(number) FROM batch), 0),
                         COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'archived_max_batch'), 0)),
                 ?1, ?2)")?.execute(
        params![now(), lane.trim().to_ascii_uppercase()],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Closes what an approved batch close settled: the open batch of its lane, so the
/// totals compare with that lane's terminal. A close of every terminal's batch through
/// the cloud (`terminal_sn` "all") settled the terminals of the other lanes too: every
/// open batch of the journal closes, each with its own lane's totals. Returns the
/// report of the row's own lane.
pub(super) fn settle_in(
    tx: &rusqlite::Transaction,
    order_no: &str,
    terminal_reply: &str,
) -> Result<BatchReport, JournalError> {
    let row = select(tx, "WHERE order_no = ?1", [order_no])?
        .into_iter()
        .next()
        .ok_or_else(|| JournalError::NotFound(order_no.to_string()))?;
    if row.kind != TxnKind::BatchClose || row.state != TxnState::Approved {
        return Err(JournalError::Invalid(format!(
            "order {order_no} is no approved batch close"
        )));
    }
    let closed: bool = tx.query_row(
        "SELECT closed_at IS NOT NULL FROM batch WHERE number = ?1",
        [row.batch],
        |r| r.get(0),
    )?;
    if closed {
        // Settled already, with the approval itself: the same report again.
        let rows = select(tx, "WHERE batch = ?1 ORDER BY id", [row.batch])?;
        return Ok(BatchReport::of(row.batch, &rows));
    }
    let report = close_batch_in(tx, &row.lane, terminal_reply)?;
    if row.via == Via::Cloud && row.terminal_sn.as_deref() == Some("all") {
        let others: Vec<String> = tx
            .prepare("SELECT lane FROM batch WHERE closed_at IS NULL AND lane <> ?1")?
            .query_map([row.lane.to_ascii_uppercase()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for lane in others {
            close_batch_in(tx, &lane, terminal_reply)?;
        }
    }
    Ok(report)
}

/// Closes the lane's open batch with its totals and the terminal's reply, and opens
/// its next one.
fn close_batch_in(
    tx: &rusqlite::Transaction,
    lane: &str,
    terminal_reply: &str,
) -> Result<BatchReport, JournalError> {
    let batch = open_batch_in(tx, lane)?;
    let rows = select(tx, "WHERE batch = ?1 ORDER BY id", [batch])?;
    let report = BatchReport::of(batch, &rows);
    let totals = serde_json::to_string(&report).unwrap_or_default();
    tx.execute(
        "UPDATE batch SET closed_at = ?1, journal_totals = ?2, terminal_reply = ?3 WHERE number = ?4",
        params![now(), totals, mask_frame(terminal_reply), batch],
    )?;
    open_batch_in(tx, lane)?;
    Ok(report)
}
