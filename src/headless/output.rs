//! What the headless commands print: a human text or exactly one JSON object on
//! stdout, progress on stderr (a spinner on a terminal, plain lines otherwise).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Instant;

use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

use crate::config::Config;
use crate::ecr::Answer;
use crate::ecr::Outcome;
use crate::ecr::TransStatus;
use crate::exit::{Exit, Report, to_stderr};
use crate::journal::Group;
use crate::journal::{BatchReport, TxnRow, rules};
use crate::lane::QueryResult;
use crate::mask::mask_pans;
use crate::money::format_minor;

/// Our own cursor control on stderr (the spinner's line), never text from outside.
fn control_stderr(sequence: &str) {
    let _ = std::io::stderr().write_all(sequence.as_bytes());
}

/// Progress on stderr while waiting for the terminal; for a request another till
/// handed to the lane's owner, on that till's stderr (through `sink`).
pub(super) struct Progress {
    started: Instant,
    tty: bool,
    spinner: usize,
    sink: Option<UnboundedSender<String>>,
}

impl Progress {
    pub(super) fn new() -> Progress {
        Progress {
            started: Instant::now(),
            tty: std::io::stderr().is_terminal(),
            spinner: 0,
            sink: None,
        }
    }

    /// Progress that goes to the till that asked, which prints it as its own.
    pub(super) fn remote(sink: UnboundedSender<String>) -> Progress {
        Progress {
            tty: false,
            sink: Some(sink),
            ..Progress::new()
        }
    }

    pub(super) fn say(&mut self, message: &str) {
        if let Some(sink) = &self.sink {
            // The asking till may be gone: the request goes on all the same.
            let _ = sink.send(mask_pans(message).into_owned());
            return;
        }
        let secs = self.started.elapsed().as_secs();
        if self.tty {
            control_stderr("\r\x1b[2K");
        }
        to_stderr(format_args!("[{secs:>3}s] {}\n", mask_pans(message)));
    }

    /// Redraws the spinner line on a terminal; silent otherwise.
    pub(super) fn tick(&mut self) {
        if !self.tty {
            return;
        }
        const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
        self.spinner = (self.spinner + 1) % FRAMES.len();
        let secs = self.started.elapsed().as_secs();
        control_stderr("\r\x1b[2K");
        to_stderr(format_args!(
            "{} waiting on the terminal… {secs}s",
            FRAMES[self.spinner]
        ));
        let _ = std::io::stderr().flush();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.tty {
            control_stderr("\r\x1b[2K");
        }
    }
}

fn money(minor: i64, config: &Config) -> String {
    format_minor(minor, config.exponent())
}

pub(super) fn row_json(row: &TxnRow, config: &Config) -> Value {
    json!({
        "outcome": row.state.name(),
        "kind": row.kind.name(),
        "merchant_order_no": row.order_no,
        "orig_merchant_order_no": row.orig_order_no,
        "amount": row.amount.to_string(),
        "asked": row.asked.to_string(),
        "partial": row.is_partial(),
        "note": row.partial_note(),
        "needs_person": rules::needs_person(row),
        "tip": row.tip.map(|t| t.to_string()),
        "cashback": row.cashback.map(|c| c.to_string()),
        "currency": row.currency,
        "response_code": row.reply.response_code,
        "response_msg": row.reply.response_msg,
        "trans_no": row.reply.trans_no,
        "trans_status": row.reply.trans_status,
        "brand": row.reply.brand,
        "card": row.reply.card,
        "auth_code": row.reply.auth_code,
        "ref_no": row.reply.ref_no,
        "entry_mode": row.reply.entry_mode,
        "lane": row.lane,
        "batch": row.batch,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "exponent": config.exponent(),
    })
}

pub(super) fn row_human(row: &TxnRow) -> String {
    let mut lines = vec![format!(
        "{}  {} {} {}",
        row.state.name().to_uppercase(),
        row.kind.name(),
        row.amount,
        row.currency
    )];
    let mut field = |label: &str, value: Option<&str>| {
        if let Some(v) = value {
            lines.push(format!("  {label:<10} {v}"));
        }
    };
    field("", row.partial_note().as_deref());
    field("order", Some(&row.order_no));
    field("original", row.orig_order_no.as_deref());
    field("tip", row.tip.map(|t| t.to_string()).as_deref());
    field("cash-back", row.cashback.map(|c| c.to_string()).as_deref());
    field("brand", row.reply.brand.as_deref());
    field("card", row.reply.card.as_deref());
    field("auth code", row.reply.auth_code.as_deref());
    field("ref no", row.reply.ref_no.as_deref());
    field("trans no", row.reply.trans_no.as_deref());
    let terminal = match (&row.reply.response_code, &row.reply.response_msg) {
        (Some(c), Some(m)) => Some(format!("{c} {m}")),
        (Some(c), None) => Some(c.clone()),
        (None, Some(m)) => Some(m.clone()),
        (None, None) => None,
    };
    field("terminal", terminal.as_deref());
    lines.join("\n")
}

pub(super) fn batch_json(report: &BatchReport, config: &Config) -> Value {
    let groups = |key: &str, groups: &[Group]| -> Vec<Value> {
        groups
            .iter()
            .map(|g| json!({key: g.name, "count": g.count, "sum": money(g.sum_minor, config)}))
            .collect()
    };
    json!({
        "batch": report.batch,
        "per_kind": groups("kind", &report.per_kind),
        "per_brand": groups("brand", &report.per_brand),
        "net": money(report.net_minor, config),
        "currency": config.currency.value,
    })
}

pub(super) fn batch_human(report: &BatchReport, config: &Config) -> String {
    let mut out = format!("batch {}\n", report.batch);
    for (_, line) in report.lines(config.exponent(), &config.currency.value) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

pub(super) fn query_report(order: &str, result: &QueryResult, config: &Config) -> Report {
    let terminal = result.answer.as_ref().map(answer_json);
    let journal = result.row.as_ref().map(|r| row_json(r, config));
    let answered = result.answer.as_ref().is_some_and(|a| a.reply.is_some());
    let mut human = format!("query {order}\n");
    match &result.answer {
        Some(a) => human.push_str(&format!("terminal: {}\n", answer_line(a))),
        None => human.push_str("terminal: no answer\n"),
    }
    match &result.row {
        Some(row) => human.push_str(&format!(
            "journal:  {}\n",
            row_human(row).replace('\n', "\n          ")
        )),
        None => human.push_str("journal:  no row for this order\n"),
    }
    Report {
        exit: if answered { Exit::Ok } else { Exit::Unknown },
        human,
        json: json!({"merchant_order_no": order, "terminal": terminal, "journal": journal}),
    }
}

fn answer_line(a: &Answer) -> String {
    match &a.reply {
        Some(r) => {
            let status = r
                .biz
                .trans_status
                .as_deref()
                .map(|s| {
                    format!(
                        ", trans_status {s} ({})",
                        TransStatus::from_wire(s).describe()
                    )
                })
                .unwrap_or_default();
            format!(
                "{} {}{status}",
                r.response_code.as_deref().unwrap_or("-"),
                r.message()
            )
        }
        None => format!("none ({})", a.why),
    }
}

fn answer_json(a: &Answer) -> Value {
    match &a.reply {
        Some(r) => json!({
            "outcome": a.outcome.word().to_lowercase(),
            "response_code": r.response_code,
            "response_msg": r.response_msg,
            "trans_status": r.biz.trans_status,
            "biz_data": Value::Object(r.biz.all.clone()),
        }),
        None => json!({"outcome": "unknown", "why": a.why}),
    }
}

pub(super) fn answer_report(what: &str, answer: &Answer) -> Report {
    let exit = match answer.outcome {
        Outcome::Approved => Exit::Ok,
        Outcome::Declined => Exit::Declined,
        Outcome::Unknown => Exit::Unknown,
    };
    Report {
        exit,
        human: format!("{what}: {}", answer_line(answer)),
        json: answer_json(answer),
    }
}

pub(super) fn recover_report(unresolved: &[String], why: &BTreeMap<String, String>) -> Report {
    if unresolved.is_empty() {
        return Report {
            exit: Exit::Ok,
            human: "nothing unresolved".into(),
            json: json!({"unresolved": []}),
        };
    }
    let why: BTreeMap<&String, &String> = unresolved
        .iter()
        .filter_map(|o| why.get(o).map(|w| (o, w)))
        .collect();
    let mut human = format!("still unresolved: {}", unresolved.join(", "));
    for (order, w) in &why {
        human.push_str(&format!("\n  {order}: {w}"));
    }
    Report {
        exit: Exit::Unknown,
        human,
        json: json!({"unresolved": unresolved, "why": why}),
    }
}

pub(super) fn send_report(answer: Option<&Answer>, frames: &[String]) -> Report {
    let mut human = String::new();
    for f in frames {
        let pretty = serde_json::from_str::<Value>(f)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| f.clone());
        human.push_str(&pretty);
        human.push('\n');
    }
    if frames.is_empty() {
        human.push_str(match answer {
            Some(a) => &a.why,
            None => "sent; nothing came back",
        });
    }
    let parsed: Vec<Value> = frames
        .iter()
        .map(|f| serde_json::from_str(f).unwrap_or_else(|_| Value::String(f.clone())))
        .collect();
    Report {
        exit: if frames.is_empty() {
            Exit::Unknown
        } else {
            Exit::Ok
        },
        human,
        json: json!({"replies": parsed}),
    }
}
