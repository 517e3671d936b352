//! Requests as they go on the wire, one per operation and trans_type.

use serde_json::Value;
use serde_json::json;
use till::ecr::{Operation, Order, OrderOptions, PayScenario, Receipts, TransType};
use till::lane::{Description, PayRequest, SaleOptions};
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

fn every_option() -> OrderOptions {
    OrderOptions {
        on_screen_tip: Some(true),
        on_screen_signature: Some(false),
        confirm_on_terminal: Some(true),
        receipt_print_mode: Some(Receipts::Both),
        description: Some("table 4".into()),
    }
}

#[test]
fn a_sale_carries_its_terminal_options_with_their_wire_types() {
    let order = Order::sale("L01-6", m(1234), PayScenario::Card).with_options(every_option());
    assert_eq!(
        wire(&Operation::Order(order))["biz_data"],
        json!({"trans_type": "1", "merchant_order_no": "L01-6", "order_amount": "12.34",
               "pay_scenario": "SWIPE_CARD", "on_screen_tip": true,
               "on_screen_signature": false, "confirm_on_terminal": true,
               "receipt_print_mode": 3, "description": "table 4"})
    );
    // A cash-back sale is a sale: the options go with it, whichever builder came first.
    let order = Order::sale("L01-7", m(1000), PayScenario::Card)
        .with_options(every_option())
        .with_cashback(Some(m(500)));
    let biz = &wire(&Operation::Order(order))["biz_data"];
    assert_eq!(biz["trans_type"], "11");
    assert_eq!(biz["on_screen_tip"], json!(true));
    assert_eq!(biz["receipt_print_mode"], json!(3));
    assert_eq!(biz["description"], "table 4");
}

#[test]
fn options_left_unset_are_left_out() {
    let order = Order::sale("L01-8", m(100), PayScenario::Card).with_options(OrderOptions {
        receipt_print_mode: Some(Receipts::None),
        ..OrderOptions::default()
    });
    assert_eq!(
        wire(&Operation::Order(order))["biz_data"],
        json!({"trans_type": "1", "merchant_order_no": "L01-8", "order_amount": "1.00",
               "pay_scenario": "SWIPE_CARD", "receipt_print_mode": 0})
    );
    for (receipts, mode) in [
        (Receipts::None, 0),
        (Receipts::Merchant, 1),
        (Receipts::Customer, 2),
        (Receipts::Both, 3),
    ] {
        let order = Order::sale("L01-9", m(100), PayScenario::Card).with_options(OrderOptions {
            receipt_print_mode: Some(receipts),
            ..OrderOptions::default()
        });
        let text = Operation::Order(order)
            .envelope("app-1", "req-1", 0)
            .to_json();
        assert!(
            text.contains(&format!("\"receipt_print_mode\":{mode}")),
            "an integer, not a string: {text}"
        );
    }
}

#[test]
fn a_refund_or_a_void_carries_only_confirmation_and_receipts() {
    let refund = Order::refund("L01-10", m(500), Some("L01-6".into())).with_options(every_option());
    assert_eq!(
        wire(&Operation::Order(refund))["biz_data"],
        json!({"trans_type": "3", "merchant_order_no": "L01-10", "order_amount": "5.00",
               "orig_merchant_order_no": "L01-6", "pay_scenario": "SWIPE_CARD",
               "confirm_on_terminal": true, "receipt_print_mode": 3})
    );
    let void = Order::void("L01-11", "L01-6").with_options(every_option());
    assert_eq!(
        wire(&Operation::Order(void))["biz_data"],
        json!({"trans_type": "2", "merchant_order_no": "L01-11",
               "orig_merchant_order_no": "L01-6",
               "confirm_on_terminal": true, "receipt_print_mode": 3})
    );
}

#[test]
fn the_pre_auth_family_carries_no_terminal_options() {
    let keys = [
        "on_screen_tip",
        "on_screen_signature",
        "confirm_on_terminal",
        "receipt_print_mode",
        "description",
    ];
    let orders = [
        Order::pre_auth("A", m(1)),
        Order::follow_up(TransType::PreAuthCancel, "A", "O", None),
        Order::follow_up(TransType::Completion, "A", "O", Some(m(1))),
        Order::follow_up(TransType::CompletionCancel, "A", "O", None),
        Order::follow_up(TransType::CompletionRefund, "A", "O", Some(m(1))),
    ];
    for order in orders {
        let order = order.with_options(every_option());
        let biz = &wire(&Operation::Order(order.clone()))["biz_data"];
        for key in keys {
            assert!(
                biz.get(key).is_none(),
                "{:?} carries {key}: {biz}",
                order.trans_type
            );
        }
    }
}

#[test]
fn a_card_number_in_a_description_never_reaches_the_wire() {
    let order = Order::sale("L01-12", m(100), PayScenario::Card).with_options(OrderOptions {
        description: Some("card 4111111111111111".into()),
        ..OrderOptions::default()
    });
    assert_eq!(
        wire(&Operation::Order(order))["biz_data"]["description"],
        "card 411111******1111"
    );
}

#[test]
fn a_pay_request_s_options_reach_the_wire_over_the_lane_s_defaults() {
    let lane = SaleOptions {
        tip_on_terminal: Some(true),
        confirm_on_terminal: Some(true),
        receipts: Some(Receipts::Merchant),
        ..SaleOptions::default()
    };
    let sale = PayRequest::Sale {
        amount: m(100),
        tip: None,
        cashback: None,
        scenario: PayScenario::Card,
        force: false,
        options: SaleOptions {
            tip_on_terminal: Some(false),
            signature_on_terminal: Some(true),
            description: Some(Description::new("table 4").unwrap()),
            ..SaleOptions::default()
        },
    }
    .with_defaults(&lane);
    assert_eq!(
        wire(&sale.operation("L01-13", "USD"))["biz_data"],
        json!({"trans_type": "1", "merchant_order_no": "L01-13", "order_amount": "1.00",
               "price_currency": "USD", "pay_scenario": "SWIPE_CARD",
               "on_screen_tip": false, "on_screen_signature": true,
               "confirm_on_terminal": true, "receipt_print_mode": 1,
               "description": "table 4"})
    );
    let void = PayRequest::Void {
        orig: "L01-13".into(),
        options: SaleOptions {
            receipts: Some(Receipts::None),
            ..SaleOptions::default()
        },
    }
    .with_defaults(&lane);
    assert_eq!(
        wire(&void.operation("L01-14", "USD"))["biz_data"],
        json!({"trans_type": "2", "merchant_order_no": "L01-14",
               "orig_merchant_order_no": "L01-13",
               "confirm_on_terminal": true, "receipt_print_mode": 0})
    );
    let pre_auth = PayRequest::PreAuth { amount: m(100) }.with_defaults(&lane);
    assert_eq!(pre_auth, PayRequest::PreAuth { amount: m(100) });
}
