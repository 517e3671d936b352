//! What the lane needs to reach the gateway: checked and with its keys loaded.

use std::path::PathBuf;
use std::time::Duration;

use rsa::RsaPublicKey;

use super::keys::AppKey;
use super::methods::Methods;

#[derive(Clone, Debug)]
pub struct CloudSettings {
    /// The gateway's base; requests go to `{url}/api/entry`.
    pub url: String,
    pub app_id: String,
    pub merchant_no: String,
    pub store_no: Option<String>,
    /// The lane's terminal; None: the serial the terminal reports over the LAN.
    pub terminal_sn: Option<String>,
    pub key: AppKey,
    /// Where the private key was read from (shown instead of the key).
    pub private_key_path: PathBuf,
    pub gateway_key: RsaPublicKey,
    pub methods: Methods,
    /// One HTTP exchange, connect included.
    pub timeout: Duration,
}

impl CloudSettings {
    pub fn endpoint(&self) -> String {
        format!("{}/api/entry", self.url.trim_end_matches('/'))
    }
}
