//! Sample rows and a sample model, for the TUI's tests and the render benchmark.

use crate::journal::Aftermath;
use crate::journal::BatchReport;
use crate::journal::Via;
use crate::journal::{TerminalReply, TxnKind, TxnRow, TxnState};
use crate::money::Money;
use crate::tui::model::Model;

pub(crate) fn row(order: &str, kind: TxnKind, state: TxnState, minor: i64) -> TxnRow {
    TxnRow {
        id: 1,
        order_no: order.into(),
        request_id: "r".into(),
        kind,
        state,
        amount: Money::from_minor(minor, 2).unwrap_or(Money::zero(2)),
        asked: Money::from_minor(minor, 2).unwrap_or(Money::zero(2)),
        tip: None,
        cashback: None,
        currency: "USD".into(),
        orig_order_no: None,
        lane: "L01".into(),
        scenario: None,
        batch: 1,
        created_at: "2026-11-24T12:00:00.000Z".into(),
        sent_at: None,
        updated_at: "2026-11-24T12:00:01.000Z".into(),
        reply: TerminalReply {
            response_code: Some("0".into()),
            response_msg: Some("SUCCESS".into()),
            trans_no: None,
            trans_status: Some("2".into()),
            brand: Some("Visa".into()),
            card: Some("456331******3919".into()),
            auth_code: Some("123456".into()),
            ref_no: None,
            entry_mode: None,
            raw: None,
        },
        via: Via::Lan,
        terminal_sn: None,
    }
}

/// A model with a day's worth of rows, a live link and a wire log, at a fixed time.
// Long on purpose: a fixture: one busy desk, set field by field.
pub fn busy_model() -> Model {
    use crate::ecr::Direction;
    use crate::ecr::TransType as T;
    use crate::tui::desk::WireLine;
    use crate::tui::model::Model;
    use chrono::TimeZone;

    let mut m = Model::new("L01", "USD", 2, "192.168.1.20:35779", false);
    m.desk.link.up = true;
    m.desk.link.state = "connected".into();
    m.desk.link.device.device_sn = Some("PP35272137000123".into());
    m.desk.link.device.device_model = Some("P2_SE".into());
    m.desk.link.device.cashier_version = Some("2.5.1".into());
    m.desk.link.rtts_us = [900, 1200, 800, 15000, 1100].into_iter().collect();
    m.desk.link.history = ["12:00:00 connecting (attempt 1)", "12:00:00 connected"]
        .map(String::from)
        .into_iter()
        .collect();
    let mut sale = row(
        "L01-1124-000001",
        TxnKind::Trans(T::Sale),
        TxnState::Approved,
        1234,
    );
    sale.tip = Some(Money::from_minor(200, 2).unwrap_or(Money::zero(2)));
    let mut sale2 = row(
        "L01-1124-000002",
        TxnKind::Trans(T::Sale),
        TxnState::Approved,
        4550,
    );
    sale2.id = 2;
    sale2.reply.brand = Some("Mastercard".into());
    sale2.reply.card = Some("522233******4417".into());
    sale2.created_at = "2026-11-24T13:10:00.000Z".into();
    let mut declined = row(
        "L01-1124-000003",
        TxnKind::Trans(T::Sale),
        TxnState::Declined,
        1051,
    );
    declined.id = 3;
    declined.reply.response_code = Some("105".into());
    declined.reply.response_msg = Some("Transaction declined[51 Insufficient funds]".into());
    let mut refund = row(
        "L01-1124-000004",
        TxnKind::Trans(T::Refund),
        TxnState::Approved,
        234,
    );
    refund.id = 4;
    refund.orig_order_no = Some("L01-1124-000001".into());
    m.desk.data.open_rows = vec![refund, declined, sale2, sale];
    m.desk.data.open_report = Some(BatchReport::of(1, &m.desk.data.open_rows));
    m.desk.data.journal.page.rows = m.desk.data.open_rows.clone();
    m.desk.data.journal.since.insert(
        "L01-1124-000001".into(),
        vec![Aftermath::Refunded(
            Money::from_minor(234, 2).unwrap_or(Money::zero(2)),
        )],
    );
    m.desk.data.refundable = m.desk.data.open_rows[2..].to_vec();
    let at = chrono::Local
        .with_ymd_and_hms(2026, 11, 24, 12, 0, 5)
        .single()
        .unwrap_or_default();
    for (dir, text) in [
        (
            Direction::Out,
            r#"{"topic":"ecrhub.pay.order","request_id":"a1","biz_data":{"merchant_order_no":"L01-1124-000001","order_amount":"12.34"}}"#,
        ),
        (
            Direction::In,
            r#"{"topic":"ecrhub.pay.order","request_id":"a1","response_code":"0","response_msg":"SUCCESS","biz_data":{"merchant_order_no":"L01-1124-000001","card_no":"456331******3919"}}"#,
        ),
        (
            Direction::Out,
            r#"{"topic":"ecrhub.heartbeat","request_id":"h1"}"#,
        ),
        (
            Direction::In,
            r#"{"topic":"ecrhub.heartbeat","request_id":"h1","response_code":"0"}"#,
        ),
    ] {
        m.desk.wire.push_back(WireLine {
            at,
            dir,
            text: text.into(),
        });
    }
    m
}

/// Names a FIFO the screen's journal waits on before it opens (tests only): a journal
/// slow to open, without a clock.
pub(crate) const HOLD_OPENING: &str = "TILL_FIXTURE_HOLD_OPENING";

/// With `HOLD_OPENING` set, waits until something is written to its FIFO and closed.
pub(crate) fn hold_opening() {
    if let Some(fifo) = std::env::var_os(HOLD_OPENING) {
        let _ = std::fs::read(fifo);
    }
}
