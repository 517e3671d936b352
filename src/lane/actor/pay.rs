//! A payment: checked, admitted by the journal, then sent over the LAN or the cloud.

use super::{Actor, Inflight};
use crate::cloud::Terminal;
use crate::ecr::{TransType, new_request_id};
use crate::journal::JournalError;
use crate::journal::{
    GatewayOriginal, OutcomeRecord, Refused, Request, TerminalReply, TxnRow, TxnState, rules,
};
use crate::lane::command::{Event, PausePoint, PayRequest, Refusal, Route};
use crate::lane::original;
use crate::link::{Answer, SendError};
use crate::money::Money;

impl Actor {
    /// Journals a payment and sends it; its order number once it is on its way.
    pub(super) async fn pay(
        &mut self,
        req: PayRequest,
        route: Route,
        supervisor: bool,
        original: Option<Box<Answer>>,
    ) -> Result<String, Refusal> {
        let terminal = self.may_pay(&req, route)?;
        let original = self.gateway_original(&req, route, original)?;
        let req = self.for_original(
            req.with_defaults(&self.settings.sale_defaults),
            original.as_ref(),
        );
        let request_id = new_request_id();
        let row = self.admit(
            &req,
            route,
            supervisor,
            terminal.as_ref(),
            original,
            &request_id,
        )?;
        self.send_admitted(&req, row, terminal.as_ref(), &request_id)
            .await
    }

    /// Whether a payment may start now, and the cloud terminal it names when it goes
    /// through the cloud.
    fn may_pay(&mut self, req: &PayRequest, route: Route) -> Result<Option<Terminal>, Refusal> {
        if self.shutdown_since.is_some() {
            return Err(Refusal::ShuttingDown);
        }
        if let Some(order_no) = self.paying() {
            return Err(Refusal::Busy(order_no.to_string()));
        }
        if route == Route::CloudAllTerminals && *req != PayRequest::BatchClose {
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
        Ok(terminal)
    }

    /// The journal's admission of the payment, its refusal in the lane's words.
    fn admit(
        &mut self,
        req: &PayRequest,
        route: Route,
        supervisor: bool,
        terminal: Option<&Terminal>,
        original: Option<GatewayOriginal>,
        request_id: &str,
    ) -> Result<TxnRow, Refusal> {
        let (amount, tip, cashback) = amounts(req);
        let force = matches!(req, PayRequest::Sale { force: true, .. });
        let admitted = self.journal.admit(&Request {
            request_id: request_id.to_string(),
            kind: req.kind(),
            amount,
            tip,
            cashback,
            currency: self.settings.currency.clone(),
            exponent: self.settings.exponent,
            orig_order_no: req.orig().map(String::from),
            lane: self.settings.lane_id.clone(),
            scenario: match req {
                PayRequest::Sale { scenario, .. } => Some(scenario.as_wire().to_string()),
                _ => None,
            },
            duplicate_window: (!force).then_some(self.settings.duplicate_window),
            supervisor,
            via: route.via(),
            terminal_sn: match terminal {
                Some(Terminal::One(sn)) => Some(sn.clone()),
                Some(Terminal::All) => Some("all".into()),
                None => self.link_sn.clone(),
            },
            original,
        });
        admitted.map_err(|refused| match refused {
            Refused::Unresolved(orders) => {
                // Rows a run that died left unknown are taken up here, so the refusal
                // does not last for ever.
                self.resume_unresolved();
                Refusal::Unresolved {
                    count: orders.len(),
                    orders: orders.join(", "),
                }
            }
            Refused::PossibleDuplicate {
                amount,
                order_no,
                ago_secs,
            } => Refusal::PossibleDuplicate {
                amount: amount.to_string(),
                order_no,
                ago_secs,
            },
            Refused::Rule(why) => Refusal::Invalid(why),
            Refused::Journal(e) => journal_refusal(e),
        })
    }

    /// Sends an admitted payment. One that cannot leave this machine is booked
    /// declined: no money can have moved.
    async fn send_admitted(
        &mut self,
        req: &PayRequest,
        row: TxnRow,
        terminal: Option<&Terminal>,
        request_id: &str,
    ) -> Result<String, Refusal> {
        let (order_no, amount) = (row.order_no, row.amount);
        self.pause(PausePoint::AfterJournal);

        let op = req.operation(&order_no, &self.settings.currency);
        self.inflight.insert(
            request_id.to_string(),
            Inflight::Pay {
                order_no: order_no.clone(),
            },
        );
        let not_sent = match terminal {
            None => match self.link.request(&op, request_id, None).await {
                Err(SendError::NotConnected) => Some((
                    Refusal::NotConnected,
                    "the terminal is not connected".to_string(),
                )),
                // The link went down mid-write; its unknown Answer is on its way.
                Err(SendError::Failed(_)) | Ok(()) => None,
            },
            Some(terminal) => self
                .cloud_send(&op, terminal, request_id)
                .err()
                .map(|why| (Refusal::Invalid(why.clone()), why)),
        };
        if let Some((refusal, why)) = not_sent {
            // Nothing left this machine: no money can have moved.
            self.inflight.remove(request_id);
            let rec = OutcomeRecord {
                state: TxnState::Declined,
                reply: TerminalReply {
                    response_msg: Some(format!("not sent: {why}")),
                    ..TerminalReply::default()
                },
                ..OutcomeRecord::default()
            };
            self.record(&order_no, &rec, "not sent", None);
            return Err(refusal);
        }
        if let Err(e) = self.journal.mark_sent(&order_no, request_id) {
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

pub(super) fn journal_refusal(e: JournalError) -> Refusal {
    Refusal::Journal(e.to_string())
}
