//! The command line: the TUI by default, the simulator, and the headless commands.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Overrides;

#[derive(Debug, Parser)]
#[command(
    name = "till",
    version,
    about = "Keyboard-first cashier for CodePay terminals (ECR Hub over WebSocket)",
    after_help = "With no command, till opens the cashier screen. `till --demo` runs it on a built-in simulated terminal."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    /// Start a simulated terminal in-process and use it (the TUI's demo mode).
    #[arg(long)]
    pub demo: bool,

    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Terminal address: host, host:port or ws://host:port[/path] [env: TILL_URL].
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// The payment app id issued to the integrator [env: TILL_APP_ID].
    #[arg(long, global = true)]
    pub app_id: Option<String>,
    /// Lane id, part of every order number, 1-8 letters or digits [env: TILL_LANE].
    #[arg(long, global = true)]
    pub lane: Option<String>,
    /// Config file (default: the XDG config dir's till/config.toml) [env: TILL_CONFIG].
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Where the journal and logs live (default: the XDG data dir's till/) [env: TILL_DATA_DIR].
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Colour theme for the TUI.
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Print exactly one JSON object on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// More detail in the log file (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl Global {
    /// The flags as config overrides (the config layer reads the environment itself,
    /// so `till config` can say which values came from where).
    pub fn overrides(&self) -> Overrides {
        Overrides {
            url: self.url.clone(),
            app_id: self.app_id.clone(),
            lane: self.lane.clone(),
            theme: self.theme.clone(),
            data_dir: self.data_dir.clone(),
        }
    }
}

/// Whether a raw command line asks for `--json`, looked at before parsing so that a
/// line clap refuses still gets its one JSON object. Arguments after `--` are values.
pub fn wants_json(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| a.as_os_str() != "--")
        .any(|a| a.as_os_str() == "--json")
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Scenario {
    /// Bank card: insert, tap or swipe.
    Card,
    /// The customer scans a QR code the terminal shows.
    Qr,
    /// The merchant scans the customer's QR code.
    MerchantQr,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run the simulated CodePay terminal.
    Sim(crate::sim::SimArgs),
    /// A sale.
    #[command(
        after_help = "Example: till sale 12.34 --tip 2.00 --json\nExit codes: 0 approved, 1 declined, 2 usage, 3 unknown, 4 unreachable."
    )]
    Sale {
        /// Amount in major units, e.g. 12.34.
        amount: String,
        /// Tip added on top, in major units.
        #[arg(long)]
        tip: Option<String>,
        /// Cash handed to the customer, charged to the card (a cash-back sale).
        #[arg(long)]
        cashback: Option<String>,
        /// How the customer pays.
        #[arg(long, value_enum, default_value = "card")]
        scenario: Scenario,
        /// Charge even if the same amount was approved moments ago.
        #[arg(long)]
        force: bool,
    },
    /// A refund: referenced with --orig (no card needed), unreferenced without.
    #[command(after_help = "Example: till refund 5.00 --orig L01-KQXRT-1124-000042")]
    Refund {
        /// Amount to refund, in major units.
        amount: String,
        /// The original's order number (a completion's gives a completion refund).
        #[arg(long)]
        orig: Option<String>,
    },
    /// Void a transaction of the open batch (a pre-auth: cancel it; a completion: cancel it).
    Void {
        /// The order number to void.
        orig_order: String,
    },
    /// Tip adjustment on a completed sale of the open batch.
    Tip {
        /// The sale's order number.
        orig_order: String,
        /// The tip in force afterwards, in major units.
        amount: String,
    },
    /// Pre-authorisation: holds the amount on the card.
    Auth {
        /// Amount to hold, in major units.
        amount: String,
    },
    /// Complete a pre-authorisation: charges up to what it held.
    Complete {
        /// The pre-auth's order number.
        orig_order: String,
        /// Amount to charge, in major units.
        amount: String,
    },
    /// Ask the terminal about an order; shows the journal's row beside the answer.
    Query {
        /// Any order number.
        order: String,
    },
    /// Close the terminal's waiting screen for an unpaid order.
    Close {
        /// The order the terminal is waiting on.
        order: String,
    },
    /// Close the batch: the journal's totals and the terminal's reply.
    BatchClose,
    /// Journal rows.
    History {
        /// `open` or a batch number.
        #[arg(long, default_value = "open")]
        batch: String,
        #[arg(long)]
        csv: bool,
    },
    /// Totals per kind and brand, and the net.
    Report {
        #[arg(long, default_value = "open")]
        batch: String,
        #[arg(long)]
        csv: bool,
    },
    /// Resolve every pending or unknown row now.
    Recover,
    /// Supervisor override of an unresolved row.
    #[command(
        after_help = "Example: till resolve L01-KQXRT-1124-000045 --as declined --note \"terminal replaced; receipt shows no payment\""
    )]
    Resolve {
        /// The unresolved order.
        order: String,
        /// What the supervisor established.
        #[arg(long = "as", value_enum)]
        state: ResolveAs,
        /// Why (kept in the audit trail); required.
        #[arg(long)]
        note: String,
    },
    /// Connect, init, N heartbeats: device info and round trips.
    Ping {
        #[arg(long, default_value_t = 5)]
        count: u32,
    },
    /// Step-by-step diagnosis of the link to the terminal.
    Doctor,
    /// Raw console: send one JSON frame, print what comes back.
    #[command(
        after_help = "Example: till send '{\"topic\":\"ecrhub.heartbeat\",\"request_id\":\"t-1\"}'"
    )]
    Send {
        /// The frame; money-moving topics are refused (use the payment commands).
        frame: String,
    },
    /// The effective configuration and where each value came from.
    Config,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ResolveAs {
    Approved,
    Declined,
}
