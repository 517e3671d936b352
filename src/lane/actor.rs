//! The lane actor's task: one `select!` loop over commands, the link and the
//! resolution timer. Payment commands are handled one at a time, in order.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use super::command::{
    Command, Event, LinkNews, PausePoint, PayRequest, QueryResult, Refusal, Route, Settings, Step,
};
use super::options::SaleOptions;
use super::original;
use super::owner::LaneOwner;
use crate::cloud::{CloudClient, Terminal, system_clock};
use crate::ecr::{
    Operation, Outcome, QueryVerdict, Reply, Topic, TransType, moved_amount, moved_tip,
    names_other_order, new_request_id, outcome_for, query_verdict, tip_verdict,
};
use crate::journal::{
    GatewayOriginal, Journal, OutcomeRecord, Refused, Request, TxnKind, TxnRow, TxnState, Via,
    rules,
};
use crate::link::{Answer, Direction, Link, LinkEvent, LinkState, SendError, Target, backoff};
use crate::mask::mask_frame;
use crate::money::Money;

/// The way in: a cheap, cloneable sender of commands.
#[derive(Clone)]
pub struct LaneHandle {
    tx: mpsc::Sender<Command>,
}

impl LaneHandle {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, Refusal>>) -> Command,
    ) -> Result<T, Refusal> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(make(reply))
            .await
            .map_err(|_| Refusal::ShuttingDown)?;
        rx.await.unwrap_or(Err(Refusal::ShuttingDown))
    }

    /// Journals and sends a money-moving request; returns its order number.
    pub async fn pay(&self, req: PayRequest) -> Result<String, Refusal> {
        self.pay_routed(req, Route::Lan, false).await
    }

    /// `pay`, for a request a supervisor allowed with the PIN (see `supervisor`): the
    /// journal's audit trail says so.
    pub async fn pay_supervised(&self, req: PayRequest) -> Result<String, Refusal> {
        self.pay_routed(req, Route::Lan, true).await
    }

    /// `pay` or `pay_supervised` by the way the request goes.
    pub async fn pay_routed(
        &self,
        req: PayRequest,
        route: Route,
        supervisor: bool,
    ) -> Result<String, Refusal> {
        let first = self
            .ask(|reply| Command::Pay {
                req: req.clone(),
                route,
                supervisor,
                original: None,
                reply,
            })
            .await;
        let Err(Refusal::AskGateway(orig_no)) = first else {
            return first;
        };
        // Another terminal's payment: what the gateway says it captured bounds what
        // may be given back.
        let answer = self
            .query_via(orig_no, Via::Cloud)
            .await?
            .answer
            .ok_or_else(|| Refusal::Invalid("the gateway gave no answer".into()))?;
        self.ask(|reply| Command::Pay {
            req,
            route,
            supervisor,
            original: Some(Box::new(answer)),
            reply,
        })
        .await
    }

    pub async fn query(&self, order_no: String) -> Result<QueryResult, Refusal> {
        self.query_via(order_no, Via::Lan).await
    }

    pub async fn query_via(&self, order_no: String, via: Via) -> Result<QueryResult, Refusal> {
        self.ask(|reply| Command::Query {
            order_no,
            via,
            reply,
        })
        .await
    }

    pub async fn close_order(&self, order_no: String) -> Result<Answer, Refusal> {
        self.close_order_via(order_no, Via::Lan).await
    }

    pub async fn close_order_via(&self, order_no: String, via: Via) -> Result<Answer, Refusal> {
        self.ask(|reply| Command::Close {
            order_no,
            via,
            reply,
        })
        .await
    }

    /// One `ecrhub.heartbeat` through the actor, answered when the terminal answers.
    pub async fn heartbeat(&self) -> Result<Answer, Refusal> {
        self.ask(|reply| Command::Heartbeat { reply }).await
    }

    pub async fn resolve(
        &self,
        order_no: String,
        to: TxnState,
        note: String,
    ) -> Result<TxnRow, Refusal> {
        self.resolve_by(order_no, to, note, "supervisor".into())
            .await
    }

    /// `resolve`, naming who overrode it in the audit trail.
    pub async fn resolve_by(
        &self,
        order_no: String,
        to: TxnState,
        note: String,
        who: String,
    ) -> Result<TxnRow, Refusal> {
        self.ask(|reply| Command::Resolve {
            order_no,
            to,
            note,
            who,
            reply,
        })
        .await
    }

    pub async fn raw(&self, text: String) -> Result<Option<Answer>, Refusal> {
        self.ask(|reply| Command::Raw { text, reply }).await
    }

    pub async fn recover(&self) {
        let _ = self.tx.send(Command::Recover).await;
    }

    pub async fn reconnect(&self) {
        let _ = self.tx.send(Command::Reconnect).await;
    }

    /// Connects the lane to another terminal, unless a payment is open (see
    /// `Command::Retarget`).
    pub async fn retarget(&self, target: Target) -> Result<(), Refusal> {
        self.ask(|reply| Command::Retarget { target, reply }).await
    }

    pub async fn set_sale_defaults(&self, defaults: SaleOptions) {
        let _ = self.tx.send(Command::SaleDefaults(defaults)).await;
    }

    pub async fn shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown).await;
    }
}

/// Starts the lane actor on an opened journal, for the process that owns the lane
/// (held until the actor stops). Events stream out until `Stopped`.
pub fn spawn(
    settings: Settings,
    journal: Journal,
    owner: LaneOwner,
) -> (LaneHandle, mpsc::UnboundedReceiver<Event>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(32);
    let (events, events_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(Actor::new(settings, journal, owner, events).run(rx));
    (LaneHandle { tx }, events_rx, task)
}

/// `spawn` with the journal still to open, on a blocking thread (the screen draws its
/// first frame meanwhile): what is asked of the lane waits in its queue until the
/// journal is open and the actor takes it, in order. The task ends with why the
/// journal did not open, if it did not; then everything queued is refused as for a
/// stopped lane, nothing of it sent.
pub fn spawn_opening(
    settings: Settings,
    owner: LaneOwner,
    open: impl FnOnce() -> Result<Journal, String> + Send + 'static,
) -> (
    LaneHandle,
    mpsc::UnboundedReceiver<Event>,
    JoinHandle<Result<(), String>>,
) {
    let (tx, rx) = mpsc::channel(32);
    let (events, events_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let journal = tokio::task::spawn_blocking(open)
            .await
            .map_err(|e| format!("the journal's opening stopped: {e}"))??;
        Actor::new(settings, journal, owner, events).run(rx).await;
        Ok(())
    });
    (LaneHandle { tx }, events_rx, task)
}

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

impl Actor {
    fn new(
        settings: Settings,
        journal: Journal,
        owner: LaneOwner,
        events: mpsc::UnboundedSender<Event>,
    ) -> Actor {
        let link = Link::new(settings.link.clone());
        let cloud = match settings.cloud.clone() {
            Some(cloud) => CloudClient::new(cloud, system_clock()).map(Some),
            None => Ok(None),
        };
        Actor {
            settings,
            journal,
            _owner: owner,
            link,
            cloud,
            cloud_calls: JoinSet::new(),
            device_sn: None,
            link_sn: None,
            identified: false,
            events,
            inflight: HashMap::new(),
            resolving: BTreeMap::new(),
            shutdown_since: None,
        }
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        self.resume_unresolved();
        loop {
            let resolve_at = tokio::time::Instant::from_std(self.next_resolve_at());
            tokio::select! {
                command = commands.recv(), if self.shutdown_since.is_none() => match command {
                    Some(command) => self.on_command(command).await,
                    None => self.shutdown_since = Some(Instant::now()),
                },
                wake = self.link.wait() => self.link.handle(wake).await,
                Some(done) = self.cloud_calls.join_next(), if !self.cloud_calls.is_empty() => {
                    match done {
                        Ok(answer) => self.on_cloud_answer(answer),
                        Err(e) => tracing::error!("a cloud request's task failed: {e}"),
                    }
                }
                _ = tokio::time::sleep_until(resolve_at) => self.ask_due().await,
            }
            self.pump_link_events();
            if self.may_stop() {
                break;
            }
        }
        self.link.close().await;
        self.pump_link_events();
        self.emit(Event::Stopped);
    }

    fn emit(&self, event: Event) {
        // The receiver may be gone (the UI quit first); the journal has it all anyway.
        let _ = self.events.send(event);
    }

    /// The order of the payment on the wire, if one is (the lane sends one at a time).
    fn paying(&self) -> Option<&str> {
        self.inflight.values().find_map(|i| match i {
            Inflight::Pay { order_no } => Some(order_no.as_str()),
            _ => None,
        })
    }

    fn may_stop(&self) -> bool {
        let Some(since) = self.shutdown_since else {
            return false;
        };
        self.paying().is_none()
            && (self.resolving.is_empty() || since.elapsed() >= self.settings.shutdown_grace)
    }

    /// Rows left pending or unknown by an earlier run are resolved before new work.
    fn resume_unresolved(&mut self) {
        match self.journal.unresolved_on(&self.settings.lane_id) {
            Ok(rows) => {
                let paying = self.paying().map(String::from);
                // A payment still in its card flow has its answer coming; no query.
                let resumable = rows.into_iter().filter(|r| {
                    resolvable_by_query(&r.kind) && paying.as_deref() != Some(r.order_no.as_str())
                });
                for row in resumable {
                    self.start_resolving(&row.order_no, "left unresolved by an earlier run");
                }
            }
            Err(e) => tracing::error!("reading unresolved rows: {e}"),
        }
        self.emit_unresolved();
    }

    fn emit_unresolved(&self) {
        match self.journal.unresolved_on(&self.settings.lane_id) {
            Ok(rows) => {
                // Not those left for a person (see `final_record`).
                let by_query = rows
                    .iter()
                    .filter(|r| self.resolving.contains_key(&r.order_no))
                    .map(|r| r.order_no.clone())
                    .collect();
                let orders = rows.into_iter().map(|r| r.order_no).collect();
                self.emit(Event::Unresolved { orders, by_query })
            }
            Err(e) => tracing::error!("reading unresolved rows: {e}"),
        }
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::Pay {
                req,
                route,
                supervisor,
                original,
                reply,
            } => {
                let result = self.pay(req, route, supervisor, original).await;
                let _ = reply.send(result);
            }
            Command::Query {
                order_no,
                via,
                reply,
            } => {
                let op = Operation::Query {
                    order_no: order_no.clone(),
                };
                self.send_tracked(&op, via, Inflight::Query { order_no, reply })
                    .await;
            }
            Command::Close {
                order_no,
                via,
                reply,
            } => {
                let op = Operation::Close { order_no };
                self.send_tracked(&op, via, Inflight::Answer { reply })
                    .await;
            }
            Command::Heartbeat { reply } => {
                self.send_tracked(&Operation::Heartbeat, Via::Lan, Inflight::Answer { reply })
                    .await;
            }
            Command::Reconnect => self.link.retry_now(),
            Command::Retarget { target, reply } => {
                let result = self.retarget(target).await;
                let _ = reply.send(result);
            }
            Command::SaleDefaults(defaults) => self.settings.sale_defaults = defaults,
            Command::Recover => {
                for r in self.resolving.values_mut() {
                    r.next_at = Instant::now();
                }
                self.resume_unresolved();
            }
            Command::Resolve {
                order_no,
                to,
                note,
                who,
                reply,
            } => {
                let result = self
                    .journal
                    .override_state(&order_no, to, &note, &who, &self.settings.lane_id)
                    .map_err(|e| Refusal::Invalid(e.to_string()));
                if let Ok(row) = &result {
                    self.resolving.remove(&order_no);
                    self.emit(Event::Done {
                        row: Box::new(row.clone()),
                        reply: None,
                    });
                    self.emit_unresolved();
                }
                let _ = reply.send(result);
            }
            Command::Raw { text, reply } => self.raw(text, reply).await,
            Command::Shutdown => self.shutdown_since = Some(Instant::now()),
        }
    }

    /// Moves the link to `target`, unless a payment is open: a row in flight or
    /// unresolved is settled by querying the terminal that took it, so the lane stays
    /// with that terminal until then.
    async fn retarget(&mut self, target: Target) -> Result<(), Refusal> {
        if self.shutdown_since.is_some() {
            return Err(Refusal::ShuttingDown);
        }
        let mut open: Vec<String> = self.paying().map(String::from).into_iter().collect();
        let unresolved = self
            .journal
            .unresolved_on(&self.settings.lane_id)
            .map_err(journal_refusal)?;
        for row in unresolved {
            if !open.contains(&row.order_no) {
                open.push(row.order_no);
            }
        }
        if !open.is_empty() {
            return Err(Refusal::OpenPayment(open.join(", ")));
        }
        tracing::info!(from = %self.settings.link.target, to = %target, "lane retargeted");
        // The old terminal's serial must not name the new one to the cloud.
        self.device_sn = None;
        self.settings.link.target = target.clone();
        self.emit(Event::Link(LinkNews::Target(target.to_string())));
        self.link.retarget(target).await;
        Ok(())
    }

    /// Sends a request a person asked for and remembers why, keyed by its request id.
    async fn send_tracked(&mut self, op: &Operation, via: Via, inflight: Inflight) {
        if via == Via::Cloud {
            let request_id = new_request_id();
            let sent = self
                .cloud_terminal(Route::Cloud)
                .and_then(|terminal| self.cloud_send(op, &terminal, &request_id));
            match sent {
                Ok(()) => {
                    self.inflight.insert(request_id, inflight);
                }
                Err(why) => inflight.refuse(Refusal::Invalid(why)),
            }
            return;
        }
        if !self.link.is_up() {
            return inflight.refuse(Refusal::NotConnected);
        }
        let request_id = new_request_id();
        self.inflight.insert(request_id.clone(), inflight);
        // A failed write already produced an unknown Answer for this request id.
        if let Err(SendError::NotConnected) = self.link.request(op, &request_id, None).await
            && let Some(inflight) = self.inflight.remove(&request_id)
        {
            inflight.refuse(Refusal::NotConnected);
        }
    }

    async fn raw(&mut self, text: String, reply: oneshot::Sender<Result<Option<Answer>, Refusal>>) {
        let topic = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("topic")
                    .and_then(|t| t.as_str())
                    .and_then(Topic::parse)
            });
        if matches!(
            topic,
            Some(Topic::PayOrder | Topic::TipAdjustment | Topic::BatchClose)
        ) {
            let _ = reply.send(Err(Refusal::Invalid(
                "money-moving frames go through the payment commands, which journal them first"
                    .into(),
            )));
            return;
        }
        match self.link.send_raw(&text).await {
            Ok(Some(request_id)) => {
                self.inflight.insert(request_id, Inflight::Raw { reply });
            }
            Ok(None) => {
                let _ = reply.send(Ok(None));
            }
            Err(SendError::NotConnected) => {
                let _ = reply.send(Err(Refusal::NotConnected));
            }
            Err(e) => {
                let _ = reply.send(Err(Refusal::Invalid(e.to_string())));
            }
        }
    }

    async fn pay(
        &mut self,
        req: PayRequest,
        route: Route,
        supervisor: bool,
        original: Option<Box<Answer>>,
    ) -> Result<String, Refusal> {
        if self.shutdown_since.is_some() {
            return Err(Refusal::ShuttingDown);
        }
        if let Some(order_no) = self.paying() {
            return Err(Refusal::Busy(order_no.to_string()));
        }
        if route == Route::CloudAllTerminals && req != PayRequest::BatchClose {
            return Err(Refusal::Invalid(
                "only a batch close goes to every terminal".into(),
            ));
        }
        let terminal = match route {
            Route::Lan => None,
            Route::Cloud | Route::CloudAllTerminals => {
                Some(self.cloud_terminal(route).map_err(Refusal::Invalid)?)
            }
        };
        if route == Route::Lan && !self.link.is_up() {
            // Rows an earlier run left unknown are taken up as soon as the link is back.
            self.resume_unresolved();
            return Err(Refusal::NotConnected);
        }
        if route == Route::Lan && !self.identified {
            // A row names the terminal that takes it; until init is answered that is
            // not known (a few milliseconds after each connect).
            return Err(Refusal::NotConnected);
        }
        let original = self.gateway_original(&req, route, original)?;
        let req = self.for_original(
            req.with_defaults(&self.settings.sale_defaults),
            original.as_ref(),
        );
        let request_id = new_request_id();
        let (amount, tip, cashback) = amounts(&req);
        let force = matches!(req, PayRequest::Sale { force: true, .. });
        let admitted = self.journal.admit(&Request {
            request_id: request_id.clone(),
            kind: req.kind(),
            amount,
            tip,
            cashback,
            currency: self.settings.currency.clone(),
            exponent: self.settings.exponent,
            orig_order_no: req.orig().map(String::from),
            lane: self.settings.lane_id.clone(),
            scenario: match &req {
                PayRequest::Sale { scenario, .. } => Some(scenario.as_wire().to_string()),
                _ => None,
            },
            duplicate_window: (!force).then_some(self.settings.duplicate_window),
            supervisor,
            via: route.via(),
            terminal_sn: match &terminal {
                Some(Terminal::One(sn)) => Some(sn.clone()),
                Some(Terminal::All) => Some("all".into()),
                None => self.link_sn.clone(),
            },
            original,
        });
        let row = match admitted {
            Ok(row) => row,
            Err(Refused::Unresolved(orders)) => {
                // Rows a run that died left unknown are taken up here, so the refusal
                // does not last for ever.
                self.resume_unresolved();
                return Err(Refusal::Unresolved {
                    count: orders.len(),
                    orders: orders.join(", "),
                });
            }
            Err(Refused::PossibleDuplicate {
                amount,
                order_no,
                ago_secs,
            }) => {
                return Err(Refusal::PossibleDuplicate {
                    amount: amount.to_string(),
                    order_no,
                    ago_secs,
                });
            }
            Err(Refused::Rule(why)) => return Err(Refusal::Invalid(why)),
            Err(Refused::Journal(e)) => return Err(journal_refusal(e)),
        };
        let (order_no, amount) = (row.order_no, row.amount);
        self.pause(PausePoint::AfterJournal);

        let op = req.operation(&order_no, &self.settings.currency);
        self.inflight.insert(
            request_id.clone(),
            Inflight::Pay {
                order_no: order_no.clone(),
            },
        );
        let not_sent = match &terminal {
            None => match self.link.request(&op, &request_id, None).await {
                Err(SendError::NotConnected) => Some((
                    Refusal::NotConnected,
                    "the terminal is not connected".to_string(),
                )),
                // The link went down mid-write; its unknown Answer is on its way.
                Err(SendError::Failed(_)) | Ok(()) => None,
            },
            Some(terminal) => self
                .cloud_send(&op, terminal, &request_id)
                .err()
                .map(|why| (Refusal::Invalid(why.clone()), why)),
        };
        if let Some((refusal, why)) = not_sent {
            // Nothing left this machine: no money can have moved.
            self.inflight.remove(&request_id);
            let rec = OutcomeRecord {
                state: TxnState::Declined,
                response_msg: Some(format!("not sent: {why}")),
                ..OutcomeRecord::default()
            };
            self.record(&order_no, &rec, "not sent", None);
            return Err(refusal);
        }
        if let Err(e) = self.journal.mark_sent(&order_no, &request_id) {
            tracing::error!("marking {order_no} sent: {e}");
        }
        self.pause(PausePoint::AfterSend);
        tracing::info!(%order_no, kind = req.kind().name(), %amount, "journaled and sent");
        self.emit(Event::Sent {
            order_no: order_no.clone(),
            kind: req.kind(),
            amount: Some(amount),
        });
        Ok(order_no)
    }

    fn cloud_client(&self) -> Result<&CloudClient, String> {
        match &self.cloud {
            Ok(Some(client)) => Ok(client),
            Ok(None) => {
                Err("the cloud is not configured: add a [cloud] table to the config file".into())
            }
            Err(why) => Err(why.clone()),
        }
    }

    /// The terminal a cloud request names: the configured serial, else the one the
    /// terminal reported over the LAN.
    fn cloud_terminal(&self, route: Route) -> Result<Terminal, String> {
        let client = self.cloud_client()?;
        if route == Route::CloudAllTerminals {
            return Ok(Terminal::All);
        }
        client
            .settings()
            .terminal_sn
            .clone()
            .or_else(|| self.device_sn.clone())
            .map(Terminal::One)
            .ok_or_else(|| {
                "no terminal serial for the cloud: set [cloud] terminal_sn, or connect to the terminal once so it reports its own".into()
            })
    }

    /// Signs and posts a request to the gateway; its answer comes back through
    /// `cloud_calls` under `request_id`.
    fn cloud_send(
        &mut self,
        op: &Operation,
        terminal: &Terminal,
        request_id: &str,
    ) -> Result<(), String> {
        let client = self.cloud_client()?.clone();
        let prepared = client.prepare(op, terminal)?;
        tracing::info!(method = %prepared.call.method, order_no = ?prepared.call.order_no, "cloud request");
        self.emit(Event::Link(LinkNews::Wire {
            dir: Direction::Out,
            text: mask_frame(&prepared.body),
        }));
        self.cloud_calls
            .spawn(client.send(prepared, request_id.to_string()));
        Ok(())
    }

    fn on_cloud_answer(&mut self, answer: Answer) {
        tracing::info!(outcome = %answer.outcome, why = %mask_frame(&answer.why), "cloud answer");
        if let Some(raw) = &answer.raw {
            self.emit(Event::Link(LinkNews::Wire {
                dir: Direction::In,
                text: raw.clone(),
            }));
        }
        self.on_answer(answer);
    }

    /// What the gateway said of the original of a cloud follow-up the journal does not
    /// hold; `AskGateway` sends the handle to ask it first.
    fn gateway_original(
        &self,
        req: &PayRequest,
        route: Route,
        answer: Option<Box<Answer>>,
    ) -> Result<Option<GatewayOriginal>, Refusal> {
        let Some(orig_no) = req.orig() else {
            return Ok(None);
        };
        if route != Route::Cloud || matches!(self.journal.find(orig_no), Ok(Some(_))) {
            return Ok(None);
        }
        match answer {
            None => Err(Refusal::AskGateway(orig_no.to_string())),
            Some(answer) => original::read(orig_no, &answer, self.settings.exponent)
                .map(Some)
                .map_err(Refusal::Invalid),
        }
    }

    /// Names a void or refund the way the terminal knows it for the original's kind: a
    /// void of a pre-auth is a pre-auth cancel, of a completion a completion cancel; a
    /// refund of a completion is a completion refund. Cashiers and scripts need not
    /// know the difference. Those go without terminal options (the protocol lists them
    /// for sale, refund and void only).
    fn for_original(&self, req: PayRequest, original: Option<&GatewayOriginal>) -> PayRequest {
        let Some(kind) = req
            .orig()
            .and_then(|o| self.journal.find(o).ok().flatten())
            .map(|r| r.kind)
            .or(original.map(|o| o.kind))
        else {
            return req;
        };
        match req {
            PayRequest::Void { orig, options } => match rules::void_kind(kind) {
                Some(t) if t != TransType::Void => PayRequest::FollowUp {
                    trans_type: t,
                    orig,
                    amount: None,
                },
                _ => PayRequest::Void { orig, options },
            },
            PayRequest::Refund {
                amount,
                orig: Some(orig),
                options,
            } => match rules::refund_kind(kind) {
                Some(t) if t != TransType::Refund => PayRequest::FollowUp {
                    trans_type: t,
                    orig,
                    amount: Some(amount),
                },
                _ => PayRequest::Refund {
                    amount,
                    orig: Some(orig),
                    options,
                },
            },
            req => req,
        }
    }

    fn next_resolve_at(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let link_up = self.link.is_up();
        self.resolving
            .values()
            .filter(|r| !r.asking && (link_up || r.via == Via::Cloud))
            .map(|r| r.next_at)
            .min()
            .unwrap_or(far)
    }

    fn start_resolving(&mut self, order_no: &str, why: &str) {
        if self.resolving.contains_key(order_no) {
            return;
        }
        let via = match self.journal.find(order_no) {
            Ok(Some(row)) => row.via,
            _ => Via::Lan,
        };
        self.resolving.insert(
            order_no.to_string(),
            Resolving {
                attempts: 0,
                next_at: Instant::now(),
                asking: false,
                via,
            },
        );
        self.emit(Event::Progress {
            order_no: order_no.to_string(),
            step: Step::Unknown {
                why: why.to_string(),
            },
        });
    }

    /// Sends a query for every unknown outcome whose turn has come.
    async fn ask_due(&mut self) {
        let now = Instant::now();
        let due: Vec<(String, Via)> = self
            .resolving
            .iter()
            .filter(|(_, r)| !r.asking && r.next_at <= now)
            .map(|(o, r)| (o.clone(), r.via))
            .collect();
        for (order_no, via) in due {
            if via == Via::Lan && !self.link.is_up() {
                continue;
            }
            if let Some(why) = self.other_terminal(&order_no) {
                // Another device's "not found" or approval says nothing of this row.
                self.retry_later(&order_no, why);
                continue;
            }
            let request_id = new_request_id();
            let op = Operation::Query {
                order_no: self.query_target(&order_no),
            };
            let attempts = self.resolving.get_mut(&order_no).map(|r| {
                r.asking = true;
                r.attempts += 1;
                r.attempts
            });
            if let Some(attempts) = attempts {
                self.emit(Event::Progress {
                    order_no: order_no.clone(),
                    step: Step::Asking { attempt: attempts },
                });
            }
            self.inflight.insert(
                request_id.clone(),
                Inflight::Resolve {
                    order_no: order_no.clone(),
                },
            );
            let not_sent = match via {
                Via::Lan => match self.link.request(&op, &request_id, None).await {
                    Err(SendError::NotConnected) => Some("the terminal is not connected".into()),
                    _ => None,
                },
                // A query names the order alone, whichever terminal paid it.
                Via::Cloud => self.cloud_send(&op, &Terminal::All, &request_id).err(),
            };
            if let Some(why) = not_sent {
                self.inflight.remove(&request_id);
                self.retry_later(&order_no, why);
            }
        }
    }

    /// Why the terminal on the line now may not settle `order_no`: the row went over
    /// the LAN to a terminal that reported another serial (a replacement, another
    /// device at the address, a second device advertising the serial), or this
    /// connection's terminal has not said its serial yet. None when it may.
    fn other_terminal(&self, order_no: &str) -> Option<String> {
        let row = self.journal.find(order_no).ok().flatten()?;
        let took = row.terminal_sn.filter(|_| row.via == Via::Lan)?;
        match &self.link_sn {
            Some(now) if *now == took => None,
            Some(now) => Some(format!(
                "terminal changed: SN {took} -> SN {now}; only SN {took}, or a supervisor by hand, can settle this payment"
            )),
            None => Some(format!(
                "waiting for the terminal to say its serial; only SN {took} can settle this payment"
            )),
        }
    }

    /// The row of a tip adjustment, when `order_no` is one: it is resolved through the
    /// original sale, the only order the terminal knows it by.
    fn tip_row(&self, order_no: &str) -> Option<TxnRow> {
        self.journal
            .find(order_no)
            .ok()
            .flatten()
            .filter(|r| r.kind == TxnKind::TipAdjust)
    }

    /// The order to ask the terminal about to resolve a row.
    fn query_target(&self, order_no: &str) -> String {
        self.tip_row(order_no)
            .and_then(|r| r.orig_order_no)
            .unwrap_or_else(|| order_no.to_string())
    }

    fn retry_later(&mut self, order_no: &str, why: String) {
        let Some(r) = self.resolving.get_mut(order_no) else {
            return;
        };
        r.asking = false;
        let delay = backoff(
            r.attempts,
            self.settings.query_retry_min,
            self.settings.query_retry_max,
        );
        r.next_at = Instant::now() + delay;
        self.emit(Event::Progress {
            order_no: order_no.to_string(),
            step: Step::StillUnknown {
                why,
                retry_secs: delay.as_secs().max(1),
            },
        });
    }

    /// Acts on what the link reported and passes it on. Answers end here: whoever
    /// asked gets them through the lane's own replies and events.
    fn pump_link_events(&mut self) {
        let events: Vec<LinkEvent> = self.link.take_events().collect();
        for event in events {
            let event = match event {
                LinkEvent::Answer(answer) => {
                    self.on_answer(*answer);
                    continue;
                }
                other => other,
            };
            let news = match event {
                LinkEvent::Stray { reply, raw, why } => {
                    self.on_stray(&reply, &raw);
                    LinkNews::Stray {
                        order_no: reply.biz.merchant_order_no.clone(),
                        why,
                    }
                }
                LinkEvent::State(LinkState::Connected) => {
                    // Which terminal answers is known once it answers init.
                    (self.link_sn, self.identified) = (None, false);
                    // Resolve as soon as the link allows.
                    for r in self.resolving.values_mut() {
                        r.next_at = Instant::now();
                    }
                    LinkNews::Connected
                }
                LinkEvent::State(LinkState::Connecting { attempt }) => {
                    (self.link_sn, self.identified) = (None, false);
                    LinkNews::Connecting { attempt }
                }
                LinkEvent::State(LinkState::Down { reason, retry_in }) => {
                    (self.link_sn, self.identified) = (None, false);
                    LinkNews::Down { reason, retry_in }
                }
                LinkEvent::State(LinkState::Closed) => {
                    (self.link_sn, self.identified) = (None, false);
                    LinkNews::Closed
                }
                LinkEvent::Device(device) => {
                    if device.device_sn.is_some() {
                        self.device_sn = device.device_sn.clone();
                    }
                    (self.link_sn, self.identified) = (device.device_sn.clone(), true);
                    // Rows waiting for their own terminal may be asked now.
                    for r in self.resolving.values_mut() {
                        r.next_at = Instant::now();
                    }
                    LinkNews::Device(device)
                }
                LinkEvent::Located { serial, address } => LinkNews::Located { serial, address },
                LinkEvent::Heartbeat { rtt } => LinkNews::RoundTrip(rtt),
                LinkEvent::Wire { dir, text } => LinkNews::Wire { dir, text },
                LinkEvent::Malformed { error, .. } => LinkNews::Malformed { error },
                LinkEvent::Answer(_) => continue,
            };
            self.emit(Event::Link(news));
        }
    }

    fn on_answer(&mut self, answer: Answer) {
        let Some(inflight) = self.inflight.remove(&answer.request_id) else {
            return;
        };
        match inflight {
            Inflight::Pay { order_no } => {
                self.pause(PausePoint::AfterReply);
                // Checked against the number on the wire: a tip adjustment is sent
                // under its sale's number, a batch close under none.
                let (outcome, why) = match (&answer.reply, &answer.order_no) {
                    _ if let Some(why) = self.other_terminal(&order_no) => (Outcome::Unknown, why),
                    (Some(reply), Some(wire_no)) if names_other_order(reply, wire_no) => (
                        Outcome::Unknown,
                        format!(
                            "the answer names order {}, not this one",
                            reply.biz.merchant_order_no.as_deref().unwrap_or("-")
                        ),
                    ),
                    _ => (answer.outcome, answer.why.clone()),
                };
                match outcome {
                    Outcome::Approved | Outcome::Declined => {
                        let state = if outcome == Outcome::Approved {
                            TxnState::Approved
                        } else {
                            TxnState::Declined
                        };
                        let rec =
                            self.final_record(&order_no, state, answer.reply.as_ref(), answer.raw);
                        self.record(&order_no, &rec, &why, answer.reply);
                    }
                    Outcome::Unknown => {
                        // Another order's answer says nothing of this row: keep none of it.
                        let (reply, raw) = if why == answer.why {
                            (answer.reply.as_ref(), answer.raw)
                        } else {
                            (None, None)
                        };
                        let rec = record_of(TxnState::Unknown, reply, raw);
                        if let Err(e) = self.journal.record_outcome(&order_no, &rec, &why) {
                            tracing::error!("recording unknown outcome of {order_no}: {e}");
                        }
                        self.start_resolving(&order_no, &why);
                        self.emit_unresolved();
                    }
                }
            }
            Inflight::Resolve { order_no } => {
                self.apply_query(&order_no, answer.reply.as_ref(), answer.raw, &answer.why)
            }
            Inflight::Query { order_no, reply } => {
                // A person's query names the order they typed; a tip adjustment is
                // resolved through its sale by the lane's own queries instead.
                if self.resolving.contains_key(&order_no)
                    && answer.reply.is_some()
                    && self.tip_row(&order_no).is_none()
                {
                    self.apply_query(
                        &order_no,
                        answer.reply.as_ref(),
                        answer.raw.clone(),
                        &answer.why,
                    );
                }
                let row = self.journal.find(&order_no).ok().flatten();
                let _ = reply.send(Ok(QueryResult {
                    answer: Some(answer),
                    row,
                }));
            }
            Inflight::Answer { reply } => {
                let _ = reply.send(Ok(answer));
            }
            Inflight::Raw { reply } => {
                let _ = reply.send(Ok(Some(answer)));
            }
        }
    }

    /// What a query answer says about an unresolved row.
    fn apply_query(
        &mut self,
        order_no: &str,
        reply: Option<&Reply>,
        raw: Option<String>,
        why: &str,
    ) {
        let target = self.query_target(order_no);
        let verdict = match (reply, self.tip_row(order_no)) {
            _ if let Some(why) = self.other_terminal(order_no) => QueryVerdict::Undetermined(why),
            (Some(reply), _) if names_other_order(reply, &target) => {
                QueryVerdict::Undetermined(format!(
                    "the query answer names order {}, not {target}",
                    reply.biz.merchant_order_no.as_deref().unwrap_or("-")
                ))
            }
            (Some(reply), Some(tip)) => tip_verdict(reply, tip.amount),
            (Some(reply), None) => query_verdict(reply),
            (None, _) => QueryVerdict::Undetermined(why.to_string()),
        };
        let (state, why) = match verdict {
            QueryVerdict::Moved => (
                TxnState::Approved,
                "resolved by query: the terminal completed it",
            ),
            QueryVerdict::NotMoved => (
                TxnState::Declined,
                "resolved by query: the terminal did not complete it; no money moved",
            ),
            QueryVerdict::Undetermined(why) => {
                if self.resolving.contains_key(order_no) {
                    self.retry_later(order_no, why);
                }
                return;
            }
        };
        let mut rec = self.final_record(order_no, state, reply, raw);
        if state == TxnState::Declined {
            // The query's own "not found" is no decline code of the transaction.
            rec.response_msg = Some(why.to_string());
        }
        self.record(order_no, &rec, why, reply.cloned());
    }

    /// A reply nobody waits for: news only if it names a row still unresolved.
    fn on_stray(&mut self, reply: &Reply, raw: &str) {
        let Some(order_no) = reply.biz.merchant_order_no.clone() else {
            return;
        };
        // Only rows of this lane: another lane's rows are its owner's to settle.
        let unresolved = matches!(
            self.journal.find(&order_no),
            Ok(Some(row)) if matches!(row.state, TxnState::Pending | TxnState::Unknown)
                && row.lane.eq_ignore_ascii_case(&self.settings.lane_id)
        );
        // Another device's word on a row is no word at all.
        let unresolved = unresolved && self.other_terminal(&order_no).is_none();
        if !unresolved || self.paying() == Some(order_no.as_str()) {
            return;
        }
        match reply.topic.as_deref().and_then(Topic::parse) {
            Some(Topic::PayQuery) => self.apply_query(
                &order_no,
                Some(reply),
                Some(raw.to_string()),
                "late query answer",
            ),
            Some(topic @ (Topic::PayOrder | Topic::TipAdjustment)) => {
                let state = match outcome_for(topic, reply) {
                    Outcome::Approved => TxnState::Approved,
                    Outcome::Declined => TxnState::Declined,
                    Outcome::Unknown => return,
                };
                let rec = self.final_record(&order_no, state, Some(reply), Some(raw.to_string()));
                self.record(
                    &order_no,
                    &rec,
                    "late reply from the terminal",
                    Some(reply.clone()),
                );
            }
            _ => {}
        }
    }

    /// What a final answer records; an approval books the amount the terminal says
    /// moved, which may differ from the amount asked (a partial approval), and the tip
    /// it says moved (a customer may add one on its screen). An approval whose amount
    /// cannot be read is booked unknown, never as the amount asked, and is not queried
    /// again (`record`): the terminal would answer the same, so a person settles it.
    fn final_record(
        &self,
        order_no: &str,
        state: TxnState,
        reply: Option<&Reply>,
        raw: Option<String>,
    ) -> OutcomeRecord {
        let mut rec = record_of(state, reply, raw);
        if state == TxnState::Approved
            && let Some(reply) = reply
            && let Ok(Some(row)) = self.journal.find(order_no)
        {
            let amount = match rules::asks_amount(row.kind) {
                true => moved_amount(reply, row.asked),
                false => Ok(None),
            };
            let tip = match row.kind.is_sale() {
                // A zero tip where none was asked is no news.
                true => moved_tip(reply, row.asked.exponent())
                    .map(|t| t.filter(|t| !t.is_zero() || row.tip.is_some())),
                false => Ok(None),
            };
            match (amount, tip) {
                (Ok(amount), Ok(tip)) => (rec.amount, rec.tip) = (amount, tip),
                (Err(e), _) | (_, Err(e)) => {
                    rec.state = TxnState::Unknown;
                    rec.response_msg = Some(format!("{}: {e}", rules::AMOUNT_UNREADABLE));
                }
            }
        }
        rec
    }

    /// Writes a final state (or what `final_record` left unknown for a person) and
    /// tells the world.
    fn record(&mut self, order_no: &str, rec: &OutcomeRecord, why: &str, reply: Option<Reply>) {
        let why = match rec.state {
            TxnState::Unknown => rec.response_msg.as_deref().unwrap_or(why),
            _ => why,
        };
        match self.journal.record_outcome(order_no, rec, why) {
            Ok(row) => {
                tracing::info!(%order_no, state = row.state.name(), %why, "outcome recorded");
                if row.kind == TxnKind::BatchClose && row.state == TxnState::Approved {
                    self.batch_closed(order_no);
                }
                let was_resolving = self.resolving.remove(order_no).is_some();
                self.emit(Event::Done {
                    row: Box::new(row),
                    reply: reply.map(Box::new),
                });
                if was_resolving || rec.state != TxnState::Approved {
                    self.emit_unresolved();
                }
            }
            Err(e) => {
                tracing::error!("recording outcome of {order_no}: {e}");
                self.emit(Event::Progress {
                    order_no: order_no.to_string(),
                    step: Step::JournalError(e.to_string()),
                });
            }
        }
    }

    /// The terminal settled the batch and the journal closed its own with the approval:
    /// its totals go out.
    fn batch_closed(&mut self, order_no: &str) {
        match self.journal.close_batch(order_no, "{}") {
            Ok(report) => self.emit(Event::BatchClosed { report }),
            Err(e) => {
                tracing::error!("closing the batch in the journal: {e}");
                self.emit(Event::Progress {
                    order_no: "batch".into(),
                    step: Step::BatchNotClosed(e.to_string()),
                });
            }
        }
    }

    fn pause(&self, point: PausePoint) {
        if self.settings.pause_at == Some(point) {
            eprintln!("till: paused at {}", point.name());
            // Frozen on purpose until the test kills the process: all of it, so no other
            // task answers for it meanwhile (the lane's socket). Raised, not sent by a
            // child process, which would hold this one's files a moment after its death.
            // SAFETY: raise() takes a signal number and touches no memory of ours.
            unsafe {
                libc::raise(libc::SIGSTOP);
            }
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    }
}

fn resolvable_by_query(kind: &TxnKind) -> bool {
    // A batch close has no order for the terminal to look up.
    !matches!(kind, TxnKind::BatchClose)
}

/// Amount (None for a void or cancel: the original's), tip and cash-back as asked.
fn amounts(req: &PayRequest) -> (Option<Money>, Option<Money>, Option<Money>) {
    match req {
        PayRequest::Sale {
            amount,
            tip,
            cashback,
            ..
        } => (Some(*amount), *tip, *cashback),
        PayRequest::Refund { amount, .. }
        | PayRequest::PreAuth { amount }
        | PayRequest::TipAdjust { tip: amount, .. } => (Some(*amount), None, None),
        PayRequest::FollowUp { amount, .. } => (*amount, None, None),
        PayRequest::Void { .. } | PayRequest::BatchClose => (None, None, None),
    }
}

fn record_of(state: TxnState, reply: Option<&Reply>, raw: Option<String>) -> OutcomeRecord {
    let Some(reply) = reply else {
        return OutcomeRecord {
            state,
            raw,
            ..OutcomeRecord::default()
        };
    };
    let biz = &reply.biz;
    OutcomeRecord {
        state,
        amount: None,
        tip: None,
        response_code: reply.response_code.clone(),
        response_msg: Some(reply.message().to_string()).filter(|m| !m.is_empty()),
        trans_no: biz.trans_no.clone(),
        trans_status: biz.trans_status.clone(),
        brand: biz.brand().map(String::from),
        card: biz.card_no.clone(),
        auth_code: biz.auth_code.clone(),
        ref_no: biz.ref_no.clone(),
        entry_mode: biz.entry_mode.clone(),
        raw,
    }
}

fn journal_refusal(e: crate::journal::JournalError) -> Refusal {
    Refusal::Journal(e.to_string())
}
