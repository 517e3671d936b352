//! Whether the terminal can be reached, step by step up to the WebSocket upgrade (address,
//! name, TCP, upgrade): the part of `till doctor` (`headless::doctor`) that opens no
//! session with the terminal, so the Diagnostics screen can run it beside the lane's own
//! link. Each failure says what to do about it; `Check`, one such step, is also the
//! shape of the cloud's steps (`cloud::reach`).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;

use std::net::{Ipv4Addr, SocketAddr};

use crate::discover;
use crate::link;
use crate::link::{Endpoint, Target};
use crate::mask::mask_pans_owned;

pub(crate) const SWITCH_HINT: &str = "on the terminal, open the CodePay Register app: Settings > General > ECR Hub, turn on WLAN/LAN, and read the IP address it shows";

/// One step of a check-up: what was checked, what was found, and the fix if it failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    pub(crate) fn pass(name: &'static str, detail: String) -> Check {
        Check {
            name,
            ok: true,
            detail,
            fix: None,
        }
    }

    pub(crate) fn fail(name: &'static str, detail: String, fix: String) -> Check {
        Check {
            name,
            ok: false,
            detail,
            fix: Some(fix),
        }
    }
}

/// Where to look and how long to wait.
#[derive(Clone, Debug)]
pub(crate) struct Reach {
    /// The configured address or `sn:SERIAL`, if any, and where it was set.
    pub(crate) url: Option<String>,
    pub(crate) source: String,
    /// Where mDNS looks for a terminal named by its serial.
    pub(crate) mdns_interface: Ipv4Addr,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
}

/// Checks the address (a serial found by mDNS), its name, a TCP connection and the
/// WebSocket upgrade, in that order, stopping at the first failure; whether all passed.
pub(crate) async fn check(reach: &Reach, steps: &mut Vec<Check>) -> bool {
    match in_order(reach, steps).await {
        Ok(()) => true,
        Err(failed) => {
            steps.push(failed);
            false
        }
    }
}

/// The steps one after the other: each pushes its passed check, or is the failed one.
async fn in_order(reach: &Reach, steps: &mut Vec<Check>) -> Result<(), Check> {
    let endpoint = address(reach, steps).await?;
    let (addr, resolved) = resolve(&endpoint).await?;
    steps.push(resolved);
    let (tcp, connected) = connect(reach, addr).await?;
    steps.push(connected);
    steps.push(upgrade(reach, &endpoint, tcp).await?);
    Ok(())
}

/// 1. The address: as configured, or the serial's as mDNS finds it.
async fn address(reach: &Reach, steps: &mut Vec<Check>) -> Result<Endpoint, Check> {
    let Some(url) = reach.url.clone() else {
        return Err(Check::fail(
            "address",
            "no terminal address configured".into(),
            format!("set --url, TILL_URL or `url` in config.toml; {SWITCH_HINT}"),
        ));
    };
    match Target::parse(&url) {
        Err(e) => Err(Check::fail(
            "address",
            e.to_string(),
            "use host, host:port, ws://host:port or sn:SERIAL".into(),
        )),
        Ok(Target::Address(endpoint)) => {
            steps.push(Check::pass(
                "address",
                format!("{} ({})", endpoint.url(), reach.source),
            ));
            Ok(endpoint)
        }
        Ok(Target::Serial { serial, path }) => {
            steps.push(Check::pass(
                "address",
                format!("sn:{serial}{path} ({})", reach.source),
            ));
            let endpoint = discovery(reach, &serial, &path)
                .await
                .map_err(|(detail, fix)| Check::fail("discovery", detail, fix))?;
            steps.push(Check::pass(
                "discovery",
                format!("serial {serial} is at {}", endpoint.url()),
            ));
            Ok(endpoint)
        }
    }
}

/// 2. Name resolution.
async fn resolve(endpoint: &Endpoint) -> Result<(SocketAddr, Check), Check> {
    const NAME: &str = "name resolution";
    let started = Instant::now();
    let addrs = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port)),
    )
    .await;
    let addr = match addrs {
        Ok(Ok(mut a)) => a.next().ok_or_else(|| {
            Check::fail(
                NAME,
                format!("{} has no address", endpoint.host),
                "use the terminal's IP address".into(),
            )
        })?,
        Ok(Err(e)) => {
            return Err(Check::fail(
                NAME,
                format!("{}: {e}", endpoint.host),
                "use the terminal's IP address instead of a name".into(),
            ));
        }
        Err(_) => {
            return Err(Check::fail(
                NAME,
                format!("{}: no answer in 5 s", endpoint.host),
                "use the terminal's IP address instead of a name".into(),
            ));
        }
    };
    let passed = Check::pass(
        NAME,
        format!(
            "{} -> {addr} in {} ms",
            endpoint.host,
            started.elapsed().as_millis()
        ),
    );
    Ok((addr, passed))
}

/// 3. A TCP connection.
async fn connect(reach: &Reach, addr: SocketAddr) -> Result<(TcpStream, Check), Check> {
    const NAME: &str = "tcp connect";
    let started = Instant::now();
    let tcp = tokio::time::timeout(reach.connect_timeout, TcpStream::connect(addr)).await;
    let elapsed = started.elapsed();
    match tcp {
        Ok(Ok(tcp)) => Ok((
            tcp,
            Check::pass(NAME, format!("{addr} in {} ms", elapsed.as_millis())),
        )),
        Ok(Err(e)) => {
            let (what, fix) = match e.kind() {
                std::io::ErrorKind::ConnectionRefused => (
                    "refused: nothing listens on that port",
                    format!("ECR Hub is off or the port is wrong; {SWITCH_HINT}"),
                ),
                _ => (
                    "failed",
                    format!(
                        "check the cable or Wi-Fi, that register and terminal are on the same network; {SWITCH_HINT}"
                    ),
                ),
            };
            Err(Check::fail(
                NAME,
                format!("{addr} {what} ({e}) after {} ms", elapsed.as_millis()),
                fix,
            ))
        }
        Err(_) => Err(Check::fail(
            NAME,
            format!(
                "{addr}: timed out after {} s (no route or a firewall drops packets)",
                elapsed.as_secs()
            ),
            format!(
                "check the IP address and that both are on the same network and VLAN; {SWITCH_HINT}"
            ),
        )),
    }
}

/// 4. The WebSocket upgrade, by hand, to show the status line exactly.
async fn upgrade(reach: &Reach, endpoint: &Endpoint, mut tcp: TcpStream) -> Result<Check, Check> {
    const NAME: &str = "websocket upgrade";
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {}\r\n\r\n",
        if endpoint.path.is_empty() {
            "/"
        } else {
            &endpoint.path
        },
        endpoint.authority(),
        generate_key()
    );
    let head = async {
        tcp.write_all(request.as_bytes()).await?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
            let n = tcp.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Ok::<_, std::io::Error>(buf)
    };
    let head = tokio::time::timeout(reach.request_timeout, head).await;
    drop(tcp);
    let status_line = match head {
        // Whatever listens there wrote it: shown, so masked like any text from outside.
        Ok(Ok(buf)) if !buf.is_empty() => mask_pans_owned(
            String::from_utf8_lossy(&buf)
                .lines()
                .next()
                .unwrap_or("")
                .to_string(),
        ),
        Ok(Ok(_)) => {
            return Err(Check::fail(
                NAME,
                "the port closed the connection without answering".into(),
                "this port is not the terminal's ECR Hub; use port 35779".into(),
            ));
        }
        Ok(Err(e)) => {
            return Err(Check::fail(
                NAME,
                e.to_string(),
                "retry; if it persists restart ECR Hub on the terminal".into(),
            ));
        }
        Err(_) => {
            return Err(Check::fail(
                NAME,
                "no answer to the upgrade request".into(),
                "this port is not a WebSocket server; use the terminal's port 35779".into(),
            ));
        }
    };
    if status_line.split_whitespace().nth(1) != Some("101") {
        return Err(Check::fail(
            NAME,
            format!("answered '{status_line}'"),
            "this port is not the terminal's ECR Hub WebSocket; use port 35779".into(),
        ));
    }
    Ok(Check::pass(NAME, format!("'{status_line}'")))
}

/// Where mDNS finds the serial, or what failed and what to do about it.
async fn discovery(reach: &Reach, serial: &str, path: &str) -> Result<Endpoint, (String, String)> {
    let interface = reach.mdns_interface;
    let wait = reach
        .connect_timeout
        .clamp(Duration::from_secs(1), Duration::from_secs(10));
    let look_around = format!(
        "`till discover` lists the terminals that answer; mDNS runs on {interface} (mdns_interface): at a lane that is the register's address on the terminal's network"
    );
    match discover::find_terminal(interface, serial, wait).await {
        Ok(Some(found)) => link::located(&found.address, path).map_err(|e| {
            (
                format!("serial {serial} advertises an unusable address: {e}"),
                look_around.clone(),
            )
        }),
        Ok(None) => Err((
            format!("serial {serial} not seen on the network: is the terminal on and on this subnet?"),
            format!(
                "switch the terminal on with ECR Hub enabled (Settings > General > ECR Hub) and check the serial; {look_around}"
            ),
        )),
        Err(e) => Err((
            e.to_string(),
            "set mdns_interface (--mdns-interface, TILL_MDNS_INTERFACE) to an IPv4 address of this machine".into(),
        )),
    }
}
