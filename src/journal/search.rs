//! One search over the whole journal and its yearly archives, newest first, paged by
//! row id. Free text is read term by term (see `Term`); terms combine with AND, the
//! readings of one ambiguous term with OR. Every reading is an equality on an indexed
//! column (schema v3), so a search costs the rows it finds, not the journal's size.

use chrono::{NaiveDate, NaiveTime};
use rusqlite::Connection;
use rusqlite::types::Value;

use super::{COLUMNS, Journal, JournalError, TxnKind, TxnRow, TxnState, raw_row};
use crate::mask;
use crate::money::Money;

#[derive(Clone, Debug, Default)]
pub struct Search {
    /// Free text, may be empty: order numbers or their tails, last fours, amounts,
    /// auth codes, dates and date ranges, separated by spaces.
    pub text: String,
    pub kind: Option<TxnKind>,
    pub state: Option<TxnState>,
    pub lane: Option<String>,
    /// Inclusive local dates, in the zone `utc_offset_secs` east of UTC.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub utc_offset_secs: i32,
    /// The exponent of the currency amounts in `text` are read in.
    pub exponent: u8,
    /// Only rows with an id below this: `Page::next` of the page before.
    pub before: Option<i64>,
    pub limit: usize,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    pub rows: Vec<TxnRow>,
    /// The cursor for the next, older page; None when this one is the last.
    pub next: Option<i64>,
}

/// One term of the free text, as it is understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    /// `2026-11-25` or `2026-11-01..2026-11-25`, inclusive local dates.
    Dates(NaiveDate, NaiveDate),
    /// `12.34`: the amount that moved, in minor units.
    Amount(i64),
    /// Digits only: an order number's sequence, a card's last four (four digits) or an
    /// auth code, whichever matches.
    Digits(String),
    /// With a dash: a whole order number or its end, `1125-000042`.
    Order(String),
    /// Letters and digits: an auth code.
    Word(String),
    /// A kind by name (`refund`, `pre-auth`).
    Kind(TxnKind),
    /// A state by name (`approved`, `unknown`).
    State(TxnState),
    /// What happened to a row since, as the lists say it (`voided`, `refunded`,
    /// `completed`): the kinds of approved follow-up that did it.
    Since(&'static [&'static str]),
}

const HOW: &str = "search for an order number or its last digits (000042), a card's last four, \
    an amount (12.34), an auth code, a date (2026-11-25) or a range (2026-11-01..2026-11-25), \
    a kind or a state (refund, approved) or what happened since (voided, refunded, completed)";

/// The words for what happened to a row since, and the follow-ups that say it.
const SINCE: [(&str, &[&str]); 3] = [
    ("voided", &["void", "completion-cancel", "pre-auth-cancel"]),
    ("refunded", &["refund", "completion-refund"]),
    ("completed", &["completion"]),
];

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

pub fn parse_term(word: &str, exponent: u8) -> Result<Term, JournalError> {
    let bad = || JournalError::Invalid(format!("'{word}' is not understood: {HOW}"));
    if let Some((a, b)) = word.split_once("..") {
        let (a, b) = (
            parse_date(a).ok_or_else(bad)?,
            parse_date(b).ok_or_else(bad)?,
        );
        return Ok(Term::Dates(a.min(b), a.max(b)));
    }
    let date_shaped = word.len() == 10
        && word.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    if date_shaped {
        return parse_date(word)
            .map(|day| Term::Dates(day, day))
            .ok_or_else(|| JournalError::Invalid(format!("'{word}' is not a date (YYYY-MM-DD)")));
    }
    let lower = word.to_ascii_lowercase();
    if let Some(kind) = TxnKind::from_name(&lower) {
        return Ok(Term::Kind(kind));
    }
    if let Some(state) = TxnState::from_name(&lower) {
        return Ok(Term::State(state));
    }
    if let Some((_, kinds)) = SINCE.iter().find(|(w, _)| *w == lower) {
        return Ok(Term::Since(kinds));
    }
    if word.contains('.') {
        return Money::parse(word, exponent)
            .map(|m| Term::Amount(m.minor()))
            .map_err(|_| bad());
    }
    if word.chars().all(|c| c.is_ascii_digit()) {
        return Ok(Term::Digits(word.to_string()));
    }
    let order_like = word.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if order_like && word.contains('-') && word.len() <= super::ORDER_NO_MAX {
        return Ok(Term::Order(word.to_ascii_uppercase()));
    }
    if word.chars().all(|c| c.is_ascii_alphanumeric()) && word.len() <= 16 {
        return Ok(Term::Word(word.to_string()));
    }
    Err(bad())
}

/// Whether `row` answers every term of `text` as a journal search reads them, for a
/// list already in memory (the Void and Tip screens' narrowing); `since` is what
/// happened to it since. A term that reads no way is an error saying what is
/// understood, as for a search.
pub fn row_matches(
    row: &TxnRow,
    since: &[super::Aftermath],
    text: &str,
    exponent: u8,
    utc_offset_secs: i32,
) -> Result<bool, JournalError> {
    use super::Aftermath as A;
    let tail = |order: &str| order.rsplit('-').next().and_then(|t| t.parse::<i64>().ok());
    let auth = |code: &str| {
        row.reply
            .auth_code
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(code))
    };
    let local_day = || {
        chrono::DateTime::parse_from_rfc3339(&row.created_at)
            .ok()
            .map(|t| (t + chrono::Duration::seconds(i64::from(utc_offset_secs))).date_naive())
    };
    for word in text.split_whitespace() {
        let hit = match parse_term(word, exponent)? {
            Term::Dates(a, b) => local_day().is_some_and(|d| a <= d && d <= b),
            Term::Amount(minor) => row.amount.minor() == minor,
            Term::Digits(d) => {
                let last4 = row.reply.card.as_deref().map(mask::last_four);
                auth(&d)
                    || d.parse::<i64>().ok() == tail(&row.order_no)
                    || (d.len() == 4 && last4.as_deref() == Some(d.as_str()))
            }
            Term::Order(o) => row.order_no.ends_with(&o),
            Term::Word(w) => auth(&w),
            Term::Kind(kind) => row.kind == kind,
            Term::State(state) => row.state == state,
            Term::Since(kinds) => since.iter().any(|a| match a {
                A::Voided => kinds.contains(&"void"),
                A::Refunded(_) => kinds.contains(&"refund"),
                A::Completed(_) => kinds.contains(&"completion"),
                A::TipAdjusted(_) | A::Unresolved(..) => false,
            }),
        };
        if !hit {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A WHERE clause under construction: conditions joined by AND, and their values.
#[derive(Default)]
struct Filter {
    conds: Vec<String>,
    args: Vec<Value>,
}

impl Filter {
    /// A condition whose `?` placeholders take `args` in order.
    fn add(&mut self, cond: &str, args: impl IntoIterator<Item = Value>) {
        let mut args = args.into_iter();
        let mut sql = String::new();
        for (i, part) in cond.split('?').enumerate() {
            if i > 0 {
                self.args.push(args.next().unwrap_or(Value::Null));
                sql.push_str(&format!("?{}", self.args.len()));
            }
            sql.push_str(part);
        }
        self.conds.push(sql);
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// The UTC instant a local date starts at, as the journal writes times.
fn start_of(day: NaiveDate, utc_offset_secs: i32) -> String {
    let local = day.and_time(NaiveTime::MIN);
    (local - chrono::Duration::seconds(i64::from(utc_offset_secs)))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The query without its date window, and the window `[from, to)` in UTC text.
struct Plan {
    filter: Filter,
    window: Option<(String, String)>,
}

fn plan(q: &Search) -> Result<Plan, JournalError> {
    let mut f = Filter::default();
    let mut from = q.from;
    let mut to = q.to;
    for word in q.text.split_whitespace() {
        match parse_term(word, q.exponent)? {
            Term::Dates(a, b) => {
                from = Some(from.map_or(a, |f| f.max(a)));
                to = Some(to.map_or(b, |t| t.min(b)));
            }
            Term::Amount(minor) => f.add("amount_minor = ?", [Value::Integer(minor)]),
            Term::Digits(d) => {
                // One index per reading, their ids united: SQLite does not combine
                // these indexes for an OR, it would scan the journal.
                let mut any = vec!["SELECT id FROM txn WHERE auth_code = ? COLLATE NOCASE"];
                let mut args = vec![text(&d)];
                if let Ok(tail) = d.parse::<i64>() {
                    any.push("SELECT id FROM txn WHERE order_tail = ?");
                    args.push(Value::Integer(tail));
                }
                if d.len() == 4 {
                    any.push("SELECT id FROM txn WHERE card_last4 = ?");
                    args.push(text(&d));
                }
                f.add(&format!("id IN ({})", any.join(" UNION ALL ")), args);
            }
            Term::Order(o) => {
                let tail = o.rsplit('-').next().and_then(|t| t.parse::<i64>().ok());
                match tail {
                    // The tail's index finds the few candidates; the end must match too.
                    Some(tail) => f.add(
                        "order_tail = ? AND substr(order_no, -?) = ?",
                        [
                            Value::Integer(tail),
                            Value::Integer(o.len() as i64),
                            text(&o),
                        ],
                    ),
                    None => f.add("order_no = ?", [text(&o)]),
                }
            }
            Term::Word(w) => f.add("auth_code = ? COLLATE NOCASE", [text(&w)]),
            Term::Kind(kind) => f.add("kind = ?", [text(kind.name())]),
            Term::State(state) => f.add("state = ?", [text(state.name())]),
            Term::Since(kinds) => f.add(
                &format!(
                    "order_no IN (SELECT orig_order_no FROM txn WHERE state = 'approved' AND kind IN ({}))",
                    vec!["?"; kinds.len()].join(", ")
                ),
                kinds.iter().map(|k| text(k)),
            ),
        }
    }
    if let Some(kind) = q.kind {
        f.add("kind = ?", [text(kind.name())]);
    }
    if let Some(state) = q.state {
        f.add("state = ?", [text(state.name())]);
    }
    if let Some(lane) = &q.lane {
        f.add("lane = ?", [text(&lane.trim().to_ascii_uppercase())]);
    }
    if let Some(before) = q.before {
        f.add("id < ?", [Value::Integer(before)]);
    }
    let window = window(from, to, q.utc_offset_secs);
    Ok(Plan { filter: f, window })
}

/// Inclusive local dates as `[start, end)` in the journal's UTC text; None for all time.
pub(super) fn window(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    utc_offset_secs: i32,
) -> Option<(String, String)> {
    if from.is_none() && to.is_none() {
        return None;
    }
    let start = from.map_or_else(|| "0".into(), |d| start_of(d, utc_offset_secs));
    let end = to
        .and_then(|d| d.succ_opt())
        .map_or_else(|| "9".into(), |d| start_of(d, utc_offset_secs));
    Some((start, end))
}

/// The ids of the first and last rows written in `[start, end)`. Rows are written in
/// time order, so the window is also this range of ids: found through the time index
/// at both ends, it lets a query walk ids instead of sorting a long window (the time
/// conditions beside it are written `+created_at` so the planner walks the ids).
pub(super) fn id_bounds(
    conn: &Connection,
    start: &str,
    end: &str,
) -> Result<Option<(i64, i64)>, JournalError> {
    let first: Option<i64> = conn.query_row(
        "SELECT min(id) FROM txn WHERE created_at = (SELECT min(created_at) FROM txn WHERE created_at >= ?1)",
        [start],
        |r| r.get(0),
    )?;
    let last: Option<i64> = conn.query_row(
        "SELECT max(id) FROM txn WHERE created_at = (SELECT max(created_at) FROM txn WHERE created_at < ?1)",
        [end],
        |r| r.get(0),
    )?;
    Ok(first.zip(last))
}

/// The rows of one database that match, newest first, at most `limit`.
fn search_in(conn: &Connection, plan: &Plan, limit: usize) -> Result<Vec<TxnRow>, JournalError> {
    let mut f = Filter {
        conds: plan.filter.conds.clone(),
        args: plan.filter.args.clone(),
    };
    if let Some((start, end)) = &plan.window {
        let Some((first, last)) = id_bounds(conn, start, end)? else {
            return Ok(Vec::new());
        };
        f.add(
            "id BETWEEN ? AND ? AND +created_at >= ? AND +created_at < ?",
            [
                Value::Integer(first),
                Value::Integer(last),
                text(start),
                text(end),
            ],
        );
    }
    let sql = select_sql(&f, limit);
    let mut stmt = conn.prepare(&sql)?;
    let raws = stmt
        .query_map(rusqlite::params_from_iter(f.args), raw_row)?
        .collect::<Result<Vec<_>, _>>()?;
    raws.into_iter().map(TryInto::try_into).collect()
}

fn select_sql(f: &Filter, limit: usize) -> String {
    let where_sql = if f.conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", f.conds.join(" AND "))
    };
    format!(
        "SELECT {COLUMNS} FROM txn {where_sql} ORDER BY id DESC LIMIT {}",
        i64::try_from(limit).unwrap_or(i64::MAX)
    )
}

impl Journal {
    /// Rows matching `q` in the journal and its archives, newest first, one page.
    pub fn search(&self, q: &Search) -> Result<Page, JournalError> {
        let plan = plan(q)?;
        let want = q.limit.max(1);
        // One more than a page says whether there is a next one.
        let mut rows = search_in(&self.conn, &plan, want + 1)?;
        for archive in self.archives()? {
            let conn = archive.connect()?;
            rows.extend(search_in(&conn, &plan, want + 1)?);
        }
        rows.sort_by_key(|r| std::cmp::Reverse(r.id));
        // A row is in both only after an archive run stopped between copy and delete.
        rows.dedup_by_key(|r| r.id);
        let next = (rows.len() > want).then(|| rows[want - 1].id);
        rows.truncate(want);
        Ok(Page { rows, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecr::TransType;

    #[test]
    fn terms_are_read_as_documented() {
        let d = |s: &str| parse_date(s).unwrap_or_default();
        assert_eq!(
            parse_term("2026-11-25", 2).ok(),
            Some(Term::Dates(d("2026-11-25"), d("2026-11-25")))
        );
        assert_eq!(
            parse_term("2026-11-25..2026-11-01", 2).ok(),
            Some(Term::Dates(d("2026-11-01"), d("2026-11-25")))
        );
        assert_eq!(parse_term("12.34", 2).ok(), Some(Term::Amount(1234)));
        assert_eq!(parse_term("12.5", 2).ok(), Some(Term::Amount(1250)));
        assert_eq!(
            parse_term("1234", 2).ok(),
            Some(Term::Digits("1234".into()))
        );
        assert_eq!(
            parse_term("l01-kqxrt-1125-000042", 2).ok(),
            Some(Term::Order("L01-KQXRT-1125-000042".into()))
        );
        assert_eq!(
            parse_term("A1B2C3", 2).ok(),
            Some(Term::Word("A1B2C3".into()))
        );
        for bad in ["2026-13-01", "12.345", "a;b", "2026-11-01..x"] {
            assert!(parse_term(bad, 2).is_err(), "{bad}");
        }
    }

    /// Each reading of a term is answered from an index, never by a scan of the
    /// journal (what a million rows would make a second long).
    #[test]
    fn every_term_is_found_through_an_index() {
        let dir = tempfile::tempdir().expect("temp dir");
        let journal = Journal::open(dir.path()).expect("journal");
        for words in [
            "1234",
            "000042",
            "L01-KQXRT-1125-000042",
            "1125-000042",
            "12.34",
            "A1B2C3",
            "2026-11-01..2026-11-25",
            "1234 12.34 2026-11-25",
        ] {
            let q = Search {
                text: words.into(),
                limit: 50,
                exponent: 2,
                ..Search::default()
            };
            let plan = plan(&q).expect("a plan");
            let mut f = plan.filter;
            if plan.window.is_some() {
                // As `search_in` adds it, with the ids the time index gave.
                f.add(
                    "id BETWEEN ? AND ? AND +created_at >= ? AND +created_at < ?",
                    [Value::Integer(1), Value::Integer(9), text("a"), text("b")],
                );
            }
            let sql = format!("EXPLAIN QUERY PLAN {}", select_sql(&f, 51));
            let mut stmt = journal.conn.prepare(&sql).expect("prepares");
            let steps: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(f.args), |r| r.get(3))
                .expect("explains")
                .collect::<Result<_, _>>()
                .expect("explains");
            assert!(
                !steps.iter().any(|s| s.starts_with("SCAN txn")),
                "{words}: {steps:?}"
            );
        }
    }

    #[test]
    fn a_filter_numbers_its_placeholders_in_order() {
        let mut f = Filter::default();
        f.add("a = ?", [text("x")]);
        f.add("(b = ? OR c = ?)", [Value::Integer(1), Value::Integer(2)]);
        assert_eq!(f.conds, ["a = ?1", "(b = ?2 OR c = ?3)"]);
        assert_eq!(f.args.len(), 3);
        let q = Search {
            kind: Some(TxnKind::Trans(TransType::Refund)),
            from: parse_date("2026-11-25"),
            to: parse_date("2026-11-25"),
            utc_offset_secs: 3600,
            ..Search::default()
        };
        let p = plan(&q).ok();
        let window = p.and_then(|p| p.window);
        assert_eq!(
            window,
            Some((
                "2026-11-24T23:00:00.000Z".to_string(),
                "2026-11-25T23:00:00.000Z".to_string()
            ))
        );
    }
}
