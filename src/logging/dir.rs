//! The log directory, bounded: one file a day (`till.2026-12-03.log`, more parts
//! `till.2026-12-03.1.log` when a day's file is full), files older than the retention
//! removed, and the whole directory kept under its size cap by removing the oldest
//! files first. A flood of frames from the network fills at most the cap, never the
//! journal's disk.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// The clock, injected so tests need not wait for midnight.
pub(crate) type Clock = Box<dyn Fn() -> DateTime<Utc> + Send>;

/// The directory's limits, from the config (`log_max_mb`, `log_keep_days`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Every log file together, at most.
    pub(crate) max_bytes: u64,
    /// Days a file is kept after its day.
    pub(crate) keep_days: u32,
}

/// Parts a day's file is split into at most before the oldest go: each part is a
/// quarter of the cap, so the newest part always fits once the older ones are gone.
const PARTS_IN_CAP: u64 = 4;

/// One log file: its day and part, as its name says.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct LogFile {
    day: NaiveDate,
    part: u32,
}

impl LogFile {
    fn name(&self) -> String {
        match self.part {
            0 => format!("till.{}.log", self.day),
            n => format!("till.{}.{n}.log", self.day),
        }
    }

    fn parse(name: &str) -> Option<LogFile> {
        let rest = name.strip_prefix("till.")?.strip_suffix(".log")?;
        let (day, part) = match rest.split_once('.') {
            Some((day, part)) => (day, part.parse().ok()?),
            None => (rest, 0),
        };
        Some(LogFile {
            day: NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?,
            part,
        })
    }
}

pub(crate) struct LogDir {
    dir: PathBuf,
    limits: Limits,
    now: Clock,
    /// The file written now, and its size.
    current: Option<(LogFile, File, u64)>,
    /// Every log file's bytes as last counted, and bytes written since: the directory
    /// is counted again now and then, as other processes write there too.
    total: u64,
    since_count: u64,
}

impl LogDir {
    /// The directory (created if need be), trimmed to its limits at once.
    pub(crate) fn open(dir: &Path, limits: Limits, now: Clock) -> std::io::Result<LogDir> {
        std::fs::create_dir_all(dir)?;
        let mut log = LogDir {
            dir: dir.to_path_buf(),
            limits,
            now,
            current: None,
            total: 0,
            since_count: 0,
        };
        log.trim(0)?;
        Ok(log)
    }

    fn part_bytes(&self) -> u64 {
        (self.limits.max_bytes / PARTS_IN_CAP).max(1)
    }

    /// The log files there are, oldest first, with their sizes.
    fn files(&self) -> std::io::Result<Vec<(LogFile, u64)>> {
        let mut files: Vec<(LogFile, u64)> = std::fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .filter_map(|e| {
                let file = LogFile::parse(e.file_name().to_str()?)?;
                Some((file, e.metadata().ok()?.len()))
            })
            .collect();
        files.sort();
        Ok(files)
    }

    /// Removes files past their retention, then the oldest until `incoming` more bytes
    /// fit under the cap. The file written now is never removed.
    fn trim(&mut self, incoming: u64) -> std::io::Result<()> {
        let today = (self.now)().date_naive();
        let oldest_kept = today - TimeDelta::days(i64::from(self.limits.keep_days));
        let current = self.current.as_ref().map(|(f, _, _)| f.clone());
        let mut files = self.files()?;
        let mut total: u64 = files.iter().map(|(_, size)| size).sum();
        files.retain(|(f, _)| Some(f) != current.as_ref());
        for (file, size) in files {
            if file.day >= oldest_kept && total + incoming <= self.limits.max_bytes {
                continue;
            }
            match std::fs::remove_file(self.dir.join(file.name())) {
                Ok(()) => total = total.saturating_sub(size),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        self.total = total;
        self.since_count = 0;
        Ok(())
    }

    /// The file `len` more bytes go to: today's, its next part when it is full.
    fn file_for(&mut self, len: u64) -> std::io::Result<&mut (LogFile, File, u64)> {
        let today = (self.now)().date_naive();
        let next = match &self.current {
            Some((f, _, size)) if f.day == today && size + len <= self.part_bytes() => None,
            Some((f, _, _)) if f.day == today => Some(LogFile {
                day: today,
                part: f.part + 1,
            }),
            // A new day, or the start: today's last part while it has room (every
            // command of the day adds to one file), else the one after it.
            _ => Some(
                match self
                    .files()?
                    .into_iter()
                    .filter(|(f, _)| f.day == today)
                    .max()
                {
                    Some((f, size)) if size + len <= self.part_bytes() => f,
                    Some((f, _)) => LogFile {
                        day: today,
                        part: f.part + 1,
                    },
                    None => LogFile {
                        day: today,
                        part: 0,
                    },
                },
            ),
        };
        if let Some(file) = next {
            let handle = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join(file.name()))?;
            let size = handle.metadata()?.len();
            self.current = Some((file, handle, size));
            self.trim(len)?;
        }
        self.current
            .as_mut()
            .ok_or_else(|| std::io::Error::other("no log file"))
    }
}

impl Write for LogDir {
    /// One whole event (a line); one too big for a part is cut to fit.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let fits = buf
            .len()
            .min(usize::try_from(self.part_bytes()).unwrap_or(usize::MAX));
        let len = fits as u64;
        let recount = self.since_count >= self.limits.max_bytes / 16;
        if recount || self.total + len > self.limits.max_bytes {
            self.trim(len)?;
        }
        let (_, file, size) = self.file_for(len)?;
        file.write_all(&buf[..fits])?;
        *size += len;
        self.total += len;
        self.since_count += len;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.current {
            Some((_, file, _)) => file.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn sizes(dir: &Path) -> Vec<(String, u64)> {
        let mut files: Vec<(String, u64)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().len(),
                )
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn the_directory_stays_under_its_cap_and_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_bytes: 10_000,
            keep_days: 30,
        };
        let now = at("2026-12-03T10:00:00Z");
        let mut log = LogDir::open(dir.path(), limits, Box::new(move || now)).unwrap();
        let line = [b'x'; 99].iter().chain(b"\n").copied().collect::<Vec<u8>>();
        for _ in 0..1000 {
            log.write_all(&line).unwrap();
            let total: u64 = sizes(dir.path()).iter().map(|(_, s)| s).sum();
            assert!(total <= limits.max_bytes, "{:?}", sizes(dir.path()));
        }
        let files = sizes(dir.path());
        assert!(files.len() <= 4, "{files:?}");
        // The newest part holds the last line written.
        let newest = files
            .iter()
            .map(|(n, _)| LogFile::parse(n).unwrap())
            .max()
            .unwrap();
        assert!(newest.part > 4, "{files:?}");
        // A line bigger than a part is cut to it.
        log.write_all(&vec![b'y'; 50_000]).unwrap();
        let total: u64 = sizes(dir.path()).iter().map(|(_, s)| s).sum();
        assert!(total <= limits.max_bytes);
    }

    #[test]
    fn files_past_their_retention_go_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for day in ["2026-10-01", "2026-11-02", "2026-11-20", "2026-12-01"] {
            std::fs::write(dir.path().join(format!("till.{day}.log")), "old\n").unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "not a log").unwrap();
        let clock = Arc::new(Mutex::new(at("2026-12-03T10:00:00Z")));
        let now = clock.clone();
        let limits = Limits {
            max_bytes: 1_000_000,
            keep_days: 30,
        };
        let mut log =
            LogDir::open(dir.path(), limits, Box::new(move || *now.lock().unwrap())).unwrap();
        let names = |d: &Path| sizes(d).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        assert_eq!(
            names(dir.path()),
            ["notes.txt", "till.2026-11-20.log", "till.2026-12-01.log"]
        );
        log.write_all(b"today\n").unwrap();
        // Another process the same day writes on in the same file.
        let again = LogDir::open(dir.path(), limits, Box::new(|| at("2026-12-03T11:00:00Z")));
        again.unwrap().write_all(b"today again\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("till.2026-12-03.log")).unwrap(),
            "today\ntoday again\n"
        );
        // The next day's line opens the next day's file; a week on, the oldest goes.
        *clock.lock().unwrap() = at("2026-12-21T00:00:01Z");
        log.write_all(b"later\n").unwrap();
        assert_eq!(
            names(dir.path()),
            [
                "notes.txt",
                "till.2026-12-01.log",
                "till.2026-12-03.log",
                "till.2026-12-21.log"
            ]
        );
    }
}
