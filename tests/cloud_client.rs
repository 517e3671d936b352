//! The cloud client against the simulated gateway over loopback HTTP: every method,
//! and every fault judged unknown (never approved). Client and gateway share a fixed
//! clock, so nothing here depends on the wall clock.

mod common;

use common::cloud::*;
use till::cloud::{CloudClient, Terminal};
use till::ecr::{Answer, Operation, Order, Outcome, PayScenario, QueryVerdict, query_verdict};
use till::money::Money;
use till::sim::cloud::CloudFaults;

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, 2).unwrap()
}

async fn ask(client: &CloudClient, op: Operation, terminal: Terminal) -> Answer {
    let prepared = client.prepare(&op, &terminal).expect("prepared");
    client.send(prepared, "r-1".into()).await
}

fn lane() -> Terminal {
    Terminal::One("SN-LANE".into())
}

fn query(order_no: &str) -> Operation {
    Operation::Query {
        order_no: order_no.into(),
    }
}

#[tokio::test]
async fn every_method_against_the_gateway() {
    let gateway = start_gateway(CloudFaults::default()).await;
    let client = CloudClient::new(settings(&gateway.url()), fixed_clock(NOW_MS)).unwrap();

    // A sale pushed to the terminal is created (9), paying (0), then completed (2).
    let sale = Operation::Order(Order::sale("C1-S-1", usd(1234), PayScenario::Card));
    let answer = ask(&client, sale, lane()).await;
    assert_eq!(answer.outcome, Outcome::Unknown, "{}", answer.why);
    let first = ask(&client, query("C1-S-1"), lane()).await;
    assert!(matches!(
        query_verdict(first.reply.as_ref().unwrap()),
        QueryVerdict::Undetermined(_)
    ));
    let second = ask(&client, query("C1-S-1"), lane()).await;
    let reply = second.reply.as_ref().unwrap();
    assert_eq!(query_verdict(reply), QueryVerdict::Moved);
    assert_eq!(reply.biz.card_no.as_deref(), Some("476173******0010"));
    assert!(!second.raw.as_deref().unwrap().contains("4761739001010010"));

    // A pushed sale closed before it was paid is cancelled.
    let other = Operation::Order(Order::sale("C1-S-2", usd(500), PayScenario::Card));
    ask(&client, other, lane()).await;
    let close = ask(
        &client,
        Operation::Close {
            order_no: "C1-S-2".into(),
        },
        lane(),
    )
    .await;
    assert_eq!(close.outcome, Outcome::Approved, "{}", close.why);
    assert_eq!(gateway.status_of("C1-S-2").as_deref(), Some("3"));

    // Referenced refund and void of an order paid on another terminal, a tip, and every
    // terminal's batch; a refund of an order the fleet never paid is refused.
    gateway.paid_elsewhere("X9-OTHER-1", "10.00", "SN-OTHER");
    gateway.paid_elsewhere("X9-OTHER-2", "4.00", "SN-OTHER");
    let stray = Operation::Order(Order::refund("C1-R-0", usd(300), Some("X9-NOBODY".into())));
    assert_eq!(ask(&client, stray, lane()).await.outcome, Outcome::Declined);
    let refund = Operation::Order(Order::refund("C1-R-1", usd(300), Some("X9-OTHER-1".into())));
    assert_eq!(
        ask(&client, refund, lane()).await.outcome,
        Outcome::Approved
    );
    let void = Operation::Order(Order::void("C1-V-1", "X9-OTHER-2"));
    assert_eq!(ask(&client, void, lane()).await.outcome, Outcome::Approved);
    let tip = Operation::TipAdjust {
        orig_order_no: "C1-S-1".into(),
        tip: usd(200),
    };
    assert_eq!(ask(&client, tip, lane()).await.outcome, Outcome::Approved);
    let batch = ask(&client, Operation::BatchClose, Terminal::All).await;
    assert_eq!(batch.outcome, Outcome::Approved, "{}", batch.why);

    // An order the gateway never saw: no money moved.
    let unknown = ask(&client, query("C1-NEVER"), lane()).await;
    assert_eq!(
        query_verdict(unknown.reply.as_ref().unwrap()),
        QueryVerdict::NotMoved
    );

    assert_eq!(
        gateway.methods_asked(),
        [
            "wisehub.cloud.pay.order",
            "order.query",
            "order.query",
            "wisehub.cloud.pay.order",
            "wisehub.cloud.pay.close",
            "order.refund.submit",
            "order.refund.submit",
            "order.revoker",
            "tip.adjustment",
            "batch.close",
            "order.query"
        ]
    );
}

#[tokio::test]
async fn faults_are_unknown_never_approved() {
    let gateway = start_gateway(CloudFaults::default()).await;
    let client = CloudClient::new(settings(&gateway.url()), fixed_clock(NOW_MS)).unwrap();
    let faults = [
        CloudFaults {
            unsigned: true,
            ..CloudFaults::default()
        },
        CloudFaults {
            bad_signature: true,
            ..CloudFaults::default()
        },
        CloudFaults {
            server_error: true,
            ..CloudFaults::default()
        },
        CloudFaults {
            timeout: true,
            ..CloudFaults::default()
        },
        CloudFaults {
            in_progress: true,
            ..CloudFaults::default()
        },
    ];
    gateway.paid_elsewhere("X9-1", "100.00", "SN-OTHER");
    for (i, fault) in faults.into_iter().enumerate() {
        gateway.set_faults(fault.clone());
        let order_no = format!("C1-F-{i}");
        let refund = Operation::Order(Order::refund(&order_no, usd(100), Some("X9-1".into())));
        let answer = ask(&client, refund, lane()).await;
        assert_eq!(
            answer.outcome,
            Outcome::Unknown,
            "{fault:?}: {}",
            answer.why
        );
        assert!(answer.reply.is_none() || fault.in_progress, "{fault:?}");
        // The gateway carried it out; a signed query says so.
        gateway.set_faults(CloudFaults::default());
        let mut verdict = QueryVerdict::Undetermined(String::new());
        for _ in 0..3 {
            let answer = ask(&client, query(&order_no), lane()).await;
            verdict = query_verdict(answer.reply.as_ref().unwrap());
            if verdict == QueryVerdict::Moved {
                break;
            }
        }
        assert_eq!(verdict, QueryVerdict::Moved, "{fault:?}");
    }
}

#[tokio::test]
async fn a_clock_off_by_more_than_fifteen_minutes_is_refused() {
    let gateway = start_gateway(CloudFaults::default()).await;
    let late = CloudClient::new(
        settings(&gateway.url()),
        fixed_clock(NOW_MS + 16 * 60 * 1000),
    )
    .unwrap();
    let answer = ask(&late, query("C1-ANY"), lane()).await;
    let reply = answer.reply.expect("a signed refusal");
    assert_eq!(reply.response_code.as_deref(), Some("40001"));
    // Within the window: answered.
    let near = CloudClient::new(
        settings(&gateway.url()),
        fixed_clock(NOW_MS - 14 * 60 * 1000),
    )
    .unwrap();
    let answer = ask(&near, query("C1-ANY"), lane()).await;
    assert_eq!(answer.reply.unwrap().response_code.as_deref(), Some("107"));
}

#[tokio::test]
async fn doctor_checks_the_keys_a_signed_query_and_the_clock() {
    let names = |steps: &[till::terminal_reach::Check]| {
        steps.iter().map(|s| (s.name, s.ok)).collect::<Vec<_>>()
    };
    let gateway = start_gateway(CloudFaults::default()).await;
    let client = CloudClient::new(settings(&gateway.url()), fixed_clock(NOW_MS)).unwrap();
    let steps = till::cloud::reach::steps(&client, "DOCTOR-1").await;
    assert_eq!(
        names(&steps),
        [
            ("cloud keys", true),
            ("cloud query", true),
            ("cloud clock", true)
        ],
        "{steps:?}"
    );
    assert!(steps[1].detail.contains("107"), "{}", steps[1].detail);

    // The register's clock 20 minutes behind the gateway's: said, with the fix.
    let behind =
        start_gateway_at(CloudFaults::default(), fixed_clock(NOW_MS + 20 * 60 * 1000)).await;
    let client = CloudClient::new(settings(&behind.url()), fixed_clock(NOW_MS)).unwrap();
    let steps = till::cloud::reach::steps(&client, "DOCTOR-2").await;
    let clock = &steps[2];
    assert!(!clock.ok && clock.detail.contains("-20.0 min"), "{clock:?}");
    assert_eq!(clock.fix.as_deref(), Some("set the register's clock (NTP)"));

    // The wrong key for the gateway: its answers cannot be trusted.
    let mut wrong = settings(&gateway.url());
    wrong.gateway_key =
        till::cloud::keys::load_public("app key", &fixture("app_public.pem")).unwrap();
    let client = CloudClient::new(wrong, fixed_clock(NOW_MS)).unwrap();
    let steps = till::cloud::reach::steps(&client, "DOCTOR-3").await;
    assert!(!steps[1].ok, "{:?}", steps[1]);
    assert!(
        steps[1]
            .fix
            .as_deref()
            .unwrap_or("")
            .contains("gateway_public_key")
    );

    // No gateway at all.
    let client = CloudClient::new(settings("http://127.0.0.1:9"), fixed_clock(NOW_MS)).unwrap();
    let steps = till::cloud::reach::steps(&client, "DOCTOR-4").await;
    assert!(
        !steps[1].ok && steps[1].fix.as_deref().unwrap_or("").contains("url"),
        "{:?}",
        steps[1]
    );
}
