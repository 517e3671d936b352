//! The journal at a busy lane's year: 1,000,000 rows over 365 closed batches. Open,
//! history, search (order tail, last four, amount, auth code, date ranges) and reports.
//! `cargo bench --bench journal` (the generated file is made once per run in a temp
//! dir, about a minute; `JOURNAL_BENCH_ROWS` changes its size).

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use criterion::{Criterion, criterion_group};

use till::ecr::TransType;
use till::journal::generate::{Spec, generate};
use till::journal::{
    BatchSel, Integrity, Journal, NewTxn, OutcomeRecord, Search, Source, TerminalReply, TxnKind,
    TxnState,
};
use till::money::Money;
use till::money::format_minor;
use till::tui::model::Model;
use till::tui::reads::read_data;

#[path = "../tests/common/pty.rs"]
#[allow(dead_code)]
mod pty;

#[path = "common/hello.rs"]
mod hello;

/// Used by the shared pty helper.
const WAIT: Duration = Duration::from_secs(30);
const QUICK: &str = "";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("a fixed time")
        .with_timezone(&Utc)
}

fn day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// One sale journaled as pending and then approved: a payment's two writes.
fn write_sale(w: &mut Journal) {
    let order_no = format!("L01-BENCH-{:012}", fastrand::u64(..));
    w.begin(&NewTxn {
        order_no: order_no.clone(),
        request_id: order_no.clone(),
        kind: TxnKind::Trans(TransType::Sale),
        amount: Money::from_minor(1234, 2).expect("an amount"),
        tip: None,
        cashback: None,
        currency: "USD".into(),
        orig_order_no: None,
        lane: "L01".into(),
        scenario: None,
    })
    .expect("journaled");
    let rec = OutcomeRecord {
        state: TxnState::Approved,
        reply: TerminalReply {
            brand: Some("VISA".into()),
            ..TerminalReply::default()
        },
        ..OutcomeRecord::default()
    };
    w.record_outcome(&order_no, &rec, "bench")
        .expect("recorded");
}

/// A busy lane's quarter hour: a payment every 20 seconds.
const QUARTER_HOUR: u64 = 45;

/// `iters` sales written to `w` (whose file is `db`), timed, never more than
/// `QUARTER_HOUR` of them in the quarter hour a write tallies: each run of that many
/// is deleted, untimed, before the next, as the clock would have moved on. Without
/// that, every sample would pile into one quarter hour and a write would tally
/// thousands of rows, which no lane's quarter hour holds.
fn timed_writes(w: &mut Journal, db: &Path, iters: u64) -> Duration {
    let clear = rusqlite::Connection::open(db).expect("opens");
    let mut spent = Duration::ZERO;
    for i in 0..iters {
        if i % QUARTER_HOUR == 0 {
            // Order numbers' range, through their unique index.
            clear
                .execute_batch(
                    "DELETE FROM audit WHERE order_no >= 'L01-BENCH-' AND order_no < 'L01-BENCH.';
                     DELETE FROM txn WHERE order_no >= 'L01-BENCH-' AND order_no < 'L01-BENCH.';",
                )
                .expect("the last quarter hour's sales deleted");
        }
        let started = Instant::now();
        write_sale(w);
        spent += started.elapsed();
    }
    spent
}

/// `till ARGS` on the journal in `data`, from the release build beside this benchmark.
fn run_till(data: &Path, home: &Path, args: &[&str]) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_till"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("TILL_CONFIG", home.join("config.toml"))
        .env("TILL_DATA_DIR", data)
        .output()
        .expect("till runs");
    assert!(
        out.status.success(),
        "till {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What any report over the rows must at least read: every row, grouped.
const FLOOR_GROUP_BY: &str = "SELECT lane, kind, state, brand, count(*), sum(amount_minor),
    sum(tip_minor), sum(cashback_minor) FROM txn GROUP BY lane, kind, state, brand";

fn check_floor(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("opens");
    let ok: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .expect("quick_check");
    assert_eq!(ok, "ok");
    let mut stmt = conn.prepare(FLOOR_GROUP_BY).expect("prepares");
    let mut rows = stmt.query([]).expect("groups");
    while let Some(r) = rows.next().expect("a group") {
        std::hint::black_box(r.get::<_, i64>(4).expect("a count"));
    }
}

/// The peak resident memory of `cmd` as `/usr/bin/time` reports it (GNU time's %M).
fn peak_kb(cmd: &[String], data: &Path, home: &Path) -> String {
    let out = std::process::Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .args(cmd)
        .env("HOME", home)
        .env("TILL_CONFIG", home.join("config.toml"))
        .env("TILL_DATA_DIR", data)
        .output();
    match out {
        Ok(out) => String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .map_or_else(|| "?".into(), |kb| format!("{kb} kB")),
        Err(e) => format!("not measured (/usr/bin/time: {e})"),
    }
}

fn journal(c: &mut Criterion) {
    let rows: usize = std::env::var("JOURNAL_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let j = generate(
        dir.path(),
        &Spec {
            rows,
            batches: 365,
            start: at("2025-11-25T00:00:00Z"),
            end: at("2026-11-25T00:00:00Z"),
            lanes: 4,
            seed: 42,
        },
    )
    .expect("generated");
    drop(j);
    let size = std::fs::metadata(dir.path().join("till.db")).map_or(0, |m| m.len());
    eprintln!(
        "generated {rows} rows in {:.1} s, {} MB",
        started.elapsed().as_secs_f64(),
        size / 1_000_000
    );

    let mut g = c.benchmark_group("journal");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("open (clean shutdown: no check)", |b| {
        b.iter(|| Journal::open(dir.path()).expect("opens"))
    });
    g.bench_function("open with integrity check (till check)", |b| {
        b.iter(|| Journal::open_with(dir.path(), Integrity::Always).expect("opens"))
    });

    let j = Journal::open(dir.path()).expect("opens");
    let sample = j
        .search(&Search {
            state: Some(TxnState::Approved),
            before: Some(rows as i64 / 2),
            limit: 50,
            exponent: 2,
            ..Search::default()
        })
        .expect("a page");
    let row = sample
        .rows
        .iter()
        .find(|r| r.kind.is_sale())
        .expect("a sale")
        .clone();
    let tail = row.order_no.rsplit('-').next().unwrap_or("1").to_string();
    let card = row.reply.card.clone().unwrap_or_default();
    let last4 = card[card.len().saturating_sub(4)..].to_string();
    let amount = format_minor(row.amount.minor(), 2);
    let auth = row.reply.auth_code.clone().unwrap_or_default();
    let q = |text: &str| Search {
        text: text.to_string(),
        limit: 50,
        exponent: 2,
        ..Search::default()
    };
    let cases = [
        ("history: newest page, every batch", q("")),
        ("search: order tail", q(&tail)),
        ("search: last four (or tail or auth)", q(&last4)),
        ("search: amount", q(&amount)),
        ("search: auth code", q(&auth)),
        (
            "search: one day",
            Search {
                from: day("2026-05-20"),
                to: day("2026-05-20"),
                ..q("")
            },
        ),
        (
            "search: a month, refunds",
            Search {
                from: day("2026-05-01"),
                to: day("2026-05-31"),
                kind: till::journal::TxnKind::from_name("refund"),
                ..q("")
            },
        ),
        (
            "search: amount in a month",
            q(&format!("{amount} 2026-05-01..2026-05-31")),
        ),
        (
            "search: declined, deep page",
            Search {
                state: Some(TxnState::Declined),
                before: Some(rows as i64 / 10),
                ..q("")
            },
        ),
    ];
    for (name, query) in &cases {
        let found = j.search(query).expect("searches").rows.len();
        g.bench_function(format!("{name} ({found} rows)"), |b| {
            b.iter(|| j.search(query).expect("searches"))
        });
    }
    g.bench_function("history: one closed batch", |b| {
        b.iter(|| j.rows(BatchSel::Number(200)).expect("rows"))
    });
    g.bench_function("aftermath of a page of 50", |b| {
        let page: Vec<String> = sample.rows.iter().map(|r| r.order_no.clone()).collect();
        b.iter(|| j.aftermath(&page).expect("aftermath"))
    });
    g.bench_function("report: one closed batch", |b| {
        b.iter(|| j.report(BatchSel::Number(200)).expect("report"))
    });
    for (name, from, to) in [
        ("report: one day", "2026-05-20", "2026-05-20"),
        ("report: one week", "2026-05-18", "2026-05-24"),
        ("report: one month", "2026-05-01", "2026-05-31"),
        ("report: the whole year", "2025-11-25", "2026-11-24"),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| j.report_range(day(from), day(to), 0).expect("report"))
        });
    }
    g.bench_function("report: one month in India (+5:30)", |b| {
        b.iter(|| {
            j.report_range(day("2026-05-01"), day("2026-05-31"), 19_800)
                .expect("report")
        })
    });
    // What the kept totals save: the same year, its rows tallied (as `till check` does).
    g.bench_function("report: the whole year, from its rows", |b| {
        b.iter(|| {
            j.report_range_from(day("2025-11-25"), day("2026-11-24"), 0, Source::Rows)
                .expect("report")
        })
    });
    // What keeping them costs each payment: journaled, then its outcome recorded.
    let mut w = Journal::open(dir.path()).expect("opens");
    let db = dir.path().join("till.db");
    g.bench_function("write: a sale journaled and approved", |b| {
        b.iter_custom(|iters| timed_writes(&mut w, &db, iters))
    });
    drop(w);
    // What the screen reads before its first frame, on a fresh journal and on this one.
    let fresh = tempfile::tempdir().expect("temp dir");
    drop(
        generate(
            fresh.path(),
            &Spec {
                rows: 10,
                batches: 1,
                start: at("2026-11-24T09:00:00Z"),
                end: at("2026-11-24T17:00:00Z"),
                lanes: 1,
                seed: 1,
            },
        )
        .expect("generated"),
    );
    let model = Model::new("L01", "USD", 2, "127.0.0.1:35779", false);
    // The same write on the fresh journal, with the totals kept and without (the
    // triggers that mark them dropped): the cost of keeping them apart from the rest.
    let kept = tempfile::tempdir().expect("temp dir");
    let mut w = Journal::open(kept.path()).expect("opens");
    let db = kept.path().join("till.db");
    g.bench_function("write: a sale, fresh journal", |b| {
        b.iter_custom(|iters| timed_writes(&mut w, &db, iters))
    });
    let bare = tempfile::tempdir().expect("temp dir");
    let mut w = Journal::open(bare.path()).expect("opens");
    let db = bare.path().join("till.db");
    rusqlite::Connection::open(&db)
        .and_then(|c| {
            c.execute_batch(
                "DROP TRIGGER tally_txn_insert; DROP TRIGGER tally_txn_update; DROP TRIGGER tally_txn_delete;",
            )
        })
        .expect("triggers dropped");
    g.bench_function("write: a sale, fresh journal, no totals kept", |b| {
        b.iter_custom(|iters| timed_writes(&mut w, &db, iters))
    });
    drop(w);
    for (name, path) in [
        ("screen start: open and first read, 10 rows", fresh.path()),
        (
            "screen start: open and first read, this journal",
            dir.path(),
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| read_data(&Journal::open(path).expect("opens"), &model))
        });
    }
    // The real binary, exec to exit, as a cashier or a script runs it: the commands
    // that read the journal, on the fresh one and on this one.
    let home = tempfile::tempdir().expect("temp dir");
    std::fs::write(home.path().join("config.toml"), "").expect("config written");
    for (name, args) in [
        ("history", &["history", "--json"][..]),
        ("history --search", &["history", "--search", "42", "--json"]),
        ("report", &["report", "--json"]),
        (
            "report over a year",
            &[
                "report",
                "--from",
                "2025-11-25",
                "--to",
                "2026-11-24",
                "--json",
            ],
        ),
    ] {
        for (size, data) in [("10 rows", fresh.path()), ("this journal", dir.path())] {
            g.bench_function(format!("till {name}: {size}"), |b| {
                b.iter(|| run_till(data, home.path(), args))
            });
        }
    }
    // `till check` (integrity check, then every total against the rows, a row at a
    // time) beside its floor: SQLite's quick_check and one streaming GROUP BY over
    // the rows, in this process.
    let db = dir.path().join("till.db");
    g.bench_function("till check: this journal", |b| {
        b.iter(|| run_till(dir.path(), home.path(), &["check", "--json"]))
    });
    g.bench_function("floor: quick_check + GROUP BY over the rows", |b| {
        b.iter(|| check_floor(&db))
    });
    g.finish();
    start_up(fresh.path(), dir.path());
    for (name, cmd) in [
        (
            "till check",
            vec![
                env!("CARGO_BIN_EXE_till").to_string(),
                "check".into(),
                "--json".into(),
            ],
        ),
        (
            "sqlite3: quick_check + GROUP BY",
            vec![
                "sqlite3".into(),
                db.to_string_lossy().into_owned(),
                format!("PRAGMA quick_check; {FLOOR_GROUP_BY}"),
            ],
        ),
    ] {
        eprintln!(
            "peak resident memory, {name}: {}",
            peak_kb(&cmd, dir.path(), home.path())
        );
    }

    // Once, not sampled: the first open after an upgrade from a journal without totals
    // returns at once and every quarter hour of the year is tallied behind it.
    rusqlite::Connection::open(dir.path().join("till.db"))
        .and_then(|c| {
            c.execute_batch(
                "DELETE FROM tally_slot; DELETE FROM tally_day; DELETE FROM tally_row;
                 INSERT OR IGNORE INTO tally_dirty_row (id) SELECT id FROM txn;",
            )
        })
        .expect("totals forgotten");
    let started = Instant::now();
    let mut j = Journal::open(dir.path()).expect("opens");
    let opened = started.elapsed();
    j.tally_totals().expect("tallied");
    eprintln!(
        "first open after an upgrade: open {:.1} ms, every total tallied (behind it) in {:.1} s",
        opened.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64()
    );
}

/// `till --demo` on `data` in a pseudo-terminal.
fn demo(home: &Path, data: &Path) -> pty::Screen {
    // `--demo` runs its own terminal: the URL is never dialled.
    let mut cmd = pty::command(env!("CARGO_BIN_EXE_till"), home, "ws://127.0.0.1:9");
    cmd.env("TILL_DATA_DIR", data);
    cmd.arg("--demo");
    pty::Screen::spawn(cmd)
}

/// A data dir whose `demo/` is `journal`: `--demo` keeps its journal there.
fn demo_data(journal: &Path) -> tempfile::TempDir {
    let data = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::symlink(journal, data.path().join("demo")).expect("demo/ linked");
    data
}

/// Exec to the first complete frame of the screen on `big` and on `fresh`, beside a
/// ratatui hello-world, interleaved: 10 runs each.
fn start_up(fresh: &Path, big: &Path) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let home = tempfile::tempdir().expect("temp dir");
    std::fs::write(home.path().join("config.toml"), "").expect("config written");
    let (fresh, big) = (demo_data(fresh), demo_data(big));
    let (fresh, big) = (fresh.path(), big.path());
    let first_frame = |c: &str| c.contains("F2 Sale") && c.contains("Enter charge");
    let mut took: [Vec<Duration>; 3] = Default::default();
    runtime.block_on(async {
        for _ in 0..10 {
            let (t, mut s) = hello::time_to_frame(hello::spawn, |c| c.contains(hello::SAYS)).await;
            took[0].push(t);
            s.keys("q");
            let _ = s.exit_code().await;
            for (i, data) in [(1, fresh), (2, big)] {
                let (t, mut s) =
                    hello::time_to_frame(|| demo(home.path(), data), first_frame).await;
                took[i].push(t);
                // Quit as a cashier does: a journal left open is checked whole next time.
                s.keys("\x03");
                let _ = s.exit_code().await;
            }
        }
    });
    let p50 = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e3
    };
    let [hello, fresh, big] = took.each_mut().map(p50);
    eprintln!(
        "start to first frame (`till --demo`, exec, p50 of 10): this journal {big:.1} ms ({:.2}x the hello-world), 10 rows {fresh:.1} ms ({:.2}x), ratatui hello-world {hello:.1} ms",
        big / hello,
        fresh / hello
    );
}

criterion_group!(benches, journal);

fn main() {
    hello::run_if_asked();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
