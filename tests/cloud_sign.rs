//! The cloud Open API's signing, keys and `[cloud]` configuration, without a network.
//! The keys under tests/fixtures/cloud are test keys, committed on purpose.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use till::cloud::{Decoded, keys, sign, wire};
use till::config::{Config, Overrides};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cloud")
        .join(name)
}

fn app_key() -> till::cloud::AppKey {
    keys::load_private(&fixture("app_private_pkcs1.pem")).unwrap()
}

fn gateway_key() -> till::cloud::AppKey {
    keys::load_private(&fixture("gateway_private_pkcs8.pem")).unwrap()
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn vector_fields() -> Map<String, Value> {
    object(json!({
        "app_id": "wz6012822ca2f1as78",
        "method": "order.query",
        "format": "JSON",
        "charset": "UTF-8",
        "sign_type": "RSA2",
        "version": "1.0",
        "timestamp": "1700000000000",
        "merchant_no": "302100085224",
        "merchant_order_no": "L01-ABCDE-1114-000001",
        "store_no": ""
    }))
}

/// PKCS#1 v1.5 is deterministic: the fixed key and fields give this signature.
// Cross-checked with `openssl dgst -sha256 -sign app_private_pkcs1.pem` over the content.
const VECTOR_SIGNATURE: &str = "x7Fv7HwN2SIqhR53CHyJSuZHZU0jmmyV2mndidXtvBsqFBOBpxRtXhiy1fZmzx3CAA8mGY2dTNqNozTRCDhFzACB5Ah2SVCiQmV/fyuLFaxCJtcudG7rN9uVtyOrtRGdjShFvd+BS5WK/eNVu3+O2Y5FOm8in7M9+Ij4Oc8WAuAnL0GrsgIwNqD3LR3dHuTCfykwLveQtVpqpzSJvDqneOFADzqvOcuATIlC68FsW2GZSoyoMqjhZT+UT/AZclZDeLpsnptsNwQB/1aCU5ohHJOWAj0kjISNaz581kc4GjOuHUgb20eviFlUwQxcdRVBUuXdXlieFxtVmDA4DBEL/A==";

#[test]
fn signing_matches_the_known_vector() {
    let fields = vector_fields();
    assert_eq!(
        sign::content(&fields),
        "app_id=wz6012822ca2f1as78&charset=UTF-8&format=JSON&merchant_no=302100085224&merchant_order_no=L01-ABCDE-1114-000001&method=order.query&sign_type=RSA2&timestamp=1700000000000&version=1.0"
    );
    let signature = sign::sign(&app_key(), &fields).unwrap();
    assert_eq!(signature, VECTOR_SIGNATURE);
    let mut signed = fields.clone();
    signed.insert("sign".into(), signature.into());
    let public = keys::load_public("app key", &fixture("app_public.pem")).unwrap();
    assert_eq!(sign::verify(&public, &signed), Ok(()));
}

#[test]
fn keys_load_in_every_accepted_form() {
    assert!(keys::load_private(&fixture("app_private_pkcs1.pem")).is_ok());
    assert!(keys::load_private(&fixture("gateway_private_pkcs8.pem")).is_ok());
    let pem = keys::load_gateway(&fixture("gateway_public.pem")).unwrap();
    let der = keys::load_gateway(&fixture("gateway_public.b64")).unwrap();
    assert_eq!(pem, der);
    assert_eq!(pem, gateway_key().public());
    // A public key where the private one belongs: named, not printed.
    let err = keys::load_private(&fixture("app_public.pem")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("app_public.pem") && text.contains("PKCS#1 or PKCS#8"),
        "{text}"
    );
    assert!(!text.contains("MII"), "{text}");
    // The private key's Debug output withholds it.
    assert_eq!(format!("{:?}", app_key()), "AppKey(withheld)");
}

fn gateway_answer(top: Value) -> String {
    let mut top = object(top);
    let signature = sign::sign(&gateway_key(), &top).unwrap();
    top.insert("sign".into(), signature.into());
    Value::Object(top).to_string()
}

#[test]
fn answers_are_trusted_only_when_signed_by_the_gateway() {
    let public = gateway_key().public();
    let body = gateway_answer(json!({
        "code": "0", "msg": "success", "psn": "p-1",
        "data": {"merchant_order_no": "A1", "trans_status": "2", "card_no": "4111111111111111"}
    }));
    let (decoded, raw) = wire::decode(&body, &public);
    let Decoded::Trusted { reply, psn } = decoded else {
        panic!("not trusted: {decoded:?}");
    };
    assert_eq!(psn.as_deref(), Some("p-1"));
    assert_eq!(reply.response_code.as_deref(), Some("0"));
    assert_eq!(reply.biz.trans_status.as_deref(), Some("2"));
    assert_eq!(reply.biz.card_no.as_deref(), Some("411111******1111"));
    assert!(!raw.contains("4111111111111111"), "{raw}");

    // data as a JSON string, signed as that string.
    let body = gateway_answer(json!({
        "code": "0", "msg": "success",
        "data": "{\"merchant_order_no\":\"A1\",\"trans_status\":\"2\"}"
    }));
    let (decoded, _) = wire::decode(&body, &public);
    assert!(
        matches!(&decoded, Decoded::Trusted { reply, .. } if reply.biz.trans_status.as_deref() == Some("2")),
        "{decoded:?}"
    );

    // Tampered after signing, unsigned, signed by someone else, not JSON.
    let tampered = body.replace("\\\"2\\\"", "\\\"3\\\"");
    assert_ne!(tampered, body);
    let unsigned = json!({"code": "0", "data": {"trans_status": "2"}}).to_string();
    let mut other = object(json!({"code": "0", "data": {"trans_status": "2"}}));
    other.insert(
        "sign".into(),
        sign::sign(&app_key(), &other).unwrap().into(),
    );
    let other = Value::Object(other).to_string();
    for bad in [
        tampered.as_str(),
        unsigned.as_str(),
        other.as_str(),
        "<html>502</html>",
    ] {
        let (decoded, _) = wire::decode(bad, &public);
        assert!(
            matches!(decoded, Decoded::Untrusted { .. }),
            "{bad}: {decoded:?}"
        );
    }
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn cloud_file(dir: &Path, extra: &str) -> PathBuf {
    for name in ["app_private_pkcs1.pem", "gateway_public.pem"] {
        std::fs::copy(fixture(name), dir.join(name)).unwrap();
    }
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        format!(
            "url = \"127.0.0.1\"\napp_id = \"lan-app\"\n\n[cloud]\nurl = \"https://gw.example\"\napp_id = \"cloud-app-123456\"\nmerchant_no = \"M1\"\nprivate_key = \"app_private_pkcs1.pem\"\ngateway_public_key = \"gateway_public.pem\"\n{extra}"
        ),
    )
    .unwrap();
    file
}

#[test]
fn the_cloud_table_loads_with_keys_beside_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = cloud_file(dir.path(), "methods = { refund = \"order.refund\" }\n");
    let env = env_of(&[("TILL_CLOUD_TERMINAL_SN", "SN-ENV")]);
    let cfg = Config::load(Some(&file), &env, &Overrides::default()).unwrap();
    let cloud = cfg.cloud().expect("cloud configured");
    assert_eq!(cloud.endpoint(), "https://gw.example/api/entry");
    assert_eq!(cloud.terminal_sn.as_deref(), Some("SN-ENV"));
    assert_eq!(cloud.methods.refund, "order.refund");
    assert_eq!(cloud.methods.void, "order.revoker");
    let described = cfg.describe();
    let value = |key: &str| {
        described
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.clone())
            .unwrap()
    };
    assert!(value("cloud.private_key").ends_with("app_private_pkcs1.pem"));
    assert_ne!(value("cloud.app_id"), "cloud-app-123456");
    let all = format!("{described:?}");
    assert!(
        !all.contains("PRIVATE KEY") && !all.contains("MII"),
        "{all}"
    );
}

#[test]
fn a_bad_cloud_table_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = cloud_file(dir.path(), "");
    // The gateway key names the app's private key file: line 9 of the file.
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "gateway_public_key = \"gateway_public.pem\"",
        "gateway_public_key = \"app_private_pkcs1.pem\"",
    );
    std::fs::write(&file, text).unwrap();
    let err = Config::load(Some(&file), &env_of(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("gateway_public_key") && err.contains("line 9"),
        "{err}"
    );
    assert!(!err.contains("MII"), "{err}");

    let file = cloud_file(dir.path(), "colour = \"red\"\n");
    let err = Config::load(Some(&file), &env_of(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("colour"), "{err}");

    let missing = dir.path().join("missing.toml");
    std::fs::write(&missing, "[cloud]\nurl = \"https://gw.example\"\n").unwrap();
    let err = Config::load(Some(&missing), &env_of(&[]), &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("app_id is not set"), "{err}");
}
