//! till: a keyboard-first cashier app that drives a CodePay terminal over ECR Hub.

pub mod cli;
pub mod config;
pub mod ecr;
pub mod headless;
pub mod journal;
pub mod lane;
pub mod link;
pub mod logging;
pub mod mask;
pub mod money;
pub mod sim;
pub mod supervisor;
pub mod tui;
