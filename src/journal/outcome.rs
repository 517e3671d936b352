//! What the terminal said of a row (or a supervisor decided for it): its outcome
//! booked, its sending marked, a final row never changed.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::batch::settle_in;
use super::behind;
use super::write::{audit, commit};
use super::{Journal, JournalError, OutcomeRecord, TxnKind, TxnRow, TxnState, now};
use crate::mask::{mask_card_no, mask_frame, mask_pans, mask_reference};
use crate::money::Money;

impl Journal {
    /// Notes when a journaled request went out, and adds the row's share to the
    /// totals its admission left (`write::commit_untallied`), while the terminal
    /// works. Not a durable commit of its own (the sale's next write, its outcome,
    /// makes it durable with itself): the row it marks was durable before anything
    /// was sent, and recovery never reads the mark: an unresolved row is resolved by
    /// querying its order number, sent or not, so a mark lost to a power cut loses no
    /// money and no decision, and its totals are tallied again at the next open.
    pub(crate) fn mark_sent(
        &mut self,
        order_no: &str,
        request_id: &str,
    ) -> Result<(), JournalError> {
        self.unsynced(|j| j.mark_sent_tx(order_no, request_id))
    }

    /// Runs a write whose commit is not waited for (`synchronous = NORMAL`), then sets
    /// FULL again. In WAL mode NORMAL skips only that commit's fsync; the next FULL
    /// commit, or `sync_log_behind`, syncs the log up to and past it.
    fn unsynced<T>(
        &mut self,
        write: impl FnOnce(&mut Journal) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let written = write(self);
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        written
    }

    fn mark_sent_tx(&mut self, order_no: &str, request_id: &str) -> Result<(), JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.prepare_cached("UPDATE txn SET sent_at = ?1, request_id = ?2 WHERE order_no = ?3")?
            .execute(params![now(), request_id, order_no])?;
        commit(tx, &self.path)
    }

    /// Records what the terminal said. A final row (approved or declined) is never
    /// changed here: the same answer again is a no-op, a different one is audited and
    /// refused with `Conflict`.
    ///
    /// The outcome of a row recovery can resolve by query (every kind but a batch
    /// close) commits without waiting for its fsync, and the log is synced right after
    /// on a thread of its own: the answer is told at once. Its row was durable
    /// before anything was sent; a power cut in that millisecond leaves it pending, and
    /// the next run asks the terminal about its order number, never sends it again
    /// (`lane::actor::resolve`; tests/crash.rs, killed after the reply before the
    /// journal update). A batch close has no order to ask about: its outcome, which
    /// closes the journal's batch, is synced before it returns.
    pub fn record_outcome(
        &mut self,
        order_no: &str,
        rec: &OutcomeRecord,
        why: &str,
    ) -> Result<TxnRow, JournalError> {
        // A row's kind never changes: read once, outside the write transaction.
        let kind: String = self
            .conn
            .prepare_cached("SELECT kind FROM txn WHERE order_no = ?1")?
            .query_row([order_no], |r| r.get(0))
            .optional()?
            .ok_or_else(|| JournalError::NotFound(order_no.to_string()))?;
        let batch_close = kind == TxnKind::BatchClose.name();
        if batch_close {
            self.write_outcome_tx(order_no, rec, why, batch_close)?;
        } else {
            self.unsynced(|j| j.write_outcome_tx(order_no, rec, why, batch_close))?;
            sync_log_behind(&self.path);
        }
        self.get(order_no)
    }

    /// `record_outcome`'s write transaction.
    fn write_outcome_tx(
        &mut self,
        order_no: &str,
        rec: &OutcomeRecord,
        why: &str,
        batch_close: bool,
    ) -> Result<(), JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = state_of(&tx, order_no)?;
        if current.is_final() {
            if current == rec.state {
                tx.commit()?;
                return Ok(());
            }
            audit(
                &tx,
                order_no,
                "lane",
                Some(current),
                rec.state,
                &format!("later answer ignored, row is final: {why}"),
            )?;
            tx.commit()?;
            return Err(JournalError::Conflict {
                order_no: order_no.to_string(),
                state: current.name().to_string(),
            });
        }
        write_outcome(&tx, order_no, rec)?;
        // Unknown again for a new reason (an approval whose amount cannot be read) is
        // worth a line too.
        if current != rec.state || rec.state == TxnState::Unknown {
            audit(&tx, order_no, "lane", Some(current), rec.state, why)?;
        }
        if rec.state == TxnState::Approved && batch_close {
            // The terminal settled: the batch closes with the approval, in one
            // transaction, so no crash leaves an approved close beside an open batch.
            settle_in(&tx, order_no, rec.reply.raw.as_deref().unwrap_or("{}"))?;
        }
        commit(tx, &self.path)?;
        Ok(())
    }

    /// A supervisor's decision for a row the terminal can no longer answer for, made on
    /// `lane`: only the lane that wrote a row settles it (another lane's customer may be
    /// at its terminal right now).
    pub fn override_state(
        &mut self,
        order_no: &str,
        to: TxnState,
        note: &str,
        who: &str,
        lane: &str,
    ) -> Result<TxnRow, JournalError> {
        let note = note.trim();
        if note.is_empty() {
            return Err(JournalError::Invalid(
                "an override needs a note saying why".into(),
            ));
        }
        if !to.is_final() {
            return Err(JournalError::Invalid(
                "an override marks a row approved or declined".into(),
            ));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = state_of(&tx, order_no)?;
        let owner: String = tx.query_row(
            "SELECT lane FROM txn WHERE order_no = ?1",
            [order_no],
            |r| r.get(0),
        )?;
        if !owner.eq_ignore_ascii_case(lane.trim()) {
            return Err(JournalError::OtherLane {
                order_no: order_no.to_string(),
                lane: owner,
            });
        }
        if current.is_final() {
            return Err(JournalError::Invalid(format!(
                "order {order_no} is already {}; only unresolved rows can be overridden",
                current.name()
            )));
        }
        tx.execute(
            "UPDATE txn SET state = ?1, updated_at = ?2 WHERE order_no = ?3",
            params![to.name(), now(), order_no],
        )?;
        audit(
            &tx,
            order_no,
            who,
            Some(current),
            to,
            &format!("override: {note}"),
        )?;
        let is_batch_close: bool = tx.query_row(
            "SELECT kind = 'batch-close' FROM txn WHERE order_no = ?1",
            [order_no],
            |r| r.get(0),
        )?;
        if is_batch_close && to == TxnState::Approved {
            // The terminal settled: the journal's batch closes with it, as if it had
            // answered, so its totals and what may be voided follow the terminal.
            let reply = serde_json::json!({ "settled_by_hand": who, "note": note }).to_string();
            settle_in(&tx, order_no, &reply)?;
        }
        commit(tx, &self.path)?;
        self.get(order_no)
    }
}

/// Syncs the journal's write-ahead log on a thread of its own, so a commit made
/// with `synchronous = NORMAL` is durable about a millisecond later without the
/// caller waiting for it. A failure is logged: the rows it leaves pending are
/// resolved by query (see `record_outcome`).
fn sync_log_behind(journal: &std::path::Path) {
    let mut log = journal.as_os_str().to_owned();
    log.push("-wal");
    drop(behind::LOGS.run(move || {
        match std::fs::File::open(&log).and_then(|f| f.sync_data()) {
            // Gone: the last connection's close checkpointed it into the file, synced.
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                tracing::error!("syncing {}: {e}", std::path::Path::new(&log).display());
            }
            _ => {}
        }
    }));
}

fn state_of(tx: &rusqlite::Transaction, order_no: &str) -> Result<TxnState, JournalError> {
    let state: Option<String> = tx
        .prepare_cached("SELECT state FROM txn WHERE order_no = ?1")?
        .query_row([order_no], |r| r.get(0))
        .optional()?;
    let state = state.ok_or_else(|| JournalError::NotFound(order_no.to_string()))?;
    TxnState::from_name(&state)
        .ok_or_else(|| JournalError::Invalid(format!("order {order_no} has state '{state}'")))
}

/// Writes an outcome into its row, masked on the way in; what the outcome does not
/// say keeps what the row had.
fn write_outcome(
    tx: &rusqlite::Transaction,
    order_no: &str,
    rec: &OutcomeRecord,
) -> Result<(), JournalError> {
    let masked = |v: &Option<String>| v.as_deref().map(|s| mask_pans(s).into_owned());
    // References keep their digits (reconciliation needs them) unless a card number
    // by issuer range is in them; the decoder masked them so already, this holds
    // whatever the caller passed.
    let reference = |v: &Option<String>| v.as_deref().map(|s| mask_reference(s).into_owned());
    tx.prepare_cached(
        "UPDATE txn SET state = ?1, updated_at = ?2,
            response_code = COALESCE(?3, response_code), response_msg = COALESCE(?4, response_msg),
            trans_no = COALESCE(?5, trans_no), trans_status = COALESCE(?6, trans_status),
            brand = COALESCE(?7, brand), card = COALESCE(?8, card), auth_code = COALESCE(?9, auth_code),
            ref_no = COALESCE(?10, ref_no), entry_mode = COALESCE(?11, entry_mode), raw = COALESCE(?12, raw),
            amount_minor = COALESCE(?14, amount_minor), tip_minor = COALESCE(?15, tip_minor)
         WHERE order_no = ?13")?.execute(
        params![
            rec.state.name(),
            now(),
            rec.reply.response_code,
            masked(&rec.reply.response_msg),
            reference(&rec.reply.trans_no),
            rec.reply.trans_status,
            rec.reply.brand,
            rec.reply.card.as_deref().map(mask_card_no),
            reference(&rec.reply.auth_code),
            reference(&rec.reply.ref_no),
            rec.reply.entry_mode,
            rec.reply.raw.as_deref().map(mask_frame),
            order_no,
            rec.amount.map(Money::minor),
            rec.tip.map(Money::minor),
        ],
    )?;
    Ok(())
}
