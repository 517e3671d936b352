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
    /// Changes still waiting in the outbox (0 once it has drained).
    pub left: i64,
}

/// How many outbox entries one store transaction takes.
const BATCH: usize = 500;

const UPSERT_TXN: &str = "
    INSERT INTO txn (order_no, journal, id, lane, kind, state, amount_minor, asked_minor,
        tip_minor, cashback_minor, currency, exponent, orig_order_no, scenario, batch,
        created_at, sent_at, updated_at, response_code, response_msg, trans_no,
        trans_status, brand, card, auth_code, ref_no, entry_mode, order_tail, card_last4,
        via, terminal_sn)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
        $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31)
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
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (journal, id) DO NOTHING";

const LANE_STATUS: &str = "
    INSERT INTO lane (journal, lane, last_sync, outbox, unresolved) VALUES ($1, $2, now(), $3, $4)
    ON CONFLICT (journal, lane) DO UPDATE SET
        last_sync = now(), outbox = EXCLUDED.outbox, unresolved = EXCLUDED.unresolved";

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
        let upsert_txn = tx.prepare(UPSERT_TXN).await?;
        let upsert_audit = tx.prepare(UPSERT_AUDIT).await?;
        for row in &out.rows {
            tx.execute(&upsert_txn, &txn_params(&identity, row)?.refs())
                .await?;
        }
        for line in &out.audit {
            tx.execute(&upsert_audit, &audit_params(&identity, line)?.refs())
                .await?;
        }
        tx.commit().await?;
        journal.outbox_done(last_seq)?;
        synced.rows += out.rows.len();
        synced.audit += out.audit.len();
    }
    synced.left = journal.outbox_len()?;
    let unresolved = i32::try_from(journal.unresolved_on(lane)?.len()).unwrap_or(i32::MAX);
    client
        .execute(LANE_STATUS, &[&identity, &lane, &synced.left, &unresolved])
        .await?;
    Ok(synced)
}

/// Owned values for one statement's parameters.
struct Params(Vec<Box<dyn ToSql + Sync + Send>>);

impl Params {
    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
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

fn txn_params(journal: &str, r: &TxnRow) -> Result<Params, StoreError> {
    let minor = |m: Option<crate::money::Money>| m.map(|m| m.minor());
    let last4 = r.card.as_deref().map(|c| {
        c.chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<String>()
    });
    Ok(Params(vec![
        Box::new(r.order_no.clone()),
        Box::new(journal.to_string()),
        Box::new(r.id),
        Box::new(r.lane.clone()),
        Box::new(r.kind.name().to_string()),
        Box::new(r.state.name().to_string()),
        Box::new(r.amount.minor()),
        Box::new(r.asked.minor()),
        Box::new(minor(r.tip)),
        Box::new(minor(r.cashback)),
        Box::new(r.currency.clone()),
        Box::new(i16::from(r.amount.exponent())),
        Box::new(r.orig_order_no.clone()),
        Box::new(r.scenario.clone()),
        Box::new(r.batch),
        Box::new(at(&r.created_at)?),
        Box::new(at_opt(&r.sent_at)?),
        Box::new(at(&r.updated_at)?),
        Box::new(r.response_code.clone()),
        Box::new(r.response_msg.clone()),
        Box::new(r.trans_no.clone()),
        Box::new(r.trans_status.clone()),
        Box::new(r.brand.clone()),
        Box::new(r.card.clone()),
        Box::new(r.auth_code.clone()),
        Box::new(r.ref_no.clone()),
        Box::new(r.entry_mode.clone()),
        Box::new(order_tail(&r.order_no)),
        Box::new(last4),
        Box::new(r.via.name().to_string()),
        Box::new(r.terminal_sn.clone()),
    ]))
}

fn audit_params(journal: &str, l: &AuditLine) -> Result<Params, StoreError> {
    Ok(Params(vec![
        Box::new(journal.to_string()),
        Box::new(l.id),
        Box::new(l.order_no.clone()),
        Box::new(at(&l.at)?),
        Box::new(l.who.clone()),
        Box::new(l.from.clone()),
        Box::new(l.to.clone()),
        Box::new(l.why.clone()),
    ]))
}
