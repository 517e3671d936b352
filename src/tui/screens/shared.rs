//! What the screens share: labels, the rows table, pick lists, key tables, a request
//! in one line.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Row, Table};

use crate::journal::{Aftermath, TxnRow};
use crate::lane::PayRequest;
use crate::mask;
use crate::tui::desk::Desk;
use crate::tui::field::TextField;
use crate::tui::theme::Theme;
use crossterm::event::KeyEvent;

/// A list of journal rows to pick one from (void, tip adjust), narrowed by what is
/// typed: the end of an order number, a card's last four, or an amount.
#[derive(Clone, Debug, Default)]
pub(crate) struct PickList {
    pub(crate) selected: usize,
    pub(crate) narrow: TextField,
    pub(crate) error: Option<String>,
    /// Just opened: the selection stays on the newest row until the journal's rows as
    /// of the opening come (then it follows its row).
    pub(crate) fresh: bool,
}

/// Typing narrows a pick list: digits and a point go to its find field, with the
/// field's editing keys; Esc clears what was typed. True when the key was for it.
pub(crate) fn narrow_key(pick: &mut PickList, key: KeyEvent) -> bool {
    use crossterm::event::{KeyCode, KeyModifiers};
    let for_field = match key.code {
        KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::CONTROL) => c != 'c',
        // The find takes what any search takes: digits, a point, dates, letters.
        KeyCode::Char(c) => !c.is_control(),
        KeyCode::Backspace | KeyCode::Delete => true,
        KeyCode::Esc => !pick.narrow.text.is_empty(),
        _ => false,
    };
    if !for_field {
        return false;
    }
    if key.code == KeyCode::Esc {
        pick.narrow.clear();
    } else {
        pick.narrow.edit(key);
    }
    pick.selected = 0;
    pick.error = None;
    true
}

/// The order of the row at `i`, to find it again once the rows change.
pub(crate) fn order_at(rows: &[&TxnRow], i: Option<usize>) -> Option<String> {
    i.and_then(|i| rows.get(i)).map(|r| r.order_no.clone())
}

/// Where the row of order `kept` is now.
pub(crate) fn find_order(rows: &[&TxnRow], kept: Option<&str>) -> Option<usize> {
    rows.iter().position(|r| Some(r.order_no.as_str()) == kept)
}

/// A list's selection once its rows changed (`len` now, the row it was on now `at`): a
/// list just opened shows its newest row; one the cashier looks at keeps its row.
pub(crate) fn follow(selected: &mut usize, fresh: bool, len: usize, at: Option<usize>) {
    if fresh {
        *selected = 0;
    } else if let Some(i) = at {
        *selected = i;
    }
    *selected = (*selected).min(len.saturating_sub(1));
}

/// The find line above a pick list.
pub(crate) fn narrow_line(pick: &PickList, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(" find: ", theme.muted),
        Span::styled(pick.narrow.shown(true), theme.input),
        Span::styled(
            "  (order's end, last four, 12.34, auth code, date)",
            theme.muted,
        ),
    ])
}

/// ↑/↓ in the list of candidates under an order number field: ↓ from the field enters
/// the list, ↑ from its first row goes back to the field. True when the key was for it.
pub(crate) fn pick_key(
    picked: &mut Option<usize>,
    len: usize,
    code: crossterm::event::KeyCode,
) -> bool {
    use crossterm::event::KeyCode;
    match (code, *picked) {
        (KeyCode::Down, None) if len > 0 => *picked = Some(0),
        (KeyCode::Down, Some(i)) => *picked = Some((i + 1).min(len.saturating_sub(1))),
        (KeyCode::Up, Some(0)) => *picked = None,
        (KeyCode::Up, Some(i)) => *picked = Some(i - 1),
        _ => return false,
    }
    true
}

/// The candidate an order number field means: the one picked, else the only one left
/// once something is typed.
pub(crate) fn chosen<'a>(
    rows: &'a [TxnRow],
    picked: Option<usize>,
    typed: &str,
) -> Option<&'a TxnRow> {
    match picked {
        Some(i) => rows.get(i),
        None if !typed.trim().is_empty() && rows.len() == 1 => rows.first(),
        None => None,
    }
}

/// The candidates under an order number field, with a title saying what they are.
pub(crate) fn candidates(
    frame: &mut Frame,
    area: Rect,
    d: &Desk,
    (rows, picked): (&[TxnRow], Option<usize>),
    title: &str,
    theme: &Theme,
) {
    use ratatui::widgets::{Borders, Paragraph};
    let block = theme
        .block()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(format!(" {title} "), theme.muted));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        frame.render_widget(Paragraph::new(" none match"), inner);
        return;
    }
    let rows: Vec<&TxnRow> = rows.iter().collect();
    frame.render_widget(rows_table(d, &rows, picked, theme, inner), inner);
}

/// One line of a key table: the keys, and what they do.
pub(crate) struct Key {
    pub(crate) keys: &'static str,
    pub(crate) does: &'static str,
}

/// A key table in one line, for the footer and the help screen.
pub(crate) fn key_line(keys: &[Key]) -> String {
    keys.iter()
        .map(|k| match k.does {
            "" => k.keys.to_string(),
            does => format!("{} {does}", k.keys),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A key line in lines of at most `width` columns, broken between its keys (a line
/// break stands for the " · " between two); a key longer than that has a line of its own.
pub(crate) fn wrap_keys(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for key in text.split(" · ") {
        let longer = format!("{line} · {key}");
        if line.is_empty() {
            line = key.to_string();
        } else if Span::raw(longer.as_str()).width() > width {
            lines.push(std::mem::replace(&mut line, key.to_string()));
        } else {
            line = longer;
        }
    }
    lines.push(line);
    lines
}

/// A time the journal wrote (UTC, RFC 3339) in the register's local time, as `format`
/// says; as stored when it cannot be read.
pub(crate) fn local_time(d: &Desk, rfc3339: &str, format: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&d.utc_offset).format(format).to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// A round trip in the unit that reads best.
pub(crate) fn rtt_text(us: u64) -> String {
    if us < 1000 {
        format!("{us}µs")
    } else {
        format!("{:.1}ms", us as f64 / 1000.0)
    }
}

/// One line saying what a request is, for the overlay.
pub(crate) fn request_line(req: &PayRequest, d: &Desk) -> String {
    let cur = &d.currency;
    match req {
        PayRequest::Sale {
            amount,
            tip,
            cashback,
            ..
        } => {
            let mut s = format!("SALE {} {cur}", amount.grouped());
            if let Some(t) = tip {
                s.push_str(&format!(" + tip {}", t.grouped()));
            }
            if let Some(c) = cashback {
                s.push_str(&format!(" + cash-back {}", c.grouped()));
            }
            s
        }
        PayRequest::Refund { amount, orig, .. } => match orig {
            Some(o) => format!("REFUND {} {cur} of {o}", amount.grouped()),
            None => format!("REFUND {} {cur} (card present)", amount.grouped()),
        },
        PayRequest::Void { orig, .. } => format!("VOID {orig}"),
        PayRequest::PreAuth { amount } => format!("PRE-AUTH {} {cur}", amount.grouped()),
        PayRequest::FollowUp {
            trans_type,
            orig,
            amount,
        } => format!(
            "{} {} of {orig}",
            trans_type.name().to_uppercase(),
            amount.map(|a| a.grouped()).unwrap_or_default()
        ),
        PayRequest::TipAdjust { orig, tip } => format!("TIP {} {cur} on {orig}", tip.grouped()),
        PayRequest::BatchClose => "BATCH CLOSE".into(),
    }
}

pub(crate) fn label(text: &str, focused: bool, theme: &Theme) -> Span<'static> {
    let style = if focused { theme.focus } else { theme.text };
    Span::styled(format!(" {text:<12}"), style)
}

pub(crate) fn error_line(error: &Option<String>, theme: &Theme) -> Line<'static> {
    match error {
        Some(e) => Line::from(Span::styled(format!(" ! {e}"), theme.error)),
        None => Line::from(""),
    }
}

/// A row as a confirmation names it: what, how much, the card's last four and the
/// whole order number, so the cashier answers about exactly what the request carries.
pub(crate) fn act_words(r: &TxnRow, currency: &str) -> String {
    let card = r
        .reply
        .card
        .as_deref()
        .map(|c| format!(", card …{}", mask::last_four(c)))
        .unwrap_or_default();
    format!(
        "{} {} {currency}{card}, order {}",
        r.kind.name(),
        r.amount.grouped(),
        r.order_no
    )
}

pub(crate) fn row_summary(r: &TxnRow) -> String {
    format!(
        "{} {} {} {} {}",
        r.order_no,
        r.kind.name(),
        r.amount.grouped(),
        r.reply.brand.as_deref().unwrap_or(""),
        r.reply.card.as_deref().unwrap_or("")
    )
}

/// Rows in a table, the selected one highlighted and kept in view. The last column says
/// what happened to a row since (refunded 5.00, voided…). Every column is as wide as
/// what it holds, so an amount is never cut; below 100 columns the order number leaves
/// out the journal's identity and the brand is left to the detail view, and where even
/// that does not fit the time goes, then the order keeps its lane and sequence (what
/// the cashier types to find it).
// Long on purpose: one column per field of a row, side by side.
pub(crate) fn rows_table<'a>(
    d: &Desk,
    rows: &[&'a TxnRow],
    selected: Option<usize>,
    theme: &Theme,
    area: Rect,
) -> Table<'a> {
    let visible = usize::from(area.height.saturating_sub(1)).max(1);
    let first = selected.map_or(0, |s| s.saturating_sub(visible - 1));
    let wide = area.width >= 100;
    let shown: Vec<(usize, &&TxnRow)> = rows.iter().enumerate().skip(first).take(visible).collect();
    let cells_of = |r: &TxnRow, order: &dyn Fn(&str) -> String| {
        let mut cells = vec![
            local_time(d, &r.created_at, "%H:%M"),
            order(&r.order_no),
            r.kind.name().to_string(),
            r.state.name().to_string(),
            r.amount.grouped(),
            d.effective_tip(r).map(|t| t.grouped()).unwrap_or_default(),
        ];
        if wide {
            cells.push(r.reply.brand.clone().unwrap_or_default());
        }
        cells.push(mask::last_four(r.reply.card.as_deref().unwrap_or("")));
        cells
    };
    let mut header = vec!["time", "order", "kind", "state", "amount", "tip"];
    if wide {
        header.push("brand");
    }
    header.push("card");
    let widths_of = |order: &dyn Fn(&str) -> String| -> Vec<usize> {
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for (_, r) in &shown {
            for (w, cell) in widths.iter_mut().zip(cells_of(r, order)) {
                *w = (*w).max(Span::raw(cell).width());
            }
        }
        widths
    };
    let fits = |widths: &[usize], skip_time: bool| {
        let used: usize = widths.iter().skip(usize::from(skip_time)).sum();
        let gaps = widths.len() - usize::from(skip_time);
        // Room for the "since" column's first few letters too.
        used + gaps + 6 <= usize::from(area.width)
    };
    let full = |o: &str| o.to_string();
    let lane_seq = |o: &str| lane_and_sequence(o);
    let order: &dyn Fn(&str) -> String = if wide { &full } else { &short_order };
    let mut widths = widths_of(order);
    let mut skip_time = false;
    let mut order = order;
    if !fits(&widths, false) {
        skip_time = true;
        if !fits(&widths, true) {
            order = &lane_seq;
            widths = widths_of(order);
        }
    }
    let skip = usize::from(skip_time);
    let body: Vec<Row> = shown
        .iter()
        .map(|(i, r)| {
            let style = if Some(*i) == selected {
                theme.selected
            } else {
                Style::default()
            };
            let mut cells: Vec<String> = cells_of(r, order).into_iter().skip(skip).collect();
            cells.push(since_text(d, &r.order_no, wide).unwrap_or_default());
            Row::new(cells).style(style)
        })
        .collect();
    let mut constraints: Vec<Constraint> = widths
        .iter()
        .skip(skip)
        .map(|w| Constraint::Length(u16::try_from(*w).unwrap_or(u16::MAX)))
        .collect();
    constraints.push(Constraint::Min(0));
    let mut header: Vec<&str> = header.into_iter().skip(skip).collect();
    header.push("since");
    Table::new(body, constraints).header(Row::new(header).style(theme.title))
}

/// An order number as its lane and sequence (`L01-000042`): what is left of it where
/// nothing more fits.
pub(crate) fn lane_and_sequence(order_no: &str) -> String {
    let parts: Vec<&str> = order_no.split('-').collect();
    match (parts.first(), parts.last()) {
        (Some(lane), Some(seq)) if parts.len() > 2 => format!("{lane}-{seq}"),
        _ => order_no.to_string(),
    }
}

/// An order number without the journal's identity (`L01-1125-000042`): what tells it
/// from the store's other orders on a narrow screen.
pub(crate) fn short_order(order_no: &str) -> String {
    let parts: Vec<&str> = order_no.split('-').collect();
    match parts.as_slice() {
        [lane, _identity, day, seq] => format!("{lane}-{day}-{seq}"),
        _ => order_no.to_string(),
    }
}

/// What happened to a row since it was made ("refunded 5.00, voided"), in full or in
/// the few columns an 80-column table leaves; `None` when nothing did.
pub(crate) fn since_text(d: &Desk, order_no: &str, full: bool) -> Option<String> {
    let since = d.data.journal.since.get(order_no)?;
    let words: Vec<String> = since
        .iter()
        .map(|a| if full { a.to_string() } else { since_short(a) })
        .collect();
    Some(words.join(if full { ", " } else { "," }))
}

/// What happened to a row since, in the few columns an 80-column table leaves.
fn since_short(a: &Aftermath) -> String {
    match a {
        Aftermath::Refunded(m) => format!("rf {}", m.grouped()),
        Aftermath::Voided => "voided".into(),
        Aftermath::TipAdjusted(m) => format!("tip {}", m.grouped()),
        Aftermath::Completed(m) => format!("done {}", m.grouped()),
        Aftermath::Unresolved(..) => "unres.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::wrap_keys;

    #[test]
    fn keys_wrap_between_keys_and_a_long_one_stands_alone() {
        assert_eq!(
            wrap_keys("↑/↓ frame · i console · Enter send", 22),
            ["↑/↓ frame · i console", "Enter send"]
        );
        assert_eq!(
            wrap_keys("a · a very long key · b", 5),
            ["a", "a very long key", "b"]
        );
        assert_eq!(wrap_keys("", 5), [""]);
    }
}
