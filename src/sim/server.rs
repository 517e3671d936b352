//! The simulator's WebSocket server: connections, the frames they carry, and the
//! customer's card flow, all answered from one `Terminal` shaped by the fault switches.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request as Upgrade, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::terminal::{Answer, LedgerEntry, Terminal, text};
use super::{Faults, SimConfig, SimStats, ledger};
use crate::ecr;
use crate::ecr::Topic;
use crate::pair::ACCEPT;

struct Shared {
    cfg: SimConfig,
    faults: Mutex<Faults>,
    terminal: Mutex<Terminal>,
    stats: Mutex<SimStats>,
    /// Answers whose connection was gone, for `redeliver`, until a client is back.
    undelivered: Mutex<Vec<String>>,
    /// The newest connection's writer: where a redelivered answer goes.
    latest: Mutex<Option<mpsc::UnboundedSender<Message>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not take the simulator down with a poisoned lock.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct Sim;

pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl Sim {
    pub async fn start(cfg: SimConfig) -> std::io::Result<SimHandle> {
        let listener = TcpListener::bind(cfg.bind).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            faults: Mutex::new(cfg.faults.clone()),
            terminal: Mutex::new(Terminal::new(cfg.exponent)),
            stats: Mutex::new(SimStats::default()),
            undelivered: Mutex::new(Vec::new()),
            latest: Mutex::new(None),
            cfg,
        });
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(listener, shared.clone(), stopped));
        Ok(SimHandle {
            addr,
            shared,
            stop,
            server,
        })
    }
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.faults) = faults;
    }

    pub fn stats(&self) -> SimStats {
        lock(&self.shared.stats).clone()
    }

    /// The serial the terminal reports about itself (`ecrhub.init`).
    pub fn set_serial(&self, serial: &str) {
        lock(&self.shared.terminal).device_sn = serial.to_string();
    }

    /// Closes the listener and every connection and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    connections.spawn(connection(tcp, shared.clone(), stopped.clone()));
                }
                Err(e) => tracing::warn!("sim accept: {e}"),
            },
            _ = stopped.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// Counts a connection open for as long as it lives.
struct Open(Arc<Shared>);

impl Open {
    fn new(shared: Arc<Shared>) -> Open {
        {
            let mut s = lock(&shared.stats);
            s.connections_open += 1;
            s.connections_total += 1;
            s.max_concurrent = s.max_concurrent.max(s.connections_open);
        }
        Open(shared)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        lock(&self.0.stats).connections_open -= 1;
    }
}

async fn connection(tcp: TcpStream, shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let _ = tcp.set_nodelay(true);
    // The callback's error type is the library's own (an HTTP response).
    #[allow(clippy::result_large_err)]
    let note_path = |request: &Upgrade, response: Response| {
        lock(&shared.stats).last_path = Some(request.uri().path().to_string());
        Ok(response)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, note_path).await else {
        return;
    };
    let _open = Open::new(shared.clone());
    let (mut sink, mut stream) = ws.split();
    // Every writer goes through one channel; card flows run beside the reader.
    let (out, mut outbox) = mpsc::unbounded_channel::<Message>();
    let mut flows = JoinSet::new();
    *lock(&shared.latest) = Some(out.clone());
    for frame in std::mem::take(&mut *lock(&shared.undelivered)) {
        let _ = out.send(Message::text(frame));
    }
    let ping_every = shared.cfg.ping_every;
    let mut ping = tokio::time::interval(ping_every.unwrap_or(Duration::from_secs(3600)));
    ping.tick().await;
    let mut last_pong = tokio::time::Instant::now();
    loop {
        tokio::select! {
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    lock(&shared.stats).frames_received += 1;
                    match handle_text(text.as_str(), &shared, &out, &mut flows) {
                        Flow::Continue => {}
                        // Abrupt: no close frame, the socket just goes away.
                        Flow::Drop => break,
                        Flow::Close(reason) => {
                            let frame = CloseFrame {
                                code: CloseCode::Normal,
                                reason: close_reason(&reason).into(),
                            };
                            let _ = sink.send(Message::Close(Some(frame))).await;
                            break;
                        }
                    }
                }
                Some(Ok(Message::Pong(_))) => {
                    last_pong = tokio::time::Instant::now();
                    lock(&shared.stats).pongs_received += 1;
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            Some(msg) = outbox.recv() => {
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
            _ = ping.tick(), if ping_every.is_some() => {
                let every = ping_every.unwrap_or_default();
                if last_pong.elapsed() > every.mul_f32(1.5) {
                    tracing::info!("sim: client sent no pong, dropping it");
                    break;
                }
                lock(&shared.stats).pings_sent += 1;
                if sink.send(Message::Ping(b"sim".to_vec().into())).await.is_err() {
                    break;
                }
            }
            _ = stopped.changed() => {
                let _ = sink.close().await;
                flows.abort_all();
                return;
            }
        }
    }
    // Flows in progress finish on their own (money still moves); their answers are
    // kept for redelivery when that fault is on.
    drop(outbox);
    flows.detach_all();
}

#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Drop,
    /// Close politely, with this reason.
    Close(String),
}

// Long on purpose: one arm per topic the terminal answers.
fn handle_text(
    frame: &str,
    shared: &Arc<Shared>,
    out: &mpsc::UnboundedSender<Message>,
    flows: &mut JoinSet<()>,
) -> Flow {
    let Ok(Value::Object(req)) = serde_json::from_str::<Value>(frame) else {
        tracing::info!("sim: ignoring a malformed frame");
        return Flow::Continue;
    };
    let Some(topic_text) = text(&req, "topic") else {
        return Flow::Continue;
    };
    let biz = match req.get("biz_data") {
        Some(Value::Object(b)) => b.clone(),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default(),
        _ => Map::new(),
    };
    let faults = lock(&shared.faults).clone();
    let send = |answer: Answer| {
        let _ = out.send(Message::text(reply(&req, &topic_text, answer, &faults)));
    };
    let topic = Topic::parse(&topic_text);
    match topic {
        Some(Topic::Init) => send(lock(&shared.terminal).init()),
        Some(Topic::Heartbeat) => send(Answer {
            code: "0",
            msg: "SUCCESS".into(),
            biz: None,
        }),
        // The protocol answers (un)pairing "000", whichever side asks.
        Some(Topic::Pair | Topic::Unpair) => send(Answer {
            code: ACCEPT,
            msg: "SUCCESS".into(),
            biz: None,
        }),
        Some(Topic::PayQuery) => send(lock(&shared.terminal).query(&biz)),
        Some(Topic::PayClose) => send(lock(&shared.terminal).close(&biz)),
        Some(Topic::BatchClose) => send(lock(&shared.terminal).batch_close()),
        Some(Topic::TipAdjustment) => {
            let (answer, ledger) = lock(&shared.terminal).tip_adjust(&biz);
            write_ledger(shared, &ledger);
            if faults.drop_after_order {
                return Flow::Drop;
            }
            send(answer);
        }
        Some(Topic::PayOrder) => {
            {
                let mut stats = lock(&shared.stats);
                if let Some(order) = text(&biz, "merchant_order_no") {
                    *stats.orders_received.entry(order).or_insert(0) += 1;
                }
                stats.last_order = Some(Value::Object(biz.clone()));
            }
            let begun = lock(&shared.terminal).begin_order(&biz);
            match begun {
                Err(answer) => send(answer),
                Ok(order_no) => {
                    let flow = card_flow(
                        shared.clone(),
                        req.clone(),
                        topic_text.clone(),
                        order_no,
                        out.clone(),
                    );
                    if faults.drop_after_order {
                        // The flow outlives the connection, like a terminal that goes
                        // on with the customer after the register vanished.
                        tokio::spawn(flow);
                        return Flow::Drop;
                    }
                    if let Some(reason) = faults.close_after_order {
                        tokio::spawn(flow);
                        return Flow::Close(reason);
                    }
                    flows.spawn(flow);
                }
            }
        }
        None => send(Answer {
            code: "102",
            msg: format!("Unsupported topic {topic_text}"),
            biz: None,
        }),
    }
    Flow::Continue
}

/// The customer at the terminal: waits the card delay (and any hold), then answers.
async fn card_flow(
    shared: Arc<Shared>,
    req: Map<String, Value>,
    topic: String,
    order_no: String,
    out: mpsc::UnboundedSender<Message>,
) {
    let hold = lock(&shared.faults).hold.unwrap_or_default();
    tokio::time::sleep(shared.cfg.card_delay + hold).await;
    let faults = lock(&shared.faults).clone();
    let (answer, ledger) = lock(&shared.terminal).finish_order(
        &order_no,
        faults.decline_cents,
        faults.on_screen_tip_minor,
    );
    write_ledger(&shared, &ledger);
    let frame = reply(&req, &topic, answer, &faults);
    if faults.noise_before_reply {
        let _ = out.send(Message::text(
            "{\"topic\": \"ecrhub.pay.order\", \"response_code\": \"0\", ",
        ));
        let decoy = serde_json::json!({
            "topic": topic, "request_id": format!("other-{}", ecr::new_request_id()),
            "response_code": "0", "response_msg": "SUCCESS",
            "biz_data": {"merchant_order_no": "SIM-DECOY-0001", "trans_status": "2", "order_amount": "99.99"}
        });
        let _ = out.send(Message::text(decoy.to_string()));
    }
    if out.send(Message::text(frame.clone())).is_err() && faults.redeliver {
        // Like a terminal re-delivering to the register that is connected now, or to
        // the next one that connects.
        let latest = lock(&shared.latest).clone();
        let delivered = latest.is_some_and(|tx| tx.send(Message::text(frame.clone())).is_ok());
        if !delivered {
            lock(&shared.undelivered).push(frame);
        }
    }
}

fn write_ledger(shared: &Shared, entries: &[LedgerEntry]) {
    if let Some(path) = &shared.cfg.ledger {
        ledger::append(path, entries);
    }
}

/// The reply envelope, shaped by the fault switches.
fn reply(req: &Map<String, Value>, topic: &str, answer: Answer, faults: &Faults) -> String {
    let mut env = Map::new();
    env.insert("topic".into(), Value::String(topic.to_string()));
    if let Some(app) = req.get("app_id") {
        env.insert("app_id".into(), app.clone());
    }
    if !faults.no_request_id {
        for key in ["request_id", "msg_id"] {
            if let Some(id) = req.get(key) {
                env.insert(key.into(), id.clone());
            }
        }
    }
    env.insert(
        "timestamp".into(),
        Value::String(chrono::Utc::now().timestamp_millis().to_string()),
    );
    let code = if answer.code == "0" && faults.success_000 {
        "000"
    } else {
        answer.code
    };
    env.insert("response_code".into(), Value::String(code.into()));
    let msg = match &faults.reply_note {
        Some(note) => format!("{} {note}", answer.msg),
        None => answer.msg,
    };
    env.insert("response_msg".into(), Value::String(msg));
    if let Some(mut biz) = answer.biz {
        if let Value::Object(map) = &mut biz {
            if let Some(text) = &faults.amount_text
                && map.contains_key("order_amount")
            {
                map.insert("order_amount".into(), Value::String(text.clone()));
            }
            if faults.query_omits_tip && Topic::parse(topic) == Some(Topic::PayQuery) {
                map.remove("tip_amount");
            }
        }
        let biz = match biz {
            Value::Object(_) if faults.biz_data_as_string => Value::String(biz.to_string()),
            other => other,
        };
        env.insert("biz_data".into(), biz);
    }
    Value::Object(env).to_string()
}

/// A close frame's reason holds at most 123 bytes; longer text is cut at a character.
fn close_reason(text: &str) -> String {
    let mut end = text.len().min(123);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}
