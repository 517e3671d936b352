//! The Void screen: the payments of the open batch that the rules let be voided or cancelled.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Paragraph;

use super::shared::*;
use crate::lane::{PayRequest, SaleOptions};
use crate::tui::flows::*;
use crate::tui::model::*;
use crate::tui::msg::Effect;
use crate::tui::theme::Theme;

/// The smallest window this screen is drawn in whole.
pub const MIN_SIZE: (u16, u16) = (60, 16);

/// The keys of this screen, shown in its footer and on the help screen.
pub const KEYS: &[Key] = &[
    Key {
        keys: "type",
        does: "find",
    },
    Key {
        keys: "↑/↓",
        does: "pick",
    },
    Key {
        keys: "Enter",
        does: "void",
    },
    Key {
        keys: "Ctrl-T",
        does: "cloud",
    },
];

pub fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if narrow_key(&mut m.void, key) {
        return vec![];
    }
    let rows: Vec<(String, String)> = m
        .voidable()
        .iter()
        .map(|r| (r.order_no.clone(), act_words(r, &m.desk.currency)))
        .collect();
    let page = m.desk.list_rows();
    if move_sel(&mut m.void.selected, rows.len(), page, key.code) {
        m.void.fresh = false;
        return vec![];
    }
    match key.code {
        KeyCode::Esc => top_level(m, key),
        KeyCode::Enter => match rows.get(m.void.selected) {
            Some((order, what)) => confirm(
                m,
                format!("Void {what}?"),
                PayRequest::Void {
                    orig: order.clone(),
                    options: SaleOptions::default(),
                },
            ),
            None => {
                m.void.error = Some("nothing in the open batch can be voided".into());
                vec![]
            }
        },
        _ => vec![],
    }
}

pub fn draw(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let [find, list, err] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(2),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(narrow_line(&m.void, theme)), find);
    let rows = m.voidable();
    if rows.is_empty() {
        let none = match m.desk.narrow_error(&m.void.narrow.text) {
            Some(e) => format!(" {e}"),
            None if m.void.narrow.text.is_empty() => {
                " Nothing in the open batch can be voided.".into()
            }
            None => " Nothing that can be voided matches.".into(),
        };
        frame.render_widget(
            Paragraph::new(none).wrap(ratatui::widgets::Wrap { trim: false }),
            list,
        );
    } else {
        frame.render_widget(
            rows_table(m, &rows, Some(m.void.selected), theme, list),
            list,
        );
    }
    frame.render_widget(Paragraph::new(error_line(&m.void.error, theme)), err);
}
