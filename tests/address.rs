//! Terminal addresses as a cashier or technician types them.

use till::link::{AddressError, Endpoint};

#[test]
fn accepts_host_host_port_and_urls() {
    let e = Endpoint::parse("192.168.1.20").unwrap();
    assert_eq!(e.url(), "ws://192.168.1.20:35779/");
    let e = Endpoint::parse("pos-7:4000").unwrap();
    assert_eq!((e.host.as_str(), e.port), ("pos-7", 4000));
    let e = Endpoint::parse("ws://10.0.0.5:35779/ecr").unwrap();
    assert_eq!(e.url(), "ws://10.0.0.5:35779/ecr");
    assert_eq!(e.to_string(), "10.0.0.5:35779/ecr");
    let e = Endpoint::parse("WS://localhost").unwrap();
    assert_eq!(e.url(), "ws://localhost:35779/");
    let e = Endpoint::parse("[::1]:9000").unwrap();
    assert_eq!(e.url(), "ws://[::1]:9000/");
    let e = Endpoint::parse("fe80::1").unwrap();
    assert_eq!(e.authority(), "[fe80::1]:35779");
}

#[test]
fn rejects_nonsense_clearly() {
    assert_eq!(Endpoint::parse(" "), Err(AddressError::Empty));
    assert!(matches!(
        Endpoint::parse("wss://x"),
        Err(AddressError::Scheme(_))
    ));
    assert!(matches!(
        Endpoint::parse("http://x"),
        Err(AddressError::Scheme(_))
    ));
    assert!(matches!(Endpoint::parse("x:0"), Err(AddressError::Port(_))));
    assert!(matches!(
        Endpoint::parse("x:99999"),
        Err(AddressError::Port(_))
    ));
    assert!(matches!(
        Endpoint::parse("x:abc"),
        Err(AddressError::Port(_))
    ));
    assert!(matches!(
        Endpoint::parse("ws://:80"),
        Err(AddressError::Host(_))
    ));
    assert!(matches!(Endpoint::parse("a b"), Err(AddressError::Host(_))));
}
