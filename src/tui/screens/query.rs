//! The Query screen: the terminal's answer about any order beside the journal's row.

use crate::visible::visible;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Borders, Paragraph, Wrap};

use super::shared::{Key, error_line, label};
use crate::ecr::TransStatus;
use crate::journal;
use crate::lane::{QueryResult, Refusal};
use crate::tui::desk::Desk;
use crate::tui::field::{Edit, TextField};
use crate::tui::flows::{ORDER_FULL, top_level};
use crate::tui::msg::Effect;
use crate::tui::theme::Theme;

/// The smallest window this screen is drawn in whole.
pub(crate) const MIN_SIZE: (u16, u16) = (60, 16);

#[derive(Clone, Debug)]
pub(crate) struct QueryForm {
    pub(crate) order: TextField,
    pub(crate) result: Option<QueryResult>,
    pub(crate) asking: bool,
    pub(crate) error: Option<String>,
}

/// An empty form (its text fields take what they hold).
impl Default for QueryForm {
    fn default() -> Self {
        QueryForm {
            order: TextField::order_no(),
            result: Default::default(),
            asking: Default::default(),
            error: Default::default(),
        }
    }
}

/// The keys of this screen, shown in its footer and on the help screen.
pub(crate) const KEYS: &[Key] = &[
    Key {
        keys: "type",
        does: "an order number",
    },
    Key {
        keys: "Enter",
        does: "ask the terminal",
    },
    Key {
        keys: "Ctrl-T",
        does: "cloud",
    },
];

pub(crate) fn on_key(q: &mut QueryForm, d: &mut Desk, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => return top_level(d, key),
        KeyCode::Enter => match journal::check_order_no(&q.order.text) {
            Ok(order) => {
                q.asking = true;
                q.error = None;
                q.result = None;
                return vec![Effect::Query(order)];
            }
            Err(e) => q.error = Some(e),
        },
        _ => match q.order.edit(key) {
            Edit::Full => q.error = Some(ORDER_FULL.into()),
            Edit::Changed => q.error = None,
            Edit::Refused | Edit::Ignored => {}
        },
    }
    vec![]
}

/// The screen opens: the order asked about is most often the one just made.
pub(crate) fn open(q: &mut QueryForm, d: &Desk) {
    if q.order.text.is_empty()
        && let Some(newest) = d.data.open_rows.first()
    {
        q.order.prefill(&newest.order_no);
    }
}

/// The terminal's answer about the order asked, or why there is none.
pub(crate) fn answered(q: &mut QueryForm, result: Result<QueryResult, Refusal>) -> Vec<Effect> {
    q.asking = false;
    match result {
        Ok(r) => {
            q.result = Some(r);
            q.error = None;
        }
        Err(e) => q.error = Some(e.to_string()),
    }
    vec![Effect::Refresh]
}

// Long on purpose: the screen's layout, top to bottom, each part a few lines.
pub(crate) fn draw(frame: &mut Frame, area: Rect, q: &QueryForm, theme: &Theme) {
    let [input, result] = Layout::vertical([Constraint::Length(3), Constraint::Min(3)]).areas(area);
    let mut top = vec![Line::from(vec![
        label("Order", true, theme),
        Span::styled(format!(" {}", q.order.shown(true)), theme.input),
    ])];
    if q.asking {
        top.push(Line::from(Span::styled(
            " asking the terminal…",
            theme.muted,
        )));
    }
    top.push(error_line(&q.error, theme));
    frame.render_widget(Paragraph::new(top), input);
    let Some(r) = &q.result else { return };
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(result);
    let mut terminal = Vec::new();
    match r.answer.as_ref().and_then(|a| a.reply.as_ref()) {
        Some(reply) => {
            terminal.push(Line::from(
                visible(&format!(
                    "{} {}",
                    reply.response_code.as_deref().unwrap_or("-"),
                    reply.message()
                ))
                .into_owned(),
            ));
            if let Some(s) = &reply.biz.trans_status {
                terminal.push(Line::from(format!(
                    "status {s} ({})",
                    TransStatus::from_wire(s).describe()
                )));
            }
            for (k, v) in [
                ("amount", &reply.biz.order_amount),
                ("brand", &reply.biz.pay_method_id),
                ("card", &reply.biz.card_no),
                ("auth", &reply.biz.auth_code),
                ("trans no", &reply.biz.trans_no),
            ] {
                if let Some(v) = v {
                    terminal.push(Line::from(visible(&format!("{k}: {v}")).into_owned()));
                }
            }
        }
        None => terminal.push(Line::from(
            visible(&format!(
                "no answer: {}",
                r.answer.as_ref().map(|a| a.why.as_str()).unwrap_or("-")
            ))
            .into_owned(),
        )),
    }
    let journal = match &r.row {
        Some(row) => vec![
            Line::from(format!(
                "{} {}",
                row.state.name().to_uppercase(),
                row.kind.name()
            )),
            Line::from(format!("amount: {} {}", row.amount.grouped(), row.currency)),
            Line::from(format!(
                "brand: {}",
                row.reply.brand.as_deref().unwrap_or("-")
            )),
            Line::from(format!(
                "card: {}",
                row.reply.card.as_deref().unwrap_or("-")
            )),
            Line::from(format!(
                "auth: {}",
                row.reply.auth_code.as_deref().unwrap_or("-")
            )),
            Line::from(format!("batch: {}", row.batch)),
        ],
        None => vec![Line::from("no row for this order")],
    };
    let boxed = |title: &'static str| {
        theme
            .block()
            .borders(Borders::ALL)
            .border_style(theme.border)
            .title(title)
    };
    frame.render_widget(
        Paragraph::new(terminal)
            .block(boxed(" Terminal "))
            .wrap(Wrap { trim: true }),
        left,
    );
    frame.render_widget(Paragraph::new(journal).block(boxed(" Journal ")), right);
}
