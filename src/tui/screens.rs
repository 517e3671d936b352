//! The body of each screen. Pure views over the model.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Bar, BarChart, BarGroup, Block, Borders, Paragraph, Row, Sparkline, Table, Wrap,
};

use super::model::*;
use super::theme::Theme;
use super::view::{rtt_text, screen_keys};
use crate::ecr::PayScenario;
use crate::journal::{AuditRow, BatchReport, LineKind, TxnKind, TxnRow};
use crate::lane::PayRequest;
use crate::link::Direction;
use crate::money::format_minor;

pub fn body(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    match m.screen {
        ScreenId::Sale => sale(frame, area, m, theme),
        ScreenId::Refund => refund(frame, area, m, theme),
        ScreenId::Void => void(frame, area, m, theme),
        ScreenId::Tip => tip(frame, area, m, theme),
        ScreenId::Query => query(frame, area, m, theme),
        ScreenId::Batch => batch(frame, area, m, theme),
        ScreenId::Journal => journal(frame, area, m, theme),
        ScreenId::Diagnostics => diagnostics(frame, area, m, theme),
        ScreenId::Settings => settings(frame, area, m, theme),
        ScreenId::Help => help(frame, area, theme),
    }
}

/// One line saying what a request is, for the overlay.
pub fn request_line(req: &PayRequest, m: &Model) -> String {
    let cur = &m.currency;
    match req {
        PayRequest::Sale {
            amount,
            tip,
            cashback,
            ..
        } => {
            let mut s = format!("SALE {amount} {cur}");
            if let Some(t) = tip {
                s.push_str(&format!(" + tip {t}"));
            }
            if let Some(c) = cashback {
                s.push_str(&format!(" + cash-back {c}"));
            }
            s
        }
        PayRequest::Refund { amount, orig, .. } => match orig {
            Some(o) => format!("REFUND {amount} {cur} of {o}"),
            None => format!("REFUND {amount} {cur} (card present)"),
        },
        PayRequest::Void { orig, .. } => format!("VOID {orig}"),
        PayRequest::PreAuth { amount } => format!("PRE-AUTH {amount} {cur}"),
        PayRequest::FollowUp {
            trans_type,
            orig,
            amount,
        } => format!(
            "{} {} of {orig}",
            trans_type.name().to_uppercase(),
            amount.map(|a| a.to_string()).unwrap_or_default()
        ),
        PayRequest::TipAdjust { orig, tip } => format!("TIP {tip} {cur} on {orig}"),
        PayRequest::BatchClose => "BATCH CLOSE".into(),
    }
}

fn label(text: &str, focused: bool, theme: &Theme) -> Span<'static> {
    let style = if focused { theme.focus } else { theme.text };
    Span::styled(format!(" {text:<12}"), style)
}

fn error_line(error: &Option<String>, theme: &Theme) -> Line<'static> {
    match error {
        Some(e) => Line::from(Span::styled(format!(" ! {e}"), theme.error)),
        None => Line::from(""),
    }
}

fn scenario_name(s: PayScenario) -> &'static str {
    match s {
        PayScenario::Card => "Card",
        PayScenario::CustomerScansQr => "Customer scans QR",
        PayScenario::MerchantScansQr => "Merchant scans QR",
    }
}

fn sale(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let f = &m.sale;
    let exp = m.exponent;
    let mut lines = vec![Line::from("")];
    for field in f.fields() {
        let focused = f.focus == field;
        let (name, value, style) = match field {
            SaleField::Amount => (
                "Amount",
                format!("{} {}", f.amount.display(exp), m.currency),
                theme.amount,
            ),
            SaleField::Tip => ("Tip", f.tip.display(exp), theme.text),
            SaleField::Cashback => ("Cash-back", f.cashback.display(exp), theme.text),
            SaleField::Scenario => (
                "Pay by",
                format!("< {} >", scenario_name(f.scenario)),
                theme.text,
            ),
            SaleField::Kind => ("Type", format!("< {} >", f.kind.label()), theme.text),
            SaleField::Orig => ("Pre-auth no", format!("{}_", f.orig.text), theme.input),
        };
        lines.push(Line::from(vec![
            label(name, focused, theme),
            Span::raw(" "),
            Span::styled(value, style),
        ]));
        if field == SaleField::Amount {
            lines.push(error_line(&f.error, theme));
        }
    }
    if f.kind == SaleKind::Sale {
        let total = f.amount.minor() + f.tip.minor() + f.cashback.minor();
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled(" Total        ", theme.muted),
            Span::styled(
                format!("{} {}", format_minor(total, exp), m.currency),
                theme.amount,
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn row_summary(r: &TxnRow) -> String {
    format!(
        "{} {} {} {} {}",
        r.order_no,
        r.kind.name(),
        r.amount,
        r.brand.as_deref().unwrap_or(""),
        r.card.as_deref().unwrap_or("")
    )
}

fn refund(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let f = &m.refund;
    let mut lines = vec![
        Line::from(""),
        Line::from(vec![
            label("Original", f.focus == RefundField::Orig, theme),
            Span::styled(format!(" {}_", f.orig.text), theme.input),
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
                    format!("   refundable: {left} {}", m.currency),
                    theme.muted,
                )));
            }
        }
        None => lines.push(Line::from("")),
    }
    lines.push(Line::from(vec![
        label("Amount", f.focus == RefundField::Amount, theme),
        Span::styled(
            format!(" {} {}", f.amount.display(m.exponent), m.currency),
            theme.amount,
        ),
    ]));
    lines.push(error_line(&f.error, theme));
    frame.render_widget(Paragraph::new(lines), area);
}

fn rows_table<'a>(
    m: &Model,
    rows: &[&'a TxnRow],
    selected: Option<usize>,
    theme: &Theme,
    height: u16,
) -> Table<'a> {
    let visible = usize::from(height.saturating_sub(1)).max(1);
    let first = selected.map_or(0, |s| s.saturating_sub(visible - 1));
    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, r)| {
            let style = if Some(i) == selected {
                theme.selected
            } else {
                Style::default()
            };
            Row::new(vec![
                r.created_at.get(11..16).unwrap_or("").to_string(),
                r.order_no.clone(),
                r.kind.name().to_string(),
                r.state.name().to_string(),
                r.amount.to_string(),
                m.effective_tip(r)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                r.brand.clone().unwrap_or_default(),
                r.card
                    .as_deref()
                    .map(|c| {
                        c.chars()
                            .rev()
                            .take(4)
                            .collect::<String>()
                            .chars()
                            .rev()
                            .collect()
                    })
                    .unwrap_or_default(),
            ])
            .style(style)
        })
        .collect();
    Table::new(
        body,
        [
            Constraint::Length(5),
            // A whole order number: lane, journal identity, day, sequence.
            Constraint::Length(21),
            Constraint::Length(11),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(4),
        ],
    )
    .header(
        Row::new(vec![
            "time", "order", "kind", "state", "amount", "tip", "brand", "card",
        ])
        .style(theme.title),
    )
}

fn void(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let [list, err] = Layout::vertical([Constraint::Min(2), Constraint::Length(1)]).areas(area);
    let rows = m.voidable();
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(" Nothing in the open batch can be voided."),
            list,
        );
    } else {
        frame.render_widget(
            rows_table(m, &rows, Some(m.void.selected), theme, list.height),
            list,
        );
    }
    frame.render_widget(Paragraph::new(error_line(&m.void.error, theme)), err);
}

fn tip(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let [list, entry, err] = Layout::vertical([
        Constraint::Min(2),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let rows = m.tippable();
    if rows.is_empty() {
        frame.render_widget(Paragraph::new(" No approved sale in the open batch."), list);
    } else {
        frame.render_widget(
            rows_table(m, &rows, Some(m.tip.pick.selected), theme, list.height),
            list,
        );
    }
    if m.tip.editing {
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                label("New tip", true, theme),
                Span::styled(
                    format!(" {} {}", m.tip.tip.display(m.exponent), m.currency),
                    theme.amount,
                ),
            ])),
            entry,
        );
    }
    frame.render_widget(Paragraph::new(error_line(&m.tip.pick.error, theme)), err);
}

fn query(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let q = &m.query;
    let [input, result] = Layout::vertical([Constraint::Length(3), Constraint::Min(3)]).areas(area);
    let mut top = vec![Line::from(vec![
        label("Order", true, theme),
        Span::styled(format!(" {}_", q.order.text), theme.input),
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
            terminal.push(Line::from(format!(
                "{} {}",
                reply.response_code.as_deref().unwrap_or("-"),
                reply.message()
            )));
            if let Some(s) = &reply.biz.trans_status {
                terminal.push(Line::from(format!(
                    "status {s} ({})",
                    crate::ecr::TransStatus::from_wire(s).describe()
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
                    terminal.push(Line::from(format!("{k}: {v}")));
                }
            }
        }
        None => terminal.push(Line::from(format!(
            "no answer: {}",
            r.answer.as_ref().map(|a| a.why.as_str()).unwrap_or("-")
        ))),
    }
    let journal = match &r.row {
        Some(row) => vec![
            Line::from(format!(
                "{} {}",
                row.state.name().to_uppercase(),
                row.kind.name()
            )),
            Line::from(format!("amount: {} {}", row.amount, row.currency)),
            Line::from(format!("brand: {}", row.brand.as_deref().unwrap_or("-"))),
            Line::from(format!("card: {}", row.card.as_deref().unwrap_or("-"))),
            Line::from(format!("auth: {}", row.auth_code.as_deref().unwrap_or("-"))),
            Line::from(format!("batch: {}", row.batch)),
        ],
        None => vec![Line::from("no row for this order")],
    };
    let boxed = |title: &'static str| {
        Block::default()
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

fn report_lines(report: &BatchReport, m: &Model, theme: &Theme) -> Vec<Line<'static>> {
    report
        .lines(m.exponent, &m.currency)
        .into_iter()
        .map(|(kind, text)| match kind {
            LineKind::Heading => Line::from(Span::styled(text, theme.title)),
            LineKind::Row => Line::from(text),
            LineKind::Net => Line::from(Span::styled(text, theme.amount)),
        })
        .collect()
}

/// Approved sales per hour of day, for the bar chart.
fn sales_per_hour(rows: &[TxnRow]) -> Vec<(String, u64)> {
    use crate::ecr::TransType as T;
    let mut hours = [0u64; 24];
    for r in rows
        .iter()
        .filter(|r| r.state == crate::journal::TxnState::Approved)
    {
        if matches!(
            r.kind,
            TxnKind::Trans(T::Sale | T::CashbackSale | T::Completion)
        ) && let Some(h) = r
            .created_at
            .get(11..13)
            .and_then(|h| h.parse::<usize>().ok())
        {
            hours[h.min(23)] += u64::try_from(r.amount.minor()).unwrap_or(0);
        }
    }
    let first = hours.iter().position(|v| *v > 0).unwrap_or(0);
    let last = hours.iter().rposition(|v| *v > 0).unwrap_or(0);
    (first..=last)
        .map(|h| (format!("{h:02}"), hours[h]))
        .collect()
}

fn batch(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let (title, rows, report) = match (m.batch.viewing, &m.data.viewed) {
        (Some(i), Some((rows, report))) => {
            let closed = m
                .data
                .batches
                .iter()
                .filter(|b| b.closed_at.is_some())
                .nth(i);
            let when = closed.and_then(|b| b.closed_at.clone()).unwrap_or_default();
            (
                format!(" Batch {} (closed {when}) ", report.batch),
                rows.as_slice(),
                Some(report),
            )
        }
        _ => (
            " Open batch ".to_string(),
            m.data.open_rows.as_slice(),
            m.data.open_report.as_ref(),
        ),
    };
    let [top, chart, msg] = Layout::vertical([
        Constraint::Min(6),
        Constraint::Length(6),
        Constraint::Length(1),
    ])
    .areas(area);
    let lines = report
        .map(|r| report_lines(r, m, theme))
        .unwrap_or_else(|| vec![Line::from(" no data")]);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border)
                .title(title),
        ),
        top,
    );
    let bars: Vec<Bar> = sales_per_hour(rows)
        .into_iter()
        .map(|(h, v)| {
            Bar::default()
                .label(Line::from(h))
                .value(v)
                .text_value(String::new())
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .block(
                Block::default()
                    .title(" sales per hour ")
                    .borders(Borders::TOP)
                    .border_style(theme.border),
            )
            .data(BarGroup::default().bars(&bars))
            .bar_width(2)
            .bar_gap(1)
            .bar_style(theme.chart),
        chart,
    );
    if let Some(text) = &m.batch.last_close {
        frame.render_widget(
            Paragraph::new(Span::styled(text.as_str(), theme.warning)),
            msg,
        );
    }
}

fn journal(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let [filter, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(2)]).areas(area);
    let filter_style = if m.journal.filtering {
        theme.focus
    } else {
        theme.muted
    };
    frame.render_widget(
        Paragraph::new(Span::styled(
            format!(
                " filter: {}{}",
                m.journal.filter.text,
                if m.journal.filtering { "_" } else { "" }
            ),
            filter_style,
        )),
        filter,
    );
    let rows = m.journal_rows();
    if m.journal.detail
        && let Some(row) = rows.get(m.journal.selected)
    {
        return detail(frame, list, row, &m.journal.audit, theme);
    }
    if rows.is_empty() {
        frame.render_widget(Paragraph::new(" No transactions yet."), list);
    } else {
        frame.render_widget(
            rows_table(m, &rows, Some(m.journal.selected), theme, list.height),
            list,
        );
    }
}

fn detail(frame: &mut Frame, area: Rect, row: &TxnRow, audit: &[AuditRow], theme: &Theme) {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let pairs = [
        ("order", row.order_no.clone()),
        ("state", row.state.name().to_string()),
        ("kind", row.kind.name().to_string()),
        ("amount", format!("{} {}", row.amount, row.currency)),
        (
            "tip",
            row.tip.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
        ),
        (
            "cash-back",
            row.cashback
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
        ),
        ("original", opt(&row.orig_order_no)),
        ("brand", opt(&row.brand)),
        ("card", opt(&row.card)),
        ("auth code", opt(&row.auth_code)),
        ("ref no", opt(&row.ref_no)),
        ("trans no", opt(&row.trans_no)),
        (
            "terminal",
            format!("{} {}", opt(&row.response_code), opt(&row.response_msg)),
        ),
        ("lane / batch", format!("{} / {}", row.lane, row.batch)),
        ("created", row.created_at.clone()),
        ("updated", row.updated_at.clone()),
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
                Span::styled(format!("{} ", a.at.get(11..19).unwrap_or("")), theme.muted),
                Span::raw(format!("{} ", a.to)),
                Span::styled(format!("{} ({})", a.why, a.who), theme.muted),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(trail_lines)
            .block(
                Block::default()
                    .borders(Borders::LEFT)
                    .border_style(theme.border)
                    .title(" history "),
            )
            .wrap(Wrap { trim: false }),
        trail,
    );
}

/// One line of the wire log: direction, topic and what it said, not the raw JSON.
fn wire_summary(w: &WireLine) -> String {
    let arrow = if w.dir == Direction::In { "<-" } else { "->" };
    let summary = serde_json::from_str::<serde_json::Value>(&w.text)
        .ok()
        .map(|v| {
            let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
            let topic = field("topic").trim_start_matches("ecrhub.");
            let order = v
                .get("biz_data")
                .and_then(|b| b.get("merchant_order_no"))
                .and_then(|o| o.as_str())
                .unwrap_or("");
            format!(
                "{topic} {} {} {order}",
                field("response_code"),
                field("response_msg")
            )
        })
        .unwrap_or_else(|| format!("(not JSON) {}", w.text));
    format!("{} {arrow} {summary}", w.at.format("%H:%M:%S"))
}

fn diagnostics(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let [info, log, console] = Layout::vertical([
        Constraint::Length(6),
        Constraint::Min(4),
        Constraint::Length(2),
    ])
    .areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(info);
    let d = &m.link.device;
    let rtts = &m.link.rtts_us;
    let rtt = |v: Option<&u64>| v.map(|v| rtt_text(*v)).unwrap_or_else(|| "-".into());
    let key = |k: &str| Span::styled(format!(" {k:<11}"), theme.muted);
    let lines = vec![
        Line::from(vec![key("link"), Span::raw(m.link.state.clone())]),
        Line::from(vec![key("address"), Span::raw(m.link.address.clone())]),
        Line::from(vec![
            key("device"),
            Span::raw(format!(
                "{} {} v{}",
                d.device_model.as_deref().unwrap_or("-"),
                d.device_sn.as_deref().unwrap_or("-"),
                d.cashier_version.as_deref().unwrap_or("-")
            )),
        ]),
        Line::from(vec![
            key("rtt"),
            Span::raw(format!(
                "last {} min {} max {}",
                rtt(rtts.back()),
                rtt(rtts.iter().min()),
                rtt(rtts.iter().max())
            )),
        ]),
        Line::from(vec![
            key("reconnects"),
            Span::raw(m.link.reconnects.to_string()),
        ]),
    ];
    frame.render_widget(Paragraph::new(lines), left);
    let [spark, history] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(right);
    let samples: Vec<u64> = rtts.iter().copied().collect();
    let tail = &samples[samples.len().saturating_sub(usize::from(spark.width))..];
    frame.render_widget(
        Sparkline::default()
            .data(tail)
            .style(theme.chart)
            .block(Block::default().title(" heartbeat round trip ")),
        spark,
    );
    let hist: Vec<Line> = m
        .link
        .history
        .iter()
        .rev()
        .take(usize::from(history.height))
        .map(|h| Line::from(Span::styled(h.clone(), theme.muted)))
        .collect();
    frame.render_widget(Paragraph::new(hist), history);

    let [list, pretty] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(log);
    let visible = usize::from(list.height.saturating_sub(1)).max(1);
    let newest_first: Vec<&WireLine> = m.wire.iter().rev().collect();
    let first = m.diag.selected.saturating_sub(visible - 1);
    let lines: Vec<Line> = newest_first
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, w)| {
            let style = if i == m.diag.selected {
                theme.selected
            } else {
                theme.text
            };
            Line::from(Span::styled(wire_summary(w), style))
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::TOP)
                .border_style(theme.border)
                .title(" wire log, newest first (masked) "),
        ),
        list,
    );
    let selected = newest_first
        .get(m.diag.selected)
        .map(|w| {
            serde_json::from_str::<serde_json::Value>(&w.text)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| w.text.clone())
        })
        .unwrap_or_default();
    frame.render_widget(
        Paragraph::new(selected)
            .block(
                Block::default()
                    .borders(Borders::TOP | Borders::LEFT)
                    .border_style(theme.border)
                    .title(" frame "),
            )
            .wrap(Wrap { trim: false }),
        pretty,
    );
    let focused = m.diag.focus == DiagFocus::Console;
    let mut console_lines = vec![Line::from(vec![
        Span::styled(" send> ", if focused { theme.focus } else { theme.muted }),
        Span::styled(
            format!("{}{}", m.diag.console.text, if focused { "_" } else { "" }),
            theme.input,
        ),
    ])];
    if let Some(r) = &m.diag.console_result {
        console_lines.push(Line::from(Span::styled(format!(" {r}"), theme.muted)));
    }
    frame.render_widget(Paragraph::new(console_lines), console);
}

fn settings(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    let s = &m.settings;
    let mut lines = vec![Line::from("")];
    for (i, (name, field)) in s.fields.iter().enumerate() {
        let focused = i == s.focus;
        let value = if name == "app_id" && !focused {
            crate::mask::mask_app_id(&field.text)
        } else {
            field.text.clone()
        };
        lines.push(Line::from(vec![
            label(name, focused, theme),
            Span::styled(
                format!(" {value}{}", if focused { "_" } else { "" }),
                theme.input,
            ),
        ]));
    }
    lines.push(Line::from(""));
    if let Some(msg) = &s.message {
        lines.push(Line::from(Span::styled(format!(" {msg}"), theme.warning)));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn help(frame: &mut Frame, area: Rect, theme: &Theme) {
    let mut lines = vec![Line::from(Span::styled(
        " Screens: F1-F10, or Esc then the letter (for SSH clients without F-keys)",
        theme.title,
    ))];
    for s in ScreenId::ALL {
        lines.push(Line::from(vec![
            Span::styled(
                format!(" F{:<2} {} ", s.f_key(), s.letter()),
                theme.key_hint,
            ),
            Span::styled(format!("{:<12}", s.title()), theme.text),
            Span::styled(screen_keys(s, false), theme.muted),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        " Ctrl-C quit (asks first while a payment is in flight) · Esc on the waiting screen asks the terminal to cancel",
        theme.muted,
    )));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}
