//! Was the journal's last user shut down cleanly? Each process that opens the journal
//! leaves a marker file in `till.db.open/` and holds an exclusive OS lock on it; a
//! clean drop deletes it. The operating system releases the lock however the process
//! ends, so a marker that is still there but can be locked belongs to a process that
//! died with the journal open (SIGKILL, power loss): only then is the integrity check
//! worth its cost. Pids are not trusted (they are reused) and there is no shared
//! counter (a killed process never decrements it); two live processes never see each
//! other's marker as stale, because a live marker is locked.
//!
//! A marker is created under a temporary name and renamed only once it is locked, so
//! another process never finds an unlocked marker of a process still opening.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// The directory of markers beside the journal file.
fn dir_of(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".open");
    PathBuf::from(name)
}

const SUFFIX: &str = ".lock";

/// Markers of processes that ended with the journal open. Read-only: nothing is
/// removed until a check has passed (`clear`).
pub(super) fn stale(journal: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir_of(journal)) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(SUFFIX))
        .filter(|p| {
            // Locked by a live process (WouldBlock) or gone meanwhile: not stale.
            File::open(p).is_ok_and(|f| f.try_lock().is_ok())
        })
        .collect()
}

/// Removes markers of dead processes once the journal was found sound.
pub(super) fn clear(markers: &[PathBuf]) {
    for m in markers {
        let _ = std::fs::remove_file(m);
    }
}

/// This process's marker: locked while it lives, deleted on a clean drop.
#[derive(Debug)]
pub(super) struct Marker {
    path: PathBuf,
    // Held open for the lock it carries.
    _file: File,
}

impl Marker {
    pub(super) fn register(journal: &Path) -> std::io::Result<Marker> {
        let dir = dir_of(journal);
        std::fs::create_dir_all(&dir)?;
        let name = format!("{}-{:08x}", std::process::id(), fastrand::u32(..));
        let temp = dir.join(format!("{name}.new"));
        let path = dir.join(format!("{name}{SUFFIX}"));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.lock()?;
        std::fs::rename(&temp, &path)?;
        Ok(Marker { path, _file: file })
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
