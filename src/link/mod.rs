//! The WebSocket link to the terminal, one room per job: `address` (what a cashier types,
//! as a URL), `config` (deadlines), `dial` (finding and reaching the terminal),
//! `session` (the `Link` its owner drives: init, heartbeat, request matching,
//! reconnection), `news` (what it tells its owner) and `timing` (deadlines, backoff).

pub(crate) mod address;
mod config;
mod dial;
mod news;
mod session;
mod timing;

pub(crate) use crate::ecr::{Answer, Direction};
pub use address::{AddressError, Endpoint, Target, located};
pub use config::LinkConfig;
pub use news::{ConnectError, LinkEvent, LinkState, SendError};
pub use session::Link;
pub(crate) use timing::{backoff, instant_after};
