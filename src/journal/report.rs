//! Batch totals from the journal's own rows. Only approved rows count.
//!
//! The net is what the batch settles to the card accounts: sales and cash-back sales
//! (amount and cash-back), plus effective tips, plus completions, less refunds,
//! completion refunds and voided or cancelled amounts.
//!
//! A tip adjustment replaces a sale's tip; the latest approved one counts. Pre-auths
//! only hold funds and do not count toward the net.

use std::collections::BTreeMap;

use serde::Serialize;

use super::rules::effective_tip;
use super::{TxnKind, TxnRow, TxnState};
use crate::ecr::TransType as T;
use crate::money::format_minor;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Group {
    pub name: String,
    pub count: i64,
    pub sum_minor: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BatchReport {
    pub batch: i64,
    /// Per kind: sale, cashback-sale, cash-back, tips, tip-adjust, refund, void, ...
    pub per_kind: Vec<Group>,
    /// Per card brand: the net of that brand's card transactions.
    pub per_brand: Vec<Group>,
    pub net_minor: i64,
}

/// What a line of the printed report is, for styling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Heading,
    Row,
    Net,
}

impl BatchReport {
    /// The report as aligned text lines, shared by the screen and the command line.
    pub fn lines(&self, exponent: u8, currency: &str) -> Vec<(LineKind, String)> {
        let line = |a: &str, b: String, c: String| format!(" {a:<18}{b:>6}{c:>14}");
        let mut out = Vec::new();
        for (title, groups) in [("kind", &self.per_kind), ("brand", &self.per_brand)] {
            out.push((LineKind::Heading, line(title, "count".into(), "sum".into())));
            for g in groups {
                let sum = format_minor(g.sum_minor, exponent);
                out.push((LineKind::Row, line(&g.name, g.count.to_string(), sum)));
            }
        }
        let net = format_minor(self.net_minor, exponent);
        out.push((
            LineKind::Net,
            format!("{} {currency}", line("NET", String::new(), net)),
        ));
        out
    }

    pub fn of(batch: i64, rows: &[TxnRow]) -> BatchReport {
        let approved: Vec<&TxnRow> = rows
            .iter()
            .filter(|r| r.state == TxnState::Approved)
            .collect();
        let owned: Vec<TxnRow> = approved.iter().map(|r| (*r).clone()).collect();
        let by_order = |order: &Option<String>| {
            order
                .as_deref()
                .and_then(|o| approved.iter().find(|r| r.order_no == o).copied())
        };

        let mut kinds: BTreeMap<&'static str, Group> = BTreeMap::new();
        let mut brands: BTreeMap<String, Group> = BTreeMap::new();
        let add = |map: &mut BTreeMap<&'static str, Group>, name: &'static str, sum: i64| {
            let g = map.entry(name).or_insert_with(|| Group {
                name: name.to_string(),
                ..Group::default()
            });
            g.count += 1;
            g.sum_minor += sum;
        };
        let mut net = 0i64;
        let mut brand_net = |r: &TxnRow, amount: i64| {
            let name = r.brand.clone().unwrap_or_else(|| "unknown".into());
            let g = brands.entry(name.clone()).or_insert_with(|| Group {
                name,
                ..Group::default()
            });
            g.count += 1;
            g.sum_minor += amount;
        };

        for r in &approved {
            let amount = r.amount.minor();
            match r.kind {
                TxnKind::Trans(T::Sale | T::CashbackSale) => {
                    let tip = effective_tip(r, &owned);
                    let cashback = r.cashback.map_or(0, |c| c.minor());
                    add(&mut kinds, r.kind.name(), amount);
                    if tip > 0 {
                        add(&mut kinds, "tips", tip);
                    }
                    if cashback > 0 {
                        add(&mut kinds, "cash-back", cashback);
                    }
                    net += amount + tip + cashback;
                    brand_net(r, amount + tip + cashback);
                }
                TxnKind::Trans(T::Completion) => {
                    add(&mut kinds, r.kind.name(), amount);
                    net += amount;
                    brand_net(r, amount);
                }
                TxnKind::Trans(T::Refund | T::CompletionRefund) => {
                    add(&mut kinds, r.kind.name(), amount);
                    net -= amount;
                    // An unreferenced refund names its card's brand itself.
                    let brand_row = by_order(&r.orig_order_no).unwrap_or(r);
                    brand_net(brand_row, -amount);
                }
                TxnKind::Trans(T::Void | T::CompletionCancel) => {
                    // The money of the original goes back: its amount, tip, cash-back.
                    let undone = by_order(&r.orig_order_no).map_or(0, |o| {
                        let base = o.amount.minor() + o.cashback.map_or(0, |c| c.minor());
                        let sign =
                            if matches!(o.kind, TxnKind::Trans(T::Refund | T::CompletionRefund)) {
                                -1
                            } else {
                                1
                            };
                        sign * (base + effective_tip(o, &owned))
                    });
                    add(&mut kinds, r.kind.name(), undone);
                    net -= undone;
                    if let Some(o) = by_order(&r.orig_order_no) {
                        brand_net(o, -undone);
                    }
                }
                TxnKind::Trans(T::PreAuth | T::PreAuthCancel) => {
                    add(&mut kinds, r.kind.name(), amount)
                }
                TxnKind::TipAdjust => add(&mut kinds, "tip-adjust", amount),
                TxnKind::BatchClose => {}
            }
        }
        // A voided sale still shows as a sale; its void row takes its money back.
        BatchReport {
            batch,
            per_kind: kinds.into_values().collect(),
            per_brand: brands.into_values().collect(),
            net_minor: net,
        }
    }
}
