//! The store: how fast a busy lane copies a year of its journal into PostgreSQL, and a
//! report across 10 lanes' years. Starts its own PostgreSQL server as the tests do (the
//! distribution's programs). `cargo bench --bench store`; `STORE_BENCH_ROWS` (the lane's
//! rows) and `STORE_BENCH_LANES` change the size.
//!
//! One lane is generated and copied for real. A report reads only the totals the lanes
//! copy (never their rows), so the other lanes are that lane's totals copied inside the
//! store under their own journal and lane names: 10 lanes' worth of totals, without 10
//! generated years on disk.

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
    let started = Instant::now();
    let synced = runtime
        .block_on(sync(&store, &mut journal, "L01"))
        .expect("synced");
    let took = started.elapsed().as_secs_f64();
    let items = synced.rows + synced.audit;
    println!(
        "sync: {} rows, {} audit lines and {} quarter hours' totals of a lane's year in {took:.1} s: {:.0} rows and audit lines a second",
        synced.rows,
        synced.audit,
        synced.totals,
        items as f64 / took
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
