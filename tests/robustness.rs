//! Robustness figures for BENCHMARKS.md, too slow for every CI run:
//! `cargo test --release --test robustness -- --ignored --nocapture`.

mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use till::ecr::{PayScenario, Reply, outcome, query_verdict};
use till::journal::TxnState;
use till::lane::{Event, PayRequest, SaleOptions};
use till::money::Money;
use till::sim::Faults;

/// The soaks count the process's open files, so they never run side by side.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// 1,000 sales with the simulator's fault switches cycling: drops, holds past the
/// deadline, malformed frames and replies for others, missing request ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn soak_1000_sales_with_faults_cycling() {
    let _alone = ONE_AT_A_TIME.lock().await;
    const SALES: usize = 1000;
    let fds_before = open_fds();
    let dir = tempfile::tempdir().unwrap();
    let sim = till::sim::Sim::start(till::sim::SimConfig {
        card_delay: Duration::ZERO,
        ledger: Some(ledger_path(dir.path())),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut rig = Rig::with(dir, sim, |s| {
        s.link.card_flow_timeout = Duration::from_millis(300);
    })
    .await;
    let faults = [
        Faults::default(),
        Faults {
            drop_after_order: true,
            ..Faults::default()
        },
        Faults {
            hold: Some(Duration::from_millis(500)),
            ..Faults::default()
        },
        Faults {
            noise_before_reply: true,
            ..Faults::default()
        },
        Faults {
            no_request_id: true,
            biz_data_as_string: true,
            ..Faults::default()
        },
    ];
    let (mut approved, mut recoveries) = (0, 0);
    let started = std::time::Instant::now();
    for i in 0..SALES {
        rig.sim.set_faults(faults[i % faults.len()].clone());
        let req = PayRequest::Sale {
            amount: Money::from_minor(100 + i as i64, 2).unwrap(),
            tip: None,
            cashback: None,
            scenario: PayScenario::Card,
            force: true,
            options: SaleOptions::default(),
        };
        let mut tries = 0;
        let order = loop {
            match rig.lane.pay(req.clone()).await {
                Ok(order) => break order,
                // Between a drop and the reconnect the lane says so; try again shortly.
                Err(e) if tries < 1000 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("sale {i} refused for 20 s: {e}"),
            }
        };
        let mut recovered = false;
        let row = loop {
            match rig.wait_for(|_| true).await {
                Event::Progress { order_no, .. } if order_no == order => recovered = true,
                Event::Done { row, .. } if row.order_no == order => break *row,
                _ => {}
            }
        };
        recoveries += usize::from(recovered);
        approved += usize::from(row.state == TxnState::Approved);
        rig.sim.set_faults(Faults::default());
    }
    rig.assert_books_agree();
    let sim = rig.stop().await;
    let stats = sim.stats();
    sim.shutdown().await;
    let fds_after = open_fds();
    println!(
        "soak: {SALES} sales in {:.1} s, {approved} approved, {recoveries} resolved by query, \
         {} connections opened, at most {} at once, open fds before {fds_before} after {fds_after}",
        started.elapsed().as_secs_f64(),
        stats.connections_total,
        stats.max_concurrent
    );
    assert_eq!(
        approved, SALES,
        "every sale was approved by the terminal in the end"
    );
    assert!(
        recoveries >= SALES / 5 * 2,
        "drops and holds went through recovery: {recoveries}"
    );
    assert_eq!(stats.max_concurrent, 1);
    assert_eq!(fds_after, fds_before, "no leaked sockets or files");
}

/// Random frames into the decoder and the outcome rules; random cashier input into
/// the amount and address parsers. Counts what was tried; any panic fails.
#[test]
#[ignore]
fn fuzz_decoder_and_cashier_input() {
    const CASES: u32 = 200_000;
    let mut runner = TestRunner::default();
    let frame = prop_oneof![
        "\\PC{0,300}",
        "\\{\"topic\":\"ecrhub\\.pay\\.(order|query)\",\"response_code\":[0-9\"]{0,5},\"biz_data\":\\PC{0,80}\\}",
        "\\{\"biz_data\":\"\\{\\\\\"trans_status\\\\\":[0-9]{0,3}\\}\",\"success\":(true|\"1\"|0)\\}",
    ];
    let mut frames = 0u64;
    for _ in 0..CASES {
        let text = frame.new_tree(&mut runner).unwrap().current();
        let _ = till::mask::mask_frame(&text);
        if let Ok(reply) = Reply::decode(&text) {
            let _ = (outcome(&reply), query_verdict(&reply), reply.biz.amount(2));
        }
        frames += 1;
    }
    let input = "\\PC{0,40}";
    let mut inputs = 0u64;
    for _ in 0..CASES {
        let text = input.new_tree(&mut runner).unwrap().current();
        for exponent in [0, 2, 3] {
            let _ = Money::parse(&text, exponent);
        }
        let _ = till::link::Endpoint::parse(&text);
        inputs += 1;
    }
    println!("fuzz: {frames} frames and {inputs} cashier inputs (x3 exponents), no panic");
}

/// The same soak through the real command-line binary: 1,000 `till sale` runs, each a
/// fresh process, the fault switches cycling. The simulator's side is checked for
/// leaked connections; the books must agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn soak_1000_cli_sales_with_faults_cycling() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let sales: usize = std::env::var("SOAK_SALES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let sim = till::sim::Sim::start(till::sim::SimConfig {
        card_delay: Duration::ZERO,
        ledger: Some(ledger_path(dir.path())),
        ..Default::default()
    })
    .await
    .unwrap();
    let url = sim.url();
    let config = "heartbeat_secs = 1\nconnect_timeout_secs = 5\nrequest_timeout_secs = 2\ncard_flow_timeout_secs = 1\n";
    let started = std::time::Instant::now();
    let (mut approved, mut recoveries, mut exit3) = (0, 0, 0);
    for i in 0..sales {
        let faults = match i % 25 {
            4 => Faults {
                hold: Some(Duration::from_millis(1500)),
                ..Faults::default()
            },
            n if n % 5 == 1 => Faults {
                drop_after_order: true,
                ..Faults::default()
            },
            n if n % 5 == 2 => Faults {
                noise_before_reply: true,
                ..Faults::default()
            },
            n if n % 5 == 3 => Faults {
                no_request_id: true,
                biz_data_as_string: true,
                ..Faults::default()
            },
            _ => Faults::default(),
        };
        sim.set_faults(faults);
        let amount = format!("{}.{:02}", 1 + i / 100, i % 100);
        let out = run(
            till(dir.path(), &url, config),
            &["sale", &amount, "--force", "--json"],
        )
        .await;
        recoveries += usize::from(out.stderr.contains("outcome unknown"));
        match out.code {
            0 => approved += 1,
            3 => {
                // Left unresolved: the next run resolves it first, as a register would.
                exit3 += 1;
                sim.set_faults(Faults::default());
                let rec = run(till(dir.path(), &url, config), &["recover"]).await;
                assert_eq!(rec.code, 0, "{}", rec.stderr);
            }
            other => panic!("sale {i} exited {other}: {}", out.stderr),
        }
    }
    sim.set_faults(Faults::default());
    let history = run(till(dir.path(), &url, config), &["history", "--json"]).await;
    let rows = history.json()["rows"].clone();
    let approved_rows = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "approved")
        .count();
    let ledger = till::sim::read_ledger(&ledger_path(dir.path())).unwrap();
    let net = till::sim::net_by_order(&ledger);
    for r in rows.as_array().unwrap() {
        let order = r["merchant_order_no"].as_str().unwrap();
        assert_eq!(
            net.contains_key(order),
            r["outcome"] == "approved",
            "{order}: {r}"
        );
    }
    assert_eq!(ledger.len(), net.len(), "no order charged twice");
    assert!(
        eventually(|| sim.stats().connections_open == 0).await,
        "every connection closed"
    );
    let stats = sim.stats();
    println!(
        "cli soak: {sales} runs in {:.1} s, {approved} approved at once, {exit3} left unknown then recovered, \
         {recoveries} went through recovery, {approved_rows} approved in the journal, ledger entries {}, \
         connections {} (at most {} at once, {} open at the end)",
        started.elapsed().as_secs_f64(),
        ledger.len(),
        stats.connections_total,
        stats.max_concurrent,
        stats.connections_open
    );
    assert_eq!(approved_rows, sales);
    sim.shutdown().await;
}
