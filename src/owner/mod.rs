//! The lane's owner as a small local service. The process that holds a lane (the
//! cashier screen, `till serve`, or a command while it runs) listens on a Unix domain
//! socket beside the lane's lock, `lanes/<LANE>.sock` in the data dir (mode 0600; a
//! peer of another uid is refused). Every other `till` on that lane hands its request
//! to the owner instead of waiting for the lock, so one process keeps the journal, the
//! rules and the lane's single queue, and nothing moves money outside them.
//!
//! The protocol is JSON lines (`wire`): the client sends one `Ask` (its command line);
//! the owner answers `Accepted`, then progress lines, then one `Final` the client turns
//! into the stdout, JSON and exit code the command gives when it runs on its own.

mod client;
mod server;
mod shared;
mod wire;

use std::path::{Path, PathBuf};

pub(crate) use client::{Reached, live_state, reach};
pub(crate) use server::Handler;
pub use server::{Served, Server, listen};
pub(crate) use shared::LaneState;
pub use shared::Shared;
pub use wire::{Ask, Line};

/// Where the owner of `lane` listens.
pub(crate) fn socket_path(dir: &Path, lane: &str) -> PathBuf {
    dir.join("lanes")
        .join(format!("{}.sock", lane.trim().to_ascii_uppercase()))
}
