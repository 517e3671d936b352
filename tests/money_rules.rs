//! Issue 19: money rules against the real simulator over loopback and a real journal
//! file. Tips that undo refunds, tips a customer adds on the terminal, a lost tip
//! answer, an approval whose amount cannot be read, and cash-back on QR.

mod common;

use common::*;
use till::ecr::PayScenario;
use till::journal::{BatchSel, TxnKind, TxnRow, TxnState, rules};
use till::lane::{Event, PayRequest, Refusal, SaleOptions, Step};
use till::money::Money;
use till::sim::{Faults, net_by_order, read_ledger};

fn m(minor: i64) -> Money {
    Money::from_minor(minor, 2).unwrap()
}

fn sale_with(minor: i64, tip: Option<i64>, on_screen_tip: bool) -> PayRequest {
    PayRequest::Sale {
        amount: m(minor),
        tip: tip.map(m),
        cashback: None,
        scenario: PayScenario::Card,
        force: true,
        options: SaleOptions {
            tip_on_terminal: on_screen_tip.then_some(true),
            ..SaleOptions::default()
        },
    }
}

async fn pay(rig: &mut Rig, req: PayRequest) -> TxnRow {
    let order = rig.lane.pay(req).await.expect("accepted");
    rig.done(&order).await
}

fn refund(orig: &TxnRow, minor: i64) -> PayRequest {
    PayRequest::Refund {
        amount: m(minor),
        orig: Some(orig.order_no.clone()),
        options: Default::default(),
    }
}

fn tip(orig: &TxnRow, minor: i64) -> PayRequest {
    PayRequest::TipAdjust {
        orig: orig.order_no.clone(),
        tip: m(minor),
    }
}

/// The terminal's net for the whole ledger, and the journal's open batch net.
fn nets(rig: &Rig) -> (i64, i64) {
    let ledger = read_ledger(&ledger_path(rig.dir.path())).unwrap();
    let terminal = net_by_order(&ledger).values().sum();
    let journal = rig
        .journal()
        .report(BatchSel::Open("T01"))
        .unwrap()
        .net_minor;
    (terminal, journal)
}

#[tokio::test]
async fn a_refunded_sale_keeps_its_tip() {
    let mut rig = Rig::new(Faults::default()).await;
    let s = pay(&mut rig, sale_with(1000, Some(500), false)).await;
    assert_eq!(s.state, TxnState::Approved);
    let r = pay(&mut rig, refund(&s, 1500)).await;
    assert_eq!(r.state, TxnState::Approved);
    // Neither a cut (refunds would exceed what moved) nor a rise (charging a refunded
    // sale again) goes to the terminal.
    for new_tip in [100, 900] {
        match rig.lane.pay(tip(&s, new_tip)).await {
            Err(Refusal::Invalid(why)) => assert_eq!(
                why,
                format!(
                    "order {} has a refund ({}); its tip can no longer change",
                    s.order_no, r.order_no
                )
            ),
            other => panic!("a tip change of a refunded sale went: {other:?}"),
        }
    }
    let j = rig.journal();
    let rows = j.follow_ups(&s.order_no).unwrap();
    let refunded: i64 = rows
        .iter()
        .filter(|r| r.kind != TxnKind::TipAdjust)
        .map(|r| r.amount.minor())
        .sum();
    assert!(refunded <= s.amount.minor() + rules::effective_tip(&s, &rows));
    assert_eq!(nets(&rig), (0, 0), "the lane nets what the terminal moved");
    rig.assert_books_agree();
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn a_tip_added_on_the_terminal_is_booked() {
    let mut rig = Rig::new(Faults {
        on_screen_tip_minor: Some(200),
        ..Faults::default()
    })
    .await;
    let s = pay(&mut rig, sale_with(1000, None, true)).await;
    assert_eq!(s.state, TxnState::Approved);
    assert_eq!((s.amount, s.tip), (m(1000), Some(m(200))));
    assert!(!s.is_partial(), "the customer's tip is no partial approval");
    assert_eq!(nets(&rig), (1200, 1200));

    // Its answer lost: the query answer books the tip too.
    rig.sim.set_faults(Faults {
        on_screen_tip_minor: Some(300),
        drop_after_order: true,
        ..Faults::default()
    });
    let lost = rig.lane.pay(sale_with(2000, None, true)).await.unwrap();
    rig.wait_for(|e| matches!(e, Event::Progress { order_no, .. } if *order_no == lost))
        .await;
    // The customer is still at the terminal: only the link comes back.
    rig.sim.set_faults(Faults {
        on_screen_tip_minor: Some(300),
        ..Faults::default()
    });
    let lost = rig.done(&lost).await;
    assert_eq!((lost.state, lost.tip), (TxnState::Approved, Some(m(300))));
    assert_eq!(nets(&rig), (3500, 3500));

    // All that moved can be given back, and no more.
    let r = pay(&mut rig, refund(&s, 1200)).await;
    assert_eq!(r.state, TxnState::Approved);
    assert!(matches!(
        rig.lane.pay(refund(&lost, 2301)).await,
        Err(Refusal::Invalid(why)) if why.contains("at most 23.00")
    ));
    assert_eq!(nets(&rig), (2300, 2300));
    rig.assert_books_agree();
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn a_lost_tip_answer_without_its_tip_stays_unknown() {
    let mut rig = Rig::new(Faults::default()).await;
    let s = pay(&mut rig, sale_with(2000, None, false)).await;
    rig.sim.set_faults(Faults {
        drop_after_order: true,
        query_omits_tip: true,
        ..Faults::default()
    });
    let order = rig.lane.pay(tip(&s, 350)).await.unwrap();
    // The sale's query answer says it completed, not which tip it holds.
    rig.wait_for(|e| {
        matches!(e, Event::Progress { order_no, step: Step::StillUnknown { why, .. } }
            if *order_no == order && why.contains("no tip_amount"))
    })
    .await;
    let row = rig.journal().find(&order).unwrap().unwrap();
    assert_eq!(row.state, TxnState::Unknown, "never guessed declined");
    rig.sim.set_faults(Faults::default());
    let row = rig.done(&order).await;
    assert_eq!(row.state, TxnState::Approved, "the tip asked is in force");
    assert_eq!(nets(&rig), (2350, 2350));
    rig.assert_books_agree();
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn an_unreadable_approved_amount_waits_for_a_person() {
    let mut rig = Rig::new(Faults {
        amount_text: Some("5,00".into()),
        ..Faults::default()
    })
    .await;
    let order = rig
        .lane
        .pay(sale_with(1000, None, false))
        .await
        .expect("accepted");
    let row = rig.done(&order).await;
    assert_eq!(
        row.state,
        TxnState::Unknown,
        "never booked as the amount asked"
    );
    assert_eq!(
        row.reply.response_msg.as_deref(),
        Some("approved, amount unreadable: order_amount '5,00'")
    );
    assert!(rules::needs_person(&row));
    let audit = rig.journal().audit(&order).unwrap();
    assert!(audit.iter().any(|a| a.why.contains("amount unreadable")));

    // Taken up again, it is asked about once: the answer is the same and the lane
    // leaves it for a person instead of asking on and on.
    rig.lane.recover().await;
    let again = rig.done(&order).await;
    assert_eq!(again.state, TxnState::Unknown);
    rig.wait_for(|e| matches!(e, Event::Unresolved { orders, by_query } if orders.contains(&order) && by_query.is_empty()))
        .await;
    assert!(matches!(
        rig.lane.pay(sale_with(700, None, false)).await,
        Err(Refusal::Unresolved { .. })
    ));

    // A supervisor reads the receipt and settles it.
    let settled = rig
        .lane
        .resolve(
            order.clone(),
            TxnState::Approved,
            "receipt shows 10.00".into(),
        )
        .await
        .unwrap();
    assert_eq!(settled.state, TxnState::Approved);
    rig.sim.set_faults(Faults::default());
    let next = pay(&mut rig, sale_with(700, None, false)).await;
    assert_eq!(next.state, TxnState::Approved);
    rig.assert_books_agree();
    rig.stop().await.shutdown().await;
}

#[tokio::test]
async fn cash_back_is_refused_on_qr_by_the_lane_and_the_command_line() {
    let rig = Rig::new(Faults::default()).await;
    let qr = PayRequest::Sale {
        amount: m(800),
        tip: None,
        cashback: Some(m(2000)),
        scenario: PayScenario::CustomerScansQr,
        force: true,
        options: SaleOptions::default(),
    };
    match rig.lane.pay(qr).await {
        Err(Refusal::Invalid(why)) => assert!(why.starts_with("cash-back only on card"), "{why}"),
        other => panic!("cash-back on QR went: {other:?}"),
    }
    assert!(rig.sim.stats().orders_received.is_empty());
    let url = rig.sim.url();
    let dir = tempfile::tempdir().unwrap();
    let cli = run(
        till(dir.path(), &url, QUICK),
        &["sale", "8.00", "--cashback", "20", "--scenario", "qr"],
    )
    .await;
    assert_eq!(cli.code, 2, "{}", cli.stderr);
    assert!(
        cli.stderr.contains("cash-back only on card"),
        "{}",
        cli.stderr
    );
    assert!(
        rig.sim.stats().orders_received.is_empty(),
        "nothing was sent"
    );
    rig.stop().await.shutdown().await;
}
