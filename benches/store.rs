//! The store: how fast lanes copy their journals into PostgreSQL, and a report across
//! them. Starts its own PostgreSQL server as the tests do (the distribution's programs).
//! `cargo bench --bench store --features fixtures`; `STORE_BENCH_LANES` and
//! `STORE_BENCH_ROWS` (per lane) change the size.

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
    let rows = env("STORE_BENCH_ROWS", 100_000);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let pg = pg::Pg::start();
    let url = StoreUrl::parse(&pg.url()).expect("url");
    let store = runtime.block_on(Store::open(&url)).expect("store");
    let dirs: Vec<tempfile::TempDir> = (0..lanes)
        .map(|_| tempfile::tempdir().expect("temp dir"))
        .collect();
    let mut copied = 0;
    let mut copying = std::time::Duration::ZERO;
    for (i, dir) in dirs.iter().enumerate() {
        let mut journal = generate(
            dir.path(),
            &Spec {
                rows,
                batches: 30,
                start: at("2025-11-25T00:00:00Z"),
                end: at("2026-11-25T00:00:00Z"),
                lanes: 1,
                seed: i as u64 + 1,
            },
        )
        .expect("generated");
        let started = Instant::now();
        let synced = runtime
            .block_on(sync(&store, &mut journal, &format!("L{:02}", i + 1)))
            .expect("synced");
        copying += started.elapsed();
        copied += synced.rows + synced.audit;
        eprintln!(
            "lane {}: {} rows and {} audit lines in {:.1} s",
            i + 1,
            synced.rows,
            synced.audit,
            started.elapsed().as_secs_f64()
        );
    }
    println!(
        "sync: {copied} rows and audit lines from {lanes} lanes in {:.1} s: {:.0} a second",
        copying.as_secs_f64(),
        copied as f64 / copying.as_secs_f64()
    );
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    for (name, from, to) in [
        ("one day", "2026-05-20", "2026-05-20"),
        ("one month", "2026-05-01", "2026-05-31"),
        ("the whole year", "2025-11-25", "2026-11-24"),
    ] {
        let mut times = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            let r = runtime
                .block_on(store.report(day(from), day(to), 0))
                .expect("report");
            times.push((started.elapsed(), r.rows));
        }
        times.sort();
        let (median, rows) = times[1];
        println!(
            "report, {name}, {lanes} lanes ({rows} rows): {:.0} ms",
            median.as_secs_f64() * 1000.0
        );
    }
}
