//! The ECR Hub protocol without I/O: wire types, tolerant decoding, outcome rules.

pub mod answer;
pub mod outcome;
pub mod reply;
pub mod request;
pub mod topic;

pub use answer::{Answer, Direction};
pub use outcome::{
    Outcome, QueryVerdict, Unreadable, is_not_found, moved_amount, moved_tip, names_other_order,
    outcome, outcome_for, query_verdict, tip_verdict,
};
pub use reply::{BizData, DecodeError, DeviceInfo, Reply};
pub use request::{Operation, Order, OrderOptions, Request};
pub use topic::{PayScenario, Receipts, Topic, TransStatus, TransType};
