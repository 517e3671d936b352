//! The store's schema, versioned like the journal's: each step runs once, in order, in
//! one transaction, under an advisory lock so that lanes starting together migrate once.

use tokio_postgres::Client;

use super::StoreError;

/// Each entry upgrades from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // v1: rows keyed by their order number (unique across the store: it carries the
    // lane and the journal's identity), audit lines by journal and id, and each lane's
    // last copy.
    "
    CREATE TABLE txn (
        order_no        text PRIMARY KEY,
        journal         text NOT NULL,
        id              bigint NOT NULL,
        lane            text NOT NULL,
        kind            text NOT NULL,
        state           text NOT NULL,
        amount_minor    bigint NOT NULL,
        asked_minor     bigint NOT NULL,
        tip_minor       bigint,
        cashback_minor  bigint,
        currency        text NOT NULL,
        exponent        smallint NOT NULL,
        orig_order_no   text,
        scenario        text,
        batch           bigint NOT NULL,
        created_at      timestamptz NOT NULL,
        sent_at         timestamptz,
        updated_at      timestamptz NOT NULL,
        response_code   text,
        response_msg    text,
        trans_no        text,
        trans_status    text,
        brand           text,
        card            text,
        auth_code       text,
        ref_no          text,
        entry_mode      text,
        order_tail      bigint,
        card_last4      text,
        copied_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX txn_lane_created ON txn (lane, created_at);
    CREATE INDEX txn_created ON txn (created_at);
    CREATE INDEX txn_state ON txn (state) WHERE state IN ('pending', 'unknown');
    CREATE INDEX txn_tail ON txn (order_tail);
    CREATE INDEX txn_last4 ON txn (card_last4);
    CREATE INDEX txn_amount ON txn (amount_minor);
    CREATE INDEX txn_auth ON txn (lower(auth_code));
    CREATE INDEX txn_orig ON txn (orig_order_no);
    CREATE TABLE audit (
        journal     text NOT NULL,
        id          bigint NOT NULL,
        order_no    text NOT NULL,
        at          timestamptz NOT NULL,
        who         text NOT NULL,
        from_state  text,
        to_state    text NOT NULL,
        why         text NOT NULL,
        PRIMARY KEY (journal, id)
    );
    CREATE INDEX audit_order ON audit (order_no);
    CREATE TABLE lane (
        journal     text NOT NULL,
        lane        text NOT NULL,
        last_sync   timestamptz NOT NULL,
        outbox      bigint NOT NULL,
        unresolved  integer NOT NULL,
        PRIMARY KEY (journal, lane)
    );
    ",
    // v2: rows sent through the vendor's cloud say so, and for which terminal.
    "
    ALTER TABLE txn ADD COLUMN via text NOT NULL DEFAULT 'lan';
    ALTER TABLE txn ADD COLUMN terminal_sn text;
    ",
    // v3: each lane's report totals per quarter hour and day of each batch, as its
    // journal keeps them (`journal::rollup`), so a report across lanes reads totals.
    "
    CREATE TABLE tally_slot (
        journal    text NOT NULL,
        dim        text NOT NULL,
        slot       bigint NOT NULL,
        batch      bigint NOT NULL,
        name       text NOT NULL,
        count      bigint NOT NULL,
        sum_minor  bigint NOT NULL,
        PRIMARY KEY (dim, slot, journal, batch, name)
    );
    CREATE INDEX tally_slot_of ON tally_slot (journal, slot, batch);
    -- The hours of a long period read only this: one line per quarter hour and lane.
    CREATE INDEX tally_slot_net ON tally_slot (slot) INCLUDE (count, sum_minor)
        WHERE dim = 'net';
    CREATE TABLE tally_day (
        journal    text NOT NULL,
        day        bigint NOT NULL,
        batch      bigint NOT NULL,
        dim        text NOT NULL,
        name       text NOT NULL,
        count      bigint NOT NULL,
        sum_minor  bigint NOT NULL,
        PRIMARY KEY (day, journal, batch, dim, name)
    );
    ",
];

const KNOWN: i32 = MIGRATIONS.len() as i32;

/// An arbitrary key of till's own for `pg_advisory_xact_lock`.
const LOCK_KEY: i64 = 0x7431_6c6c_5354_4f52;

/// Applies the steps the store lacks; refuses a store newer than this till.
pub(super) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS till_schema (version integer NOT NULL)")
        .await?;
    let found: i32 = match tx.query_opt("SELECT version FROM till_schema", &[]).await? {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO till_schema (version) VALUES (0)", &[])
                .await?;
            0
        }
    };
    if found > KNOWN {
        return Err(StoreError::Newer {
            found,
            known: KNOWN,
        });
    }
    for sql in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0)) {
        tx.batch_execute(sql).await?;
    }
    tx.execute("UPDATE till_schema SET version = $1", &[&KNOWN])
        .await?;
    tx.commit().await?;
    Ok(())
}
