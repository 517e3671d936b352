//! Totals kept beside the rows, so that a report over a year reads a few thousand
//! totals instead of a million rows.
//!
//! Each quarter hour (UTC, the generated column `txn.slot`) of each batch keeps the
//! report's own tally of its rows (`tally_slot`), and each UTC day the sum of its
//! quarter hours (`tally_day`). Quarter hours, because every time zone's day and hour
//! start on one; days, so a long period reads one total per day and quarter hours only
//! at its two ends and for the hours of the day.
//!
//! A change to a row marks dirty the quarter hours whose tally it can move (triggers,
//! so no write path can forget): its own, its original's (a tip adjustment changes the
//! sale's tip) and those of the rows that refer to either (a void gives back its sale's
//! tip; a refund is counted under its sale's brand). Every write tallies the dirty
//! quarter hours again before it commits. A file with dirty quarter hours left (one
//! written by an older release, or an archive whose copy stopped half-way) is not
//! trusted: the report tallies its rows instead.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use rusqlite::{Connection, TransactionBehavior, params};

use super::report::{Sums, context, report_rows};
use super::{FILE_NAME, JournalError, TxnKind, TxnRow, TxnState, archive};

pub const SLOT_SECS: i64 = 900;
pub const SLOTS_PER_DAY: i64 = 96;

/// `rows`: every row of the quarter hour; `net`: its approved rows and what they moved.
pub(super) const DIMS: &str = "'rows', 'net', 'lane', 'kind', 'brand'";

/// Whether the file's totals can be read as they are.
pub(super) fn fresh(conn: &Connection) -> Result<bool, JournalError> {
    if super::schema::version(conn)? < super::schema::TALLIES {
        return Ok(false);
    }
    let dirty: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM tally_dirty)", [], |r| {
        r.get(0)
    })?;
    Ok(!dirty)
}

/// Drops every total of the file and marks every quarter hour with rows dirty, at
/// once, for `refresh_all` to tally them all again.
pub(super) fn forget(conn: &mut Connection) -> Result<(), JournalError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "DELETE FROM tally_slot; DELETE FROM tally_day;
         INSERT OR IGNORE INTO tally_dirty (slot, batch) SELECT slot, batch FROM txn;",
    )?;
    tx.commit()?;
    Ok(())
}

/// The files `others` names that exist, opened to read.
fn open_others(own: &Path) -> Result<Vec<Connection>, JournalError> {
    others(own)?
        .iter()
        .filter(|p| p.exists())
        .map(|p| archive::read_only(p))
        .collect()
}

/// The journal and archive files beside `own`, apart from it: where the originals of
/// its rows may be.
fn others(own: &Path) -> Result<Vec<PathBuf>, JournalError> {
    let dir = own.parent().unwrap_or(Path::new("."));
    let live = dir.join(FILE_NAME);
    let mut files: Vec<PathBuf> = archive::files_in(dir)?
        .into_iter()
        .map(|a| a.path)
        .collect();
    files.insert(0, live);
    files.retain(|p| p != own);
    Ok(files)
}

/// The most dirty quarter hours a write tallies before it commits: its own few. More
/// are a backlog (an upgrade's) that the next open tallies, in turns; a payment's
/// write never waits for it.
const WRITE_LIMIT: i64 = 64;

/// How many quarter hours one turn of `refresh_all` tallies in a write transaction.
const TURN: i64 = 512;

/// Tallies the dirty quarter hours a write left, inside its transaction, unless they
/// are a backlog. Returns how many it tallied.
pub(super) fn refresh_own(conn: &Connection, own: &Path) -> Result<i64, JournalError> {
    let dirty: i64 = conn.query_row(
        "SELECT count(*) FROM (SELECT 1 FROM tally_dirty LIMIT ?1)",
        [WRITE_LIMIT + 1],
        |r| r.get(0),
    )?;
    if dirty > WRITE_LIMIT {
        return Ok(0);
    }
    refresh(conn, own, WRITE_LIMIT)
}

/// Tallies every dirty quarter hour of the file at `own`, a turn of `TURN` per write
/// transaction, so another process that writes waits at most one turn.
pub(super) fn refresh_all(conn: &mut Connection, own: &Path) -> Result<(), JournalError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done = refresh(&tx, own, TURN)?;
        tx.commit()?;
        if done < TURN {
            return Ok(());
        }
    }
}

/// Tallies the backlog of the file at `own` on a thread of its own, with a connection
/// of its own, a turn at a time: whoever opened the journal goes on at once, and a
/// report meanwhile tallies the rows of a file whose totals are behind. One such
/// thread per file in a process; a process that exits first leaves the rest to the
/// next open.
pub(super) fn tally_behind(own: &Path) {
    static RUNNING: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    let own = own.to_path_buf();
    let first = RUNNING.lock().is_ok_and(|mut r| r.insert(own.clone()));
    if !first {
        return;
    }
    std::thread::spawn(move || {
        tracing::info!("tallying the journal's report totals");
        let tallied = Connection::open(&own)
            .map_err(JournalError::from)
            .and_then(|mut conn| {
                conn.busy_timeout(Duration::from_secs(5))?;
                refresh_all(&mut conn, &own)
            });
        match tallied {
            Ok(()) => tracing::info!("report totals tallied"),
            Err(e) => tracing::warn!("report totals left to tally later: {e}"),
        }
        if let Ok(mut r) = RUNNING.lock() {
            r.remove(&own);
        }
    });
}

/// Tallies up to `limit` dirty quarter hours of the file at `own` (open as `conn`,
/// inside the caller's write transaction) again. Returns how many it tallied.
fn refresh(conn: &Connection, own: &Path, limit: i64) -> Result<i64, JournalError> {
    let dirty: Vec<(i64, i64)> = {
        let mut stmt = conn.prepare_cached("SELECT slot, batch FROM tally_dirty LIMIT ?1")?;
        stmt.query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    if dirty.is_empty() {
        return Ok(0);
    }
    // The other files, opened once, for the originals and tip adjustments of the rows.
    let mut opened: Option<Vec<Connection>> = None;
    let mut days = BTreeSet::new();
    // Quarter hours in chunks, their context looked up once per chunk: tallying a
    // whole file (after an upgrade) costs about what reading it does.
    for chunk in dirty.chunks(256) {
        let mut rows = Vec::new();
        let mut spans = Vec::with_capacity(chunk.len());
        for &(slot, batch) in chunk {
            let start = rows.len();
            rows.extend(report_rows(
                conn,
                // `+batch`: the time index, not every row of the batch.
                "WHERE created_at >= ?1 AND created_at < ?2 AND +batch = ?3",
                params![time_of(slot), time_of(slot + 1), batch],
            )?);
            spans.push(((slot, batch), start..rows.len()));
        }
        // A write's few rows of the live file find their context in it, unless one
        // refunds or voids a payment since archived: the archives are opened only then.
        let mut outside = context(&[conn], &rows)?;
        if !rows.is_empty() && (opened.is_some() || !all_found(own, &rows, &outside)) {
            if opened.is_none() {
                opened = Some(open_others(own)?);
            }
            let conns: Vec<&Connection> = std::iter::once(conn)
                .chain(opened.iter().flatten())
                .collect();
            outside = context(&conns, &rows)?;
        }
        let pool = Pool::of(rows.iter().chain(&outside));
        for ((slot, batch), range) in spans {
            let mine = &rows[range];
            let mut sums = Sums::default();
            sums.add_all(mine, &pool.context_of(mine), 0);
            write_slot(conn, slot, batch, &sums)?;
            days.insert((slot.div_euclid(SLOTS_PER_DAY), batch));
        }
    }
    for (day, batch) in days {
        conn.prepare_cached("DELETE FROM tally_day WHERE day = ?1 AND batch = ?2")?
            .execute(params![day, batch])?;
        conn.prepare_cached(&format!(
            "INSERT INTO tally_day (day, batch, dim, name, count, sum_minor)
             SELECT ?1, ?2, dim, name, sum(count), sum(sum_minor) FROM tally_slot
             WHERE dim IN ({DIMS}) AND slot >= ?1 * {SLOTS_PER_DAY} AND slot < (?1 + 1) * {SLOTS_PER_DAY}
               AND batch = ?2
             GROUP BY dim, name"
        ))?
        .execute(params![day, batch])?;
    }
    let mut clean =
        conn.prepare_cached("DELETE FROM tally_dirty WHERE slot = ?1 AND batch = ?2")?;
    for (slot, batch) in &dirty {
        clean.execute([slot, batch])?;
    }
    Ok(dirty.len() as i64)
}

/// Whether `own`, the live file, holds all the context of `rows`: every original they
/// name is among them or in `found`. The tip adjustments of a payment in the live file
/// are there too, being later; an archive's may not be, so an archive always looks
/// further.
fn all_found(own: &Path, rows: &[TxnRow], found: &[TxnRow]) -> bool {
    if own.file_name() != Some(std::ffi::OsStr::new(FILE_NAME)) {
        return false;
    }
    let known: HashSet<&str> = rows
        .iter()
        .chain(found)
        .map(|r| r.order_no.as_str())
        .collect();
    rows.iter()
        .filter_map(|r| r.orig_order_no.as_deref())
        .all(|o| known.contains(o))
}

/// Rows by order number, and tip adjustments by the sale they adjust: a chunk's rows
/// and their context, for one quarter hour to take what `context` would give it.
struct Pool<'a> {
    by_order: HashMap<&'a str, &'a TxnRow>,
    tips: HashMap<&'a str, Vec<&'a TxnRow>>,
}

impl<'a> Pool<'a> {
    fn of(rows: impl Iterator<Item = &'a TxnRow>) -> Pool<'a> {
        let mut pool = Pool {
            by_order: HashMap::new(),
            tips: HashMap::new(),
        };
        for r in rows {
            pool.by_order.insert(&r.order_no, r);
            if let (TxnKind::TipAdjust, Some(sale)) = (r.kind, r.orig_order_no.as_deref()) {
                pool.tips.entry(sale).or_default().push(r);
            }
        }
        pool
    }

    /// What `context` says for `rows`.
    fn context_of(&self, rows: &[TxnRow]) -> Vec<TxnRow> {
        let inside: HashSet<&str> = rows.iter().map(|r| r.order_no.as_str()).collect();
        let tips_of = |order: &str| self.tips.get(order).into_iter().flatten().copied();
        let mut found: Vec<&TxnRow> = Vec::new();
        for r in rows {
            if let Some(orig) = r.orig_order_no.as_deref().filter(|o| !inside.contains(o)) {
                found.extend(self.by_order.get(orig).copied());
                found.extend(tips_of(orig));
            }
            if r.state == TxnState::Approved && r.kind.is_sale() {
                found.extend(tips_of(&r.order_no));
            }
        }
        found.retain(|r| !inside.contains(r.order_no.as_str()));
        found.sort_by_key(|r| r.id);
        found.dedup_by_key(|r| r.id);
        found.into_iter().cloned().collect()
    }
}

fn write_slot(conn: &Connection, slot: i64, batch: i64, sums: &Sums) -> Result<(), JournalError> {
    conn.prepare_cached(&format!(
        "DELETE FROM tally_slot WHERE dim IN ({DIMS}) AND slot = ?1 AND batch = ?2"
    ))?
    .execute(params![slot, batch])?;
    if sums.rows == 0 {
        // Emptied by an archive run: the store keeps what it copied.
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO tally_outbox (slot, batch)
         SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM meta WHERE key = 'outbox')",
    )?
    .execute(params![slot, batch])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO tally_slot (dim, slot, batch, name, count, sum_minor)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    insert.execute(params!["rows", slot, batch, "", sums.rows, 0])?;
    let approved: i64 = sums.lanes.groups().map(|g| g.count).sum();
    insert.execute(params!["net", slot, batch, "", approved, sums.net])?;
    for (dim, groups) in [
        ("lane", &sums.lanes),
        ("kind", &sums.kinds),
        ("brand", &sums.brands),
    ] {
        for g in groups.groups() {
            insert.execute(params![dim, slot, batch, g.name, g.count, g.sum_minor])?;
        }
    }
    Ok(())
}

/// When a quarter hour starts, written as the journal writes times.
fn time_of(slot: i64) -> String {
    chrono::DateTime::from_timestamp(slot * SLOT_SECS, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// How the quarter hours `[first, end)` are read: the UTC days `days` whole from
/// their totals, and the quarter hours `ends` before and after them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spans {
    pub days: Option<(i64, i64)>,
    pub ends: Vec<(i64, i64)>,
}

pub fn spans((first, end): (i64, i64)) -> Spans {
    let first_day =
        first.div_euclid(SLOTS_PER_DAY) + i64::from(first.rem_euclid(SLOTS_PER_DAY) != 0);
    let end_day = end.div_euclid(SLOTS_PER_DAY);
    let ends = if first_day < end_day {
        vec![
            (first, first_day * SLOTS_PER_DAY),
            (end_day * SLOTS_PER_DAY, end),
        ]
    } else {
        vec![(first, end)]
    };
    Spans {
        days: (first_day < end_day).then_some((first_day, end_day)),
        ends: ends.into_iter().filter(|(a, b)| a < b).collect(),
    }
}

/// The quarter hours `[first, end)` of a period of local dates, or None when the
/// zone's offset is not whole quarter hours (its days do not start on one).
pub fn slots_of(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    utc_offset_secs: i32,
) -> Option<(i64, i64)> {
    let offset = i64::from(utc_offset_secs);
    if offset % SLOT_SECS != 0 {
        return None;
    }
    let slot =
        |d: NaiveDate| (d.and_time(NaiveTime::MIN).and_utc().timestamp() - offset) / SLOT_SECS;
    let first = from.map_or(0, slot);
    let end = to.and_then(|d| d.succ_opt()).map_or(i64::MAX / 2, slot);
    Some((first, end))
}

/// What the totals of one file say of the quarter hours `[first, end)` of the batches
/// `batches` (all when None), leaving out the batches in `skip` (counted from another
/// file); and the batches counted here.
pub(super) fn read(
    conn: &Connection,
    (first, end): (i64, i64),
    batches: Option<(i64, i64)>,
    utc_offset_secs: i32,
    skip: &HashSet<i64>,
) -> Result<(Sums, HashSet<i64>), JournalError> {
    let wanted = |batch: i64| {
        !skip.contains(&batch) && batches.is_none_or(|(lo, hi)| (lo..=hi).contains(&batch))
    };
    let mut sums = Sums::default();
    let mut counted = HashSet::new();
    // The hours, and the net, from every quarter hour.
    let mut stmt = conn.prepare_cached(
        "SELECT slot, batch, count, sum_minor FROM tally_slot
         WHERE dim = 'net' AND slot >= ?1 AND slot < ?2",
    )?;
    let mut rows = stmt.query(params![first, end])?;
    while let Some(r) = rows.next()? {
        let (slot, batch): (i64, i64) = (r.get(0)?, r.get(1)?);
        if !wanted(batch) {
            continue;
        }
        counted.insert(batch);
        let (count, sum): (i64, i64) = (r.get(2)?, r.get(3)?);
        sums.net += sum;
        if count > 0 {
            // Only approved rows make an hour, as when rows are tallied.
            let local = slot * SLOT_SECS + i64::from(utc_offset_secs);
            let hour = u32::try_from(local.div_euclid(3600).rem_euclid(24)).unwrap_or(0);
            sums.hours.add_hour(hour, count, sum);
        }
    }
    // The groups: whole UTC days from their totals, the ends from their quarter hours.
    let spans = spans((first, end));
    const DAYS: &str = "SELECT batch, dim, name, count, sum_minor FROM tally_day
         WHERE day >= ?1 AND day < ?2 AND dim != 'net'";
    const ENDS: &str = "SELECT batch, dim, name, count, sum_minor FROM tally_slot
         WHERE dim IN ('rows', 'lane', 'kind', 'brand') AND slot >= ?1 AND slot < ?2";
    let parts = spans
        .days
        .map(|(a, b)| (DAYS, a, b))
        .into_iter()
        .chain(spans.ends.into_iter().map(|(a, b)| (ENDS, a, b)));
    for (sql, a, b) in parts {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params![a, b])?;
        while let Some(r) = rows.next()? {
            let batch: i64 = r.get(0)?;
            if !wanted(batch) {
                continue;
            }
            let (count, sum): (i64, i64) = (r.get(3)?, r.get(4)?);
            let dim = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            let name = r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
            match dim {
                "rows" => sums.rows += count,
                "lane" => sums.lanes.add_named(name, count, sum),
                "kind" => sums.kinds.add_named(name, count, sum),
                "brand" => sums.brands.add_named(name, count, sum),
                _ => {}
            }
        }
    }
    Ok((sums, counted))
}
