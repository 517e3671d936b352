//! The figures of BENCHMARKS.md, each a ratio or a bound measured in one run so a noisy
//! shared machine cannot fake a result: `cargo bench --bench figures`.
//! Set `FIGURES_IDLE_SECS` to shorten the idle measurement (default 30), and
//! `FIGURES_QUICK=1` to run every figure at a twentieth of its count (CI does, so a
//! change that breaks a figure fails there; its numbers mean little).

#[path = "../tests/common/pty.rs"]
#[allow(dead_code)]
mod pty;

#[path = "common/hello.rs"]
mod hello;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use till::ecr::PayScenario;
use till::journal::{Journal, NewTxn, OutcomeRecord, TerminalReply, TxnKind, TxnState};
use till::lane::{self, Event, LinkNews, PayRequest, SaleOptions, Settings};
use till::link::{Endpoint, LinkConfig};
use till::money::Money;
use till::sim::{Sim, SimConfig};

/// Used by the shared pty helper.
const WAIT: Duration = Duration::from_secs(30);
const QUICK: &str = "";

/// `n`, or a twentieth of it under `FIGURES_QUICK`.
fn count(n: usize) -> usize {
    if std::env::var_os("FIGURES_QUICK").is_some() {
        (n / 20).max(10)
    } else {
        n
    }
}

struct Stats {
    p50: Duration,
    p99: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let at = |q: usize| v[(v.len() - 1) * q / 100];
    Stats {
        p50: at(50),
        p99: at(99),
    }
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn row(name: &str, s: &Stats) {
    println!("| {name} | {} | {} |", us(s.p50), us(s.p99));
}

/// One figure's line: `s` beside its floor at p50 and p99.
fn versus(what: &str, s: &Stats, floor: &Stats) {
    println!(
        "{what}: p50 **{:.2}x** ({} vs {}), p99 **{:.2}x** ({} vs {})\n",
        s.p50.as_secs_f64() / floor.p50.as_secs_f64(),
        us(s.p50),
        us(floor.p50),
        s.p99.as_secs_f64() / floor.p99.as_secs_f64(),
        us(s.p99),
        us(floor.p99)
    );
}

fn heartbeat(id: usize) -> String {
    format!(r#"{{"topic":"ecrhub.heartbeat","app_id":"bench","request_id":"hb-{id}"}}"#)
}

fn sale_frame(order: &str) -> String {
    format!(
        r#"{{"topic":"ecrhub.pay.order","app_id":"bench","request_id":"{order}","biz_data":{{"trans_type":"1","merchant_order_no":"{order}","order_amount":"1.00"}}}}"#
    )
}

/// The best possible: a bare tokio-tungstenite client sending a frame and awaiting
/// the reply, nothing else.
struct Bare(
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
);

impl Bare {
    async fn connect(url: &str) -> Bare {
        Bare(
            tokio_tungstenite::connect_async(url)
                .await
                .expect("bare client connects")
                .0,
        )
    }

    async fn round_trip(&mut self, frame: String) -> Duration {
        let t = Instant::now();
        self.0.send(Message::text(frame)).await.expect("send");
        loop {
            match self.0.next().await {
                Some(Ok(Message::Text(_))) => return t.elapsed(),
                Some(Ok(_)) => continue,
                other => panic!("bare client lost the link: {other:?}"),
            }
        }
    }
}

/// The floor of a journal write: one row into a table of its own with its order
/// number's unique index, committed with the journal's durability (WAL, synchronous
/// FULL) on the same disk.
struct BareDb(rusqlite::Connection);

impl BareDb {
    fn open(dir: &std::path::Path) -> BareDb {
        let conn = rusqlite::Connection::open(dir.join("bare.db")).expect("bare db");
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .expect("wal");
        conn.execute_batch(
            "PRAGMA synchronous=FULL;
             CREATE TABLE t (id INTEGER PRIMARY KEY, order_no TEXT NOT NULL UNIQUE, amount INTEGER NOT NULL, at TEXT NOT NULL);",
        )
        .expect("bare table");
        BareDb(conn)
    }

    /// Commits row `i`; how long it took.
    fn commit(&self, i: usize) -> Duration {
        let t = Instant::now();
        self.0.execute_batch("BEGIN IMMEDIATE").expect("begin");
        self.0
            .prepare_cached("INSERT INTO t (order_no, amount, at) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| {
                s.execute(rusqlite::params![
                    format!("B-{i:06}"),
                    100,
                    till::journal::now()
                ])
            })
            .expect("insert");
        self.0.execute_batch("COMMIT").expect("commit");
        t.elapsed()
    }
}

async fn link_and_journal(runtime: &str, with_journal: bool) {
    const ROUNDS: usize = 10;
    let (heartbeats, sales) = (count(2000), count(200));
    let sim = Sim::start(SimConfig {
        ping_every: None,
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let url = sim.url();

    let dir = tempfile::tempdir().expect("tempdir");
    let mut link = LinkConfig::new(Endpoint::parse(&url).expect("url"), "bench");
    // No timer heartbeats interleaving with the measured ones.
    link.heartbeat_every = Duration::from_secs(3600);
    link.dead_after = Duration::from_secs(7200);
    let settings = Settings::new(link, "B01");
    let owner = lane::LaneOwner::try_acquire(dir.path(), "B01", "bench").expect("lane");
    let (lane, mut events, task) =
        lane::spawn(settings, Journal::open(dir.path()).expect("journal"), owner);
    loop {
        if let Some(Event::Link(LinkNews::Connected)) = events.recv().await {
            break;
        }
    }
    // Interleaved in rounds, so drift on a shared machine hits both sides alike.
    let mut bare = Bare::connect(&url).await;
    let bare_db = BareDb::open(dir.path());
    let (mut bare_hb, mut till_hb, mut bare_sale, mut till_sale) = (vec![], vec![], vec![], vec![]);
    let mut durable_sale = vec![];
    for round in 0..ROUNDS {
        for i in 0..heartbeats / ROUNDS {
            bare_hb.push(bare.round_trip(heartbeat(round * 10_000 + i)).await);
            let t = Instant::now();
            lane.heartbeat().await.expect("heartbeat");
            till_hb.push(t.elapsed());
        }
        for i in 0..sales / ROUNDS {
            let n = round * 10_000 + i;
            bare_sale.push(bare.round_trip(sale_frame(&format!("BARE-{n:06}"))).await);
            // What any client that journals a sale before sending it pays at least.
            let journaled = bare_db.commit(n);
            durable_sale.push(
                journaled
                    + bare
                        .round_trip(sale_frame(&format!("DURABLE-{n:06}")))
                        .await,
            );
            let req = PayRequest::Sale {
                amount: Money::from_minor(100 + n as i64, 2).expect("amount"),
                tip: None,
                cashback: None,
                scenario: PayScenario::Card,
                force: true,
                options: SaleOptions::default(),
            };
            let t = Instant::now();
            let order = lane.pay(req).await.expect("sale accepted");
            loop {
                match events.recv().await {
                    Some(Event::Done { row, .. }) if row.order_no == order => break,
                    Some(_) => continue,
                    None => panic!("lane stopped"),
                }
            }
            till_sale.push(t.elapsed());
        }
    }
    lane.shutdown().await;
    let _ = task.await;
    sim.shutdown().await;

    let (bh, th, bs, ts, ds) = (
        stats(bare_hb),
        stats(till_hb),
        stats(bare_sale),
        stats(till_sale),
        stats(durable_sale),
    );
    println!(
        "## 1. Link overhead, {runtime} runtime ({heartbeats} heartbeats, {sales} sales, card-flow delay 0)\n"
    );
    println!("| round trip | p50 | p99 |\n|---|---|---|");
    row("bare tokio-tungstenite client: heartbeat", &bh);
    row("till lane actor: heartbeat", &th);
    row("bare client: sale frame", &bs);
    row("bare client: one durable commit, then the sale frame", &ds);
    row("till lane actor: sale (journal + link)", &ts);
    println!(
        "\nheartbeat p50 ratio till/bare: **{:.2}**\n",
        th.p50.as_secs_f64() / bh.p50.as_secs_f64()
    );

    versus("full sale through the lane vs bare sale frame", &ts, &bs);
    versus(
        "full sale through the lane vs one durable commit and the bare sale frame",
        &ts,
        &ds,
    );
    if with_journal {
        journal_writes(count(1000));
    }
}

/// Figure 2: the journal's two writes of a sale (the write-ahead row, then its approval)
/// beside a bare rusqlite commit of one row with the same durability (WAL, synchronous
/// FULL) on the same disk, interleaved; all `writes` rows in one quarter hour, so the
/// first tenth and the last tenth say whether a write grows with its quarter hour.
fn journal_writes(writes: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = Journal::open(dir.path()).expect("journal");
    let bare = BareDb::open(dir.path());
    let (mut begins, mut outcomes, mut bares) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..writes {
        let order = format!("J-{i:06}");
        let txn = NewTxn {
            order_no: order.clone(),
            request_id: order.clone(),
            kind: TxnKind::Trans(till::ecr::TransType::Sale),
            amount: Money::from_minor(100, 2).expect("amount"),
            tip: None,
            cashback: None,
            currency: "USD".into(),
            orig_order_no: None,
            lane: "B01".into(),
            scenario: None,
        };
        bares.push(bare.commit(2 * i));
        let t = Instant::now();
        journal.begin(&txn).expect("begin");
        begins.push(t.elapsed());
        let rec = OutcomeRecord {
            state: TxnState::Approved,
            reply: TerminalReply {
                brand: Some("VISA".into()),
                ..TerminalReply::default()
            },
            ..OutcomeRecord::default()
        };
        bares.push(bare.commit(2 * i + 1));
        let t = Instant::now();
        journal
            .record_outcome(&order, &rec, "bench")
            .expect("outcome");
        outcomes.push(t.elapsed());
    }
    let tenth = (writes / 10).max(1);
    let first = |v: &[Duration], n: usize| stats(v[..n].to_vec());
    let last = |v: &[Duration], n: usize| stats(v[v.len() - n..].to_vec());
    println!("## 2. Journal writes ({writes} sales in one quarter hour, WAL, synchronous FULL)\n");
    println!("| write | rows | p50 | p99 | p50 / bare |\n|---|---|---|---|---|");
    for (name, v, n) in [
        ("bare rusqlite commit of one row", &bares, 2 * tenth),
        ("write-ahead row (begin)", &begins, tenth),
        ("approval (record_outcome)", &outcomes, tenth),
    ] {
        for (part, s, b) in [
            ("first", first(v, n), first(&bares, 2 * tenth)),
            ("last", last(v, n), last(&bares, 2 * tenth)),
        ] {
            println!(
                "| {name} | {part} {n} | {} | {} | {:.2}x |",
                us(s.p50),
                us(s.p99),
                s.p50.as_secs_f64() / b.p50.as_secs_f64()
            );
        }
    }
    println!();
}

/// Waits until output has been quiet for `quiet`; returns the bytes seen since `from`.
async fn settle(screen: &pty::Screen, from: usize, quiet: Duration) -> usize {
    let mut last = screen.raw.lock().expect("raw").len();
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = screen.raw.lock().expect("raw").len();
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return now - from;
        }
    }
}

fn demo(dir: &std::path::Path) -> pty::Screen {
    let mut cmd = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_till"));
    cmd.env_clear();
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", dir);
    cmd.env("TILL_DATA_DIR", dir.join("data"));
    cmd.env("TILL_CONFIG", dir.join("none.toml"));
    cmd.arg("--demo");
    std::fs::write(dir.join("none.toml"), "").expect("config");
    pty::Screen::spawn(cmd)
}

fn proc_field(pid: u32, file: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))
        .map(|l| l[key.len()..].trim().to_string())
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

/// Whether till's first complete frame is on screen.
fn first_frame(c: &str) -> bool {
    c.contains("F2 Sale") && c.contains("Enter charge")
}

async fn terminal_figures() {
    // 5. Start-up: exec to the first complete frame, beside a ratatui hello-world's,
    // interleaved.
    let (mut starts, mut hellos) = (Vec::new(), Vec::new());
    let mut peak_kb = 0u64;
    for _ in 0..count(200).max(20) / 10 {
        let (took, mut screen) =
            hello::time_to_frame(hello::spawn, |c| c.contains(hello::SAYS)).await;
        hellos.push(took);
        screen.keys("q");
        let _ = screen.exit_code().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let (took, screen) = hello::time_to_frame(|| demo(dir.path()), first_frame).await;
        starts.push(took);
        if let Some(pid) = screen.child.process_id() {
            let hwm = proc_field(pid, "status", "VmHWM:").unwrap_or_default();
            peak_kb = peak_kb.max(hwm.trim_end_matches(" kB").trim().parse().unwrap_or(0));
        }
    }
    let (s, h) = (stats(starts), stats(hellos));

    // 3. Bytes per keystroke and 4. idle cost, on one running demo.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut screen = demo(dir.path());
    screen.wait_for("UP").await;
    let start = screen.raw.lock().expect("raw").len();
    let base = start + settle(&screen, start, Duration::from_millis(500)).await;
    screen.keys("1");
    let digit = settle(&screen, base, Duration::from_millis(300)).await;
    let base = base + digit;
    screen.keys("\x1b[19~"); // F8
    let switch = settle(&screen, base, Duration::from_millis(300)).await;
    let base = base + switch;
    screen.keys("\x1bOQ"); // back to F2
    let back = settle(&screen, base, Duration::from_millis(300)).await;
    // The next burst without input is the status bar's heartbeat tick.
    let base = base + back;
    let tick_deadline = Instant::now() + Duration::from_secs(12);
    while screen.raw.lock().expect("raw").len() == base && Instant::now() < tick_deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let tick = settle(&screen, base, Duration::from_millis(300)).await;

    let idle_secs: u64 = std::env::var("FIGURES_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let pid = screen.child.process_id().expect("pid");
    let ticks_per_sec: u64 = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100);
    let before_bytes = screen.raw.lock().expect("raw").len();
    let t0 = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let used = cpu_ticks(pid) - t0;
    let idle_bytes = screen.raw.lock().expect("raw").len() - before_bytes;
    let percent = used as f64 * 100.0 / (ticks_per_sec * idle_secs) as f64;
    let hwm = proc_field(pid, "status", "VmHWM:").unwrap_or_default();
    // Leaving the Sale screen cleared the amount typed: Ctrl-C quits without asking.
    screen.keys("\x03");
    let _ = screen.exit_code().await;

    println!("## 3. Bytes written to an 80x24 terminal (`till --demo`, xterm-256color)\n");
    println!("| event | bytes |\n|---|---|");
    println!("| one amount digit | {digit} |");
    println!("| screen switch (Sale to Journal) | {switch} |");
    println!("| screen switch back (Journal to Sale) | {back} |");
    println!("| heartbeat tick on the status bar | {tick} |\n");
    println!("## 4. Idle cost\n");
    println!(
        "`till --demo` idle for {idle_secs} s: {used} clock ticks of CPU = **{percent:.2}% of one core**; {idle_bytes} bytes written to the terminal.\n"
    );
    println!(
        "## 5. Start-up (`till --demo` on a fresh data dir, exec to first complete frame, beside a ratatui hello-world, interleaved)\n"
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "till p50 **{:.1} ms**, p99 {:.1} ms; hello-world p50 {:.1} ms, p99 {:.1} ms: **{:.2}x** at p50; peak resident memory (VmHWM) {} kB at start, {hwm} after the idle run.\n",
        ms(s.p50),
        ms(s.p99),
        ms(h.p50),
        ms(h.p99),
        s.p50.as_secs_f64() / h.p50.as_secs_f64(),
        peak_kb
    );
}

fn main() {
    hello::run_if_asked();
    // cargo bench passes --bench; nothing here takes other arguments.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!("# till figures\n");
    println!(
        "machine: {} cores, {}\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(
                |c| c.lines().find(|l| l.starts_with("model name")).map(|l| l
                    .split(':')
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_string())
            )
            .unwrap_or_else(|| "unknown CPU".into())
    );
    runtime.block_on(link_and_journal("multi-thread (as the app runs)", true));
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    single.block_on(link_and_journal(
        "current-thread (no cross-thread hand-offs)",
        false,
    ));
    runtime.block_on(terminal_figures());
}
