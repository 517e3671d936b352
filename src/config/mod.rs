//! Typed, layered configuration: defaults < config file < environment < flags, with
//! where each value came from (for `till config` and for a technician's questions).
//! The arrows go one way: this room builds the lane's, the link's and the cloud's
//! settings from what it loads; none of them reads a config.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Unexpected, Visitor};

pub(crate) mod cloud;
pub(crate) mod sourced;

pub(crate) use sourced::{Env, Row};
use sourced::{NOT_SET, line_in_table, line_of, or_say, origin, shown_app_id};
pub use sourced::{Source, Sourced, process_env};

use cloud::{CloudConfig, CloudFile, CloudFlags};

use crate::cloud::CloudSettings;
use crate::discover::{DEFAULT_INTERFACE, parse_interface};
use crate::ecr::Receipts;
use crate::lane::{SaleOptions, Settings};
use crate::link::AddressError;
use crate::link::{LinkConfig, Target};
use crate::logging::Limits;
use crate::money::{Money, exponent_of};
use crate::store::StoreUrl;
use crate::store::UrlText;
use crate::supervisor_pin::tries::Tries;
use crate::supervisor_pin::{PinHash, Policy};
use crate::terminal_reach::Reach;

/// The sane range of each `*_secs` key, in seconds (README's config table says the
/// same). Outside it a value is a configuration error, never a deadline that overflows.
pub const HEARTBEAT_SECS: RangeInclusive<u64> = 1..=3600;
pub const CONNECT_TIMEOUT_SECS: RangeInclusive<u64> = 1..=600;
pub const REQUEST_TIMEOUT_SECS: RangeInclusive<u64> = 1..=3600;
pub const CARD_FLOW_TIMEOUT_SECS: RangeInclusive<u64> = 1..=3600;
pub const DUPLICATE_WINDOW_SECS: RangeInclusive<u64> = 0..=86400;
/// `archive_after_days`: at least a day, at most a century.
pub(crate) const ARCHIVE_AFTER_DAYS: RangeInclusive<u64> = 1..=36500;
/// `log_max_mb`: the log directory's size cap, in MiB.
pub(crate) const LOG_MAX_MB: RangeInclusive<u64> = 1..=100_000;
/// `log_keep_days`: how long a day's log file is kept.
pub(crate) const LOG_KEEP_DAYS: RangeInclusive<u64> = 1..=3650;

/// The config file, `till/config.toml` in the XDG config dir. Every key is optional;
/// an unknown key is an error so a typo does not silently do nothing.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    pub(crate) url: Option<String>,
    pub(crate) app_id: Option<String>,
    pub(crate) lane: Option<String>,
    pub(crate) currency: Option<String>,
    pub(crate) theme: Option<String>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) heartbeat_secs: Option<u64>,
    pub(crate) connect_timeout_secs: Option<u64>,
    pub(crate) request_timeout_secs: Option<u64>,
    pub(crate) card_flow_timeout_secs: Option<u64>,
    pub(crate) duplicate_window_secs: Option<u64>,
    /// `till archive` moves closed batches older than this many days.
    pub(crate) archive_after_days: Option<u64>,
    /// The log directory's size cap (MiB) and how many days a log file is kept.
    pub(crate) log_max_mb: Option<u64>,
    pub(crate) log_keep_days: Option<u64>,
    /// The lane's terminal options, under what a sale, refund or void sets itself.
    pub(crate) on_screen_tip: Option<bool>,
    pub(crate) on_screen_signature: Option<bool>,
    pub(crate) confirm_on_terminal: Option<bool>,
    #[serde(default, deserialize_with = "receipts")]
    pub(crate) receipt: Option<Receipts>,
    /// Amounts above this (major units, e.g. "10000.00") ask the cashier first.
    pub(crate) confirm_above: Option<String>,
    /// The supervisor PIN's Argon2id hash (PHC string), written by `till config set-pin`.
    pub(crate) supervisor_pin_hash: Option<String>,
    /// Referenced refunds above this (major units, e.g. "50.00") need the supervisor PIN.
    pub(crate) supervisor_refund_above: Option<String>,
    /// The IPv4 address of the interface mDNS uses (discovery, `url = "sn:..."`).
    pub(crate) mdns_interface: Option<String>,
    /// The store's PostgreSQL URL (`postgres://…`): every lane's rows in one place.
    pub(crate) store_url: Option<UrlText>,
    /// The vendor's cloud Open API (optional).
    pub(crate) cloud: Option<CloudFile>,
}

/// `receipt = "none" | "merchant" | "customer" | "both"` (any case); anything else is
/// the parser's error, with its line and the words it takes.
fn receipts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Receipts>, D::Error> {
    struct Words;
    impl Visitor<'_> for Words {
        type Value = Receipts;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("\"none\", \"merchant\", \"customer\" or \"both\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Receipts, E> {
            Receipts::from_name(v).ok_or_else(|| E::invalid_value(Unexpected::Str(v), &self))
        }
    }
    d.deserialize_any(Words).map(Some)
}

/// Values given on the command line (None where not given).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub url: Option<String>,
    pub app_id: Option<String>,
    pub lane: Option<String>,
    pub theme: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub mdns_interface: Option<String>,
    pub store_url: Option<UrlText>,
    pub cloud: CloudFlags,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) file: Option<PathBuf>,
    pub url: Sourced<Option<String>>,
    pub app_id: Sourced<Option<String>>,
    pub lane: Sourced<String>,
    pub currency: Sourced<String>,
    pub(crate) theme: Sourced<String>,
    pub data_dir: Sourced<PathBuf>,
    pub heartbeat_secs: Sourced<u64>,
    pub(crate) connect_timeout_secs: Sourced<u64>,
    pub request_timeout_secs: Sourced<u64>,
    pub(crate) card_flow_timeout_secs: Sourced<u64>,
    pub duplicate_window_secs: Sourced<u64>,
    pub archive_after_days: Sourced<u64>,
    pub(crate) log_max_mb: Sourced<u64>,
    pub(crate) log_keep_days: Sourced<u64>,
    /// The lane's terminal options (None: the terminal's own setting).
    pub(crate) on_screen_tip: Sourced<Option<bool>>,
    pub on_screen_signature: Sourced<Option<bool>>,
    pub(crate) confirm_on_terminal: Sourced<Option<bool>>,
    pub receipt: Sourced<Option<Receipts>>,
    pub(crate) confirm_above: Sourced<String>,
    /// The supervisor PIN's hash as the file has it (checked by `load`; see
    /// `supervisor()`). Never shown: `till config` says only whether it is set.
    pub supervisor_pin_hash: Sourced<Option<String>>,
    pub(crate) supervisor_refund_above: Sourced<Option<String>>,
    /// Checked by `load`; see `mdns_interface()`.
    pub mdns_interface: Sourced<String>,
    /// Checked by `load` to be a PostgreSQL URL; never shown with its password.
    pub(crate) store_url: Sourced<Option<UrlText>>,
    /// `[cloud]`; its keys are read by `load`.
    pub(crate) cloud: CloudConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no terminal address: set --url, TILL_URL or `url` in the config file (or try --demo)")]
    NoUrl,
    #[error("no app id: set --app-id, TILL_APP_ID or `app_id` in the config file")]
    NoAppId,
    #[error("terminal address: {0}")]
    Address(#[from] AddressError),
    #[error("{0}")]
    Invalid(String),
    #[error("{key} = {value} ({origin}) is out of range: use {min} to {max} seconds")]
    OutOfRange {
        key: &'static str,
        value: u64,
        /// Where the value came from, with the file's line when known.
        origin: String,
        min: u64,
        max: u64,
    },
}

/// The environment, read through a function so tests need not touch the process's.
pub(crate) fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "till").map(|d| d.config_dir().join("config.toml"))
}

pub(crate) fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "till")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".till"))
}

impl Config {
    /// Layers defaults, the file (`explicit` or the default path; a missing default
    /// file is fine, a missing explicit one is not), the environment and the flags.
    pub fn load(
        explicit: Option<&Path>,
        env: Env<'_>,
        flags: &Overrides,
    ) -> Result<Config, ConfigError> {
        let (path, required) = match file_path(explicit, env) {
            Some((p, required)) => (Some(p), required),
            None => (None, false),
        };
        let file = match &path {
            Some(p) => read_file(p, required)?,
            None => None,
        };
        let mut cfg = Config::defaults();
        let mut file_text = None;
        if let (Some((file, text)), Some(path)) = (file, &path) {
            cfg.file = Some(path.clone());
            cfg.apply_file(file, Source::File(path.clone()));
            file_text = Some(text);
        }
        cfg.apply_env(env);
        let flag = Source::Flag;
        cfg.url.set(flags.url.clone().map(Some), flag.clone());
        cfg.app_id.set(flags.app_id.clone().map(Some), flag.clone());
        cfg.lane.set(flags.lane.clone(), flag.clone());
        cfg.theme.set(flags.theme.clone(), flag.clone());
        cfg.data_dir.set(flags.data_dir.clone(), flag.clone());
        cfg.store_url
            .set(flags.store_url.clone().map(Some), flag.clone());
        cfg.mdns_interface.set(flags.mdns_interface.clone(), flag);
        cfg.cloud.apply_flags(&flags.cloud);
        cfg.validate(file_text.as_deref())?;
        Ok(cfg)
    }

    fn defaults() -> Config {
        Config {
            file: None,
            url: Sourced::default(None),
            app_id: Sourced::default(None),
            lane: Sourced::default("L01".into()),
            currency: Sourced::default("USD".into()),
            theme: Sourced::default("default".into()),
            data_dir: Sourced::default(default_data_dir()),
            heartbeat_secs: Sourced::default(5),
            connect_timeout_secs: Sourced::default(10),
            request_timeout_secs: Sourced::default(15),
            card_flow_timeout_secs: Sourced::default(300),
            duplicate_window_secs: Sourced::default(120),
            // Over a year: this year's and last year's refunds still find their sale.
            archive_after_days: Sourced::default(400),
            log_max_mb: Sourced::default(100),
            log_keep_days: Sourced::default(30),
            on_screen_tip: Sourced::default(None),
            on_screen_signature: Sourced::default(None),
            confirm_on_terminal: Sourced::default(None),
            receipt: Sourced::default(None),
            // Ten thousand in the currency's major units, whatever its decimals.
            confirm_above: Sourced::default("10000".into()),
            supervisor_pin_hash: Sourced::default(None),
            supervisor_refund_above: Sourced::default(None),
            mdns_interface: Sourced::default(DEFAULT_INTERFACE.to_string()),
            store_url: Sourced::default(None),
            cloud: CloudConfig::default(),
        }
    }

    fn apply_file(&mut self, f: FileConfig, src: Source) {
        self.url.set(f.url.map(Some), src.clone());
        self.app_id.set(f.app_id.map(Some), src.clone());
        self.lane.set(f.lane, src.clone());
        self.currency.set(f.currency, src.clone());
        self.confirm_above.set(f.confirm_above, src.clone());
        self.theme.set(f.theme, src.clone());
        self.data_dir.set(f.data_dir, src.clone());
        self.heartbeat_secs.set(f.heartbeat_secs, src.clone());
        self.connect_timeout_secs
            .set(f.connect_timeout_secs, src.clone());
        self.request_timeout_secs
            .set(f.request_timeout_secs, src.clone());
        self.card_flow_timeout_secs
            .set(f.card_flow_timeout_secs, src.clone());
        self.duplicate_window_secs
            .set(f.duplicate_window_secs, src.clone());
        self.archive_after_days
            .set(f.archive_after_days, src.clone());
        self.log_max_mb.set(f.log_max_mb, src.clone());
        self.log_keep_days.set(f.log_keep_days, src.clone());
        self.on_screen_tip
            .set(f.on_screen_tip.map(Some), src.clone());
        self.on_screen_signature
            .set(f.on_screen_signature.map(Some), src.clone());
        self.confirm_on_terminal
            .set(f.confirm_on_terminal.map(Some), src.clone());
        self.receipt.set(f.receipt.map(Some), src.clone());
        self.supervisor_pin_hash
            .set(f.supervisor_pin_hash.map(Some), src.clone());
        self.supervisor_refund_above
            .set(f.supervisor_refund_above.map(Some), src.clone());
        self.store_url.set(f.store_url.map(Some), src.clone());
        if let (Some(cloud), Source::File(path)) = (&f.cloud, &src) {
            self.cloud.apply_file(cloud, path);
        }
        self.mdns_interface.set(f.mdns_interface, src);
    }

    fn apply_env(&mut self, env: Env<'_>) {
        self.url
            .set(env("TILL_URL").map(Some), Source::Env("TILL_URL"));
        self.app_id
            .set(env("TILL_APP_ID").map(Some), Source::Env("TILL_APP_ID"));
        self.lane.set(env("TILL_LANE"), Source::Env("TILL_LANE"));
        self.data_dir.set(
            env("TILL_DATA_DIR").map(PathBuf::from),
            Source::Env("TILL_DATA_DIR"),
        );
        self.mdns_interface.set(
            env("TILL_MDNS_INTERFACE"),
            Source::Env("TILL_MDNS_INTERFACE"),
        );
        self.store_url.set(
            env("TILL_STORE_URL").map(|u| Some(UrlText::new(u))),
            Source::Env("TILL_STORE_URL"),
        );
        self.cloud.apply_env(env);
    }

    /// Checks and normalises; `file_text` is the config file's text, to name the line
    /// of a bad value.
    // Long on purpose: one check per key, each a few lines, read top to bottom.
    fn validate(&mut self, file_text: Option<&str>) -> Result<(), ConfigError> {
        let lane = self.lane.value.trim().to_ascii_uppercase();
        if lane.is_empty() || lane.len() > 8 || !lane.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ConfigError::Invalid(format!(
                "lane id '{}' ({}): use 1 to 8 letters or digits, like L01",
                self.lane.value, self.lane.source
            )));
        }
        self.lane.value = lane;
        let currency = self.currency.value.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ConfigError::Invalid(format!(
                "currency '{}' ({}): use a three-letter ISO 4217 code like USD",
                self.currency.value, self.currency.source
            )));
        }
        self.currency.value = currency;
        if let Some(app_id) = &self.app_id.value {
            let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
            if app_id.is_empty() || app_id.len() > 64 || !app_id.chars().all(ok) {
                return Err(ConfigError::Invalid(format!(
                    "app_id ({}): use the app id the vendor issued, 1 to 64 letters, digits, '-', '_' or '.'",
                    origin(&self.app_id.source, file_text, "app_id")
                )));
            }
        }
        if let Err(e) = Money::parse(&self.confirm_above.value, self.exponent()) {
            let origin = match (&self.confirm_above.source, file_text) {
                (Source::File(_), Some(text)) => line_of(text, "confirm_above")
                    .map(|line| format!("{} line {line}", self.confirm_above.source)),
                _ => None,
            }
            .unwrap_or_else(|| self.confirm_above.source.to_string());
            return Err(ConfigError::Invalid(format!(
                "confirm_above = \"{}\" ({origin}): {e}; use an amount like \"10000.00\"",
                self.confirm_above.value
            )));
        }
        self.supervisor_in(file_text)?;
        for (key, value, range, unit) in [
            (
                "archive_after_days",
                &self.archive_after_days,
                ARCHIVE_AFTER_DAYS,
                "days",
            ),
            ("log_max_mb", &self.log_max_mb, LOG_MAX_MB, "MiB"),
            ("log_keep_days", &self.log_keep_days, LOG_KEEP_DAYS, "days"),
        ] {
            if !range.contains(&value.value) {
                return Err(ConfigError::Invalid(format!(
                    "{key} = {} ({}) is out of range: use {} to {} {unit}",
                    value.value,
                    origin(&value.source, file_text, key),
                    range.start(),
                    range.end()
                )));
            }
        }
        if let Some(url) = &self.store_url.value
            && let Err(e) = StoreUrl::parse(url)
        {
            return Err(ConfigError::Invalid(format!(
                "store_url ({}): {e}",
                origin(&self.store_url.source, file_text, "store_url")
            )));
        }
        let interface = &self.mdns_interface;
        parse_interface(&interface.value).map_err(|e| {
            ConfigError::Invalid(format!(
                "mdns_interface ({}): {e}",
                origin(&interface.source, file_text, "mdns_interface")
            ))
        })?;
        self.cloud
            .check(&|source, key| match (source, file_text) {
                (Source::File(_), Some(text)) => match line_in_table(text, "cloud", key) {
                    Some(line) => format!("{source} line {line}"),
                    None => source.to_string(),
                },
                _ => source.to_string(),
            })
            .map_err(ConfigError::Invalid)?;
        for (key, sourced, range) in self.secs() {
            if !range.contains(&sourced.value) {
                let line = match (&sourced.source, file_text) {
                    (Source::File(_), Some(text)) => line_of(text, key),
                    _ => None,
                };
                let origin = match line {
                    Some(line) => format!("{} line {line}", sourced.source),
                    None => sourced.source.to_string(),
                };
                return Err(ConfigError::OutOfRange {
                    key,
                    value: sourced.value,
                    origin,
                    min: *range.start(),
                    max: *range.end(),
                });
            }
        }
        Ok(())
    }

    /// Every `*_secs` key with its value and its sane range.
    fn secs(&self) -> [(&'static str, &Sourced<u64>, RangeInclusive<u64>); 5] {
        [
            ("heartbeat_secs", &self.heartbeat_secs, HEARTBEAT_SECS),
            (
                "connect_timeout_secs",
                &self.connect_timeout_secs,
                CONNECT_TIMEOUT_SECS,
            ),
            (
                "request_timeout_secs",
                &self.request_timeout_secs,
                REQUEST_TIMEOUT_SECS,
            ),
            (
                "card_flow_timeout_secs",
                &self.card_flow_timeout_secs,
                CARD_FLOW_TIMEOUT_SECS,
            ),
            (
                "duplicate_window_secs",
                &self.duplicate_window_secs,
                DUPLICATE_WINDOW_SECS,
            ),
        ]
    }

    /// The interface mDNS uses (checked by `load`; the default for a Config changed since).
    /// Where saving writes: the file loaded (or named), else the default one.
    pub(crate) fn save_path(&self) -> Option<PathBuf> {
        self.file.clone().or_else(default_config_path)
    }

    /// When the config file was last written, and its length: a change is news to a
    /// till that runs for long (it reads the file again).
    pub(crate) fn file_stamp(&self) -> Option<(std::time::SystemTime, u64)> {
        let meta = std::fs::metadata(self.save_path()?).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    }

    pub fn mdns_interface(&self) -> Ipv4Addr {
        parse_interface(&self.mdns_interface.value).unwrap_or(DEFAULT_INTERFACE)
    }

    pub(crate) fn exponent(&self) -> u8 {
        exponent_of(&self.currency.value)
    }

    /// What needs the supervisor PIN, and the PIN's hash. `load` has checked both keys;
    /// a Config changed since says here what is wrong with it.
    pub fn supervisor(&self) -> Result<Policy, ConfigError> {
        self.supervisor_in(None)
    }

    /// The supervisor policy; `file_text` names the line of a bad value.
    fn supervisor_in(&self, file_text: Option<&str>) -> Result<Policy, ConfigError> {
        let hash = &self.supervisor_pin_hash;
        let pin = match &hash.value {
            Some(text) => Some(PinHash::parse(text).map_err(|e| {
                ConfigError::Invalid(format!(
                    "supervisor_pin_hash ({}): {e}; set the PIN again with `till config set-pin`, or remove the key",
                    origin(&hash.source, file_text, "supervisor_pin_hash")
                ))
            })?),
            None => None,
        };
        let above = &self.supervisor_refund_above;
        let refund_above = match &above.value {
            Some(text) => Some(Money::parse(text, self.exponent()).map_err(|e| {
                ConfigError::Invalid(format!(
                    "supervisor_refund_above = \"{text}\" ({}): {e}; use an amount like \"50.00\"",
                    origin(&above.source, file_text, "supervisor_refund_above")
                ))
            })?),
            None => None,
        };
        // The hash is read from a file only; its wrong tries are counted beside it.
        let tries = match &hash.source {
            Source::File(path) => Some(Tries::beside(path)),
            _ => None,
        };
        Ok(Policy {
            pin,
            refund_above,
            tries,
        })
    }

    /// Amounts above this ask the cashier before they go to the terminal.
    pub fn confirm_above(&self) -> Money {
        // Checked when the config was loaded.
        Money::parse(&self.confirm_above.value, self.exponent())
            .unwrap_or_else(|_| Money::zero(self.exponent()))
    }

    /// The log directory's limits (checked by `load`; clamped for a Config made since).
    pub fn log_limits(&self) -> Limits {
        let mb = self
            .log_max_mb
            .value
            .clamp(*LOG_MAX_MB.start(), *LOG_MAX_MB.end());
        let days = self
            .log_keep_days
            .value
            .clamp(*LOG_KEEP_DAYS.start(), *LOG_KEEP_DAYS.end());
        Limits {
            max_bytes: mb * 1024 * 1024,
            keep_days: u32::try_from(days).unwrap_or(u32::MAX),
        }
    }

    /// The lane's settings, in one place for the screen and the command line.
    pub(crate) fn lane_settings(&self) -> Result<Settings, ConfigError> {
        let mut settings = Settings::new(self.link()?, self.lane.value.clone());
        settings.currency = self.currency.value.clone();
        settings.exponent = self.exponent();
        settings.duplicate_window = self.duplicate_window();
        settings.sale_defaults = self.sale_options();
        settings.cloud = self.cloud();
        Ok(settings)
    }

    /// What a check-up of the way to the terminal looks at.
    pub(crate) fn terminal_reach(&self) -> Reach {
        let secs = |value: u64, range: RangeInclusive<u64>| {
            Duration::from_secs(value.clamp(*range.start(), *range.end()))
        };
        Reach {
            url: self.url.value.clone(),
            source: self.url.source.to_string(),
            mdns_interface: self.mdns_interface(),
            connect_timeout: secs(self.connect_timeout_secs.value, CONNECT_TIMEOUT_SECS),
            request_timeout: secs(self.request_timeout_secs.value, REQUEST_TIMEOUT_SECS),
        }
    }

    /// The cloud gateway's settings, when `[cloud]` is configured.
    pub fn cloud(&self) -> Option<CloudSettings> {
        let range = REQUEST_TIMEOUT_SECS;
        let timeout = self
            .request_timeout_secs
            .value
            .clamp(*range.start(), *range.end());
        self.cloud.settings(Duration::from_secs(timeout))
    }

    /// The link settings, or why the terminal cannot be reached with this config.
    pub fn link(&self) -> Result<LinkConfig, ConfigError> {
        let url = self.url.value.as_deref().ok_or(ConfigError::NoUrl)?;
        let app_id = self.app_id.value.as_deref().ok_or(ConfigError::NoAppId)?;
        let mut link = LinkConfig::new(Target::parse(url)?, app_id);
        link.mdns_interface = self.mdns_interface();
        // `load` refused values out of range; clamped again so that no Config, however
        // made, gives a deadline that overflows.
        let secs = |value: u64, range: RangeInclusive<u64>| {
            Duration::from_secs(value.clamp(*range.start(), *range.end()))
        };
        link.heartbeat_every = secs(self.heartbeat_secs.value, HEARTBEAT_SECS);
        // Three missed heartbeats (and a little) make a dead link.
        link.dead_after = link.heartbeat_every * 3 + Duration::from_secs(1);
        link.connect_timeout = secs(self.connect_timeout_secs.value, CONNECT_TIMEOUT_SECS);
        link.request_timeout = secs(self.request_timeout_secs.value, REQUEST_TIMEOUT_SECS);
        link.card_flow_timeout = secs(self.card_flow_timeout_secs.value, CARD_FLOW_TIMEOUT_SECS);
        Ok(link)
    }

    /// How long an approved sale of the same amount makes a new one a possible
    /// duplicate (within its sane range, however the Config was made).
    pub fn duplicate_window(&self) -> Duration {
        let range = DUPLICATE_WINDOW_SECS;
        Duration::from_secs(
            self.duplicate_window_secs
                .value
                .clamp(*range.start(), *range.end()),
        )
    }

    /// The lane's terminal options, for what a payment does not set itself.
    pub fn sale_options(&self) -> SaleOptions {
        SaleOptions {
            tip_on_terminal: self.on_screen_tip.value,
            signature_on_terminal: self.on_screen_signature.value,
            confirm_on_terminal: self.confirm_on_terminal.value,
            receipts: self.receipt.value,
            description: None,
        }
    }

    /// `key = value  # source` lines for `till config`, app id partly masked; the cloud's
    /// private key by its path only.
    pub fn describe(&self) -> Vec<Row> {
        let mut rows = self.describe_lan();
        if self.cloud.is_configured() {
            rows.extend(self.cloud.describe());
        }
        rows
    }

    fn describe_lan(&self) -> Vec<Row> {
        let url = |v: &Option<String>| or_say(v, NOT_SET);
        let terminal = |v: Option<String>| v.unwrap_or_else(|| "(the terminal's setting)".into());
        let flag = |v: &Option<bool>| terminal(v.map(|b| b.to_string()));
        let number = |v: &u64| v.to_string();
        vec![
            self.url.row("url", url),
            self.app_id.row("app_id", shown_app_id),
            self.lane.row("lane", Clone::clone),
            self.currency.row("currency", Clone::clone),
            self.theme.row("theme", Clone::clone),
            self.confirm_above.row("confirm_above", Clone::clone),
            self.data_dir.row("data_dir", |v| v.display().to_string()),
            self.heartbeat_secs.row("heartbeat_secs", number),
            self.connect_timeout_secs
                .row("connect_timeout_secs", number),
            self.request_timeout_secs
                .row("request_timeout_secs", number),
            self.card_flow_timeout_secs
                .row("card_flow_timeout_secs", number),
            self.duplicate_window_secs
                .row("duplicate_window_secs", number),
            self.archive_after_days.row("archive_after_days", number),
            self.log_max_mb.row("log_max_mb", number),
            self.log_keep_days.row("log_keep_days", number),
            self.on_screen_tip.row("on_screen_tip", flag),
            self.on_screen_signature.row("on_screen_signature", flag),
            self.confirm_on_terminal.row("confirm_on_terminal", flag),
            self.receipt
                .row("receipt", |v| terminal(v.map(|r| r.name().to_string()))),
            self.supervisor_pin_hash.row("supervisor_pin_hash", |v| {
                if v.is_some() { "set" } else { "not set" }.into()
            }),
            self.supervisor_refund_above
                .row("supervisor_refund_above", |v| {
                    or_say(v, "(none: referenced refunds need no PIN)")
                }),
            self.mdns_interface.row("mdns_interface", Clone::clone),
            self.store_url.row("store_url", |v| {
                v.as_deref().map_or_else(
                    || "(none: this lane's journal only)".into(),
                    StoreUrl::shown,
                )
            }),
        ]
    }
}

/// The config file's path: `explicit` (`--config`), else `TILL_CONFIG`, else the XDG
/// default; and whether it must exist (it must when it was named).
pub(crate) fn file_path(explicit: Option<&Path>, env: Env<'_>) -> Option<(PathBuf, bool)> {
    match explicit
        .map(Path::to_path_buf)
        .or_else(|| env("TILL_CONFIG").map(PathBuf::from))
    {
        Some(p) => Some((p, true)),
        None => default_config_path().map(|p| (p, false)),
    }
}

/// Saves `url` as the terminal to talk to (what pairing accepted, or a found terminal).
pub(crate) fn save_url(path: &Path, url: &str) -> Result<(), ConfigError> {
    save_keys(path, &[("url", Saved::Text(url.to_string()))])
}

/// A value `save_keys` writes under a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Saved {
    Text(String),
    Flag(bool),
    /// The key is removed: its default (or the terminal's own setting) applies.
    Unset,
}

/// Sets or removes top-level keys of a config file, keeping every other key, every
/// comment and the layout; creates the file and its directory when there is none. A
/// file that is not TOML is left as it is (an error): it is never replaced by what
/// little could be saved, and neither is a good file by one that would not load (a bad
/// lane, currency, amount or address is refused with the loader's own message). The new
/// text replaces the old in one rename, with the old file's permissions (a new file is
/// readable by its owner only).
pub fn save_keys(path: &Path, keys: &[(&str, Saved)]) -> Result<(), ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(read_error(e)),
    };
    let mut doc: toml_edit::DocumentMut =
        text.as_deref()
            .unwrap_or("")
            .parse()
            .map_err(|e: toml_edit::TomlError| ConfigError::Parse {
                path: path.to_path_buf(),
                message: format!("not changed, it does not read as TOML: {e}"),
            })?;
    for (key, saved) in keys {
        let value = match saved {
            Saved::Text(text) => toml_edit::Value::from(text.as_str()),
            Saved::Flag(flag) => toml_edit::Value::from(*flag),
            Saved::Unset => {
                doc.remove(key);
                continue;
            }
        };
        match doc.get_mut(key).and_then(|item| item.as_value_mut()) {
            // A value already there keeps its comment and spacing.
            Some(old) => {
                let decor = old.decor().clone();
                *old = value;
                *old.decor_mut() = decor;
            }
            None => doc[*key] = toml_edit::value(value),
        }
    }
    check_text(path, &doc.to_string())?;
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::PermissionsExt;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir)?;
        let permissions = match std::fs::metadata(path) {
            Ok(meta) => meta.permissions(),
            Err(_) => std::fs::Permissions::from_mode(0o600),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "config.toml".into());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            file.set_permissions(permissions)?;
            file.write_all(doc.to_string().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    };
    write().map_err(read_error)
}

/// Whether `text` would load as the config file at `path`: what `Config::load` checks of
/// a file, and the terminal's address.
fn check_text(path: &Path, text: &str) -> Result<(), ConfigError> {
    let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: format!("not changed: {e}"),
    })?;
    let mut cfg = Config::defaults();
    cfg.apply_file(file, Source::File(path.to_path_buf()));
    cfg.validate(Some(text))?;
    if let Some(url) = &cfg.url.value {
        Target::parse(url)?;
    }
    Ok(())
}

/// The key set on the line holding byte `offset` of a TOML text, if that line is a
/// plain `key = value`.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(start..)?.lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    plain.then(|| key.to_string())
}

/// The parsed file and its text.
fn read_file(path: &Path, required: bool) -> Result<Option<(FileConfig, String)>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    match toml::from_str(&text) {
        Ok(file) => Ok(Some((file, text))),
        Err(e) => {
            // The parser names the line; the key is said first, as the range errors do.
            let key = e.span().and_then(|span| key_at(&text, span.start));
            Err(ConfigError::Parse {
                path: path.to_path_buf(),
                message: match key {
                    Some(key) => format!("{key}: {e}"),
                    None => e.to_string(),
                },
            })
        }
    }
}
