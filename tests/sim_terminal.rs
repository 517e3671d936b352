//! The simulated terminal's books: every rule without a socket.

use serde_json::{Map, Value, json};
use till::sim::terminal::{Answer, LedgerEntry, Terminal};

fn biz(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn sale(t: &mut Terminal, order: &str, amount: &str) -> (Answer, Vec<LedgerEntry>) {
    t.begin_order(&biz(
        json!({"trans_type": "1", "merchant_order_no": order, "order_amount": amount}),
    ))
    .unwrap();
    t.finish_order(order, Some(51), None)
}

#[test]
fn sale_then_query_void_and_refund_rules() {
    let mut t = Terminal::new(2);
    let (a, ledger) = sale(&mut t, "A1", "12.34");
    assert!(a.is_ok());
    assert_eq!(ledger[0].amount_minor, 1234);
    let q = t.query(&biz(json!({"merchant_order_no": "A1"})));
    assert_eq!(q.biz.as_ref().unwrap()["trans_status"], "2");
    // Over-refund refused, partial refund fine.
    let over = t.begin_order(&biz(json!({"trans_type": "3", "merchant_order_no": "R1", "order_amount": "20.00", "orig_merchant_order_no": "A1"})));
    assert!(over.is_err());
    t.begin_order(&biz(json!({"trans_type": "3", "merchant_order_no": "R2", "order_amount": "2.34", "orig_merchant_order_no": "A1"})))
        .unwrap();
    let (a, ledger) = t.finish_order("R2", None, None);
    assert!(a.is_ok());
    assert_eq!(ledger[0].amount_minor, -234);
    // Partly refunded: no void, which would give back more than was charged.
    let void = |t: &mut Terminal, no: &str, orig: &str| {
        t.begin_order(&biz(
            json!({"trans_type": "2", "merchant_order_no": no, "orig_merchant_order_no": orig}),
        ))
    };
    assert_eq!(void(&mut t, "V0", "A1").unwrap_err().code, "104");
    // Void an untouched sale: the whole amount goes back.
    sale(&mut t, "A2", "12.34");
    void(&mut t, "V1", "A2").unwrap();
    let (_, ledger) = t.finish_order("V1", None, None);
    assert_eq!(ledger[0].amount_minor, -1234);
    let q = t.query(&biz(json!({"merchant_order_no": "A2"})));
    assert_eq!(q.biz.unwrap()["trans_status"], "3");
    assert!(
        void(&mut t, "V2", "A2").is_err(),
        "a voided sale cannot be voided twice"
    );
}

#[test]
fn decline_rule_duplicates_and_unknown_orders() {
    let mut t = Terminal::new(2);
    let (a, ledger) = sale(&mut t, "D1", "10.51");
    assert_eq!(a.code, "105");
    assert!(ledger.is_empty());
    let q = t.query(&biz(json!({"merchant_order_no": "D1"})));
    assert_eq!(q.biz.unwrap()["trans_status"], "1");
    let dup = t.begin_order(&biz(
        json!({"trans_type": "1", "merchant_order_no": "D1", "order_amount": "1.00"}),
    ));
    assert_eq!(dup.unwrap_err().code, "103");
    assert_eq!(
        t.query(&biz(json!({"merchant_order_no": "nope"}))).code,
        "107"
    );
    let bad = t.begin_order(&biz(
        json!({"trans_type": "1", "merchant_order_no": "B1", "order_amount": "1,00"}),
    ));
    assert_eq!(bad.unwrap_err().code, "101");
}

#[test]
fn close_aborts_a_flow_in_progress() {
    let mut t = Terminal::new(2);
    t.begin_order(&biz(
        json!({"trans_type": "1", "merchant_order_no": "C1", "order_amount": "5.00"}),
    ))
    .unwrap();
    assert_eq!(
        t.query(&biz(json!({"merchant_order_no": "C1"})))
            .biz
            .unwrap()["trans_status"],
        "0"
    );
    assert!(t.close(&biz(json!({"merchant_order_no": "C1"}))).is_ok());
    let (a, ledger) = t.finish_order("C1", None, None);
    assert_eq!(a.code, "110");
    assert_eq!(a.biz, Some(Value::String(String::new())));
    assert!(ledger.is_empty());
    assert_eq!(
        t.close(&biz(json!({"merchant_order_no": "C1"}))).code,
        "108"
    );
}

#[test]
fn tips_preauth_and_batch_close() {
    let mut t = Terminal::new(2);
    sale(&mut t, "S1", "10.00");
    let (a, ledger) = t.tip_adjust(&biz(
        json!({"merchant_order_no": "S1", "tip_adjustment_amount": "1.50"}),
    ));
    assert!(a.is_ok());
    assert_eq!(ledger[0].amount_minor, 150);
    let (_, ledger) = t.tip_adjust(&biz(
        json!({"merchant_order_no": "S1", "tip_adjustment_amount": "1.00"}),
    ));
    assert_eq!(ledger[0].amount_minor, -50);
    t.begin_order(&biz(
        json!({"trans_type": "4", "merchant_order_no": "P1", "order_amount": "50.00"}),
    ))
    .unwrap();
    let (_, ledger) = t.finish_order("P1", None, None);
    assert_eq!(ledger[0].amount_minor, 0);
    t.begin_order(&biz(json!({"trans_type": "6", "merchant_order_no": "P2", "order_amount": "45.00", "orig_merchant_order_no": "P1"})))
        .unwrap();
    let (_, ledger) = t.finish_order("P2", None, None);
    assert_eq!(ledger[0].amount_minor, 4500);
    let closed = t.batch_close();
    assert_eq!(closed.biz.unwrap()["sale_count"], "2");
    let late = t.tip_adjust(&biz(
        json!({"merchant_order_no": "S1", "tip_adjustment_amount": "2.00"}),
    ));
    assert!(!late.0.is_ok(), "settled sales take no tip");
    let void = t.begin_order(&biz(
        json!({"trans_type": "2", "merchant_order_no": "V9", "orig_merchant_order_no": "S1"}),
    ));
    assert!(void.is_err());
}

/// The card an order is paid with, as the terminal's answer names it.
fn card_of(t: &Terminal, order: &str) -> (String, String) {
    let biz = t.query(&biz(json!({ "merchant_order_no": order }))).biz;
    let field = |key: &str| {
        biz.as_ref()
            .and_then(|b| b[key].as_str())
            .unwrap_or_default()
            .to_string()
    };
    (field("pay_method_id"), field("card_no"))
}

#[test]
fn the_card_follows_the_orders_sequence_never_its_day() {
    let mut t = Terminal::new(2);
    // One sequence number on different days, in different journals and formats.
    let same = [
        "L01-AAAAA-0101-000007",
        "L01-ZZZZZ-1231-000007",
        "L01-K7Q2-0229-000007",
        "L02-1125-000007",
    ];
    for order in same {
        sale(&mut t, order, "1.00");
    }
    let first = card_of(&t, same[0]);
    for order in &same[1..] {
        assert_eq!(card_of(&t, order), first, "{order}");
    }
    // Every brand comes up in turn, each card masked to first 6 / last 4.
    let mut brands = std::collections::BTreeSet::new();
    for seq in 1..=6 {
        let order = format!("L01-AAAAA-1124-{seq:06}");
        sale(&mut t, &order, "1.00");
        let (brand, card) = card_of(&t, &order);
        let digits = card.bytes().filter(u8::is_ascii_digit).count();
        assert!(
            card[..6].bytes().all(|c| c.is_ascii_digit())
                && card[card.len() - 4..].bytes().all(|c| c.is_ascii_digit())
                && digits == 10,
            "{brand} {card}"
        );
        brands.insert(brand);
    }
    assert_eq!(brands.len(), 3, "{brands:?}");
}
