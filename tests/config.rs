//! Layered configuration on real files.

use std::path::Path;

use std::collections::HashMap;
use till::config::*;

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
    assert_eq!(cfg.link().unwrap().endpoint.port, 35779);
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
