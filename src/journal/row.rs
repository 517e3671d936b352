//! A journal row and its parts: what it is (`TxnKind`), where it stands (`TxnState`),
//! the way it went (`Via`), a request about to be journaled (`NewTxn`) and what the
//! terminal said of it (`OutcomeRecord`).

use crate::ecr::TransType;
use crate::money::Money;

/// The way a request went to its terminal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Via {
    /// The lane's own terminal, over the LAN.
    #[default]
    Lan,
    /// The vendor's cloud Open API.
    Cloud,
}

impl Via {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Via::Lan => "lan",
            Via::Cloud => "cloud",
        }
    }
}

/// What a row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxnKind {
    Trans(TransType),
    TipAdjust,
    BatchClose,
}

impl TxnKind {
    /// A sale or a cash-back sale.
    pub fn is_sale(self) -> bool {
        matches!(
            self,
            TxnKind::Trans(TransType::Sale | TransType::CashbackSale)
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            TxnKind::Trans(t) => t.name(),
            TxnKind::TipAdjust => "tip-adjust",
            TxnKind::BatchClose => "batch-close",
        }
    }

    pub fn from_name(name: &str) -> Option<TxnKind> {
        match name {
            "tip-adjust" => Some(TxnKind::TipAdjust),
            "batch-close" => Some(TxnKind::BatchClose),
            other => TransType::from_name(other).map(TxnKind::Trans),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TxnState {
    /// Journaled; the terminal's answer is not known yet.
    Pending,
    Approved,
    Declined,
    /// No definite answer: to be resolved by query. The default, because it is the
    /// only safe assumption about money nobody has confirmed.
    #[default]
    Unknown,
}

impl TxnState {
    pub(crate) fn name(self) -> &'static str {
        match self {
            TxnState::Pending => "pending",
            TxnState::Approved => "approved",
            TxnState::Declined => "declined",
            TxnState::Unknown => "unknown",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<TxnState> {
        [
            TxnState::Pending,
            TxnState::Approved,
            TxnState::Declined,
            TxnState::Unknown,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }

    pub fn is_final(self) -> bool {
        matches!(self, TxnState::Approved | TxnState::Declined)
    }
}

/// A request about to be sent.
#[derive(Clone, Debug)]
pub struct NewTxn {
    pub order_no: String,
    pub request_id: String,
    pub kind: TxnKind,
    pub amount: Money,
    pub tip: Option<Money>,
    pub cashback: Option<Money>,
    pub currency: String,
    pub orig_order_no: Option<String>,
    pub lane: String,
    pub scenario: Option<String>,
}

/// What the terminal said (or that it said nothing).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutcomeRecord {
    pub state: TxnState,
    /// The amount the terminal says moved, when it says one.
    pub amount: Option<Money>,
    /// The tip the terminal says moved (one a customer added on its screen), when it
    /// says one.
    pub tip: Option<Money>,
    pub reply: TerminalReply,
}

/// What the terminal's reply said of a payment, as a row keeps it: what an outcome
/// records and a row reads back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TerminalReply {
    pub response_code: Option<String>,
    pub response_msg: Option<String>,
    pub trans_no: Option<String>,
    pub trans_status: Option<String>,
    pub brand: Option<String>,
    pub card: Option<String>,
    pub auth_code: Option<String>,
    pub ref_no: Option<String>,
    pub entry_mode: Option<String>,
    /// The reply frame; masked again on the way in.
    pub raw: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TxnRow {
    pub id: i64,
    pub order_no: String,
    pub(crate) request_id: String,
    pub kind: TxnKind,
    pub state: TxnState,
    /// What moved: the amount asked for until the terminal says otherwise.
    pub amount: Money,
    /// What was asked for. An approved row whose `amount` differs is partial.
    pub asked: Money,
    pub tip: Option<Money>,
    pub(crate) cashback: Option<Money>,
    pub(crate) currency: String,
    pub orig_order_no: Option<String>,
    pub lane: String,
    pub(crate) scenario: Option<String>,
    pub batch: i64,
    /// UTC, RFC 3339 with milliseconds.
    pub created_at: String,
    pub(crate) sent_at: Option<String>,
    pub(crate) updated_at: String,
    pub reply: TerminalReply,
    pub via: Via,
    /// The terminal a cloud request named ("all" for every terminal's batch).
    pub terminal_sn: Option<String>,
}

impl TxnRow {
    /// Approved for another amount than was asked (the terminal says what moved).
    pub fn is_partial(&self) -> bool {
        self.state == TxnState::Approved && self.amount != self.asked
    }

    /// A partial approval in words for the cashier: what moved, what was asked and
    /// what is left to settle another way.
    pub(crate) fn partial_note(&self) -> Option<String> {
        if !self.is_partial() {
            return None;
        }
        let (moved, asked) = (self.amount, self.asked);
        let rest = Money::from_minor((asked.minor() - moved.minor()).abs(), asked.exponent())
            .unwrap_or(Money::zero(asked.exponent()));
        let refund = matches!(
            self.kind,
            TxnKind::Trans(TransType::Refund | TransType::CompletionRefund)
        );
        Some(match (refund, moved < asked) {
            (false, true) => format!("APPROVED {moved} of {asked}: collect {rest} another way"),
            (true, true) => format!("REFUNDED {moved} of {asked}: give back {rest} another way"),
            (_, false) => format!("APPROVED {moved}, {rest} more than the {asked} asked"),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub(crate) at: String,
    pub who: String,
    pub from: Option<String>,
    pub to: String,
    pub why: String,
}
