//! The yearly archive files beside the journal (`till-2025.db`): their names, finding
//! them, and reading one (never writing it, for a search).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{FILE_NAME, JournalError};

/// A yearly archive file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveFile {
    pub year: i32,
    pub(crate) path: PathBuf,
}

pub(super) fn name_of(year: i32) -> String {
    let stem = FILE_NAME.trim_end_matches(".db");
    format!("{stem}-{year}.db")
}

fn year_of(name: &str) -> Option<i32> {
    let stem = FILE_NAME.trim_end_matches(".db");
    let year = name
        .strip_prefix(stem)?
        .strip_prefix('-')?
        .strip_suffix(".db")?;
    (year.len() == 4).then(|| year.parse().ok()).flatten()
}

impl ArchiveFile {
    /// A read-only connection: searches never write an archive.
    pub(super) fn connect(&self) -> Result<Connection, JournalError> {
        read_only(&self.path)
    }
}

pub(super) fn read_only(path: &Path) -> Result<Connection, JournalError> {
    roll_back_hot_journal(path)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| super::classify(path, e))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// An archive whose writer was killed mid-transaction keeps a hot rollback journal
/// beside it, which a read-only connection cannot roll back ("attempt to write a
/// readonly database"). A read-write connection rolls it back on its first read, as
/// SQLite does whenever no writer holds the file; a journal another process is still
/// writing is left alone by SQLite's own locks.
fn roll_back_hot_journal(path: &Path) -> Result<(), JournalError> {
    let mut journal = path.as_os_str().to_os_string();
    journal.push("-journal");
    if !Path::new(&journal).exists() {
        return Ok(());
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| super::classify(path, e))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| super::classify(path, e))?;
    Ok(())
}

/// The archive files in `dir`, newest year first.
pub(super) fn files_in(dir: &Path) -> Result<Vec<ArchiveFile>, JournalError> {
    let entries = std::fs::read_dir(dir).map_err(|e| JournalError::Open {
        path: dir.to_path_buf(),
        detail: e.to_string(),
    })?;
    let mut files: Vec<ArchiveFile> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let year = year_of(e.file_name().to_str()?)?;
            Some(ArchiveFile {
                year,
                path: e.path(),
            })
        })
        .collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.year));
    Ok(files)
}
