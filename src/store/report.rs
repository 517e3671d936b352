//! What the store answers: totals over a period across lanes (the totals each lane's
//! journal keeps, copied here), rows of every lane, and each lane's last copy.

use chrono::{DateTime, NaiveDate, Utc};
use tokio_postgres::Row;

use super::{Store, StoreError};
use crate::journal::{
    Group, RangeReport, Term, TerminalReply, TxnKind, TxnRow, TxnState, Via, parse_term, rollup,
};
use crate::money::Money;

const COLUMNS: &str = "id, order_no, kind, state, amount_minor, asked_minor, tip_minor, \
    cashback_minor, currency, exponent, orig_order_no, lane, scenario, batch, created_at, \
    sent_at, updated_at, response_code, response_msg, trans_no, trans_status, brand, card, \
    auth_code, ref_no, entry_mode, via, terminal_sn";

/// A lane as its last sync left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaneStatus {
    pub(crate) lane: String,
    pub(crate) journal: String,
    pub(crate) last_sync: DateTime<Utc>,
    pub(crate) outbox: i64,
    pub(crate) unresolved: i32,
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
        reply: TerminalReply {
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
        },
        via: match r.get::<_, String>("via").as_str() {
            "cloud" => Via::Cloud,
            _ => Via::Lan,
        },
        terminal_sn: r.get("terminal_sn"),
    })
}

fn group(name: String, count: i64, sum_minor: i64) -> Group {
    Group {
        name,
        count,
        sum_minor,
    }
}

/// The UTC instant a local date starts at.
fn start_of(day: NaiveDate, utc_offset_secs: i32) -> DateTime<Utc> {
    let local = day.and_time(chrono::NaiveTime::MIN);
    (local - chrono::Duration::seconds(i64::from(utc_offset_secs))).and_utc()
}

/// The hours of the day and the net of the quarter hours `[$1, $2)`, `$3` the offset.
const HOURS: &str = "
    SELECT (((slot * 900 + $3) / 3600) % 24)::int, sum(count)::bigint, sum(sum_minor)::bigint
    FROM tally_slot WHERE dim = 'net' AND slot >= $1 AND slot < $2
    GROUP BY 1";

/// The groups: UTC days `[$1, $2)` whole, and the quarter hours `[$3, $4)` and `[$5, $6)`.
const GROUPS: &str = "
    SELECT dim, name, sum(count)::bigint, sum(sum_minor)::bigint FROM (
        SELECT dim, name, count, sum_minor FROM tally_day
        WHERE day >= $1 AND day < $2 AND dim <> 'net'
        UNION ALL
        SELECT dim, name, count, sum_minor FROM tally_slot
        WHERE dim IN ('rows', 'lane', 'kind', 'brand') AND slot >= $3 AND slot < $4
        UNION ALL
        SELECT dim, name, count, sum_minor FROM tally_slot
        WHERE dim IN ('rows', 'lane', 'kind', 'brand') AND slot >= $5 AND slot < $6
    ) t GROUP BY dim, name";

impl Store {
    /// Totals over inclusive local dates across every lane copied here, from the
    /// quarter-hour totals each lane's journal keeps and copies: the same numbers as
    /// each lane's own report, summed.
    pub async fn report(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        utc_offset_secs: i32,
    ) -> Result<RangeReport, StoreError> {
        let Some(slots) = rollup::slots_of(from, to, utc_offset_secs) else {
            return Err(StoreError::Row(format!(
                "a UTC offset of {utc_offset_secs} s is not whole quarter hours: the store keeps totals per quarter hour"
            )));
        };
        let spans = rollup::spans(slots);
        let (days, ends) = (spans.days.unwrap_or((0, 0)), &spans.ends);
        let end = |i: usize| ends.get(i).copied().unwrap_or((0, 0));
        let client = self.client().await?;
        let offset = i64::from(utc_offset_secs);
        let hours = client.query(HOURS, &[&slots.0, &slots.1, &offset]).await?;
        let groups = client
            .query(
                GROUPS,
                &[&days.0, &days.1, &end(0).0, &end(0).1, &end(1).0, &end(1).1],
            )
            .await?;
        let mut report = RangeReport {
            from,
            to,
            ..RangeReport::default()
        };
        for r in &hours {
            let (hour, count, sum): (i32, i64, i64) = (r.get(0), r.get(1), r.get(2));
            report.net_minor += sum;
            if count > 0 {
                report
                    .per_hour
                    .push(group(format!("{hour:02}"), count, sum));
            }
        }
        for r in &groups {
            let (dim, name, count, sum): (&str, String, i64, i64) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            match dim {
                "rows" => report.rows += usize::try_from(count).unwrap_or(0),
                "lane" => report.per_lane.push(group(name, count, sum)),
                "kind" => report.per_kind.push(group(name, count, sum)),
                "brand" => report.per_brand.push(group(name, count, sum)),
                _ => {}
            }
        }
        // In the journal's order (byte order of names), not the database's collation.
        for groups in [
            &mut report.per_hour,
            &mut report.per_lane,
            &mut report.per_kind,
            &mut report.per_brand,
        ] {
            groups.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Ok(report)
    }

    /// Rows of every lane matching `text`, read term by term as the lane's own journal
    /// search reads it (order number or its end, last four, amount, auth code, dates),
    /// newest first.
    pub(crate) async fn find(
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
                Term::Kind(kind) => format!("kind = {}", arg(Box::new(kind.name().to_string()))),
                Term::State(state) => format!("state = {}", arg(Box::new(state.name().to_string()))),
                Term::Since(kinds) => {
                    let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
                    format!(
                        "order_no IN (SELECT orig_order_no FROM txn WHERE state = 'approved' AND kind = ANY({}))",
                        arg(Box::new(kinds))
                    )
                }
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
