//! "Why won't this terminal take payments?": `till ping` and `till doctor`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::output::Report;
use super::{Exit, Failure};
use crate::checkup::{self, Check};
use crate::config::Config;
use crate::ecr::new_request_id;
use crate::ecr::{DeviceInfo, Operation};
use crate::journal::{Integrity, Journal};
use crate::link::{Link, LinkConfig, LinkEvent, LinkState, instant_after};

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

/// Checks the way to the terminal step by step and stops at the first failure, with
/// what to do about it.
pub async fn doctor(config: &Config) -> Result<Report, Failure> {
    let mut steps: Vec<Check> = Vec::new();
    run_steps(config, &mut steps).await;
    // The cloud is another way out: checked whatever the LAN steps found.
    if let Some(settings) = config
        .cloud
        .settings(config.checkup_target().request_timeout)
    {
        match crate::cloud::CloudClient::new(settings, crate::cloud::system_clock()) {
            Ok(client) => {
                let order = format!("DOCTOR-{}", &new_request_id()[..8]);
                steps.extend(crate::cloud::checkup::steps(&client, &order).await);
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

async fn run_steps(config: &Config, steps: &mut Vec<Check>) {
    let pass = |steps: &mut Vec<Check>, name, detail: String| steps.push(Check::pass(name, detail));
    let fail = |steps: &mut Vec<Check>, name, detail: String, fix: String| {
        steps.push(Check::fail(name, detail, fix))
    };

    // 0. The journal, checked in full (opening checks only after a crash). A corrupt
    // one fails the diagnosis but does not hide what the link steps find.
    let data = &config.data_dir.value;
    if data.join(crate::journal::FILE_NAME).exists() {
        match Journal::open_with(data, Integrity::Always) {
            Ok(j) => pass(steps, "journal", format!("{}: integrity ok", j.path().display())),
            Err(e) => fail(
                steps,
                "journal",
                e.to_string(),
                "restore the journal from a backup or move it aside; `till check` repeats the check".into(),
            ),
        }
    } else {
        pass(steps, "journal", format!("none yet in {}", data.display()));
    }

    if !checkup::network(&config.checkup_target(), steps).await {
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
