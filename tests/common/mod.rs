//! Shared set-up for integration tests: a simulator on a loopback port with a ledger,
//! a lane actor on a journal in a temporary directory, waiting for events, and a
//! hostile terminal that breaks the protocol on purpose (`hostile`).

#![allow(dead_code)]

pub mod cloud;
pub mod hostile;
pub mod pg;
pub mod pty;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;
use tokio::sync::mpsc::UnboundedReceiver;

use till::ecr::DeviceInfo;
use till::journal::{BatchSel, Journal, TxnRow, TxnState};
use till::lane::{self, Event, LaneHandle, LaneOwner, LinkNews, Settings};
use till::link::{Endpoint, Link, LinkConfig, LinkEvent};
use till::sim::{Faults, Sim, SimConfig, SimHandle, net_by_order, read_ledger};

/// Generous: these machines are shared and slow; nothing here measures time.
pub const WAIT: Duration = Duration::from_secs(30);

/// Drives a bare `Link` until it emits an event `want` takes.
pub async fn next_event(link: &mut Link, mut want: impl FnMut(&LinkEvent) -> bool) -> LinkEvent {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(e) = link.take_events().find(|e| want(e)) {
            return e;
        }
        let wake = tokio::time::timeout_at(deadline, link.wait())
            .await
            .expect("the awaited link event came in time");
        link.handle(wake).await;
    }
}

pub struct Rig {
    pub dir: TempDir,
    pub sim: SimHandle,
    pub lane: LaneHandle,
    pub events: UnboundedReceiver<Event>,
    pub task: tokio::task::JoinHandle<()>,
    /// What the terminal said of itself at init.
    pub device: Option<DeviceInfo>,
}

pub fn ledger_path(dir: &Path) -> PathBuf {
    dir.join("ledger.jsonl")
}

pub async fn start_sim(dir: &Path, faults: Faults, port: u16) -> SimHandle {
    Sim::start(SimConfig {
        bind: format!("127.0.0.1:{port}").parse().unwrap(),
        card_delay: Duration::from_millis(50),
        faults,
        ledger: Some(ledger_path(dir)),
        ping_every: Some(Duration::from_secs(60)),
        exponent: 2,
    })
    .await
    .expect("sim starts")
}

/// A lane for a screen test: its own data dir, the simulator (its ledger in that dir)
/// and the real binary on it in a pseudo-terminal, the link up.
pub async fn open_lane(
    faults: Faults,
    env: &[(&str, &str)],
) -> (tempfile::TempDir, SimHandle, pty::Screen) {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), faults, 0).await;
    let screen = pty::Screen::start(dir.path(), &sim.url(), env);
    screen.wait_for("UP").await;
    (dir, sim, screen)
}

/// Link settings fast enough for tests: quick heartbeats, quick dead-link detection.
pub fn fast_link(url: &str) -> LinkConfig {
    let mut link = LinkConfig::new(Endpoint::parse(url).unwrap(), "test-app");
    link.heartbeat_every = Duration::from_millis(200);
    // Quick enough to notice a silent terminal, slow enough that a test machine busy
    // with fsyncs does not take its own stall for a dead link.
    link.dead_after = Duration::from_secs(6);
    link.card_flow_timeout = Duration::from_secs(10);
    link.request_timeout = Duration::from_secs(5);
    link.backoff_min = Duration::from_millis(50);
    link.backoff_max = Duration::from_millis(400);
    link
}

pub fn fast_settings(url: &str) -> Settings {
    let mut s = Settings::new(fast_link(url), "T01");
    s.query_retry_min = Duration::from_millis(100);
    s.query_retry_max = Duration::from_millis(500);
    s
}

impl Rig {
    pub async fn new(faults: Faults) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let sim = start_sim(dir.path(), faults, 0).await;
        Rig::with(dir, sim, |_| {}).await
    }

    pub async fn with(dir: TempDir, sim: SimHandle, tweak: impl FnOnce(&mut Settings)) -> Rig {
        let mut settings = fast_settings(&sim.url());
        tweak(&mut settings);
        let journal = Journal::open(dir.path()).unwrap();
        let owner = LaneOwner::try_acquire(dir.path(), &settings.lane_id, "the test rig").unwrap();
        let (lane, events, task) = lane::spawn(settings, journal, owner);
        let mut rig = Rig {
            dir,
            sim,
            lane,
            events,
            task,
            device: None,
        };
        rig.wait_link_up().await;
        rig
    }

    pub async fn wait_for(&mut self, mut want: impl FnMut(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .expect("the awaited event came in time")
                .expect("the lane is running");
            if want(&event) {
                return event;
            }
        }
    }

    /// Up and identified: the terminal answered init, so a payment may go.
    pub async fn wait_link_up(&mut self) {
        let said = self
            .wait_for(|e| matches!(e, Event::Link(LinkNews::Device(_))))
            .await;
        if let Event::Link(LinkNews::Device(device)) = said {
            self.device = Some(device);
        }
    }

    /// Waits for the final row of an order.
    pub async fn done(&mut self, order_no: &str) -> TxnRow {
        match self
            .wait_for(|e| matches!(e, Event::Done { row, .. } if row.order_no == order_no))
            .await
        {
            Event::Done { row, .. } => *row,
            _ => unreachable!(),
        }
    }

    pub fn journal(&self) -> Journal {
        Journal::open(self.dir.path()).unwrap()
    }

    /// Journal and ledger agree: every approved money row moved exactly its money,
    /// every other row moved none. Returns the ledger's net per order.
    pub fn assert_books_agree(&self) {
        let ledger = read_ledger(&ledger_path(self.dir.path())).unwrap();
        let net = net_by_order(&ledger);
        let journal = self.journal();
        let mut rows = Vec::new();
        for b in journal.batches().unwrap() {
            rows.extend(journal.rows(BatchSel::Number(b.number)).unwrap());
        }
        for (order, moved) in &net {
            let row = rows.iter().find(|r| &r.order_no == order);
            let row =
                row.unwrap_or_else(|| panic!("money moved for {order} that the journal lacks"));
            assert_eq!(
                row.state,
                TxnState::Approved,
                "{order} moved {moved} but is {:?}",
                row.state
            );
        }
        for row in &rows {
            if row.state != TxnState::Approved {
                assert!(
                    !net.contains_key(&row.order_no),
                    "{} is {:?} but money moved",
                    row.order_no,
                    row.state
                );
            }
        }
        // Every approved payment is in the ledger: no charge lost.
        for row in rows.iter().filter(|r| r.state == TxnState::Approved) {
            if matches!(row.kind, till::journal::TxnKind::Trans(_)) {
                assert!(
                    net.contains_key(&row.order_no),
                    "{} approved but the terminal moved nothing",
                    row.order_no
                );
            }
        }
        // A charge appears in the ledger once per order: never doubled.
        let mut seen = std::collections::HashMap::new();
        for e in &ledger {
            if e.trans_type != "tip-adjust" {
                *seen.entry(&e.merchant_order_no).or_insert(0) += 1;
            }
        }
        assert!(
            seen.values().all(|n| *n == 1),
            "an order moved money twice: {seen:?}"
        );
    }

    pub async fn stop(self) -> SimHandle {
        self.lane.shutdown().await;
        let _ = tokio::time::timeout(WAIT, self.task)
            .await
            .expect("lane stops");
        self.sim
    }
}

/// A card number as till may show it: the first 6 and last 4 digits, stars between,
/// 13 to 19 characters in all, whatever the brand.
pub fn is_masked_card(card: &str) -> bool {
    let b = card.as_bytes();
    (13..=19).contains(&b.len())
        && b[..6].iter().all(u8::is_ascii_digit)
        && b[b.len() - 4..].iter().all(u8::is_ascii_digit)
        && b[6..b.len() - 4].iter().all(|&c| c == b'*')
}

/// Waits until a condition holds (bounded by `WAIT`), for things that settle on the
/// other side of a socket.
pub async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

/// The real binary, pointed at a data dir, a terminal and a config file of its own
/// (so nothing on the machine running the tests leaks in).
pub fn till(dir: &Path, url: &str, config: &str) -> tokio::process::Command {
    let config_path = dir.join("config.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_till"));
    cmd.env_clear()
        .envs(pty::kept_env())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("TILL_DATA_DIR", dir.join("data"))
        .env("TILL_CONFIG", &config_path)
        .env("TILL_URL", url)
        .env("TILL_APP_ID", "test-app")
        .env("TILL_LANE", "C01")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Short deadlines for command-line tests.
pub const QUICK: &str = "heartbeat_secs = 1\nconnect_timeout_secs = 3\nrequest_timeout_secs = 3\ncard_flow_timeout_secs = 10\n";

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

pub async fn run(mut cmd: tokio::process::Command, args: &[&str]) -> Run {
    let out = tokio::time::timeout(WAIT * 2, cmd.args(args).output())
        .await
        .expect("till finishes")
        .expect("till runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Starts `till sale <amount>` frozen at `point` (see `TILL_PAUSE_AT`), holding its lane,
/// and returns it with the order number it journaled.
pub async fn frozen_sale(
    dir: &Path,
    url: &str,
    point: &str,
    amount: &str,
) -> (tokio::process::Child, String) {
    frozen_sale_by(till(dir, url, QUICK), dir, point, amount).await
}

/// `frozen_sale` by a till set up by the caller (another lane, say).
pub async fn frozen_sale_by(
    mut cmd: tokio::process::Command,
    dir: &Path,
    point: &str,
    amount: &str,
) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    cmd.env("TILL_PAUSE_AT", point)
        .args(["sale", amount, "--json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let marker = format!("till: paused at {point}");
    let seen = tokio::time::timeout(WAIT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains(&marker) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(seen, "never reached {point}");
    let journal = Journal::open(&dir.join("data")).unwrap();
    let order = journal.unresolved().unwrap()[0].order_no.clone();
    (child, order)
}

/// One case of the shared reply vectors (`../shared/vectors/replies.jsonl`) by name.
pub fn vector(name: &str) -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/vectors/replies.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|case| case["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name} in {path}"))
}

/// Every file under `dir`, recursively, with its bytes (journal, its WAL, logs).
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}
