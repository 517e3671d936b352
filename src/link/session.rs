//! The session with the terminal: connect with a deadline, `ecrhub.init`,
//! application heartbeat, request matching, deadlines, dead-link detection and
//! reconnection with capped, jittered backoff.
//!
//! `Link` is not a task. Its owner (the lane actor) drives it from one `select!` loop:
//! `wait()` is the only part that is raced and is cancel-safe (it only reads the
//! socket, polls the stored connect future or sleeps); everything that writes runs in
//! `handle()` and `request()`, which the owner awaits sequentially. Events pile up in
//! the link and are taken with `take_events()`.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::{self, Message};

use super::dial::{Ws, connect};
use super::timing::{backoff, instant_after};
use super::{
    Answer, ConnectError, Direction, Endpoint, LinkConfig, LinkEvent, LinkState, SendError, Target,
};
use crate::ecr::reply;
use crate::ecr::{
    DecodeError, Operation, Outcome, Reply, Topic, new_request_id, now_ms, outcome_for,
};
use crate::logging;
use crate::logging::FRAME_BYTES;
use crate::mask::{mask_app_id, mask_frame, mask_json, mask_pans_owned};

type Connecting = Pin<Box<dyn Future<Output = Result<(Box<Ws>, Endpoint), ConnectError>> + Send>>;

/// What `wait()` saw; hand it to `handle()`.
pub enum Wake {
    /// The socket and the address it reached.
    Connected(Result<(Box<Ws>, Endpoint), ConnectError>),
    Frame(Option<Result<Message, tungstenite::Error>>),
    Timer,
}

enum Conn {
    Down {
        retry_at: Instant,
    },
    Connecting(Connecting),
    Up {
        ws: Box<Ws>,
        last_rx: Instant,
        next_heartbeat: Instant,
    },
    Closed,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Init,
    Heartbeat,
    Caller,
}

struct Pending {
    topic: Topic,
    order_no: Option<String>,
    sent_at: Instant,
    deadline: Instant,
    purpose: Purpose,
}

pub struct Link {
    cfg: LinkConfig,
    conn: Conn,
    pending: HashMap<String, Pending>,
    failures: u32,
    events: VecDeque<LinkEvent>,
}

impl Link {
    /// A link that starts connecting at once.
    pub fn new(cfg: LinkConfig) -> Link {
        let mut link = Link {
            cfg,
            conn: Conn::Down {
                retry_at: Instant::now(),
            },
            pending: HashMap::new(),
            failures: 0,
            events: VecDeque::new(),
        };
        link.start_connecting();
        link
    }

    pub(crate) fn is_up(&self) -> bool {
        matches!(self.conn, Conn::Up { .. })
    }

    pub fn take_events(&mut self) -> impl Iterator<Item = LinkEvent> + '_ {
        self.events.drain(..)
    }

    /// Every event leaves the link through here, and every text in it is masked: a
    /// close reason, an error or a terminal's message may carry a card number in any
    /// spelling, and these texts reach the screen, stderr, the journal and the log.
    /// Frames are masked field by field (`mask_frame`), so references and our own ids
    /// and timestamps keep their digits; free text by the PCI rule.
    fn emit(&mut self, event: LinkEvent) {
        let event = match event {
            LinkEvent::State(LinkState::Down { reason, retry_in }) => {
                LinkEvent::State(LinkState::Down {
                    reason: mask_pans_owned(reason),
                    retry_in,
                })
            }
            LinkEvent::Wire { dir, text } => LinkEvent::Wire {
                dir,
                text: mask_frame(&text),
            },
            LinkEvent::Answer(mut answer) => {
                answer.why = mask_pans_owned(std::mem::take(&mut answer.why));
                answer.raw = answer.raw.as_deref().map(mask_frame);
                LinkEvent::Answer(answer)
            }
            LinkEvent::Stray { reply, raw, why } => LinkEvent::Stray {
                reply,
                raw: mask_frame(&raw),
                why: mask_pans_owned(why),
            },
            LinkEvent::Malformed { text, error } => LinkEvent::Malformed {
                text: mask_frame(&text),
                error: mask_pans_owned(error),
            },
            other @ (LinkEvent::State(_)
            | LinkEvent::Device(_)
            | LinkEvent::Heartbeat { .. }
            | LinkEvent::Located { .. }) => other,
        };
        self.events.push_back(event);
    }

    /// Waits for the next thing to do. Cancel-safe: it holds no partial work.
    pub async fn wait(&mut self) -> Wake {
        let timer = tokio::time::Instant::from_std(self.next_timer());
        match &mut self.conn {
            Conn::Down { .. } | Conn::Closed => {
                tokio::time::sleep_until(timer).await;
                Wake::Timer
            }
            Conn::Connecting(fut) => tokio::select! {
                result = fut.as_mut() => Wake::Connected(result),
                _ = tokio::time::sleep_until(timer) => Wake::Timer,
            },
            // A frame that has arrived comes first: after a stall (a slow disk under the
            // journal's fsync) it proves the link alive and may be the awaited answer,
            // which a timer taken first would have declared lost.
            Conn::Up { ws, .. } => tokio::select! {
                biased;
                frame = ws.next() => Wake::Frame(frame),
                _ = tokio::time::sleep_until(timer) => Wake::Timer,
            },
        }
    }

    /// Acts on what `wait()` saw: may write (init, heartbeat, close), so the owner
    /// must await it to completion rather than race it.
    pub async fn handle(&mut self, wake: Wake) {
        match wake {
            Wake::Connected(Ok((ws, endpoint))) => {
                if let Some(serial) = self.cfg.target.serial() {
                    let (serial, address) = (serial.to_string(), endpoint.url());
                    self.emit(LinkEvent::Located { serial, address });
                }
                self.on_connected(ws).await
            }
            Wake::Connected(Err(e)) => self.go_down(e.to_string()).await,
            Wake::Frame(Some(Ok(msg))) => {
                self.on_message(msg).await;
                // A terminal that never stops sending must not hold the timers off.
                if Instant::now() >= self.next_timer() {
                    self.on_timer().await;
                }
            }
            Wake::Frame(Some(Err(e))) => self.go_down(format!("connection error: {e}")).await,
            Wake::Frame(None) => {
                self.go_down("the terminal closed the connection".into())
                    .await
            }
            Wake::Timer => self.on_timer().await,
        }
    }

    /// Sends a request under a caller-chosen `request_id` (the lane journals it first).
    /// Its end arrives as `LinkEvent::Answer`. An `Err(Failed)` means the frame may
    /// have reached the terminal: for money, that is an unknown outcome.
    pub async fn request(
        &mut self,
        op: &Operation,
        request_id: &str,
        timeout: Option<Duration>,
    ) -> Result<(), SendError> {
        let timeout = timeout.unwrap_or_else(|| self.cfg.deadline_for(op));
        self.send_op(op, request_id, Purpose::Caller, timeout).await
    }

    /// Sends a raw frame from the technician's console. If it carries a
    /// `request_id` (or `msg_id`) its reply comes back as an `Answer`.
    pub(crate) async fn send_raw(&mut self, text: &str) -> Result<Option<String>, SendError> {
        let parsed = Reply::decode(text).ok();
        let request_id = parsed.as_ref().and_then(|r| r.request_id.clone());
        self.send_text(text.to_string(), None).await?;
        if let (Some(id), Some(reply)) = (&request_id, parsed) {
            let topic = reply
                .topic
                .as_deref()
                .and_then(Topic::parse)
                .unwrap_or(Topic::Heartbeat);
            self.track(
                id,
                topic,
                reply.biz.merchant_order_no,
                Purpose::Caller,
                self.cfg.request_timeout,
            );
        }
        Ok(request_id)
    }

    /// A technician asks: try to connect now instead of after the backoff.
    pub(crate) fn retry_now(&mut self) {
        if let Conn::Down { retry_at } = &mut self.conn {
            *retry_at = Instant::now();
        }
    }

    /// Drops the connection, and what waited on it, and connects to `target` instead
    /// (a `sn:` target is looked up afresh). The owner decides whether that is safe.
    pub(crate) async fn retarget(&mut self, target: Target) {
        self.hang_up().await;
        self.fail_pending("the lane moved to another terminal");
        self.cfg.target = target;
        if !matches!(self.conn, Conn::Closed) {
            self.failures = 0;
            self.start_connecting();
        }
    }

    /// Closes a live socket politely, waiting a second at most.
    async fn hang_up(&mut self) {
        if let Conn::Up { ws, .. } = &mut self.conn {
            let _ = tokio::time::timeout(Duration::from_secs(1), Ws::close(ws, None)).await;
        }
    }

    /// Closes the connection politely and stops reconnecting.
    pub async fn close(&mut self) {
        self.fail_pending("till is shutting down");
        self.hang_up().await;
        self.conn = Conn::Closed;
        self.emit(LinkEvent::State(LinkState::Closed));
    }

    fn next_timer(&self) -> Instant {
        let far = instant_after(Instant::now(), Duration::from_secs(3600));
        let pending = self.pending.values().map(|p| p.deadline).min();
        let own = match &self.conn {
            Conn::Down { retry_at } => Some(*retry_at),
            Conn::Up {
                last_rx,
                next_heartbeat,
                ..
            } => Some((*next_heartbeat).min(instant_after(*last_rx, self.cfg.dead_after))),
            Conn::Connecting(_) | Conn::Closed => None,
        };
        [pending, own].into_iter().flatten().min().unwrap_or(far)
    }

    fn start_connecting(&mut self) {
        let cfg = self.cfg.clone();
        self.conn = Conn::Connecting(Box::pin(connect(cfg)));
        self.emit(LinkEvent::State(LinkState::Connecting {
            attempt: self.failures + 1,
        }));
    }

    async fn on_connected(&mut self, ws: Box<Ws>) {
        let now = Instant::now();
        self.conn = Conn::Up {
            ws,
            last_rx: now,
            next_heartbeat: instant_after(now, self.cfg.heartbeat_every),
        };
        self.emit(LinkEvent::State(LinkState::Connected));
        let id = new_request_id();
        let timeout = self.cfg.request_timeout;
        // A failure here already took the link down and said why.
        let _ = self
            .send_op(&Operation::Init, &id, Purpose::Init, timeout)
            .await;
    }

    async fn on_timer(&mut self) {
        let now = Instant::now();
        self.expire_pending(now);
        match &mut self.conn {
            Conn::Down { retry_at } if *retry_at <= now => self.start_connecting(),
            Conn::Up { last_rx, .. } if now.duration_since(*last_rx) >= self.cfg.dead_after => {
                let silent = now.duration_since(*last_rx);
                self.go_down(format!(
                    "no answer from the terminal for {}s",
                    silent.as_secs()
                ))
                .await;
            }
            Conn::Up { next_heartbeat, .. } if *next_heartbeat <= now => {
                *next_heartbeat = instant_after(now, self.cfg.heartbeat_every);
                // One heartbeat at a time: a slow terminal is not flooded.
                if !self
                    .pending
                    .values()
                    .any(|p| p.purpose == Purpose::Heartbeat)
                {
                    let id = new_request_id();
                    let timeout = self.cfg.dead_after;
                    let _ = self
                        .send_op(&Operation::Heartbeat, &id, Purpose::Heartbeat, timeout)
                        .await;
                }
            }
            _ => {}
        }
    }

    fn expire_pending(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(p) = self.pending.remove(&id) {
                let why = format!(
                    "no answer within {}s",
                    p.deadline.duration_since(p.sent_at).as_secs()
                );
                self.finish(id, p, None, why);
            }
        }
    }

    async fn on_message(&mut self, msg: Message) {
        if let Conn::Up { last_rx, .. } = &mut self.conn {
            *last_rx = Instant::now();
        }
        match msg {
            Message::Text(text) => self.on_text(text.as_str()),
            Message::Close(frame) => {
                let why = frame
                    .map(|f| {
                        format!(
                            "the terminal closed the connection ({} {})",
                            f.code, f.reason
                        )
                    })
                    .unwrap_or_else(|| "the terminal closed the connection".into());
                self.go_down(why).await;
            }
            Message::Binary(bytes) => self.emit(LinkEvent::Malformed {
                text: format!("<{} bytes of binary>", bytes.len()),
                error: "binary frames are not part of the protocol".into(),
            }),
            // Pongs to the terminal's pings go out by themselves while we read.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }

    fn on_text(&mut self, text: &str) {
        // One parse serves the wire log and the decoder; both see the masked frame.
        let value = serde_json::from_str::<serde_json::Value>(text);
        // Matching alone reads the request id as sent: a random one (a UUID) can hold
        // a digit run that masks like a card number, and its reply would match nothing.
        // It is only looked up among the ids this link made, never kept or shown.
        let sent_id = value
            .as_ref()
            .ok()
            .and_then(serde_json::Value::as_object)
            .and_then(reply::request_id_in);
        let parsed = value.map(mask_json);
        let masked = match &parsed {
            Ok(value) => value.to_string(),
            Err(_) => mask_frame(text),
        };
        tracing::debug!(frame = %self.for_log(&masked), "frame in");
        self.emit(LinkEvent::Wire {
            dir: Direction::In,
            text: masked.clone(),
        });
        let decoded = parsed
            .map_err(|e| DecodeError::Malformed(e.to_string()))
            .and_then(Reply::from_masked);
        let reply = match decoded {
            Ok(reply) => reply,
            Err(e) => {
                let error = mask_pans_owned(e.to_string());
                tracing::warn!(frame = %self.for_log(&masked), "dropped malformed frame: {error}");
                self.emit(LinkEvent::Malformed {
                    text: masked,
                    error,
                });
                return;
            }
        };
        // The terminal's own heartbeat (a request: no response code) proves the link
        // alive and is no answer to ours, even when no request id tells them apart.
        let topic = reply.topic.as_deref().and_then(Topic::parse);
        if topic == Some(Topic::Heartbeat) && reply.response_code.is_none() {
            tracing::debug!("the terminal's own heartbeat: not an answer");
            return;
        }
        match self.match_pending(&reply, sent_id.as_deref()) {
            Some(id) => {
                if let Some(p) = self.pending.remove(&id) {
                    let why = format!(
                        "terminal answered {} {}",
                        reply.response_code.as_deref().unwrap_or("-"),
                        reply.message()
                    );
                    self.finish(id, p, Some((reply, masked)), why);
                }
            }
            None => {
                let why = match &reply.request_id {
                    Some(id) => format!("no request {id} is waiting"),
                    None => "no request of that topic and order is waiting".into(),
                };
                tracing::info!(frame = %self.for_log(&masked), "stray reply: {why}");
                self.emit(LinkEvent::Stray {
                    reply: Box::new(reply),
                    raw: masked,
                    why,
                });
            }
        }
    }

    /// A masked frame fit for the log file: the app id partly masked too, and only its
    /// first `FRAME_BYTES` with its length, so frames from the network cannot fill the
    /// disk.
    fn for_log(&self, masked: &str) -> String {
        let masked = match self.cfg.app_id.is_empty() {
            true => std::borrow::Cow::Borrowed(masked),
            false => masked
                .replace(&self.cfg.app_id, &mask_app_id(&self.cfg.app_id))
                .into(),
        };
        logging::capped(&masked, FRAME_BYTES).into_owned()
    }

    /// By `request_id` (`sent_id`, as the terminal sent it, unmasked); only when the
    /// reply has none, by topic and `merchant_order_no`.
    fn match_pending(&self, reply: &Reply, sent_id: Option<&str>) -> Option<String> {
        if let Some(id) = sent_id.or(reply.request_id.as_deref()) {
            return self.pending.contains_key(id).then(|| id.to_string());
        }
        let topic = reply.topic.as_deref().and_then(Topic::parse)?;
        let order = reply.biz.merchant_order_no.as_deref();
        let mut candidates = self
            .pending
            .iter()
            .filter(|(_, p)| p.topic == topic && p.order_no.as_deref() == order);
        let first = candidates.next()?;
        // Two candidates and no id to tell them apart: matching either could be wrong.
        candidates.next().is_none().then(|| first.0.clone())
    }

    fn finish(
        &mut self,
        request_id: String,
        p: Pending,
        reply: Option<(Reply, String)>,
        why: String,
    ) {
        let elapsed = p.sent_at.elapsed();
        match p.purpose {
            Purpose::Heartbeat => {
                if reply.is_some() {
                    self.emit(LinkEvent::Heartbeat { rtt: elapsed });
                }
            }
            Purpose::Init => {
                if let Some((reply, _)) = reply {
                    // The terminal talks sense again: start backoff afresh next time.
                    self.failures = 0;
                    self.emit(LinkEvent::Device(reply.biz.device));
                }
            }
            Purpose::Caller => {
                let outcome = reply
                    .as_ref()
                    .map_or(Outcome::Unknown, |(r, _)| outcome_for(p.topic, r));
                let (reply, raw) = reply.unzip();
                self.emit(LinkEvent::Answer(Box::new(Answer {
                    request_id,
                    topic: p.topic,
                    order_no: p.order_no,
                    outcome,
                    reply,
                    why,
                    elapsed,
                    raw,
                })));
            }
        }
    }

    fn track(
        &mut self,
        request_id: &str,
        topic: Topic,
        order_no: Option<String>,
        purpose: Purpose,
        timeout: Duration,
    ) {
        let now = Instant::now();
        self.pending.insert(
            request_id.to_string(),
            Pending {
                topic,
                order_no,
                sent_at: now,
                deadline: instant_after(now, timeout),
                purpose,
            },
        );
    }

    async fn send_op(
        &mut self,
        op: &Operation,
        request_id: &str,
        purpose: Purpose,
        timeout: Duration,
    ) -> Result<(), SendError> {
        let frame = op
            .envelope(&self.cfg.app_id, request_id, now_ms())
            .to_json();
        // Tracked before the write, so an answer can never beat its own bookkeeping.
        self.track(
            request_id,
            op.topic(),
            op.order_no().map(String::from),
            purpose,
            timeout,
        );
        // Our own envelopes carry no card fields; masked field by field, our request id,
        // timestamp and order number keep their digits and free text (a description a
        // person typed) is masked by the PCI rule.
        let log_text = mask_frame(&frame);
        let sent = self.send_text(frame, Some(log_text)).await;
        if let Err(SendError::NotConnected) = sent {
            self.pending.remove(request_id);
        }
        sent
    }

    /// Writes a frame; `log_text` is its wire-log form when known to be safe, else the
    /// frame is masked for the log.
    async fn send_text(&mut self, text: String, log_text: Option<String>) -> Result<(), SendError> {
        let Conn::Up { ws, .. } = &mut self.conn else {
            return Err(SendError::NotConnected);
        };
        let masked = log_text.unwrap_or_else(|| mask_frame(&text));
        let write = ws.send(Message::text(text));
        let error = match tokio::time::timeout(self.cfg.write_timeout, write).await {
            Ok(Ok(())) => {
                tracing::debug!(frame = %self.for_log(&masked), "frame out");
                self.emit(LinkEvent::Wire {
                    dir: Direction::Out,
                    text: masked,
                });
                return Ok(());
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => "write timed out".to_string(),
        };
        self.go_down(format!("sending failed: {error}")).await;
        Err(SendError::Failed(error))
    }

    async fn go_down(&mut self, reason: String) {
        // A close reason or an error text comes from the other side: mask it before it
        // goes anywhere (pending answers, the log, the Down event).
        let reason = mask_pans_owned(reason);
        if let Conn::Up { ws, .. } = &mut self.conn {
            // Every socket opened is closed; a dead peer gets a short grace only.
            let _ = tokio::time::timeout(Duration::from_millis(250), Ws::close(ws, None)).await;
        }
        self.fail_pending(&format!("link lost while waiting: {reason}"));
        if matches!(self.conn, Conn::Closed) {
            return;
        }
        let retry_in = backoff(self.failures, self.cfg.backoff_min, self.cfg.backoff_max);
        self.failures = self.failures.saturating_add(1);
        tracing::warn!(%reason, ?retry_in, "link down");
        self.conn = Conn::Down {
            retry_at: instant_after(Instant::now(), retry_in),
        };
        self.emit(LinkEvent::State(LinkState::Down { reason, retry_in }));
    }

    fn fail_pending(&mut self, why: &str) {
        let ids: Vec<String> = self.pending.keys().cloned().collect();
        for id in ids {
            if let Some(p) = self.pending.remove(&id) {
                self.finish(id, p, None, why.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_link_with_absurd_timeouts_runs_without_panicking() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let endpoint = Endpoint::parse(&format!("127.0.0.1:{closed}")).unwrap();
        let mut cfg = LinkConfig::new(endpoint, "app");
        cfg.heartbeat_every = Duration::MAX;
        cfg.dead_after = Duration::MAX;
        cfg.request_timeout = Duration::MAX;
        cfg.card_flow_timeout = Duration::MAX;
        cfg.connect_timeout = Duration::MAX;
        cfg.backoff_min = Duration::MAX;
        cfg.backoff_max = Duration::MAX;
        let mut link = Link::new(cfg);
        // Connecting to a closed port fails at once; the link goes down with a backoff
        // that would overflow the clock if added as it is.
        let mut down = false;
        for _ in 0..3 {
            let wake = link.wait().await;
            link.handle(wake).await;
            down |= link
                .take_events()
                .any(|e| matches!(e, LinkEvent::State(LinkState::Down { .. })));
            if down {
                break;
            }
        }
        assert!(down, "a closed port takes the link down");
        assert!(link.next_timer() > Instant::now());
        link.close().await;
    }
}
