//! A request's end as the register sees it: the terminal's reply (or that none came)
//! and what it means. Made by the link, read by the lane and whoever asked.

use std::time::Duration;

use super::{Outcome, Reply, Topic};

/// Which way a frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub request_id: String,
    pub(crate) topic: Topic,
    pub(crate) order_no: Option<String>,
    pub outcome: Outcome,
    pub reply: Option<Reply>,
    /// Why the outcome is what it is, in words for a log or a technician.
    pub why: String,
    pub(crate) elapsed: Duration,
    /// The reply frame as it arrived, card numbers masked.
    pub raw: Option<String>,
}
