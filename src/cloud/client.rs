//! The HTTP side: one signed POST per request, its answer judged as an `Answer` in the
//! LAN's vocabulary. Nothing here retries: an answer that is not a trusted verdict is
//! `Outcome::Unknown`, and the lane resolves it by a signed query.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use super::settings::CloudSettings;
use super::wire::{self, Call, Decoded, Terminal};
use crate::ecr::{Answer, Operation, Outcome, outcome_for};

/// Epoch milliseconds; injected so tests fix the time the requests carry.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp_millis())
}

#[derive(Clone)]
pub struct CloudClient {
    http: reqwest::Client,
    settings: Arc<CloudSettings>,
    clock: Clock,
}

/// A request ready to go: the call and its signed body.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub(crate) call: Call,
    pub(crate) body: String,
}

impl CloudClient {
    pub fn new(settings: CloudSettings, clock: Clock) -> Result<CloudClient, String> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()
            .map_err(|e| format!("cloud HTTP client: {e}"))?;
        Ok(CloudClient {
            http,
            settings: Arc::new(settings),
            clock,
        })
    }

    pub(crate) fn settings(&self) -> &CloudSettings {
        &self.settings
    }

    pub(crate) fn now_ms(&self) -> i64 {
        (self.clock)()
    }

    /// The signed request for an operation.
    pub fn prepare(&self, op: &Operation, terminal: &Terminal) -> Result<Prepared, String> {
        let call = wire::call_for(op, &self.settings, terminal)?;
        let body =
            wire::signed_body(&self.settings, &call, self.now_ms()).map_err(|e| e.to_string())?;
        Ok(Prepared {
            call,
            body: serde_json::Value::Object(body).to_string(),
        })
    }

    /// Posts a prepared request; the future owns all it needs, so the lane can await
    /// it beside its other work.
    pub fn send(
        &self,
        prepared: Prepared,
        request_id: String,
    ) -> impl Future<Output = Answer> + Send + 'static {
        let client = self.clone();
        async move {
            let started = Instant::now();
            let Prepared { call, body } = prepared;
            let (outcome, reply, why, raw) = match client.post(body).await {
                Err(why) => (Outcome::Unknown, None, why, None),
                Ok((text, _)) => match wire::decode(&text, &client.settings.gateway_key) {
                    (Decoded::Trusted { reply, psn }, raw) => {
                        let outcome = outcome_for(call.topic, &reply);
                        let why = format!(
                            "gateway answered {} {} (psn {})",
                            reply.response_code.as_deref().unwrap_or("-"),
                            reply.message(),
                            psn.as_deref().unwrap_or("-")
                        );
                        (outcome, Some(*reply), why, Some(raw))
                    }
                    (Decoded::Untrusted { why }, raw) => (
                        Outcome::Unknown,
                        None,
                        format!("untrusted answer: {why}"),
                        Some(raw),
                    ),
                },
            };
            Answer {
                request_id,
                topic: call.topic,
                order_no: call.order_no,
                outcome,
                reply,
                why,
                elapsed: started.elapsed(),
                raw,
            }
        }
    }

    /// A signed query for an order no one has, for `till doctor`: whether the gateway
    /// answers and its answer verifies, and the gateway's time (epoch ms) when it says.
    pub(crate) async fn probe(&self, order_no: &str) -> (Result<Decoded, String>, Option<i64>) {
        let op = Operation::Query {
            order_no: order_no.to_string(),
        };
        let terminal = Terminal::One(self.settings.terminal_sn.clone().unwrap_or_default());
        let prepared = match self.prepare(&op, &terminal) {
            Ok(p) => p,
            Err(e) => return (Err(e), None),
        };
        match self.post(prepared.body).await {
            Ok((text, date)) => (Ok(wire::decode(&text, &self.settings.gateway_key).0), date),
            Err(why) => (Err(why), None),
        }
    }

    /// One POST; the answer's text and the gateway's `Date` (epoch ms), or why there is
    /// none worth reading.
    async fn post(&self, body: String) -> Result<(String, Option<i64>), String> {
        let response = self
            .http
            .post(self.settings.endpoint())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| transport(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the gateway answered HTTP {status}"));
        }
        let date = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.timestamp_millis());
        let text = response.text().await.map_err(|e| transport(&e))?;
        Ok((text, date))
    }
}

fn transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer from the gateway in time".into()
    } else {
        format!("cannot reach the gateway: {e}")
    }
}
