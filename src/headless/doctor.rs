//! "Why won't this terminal take payments?": `till ping` and `till doctor`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;

use super::output::Report;
use super::{Exit, Failure};
use crate::config::Config;
use crate::ecr::{DeviceInfo, Operation};
use crate::link::{
    Endpoint, Link, LinkConfig, LinkEvent, LinkState, Target, instant_after, new_request_id,
};
use crate::mask::mask_pans_owned;

const SWITCH_HINT: &str = "on the terminal, open the CodePay Register app: Settings > General > ECR Hub, turn on WLAN/LAN, and read the IP address it shows";

/// Drives a link until an event matches or the deadline passes. Link-down events
/// end the wait early with their reason.
async fn drive(
    link: &mut Link,
    until: Instant,
    mut want: impl FnMut(&LinkEvent) -> bool,
) -> Result<LinkEvent, String> {
    let until = tokio::time::Instant::from_std(until);
    loop {
        for event in link.take_events().collect::<Vec<_>>() {
            if want(&event) {
                return Ok(event);
            }
            if let LinkEvent::State(LinkState::Down { reason, .. }) = event {
                return Err(reason);
            }
        }
        match tokio::time::timeout_at(until, link.wait()).await {
            Ok(wake) => link.handle(wake).await,
            Err(_) => return Err("no answer in time".into()),
        }
    }
}

/// Collects up to `count` heartbeat round trips before `until`.
async fn heartbeats(link: &mut Link, count: usize, until: Instant) -> Vec<Duration> {
    let mut rtts = Vec::new();
    while rtts.len() < count {
        match drive(link, until, |e| matches!(e, LinkEvent::Heartbeat { .. })).await {
            Ok(LinkEvent::Heartbeat { rtt }) => rtts.push(rtt),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    rtts
}

fn quick_link(config: &Config) -> Result<LinkConfig, Failure> {
    let mut link = config.link()?;
    link.heartbeat_every = Duration::from_millis(300);
    link.dead_after = link.request_timeout;
    Ok(link)
}

fn device_lines(d: &DeviceInfo) -> Vec<String> {
    [
        ("app", &d.app_name),
        ("version", &d.cashier_version),
        ("serial", &d.device_sn),
        ("model", &d.device_model),
        ("description", &d.description),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}")))
    .collect()
}

fn device_json(d: &DeviceInfo) -> Value {
    json!({"app_name": d.app_name, "cashier_version": d.cashier_version,
           "device_sn": d.device_sn, "device_model": d.device_model, "description": d.description})
}

/// Round-trip statistics in milliseconds: min, p50, p99, max.
fn stats(rtts: &mut [Duration]) -> Option<[f64; 4]> {
    if rtts.is_empty() {
        return None;
    }
    rtts.sort();
    let at = |q: usize| rtts[((rtts.len() - 1) * q) / 100];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Some([
        ms(rtts[0]),
        ms(at(50)),
        ms(at(99)),
        ms(rtts[rtts.len() - 1]),
    ])
}

pub async fn ping(config: &Config, count: u32) -> Result<Report, Failure> {
    let cfg = quick_link(config)?;
    let endpoint = cfg.target.clone();
    let deadline = instant_after(
        Instant::now(),
        cfg.connect_timeout.saturating_add(cfg.request_timeout),
    );
    let mut link = Link::new(cfg.clone());
    let unreachable = |why: String| Failure::new(Exit::Unreachable, format!("{endpoint}: {why}"));
    drive(&mut link, deadline, |e| {
        matches!(e, LinkEvent::State(LinkState::Connected))
    })
    .await
    .map_err(unreachable)?;
    let device = match drive(&mut link, deadline, |e| matches!(e, LinkEvent::Device(_))).await {
        Ok(LinkEvent::Device(d)) => d,
        Ok(_) => DeviceInfo::default(),
        Err(why) => return Err(unreachable(format!("no answer to ecrhub.init: {why}"))),
    };
    let each = cfg.heartbeat_every.saturating_add(cfg.request_timeout);
    let until = instant_after(Instant::now(), each.saturating_mul(count.max(1)));
    let mut rtts = heartbeats(&mut link, count as usize, until).await;
    link.close().await;
    let received = rtts.len();
    let stats = stats(&mut rtts);
    let mut human = format!("terminal {endpoint}\n");
    for line in device_lines(&device) {
        human.push_str(&format!("  {line}\n"));
    }
    human.push_str(&format!("heartbeats: {received}/{count} answered\n"));
    if let Some([min, p50, p99, max]) = stats {
        human.push_str(&format!(
            "round trip ms: min {min:.1}  p50 {p50:.1}  p99 {p99:.1}  max {max:.1}\n"
        ));
    }
    Ok(Report {
        exit: if received == count as usize {
            Exit::Ok
        } else {
            Exit::Unreachable
        },
        human,
        json: json!({
            "terminal": endpoint.to_string(),
            "device": device_json(&device),
            "sent": count, "received": received,
            "rtt_ms": stats.map(|[min, p50, p99, max]| json!({"min": min, "p50": p50, "p99": p99, "max": max})),
        }),
    })
}

/// Where mDNS finds the serial, or what failed and what to do about it.
async fn discovery_step(config: &Config, serial: &str) -> Result<Endpoint, (String, String)> {
    let interface = config.mdns_interface();
    let wait = Duration::from_secs(config.connect_timeout_secs.value.clamp(1, 10));
    let look_around = format!(
        "`till discover` lists the terminals that answer; mDNS runs on {interface} (mdns_interface): at a lane that is the register's address on the terminal's network"
    );
    match crate::discover::find_terminal(interface, serial, wait).await {
        Ok(Some(found)) => Endpoint::parse(&found.address).map_err(|e| {
            (
                format!("serial {serial} advertises an unusable address: {e}"),
                look_around.clone(),
            )
        }),
        Ok(None) => Err((
            format!(
                "serial {serial} not seen on the network: is the terminal on and on this subnet?"
            ),
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

struct Step {
    name: &'static str,
    ok: bool,
    detail: String,
    fix: Option<String>,
}

/// Checks the way to the terminal step by step and stops at the first failure, with
/// what to do about it.
pub async fn doctor(config: &Config) -> Result<Report, Failure> {
    let mut steps: Vec<Step> = Vec::new();
    run_steps(config, &mut steps).await;
    let failed = steps.iter().find(|s| !s.ok);
    let verdict = match failed {
        None => "the terminal is reachable and answers: it can take payments".to_string(),
        Some(s) => format!("FAILED at '{}': {}", s.name, s.detail),
    };
    let mut human = String::new();
    for s in &steps {
        human.push_str(&format!(
            "[{}] {:<18} {}\n",
            if s.ok { " ok " } else { "FAIL" },
            s.name,
            s.detail
        ));
        if let Some(fix) = &s.fix {
            human.push_str(&format!("       fix: {fix}\n"));
        }
    }
    human.push_str(&format!("verdict: {verdict}\n"));
    let json = json!({
        "ok": failed.is_none(),
        "verdict": verdict,
        "steps": steps.iter().map(|s| json!({"step": s.name, "ok": s.ok, "detail": s.detail, "fix": s.fix})).collect::<Vec<_>>(),
    });
    Ok(Report {
        exit: if failed.is_none() {
            Exit::Ok
        } else {
            Exit::Unreachable
        },
        human,
        json,
    })
}

async fn run_steps(config: &Config, steps: &mut Vec<Step>) {
    let pass = |steps: &mut Vec<Step>, name, detail: String| {
        steps.push(Step {
            name,
            ok: true,
            detail,
            fix: None,
        });
    };
    let fail = |steps: &mut Vec<Step>, name, detail: String, fix: String| {
        steps.push(Step {
            name,
            ok: false,
            detail,
            fix: Some(fix),
        });
    };

    // 1. The address.
    let Some(url) = config.url.value.clone() else {
        return fail(
            steps,
            "address",
            "no terminal address configured".into(),
            format!("set --url, TILL_URL or `url` in config.toml; {SWITCH_HINT}"),
        );
    };
    let target = match Target::parse(&url) {
        Ok(t) => t,
        Err(e) => {
            return fail(
                steps,
                "address",
                e.to_string(),
                "use host, host:port, ws://host:port or sn:SERIAL".into(),
            );
        }
    };
    let endpoint = match target {
        Target::Address(endpoint) => {
            pass(
                steps,
                "address",
                format!("{} ({})", endpoint.url(), config.url.source),
            );
            endpoint
        }
        Target::Serial(serial) => {
            pass(
                steps,
                "address",
                format!("sn:{serial} ({})", config.url.source),
            );
            match discovery_step(config, &serial).await {
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
    let link_cfg = match quick_link(config) {
        Ok(c) => c,
        Err(f) => {
            return fail(
                steps,
                "configuration",
                f.message,
                "see `till config`".into(),
            );
        }
    };
    let started = Instant::now();
    let tcp = tokio::time::timeout(link_cfg.connect_timeout, TcpStream::connect(addr)).await;
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
    let head = tokio::time::timeout(link_cfg.request_timeout, head).await;
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

    // 5. ecrhub.init and device info.
    let mut link = Link::new(link_cfg.clone());
    let until = instant_after(
        Instant::now(),
        link_cfg
            .connect_timeout
            .saturating_add(link_cfg.request_timeout),
    );
    match drive(&mut link, until, |e| matches!(e, LinkEvent::Device(_))).await {
        Ok(LinkEvent::Device(d)) => pass(steps, "ecrhub.init", device_lines(&d).join(", ")),
        Ok(_) => {}
        Err(why) => {
            link.close().await;
            return fail(steps, "ecrhub.init", why, "the terminal accepted the socket but not the handshake: restart the CodePay Register app".into());
        }
    }

    // 6. Heartbeats.
    let until = instant_after(Instant::now(), link_cfg.request_timeout);
    let mut rtts = heartbeats(&mut link, 3, until).await;
    match stats(&mut rtts) {
        Some([min, p50, _, max]) if rtts.len() == 3 => pass(
            steps,
            "heartbeat",
            format!("3/3 answered, round trip min {min:.1} / p50 {p50:.1} / max {max:.1} ms"),
        ),
        _ => {
            link.close().await;
            return fail(
                steps,
                "heartbeat",
                format!("{}/3 answered", rtts.len()),
                "the link is unstable: check Wi-Fi signal or use a cable".into(),
            );
        }
    }

    // 7. A harmless query proves the app id is accepted.
    let order = format!("DOCTOR-{}", &new_request_id()[..8]);
    let request_id = new_request_id();
    let op = Operation::Query {
        order_no: order.clone(),
    };
    let sent = link.request(&op, &request_id, None).await;
    let until = instant_after(
        Instant::now(),
        link_cfg
            .request_timeout
            .saturating_add(Duration::from_secs(1)),
    );
    let answer = match sent {
        Ok(()) => {
            drive(
                &mut link,
                until,
                |e| matches!(e, LinkEvent::Answer(a) if a.request_id == request_id),
            )
            .await
        }
        Err(e) => Err(e.to_string()),
    };
    link.close().await;
    match answer {
        Ok(LinkEvent::Answer(a)) => {
            match &a.reply {
                Some(r) => {
                    let code = r.response_code.as_deref().unwrap_or("-");
                    let msg = r.message().to_lowercase();
                    if code == "106"
                        || msg.contains("authori")
                        || msg.contains("app_id")
                        || msg.contains("app id")
                    {
                        fail(steps, "app id", format!("the terminal refused the app id: {code} {}", r.message()),
                        "set --app-id (TILL_APP_ID) to the payment app id issued for this terminal".into());
                    } else {
                        pass(
                            steps,
                            "app id",
                            format!(
                                "query for an unknown order answered {code} {}: the app id is accepted",
                                r.message()
                            ),
                        );
                    }
                }
                None => fail(
                    steps,
                    "app id",
                    format!("no answer to a query: {}", a.why),
                    "the terminal is slow or busy: finish any transaction on its screen and retry"
                        .into(),
                ),
            }
        }
        Ok(_) => {}
        Err(why) => fail(
            steps,
            "app id",
            format!("no answer to a query: {why}"),
            "the terminal is slow or busy: finish any transaction on its screen and retry".into(),
        ),
    }
}
