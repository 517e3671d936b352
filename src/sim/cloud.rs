//! A simulated cloud gateway (`till sim --cloud`): `POST /api/entry` with the Open API's
//! methods, requests checked against the app's public key and the 15-minute window,
//! answers signed with the gateway's key, and fault switches for what a real gateway
//! or the network between can do wrong. It plays the merchant's whole fleet: any
//! terminal serial is one of its terminals; the orders other terminals paid are those
//! given with `paid_elsewhere` (`--paid ORDER=AMOUNT`), and a follow-up of an order it
//! never saw is refused, as a real gateway would.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rsa::RsaPublicKey;
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::cloud;
use crate::cloud::KeyError;
use crate::cloud::keys;
use crate::cloud::methods::{Methods, PAY_CLOSE, PAY_ORDER, QUERY};
use crate::cloud::{AppKey, Clock, SKEW_LIMIT_MS, sign};
use crate::money::Money;

/// What the gateway does wrong. Money-moving methods only, unless `also_queries`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CloudFaults {
    /// Answers carry no `sign`.
    pub unsigned: bool,
    /// Answers are altered after signing (`trans_status` changed).
    pub bad_signature: bool,
    /// HTTP 503 after the request was carried out.
    pub server_error: bool,
    /// The answer is held far beyond any client's deadline (the request is carried out).
    pub timeout: bool,
    /// Refunds, voids and tips answer status 9, then 0 at the first query, then 2.
    pub in_progress: bool,
    /// The faults hit `order.query` too.
    pub also_queries: bool,
}

#[derive(Clone, Debug, clap::Args)]
pub(crate) struct CloudSimArgs {
    /// The app's public key (SPKI PEM or base64 DER): requests must be signed by it.
    #[arg(long, value_name = "PATH", required_if_eq("cloud", "true"))]
    pub(crate) app_public_key: Option<PathBuf>,
    /// The gateway's private key (PKCS#1 or PKCS#8 PEM): answers are signed with it.
    #[arg(long, value_name = "PATH", required_if_eq("cloud", "true"))]
    pub(crate) gateway_private_key: Option<PathBuf>,
    /// Cloud fault: answers without a signature.
    #[arg(long)]
    pub(crate) unsigned: bool,
    /// Cloud fault: answers altered after signing.
    #[arg(long)]
    pub(crate) bad_signature: bool,
    /// Cloud fault: HTTP 503 after carrying the request out.
    #[arg(long)]
    pub(crate) server_error: bool,
    /// Cloud fault: hold answers past the client's deadline (the request is carried out).
    #[arg(long)]
    pub(crate) hold: bool,
    /// Cloud fault: refunds, voids and tips answer status 9, then 0, then 2.
    #[arg(long)]
    pub(crate) in_progress: bool,
    /// The cloud faults hit order.query too.
    #[arg(long)]
    pub(crate) also_queries: bool,
    /// An order another terminal (SN-OTHER) paid, e.g. `X9-1=12.00`, to refund, void
    /// or tip through the cloud by hand. Repeatable.
    #[arg(long = "paid", value_name = "ORDER=AMOUNT", value_parser = parse_paid)]
    pub(crate) paid: Vec<(String, String)>,
}

fn parse_paid(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((order, amount)) if !order.is_empty() && !amount.is_empty() => {
            Ok((order.to_string(), amount.to_string()))
        }
        _ => Err(format!("'{text}' is not ORDER=AMOUNT")),
    }
}

impl CloudSimArgs {
    pub(crate) fn faults(&self) -> CloudFaults {
        CloudFaults {
            unsigned: self.unsigned,
            bad_signature: self.bad_signature,
            server_error: self.server_error,
            timeout: self.hold,
            in_progress: self.in_progress,
            also_queries: self.also_queries,
        }
    }
}

/// An order as the gateway knows it.
#[derive(Clone, Debug)]
struct Order {
    fields: Map<String, Value>,
    status: &'static str,
}

struct State {
    orders: HashMap<String, Order>,
    faults: CloudFaults,
    /// Every method asked, in order (for tests).
    log: Vec<String>,
    /// How often each order number came in a money-moving request (for tests).
    submitted: HashMap<String, u32>,
}

#[derive(Clone)]
struct Gateway {
    app_key: RsaPublicKey,
    key: AppKey,
    methods: Methods,
    clock: Clock,
    state: Arc<Mutex<State>>,
}

/// A running gateway.
pub struct CloudSim {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl CloudSim {
    pub async fn start(
        bind: SocketAddr,
        app_key: RsaPublicKey,
        key: AppKey,
        clock: Clock,
        faults: CloudFaults,
    ) -> std::io::Result<CloudSim> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            orders: HashMap::new(),
            faults,
            log: Vec::new(),
            submitted: HashMap::new(),
        }));
        let gateway = Gateway {
            app_key,
            key,
            methods: Methods::default(),
            clock,
            state: state.clone(),
        };
        let task = tokio::spawn(serve(listener, gateway));
        Ok(CloudSim { addr, state, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_faults(&self, faults: CloudFaults) {
        if let Ok(mut state) = self.state.lock() {
            state.faults = faults;
        }
    }

    /// The methods asked so far.
    pub fn methods_asked(&self) -> Vec<String> {
        self.state.lock().map(|s| s.log.clone()).unwrap_or_default()
    }

    /// A sale another terminal of the fleet took: approved, `amount` a decimal string.
    pub fn paid_elsewhere(&self, order_no: &str, amount: &str, terminal_sn: &str) {
        let mut fields = Map::new();
        fields.insert("trans_type".into(), "1".into());
        fields.insert("order_amount".into(), amount.into());
        fields.insert("terminal_sn".into(), terminal_sn.into());
        if let Ok(mut state) = self.state.lock() {
            state.orders.insert(
                order_no.to_string(),
                Order {
                    fields,
                    status: "2",
                },
            );
        }
    }

    /// The gateway's status of an order, if it knows it.
    pub fn status_of(&self, order_no: &str) -> Option<String> {
        let state = self.state.lock().ok()?;
        state.orders.get(order_no).map(|o| o.status.to_string())
    }

    /// How often each order number came in a sale, refund or void.
    pub fn submitted(&self) -> HashMap<String, u32> {
        self.state
            .lock()
            .map(|s| s.submitted.clone())
            .unwrap_or_default()
    }

    /// What each completed order moved, in minor units: a sale its amount and tip, a
    /// refund its amount back, a void all its original took.
    pub fn moved(&self) -> HashMap<String, i64> {
        let Ok(state) = self.state.lock() else {
            return HashMap::new();
        };
        state
            .orders
            .iter()
            .filter(|(_, o)| o.status == "2")
            .map(|(no, o)| (no.clone(), net(&state.orders, o)))
            .collect()
    }

    pub(crate) fn shutdown(self) {
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, gateway: Gateway) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let gateway = gateway.clone();
                async move { Ok::<_, Infallible>(gateway.handle(req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}

impl Gateway {
    /// The answer, dated by the gateway's own clock (as HTTP's `Date`), which is how a
    /// client learns how far its clock is from the gateway's.
    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let mut response = self.answer(req).await;
        if let Some(at) = chrono::DateTime::from_timestamp_millis((self.clock)())
            && let Ok(date) = hyper::header::HeaderValue::from_str(
                &at.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
            )
        {
            response.headers_mut().insert(hyper::header::DATE, date);
        }
        response
    }

    async fn answer(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        if req.method() != Method::POST || req.uri().path() != "/api/entry" {
            return text(StatusCode::NOT_FOUND, "not found".into());
        }
        let body = match req.into_body().collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => return text(StatusCode::BAD_REQUEST, "unreadable body".into()),
        };
        let fields = match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(fields)) => fields,
            _ => {
                let top = self.signed(self.error("40000", "the body is not a JSON object"));
                return text(StatusCode::OK, Value::Object(top).to_string());
            }
        };
        let method = str_of(&fields, "method").unwrap_or_default();
        let is_query = method == QUERY;
        let faults = match self.state.lock() {
            Ok(mut state) => {
                state.log.push(method.clone());
                state.faults.clone()
            }
            Err(_) => return text(StatusCode::INTERNAL_SERVER_ERROR, "poisoned".into()),
        };
        let faulty = !is_query || faults.also_queries;
        let top = match self.check(&fields) {
            Err(top) => top,
            Ok(()) => self.carry_out(&method, &fields, faulty && faults.in_progress),
        };
        if faulty && faults.timeout {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        if faulty && faults.server_error {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "gateway unavailable".into(),
            );
        }
        let mut top = self.signed(top);
        if faulty && faults.unsigned {
            top.remove("sign");
        }
        if faulty && faults.bad_signature {
            // Altered after signing: what a man in the middle would do.
            if let Some(Value::Object(data)) = top.get_mut("data") {
                data.insert("trans_status".into(), "2".into());
            }
            top.insert("tampered".into(), true.into());
        }
        text(StatusCode::OK, Value::Object(top).to_string())
    }

    /// The request's signature and timestamp.
    fn check(&self, fields: &Map<String, Value>) -> Result<(), Map<String, Value>> {
        if sign::verify(&self.app_key, fields).is_err() {
            return Err(self.error("40002", "invalid signature"));
        }
        let at = str_of(fields, "timestamp").and_then(|t| t.parse::<i64>().ok());
        match at {
            Some(at) if ((self.clock)() - at).abs() <= SKEW_LIMIT_MS => Ok(()),
            _ => Err(self.error("40001", "timestamp out of range")),
        }
    }

    fn error(&self, code: &str, msg: &str) -> Map<String, Value> {
        let mut top = Map::new();
        top.insert("code".into(), code.into());
        top.insert("msg".into(), msg.into());
        top.insert(
            "psn".into(),
            uuid::Uuid::new_v4().simple().to_string().into(),
        );
        top
    }

    fn ok(&self, data: Map<String, Value>) -> Map<String, Value> {
        let mut top = self.error("0", "success");
        top.insert("data".into(), Value::Object(data));
        top
    }

    fn signed(&self, mut top: Map<String, Value>) -> Map<String, Value> {
        if let Ok(signature) = sign::sign(&self.key, &top) {
            top.insert("sign".into(), signature.into());
        }
        top
    }

    // Long on purpose: one arm per gateway method.
    fn carry_out(
        &self,
        method: &str,
        fields: &Map<String, Value>,
        slow: bool,
    ) -> Map<String, Value> {
        let Ok(mut state) = self.state.lock() else {
            return self.error("50000", "gateway error");
        };
        let order_no = str_of(fields, "merchant_order_no");
        let m = &self.methods;
        match method {
            _ if method == PAY_ORDER || method == m.refund || method == m.void => {
                let Some(order_no) = order_no else {
                    return self.error("40004", "merchant_order_no is required");
                };
                *state.submitted.entry(order_no.clone()).or_default() += 1;
                if let Some(known) = state.orders.get(&order_no) {
                    // The same number again answers what is known, never pays twice.
                    return self.ok(describe(&order_no, known));
                }
                if method != PAY_ORDER
                    && let Err(why) = follow_up_allowed(&state.orders, fields, method == m.refund)
                {
                    return self.error("40005", &why);
                }
                // A sale waits for the card on the terminal; a referenced refund or void
                // completes at once unless the fault says otherwise.
                let status = if method == PAY_ORDER || slow {
                    "9"
                } else {
                    "2"
                };
                let mut order = Order {
                    fields: fields.clone(),
                    status,
                };
                if method == m.void {
                    order.fields.insert("trans_type".into(), "2".into());
                } else if method == m.refund {
                    order.fields.insert("trans_type".into(), "3".into());
                }
                let data = describe(&order_no, &order);
                state.orders.insert(order_no, order);
                self.ok(data)
            }
            QUERY => {
                let Some(order_no) = order_no else {
                    return self.error("40004", "merchant_order_no is required");
                };
                let Some(order) = state.orders.get_mut(&order_no) else {
                    return self.error("107", "order not found");
                };
                advance(order);
                self.ok(describe(&order_no, order))
            }
            PAY_CLOSE => {
                let Some(order) = order_no.as_ref().and_then(|o| state.orders.get_mut(o)) else {
                    return self.error("107", "order not found");
                };
                if matches!(order.status, "9" | "0") {
                    order.status = "3";
                }
                let data = describe(order_no.as_deref().unwrap_or_default(), order);
                self.ok(data)
            }
            _ if method == m.tip => {
                let Some(order_no) = order_no else {
                    return self.error("40004", "merchant_order_no is required");
                };
                let tip = fields.get("tip_adjustment_amount").cloned();
                let Some(order) = state.orders.get_mut(&order_no) else {
                    return self.error("107", "order not found");
                };
                if let Some(tip) = tip {
                    order.fields.insert("tip_amount".into(), tip);
                }
                let mut data = describe(&order_no, order);
                if slow {
                    data.insert("trans_status".into(), "9".into());
                }
                self.ok(data)
            }
            _ if method == m.batch_close => {
                let mut data = Map::new();
                data.insert(
                    "terminal_sn".into(),
                    fields.get("terminal_sn").cloned().unwrap_or("all".into()),
                );
                data.insert("total_count".into(), state.orders.len().to_string().into());
                self.ok(data)
            }
            _ => self.error("40003", "unknown method"),
        }
    }
}

/// A refund or void names an approved order of the fleet; refunds give back at most
/// what it captured plus its tip, counting the refunds already taken from it.
fn follow_up_allowed(
    orders: &HashMap<String, Order>,
    fields: &Map<String, Value>,
    refund: bool,
) -> Result<(), String> {
    let orig_no = str_of(fields, "orig_merchant_order_no").unwrap_or_default();
    let orig = orders
        .get(&orig_no)
        .filter(|o| o.status == "2")
        .ok_or_else(|| format!("original order {orig_no} not found"))?;
    if !refund {
        return Ok(());
    }
    let taken: i64 = orders
        .values()
        .filter(|o| str_of(&o.fields, "orig_merchant_order_no").as_deref() == Some(&orig_no))
        .filter(|o| str_of(&o.fields, "trans_type").as_deref() == Some("3"))
        .filter(|o| !matches!(o.status, "1" | "3"))
        .map(|o| minor(o, "order_amount"))
        .sum();
    let asked = str_of(fields, "order_amount")
        .and_then(|t| Money::parse(&t, 2).ok())
        .map_or(0, |m| m.minor());
    if taken + asked > minor(orig, "order_amount") + minor(orig, "tip_amount") {
        return Err(format!("refund exceeds what order {orig_no} captured"));
    }
    Ok(())
}

/// What an order moved: a sale its amount and tip, a refund its amount back, a void
/// what its original moved, back.
fn net(orders: &HashMap<String, Order>, o: &Order) -> i64 {
    match str_of(&o.fields, "trans_type").as_deref() {
        Some("2") => str_of(&o.fields, "orig_merchant_order_no")
            .and_then(|orig| orders.get(&orig))
            .filter(|orig| str_of(&orig.fields, "trans_type").as_deref() != Some("2"))
            .map_or(0, |orig| -net(orders, orig)),
        Some("3") => -minor(o, "order_amount"),
        _ => minor(o, "order_amount") + minor(o, "tip_amount"),
    }
}

/// A decimal field of an order in minor units (0 when absent).
fn minor(o: &Order, key: &str) -> i64 {
    str_of(&o.fields, key)
        .and_then(|t| Money::parse(&t, 2).ok())
        .map_or(0, |m| m.minor())
}

/// A query moves an order on: created, then paying, then completed (declined for
/// amounts ending in .51, the LAN simulator's rule).
fn advance(order: &mut Order) {
    match order.status {
        "9" => order.status = "0",
        "0" => {
            let amount = str_of(&order.fields, "order_amount").unwrap_or_default();
            order.status = if amount.ends_with(".51") { "1" } else { "2" };
        }
        _ => {}
    }
}

fn describe(order_no: &str, order: &Order) -> Map<String, Value> {
    let mut data = Map::new();
    for key in [
        "trans_type",
        "order_amount",
        "tip_amount",
        "price_currency",
        "terminal_sn",
        "orig_merchant_order_no",
    ] {
        if let Some(v) = order.fields.get(key) {
            data.insert(key.into(), v.clone());
        }
    }
    // A sale's answer states the tip in force, none as zero: how a query tells whether
    // a tip adjustment that went unanswered happened.
    let sale = matches!(
        str_of(&order.fields, "trans_type").as_deref(),
        None | Some("1")
    );
    if sale && !data.contains_key("tip_amount") {
        data.insert("tip_amount".into(), "0.00".into());
    }
    data.insert("merchant_order_no".into(), order_no.into());
    data.insert("trans_status".into(), order.status.into());
    if order.status == "2" {
        // What a careless gateway might send: the client masks it on the way in.
        data.insert("card_no".into(), "4761739001010010".into());
        data.insert("card_brand".into(), "VISA".into());
        data.insert("auth_code".into(), "A1B2C3".into());
        data.insert("trans_end_time".into(), "2026-01-01 12:00:00".into());
    }
    data
}

fn str_of(fields: &Map<String, Value>, key: &str) -> Option<String> {
    match fields.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Starts the gateway for `till sim --cloud` and keeps it until Ctrl-C or SIGTERM.
pub(crate) async fn run(bind: SocketAddr, args: &CloudSimArgs) -> std::io::Result<()> {
    let other = |e: KeyError| std::io::Error::other(e.to_string());
    let (Some(app), Some(gateway)) = (&args.app_public_key, &args.gateway_private_key) else {
        return Err(std::io::Error::other(
            "--cloud needs --app-public-key and --gateway-private-key",
        ));
    };
    let app_key = keys::load_public("app public key", app).map_err(other)?;
    let key = keys::load_private(gateway).map_err(other)?;
    let sim = CloudSim::start(bind, app_key, key, cloud::system_clock(), args.faults()).await?;
    for (order_no, amount) in &args.paid {
        sim.paid_elsewhere(order_no, amount, "SN-OTHER");
    }
    eprintln!(
        "till sim: simulated cloud gateway listening on {} (Ctrl-C to stop)",
        sim.url()
    );
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    sim.shutdown();
    Ok(())
}
