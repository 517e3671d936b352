//! The write-ahead transaction journal: SQLite in WAL mode with synchronous FULL, in
//! the data directory. Every money-moving request is committed here before its frame
//! is sent; every state change is audited; no row is ever deleted, only moved whole
//! batches at a time into a yearly archive (`archive`).

mod aftermath;
mod archive;
mod clean_close;
#[cfg(any(test, feature = "fixtures"))]
pub mod generate;
mod numbering;
mod outbox;
mod ranges;
mod report;
pub mod rollup;
pub mod rules;
mod schema;
mod search;
mod years;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

pub use aftermath::Aftermath;
pub use archive::Archived;
pub use outbox::{AuditLine, Outgoing, OutgoingTotals, TallyLine};
pub use ranges::Source;
pub use report::{BatchReport, Group, LineKind, RangeReport};
pub use search::{Page, Search, Term, parse_term, row_matches};
pub use years::ArchiveFile;

use crate::ecr::{PayScenario, TransType};
use crate::mask::{mask_card_no, mask_frame, mask_pans, mask_reference};
use crate::money::Money;

pub const FILE_NAME: &str = "till.db";

/// The wire's limit on `merchant_order_no`.
pub const ORDER_NO_MAX: usize = 32;

/// Checks an order number a person typed: 1 to 32 visible ASCII characters.
pub fn check_order_no(text: &str) -> Result<String, String> {
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

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: cannot open: {detail}")]
    Open { path: PathBuf, detail: String },
    #[error(
        "journal {path} is read-only ({detail}); till needs to write it: check the permissions of the file and its directory"
    )]
    ReadOnly { path: PathBuf, detail: String },
    #[error(
        "journal {path} is corrupt ({detail}); it was left untouched: restore it from a backup or move it aside"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "journal {path} is empty ({detail}); till never starts afresh over an existing file: restore the journal from a backup, or move the empty file aside to start a new journal (it gets a new identity, so order numbers are never reused)"
    )]
    Empty { path: PathBuf, detail: String },
    #[error(
        "journal {path} was written by a newer till (schema v{found}, this build knows v{known})"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("order {0} is not in the journal")]
    NotFound(String),
    #[error(
        "order {order_no} belongs to lane {lane}; only lane {lane}'s till settles it (its customer may be at its terminal): run it there, or with --lane {lane} once that till has finished"
    )]
    OtherLane { order_no: String, lane: String },
    #[error("order {0} is already in the journal")]
    Duplicate(String),
    #[error(
        "order {order_no} is already {state}; the later answer was kept in the audit trail only"
    )]
    Conflict { order_no: String, state: String },
    #[error("{0}")]
    Invalid(String),
    #[error("journal: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// The way a request went to its terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Via {
    /// The lane's own terminal, over the LAN.
    #[default]
    Lan,
    /// The vendor's cloud Open API.
    Cloud,
}

impl Via {
    pub fn name(self) -> &'static str {
        match self {
            Via::Lan => "lan",
            Via::Cloud => "cloud",
        }
    }
}

/// What a row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxnKind {
    Trans(TransType),
    TipAdjust,
    BatchClose,
}

impl TxnKind {
    /// A sale or a cash-back sale.
    pub fn is_sale(self) -> bool {
        matches!(
            self,
            TxnKind::Trans(TransType::Sale | TransType::CashbackSale)
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            TxnKind::Trans(t) => t.name(),
            TxnKind::TipAdjust => "tip-adjust",
            TxnKind::BatchClose => "batch-close",
        }
    }

    pub fn from_name(name: &str) -> Option<TxnKind> {
        match name {
            "tip-adjust" => Some(TxnKind::TipAdjust),
            "batch-close" => Some(TxnKind::BatchClose),
            other => TransType::from_name(other).map(TxnKind::Trans),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TxnState {
    /// Journaled; the terminal's answer is not known yet.
    Pending,
    Approved,
    Declined,
    /// No definite answer: to be resolved by query. The default, because it is the
    /// only safe assumption about money nobody has confirmed.
    #[default]
    Unknown,
}

impl TxnState {
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Pending => "pending",
            TxnState::Approved => "approved",
            TxnState::Declined => "declined",
            TxnState::Unknown => "unknown",
        }
    }

    pub fn from_name(name: &str) -> Option<TxnState> {
        [
            TxnState::Pending,
            TxnState::Approved,
            TxnState::Declined,
            TxnState::Unknown,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }

    pub fn is_final(self) -> bool {
        matches!(self, TxnState::Approved | TxnState::Declined)
    }
}

/// A request about to be sent.
#[derive(Clone, Debug)]
pub struct NewTxn {
    pub order_no: String,
    pub request_id: String,
    pub kind: TxnKind,
    pub amount: Money,
    pub tip: Option<Money>,
    pub cashback: Option<Money>,
    pub currency: String,
    pub orig_order_no: Option<String>,
    pub lane: String,
    pub scenario: Option<String>,
}

/// What the terminal said (or that it said nothing).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutcomeRecord {
    pub state: TxnState,
    /// The amount the terminal says moved, when it says one.
    pub amount: Option<Money>,
    /// The tip the terminal says moved (one a customer added on its screen), when it
    /// says one.
    pub tip: Option<Money>,
    pub response_code: Option<String>,
    pub response_msg: Option<String>,
    pub trans_no: Option<String>,
    pub trans_status: Option<String>,
    pub brand: Option<String>,
    pub card: Option<String>,
    pub auth_code: Option<String>,
    pub ref_no: Option<String>,
    pub entry_mode: Option<String>,
    /// The reply frame; masked again on the way in.
    pub raw: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TxnRow {
    pub id: i64,
    pub order_no: String,
    pub request_id: String,
    pub kind: TxnKind,
    pub state: TxnState,
    /// What moved: the amount asked for until the terminal says otherwise.
    pub amount: Money,
    /// What was asked for. An approved row whose `amount` differs is partial.
    pub asked: Money,
    pub tip: Option<Money>,
    pub cashback: Option<Money>,
    pub currency: String,
    pub orig_order_no: Option<String>,
    pub lane: String,
    pub scenario: Option<String>,
    pub batch: i64,
    /// UTC, RFC 3339 with milliseconds.
    pub created_at: String,
    pub sent_at: Option<String>,
    pub updated_at: String,
    pub response_code: Option<String>,
    pub response_msg: Option<String>,
    pub trans_no: Option<String>,
    pub trans_status: Option<String>,
    pub brand: Option<String>,
    pub card: Option<String>,
    pub auth_code: Option<String>,
    pub ref_no: Option<String>,
    pub entry_mode: Option<String>,
    pub raw: Option<String>,
    pub via: Via,
    /// The terminal a cloud request named ("all" for every terminal's batch).
    pub terminal_sn: Option<String>,
}

impl TxnRow {
    /// Approved for another amount than was asked (the terminal says what moved).
    pub fn is_partial(&self) -> bool {
        self.state == TxnState::Approved && self.amount != self.asked
    }

    /// A partial approval in words for the cashier: what moved, what was asked and
    /// what is left to settle another way.
    pub fn partial_note(&self) -> Option<String> {
        if !self.is_partial() {
            return None;
        }
        let (moved, asked) = (self.amount, self.asked);
        let rest = Money::from_minor((asked.minor() - moved.minor()).abs(), asked.exponent())
            .unwrap_or(Money::zero(asked.exponent()));
        let refund = matches!(
            self.kind,
            TxnKind::Trans(TransType::Refund | TransType::CompletionRefund)
        );
        Some(match (refund, moved < asked) {
            (false, true) => format!("APPROVED {moved} of {asked}: collect {rest} another way"),
            (true, true) => format!("REFUNDED {moved} of {asked}: give back {rest} another way"),
            (_, false) => format!("APPROVED {moved}, {rest} more than the {asked} asked"),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub at: String,
    pub who: String,
    pub from: Option<String>,
    pub to: String,
    pub why: String,
}

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
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub count: i64,
}

pub struct Journal {
    conn: Connection,
    path: PathBuf,
    /// Created once with the file; keys its rows in the store (order numbers carry
    /// the numbering identity, which is this one until it first changes).
    identity: String,
    /// The numbering identity this open replaced (old, new): the journal went back in
    /// time or moved to another machine.
    renumbered: Option<(String, String)>,
    /// Says to the next opener that this process is still using the journal.
    _marker: Option<clean_close::Marker>,
    /// Where long work (an archive, a check, a tally) says how far it has got.
    progress: crate::progress::Progress,
}

/// When `open` runs SQLite's integrity check, which reads the whole file (a few
/// seconds at a million rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integrity {
    /// Only when a process died with the journal open (see `clean_close`).
    AfterCrash,
    /// Every time: `till check` and `till doctor`.
    Always,
}

pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

const COLUMNS: &str = "id, order_no, request_id, kind, state, amount_minor, tip_minor, cashback_minor, \
    currency, exponent, orig_order_no, lane, scenario, batch, created_at, sent_at, updated_at, \
    response_code, response_msg, trans_no, trans_status, brand, card, auth_code, ref_no, entry_mode, raw, \
    asked_minor, via, terminal_sn";

/// Letters only, without I, L, O and U, so an identity never reads as a number or a word.
const IDENTITY_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTVWXYZ";
const IDENTITY_LEN: usize = 5;

fn new_identity() -> String {
    (0..IDENTITY_LEN)
        .map(|_| char::from(IDENTITY_ALPHABET[fastrand::usize(..IDENTITY_ALPHABET.len())]))
        .collect()
}

impl Journal {
    /// Opens `dir/till.db`, creating it when there is none. An existing file that is
    /// empty, cannot be read, is corrupt, read-only or from a newer release is an
    /// error: it is never replaced or started afresh. The full integrity check runs
    /// only after a process died with the journal open (see `clean_close`).
    pub fn open(dir: &Path) -> Result<Journal, JournalError> {
        Journal::open_with(dir, Integrity::AfterCrash)
    }

    /// `open`, choosing when the integrity check runs. A check that finds problems is
    /// `JournalError::Corrupt`, its detail the problems SQLite lists.
    pub fn open_with(dir: &Path, integrity: Integrity) -> Result<Journal, JournalError> {
        let path = dir.join(FILE_NAME);
        let fail = |detail: String| JournalError::Open {
            path: path.clone(),
            detail,
        };
        let unwritable = |e: &std::io::Error| {
            matches!(
                e.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            )
        };
        std::fs::create_dir_all(dir).map_err(|e| {
            if unwritable(&e) {
                JournalError::ReadOnly {
                    path: path.clone(),
                    detail: e.to_string(),
                }
            } else {
                fail(e.to_string())
            }
        })?;
        match std::fs::metadata(&path) {
            Ok(meta) if meta.len() == 0 => {
                return Err(JournalError::Empty {
                    path: path.clone(),
                    detail: "the file has zero bytes".into(),
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(dir, &path)?,
            Err(e) => return Err(fail(e.to_string())),
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| classify(&path, e))?;
        let mut journal = Journal {
            conn,
            path,
            identity: String::new(),
            renumbered: None,
            _marker: None,
            progress: crate::progress::Progress::hidden(),
        };
        journal.check_and_prepare(integrity)?;
        Ok(journal)
    }

    /// Long work of this journal (an archive, a check, a tally of totals) says how
    /// far it has got to `progress`.
    pub fn show_progress(&mut self, progress: crate::progress::Progress) {
        self.progress = progress;
    }

    fn check_and_prepare(&mut self, integrity: Integrity) -> Result<(), JournalError> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| classify(&path, e);
        // Another process may be writing: wait for it rather than fail.
        self.conn
            .busy_timeout(Duration::from_secs(5))
            .map_err(err)?;
        // Read-only checks first: nothing may be written to a file that is not ours.
        let crashed = clean_close::stale(&path);
        if integrity == Integrity::Always || !crashed.is_empty() {
            let problems = quick_check(&self.conn).map_err(err)?;
            if !problems.is_empty() {
                return Err(JournalError::Corrupt {
                    path: path.clone(),
                    detail: problems.join("; "),
                });
            }
        }
        let found = schema::version(&self.conn).map_err(err)?;
        if found == 0 {
            // Every journal till creates has its schema before it gets its name.
            return Err(JournalError::Empty {
                path: path.clone(),
                detail: "a database with no journal in it".into(),
            });
        }
        if found > schema::CURRENT {
            return Err(JournalError::TooNew {
                path: path.clone(),
                found,
                known: schema::CURRENT,
            });
        }
        if self.conn.is_readonly(rusqlite::MAIN_DB).map_err(err)? {
            return Err(JournalError::ReadOnly {
                path: path.clone(),
                detail: "the file cannot be written".into(),
            });
        }
        prepare(&mut self.conn, Synchronous::Full).map_err(|e| match e {
            JournalError::Sql(e) => classify(&path, e),
            other => other,
        })?;
        if !rollup::fresh(&self.conn)? {
            // Totals an older release never kept (once, on the first open after an
            // upgrade: about 26 s at a million rows), or ones a failed tally left:
            // tallied behind the screen or command, which start at once.
            rollup::tally_behind(&self.path);
        }
        self.identity =
            self.conn
                .query_row("SELECT value FROM meta WHERE key = 'identity'", [], |r| {
                    r.get(0)
                })?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.renumbered = numbering::check(&tx, &self.path, new_identity)?;
        tx.commit()?;
        let marked = clean_close::Marker::register(&path).map_err(|e| {
            let detail = format!("cannot mark it open: {e}");
            match e.kind() {
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                    JournalError::ReadOnly { path, detail }
                }
                _ => JournalError::Open { path, detail },
            }
        })?;
        self._marker = Some(marked);
        // The check after the crash passed: later openers need not repeat it.
        clean_close::clear(&crashed);
        Ok(())
    }

    /// The identity this journal puts in its order numbers.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The identity new order numbers use (the journal's own until it went back in
    /// time or moved to another machine; see `numbering`).
    pub fn numbering(&self) -> Result<String, JournalError> {
        Ok(numbering::counter(&self.conn)?.numbering)
    }

    /// Old and new numbering identity, when this open found the journal restored from
    /// a copy or moved to another machine and gave it a new one.
    pub fn renumbered(&self) -> Option<&(String, String)> {
        self.renumbered.as_ref()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

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

    /// Writes a request as `pending` under the order number it carries and commits it
    /// durably, before it is sent. No rules are checked: `admit` is the lane's way in.
    pub fn begin(&mut self, txn: &NewTxn) -> Result<i64, JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let batch = open_batch_in(&tx, &txn.lane)?;
        let id = insert_pending(&tx, txn, batch, JOURNALED)?;
        commit(tx, &self.path)?;
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
        let unresolved = select(
            &tx,
            "WHERE upper(lane) = ?1 AND state IN ('pending', 'unknown') ORDER BY id",
            [&lane],
        )?;
        if !unresolved.is_empty() {
            return Err(Refused::Unresolved(
                unresolved.into_iter().map(|r| r.order_no).collect(),
            ));
        }
        let is_sale = req.kind.is_sale();
        if is_sale {
            let scenario = match req.scenario.as_deref() {
                None => PayScenario::Card,
                Some(wire) => PayScenario::from_wire(wire)
                    .ok_or_else(|| Refused::Rule(format!("'{wire}' is not a way to pay")))?,
            };
            rules::check_sale(scenario, req.cashback).map_err(Refused::Rule)?;
        }
        if let (true, Some(window), Some(amount)) = (is_sale, req.duplicate_window, req.amount) {
            let since = chrono::Duration::from_std(window)
                .ok()
                .and_then(|w| chrono::Utc::now().checked_sub_signed(w))
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
            let recent = select(
                &tx,
                "WHERE state = 'approved' AND kind IN ('sale', 'cashback-sale') AND amount_minor = ?1
                 AND updated_at >= ?2 ORDER BY id DESC LIMIT 1",
                params![amount.minor(), since.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()],
            )?;
            if let Some(row) = recent.into_iter().next() {
                return Err(Refused::PossibleDuplicate {
                    amount,
                    ago_secs: secs_since(&row.updated_at),
                    order_no: row.order_no,
                });
            }
        }
        let batch = open_batch_in(&tx, &lane)?;
        let zero = Money::zero(req.exponent);
        let orig = match req.orig_order_no.as_deref() {
            Some(orig_no) => select(&tx, "WHERE order_no = ?1", [orig_no])?
                .into_iter()
                .next(),
            None => None,
        };
        // Through the cloud the original may live on another terminal: the rules judge
        // against what the gateway said it captured, and this journal's follow-ups of it.
        let orig = match (orig, &req.original) {
            (None, Some(g)) if req.via == Via::Cloud => {
                let orig_no = req.orig_order_no.as_deref().unwrap_or_default();
                Some(g.as_row(orig_no, &lane, batch))
            }
            (orig, _) => orig,
        };
        let amount = match (req.orig_order_no.as_deref(), orig) {
            (Some(orig_no), None) if req.via == Via::Lan => {
                return Err(Refused::Rule(format!(
                    "order {orig_no} is not in the journal (one paid on another terminal can go --via cloud)"
                )));
            }
            (Some(orig_no), None) => {
                return Err(Refused::Rule(format!(
                    "order {orig_no} is not in the journal, and the gateway was not asked what it captured"
                )));
            }
            (Some(orig_no), Some(orig)) => {
                let related = select(&tx, "WHERE orig_order_no = ?1 ORDER BY id", [orig_no])?;
                // A void or cancel gives back what the original moved.
                let amount = req.amount.unwrap_or(orig.amount);
                // Whether the original is settled is up to its own lane's batch.
                let its_open = open_batch_in(&tx, &orig.lane)?;
                rules::check(req.kind, amount, &orig, &related, its_open).map_err(Refused::Rule)?;
                amount
            }
            _ => {
                let amount = req.amount.unwrap_or(zero);
                rules::check_amount(req.kind, amount).map_err(Refused::Rule)?;
                amount
            }
        };
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
        commit(tx, &self.path)?;
        // The number is not returned, so not sent, before its mark is durable.
        mark.wait()?;
        Ok(self.get(&order_no)?)
    }

    /// Notes when a journaled request went out. Not a durable commit of its own (the
    /// sale's next write, its outcome, makes it durable with itself): the row it marks
    /// was durable before anything was sent, and recovery never reads the mark: an
    /// unresolved row is resolved by querying its order number, sent or not, so a mark
    /// lost to a power cut loses no money and no decision.
    pub fn mark_sent(&mut self, order_no: &str, request_id: &str) -> Result<(), JournalError> {
        // In WAL mode NORMAL skips only this commit's fsync; the next FULL commit
        // syncs the log up to and past it.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let marked = self
            .conn
            .prepare_cached("UPDATE txn SET sent_at = ?1, request_id = ?2 WHERE order_no = ?3")
            .and_then(|mut s| s.execute(params![now(), request_id, order_no]));
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        marked?;
        Ok(())
    }

    /// Records what the terminal said. A final row (approved or declined) is never
    /// changed here: the same answer again is a no-op, a different one is audited and
    /// refused with `Conflict`.
    pub fn record_outcome(
        &mut self,
        order_no: &str,
        rec: &OutcomeRecord,
        why: &str,
    ) -> Result<TxnRow, JournalError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = state_of(&tx, order_no)?;
        if current.is_final() {
            if current == rec.state {
                tx.commit()?;
                return self.get(order_no);
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
                rec.response_code,
                masked(&rec.response_msg),
                reference(&rec.trans_no),
                rec.trans_status,
                rec.brand,
                rec.card.as_deref().map(mask_card_no),
                reference(&rec.auth_code),
                reference(&rec.ref_no),
                rec.entry_mode,
                rec.raw.as_deref().map(mask_frame),
                order_no,
                rec.amount.map(Money::minor),
                rec.tip.map(Money::minor),
            ],
        )?;
        // Unknown again for a new reason (an approval whose amount cannot be read) is
        // worth a line too.
        if current != rec.state || rec.state == TxnState::Unknown {
            audit(&tx, order_no, "lane", Some(current), rec.state, why)?;
        }
        if rec.state == TxnState::Approved {
            let kind: String = tx
                .prepare_cached("SELECT kind FROM txn WHERE order_no = ?1")?
                .query_row([order_no], |r| r.get(0))?;
            if kind == TxnKind::BatchClose.name() {
                // The terminal settled: the batch closes with the approval, in one
                // transaction, so no crash leaves an approved close beside an open batch.
                settle_in(&tx, order_no, rec.raw.as_deref().unwrap_or("{}"))?;
            }
        }
        commit(tx, &self.path)?;
        self.get(order_no)
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

    fn get(&self, order_no: &str) -> Result<TxnRow, JournalError> {
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

    fn select(
        &self,
        where_sql: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<TxnRow>, JournalError> {
        select(&self.conn, where_sql, args)
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

    fn batch_number(&self, sel: BatchSel) -> Result<i64, JournalError> {
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

/// Commits a write, first tallying again the quarter hours whose totals it changed
/// (see `rollup`). Tallying may fail (an unreadable archive holds an original): the
/// write still commits, its quarter hours stay dirty, and reports read their rows.
fn commit(mut tx: rusqlite::Transaction, path: &Path) -> Result<(), JournalError> {
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

/// Builds a new journal under a temporary name and gives it its real name only when it
/// is complete, without replacing a file another process created meanwhile. So no
/// process ever sees a half-made journal, and two that start at once share one.
fn create(dir: &Path, path: &Path) -> Result<(), JournalError> {
    let temp = dir.join(format!(
        ".{FILE_NAME}.{}-{}.new",
        std::process::id(),
        fastrand::u32(..)
    ));
    let failed = |detail: String| JournalError::Open {
        path: path.to_path_buf(),
        detail,
    };
    // Built without syncs of its own (nothing names it yet), then synced whole once
    // before it gets its name: two fsyncs for a new journal instead of the nine its
    // commits and checkpoint would make, and still never a half-made journal named.
    let made = (|| {
        let mut conn = Connection::open(&temp).map_err(|e| classify(path, e))?;
        prepare(&mut conn, Synchronous::Off)?;
        conn.close().map_err(|(_, e)| classify(path, e))?;
        let mut wal = temp.clone().into_os_string();
        wal.push("-wal");
        if Path::new(&wal).exists() {
            return Err(failed(
                "the new journal's log was not folded into it".into(),
            ));
        }
        std::fs::File::open(&temp)
            .and_then(|f| f.sync_all())
            .map_err(|e| failed(format!("cannot sync the new journal: {e}")))
    })();
    let named = made.and_then(|()| match std::fs::hard_link(&temp, path) {
        Ok(()) => std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| failed(format!("cannot sync the data directory: {e}"))),
        // Another process was quicker: its journal is the one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(failed(format!("cannot name the new journal: {e}"))),
    });
    let _ = std::fs::remove_file(&temp);
    named
}

/// How a connection syncs its commits: FULL for a journal, OFF only while a new one is
/// built under a temporary name (see `create`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Synchronous {
    Off = 0,
    Full = 2,
}

/// WAL with `synchronous` (FULL but while `create` builds one), the schema and the
/// identity: what every journal needs before its first row (each lane opens its batch
/// when it first needs one).
fn prepare(conn: &mut Connection, synchronous: Synchronous) -> Result<(), JournalError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    // Every statement of the write path parsed once per connection (about 40).
    conn.set_prepared_statement_cache_capacity(128);
    // NORMAL can lose committed rows on power loss; a payment journal may not. Set
    // first: switching a new file to WAL is itself a write.
    conn.pragma_update(None, "synchronous", synchronous as i64)?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") || sync != synchronous as i64 {
        return Err(JournalError::Invalid(format!(
            "could not set WAL and synchronous {} (got {mode}, {sync})",
            synchronous as i64
        )));
    }
    // Proves the directory takes the WAL's side files and the file takes writes.
    conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;")?;
    // A new journal gets its schema and its identity in one durable commit.
    schema::migrate_then(conn, |tx| {
        tx.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('identity', ?1)",
            [new_identity()],
        )
        .map(|_| ())
    })?;
    Ok(())
}

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
            response_code: None,
            response_msg: None,
            trans_no: None,
            trans_status: None,
            brand: None,
            card: None,
            auth_code: None,
            ref_no: None,
            entry_mode: None,
            raw: None,
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

/// A lane id as it goes into order numbers: 1 to 8 letters or digits, upper case.
pub fn check_lane(lane: &str) -> Result<String, JournalError> {
    let lane = lane.trim().to_ascii_uppercase();
    if lane.is_empty() || lane.len() > 8 || !lane.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(JournalError::Invalid(format!(
            "lane id '{lane}': use 1 to 8 letters or digits"
        )));
    }
    Ok(lane)
}

/// A new order number, inside the caller's write transaction, and its numbering mark
/// on its way to the disk (see `numbering::count_one`).
fn next_order_no_in(
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

/// The lane's open batch, if it has one.
fn open_batch_of(conn: &Connection, lane: &str) -> Result<Option<i64>, JournalError> {
    Ok(conn
        .prepare_cached("SELECT number FROM batch WHERE closed_at IS NULL AND lane = ?1")?
        .query_row([lane.trim().to_ascii_uppercase()], |r| r.get(0))
        .optional()?)
}

/// The lane's open batch, opened (inside the caller's write transaction) when it has
/// none. Batch numbers are one sequence across lanes, above every batch archived.
fn open_batch_in(tx: &rusqlite::Transaction, lane: &str) -> Result<i64, JournalError> {
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

/// The audit line of a row as it is journaled.
const JOURNALED: &str = "journaled before sending";

/// Added to an audit line when a supervisor gave the PIN for what it records.
pub const SUPERVISOR_PIN_GIVEN: &str = "supervisor PIN given";

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

fn select(
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

/// Whole seconds since an RFC 3339 time the journal wrote.
pub fn secs_since(rfc3339: &str) -> u64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
                .num_seconds()
                .max(0) as u64
        })
        .unwrap_or(0)
}

/// Closes what an approved batch close settled: the open batch of its lane, so the
/// totals compare with that lane's terminal. A close of every terminal's batch through
/// the cloud (`terminal_sn` "all") settled the terminals of the other lanes too: every
/// open batch of the journal closes, each with its own lane's totals. Returns the
/// report of the row's own lane.
fn settle_in(
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

/// SQLite's `quick_check`: the problems it lists, none when the file is sound.
fn quick_check(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("PRAGMA quick_check(100)")?;
    let lines = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(lines.into_iter().filter(|l| l != "ok").collect())
}

fn classify(path: &Path, e: rusqlite::Error) -> JournalError {
    use rusqlite::ErrorCode as C;
    let detail = e.to_string();
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(C::NotADatabase | C::DatabaseCorrupt) => JournalError::Corrupt { path, detail },
        Some(C::ReadOnly | C::PermissionDenied | C::CannotOpen) => {
            JournalError::ReadOnly { path, detail }
        }
        _ => JournalError::Open { path, detail },
    }
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

fn audit(
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

/// A row as stored, before its text columns are checked.
struct RawRow {
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
    outcome: [Option<String>; 10],
    asked: Option<i64>,
    via: Option<String>,
    terminal_sn: Option<String>,
}

fn raw_row(r: &rusqlite::Row) -> rusqlite::Result<RawRow> {
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
        outcome: [
            r.get(17)?,
            r.get(18)?,
            r.get(19)?,
            r.get(20)?,
            r.get(21)?,
            r.get(22)?,
            r.get(23)?,
            r.get(24)?,
            r.get(25)?,
            r.get(26)?,
        ],
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
        let [
            response_code,
            response_msg,
            trans_no,
            trans_status,
            brand,
            card,
            auth_code,
            ref_no,
            entry_mode,
            raw,
        ] = r.outcome.clone();
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
            response_code,
            response_msg,
            trans_no,
            trans_status,
            brand,
            card,
            auth_code,
            ref_no,
            entry_mode,
            raw,
            via,
            terminal_sn: r.terminal_sn,
        })
    }
}
