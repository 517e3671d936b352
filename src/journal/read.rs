//! Reading rows back: the stored columns checked into `TxnRow`s, and the journal's
//! questions about them (one order, the unresolved, a batch's rows, follow-ups).

use rusqlite::{Connection, OptionalExtension};

use super::{
    AuditRow, BatchSel, Journal, JournalError, TerminalReply, TxnKind, TxnRow, TxnState, Via,
    rollup, rules,
};
use crate::money::Money;

pub(super) const COLUMNS: &str = "id, order_no, request_id, kind, state, amount_minor, tip_minor, cashback_minor, \
    currency, exponent, orig_order_no, lane, scenario, batch, created_at, sent_at, updated_at, \
    response_code, response_msg, trans_no, trans_status, brand, card, auth_code, ref_no, entry_mode, raw, \
    asked_minor, via, terminal_sn";

impl Journal {
    pub(super) fn get(&self, order_no: &str) -> Result<TxnRow, JournalError> {
        self.find(order_no)?
            .ok_or_else(|| JournalError::NotFound(order_no.to_string()))
    }

    pub fn find(&self, order_no: &str) -> Result<Option<TxnRow>, JournalError> {
        let sql = format!("SELECT {COLUMNS} FROM txn WHERE order_no = ?1");
        let row = self
            .conn
            .prepare_cached(&sql)?
            .query_row([order_no], raw_row)
            .optional()?;
        row.map(TryInto::try_into).transpose()
    }

    pub(super) fn select(
        &self,
        where_sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<TxnRow>, JournalError> {
        select(&self.conn, where_sql, args)
    }

    /// Rows whose share of the report's totals is still to be added (an upgrade's
    /// backlog, tallied behind whoever opened the file; a row between its admission
    /// and its next write): while there are any, reports read rows.
    pub fn untallied(&self) -> Result<i64, JournalError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM tally_dirty_row", [], |r| r.get(0))?)
    }

    /// While this process tallies the file's totals behind its opening (after an
    /// upgrade, or a tally that failed), the rows still to tally: the screen shows the
    /// backlog go down. None when no such tally runs, so a sale's own row, untallied
    /// until its sent mark, is no news.
    pub fn tallying(&self) -> Result<Option<i64>, JournalError> {
        if !rollup::tallying_behind(&self.path) {
            return Ok(None);
        }
        self.untallied().map(Some)
    }

    /// Rows still pending or unknown, oldest first.
    pub fn unresolved(&self) -> Result<Vec<TxnRow>, JournalError> {
        self.select("WHERE state IN ('pending', 'unknown') ORDER BY id", [])
    }

    /// The unresolved rows of one lane: only the process that owns the lane settles them.
    pub fn unresolved_on(&self, lane: &str) -> Result<Vec<TxnRow>, JournalError> {
        self.select(
            "WHERE upper(lane) = ?1 AND state IN ('pending', 'unknown') ORDER BY id",
            [lane.trim().to_ascii_uppercase()],
        )
    }

    pub fn audit(&self, order_no: &str) -> Result<Vec<AuditRow>, JournalError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, who, from_state, to_state, why FROM audit WHERE order_no = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map([order_no], |r| {
                Ok(AuditRow {
                    at: r.get(0)?,
                    who: r.get(1)?,
                    from: r.get(2)?,
                    to: r.get(3)?,
                    why: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The rows of a batch, newest first.
    pub fn rows(&self, sel: BatchSel) -> Result<Vec<TxnRow>, JournalError> {
        let batch = self.batch_number(sel)?;
        self.select("WHERE batch = ?1 ORDER BY id DESC", [batch])
    }

    /// The newest rows of every batch, newest first, for a history view.
    pub fn recent(&self, limit: usize) -> Result<Vec<TxnRow>, JournalError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.select("ORDER BY id DESC LIMIT ?1", [limit])
    }

    /// What of an approved sale or completion can still be refunded (see
    /// `rules::refundable`). None when the order is not in the journal.
    pub fn refundable(&self, orig_order_no: &str) -> Result<Option<Money>, JournalError> {
        let Some(orig) = self.find(orig_order_no)? else {
            return Ok(None);
        };
        let related = self.select("WHERE orig_order_no = ?1 ORDER BY id", [orig_order_no])?;
        Ok(Some(rules::refundable(&orig, &related)))
    }

    /// The rows that reference `orig_order_no` (refunds, voids, tips, completions).
    pub fn follow_ups(&self, orig_order_no: &str) -> Result<Vec<TxnRow>, JournalError> {
        self.select("WHERE orig_order_no = ?1 ORDER BY id", [orig_order_no])
    }
}

pub(super) fn select(
    conn: &Connection,
    where_sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<TxnRow>, JournalError> {
    let sql = format!("SELECT {COLUMNS} FROM txn {where_sql}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let raws = stmt
        .query_map(args, raw_row)?
        .collect::<Result<Vec<_>, _>>()?;
    raws.into_iter().map(TryInto::try_into).collect()
}

/// A row as stored, before its text columns are checked.
pub(super) struct RawRow {
    id: i64,
    order_no: String,
    request_id: String,
    kind: String,
    state: String,
    amount: i64,
    tip: Option<i64>,
    cashback: Option<i64>,
    currency: String,
    exponent: u8,
    orig_order_no: Option<String>,
    lane: String,
    scenario: Option<String>,
    batch: i64,
    created_at: String,
    sent_at: Option<String>,
    updated_at: String,
    reply: TerminalReply,
    asked: Option<i64>,
    via: Option<String>,
    terminal_sn: Option<String>,
}

pub(super) fn raw_row(r: &rusqlite::Row) -> rusqlite::Result<RawRow> {
    Ok(RawRow {
        id: r.get(0)?,
        order_no: r.get(1)?,
        request_id: r.get(2)?,
        kind: r.get(3)?,
        state: r.get(4)?,
        amount: r.get(5)?,
        tip: r.get(6)?,
        cashback: r.get(7)?,
        currency: r.get(8)?,
        exponent: r.get(9)?,
        orig_order_no: r.get(10)?,
        lane: r.get(11)?,
        scenario: r.get(12)?,
        batch: r.get(13)?,
        created_at: r.get(14)?,
        sent_at: r.get(15)?,
        updated_at: r.get(16)?,
        reply: TerminalReply {
            response_code: r.get(17)?,
            response_msg: r.get(18)?,
            trans_no: r.get(19)?,
            trans_status: r.get(20)?,
            brand: r.get(21)?,
            card: r.get(22)?,
            auth_code: r.get(23)?,
            ref_no: r.get(24)?,
            entry_mode: r.get(25)?,
            raw: r.get(26)?,
        },
        asked: r.get(27)?,
        via: r.get(28)?,
        terminal_sn: r.get(29)?,
    })
}

impl TryFrom<RawRow> for TxnRow {
    type Error = JournalError;

    fn try_from(r: RawRow) -> Result<TxnRow, JournalError> {
        let bad = |what: &str| {
            JournalError::Invalid(format!("order {}: stored {what} is not valid", r.order_no))
        };
        let money = |minor: i64| Money::from_minor(minor, r.exponent).map_err(|_| bad("amount"));
        let via = match r.via.as_deref() {
            None | Some("lan") => Via::Lan,
            Some("cloud") => Via::Cloud,
            Some(_) => return Err(bad("route")),
        };
        Ok(TxnRow {
            id: r.id,
            kind: TxnKind::from_name(&r.kind).ok_or_else(|| bad("kind"))?,
            state: TxnState::from_name(&r.state).ok_or_else(|| bad("state"))?,
            amount: money(r.amount)?,
            asked: money(r.asked.unwrap_or(r.amount))?,
            tip: r.tip.map(money).transpose()?,
            cashback: r.cashback.map(money).transpose()?,
            order_no: r.order_no,
            request_id: r.request_id,
            currency: r.currency,
            orig_order_no: r.orig_order_no,
            lane: r.lane,
            scenario: r.scenario,
            batch: r.batch,
            created_at: r.created_at,
            sent_at: r.sent_at,
            updated_at: r.updated_at,
            reply: r.reply,
            via,
            terminal_sn: r.terminal_sn,
        })
    }
}
