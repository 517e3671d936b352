//! till: a keyboard-first cashier app that drives a CodePay terminal over ECR Hub.

pub mod config;
pub mod ecr;
pub mod link;
pub mod mask;
pub mod money;
pub mod tui;
