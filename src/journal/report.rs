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

use super::{JournalError, TxnKind, TxnRow, TxnState};
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
    pub(crate) batch: i64,
    /// Per kind: sale, cashback-sale, cash-back, tips, tip-adjust, refund, void, ...
    pub per_kind: Vec<Group>,
    /// Per card brand: the net of that brand's card transactions.
    pub per_brand: Vec<Group>,
    pub net_minor: i64,
}

/// What a line of the printed report is, for styling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LineKind {
    Heading,
    Row,
    Net,
}

impl BatchReport {
    /// The report as aligned text lines, shared by the screen and the command line.
    pub(crate) fn lines(&self, exponent: u8, currency: &str) -> Vec<(LineKind, String)> {
        let sections = [("kind", &self.per_kind[..]), ("brand", &self.per_brand[..])];
        group_lines(&sections, self.net_minor, exponent, currency)
    }

    pub fn of(batch: i64, rows: &[TxnRow]) -> BatchReport {
        let mut sums = Sums::default();
        sums.add_all(rows, &[], 0);
        BatchReport {
            batch,
            per_kind: sums.kinds.into_groups(),
            per_brand: sums.brands.into_groups(),
            net_minor: sums.net,
        }
    }
}

/// Totals over a period of local dates, across batches (and archives), grouped per
/// lane, kind, brand and local hour of day. The same rules as a batch's report; a
/// lane's or an hour's sum is the net its rows moved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeReport {
    pub(crate) from: Option<NaiveDate>,
    pub(crate) to: Option<NaiveDate>,
    /// The batches `first` to `last` (inclusive), when the period is batches.
    pub(crate) batches: Option<(i64, i64)>,
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
    pub(super) fn from_sums(
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        s: Sums,
    ) -> RangeReport {
        RangeReport {
            from,
            to,
            batches: None,
            rows: usize::try_from(s.rows).unwrap_or(0),
            per_lane: s.lanes.into_groups(),
            per_kind: s.kinds.into_groups(),
            per_brand: s.brands.into_groups(),
            per_hour: s.hours.into_groups(),
            net_minor: s.net,
        }
    }

    pub(crate) fn lines(&self, exponent: u8, currency: &str) -> Vec<(LineKind, String)> {
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

/// A report's section: groups in key order.
#[derive(Debug)]
pub(super) struct Groups<K: Ord>(BTreeMap<K, Group>);

impl<K: Ord> Default for Groups<K> {
    fn default() -> Self {
        Groups(BTreeMap::new())
    }
}

impl<K: Ord> Groups<K> {
    pub(super) fn add(&mut self, key: K, name: &str, count: i64, sum: i64) {
        let g = self.0.entry(key).or_insert_with(|| Group {
            name: name.to_string(),
            ..Group::default()
        });
        g.count += count;
        g.sum_minor += sum;
    }

    fn into_groups(self) -> Vec<Group> {
        self.0.into_values().collect()
    }
}

impl Groups<u32> {
    pub(super) fn add_hour(&mut self, hour: u32, count: i64, sum: i64) {
        match self.0.get_mut(&hour) {
            Some(g) => {
                g.count += count;
                g.sum_minor += sum;
            }
            None => self.add(hour, &format!("{hour:02}"), count, sum),
        }
    }
}

impl Groups<String> {
    /// `add` for groups named by their key, allocating only for a new group: a year
    /// of rows has a handful of lanes and brands.
    pub(super) fn add_named(&mut self, name: &str, count: i64, sum: i64) {
        match self.0.get_mut(name) {
            Some(g) => {
                g.count += count;
                g.sum_minor += sum;
            }
            None => self.add(name.to_string(), name, count, sum),
        }
    }
}

/// A period's totals, summed from quarter hours' totals and from rows alike.
#[derive(Default)]
pub(super) struct Sums {
    /// Rows of every state.
    pub rows: i64,
    pub(crate) lanes: Groups<String>,
    pub(crate) kinds: Groups<String>,
    pub(crate) brands: Groups<String>,
    /// By local hour of day.
    pub(crate) hours: Groups<u32>,
    pub(crate) net: i64,
}

impl Sums {
    pub(super) fn absorb(&mut self, other: Sums) {
        self.rows += other.rows;
        self.net += other.net;
        for (mine, theirs) in [
            (&mut self.lanes, other.lanes),
            (&mut self.kinds, other.kinds),
            (&mut self.brands, other.brands),
        ] {
            for g in theirs.into_groups() {
                mine.add_named(&g.name, g.count, g.sum_minor);
            }
        }
        for (hour, g) in other.hours.0 {
            self.hours.add_hour(hour, g.count, g.sum_minor);
        }
    }

    /// Counts `rows`, with `context` (see `context`) not counted.
    pub(super) fn add_all(&mut self, rows: &[TxnRow], context: &[TxnRow], utc_offset_secs: i32) {
        self.rows += rows.len() as i64;
        each_move(rows, context, |r, moved| {
            self.add_moved(r, &moved, utc_offset_secs)
        });
    }

    /// Counts what one approved row moved, on every line it counts on.
    pub(super) fn add_moved(&mut self, r: &TxnRow, moved: &Moved, utc_offset_secs: i32) {
        self.count(r, moved);
        self.lanes.add_named(&r.lane, 1, moved.net);
        if let Some(hour) = local_hour(&r.created_at, utc_offset_secs) {
            self.hours.add_hour(hour, 1, moved.net);
        }
    }

    /// Counts what one approved row moved on its kind's and brand's lines and the net.
    fn count(&mut self, r: &TxnRow, moved: &Moved) {
        if let Some(sum) = moved.kind_sum {
            self.kinds.add_named(r.kind.name(), 1, sum);
        }
        if moved.tip > 0 {
            self.kinds.add_named("tips", 1, moved.tip);
        }
        if moved.cashback > 0 {
            self.kinds.add_named("cash-back", 1, moved.cashback);
        }
        if let Some((brand, sum)) = moved.brand {
            self.brands.add_named(brand, 1, sum);
        }
        // A voided sale still shows as a sale; its void row takes its money back.
        self.net += moved.net;
    }
}

/// What one approved row counts for: the sum on its kind's line (none for a batch
/// close), a sale's tip and cash-back lines, its brand's line and the net it moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Moved<'a> {
    pub(crate) kind_sum: Option<i64>,
    pub(crate) tip: i64,
    pub(crate) cashback: i64,
    pub(crate) brand: Option<(&'a str, i64)>,
    pub(crate) net: i64,
}

/// Calls `f` with what each approved row of `rows` moved, its original and tip
/// adjustments looked up among `rows` and `context` by order number: a year of rows
/// costs one pass, not a search per row.
pub(super) fn each_move<'a>(
    rows: &'a [TxnRow],
    context: &'a [TxnRow],
    mut f: impl FnMut(&'a TxnRow, Moved<'a>),
) {
    let approved = || {
        rows.iter()
            .chain(context)
            .filter(|r| r.state == TxnState::Approved)
    };
    let by_order: HashMap<&str, &TxnRow> = approved().map(|r| (r.order_no.as_str(), r)).collect();
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
    for r in rows.iter().filter(|r| r.state == TxnState::Approved) {
        let orig = r
            .orig_order_no
            .as_deref()
            .and_then(|o| by_order.get(o))
            .copied();
        f(r, moved(r, orig, &tip_of));
    }
}

/// What one approved row moved, given its original (approved, when there is one).
pub(super) fn moved<'a>(
    r: &'a TxnRow,
    orig: Option<&'a TxnRow>,
    tip_of: &dyn Fn(&TxnRow) -> i64,
) -> Moved<'a> {
    let amount = r.amount.minor();
    let brand_of =
        |row: &'a TxnRow, sum: i64| Some((row.reply.brand.as_deref().unwrap_or("unknown"), sum));
    match r.kind {
        TxnKind::Trans(T::Sale | T::CashbackSale) => {
            let tip = tip_of(r);
            let cashback = r.cashback.map_or(0, |c| c.minor());
            let net = amount + tip + cashback;
            Moved {
                kind_sum: Some(amount),
                tip,
                cashback,
                brand: brand_of(r, net),
                net,
            }
        }
        TxnKind::Trans(T::Completion) => Moved {
            kind_sum: Some(amount),
            brand: brand_of(r, amount),
            net: amount,
            ..Moved::default()
        },
        // An unreferenced refund names its card's brand itself.
        TxnKind::Trans(T::Refund | T::CompletionRefund) => Moved {
            kind_sum: Some(amount),
            brand: brand_of(orig.unwrap_or(r), -amount),
            net: -amount,
            ..Moved::default()
        },
        TxnKind::Trans(T::Void | T::CompletionCancel) => {
            // The money of the original goes back: its amount, tip, cash-back.
            let undone = orig.map_or(0, |o| {
                let base = o.amount.minor() + o.cashback.map_or(0, |c| c.minor());
                let sign = if matches!(o.kind, TxnKind::Trans(T::Refund | T::CompletionRefund)) {
                    -1
                } else {
                    1
                };
                sign * (base + tip_of(o))
            });
            Moved {
                kind_sum: Some(undone),
                brand: orig.and_then(|o| brand_of(o, -undone)),
                net: -undone,
                ..Moved::default()
            }
        }
        TxnKind::Trans(T::PreAuth | T::PreAuthCancel) | TxnKind::TipAdjust => Moved {
            kind_sum: Some(amount),
            ..Moved::default()
        },
        TxnKind::BatchClose => Moved::default(),
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
pub(super) const REPORT_COLUMNS: &str = "id, order_no, '', kind, state, amount_minor, tip_minor, cashback_minor, \
    currency, exponent, orig_order_no, lane, NULL, batch, created_at, NULL, '', \
    NULL, NULL, NULL, NULL, brand, NULL, NULL, NULL, NULL, NULL, asked_minor, via, NULL";

pub(super) fn report_rows(
    conn: &rusqlite::Connection,
    where_sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<TxnRow>, JournalError> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM txn {where_sql}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let raws = stmt
        .query_map(args, super::raw_row)?
        .collect::<Result<Vec<_>, _>>()?;
    raws.into_iter().map(TryInto::try_into).collect()
}

/// Past this many sales, their tip adjustments are read all at once.
const MANY_SALES: usize = 5_000;

/// The rows outside `rows` that their totals depend on, from any of `conns`: the
/// originals of voids, refunds and tip adjustments, and the tip adjustments of those
/// originals and of the sales among `rows` (a sale's tip is its latest, whenever made).
pub(super) fn context(
    conns: &[&rusqlite::Connection],
    rows: &[TxnRow],
) -> Result<Vec<TxnRow>, JournalError> {
    let inside: HashSet<&str> = rows.iter().map(|r| r.order_no.as_str()).collect();
    let mut origs: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.orig_order_no.as_deref())
        .filter(|o| !inside.contains(o))
        .collect();
    origs.sort_unstable();
    origs.dedup();
    let sales: Vec<&str> = rows
        .iter()
        .filter(|r| r.state == TxnState::Approved && r.kind.is_sale())
        .map(|r| r.order_no.as_str())
        .collect();
    let mut found = Vec::new();
    for &conn in conns {
        for chunk in origs.chunks(400) {
            let marks = vec!["?"; chunk.len()].join(",");
            found.extend(report_rows(
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
        if sales.len() > MANY_SALES {
            // A long period: every tip adjustment once beats a lookup per sale.
            let wanted: HashSet<&str> = sales.iter().copied().collect();
            let mut tips = report_rows(conn, "WHERE kind = 'tip-adjust'", [])?;
            tips.retain(|t| {
                t.orig_order_no
                    .as_deref()
                    .is_some_and(|o| wanted.contains(o))
            });
            found.extend(tips);
            continue;
        }
        for chunk in sales.chunks(400) {
            let marks = vec!["?"; chunk.len()].join(",");
            found.extend(report_rows(
                conn,
                &format!("WHERE orig_order_no IN ({marks}) AND +kind = 'tip-adjust'"),
                rusqlite::params_from_iter(chunk),
            )?);
        }
    }
    found.retain(|r| !inside.contains(r.order_no.as_str()));
    // A row is in two files only after an archive run stopped half-way.
    found.sort_by_key(|r| r.id);
    found.dedup_by_key(|r| r.id);
    Ok(found)
}
