//! Commands that need no lane: the config as loaded, the journal's history, reports,
//! archive and check, and mDNS discovery. (`ping` and `doctor` test the link: doctor.rs.)

use crate::exit::{Code, Exit, Failure, Report};
use crate::progress::Progress;
use std::time::Duration;

use serde_json::{Value, json};

use super::output::{batch_human, batch_json, row_json};
use crate::config::Config;
use chrono::{Local, NaiveDate, NaiveTime, TimeZone};

use crate::cli::HistorySearch;
use crate::discover;
use crate::journal::FILE_NAME;
use crate::journal::{
    BatchSel, Group, Integrity, Journal, JournalError, RangeReport, Search, Source, TxnRow,
};
use crate::money::format_minor;

pub(super) fn config(config: &Config) -> Report {
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

/// `till check`: the integrity check that opening skips after a clean shutdown.
pub(super) fn check(config: &Config) -> Result<Report, Failure> {
    let dir = &config.data_dir.value;
    let path = dir.join(FILE_NAME);
    if !path.exists() {
        return Ok(Report {
            exit: Exit::Ok,
            human: format!("no journal yet at {}", path.display()),
            json: json!({"ok": true, "path": path, "problems": [], "note": "no journal yet"}),
        });
    }
    let progress = Progress::stderr();
    progress.start("checking the journal file", "", 0);
    let opened = Journal::open_with(dir, Integrity::Always);
    progress.finish();
    let mut journal = match opened {
        Ok(journal) => journal,
        Err(JournalError::Corrupt { path, detail }) => {
            let problems: Vec<&str> = detail.split("; ").collect();
            let json = json!({"ok": false, "path": path, "problems": problems});
            return Ok(Report {
                exit: Exit::Unreachable,
                json,
                human: JournalError::Corrupt { path, detail }.to_string(),
            });
        }
        Err(e) => return Err(journal_failure(e)),
    };
    journal.show_progress(progress);
    let archives = journal.check_archives().map_err(journal_failure)?;
    if archives.is_empty() {
        // The report totals are checked once every file is known sound, and once an
        // upgrade's backlog is tallied (until then they would be read from the rows).
        journal.tally_totals().map_err(journal_failure)?;
        let agreed = journal.check_totals().map_err(journal_failure)?;
        let (totals, said) = if agreed {
            ("ok", "")
        } else {
            (
                "tallied again",
                "; report totals disagreed with the rows and were tallied again",
            )
        };
        return Ok(Report {
            exit: Exit::Ok,
            human: format!("journal {}: ok{said}", path.display()),
            json: json!({"ok": true, "path": path, "problems": [], "totals": totals}),
        });
    }
    let problems: Vec<String> = archives
        .iter()
        .flat_map(|(file, list)| list.iter().map(move |p| format!("{}: {p}", file.display())))
        .collect();
    Ok(Report {
        exit: Exit::Unreachable,
        human: format!(
            "journal {}: ok; archives corrupt (left untouched: restore them from a backup):\n{}",
            path.display(),
            problems.join("\n")
        ),
        json: json!({"ok": false, "path": path, "problems": problems}),
    })
}

/// `till discover`: every terminal that answers on the mDNS interface within `wait`.
pub(super) async fn discover(config: &Config, wait: Duration) -> Result<Report, Failure> {
    let interface = config.mdns_interface();
    let terminals = discover::terminals(interface, wait)
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

/// `open` (the lane's open batch) or a batch number.
fn batch_sel<'a>(text: &str, config: &'a Config) -> Result<BatchSel<'a>, Failure> {
    if text == "open" {
        return Ok(BatchSel::Open(&config.lane.value));
    }
    text.parse::<i64>().map(BatchSel::Number).map_err(|_| {
        Failure::new(
            Exit::Usage,
            format!("--batch '{text}': use `open` or a batch number"),
        )
    })
}

fn journal_failure(e: JournalError) -> Failure {
    Failure::new(Exit::Unreachable, e.to_string())
}

/// The zone's offset from UTC on `day` (today without one), for local dates.
pub(super) fn utc_offset_on(day: Option<NaiveDate>) -> i32 {
    let at = day
        .and_then(|d| {
            Local
                .from_local_datetime(&d.and_time(NaiveTime::MIN))
                .earliest()
        })
        .unwrap_or_else(Local::now);
    at.offset().local_minus_utc()
}

fn search_failure(e: JournalError) -> Failure {
    match e {
        JournalError::Invalid(m) => Failure::new(Exit::Usage, m),
        other => journal_failure(other),
    }
}

pub(super) fn history(
    journal: &Journal,
    config: &Config,
    batch: Option<&str>,
    query: &HistorySearch,
    csv: bool,
) -> Result<Report, Failure> {
    let (rows, next) = history_rows(journal, config, batch, query)?;
    let order_nos: Vec<String> = rows.iter().map(|r| r.order_no.clone()).collect();
    let after = journal.aftermath(&order_nos).map_err(journal_failure)?;
    let words = |order_no: &str| -> Vec<String> {
        after
            .get(order_no)
            .map(|list| list.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    };
    let json = json!({
        "rows": rows.iter().map(|r| {
            let mut row = row_json(r, config);
            row["aftermath"] = json!(words(&r.order_no));
            row
        }).collect::<Vec<_>>(),
        "next": next,
    });
    let human = if csv {
        history_csv(&rows, &words)
    } else if rows.is_empty() {
        "no transactions".to_string()
    } else {
        history_table(&rows, next, &words)
    };
    Ok(Report {
        exit: Exit::Ok,
        human,
        json,
    })
}

/// The page of rows `till history` shows: what the search finds, else a batch's.
fn history_rows(
    journal: &Journal,
    config: &Config,
    batch: Option<&str>,
    query: &HistorySearch,
) -> Result<(Vec<TxnRow>, Option<i64>), Failure> {
    if query.is_search() {
        let page = journal
            .search(&Search {
                text: query.search.clone().unwrap_or_default(),
                kind: query.kind,
                state: query.state,
                lane: None,
                from: query.from,
                to: query.to,
                utc_offset_secs: utc_offset_on(query.from.or(query.to)),
                exponent: config.exponent(),
                before: query.before,
                limit: query.limit as usize,
            })
            .map_err(search_failure)?;
        Ok((page.rows, page.next))
    } else {
        let sel = batch_sel(batch.unwrap_or("open"), config)?;
        if let BatchSel::Number(n) = sel
            && !journal
                .batches()
                .map_err(journal_failure)?
                .iter()
                .any(|b| b.number == n)
        {
            return Err(
                Failure::new(Exit::Usage, format!("batch {n} not found")).code(Code::NotFound)
            );
        }
        let rows = journal.rows(sel).map_err(journal_failure)?;
        Ok(page(rows, query.before, query.limit as usize))
    }
}

/// `till history --csv`: a row a line, with what has happened to it since.
fn history_csv(rows: &[TxnRow], words: &dyn Fn(&str) -> Vec<String>) -> String {
    let mut out = String::from(
        "created_at,order_no,kind,state,amount,tip,currency,brand,card,auth_code,orig_order_no,aftermath\n",
    );
    for r in rows {
        let cells = [
            r.created_at.clone(),
            r.order_no.clone(),
            r.kind.name().to_string(),
            r.state.name().to_string(),
            r.amount.to_string(),
            r.tip.map(|t| t.to_string()).unwrap_or_default(),
            r.currency.clone(),
            r.reply.brand.clone().unwrap_or_default(),
            r.reply.card.clone().unwrap_or_default(),
            r.reply.auth_code.clone().unwrap_or_default(),
            r.orig_order_no.clone().unwrap_or_default(),
            words(&r.order_no).join("; "),
        ];
        out.push_str(&cells.map(|c| csv_cell(&c)).join(","));
        out.push('\n');
    }
    out
}

/// `till history` for a person: a table, and how to ask for more.
fn history_table(
    rows: &[TxnRow],
    next: Option<i64>,
    words: &dyn Fn(&str) -> Vec<String>,
) -> String {
    let mut out = format!(
        "{:<19} {:<21} {:<17} {:<9} {:>12} {:<10} {:<16} {}\n",
        "when", "order", "kind", "state", "amount", "brand", "card", "since"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<19} {:<21} {:<17} {:<9} {:>12} {:<10} {:<16} {}\n",
            r.created_at.chars().take(19).collect::<String>(),
            r.order_no,
            r.kind.name(),
            r.state.name(),
            r.amount.to_string(),
            r.reply.brand.as_deref().unwrap_or("-"),
            r.reply.card.as_deref().unwrap_or("-"),
            words(&r.order_no).join(", "),
        ));
    }
    if let Some(next) = next {
        out.push_str(&format!("more: add --before {next}\n"));
    }
    out
}

/// The newest `limit` of a batch's rows (newest first) older than `before`, and the
/// cursor to the rest when there is more.
fn page(rows: Vec<TxnRow>, before: Option<i64>, limit: usize) -> (Vec<TxnRow>, Option<i64>) {
    let mut rows: Vec<TxnRow> = rows
        .into_iter()
        .filter(|r| before.is_none_or(|b| r.id < b))
        .collect();
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = more.then(|| rows.last().map(|r| r.id)).flatten();
    (rows, next)
}

/// Groups as CSV lines `group,name,count,sum`.
fn csv_groups(out: &mut String, group: &str, groups: &[Group], exponent: u8) {
    for g in groups {
        out.push_str(&format!(
            "{group},{},{},{}\n",
            csv_cell(&g.name),
            g.count,
            format_minor(g.sum_minor, exponent)
        ));
    }
}

pub(super) fn report(
    journal: &Journal,
    config: &Config,
    batch: Option<&str>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    csv: bool,
) -> Result<Report, Failure> {
    if from.is_some() || to.is_some() {
        return range_report(journal, config, from, to, csv);
    }
    if let Some((first, last)) = batch.and_then(|b| b.split_once("..")) {
        let number = |text: &str| {
            text.trim().parse::<i64>().map_err(|_| {
                Failure::new(
                    Exit::Usage,
                    format!("--batch '{first}..{last}': use two batch numbers, as 120..130"),
                )
            })
        };
        let (first, last) = (number(first)?, number(last)?);
        if first > last {
            return Err(Failure::new(
                Exit::Usage,
                format!("--batch {first}..{last}: the first batch is after the last"),
            ));
        }
        let r = journal
            .report_batches((first, last), utc_offset_on(None), Source::Totals)
            .map_err(journal_failure)?;
        return Ok(range_output(&r, config, csv));
    }
    let report = journal
        .report(batch_sel(batch.unwrap_or("open"), config)?)
        .map_err(journal_failure)?;
    let human = if csv {
        let mut out = String::from("group,name,count,sum\n");
        csv_groups(&mut out, "kind", &report.per_kind, config.exponent());
        csv_groups(&mut out, "brand", &report.per_brand, config.exponent());
        let net = format_minor(report.net_minor, config.exponent());
        out.push_str(&format!("net,net,,{net}\n"));
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

fn range_report(
    journal: &Journal,
    config: &Config,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    csv: bool,
) -> Result<Report, Failure> {
    let r = journal
        .report_range(from, to, period_offset(from, to)?)
        .map_err(journal_failure)?;
    Ok(range_output(&r, config, csv))
}

/// The UTC offset a period of local dates is read in, once `--from` is known not to be
/// after `--to`.
pub(super) fn period_offset(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<i32, Failure> {
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(Failure::new(
            Exit::Usage,
            format!("--from {f} is after --to {t}"),
        ));
    }
    Ok(utc_offset_on(from.or(to)))
}

/// A report over a period, as text (or CSV) and JSON: the lane's or the store's.
pub(super) fn range_output(r: &RangeReport, config: &Config, csv: bool) -> Report {
    let (from, to) = (r.from, r.to);
    let exponent = config.exponent();
    let sections = [
        ("lane", &r.per_lane),
        ("kind", &r.per_kind),
        ("brand", &r.per_brand),
        ("hour", &r.per_hour),
    ];
    let day = |d: Option<NaiveDate>| d.map(|d| d.to_string());
    let human = if csv {
        let mut out = String::from("group,name,count,sum\n");
        for (group, groups) in sections {
            csv_groups(&mut out, group, groups, exponent);
        }
        out.push_str(&format!(
            "net,net,,{}\n",
            format_minor(r.net_minor, exponent)
        ));
        out
    } else {
        let mut out = match r.batches {
            Some((first, last)) => format!("report batches {first} to {last} ({} rows)\n", r.rows),
            None => format!(
                "report {} to {} ({} rows)\n",
                day(from).unwrap_or_else(|| "the first row".into()),
                day(to).unwrap_or_else(|| "the last row".into()),
                r.rows
            ),
        };
        for (_, line) in r.lines(exponent, &config.currency.value) {
            out.push_str(&line);
            out.push('\n');
        }
        out
    };
    let mut json = json!({
        "from": day(from),
        "to": day(to),
        "rows": r.rows,
        "net": format_minor(r.net_minor, exponent),
        "currency": config.currency.value,
    });
    if let Some((first, last)) = r.batches {
        json["batches"] = json!({"first": first, "last": last});
    }
    for (group, groups) in sections {
        json[format!("per_{group}")] = groups
            .iter()
            .map(|g| json!({group: g.name, "count": g.count, "sum": format_minor(g.sum_minor, exponent)}))
            .collect();
    }
    Report {
        exit: Exit::Ok,
        human,
        json,
    }
}

/// `till archive`: closed batches older than the cut-off into yearly archive files.
pub(super) fn archive(
    journal: &mut Journal,
    config: &Config,
    older_than: Option<u64>,
) -> Result<Report, Failure> {
    let days = older_than.unwrap_or(config.archive_after_days.value);
    let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::try_from(days).unwrap_or(36500));
    let cutoff = cutoff.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    journal.show_progress(Progress::stderr());
    let done = journal.archive(&cutoff).map_err(journal_failure)?;
    let files: Vec<String> = done.files.iter().map(|f| f.display().to_string()).collect();
    let human = match (done.batches.first(), done.batches.last()) {
        (Some(first), Some(last)) => format!(
            "archived {} rows of {} batches ({first} to {last}) into {}",
            done.rows,
            done.batches.len(),
            files.join(", ")
        ),
        _ => format!("nothing to archive: no closed batch older than {days} days"),
    };
    Ok(Report {
        exit: Exit::Ok,
        human,
        json: json!({
            "older_than_days": days,
            "batches": done.batches,
            "rows": done.rows,
            "files": files,
        }),
    })
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
