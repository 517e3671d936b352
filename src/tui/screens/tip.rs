//! The Tip screen: the sales of the open batch whose tip may still change, and the new tip.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::shared::{
    Key, PickList, act_words, error_line, find_order, follow, label, narrow_key, narrow_line,
    order_at, rows_table,
};
use crate::journal::{TxnRow, rules};
use crate::lane::{PayRequest, Refusal};
use crate::money::Money;
use crate::tui::desk::Desk;
use crate::tui::field::{CentsField, Edit};
use crate::tui::flows::{confirm, move_sel, top_level};
use crate::tui::msg::Effect;
use crate::tui::theme::Theme;

/// The smallest window this screen is drawn in whole.
pub(crate) const MIN_SIZE: (u16, u16) = (60, 16);

#[derive(Clone, Debug, Default)]
pub(crate) struct TipForm {
    pub(crate) pick: PickList,
    pub(crate) tip: CentsField,
    /// Entering the tip for the picked row.
    pub(crate) editing: bool,
}

/// Picking a sale.
pub(crate) const KEYS: &[Key] = &[
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
pub(crate) const EDIT_KEYS: &[Key] = &[
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

/// Sales of the open batch whose tip can still change, by the lane's rules, narrowed
/// by what is typed.
pub(crate) fn rows<'a>(f: &TipForm, d: &'a Desk) -> Vec<&'a TxnRow> {
    let rows = &d.data.open_rows;
    rows.iter()
        .filter(|r| rules::may_tip(r, rows, r.batch))
        .filter(|r| d.narrows_to(r, &f.pick.narrow.text))
        .collect()
}

/// The screen opens (`arriving`: from another screen, on its newest row) and reads
/// its rows again.
pub(crate) fn open(f: &mut TipForm, arriving: bool) -> Vec<Effect> {
    if arriving {
        f.pick.fresh = true;
        f.pick.selected = 0;
    }
    vec![Effect::Refresh]
}

/// The order selected, to follow as the rows change.
pub(crate) fn kept(f: &TipForm, d: &Desk) -> Option<String> {
    order_at(&rows(f, d), Some(f.pick.selected))
}

/// The rows changed: the selection follows its order; `settled`: the rows as of the
/// opening are in.
pub(crate) fn follow_rows(f: &mut TipForm, d: &Desk, kept: Option<String>, settled: bool) {
    let rows = rows(f, d);
    let (len, at) = (rows.len(), find_order(&rows, kept.as_deref()));
    follow(&mut f.pick.selected, f.pick.fresh, len, at);
    f.pick.fresh &= !settled;
}

/// The keys as the screen is now: typing the tip has its own.
pub(crate) fn keys(f: &TipForm) -> &'static [Key] {
    if f.editing { EDIT_KEYS } else { KEYS }
}

pub(crate) fn on_key(f: &mut TipForm, d: &mut Desk, key: KeyEvent) -> Vec<Effect> {
    let rows: Vec<(String, String)> = rows(f, d)
        .iter()
        .map(|r| (r.order_no.clone(), act_words(r, &d.currency)))
        .collect();
    if f.editing {
        match key.code {
            KeyCode::Esc => f.editing = false,
            KeyCode::Enter => {
                let Some((order, what)) = rows.get(f.pick.selected).cloned() else {
                    f.editing = false;
                    return vec![];
                };
                let tip = Money::from_minor(f.tip.minor(d.exponent), d.exponent)
                    .unwrap_or(Money::zero(d.exponent));
                return confirm(
                    d,
                    format!("Set the tip of {what} to {} {}?", tip.grouped(), d.currency),
                    PayRequest::TipAdjust { orig: order, tip },
                );
            }
            _ => {
                if f.tip.edit(key) == Edit::Refused {
                    f.pick.error = Some("tips take digits and a point".into());
                }
            }
        }
        return vec![];
    }
    if narrow_key(&mut f.pick, key) {
        return vec![];
    }
    let page = d.list_rows();
    if move_sel(&mut f.pick.selected, rows.len(), page, key.code) {
        f.pick.fresh = false;
        return vec![];
    }
    match key.code {
        KeyCode::Esc => return top_level(d, key),
        KeyCode::Enter if !rows.is_empty() => {
            f.editing = true;
            f.tip.clear();
            f.pick.error = None;
        }
        KeyCode::Enter => f.pick.error = Some(NONE_TIPPABLE.into()),
        _ => {}
    }
    vec![]
}

/// The lane refused the request: why.
pub(crate) fn refused(f: &mut TipForm, refusal: &Refusal) {
    f.pick.error = Some(refusal.to_string());
}

/// Why the list is empty: a refunded, voided or settled sale keeps its tip.
const NONE_TIPPABLE: &str =
    "No sale in the open batch can take a new tip (refunded and voided sales keep theirs)";

pub(crate) fn draw(frame: &mut Frame, area: Rect, f: &TipForm, d: &Desk, theme: &Theme) {
    let [find, list, entry, err] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(2),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(narrow_line(&f.pick, theme)), find);
    let rows = rows(f, d);
    if rows.is_empty() {
        let none = match d.narrow_error(&f.pick.narrow.text) {
            Some(e) => format!(" {e}"),
            None if f.pick.narrow.text.is_empty() => format!(" {NONE_TIPPABLE}."),
            None => " No sale whose tip can change matches.".into(),
        };
        frame.render_widget(
            Paragraph::new(none).wrap(ratatui::widgets::Wrap { trim: false }),
            list,
        );
    } else {
        frame.render_widget(
            rows_table(d, &rows, Some(f.pick.selected), theme, list),
            list,
        );
    }
    if f.editing {
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                label("New tip", true, theme),
                Span::styled(
                    format!(" {} {}", f.tip.display(d.exponent), d.currency),
                    theme.amount,
                ),
            ])),
            entry,
        );
    }
    frame.render_widget(Paragraph::new(error_line(&f.pick.error, theme)), err);
}
