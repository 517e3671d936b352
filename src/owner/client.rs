//! The other side: a till finds the lane's owner, or takes the lane itself.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::shared::LaneState;
use super::socket_path;
use super::wire::{Ask, Line};
use crate::config::Config;
use crate::exit;
use crate::exit::{Failure, lane_failure};
use crate::lane::{LaneOwner, OwnerError};

/// Who will do the work: the lane's owner, at the end of this socket, or this process,
/// which now holds the lane.
pub(crate) enum Reached {
    Owner { stream: UnixStream, holder: String },
    Lane(LaneOwner),
}

/// The lane's owner when one answers on the lane's socket, else the lane itself. A
/// lane held by a till that does not answer (starting, or stopping) is waited for up to
/// `wait`, saying so once; `what` names this till to others while it holds the lane.
pub(crate) async fn reach(config: &Config, what: &str, wait: Duration) -> Result<Reached, Failure> {
    let (dir, lane) = (&config.data_dir.value, &config.lane.value);
    let path = socket_path(dir, lane);
    let until = Instant::now() + wait;
    let mut told = false;
    loop {
        // A stale socket (its owner was killed) refuses: the lane is free or being taken.
        if let Ok(stream) = UnixStream::connect(&path).await {
            let holder = LaneOwner::holder(dir, lane).unwrap_or_else(|| "another till".into());
            return Ok(Reached::Owner { stream, holder });
        }
        match LaneOwner::try_acquire(dir, lane, what) {
            Ok(owner) => return Ok(Reached::Lane(owner)),
            Err(OwnerError::Busy { holder, .. }) if Instant::now() < until => {
                if !told {
                    exit::to_stderr(format_args!(
                        "till: lane {} is in use by {holder}; waiting up to {}s for it\n",
                        lane.to_ascii_uppercase(),
                        wait.as_secs()
                    ));
                    told = true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(lane_failure(e)),
        }
    }
}

/// What the owner of `lane` says it is doing now, when one answers within a moment.
pub(crate) async fn live_state(config: &Config, lane: &str) -> Option<LaneState> {
    let path = socket_path(&config.data_dir.value, lane);
    let ask = Ask {
        args: vec!["till".into(), "status".into()],
        pin: None,
        who: format!("till status (pid {})", std::process::id()),
        user: None,
    };
    let asked = async {
        let stream = UnixStream::connect(&path).await.ok()?;
        let (read, mut write) = stream.into_split();
        let text = serde_json::to_string(&ask).ok()? + "\n";
        write.write_all(text.as_bytes()).await.ok()?;
        let mut lines = BufReader::new(read).lines();
        while let Some(line) = lines.next_line().await.ok()? {
            let line: Line = serde_json::from_str(&line).ok()?;
            if let Line::Accepted { .. } = line {
                write.write_all(Line::Go.text().as_bytes()).await.ok()?;
            }
            if let Some(result) = line.result() {
                return serde_json::from_value(result.ok()?.json).ok();
            }
        }
        None
    };
    tokio::time::timeout(Duration::from_secs(2), asked)
        .await
        .ok()
        .flatten()
}
