//! A cashier's whole shift on the real binary at 80x24 against the simulator: sales
//! (one declined twice, then paid another way), refunds, voids, tips, a pre-auth and its
//! completion, a query, a journal search and the batch close, each typed as a cashier
//! types and read off the screen. At the end the journal and the terminal's own ledger
//! agree: every charge booked once, nothing lost, the same net.

mod common;

use common::pty::Screen;
use common::*;
use till::journal::{BatchReport, BatchSel, Journal, TxnKind, TxnState};
use till::sim::{Faults, net_by_order, read_ledger};

const F2: &str = "\x1bOQ";
const F3: &str = "\x1bOR";
const F4: &str = "\x1bOS";
const F5: &str = "\x1b[15~";
const F6: &str = "\x1b[17~";
const F7: &str = "\x1b[18~";
const F8: &str = "\x1b[19~";
const DOWN: &str = "\x1b[B";
const RIGHT: &str = "\x1b[C";
const BACKTAB: &str = "\x1b[Z";

/// Waits for the outcome in large letters, then dismisses it and waits until it goes.
async fn outcome(s: &mut Screen, word: &str) {
    s.wait_for(word).await;
    s.keys(" ");
    s.wait_until(|screen| !screen.contains(word)).await;
}

/// A sale typed on the Sale screen, approved.
async fn sale(s: &mut Screen, digits: &str) {
    s.keys(F2);
    s.wait_for("F2 Sale").await;
    s.keys(digits);
    s.keys("\r");
    outcome(s, "APPROVED").await;
}

/// Waits until the list, narrowed by what was typed, shows none of `gone` (the keys
/// that follow act on the list the cashier sees).
async fn narrowed(s: &Screen, gone: &[&str]) {
    s.wait_until(|screen| gone.iter().all(|g| !screen.contains(g)))
        .await;
}

/// Answers the question on screen with `y` once it names `what`.
async fn yes_to(s: &mut Screen, what: &str) {
    s.wait_for(what).await;
    s.keys("y");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_shift_at_80x24_leaves_the_journal_agreeing_with_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(
        dir.path(),
        Faults {
            decline_cents: Some(51),
            ..Faults::default()
        },
        0,
    )
    .await;
    let mut s = Screen::start(dir.path(), &sim.url(), &[]);
    s.wait_for("UP").await;

    // Sales; one with a tip; a decline charged again on another card, declined again,
    // then a new amount typed over it.
    sale(&mut s, "1234").await;
    s.keys("2000\t200");
    s.wait_for("22.00 USD").await;
    s.keys("\r");
    outcome(&mut s, "APPROVED").await;
    s.keys("751\r");
    s.wait_for("DECLINED").await;
    s.wait_for("Enter charge again").await;
    s.keys("\r");
    s.wait_for("Waiting for the terminal").await;
    s.wait_for("DECLINED").await;
    s.keys("\x1b");
    s.wait_until(|screen| !screen.contains("DECLINED")).await;
    s.keys("3300\r");
    outcome(&mut s, "APPROVED").await;
    for digits in ["4500", "800", "10000", "6120", "505", "1999"] {
        sale(&mut s, digits).await;
    }

    // A full refund of the newest payment, picked from the list.
    s.keys(F3);
    s.wait_for("payments to refund").await;
    s.keys(DOWN);
    s.keys("\r");
    s.wait_for("refundable: 19.99 USD").await;
    s.keys("\r");
    yes_to(&mut s, "Refund 19.99 USD of sale 19.99 USD").await;
    outcome(&mut s, "APPROVED").await;
    // A part of another, found by its amount.
    s.keys(F3);
    s.wait_for("payments to refund").await;
    s.keys("61.20");
    narrowed(&s, &["45.00", "5.05", "33.00", "12.34"]).await;
    s.keys(DOWN);
    s.keys("\r");
    s.wait_for("refundable: 61.20 USD").await;
    s.keys("1000\r");
    yes_to(&mut s, "Refund 10.00 USD of sale 61.20 USD").await;
    outcome(&mut s, "APPROVED").await;
    // A card-present refund without an original.
    s.keys(F3);
    s.wait_for("payments to refund").await;
    s.keys("\r");
    s.keys("250\r");
    yes_to(&mut s, "Unreferenced refund of 2.50 USD").await;
    outcome(&mut s, "APPROVED").await;

    // Voids: the list opens on the newest row that can still be voided (the refund
    // just made); another is found by its amount.
    s.keys(F4);
    s.wait_for("F4 Void").await;
    s.keys("\r");
    yes_to(&mut s, "Void refund 2.50 USD").await;
    outcome(&mut s, "APPROVED").await;
    s.keys(F4);
    s.wait_for("F4 Void").await;
    s.keys("100.00");
    narrowed(&s, &["45.00", "5.05", "33.00", "8.00"]).await;
    s.keys("\r");
    yes_to(&mut s, "Void sale 100.00 USD").await;
    outcome(&mut s, "APPROVED").await;

    // Tips: the newest sale that can take one, then one found by its amount.
    s.keys(F5);
    s.wait_for("F5 Tip adjust").await;
    s.keys("\r");
    s.wait_for("New tip").await;
    s.keys("300\r");
    yes_to(&mut s, "Set the tip of sale 5.05 USD").await;
    outcome(&mut s, "APPROVED").await;
    s.keys(F5);
    s.wait_for("F5 Tip adjust").await;
    s.keys("45.00");
    narrowed(&s, &["8.00", "33.00", "20.00", "5.05"]).await;
    s.keys("\r");
    s.wait_for("New tip").await;
    s.keys("450\r");
    yes_to(&mut s, "Set the tip of sale 45.00 USD").await;
    outcome(&mut s, "APPROVED").await;

    // A pre-auth, then its completion for less, picked from the open pre-auths.
    s.keys(F2);
    s.keys(&format!("\t\t\t\t{RIGHT}{BACKTAB}"));
    s.wait_for("Pre-auth").await;
    s.keys("8000\r");
    outcome(&mut s, "APPROVED").await;
    s.keys(&format!("\t\t\t\t{RIGHT}{RIGHT}{BACKTAB}"));
    s.wait_for("open pre-auths").await;
    s.keys(DOWN);
    s.wait_for("80.00 USD").await;
    s.keys(BACKTAB);
    s.keys("7500\r");
    yes_to(&mut s, "for 75.00 USD?").await;
    outcome(&mut s, "APPROVED").await;

    // More of the day's sales.
    for digits in ["350", "1400", "2727", "999", "12000", "4242"] {
        sale(&mut s, digits).await;
    }

    // The terminal is asked about the newest order; the journal is searched.
    s.keys(F6);
    s.wait_for("F6 Query").await;
    s.keys("\r");
    s.wait_for("status 2 (completed)").await;
    s.wait_for("APPROVED sale").await;
    s.keys(F8);
    s.wait_for("F8 Journal").await;
    s.keys("/27.27\r");
    s.wait_for("27.27").await;

    // The batch close.
    s.keys(F7);
    s.wait_for("F7 Batch").await;
    s.keys("c");
    yes_to(&mut s, "Close").await;
    s.wait_for("the terminal agrees: sales 16,").await;
    s.wait_for("refunds 3, voids 2").await;
    outcome(&mut s, "APPROVED").await;
    s.wait_for("batch 1 closed").await;
    s.keys("\x03");
    assert_eq!(s.exit_code().await, 0);
    sim.shutdown().await;

    // The journal against the terminal's ledger.
    let journal = Journal::open(&dir.path().join("data")).unwrap();
    let mut rows = Vec::new();
    for b in journal.batches().unwrap() {
        rows.extend(journal.rows(BatchSel::Number(b.number)).unwrap());
    }
    let count = |kind: &str, state: TxnState| {
        rows.iter()
            .filter(|r| r.kind.name() == kind && r.state == state)
            .count()
    };
    assert_eq!(count("sale", TxnState::Approved), 15);
    assert_eq!(count("sale", TxnState::Declined), 2);
    assert_eq!(count("refund", TxnState::Approved), 3);
    assert_eq!(count("void", TxnState::Approved), 2);
    assert_eq!(count("tip-adjust", TxnState::Approved), 2);
    assert_eq!(count("completion", TxnState::Approved), 1);
    assert!(
        rows.iter()
            .any(|r| r.kind == TxnKind::BatchClose && r.state == TxnState::Approved)
    );
    assert!(rows.iter().all(|r| r.state.is_final()), "nothing left open");
    let ledger = read_ledger(&ledger_path(dir.path())).unwrap();
    let moved = net_by_order(&ledger);
    for row in rows.iter().filter(|r| matches!(r.kind, TxnKind::Trans(_))) {
        assert_eq!(
            row.state == TxnState::Approved,
            moved.contains_key(&row.order_no),
            "{} {} {:?}: the terminal's ledger disagrees",
            row.order_no,
            row.kind.name(),
            row.state
        );
    }
    let ledger_net: i64 = ledger.iter().map(|e| e.amount_minor).sum();
    assert_eq!(BatchReport::of(0, &rows).net_minor, ledger_net);
}
