//! The gateway's method names. Those the vendor's SDK names only by class are
//! unconfirmed and can be overridden in `[cloud] methods`.

use serde::Deserialize;

pub(crate) const PAY_ORDER: &str = "wisehub.cloud.pay.order";
pub(crate) const PAY_CLOSE: &str = "wisehub.cloud.pay.close";
pub(crate) const QUERY: &str = "order.query";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Methods {
    pub refund: String,
    pub void: String,
    pub(crate) tip: String,
    pub(crate) batch_close: String,
}

impl Default for Methods {
    fn default() -> Self {
        Methods {
            refund: "order.refund.submit".into(),
            void: "order.revoker".into(),
            tip: "tip.adjustment".into(),
            batch_close: "batch.close".into(),
        }
    }
}

/// `methods = { ... }` in the config file: each key optional.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub(crate) struct MethodsFile {
    pub(crate) refund: Option<String>,
    pub(crate) void: Option<String>,
    pub(crate) tip: Option<String>,
    pub(crate) batch_close: Option<String>,
}

impl Methods {
    pub(crate) fn with(mut self, file: &MethodsFile) -> Methods {
        let set = |slot: &mut String, value: &Option<String>| {
            if let Some(v) = value.as_ref().filter(|v| !v.trim().is_empty()) {
                *slot = v.trim().to_string();
            }
        };
        set(&mut self.refund, &file.refund);
        set(&mut self.void, &file.void);
        set(&mut self.tip, &file.tip);
        set(&mut self.batch_close, &file.batch_close);
        self
    }
}
