//! The Refund screen: an original looked up in the journal and refunded up to what is left, or a card-present refund without one.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

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
        does: "order tail, last four or amount",
    },
    Key {
        keys: "↓/↑",
        does: "pick",
    },
    Key {
        keys: "empty",
        does: "unreferenced",
    },
    Key {
        keys: "Enter",
        does: "refund",
    },
    Key {
        keys: "Ctrl-T",
        does: "cloud",
    },
];

pub fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let offered = m.desk.data.refundable.len();
    let f = &mut m.refund;
    match key.code {
        KeyCode::Esc => return top_level(m, key),
        KeyCode::Up | KeyCode::Down
            if f.focus == RefundField::Orig && pick_key(&mut f.picked, offered, key.code) => {}
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
            f.focus = match f.focus {
                RefundField::Orig => RefundField::Amount,
                RefundField::Amount => RefundField::Orig,
            }
        }
        KeyCode::Enter => return submit(m),
        _ => {
            let edit = match f.focus {
                RefundField::Orig => f.orig.edit(key),
                RefundField::Amount => f.amount.edit(key),
            };
            match edit {
                Edit::Changed => {
                    f.error = None;
                    if f.focus == RefundField::Orig {
                        // What is typed narrows the payments offered.
                        f.found = None;
                        f.elsewhere = false;
                        f.picked = None;
                        return vec![Effect::Candidates];
                    }
                }
                Edit::Full => f.error = Some(ORDER_FULL.into()),
                Edit::Refused => f.error = Some("amounts take digits and a point".into()),
                Edit::Ignored => {}
            }
        }
    }
    vec![]
}

fn submit(m: &mut Model) -> Vec<Effect> {
    let exp = m.desk.exponent;
    let f = &mut m.refund;
    match f.focus {
        RefundField::Orig => {
            if let Some(row) = chosen(&m.desk.data.refundable, f.picked, &f.orig.text) {
                let order = row.order_no.clone();
                f.orig.set(&order);
                f.picked = None;
                return vec![Effect::Lookup(order)];
            }
            if f.orig.text.trim().is_empty() {
                f.found = None;
                f.focus = RefundField::Amount;
            } else {
                return vec![Effect::Lookup(f.orig.text.trim().to_string())];
            }
        }
        RefundField::Amount => {
            let Some(amount) = f.amount.money(exp) else {
                f.error = Some("enter the amount to refund".into());
                return vec![];
            };
            let orig = f.orig.text.trim().to_string();
            if orig.is_empty() {
                return confirm(
                    m,
                    format!(
                        "Unreferenced refund of {} {}: the customer presents the card. Go?",
                        amount.grouped(),
                        m.desk.currency
                    ),
                    PayRequest::Refund {
                        amount,
                        orig: None,
                        options: SaleOptions::default(),
                    },
                );
            }
            let of = match &f.found {
                None if f.elsewhere => format!("order {orig} (through the cloud)"),
                None => return vec![Effect::Lookup(orig)],
                Some((_, Some(left))) if amount > *left => {
                    f.error = Some(format!(
                        "at most {} of {orig} can still be refunded",
                        left.grouped()
                    ));
                    return vec![];
                }
                Some((row, _)) => act_words(row, &m.desk.currency),
            };
            return confirm(
                m,
                format!("Refund {} {} of {of}?", amount.grouped(), m.desk.currency),
                PayRequest::Refund {
                    amount,
                    orig: Some(orig),
                    options: SaleOptions::default(),
                },
            );
        }
    }
    vec![]
}

pub fn draw(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let f = &m.refund;
    let mut lines = vec![
        Line::from(""),
        Line::from(vec![
            label("Original", f.focus == RefundField::Orig, theme),
            Span::styled(
                format!(" {}", f.orig.shown(f.focus == RefundField::Orig)),
                theme.input,
            ),
            Span::styled("  (empty: unreferenced, card present)", theme.muted),
        ]),
    ];
    match &f.found {
        Some((row, left)) => {
            lines.push(Line::from(Span::styled(
                format!("   {}", row_summary(row)),
                theme.muted,
            )));
            if let Some(left) = left {
                lines.push(Line::from(Span::styled(
                    format!("   refundable: {} {}", left.grouped(), m.desk.currency),
                    theme.muted,
                )));
            }
        }
        None => lines.push(Line::from("")),
    }
    lines.push(Line::from(vec![
        label("Amount", f.focus == RefundField::Amount, theme),
        Span::styled(
            format!(" {} {}", f.amount.display(m.desk.exponent), m.desk.currency),
            theme.amount,
        ),
    ]));
    let error = error_line(&f.error, theme);
    // A long refusal wraps rather than being cut at the window's edge.
    let error_rows = error
        .width()
        .div_ceil(usize::from(area.width.max(1)))
        .max(1);
    lines.push(error);
    let form_rows = u16::try_from(lines.len() + error_rows - 1).unwrap_or(u16::MAX);
    let [form, list] =
        Layout::vertical([Constraint::Length(form_rows), Constraint::Min(0)]).areas(area);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), form);
    // Until an original is found, the payments it may be: Enter takes the one picked.
    if f.focus == RefundField::Orig && f.found.is_none() && list.height > 2 {
        candidates(
            frame,
            list,
            m,
            (&m.desk.data.refundable, f.picked),
            "payments to refund, newest first",
            theme,
        );
    }
}
