//! Wrong supervisor PINs, counted beside the config file that holds the PIN's hash
//! (`config.toml.pin-tries`, a small SQLite file), so every process that takes that
//! PIN shares one count whatever data dir it is given. A PIN is checked inside the
//! count's write transaction: of any number of PINs tried at once, each is checked
//! only after the one before has been counted, and once `TRIES` wrong ones in a row
//! have locked PIN entry, no PIN, not even the right one, is checked for `LOCK_SECS`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::{PinHash, verify};

/// Wrong PINs in a row that lock PIN entry.
pub(crate) const TRIES: i64 = 5;

/// How long a lock lasts.
pub(crate) const LOCK_SECS: i64 = 300;

/// How long a check waits for the others before it: each costs one Argon2 hash.
const WAIT: Duration = Duration::from_secs(120);

/// The count of wrong PINs for one config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tries {
    path: PathBuf,
}

/// What a PIN tried came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Checked {
    /// The right PIN: the count of wrong ones starts again.
    Right,
    /// A wrong PIN, counted: the lock it set, if it was the `TRIES`th, and how many
    /// more wrong ones PIN entry takes before it locks.
    Wrong {
        lock: Option<DateTime<Utc>>,
        left: i64,
    },
    /// Not checked: PIN entry is locked until then.
    Locked(DateTime<Utc>),
}

#[derive(Debug, thiserror::Error)]
#[error("cannot count supervisor PINs in {path}: {detail}")]
pub(crate) struct TriesError {
    pub(crate) path: PathBuf,
    pub(crate) detail: String,
}

impl Tries {
    /// The count kept beside `config_file`.
    pub(crate) fn beside(config_file: &Path) -> Tries {
        let mut name = config_file
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "config.toml".into());
        name.push(".pin-tries");
        Tries {
            path: config_file.with_file_name(name),
        }
    }

    fn error(&self, e: impl std::fmt::Display) -> TriesError {
        TriesError {
            path: self.path.clone(),
            detail: e.to_string(),
        }
    }

    /// Until when PIN entry is locked, if it still is at `now` (to say so before a
    /// PIN is asked for; `check` decides).
    pub(crate) fn locked(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, TriesError> {
        if !self.path.exists() {
            return Ok(None);
        }
        // Read-write, though it only reads: a check killed mid-write left a journal
        // only a writer can roll back.
        let conn = Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(|e| self.error(e))?;
        conn.busy_timeout(WAIT).map_err(|e| self.error(e))?;
        let state = read(&conn).map_err(|e| self.error(e))?;
        Ok(state.and_then(|(_, until)| until).filter(|u| *u > now))
    }

    /// Checks `pin` against `hash` at `now` and counts it, in one write transaction:
    /// while another process checks a PIN, this one waits. A lock in force refuses
    /// the PIN unchecked.
    pub(crate) fn check(
        &self,
        hash: &PinHash,
        pin: &str,
        now: DateTime<Utc>,
    ) -> Result<Checked, TriesError> {
        let mut conn = Connection::open(&self.path).map_err(|e| self.error(e))?;
        conn.busy_timeout(WAIT).map_err(|e| self.error(e))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| self.error(e))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.error(e))?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS tries (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 failures INTEGER NOT NULL,
                 locked_until TEXT
             )",
        )
        .map_err(|e| self.error(e))?;
        let (failures, until) = read(&tx).map_err(|e| self.error(e))?.unwrap_or((0, None));
        if let Some(until) = until.filter(|u| *u > now) {
            return Ok(Checked::Locked(until));
        }
        let (checked, failures, until) = if verify(hash, pin) {
            (Checked::Right, 0, None)
        } else if failures + 1 >= TRIES {
            let until = now + TimeDelta::seconds(LOCK_SECS);
            let wrong = Checked::Wrong {
                lock: Some(until),
                left: 0,
            };
            (wrong, 0, Some(until))
        } else {
            let wrong = Checked::Wrong {
                lock: None,
                left: TRIES - failures - 1,
            };
            (wrong, failures + 1, None)
        };
        tx.execute(
            "INSERT INTO tries (id, failures, locked_until) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET failures = excluded.failures,
                                            locked_until = excluded.locked_until",
            params![failures, until.map(|u| u.to_rfc3339())],
        )
        .map_err(|e| self.error(e))?;
        tx.commit().map_err(|e| self.error(e))?;
        Ok(checked)
    }
}

/// The wrong PINs in a row and the lock, when anything was ever counted.
fn read(conn: &Connection) -> rusqlite::Result<Option<(i64, Option<DateTime<Utc>>)>> {
    let table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tries')",
        [],
        |r| r.get(0),
    )?;
    if !table {
        return Ok(None);
    }
    let row: Option<(i64, Option<String>)> = conn
        .query_row(
            "SELECT failures, locked_until FROM tries WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.map(|(failures, until)| {
        let until = until
            .and_then(|u| DateTime::parse_from_rfc3339(&u).ok())
            .map(|u| u.with_timezone(&Utc));
        (failures, until)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervisor_pin::hash_pin;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_fifth_wrong_pin_in_a_row_locks_for_five_minutes() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        let tries = Tries::beside(&config);
        assert_eq!(tries.path, dir.path().join("config.toml.pin-tries"));
        let hash = hash_pin("2468").unwrap();
        let t0 = at("2026-12-03T10:00:00Z");
        assert_eq!(tries.locked(t0).unwrap(), None);
        // A right PIN in between starts the count again.
        for i in 1..TRIES {
            assert_eq!(
                tries.check(&hash, "1111", t0).unwrap(),
                Checked::Wrong {
                    lock: None,
                    left: TRIES - i
                }
            );
        }
        assert_eq!(tries.check(&hash, "2468", t0).unwrap(), Checked::Right);
        for i in 1..TRIES {
            assert_eq!(
                tries.check(&hash, "1111", t0).unwrap(),
                Checked::Wrong {
                    lock: None,
                    left: TRIES - i
                }
            );
        }
        let until = at("2026-12-03T10:05:00Z");
        assert_eq!(
            tries.check(&hash, "1111", t0).unwrap(),
            Checked::Wrong {
                lock: Some(until),
                left: 0
            }
        );
        // The same file, read again, is locked; not even the right PIN is checked.
        let other = Tries::beside(&config);
        assert_eq!(other.locked(t0).unwrap(), Some(until));
        let before = at("2026-12-03T10:04:59Z");
        assert_eq!(
            other.check(&hash, "2468", before).unwrap(),
            Checked::Locked(until)
        );
        assert_eq!(other.locked(until).unwrap(), None);
        // Then five more wrong ones lock it again.
        for i in 1..TRIES {
            assert_eq!(
                other.check(&hash, "1111", until).unwrap(),
                Checked::Wrong {
                    lock: None,
                    left: TRIES - i
                }
            );
        }
        assert!(matches!(
            other.check(&hash, "1111", until).unwrap(),
            Checked::Wrong { lock: Some(_), .. }
        ));
    }

    #[test]
    fn a_count_that_cannot_be_kept_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let tries = Tries::beside(&dir.path().join("gone/config.toml"));
        let hash = hash_pin("2468").unwrap();
        let e = tries.check(&hash, "2468", Utc::now()).unwrap_err();
        assert!(e.to_string().contains("config.toml.pin-tries"), "{e}");
    }
}
