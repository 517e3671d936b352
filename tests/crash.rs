//! Crash safety with the real binary: the process is SIGKILLed at each point of a
//! payment, and the next start resolves the row by query. The simulator's ledger says
//! what money really moved; journal and ledger must agree, nothing lost or doubled.

mod common;

use std::time::Duration;

use common::*;
use till::journal::{Journal, TxnState};
use till::sim::{Faults, net_by_order, read_ledger};

/// Runs a sale that freezes at `point`, kills it there, and returns the order number.
async fn killed_at(dir: &std::path::Path, url: &str, point: &str) -> String {
    let (mut child, order) = frozen_sale(dir, url, point, "12.34").await;
    child.start_kill().unwrap(); // SIGKILL
    let status = child.wait().await.unwrap();
    assert!(!status.success());
    // It died with the journal open: its markers stay, so the next open runs the
    // integrity check, and clears them once the file is found sound.
    let markers = || {
        std::fs::read_dir(dir.join("data").join("till.db.open"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    assert!(markers() >= 1, "the killed till left its marker");
    let journal = Journal::open(&dir.join("data")).unwrap();
    assert_eq!(markers(), 1, "only the open journal's own marker is left");
    let rows = journal.unresolved().unwrap();
    assert_eq!(rows.len(), 1, "the killed sale is pending in the journal");
    assert_eq!(rows[0].state, TxnState::Pending);
    assert_eq!(rows[0].order_no, order);
    order
}

async fn crash_then_recover(point: &str, money_moved: bool) {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let order = killed_at(dir.path(), &sim.url(), point).await;
    recovered(dir.path(), &sim, &order, point, money_moved).await;
    sim.shutdown().await;
}

/// The next run's recovery of `order`: resolved by query as the terminal says, the
/// journal and the simulator's ledger agree, and the order was never sent again.
async fn recovered(
    dir: &std::path::Path,
    sim: &till::sim::SimHandle,
    order: &str,
    point: &str,
    money_moved: bool,
) {
    // Give a terminal that got the order time to finish its card flow.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let recovered = run(till(dir, &sim.url(), QUICK), &["recover", "--json"]).await;
    assert_eq!(
        recovered.code, 0,
        "{}\n{}",
        recovered.stdout, recovered.stderr
    );
    assert_eq!(recovered.json()["unresolved"], serde_json::json!([]));
    // The report's totals the crash left behind (a row admitted but not yet tallied)
    // are tallied again and agree with the rows.
    let checked = run(till(dir, &sim.url(), QUICK), &["check", "--json"]).await;
    assert_eq!(
        checked.code, 0,
        "{point}: {}\n{}",
        checked.stdout, checked.stderr
    );
    assert_eq!(
        checked.json()["totals"],
        "ok",
        "{point}: {}",
        checked.stdout
    );

    let journal = Journal::open(&dir.join("data")).unwrap();
    assert_eq!(journal.untallied().unwrap(), 0, "{point}");
    let row = journal.find(order).unwrap().unwrap();
    let want = if money_moved {
        TxnState::Approved
    } else {
        TxnState::Declined
    };
    assert_eq!(row.state, want, "{point}: {row:?}");
    let audit = journal.audit(order).unwrap();
    assert!(
        audit.iter().any(|a| a.why.contains("resolved by query")),
        "{audit:?}"
    );

    let ledger = net_by_order(&read_ledger(&ledger_path(dir)).unwrap());
    assert_eq!(
        ledger.get(order).copied(),
        money_moved.then_some(1234),
        "{point}"
    );
    assert_eq!(
        sim.stats().orders_received.get(order).copied(),
        money_moved.then_some(1),
        "never re-sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_journal_write_before_the_send() {
    crash_then_recover("after-journal", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_send_before_the_reply() {
    crash_then_recover("after-send", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_reply_before_the_journal_update() {
    crash_then_recover("after-reply", true).await;
}

/// The sent mark and the outcome commit without waiting for a sync of their own
/// (`Journal::mark_sent`, `Journal::record_outcome`): a power cut right after them can
/// lose both. The journal then holds the row as it was made durable before anything
/// was sent, while the terminal has charged the card: recovery asks the terminal and
/// books the approval, and the order is never sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_whose_sent_mark_and_outcome_were_lost_is_resolved_by_query() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let order = killed_at(dir.path(), &sim.url(), "after-send").await;
    // What the lost commits leave: the row as its admission wrote it.
    let db = rusqlite::Connection::open(dir.path().join("data").join("till.db")).unwrap();
    let unmarked = db
        .execute(
            "UPDATE txn SET sent_at = NULL WHERE order_no = ?1",
            [&order],
        )
        .unwrap();
    assert_eq!(unmarked, 1);
    drop(db);
    recovered(dir.path(), &sim, &order, "lost mark and outcome", true).await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_sale_resolves_the_old_row_first() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let order = killed_at(dir.path(), &sim.url(), "after-send").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let next = run(
        till(dir.path(), &sim.url(), QUICK),
        &["sale", "5.00", "--json"],
    )
    .await;
    assert_eq!(next.code, 0, "{}\n{}", next.stdout, next.stderr);
    let journal = Journal::open(&dir.path().join("data")).unwrap();
    assert_eq!(
        journal.find(&order).unwrap().unwrap().state,
        TxnState::Approved
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_or_unwritable_journal_is_a_clear_error_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let file = data.join("till.db");
    let garbage = b"this is not a database, but it might be someone's only copy".repeat(100);
    std::fs::write(&file, &garbage).unwrap();
    let out = run(till(dir.path(), "127.0.0.1:9", QUICK), &["history"]).await;
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("corrupt"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        garbage,
        "left byte for byte untouched"
    );

    // A data dir that is a file cannot hold a journal.
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, b"x").unwrap();
    let mut cmd = till(dir.path(), "127.0.0.1:9", QUICK);
    cmd.env("TILL_DATA_DIR", &blocked);
    let out = run(cmd, &["history"]).await;
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("journal"), "{}", out.stderr);
}

/// Runs `till history` as a user who cannot write the data dir: as an unprivileged
/// user through permissions alone, as root by dropping to `nobody` (root writes
/// through any permission bits).
async fn history_as_reader(dir: &std::path::Path, data: &std::path::Path) -> Run {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let root = std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    for p in [dir, data] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut cmd = till(dir, "127.0.0.1:9", QUICK);
    if root {
        let bin = cmd.as_std().get_program().to_owned();
        let mut dropped = tokio::process::Command::new("setpriv");
        dropped
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin);
        for (k, v) in cmd.as_std().get_envs() {
            match v {
                Some(v) => dropped.env(k, v),
                None => dropped.env_remove(k),
            };
        }
        dropped.env_remove("HOME").env("HOME", "/tmp");
        cmd = dropped;
    }
    std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = run(cmd, &["history"]).await;
    std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o755)).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_journal_is_a_clear_error_not_a_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        // A journal with a row in it, then made read-only.
        let mut journal = Journal::open(&data).unwrap();
        journal.next_order_no("C01").unwrap();
    }
    let file = data.join("till.db");
    let before = std::fs::read(&file).unwrap();
    let out = history_as_reader(dir.path(), &data).await;
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("read-only"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the journal is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_moved_aside_never_reuses_an_order_number() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let t = || till(dir.path(), &sim.url(), QUICK);
    let first = run(t(), &["sale", "20.00", "--json"]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let first = first.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();

    // What the error for a broken journal advises: move it aside. A zero-length file
    // left in its place is refused, not taken for a fresh start.
    let data = dir.path().join("data");
    let aside = dir.path().join("aside");
    std::fs::create_dir(&aside).unwrap();
    for name in ["till.db", "till.db-wal", "till.db-shm"] {
        let _ = std::fs::rename(data.join(name), aside.join(name));
    }
    std::fs::write(data.join("till.db"), b"").unwrap();
    let refused = run(t(), &["sale", "20.00", "--json"]).await;
    assert_eq!(refused.code, 4, "{}", refused.stdout);
    assert!(refused.stderr.contains("is empty"), "{}", refused.stderr);

    std::fs::remove_file(data.join("till.db")).unwrap();
    let second = run(t(), &["sale", "20.00", "--json"]).await;
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    let second = second.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(first, second, "a fresh journal has an identity of its own");
    let stats = sim.stats();
    assert_eq!(stats.orders_received.get(&first), Some(&1));
    assert_eq!(stats.orders_received.get(&second), Some(&1));
    sim.shutdown().await;
}
