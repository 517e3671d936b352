//! mDNS discovery over loopback only: a simulator advertising its serial is found
//! with the right fields, by the library and by the real binary.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use till::discover::{self, terminal_advert};

const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A serial no other test (or test process) advertises: tests share the mDNS group.
fn serial(tag: &str) -> String {
    format!("T{}{tag}", std::process::id())
}

#[tokio::test]
async fn an_advertised_terminal_is_found_with_its_fields() {
    let serial = serial("FIELDS");
    let addr = SocketAddrV4::new(LOOPBACK, 40123);
    let _ad = discover::advertise(
        LOOPBACK,
        terminal_advert(&serial, addr, "CodePay Register", "2.1.0"),
    )
    .unwrap();
    let found = discover::find_terminal(LOOPBACK, &serial, common::WAIT)
        .await
        .unwrap()
        .expect("the advertised serial is found");
    assert_eq!(found.serial, serial);
    assert_eq!(found.address, "ws://127.0.0.1:40123");
    assert_eq!(found.app_name.as_deref(), Some("CodePay Register"));
    assert_eq!(found.app_version.as_deref(), Some("2.1.0"));
}

#[tokio::test]
async fn a_withdrawn_terminal_is_not_found() {
    let serial = serial("GONE");
    let ad = discover::advertise(
        LOOPBACK,
        terminal_advert(&serial, SocketAddrV4::new(LOOPBACK, 40124), "x", "1"),
    )
    .unwrap();
    drop(ad);
    let found = discover::find_terminal(LOOPBACK, &serial, Duration::from_millis(1500))
        .await
        .unwrap();
    assert_eq!(found, None);
}

#[tokio::test]
async fn an_interface_that_is_not_this_machines_is_refused() {
    // TEST-NET-3: no interface here has it; nothing is sent.
    let err = discover::terminals(Ipv4Addr::new(203, 0, 113, 77), Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("203.0.113.77"), "{err}");
}

/// A simulator in this process, advertised under `serial`.
async fn advertised_sim(
    dir: &std::path::Path,
    serial: &str,
) -> (till::sim::SimHandle, discover::Advertisement) {
    let sim = common::start_sim(dir, till::sim::Faults::default(), 0).await;
    let addr = SocketAddrV4::new(LOOPBACK, sim.addr().port());
    let ad =
        discover::advertise(LOOPBACK, terminal_advert(serial, addr, "till sim", "test")).unwrap();
    (sim, ad)
}

#[tokio::test]
async fn till_discover_json_lists_what_till_sim_advertises() {
    let serial = serial("BIN");
    let mut sim = tokio::process::Command::new(env!("CARGO_BIN_EXE_till"))
        .args(["sim", "--port", "0", "--card-delay-ms", "0"])
        .args(["--advertise", &serial, "--mdns-interface", "127.0.0.1"])
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let deadline = tokio::time::Instant::now() + common::WAIT;
    let terminal = loop {
        let cmd = common::till(dir.path(), "127.0.0.1:1", "");
        let run = common::run(cmd, &["discover", "--wait", "1", "--json"]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json = run.json();
        let terminals = json["terminals"].as_array().expect("a list").clone();
        if let Some(t) = terminals
            .into_iter()
            .find(|t| t["serial"] == serial.as_str())
        {
            break t;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "till sim was never found"
        );
    };
    let keys: Vec<&str> = terminal
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["address", "app_name", "app_version", "serial"]);
    assert!(
        terminal["address"]
            .as_str()
            .unwrap()
            .starts_with("ws://127.0.0.1:"),
        "{terminal}"
    );
    assert_eq!(terminal["app_name"], "till sim");
    sim.start_kill().unwrap();
    let _ = sim.wait().await;
}

#[tokio::test]
async fn ping_and_sale_find_the_terminal_by_serial() {
    let dir = tempfile::tempdir().unwrap();
    let serial = serial("PING");
    let (_sim, _ad) = advertised_sim(dir.path(), &serial).await;
    let url = format!("sn:{serial}");
    let run = common::run(
        common::till(dir.path(), &url, common::QUICK),
        &["ping", "--count", "1", "--json"],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["received"], 1);
    let run = common::run(
        common::till(dir.path(), &url, common::QUICK),
        &["sale", "12.34", "--json"],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["outcome"], "approved", "{}", run.stdout);
}

#[tokio::test]
async fn doctor_says_when_the_serial_is_not_on_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sn:{}", serial("NOWHERE"));
    let run = common::run(
        common::till(dir.path(), &url, "connect_timeout_secs = 1\n"),
        &["doctor", "--json"],
    )
    .await;
    assert_eq!(run.code, 4, "{}", run.stdout);
    let json = run.json();
    let step = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "discovery")
        .cloned()
        .expect("a discovery step");
    assert_eq!(step["ok"], false);
    assert!(
        step["detail"]
            .as_str()
            .unwrap()
            .contains("not seen on the network: is the terminal on and on this subnet?"),
        "{step}"
    );
}

#[tokio::test]
async fn a_lane_by_serial_finds_the_terminal_again_on_another_port() {
    use till::lane::{Event, LinkNews};
    let dir = tempfile::tempdir().unwrap();
    let serial = serial("MOVE");
    let (sim, ad) = advertised_sim(dir.path(), &serial).await;
    let first = format!("ws://{}/", sim.addr());
    let target = till::link::Target::Serial {
        serial: serial.clone(),
        path: String::new(),
    };
    let mut rig = common::Rig::with(dir, sim, |s| s.link.target = target).await;

    // Mid-shift the terminal goes away and comes back on another port.
    drop(ad);
    let moved = common::start_sim(rig.dir.path(), till::sim::Faults::default(), 0).await;
    let second = format!("ws://{}/", moved.addr());
    assert_ne!(first, second);
    let old = std::mem::replace(&mut rig.sim, moved);
    old.shutdown().await;
    let addr = SocketAddrV4::new(LOOPBACK, rig.sim.addr().port());
    let _ad =
        discover::advertise(LOOPBACK, terminal_advert(&serial, addr, "till sim", "test")).unwrap();

    rig.wait_for(
        |e| matches!(e, Event::Link(LinkNews::Located { address, .. }) if *address == second),
    )
    .await;
    rig.wait_link_up().await;
    let order = rig
        .lane
        .pay(till::lane::PayRequest::Sale {
            amount: till::money::Money::from_minor(1234, 2).unwrap(),
            tip: None,
            cashback: None,
            scenario: till::ecr::PayScenario::Card,
            force: true,
            options: till::lane::SaleOptions::default(),
        })
        .await
        .expect("accepted");
    let row = rig.done(&order).await;
    assert_eq!(row.state, till::journal::TxnState::Approved);
}

#[tokio::test]
async fn a_lane_by_serial_connects_on_the_path_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let serial = serial("PATH");
    let (sim, _ad) = advertised_sim(dir.path(), &serial).await;
    let target = till::link::Target::parse(&format!("sn:{serial}/mac_address=aa:bb:cc")).unwrap();
    let rig = common::Rig::with(dir, sim, |s| s.link.target = target).await;
    assert_eq!(
        rig.sim.stats().last_path.as_deref(),
        Some("/mac_address=aa:bb:cc")
    );
}
