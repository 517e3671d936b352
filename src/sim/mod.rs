//! The simulated CodePay terminal: a real WebSocket server speaking ECR Hub, used by
//! `till sim`, `till --demo`, the tests and the benchmarks. It keeps its own batch so
//! queries, voids, refunds, tips and batch close answer from what really happened, can
//! write the money that really moved to a ledger file, and has fault switches.

pub mod cloud;
pub mod terminal;

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
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

use crate::ecr::Topic;
use crate::pair::{Device, Kind, Request};
pub use terminal::LedgerEntry;
use terminal::{Answer, Terminal, text};

/// Fault switches; each can be changed while the simulator runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Decline amounts whose minor units end in these two digits (e.g. 51).
    pub decline_cents: Option<u32>,
    /// Cut the TCP connection right after a pay.order (or a tip adjustment) arrives;
    /// the payment still completes and its money moves.
    pub drop_after_order: bool,
    /// Hold every pay.order answer this much longer.
    pub hold: Option<Duration>,
    /// Replies omit `request_id`.
    pub no_request_id: bool,
    /// Before each pay.order answer: a malformed frame and a reply for another request.
    pub noise_before_reply: bool,
    /// `biz_data` as a JSON string holding the object.
    pub biz_data_as_string: bool,
    /// Success as "000" instead of "0".
    pub success_000: bool,
    /// Answers that could not be delivered go out on the next connection.
    pub redeliver: bool,
    /// Text added to every answer's `response_msg`, e.g. a card number spelled with
    /// spaces, which a terminal should never send and till must mask.
    pub reply_note: Option<String>,
    /// Close the connection with this reason (a close frame, at most 123 bytes) right
    /// after a pay.order arrives; the payment still completes and its money moves.
    pub close_after_order: Option<String>,
    /// On a sale sent with `on_screen_tip`, the customer picks this tip (minor units)
    /// on the terminal's screen: it moves, and answers name it in `tip_amount`.
    pub on_screen_tip_minor: Option<i64>,
    /// Approvals and query answers carry this text as `order_amount` instead of the
    /// amount (e.g. "5,00"); the money still moves as asked.
    pub amount_text: Option<String>,
    /// Query answers leave out `tip_amount`.
    pub query_omits_tip: bool,
}

#[derive(Clone, Debug)]
pub struct SimConfig {
    pub bind: SocketAddr,
    /// How long a card flow takes.
    pub card_delay: Duration,
    pub faults: Faults,
    /// Where to append the money that really moved (JSON lines).
    pub ledger: Option<PathBuf>,
    /// WebSocket ping interval, like the real server (60 s); a client that does not
    /// pong within 1.5 times that is dropped.
    pub ping_every: Option<Duration>,
    pub exponent: u8,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            card_delay: Duration::ZERO,
            faults: Faults::default(),
            ledger: None,
            ping_every: Some(Duration::from_secs(60)),
            exponent: 2,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct SimStats {
    pub connections_open: usize,
    pub connections_total: usize,
    pub max_concurrent: usize,
    pub frames_received: usize,
    /// pay.order frames per merchant_order_no.
    pub orders_received: HashMap<String, u32>,
    /// The `biz_data` of the latest pay.order frame, as it came.
    pub last_order: Option<Value>,
    pub pings_sent: usize,
    pub pongs_received: usize,
    /// The path of the newest WebSocket upgrade (a terminal may tell registers apart
    /// by it).
    pub last_path: Option<String>,
}

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

    pub fn faults(&self) -> Faults {
        lock(&self.shared.faults).clone()
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
            code: crate::pair::ACCEPT,
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
            "topic": topic, "request_id": format!("other-{}", crate::ecr::new_request_id()),
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
    let Some(path) = &shared.cfg.ledger else {
        return;
    };
    if entries.is_empty() {
        return;
    }
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        for e in entries {
            writeln!(file, "{}", serde_json::to_string(e).unwrap_or_default())?;
        }
        file.sync_data()
    };
    if let Err(e) = write() {
        tracing::error!("sim ledger {}: {e}", path.display());
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

/// The register `--pair` / `--pair-with` names, if any: found by mDNS for `--pair`.
async fn register_to_pair(
    args: &SimArgs,
    mdns_interface: Ipv4Addr,
) -> std::io::Result<Option<String>> {
    if let Some(url) = &args.pair_with {
        return Ok(Some(url.clone()));
    }
    let Some(name) = &args.pair else {
        return Ok(None);
    };
    let which = name.as_deref().unwrap_or("any");
    eprintln!("till sim: looking for register {which} by mDNS on {mdns_interface}");
    let found = crate::pair::terminal::find_register(mdns_interface, name.as_deref(), PAIR_WAIT)
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    match found {
        Some(register) => Ok(Some(register.address)),
        None => Err(std::io::Error::other(format!(
            "no register {which} advertised on {mdns_interface} within {}s",
            PAIR_WAIT.as_secs()
        ))),
    }
}

/// Reads a ledger file written by the simulator.
pub fn read_ledger(path: &Path) -> std::io::Result<Vec<LedgerEntry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })
        .collect()
}

/// Net money moved per merchant_order_no, from a ledger.
pub fn net_by_order(entries: &[LedgerEntry]) -> HashMap<String, i64> {
    let mut net = HashMap::new();
    for e in entries {
        *net.entry(e.merchant_order_no.clone()).or_insert(0) += e.amount_minor;
    }
    net
}

/// `till sim`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Port to listen on (the vendor's fixed ECR Hub port by default).
    #[arg(long, default_value_t = crate::ecr::DEFAULT_PORT)]
    pub port: u16,
    /// How long a card flow takes, in milliseconds.
    #[arg(long, default_value_t = 1500)]
    pub card_delay_ms: u64,
    /// Decline amounts whose cents are these two digits.
    #[arg(long, default_value_t = 51)]
    pub decline_cents: u32,
    /// Approve everything (no decline rule).
    #[arg(long)]
    pub no_decline: bool,
    /// Cut the connection right after a pay.order arrives (the payment still completes).
    #[arg(long)]
    pub drop_after_order: bool,
    /// Hold every pay.order answer this many seconds longer.
    #[arg(long)]
    pub hold_secs: Option<u64>,
    /// Replies omit request_id.
    #[arg(long)]
    pub no_request_id: bool,
    /// Send a malformed frame and a reply for another request before each answer.
    #[arg(long)]
    pub noise: bool,
    /// Send biz_data as a JSON string.
    #[arg(long)]
    pub biz_data_as_string: bool,
    /// Success code "000" instead of "0".
    #[arg(long)]
    pub success_000: bool,
    /// Answers lost with a connection are sent on the next one.
    #[arg(long)]
    pub redeliver: bool,
    /// Add this text to every answer's response_msg (e.g. a spaced card number).
    #[arg(long)]
    pub reply_note: Option<String>,
    /// Close the connection with this reason right after a pay.order arrives.
    #[arg(long)]
    pub close_after_order: Option<String>,
    /// On a sale sent with on_screen_tip, the customer adds this tip (minor units).
    #[arg(long, value_name = "MINOR")]
    pub customer_tip: Option<i64>,
    /// Append money that really moved to this file (JSON lines).
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// WebSocket ping interval in seconds (0: none).
    #[arg(long, default_value_t = 60)]
    pub ping_secs: u64,
    /// Currency exponent (decimal places).
    #[arg(long, default_value_t = 2)]
    pub exponent: u8,
    /// Advertise this serial by mDNS (`_ecr-hub-server._tcp.local.`) on the mDNS
    /// interface, as a real terminal does.
    #[arg(long, value_name = "SERIAL", value_parser = serial_arg)]
    pub advertise: Option<String>,
    /// Once listening, find a register by mDNS (`_ecr-hub-client._tcp.local.`) on the
    /// mDNS interface and ask it to pair, as a terminal in WLAN mode does: the register
    /// advertising NAME, or the first found. Its answer is printed on stdout (JSON).
    #[arg(long, value_name = "NAME", num_args = 0..=1, conflicts_with = "pair_with")]
    pub pair: Option<Option<String>>,
    /// Ask the register at this address (ws://ip:port) to pair, without mDNS.
    #[arg(long, value_name = "URL")]
    pub pair_with: Option<String>,
    /// Run a simulated cloud gateway (Open API over HTTP) instead of a terminal.
    #[arg(long)]
    pub cloud: bool,
    #[command(flatten)]
    pub cloud_args: cloud::CloudSimArgs,
}

/// How long `--pair` looks for a register, and waits for its answer (a person may
/// be deciding).
const PAIR_WAIT: Duration = Duration::from_secs(120);

/// A locally administered MAC address: no real device's.
const SIM_MAC: &str = "02:00:00:00:00:01";

fn serial_arg(text: &str) -> Result<String, String> {
    if crate::discover::valid_serial(text) {
        Ok(text.to_string())
    } else {
        Err("a serial is 1 to 63 letters, digits, - or _".into())
    }
}

impl SimArgs {
    pub fn to_config(&self) -> SimConfig {
        SimConfig {
            bind: SocketAddr::new(self.bind, self.port),
            card_delay: Duration::from_millis(self.card_delay_ms),
            faults: Faults {
                decline_cents: (!self.no_decline).then_some(self.decline_cents),
                drop_after_order: self.drop_after_order,
                hold: self.hold_secs.map(Duration::from_secs),
                no_request_id: self.no_request_id,
                noise_before_reply: self.noise,
                biz_data_as_string: self.biz_data_as_string,
                success_000: self.success_000,
                redeliver: self.redeliver,
                reply_note: self.reply_note.clone(),
                close_after_order: self.close_after_order.clone(),
                on_screen_tip_minor: self.customer_tip,
                ..Faults::default()
            },
            ledger: self.ledger.clone(),
            ping_every: (self.ping_secs > 0).then(|| Duration::from_secs(self.ping_secs)),
            exponent: self.exponent,
        }
    }
}

/// Runs the simulator until Ctrl-C or SIGTERM.
/// `till sim`; with `--advertise`, mDNS on `mdns_interface` only.
pub async fn run(args: SimArgs, mdns_interface: Ipv4Addr) -> std::io::Result<()> {
    if args.cloud {
        return cloud::run(SocketAddr::new(args.bind, args.port), &args.cloud_args).await;
    }
    let sim = Sim::start(args.to_config()).await?;
    eprintln!(
        "till sim: simulated CodePay terminal listening on {} (Ctrl-C to stop)",
        sim.url()
    );
    // The address a register or a browser can reach: the bound one, unless that is
    // every one.
    let ip = match sim.addr().ip() {
        IpAddr::V4(ip) if !ip.is_unspecified() => ip,
        _ => mdns_interface,
    };
    let addr = SocketAddrV4::new(ip, sim.addr().port());
    let _advertisement = match &args.advertise {
        Some(serial) => {
            // A terminal advertises its own serial: the one it reports too.
            sim.set_serial(serial);
            let advert = crate::discover::terminal_advert(
                serial,
                addr,
                "till sim",
                env!("CARGO_PKG_VERSION"),
            );
            let advertisement = crate::discover::advertise(mdns_interface, advert)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            eprintln!("till sim: advertising serial {serial} by mDNS on {mdns_interface}");
            Some(advertisement)
        }
        None => None,
    };
    if let Some(url) = register_to_pair(&args, mdns_interface).await? {
        let name = args.advertise.clone().unwrap_or_else(|| "till sim".into());
        let device = Device {
            mac_address: SIM_MAC.into(),
            device_name: "till sim".into(),
            alias_name: name,
            ip_address: ip.to_string(),
            port: addr.port(),
        };
        let frame = Request::new(Kind::Pair, device).to_text();
        let answer = crate::pair::terminal::ask(&url, &frame, PAIR_WAIT)
            .await
            .map_err(std::io::Error::other)?;
        let code = answer["response_code"].as_str().unwrap_or("none");
        eprintln!("till sim: the register at {url} answered the pair request: {code}");
        println!("{answer}");
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    sim.shutdown().await;
    Ok(())
}
