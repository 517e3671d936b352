//! One owner per lane across processes: an exclusive lock on a file in the data dir,
//! held for as long as a lane actor runs. Only the owner opens a socket to the lane's
//! terminal and settles the lane's unresolved rows. The operating system releases the
//! lock when the process ends, however it ends, so a killed till never blocks a lane.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    #[error("lane {lane} is in use by {holder}")]
    Busy { lane: String, holder: String },
    #[error("cannot take lane {lane} ({path}): {detail}")]
    Io {
        lane: String,
        path: PathBuf,
        detail: String,
    },
}

/// Proof that this process owns a lane; the lane is free again when it is dropped.
#[derive(Debug)]
pub struct LaneOwner {
    // Held open for the lock it carries.
    _file: File,
}

impl LaneOwner {
    /// Takes the lane now, or says who has it. `what` tells a waiting process who
    /// holds the lane ("till sale", "the cashier screen").
    pub fn try_acquire(dir: &Path, lane: &str, what: &str) -> Result<LaneOwner, OwnerError> {
        let lane = lane.trim().to_ascii_uppercase();
        let path = dir.join("lanes").join(format!("{lane}.lock"));
        let io = |e: std::io::Error| OwnerError::Io {
            lane: lane.clone(),
            path: path.clone(),
            detail: e.to_string(),
        };
        std::fs::create_dir_all(dir.join("lanes")).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file);
                let holder = holder.trim();
                return Err(OwnerError::Busy {
                    lane,
                    holder: if holder.is_empty() {
                        "another till process".into()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        // Who holds it, for the message a waiting process shows; best effort, in one
        // write so a reader never sees half of it.
        let since = chrono::Local::now().format("%H:%M:%S");
        let holder = format!("{what} (pid {}, since {since})\n", std::process::id());
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(holder.as_bytes()));
        Ok(LaneOwner { _file: file })
    }

    /// Takes the lane, waiting up to `wait` for its owner to finish. `waiting` is told
    /// once who holds it, so the person can be told why nothing happens yet.
    pub(crate) async fn acquire(
        dir: &Path,
        lane: &str,
        what: &str,
        wait: Duration,
        mut waiting: impl FnMut(&str),
    ) -> Result<LaneOwner, OwnerError> {
        let until = Instant::now() + wait;
        let mut told = false;
        loop {
            match LaneOwner::try_acquire(dir, lane, what) {
                Err(OwnerError::Busy { holder, .. }) if Instant::now() < until => {
                    if !told {
                        waiting(&holder);
                        told = true;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
    }

    /// Who holds `lane` now, or None when it is free, without taking it (a shared lock
    /// tried and let go at once; a till taking the lane in that instant waits for it).
    pub(crate) fn holder(dir: &Path, lane: &str) -> Option<String> {
        let path = dir
            .join("lanes")
            .join(format!("{}.lock", lane.trim().to_ascii_uppercase()));
        let mut file = File::open(path).ok()?;
        match file.try_lock_shared() {
            Ok(()) => None,
            Err(_) => {
                let holder = read_holder(&mut file);
                let holder = holder.trim();
                Some(if holder.is_empty() {
                    "another till process".into()
                } else {
                    holder.to_string()
                })
            }
        }
    }

    /// The lanes that have had an owner in `dir`.
    pub(crate) fn known(dir: &Path) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(dir.join("lanes")) else {
            return Vec::new();
        };
        let mut lanes: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_suffix(".lock").map(str::to_string)
            })
            .collect();
        lanes.sort();
        lanes
    }
}

/// What the owner wrote about itself. It writes just after taking the lock, so a
/// moment's patience spares the person a vague "another till process".
fn read_holder(file: &mut File) -> String {
    let mut holder = String::new();
    for _ in 0..10 {
        holder.clear();
        let _ = file
            .rewind()
            .and_then(|()| file.read_to_string(&mut holder));
        if !holder.trim().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    holder
}
