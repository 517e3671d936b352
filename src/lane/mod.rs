//! The lane actor: one task that owns the link to the terminal and the journal, so the
//! screen and the command line share one money-safety path.
//!
//! Every money-moving request is journaled and committed before its frame is sent; an
//! unknown outcome is resolved with `ecrhub.pay.query` until the terminal gives a
//! definite answer; nothing money-moving is ever re-sent.

mod actor;
mod command;
mod options;
mod original;
mod owner;

pub(crate) use crate::journal::Via;
/// Which terminal the lane talks to, as `Command::Retarget` takes it.
pub(crate) use crate::link::Target;
pub(crate) use actor::spawn_opening;
pub use actor::{LaneHandle, spawn};
pub(crate) use command::PausePoint;
pub use command::{
    Event, Forwarded, LinkNews, PayRequest, QueryResult, Refusal, Route, Settings, Step,
};
pub use options::{Description, DescriptionError, SaleOptions};
pub use owner::{LaneOwner, OwnerError};
