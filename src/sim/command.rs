//! `till sim`: its arguments, and running the simulator (or the cloud gateway's) until
//! Ctrl-C, optionally advertised by mDNS and pairing with a register.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

use super::{Faults, Sim, SimConfig, cloud};
use crate::discover;
use crate::pair::terminal;
use crate::pair::{Device, Kind, Request};

/// `till sim`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) bind: std::net::IpAddr,
    /// Port to listen on (the vendor's fixed ECR Hub port by default).
    #[arg(long, default_value_t = crate::ecr::DEFAULT_PORT)]
    pub(crate) port: u16,
    /// How long a card flow takes, in milliseconds.
    #[arg(long, default_value_t = 1500)]
    pub(crate) card_delay_ms: u64,
    /// Decline amounts whose cents are these two digits.
    #[arg(long, default_value_t = 51)]
    pub(crate) decline_cents: u32,
    /// Approve everything (no decline rule).
    #[arg(long)]
    pub(crate) no_decline: bool,
    /// Cut the connection right after a pay.order arrives (the payment still completes).
    #[arg(long)]
    pub(crate) drop_after_order: bool,
    /// Hold every pay.order answer this many seconds longer.
    #[arg(long)]
    pub(crate) hold_secs: Option<u64>,
    /// Replies omit request_id.
    #[arg(long)]
    pub(crate) no_request_id: bool,
    /// Send a malformed frame and a reply for another request before each answer.
    #[arg(long)]
    pub(crate) noise: bool,
    /// Send biz_data as a JSON string.
    #[arg(long)]
    pub(crate) biz_data_as_string: bool,
    /// Success code "000" instead of "0".
    #[arg(long)]
    pub(crate) success_000: bool,
    /// Answers lost with a connection are sent on the next one.
    #[arg(long)]
    pub(crate) redeliver: bool,
    /// Add this text to every answer's response_msg (e.g. a spaced card number).
    #[arg(long)]
    pub(crate) reply_note: Option<String>,
    /// Close the connection with this reason right after a pay.order arrives.
    #[arg(long)]
    pub(crate) close_after_order: Option<String>,
    /// On a sale sent with on_screen_tip, the customer adds this tip (minor units).
    #[arg(long, value_name = "MINOR")]
    pub(crate) customer_tip: Option<i64>,
    /// Append money that really moved to this file (JSON lines).
    #[arg(long)]
    pub(crate) ledger: Option<PathBuf>,
    /// WebSocket ping interval in seconds (0: none).
    #[arg(long, default_value_t = 60)]
    pub(crate) ping_secs: u64,
    /// Currency exponent (decimal places).
    #[arg(long, default_value_t = 2)]
    pub(crate) exponent: u8,
    /// Advertise this serial by mDNS (`_ecr-hub-server._tcp.local.`) on the mDNS
    /// interface, as a real terminal does.
    #[arg(long, value_name = "SERIAL", value_parser = serial_arg)]
    pub(crate) advertise: Option<String>,
    /// Once listening, find a register by mDNS (`_ecr-hub-client._tcp.local.`) on the
    /// mDNS interface and ask it to pair, as a terminal in WLAN mode does: the register
    /// advertising NAME, or the first found. Its answer is printed on stdout (JSON).
    #[arg(long, value_name = "NAME", num_args = 0..=1, conflicts_with = "pair_with")]
    pub(crate) pair: Option<Option<String>>,
    /// Ask the register at this address (ws://ip:port) to pair, without mDNS.
    #[arg(long, value_name = "URL")]
    pub(crate) pair_with: Option<String>,
    /// Run a simulated cloud gateway (Open API over HTTP) instead of a terminal.
    #[arg(long)]
    pub(crate) cloud: bool,
    #[command(flatten)]
    pub(crate) cloud_args: cloud::CloudSimArgs,
}

/// How long `--pair` looks for a register, and waits for its answer (a person may
/// be deciding).
const PAIR_WAIT: Duration = Duration::from_secs(120);

/// A locally administered MAC address: no real device's.
const SIM_MAC: &str = "02:00:00:00:00:01";

fn serial_arg(text: &str) -> Result<String, String> {
    if discover::valid_serial(text) {
        Ok(text.to_string())
    } else {
        Err("a serial is 1 to 63 letters, digits, - or _".into())
    }
}

impl SimArgs {
    pub(crate) fn to_config(&self) -> SimConfig {
        SimConfig {
            bind: SocketAddr::new(self.bind, self.port),
            card_delay: Duration::from_millis(self.card_delay_ms),
            faults: Faults {
                decline_cents: (!self.no_decline).then_some(self.decline_cents),
                drop_after_order: self.drop_after_order,
                hold: self.hold_secs.map(Duration::from_secs),
                no_request_id: self.no_request_id,
                noise_before_reply: self.noise,
                biz_data_as_string: self.biz_data_as_string,
                success_000: self.success_000,
                redeliver: self.redeliver,
                reply_note: self.reply_note.clone(),
                close_after_order: self.close_after_order.clone(),
                on_screen_tip_minor: self.customer_tip,
                ..Faults::default()
            },
            ledger: self.ledger.clone(),
            ping_every: (self.ping_secs > 0).then(|| Duration::from_secs(self.ping_secs)),
            exponent: self.exponent,
        }
    }
}

/// Runs the simulator until Ctrl-C or SIGTERM.
/// `till sim`; with `--advertise`, mDNS on `mdns_interface` only.
pub async fn run(args: SimArgs, mdns_interface: Ipv4Addr) -> std::io::Result<()> {
    if args.cloud {
        return cloud::run(SocketAddr::new(args.bind, args.port), &args.cloud_args).await;
    }
    let sim = Sim::start(args.to_config()).await?;
    eprintln!(
        "till sim: simulated CodePay terminal listening on {} (Ctrl-C to stop)",
        sim.url()
    );
    // The address a register or a browser can reach: the bound one, unless that is
    // every one.
    let ip = match sim.addr().ip() {
        IpAddr::V4(ip) if !ip.is_unspecified() => ip,
        _ => mdns_interface,
    };
    let addr = SocketAddrV4::new(ip, sim.addr().port());
    let _advertisement = match &args.advertise {
        Some(serial) => {
            // A terminal advertises its own serial: the one it reports too.
            sim.set_serial(serial);
            let advert =
                discover::terminal_advert(serial, addr, "till sim", env!("CARGO_PKG_VERSION"));
            let advertisement = discover::advertise(mdns_interface, advert)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            eprintln!("till sim: advertising serial {serial} by mDNS on {mdns_interface}");
            Some(advertisement)
        }
        None => None,
    };
    if let Some(url) = register_to_pair(&args, mdns_interface).await? {
        let name = args.advertise.clone().unwrap_or_else(|| "till sim".into());
        let device = Device {
            mac_address: SIM_MAC.into(),
            device_name: "till sim".into(),
            alias_name: name,
            ip_address: ip.to_string(),
            port: addr.port(),
        };
        let frame = Request::new(Kind::Pair, device).to_text();
        let answer = terminal::ask(&url, &frame, PAIR_WAIT)
            .await
            .map_err(std::io::Error::other)?;
        let code = answer["response_code"].as_str().unwrap_or("none");
        eprintln!("till sim: the register at {url} answered the pair request: {code}");
        println!("{answer}");
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    sim.shutdown().await;
    Ok(())
}

/// The register `--pair` / `--pair-with` names, if any: found by mDNS for `--pair`.
async fn register_to_pair(
    args: &SimArgs,
    mdns_interface: Ipv4Addr,
) -> std::io::Result<Option<String>> {
    if let Some(url) = &args.pair_with {
        return Ok(Some(url.clone()));
    }
    let Some(name) = &args.pair else {
        return Ok(None);
    };
    let which = name.as_deref().unwrap_or("any");
    eprintln!("till sim: looking for register {which} by mDNS on {mdns_interface}");
    let found = terminal::find_register(mdns_interface, name.as_deref(), PAIR_WAIT)
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    match found {
        Some(register) => Ok(Some(register.address)),
        None => Err(std::io::Error::other(format!(
            "no register {which} advertised on {mdns_interface} within {}s",
            PAIR_WAIT.as_secs()
        ))),
    }
}
