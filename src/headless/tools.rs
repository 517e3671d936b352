//! Commands that need no lane: configuration, journal reports, and the technician's
//! link checks (`ping`, `doctor`) and mDNS discovery.

use std::time::Duration;

use serde_json::{Value, json};

use super::output::{Report, batch_human, batch_json, row_json};
use super::{Exit, Failure};
use crate::config::Config;
use crate::journal::{BatchSel, Journal};
use crate::money::format_minor;

pub fn config(config: &Config) -> Report {
    let rows = config.describe();
    let mut human = match &config.file {
        Some(p) => format!("# config file: {}\n", p.display()),
        None => "# no config file\n".to_string(),
    };
    let width = rows.iter().map(|(k, _, _)| k.len()).max().unwrap_or(0);
    for (key, value, source) in &rows {
        human.push_str(&format!("{key:<width$} = {value}  # {source}\n"));
    }
    let json = Value::Object(
        rows.into_iter()
            .map(|(k, v, s)| (k, json!({"value": v, "source": s})))
            .collect(),
    );
    Report {
        exit: Exit::Ok,
        human,
        json,
    }
}

/// `till discover`: every terminal that answers on the mDNS interface within `wait`.
pub async fn discover(config: &Config, wait: Duration) -> Result<Report, Failure> {
    let interface = config.mdns_interface();
    let terminals = crate::discover::terminals(interface, wait)
        .await
        .map_err(|e| Failure::new(Exit::Unreachable, e.to_string()))?;
    let mut human = String::new();
    if terminals.is_empty() {
        human.push_str(&format!(
            "no terminal answered on {interface} within {}s\n",
            wait.as_secs()
        ));
        if interface.is_loopback() {
            human.push_str("mDNS looked on this machine only: set --mdns-interface (or mdns_interface) to this register's address on the terminals' network\n");
        }
    }
    for t in &terminals {
        let app = [t.app_name.as_deref(), t.app_version.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        human.push_str(&format!("{}  {}  {app}\n", t.serial, t.address));
    }
    Ok(Report {
        exit: Exit::Ok,
        human,
        json: json!({ "terminals": terminals }),
    })
}

fn batch_sel(text: &str) -> Result<BatchSel, Failure> {
    if text == "open" {
        return Ok(BatchSel::Open);
    }
    text.parse::<i64>().map(BatchSel::Number).map_err(|_| {
        Failure::new(
            Exit::Usage,
            format!("--batch '{text}': use `open` or a batch number"),
        )
    })
}

fn journal_failure(e: crate::journal::JournalError) -> Failure {
    Failure::new(Exit::Unreachable, e.to_string())
}

pub fn history(
    journal: &Journal,
    config: &Config,
    batch: &str,
    csv: bool,
) -> Result<Report, Failure> {
    let rows = journal.rows(batch_sel(batch)?).map_err(journal_failure)?;
    let json = Value::Array(rows.iter().map(|r| row_json(r, config)).collect());
    let human = if csv {
        let mut out = String::from(
            "created_at,order_no,kind,state,amount,tip,currency,brand,card,auth_code,orig_order_no\n",
        );
        for r in &rows {
            let cells = [
                r.created_at.clone(),
                r.order_no.clone(),
                r.kind.name().to_string(),
                r.state.name().to_string(),
                r.amount.to_string(),
                r.tip.map(|t| t.to_string()).unwrap_or_default(),
                r.currency.clone(),
                r.brand.clone().unwrap_or_default(),
                r.card.clone().unwrap_or_default(),
                r.auth_code.clone().unwrap_or_default(),
                r.orig_order_no.clone().unwrap_or_default(),
            ];
            out.push_str(&cells.map(|c| csv_cell(&c)).join(","));
            out.push('\n');
        }
        out
    } else if rows.is_empty() {
        "no transactions".to_string()
    } else {
        let mut out = format!(
            "{:<19} {:<17} {:<17} {:<9} {:>12} {:<10} {}\n",
            "when", "order", "kind", "state", "amount", "brand", "card"
        );
        for r in &rows {
            out.push_str(&format!(
                "{:<19} {:<17} {:<17} {:<9} {:>12} {:<10} {}\n",
                r.created_at.chars().take(19).collect::<String>(),
                r.order_no,
                r.kind.name(),
                r.state.name(),
                r.amount.to_string(),
                r.brand.as_deref().unwrap_or("-"),
                r.card.as_deref().unwrap_or("-"),
            ));
        }
        out
    };
    Ok(Report {
        exit: Exit::Ok,
        human,
        json,
    })
}

pub fn report(
    journal: &Journal,
    config: &Config,
    batch: &str,
    csv: bool,
) -> Result<Report, Failure> {
    let report = journal.report(batch_sel(batch)?).map_err(journal_failure)?;
    let human = if csv {
        let money = |m: i64| format_minor(m, config.exponent());
        let mut out = String::from("group,name,count,sum\n");
        for k in &report.per_kind {
            out.push_str(&format!(
                "kind,{},{},{}\n",
                csv_cell(&k.name),
                k.count,
                money(k.sum_minor)
            ));
        }
        for b in &report.per_brand {
            out.push_str(&format!(
                "brand,{},{},{}\n",
                csv_cell(&b.name),
                b.count,
                money(b.sum_minor)
            ));
        }
        out.push_str(&format!("net,net,,{}\n", money(report.net_minor)));
        out
    } else {
        batch_human(&report, config)
    };
    Ok(Report {
        exit: Exit::Ok,
        human,
        json: batch_json(&report, config),
    })
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
