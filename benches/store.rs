//! The store: how fast a busy lane copies a year of its journal into PostgreSQL, and a
//! report across 10 lanes' years. Starts its own PostgreSQL server as the tests do (the
//! distribution's programs). `cargo bench --bench store`; `STORE_BENCH_ROWS` (the lane's
//! rows) and `STORE_BENCH_LANES` change the size.
//!
//! One lane is generated and copied for real. A report reads only the totals the lanes
//! copy (never their rows), so the other lanes are that lane's totals copied inside the
//! store under their own journal and lane names: 10 lanes' worth of totals, without 10
//! generated years on disk.
//!
//! The copy's floor, measured after it in the same run: psql's `\copy` of the same rows
//! and audit lines (as the store then holds them, exported to files first) into tables
//! like the store's, with the same indexes.

// The tests' server; the bench uses only part of it.
#[allow(dead_code)]
#[path = "../tests/common/pg.rs"]
mod pg;

use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};

use till::journal::generate::{Spec, generate};
use till::store::{Store, StoreUrl, sync};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("a fixed time")
        .with_timezone(&Utc)
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let lanes = env("STORE_BENCH_LANES", 10);
    let rows = env("STORE_BENCH_ROWS", 1_000_000);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let pg = pg::Pg::start();
    let url = StoreUrl::parse(&pg.url()).expect("url");
    let store = runtime.block_on(Store::open(&url)).expect("store");
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let mut journal = generate(
        dir.path(),
        &Spec {
            rows,
            batches: 365,
            start: at("2025-11-25T00:00:00Z"),
            end: at("2026-11-25T00:00:00Z"),
            lanes: 1,
            seed: 1,
        },
    )
    .expect("generated");
    eprintln!(
        "generated {rows} rows in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Rows and audit lines first, then the quarter hours' totals, each timed: the
    // quarter hours set aside while the rows go, so the rows' rate is theirs alone.
    journal.enable_outbox().expect("outbox");
    let side = rusqlite::Connection::open(journal.path()).expect("side connection");
    side.execute_batch(
        "CREATE TABLE set_aside AS SELECT * FROM tally_outbox; DELETE FROM tally_outbox;",
    )
    .expect("totals set aside");
    let started = Instant::now();
    let synced = runtime
        .block_on(sync(&store, &mut journal, "L01"))
        .expect("synced");
    let took = started.elapsed().as_secs_f64();
    side.execute_batch("INSERT INTO tally_outbox SELECT * FROM set_aside; DROP TABLE set_aside;")
        .expect("totals back");
    let started = Instant::now();
    let totals = runtime
        .block_on(sync(&store, &mut journal, "L01"))
        .expect("synced");
    let totals_took = started.elapsed().as_secs_f64();
    let items = synced.rows + synced.audit;
    println!(
        "sync: {} rows and {} audit lines of a lane's year in {took:.1} s: {:.0} a second; then its {} quarter hours' totals in {totals_took:.1} s",
        synced.rows,
        synced.audit,
        items as f64 / took,
        totals.totals,
    );
    let floor = copy_floor(&pg);
    println!(
        "floor: psql \\copy of the same {items} rows and audit lines into tables like the store's in {floor:.1} s: {:.0} a second; the sync is {:.2}x its rate (load average {})",
        items as f64 / floor,
        floor / took,
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    let identity = journal.identity().to_string();
    runtime.block_on(async {
        let client = pg.client().await;
        for n in 2..=lanes {
            let (journal, lane) = (format!("REPLICA{n:02}"), format!("L{n:02}"));
            for table in ["tally_slot", "tally_day"] {
                let columns = if table == "tally_slot" {
                    "slot, batch"
                } else {
                    "day, batch"
                };
                client
                    .execute(
                        &format!(
                            "INSERT INTO {table} (journal, {columns}, dim, name, count, sum_minor)
                             SELECT $1, {columns}, dim,
                                CASE WHEN dim = 'lane' THEN $2 ELSE name END, count, sum_minor
                             FROM {table} WHERE journal = $3"
                        ),
                        &[&journal, &lane, &identity],
                    )
                    .await
                    .expect("replicated");
            }
        }
        // As autovacuum leaves a store that has settled (one statement each: VACUUM
        // takes no transaction).
        for table in ["tally_slot", "tally_day"] {
            client
                .batch_execute(&format!("VACUUM ANALYZE {table}"))
                .await
                .expect("vacuumed");
        }
    });
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    for (name, from, to, offset) in [
        ("one day", "2026-05-20", "2026-05-20", 0),
        ("one month", "2026-05-01", "2026-05-31", 0),
        (
            "one month in India (+5:30)",
            "2026-05-01",
            "2026-05-31",
            19_800,
        ),
        ("the whole year", "2025-11-25", "2026-11-24", 0),
    ] {
        let mut times = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            let r = runtime
                .block_on(store.report(day(from), day(to), offset))
                .expect("report");
            times.push((started.elapsed(), r.rows));
        }
        times.sort();
        let (median, rows) = times[2];
        println!(
            "report, {name}, {lanes} lanes ({rows} rows): {:.1} ms",
            median.as_secs_f64() * 1000.0
        );
    }
}

/// Seconds psql's `\copy` takes to load the store's rows and audit lines again into
/// tables with the same columns and indexes.
fn copy_floor(pg: &pg::Pg) -> f64 {
    for table in ["txn", "audit"] {
        pg.psql(&format!("\\copy {table} TO '{table}.copy'"));
        pg.psql(&format!(
            "CREATE TABLE {table}_floor (LIKE {table} INCLUDING ALL)"
        ));
    }
    let started = Instant::now();
    for table in ["txn", "audit"] {
        pg.psql(&format!("\\copy {table}_floor FROM '{table}.copy'"));
    }
    let took = started.elapsed().as_secs_f64();
    for table in ["txn", "audit"] {
        let _ = std::fs::remove_file(pg.path().join(format!("{table}.copy")));
    }
    took
}
