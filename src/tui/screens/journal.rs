//! The Journal screen: history across batches, a row's detail and audit trail, and what may be done to it.

use crate::visible::visible;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Borders, Paragraph, Wrap};

use super::shared::*;
use crate::journal::{TxnRow, TxnState};
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
        keys: "↑/↓",
        does: "",
    },
    Key {
        keys: "PgDn/PgUp",
        does: "older/newer",
    },
    Key {
        keys: "Enter",
        does: "detail",
    },
    Key {
        keys: "/",
        does: "search",
    },
    Key {
        keys: "r",
        does: "refund",
    },
    Key {
        keys: "v",
        does: "void",
    },
    Key {
        keys: "c",
        does: "complete",
    },
    Key {
        keys: "a/x",
        does: "override",
    },
];

/// The keys while typing a search.
pub const SEARCH_KEYS: &[Key] = &[
    Key {
        keys: "type",
        does: "order tail · last four · 12.34 · auth code · 2026-11-25 · a kind or state",
    },
    Key {
        keys: "Enter/Esc",
        does: "done",
    },
];

pub fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if m.journal.searching {
        return match key.code {
            KeyCode::Esc | KeyCode::Enter => {
                m.journal.searching = false;
                vec![]
            }
            _ if m.journal.search.edit(key) == Edit::Changed => {
                // Each change searches the whole journal again, from its newest page.
                m.journal.pages.clear();
                m.journal.selected = 0;
                vec![Effect::Search]
            }
            _ => vec![],
        };
    }
    // PgDn and PgUp page by what shows; past the rows read, the next read page.
    let (len, page) = (m.journal_rows().len(), m.desk.list_rows());
    let last = len.saturating_sub(1);
    match key.code {
        KeyCode::PageDown if !m.journal.detail && m.journal.selected >= last => {
            return match m.desk.data.journal.page.next {
                Some(cursor) => {
                    m.journal.pages.push(cursor);
                    m.journal.selected = 0;
                    m.journal.fresh = true;
                    vec![Effect::Search]
                }
                None => {
                    m.desk.notice = Some("no older rows: this is the oldest".into());
                    vec![]
                }
            };
        }
        KeyCode::PageUp if !m.journal.detail && m.journal.selected == 0 => {
            return match m.journal.pages.pop() {
                Some(_) => {
                    m.journal.fresh = true;
                    vec![Effect::Search]
                }
                None => {
                    m.desk.notice = Some("this is the newest".into());
                    vec![]
                }
            };
        }
        _ => {}
    }
    if move_sel(&mut m.journal.selected, len, page, key.code) {
        m.journal.fresh = false;
        return vec![];
    }
    let rows: Vec<TxnRow> = m.journal_rows().into_iter().cloned().collect();

    let row = rows.get(m.journal.selected);
    match (key.code, row) {
        (KeyCode::Esc, _) if m.journal.detail => m.journal.detail = false,
        (KeyCode::Esc, _) => return top_level(m, key),
        (KeyCode::Char('/'), _) => {
            m.journal.searching = true;
            m.journal.detail = false;
        }
        (KeyCode::Enter, Some(row)) => {
            m.journal.detail = !m.journal.detail;
            m.journal.audit.clear();
            if m.journal.detail {
                return vec![Effect::LoadAudit(row.order_no.clone())];
            }
        }
        (KeyCode::Char('r'), Some(row)) => {
            m.refund = RefundForm {
                orig: prefilled_order(&row.order_no),
                ..RefundForm::default()
            };
            m.desk.screen = ScreenId::Refund;
            return vec![Effect::Lookup(row.order_no.clone())];
        }
        (KeyCode::Char('v'), Some(row)) => {
            let req = PayRequest::Void {
                orig: row.order_no.clone(),
                options: SaleOptions::default(),
            };
            return confirm(
                m,
                format!("Void {}?", act_words(row, &m.desk.currency)),
                req,
            );
        }
        (KeyCode::Char('c'), Some(row)) => {
            m.sale = SaleForm {
                kind: SaleKind::Completion,
                orig: prefilled_order(&row.order_no),
                ..SaleForm::default()
            };
            m.desk.screen = ScreenId::Sale;
        }
        (KeyCode::Char(c @ ('a' | 'x')), Some(row))
            if matches!(row.state, TxnState::Pending | TxnState::Unknown) =>
        {
            m.desk.modal = Some(Modal::Override {
                order_no: row.order_no.clone(),
                approve: c == 'a',
                note: TextField::with_max(200),
            });
        }
        (KeyCode::Char('a' | 'x'), Some(row)) => {
            m.desk.notice = Some(format!(
                "{} is {}: only an unresolved row can be settled by hand",
                row.order_no,
                row.state.name()
            ));
        }
        _ => {}
    }
    vec![]
}

/// An order number field filled in from the selected row.
fn prefilled_order(order_no: &str) -> TextField {
    let mut field = TextField::order_no();
    field.prefill(order_no);
    field
}

pub fn draw(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let [search, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(2)]).areas(area);
    let journal = &m.desk.data.journal;
    let style = if m.journal.searching {
        theme.focus
    } else {
        theme.muted
    };
    let page = m.journal.pages.len() + 1;
    let more = if journal.page.next.is_some() {
        " · PgDn older"
    } else {
        ""
    };
    let mut line = vec![Span::styled(
        format!(" search: {}", m.journal.search.shown(m.journal.searching)),
        style,
    )];
    match &journal.error {
        Some(e) => line.push(Span::styled(format!("  ! {e}"), theme.error)),
        None => line.push(Span::styled(format!("  page {page}{more}"), theme.muted)),
    }
    frame.render_widget(Paragraph::new(Line::from(line)), search);
    let rows = m.journal_rows();
    if m.journal.detail
        && let Some(row) = rows.get(m.journal.selected)
    {
        return detail(frame, list, row, m, theme);
    }
    let list = match elsewhere_lines(m, theme) {
        Some(lines) => {
            let height = u16::try_from(lines.len() + 1)
                .unwrap_or(u16::MAX)
                .min(list.height / 2);
            let [list, below] =
                Layout::vertical([Constraint::Min(2), Constraint::Length(height)]).areas(list);
            frame.render_widget(
                Paragraph::new(lines)
                    .block(
                        theme
                            .block()
                            .borders(Borders::TOP)
                            .border_style(theme.border)
                            .title(" on other lanes (the store) "),
                    )
                    .wrap(Wrap { trim: false }),
                below,
            );
            list
        }
        None => list,
    };
    if rows.is_empty() {
        let empty = if m.journal.search.text.trim().is_empty() {
            " No transactions yet."
        } else {
            " Nothing in the journal matches."
        };
        frame.render_widget(Paragraph::new(empty), list);
    } else {
        frame.render_widget(
            rows_table(m, &rows, Some(m.journal.selected), theme, list),
            list,
        );
    }
}

/// What the store found on other lanes, and what can be done about it from here: a
/// payment taken on another terminal is refunded or voided through the cloud.
fn elsewhere_lines(m: &Model, theme: &Theme) -> Option<Vec<Line<'static>>> {
    if let Some(e) = &m.journal.elsewhere_error {
        return Some(vec![Line::from(Span::styled(
            format!(" the store could not be asked: {e}"),
            theme.warning,
        ))]);
    }
    if m.journal.elsewhere.is_empty() {
        return None;
    }
    let mut lines: Vec<Line> = m
        .journal
        .elsewhere
        .iter()
        .map(|r| {
            Line::from(format!(
                " lane {} {} {} {} {} {}",
                r.lane,
                short_order(&r.order_no),
                r.kind.name(),
                r.amount.grouped(),
                r.state.name(),
                local_time(m, &r.created_at, "%Y-%m-%d %H:%M"),
            ))
        })
        .collect();
    if let Some(r) = m.journal.elsewhere.first() {
        lines.push(Line::from(Span::styled(
            format!(
                " found on lane {}: refund it through the cloud: till refund {} --orig {} --via cloud",
                r.lane, r.amount, r.order_no
            ),
            theme.muted,
        )));
    }
    Some(lines)
}

fn detail(frame: &mut Frame, area: Rect, row: &TxnRow, m: &Model, theme: &Theme) {
    let audit = &m.journal.audit;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let pairs = [
        ("order", row.order_no.clone()),
        ("state", row.state.name().to_string()),
        ("kind", row.kind.name().to_string()),
        (
            "amount",
            format!("{} {}", row.amount.grouped(), row.currency),
        ),
        (
            "tip",
            row.tip.map(|t| t.grouped()).unwrap_or_else(|| "-".into()),
        ),
        (
            "cash-back",
            row.cashback
                .map(|t| t.grouped())
                .unwrap_or_else(|| "-".into()),
        ),
        ("original", opt(&row.orig_order_no)),
        (
            "since",
            since_text(m, &row.order_no, true).unwrap_or_else(|| "-".into()),
        ),
        ("brand", opt(&row.brand)),
        ("card", opt(&row.card)),
        ("auth code", opt(&row.auth_code)),
        ("ref no", opt(&row.ref_no)),
        ("trans no", opt(&row.trans_no)),
        (
            "terminal",
            visible(&format!(
                "{} {}",
                opt(&row.response_code),
                opt(&row.response_msg)
            ))
            .into_owned(),
        ),
        ("lane / batch", format!("{} / {}", row.lane, row.batch)),
        (
            "created",
            local_time(m, &row.created_at, "%Y-%m-%d %H:%M:%S"),
        ),
        (
            "updated",
            local_time(m, &row.updated_at, "%Y-%m-%d %H:%M:%S"),
        ),
    ];
    let lines: Vec<Line> = pairs
        .into_iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!(" {k:<13}"), theme.muted),
                Span::raw(v),
            ])
        })
        .collect();
    let [fields, trail] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), fields);
    let trail_lines: Vec<Line> = audit
        .iter()
        .map(|a| {
            Line::from(vec![
                Span::styled(
                    format!("{} ", local_time(m, &a.at, "%H:%M:%S")),
                    theme.muted,
                ),
                Span::raw(format!("{} ", a.to)),
                Span::styled(
                    visible(&format!("{} ({})", a.why, a.who)).into_owned(),
                    theme.muted,
                ),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(trail_lines)
            .block(
                theme
                    .block()
                    .borders(Borders::LEFT)
                    .border_style(theme.border)
                    .title(" history "),
            )
            .wrap(Wrap { trim: false }),
        trail,
    );
}
