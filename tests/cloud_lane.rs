//! The lane through the cloud: the same write-ahead row, the same unknown -> query
//! recovery and the same refusal while unresolved, against the simulated gateway over
//! loopback HTTP (and the LAN simulator for the lane's own link).

mod common;

use common::cloud::*;
use common::pty::keys::F3;
use common::{Rig, start_sim};
use till::cloud::system_clock;
use till::journal::{TxnState, Via};
use till::lane::{Event, PayRequest, Refusal, Route, SaleOptions};
use till::money::Money;
use till::sim::Faults;
use till::sim::cloud::{CloudFaults, CloudSim};

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, 2).unwrap()
}

async fn rig(faults: CloudFaults) -> (Rig, CloudSim) {
    let gateway = start_gateway_at(faults, system_clock()).await;
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = gateway.url();
    let rig = Rig::with(dir, sim, |s| s.cloud = Some(settings(&url))).await;
    (rig, gateway)
}

fn refund(orig: &str, minor: i64) -> PayRequest {
    PayRequest::Refund {
        amount: usd(minor),
        orig: Some(orig.into()),
        options: SaleOptions::default(),
    }
}

fn cloud_sale(minor: i64) -> PayRequest {
    PayRequest::Sale {
        amount: usd(minor),
        tip: None,
        cashback: None,
        scenario: till::ecr::PayScenario::Card,
        force: false,
        options: SaleOptions::default(),
    }
}

fn void(orig: &str) -> PayRequest {
    PayRequest::Void {
        orig: orig.into(),
        options: SaleOptions::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_of_another_terminals_order_goes_through_the_cloud() {
    let (mut rig, gateway) = rig(CloudFaults::default()).await;
    gateway.paid_elsewhere("X9-ELSEWHERE-1", "10.00", "SN-OTHER");
    // Over the LAN the journal must know the original.
    let lan = rig.lane.pay(refund("X9-ELSEWHERE-1", 300)).await;
    assert!(matches!(lan, Err(Refusal::Invalid(ref e)) if e.contains("not in the journal")));
    let order = rig
        .lane
        .pay_routed(refund("X9-ELSEWHERE-1", 300), Route::Cloud, false)
        .await
        .unwrap();
    let row = rig.done(&order).await;
    assert_eq!(row.state, TxnState::Approved);
    assert_eq!(row.via, Via::Cloud);
    assert_eq!(row.terminal_sn.as_deref(), Some("SN-LANE"));
    assert_eq!(row.reply.card.as_deref(), Some("476173******0010"));
    let raw = row.reply.raw.unwrap_or_default();
    assert!(!raw.contains("4761739001010010"), "{raw}");
    // What the original captured was asked first.
    assert_eq!(
        gateway.methods_asked(),
        ["order.query", "order.refund.submit"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_pushed_through_the_cloud_is_settled_by_query() {
    let (mut rig, gateway) = rig(CloudFaults::default()).await;
    let order = rig
        .lane
        .pay_routed(cloud_sale(1234), Route::Cloud, false)
        .await
        .unwrap();
    let row = rig.done(&order).await;
    assert_eq!(
        row.state,
        TxnState::Approved,
        "{:?}",
        row.reply.response_msg
    );
    let asked = gateway.methods_asked();
    assert_eq!(asked[0], "wisehub.cloud.pay.order");
    assert!(asked[1..].iter().all(|m| m == "order.query"), "{asked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_resolved_by_a_signed_query() {
    let (mut rig, gateway) = rig(CloudFaults {
        timeout: true,
        ..CloudFaults::default()
    })
    .await;
    gateway.paid_elsewhere("X9-ELSEWHERE-2", "7.00", "SN-OTHER");
    let order = rig
        .lane
        .pay_routed(void("X9-ELSEWHERE-2"), Route::Cloud, false)
        .await
        .unwrap();
    rig.wait_for(|e| matches!(e, Event::Progress { order_no, .. } if *order_no == order))
        .await;
    let row = rig.done(&order).await;
    assert_eq!(row.state, TxnState::Approved);
    assert!(gateway.methods_asked().contains(&"order.query".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_answer_is_never_booked_approved() {
    let (mut rig, gateway) = rig(CloudFaults::default()).await;
    let sale = rig
        .lane
        .pay_routed(cloud_sale(1500), Route::Cloud, false)
        .await
        .unwrap();
    assert_eq!(rig.done(&sale).await.state, TxnState::Approved);
    gateway.set_faults(CloudFaults {
        bad_signature: true,
        also_queries: true,
        ..CloudFaults::default()
    });
    let order = rig
        .lane
        .pay_routed(refund(&sale, 500), Route::Cloud, false)
        .await
        .unwrap();
    // Several tampered query answers later, still unknown: and nothing new may start.
    let asked = gateway.methods_asked().len();
    common::eventually(|| gateway.methods_asked().len() >= asked + 3).await;
    let row = rig.journal().find(&order).unwrap().unwrap();
    assert_eq!(row.state, TxnState::Unknown);
    let next = rig
        .lane
        .pay_routed(refund(&sale, 100), Route::Cloud, false)
        .await;
    assert!(matches!(next, Err(Refusal::Unresolved { .. })), "{next:?}");
    // A gateway that signs again settles it.
    gateway.set_faults(CloudFaults::default());
    let row = rig.done(&order).await;
    assert_eq!(row.state, TxnState::Approved);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_goes_via_cloud() {
    let gateway = start_gateway_at(CloudFaults::default(), system_clock()).await;
    let dir = tempfile::tempdir().unwrap();
    gateway.paid_elsewhere("X9-ELSEWHERE-9", "20.00", "SN-OTHER");
    let config = format!("{}{}", common::QUICK, cloud_table(&gateway.url()));
    // No terminal on the LAN at all: the cloud needs none with a configured serial.
    let till = |args: &[&str]| {
        let cmd = common::till(dir.path(), "127.0.0.1:9", &config);
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            common::run(cmd, &args).await
        }
    };
    // Doctor: the LAN terminal is not there, and the cloud is checked all the same.
    let doctor = till(&["doctor", "--json"]).await;
    let steps = doctor.json()["steps"].clone();
    let step = |name: &str| {
        steps
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} step: {steps}"))
    };
    assert_eq!(step("cloud keys")["ok"], true, "{steps}");
    assert_eq!(step("cloud query")["ok"], true, "{steps}");
    assert_eq!(step("cloud clock")["ok"], true, "{steps}");
    assert!(!doctor.stdout.contains("PRIVATE KEY"), "{}", doctor.stdout);

    let refund = till(&[
        "refund",
        "3.00",
        "--orig",
        "X9-ELSEWHERE-9",
        "--via",
        "cloud",
        "--json",
    ])
    .await;
    assert_eq!(refund.code, 0, "{}\n{}", refund.stdout, refund.stderr);
    let order = refund.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();
    let query = till(&["query", &order, "--via", "cloud", "--json"]).await;
    assert_eq!(query.code, 0, "{}\n{}", query.stdout, query.stderr);
    let batch = till(&["batch-close", "--via", "cloud", "--all-terminals", "--json"]).await;
    assert_eq!(batch.code, 0, "{}\n{}", batch.stdout, batch.stderr);
    let usage = till(&["batch-close", "--all-terminals"]).await;
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    assert_eq!(
        gateway.methods_asked(),
        // Doctor's probe first, then the original the refund names.
        [
            "order.query",
            "order.query",
            "order.refund.submit",
            "order.query",
            "batch.close"
        ]
    );
    // No card number nor key material in anything till wrote.
    let key = std::fs::read_to_string(fixture("app_private_pkcs1.pem")).unwrap();
    let key_line = key.lines().nth(1).unwrap();
    for (path, bytes) in common::files_under(dir.path()) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("4761739001010010"), "{}", path.display());
        assert!(
            !text.contains(key_line) || path.ends_with("config.toml"),
            "{}",
            path.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refund_screen_takes_another_terminals_payment_through_the_cloud() {
    let gateway = start_gateway_at(CloudFaults::default(), system_clock()).await;
    let dir = tempfile::tempdir().unwrap();
    gateway.paid_elsewhere("X9-ELSEWHERE-7", "9.00", "SN-OTHER");
    let sim = common::start_sim(dir.path(), till::sim::Faults::default(), 0).await;
    let config = format!("{}{}", common::QUICK, cloud_table(&gateway.url()));
    let mut s = common::pty::Screen::start_with(dir.path(), &sim.url(), &config, &[]);
    s.wait_for("UP").await;
    s.keys(F3);
    s.wait_for("payments to refund").await;
    s.keys("\x14"); // Ctrl-T
    s.wait_for("VIA CLOUD").await;
    s.keys("X9-ELSEWHERE-7\r");
    s.wait_for("refunded through the cloud").await;
    s.keys("250\r");
    s.wait_for("Refund 2.50 USD of order X9-ELSEWHERE-7").await;
    s.keys("y");
    s.wait_for("APPROVED").await;
    s.keys(" \x03");
    assert_eq!(s.exit_code().await, 0);
    assert_eq!(
        gateway.methods_asked(),
        ["order.query", "order.refund.submit"]
    );
    let journal = till::journal::Journal::open(&dir.path().join("data")).unwrap();
    let row = journal
        .rows(till::journal::BatchSel::Open("L01"))
        .unwrap()
        .into_iter()
        .find(|r| r.orig_order_no.as_deref() == Some("X9-ELSEWHERE-7"))
        .expect("the refund is journaled");
    assert_eq!(row.via, till::journal::Via::Cloud);
    assert_eq!(row.state, till::journal::TxnState::Approved);
    sim.shutdown().await;
}

/// Issue 19, case 9: a cloud follow-up of an order this journal does not hold is judged
/// against what the gateway says the original captured, before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloud_follow_up_of_an_order_the_journal_lacks_asks_the_gateway_first() {
    let (mut rig, gateway) = rig(CloudFaults::default()).await;
    gateway.paid_elsewhere("X9-OTHER-1", "10.00", "SN-OTHER");
    gateway.paid_elsewhere("X9-OTHER-2", "4.00", "SN-OTHER");
    let refused = |r: Result<String, Refusal>, words: &str| match r {
        Err(Refusal::Invalid(why)) => assert!(why.contains(words), "{why}"),
        other => panic!("expected a refusal saying '{words}', got {other:?}"),
    };

    // More than the original captured: refused, and nothing but the query went out.
    let over = rig
        .lane
        .pay_routed(refund("X9-OTHER-1", 1200), Route::Cloud, false)
        .await;
    refused(over, "at most 10.00");
    assert_eq!(gateway.methods_asked(), ["order.query"]);

    // What is left shrinks with each refund this journal took from it.
    let first = rig
        .lane
        .pay_routed(refund("X9-OTHER-1", 600), Route::Cloud, false)
        .await
        .unwrap();
    assert_eq!(rig.done(&first).await.state, TxnState::Approved);
    let again = rig
        .lane
        .pay_routed(refund("X9-OTHER-1", 500), Route::Cloud, false)
        .await;
    refused(again, "at most 4.00");
    let rest = rig
        .lane
        .pay_routed(refund("X9-OTHER-1", 400), Route::Cloud, false)
        .await
        .unwrap();
    assert_eq!(rig.done(&rest).await.state, TxnState::Approved);

    // An order the gateway never saw moves nothing.
    let unknown = rig
        .lane
        .pay_routed(refund("X9-NOBODY", 100), Route::Cloud, false)
        .await;
    refused(unknown, "knows of no money moved");

    // A void gives back the whole original, once.
    let voided = rig
        .lane
        .pay_routed(void("X9-OTHER-2"), Route::Cloud, false)
        .await
        .unwrap();
    let row = rig.done(&voided).await;
    assert_eq!(row.state, TxnState::Approved);
    assert_eq!(row.amount, usd(400));
    let twice = rig
        .lane
        .pay_routed(void("X9-OTHER-2"), Route::Cloud, false)
        .await;
    refused(twice, "already has a void");

    let sent: Vec<String> = gateway
        .methods_asked()
        .into_iter()
        .filter(|m| m != "order.query")
        .collect();
    assert_eq!(
        sent,
        [
            "order.refund.submit",
            "order.refund.submit",
            "order.revoker"
        ]
    );
}

/// The gateway answers for originals this till never saw at all; while it is
/// unreachable, no follow-up of one goes out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cloud_follow_up_of_an_unknown_original_goes_out_while_the_gateway_cannot_say() {
    let (rig, gateway) = rig(CloudFaults {
        server_error: true,
        also_queries: true,
        ..CloudFaults::default()
    })
    .await;
    gateway.paid_elsewhere("X9-OTHER-3", "10.00", "SN-OTHER");
    let r = rig
        .lane
        .pay_routed(refund("X9-OTHER-3", 100), Route::Cloud, false)
        .await;
    assert!(
        matches!(&r, Err(Refusal::Invalid(why)) if why.contains("could not say")),
        "{r:?}"
    );
    assert_eq!(gateway.methods_asked(), ["order.query"]);
    assert!(
        rig.journal()
            .rows(till::journal::BatchSel::Open("L01"))
            .unwrap()
            .is_empty()
    );
}
