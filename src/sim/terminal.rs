//! The simulated terminal's own books: its batch of transactions and how it answers
//! each topic. Pure logic, no sockets, so every rule is unit-tested.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::ecr::TransType;
use crate::money::{Money, format_minor};

/// One answer: code, message and business data (None: no `biz_data` at all).
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub code: &'static str,
    pub(crate) msg: String,
    pub biz: Option<Value>,
}

impl Answer {
    fn ok(biz: Value) -> Answer {
        Answer {
            code: "0",
            msg: "SUCCESS".into(),
            biz: Some(biz),
        }
    }

    fn err(code: &'static str, msg: impl Into<String>) -> Answer {
        Answer {
            code,
            msg: msg.into(),
            biz: None,
        }
    }

    pub fn is_ok(&self) -> bool {
        self.code == "0"
    }
}

/// Money that really moved, for the ledger: + charged, − given back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LedgerEntry {
    pub merchant_order_no: String,
    pub trans_type: String,
    pub amount_minor: i64,
    pub(crate) at: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// In the card flow.
    Created,
    Closed,
    Completed,
    Cancelled,
}

impl Status {
    fn code(self) -> &'static str {
        match self {
            Status::Created => "0",
            Status::Closed => "1",
            Status::Completed => "2",
            Status::Cancelled => "3",
        }
    }
}

#[derive(Clone, Debug)]
struct Txn {
    order_no: String,
    trans_type: TransType,
    orig: Option<String>,
    amount: i64,
    tip: i64,
    cashback: i64,
    currency: Option<String>,
    status: Status,
    trans_no: String,
    batch: u32,
    /// Refunded or completed against this one so far.
    consumed: i64,
    /// A cashier pressed cancel (pay.close) during the card flow.
    aborted: bool,
    /// The register asked the terminal to offer the customer a tip.
    on_screen_tip: bool,
    /// Its tip was adjusted: answers name the tip even when it is zero.
    tip_adjusted: bool,
    response: Option<(&'static str, String)>,
}

const BRANDS: [(&str, &str); 3] = [
    ("Visa", "456331******3919"),
    ("Mastercard", "522233******4417"),
    ("Amex", "371449*****8431"),
];

/// Picks the card (and auth code) of an order from its trailing sequence number, so
/// the brand never depends on the day or the journal's identity in the number.
fn card_seed(order_no: &str) -> usize {
    let tail: String = order_no
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .take(9)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    tail.parse::<usize>()
        .unwrap_or_else(|_| order_no.bytes().map(usize::from).sum())
}

pub struct Terminal {
    exponent: u8,
    batch: u32,
    txns: HashMap<String, Txn>,
    next_trans_no: u64,
    pub(crate) device_sn: String,
}

impl Terminal {
    pub fn new(exponent: u8) -> Terminal {
        Terminal {
            exponent,
            batch: 1,
            txns: HashMap::new(),
            next_trans_no: 1,
            device_sn: "SIM0000000000001".into(),
        }
    }

    pub(crate) fn init(&self) -> Answer {
        Answer::ok(json!({
            "app_name": "CodePay Register (simulated)",
            "cashier_version": env!("CARGO_PKG_VERSION"),
            "device_sn": self.device_sn,
            "device_model": "SIM-P2",
            "description": "till's built-in simulated terminal",
        }))
    }

    fn money(&self, biz: &Map<String, Value>, key: &str) -> Result<i64, Answer> {
        match text(biz, key) {
            None => Ok(0),
            Some(t) => Money::parse(&t, self.exponent)
                .map(Money::minor)
                .map_err(|e| Answer::err("101", format!("Invalid {key}: {e}"))),
        }
    }

    fn fmt(&self, minor: i64) -> String {
        format_minor(minor, self.exponent)
    }

    /// Starts the card flow of a `pay.order`; the answer comes from `finish_order`.
    /// Refusals (bad fields, unknown original, duplicate order) answer at once.
    // Long on purpose: a real terminal's checks of a pay.order, one after the other, then the flow's start.
    pub fn begin_order(&mut self, biz: &Map<String, Value>) -> Result<String, Answer> {
        let order_no = text(biz, "merchant_order_no")
            .filter(|o| o.len() <= 32)
            .ok_or_else(|| Answer::err("101", "Invalid merchant_order_no"))?;
        if self.txns.contains_key(&order_no) {
            return Err(Answer::err("103", "Duplicate merchant_order_no"));
        }
        let trans_type = text(biz, "trans_type")
            .as_deref()
            .and_then(TransType::from_code)
            .ok_or_else(|| Answer::err("101", "Invalid trans_type"))?;
        let amount = self.money(biz, "order_amount")?;
        let tip = self.money(biz, "tip_amount")?;
        let cashback = self.money(biz, "cashback_amount")?;
        let orig = text(biz, "orig_merchant_order_no");
        use TransType as T;
        if trans_type.carries_amount() && amount == 0 {
            return Err(Answer::err("101", "Invalid order_amount"));
        }
        if let Some(o) = &orig {
            let wanted: &[TransType] = match trans_type {
                T::Void => &[T::Sale, T::CashbackSale, T::Refund, T::Completion],
                T::Refund => &[T::Sale, T::CashbackSale, T::Completion],
                T::PreAuthCancel | T::Completion => &[T::PreAuth],
                T::CompletionCancel | T::CompletionRefund => &[T::Completion],
                _ => &[],
            };
            let original = self
                .txns
                .get(o)
                .filter(|t| t.status == Status::Completed && wanted.contains(&t.trans_type))
                .ok_or_else(|| {
                    Answer::err(
                        "104",
                        format!("Original order {o} not found or not completed"),
                    )
                })?;
            let left = original.amount + original.tip - original.consumed;
            let over = match trans_type {
                T::Refund | T::CompletionRefund | T::Completion => amount > left,
                _ => false,
            };
            if over {
                return Err(Answer::err(
                    "105",
                    format!("Amount exceeds what is left ({})", self.fmt(left)),
                ));
            }
            // Like a real host: a void or cancel takes back an untouched payment only,
            // and a pre-auth completes once.
            let touched = original.consumed > 0;
            if touched
                && matches!(
                    trans_type,
                    T::Void | T::CompletionCancel | T::PreAuthCancel | T::Completion
                )
            {
                return Err(Answer::err(
                    "104",
                    format!("Original order {o} was already refunded or completed"),
                ));
            }
            let closed_batch = original.batch != self.batch;
            if matches!(trans_type, T::Void | T::CompletionCancel | T::PreAuthCancel)
                && closed_batch
            {
                return Err(Answer::err("104", "Original is in a settled batch"));
            }
        } else if trans_type.needs_original() {
            return Err(Answer::err("101", "orig_merchant_order_no is required"));
        }
        let trans_no = format!("{:04}{:014}", 2026, self.next_trans_no);
        self.next_trans_no += 1;
        self.txns.insert(
            order_no.clone(),
            Txn {
                order_no: order_no.clone(),
                trans_type,
                orig,
                amount,
                tip,
                cashback,
                currency: text(biz, "price_currency"),
                status: Status::Created,
                trans_no,
                batch: self.batch,
                consumed: 0,
                aborted: false,
                on_screen_tip: on_screen_tip(biz),
                tip_adjusted: false,
                response: None,
            },
        );
        Ok(order_no)
    }

    /// Ends the card flow: approved, declined by the rule, or cancelled by a close.
    /// On a sale that offered the customer a tip, `customer_tip` is the one they chose
    /// on the screen (it replaces any tip the register sent).
    pub fn finish_order(
        &mut self,
        order_no: &str,
        decline_cents: Option<u32>,
        customer_tip: Option<i64>,
    ) -> (Answer, Vec<LedgerEntry>) {
        if let Some(t) = self.txns.get_mut(order_no)
            && let Some(tip) = customer_tip.filter(|_| t.on_screen_tip)
            && matches!(t.trans_type, TransType::Sale | TransType::CashbackSale)
        {
            t.tip = tip;
        }
        let Some(txn) = self.txns.get(order_no).cloned() else {
            return (Answer::err("107", "Order does not exist"), vec![]);
        };
        let declined = decline_cents.is_some_and(|c| i64::from(c) == txn.amount % 100)
            && matches!(
                txn.trans_type,
                TransType::Sale | TransType::CashbackSale | TransType::PreAuth
            );
        let answer = if txn.aborted {
            self.set(order_no, Status::Closed);
            Answer {
                code: "110",
                msg: "Transaction failed[[K026]Manual cancelation by operator]".into(),
                biz: Some(Value::String(String::new())),
            }
        } else if declined {
            self.set(order_no, Status::Closed);
            Answer {
                code: "105",
                msg: "Transaction declined[51 Insufficient funds]".into(),
                biz: Some(json!({"merchant_order_no": order_no, "trans_status": "1"})),
            }
        } else {
            self.set(order_no, Status::Completed);
            if let Some(orig) = &txn.orig {
                self.apply_to_original(&txn, orig);
            }
            Answer::ok(self.describe(order_no))
        };
        if let Some(t) = self.txns.get_mut(order_no) {
            t.response = Some((answer.code, answer.msg.clone()));
        }
        let ledger = if answer.is_ok() {
            self.movement(&txn)
        } else {
            vec![]
        };
        (answer, ledger)
    }

    fn set(&mut self, order_no: &str, status: Status) {
        if let Some(t) = self.txns.get_mut(order_no) {
            t.status = status;
        }
    }

    fn apply_to_original(&mut self, txn: &Txn, orig: &str) {
        use TransType as T;
        let Some(o) = self.txns.get_mut(orig) else {
            return;
        };
        match txn.trans_type {
            T::Void | T::PreAuthCancel | T::CompletionCancel => o.status = Status::Cancelled,
            T::Refund | T::CompletionRefund | T::Completion => o.consumed += txn.amount,
            _ => {}
        }
    }

    /// The money a completed transaction moved.
    fn movement(&self, txn: &Txn) -> Vec<LedgerEntry> {
        use TransType as T;
        let original = txn.orig.as_deref().and_then(|o| self.txns.get(o));
        let amount = match txn.trans_type {
            T::Sale | T::CashbackSale => txn.amount + txn.tip + txn.cashback,
            T::Completion => txn.amount,
            T::Refund | T::CompletionRefund => -txn.amount,
            T::Void | T::CompletionCancel => original.map_or(0, |o| {
                let moved = o.amount + o.tip + o.cashback;
                if o.trans_type == T::Refund {
                    moved
                } else {
                    -moved
                }
            }),
            T::PreAuth | T::PreAuthCancel => 0,
        };
        vec![LedgerEntry {
            merchant_order_no: txn.order_no.clone(),
            trans_type: txn.trans_type.name().to_string(),
            amount_minor: amount,
            at: chrono::Utc::now().timestamp_millis(),
        }]
    }

    fn describe(&self, order_no: &str) -> Value {
        let Some(t) = self.txns.get(order_no) else {
            return Value::Null;
        };
        // A follow-up is paid with the original's card.
        let mut root = t;
        while let Some(o) = root.orig.as_deref().and_then(|o| self.txns.get(o)) {
            root = o;
        }
        let seed = card_seed(&root.order_no);
        let (brand, card) = BRANDS[seed % BRANDS.len()];
        let mut biz = json!({
            "merchant_order_no": t.order_no,
            "trans_no": t.trans_no,
            "trans_type": t.trans_type.code(),
            "trans_status": t.status.code(),
            "order_amount": self.fmt(t.amount),
            "total_amount": self.fmt(t.amount + t.tip + t.cashback),
            "pay_method_id": brand,
            "card_no": card,
            "auth_code": format!("{:06}", seed * 7919 % 1_000_000),
            "ref_no": format!("{:012}", 332_712_000_000u64 + t.trans_no.len() as u64 * 1000 + seed as u64),
            "entry_mode": "CONTACTLESS",
            "trans_end_time": chrono::Local::now().format("%Y/%m/%d %H:%M:%S").to_string(),
        });
        if let Some(map) = biz.as_object_mut() {
            let mut put = |k: &str, v: String| {
                map.insert(k.to_string(), Value::String(v));
            };
            if t.tip > 0 || t.tip_adjusted {
                put("tip_amount", self.fmt(t.tip));
            }
            if t.cashback > 0 {
                put("cashback_amount", self.fmt(t.cashback));
            }
            if let Some(o) = &t.orig {
                put("orig_merchant_order_no", o.clone());
            }
            if let Some(c) = &t.currency {
                put("price_currency", c.clone());
            }
        }
        biz
    }

    pub fn query(&self, biz: &Map<String, Value>) -> Answer {
        let Some(order_no) = text(biz, "merchant_order_no") else {
            return Answer::err("101", "merchant_order_no is required");
        };
        match self.txns.get(&order_no) {
            None => Answer::err("107", "Order does not exist"),
            Some(t) => {
                let mut biz = self.describe(&order_no);
                if let (Some((code, msg)), Some(map)) = (&t.response, biz.as_object_mut()) {
                    map.insert("msg".into(), Value::String(format!("{code} {msg}")));
                }
                Answer::ok(biz)
            }
        }
    }

    /// `pay.close`: the cashier aborts an order still in its card flow.
    pub fn close(&mut self, biz: &Map<String, Value>) -> Answer {
        let order_no = text(biz, "merchant_order_no").unwrap_or_default();
        match self.txns.get_mut(&order_no) {
            Some(t) if t.status == Status::Created => {
                t.aborted = true;
                Answer::ok(json!({"merchant_order_no": order_no}))
            }
            Some(_) => Answer::err("108", "Order is no longer waiting for payment"),
            None => Answer::err("107", "Order does not exist"),
        }
    }

    pub fn tip_adjust(&mut self, biz: &Map<String, Value>) -> (Answer, Vec<LedgerEntry>) {
        let order_no = text(biz, "merchant_order_no").unwrap_or_default();
        let tip = match self.money(biz, "tip_adjustment_amount") {
            Ok(t) => t,
            Err(a) => return (a, vec![]),
        };
        let batch = self.batch;
        let Some(t) = self.txns.get_mut(&order_no) else {
            return (Answer::err("107", "Order does not exist"), vec![]);
        };
        let tippable = matches!(t.trans_type, TransType::Sale | TransType::CashbackSale)
            && t.status == Status::Completed
            && t.batch == batch;
        if !tippable {
            return (
                Answer::err("104", "Only a completed sale of the open batch takes a tip"),
                vec![],
            );
        }
        let delta = tip - t.tip;
        t.tip = tip;
        t.tip_adjusted = true;
        let entry = LedgerEntry {
            merchant_order_no: order_no.clone(),
            trans_type: "tip-adjust".into(),
            amount_minor: delta,
            at: chrono::Utc::now().timestamp_millis(),
        };
        (Answer::ok(self.describe(&order_no)), vec![entry])
    }

    pub fn batch_close(&mut self) -> Answer {
        use TransType as T;
        let mine: Vec<&Txn> = self
            .txns
            .values()
            .filter(|t| t.batch == self.batch && t.status != Status::Created)
            .collect();
        let sum = |kinds: &[TransType]| -> (usize, i64) {
            let rows: Vec<&&Txn> = mine
                .iter()
                .filter(|t| {
                    kinds.contains(&t.trans_type) && t.response.as_ref().is_some_and(|r| r.0 == "0")
                })
                .collect();
            (
                rows.len(),
                rows.iter().map(|t| t.amount + t.tip + t.cashback).sum(),
            )
        };
        let (sales, sale_amount) = sum(&[T::Sale, T::CashbackSale, T::Completion]);
        let (refunds, refund_amount) = sum(&[T::Refund, T::CompletionRefund]);
        let (voids, _) = sum(&[T::Void, T::CompletionCancel]);
        let answer = Answer::ok(json!({
            "batch_no": self.batch.to_string(),
            "sale_count": sales.to_string(),
            "sale_amount": self.fmt(sale_amount),
            "refund_count": refunds.to_string(),
            "refund_amount": self.fmt(refund_amount),
            "void_count": voids.to_string(),
        }));
        self.batch += 1;
        answer
    }
}

/// Whether a request asks the terminal to offer a tip: `on_screen_tip` true, as a
/// boolean or as text.
fn on_screen_tip(biz: &Map<String, Value>) -> bool {
    match biz.get("on_screen_tip") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

/// A field as text, whatever JSON type it came in.
pub(crate) fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
