//! The Void screen: the payments of the open batch that the rules let be voided or cancelled.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Paragraph;

use super::shared::{
    Key, PickList, act_words, error_line, find_order, follow, narrow_key, narrow_line, order_at,
    rows_table,
};
use crate::journal::{TxnRow, rules};
use crate::lane::{PayRequest, Refusal, SaleOptions};
use crate::tui::desk::Desk;
use crate::tui::flows::{confirm, move_sel, top_level};
use crate::tui::msg::Effect;
use crate::tui::theme::Theme;

/// The smallest window this screen is drawn in whole.
pub(crate) const MIN_SIZE: (u16, u16) = (60, 16);

/// The keys of this screen, shown in its footer and on the help screen.
pub(crate) const KEYS: &[Key] = &[
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

/// Rows of the open batch that a void (or cancel) can take, by the lane's rules,
/// narrowed by what is typed.
pub(crate) fn rows<'a>(f: &PickList, d: &'a Desk) -> Vec<&'a TxnRow> {
    // Every row listed is of the open batch, so its own batch is the open one.
    rules::voidable(&d.data.open_rows)
        .filter(|r| d.narrows_to(r, &f.narrow.text))
        .collect()
}

/// The screen opens (`arriving`: from another screen, on its newest row) and reads
/// its rows again.
pub(crate) fn open(f: &mut PickList, arriving: bool) -> Vec<Effect> {
    if arriving {
        f.fresh = true;
        f.selected = 0;
    }
    vec![Effect::Refresh]
}

/// The order selected, to follow as the rows change.
pub(crate) fn kept(f: &PickList, d: &Desk) -> Option<String> {
    order_at(&rows(f, d), Some(f.selected))
}

/// The rows changed: the selection follows its order; `settled`: the rows as of the
/// opening are in.
pub(crate) fn follow_rows(f: &mut PickList, d: &Desk, kept: Option<String>, settled: bool) {
    let rows = rows(f, d);
    let (len, at) = (rows.len(), find_order(&rows, kept.as_deref()));
    follow(&mut f.selected, f.fresh, len, at);
    f.fresh &= !settled;
}

pub(crate) fn on_key(f: &mut PickList, d: &mut Desk, key: KeyEvent) -> Vec<Effect> {
    if narrow_key(f, key) {
        return vec![];
    }
    let rows: Vec<(String, String)> = rows(f, d)
        .iter()
        .map(|r| (r.order_no.clone(), act_words(r, &d.currency)))
        .collect();
    let page = d.list_rows();
    if move_sel(&mut f.selected, rows.len(), page, key.code) {
        f.fresh = false;
        return vec![];
    }
    match key.code {
        KeyCode::Esc => top_level(d, key),
        KeyCode::Enter => match rows.get(f.selected) {
            Some((order, what)) => confirm(
                d,
                format!("Void {what}?"),
                PayRequest::Void {
                    orig: order.clone(),
                    options: SaleOptions::default(),
                },
            ),
            None => {
                f.error = Some("nothing in the open batch can be voided".into());
                vec![]
            }
        },
        _ => vec![],
    }
}

/// The lane refused the request: why.
pub(crate) fn refused(f: &mut PickList, refusal: &Refusal) {
    f.error = Some(refusal.to_string());
}

pub(crate) fn draw(frame: &mut Frame, area: Rect, f: &PickList, d: &Desk, theme: &Theme) {
    let [find, list, err] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(2),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(narrow_line(f, theme)), find);
    let rows = rows(f, d);
    if rows.is_empty() {
        let none = match d.narrow_error(&f.narrow.text) {
            Some(e) => format!(" {e}"),
            None if f.narrow.text.is_empty() => " Nothing in the open batch can be voided.".into(),
            None => " Nothing that can be voided matches.".into(),
        };
        frame.render_widget(
            Paragraph::new(none).wrap(ratatui::widgets::Wrap { trim: false }),
            list,
        );
    } else {
        frame.render_widget(rows_table(d, &rows, Some(f.selected), theme, list), list);
    }
    frame.render_widget(Paragraph::new(error_line(&f.error, theme)), err);
}
