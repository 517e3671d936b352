//! Totals kept beside the rows, so that a report over a year reads a few thousand
//! totals instead of a million rows.
//!
//! Each quarter hour (UTC, the generated column `txn.slot`) of each batch keeps the
//! report's own tally of its rows (`tally_slot`), and each UTC day the sum of its
//! quarter hours (`tally_day`). Quarter hours, because every time zone's day and hour
//! start on one; days, so a long period reads one total per day and quarter hours only
//! at its two ends and for the hours of the day.
//!
//! The totals are kept by adding and subtracting: each row's share of them (what it
//! counts for, `tally_row`) is kept beside it. A change to a row marks dirty the rows
//! whose share it can move (triggers, so no write path can forget): itself, its
//! original (a tip adjustment changes the sale's tip) and the rows that refer to
//! either (a void gives back its sale's tip; a refund is counted under its sale's
//! brand). Before a write commits, the old shares of its dirty rows are taken from the
//! totals and their new ones added, so a write costs what it changed, whatever its
//! quarter hour holds. A file with dirty rows left (one written by an older release,
//! or an archive whose copy stopped half-way) is not trusted: the report tallies its
//! rows instead.

use crate::progress::Progress;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::report::{Moved, Sums, context, each_move};
use super::{FILE_NAME, JournalError, TxnRow, years};

pub(crate) const SLOT_SECS: i64 = 900;
pub(crate) const SLOTS_PER_DAY: i64 = 96;

/// `rows`: every row of the quarter hour; `net`: its approved rows and what they moved.
pub(super) const DIMS: &str = "'rows', 'net', 'lane', 'kind', 'brand'";

/// Whether the file's totals can be read as they are.
pub(super) fn fresh(conn: &Connection) -> Result<bool, JournalError> {
    if super::schema::version(conn)? < super::schema::SHARES {
        return Ok(false);
    }
    let dirty: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM tally_dirty_row)")?
        .query_row([], |r| r.get(0))?;
    Ok(!dirty)
}

/// Drops every total of the file and marks every row dirty, at once, for
/// `refresh_all` to tally them all again.
pub(super) fn forget(conn: &mut Connection) -> Result<(), JournalError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "DELETE FROM tally_slot; DELETE FROM tally_day; DELETE FROM tally_row;
         INSERT OR IGNORE INTO tally_dirty_row (id) SELECT id FROM txn;",
    )?;
    tx.commit()?;
    Ok(())
}

/// The files `others` names that exist, opened to read.
fn open_others(own: &Path) -> Result<Vec<Connection>, JournalError> {
    others(own)?
        .iter()
        .filter(|p| p.exists())
        .map(|p| years::read_only(p))
        .collect()
}

/// The journal and archive files beside `own`, apart from it: where the originals of
/// its rows may be.
fn others(own: &Path) -> Result<Vec<PathBuf>, JournalError> {
    let dir = own.parent().unwrap_or(Path::new("."));
    let live = dir.join(FILE_NAME);
    let mut files: Vec<PathBuf> = years::files_in(dir)?.into_iter().map(|a| a.path).collect();
    files.insert(0, live);
    files.retain(|p| p != own);
    Ok(files)
}

/// The most dirty rows a write tallies before it commits: its own few. More are a
/// backlog (an upgrade's) that the next open tallies, in turns; a payment's write never
/// waits for it.
const WRITE_LIMIT: usize = 256;

/// How many dirty rows one turn of `refresh_all` tallies in a write transaction.
const TURN: usize = 4096;

/// The pause after each turn (about 40 ms of work), so a waiting writer gets the lock.
const BETWEEN_TURNS: Duration = Duration::from_millis(3);

/// Tallies the dirty rows a write left, inside its transaction, unless they are a
/// backlog. Returns how many it tallied.
pub(super) fn refresh_own(conn: &Connection, own: &Path) -> Result<usize, JournalError> {
    let ids = dirty(conn, WRITE_LIMIT + 1)?;
    if ids.len() > WRITE_LIMIT {
        return Ok(0);
    }
    refresh(conn, own, &ids)
}

/// Tallies every dirty row of the file at `own`, a turn of `TURN` per write
/// transaction, so another process that writes waits at most one turn.
pub(super) fn refresh_all(
    conn: &mut Connection,
    own: &Path,
    progress: &Progress,
) -> Result<(), JournalError> {
    let backlog: i64 = conn.query_row("SELECT COUNT(*) FROM tally_dirty_row", [], |r| r.get(0))?;
    if backlog > 0 {
        progress.start(
            "tallying report totals",
            "rows",
            u64::try_from(backlog).unwrap_or(0),
        );
    }
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids = dirty(&tx, TURN)?;
        let done = refresh(&tx, own, &ids)?;
        tx.commit()?;
        progress.add(u64::try_from(done).unwrap_or(0));
        if done < TURN {
            progress.finish();
            return Ok(());
        }
        // A writer waiting for the lock (a sale, an opening) asks again every
        // millisecond (`open::wait_for_the_lock`): this is its turn.
        std::thread::sleep(BETWEEN_TURNS);
    }
}

/// The files whose totals a thread of this process is tallying (`tally_behind`).
static RUNNING: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// Whether this process is tallying the totals of the file at `own` behind its opening.
pub(super) fn tallying_behind(own: &Path) -> bool {
    RUNNING.lock().is_ok_and(|r| r.contains(own))
}

/// Tallies the backlog of the file at `own` on a thread of its own, with a connection
/// of its own, a turn at a time: whoever opened the journal goes on at once, and a
/// report meanwhile tallies the rows of a file whose totals are behind. One such
/// thread per file in a process; a process that exits first leaves the rest to the
/// next open.
pub(super) fn tally_behind(own: &Path) {
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
                refresh_all(&mut conn, &own, &Progress::hidden())
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

/// The first `limit` dirty rows, oldest first.
fn dirty(conn: &Connection, limit: usize) -> Result<Vec<i64>, JournalError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached("SELECT id FROM tally_dirty_row ORDER BY id LIMIT ?1")?;
    let ids = stmt
        .query_map([limit], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Takes the old shares of the rows `ids` (of the file at `own`, open as `conn`,
/// inside the caller's write transaction) from the totals and adds their new ones.
/// Returns how many rows it tallied.
fn refresh(conn: &Connection, own: &Path, ids: &[i64]) -> Result<usize, JournalError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let (rows, slots) = rows_and_slots(conn, ids)?;
    // A write's few rows of the live file find their context in it, unless one
    // refunds or voids a payment since archived: the archives are opened only then.
    let mut outside = context(&[conn], &rows)?;
    if !rows.is_empty() && !all_found(own, &rows, &outside) {
        let opened = open_others(own)?;
        let conns: Vec<&Connection> = std::iter::once(conn).chain(&opened).collect();
        outside = context(&conns, &rows)?;
    }
    let mut moves: HashMap<i64, Moved> = HashMap::with_capacity(rows.len());
    each_move(&rows, &outside, |r, m| {
        moves.insert(r.id, m);
    });
    let mut delta = Delta::default();
    take_old_shares(conn, ids, &mut delta)?;
    let present = keep_new_shares(conn, &rows, &slots, &moves, &mut delta)?;
    let mut gone = conn.prepare_cached("DELETE FROM tally_row WHERE id = ?1")?;
    let mut clean = conn.prepare_cached("DELETE FROM tally_dirty_row WHERE id = ?1")?;
    for id in ids {
        if !present.contains(id) {
            gone.execute([id])?;
        }
        clean.execute([id])?;
    }
    delta.apply(conn)?;
    Ok(ids.len())
}

/// The rows `ids` still in the file and the quarter hour (slot) of each.
fn rows_and_slots(
    conn: &Connection,
    ids: &[i64],
) -> Result<(Vec<TxnRow>, HashMap<i64, i64>), JournalError> {
    let mut rows = Vec::with_capacity(ids.len());
    let mut slots = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(400) {
        let marks = vec!["?"; chunk.len()].join(",");
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {}, slot FROM txn WHERE id IN ({marks})",
            super::report::REPORT_COLUMNS
        ))?;
        let mut found = stmt.query(rusqlite::params_from_iter(chunk))?;
        while let Some(r) = found.next()? {
            let row: TxnRow = super::raw_row(r)?.try_into()?;
            slots.insert(row.id, r.get::<_, i64>(30)?);
            rows.push(row);
        }
    }
    Ok((rows, slots))
}

/// Takes the shares the rows `ids` had in the totals out of `delta`.
fn take_old_shares(conn: &Connection, ids: &[i64], delta: &mut Delta) -> Result<(), JournalError> {
    let mut stored = conn.prepare_cached(
        "SELECT slot, batch, lane, kind, approved, net, kind_sum, tip, cashback, brand, brand_sum
         FROM tally_row WHERE id = ?1",
    )?;
    for &id in ids {
        let old = stored
            .query_row([id], |r| {
                Ok(Share {
                    slot: r.get(0)?,
                    batch: r.get(1)?,
                    lane: r.get(2)?,
                    kind: r.get(3)?,
                    approved: r.get(4)?,
                    net: r.get(5)?,
                    kind_sum: r.get(6)?,
                    tip: r.get(7)?,
                    cashback: r.get(8)?,
                    brand: r.get(9)?,
                    brand_sum: r.get(10)?,
                })
            })
            .optional()?;
        if let Some(old) = old {
            delta.count(&old, -1);
        }
    }
    Ok(())
}

/// Stores the new share of each row and adds it to `delta`; returns the ids stored.
fn keep_new_shares(
    conn: &Connection,
    rows: &[TxnRow],
    slots: &HashMap<i64, i64>,
    moves: &HashMap<i64, Moved>,
    delta: &mut Delta,
) -> Result<HashSet<i64>, JournalError> {
    let mut keep = conn.prepare_cached(
        "INSERT OR REPLACE INTO tally_row
            (id, slot, batch, lane, kind, approved, net, kind_sum, tip, cashback, brand, brand_sum)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut present = HashSet::with_capacity(rows.len());
    for r in rows {
        let share = Share::of(r, slots[&r.id], moves.get(&r.id));
        delta.count(&share, 1);
        keep.execute(params![
            r.id,
            share.slot,
            share.batch,
            share.lane,
            share.kind,
            share.approved,
            share.net,
            share.kind_sum,
            share.tip,
            share.cashback,
            share.brand,
            share.brand_sum
        ])?;
        present.insert(r.id);
    }
    Ok(present)
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

/// One row's share of its quarter hour's totals: a row of every state; an approved
/// row also what it moved (`report::Moved`) on its lane's, kind's and brand's lines.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Share {
    slot: i64,
    batch: i64,
    lane: String,
    kind: String,
    approved: bool,
    net: i64,
    kind_sum: Option<i64>,
    tip: i64,
    cashback: i64,
    brand: Option<String>,
    brand_sum: i64,
}

impl Share {
    fn of(r: &TxnRow, slot: i64, moved: Option<&Moved>) -> Share {
        let m = moved.copied().unwrap_or_default();
        Share {
            slot,
            batch: r.batch,
            lane: r.lane.clone(),
            kind: r.kind.name().to_string(),
            approved: moved.is_some(),
            net: m.net,
            kind_sum: m.kind_sum,
            tip: m.tip,
            cashback: m.cashback,
            brand: m.brand.map(|(b, _)| b.to_string()),
            brand_sum: m.brand.map_or(0, |(_, s)| s),
        }
    }

    /// The lines of the quarter hour's totals it counts on: (dim, name, count, sum).
    fn lines(&self) -> Vec<(&'static str, &str, i64, i64)> {
        let mut out = vec![
            ("rows", "", 1, 0),
            ("net", "", i64::from(self.approved), self.net),
        ];
        if !self.approved {
            return out;
        }
        out.push(("lane", &self.lane, 1, self.net));
        if let Some(sum) = self.kind_sum {
            out.push(("kind", &self.kind, 1, sum));
        }
        if self.tip > 0 {
            out.push(("kind", "tips", 1, self.tip));
        }
        if self.cashback > 0 {
            out.push(("kind", "cash-back", 1, self.cashback));
        }
        if let Some(brand) = &self.brand {
            out.push(("brand", brand, 1, self.brand_sum));
        }
        out
    }
}

/// What a write changes in the totals: per quarter hour, batch, dim and name, the
/// count and sum to add.
#[derive(Default)]
struct Delta(BTreeMap<(i64, i64, &'static str, String), (i64, i64)>);

impl Delta {
    /// Adds a share's lines (`sign` 1) or takes them away (-1).
    fn count(&mut self, share: &Share, sign: i64) {
        for (dim, name, count, sum) in share.lines() {
            let d = self
                .0
                .entry((share.slot, share.batch, dim, name.to_string()))
                .or_default();
            d.0 += sign * count;
            d.1 += sign * sum;
        }
    }

    /// Writes the changes into the quarter hours' and days' totals. A line whose count
    /// drops to zero goes (the net stays while its quarter hour has rows); a quarter
    /// hour or day left without rows goes whole. A quarter hour that still has rows is
    /// queued for the store.
    fn apply(self, conn: &Connection) -> Result<(), JournalError> {
        let (slots, days) = self.add(conn)?;
        tidy_slots(conn, slots)?;
        tidy_days(conn, days)
    }

    /// Adds the changes to the quarter hours' and days' lines; returns the quarter
    /// hours and days written.
    fn add(self, conn: &Connection) -> Result<(Written, Written), JournalError> {
        let mut slot_add = conn.prepare_cached(
            "INSERT INTO tally_slot (dim, slot, batch, name, count, sum_minor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (dim, slot, batch, name)
             DO UPDATE SET count = count + excluded.count, sum_minor = sum_minor + excluded.sum_minor",
        )?;
        let mut day_add = conn.prepare_cached(
            "INSERT INTO tally_day (day, batch, dim, name, count, sum_minor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (day, batch, dim, name)
             DO UPDATE SET count = count + excluded.count, sum_minor = sum_minor + excluded.sum_minor",
        )?;
        let mut slots = Written::new();
        let mut days = Written::new();
        let mut by_day: BTreeMap<(i64, i64, &str, String), (i64, i64)> = BTreeMap::new();
        for ((slot, batch, dim, name), (count, sum)) in self.0 {
            if (count, sum) == (0, 0) && dim != "net" {
                continue;
            }
            slot_add.execute(params![dim, slot, batch, name, count, sum])?;
            *slots.entry((slot, batch)).or_default() |= count < 0;
            let day = slot.div_euclid(SLOTS_PER_DAY);
            let d = by_day.entry((day, batch, dim, name)).or_default();
            d.0 += count;
            d.1 += sum;
        }
        for ((day, batch, dim, name), (count, sum)) in by_day {
            day_add.execute(params![day, batch, dim, name, count, sum])?;
            *days.entry((day, batch)).or_default() |= count < 0;
        }
        Ok((slots, days))
    }
}

/// Quarter hours (or days) written, by batch, and whether a count of theirs went down.
type Written = BTreeMap<(i64, i64), bool>;

/// Drops the emptied lines of the quarter hours written, or the quarter hour whole
/// when it has no rows left; queues the others for the store.
fn tidy_slots(conn: &Connection, slots: Written) -> Result<(), JournalError> {
    let rows_of_slot = |slot: i64, batch: i64| -> Result<i64, JournalError> {
        Ok(conn
            .prepare_cached(
                "SELECT count FROM tally_slot WHERE dim = 'rows' AND slot = ?1 AND batch = ?2 AND name = ''",
            )?
            .query_row([slot, batch], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    };
    for ((slot, batch), fell) in slots {
        if fell && rows_of_slot(slot, batch)? == 0 {
            // Emptied by an archive run: the store keeps what it copied.
            conn.prepare_cached(&format!(
                "DELETE FROM tally_slot WHERE dim IN ({DIMS}) AND slot = ?1 AND batch = ?2"
            ))?
            .execute([slot, batch])?;
            continue;
        }
        if fell {
            conn.prepare_cached(
                "DELETE FROM tally_slot WHERE dim IN ('lane', 'kind', 'brand')
                 AND slot = ?1 AND batch = ?2 AND count = 0",
            )?
            .execute([slot, batch])?;
        }
        conn.prepare_cached(
            "INSERT OR REPLACE INTO tally_outbox (slot, batch)
             SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM meta WHERE key = 'outbox')",
        )?
        .execute([slot, batch])?;
    }
    Ok(())
}

/// Drops the emptied lines of the days whose counts went down, or the day whole when
/// it has no rows left.
fn tidy_days(conn: &Connection, days: Written) -> Result<(), JournalError> {
    for (day, batch) in days.into_iter().filter(|(_, fell)| *fell).map(|(k, _)| k) {
        let rows: i64 = conn
            .prepare_cached(
                "SELECT count FROM tally_day WHERE day = ?1 AND batch = ?2 AND dim = 'rows' AND name = ''",
            )?
            .query_row([day, batch], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        if rows == 0 {
            conn.prepare_cached("DELETE FROM tally_day WHERE day = ?1 AND batch = ?2")?
                .execute([day, batch])?;
        } else {
            conn.prepare_cached(
                "DELETE FROM tally_day WHERE day = ?1 AND batch = ?2 AND count = 0 AND dim <> 'net'",
            )?
            .execute([day, batch])?;
        }
    }
    Ok(())
}

/// How the quarter hours `[first, end)` are read: the UTC days `days` whole from
/// their totals, and the quarter hours `ends` before and after them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Spans {
    pub(crate) days: Option<(i64, i64)>,
    pub(crate) ends: Vec<(i64, i64)>,
}

pub(crate) fn spans((first, end): (i64, i64)) -> Spans {
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
pub(crate) fn slots_of(
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
