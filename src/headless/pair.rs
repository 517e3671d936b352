//! `till pair`: the register's side of terminal-initiated pairing, from a shell. The
//! first pair (or unpair) request that comes is decided, answered and reported; a
//! malformed frame is reported and the wait goes on. `till unpair`'s frame is here too.

use std::io::IsTerminal;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::cli::PairArgs;
use crate::config::{Config, save_url};
use crate::ecr;
use crate::ecr::Answer as TerminalAnswer;
use crate::exit::{Exit, Failure, Report, to_stderr};
use crate::link::Target;
use crate::mask::outside_line as shown;
use crate::pair;
use crate::pair::register::{Answer, Incoming, Server, url_to_keep};
use crate::pair::{ACCEPT, Device, Kind, REFUSE, Request};

#[derive(Clone, Copy)]
enum Decide {
    Accept,
    Refuse,
    Ask,
}

/// This register's name on the terminal's list: given, else `till-LANE`.
fn register_name(config: &Config, given: Option<String>) -> String {
    given.unwrap_or_else(|| pair::default_name(&config.lane.value))
}

pub(super) async fn pair(config: &Config, args: PairArgs) -> Result<Report, Failure> {
    let decide = match (args.accept, args.refuse) {
        (true, _) => Decide::Accept,
        (_, true) => Decide::Refuse,
        _ if std::io::stdin().is_terminal() => Decide::Ask,
        _ => {
            return Err(Failure::new(
                Exit::Usage,
                "stdin is not a terminal, so nobody can say yes: give --accept or --refuse",
            ));
        }
    };
    let name = register_name(config, args.name);
    let interface = config.mdns_interface();
    let fail = |e: &dyn std::fmt::Display| Failure::new(Exit::Unreachable, e.to_string());
    // The register's MAC address is not known to till: advertised empty (the protocol
    // says a terminal may use it to recognise a register; unconfirmed).
    let mut server = Server::start(interface, args.port, &name, "", ecr::now_ms())
        .await
        .map_err(|e| fail(&e))?;
    let wait = Duration::from_secs(args.wait);
    to_stderr(format_args!(
        "till pair: register {name} waits up to {}s at ws://{} (advertised by mDNS on {interface} as {}); start pairing on the terminal\n",
        wait.as_secs(),
        server.addr(),
        server.instance(),
    ));
    let deadline = Instant::now() + wait;
    loop {
        let incoming = match tokio::time::timeout_at(deadline, server.next()).await {
            Ok(Some(incoming)) => incoming,
            Ok(None) => return Err(fail(&"the pairing server stopped")),
            Err(_) => {
                let hint = if interface.is_loopback() {
                    ": mDNS ran on this machine only; set --mdns-interface (or mdns_interface) to this register's address on the terminal's network"
                } else {
                    ": is the terminal in WLAN mode, on this network, and asked to pair?"
                };
                return Err(fail(&format!(
                    "no terminal asked to pair within {}s{hint}",
                    wait.as_secs()
                )));
            }
        };
        match incoming {
            Incoming::Malformed { from, error } => to_stderr(format_args!(
                "till pair: refused a malformed frame from {from}: {error}; still waiting\n"
            )),
            Incoming::Request {
                request, answer, ..
            } => {
                return match request.kind {
                    Kind::Pair => paired(config, &request, decide, answer).await,
                    Kind::Unpair => Ok(unpaired(config, &request, answer).await),
                };
            }
        }
    }
}

/// The terminal as reported: outside text shown masked.
fn terminal_json(device: &Device) -> Value {
    json!({
        "name": device.shown_name(),
        "device_name": shown(&device.device_name),
        "alias_name": shown(&device.alias_name),
        "mac_address": shown(&device.mac_address),
        "address": device.address(),
    })
}

async fn paired(
    config: &Config,
    request: &Request,
    decide: Decide,
    answer: Answer,
) -> Result<Report, Failure> {
    let device = &request.device;
    let (name, address) = (device.shown_name(), device.address());
    to_stderr(format_args!(
        "till pair: terminal {name} at {address} asks to pair\n"
    ));
    let accepted = match decide {
        Decide::Accept => true,
        Decide::Refuse => false,
        Decide::Ask => ask_yes(format!("Pair with {name} at {address}? [y/N] ")).await,
    };
    let mut json = json!({
        "event": "pair",
        "terminal": terminal_json(device),
        "accepted": accepted,
    });
    if !accepted {
        let sent = answer.send(REFUSE).await;
        json["response_code"] = REFUSE.into();
        json["answered"] = sent.into();
        return Ok(Report {
            exit: Exit::Ok,
            human: format!("refused terminal {name} at {address}; the config is unchanged\n"),
            json,
        });
    }
    // Saved before the terminal hears yes (see `url_to_keep`).
    let saved = match config.save_path() {
        Some(path) => {
            let url = url_to_keep(config.mdns_interface(), device).await;
            save_url(&path, &url)
                .map(|()| (url, path))
                .map_err(|e| e.to_string())
        }
        None => Err("no config directory to save to".to_string()),
    };
    let (url, path) = match saved {
        Ok(saved) => saved,
        Err(e) => {
            answer.send(REFUSE).await;
            return Err(Failure::new(
                Exit::Unreachable,
                format!(
                    "refused terminal {name} at {address}: its address could not be saved: {e}"
                ),
            ));
        }
    };
    let sent = answer.send(ACCEPT).await;
    json["response_code"] = ACCEPT.into();
    json["answered"] = sent.into();
    json["saved"] = json!({"url": url, "file": path});
    let mut human = format!(
        "paired with terminal {name} at {address}: url = \"{url}\" saved to {}\n",
        path.display()
    );
    if !sent {
        human.push_str(
            "the terminal left before the answer reached it: pair again from the terminal\n",
        );
    }
    Ok(Report {
        exit: Exit::Ok,
        human,
        json,
    })
}

/// An unpair is always answered "000"; the config is left for a person to change.
async fn unpaired(config: &Config, request: &Request, answer: Answer) -> Report {
    let device = &request.device;
    let (name, address) = (device.shown_name(), device.address());
    let sent = answer.send(ACCEPT).await;
    let url = config.url.value.as_deref().unwrap_or("");
    let configured = match Target::parse(url) {
        Ok(Target::Address(endpoint)) => {
            endpoint.host == device.ip_address && endpoint.port == device.port
        }
        _ => false,
    };
    let note = if configured {
        format!(
            "it is the configured terminal (url = \"{url}\"): till will still try to reach it; pair it again (till pair), or set url to another terminal"
        )
    } else if url.starts_with("sn:") || url.starts_with("SN:") {
        format!(
            "the config names its terminal by serial ({url}): if that is this terminal, pair it again or set url to another"
        )
    } else {
        "it is not the configured terminal: nothing to change".to_string()
    };
    Report {
        exit: Exit::Ok,
        human: format!("terminal {name} at {address} unpaired from this register; {note}\n"),
        json: json!({
            "event": "unpair",
            "terminal": terminal_json(device),
            "response_code": ACCEPT,
            "answered": sent,
            "configured": configured,
            "note": note,
        }),
    }
}

/// Asks on the terminal; only `y` or `yes` says yes.
async fn ask_yes(prompt: String) -> bool {
    let line = tokio::task::spawn_blocking(move || {
        to_stderr(format_args!("{prompt}"));
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await;
    matches!(line, Ok(Ok(l)) if matches!(l.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// `till unpair`'s frame: this register as `device_data`. No pairing server runs while
/// it is sent, so `port` is 0; the terminal knows the register by name and address.
pub(super) fn unpair_frame(config: &Config, name: Option<String>) -> String {
    let name = register_name(config, name);
    let device = Device {
        mac_address: String::new(),
        device_name: name.clone(),
        alias_name: name,
        ip_address: config.mdns_interface().to_string(),
        port: 0,
    };
    Request::new(Kind::Unpair, device)
        .with_request_id(&ecr::new_request_id())
        .to_text()
}

/// What the terminal said to `till unpair`: "000" (or the older "0") is done.
pub(super) fn unpair_report(answer: Option<&TerminalAnswer>) -> Report {
    let reply = answer.and_then(|a| a.reply.as_ref());
    let code = reply.and_then(|r| r.response_code.as_deref());
    let said = reply.map(|r| shown(r.message())).unwrap_or_default();
    let why = answer.map_or("nothing came back", |a| a.why.as_str());
    let (exit, human) = match code {
        Some(ACCEPT | "0") => (
            Exit::Ok,
            "the terminal answered 000: it has forgotten this register; url stays in the config until you change it\n".to_string(),
        ),
        Some(code) => (
            Exit::Declined,
            format!("the terminal answered {code}: {said}\n"),
        ),
        None => (Exit::Unknown, format!("no answer from the terminal: {why}\n")),
    };
    Report {
        exit,
        human,
        json: json!({
            "topic": Kind::Unpair.topic().as_str(),
            "response_code": code,
            "response_msg": said,
        }),
    }
}
