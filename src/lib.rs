//! till: a keyboard-first cashier app that drives a CodePay terminal over ECR Hub.

pub mod checkup;
pub mod cli;
/// The vendor's cloud Open API: a second way to the terminals, behind the lane.
pub mod cloud;
pub mod config;
/// mDNS / DNS-SD: finding a terminal by its serial, advertising the simulator.
pub mod discover;
pub mod ecr;
pub mod exit;
pub mod headless;
pub mod journal;
pub mod lane;
/// The WebSocket session. Screens and the command line see it only through `lane`'s
/// events (`LinkNews`); the one exception is `headless::doctor` (`ping`, `doctor`),
/// which tests the link itself and moves no money.
pub mod link;
pub mod logging;
pub mod mask;
pub mod money;
/// The lane's owner as a local service: other tills on the lane hand it their requests.
pub mod owner;
/// Terminal-initiated pairing: the register's pairing server and its frames.
pub mod pair;
pub mod progress;
pub mod sim;
pub mod store;
pub mod supervisor;
pub mod tui;
pub mod visible;
