//! "Why won't this terminal take payments?": the commands `till ping` and `till doctor`.
//! The steps they share with the Diagnostics screen are `crate::terminal_reach`'s and
//! `crate::cloud::reach`'s; the session and journal steps are here.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cloud;
use crate::cloud::CloudClient;
use crate::cloud::reach;
use crate::config::Config;
use crate::ecr::new_request_id;
use crate::ecr::{DeviceInfo, Operation};
use crate::exit::{Exit, Failure, Report};
use crate::journal::FILE_NAME;
use crate::journal::{Integrity, Journal};
use crate::lane::LaneOwner;
use crate::link::{Answer, Link, LinkConfig, LinkEvent, LinkState, instant_after};
use crate::owner::Shared;
use crate::terminal_reach::{self, Check};

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

pub(super) async fn ping(config: &Config, count: u32) -> Result<Report, Failure> {
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
    let rtts = heartbeats(&mut link, count as usize, until).await;
    link.close().await;
    Ok(ping_report(&endpoint.to_string(), &device, count, rtts))
}

/// `till ping` through the lane's owner: its link, its terminal, no second socket.
pub(super) async fn ping_through(
    config: &Config,
    shared: &Shared,
    count: u32,
) -> Result<Report, Failure> {
    let link = config.link()?;
    let state = shared.state();
    if !shared.up(link.connect_timeout).await {
        return Err(Failure::new(
            Exit::Unreachable,
            format!("{}: the lane's link is {}", state.target, state.link),
        ));
    }
    let mut rtts = Vec::new();
    for _ in 0..count {
        if let Some(rtt) = heartbeat(shared).await {
            rtts.push(rtt);
        }
    }
    let state = shared.state();
    let device = DeviceInfo {
        device_sn: state.serial.clone(),
        ..DeviceInfo::default()
    };
    Ok(ping_report(
        &format!("{} (the lane's link)", state.target),
        &device,
        count,
        rtts,
    ))
}

/// One heartbeat through the lane, and its round trip when the terminal answered.
async fn heartbeat(shared: &Shared) -> Option<Duration> {
    let sent = Instant::now();
    let answer = shared.handle.heartbeat().await.ok()?;
    answer.reply.is_some().then(|| sent.elapsed())
}

fn ping_report(endpoint: &str, device: &DeviceInfo, count: u32, mut rtts: Vec<Duration>) -> Report {
    let received = rtts.len();
    let stats = stats(&mut rtts);
    let mut human = format!("terminal {endpoint}\n");
    for line in device_lines(device) {
        human.push_str(&format!("  {line}\n"));
    }
    human.push_str(&format!("heartbeats: {received}/{count} answered\n"));
    if let Some([min, p50, p99, max]) = stats {
        human.push_str(&format!(
            "round trip ms: min {min:.1}  p50 {p50:.1}  p99 {p99:.1}  max {max:.1}\n"
        ));
    }
    Report {
        exit: if received == count as usize {
            Exit::Ok
        } else {
            Exit::Unreachable
        },
        human,
        json: json!({
            "terminal": endpoint,
            "device": device_json(device),
            "sent": count, "received": received,
            "rtt_ms": stats.map(|[min, p50, p99, max]| json!({"min": min, "p50": p50, "p99": p99, "max": max})),
        }),
    }
}

/// Checks the way to the terminal step by step and stops at the first failure, with
/// what to do about it.
pub(super) async fn doctor(config: &Config) -> Result<Report, Failure> {
    let mut steps: Vec<Check> = Vec::new();
    journal_step(config, &mut steps);
    run_steps(config, &mut steps).await;
    Ok(verdict(config, steps).await)
}

/// `till doctor` through the lane's owner: its link is the one checked (no second
/// socket to the terminal).
pub(super) async fn doctor_through(config: &Config, shared: &Shared) -> Result<Report, Failure> {
    let mut steps: Vec<Check> = Vec::new();
    journal_step(config, &mut steps);
    owner_steps(config, shared, &mut steps).await;
    Ok(verdict(config, steps).await)
}

async fn owner_steps(config: &Config, shared: &Shared, steps: &mut Vec<Check>) {
    let link = match config.link() {
        Ok(link) => link,
        Err(e) => {
            return steps.push(Check::fail(
                "configuration",
                e.to_string(),
                "see `till config`".into(),
            ));
        }
    };
    let up = shared.up(link.connect_timeout).await;
    let state = shared.state();
    let holder = LaneOwner::holder(&config.data_dir.value, &config.lane.value)
        .unwrap_or_else(|| "this till".into());
    if !up {
        return steps.push(Check::fail(
            "lane link",
            format!("held by {holder}: its link to {} is {}", state.target, state.link),
            "the till that holds the lane cannot reach the terminal: `till status` shows its link; check the terminal, then its network".into(),
        ));
    }
    let terminal = state.serial.as_deref().unwrap_or(state.target.as_str());
    steps.push(Check::pass(
        "lane link",
        format!("held by {holder}: connected to {terminal}"),
    ));
    let mut rtts = Vec::new();
    for _ in 0..3 {
        if let Some(rtt) = heartbeat(shared).await {
            rtts.push(rtt);
        }
    }
    if !heartbeat_step(steps, rtts) {
        return;
    }
    let order = format!("DOCTOR-{}", &new_request_id()[..8]);
    let answer = match shared.handle.query(order).await {
        Ok(result) => result.answer.ok_or_else(|| "no answer".to_string()),
        Err(e) => Err(e.to_string()),
    };
    app_id_step(steps, answer);
}

/// The steps and their verdict: the cloud is checked too, whatever the LAN steps found.
async fn verdict(config: &Config, mut steps: Vec<Check>) -> Report {
    // The cloud is another way out: checked whatever the LAN steps found.
    if let Some(settings) = config
        .cloud
        .settings(config.terminal_reach().request_timeout)
    {
        match CloudClient::new(settings, cloud::system_clock()) {
            Ok(client) => {
                let order = format!("DOCTOR-{}", &new_request_id()[..8]);
                steps.extend(reach::steps(&client, &order).await);
            }
            Err(e) => steps.push(Check::fail(
                "cloud",
                e,
                "see [cloud] in `till config`".into(),
            )),
        }
    }
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
    Report {
        exit: if failed.is_none() {
            Exit::Ok
        } else {
            Exit::Unreachable
        },
        human,
        json,
    }
}

/// Step 0: the journal, checked in full (opening checks only after a crash). A corrupt one
/// fails the diagnosis but does not hide what the link steps find.
fn journal_step(config: &Config, steps: &mut Vec<Check>) {
    let data = &config.data_dir.value;
    if !data.join(FILE_NAME).exists() {
        return steps.push(Check::pass(
            "journal",
            format!("none yet in {}", data.display()),
        ));
    }
    steps.push(match Journal::open_with(data, Integrity::Always) {
        Ok(j) => Check::pass("journal", format!("{}: integrity ok", j.path().display())),
        Err(e) => Check::fail(
            "journal",
            e.to_string(),
            "restore the journal from a backup or move it aside; `till check` repeats the check"
                .into(),
        ),
    });
}

/// Step 6: three heartbeats answered; false when not (the rest is not worth trying).
fn heartbeat_step(steps: &mut Vec<Check>, mut rtts: Vec<Duration>) -> bool {
    match stats(&mut rtts) {
        Some([min, p50, _, max]) if rtts.len() == 3 => {
            steps.push(Check::pass(
                "heartbeat",
                format!("3/3 answered, round trip min {min:.1} / p50 {p50:.1} / max {max:.1} ms"),
            ));
            true
        }
        _ => {
            steps.push(Check::fail(
                "heartbeat",
                format!("{}/3 answered", rtts.len()),
                "the link is unstable: check Wi-Fi signal or use a cable".into(),
            ));
            false
        }
    }
}

async fn run_steps(config: &Config, steps: &mut Vec<Check>) {
    let fail = |steps: &mut Vec<Check>, name, detail: String, fix: String| {
        steps.push(Check::fail(name, detail, fix))
    };

    if !terminal_reach::check(&config.terminal_reach(), steps).await {
        return;
    }
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

    // 5. ecrhub.init and device info.
    let mut link = Link::new(link_cfg.clone());
    let until = instant_after(
        Instant::now(),
        link_cfg
            .connect_timeout
            .saturating_add(link_cfg.request_timeout),
    );
    match drive(&mut link, until, |e| matches!(e, LinkEvent::Device(_))).await {
        Ok(LinkEvent::Device(d)) => {
            steps.push(Check::pass("ecrhub.init", device_lines(&d).join(", ")))
        }
        Ok(_) => {}
        Err(why) => {
            link.close().await;
            return fail(steps, "ecrhub.init", why, "the terminal accepted the socket but not the handshake: restart the CodePay Register app".into());
        }
    }

    // 6. Heartbeats.
    let until = instant_after(Instant::now(), link_cfg.request_timeout);
    let rtts = heartbeats(&mut link, 3, until).await;
    if !heartbeat_step(steps, rtts) {
        return link.close().await;
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
        Ok(LinkEvent::Answer(a)) => app_id_step(steps, Ok(*a)),
        Ok(_) => {}
        Err(why) => app_id_step(steps, Err(why)),
    }
}

/// Step 7: the terminal's answer to a query of an order it cannot know: refused for the app
/// id, or answered (the app id is accepted).
fn app_id_step(steps: &mut Vec<Check>, answer: Result<Answer, String>) {
    let busy = "the terminal is slow or busy: finish any transaction on its screen and retry";
    let a = match answer {
        Ok(a) => a,
        Err(why) => {
            return steps.push(Check::fail(
                "app id",
                format!("no answer to a query: {why}"),
                busy.into(),
            ));
        }
    };
    let Some(r) = &a.reply else {
        return steps.push(Check::fail(
            "app id",
            format!("no answer to a query: {}", a.why),
            busy.into(),
        ));
    };
    let code = r.response_code.as_deref().unwrap_or("-");
    let msg = r.message().to_lowercase();
    if code == "106" || msg.contains("authori") || msg.contains("app_id") || msg.contains("app id")
    {
        steps.push(Check::fail(
            "app id",
            format!("the terminal refused the app id: {code} {}", r.message()),
            "set --app-id (TILL_APP_ID) to the payment app id issued for this terminal".into(),
        ));
    } else {
        steps.push(Check::pass(
            "app id",
            format!(
                "query for an unknown order answered {code} {}: the app id is accepted",
                r.message()
            ),
        ));
    }
}
