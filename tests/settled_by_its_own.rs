//! A row is settled only by the terminal that took it and by its own lane, and an
//! order number never goes out twice, even from a journal restored from a copy. Real
//! processes, real simulators on loopback, a real journal file (issue 19, cases 1-3).

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use till::journal::{Journal, TxnState};
use till::sim::{Faults, read_ledger};

/// What the simulator whose ledger lives in `dir` moved for `order`, in minor units.
fn moved(dir: &Path, order: &str) -> i64 {
    read_ledger(&ledger_path(dir))
        .unwrap_or_default()
        .iter()
        .filter(|e| e.merchant_order_no == order)
        .map(|e| e.amount_minor)
        .sum()
}

fn row_state(dir: &Path, order: &str) -> TxnState {
    Journal::open(&dir.join("data"))
        .unwrap()
        .find(order)
        .unwrap()
        .unwrap()
        .state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_terminal_never_settles_a_payment_it_did_not_take() {
    let dir = tempfile::tempdir().unwrap();
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a_dir).unwrap();
    std::fs::create_dir_all(&b_dir).unwrap();
    let a = start_sim(&a_dir, Faults::default(), 0).await;
    a.set_serial("SNA0000001");
    let b = start_sim(&b_dir, Faults::default(), 0).await;
    b.set_serial("SNB0000002");

    // The terminal takes 42.00 and the till dies before its answer.
    let (mut child, order) = frozen_sale(dir.path(), &a.url(), "after-send", "42.00").await;
    child.kill().await.unwrap();
    assert!(eventually(|| moved(&a_dir, &order) == 4200).await);
    let row = Journal::open(&dir.path().join("data"))
        .unwrap()
        .find(&order)
        .unwrap()
        .unwrap();
    assert_eq!(row.terminal_sn.as_deref(), Some("SNA0000001"));

    // Another device now answers at the address: it knows no such order, and that
    // says nothing about a payment it did not take.
    let r = run(till(dir.path(), &b.url(), QUICK), &["recover", "--json"]).await;
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    let why = r.json()["why"][&order]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        why.contains("terminal changed: SN SNA0000001 -> SN SNB0000002"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert!(matches!(
        row_state(dir.path(), &order),
        TxnState::Pending | TxnState::Unknown
    ));
    // Nor does the cashier get to charge again through it while that is open.
    let r = run(
        till(dir.path(), &b.url(), QUICK),
        &["sale", "42.00", "--json"],
    )
    .await;
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    // At once, and without asking over and over a terminal that cannot answer.
    assert!(
        r.stderr.matches("terminal changed").count() <= 1,
        "{}",
        r.stderr
    );
    assert!(
        read_ledger(&ledger_path(&b_dir))
            .unwrap_or_default()
            .is_empty()
    );

    // The terminal that took it settles it.
    let r = run(till(dir.path(), &a.url(), QUICK), &["recover", "--json"]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let journal = Journal::open(&dir.path().join("data")).unwrap();
    let row = journal.find(&order).unwrap().unwrap();
    assert_eq!((row.state, row.amount.minor()), (TxnState::Approved, 4200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_lane_never_settles_another_lanes_payment() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(
        dir.path(),
        Faults {
            hold: Some(Duration::from_secs(2)),
            ..Faults::default()
        },
        0,
    )
    .await;
    let url = sim.url();
    // Lane L02's customer is at the terminal (its till frozen there, holding its lane).
    let mut cmd = till(dir.path(), &url, QUICK);
    cmd.env("TILL_LANE", "L02");
    let config = dir.path().join("config.toml");
    let (mut child, order) = frozen_sale_by(cmd, dir.path(), "after-send", "25.00").await;
    assert!(config.exists());
    // Lane C01's supervisor tries to settle it by hand.
    let r = run(
        till(dir.path(), &url, QUICK),
        &[
            "resolve",
            &order,
            "--as",
            "declined",
            "--note",
            "looked stuck",
            "--json",
        ],
    )
    .await;
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("belongs to lane L02"),
        "{}",
        r.stdout
    );
    assert!(matches!(
        row_state(dir.path(), &order),
        TxnState::Pending | TxnState::Unknown
    ));
    child.kill().await.unwrap();
    // Its own lane settles it, by query, with what the terminal moved.
    assert!(eventually(|| moved(dir.path(), &order) == 2500).await);
    let mut own = till(dir.path(), &url, QUICK);
    own.env("TILL_LANE", "L02");
    let r = run(own, &["recover", "--json"]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(row_state(dir.path(), &order), TxnState::Approved);
}

/// A consistent copy of a closed journal, as a backup would be.
fn back_up(data: &Path, to: &Path) {
    for suffix in ["", "-wal"] {
        let from = data.join(format!("till.db{suffix}"));
        if from.exists() {
            std::fs::copy(&from, to.join(format!("till.db{suffix}"))).unwrap();
        }
    }
}

fn restore(data: &Path, from: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(data.join(format!("till.db{suffix}")));
    }
    back_up(from, data);
}

/// Order numbers the terminal was sent more than once.
fn sent_twice(sim: &till::sim::SimHandle) -> Vec<String> {
    let stats = sim.stats();
    let mut twice: Vec<String> = stats
        .orders_received
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(o, _)| o)
        .collect();
    twice.sort();
    twice
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_journal_never_sends_an_order_number_twice() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let data = dir.path().join("data");
    let backup = dir.path().join("backup");
    std::fs::create_dir_all(&backup).unwrap();
    let sale = |amount: &'static str| {
        let cmd = till(dir.path(), &url, QUICK);
        async move { run(cmd, &["sale", amount, "--json", "--force"]).await }
    };
    let first = sale("1.00").await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    back_up(&data, &backup);
    for amount in ["2.00", "3.00"] {
        assert_eq!(sale(amount).await.code, 0);
    }
    // The journal is restored from the copy, as after a corrupt file.
    restore(&data, &backup);
    let after = sale("3.50").await;
    assert_eq!(after.code, 0, "{}\n{}", after.stdout, after.stderr);
    assert_eq!(sent_twice(&sim), Vec::<String>::new());
    // The new number carries a new identity; the rows kept theirs.
    let identity = |o: &str| o.split('-').nth(1).unwrap().to_string();
    let last = after.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();
    let first_no = first.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(identity(&last), identity(&first_no));
    // And the same when the whole data dir moves to another register.
    let mark = data.join("till.db.issued");
    let text = std::fs::read_to_string(&mark).unwrap();
    let moved_text: String = text
        .lines()
        .map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            format!("{} {} another-register\n", w[0], w[1])
        })
        .collect();
    std::fs::write(&mark, moved_text).unwrap();
    let elsewhere = sale("4.00").await;
    assert_eq!(elsewhere.code, 0, "{}", elsewhere.stderr);
    let next = elsewhere.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(identity(&next), identity(&last));
    assert_eq!(sent_twice(&sim), Vec::<String>::new());
    assert_eq!(sim.stats().orders_received.len(), 5);
}
