//! The frame: status bar, the current screen, footer keys, and whatever sits on top
//! (the in-flight overlay, a result, a dialog). Pure: reads the model, never changes it.

use crate::visible::visible;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Borders, Clear, Paragraph, Wrap};

use super::bigword;
use super::model::{Modal, Model, ScreenId};
use super::screens;
use super::theme::Theme;
use crate::journal::rules;
use crate::journal::{TxnKind, TxnRow, TxnState};
use crate::lane::Route;
use crate::money;

pub fn view(frame: &mut Frame, m: &Model, theme: &Theme) {
    let area = frame.area();
    frame.render_widget(theme.block().style(theme.text), area);
    let (width, height) = screens::min_size(m.desk.screen);
    if area.width < width || area.height < height {
        too_small(frame, area, m, (width, height), theme);
        return;
    }
    // The key line wraps between keys rather than being cut: every key it names can
    // be read. A notice wraps too, up to two lines.
    let keys = screens::wrap_keys(&footer_text(m), usize::from(area.width));
    let notice_rows = m
        .desk
        .notice
        .as_deref()
        .unwrap_or("")
        .chars()
        .count()
        .div_ceil(usize::from(area.width));
    let rows = |n: usize, most: u16| u16::try_from(n).unwrap_or(most).clamp(1, most);
    let [status, body, notice, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(rows(notice_rows, 2)),
        Constraint::Length(rows(keys.len(), 3)),
    ])
    .areas(area);
    status_bar(frame, status, m, theme);
    let block = theme
        .block()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(
            format!(" F{} {} ", m.desk.screen.f_key(), m.desk.screen.title()),
            theme.title,
        ))
        .title(
            Line::from(Span::styled(" Esc menu · F1 help ", theme.muted))
                .alignment(Alignment::Right),
        );
    let inner = block.inner(body);
    frame.render_widget(block, body);
    match (&m.desk.result, m.desk.screen) {
        (Some(row), _) => result_panel(frame, inner, row, m.batch.last_close.as_deref(), theme),
        _ => screen_body(frame, inner, m, theme),
    }
    if let Some(text) = &m.desk.notice {
        frame.render_widget(
            Paragraph::new(Span::styled(visible(text), theme.warning)).wrap(Wrap { trim: true }),
            notice,
        );
    }
    let keys: Vec<Line> = keys
        .into_iter()
        .map(|k| Line::from(Span::styled(k, theme.key_hint)))
        .collect();
    frame.render_widget(Paragraph::new(keys).wrap(Wrap { trim: true }), footer);
    if m.desk.flight.is_some() {
        flight_overlay(frame, body, m, theme);
    }
    if let Some(modal) = &m.desk.modal {
        modal_view(frame, body, m, modal, theme);
    }
}

fn status_bar(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let mut left = Vec::new();
    if m.desk.route() == Route::Cloud {
        left.push(Span::styled(" VIA CLOUD ", theme.demo));
    }
    if m.desk.demo {
        left.push(Span::styled(" DEMO ", theme.demo));
        left.push(Span::raw(" "));
    }
    let (mark, style) = if m.desk.link.up {
        ("● UP", theme.link_up)
    } else {
        ("○ DOWN", theme.link_down)
    };
    left.push(Span::styled(mark, style));
    left.push(Span::raw(format!(" {}", m.desk.link.address)));
    if let Some(sn) = &m.desk.link.device.device_sn {
        left.push(Span::raw(format!(" SN {sn}")));
    }
    // A round trip is news only while the link is up.
    if let Some(us) = m.desk.link.rtts_us.back().filter(|_| m.desk.link.up) {
        left.push(Span::raw(format!(" {}", screens::rtt_text(*us))));
    }
    // Lane and unresolved count never scroll off, whatever the width.
    let unresolved = m.desk.unresolved.len();
    let right = Line::from(vec![
        Span::raw(format!(" lane {} ", m.desk.lane_id)),
        Span::styled(
            format!("unresolved {unresolved} "),
            if unresolved > 0 {
                theme.unknown
            } else {
                theme.status_bar
            },
        ),
    ]);
    let width = right.width() as u16;
    let [l, r] = Layout::horizontal([Constraint::Min(1), Constraint::Length(width)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)).style(theme.status_bar), l);
    frame.render_widget(Paragraph::new(right).style(theme.status_bar), r);
}

/// The keys of what has the keyboard now, in words.
pub(crate) fn footer_text(m: &Model) -> String {
    if let Some(f) = &m.desk.flight {
        return if f.unknown {
            "Enter leave it to resolve in the background · Esc ask the terminal to cancel"
        } else {
            "Esc ask the terminal to cancel · the terminal decides"
        }
        .into();
    }
    match &m.desk.modal {
        Some(Modal::Menu) => return "a letter: go to that screen · Esc close".into(),
        Some(Modal::Confirm { .. }) => return "y yes · n no · Enter and Esc are no too".into(),
        Some(Modal::Override { .. }) => return "type a note · Enter save · Esc cancel".into(),
        Some(Modal::Pin { .. }) => return "digits PIN · Enter check · Esc cancel".into(),
        Some(Modal::SaleOptions) if m.sale.description.is_some() => {
            return "type the description · Enter keep · Esc drop the change".into();
        }
        Some(Modal::SaleOptions) => {
            return "t tip · s signature · c confirm · r receipts · d description · Enter done"
                .into();
        }
        None => {}
    }
    if m.desk.closing {
        return "any key: close till".into();
    }
    if let Some(row) = &m.desk.result {
        let declined_sale = row.state == TxnState::Declined && m.desk.screen == ScreenId::Sale;
        return if declined_sale && m.sale.typed() {
            "Enter charge again (another card) · digits a new amount · other keys: next"
        } else {
            "any key: next · F-key: go to that screen"
        }
        .into();
    }
    screens::key_line(keys(m))
}

/// Below the screen's size a broken frame helps nobody; the keys still work, and what
/// is in flight still ends as it should.
fn too_small(frame: &mut Frame, area: Rect, m: &Model, (w, h): (u16, u16), theme: &Theme) {
    let mut lines = vec![Line::from(format!(
        "enlarge the window to at least {w}x{h} for {} (now {}x{})",
        m.desk.screen.title(),
        area.width,
        area.height
    ))];
    if let Some(f) = &m.desk.flight {
        let what = screens::request_line(&f.request, &m.desk);
        lines.push(Line::from(format!("in flight: {what}")));
    } else if let Some(row) = &m.desk.result {
        lines.push(Line::from(format!(
            "{}: {}",
            screens::row_summary(row),
            row.state.name().to_uppercase()
        )));
    }
    // The way out, for a cashier who cannot see the footer.
    lines.push(Line::from(
        "F2 Sale · F2-F10 another screen (or Esc, then its letter) · Ctrl-C quit",
    ));
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.warning)
            .wrap(Wrap { trim: true }),
        area,
    );
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn flight_overlay(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let Some(f) = &m.desk.flight else { return };
    let rect = centered(area, 64, 11);
    frame.render_widget(Clear, rect);
    let elapsed = f.started.elapsed().as_secs();
    let what = screens::request_line(&f.request, &m.desk);
    // Once the answer is lost the cashier must not be told to carry on at the terminal.
    let (headline, style) = if f.unknown || !m.desk.link.up {
        ("OUTCOME UNKNOWN: DO NOT CHARGE AGAIN", theme.warning)
    } else {
        ("FOLLOW THE PROMPTS ON THE TERMINAL", theme.title)
    };
    let mut lines = vec![
        Line::from(Span::styled(headline, style)),
        Line::from(Span::styled(what, theme.amount)),
        Line::from(format!(
            "order {}   {}s",
            f.order_no.as_deref().unwrap_or("…"),
            elapsed
        )),
        Line::from(""),
    ];
    for p in f.progress.iter().rev().take(4).rev() {
        lines.push(Line::from(Span::styled(visible(p), theme.muted)));
    }
    let block = theme
        .block()
        .borders(Borders::ALL)
        .border_style(theme.focus)
        .title(" Waiting for the terminal ");
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        rect,
    );
}

fn outcome_style(state: TxnState, theme: &Theme) -> Style {
    match state {
        TxnState::Approved => theme.approved,
        TxnState::Declined => theme.declined,
        TxnState::Pending | TxnState::Unknown => theme.unknown,
    }
}

/// The outcome in one word; a payment cancelled at the terminal says so.
fn outcome_word(row: &TxnRow) -> String {
    let cancelled = row.reply.response_code.as_deref() == Some("110")
        || row.reply.trans_status.as_deref() == Some("3");
    if row.state == TxnState::Declined && cancelled {
        "CANCELLED".into()
    } else {
        row.state.name().to_uppercase()
    }
}

/// Tip, cash-back and total, when the payment had more than its amount.
fn money_lines(row: &TxnRow) -> Vec<String> {
    let tip = row.tip.filter(|t| !t.is_zero());
    let cashback = row.cashback.filter(|c| !c.is_zero());
    if tip.is_none() && cashback.is_none() {
        return vec![];
    }
    let mut lines = Vec::new();
    let extra: i64 = [tip, cashback].iter().flatten().map(|m| m.minor()).sum();
    if let Some(tip) = tip {
        lines.push(format!("tip {}", tip.grouped()));
    }
    if let Some(cash) = cashback {
        lines.push(format!("cash-back {}", cash.grouped()));
    }
    let exp = row.amount.exponent();
    lines.push(format!(
        "total {} {}",
        money::grouped_minor(row.amount.minor() + extra, exp),
        row.currency
    ));
    if let (Some(cash), TxnState::Approved) = (cashback, row.state) {
        lines.push(format!("GIVE {} CASH", cash.grouped()));
    }
    lines
}

/// The outcome; a batch close's says how the terminal's totals compare (`closed`).
// Long on purpose: the result panel's lines, top to bottom, a field or two each.
fn result_panel(frame: &mut Frame, area: Rect, row: &TxnRow, closed: Option<&str>, theme: &Theme) {
    let word = outcome_word(row);
    let style = outcome_style(row.state, theme);
    let mut lines: Vec<Line> = Vec::new();
    if area.height >= 14 && bigword::width(&word) as u16 <= area.width {
        for l in bigword::render(&word) {
            // A plain console shows the letters in `#`, which it can draw.
            let l = if theme.ascii {
                l.replace('█', "#")
            } else {
                l
            };
            lines.push(Line::from(Span::styled(l, style)));
        }
    }
    lines.push(Line::from(Span::styled(format!("  {word}  "), style)));
    let what = match row.kind {
        TxnKind::BatchClose => "batch close".to_string(),
        kind => format!("{} {} {}", kind.name(), row.amount.grouped(), row.currency),
    };
    lines.push(Line::from(Span::styled(what, theme.amount)));
    if let Some(note) = row.partial_note() {
        lines.push(Line::from(Span::styled(note, theme.declined)));
    }
    for text in money_lines(row) {
        let style = if text.starts_with("GIVE") {
            theme.approved
        } else {
            theme.amount
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    let detail = [
        row.reply.brand.clone(),
        row.reply.card.clone(),
        row.reply.auth_code.as_ref().map(|a| format!("auth {a}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("  ");
    if !detail.is_empty() {
        lines.push(Line::from(detail));
    }
    lines.push(Line::from(format!("order {}", row.order_no)));
    if row.kind == TxnKind::BatchClose {
        let said = closed.map_or_else(|| terminal_totals(row), String::from);
        let style = if said.contains("MISMATCH") {
            theme.warning
        } else {
            theme.text
        };
        lines.push(Line::from(Span::styled(said, style)));
    }
    if row.state != TxnState::Approved
        && let Some(msg) = &row.reply.response_msg
    {
        lines.push(Line::from(Span::styled(visible(msg), theme.muted)));
    }
    if rules::needs_person(row) {
        lines.push(Line::from(Span::styled(
            "Do not charge again: check the receipt; a supervisor settles it (till resolve)",
            theme.warning,
        )));
    } else if matches!(row.state, TxnState::Unknown | TxnState::Pending) {
        lines.push(Line::from(Span::styled(
            "Do not charge again: check the terminal's screen or receipt; till keeps asking",
            theme.warning,
        )));
    }
    let next = if row.state == TxnState::Declined && row.kind.is_sale() {
        "Enter charge again (another card) · any other key to go on"
    } else {
        "any key to go on"
    };
    lines.push(Line::from(Span::styled(next, theme.key_hint)));
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// The terminal's own batch totals, from the reply the journal kept.
fn terminal_totals(row: &TxnRow) -> String {
    let biz = row
        .reply
        .raw
        .as_deref()
        .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw).ok())
        .and_then(|v| v.get("biz_data").cloned());
    match biz {
        Some(serde_json::Value::Object(map)) => {
            let pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k} {}",
                        v.as_str().map_or_else(|| v.to_string(), String::from)
                    )
                })
                .collect();
            format!("terminal: {}", pairs.join(", "))
        }
        _ => "terminal: no totals in its reply".to_string(),
    }
}

// Long on purpose: one arm per dialog's title and lines, side by side as in `dialogs::on_key`.
fn modal_view(frame: &mut Frame, area: Rect, m: &Model, modal: &Modal, theme: &Theme) {
    let (title, lines): (&str, Vec<Line>) = match modal {
        Modal::Pin {
            why,
            pin,
            error,
            checking,
            ..
        } => {
            let mut lines = vec![
                Line::from(format!("{why} needs the supervisor's PIN.")),
                Line::from(Span::styled(
                    format!("PIN: {}_", "*".repeat(pin.text.chars().count())),
                    theme.input,
                )),
            ];
            if *checking {
                lines.push(Line::from("checking…"));
            } else if let Some(e) = error {
                lines.push(Line::from(Span::styled(e.as_str(), theme.error)));
            }
            lines.push(Line::from(Span::styled(
                "Enter check · Esc cancel",
                theme.key_hint,
            )));
            (" Supervisor ", lines)
        }
        Modal::SaleOptions => {
            let o = &m.sale.options;
            let choice = |c: Option<bool>| match c {
                None => "the lane's default",
                Some(true) => "yes",
                Some(false) => "no",
            };
            let row = |k: &str, what: &str, value: &str| {
                Line::from(vec![
                    Span::styled(format!(" {k} "), theme.key_hint),
                    Span::raw(format!(" {what:<24}")),
                    Span::styled(value.to_string(), theme.input),
                ])
            };
            let receipts = o.receipts.map_or("the lane's default", |r| r.name());
            let description = match &m.sale.description {
                Some(field) => field.shown(true),
                None => o
                    .description
                    .as_ref()
                    .map_or("none".to_string(), |d| d.as_str().to_string()),
            };
            (
                " At the terminal ",
                vec![
                    row("t", "customer adds a tip", choice(o.tip_on_terminal)),
                    row("s", "customer signs", choice(o.signature_on_terminal)),
                    row(
                        "c",
                        "confirm on the terminal",
                        choice(o.confirm_on_terminal),
                    ),
                    row("r", "receipts", receipts),
                    row("d", "description", &description),
                    Line::from(""),
                    Line::from(Span::styled("Enter or Esc: done", theme.key_hint)),
                ],
            )
        }
        Modal::Menu => {
            let mut lines: Vec<Line> = ScreenId::ALL
                .iter()
                .map(|s| {
                    Line::from(vec![
                        Span::styled(format!(" {} ", s.letter()), theme.key_hint),
                        Span::raw(format!(" {:<12} F{}", s.title(), s.f_key())),
                    ])
                })
                .collect();
            lines.push(Line::from(vec![
                Span::styled(" x ", theme.key_hint),
                Span::raw(" Quit"),
            ]));
            (" Go to ", lines)
        }
        Modal::Confirm { question, .. } => (
            " Confirm ",
            vec![
                Line::from(question.as_str()),
                Line::from(""),
                Line::from(Span::styled(
                    "y yes · n no · Enter and Esc are no too",
                    theme.key_hint,
                )),
            ],
        ),
        Modal::Override {
            order_no,
            approve,
            note,
        } => (
            " Supervisor override ",
            vec![
                Line::from(format!(
                    "Mark {order_no} {} without the terminal's word.",
                    if *approve { "APPROVED" } else { "DECLINED" }
                )),
                Line::from("A note is required (who checked what):"),
                Line::from(Span::styled(note.shown(true), theme.input)),
                Line::from(Span::styled("Enter save · Esc cancel", theme.key_hint)),
            ],
        ),
    };
    // Room for every line as wrapped (a word carried over may take a row more), so
    // the last line, the keys, always shows.
    const WIDTH: u16 = 60;
    let inner = usize::from(WIDTH - 2);
    let rows: usize = lines
        .iter()
        .map(|l| match l.width() {
            w if w <= inner => 1,
            w => w.div_ceil(inner) + 1,
        })
        .sum();
    let height = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(2);
    let rect = centered(area, WIDTH, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(
                theme
                    .block()
                    .borders(Borders::ALL)
                    .border_style(theme.focus)
                    .title(title),
            )
            .wrap(Wrap { trim: false }),
        rect,
    );
}

/// The screen shown, drawn from its form and the desk.
fn screen_body(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    match m.desk.screen {
        ScreenId::Sale => screens::sale::draw(frame, area, &m.sale, &m.desk, theme),
        ScreenId::Refund => screens::refund::draw(frame, area, &m.refund, &m.desk, theme),
        ScreenId::Void => screens::void::draw(frame, area, &m.void, &m.desk, theme),
        ScreenId::Tip => screens::tip::draw(frame, area, &m.tip, &m.desk, theme),
        ScreenId::Query => screens::query::draw(frame, area, &m.query, theme),
        ScreenId::Batch => screens::batch::draw(frame, area, &m.batch, &m.desk, theme),
        ScreenId::Journal => screens::journal::draw(frame, area, &m.journal, &m.desk, theme),
        ScreenId::Diagnostics => screens::diagnostics::draw(frame, area, &m.diag, &m.desk, theme),
        ScreenId::Settings => screens::settings::draw(frame, area, &m.settings, &m.desk, theme),
        ScreenId::Help => screens::help::draw(frame, area, screens::keys_of, theme),
    }
}

/// The keys of a screen as it is now (the Tip and Journal screens have two sets).
fn keys(m: &Model) -> &'static [screens::Key] {
    match m.desk.screen {
        ScreenId::Journal => screens::journal::keys(&m.journal),
        ScreenId::Settings => screens::settings::keys(&m.settings),
        ScreenId::Tip => screens::tip::keys(&m.tip),
        screen => screens::keys_of(screen),
    }
}
