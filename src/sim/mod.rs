//! The simulated CodePay terminal: a real WebSocket server speaking ECR Hub, used by
//! `till sim`, `till --demo`, the tests and the benchmarks. It keeps its own batch so
//! queries, voids, refunds, tips and batch close answer from what really happened, can
//! write the money that really moved to a ledger file, and has fault switches.

pub mod cloud;
mod command;
mod ledger;
mod server;
pub mod terminal;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

pub use command::{SimArgs, run};
pub use ledger::{net_by_order, read_ledger};
pub use server::{Sim, SimHandle};
pub use terminal::LedgerEntry;

/// Fault switches; each can be changed while the simulator runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Decline amounts whose minor units end in these two digits (e.g. 51).
    pub decline_cents: Option<u32>,
    /// Cut the TCP connection right after a pay.order (or a tip adjustment) arrives;
    /// the payment still completes and its money moves.
    pub drop_after_order: bool,
    /// Hold every pay.order answer this much longer.
    pub hold: Option<Duration>,
    /// Replies omit `request_id`.
    pub no_request_id: bool,
    /// Before each pay.order answer: a malformed frame and a reply for another request.
    pub noise_before_reply: bool,
    /// `biz_data` as a JSON string holding the object.
    pub biz_data_as_string: bool,
    /// Success as "000" instead of "0".
    pub success_000: bool,
    /// Answers that could not be delivered go out on the next connection.
    pub redeliver: bool,
    /// Text added to every answer's `response_msg`, e.g. a card number spelled with
    /// spaces, which a terminal should never send and till must mask.
    pub reply_note: Option<String>,
    /// Close the connection with this reason (a close frame, at most 123 bytes) right
    /// after a pay.order arrives; the payment still completes and its money moves.
    pub close_after_order: Option<String>,
    /// On a sale sent with `on_screen_tip`, the customer picks this tip (minor units)
    /// on the terminal's screen: it moves, and answers name it in `tip_amount`.
    pub on_screen_tip_minor: Option<i64>,
    /// Approvals and query answers carry this text as `order_amount` instead of the
    /// amount (e.g. "5,00"); the money still moves as asked.
    pub amount_text: Option<String>,
    /// Query answers leave out `tip_amount`.
    pub query_omits_tip: bool,
}

#[derive(Clone, Debug)]
pub struct SimConfig {
    pub bind: SocketAddr,
    /// How long a card flow takes.
    pub card_delay: Duration,
    pub faults: Faults,
    /// Where to append the money that really moved (JSON lines).
    pub ledger: Option<PathBuf>,
    /// WebSocket ping interval, like the real server (60 s); a client that does not
    /// pong within 1.5 times that is dropped.
    pub ping_every: Option<Duration>,
    pub exponent: u8,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            card_delay: Duration::ZERO,
            faults: Faults::default(),
            ledger: None,
            ping_every: Some(Duration::from_secs(60)),
            exponent: 2,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct SimStats {
    pub connections_open: usize,
    pub connections_total: usize,
    pub max_concurrent: usize,
    pub frames_received: usize,
    /// pay.order frames per merchant_order_no.
    pub orders_received: HashMap<String, u32>,
    /// The `biz_data` of the latest pay.order frame, as it came.
    pub last_order: Option<Value>,
    pub(crate) pings_sent: usize,
    pub pongs_received: usize,
    /// The path of the newest WebSocket upgrade (a terminal may tell registers apart
    /// by it).
    pub last_path: Option<String>,
}
