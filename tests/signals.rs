//! SIGTERM, SIGHUP and SIGINT sent to the real `till sale` at each step: before
//! anything is sent it stops having done nothing; while the payment is with the
//! terminal it waits, books the answer and prints it; a second signal stops the wait
//! and leaves the row for `till recover`; a hung-up terminal (a dropped SSH session)
//! stops nothing either. The simulator's ledger says what moved.

mod common;

use std::time::Duration;

use common::*;
use till::journal::{Journal, TxnState};
use till::sim::{Faults, read_ledger};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

/// A running `till sale`, its stderr lines streamed as they come.
struct Sale {
    child: tokio::process::Child,
    lines: mpsc::UnboundedReceiver<String>,
    stderr: String,
}

impl Sale {
    fn start(dir: &std::path::Path, url: &str, amount: &str) -> Sale {
        Sale::command(dir, url, &["sale", amount])
    }

    /// Any money-moving command, with `--json`.
    fn command(dir: &std::path::Path, url: &str, args: &[&str]) -> Sale {
        let mut cmd = till(dir, url, QUICK);
        cmd.args(args)
            .arg("--json")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err.next_line().await {
                let _ = tx.send(line);
            }
        });
        Sale {
            child,
            lines,
            stderr: String::new(),
        }
    }

    /// Waits for a stderr line containing `text`.
    async fn said(&mut self, text: &str) {
        let found = tokio::time::timeout(WAIT, async {
            while let Some(line) = self.lines.recv().await {
                self.stderr.push_str(&line);
                self.stderr.push('\n');
                if line.contains(text) {
                    return true;
                }
            }
            false
        })
        .await
        .unwrap_or(false);
        assert!(found, "never said '{text}': {}", self.stderr);
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-s", name, &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Exit code and the one JSON object on stdout.
    async fn finish(self) -> (i32, serde_json::Value) {
        let out = tokio::time::timeout(WAIT, self.child.wait_with_output())
            .await
            .expect("till finishes")
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let json = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("one JSON object ({e}): {stdout}"));
        (out.status.code().unwrap_or(-1), json)
    }
}

fn slow(hold_ms: u64) -> Faults {
    Faults {
        hold: Some(Duration::from_millis(hold_ms)),
        ..Faults::default()
    }
}

fn sales(dir: &std::path::Path) -> usize {
    moved(dir, "sale")
}

/// How many times money of this kind really moved at the terminal.
fn moved(dir: &std::path::Path, trans_type: &str) -> usize {
    read_ledger(&ledger_path(dir))
        .unwrap()
        .iter()
        .filter(|e| e.trans_type == trans_type)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_signal_during_the_card_flow_waits_and_books_the_answer() {
    for name in ["TERM", "HUP", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let sim = start_sim(dir.path(), slow(1500), 0).await;
        let mut sale = Sale::start(dir.path(), &sim.url(), "20.00");
        sale.said("follow the prompts on the terminal").await;
        sale.signal(name);
        sale.said("waiting for its answer").await;
        let again = match name {
            "INT" => "press Ctrl-C again",
            _ => "send the signal again",
        };
        assert!(sale.stderr.contains(again), "SIG{name}: {}", sale.stderr);
        let (code, json) = sale.finish().await;
        assert_eq!(code, 0, "SIG{name}: {json}");
        assert_eq!(json["outcome"], "approved", "SIG{name}");
        let order = json["merchant_order_no"].as_str().unwrap();
        let row = Journal::open(&dir.path().join("data"))
            .unwrap()
            .find(order)
            .unwrap()
            .unwrap();
        assert_eq!(row.state, TxnState::Approved, "SIG{name}");
        assert_eq!(sales(dir.path()), 1, "SIG{name}: charged once");
        sim.shutdown().await;
    }
}

/// Not only sales: a refund (as any money-moving command) waits through a signal too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_waits_through_a_signal_too() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let (code, sale) = Sale::start(dir.path(), &sim.url(), "20.00").finish().await;
    assert_eq!(code, 0, "{sale}");
    let orig = sale["merchant_order_no"].as_str().unwrap();
    sim.set_faults(slow(1500));
    let mut refund = Sale::command(dir.path(), &sim.url(), &["refund", "5.00", "--orig", orig]);
    refund.said("follow the prompts on the terminal").await;
    refund.signal("TERM");
    refund.said("waiting for its answer").await;
    let (code, json) = refund.finish().await;
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["outcome"], "approved");
    assert_eq!(json["kind"], "refund");
    let order = json["merchant_order_no"].as_str().unwrap();
    let row = Journal::open(&dir.path().join("data"))
        .unwrap()
        .find(order)
        .unwrap()
        .unwrap();
    assert_eq!(row.state, TxnState::Approved);
    assert_eq!(moved(dir.path(), "refund"), 1, "refunded once");
    sim.shutdown().await;
}

/// A dropped SSH session: the sale's terminal hangs up (SIGHUP, and from then on
/// every write to it fails) while the card flow goes on. Its stdout is a file, as a
/// script would have it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hangup_of_its_terminal_still_books_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), slow(1500), 0).await;
    std::fs::write(dir.path().join("config.toml"), QUICK).unwrap();
    let out = dir.path().join("out.json");
    let mut cmd = pty::command("sh", dir.path(), &sim.url());
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.arg("-c");
    cmd.arg(r#"exec "$0" sale 20.00 --json > "$1""#);
    cmd.arg(env!("CARGO_BIN_EXE_till"));
    cmd.arg(&out);
    // The terminal is read until the card flow starts, then let go of.
    let (seen, mut child) = pty::hang_up_after(cmd, "follow the prompts on the terminal").await;
    assert!(seen.contains("follow the prompts"), "{seen}");
    let status = pty::exited(child.as_mut()).await.expect("till never ended");
    let stdout = std::fs::read_to_string(&out).unwrap();
    assert_eq!(status.exit_code(), 0, "{status:?} {stdout}");
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json["outcome"], "approved");
    let order = json["merchant_order_no"].as_str().unwrap();
    let row = Journal::open(&dir.path().join("data"))
        .unwrap()
        .find(order)
        .unwrap()
        .unwrap();
    assert_eq!(row.state, TxnState::Approved);
    assert_eq!(sales(dir.path()), 1, "charged once");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_leaves_the_row_for_recover() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), slow(2500), 0).await;
    let mut sale = Sale::start(dir.path(), &sim.url(), "20.00");
    sale.said("follow the prompts on the terminal").await;
    sale.signal("TERM");
    sale.said("waiting for its answer").await;
    sale.signal("TERM");
    let (code, json) = sale.finish().await;
    assert_eq!(code, 3, "{json}");
    assert_eq!(json["interrupted"], "SIGTERM");
    let order = json["merchant_order_no"].as_str().unwrap().to_string();
    let journal = || Journal::open(&dir.path().join("data")).unwrap();
    let state = journal().find(&order).unwrap().unwrap().state;
    assert!(
        matches!(state, TxnState::Pending | TxnState::Unknown),
        "{state:?}"
    );
    // The terminal finishes the card flow on its own; recovery books it, once.
    assert!(
        eventually(|| sales(dir.path()) == 1).await,
        "the charge happened"
    );
    let recovered = run(till(dir.path(), &sim.url(), QUICK), &["recover", "--json"]).await;
    assert_eq!(
        recovered.code, 0,
        "{}\n{}",
        recovered.stdout, recovered.stderr
    );
    assert_eq!(
        journal().find(&order).unwrap().unwrap().state,
        TxnState::Approved
    );
    assert_eq!(sales(dir.path()), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_before_anything_is_sent_does_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    // The lane is held, so the sale waits before journaling anything.
    let (mut owner, held) = frozen_sale(dir.path(), &sim.url(), "after-journal", "40.00").await;
    let mut sale = Sale::start(dir.path(), &sim.url(), "20.00");
    sale.said("in use by till sale").await;
    sale.signal("TERM");
    let (code, json) = sale.finish().await;
    assert_eq!(code, 5, "{json}");
    assert!(
        json["error"].as_str().unwrap().contains("nothing was done"),
        "{json}"
    );
    let journal = Journal::open(&dir.path().join("data")).unwrap();
    let rows = journal.recent(10).unwrap();
    assert_eq!(rows.len(), 1, "only the held sale is journaled");
    assert_eq!(rows[0].order_no, held);
    owner.start_kill().unwrap();
    owner.wait().await.unwrap();
    assert_eq!(sales(dir.path()), 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_at_the_supervisor_pin_prompt_stops_having_done_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hash = till::supervisor_pin::hash_pin("2468").unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        format!("{QUICK}supervisor_pin_hash = \"{}\"\n", hash.as_str()),
    )
    .unwrap();
    let mut cmd = pty::command(env!("CARGO_BIN_EXE_till"), dir.path(), "127.0.0.1:1");
    cmd.args(["void", "C01-AAAAA-1124-000001"]);
    let mut screen = pty::Screen::spawn(cmd);
    screen.wait_for("Supervisor PIN for a void").await;
    screen.keys("\x03");
    assert_eq!(screen.exit_code().await, 5, "{}", screen.contents());
    screen.wait_for("nothing was sent").await;
    let journal = Journal::open(&dir.path().join("data")).unwrap();
    assert!(journal.recent(10).unwrap().is_empty());
}
