//! Whether the cloud gateway can be reached and trusts this register, for `till doctor`: the keys sign and verify, a signed query for an
//! order no one has is answered with a signature the gateway's key verifies, and this
//! register's clock is within the gateway's 15-minute window.

use serde_json::{Map, Value};

use super::wire::Decoded;
use super::{CloudClient, SKEW_LIMIT_MS, sign};
use crate::terminal_reach::Check;

const KEYS_FIX: &str = "private_key must be the app's RSA private key (PKCS#1 or PKCS#8 PEM) whose public half the gateway holds for app_id";

/// The cloud's steps, each with its fix when it fails.
pub async fn steps(client: &CloudClient, order_no: &str) -> Vec<Check> {
    let settings = client.settings();
    let mut steps = Vec::new();
    let mut probe = Map::new();
    probe.insert("probe".into(), Value::from("till doctor"));
    let signed = sign::sign(&settings.key, &probe).and_then(|s| {
        probe.insert("sign".into(), s.into());
        sign::verify(&settings.key.public(), &probe)
    });
    steps.push(match signed {
        Ok(()) => Check::pass(
            "cloud keys",
            format!(
                "the app key ({}) signs and its public half verifies; the gateway key is loaded",
                settings.private_key_path.display()
            ),
        ),
        Err(e) => Check::fail("cloud keys", e.to_string(), KEYS_FIX.into()),
    });

    let (answer, gateway_ms) = client.probe(order_no).await;
    steps.push(match answer {
        Ok(Decoded::Trusted { reply, psn }) => Check::pass(
            "cloud query",
            format!(
                "a signed query was answered {} {} (psn {}), and the answer verifies",
                reply.response_code.as_deref().unwrap_or("-"),
                reply.message(),
                psn.as_deref().unwrap_or("-")
            ),
        ),
        Ok(Decoded::Untrusted { why }) => Check::fail(
            "cloud query",
            format!("the gateway answered, but the answer cannot be trusted: {why}"),
            "gateway_public_key must be the gateway's public key for this app (from the vendor's portal)".into(),
        ),
        Err(why) => Check::fail(
            "cloud query",
            why,
            format!(
                "check [cloud] url ({}) and that this register reaches it",
                settings.endpoint()
            ),
        ),
    });

    steps.push(match gateway_ms {
        Some(at) => {
            let skew = client.now_ms() - at;
            let minutes = skew as f64 / 60_000.0;
            if skew.abs() <= SKEW_LIMIT_MS {
                Check::pass(
                    "cloud clock",
                    format!("{minutes:+.1} min from the gateway's clock (the gateway allows 15)"),
                )
            } else {
                Check::fail(
                    "cloud clock",
                    format!(
                        "this register's clock is {minutes:+.1} min from the gateway's: it refuses requests more than 15 min off"
                    ),
                    "set the register's clock (NTP)".into(),
                )
            }
        }
        None => Check::pass(
            "cloud clock",
            "the gateway did not say its time: the skew is not known".into(),
        ),
    });
    steps
}
