//! Replies from the terminal, decoded tolerantly: every variant protocol.md lists
//! (biz_data as object, JSON string, empty string or absent; numbers for strings;
//! legacy `msg_id`/`success`/`msg`; extra keys) becomes the same `Reply`.

use serde_json::{Map, Value};

use crate::mask::mask_json;
use crate::money::{Money, MoneyError};

/// A decoded reply. Every field may be missing; none of them is trusted to exist.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reply {
    pub(crate) topic: Option<String>,
    /// `request_id`, or the legacy `msg_id`.
    pub request_id: Option<String>,
    pub response_code: Option<String>,
    /// `response_msg`, or the legacy `msg` / `error_msg`.
    pub(crate) response_msg: Option<String>,
    /// The legacy `success` flag (`true`, `"true"`, `1`, `"1"`).
    pub success: Option<bool>,
    pub biz: BizData,
}

/// The fields of `biz_data` that till uses, each as text whatever JSON type it came
/// in. `card_no` is masked on the way in, so a full PAN never gets further than here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BizData {
    pub merchant_order_no: Option<String>,
    pub(crate) orig_merchant_order_no: Option<String>,
    pub trans_no: Option<String>,
    pub(crate) trans_type: Option<String>,
    pub trans_status: Option<String>,
    pub(crate) order_amount: Option<String>,
    pub tip_amount: Option<String>,
    pub(crate) cashback_amount: Option<String>,
    pub(crate) total_amount: Option<String>,
    pub(crate) price_currency: Option<String>,
    pub(crate) pay_method_id: Option<String>,
    pub(crate) card_brand: Option<String>,
    pub(crate) card_type: Option<String>,
    pub card_no: Option<String>,
    pub(crate) auth_code: Option<String>,
    pub(crate) ref_no: Option<String>,
    pub(crate) entry_mode: Option<String>,
    pub(crate) trans_end_time: Option<String>,
    pub(crate) terminal_sn: Option<String>,
    pub(crate) msg: Option<String>,
    /// Device information from `ecrhub.init`.
    pub device: DeviceInfo,
    /// The whole object (card numbers masked) for what has no field of its own, such as
    /// the totals of a batch close.
    pub(crate) all: Map<String, Value>,
}

/// What a terminal says about itself in its `ecrhub.init` reply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub(crate) app_name: Option<String>,
    pub(crate) cashier_version: Option<String>,
    pub device_sn: Option<String>,
    pub(crate) device_model: Option<String>,
    pub(crate) description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error("malformed frame: not a JSON object")]
    NotAnObject,
}

impl Reply {
    /// Decodes one text frame as it arrived on the socket.
    pub fn decode(text: &str) -> Result<Reply, DecodeError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        // Masked first, so no card number reaches any field, log or Debug output.
        Reply::from_masked(mask_json(value))
    }

    /// Decodes a frame already parsed and run through `mask_json` (the link does both
    /// once, for the wire log and for this).
    pub(crate) fn from_masked(value: Value) -> Result<Reply, DecodeError> {
        let Value::Object(top) = value else {
            return Err(DecodeError::NotAnObject);
        };
        let biz = match top.get("biz_data") {
            Some(Value::Object(obj)) => obj.clone(),
            // Some terminals send the object serialized into a string, which the
            // envelope's masking saw only as text.
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s).map(mask_json) {
                Ok(Value::Object(obj)) => obj,
                _ => Map::new(),
            },
            Some(_) => Map::new(),
            // Older generations put the business fields at the top level.
            None => top.clone(),
        };
        Ok(Reply {
            topic: text_of(&top, "topic"),
            request_id: request_id_in(&top),
            response_code: text_of(&top, "response_code"),
            response_msg: text_of(&top, "response_msg")
                .or_else(|| text_of(&top, "msg"))
                .or_else(|| text_of(&top, "error_msg")),
            success: top.get("success").and_then(flag),
            biz: BizData::from_map(biz),
        })
    }

    /// The message a person should read for this reply.
    pub fn message(&self) -> &str {
        self.response_msg
            .as_deref()
            .or(self.biz.msg.as_deref())
            .unwrap_or("")
    }
}

impl BizData {
    fn from_map(map: Map<String, Value>) -> BizData {
        let t = |key: &str| text_of(&map, key);
        BizData {
            merchant_order_no: t("merchant_order_no"),
            orig_merchant_order_no: t("orig_merchant_order_no"),
            trans_no: t("trans_no"),
            trans_type: t("trans_type"),
            trans_status: t("trans_status"),
            order_amount: t("order_amount"),
            tip_amount: t("tip_amount"),
            cashback_amount: t("cashback_amount"),
            total_amount: t("total_amount"),
            price_currency: t("price_currency"),
            pay_method_id: t("pay_method_id"),
            card_brand: t("card_brand"),
            card_type: t("card_type"),
            card_no: t("card_no"),
            auth_code: t("auth_code"),
            ref_no: t("ref_no"),
            entry_mode: t("entry_mode"),
            trans_end_time: t("trans_end_time"),
            terminal_sn: t("terminal_sn"),
            msg: t("msg"),
            device: DeviceInfo {
                app_name: t("app_name"),
                cashier_version: t("cashier_version"),
                device_sn: t("device_sn"),
                device_model: t("device_model"),
                description: t("description"),
            },
            all: map,
        }
    }

    /// The card brand: `card_brand` when present, else `pay_method_id`, where the LAN
    /// path reports it.
    pub fn brand(&self) -> Option<&str> {
        self.card_brand.as_deref().or(self.pay_method_id.as_deref())
    }

    /// `order_amount` (or `trans_amount`, which some builds send instead) in minor
    /// units of a currency with `exponent` decimals.
    pub fn amount(&self, exponent: u8) -> Option<Result<Money, MoneyError>> {
        self.amount_text().map(|(_, a)| Money::parse(&a, exponent))
    }

    /// The field `amount` reads and its text as it came.
    pub(crate) fn amount_text(&self) -> Option<(&'static str, String)> {
        match &self.order_amount {
            Some(a) => Some(("order_amount", a.clone())),
            None => text_of(&self.all, "trans_amount").map(|a| ("trans_amount", a)),
        }
    }
}

/// A field as text: strings as they are, numbers as their literal (never through f64),
/// booleans as "true"/"false". Empty strings, null, objects and arrays count as absent.
/// A frame's `request_id`, or the legacy `msg_id`.
pub(crate) fn request_id_in(top: &Map<String, Value>) -> Option<String> {
    text_of(top, "request_id").or_else(|| text_of(top, "msg_id"))
}

fn text_of(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => Some(n.to_string() != "0"),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}
