//! One lane, many faces: the till that holds a lane (the cashier screen, `till serve`)
//! serves every other till on it over the lane's socket. Real processes on one data
//! dir: the POS script's `till sale` goes through the owner's lane and journal, once;
//! the simulator's ledger says what money really moved.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::pty::Screen;
use common::*;
use till::journal::{Journal, TxnRow, TxnState};
use till::sim::{Faults, net_by_order, read_ledger};
use tokio::io::AsyncBufReadExt;
use tokio::process::Child;

/// `till serve` on lane C01, once its terminal is connected (its socket is up before).
async fn serving(dir: &Path, url: &str) -> Child {
    let mut cmd = till(dir, url, QUICK);
    cmd.arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let up = tokio::time::timeout(WAIT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("terminal connected") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(up, "till serve never connected");
    // Keep reading, so the owner never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

/// The lane's open batch.
fn rows(dir: &Path) -> Vec<TxnRow> {
    Journal::open(&dir.join("data"))
        .unwrap()
        .rows(till::journal::BatchSel::Open("C01"))
        .unwrap()
}

fn row(dir: &Path, order: &str) -> Option<TxnRow> {
    Journal::open(&dir.join("data"))
        .unwrap()
        .find(order)
        .unwrap()
}

/// Net money the terminal moved, per its ledger.
fn ledger_net(dir: &Path) -> i64 {
    net_by_order(&read_ledger(&ledger_path(dir)).unwrap())
        .values()
        .sum()
}

fn order_of(out: &Run) -> String {
    out.json()["merchant_order_no"]
        .as_str()
        .unwrap_or_else(|| panic!("an order number: {}\n{}", out.stdout, out.stderr))
        .to_string()
}

fn slow(hold_ms: u64) -> Faults {
    Faults {
        hold: Some(Duration::from_millis(hold_ms)),
        ..Faults::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pos_sale_goes_through_the_cashier_screen_and_is_journaled_once() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), slow(1500), 0).await;
    let url = sim.url();
    let screen = Screen::start(dir.path(), &url, &[("TILL_LANE", "C01")]);
    screen.wait_for("UP").await;
    let pos = tokio::spawn(run(
        till(dir.path(), &url, QUICK),
        &["sale", "3.21", "--json"],
    ));
    // The cashier sees whose payment the terminal is taking, then its answer.
    screen
        .wait_for("POS: SALE 3.21 USD, follow the terminal")
        .await;
    screen.wait_for("APPROVED").await;
    let sale = pos.await.unwrap();
    assert_eq!(sale.code, 0, "{}\n{}", sale.stdout, sale.stderr);
    assert!(
        sale.stderr.contains("in use by the cashier screen"),
        "{}",
        sale.stderr
    );
    let json = sale.json();
    assert_eq!(json["outcome"], "approved");
    assert_eq!(json["amount"], "3.21");
    let order = order_of(&sale);
    let all = rows(dir.path());
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].order_no, order);
    assert_eq!(all[0].state, TxnState::Approved);
    assert_eq!(sim.stats().orders_received.get(&order), Some(&1));
    assert_eq!(ledger_net(dir.path()), 321);
    drop(screen);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_headless_owner_serves_sales_refunds_queries_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let mut owner = serving(dir.path(), &url).await;
    let t = || till(dir.path(), &url, QUICK);

    let sale = run(t(), &["sale", "10.00", "--json"]).await;
    assert_eq!(sale.code, 0, "{}\n{}", sale.stdout, sale.stderr);
    assert!(
        sale.stderr.contains("in use by till serve"),
        "{}",
        sale.stderr
    );
    let order = order_of(&sale);
    let refund = run(t(), &["refund", "4.00", "--orig", &order, "--json"]).await;
    assert_eq!(refund.code, 0, "{}\n{}", refund.stdout, refund.stderr);
    // The owner's rules: no more back than was charged.
    let too_much = run(t(), &["refund", "7.00", "--orig", &order, "--json"]).await;
    assert_eq!(too_much.code, 2, "{}\n{}", too_much.stdout, too_much.stderr);
    assert!(
        too_much.stderr.contains("at most 6.00"),
        "{}",
        too_much.stderr
    );
    // The owner's duplicate rule too.
    let again = run(t(), &["sale", "10.00", "--json"]).await;
    assert_eq!(again.code, 2, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(again.json()["code"], "duplicate");

    let query = run(t(), &["query", &order, "--json"]).await;
    assert_eq!(query.code, 0, "{}\n{}", query.stdout, query.stderr);
    assert!(query.stdout.contains(&order), "{}", query.stdout);

    let status = run(t(), &["status", "--json"]).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    let lane = &status.json()["lanes"][0];
    assert!(
        lane["held_by"].as_str().unwrap().contains("till serve"),
        "{lane}"
    );
    assert_eq!(lane["live"]["link"], "connected", "{lane}");
    assert_eq!(lane["live"]["serial"], "SIM0000000000001", "{lane}");
    assert_eq!(lane["live"]["queue"], 0, "{lane}");

    let journaled = rows(dir.path());
    assert_eq!(
        journaled
            .iter()
            .filter(|r| r.state == TxnState::Approved)
            .count(),
        2,
        "{journaled:?}"
    );
    assert_eq!(ledger_net(dir.path()), 600);

    // SIGTERM: the owner stops, its socket goes, and the lane is free for the next.
    let pid = owner.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-s", "TERM", &pid])
        .status()
        .unwrap();
    let stopped = tokio::time::timeout(WAIT, owner.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stopped.code(), Some(0));
    assert!(!dir.path().join("data/lanes/C01.sock").exists());
    let alone = run(t(), &["sale", "2.00", "--json"]).await;
    assert_eq!(alone.code, 0, "{}\n{}", alone.stdout, alone.stderr);
    assert!(!alone.stderr.contains("in use by"), "{}", alone.stderr);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_killed_mid_payment_leaves_the_outcome_unknown_for_the_next_owner() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), slow(3000), 0).await;
    let url = sim.url();
    let mut owner = serving(dir.path(), &url).await;
    let mut sale = till(dir.path(), &url, QUICK);
    sale.args(["sale", "7.00", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let sale = sale.spawn().unwrap();
    assert!(
        eventually(|| sim.stats().orders_received.len() == 1).await,
        "the sale reached the terminal"
    );
    owner.start_kill().unwrap(); // SIGKILL
    owner.wait().await.unwrap();
    let out = tokio::time::timeout(WAIT, sale.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json["code"], "unknown");

    // The next owner (here `till recover`, over a stale socket) settles it by query.
    let order = sim.stats().orders_received.keys().next().unwrap().clone();
    assert_eq!(row(dir.path(), &order).unwrap().state, TxnState::Pending);
    let recover = run(till(dir.path(), &url, QUICK), &["recover", "--json"]).await;
    assert_eq!(recover.code, 0, "{}\n{}", recover.stdout, recover.stderr);
    assert_eq!(row(dir.path(), &order).unwrap().state, TxnState::Approved);
    assert_eq!(
        sim.stats().orders_received.get(&order),
        Some(&1),
        "never sent twice"
    );
    assert_eq!(ledger_net(dir.path()), 700);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_killed_mid_payment_leaves_the_owner_to_book_it() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), slow(1500), 0).await;
    let url = sim.url();
    let mut owner = serving(dir.path(), &url).await;
    let mut sale = till(dir.path(), &url, QUICK);
    sale.args(["sale", "8.00", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut sale = sale.spawn().unwrap();
    assert!(
        eventually(|| sim.stats().orders_received.len() == 1).await,
        "the sale reached the terminal"
    );
    sale.start_kill().unwrap(); // SIGKILL
    sale.wait().await.unwrap();
    let order = sim.stats().orders_received.keys().next().unwrap().clone();
    assert!(
        eventually(|| row(dir.path(), &order).is_some_and(|r| r.state == TxnState::Approved)).await,
        "the owner booked the answer: {:?}",
        row(dir.path(), &order)
    );
    // The owner is unharmed: it serves the next.
    let next = run(till(dir.path(), &url, QUICK), &["sale", "9.00", "--json"]).await;
    assert_eq!(next.code, 0, "{}\n{}", next.stdout, next.stderr);
    assert!(owner.try_wait().unwrap().is_none(), "the owner still runs");
    assert_eq!(ledger_net(dir.path()), 1700);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_racing_are_served_in_turn() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), slow(500), 0).await;
    let url = sim.url();
    let _owner = serving(dir.path(), &url).await;
    let t = || till(dir.path(), &url, QUICK);
    let (a, b) = tokio::join!(
        run(t(), &["sale", "11.00", "--json"]),
        run(t(), &["sale", "12.00", "--json"])
    );
    assert_eq!(
        (a.code, b.code),
        (0, 0),
        "{}\n{}\n{}\n{}",
        a.stdout,
        a.stderr,
        b.stdout,
        b.stderr
    );
    let (first, second) = (order_of(&a), order_of(&b));
    assert_ne!(first, second, "no order number twice");
    let stats = sim.stats();
    assert_eq!(stats.orders_received.get(&first), Some(&1));
    assert_eq!(stats.orders_received.get(&second), Some(&1));
    assert_eq!(ledger_net(dir.path()), 2300);
    sim.shutdown().await;
}

/// Only as root can a test run a till as another user (`nobody`); elsewhere the check
/// itself is tested as a unit (`owner::server`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_till_of_another_uid_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let _owner = serving(dir.path(), &url).await;
    let socket = dir.path().join("data/lanes/C01.sock");
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "only the owner's user may connect");
    let root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&socket).unwrap()) == 0;
    if !root {
        eprintln!("not root: another uid cannot be run here; the unit test covers the check");
        return;
    }
    // Open the way on purpose, so that only the owner's uid check stands in between.
    for path in [
        dir.path(),
        &dir.path().join("data"),
        &dir.path().join("data/lanes"),
    ] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let mut other = till(dir.path(), &url, QUICK);
    other.uid(65534).gid(65534);
    let out = run(other, &["query", "C01-XXXXX-1204-000001", "--json"]).await;
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    let error = out.json()["error"].as_str().unwrap().to_string();
    assert!(
        error.contains("uid 65534 is not the lane owner's"),
        "{error}"
    );
    // The owner is unharmed.
    let sale = run(till(dir.path(), &url, QUICK), &["sale", "1.00", "--json"]).await;
    assert_eq!(sale.code, 0, "{}\n{}", sale.stdout, sale.stderr);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_and_doctor_run_through_the_owners_link() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let _owner = serving(dir.path(), &url).await;
    let t = || till(dir.path(), &url, QUICK);
    let ping = run(t(), &["ping", "--count", "3", "--json"]).await;
    assert_eq!(ping.code, 0, "{}\n{}", ping.stdout, ping.stderr);
    let json = ping.json();
    assert_eq!(json["received"], 3, "{json}");
    assert_eq!(json["device"]["device_sn"], "SIM0000000000001", "{json}");
    let doctor = run(t(), &["doctor", "--json"]).await;
    assert_eq!(doctor.code, 0, "{}\n{}", doctor.stdout, doctor.stderr);
    let steps = doctor.json()["steps"].clone();
    let names: Vec<&str> = steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["journal", "lane link", "heartbeat", "app id"],
        "{steps}"
    );
    // No second socket to the terminal: the owner's is the only one it ever had.
    assert_eq!(sim.stats().connections_total, 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_rules_apply_and_a_new_pin_reaches_it_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let _owner = serving(dir.path(), &url).await;
    let sale = run(till(dir.path(), &url, QUICK), &["sale", "5.00", "--json"]).await;
    assert_eq!(sale.code, 0, "{}\n{}", sale.stdout, sale.stderr);
    let order = order_of(&sale);
    // The owner's config file gets a PIN while it runs; the asking till's own config
    // has none.
    let hash = till::supervisor_pin::hash_pin("2468").unwrap();
    let with_pin = format!("{QUICK}supervisor_pin_hash = \"{}\"\n", hash.as_str());
    std::fs::write(dir.path().join("config.toml"), &with_pin).unwrap();
    let other = dir.path().join("other.toml");
    std::fs::write(&other, QUICK).unwrap();
    let asking = || {
        let mut cmd = till(dir.path(), &url, &with_pin);
        cmd.env("TILL_CONFIG", &other);
        cmd
    };
    let refused = run(asking(), &["void", &order, "--json"]).await;
    assert_eq!(refused.code, 2, "{}\n{}", refused.stdout, refused.stderr);
    assert_eq!(refused.json()["code"], "pin_required");
    assert_eq!(row(dir.path(), &order).unwrap().state, TxnState::Approved);
    let wrong = run(asking(), &["void", &order, "--pin", "1111", "--json"]).await;
    assert_eq!(wrong.code, 2, "{}\n{}", wrong.stdout, wrong.stderr);
    assert_eq!(wrong.json()["code"], "pin_wrong");
    let void = run(asking(), &["void", &order, "--pin", "2468", "--json"]).await;
    assert_eq!(void.code, 0, "{}\n{}", void.stdout, void.stderr);
    let voided = order_of(&void);
    let audit = Journal::open(&dir.path().join("data"))
        .unwrap()
        .audit(&voided)
        .unwrap();
    assert!(
        audit.iter().any(|a| a.why.contains("supervisor")),
        "the PIN is in the audit trail: {audit:?}"
    );
    assert_eq!(ledger_net(dir.path()), 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pos_sale_waits_for_the_cashiers_payment_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // Long enough that the POS asks while the cashier's sale is on the terminal.
    let sim = start_sim(dir.path(), slow(3000), 0).await;
    let url = sim.url();
    let mut screen = Screen::start(dir.path(), &url, &[("TILL_LANE", "C01")]);
    screen.wait_for("UP").await;
    screen.keys("1000\r");
    assert!(
        eventually(|| sim.stats().orders_received.len() == 1).await,
        "the cashier's sale reached the terminal"
    );
    let cashiers = sim.stats().orders_received.keys().next().unwrap().clone();
    let pos = tokio::spawn(run(
        till(dir.path(), &url, QUICK),
        &["sale", "3.21", "--json"],
    ));
    screen
        .wait_for("POS: SALE 3.21 USD waits for the payment on the terminal")
        .await;
    // Monitoring sees it too: the cashier's payment on the terminal, one waiting.
    let status = run(till(dir.path(), &url, QUICK), &["status", "--json"]).await;
    let live = &status.json()["lanes"][0]["live"];
    assert_eq!(live["paying"], cashiers.as_str(), "{live}");
    assert_eq!(live["queue"], 1, "{live}");
    let sale = pos.await.unwrap();
    assert_eq!(sale.code, 0, "{}\n{}", sale.stdout, sale.stderr);
    assert!(
        sale.stderr
            .contains(&format!("waiting: {cashiers} is on the terminal")),
        "{}",
        sale.stderr
    );
    let order = order_of(&sale);
    assert_eq!(
        row(dir.path(), &cashiers).unwrap().state,
        TxnState::Approved
    );
    assert_eq!(row(dir.path(), &order).unwrap().state, TxnState::Approved);
    assert_eq!(ledger_net(dir.path()), 1321);
    sim.shutdown().await;
}
