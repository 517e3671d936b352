//! The lane actor (link + journal) against the real simulator over loopback: every
//! topic, every fault switch, reconnection, and the money-safety rules.

mod common;

use std::time::Duration;

use common::*;
use till::ecr::Direction;
use till::ecr::{PayScenario, TransType};
use till::journal::{TxnKind, TxnState};
use till::lane::{Event, LinkNews, PayRequest, Refusal, SaleOptions};
use till::money::Money;
use till::sim::Faults;

fn m(minor: i64) -> Money {
    Money::from_minor(minor, 2).unwrap()
}

fn sale(minor: i64) -> PayRequest {
    PayRequest::Sale {
        amount: m(minor),
        tip: None,
        cashback: None,
        scenario: PayScenario::Card,
        force: true,
        options: SaleOptions::default(),
    }
}

async fn pay(rig: &mut Rig, req: PayRequest) -> till::journal::TxnRow {
    let order = rig.lane.pay(req).await.expect("accepted");
    rig.done(&order).await
}

#[tokio::test]
async fn every_topic_against_the_simulator() {
    let mut rig = Rig::new(Faults::default()).await;
    let device = rig.device.clone().expect("the terminal said who it is");
    assert_eq!(device.device_sn.as_deref(), Some("SIM0000000000001"));
    rig.wait_for(|e| matches!(e, Event::Link(LinkNews::RoundTrip(_))))
        .await;

    let s = pay(&mut rig, sale(1234)).await;
    assert_eq!(s.state, TxnState::Approved);
    // Whatever card the simulator picks, it is masked to first 6 / last 4.
    let card = s.reply.card.as_deref().unwrap_or_default();
    assert!(is_masked_card(card), "{card}");
    assert!(s.reply.brand.is_some() && s.reply.auth_code.is_some());

    let cb = pay(
        &mut rig,
        PayRequest::Sale {
            amount: m(1000),
            tip: Some(m(100)),
            cashback: Some(m(2000)),
            scenario: PayScenario::Card,
            force: true,
            options: SaleOptions::default(),
        },
    )
    .await;
    assert_eq!(
        (cb.kind, cb.state),
        (TxnKind::Trans(TransType::CashbackSale), TxnState::Approved)
    );

    let r = pay(
        &mut rig,
        PayRequest::Refund {
            amount: m(234),
            orig: Some(s.order_no.clone()),
            options: SaleOptions::default(),
        },
    )
    .await;
    assert_eq!(r.state, TxnState::Approved);
    let u = pay(
        &mut rig,
        PayRequest::Refund {
            amount: m(500),
            orig: None,
            options: SaleOptions::default(),
        },
    )
    .await;
    assert_eq!(u.state, TxnState::Approved);
    let t = pay(
        &mut rig,
        PayRequest::TipAdjust {
            orig: cb.order_no.clone(),
            tip: m(300),
        },
    )
    .await;
    assert_eq!(t.state, TxnState::Approved);
    // Partly refunded: a void would give back more than was charged.
    let refused = rig
        .lane
        .pay(PayRequest::Void {
            orig: s.order_no.clone(),
            options: SaleOptions::default(),
        })
        .await;
    assert!(
        matches!(&refused, Err(Refusal::Invalid(why)) if why.contains("can no longer be voided")),
        "{refused:?}"
    );
    let s2 = pay(&mut rig, sale(777)).await;
    let v = pay(
        &mut rig,
        PayRequest::Void {
            orig: s2.order_no.clone(),
            options: SaleOptions::default(),
        },
    )
    .await;
    assert_eq!(v.state, TxnState::Approved);

    let pa = pay(&mut rig, PayRequest::PreAuth { amount: m(5000) }).await;
    let follow = |t, amount| PayRequest::FollowUp {
        trans_type: t,
        orig: pa.order_no.clone(),
        amount,
    };
    let c = pay(&mut rig, follow(TransType::Completion, Some(m(4500)))).await;
    assert_eq!(c.state, TxnState::Approved);
    // A refund of a completion goes out as a completion refund, a void as a cancel.
    let cr = pay(
        &mut rig,
        PayRequest::Refund {
            amount: m(500),
            orig: Some(c.order_no.clone()),
            options: SaleOptions::default(),
        },
    )
    .await;
    assert_eq!(
        (cr.kind, cr.state),
        (
            TxnKind::Trans(TransType::CompletionRefund),
            TxnState::Approved
        )
    );
    let pa4 = pay(&mut rig, PayRequest::PreAuth { amount: m(600) }).await;
    let c4 = pay(
        &mut rig,
        PayRequest::FollowUp {
            trans_type: TransType::Completion,
            orig: pa4.order_no.clone(),
            amount: Some(m(600)),
        },
    )
    .await;
    let cc = pay(
        &mut rig,
        PayRequest::Void {
            orig: c4.order_no.clone(),
            options: SaleOptions::default(),
        },
    )
    .await;
    assert_eq!(
        (cc.kind, cc.state),
        (
            TxnKind::Trans(TransType::CompletionCancel),
            TxnState::Approved
        )
    );
    // A void of a pre-auth goes out as a pre-auth cancel, without the cashier knowing.
    let pa3 = pay(&mut rig, PayRequest::PreAuth { amount: m(900) }).await;
    let v3 = pay(
        &mut rig,
        PayRequest::Void {
            orig: pa3.order_no.clone(),
            options: SaleOptions::default(),
        },
    )
    .await;
    assert_eq!(
        (v3.kind, v3.state),
        (TxnKind::Trans(TransType::PreAuthCancel), TxnState::Approved)
    );
    let pa2 = pay(&mut rig, PayRequest::PreAuth { amount: m(800) }).await;
    let pc = pay(
        &mut rig,
        PayRequest::FollowUp {
            trans_type: TransType::PreAuthCancel,
            orig: pa2.order_no.clone(),
            amount: None,
        },
    )
    .await;
    assert_eq!(pc.state, TxnState::Approved);

    let q = rig.lane.query(s2.order_no.clone()).await.unwrap();
    let reply = q.answer.unwrap().reply.unwrap();
    assert_eq!(
        reply.biz.trans_status.as_deref(),
        Some("3"),
        "voided sale reads cancelled"
    );
    assert_eq!(q.row.unwrap().order_no, s2.order_no);

    let raw = rig
        .lane
        .raw(r#"{"topic":"ecrhub.heartbeat","request_id":"console-7"}"#.into())
        .await
        .unwrap();
    assert_eq!(raw.unwrap().request_id, "console-7");
    let refused = rig
        .lane
        .raw(r#"{"topic":"ecrhub.pay.order","request_id":"x"}"#.into())
        .await;
    assert!(
        matches!(refused, Err(Refusal::Invalid(_))),
        "money frames never bypass the journal"
    );

    let b = rig.lane.pay(PayRequest::BatchClose).await.unwrap();
    let closed = rig
        .wait_for(|e| matches!(e, Event::BatchClosed { .. }))
        .await;
    let Event::BatchClosed { report } = closed else {
        unreachable!()
    };
    assert!(report.per_kind.iter().any(|k| k.name == "sale"));
    assert_eq!(rig.done(&b).await.state, TxnState::Approved);
    assert_eq!(
        rig.journal()
            .rows(till::journal::BatchSel::Open("T01"))
            .unwrap()
            .len(),
        0
    );

    rig.assert_books_agree();
    let sim = rig.stop().await;
    assert_eq!(
        sim.stats().max_concurrent,
        1,
        "never two sockets to the terminal"
    );
    assert!(
        eventually(|| sim.stats().connections_open == 0).await,
        "every socket opened is closed"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn close_cancels_a_card_flow_and_the_decline_is_final() {
    let dir = tempfile::tempdir().unwrap();
    let sim = till::sim::Sim::start(till::sim::SimConfig {
        card_delay: Duration::from_secs(3),
        ledger: Some(ledger_path(dir.path())),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut rig = Rig::with(dir, sim, |_| {}).await;
    let order = rig.lane.pay(sale(700)).await.unwrap();
    let answer = rig.lane.close_order(order.clone()).await.unwrap();
    assert_eq!(
        answer.outcome,
        till::ecr::Outcome::Approved,
        "{}",
        answer.why
    );
    let row = rig.done(&order).await;
    assert_eq!(row.state, TxnState::Declined);
    // The terminal's cancel answer, or (when a loaded machine lost the link meanwhile)
    // a query saying the order was closed.
    assert!(
        row.reply.response_code.as_deref() == Some("110")
            || matches!(row.reply.trans_status.as_deref(), Some("1" | "3")),
        "{row:?}"
    );
    rig.assert_books_agree();
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn declines_are_final_and_never_queried() {
    let mut rig = Rig::new(Faults {
        decline_cents: Some(51),
        ..Faults::default()
    })
    .await;
    let row = pay(&mut rig, sale(1051)).await;
    assert_eq!(row.state, TxnState::Declined);
    assert_eq!(row.reply.response_code.as_deref(), Some("105"));
    // Give a (wrong) resolution loop time to show itself, then look at the wire.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut queried = false;
    while let Ok(e) = rig.events.try_recv() {
        if let Event::Link(LinkNews::Wire {
            dir: Direction::Out,
            text,
        }) = e
        {
            queried |= text.contains("ecrhub.pay.query");
        }
    }
    assert!(!queried, "a decline is final: no query");
    assert!(rig.journal().unresolved().unwrap().is_empty());
    rig.assert_books_agree();
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn wire_variants_still_reach_the_right_row() {
    for faults in [
        Faults {
            no_request_id: true,
            ..Faults::default()
        },
        Faults {
            noise_before_reply: true,
            ..Faults::default()
        },
        Faults {
            biz_data_as_string: true,
            ..Faults::default()
        },
        Faults {
            success_000: true,
            ..Faults::default()
        },
        Faults {
            noise_before_reply: true,
            no_request_id: true,
            biz_data_as_string: true,
            success_000: true,
            ..Faults::default()
        },
    ] {
        let mut rig = Rig::new(faults.clone()).await;
        let row = pay(&mut rig, sale(2500)).await;
        assert_eq!(row.state, TxnState::Approved, "{faults:?}");
        assert!(
            row.reply.card.as_deref().is_some_and(is_masked_card),
            "{faults:?}"
        );
        assert_eq!(rig.journal().find("SIM-DECOY-0001").unwrap(), None);
        rig.assert_books_agree();
        rig.stop().await.shutdown().await;
    }
}

#[tokio::test]
async fn a_dropped_link_mid_sale_is_resolved_by_query_without_resending() {
    let mut rig = Rig::new(Faults {
        drop_after_order: true,
        ..Faults::default()
    })
    .await;
    let order = rig.lane.pay(sale(4200)).await.unwrap();
    let progress = rig
        .wait_for(|e| matches!(e, Event::Progress { order_no, .. } if *order_no == order))
        .await;
    let Event::Progress { step, .. } = progress else {
        unreachable!()
    };
    assert!(matches!(step, till::lane::Step::Unknown { .. }), "{step}");
    // Only the order is faulty: queries after the reconnect go through.
    rig.sim.set_faults(Faults::default());
    let row = rig.done(&order).await;
    assert_eq!(row.state, TxnState::Approved);
    assert_eq!(
        rig.sim.stats().orders_received.get(&order),
        Some(&1),
        "exactly one pay.order frame"
    );
    let audit = rig.journal().audit(&order).unwrap();
    assert!(audit.iter().any(|a| a.to == "unknown"), "{audit:?}");
    assert!(
        audit.iter().any(|a| a.why.contains("resolved by query")),
        "{audit:?}"
    );
    rig.assert_books_agree();
    let sim = rig.stop().await;
    assert_eq!(sim.stats().max_concurrent, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn unresolved_rows_block_new_money_until_resolved_and_late_replies_count() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(
        dir.path(),
        Faults {
            hold: Some(Duration::from_secs(2)),
            ..Faults::default()
        },
        0,
    )
    .await;
    let mut rig = Rig::with(dir, sim, |s| {
        s.link.card_flow_timeout = Duration::from_millis(500)
    })
    .await;
    let order = rig.lane.pay(sale(990)).await.unwrap();
    rig.wait_for(|e| matches!(e, Event::Unresolved { orders, .. } if orders.contains(&order)))
        .await;
    let refused = rig.lane.pay(sale(100)).await;
    assert!(
        matches!(refused, Err(Refusal::Unresolved { .. })),
        "{refused:?}"
    );
    // The terminal finishes after the deadline: its answer (or the next query) resolves it.
    let row = rig.done(&order).await;
    assert_eq!(row.state, TxnState::Approved);
    rig.wait_for(|e| matches!(e, Event::Unresolved { orders, .. } if orders.is_empty()))
        .await;
    rig.sim.set_faults(Faults::default());
    let next = pay(&mut rig, sale(100)).await;
    assert_eq!(next.state, TxnState::Approved);
    rig.assert_books_agree();
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn duplicate_sales_ask_first_and_refunds_respect_what_is_left() {
    let mut rig = Rig::new(Faults::default()).await;
    let first = pay(&mut rig, sale(1500)).await;
    let again = rig
        .lane
        .pay(PayRequest::Sale {
            amount: m(1500),
            tip: None,
            cashback: None,
            scenario: PayScenario::Card,
            force: false,
            options: SaleOptions::default(),
        })
        .await;
    assert!(
        matches!(&again, Err(Refusal::PossibleDuplicate { order_no, .. }) if *order_no == first.order_no),
        "{again:?}"
    );
    let over = rig
        .lane
        .pay(PayRequest::Refund {
            amount: m(1600),
            orig: Some(first.order_no.clone()),
            options: SaleOptions::default(),
        })
        .await;
    assert!(
        matches!(over, Err(Refusal::Invalid(ref e)) if e.contains("at most 15.00")),
        "{over:?}"
    );
    let missing = rig
        .lane
        .pay(PayRequest::Void {
            orig: "T01-0000-999999".into(),
            options: SaleOptions::default(),
        })
        .await;
    assert!(
        matches!(missing, Err(Refusal::Invalid(ref e)) if e.contains("not in the journal")),
        "{missing:?}"
    );
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn a_technician_can_make_a_down_link_try_again_now() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let port = sim.addr().port();
    // A backoff so long that only the technician's key brings the link back in time.
    let mut rig = Rig::with(dir, sim, |s| {
        s.link.backoff_min = Duration::from_secs(600);
        s.link.backoff_max = Duration::from_secs(600);
    })
    .await;
    let old = std::mem::replace(
        &mut rig.sim,
        start_sim(tempfile::tempdir().unwrap().path(), Faults::default(), 0).await,
    );
    old.shutdown().await;
    rig.wait_for(|e| matches!(e, Event::Link(LinkNews::Down { .. })))
        .await;
    let restarted = start_sim(rig.dir.path(), Faults::default(), port).await;
    let spare = std::mem::replace(&mut rig.sim, restarted);
    spare.shutdown().await;
    rig.lane.reconnect().await;
    rig.wait_link_up().await;
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn the_link_comes_back_after_the_terminal_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let port = sim.addr().port();
    let mut rig = Rig::with(dir, sim, |_| {}).await;
    let old = std::mem::replace(
        &mut rig.sim,
        start_sim(tempfile::tempdir().unwrap().path(), Faults::default(), 0).await,
    );
    old.shutdown().await;
    rig.wait_for(|e| matches!(e, Event::Link(LinkNews::Down { .. })))
        .await;
    // The terminal is back on the same port.
    let restarted = start_sim(rig.dir.path(), Faults::default(), port).await;
    let spare = std::mem::replace(&mut rig.sim, restarted);
    spare.shutdown().await;
    rig.wait_link_up().await;
    let row = pay(&mut rig, sale(300)).await;
    assert_eq!(row.state, TxnState::Approved);
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn websocket_pings_are_answered_while_idle() {
    let dir = tempfile::tempdir().unwrap();
    let sim = till::sim::Sim::start(till::sim::SimConfig {
        ping_every: Some(Duration::from_millis(100)),
        ..Default::default()
    })
    .await
    .unwrap();
    let rig = Rig::with(dir, sim, |s| {
        s.link.heartbeat_every = Duration::from_secs(60)
    })
    .await;
    // A tenth of a second apart, pings keep coming while we ask nothing at all.
    assert!(
        eventually(|| rig.sim.stats().pongs_received >= 5).await,
        "{:?}",
        rig.sim.stats()
    );
    assert_eq!(
        rig.sim.stats().connections_total,
        1,
        "the terminal never dropped us"
    );
    // And the lane still answers.
    assert!(rig.lane.heartbeat().await.is_ok());
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn a_tip_adjustment_lost_on_the_wire_is_resolved_through_its_sale() {
    let mut rig = Rig::new(Faults::default()).await;
    let s = pay(&mut rig, sale(2000)).await;
    rig.sim.set_faults(Faults {
        drop_after_order: true,
        ..Faults::default()
    });
    let order = rig
        .lane
        .pay(PayRequest::TipAdjust {
            orig: s.order_no.clone(),
            tip: m(350),
        })
        .await
        .unwrap();
    rig.wait_for(|e| matches!(e, Event::Progress { order_no, .. } if *order_no == order))
        .await;
    rig.sim.set_faults(Faults::default());
    let row = rig.done(&order).await;
    assert_eq!(
        row.state,
        TxnState::Approved,
        "the sale's tip in force shows it went through"
    );
    assert_eq!(
        rig.journal().refundable(&s.order_no).unwrap(),
        Some(m(2350))
    );
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn an_answer_redelivered_after_a_reconnect_settles_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let sim = till::sim::Sim::start(till::sim::SimConfig {
        // Long enough that the link is back (and has asked once) before the answer.
        card_delay: Duration::from_millis(600),
        faults: Faults {
            drop_after_order: true,
            redeliver: true,
            ..Faults::default()
        },
        ledger: Some(ledger_path(dir.path())),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut rig = Rig::with(dir, sim, |_| {}).await;
    let order = rig.lane.pay(sale(6100)).await.unwrap();
    rig.wait_for(|e| {
        matches!(e, Event::Link(LinkNews::Stray { order_no, .. })
            if order_no.as_deref() == Some(order.as_str()))
    })
    .await;
    let row = rig.journal().find(&order).unwrap().unwrap();
    assert_eq!(
        row.state,
        TxnState::Approved,
        "{:?}",
        rig.journal().audit(&order)
    );
    assert_eq!(rig.sim.stats().orders_received.get(&order), Some(&1));
    rig.assert_books_agree();
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn a_dead_owners_rows_are_taken_up_and_other_lanes_rows_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    // A till that owned lane T01 journaled a sale and died before sending it; another
    // lane's row is its own owner's business.
    let journal_row = |lane: &str| {
        let mut j = till::journal::Journal::open(dir.path()).unwrap();
        let order = j.next_order_no(lane).unwrap();
        j.begin(&till::journal::NewTxn {
            order_no: order.clone(),
            request_id: "dead".into(),
            kind: TxnKind::Trans(TransType::Sale),
            amount: m(500),
            tip: None,
            cashback: None,
            currency: "USD".into(),
            orig_order_no: None,
            lane: lane.into(),
            scenario: None,
        })
        .unwrap();
        order
    };
    let mine = journal_row("T01");
    let theirs = journal_row("T02");
    let mut rig = Rig::with(dir, sim, |_| {}).await;
    let row = rig.done(&mine).await;
    assert_eq!(
        row.state,
        TxnState::Declined,
        "never sent: the terminal does not know it"
    );
    let next = pay(&mut rig, sale(700)).await;
    assert_eq!(next.state, TxnState::Approved);
    let other = rig.journal().find(&theirs).unwrap().unwrap();
    assert_eq!(
        other.state,
        TxnState::Pending,
        "lane T02's row is not ours to settle"
    );
    rig.stop().await.shutdown().await;
}
