//! A realistic journal written fast, for tests and benchmarks: `rows` rows spread
//! evenly in time over `batches` closed batches (each ending in its batch close, every
//! lane's rows together, as closed before batches were per lane; a lane opens its own
//! batch when it first needs one), mixing kinds, states, brands, lanes and cards the
//! way a busy lane does, in one transaction with prepared statements. Deterministic per seed;
//! times are given, never read from the clock.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Journal, JournalError};

#[derive(Clone, Debug)]
pub struct Spec {
    pub rows: usize,
    /// Closed batches; the lanes open theirs after them.
    pub batches: usize,
    /// The first row's time; the rest follow evenly up to `end`.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Lanes `L01`, `L02`, ...
    pub lanes: usize,
    pub seed: u64,
}

const BRANDS: [(&str, &str); 4] = [
    ("VISA", "411111"),
    ("MASTERCARD", "510510"),
    ("AMEX", "378282"),
    ("DISCOVER", "601111"),
];

/// An approved payment later rows may refer to.
#[derive(Clone)]
struct Recent {
    order_no: String,
    amount: i64,
    brand: &'static str,
    card: String,
    batch: usize,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Writes the rows into a new journal in `dir` (which must hold none yet).
// Long on purpose: one pass draws every row from one seeded generator in a fixed order;
// split into steps, that order (and so each seed's journal) would be easy to change.
pub fn generate(dir: &Path, spec: &Spec) -> Result<Journal, JournalError> {
    let mut journal = Journal::open(dir)?;
    let identity = journal.identity().to_string();
    let mut rng = fastrand::Rng::with_seed(spec.seed);
    let rows = spec.rows.max(1);
    let batches = spec.batches.clamp(1, rows);
    let span = (spec.end - spec.start).num_milliseconds().max(1);
    let tx = journal.conn.transaction()?;
    {
        let mut txn = tx.prepare(
            "INSERT INTO txn (order_no, request_id, kind, state, amount_minor, asked_minor, tip_minor,
                cashback_minor, currency, exponent, orig_order_no, lane, batch, created_at, sent_at,
                updated_at, response_code, trans_no, trans_status, brand, card, auth_code, ref_no, entry_mode)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, 'USD', 2, ?8, ?9, ?10, ?11, ?11, ?11, ?12, ?13, ?14,
                ?15, ?16, ?17, ?18, 'contactless')",
        )?;
        let mut audit = tx.prepare(
            "INSERT INTO audit (order_no, at, who, from_state, to_state, why)
             VALUES (?1, ?2, 'lane', ?3, ?4, ?5)",
        )?;
        let mut batch_row = tx.prepare(
            "INSERT INTO batch (number, opened_at, closed_at, journal_totals, terminal_reply)
             VALUES (?1, ?2, ?3, '{}', '{}')",
        )?;
        let mut seq = vec![0i64; spec.lanes.max(1)];
        let mut sales: Vec<Recent> = Vec::new();
        let mut auths: Vec<Recent> = Vec::new();
        let mut opened = stamp(spec.start);
        for i in 0..rows {
            let t = spec.start + chrono::Duration::milliseconds(span * i as i64 / rows as i64);
            let at = stamp(t);
            let batch = 1 + i * batches / rows;
            let last_of_batch = i + 1 == rows || 1 + (i + 1) * batches / rows != batch;
            let lane_ix = rng.usize(..seq.len());
            let lane = format!("L{:02}", lane_ix + 1);
            seq[lane_ix] += 1;
            let order_no = format!("{lane}-{identity}-{}-{:06}", t.format("%m%d"), seq[lane_ix]);
            let (brand, bin) = BRANDS[rng.usize(..BRANDS.len())];
            let fresh_card = format!("{bin}******{:04}", rng.u32(..10_000));
            let mut amount = if rng.u8(..10) == 0 {
                [500, 1000, 1250, 2000][rng.usize(..4)]
            } else {
                rng.i64(100..20_000)
            };
            let pick = |list: &[Recent], rng: &mut fastrand::Rng| {
                (!list.is_empty()).then(|| list[rng.usize(..list.len())].clone())
            };
            let roll = rng.u8(..100);
            let (kind, orig) = match roll {
                _ if last_of_batch => ("batch-close", None),
                70..75 => ("cashback-sale", None),
                75..83 => ("refund", pick(&sales, &mut rng)),
                83..87 => ("void", pick(&sales, &mut rng).filter(|s| s.batch == batch)),
                87..92 => ("tip-adjust", pick(&sales, &mut rng)),
                92..96 => ("pre-auth", None),
                96..100 => ("completion", pick(&auths, &mut rng)),
                _ => ("sale", None),
            };
            // A follow-up whose original is not at hand becomes a sale.
            let kind = match (kind, &orig) {
                ("refund" | "void" | "tip-adjust" | "completion", None) => "sale",
                _ => kind,
            };
            let (brand, card) = match &orig {
                Some(o) => (o.brand, o.card.clone()),
                None => (brand, fresh_card),
            };
            amount = match (kind, &orig) {
                ("batch-close", _) => 0,
                ("refund" | "completion", Some(o)) => rng.i64(1..=o.amount),
                ("void", Some(o)) => o.amount,
                ("tip-adjust", _) => rng.i64(0..1_000),
                _ => amount,
            };
            let declined = kind != "batch-close" && rng.u8(..100) < 5;
            let state = if declined { "declined" } else { "approved" };
            let tip = (kind == "sale" && rng.u8(..5) == 0).then(|| rng.i64(50..800));
            let cashback = (kind == "cashback-sale").then(|| rng.i64(1..5) * 1000);
            let auth: Option<String> = (!declined && kind != "batch-close").then(|| {
                (0..6)
                    .map(|_| char::from(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"[rng.usize(..34)]))
                    .collect()
            });
            let card = (kind != "batch-close").then_some(card);
            let brand = (kind != "batch-close").then_some(brand);
            txn.execute(params![
                order_no,
                format!("r{i}"),
                kind,
                state,
                amount,
                tip,
                cashback,
                orig.as_ref().map(|o| o.order_no.clone()),
                lane,
                batch as i64,
                at,
                if declined { "1" } else { "0" },
                format!("T{i:09}"),
                if declined { "1" } else { "2" },
                brand,
                card,
                auth,
                format!("R{i:09}"),
            ])?;
            audit.execute(params![
                order_no,
                at,
                None::<String>,
                "pending",
                "journaled before sending"
            ])?;
            audit.execute(params![order_no, at, "pending", state, "generated"])?;
            if !declined && (kind == "sale" || kind == "completion") {
                let recent = Recent {
                    order_no: order_no.clone(),
                    amount,
                    brand: brand.unwrap_or("VISA"),
                    card: card.clone().unwrap_or_default(),
                    batch,
                };
                sales.push(recent);
                if sales.len() > 64 {
                    sales.remove(0);
                }
            }
            if !declined && kind == "pre-auth" {
                auths.push(Recent {
                    order_no,
                    amount,
                    brand: brand.unwrap_or("VISA"),
                    card: card.unwrap_or_default(),
                    batch,
                });
                if auths.len() > 64 {
                    auths.remove(0);
                }
            }
            if last_of_batch {
                let closed = stamp(t + chrono::Duration::seconds(1));
                batch_row.execute(params![batch as i64, opened, closed])?;
                opened = closed;
            }
        }
        for (ix, next) in seq.iter().enumerate() {
            tx.execute(
                "INSERT INTO order_seq (lane, next) VALUES (?1, ?2)
                 ON CONFLICT(lane) DO UPDATE SET next = excluded.next",
                params![format!("L{:02}", ix + 1), next + 1],
            )?;
        }
    }
    tx.commit()?;
    super::rollup::refresh_all(&mut journal.conn, &journal.path, &journal.progress)?;
    Ok(journal)
}
