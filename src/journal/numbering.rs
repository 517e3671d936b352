//! Order numbers are never reused, even by a journal that went back in time.
//!
//! A journal restored from a copy (or copied to another register) would hand out
//! numbers its terminal already knows, and a query on such a number answers for the old
//! payment. So every number issued is also counted in a mark kept beside the journal
//! file (`till.db.issued`), outside it: lines of a numbering identity, how many numbers
//! the journal had issued under it and the machine that issued them, the highest count
//! of each identity its mark (see `Marks`). A journal
//! that has issued fewer numbers than its mark says (restored), whose mark names
//! another machine (copied), or that has issued numbers with no mark at all (copied
//! without it, or written by an older release) gets a new numbering identity before its
//! next number. A new identity is always safe: it only changes the letters of numbers
//! not yet issued.
//!
//! The numbering identity is apart from the journal's own identity, which keys its rows
//! in the store and stays the same.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;

use rusqlite::{OptionalExtension, Transaction};

use super::{JournalError, behind};

/// How the journal counts what it issued: `numbering` and `issued` in `meta`.
pub(super) struct Counter {
    pub(crate) numbering: String,
    pub(crate) issued: i64,
}

/// Reads the numbering identity (the journal's identity until it first changes) and
/// how many numbers were issued, inside the caller's transaction.
pub(super) fn counter(tx: &rusqlite::Connection) -> Result<Counter, JournalError> {
    let get = |key: &str| -> Result<Option<String>, rusqlite::Error> {
        tx.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()
    };
    let numbering = match get("numbering")? {
        Some(n) => n,
        None => get("identity")?.unwrap_or_default(),
    };
    let issued = get("issued")?.and_then(|v| v.parse().ok()).unwrap_or(0);
    Ok(Counter { numbering, issued })
}

/// A mark written and on its way to the disk, synced on a thread of its own while the
/// transaction that takes the number commits: the two syncs overlap instead of
/// following each other. `wait` returns once the mark is durable.
pub(super) struct Syncing {
    journal: PathBuf,
    sync: Receiver<std::io::Result<()>>,
}

impl Syncing {
    pub(super) fn wait(self) -> Result<(), JournalError> {
        let done = self
            .sync
            .recv()
            .unwrap_or_else(|_| Err(std::io::Error::other("the mark's sync stopped")));
        done.map_err(|e| mark_error(&self.journal, &e))
    }
}

/// Counts one more number issued under `numbering`, in the journal and in the mark.
/// Runs inside the write transaction that takes the number: the database's write lock
/// orders every process's marks. The mark is durable before the number can be sent:
/// the caller waits for `Syncing` after its commit and before it returns the number.
/// (A commit that fails after the mark was written leaves the mark ahead of the
/// journal, which at worst gives it a new identity: never a reused number.)
pub(super) fn count_one(
    tx: &Transaction,
    journal: &Path,
) -> Result<(String, Syncing), JournalError> {
    let Counter { numbering, issued } = counter(tx)?;
    let issued = issued + 1;
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('issued', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute([issued.to_string()])?;
    let file = Marks::read(journal)
        .add_unsynced(journal, &numbering, issued)
        .map_err(|e| mark_error(journal, &e))?;
    let sync = behind::MARKS.run(move || file.sync_data());
    Ok((
        numbering,
        Syncing {
            journal: journal.to_path_buf(),
            sync,
        },
    ))
}

/// On open: a journal that went back in time, or moved to another machine, gets a new
/// numbering identity (and says so in the log).
pub(super) fn check(
    tx: &Transaction,
    journal: &Path,
    new_identity: impl Fn() -> String,
) -> Result<(), JournalError> {
    let Counter { numbering, issued } = counter(tx)?;
    let mut marks = Marks::read(journal);
    let stale = match marks.get(&numbering) {
        Some(mark) => mark.issued > issued || mark.machine != machine_id(),
        None => issued > 0,
    };
    if !stale {
        if marks.get(&numbering).is_none() {
            // A new journal: marked from its first open.
            marks.set(&numbering, issued);
            marks.write(journal).map_err(|e| mark_error(journal, &e))?;
        }
        return Ok(());
    }
    let fresh = std::iter::repeat_with(new_identity)
        .find(|id| *id != numbering && marks.get(id).is_none())
        .unwrap_or_default();
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('numbering', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [&fresh],
    )?;
    marks.set(&fresh, issued);
    marks.write(journal).map_err(|e| mark_error(journal, &e))?;
    tracing::warn!(
        old = %numbering, new = %fresh, issued,
        "the journal went back in time or moved: new order numbers use a new identity"
    );
    Ok(())
}

fn mark_error(journal: &Path, e: &std::io::Error) -> JournalError {
    let path = mark_path(journal);
    let detail = format!("cannot write {}: {e}", path.display());
    match e.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            JournalError::ReadOnly {
                path: journal.to_path_buf(),
                detail,
            }
        }
        _ => JournalError::Open {
            path: journal.to_path_buf(),
            detail,
        },
    }
}

pub(super) fn mark_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".issued");
    PathBuf::from(name)
}

/// This machine, so a data dir copied whole to another register is told apart.
fn machine_id() -> String {
    // Read once a process: every number issued asks for it.
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(read_machine_id).clone()
}

fn read_machine_id() -> String {
    [
        "/etc/machine-id",
        "/var/lib/dbus/machine-id",
        "/proc/sys/kernel/hostname",
    ]
    .iter()
    .find_map(|p| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty() && !s.contains(char::is_whitespace))
    })
    .unwrap_or_else(|| "unknown".into())
}

struct Mark {
    numbering: String,
    issued: i64,
    machine: String,
}

/// The mark file: `numbering issued machine`, a line each, a line appended for every
/// number issued (an identity's highest count is its mark) and the file rewritten
/// whole once it has grown long. An append is cheaper than a rewrite, which truncates
/// the file first (about 100 µs in the lane's path, and a journal commit of the file
/// system's for the sync). A torn append loses only its own line; a line that does not
/// read is left out, which at worst gives the journal a new identity: never a reused
/// number.
struct Marks {
    marks: Vec<Mark>,
    /// Lines in the file: it is rewritten whole at `REWRITE_AT`.
    lines: usize,
    /// Whether the file ends with a whole line (a torn append may not).
    whole: bool,
}

/// Lines the mark file may grow to before it is rewritten whole.
const REWRITE_AT: usize = 128;

impl Marks {
    fn read(journal: &Path) -> Marks {
        let text = std::fs::read_to_string(mark_path(journal)).unwrap_or_default();
        // Borrowed from the text while read (every admission reads up to
        // `REWRITE_AT` lines, most of one identity), owned once merged.
        let mut newest: Vec<(&str, i64, &str)> = Vec::new();
        let mut lines = 0;
        for line in text.lines() {
            lines += 1;
            let mut words = line.split_whitespace();
            let (Some(n), Some(Ok(i)), Some(m)) =
                (words.next(), words.next().map(str::parse), words.next())
            else {
                continue;
            };
            match newest.iter_mut().find(|(seen, ..)| *seen == n) {
                // Counts only grow down the file: the later line is the newer.
                Some(mark) if i >= mark.1 => *mark = (n, i, m),
                Some(_) => {}
                None => newest.push((n, i, m)),
            }
        }
        let marks = newest
            .into_iter()
            .map(|(n, i, m)| Mark {
                numbering: n.to_string(),
                issued: i,
                machine: m.to_string(),
            })
            .collect();
        Marks {
            marks,
            lines,
            whole: text.is_empty() || text.ends_with('\n'),
        }
    }

    fn get(&self, numbering: &str) -> Option<&Mark> {
        self.marks.iter().find(|m| m.numbering == numbering)
    }

    fn set(&mut self, numbering: &str, issued: i64) {
        let machine = machine_id();
        match self.marks.iter_mut().find(|m| m.numbering == numbering) {
            Some(m) => {
                m.issued = m.issued.max(issued);
                m.machine = machine;
            }
            None => self.marks.push(Mark {
                numbering: numbering.to_string(),
                issued,
                machine,
            }),
        }
    }

    /// One more number counted under `numbering`, appended (or the file rewritten
    /// whole once long); the file, for the caller to sync.
    fn add_unsynced(
        mut self,
        journal: &Path,
        numbering: &str,
        issued: i64,
    ) -> std::io::Result<std::fs::File> {
        self.set(numbering, issued);
        let Some(mark) = self.get(numbering).filter(|_| self.lines < REWRITE_AT) else {
            return self.write_unsynced(journal);
        };
        // After a torn append, the new line starts a line of its own.
        let start = if self.whole { "" } else { "\n" };
        let line = format!(
            "{start}{} {} {}\n",
            mark.numbering, mark.issued, mark.machine
        );
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(mark_path(journal))?;
        file.write_all(line.as_bytes())?;
        Ok(file)
    }

    /// Rewritten in place and synced. A torn write only loses lines (see `Marks`).
    fn write(&self, journal: &Path) -> std::io::Result<()> {
        self.write_unsynced(journal)?.sync_data()
    }

    /// Rewritten in place; the file, for the caller to sync.
    fn write_unsynced(&self, journal: &Path) -> std::io::Result<std::fs::File> {
        let mut text = String::new();
        for m in &self.marks {
            text.push_str(&format!("{} {} {}\n", m.numbering, m.issued, m.machine));
        }
        let mut file = std::fs::File::create(mark_path(journal))?;
        file.write_all(text.as_bytes())?;
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("till.db");
        (dir, path)
    }

    #[test]
    fn each_number_adds_a_line_and_the_highest_count_is_the_mark() {
        let (_dir, path) = journal();
        for issued in 1..=3 {
            Marks::read(&path)
                .add_unsynced(&path, "ABCDE", issued)
                .unwrap();
        }
        Marks::read(&path).add_unsynced(&path, "FGHIJ", 7).unwrap();
        let marks = Marks::read(&path);
        assert_eq!(marks.lines, 4);
        assert_eq!(marks.get("ABCDE").map(|m| m.issued), Some(3));
        assert_eq!(marks.get("FGHIJ").map(|m| m.issued), Some(7));
        assert_eq!(
            marks.get("ABCDE").map(|m| m.machine.clone()),
            Some(machine_id())
        );
    }

    #[test]
    fn a_torn_append_loses_only_its_own_line() {
        let (_dir, path) = journal();
        Marks::read(&path).add_unsynced(&path, "ABCDE", 1).unwrap();
        // A power cut in the middle of the next append.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(mark_path(&path))
            .unwrap();
        file.write_all(b"ABCDE 2").unwrap();
        drop(file);
        assert_eq!(Marks::read(&path).get("ABCDE").map(|m| m.issued), Some(1));
        // The next number's line starts a line of its own.
        Marks::read(&path).add_unsynced(&path, "ABCDE", 2).unwrap();
        assert_eq!(Marks::read(&path).get("ABCDE").map(|m| m.issued), Some(2));
    }

    #[test]
    fn a_long_file_is_rewritten_whole() {
        let (_dir, path) = journal();
        for issued in 1..=REWRITE_AT as i64 + 1 {
            Marks::read(&path)
                .add_unsynced(&path, "ABCDE", issued)
                .unwrap();
        }
        let marks = Marks::read(&path);
        assert_eq!(marks.lines, 1);
        assert_eq!(
            marks.get("ABCDE").map(|m| m.issued),
            Some(REWRITE_AT as i64 + 1)
        );
    }
}
