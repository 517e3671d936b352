//! The ECR Hub protocol without I/O: wire types, tolerant decoding, outcome rules.

pub mod topic;

pub use topic::{PayScenario, TransStatus, TransType, Topic};
