//! The Batch screen: the open batch's totals, earlier batches, and the close.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Borders, Paragraph};

use super::*;
use crate::journal::{BatchReport, LineKind, TxnKind, TxnRow};
use crate::lane::PayRequest;
use crate::money::grouped_minor;
use crate::tui::model::*;
use crate::tui::theme::Theme;
use crate::tui::update::*;

/// The smallest window this screen is drawn in whole.
pub const MIN_SIZE: (u16, u16) = (60, 16);

/// The keys of this screen, shown in its footer and on the help screen.
pub const KEYS: &[Key] = &[
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

pub fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let closed = m
        .data
        .batches
        .iter()
        .filter(|b| b.closed_at.is_some())
        .count();
    match key.code {
        KeyCode::Esc => top_level(m, key),
        KeyCode::Left | KeyCode::PageDown => {
            m.batch.viewing = match m.batch.viewing {
                None if closed > 0 => Some(0),
                Some(i) if i + 1 < closed => Some(i + 1),
                other => other,
            };
            vec![Effect::Refresh]
        }
        KeyCode::Right | KeyCode::PageUp => {
            m.batch.viewing = match m.batch.viewing {
                Some(0) | None => None,
                Some(i) => Some(i - 1),
            };
            vec![Effect::Refresh]
        }
        KeyCode::Char('c') if m.batch.viewing.is_none() => {
            let net = m
                .data
                .open_report
                .as_ref()
                .map(|r| crate::money::grouped_minor(r.net_minor, m.exponent))
                .unwrap_or_default();
            let open = open_pre_auths(&m.data.open_rows);
            let held = if open.is_empty() {
                String::new()
            } else {
                let sum: i64 = open.iter().map(|r| r.amount.minor()).sum();
                format!(
                    " {} pre-auth(s) still open ({} {}): complete or cancel them first, or they stay open.",
                    open.len(),
                    grouped_minor(sum, m.exponent),
                    m.currency
                )
            };
            m.modal = Some(Modal::Confirm {
                question: format!(
                    "Close the batch (net {net} {})? This settles it on the terminal.{held}",
                    m.currency
                ),
                then: Confirmed::Pay(PayRequest::BatchClose),
                on_no: OnNo::Keep,
            });
            vec![]
        }
        _ => vec![],
    }
}

/// Approved pre-auths with nothing done to them yet: money held, not settled.
pub fn open_pre_auths(rows: &[TxnRow]) -> Vec<&TxnRow> {
    use crate::ecr::TransType as T;
    rows.iter()
        .filter(|r| r.kind == TxnKind::Trans(T::PreAuth))
        .filter(|r| crate::journal::rules::may_void(r, rows, r.batch))
        .collect()
}

fn report_lines(report: &BatchReport, m: &Model, theme: &Theme) -> Vec<Line<'static>> {
    report
        .lines(m.exponent, &m.currency)
        .into_iter()
        .map(|(kind, text)| match kind {
            LineKind::Heading => Line::from(Span::styled(text, theme.title)),
            LineKind::Row => Line::from(text),
            LineKind::Net => Line::from(Span::styled(text, theme.amount)),
        })
        .collect()
}

/// Approved sales per hour of the local day, for the bar chart.
fn sales_per_hour(m: &Model, rows: &[TxnRow]) -> Vec<(String, u64)> {
    use crate::ecr::TransType as T;
    let mut hours = [0u64; 24];
    for r in rows
        .iter()
        .filter(|r| r.state == crate::journal::TxnState::Approved)
    {
        if matches!(
            r.kind,
            TxnKind::Trans(T::Sale | T::CashbackSale | T::Completion)
        ) && let Ok(h) = local_time(m, &r.created_at, "%H").parse::<usize>()
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

pub fn draw(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let (title, rows, report) = match (m.batch.viewing, &m.data.viewed) {
        (Some(i), Some((rows, report))) => {
            let closed = m
                .data
                .batches
                .iter()
                .filter(|b| b.closed_at.is_some())
                .nth(i);
            let when = closed
                .and_then(|b| b.closed_at.as_deref())
                .map(|t| local_time(m, t, "%Y-%m-%d %H:%M"))
                .unwrap_or_default();
            (
                format!(" Batch {} (closed {when}) ", report.batch),
                rows.as_slice(),
                Some(report),
            )
        }
        _ => (
            " Open batch ".to_string(),
            m.data.open_rows.as_slice(),
            m.data.open_report.as_ref(),
        ),
    };
    let lines = report
        .map(|r| report_lines(r, m, theme))
        .unwrap_or_else(|| vec![Line::from(" no data")]);
    // The totals and their NET first; the chart only gets what room is left.
    let needed = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let [top, chart, msg] = Layout::vertical([
        Constraint::Length(needed),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let title = match report {
        Some(r) => format!(
            "{title}· NET {} {} ",
            grouped_minor(r.net_minor, m.exponent),
            m.currency
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
    let bars: Vec<Bar> = sales_per_hour(m, rows)
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
    if let Some(text) = &m.batch.last_close {
        frame.render_widget(
            Paragraph::new(Span::styled(text.as_str(), theme.warning)),
            msg,
        );
    }
}
