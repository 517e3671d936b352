//! Terminal addresses as a cashier or technician types them.

use till::link::{AddressError, Endpoint, Target, located};

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

#[test]
fn a_serial_may_carry_the_websocket_path_used_where_it_is_found() {
    let t = Target::parse(" SN:WPYB002248000123/mac_address=aa:bb:cc ").unwrap();
    assert_eq!(
        t,
        Target::Serial {
            serial: "WPYB002248000123".into(),
            path: "/mac_address=aa:bb:cc".into()
        }
    );
    assert_eq!(t.serial(), Some("WPYB002248000123"));
    assert_eq!(t.to_string(), "sn:WPYB002248000123/mac_address=aa:bb:cc");
    assert_eq!(Target::parse(&t.to_string()), Ok(t));
    let plain = Target::parse("sn:ABC").unwrap();
    assert_eq!(plain.to_string(), "sn:ABC");
    assert_eq!(
        located("ws://10.0.0.5:35779", "/mac_address=aa").map(|e| e.url()),
        Ok("ws://10.0.0.5:35779/mac_address=aa".to_string())
    );
    assert_eq!(
        located("ws://10.0.0.5:35779", "").map(|e| e.url()),
        Ok("ws://10.0.0.5:35779/".to_string())
    );
    for bad in ["sn:", "sn:/x", "sn:a.b/x", "sn:AB/a b"] {
        assert!(
            matches!(Target::parse(bad), Err(AddressError::Serial(_))),
            "{bad}"
        );
    }
}
