//! Open API requests and answers without I/O: which method and fields an operation
//! becomes, the signed body, and what an answer says once its signature is checked.

use rsa::RsaPublicKey;
use serde_json::{Map, Value};

use super::methods::{PAY_CLOSE, PAY_ORDER, QUERY};
use super::settings::CloudSettings;
use super::sign::{self, SignatureError};
use crate::ecr::{Operation, Reply, Topic, TransType};
use crate::mask;
use crate::mask::mask_json;

/// Which terminal a request is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Terminal {
    One(String),
    /// Every terminal of the merchant (a batch close only).
    All,
}

/// One request to the gateway, before the common fields and the signature.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Call {
    pub(crate) method: String,
    /// The LAN topic whose outcome rules judge the answer.
    pub(crate) topic: Topic,
    /// The order the answer must be about, if any.
    pub(crate) order_no: Option<String>,
    pub(crate) fields: Map<String, Value>,
}

/// The call an operation becomes. Init, heartbeat and raw frames have none.
pub(crate) fn call_for(
    op: &Operation,
    settings: &CloudSettings,
    terminal: &Terminal,
) -> Result<Call, String> {
    let m = &settings.methods;
    let (method, topic, mut fields) = match op {
        Operation::Order(order) => {
            let mut fields = op.biz_data().unwrap_or_default();
            let method = match order.trans_type {
                TransType::Refund if order.orig_order_no.is_some() => m.refund.as_str(),
                TransType::Void => m.void.as_str(),
                _ => {
                    fields.insert(
                        "message_receiving_application".into(),
                        "CodePay Register".into(),
                    );
                    PAY_ORDER
                }
            };
            (method, Topic::PayOrder, fields)
        }
        Operation::Query { .. } => (QUERY, Topic::PayQuery, op.biz_data().unwrap_or_default()),
        Operation::Close { .. } => (
            PAY_CLOSE,
            Topic::PayClose,
            op.biz_data().unwrap_or_default(),
        ),
        Operation::TipAdjust { .. } => (
            m.tip.as_str(),
            Topic::TipAdjustment,
            op.biz_data().unwrap_or_default(),
        ),
        Operation::BatchClose => (m.batch_close.as_str(), Topic::BatchClose, Map::new()),
        Operation::Init | Operation::Heartbeat => {
            return Err("the cloud has no such request".into());
        }
    };
    fields.insert("merchant_no".into(), settings.merchant_no.clone().into());
    if let Some(store) = &settings.store_no {
        fields.insert("store_no".into(), store.clone().into());
    }
    // A query names the order alone: it may have been paid on any terminal.
    if topic != Topic::PayQuery {
        match terminal {
            Terminal::One(sn) => {
                fields.insert("terminal_sn".into(), sn.clone().into());
            }
            Terminal::All if topic == Topic::BatchClose => {}
            Terminal::All => return Err("only a batch close goes to every terminal".into()),
        }
    }
    Ok(Call {
        method: method.to_string(),
        topic,
        order_no: op.order_no().map(String::from),
        fields,
    })
}

/// The request body: the call's fields beside the common ones, signed.
pub(crate) fn signed_body(
    settings: &CloudSettings,
    call: &Call,
    now_ms: i64,
) -> Result<Map<String, Value>, SignatureError> {
    let mut body = call.fields.clone();
    for (key, value) in [
        ("app_id", settings.app_id.as_str()),
        ("method", call.method.as_str()),
        ("format", "JSON"),
        ("charset", "UTF-8"),
        ("sign_type", "RSA2"),
        ("version", "1.0"),
    ] {
        body.insert(key.into(), value.into());
    }
    body.insert("timestamp".into(), now_ms.to_string().into());
    let signature = sign::sign(&settings.key, &body)?;
    body.insert("sign".into(), signature.into());
    Ok(body)
}

/// An answer from the gateway, read.
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded {
    /// Signed by the gateway: its code and data as a LAN reply, judged by the same rules.
    Trusted {
        reply: Box<Reply>,
        psn: Option<String>,
    },
    /// Nothing in it can be believed (unsigned, badly signed, not JSON): whatever it
    /// says, the outcome is unknown until a signed query settles it.
    Untrusted { why: String },
}

/// Reads an answer's text; `raw` is the same text with card numbers masked, for the
/// journal and the wire log.
pub fn decode(body: &str, gateway: &RsaPublicKey) -> (Decoded, String) {
    let value: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => {
            let raw = mask::mask_frame(body);
            let why = format!("the gateway's answer is not JSON: {e}");
            return (Decoded::Untrusted { why }, raw);
        }
    };
    let raw = mask_json(value.clone()).to_string();
    let Value::Object(top) = value else {
        let why = "the gateway's answer is not a JSON object".to_string();
        return (Decoded::Untrusted { why }, raw);
    };
    // Checked on the text as signed, before masking changes any of it.
    if let Err(e) = sign::verify(gateway, &top) {
        return (Decoded::Untrusted { why: e.to_string() }, raw);
    }
    let text = |key: &str| match top.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let mut lan = Map::new();
    if let Some(code) = text("code") {
        lan.insert("response_code".into(), code.into());
    }
    if let Some(msg) = text("msg") {
        lan.insert("response_msg".into(), msg.into());
    }
    lan.insert(
        "biz_data".into(),
        top.get("data").cloned().unwrap_or(Value::Null),
    );
    match Reply::from_masked(mask_json(Value::Object(lan))) {
        Ok(reply) => (
            Decoded::Trusted {
                reply: Box::new(reply),
                psn: text("psn"),
            },
            raw,
        ),
        Err(e) => (Decoded::Untrusted { why: e.to_string() }, raw),
    }
}
