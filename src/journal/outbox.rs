//! The outbox a store copies from (schema v4): which rows and audit lines changed since
//! the store last took them, in the order they changed. The store reads the rows as they
//! are when it copies them, so a row copied twice is copied the same; entries go only
//! once the store has committed them, so a copy cut short is simply done again.

use rusqlite::OptionalExtension;

use super::{COLUMNS, Journal, JournalError, TxnRow, raw_row};

/// An audit line with what identifies it in a store: its id in this journal and its order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AuditLine {
    pub(crate) id: i64,
    pub(crate) order_no: String,
    pub(crate) at: String,
    pub(crate) who: String,
    pub(crate) from: Option<String>,
    pub(crate) to: String,
    pub(crate) why: String,
}

/// A line of a quarter hour's totals (see `rollup`), as a store copies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TallyLine {
    pub(crate) slot: i64,
    pub(crate) batch: i64,
    /// `rows`, `net`, `lane`, `kind` or `brand`.
    pub(crate) dim: String,
    pub(crate) name: String,
    pub(crate) count: i64,
    pub(crate) sum_minor: i64,
}

/// The quarter hours whose totals changed since the store last took them, up to
/// `last_seq`, with their lines as they are now (a store replaces its lines of each).
#[derive(Clone, Debug, Default)]
pub(crate) struct OutgoingTotals {
    pub(crate) last_seq: Option<i64>,
    /// (slot, batch) of each quarter hour.
    pub(crate) slots: Vec<(i64, i64)>,
    pub(crate) lines: Vec<TallyLine>,
}

/// What the outbox holds up to `last_seq`, read as it is now.
#[derive(Clone, Debug, Default)]
pub(crate) struct Outgoing {
    /// The newest entry taken: `Journal::outbox_done` removes up to it.
    pub(crate) last_seq: Option<i64>,
    pub(crate) rows: Vec<TxnRow>,
    pub(crate) audit: Vec<AuditLine>,
}

impl Journal {
    /// Starts queueing changes for a store, with every row and audit line there is now,
    /// the first time; nothing the next times.
    pub fn enable_outbox(&mut self) -> Result<(), JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let on: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'outbox'", [], |r| {
                r.get(0)
            })
            .optional()?;
        if on.is_none() {
            tx.execute_batch(
                "INSERT INTO meta (key, value) VALUES ('outbox', 'on');
                 INSERT OR REPLACE INTO outbox (tbl, row_id) SELECT 'txn', id FROM txn ORDER BY id;
                 INSERT OR REPLACE INTO outbox (tbl, row_id) SELECT 'audit', id FROM audit ORDER BY id;
                 INSERT OR REPLACE INTO tally_outbox (slot, batch)
                    SELECT slot, batch FROM tally_slot WHERE dim = 'rows' ORDER BY slot, batch;",
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The oldest `limit` entries of the outbox after `after` (a copy in flight has
    /// taken those up to it), with their rows and lines as they are, read in one
    /// transaction: one lock for the batch, not one per row. A row archived since it was
    /// queued is left out: the store had it, or the archive keeps it.
    pub(crate) fn outbox_take(&self, after: i64, limit: usize) -> Result<Outgoing, JournalError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let tx = self.conn.unchecked_transaction()?;
        let mut stmt = tx.prepare_cached(
            "SELECT seq, tbl, row_id FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let entries = stmt
            .query_map([after, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Outgoing {
            last_seq: entries.last().map(|e| e.0),
            ..Outgoing::default()
        };
        let mut row = tx.prepare_cached(&format!("SELECT {COLUMNS} FROM txn WHERE id = ?1"))?;
        let mut line = tx.prepare_cached(
            "SELECT id, order_no, at, who, from_state, to_state, why FROM audit WHERE id = ?1",
        )?;
        for (_, tbl, id) in entries {
            if tbl == "txn" {
                if let Some(raw) = row.query_row([id], raw_row).optional()? {
                    out.rows.push(raw.try_into()?);
                }
            } else if let Some(l) = line
                .query_row([id], |r| {
                    Ok(AuditLine {
                        id: r.get(0)?,
                        order_no: r.get(1)?,
                        at: r.get(2)?,
                        who: r.get(3)?,
                        from: r.get(4)?,
                        to: r.get(5)?,
                        why: r.get(6)?,
                    })
                })
                .optional()?
            {
                out.audit.push(l);
            }
        }
        Ok(out)
    }

    /// The store has committed everything up to `last_seq`: those entries go. One
    /// queued again since (a newer change) has a higher number and stays.
    pub(crate) fn outbox_done(&self, last_seq: i64) -> Result<(), JournalError> {
        self.conn
            .execute("DELETE FROM outbox WHERE seq <= ?1", [last_seq])?;
        Ok(())
    }

    /// The oldest `limit` quarter hours whose totals changed, with their lines.
    /// Read in one transaction, as `outbox_take`.
    pub(crate) fn totals_take(&self, limit: usize) -> Result<OutgoingTotals, JournalError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let tx = self.conn.unchecked_transaction()?;
        let mut stmt =
            tx.prepare_cached("SELECT seq, slot, batch FROM tally_outbox ORDER BY seq LIMIT ?1")?;
        let entries = stmt
            .query_map([limit], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<(i64, i64, i64)>, _>>()?;
        let mut lines = tx.prepare_cached(&format!(
            "SELECT dim, name, count, sum_minor FROM tally_slot
             WHERE dim IN ({}) AND slot = ?1 AND batch = ?2",
            super::rollup::DIMS
        ))?;
        let mut out = OutgoingTotals {
            last_seq: entries.last().map(|e| e.0),
            ..OutgoingTotals::default()
        };
        for (_, slot, batch) in entries {
            out.slots.push((slot, batch));
            let found = lines.query_map([slot, batch], |r| {
                Ok(TallyLine {
                    slot,
                    batch,
                    dim: r.get(0)?,
                    name: r.get(1)?,
                    count: r.get(2)?,
                    sum_minor: r.get(3)?,
                })
            })?;
            for line in found {
                out.lines.push(line?);
            }
        }
        Ok(out)
    }

    /// The store has committed the totals up to `last_seq`.
    pub(crate) fn totals_done(&self, last_seq: i64) -> Result<(), JournalError> {
        self.conn
            .execute("DELETE FROM tally_outbox WHERE seq <= ?1", [last_seq])?;
        Ok(())
    }

    /// How many changes wait for the store: rows, audit lines and quarter hours' totals.
    pub fn outbox_len(&self) -> Result<i64, JournalError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM outbox) + (SELECT COUNT(*) FROM tally_outbox)",
            [],
            |r| r.get(0),
        )?)
    }
}
