//! The Refund screen: an original looked up in the journal and refunded up to what is left, or a card-present refund without one.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::shared::{
    Key, act_words, candidates, chosen, error_line, find_order, label, order_at, pick_key,
    row_summary,
};
use crate::journal::TxnRow;
use crate::lane::{PayRequest, Refusal, Route, SaleOptions};
use crate::tui::desk::Desk;
use crate::tui::field::{CentsField, Edit, TextField};
use crate::tui::flows::{ORDER_FULL, confirm, top_level};
use crate::tui::msg::{Effect, Refundable};
use crate::tui::theme::Theme;

/// The smallest window this screen is drawn in whole.
pub(crate) const MIN_SIZE: (u16, u16) = (60, 16);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum RefundField {
    #[default]
    Orig,
    Amount,
}

#[derive(Clone, Debug)]
pub(crate) struct RefundForm {
    pub(crate) orig: TextField,
    pub(crate) amount: CentsField,
    pub(crate) focus: RefundField,
    /// The original, once looked up in the journal, and what can still be refunded.
    pub(crate) found: Option<Refundable>,
    pub(crate) error: Option<String>,
    /// The payment picked from those a refund can take (`JournalData::refundable`).
    pub(crate) picked: Option<usize>,
    /// The original is not in this journal and goes through the cloud.
    pub(crate) elsewhere: bool,
}

/// An empty form (its text fields take what they hold).
impl Default for RefundForm {
    fn default() -> Self {
        RefundForm {
            orig: TextField::order_no(),
            amount: Default::default(),
            focus: Default::default(),
            found: Default::default(),
            error: Default::default(),
            picked: Default::default(),
            elsewhere: Default::default(),
        }
    }
}

impl RefundForm {
    /// A refund of an order picked on another screen: its number is filled in (and
    /// replaced by the first character typed).
    pub(crate) fn of(order_no: &str) -> RefundForm {
        let mut form = RefundForm::default();
        form.orig.prefill(order_no);
        form
    }
}

/// The keys of this screen, shown in its footer and on the help screen.
pub(crate) const KEYS: &[Key] = &[
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

/// The payment picked, to follow as the candidates change.
pub(crate) fn kept(f: &RefundForm, d: &Desk) -> Option<String> {
    order_at(&d.data.refundable.iter().collect::<Vec<_>>(), f.picked)
}

/// A payment picked stays picked only while it is offered.
pub(crate) fn follow_rows(f: &mut RefundForm, d: &Desk, kept: Option<String>) {
    let rows: Vec<&TxnRow> = d.data.refundable.iter().collect();
    f.picked = kept.and_then(|o| find_order(&rows, Some(&o)));
}

pub(crate) fn on_key(f: &mut RefundForm, d: &mut Desk, key: KeyEvent) -> Vec<Effect> {
    let offered = d.data.refundable.len();
    match key.code {
        KeyCode::Esc => return top_level(d, key),
        KeyCode::Up | KeyCode::Down
            if f.focus == RefundField::Orig && pick_key(&mut f.picked, offered, key.code) => {}
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
            f.focus = match f.focus {
                RefundField::Orig => RefundField::Amount,
                RefundField::Amount => RefundField::Orig,
            }
        }
        KeyCode::Enter => return submit(f, d),
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

fn submit(f: &mut RefundForm, d: &mut Desk) -> Vec<Effect> {
    let exp = d.exponent;
    match f.focus {
        RefundField::Orig => {
            if let Some(row) = chosen(&d.data.refundable, f.picked, &f.orig.text) {
                let order = row.order_no.clone();
                f.orig.prefill(&order);
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
                    d,
                    format!(
                        "Unreferenced refund of {} {}: the customer presents the card. Go?",
                        amount.grouped(),
                        d.currency
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
                Some((row, _)) => act_words(row, &d.currency),
            };
            return confirm(
                d,
                format!("Refund {} {} of {of}?", amount.grouped(), d.currency),
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

/// The original looked up in the journal (`Effect::Lookup`), with what of it is left.
pub(crate) fn found(f: &mut RefundForm, d: &mut Desk, result: Result<Option<Refundable>, String>) {
    match result {
        Ok(Some(found)) => {
            // The order found, in full: what the request will carry (typing over it
            // starts another).
            f.orig.prefill(&found.0.order_no);
            f.error = None;
            match found.1 {
                // Refund all by default; the cashier can type a smaller amount.
                Some(left) if !left.is_zero() => {
                    f.amount = CentsField::prefill(left.minor());
                    f.focus = RefundField::Amount;
                }
                Some(_) => {
                    f.error = Some(format!(
                        "nothing is left to refund of {} (refunded or voided in full)",
                        found.0.order_no
                    ));
                }
                None => f.focus = RefundField::Amount,
            }
            f.found = Some(found);
        }
        // Paid on another terminal: the cloud's gateway knows it, this journal does not.
        Ok(None) if d.route() == Route::Cloud => {
            f.found = None;
            f.elsewhere = true;
            f.error = None;
            f.focus = RefundField::Amount;
            d.notice = Some(format!(
                "order {} is not in this journal: it is refunded through the cloud",
                f.orig.text
            ));
        }
        Ok(None) => {
            f.found = None;
            f.error = Some(format!(
                "order {} is not in the journal (Ctrl-T: through the cloud, for another terminal's)",
                f.orig.text
            ));
        }
        Err(e) => f.error = Some(e),
    }
}

/// The lane refused the request: why.
pub(crate) fn refused(f: &mut RefundForm, refusal: &Refusal) {
    f.error = Some(refusal.to_string());
}

pub(crate) fn draw(frame: &mut Frame, area: Rect, f: &RefundForm, d: &Desk, theme: &Theme) {
    let mut original = vec![
        label("Original", f.focus == RefundField::Orig, theme),
        Span::styled(
            format!(" {}", f.orig.shown(f.focus == RefundField::Orig)),
            theme.input,
        ),
    ];
    if f.orig.text.is_empty() {
        original.push(Span::styled(
            "  (empty: unreferenced, card present)",
            theme.muted,
        ));
    }
    let mut lines = vec![Line::from(""), Line::from(original)];
    match &f.found {
        Some((row, left)) => {
            lines.push(Line::from(Span::styled(
                format!("   {}", row_summary(row)),
                theme.muted,
            )));
            if let Some(left) = left {
                lines.push(Line::from(Span::styled(
                    format!("   refundable: {} {}", left.grouped(), d.currency),
                    theme.muted,
                )));
            }
        }
        None => lines.push(Line::from("")),
    }
    lines.push(Line::from(vec![
        label("Amount", f.focus == RefundField::Amount, theme),
        Span::styled(
            format!(" {} {}", f.amount.display(d.exponent), d.currency),
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
            d,
            (&d.data.refundable, f.picked),
            "payments to refund, newest first",
            theme,
        );
    }
}
