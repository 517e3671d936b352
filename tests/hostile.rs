//! The hostile terminal of tests/common/hostile.rs does what each switch says: proved
//! as a plain WebSocket client over loopback (the frames that come back, and the
//! ledger of money that moved), then by `till` itself paying through it.

mod common;

use std::time::{Duration, Instant};

use common::hostile::*;
use common::{QUICK, WAIT, eventually, fast_settings, run, till};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use till::ecr::PayScenario;
use till::journal::{Journal, TxnState};
use till::lane::{Event, LinkNews, PayRequest, SaleOptions};
use till::mask::is_card_number;
use till::money::Money;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// How long "nothing came back" is watched for.
const QUIET: Duration = Duration::from_millis(300);

struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    async fn connect(h: &Hostile) -> Client {
        let (ws, _) = tokio::time::timeout(WAIT, connect_async(h.url.as_str()))
            .await
            .expect("connected in time")
            .expect("the hostile terminal accepts the upgrade");
        Client { ws }
    }

    async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .expect("frame sent");
    }

    /// The next message of any kind; None when nothing came within `within` or the
    /// socket ended.
    async fn message(&mut self, within: Duration) -> Option<Message> {
        match tokio::time::timeout(within, self.ws.next()).await {
            Ok(Some(Ok(message))) => Some(message),
            _ => None,
        }
    }

    /// The next text frame as it came.
    async fn raw(&mut self) -> String {
        loop {
            match self.message(WAIT).await {
                Some(Message::Text(text)) => return text.to_string(),
                Some(Message::Close(c)) => panic!("socket closed instead of a frame: {c:?}"),
                Some(_) => {}
                None => panic!("no frame within {WAIT:?}"),
            }
        }
    }

    /// The next text frame, parsed.
    async fn frame(&mut self) -> Value {
        let raw = self.raw().await;
        serde_json::from_str(&raw).unwrap_or_else(|e| panic!("not JSON ({e}): {raw}"))
    }

    async fn ask(&mut self, frame: Value) -> Value {
        self.send(frame).await;
        self.frame().await
    }

    /// Nothing but control frames arrives for a while.
    async fn nothing(&mut self) {
        let deadline = tokio::time::Instant::now() + QUIET;
        while let Ok(next) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            match next {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                other => panic!("expected nothing, got {other:?}"),
            }
        }
    }
}

fn request(topic: &str, id: &str, biz: Value) -> Value {
    json!({"topic": topic, "app_id": "test-app", "request_id": id,
           "timestamp": "1700000000000", "version": "2.0", "biz_data": biz})
}

fn sale(id: &str, order: &str, amount: &str) -> Value {
    request(
        "ecrhub.pay.order",
        id,
        json!({"trans_type": "1", "merchant_order_no": order,
               "order_amount": amount, "pay_scenario": "SWIPE_CARD"}),
    )
}

fn query(id: &str, order: &str) -> Value {
    request("ecrhub.pay.query", id, json!({"merchant_order_no": order}))
}

fn bare(topic: &str, id: &str) -> Value {
    json!({"topic": topic, "app_id": "test-app", "request_id": id})
}

fn charge(order: &str, trans_type: &str, minor: i64) -> Charge {
    Charge {
        merchant_order_no: order.into(),
        trans_type: trans_type.into(),
        amount_minor: minor,
        status: "2".into(),
    }
}

/// A wire amount in minor units, without floating point.
fn minor(v: &Value) -> i64 {
    let text = v
        .as_str()
        .unwrap_or_else(|| panic!("amount not a string: {v}"));
    Money::parse(text, 2)
        .unwrap_or_else(|e| panic!("amount {text}: {e}"))
        .minor()
}

fn switches(tweak: impl FnOnce(&mut Switches)) -> Switches {
    let mut s = Switches::default();
    tweak(&mut s);
    s
}

async fn started(tweak: impl FnOnce(&mut Switches)) -> (Hostile, Client) {
    let h = Hostile::start(switches(tweak)).await;
    let c = Client::connect(&h).await;
    (h, c)
}

#[tokio::test]
async fn polite_when_every_switch_is_off() {
    let (h, mut c) = started(|_| {}).await;
    assert!(h.url.ends_with(&format!(":{}", h.port)));

    let init = c.ask(bare("ecrhub.init", "i1")).await;
    assert_eq!(init["response_code"], "0");
    assert_eq!(init["request_id"], "i1");
    assert_eq!(init["biz_data"]["device_sn"], DEVICE_SN);
    let init2 = c.ask(bare("ecrhub.pay.init", "i2")).await;
    assert_eq!(
        (&init2["response_code"], &init2["topic"]),
        (&json!("0"), &json!("ecrhub.pay.init"))
    );
    let beat = c.ask(bare("ecrhub.heartbeat", "h1")).await;
    assert_eq!(beat["response_code"], "0");
    assert_eq!(beat["request_id"], "h1");

    let paid = c.ask(sale("r1", "A-0001", "12.34")).await;
    assert_eq!(paid["topic"], "ecrhub.pay.order");
    assert_eq!(paid["request_id"], "r1");
    assert_eq!(paid["response_code"], "0");
    let biz = &paid["biz_data"];
    assert_eq!(biz["merchant_order_no"], "A-0001");
    assert_eq!(biz["trans_status"], "2");
    assert_eq!(minor(&biz["order_amount"]), 1234);
    assert_eq!(biz["card_no"], MASKED_CARD);
    assert!(!biz["auth_code"].as_str().unwrap_or_default().is_empty());
    assert_eq!(h.ledger(), vec![charge("A-0001", "1", 1234)]);

    let q = c.ask(query("q1", "A-0001")).await;
    assert_eq!(q["response_code"], "0");
    assert_eq!(q["biz_data"]["trans_status"], "2");
    assert_eq!(minor(&q["biz_data"]["order_amount"]), 1234);
    let never = c.ask(query("q2", "NEVER-SEEN")).await;
    assert_eq!(never["response_code"], "107");
    assert_eq!(never["response_msg"], "Order does not exist");

    let dup = c.ask(sale("r2", "A-0001", "12.34")).await;
    assert_eq!(dup["response_code"], "104");
    assert_eq!(h.ledger().len(), 1, "a duplicate moves nothing");

    let tip = c
        .ask(request(
            "ecrhub.pay.tip.adjustment",
            "t1",
            json!({"merchant_order_no": "A-0001", "tip_adjustment_amount": "1.50"}),
        ))
        .await;
    assert_eq!(tip["response_code"], "0");
    assert_eq!(minor(&tip["biz_data"]["tip_amount"]), 150);
    let refund = c
        .ask(request(
            "ecrhub.pay.order",
            "r3",
            json!({"trans_type": "3", "merchant_order_no": "A-0002",
                   "orig_merchant_order_no": "A-0001", "order_amount": "2.34"}),
        ))
        .await;
    assert_eq!(refund["biz_data"]["trans_status"], "2");
    let close = c
        .ask(request(
            "ecrhub.pay.close",
            "c1",
            json!({"merchant_order_no": "A-0003"}),
        ))
        .await;
    assert_eq!(close["response_code"], "0");
    let batch = c.ask(bare("ecrhub.pay.batch.close", "b1")).await;
    assert_eq!(batch["response_code"], "0");

    assert_eq!(
        h.ledger(),
        vec![
            charge("A-0001", "1", 1234),
            charge("A-0001", "tip-adjust", 150),
            charge("A-0002", "3", -234),
        ]
    );
    h.wait_for("ecrhub.pay.order", 3).await;
    assert_eq!(h.count("ecrhub.pay.order"), 3);
    assert_eq!(h.count("ecrhub.init"), 1);
    assert_eq!(h.received().len(), 11);
    assert_eq!(h.received()[3]["request_id"], "r1");
}

#[tokio::test]
async fn books_outlive_connections_and_clients_that_vanish() {
    let (h, mut c) = started(|s| s.delay_ms = 200).await;
    // Pings are answered while the terminal reads.
    c.ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .expect("ping sent");
    match c.message(WAIT).await {
        Some(Message::Pong(p)) => assert_eq!(&p[..], b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
    // The register asks for money and vanishes during the card flow.
    c.send(sale("r1", "B-0001", "7.00")).await;
    drop(c);
    assert!(
        eventually(|| h.ledger() == vec![charge("B-0001", "1", 700)]).await,
        "the card flow finished without its register: {:?}",
        h.ledger()
    );
    // A register that reconnects finds the terminal's own history.
    h.set(Switches::default());
    let mut c = Client::connect(&h).await;
    let q = c.ask(query("q1", "B-0001")).await;
    assert_eq!(q["biz_data"]["trans_status"], "2");
    let dup = c.ask(sale("r2", "B-0001", "7.00")).await;
    assert_eq!(dup["response_code"], "104");
    // Closing politely in the middle of things does not bother it either.
    c.send(bare("ecrhub.heartbeat", "h1")).await;
    c.ws.close(None).await.expect("closed");
    let mut c = Client::connect(&h).await;
    assert_eq!(c.ask(bare("ecrhub.init", "i1")).await["response_code"], "0");
    assert_eq!(h.connections(), 3);
    assert_eq!(h.ledger().len(), 1);
}

#[tokio::test]
async fn pans_everywhere_puts_card_numbers_in_every_field() {
    assert!(
        is_card_number(PAN)
            && is_card_number(LUHN_TIMESTAMP)
            && !is_card_number("4111111111111112")
    );
    let (h, mut c) = started(|s| {
        s.pans_everywhere = true;
        s.malformed_first = true;
    })
    .await;
    c.send(bare("ecrhub.heartbeat", "h1")).await;
    assert!(c.raw().await.contains(PAN), "malformed frame carries a PAN");
    let beat: Value = serde_json::from_str(&c.raw().await).expect("answer is JSON");
    assert!(beat.to_string().contains(PAN_DASHED));
    c.send(sale("r1", "P-0001", "3.00")).await;
    let _malformed = c.raw().await;
    let paid = c.frame().await;
    let biz = &paid["biz_data"];
    assert_eq!(biz["card_no"], PAN, "card_no unmasked");
    assert!(
        paid["response_msg"]
            .as_str()
            .unwrap_or_default()
            .contains(PAN_SPACED)
    );
    assert!(biz["msg"].as_str().unwrap_or_default().contains(PAN_DASHED));
    assert!(
        biz["merchant_name"]
            .as_str()
            .unwrap_or_default()
            .contains(PAN_DASHED)
    );
    assert!(biz.get(PAN).is_some(), "a key named by a PAN in biz_data");
    assert!(
        paid.get(PAN).is_some(),
        "a key named by a PAN in the envelope"
    );
    let stamp = paid["timestamp"].as_str().unwrap_or_default();
    assert!(
        stamp.len() == 16 && is_card_number(stamp),
        "timestamp {stamp}"
    );
    assert_eq!(h.ledger(), vec![charge("P-0001", "1", 300)]);

    // Closing a socket: the reason names a card.
    h.set(switches(|s| {
        s.pans_everywhere = true;
        s.drop_after_charge = true;
    }));
    c.send(sale("r2", "P-0002", "4.00")).await;
    match c.message(WAIT).await {
        Some(Message::Close(Some(frame))) => assert!(frame.reason.contains(PAN), "{frame:?}"),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn trans_status_other_than_completed_moves_nothing() {
    let h = Hostile::start(Switches::default()).await;
    let mut c = Client::connect(&h).await;
    for status in ["0", "1", "3", "9"] {
        h.set(switches(|s| s.trans_status = Some(status.into())));
        let order = format!("S-{status}");
        let a = c.ask(sale(&format!("r{status}"), &order, "5.00")).await;
        assert_eq!(a["response_code"], "0");
        assert_eq!(a["biz_data"]["trans_status"], status);
        let q = c.ask(query(&format!("q{status}"), &order)).await;
        assert_eq!(q["biz_data"]["trans_status"], status);
    }
    assert!(h.ledger().is_empty(), "{:?}", h.ledger());
    h.set(switches(|s| s.trans_status = Some("2".into())));
    c.ask(sale("r2", "S-2", "5.00")).await;
    assert_eq!(h.ledger(), vec![charge("S-2", "1", 500)]);
}

#[tokio::test]
async fn omit_trans_status_leaves_it_out_but_the_money_still_moves() {
    let (h, mut c) = started(|s| s.omit_trans_status = true).await;
    let a = c.ask(sale("r1", "O-0001", "6.00")).await;
    assert_eq!(a["response_code"], "0");
    assert!(a["biz_data"].get("trans_status").is_none(), "{a}");
    assert_eq!(h.ledger(), vec![charge("O-0001", "1", 600)]);
    assert_eq!(
        c.ask(query("q1", "O-0001")).await["biz_data"]["trans_status"],
        "2"
    );
    // With a status as well: the reply still omits it, the books follow it.
    h.set(switches(|s| {
        s.omit_trans_status = true;
        s.trans_status = Some("1".into());
    }));
    let a = c.ask(sale("r2", "O-0002", "6.00")).await;
    assert!(a["biz_data"].get("trans_status").is_none(), "{a}");
    assert_eq!(
        c.ask(query("q2", "O-0002")).await["biz_data"]["trans_status"],
        "1"
    );
    assert_eq!(h.ledger().len(), 1);
}

#[tokio::test]
async fn partial_minor_approves_less_than_asked() {
    let (h, mut c) = started(|s| s.partial_minor = Some(500)).await;
    let a = c.ask(sale("r1", "X-0001", "10.00")).await;
    assert_eq!(a["biz_data"]["trans_status"], "2");
    assert_eq!(minor(&a["biz_data"]["order_amount"]), 500);
    assert_eq!(h.ledger(), vec![charge("X-0001", "1", 500)]);
    let q = c.ask(query("q1", "X-0001")).await;
    assert_eq!(minor(&q["biz_data"]["order_amount"]), 500);
}

#[tokio::test]
async fn message_overrides_response_msg() {
    let (h, mut c) = started(|s| s.message = Some("receipt printer not found".into())).await;
    let a = c.ask(sale("r1", "M-0001", "1.00")).await;
    assert_eq!(a["response_msg"], "receipt printer not found");
    assert_eq!(
        a["biz_data"]["trans_status"], "2",
        "the words change nothing"
    );
    let beat = c.ask(bare("ecrhub.heartbeat", "h1")).await;
    assert_eq!(beat["response_msg"], "receipt printer not found");
    assert_eq!(h.ledger().len(), 1);
}

#[tokio::test]
async fn delay_ms_answers_and_books_only_after_the_card_flow() {
    let (h, mut c) = started(|s| s.delay_ms = 1500).await;
    let sent = Instant::now();
    c.send(sale("r1", "D-0001", "2.00")).await;
    h.wait_for("ecrhub.pay.order", 1).await;
    assert!(h.ledger().is_empty(), "booked before the card flow ended");
    // Other topics are answered meanwhile.
    assert_eq!(
        c.ask(bare("ecrhub.heartbeat", "h1")).await["request_id"],
        "h1"
    );
    let a = c.frame().await;
    assert!(
        sent.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(a["request_id"], "r1");
    assert_eq!(h.ledger(), vec![charge("D-0001", "1", 200)]);
}

#[tokio::test]
async fn hold_answers_and_books_only_at_release() {
    let (h, mut c) = started(|s| s.hold = true).await;
    c.send(sale("r1", "H-0001", "8.00")).await;
    h.wait_for("ecrhub.pay.order", 1).await;
    assert_eq!(h.held(), 1);
    c.nothing().await;
    assert!(h.ledger().is_empty());
    // The terminal says the order is still in its card flow.
    assert_eq!(
        c.ask(query("q1", "H-0001")).await["biz_data"]["trans_status"],
        "0"
    );
    h.release();
    assert_eq!(
        h.ledger(),
        vec![charge("H-0001", "1", 800)],
        "booked at release"
    );
    let a = c.frame().await;
    assert_eq!(a["request_id"], "r1");
    assert_eq!(a["biz_data"]["trans_status"], "2");
    assert_eq!(h.held(), 0);
}

#[tokio::test]
async fn answer_twice_sends_the_same_answer_twice_and_books_once() {
    let (h, mut c) = started(|s| s.answer_twice = true).await;
    let first = c.ask(sale("r1", "T-0001", "4.00")).await;
    let second = c.frame().await;
    assert_eq!(first, second);
    assert_eq!(first["request_id"], "r1");
    c.nothing().await;
    assert_eq!(h.ledger(), vec![charge("T-0001", "1", 400)]);
}

#[tokio::test]
async fn wrong_order_no_names_another_order_but_books_the_asked_one() {
    let (h, mut c) = started(|s| s.wrong_order_no = true).await;
    let a = c.ask(sale("r1", "W-0001", "1.00")).await;
    assert_eq!(a["request_id"], "r1");
    assert_eq!(a["biz_data"]["merchant_order_no"], "W-0001X");
    let b = c.ask(sale("r2", "W-0002", "2.00")).await;
    assert_eq!(b["request_id"], "r2");
    assert_eq!(
        b["biz_data"]["merchant_order_no"], "W-0001",
        "the previous order"
    );
    assert_eq!(
        h.ledger(),
        vec![charge("W-0001", "1", 100), charge("W-0002", "1", 200)]
    );
}

#[tokio::test]
async fn other_order_first_sends_an_unsolicited_approval_before_the_answer() {
    let (h, mut c) = started(|s| s.other_order_first = true).await;
    let stray = c.ask(sale("r1", "U-0001", "3.00")).await;
    assert_eq!(stray["topic"], "ecrhub.pay.order");
    assert!(stray.get("request_id").is_none(), "{stray}");
    assert_eq!(stray["biz_data"]["merchant_order_no"], OTHER_ORDER_NO);
    assert_eq!(stray["biz_data"]["trans_status"], "2");
    let real = c.frame().await;
    assert_eq!(real["request_id"], "r1");
    assert_eq!(real["biz_data"]["merchant_order_no"], "U-0001");
    assert_eq!(h.ledger(), vec![charge("U-0001", "1", 300)]);
}

#[tokio::test]
async fn drop_after_charge_books_then_closes_unanswered() {
    let (h, mut c) = started(|s| s.drop_after_charge = true).await;
    c.send(sale("r1", "K-0001", "9.99")).await;
    match c.message(WAIT).await {
        Some(Message::Close(Some(frame))) => {
            assert_eq!(frame.code, CloseCode::Error);
            assert_eq!(frame.reason.as_str(), CLOSE_REASON);
        }
        other => panic!("expected a close frame and no answer, got {other:?}"),
    }
    assert!(c.message(QUIET).await.is_none(), "nothing after the close");
    assert_eq!(h.ledger(), vec![charge("K-0001", "1", 999)]);
    h.set(Switches::default());
    let mut c = Client::connect(&h).await;
    assert_eq!(
        c.ask(query("q1", "K-0001")).await["biz_data"]["trans_status"],
        "2"
    );
}

#[tokio::test]
async fn no_request_id_leaves_it_out_of_every_answer() {
    let (h, mut c) = started(|s| s.no_request_id = true).await;
    for frame in [
        bare("ecrhub.init", "i1"),
        json!({"topic": "ecrhub.heartbeat", "msg_id": "m1"}),
        sale("r1", "N-0001", "1.00"),
    ] {
        let a = c.ask(frame).await;
        assert!(
            a.get("request_id").is_none() && a.get("msg_id").is_none(),
            "{a}"
        );
        assert_eq!(a["response_code"], "0");
    }
    assert_eq!(h.ledger().len(), 1);
}

#[tokio::test]
async fn biz_data_empty_string_in_every_answer() {
    let (h, mut c) = started(|s| s.biz_data_empty_string = true).await;
    let init = c.ask(bare("ecrhub.init", "i1")).await;
    assert_eq!(init["biz_data"], "");
    let a = c.ask(sale("r1", "E-0001", "1.00")).await;
    assert_eq!(a["biz_data"], "");
    assert_eq!(a["request_id"], "r1");
    assert_eq!(
        h.ledger(),
        vec![charge("E-0001", "1", 100)],
        "the money moved"
    );
}

#[tokio::test]
async fn malformed_first_precedes_every_answer() {
    let (h, mut c) = started(|s| s.malformed_first = true).await;
    for (frame, id) in [
        (bare("ecrhub.heartbeat", "h1"), "h1"),
        (sale("r1", "G-0001", "1.00"), "r1"),
    ] {
        c.send(frame).await;
        let junk = c.raw().await;
        assert!(serde_json::from_str::<Value>(&junk).is_err(), "{junk}");
        assert_eq!(c.frame().await["request_id"], id);
    }
    assert_eq!(h.ledger().len(), 1);
}

#[tokio::test]
async fn query_status_forces_the_answer_of_every_query() {
    let (h, mut c) = started(|s| s.query_status = Some("0".into())).await;
    c.ask(sale("r1", "Q-0001", "1.00")).await;
    let q = c.ask(query("q1", "Q-0001")).await;
    assert_eq!(
        q["biz_data"]["trans_status"], "0",
        "paid, but it says in progress"
    );
    h.set(switches(|s| s.query_status = Some("2".into())));
    let q = c.ask(query("q2", "NEVER-SEEN")).await;
    assert_eq!(q["response_code"], "0");
    assert_eq!(q["biz_data"]["trans_status"], "2");
    assert_eq!(q["biz_data"]["merchant_order_no"], "NEVER-SEEN");
    assert_eq!(h.ledger().len(), 1, "queries move nothing");
}

#[tokio::test]
async fn silent_reads_everything_and_answers_nothing() {
    let (h, mut c) = started(|s| s.silent = true).await;
    c.send(bare("ecrhub.init", "i1")).await;
    c.ws.send(Message::text("not json")).await.expect("sent");
    c.send(sale("r1", "Z-0001", "1.00")).await;
    h.wait_for("ecrhub.pay.order", 1).await;
    c.nothing().await;
    assert_eq!(h.count("ecrhub.init"), 1);
    assert_eq!(h.received()[1], Value::String("not json".into()));
    assert!(h.ledger().is_empty());
    // Switched back at runtime, on the same connection.
    h.set(Switches::default());
    assert_eq!(c.ask(bare("ecrhub.init", "i2")).await["request_id"], "i2");
}

#[tokio::test]
async fn switches_combine() {
    let (h, mut c) = started(|s| {
        s.malformed_first = true;
        s.answer_twice = true;
        s.no_request_id = true;
        s.partial_minor = Some(150);
    })
    .await;
    c.send(sale("r1", "Y-0001", "3.00")).await;
    assert!(serde_json::from_str::<Value>(&c.raw().await).is_err());
    let first = c.frame().await;
    let second = c.frame().await;
    assert_eq!(first, second);
    assert!(first.get("request_id").is_none());
    assert_eq!(minor(&first["biz_data"]["order_amount"]), 150);
    assert_eq!(h.ledger(), vec![charge("Y-0001", "1", 150)]);
}

/// The next lane event that `want` picks, within `WAIT`.
async fn until(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>,
    mut want: impl FnMut(&Event) -> bool,
) -> Event {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("the awaited lane event came in time")
            .expect("the lane is running");
        if want(&event) {
            return event;
        }
    }
}

/// `till` itself connects and pays through it: the lane in this process, and the
/// real binary started with `--url`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn till_pays_through_a_polite_hostile_terminal() {
    let h = Hostile::start(Switches::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = Journal::open(dir.path()).expect("journal opens");
    let owner = till::lane::LaneOwner::try_acquire(dir.path(), "T01", "test").expect("lane");
    let (lane, mut events, task) = till::lane::spawn(fast_settings(&h.url), journal, owner);
    until(&mut events, |e| {
        matches!(e, Event::Link(LinkNews::Connected))
    })
    .await;
    let device = until(&mut events, |e| {
        matches!(e, Event::Link(LinkNews::Device(_)))
    })
    .await;
    let Event::Link(LinkNews::Device(device)) = device else {
        unreachable!()
    };
    assert_eq!(device.device_sn.as_deref(), Some(DEVICE_SN));
    let order = lane
        .pay(PayRequest::Sale {
            amount: Money::from_minor(1234, 2).expect("money"),
            tip: None,
            cashback: None,
            scenario: PayScenario::Card,
            force: true,
            options: SaleOptions::default(),
        })
        .await
        .expect("the lane takes the sale");
    let done = until(
        &mut events,
        |e| matches!(e, Event::Done { row, .. } if row.order_no == order),
    )
    .await;
    let Event::Done { row, .. } = done else {
        unreachable!()
    };
    assert_eq!(row.state, TxnState::Approved);
    assert_eq!(h.ledger(), vec![charge(&order, "1", 1234)]);
    lane.shutdown().await;
    let _ = tokio::time::timeout(WAIT, task).await;

    let sold = run(
        till(dir.path(), "ws://127.0.0.1:9", QUICK),
        &["--url", &h.url, "sale", "5.00", "--json"],
    )
    .await;
    assert_eq!(sold.code, 0, "{}", sold.stderr);
    let j = sold.json();
    assert_eq!(j["outcome"], "approved");
    let order = j["merchant_order_no"].as_str().unwrap_or_default();
    assert_eq!(h.ledger().last(), Some(&charge(order, "1", 500)));
}
