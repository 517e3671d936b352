//! Batch totals from the journal's own rows. Only approved rows count.
//!
//! The net is what the batch settles to the card accounts: sales and cash-back sales
//! (amount and cash-back), plus effective tips, plus completions, less refunds,
//! completion refunds and voided or cancelled amounts.
//!
//! A tip adjustment replaces a sale's tip; the latest approved one counts. Pre-auths
//! only hold funds and do not count toward the net.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;

use super::{Journal, JournalError, TxnKind, TxnRow, TxnState, search};
use crate::ecr::TransType as T;
use crate::money::format_minor;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Group {
    pub name: String,
    pub count: i64,
    pub sum_minor: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BatchReport {
    pub batch: i64,
    /// Per kind: sale, cashback-sale, cash-back, tips, tip-adjust, refund, void, ...
    pub per_kind: Vec<Group>,
    /// Per card brand: the net of that brand's card transactions.
    pub per_brand: Vec<Group>,
    pub net_minor: i64,
}

/// What a line of the printed report is, for styling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Heading,
    Row,
    Net,
}

impl BatchReport {
    /// The report as aligned text lines, shared by the screen and the command line.
    pub fn lines(&self, exponent: u8, currency: &str) -> Vec<(LineKind, String)> {
        let sections = [("kind", &self.per_kind[..]), ("brand", &self.per_brand[..])];
        group_lines(&sections, self.net_minor, exponent, currency)
    }

    pub fn of(batch: i64, rows: &[TxnRow]) -> BatchReport {
        let mut tally = Tally::default();
        tally.add_all(rows, &[], 0);
        BatchReport {
            batch,
            per_kind: tally.kinds.into_values().collect(),
            per_brand: tally.brands.into_values().collect(),
            net_minor: tally.net,
        }
    }
}

/// Totals over a period of local dates, across batches (and archives), grouped per
/// lane, kind, brand and local hour of day. The same rules as a batch's report; a
/// lane's or an hour's sum is the net its rows moved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeReport {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Rows in the period, of every state.
    pub rows: usize,
    pub per_lane: Vec<Group>,
    pub per_kind: Vec<Group>,
    pub per_brand: Vec<Group>,
    /// `00` to `23`, local time.
    pub per_hour: Vec<Group>,
    pub net_minor: i64,
}

impl RangeReport {
    /// `rows`: the period's rows; `context`: rows outside it that they refer to
    /// (the original of a void or refund, and its tip adjustments), not counted.
    pub fn of(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        rows: &[TxnRow],
        context: &[TxnRow],
        utc_offset_secs: i32,
    ) -> RangeReport {
        let mut tally = Tally::default();
        tally.add_all(rows, context, utc_offset_secs);
        RangeReport {
            from,
            to,
            rows: rows.len(),
            per_lane: tally.lanes.into_values().collect(),
            per_kind: tally.kinds.into_values().collect(),
            per_brand: tally.brands.into_values().collect(),
            per_hour: tally.hours.into_values().collect(),
            net_minor: tally.net,
        }
    }

    pub fn lines(&self, exponent: u8, currency: &str) -> Vec<(LineKind, String)> {
        let sections = [
            ("lane", &self.per_lane[..]),
            ("kind", &self.per_kind[..]),
            ("brand", &self.per_brand[..]),
            ("hour", &self.per_hour[..]),
        ];
        group_lines(&sections, self.net_minor, exponent, currency)
    }
}

fn group_lines(
    sections: &[(&str, &[Group])],
    net: i64,
    exponent: u8,
    currency: &str,
) -> Vec<(LineKind, String)> {
    let line = |a: &str, b: String, c: String| format!(" {a:<18}{b:>6}{c:>14}");
    let mut out = Vec::new();
    for (title, groups) in sections {
        out.push((LineKind::Heading, line(title, "count".into(), "sum".into())));
        for g in *groups {
            let sum = format_minor(g.sum_minor, exponent);
            out.push((LineKind::Row, line(&g.name, g.count.to_string(), sum)));
        }
    }
    let net = format_minor(net, exponent);
    out.push((
        LineKind::Net,
        format!("{} {currency}", line("NET", String::new(), net)),
    ));
    out
}

fn bump<K: Ord>(map: &mut BTreeMap<K, Group>, key: K, name: &str, sum: i64) {
    let g = map.entry(key).or_insert_with(|| Group {
        name: name.to_string(),
        ..Group::default()
    });
    g.count += 1;
    g.sum_minor += sum;
}

/// `bump` for groups named by their key, allocating only for a new group: a year of
/// rows has a handful of lanes and brands.
fn bump_named(map: &mut BTreeMap<String, Group>, name: &str, sum: i64) {
    match map.get_mut(name) {
        Some(g) => {
            g.count += 1;
            g.sum_minor += sum;
        }
        None => bump(map, name.to_string(), name, sum),
    }
}

/// The running totals. Originals and tip adjustments are looked up by order number,
/// so a year of rows costs one pass, not a search per row.
#[derive(Default)]
struct Tally {
    kinds: BTreeMap<&'static str, Group>,
    brands: BTreeMap<String, Group>,
    lanes: BTreeMap<String, Group>,
    hours: BTreeMap<u32, Group>,
    net: i64,
}

impl Tally {
    fn add_all(&mut self, rows: &[TxnRow], context: &[TxnRow], utc_offset_secs: i32) {
        let approved = || {
            rows.iter()
                .chain(context)
                .filter(|r| r.state == TxnState::Approved)
        };
        let by_order: HashMap<&str, &TxnRow> =
            approved().map(|r| (r.order_no.as_str(), r)).collect();
        // The latest approved tip adjustment of each sale.
        let mut tips: HashMap<&str, &TxnRow> = HashMap::new();
        for r in approved().filter(|r| r.kind == TxnKind::TipAdjust) {
            if let Some(sale) = r.orig_order_no.as_deref() {
                let latest = tips.entry(sale).or_insert(r);
                if r.id > latest.id {
                    *latest = r;
                }
            }
        }
        // What `rules::effective_tip` says, from the index.
        let tip_of = |sale: &TxnRow| {
            tips.get(sale.order_no.as_str())
                .map(|t| t.amount.minor())
                .or(sale.tip.map(|t| t.minor()))
                .unwrap_or(0)
        };
        let orig_of = |r: &TxnRow| {
            r.orig_order_no
                .as_deref()
                .and_then(|o| by_order.get(o))
                .copied()
        };
        for r in rows.iter().filter(|r| r.state == TxnState::Approved) {
            let moved = self.add(r, orig_of(r), &tip_of);
            bump_named(&mut self.lanes, &r.lane, moved);
            if let Some(hour) = local_hour(&r.created_at, utc_offset_secs) {
                match self.hours.get_mut(&hour) {
                    Some(g) => {
                        g.count += 1;
                        g.sum_minor += moved;
                    }
                    None => bump(&mut self.hours, hour, &format!("{hour:02}"), moved),
                }
            }
        }
    }

    /// Counts one approved row; returns the net it moved.
    fn add(&mut self, r: &TxnRow, orig: Option<&TxnRow>, tip_of: &dyn Fn(&TxnRow) -> i64) -> i64 {
        let amount = r.amount.minor();
        let kinds = &mut self.kinds;
        let brand_net = |brands: &mut BTreeMap<String, Group>, row: &TxnRow, sum: i64| {
            bump_named(brands, row.brand.as_deref().unwrap_or("unknown"), sum);
        };
        let moved = match r.kind {
            TxnKind::Trans(T::Sale | T::CashbackSale) => {
                let tip = tip_of(r);
                let cashback = r.cashback.map_or(0, |c| c.minor());
                bump(kinds, r.kind.name(), r.kind.name(), amount);
                if tip > 0 {
                    bump(kinds, "tips", "tips", tip);
                }
                if cashback > 0 {
                    bump(kinds, "cash-back", "cash-back", cashback);
                }
                brand_net(&mut self.brands, r, amount + tip + cashback);
                amount + tip + cashback
            }
            TxnKind::Trans(T::Completion) => {
                bump(kinds, r.kind.name(), r.kind.name(), amount);
                brand_net(&mut self.brands, r, amount);
                amount
            }
            TxnKind::Trans(T::Refund | T::CompletionRefund) => {
                bump(kinds, r.kind.name(), r.kind.name(), amount);
                // An unreferenced refund names its card's brand itself.
                brand_net(&mut self.brands, orig.unwrap_or(r), -amount);
                -amount
            }
            TxnKind::Trans(T::Void | T::CompletionCancel) => {
                // The money of the original goes back: its amount, tip, cash-back.
                let undone = orig.map_or(0, |o| {
                    let base = o.amount.minor() + o.cashback.map_or(0, |c| c.minor());
                    let sign = if matches!(o.kind, TxnKind::Trans(T::Refund | T::CompletionRefund))
                    {
                        -1
                    } else {
                        1
                    };
                    sign * (base + tip_of(o))
                });
                bump(kinds, r.kind.name(), r.kind.name(), undone);
                if let Some(o) = orig {
                    brand_net(&mut self.brands, o, -undone);
                }
                -undone
            }
            TxnKind::Trans(T::PreAuth | T::PreAuthCancel) => {
                bump(kinds, r.kind.name(), r.kind.name(), amount);
                0
            }
            TxnKind::TipAdjust => {
                bump(kinds, "tip-adjust", "tip-adjust", amount);
                0
            }
            TxnKind::BatchClose => 0,
        };
        // A voided sale still shows as a sale; its void row takes its money back.
        self.net += moved;
        moved
    }
}

/// The local hour of day of a time the journal wrote (`2026-11-25T14:05:09.123Z`),
/// read from its digits: parsing a year of timestamps would cost more than the rest.
fn local_hour(rfc3339: &str, utc_offset_secs: i32) -> Option<u32> {
    let digits = |range: std::ops::Range<usize>| rfc3339.get(range)?.parse::<i32>().ok();
    let minute = digits(11..13)? * 60 + digits(14..16)?;
    let local = (minute + utc_offset_secs / 60).rem_euclid(24 * 60);
    u32::try_from(local / 60).ok()
}

/// The columns a report reads, in `COLUMNS` order; the rest (the reply frame, the
/// terminal's text) stay on disk, which makes a year of rows several times cheaper.
const REPORT_COLUMNS: &str = "id, order_no, '', kind, state, amount_minor, tip_minor, cashback_minor, \
    currency, exponent, orig_order_no, lane, NULL, batch, created_at, NULL, '', \
    NULL, NULL, NULL, NULL, brand, NULL, NULL, NULL, NULL, NULL, asked_minor, via, NULL";

fn report_rows(
    conn: &rusqlite::Connection,
    where_sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<TxnRow>, JournalError> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM txn {where_sql}");
    let mut stmt = conn.prepare(&sql)?;
    let raws = stmt
        .query_map(args, super::raw_row)?
        .collect::<Result<Vec<_>, _>>()?;
    raws.into_iter().map(TryInto::try_into).collect()
}

impl Journal {
    /// Totals over inclusive local dates (`None`: unbounded), across every batch of
    /// the journal and its archives.
    pub fn report_range(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        utc_offset_secs: i32,
    ) -> Result<RangeReport, JournalError> {
        let window = search::window(from, to, utc_offset_secs);
        let opened = self
            .archives()?
            .iter()
            .map(|a| a.connect())
            .collect::<Result<Vec<_>, _>>()?;
        let conns: Vec<&rusqlite::Connection> =
            std::iter::once(&self.conn).chain(&opened).collect();
        let mut rows = Vec::new();
        for &conn in &conns {
            match &window {
                None => rows.extend(report_rows(conn, "", [])?),
                Some((start, end)) => {
                    if let Some((first, last)) = search::id_bounds(conn, start, end)? {
                        rows.extend(report_rows(
                            conn,
                            "WHERE id BETWEEN ?1 AND ?2 AND +created_at >= ?3 AND +created_at < ?4",
                            rusqlite::params![first, last, start, end],
                        )?);
                    }
                }
            }
        }
        if conns.len() > 1 {
            // A row is in two files only after an archive run stopped half-way. (Rows
            // are large: with the journal alone, they are not moved about for nothing.)
            rows.sort_by_key(|r| r.id);
            rows.dedup_by_key(|r| r.id);
        }
        // The originals of voids and refunds from before the period, and their tips.
        let inside: HashSet<&str> = rows.iter().map(|r| r.order_no.as_str()).collect();
        let mut missing: Vec<String> = rows
            .iter()
            .filter_map(|r| r.orig_order_no.as_deref())
            .filter(|o| !inside.contains(o))
            .map(String::from)
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let mut context = Vec::new();
        for &conn in &conns {
            for chunk in missing.chunks(400) {
                let marks = vec!["?"; chunk.len()].join(",");
                context.extend(report_rows(
                    conn,
                    // One index per half, ids united (SQLite would scan for an OR);
                    // `+kind`: the follow-up index, not every tip adjustment.
                    &format!(
                        "WHERE id IN (SELECT id FROM txn WHERE order_no IN ({marks}) UNION ALL
                         SELECT id FROM txn WHERE orig_order_no IN ({marks}) AND +kind = 'tip-adjust')"
                    ),
                    rusqlite::params_from_iter(chunk.iter().chain(chunk)),
                )?);
            }
        }
        context.retain(|r| !inside.contains(r.order_no.as_str()));
        Ok(RangeReport::of(from, to, &rows, &context, utc_offset_secs))
    }
}
