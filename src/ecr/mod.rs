//! The ECR Hub protocol without I/O: wire types, tolerant decoding, outcome rules.

pub(crate) mod answer;
pub(crate) mod outcome;
pub(crate) mod reply;
pub(crate) mod request;
pub(crate) mod topic;

pub use answer::{Answer, Direction};
pub use outcome::{Outcome, QueryVerdict, outcome, query_verdict};
pub(crate) use outcome::{
    is_not_found, moved_amount, moved_tip, names_other_order, outcome_for, tip_verdict,
};
pub use reply::{BizData, DecodeError, DeviceInfo, Reply};
pub use request::{Operation, Order, OrderOptions, Request};
pub(crate) use request::{new_request_id, now_ms};

/// The port the vendor fixed for ECR Hub.
pub(crate) const DEFAULT_PORT: u16 = 35779;
pub use topic::{PayScenario, Receipts, TransType};
pub(crate) use topic::{Topic, TransStatus};
