//! The Batch screen: the open batch's totals, earlier batches, and the close.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Borders, Paragraph};

use super::shared::{Key, local_time};
use crate::ecr::Reply;
use crate::journal::rules;
use crate::journal::{BatchReport, TxnKind, TxnRow, TxnState};
use crate::lane::{PayRequest, Refusal};
use crate::money;
use crate::money::{Money, grouped_minor};
use crate::tui::desk::{Confirmed, Desk, Modal, OnNo};
use crate::tui::flows::top_level;
use crate::tui::msg::Effect;
use crate::tui::theme::Theme;

/// The smallest window this screen is drawn in whole.
pub(crate) const MIN_SIZE: (u16, u16) = (60, 16);

#[derive(Clone, Debug, Default)]
pub(crate) struct BatchScreen {
    /// None: the open batch; Some(i): the i-th closed batch, newest first.
    pub(crate) viewing: Option<usize>,
    pub(crate) last_close: Option<String>,
    /// The journal's report of the batch just closed, to set beside the terminal's.
    pub(crate) closed: Option<BatchReport>,
}

/// The keys of this screen, shown in its footer and on the help screen.
pub(crate) const KEYS: &[Key] = &[
    Key {
        keys: "c",
        does: "close batch",
    },
    Key {
        keys: "←/→",
        does: "earlier batches",
    },
    Key {
        keys: "Ctrl-T",
        does: "cloud",
    },
];

pub(crate) fn on_key(f: &mut BatchScreen, d: &mut Desk, key: KeyEvent) -> Vec<Effect> {
    let closed = d
        .data
        .batches
        .iter()
        .filter(|b| b.closed_at.is_some())
        .count();
    match key.code {
        KeyCode::Esc => top_level(d, key),
        KeyCode::Left | KeyCode::PageDown => {
            f.viewing = match f.viewing {
                None if closed > 0 => Some(0),
                Some(i) if i + 1 < closed => Some(i + 1),
                other => other,
            };
            vec![Effect::Refresh]
        }
        KeyCode::Right | KeyCode::PageUp => {
            f.viewing = match f.viewing {
                Some(0) | None => None,
                Some(i) => Some(i - 1),
            };
            vec![Effect::Refresh]
        }
        KeyCode::Char('c') if f.viewing.is_none() => {
            let net = d
                .data
                .open_report
                .as_ref()
                .map(|r| money::grouped_minor(r.net_minor, d.exponent))
                .unwrap_or_default();
            let open = open_pre_auths(&d.data.open_rows);
            let held = if open.is_empty() {
                String::new()
            } else {
                let sum: i64 = open.iter().map(|r| r.amount.minor()).sum();
                format!(
                    " {} pre-auth(s) still open ({} {}): complete or cancel them first, or they stay open.",
                    open.len(),
                    grouped_minor(sum, d.exponent),
                    d.currency
                )
            };
            d.modal = Some(Modal::Confirm {
                question: format!(
                    "Close the batch (net {net} {})? This settles it on the terminal.{held}",
                    d.currency
                ),
                then: Confirmed::Pay(PayRequest::BatchClose),
                on_no: OnNo::Keep,
            });
            vec![]
        }
        _ => vec![],
    }
}

/// The lane refused the close: why.
pub(crate) fn refused(f: &mut BatchScreen, refusal: &Refusal) {
    f.last_close = Some(refusal.to_string());
}

/// The lane closed the batch in the journal: its report, to set beside the terminal's.
pub(crate) fn closed(f: &mut BatchScreen, d: &Desk, report: BatchReport) {
    f.last_close = Some(format!(
        "batch {} closed: journal NET {} {}",
        report.batch,
        grouped_minor(report.net_minor, d.exponent),
        d.currency
    ));
    f.closed = Some(report);
}

/// A final answer came: the terminal's word on a close is set beside the journal's.
pub(crate) fn answered(f: &mut BatchScreen, d: &Desk, row: &TxnRow, reply: Option<Box<Reply>>) {
    if row.kind == TxnKind::BatchClose
        && row.state == TxnState::Approved
        && let (Some(report), Some(reply)) = (&f.closed, reply)
    {
        let verdict = verdict(report, &reply, d.exponent, &d.currency);
        if let Some(text) = &mut f.last_close {
            text.push_str(&format!(" · {verdict}"));
        }
    }
}

/// The terminal's totals beside the journal's: its net or total against the NET, and
/// its counts of sales, refunds and voids against the journal's; a difference is said
/// as such, with how much.
pub(crate) fn verdict(
    journal: &BatchReport,
    reply: &Reply,
    exponent: u8,
    currency: &str,
) -> String {
    let said = |key: &str| {
        let v = reply.biz.all.get(key)?;
        v.as_str()
            .map(String::from)
            .or_else(|| v.as_number().map(|n| n.to_string()))
    };
    let counted = |kinds: &[&str]| -> i64 {
        journal
            .per_kind
            .iter()
            .filter(|g| kinds.contains(&g.name.as_str()))
            .map(|g| g.count)
            .sum()
    };
    let mut agree = Vec::new();
    let mut differ = Vec::new();
    // Terminals name their totals differently: an amount under a key of a net or total.
    let total = reply.biz.all.keys().find_map(|k| {
        let key = k.to_ascii_lowercase();
        (!key.contains("count") && (key.contains("net") || key.contains("total")))
            .then(|| said(k))
            .flatten()
            .and_then(|text| Money::parse(&text, exponent).ok())
    });
    if let Some(total) = total {
        let net = grouped_minor(journal.net_minor, exponent);
        if total.minor() == journal.net_minor {
            agree.push(format!("total {net} {currency}"));
        } else {
            differ.push(format!(
                "total: terminal {} {currency}, journal {net}, difference {}",
                total.grouped(),
                grouped_minor(total.minor() - journal.net_minor, exponent)
            ));
        }
    }
    for (key, word, kinds) in [
        (
            "sale_count",
            "sales",
            &["sale", "cashback-sale", "completion"][..],
        ),
        (
            "refund_count",
            "refunds",
            &["refund", "completion-refund"][..],
        ),
        ("void_count", "voids", &["void", "completion-cancel"][..]),
    ] {
        let Some(theirs) = said(key).and_then(|t| t.trim().parse::<i64>().ok()) else {
            continue;
        };
        let ours = counted(kinds);
        if theirs == ours {
            agree.push(format!("{word} {ours}"));
        } else {
            differ.push(format!(
                "{word}: terminal {theirs}, journal {ours}, difference {}",
                theirs - ours
            ));
        }
    }
    match (agree.is_empty(), differ.is_empty()) {
        (true, true) => format!(
            "the terminal's reply has nothing to compare: check its settlement report against NET {} {currency}",
            grouped_minor(journal.net_minor, exponent)
        ),
        (_, true) => format!("the terminal agrees: {}", agree.join(", ")),
        _ => format!(
            "MISMATCH with the terminal: {}; check its settlement report",
            differ.join("; ")
        ),
    }
}

/// Approved pre-auths with nothing done to them yet: money held, not settled.
pub(crate) fn open_pre_auths(rows: &[TxnRow]) -> Vec<&TxnRow> {
    use crate::ecr::TransType as T;
    rules::voidable(rows)
        .filter(|r| r.kind == TxnKind::Trans(T::PreAuth))
        .collect()
}

/// A kind of the report in plain words, and whether its money goes back (shown as
/// taken off); `None` for what moves nothing and needs no line.
fn plain(kind: &str) -> Option<(&str, bool)> {
    Some(match kind {
        "sale" => ("sales", false),
        "cashback-sale" => ("sales with cash-back", false),
        "cash-back" => ("cash given out", false),
        "tips" => ("tips", false),
        "completion" => ("completed pre-auths", false),
        "refund" => ("refunds", true),
        "completion-refund" => ("refunds of completions", true),
        "void" => ("voids", true),
        "completion-cancel" => ("cancelled completions", true),
        "pre-auth" => ("pre-auths (held, not in NET)", false),
        "pre-auth-cancel" => ("pre-auths released", false),
        "batch-close" => return None,
        other => (other, false),
    })
}

/// The batch's totals as a cashier reads them: what moved per kind (one count, money
/// going back shown as taken off, tip changes counted inside the tips), per card brand,
/// and the NET.
fn report_lines(report: &BatchReport, d: &Desk, theme: &Theme) -> Vec<Line<'static>> {
    let line = |a: &str, b: String, c: String| format!(" {a:<22}{b:>6}{c:>16}");
    let money = |minor: i64| grouped_minor(minor, d.exponent);
    let mut lines = vec![Line::from(Span::styled(
        line("", "count".into(), "amount".into()),
        theme.title,
    ))];
    let mut tip_changes = 0;
    for g in &report.per_kind {
        if g.name == "tip-adjust" {
            tip_changes += g.count;
            continue;
        }
        let Some((name, back)) = plain(&g.name) else {
            continue;
        };
        let sum = if back { -g.sum_minor } else { g.sum_minor };
        lines.push(Line::from(line(name, g.count.to_string(), money(sum))));
    }
    if tip_changes > 0 {
        lines.push(Line::from(Span::styled(
            match tip_changes {
                1 => " (a tip was changed: the tips above are the tips in force)".to_string(),
                n => format!(" ({n} tips were changed: the tips above are the tips in force)"),
            },
            theme.muted,
        )));
    }
    lines.push(Line::from(Span::styled(
        line("by card brand", String::new(), String::new()),
        theme.title,
    )));
    for g in &report.per_brand {
        lines.push(Line::from(line(&g.name, String::new(), money(g.sum_minor))));
    }
    lines.push(Line::from(Span::styled(
        format!(
            "{} {}",
            line("NET", String::new(), money(report.net_minor)),
            d.currency
        ),
        theme.amount,
    )));
    lines
}

/// Approved sales per hour of the local day, for the bar chart.
fn sales_per_hour(d: &Desk, rows: &[TxnRow]) -> Vec<(String, u64)> {
    use crate::ecr::TransType as T;
    let mut hours = [0u64; 24];
    for r in rows.iter().filter(|r| r.state == TxnState::Approved) {
        if matches!(
            r.kind,
            TxnKind::Trans(T::Sale | T::CashbackSale | T::Completion)
        ) && let Ok(h) = local_time(d, &r.created_at, "%H").parse::<usize>()
        {
            hours[h.min(23)] += u64::try_from(r.amount.minor()).unwrap_or(0);
        }
    }
    let first = hours.iter().position(|v| *v > 0).unwrap_or(0);
    let last = hours.iter().rposition(|v| *v > 0).unwrap_or(0);
    (first..=last)
        .map(|h| (format!("{h:02}"), hours[h]))
        .collect()
}

// Long on purpose: the screen's layout, top to bottom, each part a few lines.
pub(crate) fn draw(frame: &mut Frame, area: Rect, f: &BatchScreen, d: &Desk, theme: &Theme) {
    let (title, rows, report) = match (f.viewing, &d.data.viewed) {
        (Some(i), Some((rows, report))) => {
            let closed = d
                .data
                .batches
                .iter()
                .filter(|b| b.closed_at.is_some())
                .nth(i);
            let when = closed
                .and_then(|b| b.closed_at.as_deref())
                .map(|t| local_time(d, t, "%Y-%m-%d %H:%M"))
                .unwrap_or_default();
            (
                format!(" Batch {} (closed {when}) ", report.batch),
                rows.as_slice(),
                Some(report),
            )
        }
        _ => (
            " Open batch ".to_string(),
            d.data.open_rows.as_slice(),
            d.data.open_report.as_ref(),
        ),
    };
    let lines = report
        .map(|r| report_lines(r, d, theme))
        .unwrap_or_else(|| vec![Line::from(" no data")]);
    // The totals and their NET first; the chart only gets what room is left.
    let needed = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    // The batch close's last word, or else why the machine is busy after an upgrade
    // (the figures are right meanwhile: a report adds up its rows).
    let said = f.last_close.clone().or_else(|| {
        d.data.tallying.map(|left| {
            format!(
                "tallying totals after an upgrade: {} rows to go",
                grouped_minor(left, 0)
            )
        })
    });
    let said_rows = said.as_deref().map_or(1, |t| {
        t.chars().count().div_ceil(usize::from(area.width.max(1)))
    });
    let [top, chart, msg] = Layout::vertical([
        Constraint::Length(needed),
        Constraint::Min(0),
        Constraint::Length(u16::try_from(said_rows.clamp(1, 3)).unwrap_or(1)),
    ])
    .areas(area);
    let title = match report {
        Some(r) => format!(
            "{title}· NET {} {} ",
            grouped_minor(r.net_minor, d.exponent),
            d.currency
        ),
        None => title,
    };
    frame.render_widget(
        Paragraph::new(lines).block(
            theme
                .block()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(title),
        ),
        top,
    );
    let bars: Vec<Bar> = sales_per_hour(d, rows)
        .into_iter()
        .map(|(h, v)| {
            Bar::default()
                .label(Line::from(h))
                .value(v)
                .text_value(String::new())
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .block(
                theme
                    .block()
                    .title(" sales per hour ")
                    .borders(Borders::TOP)
                    .border_style(theme.border),
            )
            .data(BarGroup::default().bars(&bars))
            .bar_width(2)
            .bar_gap(1)
            .bar_style(theme.chart),
        chart,
    );
    if let Some(text) = &said {
        frame.render_widget(
            Paragraph::new(Span::styled(text.as_str(), theme.warning))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            msg,
        );
    }
}
