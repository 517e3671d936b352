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
use till::lane::{Event, PayRequest};
use till::money::Money;
use till::sim::Faults;

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
