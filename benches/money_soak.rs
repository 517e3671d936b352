//! The money model as a soak: many more random sequences than `cargo test` runs, several
//! at once (each case waits on sockets far more than it computes). Prints cases, steps,
//! time and failures; a failure prints its shrunk sequence and exits 1.
//!
//! `cargo bench --bench money_soak -- CASES [THREADS]` (default 20000 cases, 4 threads;
//! 16 cases under `cargo test --benches`).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/model/mod.rs"]
mod model;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use proptest::test_runner::{Config, TestError, TestRunner};

static STEPS: AtomicUsize = AtomicUsize::new(0);
static CASES: AtomicUsize = AtomicUsize::new(0);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    // `cargo bench` passes --bench; `cargo test --benches` (CI) does not: a few cases
    // show the soak still runs.
    let benching = args.iter().any(|a| a == "--bench");
    let cases = numbers
        .first()
        .copied()
        .unwrap_or(if benching { 20_000 } else { 16 })
        .max(1);
    let args = numbers;
    let threads = args.get(1).copied().unwrap_or(4).max(1);
    let started = Instant::now();
    // A line a minute: a long soak stopped early still says how far it got.
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(60));
            println!(
                "money soak: {} of {cases} cases, {} steps, {:.0} s, no failure so far",
                CASES.load(Ordering::Relaxed),
                STEPS.load(Ordering::Relaxed),
                started.elapsed().as_secs_f64()
            );
        }
    });
    let runs: Vec<_> = (0..threads)
        .map(|t| {
            let share = cases / threads + usize::from(t < cases % threads);
            std::thread::spawn(move || soak(share))
        })
        .collect();
    let mut failed = 0;
    for run in runs {
        if let Err(why) = run
            .join()
            .unwrap_or_else(|_| Err("a soak thread died".into()))
        {
            eprintln!("{why}");
            failed += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let steps = STEPS.load(Ordering::Relaxed);
    println!(
        "money soak: {cases} cases, {steps} steps, {threads} threads, {secs:.0} s ({:.1} cases/s), {failed} failed",
        cases as f64 / secs
    );
    if failed > 0 {
        std::process::exit(1);
    }
}

fn soak(cases: usize) -> Result<(), String> {
    if cases == 0 {
        return Ok(());
    }
    let mut runner = TestRunner::new(Config {
        cases: u32::try_from(cases).unwrap_or(u32::MAX),
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&model::ops(), |ops| {
            model::run_case(&ops);
            STEPS.fetch_add(ops.len(), Ordering::Relaxed);
            CASES.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })
        .map_err(|e| match e {
            TestError::Fail(why, ops) => format!("money not conserved: {why}\nminimal: {ops:#?}"),
            TestError::Abort(why) => format!("soak aborted: {why}"),
        })
}
