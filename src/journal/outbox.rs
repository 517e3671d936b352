//! The outbox a store copies from (schema v4): which rows and audit lines changed since
//! the store last took them, in the order they changed. The store reads the rows as they
//! are when it copies them, so a row copied twice is copied the same; entries go only
//! once the store has committed them, so a copy cut short is simply done again.

use rusqlite::OptionalExtension;

use super::{COLUMNS, Journal, JournalError, TxnRow, raw_row};

/// An audit line with what identifies it in a store: its id in this journal and its order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditLine {
    pub id: i64,
    pub order_no: String,
    pub at: String,
    pub who: String,
    pub from: Option<String>,
    pub to: String,
    pub why: String,
}

/// What the outbox holds up to `last_seq`, read as it is now.
#[derive(Clone, Debug, Default)]
pub struct Outgoing {
    /// The newest entry taken: `Journal::outbox_done` removes up to it.
    pub last_seq: Option<i64>,
    pub rows: Vec<TxnRow>,
    pub audit: Vec<AuditLine>,
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
                 INSERT OR REPLACE INTO outbox (tbl, row_id) SELECT 'audit', id FROM audit ORDER BY id;",
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The oldest `limit` entries of the outbox, with their rows and lines as they are.
    /// A row archived since it was queued is left out: the store had it, or the archive
    /// keeps it.
    pub fn outbox_take(&self, limit: usize) -> Result<Outgoing, JournalError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare("SELECT seq, tbl, row_id FROM outbox ORDER BY seq LIMIT ?1")?;
        let entries = stmt
            .query_map([limit], |r| {
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
        let mut row = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM txn WHERE id = ?1"))?;
        let mut line = self.conn.prepare(
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
    pub fn outbox_done(&self, last_seq: i64) -> Result<(), JournalError> {
        self.conn
            .execute("DELETE FROM outbox WHERE seq <= ?1", [last_seq])?;
        Ok(())
    }

    /// How many changes wait for the store.
    pub fn outbox_len(&self) -> Result<i64, JournalError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?)
    }
}
