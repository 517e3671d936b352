//! Opening a journal: creating it whole when there is none, refusing one that is empty,
//! corrupt, read-only or too new, and the schema, identity and settings every journal
//! needs before its first row.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, config::DbConfig};

use super::{FILE_NAME, Journal, JournalError, classify, clean_close, numbering, rollup, schema};
use crate::progress::Progress;

/// When `open` runs SQLite's integrity check, which reads the whole file (a few
/// seconds at a million rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integrity {
    /// Only when a process died with the journal open (see `clean_close`).
    AfterCrash,
    /// Every time: `till check` and `till doctor`.
    Always,
}

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
            _marker: None,
            progress: Progress::hidden(),
        };
        journal.check_and_prepare(integrity)?;
        Ok(journal)
    }

    /// Long work of this journal (an archive, a check, a tally of totals) says how
    /// far it has got to `progress`.
    pub(crate) fn show_progress(&mut self, progress: Progress) {
        self.progress = progress;
    }

    fn check_and_prepare(&mut self, integrity: Integrity) -> Result<(), JournalError> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| classify(&path, e);
        // Another process may be writing: wait for it rather than fail.
        self.conn
            .busy_handler(Some(wait_for_the_lock))
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
        numbering::check(&tx, &self.path, new_identity)?;
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

    pub fn path(&self) -> &Path {
        &self.path
    }
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

/// How long a journal's connection waits for another's write before it says busy.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// Asks again for a locked file every millisecond until `LOCK_WAIT` is up. SQLite's
/// own wait backs off to 100 ms between tries, and a writer that takes turns (the tally
/// behind an opening: `rollup::refresh_all`) frees the lock for less than that between
/// them: a sale or an opening waited behind the whole backlog, and past five seconds of
/// it failed.
fn wait_for_the_lock(tries: i32) -> bool {
    let waited = Duration::from_millis(u64::try_from(tries).unwrap_or(0));
    if waited >= LOCK_WAIT {
        return false;
    }
    std::thread::sleep(Duration::from_millis(1));
    true
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
    conn.busy_handler(Some(wait_for_the_lock))?;
    // Every statement of the write path parsed once per connection (about 40).
    conn.set_prepared_statement_cache_capacity(128);
    // Plans that never depend on the values bound: without this SQLite marks a cached
    // statement expired whenever a parameter it might plan by is bound again (the
    // tally's `LIMIT ?`, in every write that tallies) and parses it again on the next
    // step. No plan of the journal needs a bound value (no `LIKE`, no statistics).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
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

/// SQLite's `quick_check`: the problems it lists, none when the file is sound.
pub(super) fn quick_check(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("PRAGMA quick_check(100)")?;
    let lines = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(lines.into_iter().filter(|l| l != "ok").collect())
}
