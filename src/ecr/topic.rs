//! Topics and transaction types, the vocabulary of the ECR Hub protocol.

use std::fmt;

/// What a frame is about: the envelope's `topic`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Topic {
    Init,
    Heartbeat,
    PayOrder,
    PayQuery,
    PayClose,
    TipAdjustment,
    BatchClose,
    Pair,
    Unpair,
}

impl Topic {
    pub(crate) const ALL: [Topic; 9] = [
        Topic::Init,
        Topic::Heartbeat,
        Topic::PayOrder,
        Topic::PayQuery,
        Topic::PayClose,
        Topic::TipAdjustment,
        Topic::BatchClose,
        Topic::Pair,
        Topic::Unpair,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Topic::Init => "ecrhub.init",
            Topic::Heartbeat => "ecrhub.heartbeat",
            Topic::PayOrder => "ecrhub.pay.order",
            Topic::PayQuery => "ecrhub.pay.query",
            Topic::PayClose => "ecrhub.pay.close",
            Topic::TipAdjustment => "ecrhub.pay.tip.adjustment",
            Topic::BatchClose => "ecrhub.pay.batch.close",
            Topic::Pair => "ecrhub.pair",
            Topic::Unpair => "ecrhub.unpair",
        }
    }

    /// Reads a topic off the wire; some SDK builds spell init `ecrhub.pay.init`.
    pub(crate) fn parse(text: &str) -> Option<Topic> {
        if text == "ecrhub.pay.init" {
            return Some(Topic::Init);
        }
        Topic::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `trans_type` of an `ecrhub.pay.order`: a string of digits on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransType {
    Sale,
    Void,
    Refund,
    PreAuth,
    PreAuthCancel,
    Completion,
    CompletionCancel,
    CompletionRefund,
    CashbackSale,
}

impl TransType {
    pub(crate) const ALL: [TransType; 9] = [
        TransType::Sale,
        TransType::Void,
        TransType::Refund,
        TransType::PreAuth,
        TransType::PreAuthCancel,
        TransType::Completion,
        TransType::CompletionCancel,
        TransType::CompletionRefund,
        TransType::CashbackSale,
    ];

    pub(crate) fn code(self) -> &'static str {
        match self {
            TransType::Sale => "1",
            TransType::Void => "2",
            TransType::Refund => "3",
            TransType::PreAuth => "4",
            TransType::PreAuthCancel => "5",
            TransType::Completion => "6",
            TransType::CompletionCancel => "7",
            TransType::CompletionRefund => "8",
            TransType::CashbackSale => "11",
        }
    }

    pub fn from_code(code: &str) -> Option<TransType> {
        TransType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// A short lower-case name, used in the journal, the CLI and reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TransType::Sale => "sale",
            TransType::Void => "void",
            TransType::Refund => "refund",
            TransType::PreAuth => "pre-auth",
            TransType::PreAuthCancel => "pre-auth-cancel",
            TransType::Completion => "completion",
            TransType::CompletionCancel => "completion-cancel",
            TransType::CompletionRefund => "completion-refund",
            TransType::CashbackSale => "cashback-sale",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<TransType> {
        TransType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether this type names an earlier transaction in `orig_merchant_order_no`
    /// (a refund may or may not: with it referenced, without it unreferenced).
    pub(crate) fn needs_original(self) -> bool {
        matches!(
            self,
            TransType::Void
                | TransType::PreAuthCancel
                | TransType::Completion
                | TransType::CompletionCancel
                | TransType::CompletionRefund
        )
    }

    /// Whether the request carries an `order_amount` (a void or cancel takes back the
    /// original's amount without naming it).
    pub(crate) fn carries_amount(self) -> bool {
        matches!(
            self,
            TransType::Sale
                | TransType::CashbackSale
                | TransType::Refund
                | TransType::PreAuth
                | TransType::Completion
                | TransType::CompletionRefund
        )
    }
}

impl fmt::Display for TransType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `pay_scenario`: how the customer pays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PayScenario {
    /// Bank card: insert, tap or swipe (`SWIPE_CARD`).
    #[default]
    Card,
    /// The customer scans a QR code the terminal shows (`SCANQR_PAY`).
    CustomerScansQr,
    /// The merchant scans the customer's QR code (`BSCANQR_PAY`).
    MerchantScansQr,
}

impl PayScenario {
    pub(crate) fn as_wire(self) -> &'static str {
        match self {
            PayScenario::Card => "SWIPE_CARD",
            PayScenario::CustomerScansQr => "SCANQR_PAY",
            PayScenario::MerchantScansQr => "BSCANQR_PAY",
        }
    }

    pub(crate) fn from_wire(text: &str) -> Option<PayScenario> {
        [
            PayScenario::Card,
            PayScenario::CustomerScansQr,
            PayScenario::MerchantScansQr,
        ]
        .into_iter()
        .find(|s| s.as_wire() == text)
    }
}

/// Which receipts the terminal prints: `receipt_print_mode`, an integer on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Receipts {
    /// None at all (0).
    None,
    /// The merchant's copy only (1).
    Merchant,
    /// The customer's copy only (2).
    Customer,
    /// Both copies (3).
    Both,
}

impl Receipts {
    pub(crate) const ALL: [Receipts; 4] = [
        Receipts::None,
        Receipts::Merchant,
        Receipts::Customer,
        Receipts::Both,
    ];

    pub(crate) fn as_wire(self) -> u8 {
        match self {
            Receipts::None => 0,
            Receipts::Merchant => 1,
            Receipts::Customer => 2,
            Receipts::Both => 3,
        }
    }

    /// The word in the config file and on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Receipts::None => "none",
            Receipts::Merchant => "merchant",
            Receipts::Customer => "customer",
            Receipts::Both => "both",
        }
    }

    /// Reads the word, in any case.
    pub(crate) fn from_name(name: &str) -> Option<Receipts> {
        let name = name.trim();
        Receipts::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Receipts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `trans_status` as the terminal reports it. Unknown values are kept raw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TransStatus {
    Created,
    Closed,
    Completed,
    Cancelled,
    PreOrder,
    Other(String),
}

impl TransStatus {
    pub(crate) fn from_wire(code: &str) -> TransStatus {
        match code {
            "0" => TransStatus::Created,
            "1" => TransStatus::Closed,
            "2" => TransStatus::Completed,
            "3" => TransStatus::Cancelled,
            "9" => TransStatus::PreOrder,
            other => TransStatus::Other(other.to_string()),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            TransStatus::Created => "created".into(),
            TransStatus::Closed => "closed".into(),
            TransStatus::Completed => "completed".into(),
            TransStatus::Cancelled => "cancelled".into(),
            TransStatus::PreOrder => "pre-order".into(),
            TransStatus::Other(raw) => format!("status {raw}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_types_round_trip() {
        for t in Topic::ALL {
            assert_eq!(Topic::parse(t.as_str()), Some(t));
        }
        assert_eq!(Topic::parse("ecrhub.pay.init"), Some(Topic::Init));
        assert_eq!(Topic::parse("ecrhub.nope"), None);
        for t in TransType::ALL {
            assert_eq!(TransType::from_code(t.code()), Some(t));
            assert_eq!(TransType::from_name(t.name()), Some(t));
        }
        assert_eq!(TransType::CashbackSale.code(), "11");
        assert_eq!(TransStatus::from_wire("7"), TransStatus::Other("7".into()));
        for r in Receipts::ALL {
            assert_eq!(Receipts::from_name(r.name()), Some(r));
        }
        assert_eq!(Receipts::from_name("Both"), Some(Receipts::Both));
        assert_eq!(Receipts::from_name("all"), None);
    }
}
