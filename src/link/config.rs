//! How a link reaches its terminal and the deadlines it keeps.

use std::time::Duration;

use super::Target;
use crate::discover::DEFAULT_INTERFACE;
use crate::ecr::Operation;

#[derive(Clone, Debug)]
pub struct LinkConfig {
    pub target: Target,
    /// Where a `Target::Serial` is looked up by mDNS.
    pub mdns_interface: std::net::Ipv4Addr,
    pub(crate) app_id: String,
    /// TCP connect plus WebSocket upgrade; the client library has no deadline of its own.
    pub connect_timeout: Duration,
    pub heartbeat_every: Duration,
    /// With nothing at all received for this long, the link is declared dead.
    pub dead_after: Duration,
    /// Deadline for a card flow (sale, refund, void, pre-auth family).
    pub card_flow_timeout: Duration,
    /// Deadline for everything else.
    pub request_timeout: Duration,
    /// Frames larger than this end the connection (treated like a lost link).
    pub max_frame_bytes: usize,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// A write that does not complete in this time means the peer is gone.
    pub(crate) write_timeout: Duration,
}

impl LinkConfig {
    pub fn new(target: impl Into<Target>, app_id: impl Into<String>) -> Self {
        LinkConfig {
            target: target.into(),
            mdns_interface: DEFAULT_INTERFACE,
            app_id: app_id.into(),
            connect_timeout: Duration::from_secs(10),
            heartbeat_every: Duration::from_secs(5),
            dead_after: Duration::from_secs(16),
            card_flow_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(15),
            max_frame_bytes: 1 << 20,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(15),
            write_timeout: Duration::from_secs(5),
        }
    }

    /// The deadline a request gets unless the caller names one.
    pub(crate) fn deadline_for(&self, op: &Operation) -> Duration {
        if op.is_card_flow() {
            self.card_flow_timeout
        } else {
            self.request_timeout
        }
    }
}
