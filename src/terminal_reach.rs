//! Whether the terminal can be reached, step by step up to the WebSocket upgrade (address,
//! name, TCP, upgrade): the part of `till doctor` (`headless::doctor`) that opens no
//! session with the terminal, so the Diagnostics screen can run it beside the lane's own
//! link. Each failure says what to do about it; `Check`, one such step, is also the
//! shape of the cloud's steps (`cloud::reach`).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;

use std::net::Ipv4Addr;

use crate::link::{Endpoint, Target};
use crate::mask::mask_pans_owned;

pub const SWITCH_HINT: &str = "on the terminal, open the CodePay Register app: Settings > General > ECR Hub, turn on WLAN/LAN, and read the IP address it shows";

/// One step of a check-up: what was checked, what was found, and the fix if it failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(name: &'static str, detail: String) -> Check {
        Check {
            name,
            ok: true,
            detail,
            fix: None,
        }
    }

    pub fn fail(name: &'static str, detail: String, fix: String) -> Check {
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
pub struct Reach {
    /// The configured address or `sn:SERIAL`, if any, and where it was set.
    pub url: Option<String>,
    pub source: String,
    /// Where mDNS looks for a terminal named by its serial.
    pub mdns_interface: Ipv4Addr,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

/// Checks the address (a serial found by mDNS), its name, a TCP connection and the
/// WebSocket upgrade, in that order, stopping at the first failure; whether all passed.
pub async fn check(reach: &Reach, steps: &mut Vec<Check>) -> bool {
    let fail = |steps: &mut Vec<Check>, name, detail: String, fix: String| {
        steps.push(Check::fail(name, detail, fix));
        false
    };
    let pass = |steps: &mut Vec<Check>, name, detail: String| steps.push(Check::pass(name, detail));
    // 1. The address.
    let Some(url) = reach.url.clone() else {
        return fail(
            steps,
            "address",
            "no terminal address configured".into(),
            format!("set --url, TILL_URL or `url` in config.toml; {SWITCH_HINT}"),
        );
    };
    let endpoint = match Target::parse(&url) {
        Err(e) => {
            return fail(
                steps,
                "address",
                e.to_string(),
                "use host, host:port, ws://host:port or sn:SERIAL".into(),
            );
        }
        Ok(Target::Address(endpoint)) => {
            pass(
                steps,
                "address",
                format!("{} ({})", endpoint.url(), reach.source),
            );
            endpoint
        }
        Ok(Target::Serial { serial, path }) => {
            pass(
                steps,
                "address",
                format!("sn:{serial}{path} ({})", reach.source),
            );
            match discovery(reach, &serial, &path).await {
                Ok(endpoint) => {
                    pass(
                        steps,
                        "discovery",
                        format!("serial {serial} is at {}", endpoint.url()),
                    );
                    endpoint
                }
                Err((detail, fix)) => return fail(steps, "discovery", detail, fix),
            }
        }
    };

    // 2. Name resolution.
    let started = Instant::now();
    let addrs = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port)),
    )
    .await;
    let addr = match addrs {
        Ok(Ok(mut a)) => match a.next() {
            Some(addr) => addr,
            None => {
                return fail(
                    steps,
                    "name resolution",
                    format!("{} has no address", endpoint.host),
                    "use the terminal's IP address".into(),
                );
            }
        },
        Ok(Err(e)) => {
            return fail(
                steps,
                "name resolution",
                format!("{}: {e}", endpoint.host),
                "use the terminal's IP address instead of a name".into(),
            );
        }
        Err(_) => {
            return fail(
                steps,
                "name resolution",
                format!("{}: no answer in 5 s", endpoint.host),
                "use the terminal's IP address instead of a name".into(),
            );
        }
    };
    pass(
        steps,
        "name resolution",
        format!(
            "{} -> {addr} in {} ms",
            endpoint.host,
            started.elapsed().as_millis()
        ),
    );

    // 3. TCP.
    let started = Instant::now();
    let tcp = tokio::time::timeout(reach.connect_timeout, TcpStream::connect(addr)).await;
    let elapsed = started.elapsed();
    let mut tcp = match tcp {
        Ok(Ok(tcp)) => tcp,
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
            return fail(
                steps,
                "tcp connect",
                format!("{addr} {what} ({e}) after {} ms", elapsed.as_millis()),
                fix,
            );
        }
        Err(_) => {
            return fail(
                steps,
                "tcp connect",
                format!(
                    "{addr}: timed out after {} s (no route or a firewall drops packets)",
                    elapsed.as_secs()
                ),
                format!(
                    "check the IP address and that both are on the same network and VLAN; {SWITCH_HINT}"
                ),
            );
        }
    };
    pass(
        steps,
        "tcp connect",
        format!("{addr} in {} ms", elapsed.as_millis()),
    );

    // 4. The WebSocket upgrade, by hand, to show the status line exactly.
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
            return fail(
                steps,
                "websocket upgrade",
                "the port closed the connection without answering".into(),
                "this port is not the terminal's ECR Hub; use port 35779".into(),
            );
        }
        Ok(Err(e)) => {
            return fail(
                steps,
                "websocket upgrade",
                e.to_string(),
                "retry; if it persists restart ECR Hub on the terminal".into(),
            );
        }
        Err(_) => {
            return fail(
                steps,
                "websocket upgrade",
                "no answer to the upgrade request".into(),
                "this port is not a WebSocket server; use the terminal's port 35779".into(),
            );
        }
    };
    if status_line.split_whitespace().nth(1) != Some("101") {
        return fail(
            steps,
            "websocket upgrade",
            format!("answered '{status_line}'"),
            "this port is not the terminal's ECR Hub WebSocket; use port 35779".into(),
        );
    }
    pass(steps, "websocket upgrade", format!("'{status_line}'"));
    true
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
    match crate::discover::find_terminal(interface, serial, wait).await {
        Ok(Some(found)) => crate::link::located(&found.address, path).map_err(|e| {
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
