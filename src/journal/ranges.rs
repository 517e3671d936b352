//! Reports over a range of days or batches, across the journal and its archives: read
//! from the quarter-hour totals where they are fresh, tallied from the rows otherwise;
//! and tallying the totals again.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::report::{REPORT_COLUMNS, RangeReport, Sums, moved, report_rows};
use super::{Journal, JournalError, TxnRow, TxnState, archive, rollup, search};
use crate::progress::Progress;

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
    progress: &Progress,
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
            archive::retally(&a.path)?;
        }
        Ok(false)
    }
}
