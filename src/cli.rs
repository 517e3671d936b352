//! The command line: the TUI by default, the simulator, and the headless commands.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use chrono::NaiveDate;

use crate::config::Overrides;
use crate::config::cloud::CloudFlags;
use crate::ecr::Receipts;
use crate::journal::{TxnKind, TxnState};
use crate::lane::Route;
use crate::lane::{Description, DescriptionError, SaleOptions};
use crate::pair;
use crate::sim::SimArgs;
use crate::store::UrlText;

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
    pub(crate) demo: bool,

    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Terminal address: host, host:port or ws://host:port[/path] [env: TILL_URL].
    #[arg(long, global = true)]
    pub(crate) url: Option<String>,
    /// The payment app id issued to the integrator [env: TILL_APP_ID].
    #[arg(long, global = true)]
    pub(crate) app_id: Option<String>,
    /// Lane id, part of every order number, 1-8 letters or digits [env: TILL_LANE].
    #[arg(long, global = true)]
    pub(crate) lane: Option<String>,
    /// Config file (default: the XDG config dir's till/config.toml) [env: TILL_CONFIG].
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Where the journal and logs live (default: the XDG data dir's till/) [env: TILL_DATA_DIR].
    #[arg(long, global = true)]
    pub(crate) data_dir: Option<PathBuf>,
    /// Colour theme for the TUI.
    #[arg(long, global = true)]
    pub(crate) theme: Option<String>,
    /// The IPv4 address of the interface mDNS uses: discovery, `--url sn:SERIAL`, pairing, the
    /// simulator's advertisement (default 127.0.0.1: this machine only) [env: TILL_MDNS_INTERFACE].
    #[arg(long, global = true, value_name = "ADDR")]
    pub mdns_interface: Option<String>,
    /// The store's PostgreSQL URL, where every lane's rows are copied [env: TILL_STORE_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) store_url: Option<UrlText>,
    /// Print exactly one JSON object on stdout.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) cloud: CloudArgs,
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
            mdns_interface: self.mdns_interface.clone(),
            store_url: self.store_url.clone(),
            cloud: self.cloud.flags(),
        }
    }
}

/// The `[cloud]` table's keys as flags (see README's cloud section).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Cloud options")]
pub(crate) struct CloudArgs {
    /// The cloud gateway's base URL; requests go to {url}/api/entry [env: TILL_CLOUD_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) cloud_url: Option<String>,
    /// The app id issued for the cloud Open API [env: TILL_CLOUD_APP_ID].
    #[arg(long, global = true, value_name = "ID")]
    pub(crate) cloud_app_id: Option<String>,
    /// The merchant number at the gateway [env: TILL_CLOUD_MERCHANT_NO].
    #[arg(long, global = true, value_name = "NO")]
    pub(crate) cloud_merchant_no: Option<String>,
    /// The lane's terminal serial at the gateway (default: the serial the terminal reports) [env: TILL_CLOUD_TERMINAL_SN].
    #[arg(long, global = true, value_name = "SN")]
    pub(crate) cloud_terminal_sn: Option<String>,
    /// The app's private key file, PKCS#1 or PKCS#8 PEM [env: TILL_CLOUD_PRIVATE_KEY].
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) cloud_private_key: Option<PathBuf>,
    /// The gateway's public key file, SPKI PEM or base64 DER [env: TILL_CLOUD_GATEWAY_PUBLIC_KEY].
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) cloud_gateway_public_key: Option<PathBuf>,
}

impl CloudArgs {
    fn flags(&self) -> CloudFlags {
        CloudFlags {
            url: self.cloud_url.clone(),
            app_id: self.cloud_app_id.clone(),
            merchant_no: self.cloud_merchant_no.clone(),
            terminal_sn: self.cloud_terminal_sn.clone(),
            private_key: self.cloud_private_key.clone(),
            gateway_public_key: self.cloud_gateway_public_key.clone(),
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

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum ReceiptArg {
    /// No receipt.
    None,
    /// The merchant's copy only.
    Merchant,
    /// The customer's copy only.
    Customer,
    /// Both copies.
    Both,
}

impl From<ReceiptArg> for Receipts {
    fn from(r: ReceiptArg) -> Receipts {
        match r {
            ReceiptArg::None => Receipts::None,
            ReceiptArg::Merchant => Receipts::Merchant,
            ReceiptArg::Customer => Receipts::Customer,
            ReceiptArg::Both => Receipts::Both,
        }
    }
}

/// `--yes` / `--no-yes` as one setting: the last one given wins; neither leaves it to
/// the config, then to the terminal.
fn either(yes: bool, no: bool) -> Option<bool> {
    match (yes, no) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// Options of a sale, a refund or a void at the terminal. Not given: the lane's default
/// from the config file, else the terminal's own setting.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "At the terminal")]
pub struct TerminalFlags {
    /// The cashier confirms on the terminal before it goes ahead (two steps).
    #[arg(long, overrides_with = "no_confirm_on_terminal")]
    pub(crate) confirm_on_terminal: bool,
    /// No confirmation on the terminal, whatever the config says.
    #[arg(long, overrides_with = "confirm_on_terminal")]
    pub(crate) no_confirm_on_terminal: bool,
    /// Which receipts the terminal prints.
    #[arg(long, value_enum, value_name = "WHICH")]
    pub(crate) receipt: Option<ReceiptArg>,
}

impl TerminalFlags {
    pub(crate) fn options(&self) -> SaleOptions {
        SaleOptions {
            confirm_on_terminal: either(self.confirm_on_terminal, self.no_confirm_on_terminal),
            receipts: self.receipt.map(Receipts::from),
            ..SaleOptions::default()
        }
    }
}

/// What only a sale takes at the terminal.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "At the terminal")]
pub struct SaleFlags {
    /// The terminal asks the customer for a tip.
    #[arg(long, overrides_with = "no_on_screen_tip")]
    pub(crate) on_screen_tip: bool,
    /// The terminal does not ask for a tip, whatever the config says.
    #[arg(long, overrides_with = "on_screen_tip")]
    pub(crate) no_on_screen_tip: bool,
    /// The terminal asks the customer to sign.
    #[arg(long, alias = "on-screen-signature", overrides_with = "no_signature")]
    pub(crate) signature: bool,
    /// The terminal does not ask for a signature, whatever the config says.
    #[arg(long, alias = "no-on-screen-signature", overrides_with = "signature")]
    pub(crate) no_signature: bool,
    /// Free text that goes with the sale: one line, at most 128 characters (a card
    /// number in it is masked).
    #[arg(long, value_name = "TEXT")]
    pub(crate) description: Option<String>,
}

impl SaleFlags {
    /// A sale's options: these and the terminal flags; the description checked.
    pub(crate) fn options(
        &self,
        terminal: &TerminalFlags,
    ) -> Result<SaleOptions, DescriptionError> {
        Ok(SaleOptions {
            tip_on_terminal: either(self.on_screen_tip, self.no_on_screen_tip),
            signature_on_terminal: either(self.signature, self.no_signature),
            description: self
                .description
                .as_deref()
                .map(Description::new)
                .transpose()?,
            ..terminal.options()
        })
    }
}

/// The supervisor PIN for what needs one (see `till config set-pin`).
#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Supervisor")]
pub struct SupervisorPin {
    /// The supervisor PIN, when one is set and this needs it [env: TILL_SUPERVISOR_PIN].
    /// Neither given: asked for without echo on a terminal, else refused (exit 2).
    #[arg(
        long,
        value_name = "PIN",
        env = "TILL_SUPERVISOR_PIN",
        hide_env = true,
        hide_env_values = true
    )]
    pub(crate) pin: Option<Pin>,
}

/// A PIN as given on the command line or in the environment: `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct Pin(String);

impl std::str::FromStr for Pin {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Pin, Self::Err> {
        Ok(Pin(text.to_string()))
    }
}

impl std::ops::Deref for Pin {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("..")
    }
}

/// What `till store` does.
#[derive(Debug, Subcommand)]
pub enum StoreCmd {
    /// Copy what changed in this lane's journal to the store now (the screen does it in
    /// the background).
    Sync,
    /// Totals across lanes per lane, kind, brand and hour, over inclusive local dates.
    Report {
        /// First local date, YYYY-MM-DD (inclusive).
        #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
        from: Option<NaiveDate>,
        /// Last local date, YYYY-MM-DD (inclusive).
        #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
        to: Option<NaiveDate>,
        #[arg(long)]
        csv: bool,
    },
    /// Each lane's last sync, outbox length and unresolved rows, as last reported.
    Status,
    /// Search every lane's rows: an order number or its end, a card's last four, an
    /// amount (12.34), an auth code, a date or a range (2026-11-01..2026-11-30).
    Find {
        text: String,
        /// At most this many rows, newest first.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10000))]
        limit: u64,
    },
}

/// `till config` with no subcommand prints the effective config.
#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Set the supervisor PIN: typed twice without echo (or two lines on stdin when it
    /// is not a terminal), 4 to 12 digits, stored as an Argon2id hash in the config file.
    #[command(
        after_help = "Changing a PIN that is set needs the current one: --current-pin, TILL_SUPERVISOR_PIN, or asked for on a terminal.\nExample: printf '2468\\n2468\\n' | till config set-pin"
    )]
    SetPin {
        #[command(flatten)]
        current: CurrentPin,
    },
    /// Remove the supervisor PIN from the config file (needs the current PIN).
    ClearPin {
        #[command(flatten)]
        current: CurrentPin,
    },
}

/// The PIN in force, to change or remove it.
#[derive(Args, Clone, Debug, Default)]
pub struct CurrentPin {
    /// The supervisor PIN set now [env: TILL_SUPERVISOR_PIN]; else asked for on a terminal.
    #[arg(
        long,
        value_name = "PIN",
        env = "TILL_SUPERVISOR_PIN",
        hide_env = true,
        hide_env_values = true
    )]
    pub(crate) current_pin: Option<Pin>,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run the simulated CodePay terminal.
    Sim(SimArgs),
    /// A sale.
    #[command(
        after_help = "Examples:\n  till sale 12.34 --tip 2.00 --json\n  till sale 12.34 --on-screen-tip --signature --receipt both --description \"table 4\"\nExit codes: 0 approved, 1 declined, 2 usage, 3 unknown, 4 unreachable."
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
        /// Which way it goes: the lane's terminal over the LAN, or the vendor's cloud gateway.
        #[arg(long, value_enum, default_value = "lan")]
        via: ViaArg,
        #[command(flatten)]
        sale: SaleFlags,
        #[command(flatten)]
        terminal: TerminalFlags,
    },
    /// A refund: referenced with --orig (no card needed), unreferenced without.
    #[command(
        after_help = "Example: till refund 5.00 --orig L01-KQXRT-1124-000042 --receipt customer\nA completion refund goes without --confirm-on-terminal and --receipt."
    )]
    Refund {
        /// Amount to refund, in major units.
        amount: String,
        /// The original's order number (a completion's gives a completion refund).
        #[arg(long)]
        orig: Option<String>,
        /// Which way it goes: the lane's terminal over the LAN, or the vendor's cloud gateway.
        #[arg(long, value_enum, default_value = "lan")]
        via: ViaArg,
        #[command(flatten)]
        terminal: TerminalFlags,
        #[command(flatten)]
        supervisor: SupervisorPin,
    },
    /// Void a transaction of the open batch (a pre-auth: cancel it; a completion: cancel it).
    #[command(
        after_help = "Example: till void L01-KQXRT-1124-000042 --confirm-on-terminal\nA pre-auth or completion cancel goes without --confirm-on-terminal and --receipt."
    )]
    Void {
        /// The order number to void.
        orig_order: String,
        /// Which way it goes: the lane's terminal over the LAN, or the vendor's cloud gateway.
        #[arg(long, value_enum, default_value = "lan")]
        via: ViaArg,
        #[command(flatten)]
        terminal: TerminalFlags,
        #[command(flatten)]
        supervisor: SupervisorPin,
    },
    /// Tip adjustment on a completed sale of the open batch.
    Tip {
        /// The sale's order number.
        orig_order: String,
        /// The tip in force afterwards, in major units.
        amount: String,
        /// Which way it goes: the lane's terminal over the LAN, or the vendor's cloud gateway.
        #[arg(long, value_enum, default_value = "lan")]
        via: ViaArg,
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
        /// Which way it goes: the lane's terminal over the LAN, or the vendor's cloud gateway.
        #[arg(long, value_enum, default_value = "lan")]
        via: ViaArg,
    },
    /// Close the terminal's waiting screen for an unpaid order.
    Close {
        /// The order the terminal is waiting on.
        order: String,
        /// Which way it goes: the lane's terminal over the LAN, or the vendor's cloud gateway.
        #[arg(long, value_enum, default_value = "lan")]
        via: ViaArg,
    },
    /// Close the batch: the journal's totals and the terminal's reply.
    BatchClose {
        /// Which way it goes: the lane's terminal over the LAN, or the vendor's cloud gateway.
        #[arg(long, value_enum, default_value = "lan")]
        via: ViaArg,
        /// Through the cloud: close every terminal's batch, not only the lane's.
        #[arg(long)]
        all_terminals: bool,
        #[command(flatten)]
        supervisor: SupervisorPin,
    },
    /// Check the journal's integrity (SQLite quick_check); exit 4 when it is corrupt.
    Check,
    /// Every lane of the data dir: who holds it, unresolved rows, today's count and net,
    /// the last terminal seen, rows waiting for the store.
    Status {
        /// Look again every two seconds until Ctrl-C (under --json, one object a line).
        #[arg(long)]
        watch: bool,
    },
    /// Journal rows: the open batch, one batch, or a search over every batch and the archives.
    #[command(
        after_help = "Search terms: an order number or its last digits (000042), a card's last four, an amount (12.34), an auth code, a date (2026-11-25) or a range (2026-11-01..2026-11-25); several terms must all match, and a term that reads several ways (1234) matches any of them.\nExamples:\n  till history --batch 3 --csv\n  till history --search 000042\n  till history --search \"4242 12.34\" --from 2026-11-01 --to 2026-11-25 --json\n  till history --kind refund --limit 20 --before 81234   # the page after the one whose next was 81234"
    )]
    History {
        /// `open` or a batch number; without it and without a search, the open batch.
        #[arg(long, conflicts_with_all = ["search", "from", "to", "kind", "state", "before"])]
        batch: Option<String>,
        #[command(flatten)]
        search: HistorySearch,
        #[arg(long)]
        csv: bool,
    },
    /// Totals per kind and brand and the net, of a batch; or over dates, per lane, kind, brand and hour.
    #[command(
        after_help = "Examples:\n  till report --batch 3\n  till report --from 2026-11-01 --to 2026-11-30 --csv"
    )]
    Report {
        /// `open` (the default), a batch number, or a range of them (`120..130`:
        /// totals per lane, kind, brand and hour, as over dates).
        #[arg(long, conflicts_with_all = ["from", "to"])]
        batch: Option<String>,
        /// First local date, YYYY-MM-DD (inclusive).
        #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
        from: Option<NaiveDate>,
        /// Last local date, YYYY-MM-DD (inclusive).
        #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
        to: Option<NaiveDate>,
        #[arg(long)]
        csv: bool,
    },
    /// Move closed batches older than `archive_after_days` into yearly archive files
    /// beside the journal (till-2025.db); search still finds their rows.
    Archive {
        /// Archive batches closed more than this many days ago (default: the config's
        /// `archive_after_days`, 400).
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u64).range(1..=36500))]
        older_than: Option<u64>,
    },
    /// The store: every lane's rows in one PostgreSQL (`store_url`).
    Store {
        #[command(subcommand)]
        action: StoreCmd,
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
        #[command(flatten)]
        supervisor: SupervisorPin,
    },
    /// Hold the lane without a screen and serve every other till on it (a POS
    /// script's `till sale`, `till status`) until SIGTERM or Ctrl-C.
    #[command(
        after_help = "For a register without a cashier screen: run it as a service, then `till sale 3.21 --json` from the POS software goes through it.\nThe config file is read again when it changes."
    )]
    Serve,
    /// Connect, init, N heartbeats: device info and round trips.
    Ping {
        #[arg(long, default_value_t = 5)]
        count: u32,
    },
    /// Step-by-step diagnosis of the link to the terminal.
    Doctor,
    /// List the terminals advertising ECR Hub by mDNS on the mDNS interface.
    #[command(
        after_help = "Example: till discover --mdns-interface 192.168.1.5 --json\nmDNS runs on one interface only (--mdns-interface, default 127.0.0.1: this machine)."
    )]
    Discover {
        /// How long to listen for answers, in seconds.
        #[arg(long, default_value_t = 3, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=300))]
        wait: u64,
    },
    /// Let a terminal pair with this register (WLAN mode): advertise the register by
    /// mDNS, wait for the terminal's `ecrhub.pair`, accept or refuse it; an accepted
    /// terminal becomes `url` in the config file.
    #[command(
        after_help = "Examples:\n  till pair                      # asks y/n on this terminal\n  till pair --accept --json --wait 60\nStart pairing on the terminal once this waits. An ecrhub.unpair that comes instead is answered 000 and reported.\nmDNS and the pairing server run on one interface only (--mdns-interface, default 127.0.0.1: this machine)."
    )]
    Pair(PairArgs),
    /// Ask the configured terminal to forget this register (`ecrhub.unpair`).
    Unpair {
        /// This register's name, as it paired (default: till-LANE).
        #[arg(long, value_parser = register_name)]
        name: Option<String>,
    },
    /// Raw console: send one JSON frame, print what comes back.
    #[command(
        after_help = "Example: till send '{\"topic\":\"ecrhub.heartbeat\",\"request_id\":\"t-1\"}'"
    )]
    Send {
        /// The frame; money-moving topics are refused (use the payment commands).
        frame: String,
    },
    /// The effective configuration and where each value came from; set or clear the
    /// supervisor PIN.
    Config {
        #[command(subcommand)]
        action: Option<ConfigCmd>,
    },
}

impl Cmd {
    /// It only reads the journal: on a data dir that does not exist it creates nothing
    /// (no log either) and says there is no journal.
    pub fn only_reads(&self) -> bool {
        matches!(
            self,
            Cmd::History { .. } | Cmd::Report { .. } | Cmd::Status { .. }
        )
    }

    /// Which way the command goes (`--via`, `--all-terminals`).
    pub(crate) fn route(&self) -> Route {
        use crate::lane::Route;
        match self {
            Cmd::BatchClose {
                via: ViaArg::Cloud,
                all_terminals: true,
                ..
            } => Route::CloudAllTerminals,
            Cmd::Sale { via, .. }
            | Cmd::Refund { via, .. }
            | Cmd::Void { via, .. }
            | Cmd::Tip { via, .. }
            | Cmd::Query { via, .. }
            | Cmd::Close { via, .. }
            | Cmd::BatchClose { via, .. } => match via {
                ViaArg::Lan => Route::Lan,
                ViaArg::Cloud => Route::Cloud,
            },
            _ => Route::Lan,
        }
    }

    /// Sets the supervisor PIN of a command that takes one (a command handed over by
    /// another till carries the PIN given there).
    pub(crate) fn set_supervisor_pin(&mut self, pin: Option<String>) {
        if let Cmd::Refund { supervisor, .. }
        | Cmd::Void { supervisor, .. }
        | Cmd::BatchClose { supervisor, .. }
        | Cmd::Resolve { supervisor, .. } = self
        {
            supervisor.pin = pin.map(Pin);
        }
    }

    /// The supervisor PIN given with a command that takes one (`--pin` or
    /// TILL_SUPERVISOR_PIN).
    pub(crate) fn supervisor_pin(&self) -> Option<&str> {
        match self {
            Cmd::Refund { supervisor, .. }
            | Cmd::Void { supervisor, .. }
            | Cmd::BatchClose { supervisor, .. }
            | Cmd::Resolve { supervisor, .. } => supervisor.pin.as_deref(),
            _ => None,
        }
    }
}

/// `till pair`.
#[derive(Debug, Args)]
pub struct PairArgs {
    /// Accept the first terminal that asks, without asking (for scripts).
    #[arg(long, conflicts_with = "refuse")]
    pub(crate) accept: bool,
    /// Refuse the first terminal that asks, without asking.
    #[arg(long)]
    pub(crate) refuse: bool,
    /// How long to wait for a terminal, in seconds.
    #[arg(long, default_value_t = 120, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) wait: u64,
    /// The pairing server's port on the mDNS interface (0: a free one, advertised).
    #[arg(long, default_value_t = 0)]
    pub(crate) port: u16,
    /// This register's name on the terminal's list (default: till-LANE).
    #[arg(long, value_parser = register_name)]
    pub(crate) name: Option<String>,
}

fn register_name(text: &str) -> Result<String, String> {
    pair::check_name(text)
}
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum ViaArg {
    #[default]
    Lan,
    Cloud,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ResolveAs {
    Approved,
    Declined,
}

/// What `till history` searches for; any of it makes it a search across every batch.
#[derive(Debug, Default, Args)]
pub struct HistorySearch {
    /// Free text (see below).
    #[arg(long, value_name = "TEXT")]
    pub(crate) search: Option<String>,
    /// First local date, YYYY-MM-DD (inclusive).
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub(crate) from: Option<NaiveDate>,
    /// Last local date, YYYY-MM-DD (inclusive).
    #[arg(long, value_parser = parse_date, value_name = "YYYY-MM-DD")]
    pub(crate) to: Option<NaiveDate>,
    /// sale, refund, void, pre-auth, completion, tip-adjust, batch-close, ...
    #[arg(long, value_parser = parse_kind)]
    pub(crate) kind: Option<TxnKind>,
    /// pending, approved, declined or unknown.
    #[arg(long, value_parser = parse_state)]
    pub(crate) state: Option<TxnState>,
    /// Rows per page, newest first (a search's and a batch's alike).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) limit: u32,
    /// Only rows older than this cursor: the `next` a page printed.
    #[arg(long, value_name = "CURSOR")]
    pub(crate) before: Option<i64>,
}

impl HistorySearch {
    pub(crate) fn is_search(&self) -> bool {
        self.search.is_some()
            || self.from.is_some()
            || self.to.is_some()
            || self.kind.is_some()
            || self.state.is_some()
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{text}' is not a date: use YYYY-MM-DD, e.g. 2026-11-25"))
}

fn parse_kind(text: &str) -> Result<TxnKind, String> {
    TxnKind::from_name(text.trim()).ok_or_else(|| {
        format!("'{text}' is not a kind: use sale, cashback-sale, refund, void, pre-auth, pre-auth-cancel, completion, completion-cancel, completion-refund, tip-adjust or batch-close")
    })
}

fn parse_state(text: &str) -> Result<TxnState, String> {
    TxnState::from_name(text.trim()).ok_or_else(|| {
        format!("'{text}' is not a state: use pending, approved, declined or unknown")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_given_on_the_command_line_never_shows_in_debug_output() {
        let cli = Cli::try_parse_from(["till", "void", "L01-A-1125-000001", "--pin", "2468"])
            .expect("parses");
        let cmd = cli.command.expect("a command");
        assert_eq!(cmd.supervisor_pin(), Some("2468"));
        let shown = format!("{cmd:?}");
        assert!(!shown.contains("2468"), "{shown}");
        let cli = Cli::try_parse_from(["till", "config", "clear-pin", "--current-pin", "1357"])
            .expect("parses");
        let shown = format!("{cli:?}");
        assert!(!shown.contains("1357"), "{shown}");
    }
}
