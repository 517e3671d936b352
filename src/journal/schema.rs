//! Versioned migrations. `PRAGMA user_version` holds the version; each step runs once,
//! in one transaction, so a later release can upgrade an existing file.

use rusqlite::Connection;

/// Each entry upgrades from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // v1: transactions, their audit trail, batches, order-number sequences.
    "
    CREATE TABLE txn (
        id              INTEGER PRIMARY KEY,
        order_no        TEXT NOT NULL UNIQUE,
        request_id      TEXT NOT NULL,
        kind            TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('pending','approved','declined','unknown')),
        amount_minor    INTEGER NOT NULL CHECK (amount_minor >= 0),
        tip_minor       INTEGER,
        cashback_minor  INTEGER,
        currency        TEXT NOT NULL,
        exponent        INTEGER NOT NULL,
        orig_order_no   TEXT,
        lane            TEXT NOT NULL,
        scenario        TEXT,
        batch           INTEGER NOT NULL,
        created_at      TEXT NOT NULL,
        sent_at         TEXT,
        updated_at      TEXT NOT NULL,
        response_code   TEXT,
        response_msg    TEXT,
        trans_no        TEXT,
        trans_status    TEXT,
        brand           TEXT,
        card            TEXT,
        auth_code       TEXT,
        ref_no          TEXT,
        entry_mode      TEXT,
        raw             TEXT
    );
    CREATE INDEX txn_state ON txn(state);
    CREATE INDEX txn_batch ON txn(batch);
    CREATE INDEX txn_orig ON txn(orig_order_no);
    CREATE TABLE audit (
        id        INTEGER PRIMARY KEY,
        order_no  TEXT NOT NULL,
        at        TEXT NOT NULL,
        who       TEXT NOT NULL,
        from_state TEXT,
        to_state  TEXT NOT NULL,
        why       TEXT NOT NULL
    );
    CREATE INDEX audit_order ON audit(order_no);
    CREATE TABLE batch (
        number          INTEGER PRIMARY KEY,
        opened_at       TEXT NOT NULL,
        closed_at       TEXT,
        journal_totals  TEXT,
        terminal_reply  TEXT
    );
    CREATE TABLE order_seq (
        lane  TEXT PRIMARY KEY,
        next  INTEGER NOT NULL
    );
    ",
    // v2: the journal's identity (part of every order number, so a journal started
    // beside an old one never reuses its numbers) and the amount each row asked for,
    // apart from the amount the terminal says moved.
    "
    CREATE TABLE meta (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    );
    ALTER TABLE txn ADD COLUMN asked_minor INTEGER;
    CREATE INDEX txn_lane_state ON txn(lane, state);
    ",
    // v3: search over a year of rows. The order number's sequence (the digits after its
    // last dash) and the masked card's last four are virtual columns, so every write
    // path fills them and an existing file is backfilled by building their indexes.
    // Each filter a search offers has an index; with an equality on one of them the
    // rows come in id order, so a page never sorts the whole journal.
    "
    ALTER TABLE txn ADD COLUMN order_tail INTEGER GENERATED ALWAYS AS (
        CASE WHEN substr(order_no, length(rtrim(order_no, replace(order_no, '-', ''))) + 1)
                  NOT GLOB '*[^0-9]*'
             THEN CAST(substr(order_no, length(rtrim(order_no, replace(order_no, '-', ''))) + 1) AS INTEGER)
        END) VIRTUAL;
    ALTER TABLE txn ADD COLUMN card_last4 TEXT GENERATED ALWAYS AS (substr(card, -4)) VIRTUAL;
    CREATE INDEX txn_tail ON txn(order_tail);
    CREATE INDEX txn_last4 ON txn(card_last4);
    CREATE INDEX txn_auth ON txn(auth_code COLLATE NOCASE);
    CREATE INDEX txn_amount ON txn(amount_minor);
    CREATE INDEX txn_created ON txn(created_at);
    CREATE INDEX txn_kind ON txn(kind);
    CREATE INDEX txn_lane ON txn(lane);
    ",
    // v4: the outbox the store copies from. A row or audit line that changes is queued
    // (again, under a new sequence number, so a change made while a copy is in flight
    // is copied once more); only once a store is in use (`meta.outbox`), so a lane
    // without one keeps no queue.
    "
    CREATE TABLE outbox (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        tbl     TEXT NOT NULL CHECK (tbl IN ('txn', 'audit')),
        row_id  INTEGER NOT NULL,
        UNIQUE (tbl, row_id)
    );
    CREATE TRIGGER outbox_txn_insert AFTER INSERT ON txn
        WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'outbox')
        BEGIN INSERT OR REPLACE INTO outbox (tbl, row_id) VALUES ('txn', NEW.id); END;
    CREATE TRIGGER outbox_txn_update AFTER UPDATE ON txn
        WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'outbox')
        BEGIN INSERT OR REPLACE INTO outbox (tbl, row_id) VALUES ('txn', NEW.id); END;
    CREATE TRIGGER outbox_audit_insert AFTER INSERT ON audit
        WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'outbox')
        BEGIN INSERT OR REPLACE INTO outbox (tbl, row_id) VALUES ('audit', NEW.id); END;
    ",
    // v5: rows sent through the vendor's cloud Open API say so, and for which terminal
    // (NULL: the lane's own terminal over the LAN, as every earlier row was).
    "
    ALTER TABLE txn ADD COLUMN via TEXT;
    ALTER TABLE txn ADD COLUMN terminal_sn TEXT;
    ",
    // v6: the report's totals per quarter hour and per day of each batch (see
    // `rollup`), marked dirty by triggers when a row they count changes. Every quarter
    // hour that has rows starts dirty, so the first open tallies an existing file. A
    // store copies a quarter hour's totals again once they change (`tally_outbox`).
    // `slot` has no index (an integrity check would compute it for every row): a
    // quarter hour's rows are found through `created_at`.
    "
    ALTER TABLE txn ADD COLUMN slot INTEGER GENERATED ALWAYS AS (
        CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) / 900) VIRTUAL;
    CREATE TABLE tally_slot (
        dim        TEXT NOT NULL,
        slot       INTEGER NOT NULL,
        batch      INTEGER NOT NULL,
        name       TEXT NOT NULL,
        count      INTEGER NOT NULL,
        sum_minor  INTEGER NOT NULL,
        PRIMARY KEY (dim, slot, batch, name)
    ) WITHOUT ROWID;
    CREATE TABLE tally_day (
        day        INTEGER NOT NULL,
        batch      INTEGER NOT NULL,
        dim        TEXT NOT NULL,
        name       TEXT NOT NULL,
        count      INTEGER NOT NULL,
        sum_minor  INTEGER NOT NULL,
        PRIMARY KEY (day, batch, dim, name)
    ) WITHOUT ROWID;
    CREATE TABLE tally_dirty (
        slot   INTEGER NOT NULL,
        batch  INTEGER NOT NULL,
        PRIMARY KEY (slot, batch)
    ) WITHOUT ROWID;
    CREATE TRIGGER tally_txn_insert AFTER INSERT ON txn BEGIN
        INSERT OR IGNORE INTO tally_dirty (slot, batch)
            SELECT slot, batch FROM txn WHERE id = NEW.id OR order_no = NEW.orig_order_no
                OR orig_order_no = NEW.order_no OR orig_order_no = NEW.orig_order_no;
    END;
    CREATE TRIGGER tally_txn_update AFTER UPDATE OF
        order_no, kind, state, amount_minor, tip_minor, cashback_minor, orig_order_no, lane,
        batch, created_at, brand ON txn BEGIN
        INSERT OR IGNORE INTO tally_dirty (slot, batch) VALUES (OLD.slot, OLD.batch);
        INSERT OR IGNORE INTO tally_dirty (slot, batch)
            SELECT slot, batch FROM txn WHERE id = NEW.id OR order_no = NEW.orig_order_no
                OR orig_order_no = NEW.order_no OR orig_order_no = NEW.orig_order_no;
    END;
    CREATE TRIGGER tally_txn_delete AFTER DELETE ON txn BEGIN
        INSERT OR IGNORE INTO tally_dirty (slot, batch) VALUES (OLD.slot, OLD.batch);
    END;
    INSERT OR IGNORE INTO tally_dirty (slot, batch) SELECT slot, batch FROM txn;
    CREATE TABLE tally_outbox (
        seq    INTEGER PRIMARY KEY AUTOINCREMENT,
        slot   INTEGER NOT NULL,
        batch  INTEGER NOT NULL,
        UNIQUE (slot, batch)
    );
    ",
    // v7: batches are per lane, numbered from one sequence across lanes. Closed batches
    // keep no lane (NULL: every lane's rows, as they were settled). The one open batch
    // is split: the lane of its first row keeps its number, each other lane gets the
    // next numbers (in the order of its first row) with the same opening time, and its
    // rows move there (the tally triggers mark their totals to count again, the outbox
    // copies them again). An open batch without rows is dropped: a lane opens its own
    // when it first needs one.
    "
    ALTER TABLE batch ADD COLUMN lane TEXT;
    UPDATE batch SET lane = (SELECT upper(t.lane) FROM txn t WHERE t.batch = batch.number ORDER BY t.id LIMIT 1)
        WHERE closed_at IS NULL;
    INSERT INTO batch (number, opened_at, lane)
        SELECT (SELECT MAX(number) FROM batch) + row_number() OVER (ORDER BY MIN(t.id)),
               b.opened_at, upper(t.lane)
        FROM txn t JOIN batch b ON b.number = t.batch AND b.closed_at IS NULL
        WHERE upper(t.lane) <> b.lane
        GROUP BY upper(t.lane);
    UPDATE txn SET batch = (SELECT b.number FROM batch b WHERE b.closed_at IS NULL AND b.lane = upper(txn.lane))
        WHERE batch IN (SELECT number FROM batch WHERE closed_at IS NULL);
    DELETE FROM batch WHERE closed_at IS NULL AND lane IS NULL;
    CREATE UNIQUE INDEX batch_open_lane ON batch(lane) WHERE closed_at IS NULL;
    ",
    // v8: totals kept by adding and subtracting (see `rollup`): each row's share of
    // its quarter hour's totals is kept beside it (`tally_row`), and triggers mark the
    // rows whose share a change can move (`tally_dirty_row`) instead of whole quarter
    // hours. Every total is tallied again, once, from the rows, shares with them.
    // (Written to run again over its own result, as a file put back to an older
    // version says it must.)
    "
    DROP TRIGGER IF EXISTS tally_txn_insert;
    DROP TRIGGER IF EXISTS tally_txn_update;
    DROP TRIGGER IF EXISTS tally_txn_delete;
    DROP TABLE IF EXISTS tally_dirty;
    CREATE TABLE IF NOT EXISTS tally_row (
        id         INTEGER PRIMARY KEY,
        slot       INTEGER NOT NULL,
        batch      INTEGER NOT NULL,
        lane       TEXT NOT NULL,
        kind       TEXT NOT NULL,
        approved   INTEGER NOT NULL,
        net        INTEGER NOT NULL,
        kind_sum   INTEGER,
        tip        INTEGER NOT NULL,
        cashback   INTEGER NOT NULL,
        brand      TEXT,
        brand_sum  INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS tally_dirty_row (id INTEGER PRIMARY KEY);
    CREATE TRIGGER tally_txn_insert AFTER INSERT ON txn BEGIN
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT NEW.id
            UNION SELECT id FROM txn WHERE order_no = NEW.orig_order_no
            UNION SELECT id FROM txn WHERE orig_order_no IN (NEW.order_no, NEW.orig_order_no);
    END;
    CREATE TRIGGER tally_txn_update AFTER UPDATE OF
        order_no, kind, state, amount_minor, tip_minor, cashback_minor, orig_order_no, lane,
        batch, created_at, brand ON txn BEGIN
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT NEW.id
            UNION SELECT id FROM txn WHERE order_no IN (NEW.orig_order_no, OLD.orig_order_no)
            UNION SELECT id FROM txn
                WHERE orig_order_no IN (NEW.order_no, OLD.order_no, NEW.orig_order_no, OLD.orig_order_no);
    END;
    CREATE TRIGGER tally_txn_delete AFTER DELETE ON txn BEGIN
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT OLD.id
            UNION SELECT id FROM txn WHERE order_no = OLD.orig_order_no
            UNION SELECT id FROM txn WHERE orig_order_no IN (OLD.order_no, OLD.orig_order_no);
    END;
    DELETE FROM tally_slot;
    DELETE FROM tally_day;
    DELETE FROM tally_row;
    INSERT OR IGNORE INTO tally_dirty_row (id) SELECT id FROM txn;
    ",
    // v9: the indexes that find a card's last four, an authorization code or the
    // follow-ups of an original hold only the rows that have one. A row is admitted
    // without any of them (a sale names no original, the card comes with the answer),
    // so the commit a request waits for before it is sent writes three index pages
    // fewer. Every search for one of them names it, so the planner still uses them.
    "
    DROP INDEX IF EXISTS txn_last4;
    CREATE INDEX txn_last4 ON txn(card_last4) WHERE card_last4 IS NOT NULL;
    DROP INDEX IF EXISTS txn_auth;
    CREATE INDEX txn_auth ON txn(auth_code COLLATE NOCASE) WHERE auth_code IS NOT NULL;
    DROP INDEX IF EXISTS txn_orig;
    CREATE INDEX txn_orig ON txn(orig_order_no) WHERE orig_order_no IS NOT NULL;
    ",
    // v10: the same marks as v8's triggers, one lookup a statement: a `UNION` or an
    // `IN` list over an index builds a temporary b-tree, and a page cache with it, in
    // every write (about a third of an approval's time). `INSERT OR IGNORE` drops the
    // repeats the `UNION` did; a lookup of NULL finds nothing, as `IN` did.
    "
    DROP TRIGGER IF EXISTS tally_txn_insert;
    DROP TRIGGER IF EXISTS tally_txn_update;
    DROP TRIGGER IF EXISTS tally_txn_delete;
    CREATE TRIGGER tally_txn_insert AFTER INSERT ON txn BEGIN
        INSERT OR IGNORE INTO tally_dirty_row (id) VALUES (NEW.id);
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT id FROM txn WHERE order_no = NEW.orig_order_no;
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT id FROM txn WHERE orig_order_no = NEW.order_no;
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT id FROM txn WHERE orig_order_no = NEW.orig_order_no;
    END;
    CREATE TRIGGER tally_txn_update AFTER UPDATE OF
        order_no, kind, state, amount_minor, tip_minor, cashback_minor, orig_order_no, lane,
        batch, created_at, brand ON txn BEGIN
        INSERT OR IGNORE INTO tally_dirty_row (id) VALUES (NEW.id);
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT id FROM txn WHERE order_no = NEW.orig_order_no;
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT id FROM txn WHERE order_no = OLD.orig_order_no;
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT id FROM txn WHERE orig_order_no = NEW.order_no;
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT id FROM txn WHERE orig_order_no = OLD.order_no;
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT id FROM txn WHERE orig_order_no = NEW.orig_order_no;
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT id FROM txn WHERE orig_order_no = OLD.orig_order_no;
    END;
    CREATE TRIGGER tally_txn_delete AFTER DELETE ON txn BEGIN
        INSERT OR IGNORE INTO tally_dirty_row (id) VALUES (OLD.id);
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT id FROM txn WHERE order_no = OLD.orig_order_no;
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT id FROM txn WHERE orig_order_no = OLD.order_no;
        INSERT OR IGNORE INTO tally_dirty_row (id)
            SELECT id FROM txn WHERE orig_order_no = OLD.orig_order_no;
    END;
    ",
];

/// The first version that keeps each row's share of the totals (`rollup`).
pub(super) const SHARES: i64 = 8;

pub(super) const CURRENT: i64 = MIGRATIONS.len() as i64;

/// The file's schema version.
pub(super) fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies the migrations the file lacks, all in one transaction: a new journal's
/// schema costs one durable commit, and an upgrade is whole or not at all.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<i64> {
    migrate_then(conn, |_| Ok(()))
}

/// `migrate`, then `then` in the same transaction when there was anything to apply.
/// Returns the version found before.
pub(super) fn migrate_then(
    conn: &mut Connection,
    then: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<()>,
) -> rusqlite::Result<i64> {
    let found = version(conn)?;
    if found >= CURRENT {
        return Ok(found);
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Another process may have upgraded it meanwhile.
    let found = version(&tx)?;
    if found >= CURRENT {
        return Ok(found);
    }
    for sql in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0)) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", CURRENT)?;
    then(&tx)?;
    tx.commit()?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The indexes that hold only some rows still serve every lookup of the rows
    /// they hold (the planner uses a partial index only where the query implies its
    /// condition).
    #[test]
    fn partial_indexes_serve_their_lookups() {
        let mut conn = Connection::open_in_memory().expect("in memory");
        // As the journal's connections plan (see `open::prepare`).
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .expect("QPSG");
        migrate(&mut conn).expect("migrates");
        for (sql, index) in [
            ("SELECT id FROM txn WHERE orig_order_no = ?1", "txn_orig"),
            (
                "SELECT id FROM txn WHERE orig_order_no IN (?1, ?2)",
                "txn_orig",
            ),
            ("SELECT id FROM txn WHERE card_last4 = ?1", "txn_last4"),
            (
                "SELECT id FROM txn WHERE auth_code = ?1 COLLATE NOCASE",
                "txn_auth",
            ),
        ] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("prepares")
                .query_map(
                    rusqlite::params_from_iter(["a", "b"].iter().take(sql.matches('?').count())),
                    |r| r.get(3),
                )
                .expect("explains")
                .collect::<Result<_, _>>()
                .expect("explains");
            assert!(plan.iter().any(|s| s.contains(index)), "{sql}: {plan:?}");
        }
    }
}
