//! The way in: a cheap, cloneable sender of commands to the actor.

use tokio::sync::{mpsc, oneshot};

use crate::journal::{TxnRow, TxnState, Via};
use crate::lane::command::{Command, PayRequest, QueryResult, Refusal, Route};
use crate::lane::options::SaleOptions;
use crate::link::{Answer, Target};

/// The way in: a cheap, cloneable sender of commands.
#[derive(Clone)]
pub struct LaneHandle {
    pub(super) tx: mpsc::Sender<Command>,
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

    /// `pay` by the way the request goes; `supervisor` when a supervisor allowed it with
    /// the PIN, for the journal's audit trail.
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

    pub(crate) async fn query_via(
        &self,
        order_no: String,
        via: Via,
    ) -> Result<QueryResult, Refusal> {
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
    pub(crate) async fn resolve_by(
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

    pub(crate) async fn set_sale_defaults(&self, defaults: SaleOptions) {
        let _ = self.tx.send(Command::SaleDefaults(defaults)).await;
    }

    pub async fn shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown).await;
    }
}
