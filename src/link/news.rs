//! What a link tells its owner (state, device, round trips, frames, answers) and why a
//! connection or a send failed.

use std::time::Duration;

use tokio_tungstenite::tungstenite;

use crate::discover::DiscoverError;
use crate::ecr::{Answer, DeviceInfo, Direction, Reply};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    Connecting {
        attempt: u32,
    },
    Connected,
    /// Down; the next attempt starts after `retry_in`.
    Down {
        reason: String,
        retry_in: Duration,
    },
    Closed,
}

/// What the link reports. Frames are masked before they get here.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkEvent {
    State(LinkState),
    Device(DeviceInfo),
    Heartbeat {
        rtt: Duration,
    },
    /// A terminal configured by serial was found here (at each connect).
    Located {
        serial: String,
        address: String,
    },
    Wire {
        dir: Direction,
        text: String,
    },
    /// The end of a request made with `request()` or `send_raw()`: its reply, or
    /// `Unknown` with the reason when none came (deadline, link lost).
    Answer(Box<Answer>),
    /// A reply that matches nothing pending: late, for another register, or a
    /// re-delivery after a reconnect. The owner decides whether it is news.
    Stray {
        reply: Box<Reply>,
        raw: String,
        why: String,
    },
    /// A frame that could not be decoded; logged and dropped.
    Malformed {
        text: String,
        error: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "serial {0} not seen on the network (mDNS on {1}): is the terminal on and on this subnet?"
    )]
    NotSeen(String, std::net::Ipv4Addr),
    #[error("looking for serial {0}: {1}")]
    Discover(String, DiscoverError),
    #[error("no answer from {0} within {1:?}")]
    Timeout(String, Duration),
    #[error("TCP connect to {0} failed: {1}")]
    Tcp(String, std::io::Error),
    #[error("WebSocket upgrade with {0} failed: {1}")]
    Upgrade(String, tungstenite::Error),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    #[error("the terminal is not connected")]
    NotConnected,
    /// The frame may or may not have reached the terminal.
    #[error("sending to the terminal failed: {0}")]
    Failed(String),
}
