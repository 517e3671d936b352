//! What goes wrong with a journal, in words for whoever must put it right.

use std::path::{Path, PathBuf};

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

pub(super) fn classify(path: &Path, e: rusqlite::Error) -> JournalError {
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
