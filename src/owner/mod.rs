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
use std::time::Duration;

use crate::config::Config;
use crate::exit::{Failure, lane_failure, to_stderr};
use crate::lane::LaneOwner;

pub(crate) use client::{Reached, live_state, reach};
pub(crate) use server::Handler;
pub use server::{Served, Server, listen};
pub use shared::Shared;
pub(crate) use shared::{LaneState, Turn};
pub use wire::{Ask, Line};

/// Where the owner of `lane` listens.
pub(crate) fn socket_path(dir: &Path, lane: &str) -> PathBuf {
    dir.join("lanes")
        .join(format!("{}.sock", lane.trim().to_ascii_uppercase()))
}

/// Takes the lane for this process. Another till that holds it (the screen, or a
/// command started a moment before) is waited for up to `wait`, and the person is told
/// why nothing happens yet; after that the command gives up without doing anything.
pub(crate) async fn take_lane(
    config: &Config,
    what: &str,
    wait: Duration,
) -> Result<LaneOwner, Failure> {
    let lane = &config.lane.value;
    LaneOwner::acquire(&config.data_dir.value, lane, what, wait, |holder| {
        to_stderr(format_args!(
            "till: lane {lane} is in use by {holder}; waiting up to {}s for it to finish\n",
            wait.as_secs()
        ))
    })
    .await
    .map_err(lane_failure)
}
