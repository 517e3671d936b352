//! Commands that go through the lane actor: payments, queries, recovery, the raw
//! console.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedReceiver;

use super::output::{Progress, row_human, row_json};
use super::signals::Signals;
use super::{BRIEF_LANE_WAIT, open_journal};
use crate::cli::{Cmd, Global, ResolveAs, Scenario};
use crate::config::Config;
use crate::ecr::{Direction, PayScenario, TransType, is_not_found};
use crate::exit;
use crate::exit::{Code, Exit, Failure, Report};
use crate::journal::BatchReport;
use crate::journal::{SUPERVISOR_PIN_GIVEN, TxnKind, TxnRow, TxnState, check_order_no, rules};
use crate::lane::{
    self, Event, Forwarded, LaneHandle, LaneOwner, LinkNews, PausePoint, PayRequest, Refusal,
    Route, Step, Via,
};
use crate::money::Money;
use crate::owner::{self, Ask, Reached, Served, Shared, Turn};
use crate::supervisor_pin::Act;

/// A lane command as asked: checked, not yet done.
struct Planned {
    action: Action,
    route: Route,
    pin: Option<String>,
}

/// Reads a lane command under `config` (its currency, its rules): a bad one is refused
/// here, before any lane is reached.
// Long on purpose: one arm per lane command, each read and checked the same way.
fn plan(config: &Config, cmd: Cmd) -> Result<Planned, Failure> {
    let pin = cmd.supervisor_pin().map(String::from);
    let route = cmd.route();
    if let Cmd::BatchClose {
        all_terminals: true,
        ..
    } = &cmd
        && route != Route::CloudAllTerminals
    {
        return Err(Failure::new(
            Exit::Usage,
            "--all-terminals goes with --via cloud",
        ));
    }
    let exponent = config.exponent();
    let amount = |text: &str| {
        Money::parse(text, exponent)
            .map_err(|e| Failure::new(Exit::Usage, format!("amount '{text}': {e}")))
    };
    let optional = |text: &Option<String>| text.as_deref().map(amount).transpose();
    let order = |text: String| check_order_no(&text).map_err(|e| Failure::new(Exit::Usage, e));
    let action = match cmd {
        Cmd::Sale {
            amount: a,
            tip,
            cashback,
            scenario,
            force,
            sale,
            terminal,
            ..
        } => {
            let scenario = match scenario {
                Scenario::Card => PayScenario::Card,
                Scenario::Qr => PayScenario::CustomerScansQr,
                Scenario::MerchantQr => PayScenario::MerchantScansQr,
            };
            let cashback = optional(&cashback)?;
            // Told before the lane is taken; the journal's admission checks it again.
            rules::check_sale(scenario, cashback).map_err(|e| Failure::new(Exit::Usage, e))?;
            Action::Pay(PayRequest::Sale {
                amount: amount(&a)?,
                tip: optional(&tip)?,
                cashback,
                scenario,
                force,
                options: sale
                    .options(&terminal)
                    .map_err(|e| Failure::new(Exit::Usage, e.to_string()))?,
            })
        }
        Cmd::Refund {
            amount: a,
            orig,
            terminal,
            ..
        } => Action::Pay(PayRequest::Refund {
            amount: amount(&a)?,
            orig: orig.map(order).transpose()?,
            options: terminal.options(),
        }),
        Cmd::Void {
            orig_order,
            terminal,
            ..
        } => Action::Pay(PayRequest::Void {
            orig: order(orig_order)?,
            options: terminal.options(),
        }),
        Cmd::Tip {
            orig_order,
            amount: a,
            ..
        } => Action::Pay(PayRequest::TipAdjust {
            orig: order(orig_order)?,
            tip: amount(&a)?,
        }),
        Cmd::Auth { amount: a } => Action::Pay(PayRequest::PreAuth {
            amount: amount(&a)?,
        }),
        Cmd::Complete {
            orig_order,
            amount: a,
        } => Action::Pay(PayRequest::FollowUp {
            trans_type: TransType::Completion,
            orig: order(orig_order)?,
            amount: Some(amount(&a)?),
        }),
        Cmd::BatchClose { .. } => Action::Pay(PayRequest::BatchClose),
        Cmd::Query { order: o, .. } => Action::Query(order(o)?),
        Cmd::Close { order: o, .. } => Action::Close(order(o)?),
        Cmd::Recover => Action::Recover,
        // Over the lane's own link: the protocol lets either side unpair.
        Cmd::Unpair { name } => Action::Unpair(super::pair::unpair_frame(config, name)),
        Cmd::Resolve {
            order: o,
            state,
            note,
            ..
        } => Action::Resolve {
            order: order(o)?,
            to: match state {
                ResolveAs::Approved => TxnState::Approved,
                ResolveAs::Declined => TxnState::Declined,
            },
            note,
        },
        Cmd::Send { frame } => {
            serde_json::from_str::<serde_json::Value>(&frame)
                .map_err(|e| Failure::new(Exit::Usage, format!("not JSON: {e}")))?;
            Action::Send(frame)
        }
        other => {
            return Err(Failure::new(
                Exit::Usage,
                format!("{other:?} is not a lane command"),
            ));
        }
    };

    Ok(Planned { action, route, pin })
}

/// A lane command from the command line: handed to the lane's owner when another till
/// holds the lane, else done here on the lane this process takes (and serves to others
/// while it runs).
pub(super) async fn run(
    global: &Global,
    config: &Config,
    cmd: Cmd,
    args: &[String],
) -> Result<Report, Failure> {
    let mut signals = Signals::install()
        .map_err(|e| Failure::new(Exit::Unreachable, format!("cannot catch signals: {e}")))?;
    let planned = plan(config, cmd)?;
    // Asked before the lane is reached: nothing is journaled or sent without it.
    let pin = match planned.action.act() {
        Some(act) => super::pin_entry::authorize(config, &act, planned.pin.as_deref(), true)?,
        None => None,
    };
    let owner = match take_lane(config, &planned, &pin, args, &mut signals).await? {
        Taken::Here(owner) => owner,
        Taken::HandedOver(report) => return Ok(report),
    };
    let supervised = pin.is_some();
    if let Action::Resolve { order, to, note } = &planned.action {
        // Overrides need no terminal: the terminal may be gone for good.
        let _owner = owner;
        return resolve(config, order, *to, note, &override_by(supervised, None));
    }
    run_here(global, config, planned, supervised, owner, &mut signals).await
}

/// Whether this process took the lane, or handed the command to the till that holds it.
enum Taken {
    Here(LaneOwner),
    /// The owner did it; its answer.
    HandedOver(Report),
}

/// Takes the lane, or hands the command to its owner, waiting for the lane as long as
/// the command may (a payment waits for another till's payment to end).
async fn take_lane(
    config: &Config,
    planned: &Planned,
    pin: &Option<String>,
    args: &[String],
    signals: &mut Signals,
) -> Result<Taken, Failure> {
    let link = config.link()?;
    // A payment waits for another till's payment on the lane to end; the rest need not.
    let lane_wait = match &planned.action {
        Action::Pay(_) => link.card_flow_timeout + link.request_timeout,
        _ => BRIEF_LANE_WAIT,
    };
    let holder = format!("till {}", planned.action.name());
    loop {
        let reached = tokio::select! {
            reached = owner::reach(config, &holder, lane_wait) => reached?,
            signal = signals.next() => return Err(interrupted(signal)),
        };
        let (stream, theirs) = match reached {
            Reached::Lane(owner) => return Ok(Taken::Here(owner)),
            Reached::Owner {
                stream,
                holder: theirs,
            } => (stream, theirs),
        };
        let ask = Ask {
            args: args.to_vec(),
            // The owner's config decides whether it is needed.
            pin: pin.clone().or_else(|| planned.pin.clone()),
            who: format!("{holder} (pid {})", std::process::id()),
            user: std::env::var("USER").ok(),
        };
        let money = planned.action.moves_money();
        match super::forward::forward(stream, &theirs, ask, money, &link, signals).await {
            Some(result) => return result.map(Taken::HandedOver),
            // It stopped before taking the request: nothing was done; again.
            None => continue,
        }
    }
}

/// The command on the lane this process took, which it serves to other tills while
/// the command runs.
async fn run_here(
    global: &Global,
    config: &Config,
    planned: Planned,
    supervised: bool,
    owner: LaneOwner,
    signals: &mut Signals,
) -> Result<Report, Failure> {
    let journal = open_journal(config)?;
    let mut settings = config.lane_settings()?;
    // The command itself waits for resolution (bounded); once it has reported, what is
    // still unknown is left to the next start rather than holding the shell.
    settings.shutdown_grace = Duration::ZERO;
    settings.pause_at = std::env::var("TILL_PAUSE_AT")
        .ok()
        .as_deref()
        .and_then(PausePoint::parse);
    let waits = Waits::of(&settings, planned.route);
    let target = settings.link.target.to_string();
    let (lane, events, task) = lane::spawn(settings, journal, owner);
    // Other tills on the lane hand their requests to this one while it runs.
    let (shared, events) = Shared::start(lane.clone(), events, target);
    let server = owner::listen(
        Served {
            config: config.clone(),
            run: super::handler(),
            reload: Some(global.clone()),
        },
        shared.clone(),
    );
    let mut session = Session::new(lane, events, Progress::new(), planned.route);
    let result = act(
        &mut session,
        &shared,
        planned,
        supervised,
        waits,
        config,
        signals,
    )
    .await;
    let result = match server {
        Some(server) => answer_then_stop(result, server, global).await,
        None => result,
    };
    if session.forced {
        // The payment is still with the terminal; its row stays for `till recover`.
        return result;
    }
    session.lane.shutdown().await;
    drop(session);
    let _ = task.await;
    result
}

/// The command's own work on the lane, once it is this process's.
async fn act(
    session: &mut Session,
    shared: &Shared,
    planned: Planned,
    supervised: bool,
    waits: Waits,
    config: &Config,
    signals: &mut Signals,
) -> Result<Report, Failure> {
    if let Action::Pay(req) = planned.action {
        // Nothing is sent until the lane is ready: until then a signal stops it all.
        let ready = async {
            if let Some(wait) = waits.connect {
                session.connected(wait).await?;
            }
            // A payment another till handed over meanwhile goes first: this one takes
            // its turn in the same queue, and then goes as theirs do.
            let turn = shared
                .turn(|| {
                    session
                        .progress
                        .say("waiting in the lane's queue: another till's payment goes first")
                })
                .await;
            shared
                .idle(|order_no| {
                    session
                        .progress
                        .say(&format!("waiting: {order_no} is on the terminal"))
                })
                .await;
            session.recovered(waits.resolve).await;
            Ok::<Turn, Failure>(turn)
        };
        let _turn = tokio::select! {
            ready = ready => ready?,
            signal = signals.next() => return Err(interrupted(signal)),
        };
        return session
            .pay(req, supervised, waits.resolve, config, Some(signals))
            .await;
    }
    // The rest moves no money: a signal simply stops it.
    let work = async {
        if let Some(wait) = waits.connect {
            session.connected(wait).await?;
        }
        session.work(planned.action, waits, config, || None).await
    };
    tokio::select! {
        done = work => done,
        signal = signals.next() => Err(interrupted(signal)),
    }
}

/// Requests handed over meanwhile finish before the lane stops; this command's own
/// answer is printed first, not held back by theirs.
async fn answer_then_stop(
    result: Result<Report, Failure>,
    server: owner::Server,
    global: &Global,
) -> Result<Report, Failure> {
    let exit = match result {
        Ok(report) => {
            report.print(global.json);
            report.exit
        }
        Err(failure) => {
            exit::print_failure(&failure, global.json);
            failure.exit
        }
    };
    server.stop().await;
    Ok(Report::printed(exit))
}

/// A lane command another till handed to this process, which owns the lane: the same
/// rules, the same journal, the same lane; its payments wait their turn in the queue.
pub(super) async fn serve(
    config: &Config,
    cmd: Cmd,
    who: &str,
    user: Option<&str>,
    shared: &Shared,
    progress: Progress,
) -> Result<Report, Failure> {
    let planned = plan(config, cmd)?;
    let supervised = match planned.action.act() {
        Some(act) => {
            super::pin_entry::authorize(config, &act, planned.pin.as_deref(), false)?.is_some()
        }
        None => false,
    };
    if let Action::Resolve { order, to, note } = planned.action {
        let row = shared
            .handle
            .resolve_by(order.clone(), to, note, override_by(supervised, user))
            .await
            .map_err(|r| Failure::new(Exit::Usage, r.to_string()))?;
        return Ok(resolved_report(&order, &row, config));
    }
    let settings = config.lane_settings()?;
    let waits = Waits::of(&settings, planned.route);
    let state = shared.state();
    let mut session = Session::new(
        shared.handle.clone(),
        shared.subscribe(),
        progress,
        planned.route,
    );
    session.unresolved = state.unresolved;
    session.resolving = state.by_query;
    let Action::Pay(req) = planned.action else {
        link_up(shared, waits.connect).await?;
        return session
            .work(planned.action, waits, config, || shared.state().paying)
            .await;
    };
    let handed = Handed {
        who,
        req,
        supervised,
    };
    pay_in_turn(
        &mut session,
        shared,
        handed,
        waits.connect,
        waits.resolve,
        config,
    )
    .await
}

/// A payment another till handed over: it waits its turn in the lane's queue and for
/// the terminal to be free, then goes as the owner's own would.
async fn pay_in_turn(
    session: &mut Session,
    shared: &Shared,
    handed: Handed<'_>,
    link_wait: Option<Duration>,
    resolve_wait: Duration,
    config: &Config,
) -> Result<Report, Failure> {
    let Handed {
        who,
        req,
        supervised,
    } = handed;
    let mut turn = shared
        .turn(|| {
            session.progress.say(&format!(
                "waiting in lane {}'s queue: another till's payment goes first",
                config.lane.value
            ))
        })
        .await;
    let tell = |stage| {
        shared.announce(Event::Forwarded {
            who: who.to_string(),
            req: req.clone(),
            stage,
        })
    };
    let done = loop {
        let idle = shared
            .idle(|order_no| {
                tell(Forwarded::Waiting);
                session.progress.say(&format!(
                    "waiting: {order_no} is on the terminal; this {} goes next",
                    req.kind().name()
                ))
            })
            .await;
        if !idle {
            break Err(refusal_failure(Refusal::ShuttingDown));
        }
        if let Err(failure) = link_up(shared, link_wait).await {
            break Err(failure);
        }
        session.recovered(resolve_wait).await;
        tracing::info!(%who, kind = req.kind().name(), "payment handed over by another till");
        turn.started();
        tell(Forwarded::Started);
        match session
            .pay(req.clone(), supervised, resolve_wait, config, None)
            .await
        {
            // The owner's own payment went first after all: this one waits for it.
            Err(f) if f.code == Code::LaneBusy => continue,
            done => break done,
        }
    };
    tell(Forwarded::Ended);
    done
}

/// A payment another till handed over: who handed it, what, and whether the
/// supervisor's PIN came with it.
struct Handed<'a> {
    who: &'a str,
    req: PayRequest,
    supervised: bool,
}

/// Waits up to `wait` for the owner's link to the terminal; None: the command needs
/// no link.
async fn link_up(shared: &Shared, wait: Option<Duration>) -> Result<(), Failure> {
    match wait {
        Some(wait) if !shared.up(wait).await => Err(Failure::new(
            Exit::Unreachable,
            format!(
                "terminal unreachable: no connection within {}s",
                wait.as_secs()
            ),
        )),
        _ => Ok(()),
    }
}

/// How long a command waits for the link (None: it needs none), and for an unknown
/// outcome to resolve before leaving it to `till recover`.
#[derive(Clone, Copy)]
struct Waits {
    connect: Option<Duration>,
    resolve: Duration,
}

impl Waits {
    fn of(settings: &lane::Settings, route: Route) -> Waits {
        Waits {
            connect: needs_link(settings, route)
                .then(|| settings.link.connect_timeout + Duration::from_secs(1)),
            resolve: settings.link.request_timeout * 2,
        }
    }
}

/// Through the cloud the LAN link is needed only to learn the terminal's serial.
fn needs_link(settings: &lane::Settings, route: Route) -> bool {
    route == Route::Lan
        || settings
            .cloud
            .as_ref()
            .is_none_or(|c| c.terminal_sn.is_none())
}

/// The next signal; never, for a request without signals of its own (one another till
/// handed over: that till has them).
async fn next_signal(signals: &mut Option<&mut Signals>) -> &'static str {
    match signals {
        Some(signals) => signals.next().await,
        None => std::future::pending().await,
    }
}

fn interrupted(signal: &str) -> Failure {
    Failure::new(
        Exit::Interrupted,
        format!("stopped by {signal} before anything was sent: nothing was done"),
    )
}

enum Action {
    Pay(PayRequest),
    Query(String),
    Close(String),
    Recover,
    Send(String),
    Unpair(String),
    /// A supervisor's override of an unresolved row.
    Resolve {
        order: String,
        to: TxnState,
        note: String,
    },
}

impl Action {
    /// The command, as another till waiting for the lane is told.
    fn name(&self) -> &'static str {
        match self {
            Action::Pay(req) => req.kind().name(),
            Action::Query(_) => "query",
            Action::Close(_) => "close",
            Action::Recover => "recover",
            Action::Send(_) => "send",
            Action::Unpair(_) => "unpair",
            Action::Resolve { .. } => "resolve",
        }
    }

    /// What the supervisor PIN would be asked for.
    fn act(&self) -> Option<Act> {
        match self {
            Action::Pay(req) => Some(Act::of(req)),
            Action::Resolve { .. } => Some(Act::Override),
            _ => None,
        }
    }

    fn moves_money(&self) -> bool {
        matches!(self, Action::Pay(_))
    }
}

struct Session {
    lane: LaneHandle,
    events: UnboundedReceiver<Event>,
    progress: Progress,
    unresolved: Vec<String>,
    /// The last word on why each unresolved order is not settled yet.
    why: BTreeMap<String, String>,
    /// The unresolved orders the lane is settling by query.
    resolving: Vec<String>,
    /// A second signal stopped the wait for a payment's answer.
    forced: bool,
    /// The way the command goes: the LAN or the cloud gateway.
    route: Route,
}

impl Session {
    fn new(
        lane: LaneHandle,
        events: UnboundedReceiver<Event>,
        progress: Progress,
        route: Route,
    ) -> Session {
        Session {
            lane,
            events,
            progress,
            unresolved: Vec::new(),
            why: BTreeMap::new(),
            resolving: Vec::new(),
            forced: false,
            route,
        }
    }

    /// A command that moves no money, once the link is up (when it needs it).
    /// `on_terminal` is a payment in its card flow, which is not unresolved.
    async fn work(
        &mut self,
        action: Action,
        waits: Waits,
        config: &Config,
        on_terminal: impl FnOnce() -> Option<String>,
    ) -> Result<Report, Failure> {
        match action {
            Action::Query(order) => self.query(order, config).await,
            Action::Close(order) => self.close(order).await,
            Action::Recover => {
                // The lane settles them on its own; this asks it to try now.
                self.lane.recover().await;
                self.recovered(waits.resolve).await;
                // The journal's word: what a lane that does not answer left is there too.
                let paying = on_terminal();
                let unresolved: Vec<String> = open_journal(config)?
                    .unresolved_on(&config.lane.value)
                    .map_err(|e| Failure::new(Exit::Unreachable, e.to_string()))?
                    .into_iter()
                    .map(|r| r.order_no)
                    .filter(|o| paying.as_ref() != Some(o))
                    .collect();
                Ok(super::output::recover_report(&unresolved, &self.why))
            }
            Action::Send(json) => self.send(json).await,
            Action::Unpair(json) => {
                let answer = self.lane.raw(json).await.map_err(refusal_failure)?;
                Ok(super::pair::unpair_report(answer.as_ref()))
            }
            Action::Pay(_) | Action::Resolve { .. } => Err(Failure::new(
                Exit::Usage,
                format!("{} is not answered here", action.name()),
            )),
        }
    }

    /// The next event, or None at the deadline or when the lane stopped.
    async fn next(&mut self, until: Instant) -> Option<Event> {
        let until = tokio::time::Instant::from_std(until);
        let event = tokio::time::timeout_at(until, self.events.recv())
            .await
            .ok()??;
        match &event {
            Event::Unresolved { orders, by_query } => {
                self.unresolved = orders.clone();
                self.resolving = by_query.clone();
            }
            Event::Progress { order_no, step } => {
                if let Step::Unknown { why } | Step::StillUnknown { why, .. } = step {
                    self.why.insert(order_no.clone(), why.clone());
                }
                self.progress.say(&format!("{order_no}: {step}"))
            }
            Event::Link(LinkNews::Down { reason, .. }) => {
                self.progress.say(&format!("link down: {reason}"))
            }
            _ => {}
        }
        self.progress.tick();
        Some(event)
    }

    async fn connected(&mut self, wait: Duration) -> Result<(), Failure> {
        let until = Instant::now() + wait;
        self.progress.say("connecting to the terminal");
        loop {
            match self.next(until).await {
                Some(Event::Link(LinkNews::Connected)) => {
                    // A payment records the serial the terminal gives in answer to init
                    // (only that terminal settles it): wait a moment for it.
                    let said = Instant::now() + Duration::from_secs(3);
                    while let Some(e) = self.next(said.min(until)).await {
                        if matches!(e, Event::Link(LinkNews::Device(_) | LinkNews::Down { .. })) {
                            break;
                        }
                    }
                    return Ok(());
                }
                Some(Event::Link(LinkNews::Down { reason, .. })) => {
                    return Err(Failure::new(
                        Exit::Unreachable,
                        format!("terminal unreachable: {reason}"),
                    ));
                }
                Some(_) => {}
                None => {
                    return Err(Failure::new(
                        Exit::Unreachable,
                        format!(
                            "terminal unreachable: no connection within {}s",
                            wait.as_secs()
                        ),
                    ));
                }
            }
        }
    }

    /// Lets the start-up recovery of earlier unresolved rows finish (bounded).
    async fn recovered(&mut self, wait: Duration) {
        let until = Instant::now() + wait;
        // The lane announced the unresolved set as its first event, before the link
        // came up; `next` keeps it current. What no query can settle is not waited for.
        while !self.resolving.is_empty() {
            if self.next(until).await.is_none() {
                return;
            }
        }
    }

    async fn pay(
        &mut self,
        req: PayRequest,
        supervised: bool,
        resolve_wait: Duration,
        config: &Config,
        mut signals: Option<&mut Signals>,
    ) -> Result<Report, Failure> {
        // Not interrupted: once asked, the lane may have sent it.
        let cloud_sale = self.route == Route::Cloud && matches!(req, PayRequest::Sale { .. });
        let paid = self.lane.pay_routed(req, self.route, supervised).await;
        let order_no = paid.map_err(refusal_failure)?;
        self.progress
            .say(&format!("{order_no}: follow the prompts on the terminal"));
        // The card flow has its own deadline in the link; after an unknown outcome the
        // wait for resolution is bounded here.
        let mut until = Instant::now() + Duration::from_secs(24 * 3600);
        let mut batch_totals = None;
        loop {
            let event = tokio::select! {
                event = self.next(until) => event,
                signal = next_signal(&mut signals) => {
                    let received = signals.as_ref().map_or(0, |s| s.received());
                    if received == 1 && cloud_sale {
                        // A sale pushed through the cloud is withdrawn from the terminal;
                        // the query that follows books what really happened.
                        let closed = self.lane.close_order_via(order_no.clone(), Via::Cloud).await;
                        self.progress.say(&format!(
                            "{signal}: asked the gateway to close {order_no} ({}); waiting for its final state",
                            match closed {
                                Ok(answer) => answer.why,
                                Err(e) => e.to_string(),
                            }
                        ));
                        continue;
                    }
                    if received == 1 {
                        let again = match signal {
                            "SIGINT" => "press Ctrl-C again",
                            _ => "send the signal again",
                        };
                        self.progress.say(&format!(
                            "{signal}: {order_no} is with the terminal; waiting for its answer so it is booked ({again} to stop waiting and leave it for `till recover`)"
                        ));
                        continue;
                    }
                    self.forced = true;
                    let mut report = self.as_journaled(&order_no, config)?;
                    report.human.push_str(&format!("\nstopped waiting on {signal}"));
                    report.json["interrupted"] = signal.into();
                    return Ok(report);
                }
            };
            match event {
                Some(Event::Done { row, reply }) if row.order_no == order_no => {
                    let terminal = reply.map(|r| serde_json::Value::Object(r.biz.all));
                    return Ok(txn_report(&row, config, terminal, batch_totals));
                }
                Some(Event::BatchClosed { report }) => batch_totals = Some(report),
                Some(Event::Progress { order_no: o, .. }) if o == order_no => {
                    until = until.min(Instant::now() + resolve_wait);
                }
                Some(_) => {}
                None => return self.as_journaled(&order_no, config),
            }
        }
    }

    /// The row as the journal has it now, for a command that stops waiting.
    fn as_journaled(&self, order_no: &str, config: &Config) -> Result<Report, Failure> {
        let row = open_journal(config)?
            .find(order_no)
            .map_err(|e| Failure::new(Exit::Unreachable, e.to_string()))?
            .ok_or_else(|| Failure::new(Exit::Unknown, format!("{order_no}: outcome unknown")))?;
        Ok(txn_report(&row, config, None, None))
    }

    async fn query(&mut self, order: String, config: &Config) -> Result<Report, Failure> {
        let result = self
            .lane
            .query_via(order.clone(), self.route.via())
            .await
            .map_err(refusal_failure)?;
        let unheard_of = result.row.is_none()
            && result
                .answer
                .as_ref()
                .and_then(|a| a.reply.as_ref())
                .is_some_and(is_not_found);
        if unheard_of {
            return Err(Failure::new(
                Exit::Usage,
                format!("order {order} not found: neither the terminal nor the journal knows it"),
            )
            .code(Code::NotFound));
        }
        Ok(super::output::query_report(&order, &result, config))
    }

    async fn close(&mut self, order: String) -> Result<Report, Failure> {
        let answer = self
            .lane
            .close_order_via(order.clone(), self.route.via())
            .await
            .map_err(refusal_failure)?;
        Ok(super::output::answer_report(
            &format!("close {order}"),
            &answer,
        ))
    }

    async fn send(&mut self, json: String) -> Result<Report, Failure> {
        let answer = self.lane.raw(json).await.map_err(refusal_failure)?;
        // Whatever else arrives shortly after is shown too.
        let until = Instant::now() + Duration::from_millis(500);
        let mut frames = Vec::new();
        while let Some(event) = self.next(until).await {
            if let Event::Link(LinkNews::Wire {
                dir: Direction::In,
                text,
            }) = event
            {
                frames.push(text);
            }
        }
        Ok(super::output::send_report(answer.as_ref(), &frames))
    }
}

/// Who overrides a row, as the audit trail names them: the person at the till that
/// asked (`$USER`), and whether the supervisor PIN was given.
fn override_by(supervised: bool, user: Option<&str>) -> String {
    let who = user
        .map(String::from)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "supervisor".into());
    match supervised {
        true => format!("supervisor:{who} ({SUPERVISOR_PIN_GIVEN})"),
        false => format!("supervisor:{who}"),
    }
}

fn resolve(
    config: &Config,
    order: &str,
    to: TxnState,
    note: &str,
    who: &str,
) -> Result<Report, Failure> {
    let mut journal = open_journal(config)?;
    let row = journal
        .override_state(order, to, note, who, &config.lane.value)
        .map_err(|e| Failure::new(Exit::Usage, e.to_string()))?;
    Ok(resolved_report(order, &row, config))
}

fn resolved_report(order: &str, row: &TxnRow, config: &Config) -> Report {
    Report {
        exit: Exit::Ok,
        human: format!(
            "{order} marked {} by override\n{}",
            row.state.name(),
            row_human(row)
        ),
        json: row_json(row, config),
    }
}

fn txn_report(
    row: &TxnRow,
    config: &Config,
    terminal: Option<serde_json::Value>,
    batch: Option<BatchReport>,
) -> Report {
    let exit = match row.state {
        TxnState::Approved => Exit::Ok,
        TxnState::Declined => Exit::Declined,
        TxnState::Pending | TxnState::Unknown => Exit::Unknown,
    };
    let mut json = row_json(row, config);
    let mut human = row_human(row);
    if rules::needs_person(row) {
        human.push_str(&format!(
            "\nthe terminal approved it, but its amount cannot be read: check the receipt, then settle it with `till resolve {} --as approved|declined --note ...`",
            row.order_no
        ));
    } else if row.state == TxnState::Unknown || row.state == TxnState::Pending {
        human.push_str("\noutcome unknown: left unresolved; `till recover` finishes it when the terminal answers");
    }
    if row.kind == TxnKind::BatchClose {
        if let Some(report) = &batch {
            json["journal_totals"] = super::output::batch_json(report, config);
            human.push_str("\n\n");
            human.push_str(&super::output::batch_human(report, config));
        }
        if let Some(terminal) = &terminal {
            json["terminal_reply"] = terminal.clone();
            human.push_str(&format!("\nterminal: {terminal}"));
        }
    }
    Report { exit, human, json }
}

fn refusal_failure(r: Refusal) -> Failure {
    let exit = match r {
        Refusal::NotConnected | Refusal::Busy(_) | Refusal::Journal(_) | Refusal::ShuttingDown => {
            Exit::Unreachable
        }
        Refusal::Unresolved { .. } | Refusal::OpenPayment(_) => Exit::Unknown,
        Refusal::PossibleDuplicate { .. } => Exit::Usage,
        Refusal::Invalid(_) | Refusal::AskGateway(_) => Exit::Usage,
    };
    let code = match &r {
        Refusal::PossibleDuplicate { .. } => Code::Duplicate,
        Refusal::Busy(_) => Code::LaneBusy,
        _ => Code::usual(exit),
    };
    let message = match &r {
        Refusal::PossibleDuplicate {
            amount,
            order_no,
            ago_secs,
        } => format!(
            "a sale of {amount} was approved {ago_secs}s ago ({order_no}); add --force to charge again"
        ),
        other => other.to_string(),
    };
    Failure::new(exit, message).code(code)
}
