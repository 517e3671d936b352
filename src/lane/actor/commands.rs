//! The commands a person or a script sends, but payments (`pay`): queries, closes,
//! heartbeats, raw frames, overrides, retargeting.

use std::time::Instant;

use tokio::sync::oneshot;

use super::pay::journal_refusal;
use super::{Actor, Inflight};
use crate::ecr::{Operation, Topic, new_request_id};
use crate::journal::Via;
use crate::lane::command::{Command, Event, LinkNews, Refusal, Route};
use crate::link::{Answer, SendError, Target};

impl Actor {
    pub(super) async fn on_command(&mut self, command: Command) {
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
}
