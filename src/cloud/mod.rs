//! The vendor's cloud Open API, for what the LAN cannot do: refund, void, query and
//! tip-adjust a payment made on another terminal, close every terminal's batch, push a
//! sale to a terminal in Cloud mode. Signed requests, verified answers; the lane judges
//! the answers with the same outcome rules as the terminal's.

pub(crate) mod client;
pub mod keys;
pub(crate) mod methods;
pub mod reach;
pub(crate) mod settings;
pub mod sign;
pub mod wire;

pub use client::{Clock, CloudClient, system_clock};
pub use keys::{AppKey, KeyError};
pub use methods::Methods;
pub(crate) use methods::MethodsFile;
pub use settings::CloudSettings;
pub use wire::{Decoded, Terminal};

/// The gateway refuses requests whose timestamp is further than this from its clock.
pub(crate) const SKEW_LIMIT_MS: i64 = 15 * 60 * 1000;
