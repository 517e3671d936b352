//! Recovery: unknown outcomes resolved by query, and only by the terminal that took
//! the payment, with back-off between attempts.

use std::time::{Duration, Instant};

use super::{Actor, Inflight, Resolving};
use crate::cloud::Terminal;
use crate::ecr::{
    Operation, QueryVerdict, Reply, names_other_order, new_request_id, query_verdict, tip_verdict,
};
use crate::journal::{TxnKind, TxnRow, TxnState, Via};
use crate::lane::command::{Event, Step};
use crate::link::{SendError, backoff};

impl Actor {
    /// Rows left pending or unknown by an earlier run are resolved before new work.
    pub(super) fn resume_unresolved(&mut self) {
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

    pub(super) fn emit_unresolved(&self) {
        match self.journal.unresolved_on(&self.settings.lane_id) {
            Ok(rows) => {
                // Not those left for a person (see `final_record`), nor those only
                // another terminal can settle: waiting for them waits for a person too.
                let by_query = rows
                    .iter()
                    .filter(|r| self.resolving.contains_key(&r.order_no))
                    .filter(|r| !self.taken_by_another(r))
                    .map(|r| r.order_no.clone())
                    .collect();
                let orders = rows.into_iter().map(|r| r.order_no).collect();
                self.emit(Event::Unresolved { orders, by_query })
            }
            Err(e) => tracing::error!("reading unresolved rows: {e}"),
        }
    }

    /// The terminal said who it is: rows waiting for it may be asked now; those another
    /// terminal took say so and wait for it, and which a query can settle is news.
    pub(super) fn terminal_known(&mut self) {
        let now = Instant::now();
        for r in self.resolving.values_mut() {
            r.next_at = now;
        }
        let held: Vec<(String, String)> = self
            .resolving
            .iter()
            .filter(|(_, r)| !r.asking && r.via == Via::Lan)
            .filter_map(|(o, _)| Some((o.clone(), self.other_terminal(o)?)))
            .collect();
        for (order_no, why) in held {
            let wait = self.settings.query_retry_max;
            self.retry_in(&order_no, why, wait);
        }
        self.emit_unresolved();
    }

    pub(super) fn next_resolve_at(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let link_up = self.link.is_up();
        self.resolving
            .values()
            .filter(|r| !r.asking && (link_up || r.via == Via::Cloud))
            .map(|r| r.next_at)
            .min()
            .unwrap_or(far)
    }

    pub(super) fn start_resolving(&mut self, order_no: &str, why: &str) {
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
    pub(super) async fn ask_due(&mut self) {
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
                // Another device's "not found" or approval says nothing of this row. Its
                // own terminal's return comes as link news, which asks at once: until
                // then, the slowest pace.
                let wait = self.settings.query_retry_max;
                self.retry_in(&order_no, why, wait);
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

    /// The row went out over the LAN to a terminal other than the one that answers
    /// now, by its serial.
    fn taken_by_another(&self, row: &TxnRow) -> bool {
        match (&row.terminal_sn, &self.link_sn) {
            (Some(took), Some(now)) => row.via == Via::Lan && took != now,
            _ => false,
        }
    }

    /// Why the terminal on the line now may not settle `order_no`: the row went over
    /// the LAN to a terminal that reported another serial (a replacement, another
    /// device at the address, a second device advertising the serial), or this
    /// connection's terminal has not said its serial yet. None when it may.
    pub(super) fn other_terminal(&self, order_no: &str) -> Option<String> {
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
    pub(super) fn tip_row(&self, order_no: &str) -> Option<TxnRow> {
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
        let Some(r) = self.resolving.get(order_no) else {
            return;
        };
        let delay = backoff(
            r.attempts,
            self.settings.query_retry_min,
            self.settings.query_retry_max,
        );
        self.retry_in(order_no, why, delay);
    }

    fn retry_in(&mut self, order_no: &str, why: String, delay: Duration) {
        let Some(r) = self.resolving.get_mut(order_no) else {
            return;
        };
        r.asking = false;
        r.next_at = Instant::now() + delay;
        self.emit(Event::Progress {
            order_no: order_no.to_string(),
            step: Step::StillUnknown {
                why,
                retry_secs: delay.as_secs().max(1),
            },
        });
    }

    /// What a query answer says about an unresolved row.
    pub(super) fn apply_query(
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
            rec.reply.response_msg = Some(why.to_string());
        }
        self.record(order_no, &rec, why, reply.cloned());
    }
}

fn resolvable_by_query(kind: &TxnKind) -> bool {
    // A batch close has no order for the terminal to look up.
    !matches!(kind, TxnKind::BatchClose)
}
