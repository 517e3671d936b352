//! What happened to rows later (refunded, voided, tip adjusted, completed), for a page
//! of a list in one query per database rather than one per row.

use std::collections::HashMap;
use std::fmt;

use rusqlite::Connection;
use rusqlite::types::Value;

use super::{Journal, JournalError, TxnKind, TxnRow, TxnState};
use crate::ecr::TransType as T;
use crate::money::Money;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Aftermath {
    /// Approved refunds, summed.
    Refunded(Money),
    /// A void, or a pre-auth or completion cancel.
    Voided,
    /// The tip in force after the latest approved adjustment.
    TipAdjusted(Money),
    /// A pre-auth completed for this amount.
    Completed(Money),
    /// A follow-up whose outcome is not known yet, and the amount it asked (a tip
    /// adjustment's: the tip it asked for).
    Unresolved(TxnKind, Money),
}

impl fmt::Display for Aftermath {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Aftermath::Refunded(m) => write!(f, "refunded {m}"),
            Aftermath::Voided => write!(f, "voided"),
            Aftermath::TipAdjusted(m) => write!(f, "tip adjusted to {m}"),
            Aftermath::Completed(m) => write!(f, "completed {m}"),
            Aftermath::Unresolved(k, _) => write!(f, "{} unresolved", k.name()),
        }
    }
}

/// SQLite's default limit on bound values is far above this; a page is far below it.
const CHUNK: usize = 500;

/// A follow-up row: its id, the order it follows, what it is and did.
type FollowUp = (i64, String, TxnKind, TxnState, Money);

/// Approved or unresolved follow-ups of `order_nos` in one database.
fn follow_ups_in(conn: &Connection, order_nos: &[String]) -> Result<Vec<FollowUp>, JournalError> {
    let mut out = Vec::new();
    for chunk in order_nos.chunks(CHUNK) {
        let marks = vec!["?"; chunk.len()].join(",");
        let mut stmt = conn.prepare(&format!(
            "SELECT id, orig_order_no, kind, state, amount_minor, exponent FROM txn
             WHERE orig_order_no IN ({marks}) AND state <> 'declined'"
        ))?;
        let args = chunk.iter().map(|o| Value::Text(o.clone()));
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, u8>(5)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for (id, orig, kind, state, minor, exponent) in rows {
            let bad = || JournalError::Invalid(format!("a follow-up of {orig} is not valid"));
            let kind = TxnKind::from_name(&kind).ok_or_else(bad)?;
            let state = TxnState::from_name(&state).ok_or_else(bad)?;
            let amount = Money::from_minor(minor, exponent).map_err(|_| bad())?;
            out.push((id, orig, kind, state, amount));
        }
    }
    Ok(out)
}

impl Journal {
    /// For each of `order_nos` that has any, what happened to it later, across the
    /// journal and its archives. Declined follow-ups changed nothing and are left out.
    pub fn aftermath(
        &self,
        order_nos: &[String],
    ) -> Result<HashMap<String, Vec<Aftermath>>, JournalError> {
        let mut found = follow_ups_in(&self.conn, order_nos)?;
        for archive in self.archives()? {
            found.extend(follow_ups_in(&archive.connect()?, order_nos)?);
        }
        Ok(fold(found))
    }
}

impl Aftermath {
    /// What `rows` (any rows; those naming `orig_order_no` count) did to that order:
    /// the same summary a page's reads give, so `rules` judges both alike.
    pub(crate) fn of_rows(orig_order_no: &str, rows: &[TxnRow]) -> Vec<Aftermath> {
        let found = rows
            .iter()
            .filter(|r| r.orig_order_no.as_deref() == Some(orig_order_no))
            .filter(|r| r.state != TxnState::Declined)
            .map(|r| (r.id, orig_order_no.to_string(), r.kind, r.state, r.amount))
            .collect();
        fold(found).remove(orig_order_no).unwrap_or_default()
    }
}

/// Follow-ups (approved or unresolved) summed up per order they follow.
fn fold(mut found: Vec<FollowUp>) -> HashMap<String, Vec<Aftermath>> {
    // Oldest first, so the latest tip adjustment is the one that stays.
    found.sort_by_key(|f| f.0);
    // In both only after an archive run stopped between copy and delete.
    found.dedup_by_key(|f| f.0);
    let mut out: HashMap<String, Vec<Aftermath>> = HashMap::new();
    for (_, orig, kind, state, amount) in found {
        let list = out.entry(orig).or_default();
        if state != TxnState::Approved {
            list.push(Aftermath::Unresolved(kind, amount));
            continue;
        }
        let item = match kind {
            TxnKind::Trans(T::Refund | T::CompletionRefund) => {
                let before = list
                    .iter()
                    .position(|a| matches!(a, Aftermath::Refunded(_)));
                if let Some(i) = before {
                    if let Aftermath::Refunded(sum) = list[i] {
                        list[i] = Aftermath::Refunded(sum.checked_add(amount).unwrap_or(sum));
                    }
                    continue;
                }
                Aftermath::Refunded(amount)
            }
            TxnKind::Trans(T::Void | T::CompletionCancel | T::PreAuthCancel) => Aftermath::Voided,
            TxnKind::TipAdjust => {
                list.retain(|a| !matches!(a, Aftermath::TipAdjusted(_)));
                Aftermath::TipAdjusted(amount)
            }
            TxnKind::Trans(T::Completion) => Aftermath::Completed(amount),
            _ => continue,
        };
        list.push(item);
    }
    out.retain(|_, v| !v.is_empty());
    out
}
