//! `till status`: every lane of a data dir at a glance, for a manager or a monitoring
//! system: who holds it, what is unresolved, today's count and net, the last terminal
//! seen, and what waits for the store. Read from the journal and the lane locks; a lane
//! whose owner answers on its socket adds what only the owner knows (its link, the
//! terminal's serial and address, the round trip, the queue). It takes no lane and
//! opens no socket to a terminal.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::time::Duration;

use chrono::Local;
use serde_json::json;

use super::existing_journal;
use super::tools::utc_offset_on;
use crate::config::Config;
use crate::exit::{Exit, Failure, Report};
use crate::journal::JournalError;
use crate::journal::{BatchSel, Journal};
use crate::lane::LaneOwner;
use crate::money::format_minor;
use crate::owner::{self, LaneState, Shared};

/// What the owner of a lane says of it, for a `till status` that asks it.
pub(super) fn live(shared: &Shared) -> Report {
    let state = shared.state();
    Report {
        exit: Exit::Ok,
        human: String::new(),
        json: serde_json::to_value(&state).unwrap_or_default(),
    }
}

/// One look at every lane.
pub(super) async fn status(config: &Config) -> Result<Report, Failure> {
    let journal = existing_journal(config)?;
    let failed = |e: JournalError| Failure::new(Exit::Unreachable, e.to_string());
    let dir = &config.data_dir.value;
    let today = Local::now().date_naive();
    let totals = journal
        .report_range(Some(today), Some(today), utc_offset_on(Some(today)))
        .map_err(failed)?;
    let mut lanes: BTreeSet<String> = LaneOwner::known(dir).into_iter().collect();
    lanes.extend(totals.per_lane.iter().map(|g| g.name.clone()));
    lanes.insert(config.lane.value.to_ascii_uppercase());
    let exponent = config.exponent();
    let currency = &config.currency.value;
    let mut human = String::new();
    let mut each = Vec::new();
    for lane in &lanes {
        let holder = LaneOwner::holder(dir, lane);
        let unresolved: Vec<String> = journal
            .unresolved_on(lane)
            .map_err(failed)?
            .into_iter()
            .map(|r| r.order_no)
            .collect();
        let (count, net) = totals
            .per_lane
            .iter()
            .find(|g| &g.name == lane)
            .map_or((0, 0), |g| (g.count, g.sum_minor));
        let terminal = last_terminal(&journal, lane);
        let live = match holder {
            Some(_) => owner::live_state(config, lane).await,
            None => None,
        };
        human.push_str(&format!(
            "lane {lane}  {}\n  today: {count} row(s), net {} {currency}\n  unresolved: {}\n  last terminal seen: {}\n",
            holder.as_deref().map_or("free".into(), |h| format!("held by {h}")),
            format_minor(net, exponent),
            if unresolved.is_empty() { "none".into() } else { unresolved.join(", ") },
            terminal.as_deref().unwrap_or("-"),
        ));
        if let Some(live) = &live {
            human.push_str(&live_human(live));
        }
        each.push(json!({
            "lane": lane,
            "held_by": holder,
            "today": {"count": count, "net": format_minor(net, exponent), "currency": currency},
            "unresolved": unresolved,
            "last_terminal": terminal,
            "live": live,
        }));
    }
    let waiting = match config.store_url.value {
        Some(_) => journal.outbox_len().ok(),
        None => None,
    };
    if let Some(n) = waiting {
        human.push_str(&format!("store: {n} row(s) waiting to be copied\n"));
    }
    // An upgrade's tally runs behind whatever opened the file; `--watch` shows it go.
    let untallied = journal.untallied().map_err(failed)?;
    if untallied > 0 {
        human.push_str(&format!(
            "report totals: {untallied} row(s) still to tally (reports read the rows meanwhile)\n"
        ));
    }
    Ok(Report {
        exit: Exit::Ok,
        human,
        json: json!({"day": today.to_string(), "lanes": each, "store_waiting": waiting,
            "totals_waiting": untallied}),
    })
}

/// `till status --watch`: a fresh look every two seconds until Ctrl-C; under `--json`
/// one object per line.
pub(super) async fn watch(config: &Config, json: bool) -> Result<Report, Failure> {
    let clear = !json && std::io::stdout().is_terminal();
    loop {
        let report = status(config).await?;
        if clear {
            // Home and clear: the look stays in place.
            print!("\x1b[H\x1b[2J");
        }
        report.print(json);
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(Report::printed(Exit::Ok)),
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

/// The owner's figures, a line or two under its lane.
fn live_human(live: &LaneState) -> String {
    let mut text = format!("  link: {}", live.link);
    let terminal = [live.serial.as_deref(), live.address.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" at ");
    let terminal = if terminal.is_empty() {
        live.target.as_str()
    } else {
        terminal.as_str()
    };
    text.push_str(&format!(" to {terminal}"));
    if let Some(ms) = live.round_trip_ms {
        text.push_str(&format!(", round trip {ms} ms"));
    }
    text.push('\n');
    text.push_str(&format!(
        "  on the terminal: {}; waiting in the queue: {}\n",
        live.paying.as_deref().unwrap_or("nothing"),
        live.queue
    ));
    text
}

/// The serial of the terminal that took the lane's latest row that names one.
fn last_terminal(journal: &Journal, lane: &str) -> Option<String> {
    journal
        .rows(BatchSel::Open(lane))
        .ok()?
        .into_iter()
        .find_map(|r| r.terminal_sn)
}
