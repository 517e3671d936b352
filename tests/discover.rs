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
