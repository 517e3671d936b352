//! The write-ahead transaction journal: SQLite in WAL mode with synchronous FULL, in
//! the data directory. Every money-moving request is committed here before its frame
//! is sent; every state change is audited; no row is ever deleted, only moved whole
//! batches at a time into a yearly archive (`archive`).
//!
//! One `Journal`, its work in a file per job: opening it (`open`), numbering orders
//! (`order_no`), admitting a request (`admit`), booking what the terminal said
//! (`outcome`), batches (`batch`) and reading rows back (`read`).

mod admit;
mod aftermath;
mod archive;
mod batch;
mod behind;
mod clean_close;
mod error;
#[cfg(any(test, feature = "fixtures"))]
pub mod generate;
mod numbering;
mod open;
mod order_no;
mod outbox;
mod outcome;
mod ranges;
mod read;
mod report;
pub(crate) mod rollup;
mod row;
pub mod rules;
mod schema;
mod search;
mod time;
mod write;
mod years;

use std::path::PathBuf;

use rusqlite::Connection;

pub(crate) use admit::SUPERVISOR_PIN_GIVEN;
pub use admit::{GatewayOriginal, Refused, Request};
pub use aftermath::Aftermath;
pub use batch::{BatchInfo, BatchSel};
pub use error::JournalError;
pub use open::Integrity;
pub(crate) use order_no::{ORDER_NO_MAX, check_lane, check_order_no};
pub(crate) use outbox::{AuditLine, OutgoingTotals};
pub use ranges::Source;
pub(crate) use report::Group;
pub use report::{BatchReport, RangeReport};
pub use row::{AuditRow, NewTxn, OutcomeRecord, TerminalReply, TxnKind, TxnRow, TxnState, Via};
pub use search::{Page, Search, Term, parse_term, row_matches};
pub use time::now;
pub(crate) use time::secs_since;

// What the journal's files share.
use crate::progress::Progress;
use error::classify;
use open::quick_check;
use read::{COLUMNS, raw_row};

pub const FILE_NAME: &str = "till.db";

pub struct Journal {
    conn: Connection,
    path: PathBuf,
    /// Created once with the file; keys its rows in the store (order numbers carry
    /// the numbering identity, which is this one until it first changes).
    identity: String,
    /// Says to the next opener that this process is still using the journal.
    _marker: Option<clean_close::Marker>,
    /// Where long work (an archive, a check, a tally) says how far it has got.
    progress: Progress,
}
