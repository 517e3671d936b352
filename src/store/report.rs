//! What the store answers: totals over a period across lanes (by the journal's own
//! report rules, on the rows copied here), and each lane's last copy.

use chrono::{DateTime, NaiveDate, Utc};
use tokio_postgres::Row;

use super::{Store, StoreError};
use crate::journal::{RangeReport, Term, TxnKind, TxnRow, TxnState, Via, parse_term};
use crate::money::Money;

const COLUMNS: &str = "id, order_no, kind, state, amount_minor, asked_minor, tip_minor, \
    cashback_minor, currency, exponent, orig_order_no, lane, scenario, batch, created_at, \
    sent_at, updated_at, response_code, response_msg, trans_no, trans_status, brand, card, \
    auth_code, ref_no, entry_mode, via, terminal_sn";

/// A lane as its last sync left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaneStatus {
    pub lane: String,
    pub journal: String,
    pub last_sync: DateTime<Utc>,
    pub outbox: i64,
    pub unresolved: i32,
}

fn text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A copied row as the journal's own type, so the journal's rules read it.
fn txn_row(r: &Row) -> Result<TxnRow, StoreError> {
    let exponent = u8::try_from(r.get::<_, i16>("exponent"))
        .map_err(|_| StoreError::Row("exponent out of range".into()))?;
    let money =
        |minor: i64| Money::from_minor(minor, exponent).map_err(|e| StoreError::Row(e.to_string()));
    let opt_money = |minor: Option<i64>| minor.map(money).transpose();
    let kind: String = r.get("kind");
    let state: String = r.get("state");
    Ok(TxnRow {
        id: r.get("id"),
        order_no: r.get("order_no"),
        request_id: String::new(),
        kind: TxnKind::from_name(&kind).ok_or_else(|| StoreError::Row(format!("kind '{kind}'")))?,
        state: TxnState::from_name(&state)
            .ok_or_else(|| StoreError::Row(format!("state '{state}'")))?,
        amount: money(r.get("amount_minor"))?,
        asked: money(r.get("asked_minor"))?,
        tip: opt_money(r.get("tip_minor"))?,
        cashback: opt_money(r.get("cashback_minor"))?,
        currency: r.get("currency"),
        orig_order_no: r.get("orig_order_no"),
        lane: r.get("lane"),
        scenario: r.get("scenario"),
        batch: r.get("batch"),
        created_at: text(r.get("created_at")),
        sent_at: r.get::<_, Option<DateTime<Utc>>>("sent_at").map(text),
        updated_at: text(r.get("updated_at")),
        response_code: r.get("response_code"),
        response_msg: r.get("response_msg"),
        trans_no: r.get("trans_no"),
        trans_status: r.get("trans_status"),
        brand: r.get("brand"),
        card: r.get("card"),
        auth_code: r.get("auth_code"),
        ref_no: r.get("ref_no"),
        entry_mode: r.get("entry_mode"),
        raw: None,
        via: match r.get::<_, String>("via").as_str() {
            "cloud" => Via::Cloud,
            _ => Via::Lan,
        },
        terminal_sn: r.get("terminal_sn"),
    })
}

/// The UTC instant a local date starts at.
fn start_of(day: NaiveDate, utc_offset_secs: i32) -> DateTime<Utc> {
    let local = day.and_time(chrono::NaiveTime::MIN);
    (local - chrono::Duration::seconds(i64::from(utc_offset_secs))).and_utc()
}

impl Store {
    /// Totals over inclusive local dates across every lane copied here.
    pub async fn report(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        utc_offset_secs: i32,
    ) -> Result<RangeReport, StoreError> {
        let client = self.client().await?;
        let start = from.map(|d| start_of(d, utc_offset_secs));
        let end = to
            .and_then(|d| d.succ_opt())
            .map(|d| start_of(d, utc_offset_secs));
        let rows = client
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM txn
                     WHERE ($1::timestamptz IS NULL OR created_at >= $1)
                       AND ($2::timestamptz IS NULL OR created_at < $2)
                     ORDER BY created_at, order_no"
                ),
                &[&start, &end],
            )
            .await?
            .iter()
            .map(txn_row)
            .collect::<Result<Vec<_>, _>>()?;
        // The originals of voids and refunds from before the period, and their tips:
        // the journal's rules need them to say what a void took back.
        let inside: std::collections::HashSet<&str> =
            rows.iter().map(|r| r.order_no.as_str()).collect();
        let missing: Vec<String> = rows
            .iter()
            .filter_map(|r| r.orig_order_no.clone())
            .filter(|o| !inside.contains(o.as_str()))
            .collect();
        let context = client
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM txn WHERE order_no = ANY($1) OR orig_order_no = ANY($1)"
                ),
                &[&missing],
            )
            .await?
            .iter()
            .map(txn_row)
            .collect::<Result<Vec<_>, _>>()?;
        let context: Vec<TxnRow> = context
            .into_iter()
            .filter(|r| !inside.contains(r.order_no.as_str()))
            .collect();
        Ok(RangeReport::of(from, to, &rows, &context, utc_offset_secs))
    }

    /// Rows of every lane matching `text`, read term by term as the lane's own journal
    /// search reads it (order number or its end, last four, amount, auth code, dates),
    /// newest first.
    pub async fn find(
        &self,
        text: &str,
        exponent: u8,
        utc_offset_secs: i32,
        limit: usize,
    ) -> Result<Vec<TxnRow>, StoreError> {
        let mut conds = Vec::new();
        let mut args: Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>> = Vec::new();
        let mut arg = |v: Box<dyn tokio_postgres::types::ToSql + Sync + Send>| {
            args.push(v);
            format!("${}", args.len())
        };
        for word in text.split_whitespace() {
            let term = parse_term(word, exponent).map_err(|e| StoreError::Row(e.to_string()))?;
            conds.push(match term {
                Term::Dates(a, b) => {
                    let start = arg(Box::new(start_of(a, utc_offset_secs)));
                    let end = b.succ_opt().map(|d| start_of(d, utc_offset_secs));
                    let end = arg(Box::new(end));
                    format!("(created_at >= {start} AND ({end}::timestamptz IS NULL OR created_at < {end}))")
                }
                Term::Amount(minor) => format!("amount_minor = {}", arg(Box::new(minor))),
                Term::Digits(d) => {
                    let code = arg(Box::new(d.to_lowercase()));
                    let mut any = vec![format!("lower(auth_code) = {code}")];
                    if let Ok(tail) = d.parse::<i64>() {
                        any.push(format!("order_tail = {}", arg(Box::new(tail))));
                    }
                    if d.len() == 4 {
                        any.push(format!("card_last4 = {}", arg(Box::new(d.clone()))));
                    }
                    format!("({})", any.join(" OR "))
                }
                Term::Order(o) => format!("order_no LIKE {}", arg(Box::new(format!("%{o}")))),
                Term::Word(w) => format!("lower(auth_code) = {}", arg(Box::new(w.to_lowercase()))),
            });
        }
        let limit = arg(Box::new(i64::try_from(limit).unwrap_or(i64::MAX)));
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = args
            .iter()
            .map(|a| a.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        let client = self.client().await?;
        client
            .query(
                &format!("SELECT {COLUMNS} FROM txn {filter} ORDER BY created_at DESC, order_no LIMIT {limit}"),
                &refs,
            )
            .await?
            .iter()
            .map(txn_row)
            .collect()
    }

    /// Every lane's last sync, newest first.
    pub async fn status(&self) -> Result<Vec<LaneStatus>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT lane, journal, last_sync, outbox, unresolved FROM lane ORDER BY lane, journal",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| LaneStatus {
                lane: r.get(0),
                journal: r.get(1),
                last_sync: r.get(2),
                outbox: r.get(3),
                unresolved: r.get(4),
            })
            .collect())
    }
}
