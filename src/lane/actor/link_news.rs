//! What the link reports: answers to whoever asked, stray replies, and news of the
//! connection for the events.

use std::time::Instant;

use super::record::record_of;
use super::{Actor, Inflight};
use crate::ecr::{Outcome, Reply, Topic, names_other_order, outcome_for};
use crate::journal::TxnState;
use crate::lane::command::{Event, LinkNews, PausePoint, QueryResult};
use crate::link::{Answer, LinkEvent, LinkState};

impl Actor {
    /// Acts on what the link reported and passes it on. Answers end here: whoever
    /// asked gets them through the lane's own replies and events.
    pub(super) fn pump_link_events(&mut self) {
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
                    self.terminal_known();
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

    pub(super) fn on_answer(&mut self, answer: Answer) {
        let Some(inflight) = self.inflight.remove(&answer.request_id) else {
            return;
        };
        match inflight {
            Inflight::Pay { order_no } => self.on_pay_answer(&order_no, answer),
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

    /// The answer to a payment: booked when final and about this row, else the row is
    /// unknown and resolved by query.
    fn on_pay_answer(&mut self, order_no: &str, answer: Answer) {
        self.pause(PausePoint::AfterReply);
        // Checked against the number on the wire: a tip adjustment is sent
        // under its sale's number, a batch close under none.
        let (outcome, why) = match (&answer.reply, &answer.order_no) {
            _ if let Some(why) = self.other_terminal(order_no) => (Outcome::Unknown, why),
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
                let rec = self.final_record(order_no, state, answer.reply.as_ref(), answer.raw);
                self.record(order_no, &rec, &why, answer.reply);
            }
            Outcome::Unknown => {
                // Another order's answer says nothing of this row: keep none of it.
                let (reply, raw) = if why == answer.why {
                    (answer.reply.as_ref(), answer.raw)
                } else {
                    (None, None)
                };
                let rec = record_of(TxnState::Unknown, reply, raw);
                if let Err(e) = self.journal.record_outcome(order_no, &rec, &why) {
                    tracing::error!("recording unknown outcome of {order_no}: {e}");
                }
                self.start_resolving(order_no, &why);
                self.emit_unresolved();
            }
        }
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
}
