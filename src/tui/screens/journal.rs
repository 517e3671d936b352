//! The Journal screen: history across batches, a row's detail and audit trail, and what may be done to it.

use crate::visible::visible;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Borders, Paragraph, Wrap};

use super::shared::{
    Key, act_words, find_order, follow, local_time, order_at, rows_table, short_order, since_text,
};
use crate::journal::AuditRow;
use crate::journal::Search;
use crate::journal::{TxnRow, TxnState};
use crate::lane::{PayRequest, SaleOptions};
use crate::tui::desk::{Desk, Handoff, JOURNAL_PAGE, Modal};
use crate::tui::field::{Edit, TextField};
use crate::tui::flows::{confirm, move_sel, top_level};
use crate::tui::msg::Effect;
use crate::tui::theme::Theme;

/// The smallest window this screen is drawn in whole.
pub(crate) const MIN_SIZE: (u16, u16) = (60, 16);

#[derive(Clone, Debug)]
pub(crate) struct JournalScreen {
    pub(crate) selected: usize,
    /// Just opened: as `PickList::fresh`.
    pub(crate) fresh: bool,
    /// What to look for across the whole journal (see `search`).
    pub(crate) search: TextField,
    pub(crate) searching: bool,
    /// The cursors of the pages before the one shown: empty on the newest page.
    pub(crate) pages: Vec<i64>,
    /// What the store found on other lanes for the search (with a store configured).
    pub(crate) elsewhere: Vec<TxnRow>,
    /// Why the store could not be asked.
    pub(crate) elsewhere_error: Option<String>,
    pub(crate) detail: bool,
    /// The audit trail of the row in detail: every state it went through, and why.
    pub(crate) audit: Vec<AuditRow>,
}

/// An empty form (its text fields take what they hold).
impl Default for JournalScreen {
    fn default() -> Self {
        JournalScreen {
            selected: Default::default(),
            fresh: Default::default(),
            search: TextField::with_max(80),
            searching: Default::default(),
            pages: Default::default(),
            elsewhere: Default::default(),
            elsewhere_error: Default::default(),
            detail: Default::default(),
            audit: Default::default(),
        }
    }
}

/// The keys of this screen, shown in its footer and on the help screen.
pub(crate) const KEYS: &[Key] = &[
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

/// The keys while a row's detail shows.
pub(crate) const DETAIL_KEYS: &[Key] = &[
    Key {
        keys: "↑/↓",
        does: "the row before/after",
    },
    Key {
        keys: "Enter/Esc",
        does: "back to the list",
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
pub(crate) const SEARCH_KEYS: &[Key] = &[
    Key {
        keys: "type",
        does: "order tail · last four · 12.34 · auth code · 2026-11-25 · a kind or state",
    },
    Key {
        keys: "Enter/Esc",
        does: "done",
    },
];

/// The journal screen's rows: a page of the whole journal, as searched.
pub(crate) fn rows(d: &Desk) -> Vec<&TxnRow> {
    d.data.journal.page.rows.iter().collect()
}

/// The journal screen's search: the words typed (a kind or a state by name, the rest as
/// `journal::Search` reads them), the page being looked at.
pub(crate) fn search(f: &JournalScreen, d: &Desk) -> Search {
    Search {
        text: f.search.text.trim().to_string(),
        utc_offset_secs: d.utc_offset.local_minus_utc(),
        exponent: d.exponent,
        before: f.pages.last().copied(),
        limit: JOURNAL_PAGE,
        ..Search::default()
    }
}

/// The screen opens (`arriving`: from another screen, on its newest row) and reads
/// its rows again.
pub(crate) fn open(f: &mut JournalScreen, arriving: bool) -> Vec<Effect> {
    if arriving {
        f.fresh = true;
        f.selected = 0;
    }
    vec![Effect::Refresh]
}

/// The order selected, to follow as the rows change.
pub(crate) fn kept(f: &JournalScreen, d: &Desk) -> Option<String> {
    order_at(&rows(d), Some(f.selected))
}

/// The rows changed: the selection follows its order; `settled`: the rows as of the
/// opening are in.
pub(crate) fn follow_rows(f: &mut JournalScreen, d: &Desk, kept: Option<String>, settled: bool) {
    let rows = rows(d);
    let (len, at) = (rows.len(), find_order(&rows, kept.as_deref()));
    follow(&mut f.selected, f.fresh, len, at);
    f.fresh &= !settled;
}

/// The search runs again (its words or its page changed): what other lanes had for
/// the old one goes.
fn search_again(f: &mut JournalScreen) -> Vec<Effect> {
    f.elsewhere.clear();
    f.elsewhere_error = None;
    vec![Effect::Search]
}

/// The keys as the screen is now: typing a search and a row's detail have their own.
pub(crate) fn keys(f: &JournalScreen) -> &'static [Key] {
    if f.searching {
        SEARCH_KEYS
    } else if f.detail {
        DETAIL_KEYS
    } else {
        KEYS
    }
}

// Long on purpose: the Journal screen's keys, one arm each (the search field's first).
pub(crate) fn on_key(f: &mut JournalScreen, d: &mut Desk, key: KeyEvent) -> Vec<Effect> {
    if f.searching {
        return match key.code {
            KeyCode::Esc | KeyCode::Enter => {
                f.searching = false;
                vec![]
            }
            _ if f.search.edit(key) == Edit::Changed => {
                // Each change searches the whole journal again, from its newest page.
                f.pages.clear();
                f.selected = 0;
                search_again(f)
            }
            _ => vec![],
        };
    }
    // PgDn and PgUp page by what shows; past the rows read, the next read page.
    let (len, page) = (rows(d).len(), d.list_rows());
    let last = len.saturating_sub(1);
    match key.code {
        KeyCode::PageDown if !f.detail && f.selected >= last => {
            return match d.data.journal.page.next {
                Some(cursor) => {
                    f.pages.push(cursor);
                    f.selected = 0;
                    f.fresh = true;
                    search_again(f)
                }
                None => {
                    d.notice = Some("no older rows: this is the oldest".into());
                    vec![]
                }
            };
        }
        KeyCode::PageUp if !f.detail && f.selected == 0 => {
            return match f.pages.pop() {
                Some(_) => {
                    f.fresh = true;
                    search_again(f)
                }
                None => {
                    d.notice = Some("this is the newest".into());
                    vec![]
                }
            };
        }
        _ => {}
    }
    if move_sel(&mut f.selected, len, page, key.code) {
        f.fresh = false;
        return vec![];
    }
    let rows: Vec<TxnRow> = rows(d).into_iter().cloned().collect();

    let row = rows.get(f.selected);
    match (key.code, row) {
        (KeyCode::Esc, _) if f.detail => f.detail = false,
        (KeyCode::Esc, _) => return top_level(d, key),
        (KeyCode::Char('/'), _) => {
            f.searching = true;
            f.detail = false;
        }
        (KeyCode::Enter, Some(row)) => {
            f.detail = !f.detail;
            f.audit.clear();
            if f.detail {
                return vec![Effect::LoadAudit(row.order_no.clone())];
            }
        }
        (KeyCode::Char('r'), Some(row)) => {
            d.handoff = Some(Handoff::Refund(row.order_no.clone()));
            return vec![Effect::Lookup(row.order_no.clone())];
        }
        (KeyCode::Char('v'), Some(row)) => {
            let req = PayRequest::Void {
                orig: row.order_no.clone(),
                options: SaleOptions::default(),
            };
            return confirm(d, format!("Void {}?", act_words(row, &d.currency)), req);
        }
        (KeyCode::Char('c'), Some(row)) => {
            d.handoff = Some(Handoff::Complete(row.order_no.clone()));
        }
        (KeyCode::Char(c @ ('a' | 'x')), Some(row))
            if matches!(row.state, TxnState::Pending | TxnState::Unknown) =>
        {
            d.modal = Some(Modal::Override {
                order_no: row.order_no.clone(),
                approve: c == 'a',
                note: TextField::with_max(200),
            });
        }
        (KeyCode::Char('a' | 'x'), Some(row)) => {
            d.notice = Some(format!(
                "{} is {}: only an unresolved row can be settled by hand",
                row.order_no,
                row.state.name()
            ));
        }
        _ => {}
    }
    vec![]
}

/// The audit trail of the row in detail.
pub(crate) fn audited(f: &mut JournalScreen, rows: Vec<AuditRow>) {
    f.audit = rows;
}

/// What the store found on other lanes for the search `text`; an answer to an older
/// search is not this one's.
pub(crate) fn elsewhere(f: &mut JournalScreen, text: &str, found: Result<Vec<TxnRow>, String>) {
    if text != f.search.text.trim() {
        return;
    }
    match found {
        Ok(rows) => {
            f.elsewhere = rows;
            f.elsewhere_error = None;
        }
        Err(e) => {
            f.elsewhere.clear();
            f.elsewhere_error = Some(e);
        }
    }
}

pub(crate) fn draw(frame: &mut Frame, area: Rect, f: &JournalScreen, d: &Desk, theme: &Theme) {
    let [search, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(2)]).areas(area);
    let journal = &d.data.journal;
    let style = if f.searching {
        theme.focus
    } else {
        theme.muted
    };
    let page = f.pages.len() + 1;
    let more = if journal.page.next.is_some() {
        " · PgDn older"
    } else {
        ""
    };
    let mut line = vec![Span::styled(
        format!(" search: {}", f.search.shown(f.searching)),
        style,
    )];
    match &journal.error {
        Some(e) => line.push(Span::styled(format!("  ! {e}"), theme.error)),
        None => line.push(Span::styled(format!("  page {page}{more}"), theme.muted)),
    }
    frame.render_widget(Paragraph::new(Line::from(line)), search);
    let rows = rows(d);
    if f.detail
        && let Some(row) = rows.get(f.selected)
    {
        return detail(frame, list, row, f, d, theme);
    }
    let list = match elsewhere_lines(f, d, theme) {
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
        let empty = if f.search.text.trim().is_empty() {
            " No transactions yet."
        } else {
            " Nothing in the journal matches."
        };
        frame.render_widget(Paragraph::new(empty), list);
    } else {
        frame.render_widget(rows_table(d, &rows, Some(f.selected), theme, list), list);
    }
}

/// What the store found on other lanes, and what can be done about it from here: a
/// payment taken on another terminal is refunded or voided through the cloud.
fn elsewhere_lines(f: &JournalScreen, d: &Desk, theme: &Theme) -> Option<Vec<Line<'static>>> {
    if let Some(e) = &f.elsewhere_error {
        return Some(vec![Line::from(Span::styled(
            format!(" the store could not be asked: {e}"),
            theme.warning,
        ))]);
    }
    if f.elsewhere.is_empty() {
        return None;
    }
    let mut lines: Vec<Line> = f
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
                local_time(d, &r.created_at, "%Y-%m-%d %H:%M"),
            ))
        })
        .collect();
    if let Some(r) = f.elsewhere.first() {
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

// Long on purpose: one panel's lines, top to bottom, a field or two each.
fn detail(frame: &mut Frame, area: Rect, row: &TxnRow, f: &JournalScreen, d: &Desk, theme: &Theme) {
    let audit = &f.audit;
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
            since_text(d, &row.order_no, true).unwrap_or_else(|| "-".into()),
        ),
        ("brand", opt(&row.reply.brand)),
        ("card", opt(&row.reply.card)),
        ("auth code", opt(&row.reply.auth_code)),
        ("ref no", opt(&row.reply.ref_no)),
        ("trans no", opt(&row.reply.trans_no)),
        (
            "terminal",
            visible(&format!(
                "{} {}",
                opt(&row.reply.response_code),
                opt(&row.reply.response_msg)
            ))
            .into_owned(),
        ),
        ("lane / batch", format!("{} / {}", row.lane, row.batch)),
        (
            "created",
            local_time(d, &row.created_at, "%Y-%m-%d %H:%M:%S"),
        ),
        (
            "updated",
            local_time(d, &row.updated_at, "%Y-%m-%d %H:%M:%S"),
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
                    format!("{} ", local_time(d, &a.at, "%H:%M:%S")),
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
