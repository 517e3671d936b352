//! The real binary against the hostile terminal: `trans_status` decides, the amount
//! that moved is booked, message text never decides, another order's answer is not
//! this row's, an answer twice books once, and card numbers in every field and
//! spelling go nowhere. The hostile terminal's ledger says what money really moved.

mod common;

use common::hostile::{Hostile, PAN, PAN_DASHED, PAN_SPACED, Switches};
use common::*;
use till::journal::{Journal, TxnState};

/// A lane command against the hostile terminal, on its own data dir.
async fn till_at(dir: &std::path::Path, h: &Hostile, args: &[&str]) -> Run {
    run(till(dir, &h.url, QUICK), args).await
}

fn row(dir: &std::path::Path, order: &str) -> till::journal::TxnRow {
    Journal::open(&dir.join("data"))
        .unwrap()
        .find(order)
        .unwrap()
        .unwrap_or_else(|| panic!("{order} not journaled"))
}

fn order_of(out: &Run) -> String {
    out.json()["merchant_order_no"]
        .as_str()
        .unwrap_or_else(|| panic!("no order: {}\n{}", out.stdout, out.stderr))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trans_status_decides_not_the_envelopes_code() {
    for (status, exit, state) in [
        ("1", 1, TxnState::Declined),
        ("3", 1, TxnState::Declined),
        ("0", 3, TxnState::Unknown),
        ("9", 3, TxnState::Unknown),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let h = Hostile::start(Switches {
            trans_status: Some(status.into()),
            ..Switches::default()
        })
        .await;
        let out = till_at(dir.path(), &h, &["sale", "10.00", "--json"]).await;
        assert_eq!(
            out.code, exit,
            "status {status}: {}\n{}",
            out.stdout, out.stderr
        );
        let order = order_of(&out);
        assert_eq!(row(dir.path(), &order).state, state, "status {status}");
        assert!(h.ledger().is_empty(), "status {status}: nothing moved");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_trans_status_is_resolved_by_query() {
    let dir = tempfile::tempdir().unwrap();
    let h = Hostile::start(Switches {
        omit_trans_status: true,
        ..Switches::default()
    })
    .await;
    let out = till_at(dir.path(), &h, &["sale", "10.00", "--json"]).await;
    // The query answers "2": the money moved, and the row says so.
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.json()["outcome"], "approved");
    assert!(h.count("ecrhub.pay.query") >= 1, "asked by query");
    assert_eq!(h.count("ecrhub.pay.order"), 1, "never sent twice");
    assert_eq!(h.ledger().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_approval_books_what_moved_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let h = Hostile::start(Switches {
        partial_minor: Some(500),
        ..Switches::default()
    })
    .await;
    let out = till_at(dir.path(), &h, &["sale", "10.00", "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let j = out.json();
    assert_eq!(j["amount"], "5.00");
    assert_eq!(j["asked"], "10.00");
    assert_eq!(j["partial"], true);
    assert_eq!(
        j["note"],
        "APPROVED 5.00 of 10.00: collect 5.00 another way"
    );
    let r = row(dir.path(), &order_of(&out));
    assert_eq!((r.amount.minor(), r.asked.minor()), (500, 1000));
    // Only what moved can be given back.
    h.set(Switches::default());
    let over = till_at(dir.path(), &h, &["refund", "6.00", "--orig", &r.order_no]).await;
    assert_eq!(over.code, 2, "{}", over.stderr);
    assert!(over.stderr.contains("at most 5.00"), "{}", over.stderr);
    let human = till_at(dir.path(), &h, &["query", &r.order_no]).await;
    assert!(
        human.stdout.contains("collect 5.00 another way"),
        "{}",
        human.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_text_never_decides() {
    let dir = tempfile::tempdir().unwrap();
    // The answer is lost; the query says completed, in words that speak of "not found".
    let h = Hostile::start(Switches {
        drop_after_charge: true,
        message: Some("Success. Note: receipt printer not found".into()),
        ..Switches::default()
    })
    .await;
    let out = till_at(dir.path(), &h, &["sale", "10.00", "--json"]).await;
    let order = order_of(&out);
    if out.code == 3 {
        h.set(Switches {
            message: Some("Success. Note: receipt printer not found".into()),
            ..Switches::default()
        });
        let rec = till_at(dir.path(), &h, &["recover", "--json"]).await;
        assert_eq!(rec.code, 0, "{}\n{}", rec.stdout, rec.stderr);
    } else {
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    }
    assert_eq!(row(dir.path(), &order).state, TxnState::Approved);
    assert_eq!(h.ledger().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_orders_answer_is_not_this_rows() {
    let dir = tempfile::tempdir().unwrap();
    let h = Hostile::start(Switches {
        wrong_order_no: true,
        other_order_first: true,
        ..Switches::default()
    })
    .await;
    let out = till_at(dir.path(), &h, &["sale", "10.00", "--json"]).await;
    // The answer names another order: the row is settled by a query of its own.
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let order = order_of(&out);
    assert!(h.count("ecrhub.pay.query") >= 1, "asked by query");
    let audit = Journal::open(&dir.path().join("data"))
        .unwrap()
        .audit(&order)
        .unwrap();
    assert!(
        audit.iter().any(|a| a.why.contains("names order")),
        "{audit:?}"
    );
    let ledger = h.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].merchant_order_no, order);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_twice_books_once() {
    let dir = tempfile::tempdir().unwrap();
    let h = Hostile::start(Switches {
        answer_twice: true,
        malformed_first: true,
        ..Switches::default()
    })
    .await;
    let out = till_at(dir.path(), &h, &["sale", "10.00", "--json"]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let order = order_of(&out);
    let audit = Journal::open(&dir.path().join("data"))
        .unwrap()
        .audit(&order)
        .unwrap();
    assert_eq!(audit.len(), 2, "pending, then approved once: {audit:?}");
    assert_eq!(h.ledger().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_numbers_in_every_field_and_spelling_go_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let h = Hostile::start(Switches {
        pans_everywhere: true,
        ..Switches::default()
    })
    .await;
    let sale = till_at(dir.path(), &h, &["sale", "10.00", "--json"]).await;
    assert_eq!(sale.code, 0, "{}\n{}", sale.stdout, sale.stderr);
    let order = order_of(&sale);
    let query = till_at(dir.path(), &h, &["query", &order, "--json"]).await;
    let send = till_at(
        dir.path(),
        &h,
        &[
            "send",
            r#"{"topic":"ecrhub.heartbeat","request_id":"t-1"}"#,
            "--json",
        ],
    )
    .await;
    let history = till_at(dir.path(), &h, &["history", "--json"]).await;
    let mut seen = String::new();
    for out in [&sale, &query, &send, &history] {
        seen.push_str(&out.stdout);
        seen.push_str(&out.stderr);
    }
    // Everything on disk: the journal (and its WAL) and the logs.
    for (_, bytes) in files_under(&dir.path().join("data")) {
        seen.push_str(&String::from_utf8_lossy(&bytes));
    }
    for pan in [PAN, PAN_SPACED, PAN_DASHED] {
        assert!(!seen.contains(pan), "{pan} leaked");
    }
    assert!(seen.contains("411111"), "the masked card is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tip_adjustment_answered_under_its_sales_number_is_its_answer() {
    let dir = tempfile::tempdir().unwrap();
    let h = Hostile::start(Switches::default()).await;
    let sale = till_at(dir.path(), &h, &["sale", "10.00", "--json"]).await;
    let order = order_of(&sale);
    let tip = till_at(dir.path(), &h, &["tip", &order, "1.50", "--json"]).await;
    assert_eq!(tip.code, 0, "{}\n{}", tip.stdout, tip.stderr);
    assert_eq!(tip.json()["outcome"], "approved");
    assert_eq!(h.count("ecrhub.pay.query"), 0, "no query needed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminals_own_heartbeats_are_not_answers_to_ours() {
    let dir = tempfile::tempdir().unwrap();
    let h = Hostile::start(Switches {
        own_heartbeat_instead: true,
        ..Switches::default()
    })
    .await;
    let out = till_at(dir.path(), &h, &["ping", "--count", "2", "--json"]).await;
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.json()["received"], 0, "{}", out.stdout);
    // The link stayed up on them and a sale still goes through.
    let out = till_at(dir.path(), &h, &["sale", "10.00", "--json"]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
}
