//! Copying a lane's outbox into the store: oldest first, a batch per store transaction,
//! each row and audit line upserted on its key, so a copy cut short (the store gone, the
//! process killed) and done again leaves one copy of each, as it is now.

use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;

use super::{Store, StoreError};
use crate::journal::{AuditLine, Journal, TxnRow};

/// What one sync copied, and what is left.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Synced {
    pub rows: usize,
    pub audit: usize,
    /// Quarter hours whose totals were copied.
    pub totals: usize,
    /// Changes still waiting in the outbox (0 once it has drained).
    pub left: i64,
}

/// How many outbox entries one store transaction takes.
const BATCH: usize = 2_000;

/// Rows arrive as one array per column and go in with one statement per batch: a
/// round trip per row would cap a copy at what the network's latency allows.
const UPSERT_TXN: &str = "
    INSERT INTO txn (order_no, journal, id, lane, kind, state, amount_minor, asked_minor,
        tip_minor, cashback_minor, currency, exponent, orig_order_no, scenario, batch,
        created_at, sent_at, updated_at, response_code, response_msg, trans_no,
        trans_status, brand, card, auth_code, ref_no, entry_mode, order_tail, card_last4,
        via, terminal_sn)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
        $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[],
        $12::smallint[], $13::text[], $14::text[], $15::bigint[], $16::timestamptz[],
        $17::timestamptz[], $18::timestamptz[], $19::text[], $20::text[], $21::text[],
        $22::text[], $23::text[], $24::text[], $25::text[], $26::text[], $27::text[],
        $28::bigint[], $29::text[], $30::text[], $31::text[])
    ON CONFLICT (order_no) DO UPDATE SET
        state = EXCLUDED.state, amount_minor = EXCLUDED.amount_minor,
        tip_minor = EXCLUDED.tip_minor, cashback_minor = EXCLUDED.cashback_minor,
        batch = EXCLUDED.batch, sent_at = EXCLUDED.sent_at, updated_at = EXCLUDED.updated_at,
        response_code = EXCLUDED.response_code, response_msg = EXCLUDED.response_msg,
        trans_no = EXCLUDED.trans_no, trans_status = EXCLUDED.trans_status,
        brand = EXCLUDED.brand, card = EXCLUDED.card, auth_code = EXCLUDED.auth_code,
        ref_no = EXCLUDED.ref_no, entry_mode = EXCLUDED.entry_mode,
        card_last4 = EXCLUDED.card_last4, terminal_sn = EXCLUDED.terminal_sn,
        copied_at = now()";

const UPSERT_AUDIT: &str = "
    INSERT INTO audit (journal, id, order_no, at, who, from_state, to_state, why)
    SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::timestamptz[], $5::text[],
        $6::text[], $7::text[], $8::text[])
    ON CONFLICT (journal, id) DO NOTHING";

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
    journal.enable_outbox()?;
    let mut client = store.client().await?;
    let identity = journal.identity().to_string();
    let mut synced = Synced::default();
    loop {
        let out = journal.outbox_take(BATCH)?;
        let Some(last_seq) = out.last_seq else {
            break;
        };
        let tx = client.transaction().await?;
        tx.execute(ONE_AT_A_TIME, &[&identity]).await?;
        if !out.rows.is_empty() {
            let columns = TxnColumns::of(&identity, &out.rows)?;
            tx.execute(UPSERT_TXN, &columns.params()).await?;
        }
        if !out.audit.is_empty() {
            let columns = AuditColumns::of(&out.audit)?;
            tx.execute(UPSERT_AUDIT, &columns.params(&identity)).await?;
        }
        tx.commit().await?;
        journal.outbox_done(last_seq)?;
        synced.rows += out.rows.len();
        synced.audit += out.audit.len();
    }
    loop {
        let out = journal.totals_take(BATCH)?;
        let Some(last_seq) = out.last_seq else {
            break;
        };
        let tx = client.transaction().await?;
        tx.execute(ONE_AT_A_TIME, &[&identity]).await?;
        let (slots, batches): (Vec<i64>, Vec<i64>) = out.slots.iter().copied().unzip();
        let keys: [&(dyn ToSql + Sync); 3] = [&identity, &slots, &batches];
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
                &identity,
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
        journal.totals_done(last_seq)?;
        synced.totals += out.slots.len();
    }
    synced.left = journal.outbox_len()?;
    let unresolved = i32::try_from(journal.unresolved_on(lane)?.len()).unwrap_or(i32::MAX);
    client
        .execute(LANE_STATUS, &[&identity, &lane, &synced.left, &unresolved])
        .await?;
    Ok(synced)
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

type Texts = Vec<Option<String>>;
type Numbers = Vec<Option<i64>>;

/// Rows as one array per column of `UPSERT_TXN`, in its order.
#[derive(Default)]
struct TxnColumns {
    order_no: Vec<String>,
    journal: Vec<String>,
    id: Vec<i64>,
    lane: Vec<String>,
    kind: Vec<&'static str>,
    state: Vec<&'static str>,
    amount: Vec<i64>,
    asked: Vec<i64>,
    tip: Numbers,
    cashback: Numbers,
    currency: Vec<String>,
    exponent: Vec<i16>,
    orig_order_no: Texts,
    scenario: Texts,
    batch: Vec<i64>,
    created_at: Vec<DateTime<Utc>>,
    sent_at: Vec<Option<DateTime<Utc>>>,
    updated_at: Vec<DateTime<Utc>>,
    response_code: Texts,
    response_msg: Texts,
    trans_no: Texts,
    trans_status: Texts,
    brand: Texts,
    card: Texts,
    auth_code: Texts,
    ref_no: Texts,
    entry_mode: Texts,
    order_tail: Numbers,
    card_last4: Texts,
    via: Vec<&'static str>,
    terminal_sn: Texts,
}

impl TxnColumns {
    fn of(journal: &str, rows: &[TxnRow]) -> Result<TxnColumns, StoreError> {
        let mut c = TxnColumns::default();
        for r in rows {
            let minor = |m: Option<crate::money::Money>| m.map(|m| m.minor());
            c.order_no.push(r.order_no.clone());
            c.journal.push(journal.to_string());
            c.id.push(r.id);
            c.lane.push(r.lane.clone());
            c.kind.push(r.kind.name());
            c.state.push(r.state.name());
            c.amount.push(r.amount.minor());
            c.asked.push(r.asked.minor());
            c.tip.push(minor(r.tip));
            c.cashback.push(minor(r.cashback));
            c.currency.push(r.currency.clone());
            c.exponent.push(i16::from(r.amount.exponent()));
            c.orig_order_no.push(r.orig_order_no.clone());
            c.scenario.push(r.scenario.clone());
            c.batch.push(r.batch);
            c.created_at.push(at(&r.created_at)?);
            c.sent_at.push(at_opt(&r.sent_at)?);
            c.updated_at.push(at(&r.updated_at)?);
            c.response_code.push(r.response_code.clone());
            c.response_msg.push(r.response_msg.clone());
            c.trans_no.push(r.trans_no.clone());
            c.trans_status.push(r.trans_status.clone());
            c.brand.push(r.brand.clone());
            c.card.push(r.card.clone());
            c.auth_code.push(r.auth_code.clone());
            c.ref_no.push(r.ref_no.clone());
            c.entry_mode.push(r.entry_mode.clone());
            c.order_tail.push(order_tail(&r.order_no));
            c.card_last4
                .push(r.card.as_deref().map(crate::mask::last_four));
            c.via.push(r.via.name());
            c.terminal_sn.push(r.terminal_sn.clone());
        }
        Ok(c)
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 31] {
        [
            &self.order_no,
            &self.journal,
            &self.id,
            &self.lane,
            &self.kind,
            &self.state,
            &self.amount,
            &self.asked,
            &self.tip,
            &self.cashback,
            &self.currency,
            &self.exponent,
            &self.orig_order_no,
            &self.scenario,
            &self.batch,
            &self.created_at,
            &self.sent_at,
            &self.updated_at,
            &self.response_code,
            &self.response_msg,
            &self.trans_no,
            &self.trans_status,
            &self.brand,
            &self.card,
            &self.auth_code,
            &self.ref_no,
            &self.entry_mode,
            &self.order_tail,
            &self.card_last4,
            &self.via,
            &self.terminal_sn,
        ]
    }
}

/// Audit lines as one array per column of `UPSERT_AUDIT` after the journal.
#[derive(Default)]
struct AuditColumns {
    id: Vec<i64>,
    order_no: Vec<String>,
    at: Vec<DateTime<Utc>>,
    who: Vec<String>,
    from: Texts,
    to: Vec<String>,
    why: Vec<String>,
}

impl AuditColumns {
    fn of(lines: &[AuditLine]) -> Result<AuditColumns, StoreError> {
        let mut c = AuditColumns::default();
        for l in lines {
            c.id.push(l.id);
            c.order_no.push(l.order_no.clone());
            c.at.push(at(&l.at)?);
            c.who.push(l.who.clone());
            c.from.push(l.from.clone());
            c.to.push(l.to.clone());
            c.why.push(l.why.clone());
        }
        Ok(c)
    }

    fn params<'a>(&'a self, journal: &'a String) -> [&'a (dyn ToSql + Sync); 8] {
        [
            journal,
            &self.id,
            &self.order_no,
            &self.at,
            &self.who,
            &self.from,
            &self.to,
            &self.why,
        ]
    }
}
