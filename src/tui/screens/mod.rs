//! One room per screen: each module holds that screen's key handling (`on_key`), its
//! drawing (`draw`) and its key table (`KEYS`), from which the footer and the help
//! screen are made, so they cannot drift from what the keys do. What screens share
//! (labels, the rows table, a request in one line) lives here.

pub mod batch;
pub mod diagnostics;
pub mod help;
pub mod journal;
pub mod query;
pub mod refund;
pub mod sale;
pub mod settings;
pub mod tip;
pub mod void;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Row, Table};

use super::model::*;
use super::theme::Theme;
use super::update::Effect;
use crate::journal::TxnRow;
use crate::lane::PayRequest;
use crossterm::event::KeyEvent;

pub fn body(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    match m.screen {
        ScreenId::Sale => sale::draw(frame, area, m, theme),
        ScreenId::Refund => refund::draw(frame, area, m, theme),
        ScreenId::Void => void::draw(frame, area, m, theme),
        ScreenId::Tip => tip::draw(frame, area, m, theme),
        ScreenId::Query => query::draw(frame, area, m, theme),
        ScreenId::Batch => batch::draw(frame, area, m, theme),
        ScreenId::Journal => journal::draw(frame, area, m, theme),
        ScreenId::Diagnostics => diagnostics::draw(frame, area, m, theme),
        ScreenId::Settings => settings::draw(frame, area, m, theme),
        ScreenId::Help => help::draw(frame, area, theme),
    }
}

/// A key press for the current screen, when no dialog, overlay or result has it.
pub fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    match m.screen {
        ScreenId::Sale => sale::on_key(m, key),
        ScreenId::Refund => refund::on_key(m, key),
        ScreenId::Void => void::on_key(m, key),
        ScreenId::Tip => tip::on_key(m, key),
        ScreenId::Query => query::on_key(m, key),
        ScreenId::Batch => batch::on_key(m, key),
        ScreenId::Journal => journal::on_key(m, key),
        ScreenId::Diagnostics => diagnostics::on_key(m, key),
        ScreenId::Settings => settings::on_key(m, key),
        ScreenId::Help => super::update::top_level(m, key),
    }
}

/// The smallest window the screen is drawn in whole (below it, the frame says so).
pub fn min_size(screen: ScreenId) -> (u16, u16) {
    match screen {
        ScreenId::Sale => sale::MIN_SIZE,
        ScreenId::Refund => refund::MIN_SIZE,
        ScreenId::Void => void::MIN_SIZE,
        ScreenId::Tip => tip::MIN_SIZE,
        ScreenId::Query => query::MIN_SIZE,
        ScreenId::Batch => batch::MIN_SIZE,
        ScreenId::Journal => journal::MIN_SIZE,
        ScreenId::Diagnostics => diagnostics::MIN_SIZE,
        ScreenId::Settings => settings::MIN_SIZE,
        ScreenId::Help => help::MIN_SIZE,
    }
}

/// One line of a key table: the keys, and what they do.
pub struct Key {
    pub keys: &'static str,
    pub does: &'static str,
}

/// The keys of a screen as it is now (the Tip screen has two sets).
pub fn keys(m: &Model) -> &'static [Key] {
    keys_of(m.screen, m.tip.editing)
}

pub fn keys_of(screen: ScreenId, tip_editing: bool) -> &'static [Key] {
    match screen {
        ScreenId::Sale => sale::KEYS,
        ScreenId::Refund => refund::KEYS,
        ScreenId::Void => void::KEYS,
        ScreenId::Tip if tip_editing => tip::EDIT_KEYS,
        ScreenId::Tip => tip::KEYS,
        ScreenId::Query => query::KEYS,
        ScreenId::Batch => batch::KEYS,
        ScreenId::Journal => journal::KEYS,
        ScreenId::Diagnostics => diagnostics::KEYS,
        ScreenId::Settings => settings::KEYS,
        ScreenId::Help => help::KEYS,
    }
}

/// A key table in one line, for the footer and the help screen.
pub fn key_line(keys: &[Key]) -> String {
    keys.iter()
        .map(|k| match k.does {
            "" => k.keys.to_string(),
            does => format!("{} {does}", k.keys),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A time the journal wrote (UTC, RFC 3339) in the register's local time, as `format`
/// says; as stored when it cannot be read.
pub fn local_time(m: &Model, rfc3339: &str, format: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&m.utc_offset).format(format).to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// A round trip in the unit that reads best.
pub fn rtt_text(us: u64) -> String {
    if us < 1000 {
        format!("{us}µs")
    } else {
        format!("{:.1}ms", us as f64 / 1000.0)
    }
}

/// One line saying what a request is, for the overlay.
pub fn request_line(req: &PayRequest, m: &Model) -> String {
    let cur = &m.currency;
    match req {
        PayRequest::Sale {
            amount,
            tip,
            cashback,
            ..
        } => {
            let mut s = format!("SALE {amount} {cur}");
            if let Some(t) = tip {
                s.push_str(&format!(" + tip {t}"));
            }
            if let Some(c) = cashback {
                s.push_str(&format!(" + cash-back {c}"));
            }
            s
        }
        PayRequest::Refund { amount, orig, .. } => match orig {
            Some(o) => format!("REFUND {amount} {cur} of {o}"),
            None => format!("REFUND {amount} {cur} (card present)"),
        },
        PayRequest::Void { orig, .. } => format!("VOID {orig}"),
        PayRequest::PreAuth { amount } => format!("PRE-AUTH {amount} {cur}"),
        PayRequest::FollowUp {
            trans_type,
            orig,
            amount,
        } => format!(
            "{} {} of {orig}",
            trans_type.name().to_uppercase(),
            amount.map(|a| a.to_string()).unwrap_or_default()
        ),
        PayRequest::TipAdjust { orig, tip } => format!("TIP {tip} {cur} on {orig}"),
        PayRequest::BatchClose => "BATCH CLOSE".into(),
    }
}

pub fn label(text: &str, focused: bool, theme: &Theme) -> Span<'static> {
    let style = if focused { theme.focus } else { theme.text };
    Span::styled(format!(" {text:<12}"), style)
}

pub fn error_line(error: &Option<String>, theme: &Theme) -> Line<'static> {
    match error {
        Some(e) => Line::from(Span::styled(format!(" ! {e}"), theme.error)),
        None => Line::from(""),
    }
}

pub fn row_summary(r: &TxnRow) -> String {
    format!(
        "{} {} {} {} {}",
        r.order_no,
        r.kind.name(),
        r.amount,
        r.brand.as_deref().unwrap_or(""),
        r.card.as_deref().unwrap_or("")
    )
}

pub fn rows_table<'a>(
    m: &Model,
    rows: &[&'a TxnRow],
    selected: Option<usize>,
    theme: &Theme,
    height: u16,
) -> Table<'a> {
    let visible = usize::from(height.saturating_sub(1)).max(1);
    let first = selected.map_or(0, |s| s.saturating_sub(visible - 1));
    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, r)| {
            let style = if Some(i) == selected {
                theme.selected
            } else {
                Style::default()
            };
            Row::new(vec![
                local_time(m, &r.created_at, "%H:%M"),
                r.order_no.clone(),
                r.kind.name().to_string(),
                r.state.name().to_string(),
                r.amount.to_string(),
                m.effective_tip(r)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                r.brand.clone().unwrap_or_default(),
                r.card
                    .as_deref()
                    .map(|c| {
                        c.chars()
                            .rev()
                            .take(4)
                            .collect::<String>()
                            .chars()
                            .rev()
                            .collect()
                    })
                    .unwrap_or_default(),
            ])
            .style(style)
        })
        .collect();
    Table::new(
        body,
        [
            Constraint::Length(5),
            // A whole order number: lane, journal identity, day, sequence.
            Constraint::Length(21),
            Constraint::Length(11),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(4),
        ],
    )
    .header(
        Row::new(vec![
            "time", "order", "kind", "state", "amount", "tip", "brand", "card",
        ])
        .style(theme.title),
    )
}
