//! The `[cloud]` table, its environment variables and flags, layered like the rest of
//! the configuration into the cloud's settings (`cloud::CloudSettings`), so the cloud
//! knows nothing of where its settings came from. `check` reads and checks the keys
//! once, so a bad key is reported at start with its file and line, not at the first
//! refund.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::sourced::{Env, NOT_SET, Row, Source, Sourced, or_say, shown_app_id};
use crate::cloud::keys::{self, AppKey};
use crate::cloud::{CloudSettings, Methods, MethodsFile};

/// `[cloud]` in the config file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloudFile {
    pub(crate) url: Option<String>,
    pub(crate) app_id: Option<String>,
    pub(crate) merchant_no: Option<String>,
    pub(crate) store_no: Option<String>,
    pub(crate) terminal_sn: Option<String>,
    /// Path of the app's private key (PKCS#1 or PKCS#8 PEM).
    pub(crate) private_key: Option<PathBuf>,
    /// Path of the gateway's public key (SPKI PEM or base64 DER).
    pub(crate) gateway_public_key: Option<PathBuf>,
    #[serde(default)]
    pub(crate) methods: MethodsFile,
}

/// Cloud values given on the command line.
#[derive(Clone, Debug, Default)]
pub struct CloudFlags {
    pub(crate) url: Option<String>,
    pub(crate) app_id: Option<String>,
    pub(crate) merchant_no: Option<String>,
    pub(crate) terminal_sn: Option<String>,
    pub(crate) private_key: Option<PathBuf>,
    pub(crate) gateway_public_key: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub(crate) struct CloudConfig {
    pub(crate) url: Sourced<Option<String>>,
    pub(crate) app_id: Sourced<Option<String>>,
    pub(crate) merchant_no: Sourced<Option<String>>,
    pub(crate) store_no: Sourced<Option<String>>,
    pub(crate) terminal_sn: Sourced<Option<String>>,
    pub(crate) private_key: Sourced<Option<PathBuf>>,
    pub(crate) gateway_public_key: Sourced<Option<PathBuf>>,
    pub(crate) methods: Methods,
    pub(crate) methods_source: Source,
    /// The keys, read by `check` (None until then, or with no cloud configured).
    loaded: Option<(AppKey, rsa::RsaPublicKey)>,
}

impl Default for CloudConfig {
    fn default() -> Self {
        CloudConfig {
            url: Sourced::default(None),
            app_id: Sourced::default(None),
            merchant_no: Sourced::default(None),
            store_no: Sourced::default(None),
            terminal_sn: Sourced::default(None),
            private_key: Sourced::default(None),
            gateway_public_key: Sourced::default(None),
            methods: Methods::default(),
            methods_source: Source::Default,
            loaded: None,
        }
    }
}

impl CloudConfig {
    /// The file's table; key paths are taken relative to the file's directory.
    pub(crate) fn apply_file(&mut self, f: &CloudFile, path: &Path) {
        let src = Source::File(path.to_path_buf());
        let dir = path.parent().unwrap_or(Path::new("."));
        let beside = |p: &Option<PathBuf>| p.as_ref().map(|p| Some(dir.join(p)));
        self.url.set(f.url.clone().map(Some), src.clone());
        self.app_id.set(f.app_id.clone().map(Some), src.clone());
        self.merchant_no
            .set(f.merchant_no.clone().map(Some), src.clone());
        self.store_no.set(f.store_no.clone().map(Some), src.clone());
        self.terminal_sn
            .set(f.terminal_sn.clone().map(Some), src.clone());
        self.private_key.set(beside(&f.private_key), src.clone());
        self.gateway_public_key
            .set(beside(&f.gateway_public_key), src.clone());
        if f.methods != MethodsFile::default() {
            self.methods = std::mem::take(&mut self.methods).with(&f.methods);
            self.methods_source = src;
        }
    }

    pub(crate) fn apply_env(&mut self, env: Env<'_>) {
        let text = |var: &'static str| (env(var).map(Some), Source::Env(var));
        let path = |var: &'static str| (env(var).map(|p| Some(PathBuf::from(p))), Source::Env(var));
        let (v, s) = text("TILL_CLOUD_URL");
        self.url.set(v, s);
        let (v, s) = text("TILL_CLOUD_APP_ID");
        self.app_id.set(v, s);
        let (v, s) = text("TILL_CLOUD_MERCHANT_NO");
        self.merchant_no.set(v, s);
        let (v, s) = text("TILL_CLOUD_STORE_NO");
        self.store_no.set(v, s);
        let (v, s) = text("TILL_CLOUD_TERMINAL_SN");
        self.terminal_sn.set(v, s);
        let (v, s) = path("TILL_CLOUD_PRIVATE_KEY");
        self.private_key.set(v, s);
        let (v, s) = path("TILL_CLOUD_GATEWAY_PUBLIC_KEY");
        self.gateway_public_key.set(v, s);
    }

    pub(crate) fn apply_flags(&mut self, flags: &CloudFlags) {
        self.url.set(flags.url.clone().map(Some), Source::Flag);
        self.app_id
            .set(flags.app_id.clone().map(Some), Source::Flag);
        self.merchant_no
            .set(flags.merchant_no.clone().map(Some), Source::Flag);
        self.terminal_sn
            .set(flags.terminal_sn.clone().map(Some), Source::Flag);
        self.private_key
            .set(flags.private_key.clone().map(Some), Source::Flag);
        self.gateway_public_key
            .set(flags.gateway_public_key.clone().map(Some), Source::Flag);
    }

    /// Whether any cloud key is set: then all the required ones must be.
    pub(crate) fn is_configured(&self) -> bool {
        self.url.value.is_some()
            || self.app_id.value.is_some()
            || self.merchant_no.value.is_some()
            || self.private_key.value.is_some()
            || self.gateway_public_key.value.is_some()
    }

    /// Checks the table and reads its keys; `origin` says where a key's value came
    /// from (with its line in the file).
    pub(crate) fn check(&mut self, origin: &dyn Fn(&Source, &str) -> String) -> Result<(), String> {
        if !self.is_configured() {
            return Ok(());
        }
        let missing = |key: &str| {
            format!(
                "[cloud] {key} is not set: the cloud needs url, app_id, merchant_no, private_key and gateway_public_key"
            )
        };
        let url = self.url.value.as_deref().ok_or_else(|| missing("url"))?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "[cloud] url = \"{url}\" ({}): use the gateway's base, like https://gateway.example",
                origin(&self.url.source, "url")
            ));
        }
        self.app_id
            .value
            .as_deref()
            .ok_or_else(|| missing("app_id"))?;
        self.merchant_no
            .value
            .as_deref()
            .ok_or_else(|| missing("merchant_no"))?;
        let private = self
            .private_key
            .value
            .as_deref()
            .ok_or_else(|| missing("private_key"))?;
        let public = self
            .gateway_public_key
            .value
            .as_deref()
            .ok_or_else(|| missing("gateway_public_key"))?;
        let app_key = keys::load_private(private).map_err(|e| {
            format!(
                "[cloud] {e} ({})",
                origin(&self.private_key.source, "private_key")
            )
        })?;
        let gateway_key = keys::load_gateway(public).map_err(|e| {
            format!(
                "[cloud] {e} ({})",
                origin(&self.gateway_public_key.source, "gateway_public_key")
            )
        })?;
        self.loaded = Some((app_key, gateway_key));
        Ok(())
    }

    /// The settings the lane needs, when the cloud is configured (and `check` passed).
    pub(crate) fn settings(&self, timeout: Duration) -> Option<CloudSettings> {
        let (key, gateway_key) = self.loaded.clone()?;
        Some(CloudSettings {
            url: self.url.value.clone()?,
            app_id: self.app_id.value.clone()?,
            merchant_no: self.merchant_no.value.clone()?,
            store_no: self.store_no.value.clone(),
            terminal_sn: self.terminal_sn.value.clone(),
            key,
            private_key_path: self.private_key.value.clone()?,
            gateway_key,
            methods: self.methods.clone(),
            timeout,
        })
    }

    /// `key, value, source` rows for `till config`: the app id masked, keys by path.
    pub(crate) fn describe(&self) -> Vec<Row> {
        let text = |v: &Option<String>| or_say(v, NOT_SET);
        let path = |v: &Option<PathBuf>| {
            v.as_ref()
                .map_or_else(|| NOT_SET.into(), |p| p.display().to_string())
        };
        let m = &self.methods;
        vec![
            self.url.row("cloud.url", text),
            self.app_id.row("cloud.app_id", shown_app_id),
            self.merchant_no.row("cloud.merchant_no", text),
            self.store_no.row("cloud.store_no", text),
            self.terminal_sn.row("cloud.terminal_sn", |v| {
                or_say(v, "(the serial the terminal reports)")
            }),
            self.private_key.row("cloud.private_key", path),
            self.gateway_public_key
                .row("cloud.gateway_public_key", path),
            (
                "cloud.methods".into(),
                format!(
                    "refund {}, void {}, tip {}, batch_close {}",
                    m.refund, m.void, m.tip, m.batch_close
                ),
                self.methods_source.to_string(),
            ),
        ]
    }
}
