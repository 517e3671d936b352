//! Requests as they go on the wire, one per operation and trans_type.

use serde_json::Value;
use serde_json::json;
use till::ecr::{Operation, Order, PayScenario, TransType};
use till::money::Money;

fn m(minor: i64) -> Money {
    Money::from_minor(minor, 2).unwrap()
}

fn wire(op: &Operation) -> Value {
    serde_json::from_str(&op.envelope("app-1", "req-1", 1_700_000_000_000).to_json()).unwrap()
}

#[test]
fn envelope_carries_the_required_fields() {
    let v = wire(&Operation::Heartbeat);
    assert_eq!(
        v,
        json!({"topic": "ecrhub.heartbeat", "app_id": "app-1", "request_id": "req-1",
               "timestamp": "1700000000000", "version": "2.0"})
    );
}

#[test]
fn sale_is_trans_type_1_with_decimal_amount() {
    let op = Operation::Order(Order::sale("L01-1", m(1234), PayScenario::Card));
    assert_eq!(
        wire(&op)["biz_data"],
        json!({"trans_type": "1", "merchant_order_no": "L01-1", "order_amount": "12.34",
               "pay_scenario": "SWIPE_CARD"})
    );
}

#[test]
fn cashback_sale_is_trans_type_11() {
    let order = Order::sale("L01-2", m(1000), PayScenario::Card)
        .with_cashback(Some(m(2000)))
        .with_tip(Some(m(150)))
        .with_currency(Some("USD".into()));
    let biz = &wire(&Operation::Order(order))["biz_data"];
    assert_eq!(biz["trans_type"], "11");
    assert_eq!(biz["cashback_amount"], "20.00");
    assert_eq!(biz["tip_amount"], "1.50");
    assert_eq!(biz["price_currency"], "USD");
    let zero_cashback = Order::sale("L01-3", m(1000), PayScenario::Card).with_cashback(Some(m(0)));
    assert_eq!(zero_cashback.trans_type, TransType::Sale);
}

#[test]
fn refunds_are_referenced_only_with_an_original() {
    let referenced = Order::refund("L01-4", m(500), Some("L01-1".into()));
    let biz = &wire(&Operation::Order(referenced))["biz_data"];
    assert_eq!(biz["trans_type"], "3");
    assert_eq!(biz["orig_merchant_order_no"], "L01-1");
    let unreferenced = Order::refund("L01-5", m(500), None);
    let biz = &wire(&Operation::Order(unreferenced))["biz_data"];
    assert!(biz.get("orig_merchant_order_no").is_none());
}

#[test]
fn every_trans_type_has_its_code() {
    let cases = [
        (Order::void("A", "O"), "2"),
        (Order::pre_auth("A", m(1)), "4"),
        (
            Order::follow_up(TransType::PreAuthCancel, "A", "O", None),
            "5",
        ),
        (
            Order::follow_up(TransType::Completion, "A", "O", Some(m(1))),
            "6",
        ),
        (
            Order::follow_up(TransType::CompletionCancel, "A", "O", None),
            "7",
        ),
        (
            Order::follow_up(TransType::CompletionRefund, "A", "O", Some(m(1))),
            "8",
        ),
    ];
    for (order, code) in cases {
        let biz = &wire(&Operation::Order(order))["biz_data"];
        assert_eq!(biz["trans_type"], code);
        assert_eq!(
            biz["orig_merchant_order_no"].as_str().is_some(),
            code != "4"
        );
    }
}

#[test]
fn other_topics() {
    let q = wire(&Operation::Query {
        order_no: "L01-1".into(),
    });
    assert_eq!(q["topic"], "ecrhub.pay.query");
    assert_eq!(q["biz_data"], json!({"merchant_order_no": "L01-1"}));
    let c = wire(&Operation::Close {
        order_no: "L01-1".into(),
    });
    assert_eq!(c["topic"], "ecrhub.pay.close");
    let t = wire(&Operation::TipAdjust {
        orig_order_no: "L01-1".into(),
        tip: m(300),
    });
    assert_eq!(t["topic"], "ecrhub.pay.tip.adjustment");
    assert_eq!(
        t["biz_data"],
        json!({"merchant_order_no": "L01-1", "tip_adjustment_amount": "3.00"})
    );
    let b = wire(&Operation::BatchClose);
    assert_eq!(b["topic"], "ecrhub.pay.batch.close");
    assert!(b.get("biz_data").is_none());
    assert_eq!(wire(&Operation::Init)["topic"], "ecrhub.init");
}
