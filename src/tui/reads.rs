//! What the screen reads from the journal: the open batch and its report, the batches,
//! the journal screen's page as searched, and what a refund or a completion can take.
//! Each read is a few indexed queries, so the screen starts as fast at a million rows as
//! at ten (measured in `benches/journal.rs`).

use super::model::{JournalData, JournalPage, Model};
use super::screens;
use crate::ecr::TransType;
use crate::journal::JournalError;
use crate::journal::{Aftermath, BatchSel, Journal, Search, TxnKind, TxnRow, TxnState, rules};
use crate::money::Money;

pub fn read_data(reader: &Journal, m: &Model) -> JournalData {
    let mut data = JournalData::default();
    let mut read = || -> Result<(), JournalError> {
        let lane = BatchSel::Open(&m.desk.lane_id);
        data.open_rows = reader.rows(lane)?;
        data.open_report = Some(reader.report(lane)?);
        data.tallying = reader.tallying()?;
        // This lane's batches, and those closed before batches were per lane.
        data.batches = reader.batches()?;
        data.batches.retain(|b| {
            b.lane
                .as_deref()
                .is_none_or(|l| l.eq_ignore_ascii_case(&m.desk.lane_id))
        });
        if let Some(i) = m.batch.viewing {
            let closed: Vec<_> = data
                .batches
                .iter()
                .filter(|b| b.closed_at.is_some())
                .collect();
            if let Some(b) = closed.get(i) {
                let sel = BatchSel::Number(b.number);
                data.viewed = Some((reader.rows(sel)?, reader.report(sel)?));
            }
        }
        Ok(())
    };
    if let Err(e) = read() {
        data.error = Some(e.to_string());
    }
    data.journal = read_journal(reader, m);
    (data.refundable, data.completable) = read_candidates(reader, m);
    data
}

/// How many candidates a refund's or a completion's list offers.
const CANDIDATES: usize = 20;

/// Payments a refund can still take and pre-auths a completion can, newest first across
/// the whole journal, narrowed by what the Refund and Sale screens' order fields hold.
pub(crate) fn read_candidates(reader: &Journal, m: &Model) -> (Vec<TxnRow>, Vec<TxnRow>) {
    let find = |typed: &str, kind, keep: &dyn Fn(&TxnRow, &[Aftermath]) -> bool| {
        let search = Search {
            text: typed.to_string(),
            kind,
            state: Some(TxnState::Approved),
            utc_offset_secs: m.desk.utc_offset.local_minus_utc(),
            exponent: m.desk.exponent,
            // Some of a page may be spent already: more than are offered are read.
            limit: CANDIDATES * 3,
            ..Search::default()
        };
        let Ok(page) = reader.search(&search) else {
            return Vec::new();
        };
        let orders: Vec<String> = page.rows.iter().map(|r| r.order_no.clone()).collect();
        let since = reader.aftermath(&orders).unwrap_or_default();
        page.rows
            .into_iter()
            .filter(|r| keep(r, since.get(&r.order_no).map_or(&[], Vec::as_slice)))
            .take(CANDIDATES)
            .collect()
    };
    let refundable = find(&m.refund.orig.text, None, &|r, after| {
        !rules::refundable_after(r, after).is_zero()
    });
    let completable = find(
        &m.sale.orig.text,
        Some(TxnKind::Trans(TransType::PreAuth)),
        &rules::completable_after,
    );
    (refundable, completable)
}

/// The original a refund names, with what is left of it: the whole order number, or
/// its end when exactly one payment that a refund could take has that end.
pub(crate) fn read_original(
    reader: &Journal,
    m: &Model,
    typed: &str,
) -> Result<Option<(TxnRow, Option<Money>)>, String> {
    let typed = typed.trim().to_ascii_uppercase();
    let row = match reader.find(&typed).map_err(|e| e.to_string())? {
        Some(row) => Some(row),
        None => {
            let search = Search {
                text: typed.clone(),
                utc_offset_secs: m.desk.utc_offset.local_minus_utc(),
                exponent: m.desk.exponent,
                limit: 20,
                ..Search::default()
            };
            // A term that does not read as an order's end finds no original.
            let rows = reader.search(&search).map(|p| p.rows).unwrap_or_default();
            let mut ends: Vec<TxnRow> = rows
                .into_iter()
                .filter(|r| r.order_no.ends_with(&typed) && rules::refund_kind(r.kind).is_some())
                .collect();
            match ends.len() {
                0 => None,
                1 => ends.pop(),
                n => {
                    return Err(format!(
                        "{n} payments end in {typed}: type more of the order number, or pick one with ↓"
                    ));
                }
            }
        }
    };
    let Some(row) = row else { return Ok(None) };
    let left = reader
        .refundable(&row.order_no)
        .map_err(|e| e.to_string())?;
    Ok(Some((row, left)))
}

/// The journal screen's page as searched, with what happened to its rows since; a
/// search that cannot be read keeps the rows shown and says why.
pub(crate) fn read_journal(reader: &Journal, m: &Model) -> JournalPage {
    let found = reader
        .search(&screens::journal::search(&m.journal, &m.desk))
        .and_then(|page| {
            let orders: Vec<String> = page.rows.iter().map(|r| r.order_no.clone()).collect();
            Ok((reader.aftermath(&orders)?, page))
        });
    match found {
        Ok((since, page)) => JournalPage {
            page,
            since,
            error: None,
        },
        Err(e) => JournalPage {
            error: Some(e.to_string()),
            ..m.desk.data.journal.clone()
        },
    }
}
