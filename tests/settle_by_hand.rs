//! A batch close whose answer was lost cannot be looked up by query: a supervisor
//! settles it by hand from the terminal's settlement report. That must close the
//! journal's batch as the terminal's answer would have, and commands that move no
//! money must not wait for a row no query can resolve.

mod common;

use common::*;
use till::journal::{BatchSel, Journal, NewTxn, TxnKind, TxnState};
use till::money::Money;
use till::sim::Faults;

/// Deadlines so long that a command waiting on them would outlast the test's own.
const PATIENT: &str = "heartbeat_secs = 1\nconnect_timeout_secs = 3\nrequest_timeout_secs = 100\ncard_flow_timeout_secs = 100\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_close_settled_by_hand_closes_the_journals_batch() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let t = || till(dir.path(), &url, PATIENT);

    let sale = run(t(), &["sale", "5.00", "--json"]).await;
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    let order = sale.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();

    // A batch close went out and its answer was lost with the process that sent it.
    let close_no = {
        let mut j = Journal::open(&dir.path().join("data")).unwrap();
        let no = j.next_order_no("C01").unwrap();
        j.begin(&NewTxn {
            order_no: no.clone(),
            request_id: "lost".into(),
            kind: TxnKind::BatchClose,
            amount: Money::zero(2),
            tip: None,
            cashback: None,
            currency: "USD".into(),
            orig_order_no: None,
            lane: "C01".into(),
            scenario: None,
        })
        .unwrap();
        no
    };

    // Looking things up moves no money: no wait for the unresolvable row.
    let query = run(t(), &["query", &order, "--json"]).await;
    assert_eq!(query.code, 0, "{}\n{}", query.stdout, query.stderr);
    let close = run(t(), &["close", &order, "--json"]).await;
    assert_eq!(
        close.code, 1,
        "a paid order cannot be closed: {}",
        close.stdout
    );
    // New money waits for it.
    let blocked = run(t(), &["sale", "1.00", "--json"]).await;
    assert_eq!(blocked.code, 3, "{}\n{}", blocked.stdout, blocked.stderr);

    let settled = run(
        t(),
        &[
            "resolve",
            &close_no,
            "--as",
            "approved",
            "--note",
            "settlement report shows 5.00",
            "--json",
        ],
    )
    .await;
    assert_eq!(settled.code, 0, "{}\n{}", settled.stdout, settled.stderr);

    let j = Journal::open(&dir.path().join("data")).unwrap();
    let batches = j.batches().unwrap();
    assert_eq!(batches.len(), 2, "{batches:?}");
    assert!(batches[1].closed_at.is_some(), "batch 1 closed");
    assert!(j.rows(BatchSel::Open("C01")).unwrap().is_empty());
    let (totals, reply) = j.batch_close_record(1).unwrap().unwrap();
    assert!(totals.contains("500"), "{totals}");
    assert!(reply.contains("settled_by_hand"), "{reply}");
    assert_eq!(
        j.find(&close_no).unwrap().unwrap().state,
        TxnState::Approved
    );

    // The settled sale is refunded now, not voided or tipped.
    for args in [
        vec!["void", order.as_str()],
        vec!["tip", order.as_str(), "1.00"],
    ] {
        let out = run(t(), &args).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("settled with batch 1"),
            "{}",
            out.stderr
        );
    }
    // The next close reports only what came after.
    let next = run(t(), &["batch-close", "--json"]).await;
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert_eq!(
        next.json()["journal_totals"]["net"],
        "0.00",
        "{}",
        next.stdout
    );
    sim.shutdown().await;
}
