//! Closed batches older than a cut-off move, whole, into a yearly archive beside the
//! journal (`till-2025.db`, the year the batch closed, UTC), with the same schema, so
//! the live journal stays small while search still finds every row.
//!
//! Crash-safe in two steps: the rows are copied into the archive and committed there
//! (durably), then deleted from the journal, only those the archive holds. A crash
//! between the two leaves the rows in both; a re-run copies nothing twice (same id,
//! same order number) and finishes the delete. Row ids are kept, so a search over
//! journal and archives pages by one id; the journal remembers the highest id it
//! archived so it never hands that id out again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use super::years::{ArchiveFile, files_in, name_of};
use super::{COLUMNS, Journal, JournalError, rollup, schema};
use crate::progress::Progress;

/// What one run of `archive` moved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Archived {
    /// Batch numbers, oldest first.
    pub batches: Vec<i64>,
    pub rows: i64,
    pub files: Vec<PathBuf>,
}

/// Brings an archive to this release's schema and tallies what its totals lack
/// (all of them, for one an older release wrote).
fn upgrade(path: &Path) -> Result<(), JournalError> {
    tally(path, false)
}

/// Tallies every total of an archive again.
pub(super) fn retally(path: &Path) -> Result<(), JournalError> {
    tally(path, true)
}

fn tally(path: &Path, all: bool) -> Result<(), JournalError> {
    let mut conn = Connection::open(path).map_err(|e| super::classify(path, e))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    schema::migrate(&mut conn)?;
    if all {
        rollup::forget(&mut conn)?;
    }
    rollup::refresh_all(&mut conn, path, &Progress::hidden())
}

/// Creates an archive under a temporary name and names it only when its schema is
/// complete, as the journal itself is created. An archive keeps a rollback journal
/// (not WAL) so a read-only connection can always read it.
fn create(path: &Path) -> Result<(), JournalError> {
    let temp = path.with_extension(format!("{}-{}.new", std::process::id(), fastrand::u32(..)));
    let made = (|| {
        let mut conn = Connection::open(&temp)?;
        conn.pragma_update(None, "journal_mode", "DELETE")?;
        schema::migrate(&mut conn)?;
        conn.close().map_err(|(_, e)| e)
    })()
    .map_err(|e| super::classify(path, e));
    let named = made.and_then(|()| match std::fs::hard_link(&temp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(JournalError::Open {
            path: path.to_path_buf(),
            detail: format!("cannot name the new archive: {e}"),
        }),
    });
    let _ = std::fs::remove_file(&temp);
    named
}

/// How many batches one step of an archive run copies and deletes (a day's batch is a
/// few thousand rows at most).
const BATCHES_A_STEP: usize = 8;

/// Batch numbers as an SQL list: integers from the journal itself, safe to inline.
fn list_of(numbers: impl Iterator<Item = i64>) -> String {
    numbers.map(|n| n.to_string()).collect::<Vec<_>>().join(",")
}

impl Journal {
    /// The archive files beside the journal, newest year first.
    pub fn archives(&self) -> Result<Vec<ArchiveFile>, JournalError> {
        files_in(self.path.parent().unwrap_or(Path::new(".")))
    }

    /// SQLite's integrity check of every archive: the files with problems, and these.
    pub(crate) fn check_archives(&self) -> Result<Vec<(PathBuf, Vec<String>)>, JournalError> {
        let mut found = Vec::new();
        let archives = self.archives()?;
        self.progress
            .start("checking the archives", "files", archives.len() as u64);
        for a in archives {
            self.progress.add(1);
            let problems = match a.connect() {
                Ok(conn) => super::quick_check(&conn).unwrap_or_else(|e| vec![e.to_string()]),
                Err(e) => vec![e.to_string()],
            };
            if !problems.is_empty() {
                found.push((a.path, problems));
            }
        }
        self.progress.finish();
        Ok(found)
    }

    /// Moves every closed batch that closed before `closed_before` (RFC 3339, UTC)
    /// and holds no unresolved row into its year's archive. The open batch never moves.
    /// Archives an older release wrote, or whose last run stopped half-way, get their
    /// totals first, so reports read them again instead of their rows.
    pub fn archive(&mut self, closed_before: &str) -> Result<Archived, JournalError> {
        for a in self.archives()? {
            let conn = a.connect()?;
            if !rollup::fresh(&conn)? {
                drop(conn);
                upgrade(&a.path)?;
            }
        }
        let mut stmt = self.conn.prepare(
            "SELECT b.number, CAST(substr(b.closed_at, 1, 4) AS INTEGER) FROM batch b
             WHERE b.closed_at IS NOT NULL AND b.closed_at < ?1
               AND EXISTS (SELECT 1 FROM txn t WHERE t.batch = b.number)
               AND NOT EXISTS (SELECT 1 FROM txn t WHERE t.batch = b.number
                               AND t.state IN ('pending', 'unknown'))
             ORDER BY b.number",
        )?;
        let batches = stmt
            .query_map([closed_before], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i32>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        drop(stmt);
        let mut done = Archived::default();
        let rows: i64 = self.conn.query_row(
            &format!(
                "SELECT COUNT(*) FROM txn WHERE batch IN ({})",
                list_of(batches.iter().map(|(n, _)| *n))
            ),
            [],
            |r| r.get(0),
        )?;
        self.progress
            .start("archiving", "rows", u64::try_from(rows).unwrap_or(0));
        let mut years: Vec<i32> = batches.iter().map(|(_, y)| *y).collect();
        years.sort_unstable();
        years.dedup();
        for year in years {
            let numbers: Vec<i64> = batches
                .iter()
                .filter(|(_, y)| *y == year)
                .map(|(n, _)| *n)
                .collect();
            let dir = self.path.parent().unwrap_or(Path::new("."));
            let path = dir.join(name_of(year));
            done.rows += self.move_batches(&path, &numbers)?;
            done.batches.extend(numbers);
            done.files.push(path);
        }
        self.progress.finish();
        // The rows that left emptied their quarter hours here; the copies marked theirs
        // in the archives dirty.
        rollup::refresh_all(&mut self.conn, &self.path, &self.progress)?;
        for path in &done.files {
            upgrade(path)?;
        }
        Ok(done)
    }

    /// Copies the batches into the archive at `path`, a few at a time (so progress
    /// moves), each time committing the copy, then deleting from the journal what the
    /// archive holds. Returns the rows deleted from the journal.
    fn move_batches(&mut self, path: &Path, numbers: &[i64]) -> Result<i64, JournalError> {
        if !path.exists() {
            create(path)?;
        }
        self.conn.execute(
            "ATTACH DATABASE ?1 AS arc",
            [path.to_string_lossy().as_ref()],
        )?;
        let mut moved = Ok(0);
        for chunk in numbers.chunks(BATCHES_A_STEP) {
            match self.copy_then_delete(&list_of(chunk.iter().copied())) {
                Ok(rows) => {
                    self.progress.add(u64::try_from(rows).unwrap_or(0));
                    moved = moved.map(|m| m + rows);
                }
                Err(e) => {
                    moved = Err(e);
                    break;
                }
            }
        }
        let detached = self.conn.execute_batch("DETACH DATABASE arc");
        let moved = moved?;
        detached?;
        Ok(moved)
    }

    fn copy_then_delete(&mut self, list: &str) -> Result<i64, JournalError> {
        self.conn
            .execute_batch("PRAGMA arc.journal_mode = DELETE; PRAGMA arc.synchronous = FULL;")?;
        let audit_cols = "order_no, at, who, from_state, to_state, why";
        let same_audit =
            "b.order_no = a.order_no AND b.at = a.at AND b.to_state = a.to_state AND b.why = a.why";
        let of_batches = format!("SELECT order_no FROM main.txn WHERE batch IN ({list})");
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(&format!(
            "INSERT OR IGNORE INTO arc.txn ({COLUMNS}) SELECT {COLUMNS} FROM main.txn WHERE batch IN ({list});
             INSERT INTO arc.audit ({audit_cols})
                SELECT {audit_cols} FROM main.audit a WHERE a.order_no IN ({of_batches})
                AND NOT EXISTS (SELECT 1 FROM arc.audit b WHERE {same_audit}) ORDER BY a.id;
             INSERT OR IGNORE INTO arc.batch SELECT * FROM main.batch WHERE number IN ({list});"
        ))?;
        tx.commit()?;
        // The copy is durable in the archive: now the journal lets go of what it holds.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO meta (key, value) SELECT 'archived_max_id', MAX(id) FROM arc.txn WHERE true
             ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
            [],
        )?;
        // A lane's open batch can be older than batches archived: new batch numbers
        // go above these too (see `open_batch_in`).
        tx.execute(
            "INSERT INTO meta (key, value) SELECT 'archived_max_batch', MAX(number) FROM arc.batch WHERE true
             ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
            [],
        )?;
        tx.execute(
            &format!(
                "DELETE FROM main.audit AS a WHERE a.order_no IN ({of_batches})
                 AND EXISTS (SELECT 1 FROM arc.audit b WHERE {same_audit})"
            ),
            [],
        )?;
        let rows = tx.execute(
            &format!(
                "DELETE FROM main.txn WHERE batch IN ({list})
                 AND id IN (SELECT id FROM arc.txn WHERE batch IN ({list}))"
            ),
            [],
        )?;
        tx.commit()?;
        Ok(rows as i64)
    }
}
