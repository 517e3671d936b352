//! Wrong supervisor PINs, counted in the journal so that every process on the lane
//! (the screen and every command) shares the count and a restart forgets nothing:
//! every `TRIES`th wrong PIN in a row locks PIN entry for `LOCK_SECS`, and no PIN,
//! right or wrong, is tried until then. Guessing a four-digit PIN by script takes
//! days, not minutes.

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::{Journal, JournalError};

/// Wrong PINs in a row that lock PIN entry.
pub const TRIES: i64 = 5;

/// How long a lock lasts.
pub const LOCK_SECS: i64 = 300;

impl Journal {
    /// Until when PIN entry is locked, if it still is at `now`.
    pub fn pin_locked(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, JournalError> {
        locked_at(&self.conn, now)
    }

    /// How many wrong PINs in a row are left before PIN entry locks.
    pub fn pin_tries_left(&self) -> Result<i64, JournalError> {
        let failures: i64 = self
            .conn
            .query_row(
                "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'pin_failures'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        Ok((TRIES - failures).max(0))
    }

    /// Books a PIN tried at `now`: a right one clears the count of wrong ones, a wrong
    /// one adds to it and every `TRIES`th locks PIN entry. Returns the lock in force,
    /// whichever process set it.
    pub fn pin_tried(
        &self,
        right: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, JournalError> {
        // Immediate: two processes counting at once must not both read the old count.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let set = |key: &str, value: String| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
        };
        let lock = if right {
            set("pin_failures", "0".into())?;
            locked_at(&tx, now)?
        } else {
            let failures: i64 = tx
                .query_row(
                    "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'pin_failures'",
                    [],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(0)
                + 1;
            if failures >= TRIES {
                let until = now + TimeDelta::seconds(LOCK_SECS);
                set("pin_locked_until", until.to_rfc3339())?;
                set("pin_failures", "0".into())?;
                Some(until)
            } else {
                set("pin_failures", failures.to_string())?;
                locked_at(&tx, now)?
            }
        };
        tx.commit()?;
        Ok(lock)
    }
}

fn locked_at(conn: &Connection, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, JournalError> {
    let until: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'pin_locked_until'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(until
        .and_then(|u| DateTime::parse_from_rfc3339(&u).ok())
        .map(|u| u.with_timezone(&Utc))
        .filter(|u| *u > now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_fifth_wrong_pin_in_a_row_locks_for_five_minutes() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let t0 = at("2026-12-03T10:00:00Z");
        assert_eq!(j.pin_locked(t0).unwrap(), None);
        assert_eq!(j.pin_tries_left().unwrap(), TRIES);
        // A right PIN in between starts the count again.
        for _ in 0..TRIES - 1 {
            assert_eq!(j.pin_tried(false, t0).unwrap(), None);
        }
        assert_eq!(j.pin_tries_left().unwrap(), 1);
        assert_eq!(j.pin_tried(true, t0).unwrap(), None);
        for _ in 0..TRIES - 1 {
            assert_eq!(j.pin_tried(false, t0).unwrap(), None);
        }
        let until = at("2026-12-03T10:05:00Z");
        assert_eq!(j.pin_tried(false, t0).unwrap(), Some(until));
        // Another process sees it; it ends when it says.
        let other = Journal::open(dir.path()).unwrap();
        assert_eq!(other.pin_locked(t0).unwrap(), Some(until));
        assert_eq!(
            other.pin_locked(at("2026-12-03T10:04:59Z")).unwrap(),
            Some(until)
        );
        assert_eq!(other.pin_locked(until).unwrap(), None);
        // Then five more wrong ones lock it again.
        for _ in 0..TRIES - 1 {
            assert_eq!(other.pin_tried(false, until).unwrap(), None);
        }
        assert!(other.pin_tried(false, until).unwrap().is_some());
    }
}
