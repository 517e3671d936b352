//! Requests the register sends: one `Operation` per thing a cashier can ask for, turned
//! into the wire envelope at the last moment.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{PayScenario, Receipts, Topic, TransType};
use crate::mask::mask_pans_owned;
use crate::money::Money;

/// Everything the register can ask a terminal to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    Init,
    Heartbeat,
    /// Sale, sale with cash-back, refund, void and the pre-auth family.
    Order(Order),
    Query {
        order_no: String,
    },
    Close {
        order_no: String,
    },
    TipAdjust {
        orig_order_no: String,
        tip: Money,
    },
    BatchClose,
}

/// An `ecrhub.pay.order`. Which fields matter depends on `trans_type`; the builders
/// below are the only sanctioned ways to fill it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub trans_type: TransType,
    pub(crate) order_no: String,
    pub(crate) orig_order_no: Option<String>,
    pub(crate) amount: Option<Money>,
    pub(crate) tip: Option<Money>,
    pub(crate) cashback: Option<Money>,
    pub(crate) currency: Option<String>,
    pub(crate) scenario: Option<PayScenario>,
    pub(crate) options: OrderOptions,
}

/// What the terminal does around the card beyond the amount: each `None` is left out of
/// the request, so the terminal uses its own setting. The protocol lists each field for
/// some trans_types only; `biz_data` sends it with those alone, whatever is set here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderOptions {
    /// Sale: the terminal asks the customer for a tip.
    pub on_screen_tip: Option<bool>,
    /// Sale: the terminal asks the customer to sign.
    pub on_screen_signature: Option<bool>,
    /// Sale, refund, void: a two-step confirmation on the terminal.
    pub confirm_on_terminal: Option<bool>,
    /// Sale, refund, void: which receipts the terminal prints.
    pub receipt_print_mode: Option<Receipts>,
    /// Sale: free text.
    pub description: Option<String>,
}

impl Order {
    fn new(trans_type: TransType, order_no: impl Into<String>) -> Self {
        Order {
            trans_type,
            order_no: order_no.into(),
            orig_order_no: None,
            amount: None,
            tip: None,
            cashback: None,
            currency: None,
            scenario: None,
            options: OrderOptions::default(),
        }
    }

    /// A sale; with a cash-back amount it becomes trans_type 11.
    pub fn sale(order_no: impl Into<String>, amount: Money, scenario: PayScenario) -> Self {
        Order {
            amount: Some(amount),
            scenario: Some(scenario),
            ..Order::new(TransType::Sale, order_no)
        }
    }

    pub fn with_tip(mut self, tip: Option<Money>) -> Self {
        self.tip = tip.filter(|t| !t.is_zero());
        self
    }

    pub fn with_cashback(mut self, cashback: Option<Money>) -> Self {
        self.cashback = cashback.filter(|c| !c.is_zero());
        if self.cashback.is_some() && self.trans_type == TransType::Sale {
            self.trans_type = TransType::CashbackSale;
        }
        self
    }

    pub fn with_currency(mut self, currency: Option<String>) -> Self {
        self.currency = currency;
        self
    }

    /// Terminal options; those the protocol does not list for this order's trans_type
    /// are kept here but never sent.
    pub fn with_options(mut self, options: OrderOptions) -> Self {
        self.options = options;
        self
    }

    /// Whether the protocol lists the sale-only options (tip and signature on screen,
    /// description) for this trans_type: a sale, with cash-back or without.
    fn takes_sale_options(&self) -> bool {
        matches!(self.trans_type, TransType::Sale | TransType::CashbackSale)
    }

    /// Whether the protocol lists `confirm_on_terminal` and `receipt_print_mode` for
    /// this trans_type: sale, refund and void (not the pre-auth family).
    fn takes_terminal_options(&self) -> bool {
        self.takes_sale_options() || matches!(self.trans_type, TransType::Refund | TransType::Void)
    }

    /// A refund: referenced with the original's order number (no card needed),
    /// unreferenced without it (the card must be presented).
    pub fn refund(order_no: impl Into<String>, amount: Money, orig: Option<String>) -> Self {
        Order {
            amount: Some(amount),
            orig_order_no: orig,
            scenario: Some(PayScenario::Card),
            ..Order::new(TransType::Refund, order_no)
        }
    }

    pub fn void(order_no: impl Into<String>, orig: impl Into<String>) -> Self {
        Order {
            orig_order_no: Some(orig.into()),
            ..Order::new(TransType::Void, order_no)
        }
    }

    pub fn pre_auth(order_no: impl Into<String>, amount: Money) -> Self {
        Order {
            amount: Some(amount),
            ..Order::new(TransType::PreAuth, order_no)
        }
    }

    /// A follow-up on an earlier pre-auth or completion: pre-auth cancel, completion,
    /// completion cancel, completion refund. `amount` is required for completion and
    /// completion refund.
    pub fn follow_up(
        trans_type: TransType,
        order_no: impl Into<String>,
        orig: impl Into<String>,
        amount: Option<Money>,
    ) -> Self {
        Order {
            orig_order_no: Some(orig.into()),
            amount,
            ..Order::new(trans_type, order_no)
        }
    }

    fn biz_data(&self) -> Map<String, Value> {
        let mut biz = Map::new();
        let mut put = |key: &str, value: Option<String>| {
            if let Some(v) = value {
                biz.insert(key.to_string(), Value::String(v));
            }
        };
        put("trans_type", Some(self.trans_type.code().to_string()));
        put("merchant_order_no", Some(self.order_no.clone()));
        put("orig_merchant_order_no", self.orig_order_no.clone());
        put("order_amount", self.amount.map(Money::to_wire));
        put("tip_amount", self.tip.map(Money::to_wire));
        put("cashback_amount", self.cashback.map(Money::to_wire));
        put("price_currency", self.currency.clone());
        put(
            "pay_scenario",
            self.scenario.map(|s| s.as_wire().to_string()),
        );
        let o = &self.options;
        if self.takes_sale_options() {
            // A card number typed into the description is masked here too, whatever
            // the caller checked.
            put("description", o.description.clone().map(mask_pans_owned));
        }
        let mut flag = |key: &str, value: Option<bool>| {
            if let Some(v) = value {
                biz.insert(key.to_string(), Value::Bool(v));
            }
        };
        if self.takes_sale_options() {
            flag("on_screen_tip", o.on_screen_tip);
            flag("on_screen_signature", o.on_screen_signature);
        }
        if self.takes_terminal_options() {
            flag("confirm_on_terminal", o.confirm_on_terminal);
            if let Some(receipts) = o.receipt_print_mode {
                biz.insert(
                    "receipt_print_mode".to_string(),
                    Value::from(receipts.as_wire()),
                );
            }
        }
        biz
    }
}

impl Operation {
    pub(crate) fn topic(&self) -> Topic {
        match self {
            Operation::Init => Topic::Init,
            Operation::Heartbeat => Topic::Heartbeat,
            Operation::Order(_) => Topic::PayOrder,
            Operation::Query { .. } => Topic::PayQuery,
            Operation::Close { .. } => Topic::PayClose,
            Operation::TipAdjust { .. } => Topic::TipAdjustment,
            Operation::BatchClose => Topic::BatchClose,
        }
    }

    /// The `merchant_order_no` the request carries, used to match a reply that does
    /// not echo `request_id`.
    pub(crate) fn order_no(&self) -> Option<&str> {
        match self {
            Operation::Order(o) => Some(&o.order_no),
            Operation::Query { order_no } | Operation::Close { order_no } => Some(order_no),
            Operation::TipAdjust { orig_order_no, .. } => Some(orig_order_no),
            Operation::Init | Operation::Heartbeat | Operation::BatchClose => None,
        }
    }

    /// Whether a person at the terminal is involved, which takes minutes, not seconds.
    pub(crate) fn is_card_flow(&self) -> bool {
        matches!(self, Operation::Order(_))
    }

    pub(crate) fn biz_data(&self) -> Option<Map<String, Value>> {
        let one = |key: &str, value: String| {
            let mut biz = Map::new();
            biz.insert(key.to_string(), Value::String(value));
            biz
        };
        match self {
            Operation::Init | Operation::Heartbeat | Operation::BatchClose => None,
            Operation::Order(order) => Some(order.biz_data()),
            Operation::Query { order_no } | Operation::Close { order_no } => {
                Some(one("merchant_order_no", order_no.clone()))
            }
            Operation::TipAdjust { orig_order_no, tip } => {
                let mut biz = one("merchant_order_no", orig_order_no.clone());
                biz.insert(
                    "tip_adjustment_amount".to_string(),
                    Value::String(tip.to_wire()),
                );
                Some(biz)
            }
        }
    }

    /// The frame for this operation, ready to send.
    pub fn envelope(&self, app_id: &str, request_id: &str, now_ms: i64) -> Request {
        Request {
            topic: self.topic().as_str().to_string(),
            app_id: app_id.to_string(),
            request_id: request_id.to_string(),
            timestamp: now_ms.to_string(),
            version: "2.0".to_string(),
            biz_data: self.biz_data(),
        }
    }
}

/// The request envelope exactly as it goes on the wire.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Request {
    pub(crate) topic: String,
    pub(crate) app_id: String,
    pub request_id: String,
    /// Epoch milliseconds, as a string.
    pub(crate) timestamp: String,
    pub(crate) version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) biz_data: Option<Map<String, Value>>,
}

impl Request {
    pub fn to_json(&self) -> String {
        // Serializing a struct of strings and a JSON map cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A fresh `request_id` for the envelope: unique, so a reply names the one request it answers.
pub(crate) fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The envelope's `timestamp`: milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
