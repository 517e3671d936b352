//! A simulated cloud gateway on a loopback port, and settings to reach it with the
//! committed test keys (tests/fixtures/cloud: test keys, never used for real).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use till::cloud::{Clock, CloudSettings, Methods, keys};
use till::sim::cloud::{CloudFaults, CloudSim};

/// The time every test request carries, and the gateway's clock: 2023-11-14.
pub const NOW_MS: i64 = 1_700_000_000_000;

pub fn fixed_clock(ms: i64) -> Clock {
    Arc::new(move || ms)
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cloud")
        .join(name)
}

pub async fn start_gateway(faults: CloudFaults) -> CloudSim {
    start_gateway_at(faults, fixed_clock(NOW_MS)).await
}

/// A gateway on `clock`; the lane's client reads the system clock, so a gateway for a
/// lane does too (only their difference matters, never the date).
pub async fn start_gateway_at(faults: CloudFaults, clock: Clock) -> CloudSim {
    let app = keys::load_public("app key", &fixture("app_public.pem")).unwrap();
    let key = keys::load_private(&fixture("gateway_private_pkcs8.pem")).unwrap();
    CloudSim::start("127.0.0.1:0".parse().unwrap(), app, key, clock, faults)
        .await
        .expect("gateway starts")
}

pub fn settings(url: &str) -> CloudSettings {
    CloudSettings {
        url: url.to_string(),
        app_id: "cloud-test-app".into(),
        merchant_no: "M-TEST".into(),
        store_no: None,
        terminal_sn: Some("SN-LANE".into()),
        key: keys::load_private(&fixture("app_private_pkcs1.pem")).unwrap(),
        private_key_path: fixture("app_private_pkcs1.pem"),
        gateway_key: keys::load_gateway(&fixture("gateway_public.pem")).unwrap(),
        methods: Methods::default(),
        timeout: Duration::from_millis(800),
    }
}

/// A `[cloud]` table for the real binary's config file, keys by absolute path.
pub fn cloud_table(url: &str) -> String {
    format!(
        "[cloud]\nurl = \"{url}\"\napp_id = \"cloud-test-app\"\nmerchant_no = \"M-TEST\"\nterminal_sn = \"SN-LANE\"\nprivate_key = \"{}\"\ngateway_public_key = \"{}\"\n",
        fixture("app_private_pkcs1.pem").display(),
        fixture("gateway_public.pem").display()
    )
}
