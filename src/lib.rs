//! till: a keyboard-first cashier app that drives a CodePay terminal over ECR Hub.

pub mod ecr;
pub mod mask;
pub mod money;
