//! A hostile CodePay terminal: a real WebSocket server on a loopback port that speaks
//! ECR Hub well enough for `till` to connect and pay, and breaks the protocol one way
//! per switch. It keeps its own books (`ledger()`: the money that really moved), so a
//! test can compare what the register believes with what the terminal did.
//!
//! Layout: one function builds each answer (`init_answer`, `order_answer`, ...), and
//! the switches are applied in one place each: `finish` (what the card flow did),
//! `outgoing` (which frames go out around an answer) and `envelope` (how one frame is
//! dressed). The switches in force when a request arrives decide how it is answered.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use till::ecr::TransType;
use till::money::{Money, format_minor};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::WAIT;

pub const DEVICE_SN: &str = "HOSTILE000000001";
/// The masked card every normal answer carries.
pub const MASKED_CARD: &str = "411111******1111";
/// A Luhn-valid test PAN, and how `pans_everywhere` spells it in text.
pub const PAN: &str = "4111111111111111";
pub const PAN_SPACED: &str = "4111 1111 1111 1111";
pub const PAN_DASHED: &str = "4111-1111-1111-1111";
/// `PAN` in every spelling a card number may take in free text: separators of every
/// kind and count, percent-encoded, and digits of other scripts (`every_spelling`).
pub const PAN_SPELLINGS: [&str; 16] = [
    "4111  1111   1111    1111",
    "4111\u{a0}1111\u{a0}1111\u{a0}1111",
    "4111\u{2009}1111\u{202f}1111\u{3000}1111",
    "4111\u{200b}1111\u{2007}1111\u{205f}1111",
    "4111\t1111\t1111\t1111",
    "4111.1111.1111.1111",
    "4111 - 1111 - 1111 - 1111",
    "4111\u{2013}1111\u{2014}1111\u{2212}1111",
    "4111%201111%201111%201111",
    "4111+1111+1111+1111",
    "４１１１１１１１１１１１１１１１",
    "４１１１　１１１１　１１１１　１１１１",
    "٤١١١ ١١١١ ١١١١ ١١١١",
    "४१११-११११-११११-११११",
    "𝟒𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏",
    "4１1١ 1111.1111-1111",
];
/// The `timestamp` of every frame when card numbers are not being planted (it passes
/// the Luhn check, as a real epoch does one time in ten).
pub const PLAIN_TIMESTAMP: &str = "1764000000000";
/// The `timestamp` under `pans_everywhere`: 16 digits that pass the Luhn check.
pub const LUHN_TIMESTAMP: &str = "1700000000000001";
/// The order number of the unsolicited answer sent by `other_order_first`.
pub const OTHER_ORDER_NO: &str = "HOSTILE-OTHER-0001";
/// Close reason when the terminal drops a register (`drop_after_charge`).
pub const CLOSE_REASON: &str = "terminal reset";

const PAY_ORDER: &str = "ecrhub.pay.order";
const EXPONENT: u8 = 2;

/// How the terminal misbehaves. Each switch is independent; combine freely.
#[derive(Clone, Debug, Default)]
pub struct Switches {
    /// Full Luhn-valid PANs in every frame: `card_no` unmasked, `response_msg`,
    /// other fields, a key named by a PAN, a Luhn-valid `timestamp`, close reasons
    /// and malformed frames.
    pub pans_everywhere: bool,
    /// `PAN_SPELLINGS` in the free text of every answer: `response_msg`, and `msg`,
    /// `merchant_name` and `description` in `biz_data`.
    pub every_spelling: bool,
    /// The `trans_no` of every order answer (its `ref_no` is "REF" and it), in place of
    /// the terminal's own count.
    pub trans_no: Option<String>,
    /// pay.order answers "0" with this `trans_status`; money moves only for "2".
    pub trans_status: Option<String>,
    /// pay.order answers leave `trans_status` out (what really happened is still
    /// `trans_status`, "2" by default, and `pay.query` tells it).
    pub omit_trans_status: bool,
    /// Approved, but only this much moved (the reply's `order_amount`).
    pub partial_minor: Option<i64>,
    /// `response_msg` of every answer.
    pub message: Option<String>,
    /// Before pay.order is answered: this many unsolicited frames of about this many
    /// bytes each, every other one malformed.
    pub flood: Option<(usize, usize)>,
    /// The card flow takes this long before pay.order is answered (and booked).
    pub delay_ms: u64,
    /// pay.order is answered only at `release()`, and booked then. With `delay_ms` as
    /// well, the answer goes out that long after the release.
    pub hold: bool,
    /// The pay.order answer is sent twice.
    pub answer_twice: bool,
    /// The pay.order answer carries the right `request_id` but another
    /// `merchant_order_no`: the previous order's, or the asked one with "X" appended
    /// when there was none. The money moves under the asked number.
    pub wrong_order_no: bool,
    /// Before the pay.order answer: an unsolicited approved pay.order answer for
    /// `OTHER_ORDER_NO`, without `request_id` (no money moved for it).
    pub other_order_first: bool,
    /// The charge is booked, then the socket is closed (close frame 1011) unanswered.
    pub drop_after_charge: bool,
    /// Answers carry no `request_id` (nor `msg_id`).
    pub no_request_id: bool,
    /// `biz_data` is "" in every answer.
    pub biz_data_empty_string: bool,
    /// A malformed JSON frame goes out before every answer.
    pub malformed_first: bool,
    /// Every pay.query answer is "0" with this `trans_status`, for orders it never
    /// saw too (their `biz_data` then holds only the order number and the status).
    pub query_status: Option<String>,
    /// Frames are read (and recorded) but nothing is ever answered, not even init.
    pub silent: bool,
    /// A heartbeat is not answered: the terminal sends one of its own instead (no
    /// `request_id`, no `response_code`), as a real terminal may at any time.
    pub own_heartbeat_instead: bool,
}

/// Money that really moved at the terminal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub merchant_order_no: String,
    /// The request's `trans_type` code ("1" sale, "3" refund, ...), or "tip-adjust".
    pub trans_type: String,
    /// Positive when charged to the customer, negative when given back (refunds,
    /// voids); pre-auths move 0. For a sale: the reply's `order_amount` plus tip and
    /// cash-back.
    pub amount_minor: i64,
    /// The transaction's `trans_status`: always "2" (moved), charges are booked only then.
    pub status: String,
}

pub struct Hostile {
    pub port: u16,
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Hostile {
    /// Binds 127.0.0.1 on a free port and serves until dropped.
    pub async fn start(switches: Switches) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("hostile terminal binds a loopback port");
        let port = listener
            .local_addr()
            .expect("hostile terminal has an address")
            .port();
        let shared = Arc::new(Shared {
            switches: Mutex::new(switches),
            books: Mutex::new(Books::default()),
            received: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            held: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
        });
        let server = tokio::spawn(serve(listener, shared.clone()));
        Hostile {
            port,
            url: format!("ws://127.0.0.1:{port}"),
            shared,
            server,
        }
    }

    /// New switches for requests that arrive from now on.
    pub fn set(&self, switches: Switches) {
        *lock(&self.shared.switches) = switches;
    }

    pub fn switches(&self) -> Switches {
        lock(&self.shared.switches).clone()
    }

    /// The money the terminal really moved, in order, across every connection.
    pub fn ledger(&self) -> Vec<Charge> {
        lock(&self.shared.books).ledger.clone()
    }

    /// Every frame received, parsed; a frame that is not JSON is kept as a string.
    /// A frame is listed once it has been acted on (its answer queued, its charge booked
    /// when that happens at once).
    pub fn received(&self) -> Vec<Value> {
        lock(&self.shared.received).clone()
    }

    /// Frames received with this topic.
    pub fn count(&self, topic: &str) -> usize {
        lock(&self.shared.received)
            .iter()
            .filter(|f| f.get("topic").and_then(Value::as_str) == Some(topic))
            .count()
    }

    /// Waits until `n` frames of `topic` were received and acted on; panics after `WAIT`.
    pub async fn wait_for(&self, topic: &str, n: usize) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let arrived = self.shared.arrived.notified();
            tokio::pin!(arrived);
            arrived.as_mut().enable();
            if self.count(topic) >= n {
                return;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let seen: Vec<String> = self
                    .received()
                    .iter()
                    .map(|f| f.get("topic").and_then(Value::as_str).unwrap_or("?").into())
                    .collect();
                panic!(
                    "hostile terminal: waited {WAIT:?} for {n} x {topic}, got {}; received: {seen:?}",
                    self.count(topic)
                );
            }
        }
    }

    /// Lets every held pay.order go: each is booked now (money moves) and answered on
    /// the connection it came from, if that is still open.
    pub fn release(&self) {
        let held = std::mem::take(&mut *lock(&self.shared.held));
        for pending in held {
            let frames = finish(&self.shared, &pending);
            send_after(pending.sw.delay_ms, &pending.out, frames);
        }
    }

    /// pay.order requests waiting for `release()`.
    pub fn held(&self) -> usize {
        lock(&self.shared.held).len()
    }

    /// WebSocket connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        // Held orders die with the terminal, unbooked; open connections close.
        lock(&self.shared.held).clear();
        self.server.abort();
    }
}

struct Shared {
    switches: Mutex<Switches>,
    books: Mutex<Books>,
    received: Mutex<Vec<Value>>,
    arrived: Notify,
    held: Mutex<Vec<Pending>>,
    connections: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A failed assertion elsewhere must not poison the terminal for the next check.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What goes out on one connection.
enum Out {
    Text(String),
    /// A close frame with this reason, then the socket goes away.
    Close(String),
}

type Outbox = mpsc::UnboundedSender<Out>;

fn send_now(out: &Outbox, frames: Vec<Out>) {
    for frame in frames {
        // The register may be gone: its answer is lost, the money stays moved.
        let _ = out.send(frame);
    }
}

fn send_after(delay_ms: u64, out: &Outbox, frames: Vec<Out>) {
    if delay_ms == 0 {
        send_now(out, frames);
        return;
    }
    let out = out.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        send_now(&out, frames);
    });
}

// ---------------------------------------------------------------------------------
// Sockets

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    // Dropped (aborting every connection) when the server task is aborted.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((tcp, _)) = accepted {
                    connections.spawn(connection(tcp, shared.clone()));
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn connection(tcp: TcpStream, shared: Arc<Shared>) {
    let _ = tcp.set_nodelay(true);
    let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    shared.connections.fetch_add(1, Ordering::SeqCst);
    let (mut sink, mut stream) = ws.split();
    let (out, mut outbox) = mpsc::unbounded_channel::<Out>();
    loop {
        tokio::select! {
            // Reading all the time is also what answers the register's pings.
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => on_frame(text.as_str(), &shared, &out),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            Some(next) = outbox.recv() => match next {
                Out::Text(text) => {
                    if sink.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                Out::Close(reason) => {
                    let frame = CloseFrame { code: CloseCode::Error, reason: reason.into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    return;
                }
            },
        }
    }
    // The register closed or vanished: finish the closing handshake if it still listens.
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

/// Acts on one text frame, then records it (so `wait_for` returning means "acted on").
fn on_frame(text: &str, shared: &Arc<Shared>, out: &Outbox) {
    let parsed =
        serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_string()));
    let sw = lock(&shared.switches).clone();
    if !sw.silent
        && let Value::Object(req) = &parsed
    {
        let frames = answer(shared, req, &sw, out);
        send_now(out, frames);
    }
    lock(&shared.received).push(parsed);
    shared.arrived.notify_waiters();
}

/// The frames that answer a request at once (pay.order may answer later).
fn answer(shared: &Arc<Shared>, req: &Map<String, Value>, sw: &Switches, out: &Outbox) -> Vec<Out> {
    let topic = text(req, "topic").unwrap_or_default();
    let biz = biz_of(req);
    let answer = match topic.as_str() {
        "ecrhub.init" | "ecrhub.pay.init" => init_answer(),
        "ecrhub.heartbeat" | "ecrhub.pair" | "ecrhub.unpair" => Answer::ok(None),
        PAY_ORDER => return pay_order(shared, req, &biz, sw, out),
        "ecrhub.pay.query" => query_answer(&lock(&shared.books), &biz, sw),
        "ecrhub.pay.close" => close_answer(&biz),
        "ecrhub.pay.tip.adjustment" => tip_answer(&mut lock(&shared.books), &biz),
        "ecrhub.pay.batch.close" => batch_close_answer(&lock(&shared.books)),
        other => Answer::err("102", format!("Unsupported topic {other}")),
    };
    outgoing(req, &topic, answer, sw)
}

// ---------------------------------------------------------------------------------
// The card flow of a pay.order

/// A pay.order whose card flow is under way.
struct Pending {
    req: Map<String, Value>,
    order_no: String,
    /// The order before this one, for `wrong_order_no`.
    previous: Option<String>,
    sw: Switches,
    out: Outbox,
}

fn pay_order(
    shared: &Arc<Shared>,
    req: &Map<String, Value>,
    biz: &Map<String, Value>,
    sw: &Switches,
    out: &Outbox,
) -> Vec<Out> {
    let begun = lock(&shared.books).begin(biz);
    let (order_no, previous) = match begun {
        Ok(begun) => begun,
        // Refused at once (bad fields, duplicate number): no card flow, no money.
        Err(refusal) => return outgoing(req, PAY_ORDER, refusal, sw),
    };
    let pending = Pending {
        req: req.clone(),
        order_no,
        previous,
        sw: sw.clone(),
        out: out.clone(),
    };
    if sw.hold {
        lock(&shared.held).push(pending);
        return vec![];
    }
    if sw.delay_ms == 0 {
        return finish(shared, &pending);
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(pending.sw.delay_ms)).await;
        let frames = finish(&shared, &pending);
        send_now(&pending.out, frames);
    });
    vec![]
}

/// The card flow ends: books what moved, and gives the frames that tell (or don't).
fn finish(shared: &Shared, p: &Pending) -> Vec<Out> {
    let sw = &p.sw;
    let status = sw.trans_status.clone().unwrap_or_else(|| "2".into());
    let Some(order) = lock(&shared.books).complete(&p.order_no, &status, sw.partial_minor) else {
        return vec![];
    };
    if sw.drop_after_charge {
        return vec![Out::Close(close_reason(sw))];
    }
    let named = if sw.wrong_order_no {
        p.previous
            .clone()
            .filter(|prev| prev != &p.order_no)
            .unwrap_or_else(|| format!("{}X", p.order_no))
    } else {
        p.order_no.clone()
    };
    let mut biz = describe(&named, &order);
    if sw.omit_trans_status {
        biz.remove("trans_status");
    }
    outgoing(&p.req, PAY_ORDER, order_answer(biz), sw)
}

// ---------------------------------------------------------------------------------
// The terminal's books

#[derive(Default)]
struct Books {
    orders: HashMap<String, Order>,
    ledger: Vec<Charge>,
    last_order_no: Option<String>,
    next_trans_no: u64,
}

#[derive(Clone, Debug)]
struct Order {
    trans_type: String,
    orig: Option<String>,
    /// The `order_amount` the terminal reports: asked, or what moved once approved.
    amount: i64,
    tip: i64,
    cashback: i64,
    /// +1 money in, −1 money out, 0 none (pre-auth family holds, it does not move).
    direction: i64,
    status: String,
    trans_no: String,
    auth_code: String,
}

impl Order {
    fn total(&self) -> i64 {
        self.amount + self.tip + self.cashback
    }
}

impl Books {
    /// A pay.order arrives: its number is taken from now on (status "0", in the card
    /// flow). Returns it and the order number before it.
    fn begin(&mut self, biz: &Map<String, Value>) -> Result<(String, Option<String>), Answer> {
        let order_no = text(biz, "merchant_order_no")
            .ok_or_else(|| Answer::err("101", "Invalid merchant_order_no"))?;
        if self.orders.contains_key(&order_no) {
            return Err(Answer::err("104", "Duplicate merchant_order_no"));
        }
        let trans_type = text(biz, "trans_type").unwrap_or_default();
        let kind = TransType::from_code(&trans_type)
            .ok_or_else(|| Answer::err("101", "Invalid trans_type"))?;
        let orig = text(biz, "orig_merchant_order_no");
        let original = orig.as_deref().and_then(|o| self.orders.get(o));
        let amount = match text(biz, "order_amount") {
            Some(_) => minor(biz, "order_amount")?,
            // A void names no amount: it is the original's.
            None => original.map_or(0, |o| o.amount),
        };
        use TransType as T;
        let direction = match kind {
            T::Sale | T::CashbackSale | T::Completion => 1,
            T::Refund | T::CompletionRefund => -1,
            T::Void | T::CompletionCancel => -original.map_or(1, |o| o.direction),
            T::PreAuth | T::PreAuthCancel => 0,
        };
        self.next_trans_no += 1;
        let order = Order {
            trans_type,
            orig,
            amount,
            tip: minor(biz, "tip_amount")?,
            cashback: minor(biz, "cashback_amount")?,
            direction,
            status: "0".into(),
            trans_no: format!("HOSTILE{:011}", self.next_trans_no),
            auth_code: format!("{:06}", 100_000 + self.next_trans_no),
        };
        self.orders.insert(order_no.clone(), order);
        let previous = self.last_order_no.replace(order_no.clone());
        Ok((order_no, previous))
    }

    /// The card flow ended with `status`; "2" books the charge (a partial one if told).
    fn complete(&mut self, order_no: &str, status: &str, partial: Option<i64>) -> Option<Order> {
        let order = self.orders.get_mut(order_no)?;
        order.status = status.to_string();
        if status == "2" {
            if let Some(moved) = partial {
                order.amount = moved;
            }
            self.ledger.push(Charge {
                merchant_order_no: order_no.to_string(),
                trans_type: order.trans_type.clone(),
                amount_minor: order.direction * order.total(),
                status: status.to_string(),
            });
        }
        let order = order.clone();
        let voids = matches!(order.trans_type.as_str(), "2" | "5" | "7");
        if status == "2"
            && voids
            && let Some(original) = order.orig.as_deref().and_then(|o| self.orders.get_mut(o))
        {
            original.status = "3".into();
        }
        Some(order)
    }
}

// ---------------------------------------------------------------------------------
// Answers: one function each

/// Code, message and `biz_data` (None: no `biz_data` at all).
struct Answer {
    code: &'static str,
    msg: String,
    biz: Option<Map<String, Value>>,
}

impl Answer {
    fn ok(biz: Option<Map<String, Value>>) -> Answer {
        Answer {
            code: "0",
            msg: "SUCCESS".into(),
            biz,
        }
    }

    fn err(code: &'static str, msg: impl Into<String>) -> Answer {
        Answer {
            code,
            msg: msg.into(),
            biz: None,
        }
    }
}

fn object(value: Value) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn init_answer() -> Answer {
    Answer::ok(object(json!({
        "app_name": "CodePay Register (hostile)",
        "cashier_version": "6.6.6",
        "device_sn": DEVICE_SN,
        "device_model": "HOSTILE-P2",
        "description": "a terminal that breaks the protocol on purpose",
    })))
}

fn order_answer(biz: Map<String, Value>) -> Answer {
    Answer::ok(Some(biz))
}

/// Known orders answer from the books; `query_status` overrides every answer.
fn query_answer(books: &Books, biz: &Map<String, Value>, sw: &Switches) -> Answer {
    let order_no = text(biz, "merchant_order_no").unwrap_or_default();
    let mut found = match books.orders.get(&order_no) {
        Some(order) => describe(&order_no, order),
        None if sw.query_status.is_some() => {
            let mut m = Map::new();
            m.insert("merchant_order_no".into(), order_no.into());
            m
        }
        None => return Answer::err("107", "Order does not exist"),
    };
    if let Some(status) = &sw.query_status {
        found.insert("trans_status".into(), status.clone().into());
    }
    Answer::ok(Some(found))
}

/// Always "0": it changes nothing, so a held order still charges at its release (the
/// race a real terminal can lose).
fn close_answer(biz: &Map<String, Value>) -> Answer {
    let order_no = text(biz, "merchant_order_no").unwrap_or_default();
    Answer::ok(object(json!({ "merchant_order_no": order_no })))
}

/// "0" for a known order (the change of tip is booked if the order moved money),
/// "107" for one it never saw.
fn tip_answer(books: &mut Books, biz: &Map<String, Value>) -> Answer {
    let order_no = text(biz, "merchant_order_no").unwrap_or_default();
    let tip = match minor(biz, "tip_adjustment_amount") {
        Ok(tip) => tip,
        Err(refusal) => return refusal,
    };
    let Some(order) = books.orders.get_mut(&order_no) else {
        return Answer::err("107", "Order does not exist");
    };
    let delta = tip - order.tip;
    order.tip = tip;
    let order = order.clone();
    if order.status == "2" && delta != 0 {
        books.ledger.push(Charge {
            merchant_order_no: order_no.clone(),
            trans_type: "tip-adjust".into(),
            amount_minor: delta,
            status: "2".into(),
        });
    }
    Answer::ok(Some(describe(&order_no, &order)))
}

fn batch_close_answer(books: &Books) -> Answer {
    let sales: Vec<&Charge> = books.ledger.iter().filter(|c| c.amount_minor > 0).collect();
    let sum: i64 = sales.iter().map(|c| c.amount_minor).sum();
    Answer::ok(object(json!({
        "batch_no": "1",
        "sale_count": sales.len().to_string(),
        "sale_amount": format_minor(sum, EXPONENT),
    })))
}

/// An order as the terminal reports it, under the number `order_no`.
fn describe(order_no: &str, order: &Order) -> Map<String, Value> {
    let mut biz = Map::new();
    let mut put = |key: &str, value: String| {
        biz.insert(key.into(), Value::String(value));
    };
    put("merchant_order_no", order_no.into());
    put("trans_no", order.trans_no.clone());
    put("trans_type", order.trans_type.clone());
    put("trans_status", order.status.clone());
    put("order_amount", format_minor(order.amount, EXPONENT));
    if order.tip != 0 {
        put("tip_amount", format_minor(order.tip, EXPONENT));
    }
    if order.cashback != 0 {
        put("cashback_amount", format_minor(order.cashback, EXPONENT));
    }
    put("total_amount", format_minor(order.total(), EXPONENT));
    if let Some(orig) = &order.orig {
        put("orig_merchant_order_no", orig.clone());
    }
    put("pay_method_id", "Visa".into());
    put("card_brand", "Visa".into());
    put("card_type", "CREDIT".into());
    put("card_no", MASKED_CARD.into());
    put("auth_code", order.auth_code.clone());
    put("ref_no", format!("REF{}", order.trans_no));
    put("entry_mode", "CONTACTLESS".into());
    put("terminal_sn", DEVICE_SN.into());
    put("trans_end_time", "2026/01/01 12:00:00".into());
    biz
}

/// The unsolicited answer of `other_order_first`: an approval nobody asked for.
fn other_order_answer() -> Answer {
    Answer::ok(object(json!({
        "merchant_order_no": OTHER_ORDER_NO,
        "trans_type": "1",
        "trans_status": "2",
        "order_amount": "99.99",
        "card_no": MASKED_CARD,
    })))
}

fn malformed_frame(sw: &Switches) -> String {
    let card = if sw.pans_everywhere { PAN } else { MASKED_CARD };
    format!(
        "{{\"topic\": \"{PAY_ORDER}\", \"response_code\": \"0\", \"biz_data\": {{\"card_no\": \"{card}\", "
    )
}

fn close_reason(sw: &Switches) -> String {
    if sw.pans_everywhere {
        format!("{CLOSE_REASON} after card {PAN}")
    } else {
        CLOSE_REASON.into()
    }
}

// ---------------------------------------------------------------------------------
// Switches applied to what goes out

/// The frames that carry one answer: noise before it, the answer, a repeat after it.
fn outgoing(req: &Map<String, Value>, topic: &str, answer: Answer, sw: &Switches) -> Vec<Out> {
    if sw.own_heartbeat_instead && topic == "ecrhub.heartbeat" {
        let own = json!({"topic": "ecrhub.heartbeat", "timestamp": PLAIN_TIMESTAMP});
        return vec![Out::Text(own.to_string())];
    }
    let mut frames = Vec::new();
    if sw.other_order_first && topic == PAY_ORDER {
        let unsolicited = envelope(req, topic, other_order_answer(), sw, false);
        frames.push(Out::Text(unsolicited));
    }
    if sw.malformed_first {
        frames.push(Out::Text(malformed_frame(sw)));
    }
    if let Some((count, bytes)) = sw.flood.filter(|_| topic == PAY_ORDER) {
        for i in 0..count {
            let pad = "x".repeat(bytes);
            frames.push(Out::Text(if i % 2 == 0 {
                json!({
                    "topic": PAY_ORDER,
                    "response_code": "0",
                    "response_msg": pad,
                    "biz_data": {"merchant_order_no": OTHER_ORDER_NO, "trans_status": "2"},
                })
                .to_string()
            } else {
                format!("{{\"topic\": \"{PAY_ORDER}\", \"pad\": \"{pad}\"")
            }));
        }
    }
    let frame = envelope(req, topic, answer, sw, !sw.no_request_id);
    if sw.answer_twice && topic == PAY_ORDER {
        frames.push(Out::Text(frame.clone()));
    }
    frames.push(Out::Text(frame));
    frames
}

/// One answer frame, dressed by the switches.
fn envelope(
    req: &Map<String, Value>,
    topic: &str,
    answer: Answer,
    sw: &Switches,
    echo_request_id: bool,
) -> String {
    let mut env = Map::new();
    env.insert("topic".into(), topic.into());
    if let Some(app) = req.get("app_id") {
        env.insert("app_id".into(), app.clone());
    }
    if echo_request_id {
        for key in ["request_id", "msg_id"] {
            if let Some(id) = req.get(key) {
                env.insert(key.into(), id.clone());
            }
        }
    }
    let timestamp = if sw.pans_everywhere {
        LUHN_TIMESTAMP.to_string()
    } else {
        // A fixed time: nothing in a test may depend on the clock.
        PLAIN_TIMESTAMP.to_string()
    };
    env.insert("timestamp".into(), timestamp.into());
    env.insert("response_code".into(), answer.code.into());
    let mut msg = sw.message.clone().unwrap_or(answer.msg);
    if sw.pans_everywhere {
        msg = format!("{msg} (card {PAN_SPACED})");
    }
    let mut biz = answer.biz;
    if sw.pans_everywhere {
        let b = biz.get_or_insert_with(Map::new);
        b.insert("card_no".into(), PAN.into());
        b.insert("merchant_name".into(), format!("Shop {PAN_DASHED}").into());
        b.insert("msg".into(), format!("paid with {PAN_DASHED}").into());
        b.insert(PAN.into(), "a key that is a card number".into());
        env.insert(PAN.into(), PAN_DASHED.into());
    }
    if sw.every_spelling {
        let all = PAN_SPELLINGS.join(" / ");
        msg = format!("{msg} (cards {all})");
        let b = biz.get_or_insert_with(Map::new);
        b.insert("msg".into(), format!("paid with {all}").into());
        b.insert("merchant_name".into(), format!("Shop {all}").into());
        b.insert("description".into(), all.into());
    }
    env.insert("response_msg".into(), msg.into());
    if let (Some(trans_no), Some(b)) = (&sw.trans_no, biz.as_mut())
        && b.contains_key("trans_no")
    {
        b.insert("trans_no".into(), trans_no.clone().into());
        b.insert("ref_no".into(), format!("REF{trans_no}").into());
    }
    if sw.biz_data_empty_string {
        env.insert("biz_data".into(), "".into());
    } else if let Some(biz) = biz {
        env.insert("biz_data".into(), Value::Object(biz));
    }
    Value::Object(env).to_string()
}

// ---------------------------------------------------------------------------------
// Reading requests

/// A field as text, whatever JSON type it came in; empty is absent.
fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A decimal amount field in minor units; absent is 0.
fn minor(map: &Map<String, Value>, key: &str) -> Result<i64, Answer> {
    match text(map, key) {
        None => Ok(0),
        Some(t) => Money::parse(&t, EXPONENT)
            .map(Money::minor)
            .map_err(|e| Answer::err("101", format!("Invalid {key}: {e}"))),
    }
}

/// `biz_data` as an object, or as a JSON string holding one; anything else is empty.
fn biz_of(req: &Map<String, Value>) -> Map<String, Value> {
    match req.get("biz_data") {
        Some(Value::Object(b)) => b.clone(),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .ok()
            .and_then(object)
            .unwrap_or_default(),
        _ => Map::new(),
    }
}
