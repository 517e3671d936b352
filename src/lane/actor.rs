//! The lane actor's task: one `select!` loop over commands, the link and the
//! resolution timer. Payment commands are handled one at a time, in order.
//!
//! The actor's state is here; its work is in a file per job: starting and the loop
//! (`run`), commands (`commands`), payments (`pay`), the cloud gateway (`cloud`), what
//! the link reports (`link_news`), booking outcomes (`record`) and resolving unknown
//! ones (`resolve`). `handle` is the way in.

mod cloud;
mod commands;
mod handle;
mod link_news;
mod pay;
mod record;
mod resolve;
mod run;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::command::{Event, QueryResult, Refusal, Settings};
use super::owner::LaneOwner;
use crate::cloud::CloudClient;
use crate::journal::{Journal, Via};
use crate::link::{Answer, Link};

pub use handle::LaneHandle;
pub use run::spawn;
pub(crate) use run::spawn_opening;

/// Why a request is out on the wire, by `request_id`.
enum Inflight {
    Pay {
        order_no: String,
    },
    Resolve {
        order_no: String,
    },
    Query {
        order_no: String,
        reply: oneshot::Sender<Result<QueryResult, Refusal>>,
    },
    /// A request whose answer goes back as it is (close, heartbeat).
    Answer {
        reply: oneshot::Sender<Result<Answer, Refusal>>,
    },
    Raw {
        reply: oneshot::Sender<Result<Option<Answer>, Refusal>>,
    },
}

impl Inflight {
    /// Tells whoever asked that their request did not go out.
    fn refuse(self, refusal: Refusal) {
        match self {
            Inflight::Query { reply, .. } => drop(reply.send(Err(refusal))),
            Inflight::Answer { reply } => drop(reply.send(Err(refusal))),
            Inflight::Raw { reply } => drop(reply.send(Err(refusal))),
            Inflight::Pay { .. } | Inflight::Resolve { .. } => {}
        }
    }
}

/// An unknown outcome being resolved by query.
struct Resolving {
    attempts: u32,
    next_at: Instant,
    asking: bool,
    /// The way the row went, and so the way its queries go.
    via: Via,
}

struct Actor {
    settings: Settings,
    journal: Journal,
    /// The lane is this process's while the actor runs.
    _owner: LaneOwner,
    link: Link,
    /// The cloud gateway's client: None when not configured, or why it cannot run.
    cloud: Result<Option<CloudClient>, String>,
    /// Cloud requests on their way; each ends in an `Answer` like the link's.
    cloud_calls: JoinSet<Answer>,
    /// The serial the terminal reported over the LAN (the cloud's default terminal).
    device_sn: Option<String>,
    /// The serial of the terminal on the line now: known once this connection's
    /// `ecrhub.init` is answered. Only the terminal that took a payment settles it.
    link_sn: Option<String>,
    /// This connection's terminal answered init (with its serial, if it has one).
    identified: bool,
    events: mpsc::UnboundedSender<Event>,
    inflight: HashMap<String, Inflight>,
    resolving: BTreeMap<String, Resolving>,
    shutdown_since: Option<Instant>,
}
