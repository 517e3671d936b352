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

use super::{Journal, JournalError, TxnKind, TxnRow, TxnState, rollup, search};
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
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The batches `first` to `last` (inclusive), when the period is batches.
    pub batches: Option<(i64, i64)>,
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
    pub lanes: Groups<String>,
    pub kinds: Groups<String>,
    pub brands: Groups<String>,
    /// By local hour of day.
    pub hours: Groups<u32>,
    pub net: i64,
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
    fn add_moved(&mut self, r: &TxnRow, moved: &Moved, utc_offset_secs: i32) {
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
    pub kind_sum: Option<i64>,
    pub tip: i64,
    pub cashback: i64,
    pub brand: Option<(&'a str, i64)>,
    pub net: i64,
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
fn moved<'a>(
    r: &'a TxnRow,
    orig: Option<&'a TxnRow>,
    tip_of: &dyn Fn(&TxnRow) -> i64,
) -> Moved<'a> {
    let amount = r.amount.minor();
    let brand_of =
        |row: &'a TxnRow, sum: i64| Some((row.brand.as_deref().unwrap_or("unknown"), sum));
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

/// Where a range report's totals come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The quarter-hour totals each file keeps, where they are up to date.
    Totals,
    /// Every row of the period, tallied now.
    Rows,
}

impl Journal {
    /// Totals over inclusive local dates (`None`: unbounded), across every batch of
    /// the journal and its archives: from the files' quarter-hour totals (`rollup`),
    /// or from the rows of a file whose totals are not up to date.
    pub fn report_range(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        utc_offset_secs: i32,
    ) -> Result<RangeReport, JournalError> {
        self.report_range_from(from, to, utc_offset_secs, Source::Totals)
    }

    /// `report_range`, choosing where the totals come from.
    pub fn report_range_from(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        utc_offset_secs: i32,
        source: Source,
    ) -> Result<RangeReport, JournalError> {
        self.range(from, to, None, utc_offset_secs, source)
    }

    /// Totals over the batches `first` to `last` (inclusive), of the journal and its
    /// archives; hours are local at `utc_offset_secs`.
    pub fn report_batches(
        &self,
        (first, last): (i64, i64),
        utc_offset_secs: i32,
        source: Source,
    ) -> Result<RangeReport, JournalError> {
        self.range(None, None, Some((first, last)), utc_offset_secs, source)
    }

    fn range(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        batches: Option<(i64, i64)>,
        utc_offset_secs: i32,
        source: Source,
    ) -> Result<RangeReport, JournalError> {
        let opened = self
            .archives()?
            .iter()
            .map(|a| a.connect())
            .collect::<Result<Vec<_>, _>>()?;
        let conns: Vec<&rusqlite::Connection> =
            std::iter::once(&self.conn).chain(&opened).collect();
        let slots = match source {
            Source::Totals => rollup::slots_of(from, to, utc_offset_secs),
            Source::Rows => None,
        };
        let window = search::window(from, to, utc_offset_secs);
        let mut sums = Sums::default();
        // A batch is in two files only after an archive run stopped half-way: the
        // first file that has it counts it.
        let mut counted: HashSet<i64> = HashSet::new();
        let mut tips = None;
        for (i, &conn) in conns.iter().enumerate() {
            match slots {
                Some(slots) if rollup::fresh(conn)? => {
                    let (part, found) =
                        rollup::read(conn, slots, batches, utc_offset_secs, &counted)?;
                    sums.absorb(part);
                    counted.extend(found);
                }
                _ => {
                    if tips.is_none() {
                        tips = Some(approved_tips(&conns)?);
                    }
                    // Originals are looked for in this file first.
                    let mut order = conns.clone();
                    order.swap(0, i);
                    let found = tally_rows(
                        &order,
                        (batches, window.as_ref()),
                        utc_offset_secs,
                        &counted,
                        tips.as_ref().unwrap_or(&HashMap::new()),
                        &mut sums,
                        &self.progress,
                    )?;
                    counted.extend(found);
                }
            }
        }
        Ok(RangeReport {
            batches,
            ..RangeReport::from_sums(from, to, sums)
        })
    }
}

/// The latest approved tip adjustment of every sale, from every file: sale's order
/// number to (id, tip). A few in a hundred rows, so a year of them fits in a few MB.
fn approved_tips(
    conns: &[&rusqlite::Connection],
) -> Result<HashMap<String, (i64, i64)>, JournalError> {
    let mut tips: HashMap<String, (i64, i64)> = HashMap::new();
    for conn in conns {
        let mut stmt = conn.prepare_cached(
            "SELECT id, orig_order_no, amount_minor FROM txn
             WHERE kind = 'tip-adjust' AND +state = 'approved' AND orig_order_no IS NOT NULL",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (id, sale, tip): (i64, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let latest = tips.entry(sale).or_insert((id, tip));
            if id > latest.0 {
                *latest = (id, tip);
            }
        }
    }
    Ok(tips)
}

/// The rows a tally reads: of the batches `first` to `last`, or written in the window
/// `[start, end)`, or (both None) all.
type Which<'a> = (Option<(i64, i64)>, Option<&'a (String, String)>);

/// Tallies into `sums`, a row at a time, the rows of `conns[0]` written in the window
/// `[start, end)` (all when None) or of the batches `first` to `last`, leaving out the
/// batches in `skip`; each original is looked up in `conns` in order, tips in `tips`.
/// Memory stays flat however many rows there are; each thousand rows read moves
/// `progress`. Returns the batches it counted.
fn tally_rows(
    conns: &[&rusqlite::Connection],
    (batches, window): Which<'_>,
    utc_offset_secs: i32,
    skip: &HashSet<i64>,
    tips: &HashMap<String, (i64, i64)>,
    sums: &mut Sums,
    progress: &crate::progress::Progress,
) -> Result<HashSet<i64>, JournalError> {
    let mut counted = HashSet::new();
    let Some(&conn) = conns.first() else {
        return Ok(counted);
    };
    let (where_sql, args): (&str, Vec<rusqlite::types::Value>) = match (batches, window) {
        (Some((first, last)), _) => (
            "WHERE batch BETWEEN ?1 AND ?2",
            vec![first.into(), last.into()],
        ),
        (None, None) => ("", vec![]),
        (None, Some((start, end))) => match search::id_bounds(conn, start, end)? {
            Some((first, last)) => (
                "WHERE id BETWEEN ?1 AND ?2 AND +created_at >= ?3 AND +created_at < ?4",
                vec![
                    first.into(),
                    last.into(),
                    start.clone().into(),
                    end.clone().into(),
                ],
            ),
            None => return Ok(counted),
        },
    };
    let tip_of = |sale: &TxnRow| {
        tips.get(sale.order_no.as_str())
            .map(|t| t.1)
            .or(sale.tip.map(|t| t.minor()))
            .unwrap_or(0)
    };
    let original = |order_no: &str| -> Result<Option<TxnRow>, JournalError> {
        for c in conns {
            let found = report_rows(c, "WHERE order_no = ?1 AND +state = 'approved'", [order_no])?;
            if let Some(row) = found.into_iter().next() {
                return Ok(Some(row));
            }
        }
        Ok(None)
    };
    let mut stmt = conn.prepare(&format!("SELECT {REPORT_COLUMNS} FROM txn {where_sql}"))?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let mut read = 0u64;
    while let Some(r) = rows.next()? {
        read += 1;
        if read.is_multiple_of(1024) {
            progress.add(1024);
        }
        let row: TxnRow = super::raw_row(r)?.try_into()?;
        if skip.contains(&row.batch) {
            continue;
        }
        counted.insert(row.batch);
        sums.rows += 1;
        if row.state != TxnState::Approved {
            continue;
        }
        let orig = match row.orig_order_no.as_deref() {
            Some(o) => original(o)?,
            None => None,
        };
        let moved = moved(&row, orig.as_ref(), &tip_of);
        sums.add_moved(&row, &moved, utc_offset_secs);
    }
    Ok(counted)
}

impl Journal {
    /// Tallies now every quarter hour whose totals are not up to date, which the open
    /// that found them otherwise leaves to a thread of its own.
    pub fn tally_totals(&mut self) -> Result<(), JournalError> {
        rollup::refresh_all(&mut self.conn, &self.path, &self.progress)
    }

    /// Whether the totals the journal and its archives keep say what their rows say,
    /// over all time. When they do not, every total is tallied again from the rows
    /// (the archives' too) and the answer is false.
    pub fn check_totals(&mut self) -> Result<bool, JournalError> {
        let kept = self.report_range_from(None, None, 0, Source::Totals)?;
        let opened = self
            .archives()?
            .iter()
            .map(|a| a.connect())
            .collect::<Result<Vec<_>, _>>()?;
        let mut every = 0;
        for conn in std::iter::once(&self.conn).chain(&opened) {
            every += conn.query_row("SELECT COUNT(*) FROM txn", [], |r| r.get::<_, i64>(0))?;
        }
        self.progress.start(
            "comparing the totals with the rows",
            "rows",
            u64::try_from(every).unwrap_or(0),
        );
        let rows = self.report_range_from(None, None, 0, Source::Rows)?;
        self.progress.finish();
        if kept == rows {
            return Ok(true);
        }
        tracing::warn!("report totals disagreed with the rows: tallying them again");
        rollup::forget(&mut self.conn)?;
        rollup::refresh_all(&mut self.conn, &self.path, &self.progress)?;
        for a in self.archives()? {
            super::archive::retally(&a.path)?;
        }
        Ok(false)
    }
}
