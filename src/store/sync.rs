//! Copying a lane's outbox into the store: oldest first, a batch per store transaction,
//! each row and audit line upserted on its key, so a copy cut short (the store gone, the
//! process killed) and done again leaves one copy of each, as it is now.
//!
//! The journal is read on the caller's task while a task of its own writes the batch
//! before to the store, so the two overlap; an entry leaves the outbox only once the
//! store has committed the batch that holds it.

use std::pin::pin;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::{Store, StoreError};
use crate::journal::OutgoingTotals;
use crate::journal::{AuditLine, Journal, TxnRow};
use crate::mask;
use crate::money::Money;
use crate::progress::Progress;

/// What one sync copied, and what is left.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Synced {
    pub rows: usize,
    pub audit: usize,
    /// Quarter hours whose totals were copied.
    pub totals: usize,
    /// Changes still waiting in the outbox (0 once it has drained).
    pub(crate) left: i64,
}

/// How many outbox entries one store transaction takes.
const BATCH: usize = 2_000;

/// Rows go into a staging table by binary COPY, then into `txn` with one upsert per
/// batch: the server's COPY path is several times faster than binding the rows as
/// parameters. The staging tables live as long as the connection and are emptied at
/// every commit.
const STAGING: &str = "
    CREATE TEMP TABLE IF NOT EXISTS txn_in (LIKE txn INCLUDING DEFAULTS) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE IF NOT EXISTS audit_in (LIKE audit) ON COMMIT DELETE ROWS;";

/// The columns a lane copies, in the order of `copy_rows`'s values and `TXN_TYPES`.
macro_rules! txn_columns {
    () => {
        "order_no, journal, id, lane, kind, state, amount_minor, asked_minor, tip_minor,
        cashback_minor, currency, exponent, orig_order_no, scenario, batch, created_at, sent_at,
        updated_at, response_code, response_msg, trans_no, trans_status, brand, card, auth_code,
        ref_no, entry_mode, order_tail, card_last4, via, terminal_sn"
    };
}

const TXN_TYPES: [Type; 31] = {
    use Type as T;
    [
        T::TEXT,
        T::TEXT,
        T::INT8,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::INT8,
        T::INT8,
        T::INT8,
        T::INT8,
        T::TEXT,
        T::INT2,
        T::TEXT,
        T::TEXT,
        T::INT8,
        T::TIMESTAMPTZ,
        T::TIMESTAMPTZ,
        T::TIMESTAMPTZ,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::TEXT,
        T::INT8,
        T::TEXT,
        T::TEXT,
        T::TEXT,
    ]
};

const COPY_TXN: &str = concat!(
    "COPY txn_in (",
    txn_columns!(),
    ") FROM STDIN (FORMAT binary)"
);

const UPSERT_TXN: &str = concat!(
    "INSERT INTO txn (",
    txn_columns!(),
    ") SELECT ",
    txn_columns!(),
    " FROM txn_in
    ON CONFLICT (order_no) DO UPDATE SET
        state = EXCLUDED.state, amount_minor = EXCLUDED.amount_minor,
        tip_minor = EXCLUDED.tip_minor, cashback_minor = EXCLUDED.cashback_minor,
        batch = EXCLUDED.batch, sent_at = EXCLUDED.sent_at, updated_at = EXCLUDED.updated_at,
        response_code = EXCLUDED.response_code, response_msg = EXCLUDED.response_msg,
        trans_no = EXCLUDED.trans_no, trans_status = EXCLUDED.trans_status,
        brand = EXCLUDED.brand, card = EXCLUDED.card, auth_code = EXCLUDED.auth_code,
        ref_no = EXCLUDED.ref_no, entry_mode = EXCLUDED.entry_mode,
        card_last4 = EXCLUDED.card_last4, terminal_sn = EXCLUDED.terminal_sn,
        copied_at = now()"
);

const AUDIT_TYPES: [Type; 8] = [
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
];

const COPY_AUDIT: &str = "COPY audit_in (journal, id, order_no, at, who, from_state, to_state, why)
    FROM STDIN (FORMAT binary)";

const UPSERT_AUDIT: &str =
    "INSERT INTO audit SELECT * FROM audit_in ON CONFLICT (journal, id) DO NOTHING";

// A quarter hour's lines are replaced whole ($2, $3: its slots and batches), then the
// days they fall in are summed again.
const DELETE_SLOTS: &str = "
    DELETE FROM tally_slot t USING unnest($2::bigint[], $3::bigint[]) AS k(slot, batch)
    WHERE t.journal = $1 AND t.slot = k.slot AND t.batch = k.batch";

const INSERT_LINES: &str = "
    INSERT INTO tally_slot (journal, slot, batch, dim, name, count, sum_minor)
    SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[],
        $6::bigint[], $7::bigint[])";

const DAYS_OF: &str = "
    (SELECT DISTINCT slot / 96 AS day, batch FROM unnest($2::bigint[], $3::bigint[]) AS u(slot, batch))";

const DELETE_DAYS: &str = "DELETE FROM tally_day d USING {DAYS_OF} k
    WHERE d.journal = $1 AND d.day = k.day AND d.batch = k.batch";

const SUM_DAYS: &str = "
    INSERT INTO tally_day (journal, day, batch, dim, name, count, sum_minor)
    SELECT $1, k.day, k.batch, t.dim, t.name, sum(t.count), sum(t.sum_minor)
    FROM {DAYS_OF} k
    JOIN tally_slot t ON t.journal = $1 AND t.batch = k.batch
        AND t.slot >= k.day * 96 AND t.slot < (k.day + 1) * 96
    GROUP BY k.day, k.batch, t.dim, t.name";

const LANE_STATUS: &str = "
    INSERT INTO lane (journal, lane, last_sync, outbox, unresolved) VALUES ($1, $2, now(), $3, $4)
    ON CONFLICT (journal, lane) DO UPDATE SET
        last_sync = now(), outbox = EXCLUDED.outbox, unresolved = EXCLUDED.unresolved";

/// Two processes of one lane may copy at once: the second waits for the first.
const ONE_AT_A_TIME: &str = "SELECT pg_advisory_xact_lock(hashtext('till sync ' || $1))";

/// Copies everything in `journal`'s outbox to the store, then records the lane's state
/// there. Entries leave the outbox only after the store has committed them.
pub async fn sync(store: &Store, journal: &mut Journal, lane: &str) -> Result<Synced, StoreError> {
    sync_showing(store, journal, lane, &Progress::hidden()).await
}

/// `sync`, showing how far it has got.
pub(crate) async fn sync_showing(
    store: &Store,
    journal: &mut Journal,
    lane: &str,
    progress: &Progress,
) -> Result<Synced, StoreError> {
    journal.enable_outbox()?;
    let total = journal.outbox_len()?;
    progress.start(
        "copying to the store",
        "changes",
        u64::try_from(total).unwrap_or(0),
    );
    let identity = journal.identity().to_string();
    let mut synced = Synced::default();
    // One batch waits while the writer copies the one before: the read of the next
    // overlaps the store's work on this one, and memory holds two batches at most.
    let (to_writer, batches) = mpsc::channel::<Batch>(1);
    let (committed_tx, mut committed) = mpsc::unbounded_channel::<Committed>();
    let writer = tokio::spawn(write_batches(
        store.client().await?,
        identity.clone(),
        batches,
        committed_tx,
    ));
    let mut after = 0;
    let read = loop {
        while let Ok(c) = committed.try_recv() {
            forget(journal, c, &mut synced, progress)?;
        }
        let out = match journal.outbox_take(after, BATCH) {
            Ok(out) => out,
            Err(e) => break Err(e),
        };
        let Some(last_seq) = out.last_seq else {
            break Ok(());
        };
        after = last_seq;
        let batch = Batch {
            last_seq,
            rows: out.rows,
            audit: out.audit,
        };
        if to_writer.send(batch).await.is_err() {
            break Ok(()); // the writer stopped: its error follows
        }
    };
    drop(to_writer);
    let written = writer
        .await
        .map_err(|e| StoreError::Row(format!("the copy stopped: {e}")))?;
    while let Ok(c) = committed.try_recv() {
        forget(journal, c, &mut synced, progress)?;
    }
    read?;
    let mut client = written?;
    loop {
        let out = journal.totals_take(BATCH)?;
        let Some(last_seq) = out.last_seq else {
            break;
        };
        copy_totals(&mut client, &identity, &out).await?;
        journal.totals_done(last_seq)?;
        synced.totals += out.slots.len();
        progress.add(u64::try_from(out.slots.len()).unwrap_or(0));
    }
    progress.finish();
    synced.left = journal.outbox_len()?;
    let unresolved = i32::try_from(journal.unresolved_on(lane)?.len()).unwrap_or(i32::MAX);
    client
        .execute(LANE_STATUS, &[&identity, &lane, &synced.left, &unresolved])
        .await?;
    Ok(synced)
}

/// Outbox entries up to `last_seq`, with the rows and lines they name.
struct Batch {
    last_seq: i64,
    rows: Vec<TxnRow>,
    audit: Vec<AuditLine>,
}

/// A batch the store has committed.
struct Committed {
    last_seq: i64,
    rows: usize,
    audit: usize,
}

fn forget(
    journal: &Journal,
    c: Committed,
    synced: &mut Synced,
    progress: &Progress,
) -> Result<(), StoreError> {
    journal.outbox_done(c.last_seq)?;
    progress.add(u64::try_from(c.rows + c.audit).unwrap_or(0));
    synced.rows += c.rows;
    synced.audit += c.audit;
    Ok(())
}

/// Writes each batch in a store transaction of its own and says when it has committed;
/// stops at the first error. Gives the connection back for what follows the rows.
async fn write_batches(
    mut client: deadpool_postgres::Object,
    identity: String,
    mut batches: mpsc::Receiver<Batch>,
    committed: mpsc::UnboundedSender<Committed>,
) -> Result<deadpool_postgres::Object, StoreError> {
    client.batch_execute(STAGING).await?;
    while let Some(b) = batches.recv().await {
        let tx = client.transaction().await?;
        tx.execute(ONE_AT_A_TIME, &[&identity]).await?;
        if !b.rows.is_empty() {
            copy_rows(&tx, &identity, &b.rows).await?;
            tx.execute(UPSERT_TXN, &[]).await?;
        }
        if !b.audit.is_empty() {
            copy_audit(&tx, &identity, &b.audit).await?;
            tx.execute(UPSERT_AUDIT, &[]).await?;
        }
        tx.commit().await?;
        // The caller gone (its future dropped) leaves the entries for the next copy.
        let _ = committed.send(Committed {
            last_seq: b.last_seq,
            rows: b.rows.len(),
            audit: b.audit.len(),
        });
    }
    Ok(client)
}

async fn copy_rows(
    tx: &tokio_postgres::Transaction<'_>,
    journal: &str,
    rows: &[TxnRow],
) -> Result<(), StoreError> {
    let sink = tx.copy_in(COPY_TXN).await?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &TXN_TYPES));
    for r in rows {
        let minor = |m: Option<Money>| m.map(|m| m.minor());
        let values: [&(dyn ToSql + Sync); 31] = [
            &r.order_no,
            &journal,
            &r.id,
            &r.lane,
            &r.kind.name(),
            &r.state.name(),
            &r.amount.minor(),
            &r.asked.minor(),
            &minor(r.tip),
            &minor(r.cashback),
            &r.currency,
            &i16::from(r.amount.exponent()),
            &r.orig_order_no,
            &r.scenario,
            &r.batch,
            &at(&r.created_at)?,
            &at_opt(&r.sent_at)?,
            &at(&r.updated_at)?,
            &r.reply.response_code,
            &r.reply.response_msg,
            &r.reply.trans_no,
            &r.reply.trans_status,
            &r.reply.brand,
            &r.reply.card,
            &r.reply.auth_code,
            &r.reply.ref_no,
            &r.reply.entry_mode,
            &order_tail(&r.order_no),
            &r.reply.card.as_deref().map(mask::last_four),
            &r.via.name(),
            &r.terminal_sn,
        ];
        writer.as_mut().write(&values).await?;
    }
    writer.finish().await?;
    Ok(())
}

async fn copy_audit(
    tx: &tokio_postgres::Transaction<'_>,
    journal: &str,
    lines: &[AuditLine],
) -> Result<(), StoreError> {
    let sink = tx.copy_in(COPY_AUDIT).await?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, &AUDIT_TYPES));
    for l in lines {
        let values: [&(dyn ToSql + Sync); 8] = [
            &journal,
            &l.id,
            &l.order_no,
            &at(&l.at)?,
            &l.who,
            &l.from,
            &l.to,
            &l.why,
        ];
        writer.as_mut().write(&values).await?;
    }
    writer.finish().await?;
    Ok(())
}

/// Replaces the store's lines of the quarter hours `out` names, and sums their days again.
async fn copy_totals(
    client: &mut deadpool_postgres::Object,
    identity: &String,
    out: &OutgoingTotals,
) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    tx.execute(ONE_AT_A_TIME, &[identity]).await?;
    let (slots, batches): (Vec<i64>, Vec<i64>) = out.slots.iter().copied().unzip();
    let keys: [&(dyn ToSql + Sync); 3] = [identity, &slots, &batches];
    let l = &out.lines;
    let line_slots: Vec<i64> = l.iter().map(|l| l.slot).collect();
    let line_batches: Vec<i64> = l.iter().map(|l| l.batch).collect();
    let dims: Vec<&str> = l.iter().map(|l| l.dim.as_str()).collect();
    let names: Vec<&str> = l.iter().map(|l| l.name.as_str()).collect();
    let counts: Vec<i64> = l.iter().map(|l| l.count).collect();
    let sums: Vec<i64> = l.iter().map(|l| l.sum_minor).collect();
    tx.execute(DELETE_SLOTS, &keys).await?;
    tx.execute(
        INSERT_LINES,
        &[
            identity,
            &line_slots,
            &line_batches,
            &dims,
            &names,
            &counts,
            &sums,
        ],
    )
    .await?;
    tx.execute(&DELETE_DAYS.replace("{DAYS_OF}", DAYS_OF), &keys)
        .await?;
    tx.execute(&SUM_DAYS.replace("{DAYS_OF}", DAYS_OF), &keys)
        .await?;
    tx.commit().await?;
    Ok(())
}

fn at(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Row(format!("time '{text}': {e}")))
}

fn at_opt(text: &Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.as_deref().map(at).transpose()
}

/// The sequence after an order number's last dash, as the journal's search reads it.
fn order_tail(order_no: &str) -> Option<i64> {
    order_no.rsplit('-').next().and_then(|t| t.parse().ok())
}
