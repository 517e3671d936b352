//! The ECR Hub protocol without I/O: wire types, tolerant decoding, outcome rules.

pub(crate) mod answer;
pub mod outcome;
pub(crate) mod reply;
pub(crate) mod request;
pub(crate) mod topic;

pub use answer::{Answer, Direction};
pub use outcome::{
    Outcome, QueryVerdict, Unreadable, is_not_found, moved_amount, moved_tip, names_other_order,
    outcome, outcome_for, query_verdict, tip_verdict,
};
pub use reply::{BizData, DecodeError, DeviceInfo, Reply};
pub use request::{Operation, Order, OrderOptions, Request, new_request_id, now_ms};

/// The port the vendor fixed for ECR Hub.
pub(crate) const DEFAULT_PORT: u16 = 35779;
pub use topic::{PayScenario, Receipts, Topic, TransStatus, TransType};
