//! A cashier's whole shift on the real binary at 80x24 against the simulator: sales
//! (one declined twice, then paid another way), refunds, voids, tips, a pre-auth and its
//! completion, a query, a journal search and the batch close, each typed as a cashier
//! types and read off the screen. At the end the journal and the terminal's own ledger
//! agree: every charge booked once, nothing lost, the same net.

mod common;

use common::pty::Screen;
use common::pty::keys::*;
use common::*;
use till::journal::{BatchReport, BatchSel, Journal, TxnKind, TxnState};
use till::sim::{Faults, net_by_order, read_ledger};

/// Waits until the list, narrowed by what was typed, shows none of `gone` (the keys
/// that follow act on the list the cashier sees).
async fn narrowed(s: &Screen, gone: &[&str]) {
    s.wait_until(|screen| gone.iter().all(|g| !screen.contains(g)))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_shift_at_80x24_leaves_the_journal_agreeing_with_the_terminal() {
    let (dir, sim, mut s) = open_lane(
        Faults {
            decline_cents: Some(51),
            ..Faults::default()
        },
        &[],
    )
    .await;

    // Sales; one with a tip; a decline charged again on another card, declined again,
    // then a new amount typed over it.
    s.sell("1234").await;
    s.keys("2000\t200");
    s.wait_for("22.00 USD").await;
    s.keys("\r");
    s.outcome("APPROVED").await;
    s.keys("751\r");
    s.wait_for("DECLINED").await;
    s.wait_for("Enter charge again").await;
    s.keys("\r");
    s.wait_for("Waiting for the terminal").await;
    s.wait_for("DECLINED").await;
    s.keys(ESC);
    s.wait_until(|screen| !screen.contains("DECLINED")).await;
    s.keys("3300\r");
    s.outcome("APPROVED").await;
    for digits in ["4500", "800", "10000", "6120", "505", "1999"] {
        s.sell(digits).await;
    }

    // A full refund of the newest payment, picked from the list.
    s.keys(F3);
    s.wait_for("payments to refund").await;
    s.keys(DOWN);
    s.keys("\r");
    s.wait_for("refundable: 19.99 USD").await;
    s.keys("\r");
    s.yes_to("Refund 19.99 USD of sale 19.99 USD").await;
    s.outcome("APPROVED").await;
    // A part of another, found by its amount.
    s.keys(F3);
    s.wait_for("payments to refund").await;
    s.keys("61.20");
    narrowed(&s, &["45.00", "5.05", "33.00", "12.34"]).await;
    s.keys(DOWN);
    s.keys("\r");
    s.wait_for("refundable: 61.20 USD").await;
    s.keys("1000\r");
    s.yes_to("Refund 10.00 USD of sale 61.20 USD").await;
    s.outcome("APPROVED").await;
    // A card-present refund without an original.
    s.keys(F3);
    s.wait_for("payments to refund").await;
    s.keys("\r");
    s.keys("250\r");
    s.yes_to("Unreferenced refund of 2.50 USD").await;
    s.outcome("APPROVED").await;

    // Voids: the list opens on the newest row that can still be voided (the refund
    // just made); another is found by its amount.
    s.keys(F4);
    s.wait_for("F4 Void").await;
    s.keys("\r");
    s.yes_to("Void refund 2.50 USD").await;
    s.outcome("APPROVED").await;
    s.keys(F4);
    s.wait_for("F4 Void").await;
    s.keys("100.00");
    narrowed(&s, &["45.00", "5.05", "33.00", "8.00"]).await;
    s.keys("\r");
    s.yes_to("Void sale 100.00 USD").await;
    s.outcome("APPROVED").await;

    // Tips: the newest sale that can take one, then one found by its amount.
    s.keys(F5);
    s.wait_for("F5 Tip adjust").await;
    s.keys("\r");
    s.wait_for("New tip").await;
    s.keys("300\r");
    s.yes_to("Set the tip of sale 5.05 USD").await;
    s.outcome("APPROVED").await;
    s.keys(F5);
    s.wait_for("F5 Tip adjust").await;
    s.keys("45.00");
    narrowed(&s, &["8.00", "33.00", "20.00", "5.05"]).await;
    s.keys("\r");
    s.wait_for("New tip").await;
    s.keys("450\r");
    s.yes_to("Set the tip of sale 45.00 USD").await;
    s.outcome("APPROVED").await;

    // A pre-auth, then its completion for less, picked from the open pre-auths.
    s.keys(F2);
    s.keys(&format!("\t\t\t\t{RIGHT}{BACKTAB}"));
    s.wait_for("Pre-auth").await;
    s.keys("8000\r");
    s.outcome("APPROVED").await;
    s.keys(&format!("\t\t\t\t{RIGHT}{RIGHT}{BACKTAB}"));
    s.wait_for("open pre-auths").await;
    s.keys(DOWN);
    s.wait_for("80.00 USD").await;
    s.keys(BACKTAB);
    s.keys("7500\r");
    s.yes_to("for 75.00 USD?").await;
    s.outcome("APPROVED").await;

    // More of the day's sales.
    for digits in ["350", "1400", "2727", "999", "12000", "4242"] {
        s.sell(digits).await;
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
    s.yes_to("Close").await;
    s.wait_for("the terminal agrees: sales 16,").await;
    s.wait_for("refunds 3, voids 2").await;
    s.outcome("APPROVED").await;
    s.wait_for("batch 1 closed").await;
    s.quit().await;
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
