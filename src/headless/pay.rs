//! Commands that go through the lane actor: payments, queries, recovery, the raw
//! console.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedReceiver;

use super::output::{Progress, Report, row_human, row_json};
use super::signals::Signals;
use super::{BRIEF_LANE_WAIT, Code, Exit, Failure, open_journal, take_lane};
use crate::cli::{Cmd, ResolveAs, Scenario};
use crate::config::Config;
use crate::ecr::{Direction, PayScenario, TransType, is_not_found};
use crate::journal::{SUPERVISOR_PIN_GIVEN, TxnKind, TxnRow, TxnState, check_order_no, rules};
use crate::lane::{
    self, Event, LaneHandle, LinkNews, PausePoint, PayRequest, Refusal, Route, Step, Via,
};
use crate::money::Money;
use crate::supervisor::Act;

pub async fn run(config: &Config, cmd: Cmd) -> Result<Report, Failure> {
    let mut signals = Signals::install()
        .map_err(|e| Failure::new(Exit::Unreachable, format!("cannot catch signals: {e}")))?;
    // Overrides need no terminal: the terminal may be gone for good.
    if let Cmd::Resolve {
        order,
        state,
        note,
        supervisor,
    } = &cmd
    {
        let supervised =
            super::supervisor::authorize(config, &Act::Override, supervisor.pin.as_deref())?;
        let _owner = take_lane(config, "till resolve", BRIEF_LANE_WAIT).await?;
        return resolve(config, order, *state, note, supervised);
    }
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

    let link = config.link()?;
    // Asked before the lane is taken: nothing is journaled or sent without it.
    let supervised = match &action {
        Action::Pay(req) => super::supervisor::authorize(config, &Act::of(req), pin.as_deref())?,
        _ => false,
    };
    // A payment waits for another till's payment on the lane to end; the rest need not.
    let lane_wait = match &action {
        Action::Pay(_) => link.card_flow_timeout + link.request_timeout,
        _ => BRIEF_LANE_WAIT,
    };
    let holder = format!("till {}", action.name());
    let owner = tokio::select! {
        owner = take_lane(config, &holder, lane_wait) => owner?,
        signal = signals.next() => return Err(interrupted(signal)),
    };
    let journal = open_journal(config)?;
    let mut settings = config.lane_settings()?;
    // The command itself waits for resolution (bounded); once it has reported, what is
    // still unknown is left to the next start rather than holding the shell.
    settings.shutdown_grace = Duration::ZERO;
    settings.pause_at = std::env::var("TILL_PAUSE_AT")
        .ok()
        .as_deref()
        .and_then(PausePoint::parse);
    // How long a command waits for an unknown outcome to resolve before leaving it
    // to `till recover`.
    let resolve_wait = settings.link.request_timeout * 2;
    let connect_wait = settings.link.connect_timeout + Duration::from_secs(1);

    // Through the cloud the LAN link is needed only to learn the terminal's serial.
    let needs_link = route == Route::Lan
        || settings
            .cloud
            .as_ref()
            .is_none_or(|c| c.terminal_sn.is_none());
    let (lane, events, task) = lane::spawn(settings, journal, owner);
    let mut session = Session {
        lane,
        events,
        progress: Progress::new(),
        unresolved: Vec::new(),
        why: BTreeMap::new(),
        resolving: Vec::new(),
        forced: false,
        route,
    };
    let result = async {
        if let Action::Pay(req) = action {
            // Nothing is sent until the lane is ready: until then a signal stops it all.
            let ready = async {
                if needs_link {
                    session.connected(connect_wait).await?;
                }
                session.recovered(resolve_wait).await;
                Ok::<(), Failure>(())
            };
            tokio::select! {
                ready = ready => ready?,
                signal = signals.next() => return Err(interrupted(signal)),
            }
            return session
                .pay(req, supervised, resolve_wait, config, &mut signals)
                .await;
        }
        // The rest moves no money: a signal simply stops it.
        let work = async {
            if needs_link {
                session.connected(connect_wait).await?;
            }
            match action {
                Action::Query(order) => session.query(order, config).await,
                Action::Close(order) => session.close(order).await,
                Action::Recover => {
                    session.recovered(resolve_wait).await;
                    Ok(super::output::recover_report(
                        &session.unresolved,
                        &session.why,
                    ))
                }
                Action::Send(json) => session.send(json).await,
                Action::Unpair(json) => {
                    let answer = session.lane.raw(json).await.map_err(refusal_failure)?;
                    Ok(super::pair::unpair_report(answer.as_ref()))
                }
                Action::Pay(_) => unreachable!("handled above"),
            }
        };
        tokio::select! {
            done = work => done,
            signal = signals.next() => Err(interrupted(signal)),
        }
    }
    .await;
    if session.forced {
        // The payment is still with the terminal; its row stays for `till recover`.
        return result;
    }
    session.lane.shutdown().await;
    drop(session);
    let _ = task.await;
    result
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
        }
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
        signals: &mut Signals,
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
                signal = signals.next() => {
                    if signals.received() == 1 && cloud_sale {
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
                    if signals.received() == 1 {
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

fn resolve(
    config: &Config,
    order: &str,
    state: ResolveAs,
    note: &str,
    supervised: bool,
) -> Result<Report, Failure> {
    let mut journal = open_journal(config)?;
    let to = match state {
        ResolveAs::Approved => TxnState::Approved,
        ResolveAs::Declined => TxnState::Declined,
    };
    let who = std::env::var("USER").unwrap_or_else(|_| "supervisor".into());
    let who = match supervised {
        true => format!("supervisor:{who} ({SUPERVISOR_PIN_GIVEN})"),
        false => format!("supervisor:{who}"),
    };
    let row = journal
        .override_state(order, to, note, &who, &config.lane.value)
        .map_err(|e| Failure::new(Exit::Usage, e.to_string()))?;
    Ok(Report {
        exit: Exit::Ok,
        human: format!(
            "{order} marked {} by override\n{}",
            row.state.name(),
            row_human(&row)
        ),
        json: row_json(&row, config),
    })
}

fn txn_report(
    row: &TxnRow,
    config: &Config,
    terminal: Option<serde_json::Value>,
    batch: Option<crate::journal::BatchReport>,
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
