//! Admission: whether a money-moving request may go to the terminal, and journaling
//! it as `pending` under a new order number before it is sent.

use std::time::Duration;

use rusqlite::{TransactionBehavior, params};

use super::batch::open_batch_in;
use super::order_no::next_order_no_in;
use super::read::select;
use super::write::{audit, commit_untallied};
use super::{
    Journal, JournalError, NewTxn, ORDER_NO_MAX, TerminalReply, TxnKind, TxnRow, TxnState, Via,
    check_lane, now, rules, secs_since,
};
use crate::ecr::PayScenario;
use crate::money::Money;

/// A money-moving request the lane wants journaled; the journal picks its order number.
#[derive(Clone, Debug)]
pub struct Request {
    pub request_id: String,
    pub kind: TxnKind,
    /// None for a void or cancel: it gives back what the original moved.
    pub amount: Option<Money>,
    pub tip: Option<Money>,
    pub cashback: Option<Money>,
    pub currency: String,
    pub exponent: u8,
    pub orig_order_no: Option<String>,
    pub lane: String,
    pub scenario: Option<String>,
    /// A sale of the same amount approved this recently is a possible duplicate;
    /// None when the cashier confirmed it.
    pub duplicate_window: Option<Duration>,
    /// A supervisor gave the PIN for it: the audit line that journals it says so.
    pub supervisor: bool,
    pub via: Via,
    /// The terminal a cloud request names; over the LAN, the serial the terminal on
    /// the line reported (only that terminal settles the row).
    pub terminal_sn: Option<String>,
    /// What the gateway said of an original the journal does not hold (a cloud
    /// follow-up of another terminal's payment): the rules judge against it.
    pub original: Option<GatewayOriginal>,
}

/// An original as the gateway's signed query answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayOriginal {
    pub kind: TxnKind,
    /// What it captured, tip apart.
    pub amount: Money,
    /// The tip in force, when the gateway named one.
    pub tip: Option<Money>,
    pub terminal_sn: Option<String>,
}

impl GatewayOriginal {
    /// The original as a row of this lane's open batch, for the rules: the gateway
    /// said it was approved, and whether its batch is settled is the gateway's to say.
    fn as_row(&self, order_no: &str, lane: &str, batch: i64) -> TxnRow {
        TxnRow {
            id: 0,
            order_no: order_no.to_string(),
            request_id: String::new(),
            kind: self.kind,
            state: TxnState::Approved,
            amount: self.amount,
            asked: self.amount,
            tip: self.tip,
            cashback: None,
            currency: String::new(),
            orig_order_no: None,
            lane: lane.to_string(),
            scenario: None,
            batch,
            created_at: String::new(),
            sent_at: None,
            updated_at: String::new(),
            reply: TerminalReply::default(),
            via: Via::Cloud,
            terminal_sn: self.terminal_sn.clone(),
        }
    }
}

/// Why `admit` journaled nothing.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("{} earlier transaction(s) of this lane still unresolved ({})", .0.len(), .0.join(", "))]
    Unresolved(Vec<String>),
    #[error("a sale of {amount} was approved {ago_secs}s ago ({order_no})")]
    PossibleDuplicate {
        amount: Money,
        order_no: String,
        ago_secs: u64,
    },
    /// A rule of `rules` says no, in words for the cashier.
    #[error("{0}")]
    Rule(String),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl From<rusqlite::Error> for Refused {
    fn from(e: rusqlite::Error) -> Refused {
        Refused::Journal(e.into())
    }
}

impl Journal {
    /// Writes a request as `pending` under the order number it carries and commits it
    /// durably, before it is sent. No rules are checked: `admit` is the lane's way in.
    pub fn begin(&mut self, txn: &NewTxn) -> Result<i64, JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let batch = open_batch_in(&tx, &txn.lane)?;
        let id = insert_pending(&tx, txn, batch, JOURNALED)?;
        commit_untallied(tx)?;
        Ok(id)
    }

    /// Decides whether a money-moving request may go to the terminal and, if so,
    /// journals it as `pending` under a new order number, all in one write
    /// transaction: no other process can journal a row that would change the answer
    /// between the checks and the row (unresolved rows of the lane, a possible
    /// duplicate, what is left to refund, whether the original can be voided).
    pub fn admit(&mut self, req: &Request) -> Result<TxnRow, Refused> {
        let lane = check_lane(&req.lane)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(JournalError::from)?;
        refuse_unresolved(&tx, &lane)?;
        if req.kind.is_sale() {
            check_sale(req)?;
            refuse_duplicate(&tx, req)?;
        }
        let batch = open_batch_in(&tx, &lane)?;
        let amount = amount_allowed(&tx, req, &lane, batch)?;
        let (order_no, mark) = next_order_no_in(&tx, &lane, &self.path)?;
        let txn = NewTxn {
            order_no: order_no.clone(),
            request_id: req.request_id.clone(),
            kind: req.kind,
            amount,
            tip: req.tip,
            cashback: req.cashback,
            currency: req.currency.clone(),
            orig_order_no: req.orig_order_no.clone(),
            lane,
            scenario: req.scenario.clone(),
        };
        let why = if req.supervisor {
            format!("{JOURNALED}; {SUPERVISOR_PIN_GIVEN}")
        } else {
            JOURNALED.to_string()
        };
        insert_pending(&tx, &txn, batch, &why)?;
        if req.via == Via::Cloud || req.terminal_sn.is_some() {
            tx.prepare_cached("UPDATE txn SET via = ?1, terminal_sn = ?2 WHERE order_no = ?3")?
                .execute(params![req.via.name(), req.terminal_sn, order_no])
                .map_err(JournalError::from)?;
        }
        commit_untallied(tx)?;
        // The number is not returned, so not sent, before its mark is durable.
        mark.wait()?;
        Ok(self.get(&order_no)?)
    }
}

/// No new request while an earlier one of the lane is unresolved.
fn refuse_unresolved(tx: &rusqlite::Transaction, lane: &str) -> Result<(), Refused> {
    // One state a statement: each walks its index in id order, where `IN` and
    // `ORDER BY` would build a temporary b-tree and a sorter in every admission.
    let mut unresolved = Vec::new();
    for state in [TxnState::Pending, TxnState::Unknown] {
        unresolved.extend(select(
            tx,
            "WHERE state = ?2 AND upper(lane) = ?1 ORDER BY id",
            params![lane, state.name()],
        )?);
    }
    if !unresolved.is_empty() {
        unresolved.sort_by_key(|r| r.id);
        return Err(Refused::Unresolved(
            unresolved.into_iter().map(|r| r.order_no).collect(),
        ));
    }
    Ok(())
}

/// A sale's way to pay and cash-back by the rules.
fn check_sale(req: &Request) -> Result<(), Refused> {
    let scenario = match req.scenario.as_deref() {
        None => PayScenario::Card,
        Some(wire) => PayScenario::from_wire(wire)
            .ok_or_else(|| Refused::Rule(format!("'{wire}' is not a way to pay")))?,
    };
    rules::check_sale(scenario, req.cashback).map_err(Refused::Rule)
}

/// A sale of the same amount approved within the duplicate window is a possible
/// duplicate (no window: the cashier confirmed it).
fn refuse_duplicate(tx: &rusqlite::Transaction, req: &Request) -> Result<(), Refused> {
    let (Some(window), Some(amount)) = (req.duplicate_window, req.amount) else {
        return Ok(());
    };
    let since = chrono::Duration::from_std(window)
        .ok()
        .and_then(|w| chrono::Utc::now().checked_sub_signed(w))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let recent = select(
        tx,
        "WHERE state = 'approved' AND kind IN ('sale', 'cashback-sale') AND amount_minor = ?1
         AND updated_at >= ?2 ORDER BY id DESC LIMIT 1",
        params![
            amount.minor(),
            since.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
        ],
    )?;
    if let Some(row) = recent.into_iter().next() {
        return Err(Refused::PossibleDuplicate {
            amount,
            ago_secs: secs_since(&row.updated_at),
            order_no: row.order_no,
        });
    }
    Ok(())
}

/// The amount the request moves, by the rules: against its original (this journal's
/// row, or what the gateway said it captured) for a follow-up, on its own otherwise.
fn amount_allowed(
    tx: &rusqlite::Transaction,
    req: &Request,
    lane: &str,
    batch: i64,
) -> Result<Money, Refused> {
    let orig = match req.orig_order_no.as_deref() {
        Some(orig_no) => select(tx, "WHERE order_no = ?1", [orig_no])?
            .into_iter()
            .next(),
        None => None,
    };
    // Through the cloud the original may live on another terminal: the rules judge
    // against what the gateway said it captured, and this journal's follow-ups of it.
    let orig = match (orig, &req.original) {
        (None, Some(g)) if req.via == Via::Cloud => {
            let orig_no = req.orig_order_no.as_deref().unwrap_or_default();
            Some(g.as_row(orig_no, lane, batch))
        }
        (orig, _) => orig,
    };
    match (req.orig_order_no.as_deref(), orig) {
        (Some(orig_no), None) if req.via == Via::Lan => Err(Refused::Rule(format!(
            "order {orig_no} is not in the journal (one paid on another terminal can go --via cloud)"
        ))),
        (Some(orig_no), None) => Err(Refused::Rule(format!(
            "order {orig_no} is not in the journal, and the gateway was not asked what it captured"
        ))),
        (Some(orig_no), Some(orig)) => {
            let related = select(tx, "WHERE orig_order_no = ?1 ORDER BY id", [orig_no])?;
            // A void or cancel gives back what the original moved.
            let amount = req.amount.unwrap_or(orig.amount);
            // Whether the original is settled is up to its own lane's batch.
            let its_open = open_batch_in(tx, &orig.lane)?;
            rules::check(req.kind, amount, &orig, &related, its_open).map_err(Refused::Rule)?;
            Ok(amount)
        }
        _ => {
            let amount = req.amount.unwrap_or(Money::zero(req.exponent));
            rules::check_amount(req.kind, amount).map_err(Refused::Rule)?;
            Ok(amount)
        }
    }
}

/// The audit line of a row as it is journaled.
const JOURNALED: &str = "journaled before sending";

/// Added to an audit line when a supervisor gave the PIN for what it records.
pub(crate) const SUPERVISOR_PIN_GIVEN: &str = "supervisor PIN given";

fn insert_pending(
    tx: &rusqlite::Transaction,
    txn: &NewTxn,
    batch: i64,
    why: &str,
) -> Result<i64, JournalError> {
    if txn.order_no.is_empty() || txn.order_no.len() > ORDER_NO_MAX {
        return Err(JournalError::Invalid(format!(
            "order number '{}' must be 1 to 32 characters",
            txn.order_no
        )));
    }
    let inserted = tx.prepare_cached(
        // Above every id handed out, archived ones too (see `archive`).
        "INSERT INTO txn (id, order_no, request_id, kind, state, amount_minor, asked_minor, tip_minor,
            cashback_minor, currency, exponent, orig_order_no, lane, scenario, batch, created_at, updated_at)
         VALUES (1 + MAX(COALESCE((SELECT MAX(id) FROM txn), 0),
                         COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'archived_max_id'), 0)),
                 ?1, ?2, ?3, 'pending', ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)")?.execute(
        params![
            txn.order_no,
            txn.request_id,
            txn.kind.name(),
            txn.amount.minor(),
            txn.tip.map(Money::minor),
            txn.cashback.map(Money::minor),
            txn.currency,
            txn.amount.exponent(),
            txn.orig_order_no,
            txn.lane,
            txn.scenario,
            batch,
            now(),
        ],
    );
    match inserted {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            return Err(JournalError::Duplicate(txn.order_no.clone()));
        }
        other => other?,
    };
    let id = tx.last_insert_rowid();
    audit(tx, &txn.order_no, "lane", None, TxnState::Pending, why)?;
    Ok(id)
}
