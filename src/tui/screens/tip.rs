//! The Tip screen: the sales of the open batch whose tip may still change, and the new tip.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::shared::*;
use crate::lane::PayRequest;
use crate::money::Money;
use crate::tui::flows::*;
use crate::tui::model::*;
use crate::tui::msg::Effect;
use crate::tui::theme::Theme;

/// The smallest window this screen is drawn in whole.
pub const MIN_SIZE: (u16, u16) = (60, 16);

/// Picking a sale.
pub const KEYS: &[Key] = &[
    Key {
        keys: "type",
        does: "find",
    },
    Key {
        keys: "↑/↓",
        does: "pick a sale",
    },
    Key {
        keys: "Enter",
        does: "tip",
    },
    Key {
        keys: "Ctrl-T",
        does: "cloud",
    },
];

/// Typing the new tip.
pub const EDIT_KEYS: &[Key] = &[
    Key {
        keys: "digits",
        does: "tip",
    },
    Key {
        keys: "Enter",
        does: "set",
    },
    Key {
        keys: "Esc",
        does: "back",
    },
];

pub fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let rows: Vec<(String, String)> = m
        .tippable()
        .iter()
        .map(|r| (r.order_no.clone(), act_words(r, &m.desk.currency)))
        .collect();
    if m.tip.editing {
        match key.code {
            KeyCode::Esc => m.tip.editing = false,
            KeyCode::Enter => {
                let Some((order, what)) = rows.get(m.tip.pick.selected).cloned() else {
                    m.tip.editing = false;
                    return vec![];
                };
                let tip = Money::from_minor(m.tip.tip.minor(m.desk.exponent), m.desk.exponent)
                    .unwrap_or(Money::zero(m.desk.exponent));
                return confirm(
                    m,
                    format!(
                        "Set the tip of {what} to {} {}?",
                        tip.grouped(),
                        m.desk.currency
                    ),
                    PayRequest::TipAdjust { orig: order, tip },
                );
            }
            _ => {
                if m.tip.tip.edit(key) == Edit::Refused {
                    m.tip.pick.error = Some("tips take digits and a point".into());
                }
            }
        }
        return vec![];
    }
    if narrow_key(&mut m.tip.pick, key) {
        return vec![];
    }
    let page = m.desk.list_rows();
    if move_sel(&mut m.tip.pick.selected, rows.len(), page, key.code) {
        m.tip.pick.fresh = false;
        return vec![];
    }
    match key.code {
        KeyCode::Esc => return top_level(m, key),
        KeyCode::Enter if !rows.is_empty() => {
            m.tip.editing = true;
            m.tip.tip.clear();
            m.tip.pick.error = None;
        }
        KeyCode::Enter => m.tip.pick.error = Some("no approved sale in the open batch".into()),
        _ => {}
    }
    vec![]
}

pub fn draw(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let [find, list, entry, err] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(2),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(narrow_line(&m.tip.pick, theme)), find);
    let rows = m.tippable();
    if rows.is_empty() {
        let none = match m.desk.narrow_error(&m.tip.pick.narrow.text) {
            Some(e) => format!(" {e}"),
            None if m.tip.pick.narrow.text.is_empty() => {
                " No approved sale in the open batch.".into()
            }
            None => " No sale whose tip can change matches.".into(),
        };
        frame.render_widget(
            Paragraph::new(none).wrap(ratatui::widgets::Wrap { trim: false }),
            list,
        );
    } else {
        frame.render_widget(
            rows_table(m, &rows, Some(m.tip.pick.selected), theme, list),
            list,
        );
    }
    if m.tip.editing {
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                label("New tip", true, theme),
                Span::styled(
                    format!(
                        " {} {}",
                        m.tip.tip.display(m.desk.exponent),
                        m.desk.currency
                    ),
                    theme.amount,
                ),
            ])),
            entry,
        );
    }
    frame.render_widget(Paragraph::new(error_line(&m.tip.pick.error, theme)), err);
}
