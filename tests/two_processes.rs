//! Two real till processes on one data dir and lane: a double click, or a script
//! selling while another command runs. One owns the lane at a time; the other hands
//! its request to the owner (saying so), or waits for a lane whose owner does not
//! answer, or gives up without touching the owner's rows; the decision that money may
//! move is made where the row is journaled. The simulator's ledger says
//! what money really moved. Last, two lanes with a terminal each on one data dir: each
//! closes its own batch.

mod common;

use std::time::Duration;

use common::*;
use till::journal::{Journal, TxnState};
use till::sim::{Faults, read_ledger};

fn slow_terminal() -> Faults {
    Faults {
        // Long enough that the second process starts while the first is in its card flow.
        hold: Some(Duration::from_millis(600)),
        ..Faults::default()
    }
}

/// Money the terminal moved for orders of this kind.
fn charges(dir: &std::path::Path, kind: &str) -> Vec<(String, i64)> {
    read_ledger(&ledger_path(dir))
        .unwrap()
        .into_iter()
        .filter(|e| e.trans_type == kind)
        .map(|e| (e.merchant_order_no, e.amount_minor))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sales_started_together_charge_once() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), slow_terminal(), 0).await;
    let url = sim.url();
    for (round, amount) in ["20.11", "20.12", "20.13"].into_iter().enumerate() {
        let t = || till(dir.path(), &url, QUICK);
        let args = ["sale", amount, "--json"];
        let (a, b) = tokio::join!(run(t(), &args), run(t(), &args));
        let mut codes = [a.code, b.code];
        codes.sort();
        assert_eq!(
            codes,
            [0, 2],
            "round {round}:\n{}\n{}\n{}\n{}",
            a.stdout,
            a.stderr,
            b.stdout,
            b.stderr
        );
        // One found the lane held and handed its sale to the other; whichever sale the
        // lane took second is the duplicate.
        assert!(
            [&a, &b]
                .iter()
                .any(|r| r.stderr.contains("in use by till sale")),
            "{}\n{}",
            a.stderr,
            b.stderr
        );
        let second = if a.code == 2 { &a } else { &b };
        assert!(
            second.json()["error"]
                .as_str()
                .unwrap()
                .contains("was approved"),
            "{}",
            second.stdout
        );
        assert_eq!(
            charges(dir.path(), "sale").len(),
            round + 1,
            "one charge per round"
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_refunds_started_together_give_back_what_was_charged() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), slow_terminal(), 0).await;
    let url = sim.url();
    let t = || till(dir.path(), &url, QUICK);
    let sale = run(t(), &["sale", "10.00", "--json"]).await;
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    let order = sale.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();
    let refund = ["refund", "6.00", "--orig", order.as_str(), "--json"];
    let (a, b) = tokio::join!(run(t(), &refund), run(t(), &refund));
    let mut codes = [a.code, b.code];
    codes.sort();
    assert_eq!(
        codes,
        [0, 2],
        "{}\n{}\n{}\n{}",
        a.stdout,
        a.stderr,
        b.stdout,
        b.stderr
    );
    let refused = if a.code == 2 { &a } else { &b };
    assert!(
        refused.stderr.contains("at most 4.00"),
        "{}",
        refused.stderr
    );
    // The ledger books money given back as negative.
    let back: i64 = -charges(dir.path(), "refund")
        .iter()
        .map(|(_, m)| m)
        .sum::<i64>();
    assert_eq!(back, 600, "6.00 back on a 10.00 sale, once");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_other_process_settles_a_row_its_owner_is_about_to_send() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let t = || till(dir.path(), &url, QUICK);
    let (mut owner, order) = frozen_sale(dir.path(), &url, "after-journal", "40.00").await;

    // Everything that would settle or send gives up, says who holds the lane, and
    // leaves the row alone.
    for args in [
        vec!["recover", "--json"],
        vec!["query", order.as_str(), "--json"],
        vec![
            "resolve",
            order.as_str(),
            "--as",
            "declined",
            "--note",
            "gone",
            "--json",
        ],
    ] {
        let out = run(t(), &args).await;
        assert_eq!(out.code, 4, "{args:?}: {}\n{}", out.stdout, out.stderr);
        let error = out.json()["error"].as_str().unwrap().to_string();
        assert!(error.contains("in use by till sale"), "{args:?}: {error}");
        let row = Journal::open(&dir.path().join("data"))
            .unwrap()
            .find(&order)
            .unwrap()
            .unwrap();
        assert_eq!(
            row.state,
            TxnState::Pending,
            "{args:?} touched the owner's row"
        );
    }
    // Reading the journal needs no lane.
    let history = run(t(), &["history", "--json"]).await;
    assert_eq!(history.code, 0, "{}", history.stderr);

    // The owner dies before sending: the lane is free, and the row is settled by the
    // next owner, by query (the terminal never saw it).
    owner.start_kill().unwrap();
    owner.wait().await.unwrap();
    let recovered = run(t(), &["recover", "--json"]).await;
    assert_eq!(
        recovered.code, 0,
        "{}\n{}",
        recovered.stdout, recovered.stderr
    );
    let row = Journal::open(&dir.path().join("data"))
        .unwrap()
        .find(&order)
        .unwrap()
        .unwrap();
    assert_eq!(row.state, TxnState::Declined);
    assert!(charges(dir.path(), "sale").is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_in_its_card_flow_is_booked_by_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(
        dir.path(),
        Faults {
            hold: Some(Duration::from_secs(3)),
            ..Faults::default()
        },
        0,
    )
    .await;
    let url = sim.url();
    let t = || till(dir.path(), &url, QUICK);
    let mut paying = t();
    paying
        .args(["sale", "40.00", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let paying = paying.spawn().unwrap();
    assert!(
        eventually(|| sim.stats().orders_received.len() == 1).await,
        "the sale reached the terminal"
    );
    // Handed to the owner, which settles what is unresolved; a payment in its card
    // flow is not: its answer is on its way to the owner.
    let recover = run(t(), &["recover", "--json"]).await;
    assert_eq!(recover.code, 0, "{}\n{}", recover.stdout, recover.stderr);
    assert!(
        recover.stderr.contains("in use by till sale"),
        "{}",
        recover.stderr
    );
    assert_eq!(recover.json()["unresolved"], serde_json::json!([]));
    let out = paying.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json["outcome"], "approved");
    assert_eq!(charges(dir.path(), "sale").len(), 1);
    sim.shutdown().await;
}

/// The owner is killed at `point` while another sale waits for the lane: the waiting
/// till takes over, settles the dead owner's payment by query, then makes its own.
async fn waiting_till_takes_over_after_kill_at(point: &str, first_moved: bool) {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let (mut owner, first) = frozen_sale(dir.path(), &url, point, "40.00").await;
    let mut waiting = till(dir.path(), &url, QUICK);
    waiting
        .args(["sale", "15.00", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut waiting = waiting.spawn().unwrap();
    let mut err = tokio::io::BufReader::new(waiting.stderr.take().unwrap()).lines();
    let told = tokio::time::timeout(WAIT, async {
        while let Ok(Some(line)) = err.next_line().await {
            if line.contains("in use by till sale") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(told, "the second till says it waits");
    owner.start_kill().unwrap(); // SIGKILL
    owner.wait().await.unwrap();
    let out = waiting.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{point}: {stdout}");
    let second: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(second["outcome"], "approved");

    let journal = Journal::open(&dir.path().join("data")).unwrap();
    let state = journal.find(&first).unwrap().unwrap().state;
    let want = if first_moved {
        TxnState::Approved
    } else {
        TxnState::Declined
    };
    assert_eq!(state, want, "{point}");
    let sales = charges(dir.path(), "sale");
    assert_eq!(
        sales.len(),
        1 + usize::from(first_moved),
        "{point}: {sales:?}"
    );
    assert_eq!(
        sim.stats().orders_received.get(&first).copied(),
        first_moved.then_some(1)
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_owner_before_sending_is_settled_by_the_next() {
    waiting_till_takes_over_after_kill_at("after-journal", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_owner_after_sending_is_settled_by_the_next() {
    waiting_till_takes_over_after_kill_at("after-send", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_owner_after_the_answer_is_settled_by_the_next() {
    waiting_till_takes_over_after_kill_at("after-reply", true).await;
}

/// The net a simulated terminal's ledger says moved.
fn ledger_net(sim_dir: &std::path::Path) -> i64 {
    till::sim::net_by_order(&read_ledger(&ledger_path(sim_dir)).unwrap())
        .values()
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_lane_closes_its_own_batch_and_reports_its_own_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let (dir_1, dir_2) = (dir.path().join("sim-l01"), dir.path().join("sim-l02"));
    std::fs::create_dir_all(&dir_1).unwrap();
    std::fs::create_dir_all(&dir_2).unwrap();
    let sim_1 = start_sim(&dir_1, Faults::default(), 0).await;
    let sim_2 = start_sim(&dir_2, Faults::default(), 0).await;
    let (url_1, url_2) = (sim_1.url(), sim_2.url());
    let l01 = || {
        let mut cmd = till(dir.path(), &url_1, QUICK);
        cmd.env("TILL_LANE", "L01");
        cmd
    };
    let l02 = || {
        let mut cmd = till(dir.path(), &url_2, QUICK);
        cmd.env("TILL_LANE", "L02");
        cmd
    };
    let order = |out: &Run| {
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
        out.json()["merchant_order_no"]
            .as_str()
            .unwrap()
            .to_string()
    };
    order(&run(l01(), &["sale", "10.00", "--json"]).await);
    let tipped = order(&run(l02(), &["sale", "20.00", "--json"]).await);
    let voided = order(&run(l02(), &["sale", "5.00", "--json"]).await);

    // L01 settles its terminal: its batch holds its own sale only.
    let close_1 = run(l01(), &["batch-close", "--json"]).await;
    assert_eq!(close_1.code, 0, "{}\n{}", close_1.stdout, close_1.stderr);
    let totals_1 = &close_1.json()["journal_totals"];
    assert_eq!(totals_1["net"], "10.00", "{totals_1}");
    assert_eq!(ledger_net(&dir_1), 1000);
    assert_eq!(close_1.json()["terminal_reply"]["sale_amount"], "10.00");
    let batch_1 = totals_1["batch"].as_i64().unwrap();

    // L02's sales are still in its open batch, on its terminal and in the journal.
    let tip = run(l02(), &["tip", &tipped, "2.00", "--json"]).await;
    assert_eq!(tip.code, 0, "{}\n{}", tip.stdout, tip.stderr);
    let void = run(l02(), &["void", &voided, "--json"]).await;
    assert_eq!(void.code, 0, "{}\n{}", void.stdout, void.stderr);
    let open_2 = run(l02(), &["report", "--json"]).await;
    assert_eq!(open_2.code, 0, "{}", open_2.stderr);
    assert_eq!(open_2.json()["net"], "22.00", "{}", open_2.stdout);
    assert_eq!(ledger_net(&dir_2), 2200);

    let close_2 = run(l02(), &["batch-close", "--json"]).await;
    assert_eq!(close_2.code, 0, "{}\n{}", close_2.stdout, close_2.stderr);
    let totals_2 = &close_2.json()["journal_totals"];
    assert_eq!(totals_2["net"], "22.00", "{totals_2}");
    assert_ne!(totals_2["batch"], batch_1);

    // Each closed batch reports its own lane, read from either lane.
    let report_1 = run(
        l02(),
        &["report", "--batch", &batch_1.to_string(), "--json"],
    )
    .await;
    assert_eq!(report_1.json()["net"], "10.00", "{}", report_1.stdout);
    let journal = Journal::open(&dir.path().join("data")).unwrap();
    let lanes: Vec<_> = journal
        .batches()
        .unwrap()
        .into_iter()
        .filter(|b| b.closed_at.is_some())
        .map(|b| b.lane)
        .collect();
    assert_eq!(lanes, [Some("L02".to_string()), Some("L01".to_string())]);
    sim_1.shutdown().await;
    sim_2.shutdown().await;
}
