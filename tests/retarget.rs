//! Moving a running lane to another terminal (`Command::Retarget`), over loopback with
//! two simulators: the next sale goes to the new one (through the lane, and through the
//! Settings screen of the real binary), and the lane refuses to move while a payment is
//! in flight or unresolved.

mod common;

use common::pty::keys::{F2, F10};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use common::pty::Screen;
use common::*;
use till::discover::{self, terminal_advert};
use till::ecr::PayScenario;
use till::journal::TxnState;
use till::lane::{Event, LinkNews, PayRequest, Refusal, SaleOptions};
use till::link::Target;
use till::money::Money;
use till::sim::Faults;

fn sale(minor: i64) -> PayRequest {
    PayRequest::Sale {
        amount: Money::from_minor(minor, 2).unwrap(),
        tip: None,
        cashback: None,
        scenario: PayScenario::Card,
        force: true,
        options: SaleOptions::default(),
    }
}

/// A serial no other test (or test process) advertises: tests share the mDNS group.
fn serial(tag: &str) -> String {
    format!("R{}{tag}", std::process::id())
}

/// A simulator with a ledger of its own, advertised by mDNS on loopback as `serial`.
async fn advertised_sim(
    dir: &std::path::Path,
    serial: &str,
) -> (till::sim::SimHandle, discover::Advertisement) {
    let sim = start_sim(dir, Faults::default(), 0).await;
    let at = SocketAddrV4::new(Ipv4Addr::LOCALHOST, sim.addr().port());
    let advert = terminal_advert(serial, at, "till sim", "test");
    let ad = discover::advertise(Ipv4Addr::LOCALHOST, advert).unwrap();
    (sim, ad)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_picked_on_the_settings_screen_takes_the_next_sale() {
    let dir = tempfile::tempdir().unwrap();
    let a = start_sim(dir.path(), Faults::default(), 0).await;
    let b_dir = tempfile::tempdir().unwrap();
    let serial = serial("PTY");
    let (b, _ad) = advertised_sim(b_dir.path(), &serial).await;
    let mut s = Screen::start(dir.path(), &a.url(), &[]);
    s.wait_for("UP").await;
    s.keys(F10);
    s.wait_for("receipt").await;
    s.keys("\x06"); // Ctrl-F
    s.wait_for("terminals found").await;
    s.wait_for(&serial).await;
    // Other tests may advertise terminals too: B is picked by its row in the list.
    let screen = s.contents();
    let rows: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("terminals found"))
        .filter(|l| l.contains("ws://"))
        .collect();
    let at = rows.iter().position(|l| l.contains(&serial)).unwrap();
    s.keys(&"\x1b[B".repeat(at));
    s.wait_until(|screen| {
        screen
            .lines()
            .any(|l| l.contains('>') && l.contains(&serial))
    })
    .await;
    s.keys("\r");
    s.wait_for("Enter saves it").await;
    s.keys("\r");
    s.wait_for("apply now").await;
    let b_at = format!("ws://{}/", b.addr());
    s.wait_for(&format!("UP sn:{serial} {b_at}")).await;
    let file = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert!(file.contains(&format!("url = \"sn:{serial}\"")), "{file}");

    s.keys(F2);
    s.keys("500\r");
    s.wait_for("APPROVED").await;
    assert_eq!(b.stats().orders_received.len(), 1, "{:?}", b.stats());
    assert!(a.stats().orders_received.is_empty(), "{:?}", a.stats());
    s.keys(" \x1b[20~"); // F9
    s.wait_for(&format!("sn:{serial} {b_at}")).await;
    // The check-up looks at the terminal the lane talks to now.
    s.keys("t");
    s.wait_for(&format!("sn:{serial} (saved on the Settings screen)"))
        .await;
    s.wait_for("[ ok ] websocket upgrade").await;
    s.keys("\x03");
    assert_eq!(s.exit_code().await, 0);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_retargeted_lane_sends_the_next_sale_to_the_new_terminal() {
    let mut rig = Rig::new(Faults::default()).await;
    let other_dir = tempfile::tempdir().unwrap();
    let serial = serial("B");
    let (b, _ad) = advertised_sim(other_dir.path(), &serial).await;

    let target = Target::parse(&format!("sn:{serial}")).unwrap();
    rig.lane
        .retarget(target)
        .await
        .expect("nothing open: moved");
    rig.wait_for(|e| matches!(e, Event::Link(LinkNews::Target(t)) if *t == format!("sn:{serial}")))
        .await;
    let b_url = format!("{}/", b.url());
    rig.wait_for(
        |e| matches!(e, Event::Link(LinkNews::Located { address, .. }) if *address == b_url),
    )
    .await;
    rig.wait_link_up().await;

    let order = rig.lane.pay(sale(1234)).await.expect("accepted");
    let row = rig.done(&order).await;
    assert_eq!(row.state, TxnState::Approved);
    assert_eq!(b.stats().orders_received.get(&order), Some(&1));
    let a = rig.stop().await;
    assert!(a.stats().orders_received.is_empty(), "{:?}", a.stats());
    assert_eq!(a.stats().connections_total, 1);
    a.shutdown().await;
    b.shutdown().await;
}

/// A lane on a terminal that holds every answer for an hour, with `deadline` for a
/// card flow.
async fn held_rig(deadline: Duration) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let held = Faults {
        hold: Some(Duration::from_secs(3600)),
        ..Faults::default()
    };
    let sim = start_sim(dir.path(), held, 0).await;
    Rig::with(dir, sim, |s| s.link.card_flow_timeout = deadline).await
}

#[tokio::test]
async fn a_payment_in_flight_keeps_the_lane_on_its_terminal() {
    let rig = held_rig(Duration::from_secs(3600)).await;
    let order = rig.lane.pay(sale(500)).await.expect("sent");
    let elsewhere = Target::parse("127.0.0.1:1").unwrap();
    let refused = rig.lane.retarget(elsewhere).await;
    assert!(
        matches!(&refused, Err(Refusal::OpenPayment(orders)) if orders.contains(&order)),
        "{refused:?}"
    );
    let text = refused.unwrap_err().to_string();
    assert!(
        text.starts_with("finish or resolve the open payment first"),
        "{text}"
    );
    // Still on the same socket, still waiting for the answer.
    assert_eq!(rig.sim.stats().connections_total, 1);
    rig.sim.shutdown().await;
}

#[tokio::test]
async fn an_unresolved_row_keeps_the_lane_on_the_terminal_that_took_it() {
    let mut rig = held_rig(Duration::from_millis(300)).await;
    let order = rig.lane.pay(sale(700)).await.expect("sent");
    // No answer by the deadline: the row is unknown, and queries find it still running.
    rig.wait_for(|e| matches!(e, Event::Unresolved { orders, .. } if orders.contains(&order)))
        .await;
    let refused = rig
        .lane
        .retarget(Target::parse("127.0.0.1:1").unwrap())
        .await;
    assert!(
        matches!(&refused, Err(Refusal::OpenPayment(orders)) if orders.contains(&order)),
        "{refused:?}"
    );
    let row = rig.journal().find(&order).unwrap().expect("journaled");
    assert!(
        matches!(row.state, TxnState::Pending | TxnState::Unknown),
        "{row:?}"
    );
    assert_eq!(rig.sim.stats().connections_total, 1);
    rig.sim.shutdown().await;
}
