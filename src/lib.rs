//! till: a keyboard-first cashier app that drives a CodePay terminal over ECR Hub.
//! One line per room on what it is for; README's "How it is built" draws which way
//! they use each other.

// Walls: `pub` only what the binary, tests and benches use (CI denies unreachable_pub).
#![warn(unreachable_pub)]

/// The command line's arguments (clap).
pub mod cli;
/// The vendor's cloud Open API: a second way to the terminals, behind the lane.
pub mod cloud;
/// Layered settings: defaults < config file < environment < flags, with their origin.
pub mod config;
/// mDNS / DNS-SD: finding a terminal by its serial, advertising the simulator.
pub mod discover;
/// The ECR Hub protocol without I/O: requests, tolerant reply decoding, outcome rules.
pub mod ecr;
/// How work ends, as a person or a script reads it: exit code, failure code, report.
pub mod exit;
/// The commands for scripts and POS software, and `till serve`.
pub mod headless;
/// The write-ahead journal: every request durable before it is sent; reports, search.
pub mod journal;
/// The lane actor: one task owns the link and the journal; the rules and the queue.
pub mod lane;
/// The WebSocket session; the faces see it through `lane`'s events (`doctor` tests it).
pub mod link;
/// Logs through `tracing` to a file a day in the data dir, bounded in size and age.
pub mod logging;
/// PCI: nothing stores, logs or shows more of a card number than first 6 / last 4.
pub mod mask;
/// Money in integer minor units; decimal strings only at the wire.
pub mod money;
/// The lane's owner as a local service: other tills on the lane hand it their requests.
pub mod owner;
/// Terminal-initiated pairing: the register's pairing server and its frames.
pub mod pair;
/// Progress of long work on stderr: a bar on a terminal, a line now and then otherwise.
mod progress;
/// The simulated terminal and cloud gateway, with fault switches.
pub mod sim;
/// The copy of every lane's journal into one PostgreSQL store.
pub mod store;
/// The supervisor PIN's rules: which requests need one, its hash, counting wrong tries.
pub mod supervisor_pin;
/// Whether the terminal can be reached, step by step, without a session (`till doctor`).
pub mod terminal_reach;
/// The cashier's screen: ratatui screens over the lane.
pub mod tui;
/// Text from outside (the terminal, files) made visible: escapes shown, never acted on.
pub mod visible;
