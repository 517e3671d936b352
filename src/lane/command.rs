//! What goes into the lane actor and what comes out of it.

use std::time::Duration;

use tokio::sync::oneshot;

use super::options::SaleOptions;
use crate::cloud::CloudSettings;
use crate::ecr::{Answer, DeviceInfo, Direction, Operation, Order, PayScenario, Reply, TransType};
use crate::journal::{BatchReport, TxnKind, TxnRow, TxnState, Via};
use crate::link::{LinkConfig, Target};
use crate::money::Money;

#[derive(Clone, Debug)]
pub struct Settings {
    pub link: LinkConfig,
    /// Part of every order number, so lanes sharing a store never collide.
    pub lane_id: String,
    pub(crate) currency: String,
    pub(crate) exponent: u8,
    /// A sale of the same amount this soon after an approved one asks for confirmation.
    pub(crate) duplicate_window: Duration,
    /// Backoff between queries that try to resolve an unknown outcome.
    pub query_retry_min: Duration,
    pub query_retry_max: Duration,
    /// How long a shutdown waits for unknown outcomes to resolve before leaving them
    /// to the next start (a payment in flight is always waited for).
    pub shutdown_grace: Duration,
    /// Crash-safety tests stop the process at a named point (see `PausePoint`).
    pub(crate) pause_at: Option<PausePoint>,
    /// The lane's terminal options (config), for what a sale, refund or void leaves
    /// unset.
    pub(crate) sale_defaults: SaleOptions,
    /// The vendor's cloud gateway, when `[cloud]` is configured.
    pub cloud: Option<CloudSettings>,
}

impl Settings {
    pub fn new(link: LinkConfig, lane_id: impl Into<String>) -> Self {
        Settings {
            link,
            lane_id: lane_id.into(),
            currency: "USD".into(),
            exponent: 2,
            duplicate_window: Duration::from_secs(120),
            query_retry_min: Duration::from_millis(500),
            // While the link is up an answer on the terminal reaches the screen within
            // a couple of seconds.
            query_retry_max: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(60),
            pause_at: None,
            sale_defaults: SaleOptions::default(),
            cloud: None,
        }
    }
}

/// Points in a payment where crash-safety tests freeze the process (to SIGKILL it):
/// set with `TILL_PAUSE_AT`. The lane prints `till: paused at <point>` and stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // named as `TILL_PAUSE_AT` spells them: after-journal, ...
pub(crate) enum PausePoint {
    /// The row is committed; the frame is not sent.
    AfterJournal,
    /// The frame is sent; no reply yet.
    AfterSend,
    /// The reply arrived; the journal does not know it yet.
    AfterReply,
}

impl PausePoint {
    pub(crate) fn parse(text: &str) -> Option<PausePoint> {
        match text {
            "after-journal" => Some(PausePoint::AfterJournal),
            "after-send" => Some(PausePoint::AfterSend),
            "after-reply" => Some(PausePoint::AfterReply),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            PausePoint::AfterJournal => "after-journal",
            PausePoint::AfterSend => "after-send",
            PausePoint::AfterReply => "after-reply",
        }
    }
}

/// Which way a money-moving request goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Route {
    /// To the lane's terminal over the LAN.
    #[default]
    Lan,
    /// Through the cloud gateway, to the lane's terminal (or, for a refund, void or tip
    /// of an order paid elsewhere, to the gateway that knows it).
    Cloud,
    /// Through the cloud gateway to every terminal of the merchant: a batch close only.
    CloudAllTerminals,
}

impl Route {
    pub fn via(self) -> Via {
        match self {
            Route::Lan => Via::Lan,
            Route::Cloud | Route::CloudAllTerminals => Via::Cloud,
        }
    }
}

/// A request that can move money. The lane picks the order number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayRequest {
    Sale {
        amount: Money,
        tip: Option<Money>,
        cashback: Option<Money>,
        scenario: PayScenario,
        /// Skip the duplicate-sale question.
        force: bool,
        options: SaleOptions,
    },
    /// Referenced with `orig`, unreferenced (card present) without.
    Refund {
        amount: Money,
        orig: Option<String>,
        /// Only `confirm_on_terminal` and `receipts` are sent for a refund.
        options: SaleOptions,
    },
    Void {
        orig: String,
        /// Only `confirm_on_terminal` and `receipts` are sent for a void.
        options: SaleOptions,
    },
    PreAuth {
        amount: Money,
    },
    /// Pre-auth cancel, completion, completion cancel, completion refund.
    FollowUp {
        trans_type: TransType,
        orig: String,
        amount: Option<Money>,
    },
    TipAdjust {
        orig: String,
        tip: Money,
    },
    BatchClose,
}

impl PayRequest {
    pub(crate) fn kind(&self) -> TxnKind {
        match self {
            PayRequest::Sale { cashback, .. } if cashback.is_some_and(|c| !c.is_zero()) => {
                TxnKind::Trans(TransType::CashbackSale)
            }
            PayRequest::Sale { .. } => TxnKind::Trans(TransType::Sale),
            PayRequest::Refund { .. } => TxnKind::Trans(TransType::Refund),
            PayRequest::Void { .. } => TxnKind::Trans(TransType::Void),
            PayRequest::PreAuth { .. } => TxnKind::Trans(TransType::PreAuth),
            PayRequest::FollowUp { trans_type, .. } => TxnKind::Trans(*trans_type),
            PayRequest::TipAdjust { .. } => TxnKind::TipAdjust,
            PayRequest::BatchClose => TxnKind::BatchClose,
        }
    }

    pub(crate) fn orig(&self) -> Option<&str> {
        match self {
            PayRequest::Refund { orig, .. } => orig.as_deref(),
            PayRequest::Void { orig, .. }
            | PayRequest::FollowUp { orig, .. }
            | PayRequest::TipAdjust { orig, .. } => Some(orig),
            _ => None,
        }
    }

    /// The request with the lane's `defaults` under its own terminal options (a request
    /// without options is returned as it is).
    pub fn with_defaults(mut self, defaults: &SaleOptions) -> PayRequest {
        if let PayRequest::Sale { options, .. }
        | PayRequest::Refund { options, .. }
        | PayRequest::Void { options, .. } = &mut self
        {
            *options = std::mem::take(options).or(defaults);
        }
        self
    }

    /// The operation on the wire, under the order number the lane chose.
    pub fn operation(&self, order_no: &str, currency: &str) -> Operation {
        match self {
            PayRequest::Sale {
                amount,
                tip,
                cashback,
                scenario,
                options,
                ..
            } => Operation::Order(
                Order::sale(order_no, *amount, *scenario)
                    .with_tip(*tip)
                    .with_cashback(*cashback)
                    .with_currency(Some(currency.to_string()))
                    .with_options(options.wire()),
            ),
            PayRequest::Refund {
                amount,
                orig,
                options,
            } => Operation::Order(
                Order::refund(order_no, *amount, orig.clone()).with_options(options.wire()),
            ),
            PayRequest::Void { orig, options } => {
                Operation::Order(Order::void(order_no, orig).with_options(options.wire()))
            }
            PayRequest::PreAuth { amount } => Operation::Order(Order::pre_auth(order_no, *amount)),
            PayRequest::FollowUp {
                trans_type,
                orig,
                amount,
            } => Operation::Order(Order::follow_up(*trans_type, order_no, orig, *amount)),
            PayRequest::TipAdjust { orig, tip } => Operation::TipAdjust {
                orig_order_no: orig.clone(),
                tip: *tip,
            },
            PayRequest::BatchClose => Operation::BatchClose,
        }
    }
}

/// Why the lane would not take a request. Nothing was journaled or sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{count} earlier transaction(s) still unresolved ({orders}); wait for recovery or resolve them by hand"
    )]
    Unresolved { count: usize, orders: String },
    #[error(
        "a sale of {amount} was approved {ago_secs}s ago ({order_no}); confirm to charge again"
    )]
    PossibleDuplicate {
        amount: String,
        order_no: String,
        ago_secs: u64,
    },
    #[error("the terminal is not connected")]
    NotConnected,
    #[error("another transaction is in progress on the terminal ({0})")]
    Busy(String),
    #[error("{0}")]
    Invalid(String),
    #[error("journal: {0}")]
    Journal(String),
    #[error("till is shutting down")]
    ShuttingDown,
    #[error(
        "finish or resolve the open payment first ({0}): it is settled by asking the terminal that took it"
    )]
    OpenPayment(String),
    /// Between the handle and the actor only: a cloud follow-up names an original the
    /// journal does not hold, so the gateway is asked about it first.
    #[error("order {0} is not in the journal: the gateway must be asked about it first")]
    AskGateway(String),
}

/// Answer to a query asked by a person: the terminal's words beside the journal's row.
#[derive(Clone, Debug)]
pub struct QueryResult {
    pub answer: Option<Answer>,
    pub row: Option<TxnRow>,
}

pub(crate) enum Command {
    /// Start a money-moving request. The reply is its order number once journaled
    /// and sent (the end comes as `Event::Done`), or why it was refused.
    Pay {
        req: PayRequest,
        route: Route,
        /// A supervisor gave the PIN for it (recorded in the audit trail).
        supervisor: bool,
        /// The gateway's answer to a query of the original, when the journal does not
        /// hold it (see `Refusal::AskGateway`).
        original: Option<Box<Answer>>,
        reply: oneshot::Sender<Result<String, Refusal>>,
    },
    /// Ask the terminal about any order.
    Query {
        order_no: String,
        via: Via,
        reply: oneshot::Sender<Result<QueryResult, Refusal>>,
    },
    /// Ask the terminal to close its waiting screen for an unpaid order.
    Close {
        order_no: String,
        via: Via,
        reply: oneshot::Sender<Result<Answer, Refusal>>,
    },
    /// One application heartbeat, answered with the terminal's reply.
    Heartbeat {
        reply: oneshot::Sender<Result<Answer, Refusal>>,
    },
    /// Try to resolve every pending or unknown row now.
    Recover,
    /// A down link tries again now instead of after its backoff.
    Reconnect,
    /// Drop the terminal's connection and connect to this one instead. Refused while a
    /// payment is in flight or a row is unresolved: only the terminal that took a
    /// payment can say what became of it.
    Retarget {
        target: Target,
        reply: oneshot::Sender<Result<(), Refusal>>,
    },
    /// New lane defaults of the terminal's options, for payments started from now on.
    SaleDefaults(SaleOptions),
    /// Supervisor override of an unresolved row.
    Resolve {
        order_no: String,
        to: TxnState,
        note: String,
        /// Who overrode it, for the audit trail.
        who: String,
        reply: oneshot::Sender<Result<TxnRow, Refusal>>,
    },
    /// The technician's raw console: one frame out; replies come as wire events.
    Raw {
        text: String,
        reply: oneshot::Sender<Result<Option<Answer>, Refusal>>,
    },
    /// Finish what is in flight, then stop.
    Shutdown,
}

/// The lane's word on its link to the terminal: what screens and scripts show, without
/// knowing the link itself.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkNews {
    Connecting {
        attempt: u32,
    },
    Connected,
    /// Down; the next attempt starts after `retry_in`.
    Down {
        reason: String,
        retry_in: Duration,
    },
    /// Closed for good (the lane is stopping).
    Closed,
    /// The lane now talks to this terminal (an address or `sn:SERIAL`), not the one
    /// before: what was known of that one no longer applies.
    Target(String),
    /// A terminal configured by serial was found at this address (each connect).
    Located {
        serial: String,
        address: String,
    },
    /// What the terminal said about itself.
    Device(DeviceInfo),
    /// A heartbeat's round trip.
    RoundTrip(Duration),
    /// A frame in or out, card numbers masked.
    Wire {
        dir: Direction,
        text: String,
    },
    /// A reply that answered nothing asked (late, for another register, re-delivered).
    Stray {
        order_no: Option<String>,
        why: String,
    },
    /// A frame that could not be read; dropped.
    Malformed {
        error: String,
    },
}

/// What happened on the way to a row's final answer. Typed, so screens decide by the
/// kind of step and show its words (`Display`) without parsing them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The outcome is unknown (why): the lane asks the terminal by query.
    Unknown { why: String },
    /// A query went out.
    Asking { attempt: u32 },
    /// The query did not settle it (why); the next one goes out in `retry_secs`.
    StillUnknown { why: String, retry_secs: u64 },
    /// The journal could not record what the terminal said.
    JournalError(String),
    /// The terminal closed the batch; the journal could not close its own.
    BatchNotClosed(String),
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Unknown { why } => write!(f, "outcome unknown ({why}); asking the terminal"),
            Step::Asking { attempt } => write!(f, "asking the terminal (query {attempt})"),
            Step::StillUnknown { why, retry_secs } => {
                write!(f, "still unknown: {why}; asking again in {retry_secs}s")
            }
            Step::JournalError(e) => write!(f, "journal error: {e}"),
            Step::BatchNotClosed(e) => {
                write!(
                    f,
                    "the terminal closed the batch but the journal could not: {e}"
                )
            }
        }
    }
}

#[derive(Clone, Debug)]
pub enum Event {
    Link(LinkNews),
    /// Journaled and sent: the terminal is working on it.
    Sent {
        order_no: String,
        kind: TxnKind,
        amount: Option<Money>,
    },
    /// On the way to a final answer (lost link, query attempts, ...).
    Progress {
        order_no: String,
        step: Step,
    },
    /// The row's final state: approved or declined (or unknown when the lane stops
    /// before it could resolve it).
    Done {
        row: Box<TxnRow>,
        reply: Option<Box<Reply>>,
    },
    /// An approved batch close: the journal's totals of the batch it closed.
    BatchClosed {
        report: BatchReport,
    },
    /// The orders still unresolved, whenever that set changes; `by_query` are those a
    /// query can settle (a batch close cannot: it waits for a supervisor).
    Unresolved {
        orders: Vec<String>,
        by_query: Vec<String>,
    },
    /// A payment another till handed to this lane's owner (see `crate::owner`): told
    /// the owner's own screen only, so it can say whose payment the terminal is taking.
    /// Its `Sent`, `Progress` and `Done` come as any payment's.
    Forwarded {
        /// Who asked ("till sale (pid 42)").
        who: String,
        req: PayRequest,
        stage: Forwarded,
    },
    /// The actor stopped; nothing more will come.
    Stopped,
}

/// Where a payment another till handed over is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forwarded {
    /// It waits for the payment on the terminal to end.
    Waiting,
    /// It goes to the terminal now: its `Sent` follows, unless it is refused.
    Started,
    /// Its answer went back to the till that asked (its `Done` came before, if it was
    /// sent).
    Ended,
}
