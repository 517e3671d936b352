//! Layered configuration on real files.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use std::collections::HashMap;
use till::config::{
    CARD_FLOW_TIMEOUT_SECS, CONNECT_TIMEOUT_SECS, Config, ConfigError, DUPLICATE_WINDOW_SECS,
    HEARTBEAT_SECS, Overrides, REQUEST_TIMEOUT_SECS, Source,
};
use till::ecr::Receipts;
use till::lane::SaleOptions;
use till::link::Target;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn layers_in_order_and_remembers_sources() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        "url = \"10.0.0.1\"\napp_id = \"from-file-app\"\nlane = \"l02\"\n",
    )
    .unwrap();
    let env = env_of(&[("TILL_APP_ID", "from-env-app")]);
    let flags = Overrides {
        lane: Some("L03".into()),
        ..Overrides::default()
    };
    let cfg = Config::load(Some(&file), &env, &flags).unwrap();
    assert_eq!(cfg.url.value.as_deref(), Some("10.0.0.1"));
    assert_eq!(cfg.url.source, Source::File(file.clone()));
    assert_eq!(cfg.app_id.value.as_deref(), Some("from-env-app"));
    assert_eq!(cfg.app_id.source, Source::Env("TILL_APP_ID"));
    assert_eq!(cfg.lane.value, "L03");
    assert_eq!(cfg.lane.source, Source::Flag);
    assert_eq!(cfg.currency.source, Source::Default);
    match cfg.link().unwrap().target {
        Target::Address(endpoint) => assert_eq!(endpoint.port, 35779),
        other => panic!("an address, not {other:?}"),
    }
    assert_eq!(cfg.mdns_interface(), Ipv4Addr::LOCALHOST);
    assert_eq!(cfg.mdns_interface.source, Source::Default);
}

#[test]
fn the_mdns_interface_layers_like_every_key_and_a_bad_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        "url = \"sn:WPYB002248000123\"\napp_id = \"a\"\nmdns_interface = \"127.0.0.1\"\n",
    )
    .unwrap();
    let cfg = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap();
    assert_eq!(cfg.mdns_interface.source, Source::File(file.clone()));
    let link = cfg.link().unwrap();
    assert_eq!(
        link.target,
        Target::Serial {
            serial: "WPYB002248000123".into(),
            path: String::new()
        }
    );
    assert_eq!(link.mdns_interface, Ipv4Addr::LOCALHOST);

    let env = env_of(&[("TILL_MDNS_INTERFACE", "127.0.0.2")]);
    let cfg = Config::load(Some(&file), &env, &Overrides::default()).unwrap();
    assert_eq!(cfg.mdns_interface(), Ipv4Addr::new(127, 0, 0, 2));
    let flags = Overrides {
        mdns_interface: Some("127.0.0.3".into()),
        ..Overrides::default()
    };
    let cfg = Config::load(Some(&file), &env, &flags).unwrap();
    assert_eq!(cfg.mdns_interface(), Ipv4Addr::new(127, 0, 0, 3));
    assert_eq!(cfg.mdns_interface.source, Source::Flag);

    for bad in ["eth0", "0.0.0.0", "224.0.0.251", "::1"] {
        std::fs::write(&file, format!("mdns_interface = \"{bad}\"\n")).unwrap();
        let err = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("mdns_interface") && text.contains("line 1"),
            "{text}"
        );
    }
}

#[test]
fn a_bad_serial_after_sn_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "").unwrap();
    for bad in ["sn:", "sn:has space", "sn:a.b", "sn:/path", "sn:AB/a b"] {
        let flags = Overrides {
            url: Some(bad.into()),
            app_id: Some("app".into()),
            ..Overrides::default()
        };
        let cfg = Config::load(Some(&file), &env_of(&[]), &flags).unwrap();
        let text = cfg.link().unwrap_err().to_string();
        assert!(text.contains("serial"), "{text}");
    }
}

#[test]
fn a_malformed_file_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "url = \"x\"\nlane = L01\n").unwrap();
    let err = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 2"), "{text}");
    std::fs::write(&file, "ulr = \"x\"\n").unwrap();
    let err = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("ulr"), "{err}");
}

#[test]
fn missing_explicit_file_and_bad_values_are_errors() {
    let missing = Path::new("/nonexistent/till.toml");
    assert!(Config::load(Some(missing), &env_of(&[]), &Overrides::default()).is_err());
    let flags = Overrides {
        lane: Some("lane one".into()),
        ..Overrides::default()
    };
    assert!(Config::load(Some(missing), &env_of(&[]), &flags).is_err());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "currency = \"dollars\"\n").unwrap();
    assert!(Config::load(Some(&file), &env_of(&[]), &Overrides::default()).is_err());
    std::fs::write(&file, "").unwrap();
    let cfg = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap();
    assert!(matches!(cfg.link(), Err(ConfigError::NoUrl)));
}

#[test]
fn absurd_timeouts_are_errors_naming_the_key_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let load = |text: &str| {
        std::fs::write(&file, text).unwrap();
        Config::load(Some(&file), &env_of(&[]), &Overrides::default())
    };
    for (text, key, line) in [
        (
            "url = \"10.0.0.1\"\nrequest_timeout_secs = 18446744073709551615\n",
            "request_timeout_secs",
            2,
        ),
        ("heartbeat_secs = 0\n", "heartbeat_secs", 1),
        ("heartbeat_secs = 3601\n", "heartbeat_secs", 1),
        (
            "# deadlines\n\n  connect_timeout_secs   =  601\n",
            "connect_timeout_secs",
            3,
        ),
        (
            "\"card_flow_timeout_secs\" = 0\n",
            "card_flow_timeout_secs",
            1,
        ),
        (
            "lane = \"L02\"\ncard_flow_timeout_secs = 9223372036854775807\n",
            "card_flow_timeout_secs",
            2,
        ),
        (
            "duplicate_window_secs = 86401\n",
            "duplicate_window_secs",
            1,
        ),
    ] {
        let err = load(text).expect_err(text);
        assert!(
            matches!(err, ConfigError::OutOfRange { key: k, .. } if k == key),
            "{text}: {err:?}"
        );
        let message = err.to_string();
        assert!(message.contains(key), "{message}");
        assert!(
            message.contains(&format!("{} line {line}", file.display())),
            "{message}"
        );
        assert!(message.contains("seconds"), "{message}");
    }
    // A value that is not a number at all is the parser's error, with its line.
    let err = load("heartbeat_secs = -5\n").unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
    // Days, not seconds: archive_after_days names its unit and its line.
    let err = load("lane = \"L02\"\narchive_after_days = 0\n").unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("archive_after_days") && message.contains("line 2"),
        "{message}"
    );
    assert!(message.contains("1 to 36500 days"), "{message}");
    assert_eq!(
        load("archive_after_days = 30\n")
            .unwrap()
            .archive_after_days
            .value,
        30
    );
}

#[test]
fn timeouts_at_the_ends_of_their_ranges_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let load = |text: &str| {
        std::fs::write(&file, text).unwrap();
        Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap()
    };
    let low = load(
        "url = \"10.0.0.1\"\napp_id = \"a\"\nheartbeat_secs = 1\nconnect_timeout_secs = 1\nrequest_timeout_secs = 1\ncard_flow_timeout_secs = 1\nduplicate_window_secs = 0\n",
    );
    let link = low.link().unwrap();
    assert_eq!(link.heartbeat_every, Duration::from_secs(1));
    assert_eq!(link.dead_after, Duration::from_secs(4));
    assert_eq!(low.duplicate_window(), Duration::ZERO);
    let high = load(
        "url = \"10.0.0.1\"\napp_id = \"a\"\nheartbeat_secs = 3600\nconnect_timeout_secs = 600\nrequest_timeout_secs = 3600\ncard_flow_timeout_secs = 3600\nduplicate_window_secs = 86400\n",
    );
    let link = high.link().unwrap();
    assert_eq!(link.connect_timeout, Duration::from_secs(600));
    assert_eq!(link.card_flow_timeout, Duration::from_secs(3600));
    assert_eq!(high.duplicate_window(), Duration::from_secs(86400));
    for (range, default) in [
        (HEARTBEAT_SECS, 5),
        (CONNECT_TIMEOUT_SECS, 10),
        (REQUEST_TIMEOUT_SECS, 15),
        (CARD_FLOW_TIMEOUT_SECS, 300),
        (DUPLICATE_WINDOW_SECS, 120),
    ] {
        assert!(
            range.contains(&default),
            "the default {default} is in range"
        );
    }
}

#[test]
fn a_config_changed_after_loading_still_gives_safe_deadlines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "url = \"10.0.0.1\"\napp_id = \"a\"\n").unwrap();
    let mut cfg = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap();
    cfg.request_timeout_secs.value = u64::MAX;
    cfg.heartbeat_secs.value = u64::MAX;
    cfg.duplicate_window_secs.value = u64::MAX;
    let link = cfg.link().unwrap();
    assert_eq!(link.request_timeout, Duration::from_secs(3600));
    assert_eq!(link.dead_after, Duration::from_secs(3600 * 3 + 1));
    assert_eq!(cfg.duplicate_window(), Duration::from_secs(86400));
}

#[test]
fn terminal_options_are_lane_defaults_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let none = Config::load(Some(&file), &env_of(&[]), &Overrides::default());
    assert!(none.is_err(), "the explicit file is missing");
    std::fs::write(&file, "url = \"10.0.0.1\"\n").unwrap();
    let cfg = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap();
    assert_eq!(cfg.sale_options(), SaleOptions::default());
    assert_eq!(cfg.receipt.source, Source::Default);
    let described = cfg.describe();
    let value = |key: &str| {
        described
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, s)| (v.clone(), s.clone()))
            .unwrap_or_else(|| panic!("`till config` shows {key}"))
    };
    assert_eq!(value("on_screen_tip").1, "default");
    assert!(
        value("receipt").0.contains("terminal"),
        "{:?}",
        value("receipt")
    );

    std::fs::write(
        &file,
        "on_screen_tip = true\non_screen_signature = false\nconfirm_on_terminal = true\nreceipt = \"Customer\"\n",
    )
    .unwrap();
    let cfg = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap();
    assert_eq!(
        cfg.sale_options(),
        SaleOptions {
            tip_on_terminal: Some(true),
            signature_on_terminal: Some(false),
            confirm_on_terminal: Some(true),
            receipts: Some(Receipts::Customer),
            description: None,
        }
    );
    assert_eq!(cfg.receipt.source, Source::File(file.clone()));
    assert_eq!(cfg.on_screen_signature.source, Source::File(file.clone()));
    let described = cfg.describe();
    for (key, want) in [
        ("on_screen_tip", "true"),
        ("on_screen_signature", "false"),
        ("confirm_on_terminal", "true"),
        ("receipt", "customer"),
    ] {
        let row = described.iter().find(|(k, _, _)| k == key).unwrap();
        assert_eq!(
            (row.1.as_str(), row.2.as_str()),
            (want, format!("file {}", file.display()).as_str())
        );
    }
}

#[test]
fn a_bad_terminal_option_is_an_error_naming_the_key_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    for (text, key, line, says) in [
        (
            "url = \"10.0.0.1\"\non_screen_tip = \"yes\"\n",
            "on_screen_tip",
            2,
            "boolean",
        ),
        (
            "on_screen_signature = 1\n",
            "on_screen_signature",
            1,
            "boolean",
        ),
        (
            "# lane\nlane = \"L02\"\n\n  confirm_on_terminal   = on\n",
            "confirm_on_terminal",
            4,
            "",
        ),
        (
            "receipt = \"all\"\n",
            "receipt",
            1,
            "\"none\", \"merchant\", \"customer\" or \"both\"",
        ),
        ("\n\"receipt\" = 3\n", "receipt", 2, "\"both\""),
        ("receipt = true\n", "receipt", 1, "\"merchant\""),
    ] {
        std::fs::write(&file, text).unwrap();
        let err = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).expect_err(text);
        assert!(matches!(err, ConfigError::Parse { .. }), "{text}: {err:?}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("{}: {key}: ", file.display())),
            "names {key} first: {message}"
        );
        assert!(message.contains(&format!("line {line}")), "{message}");
        assert!(message.contains(says), "{message}");
    }
}

#[test]
fn the_amount_that_asks_first_is_checked_and_has_a_default() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "url = \"x\"\n").unwrap();
    let cfg = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap();
    assert_eq!(cfg.confirm_above().minor(), 1_000_000);
    // The default suits a currency without decimals too.
    std::fs::write(&file, "url = \"x\"\ncurrency = \"JPY\"\n").unwrap();
    let cfg = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap();
    assert_eq!(cfg.confirm_above().minor(), 10_000);
    std::fs::write(&file, "url = \"x\"\nconfirm_above = \"500.00\"\n").unwrap();
    let cfg = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap();
    assert_eq!(cfg.confirm_above().minor(), 50_000);
    std::fs::write(&file, "url = \"x\"\nconfirm_above = \"lots\"\n").unwrap();
    let err = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("confirm_above") && text.contains("line 2"),
        "{text}"
    );
}

#[test]
fn an_app_id_that_cannot_be_one_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    for bad in ["<your app id>", "", "two words"] {
        std::fs::write(&file, format!("lane = \"L01\"\napp_id = \"{bad}\"\n")).unwrap();
        let err = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap_err();
        let said = err.to_string();
        assert!(
            said.contains("app_id") && said.contains("line 2"),
            "{bad}: {said}"
        );
    }
    std::fs::write(&file, "app_id = \"wz6012822ca2f1as78\"\n").unwrap();
    let cfg = Config::load(Some(&file), &env_of(&[]), &Overrides::default()).unwrap();
    assert_eq!(cfg.app_id.value.as_deref(), Some("wz6012822ca2f1as78"));
}
