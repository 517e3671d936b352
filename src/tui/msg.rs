//! What reaches `update` (`Msg`: keys, the lane's events, the answers to effects) and
//! what it asks the app loop to do (`Effect`): the screen's whole vocabulary with the
//! world, apart from the rules that use it.

use crossterm::event::KeyEvent;

use super::desk::JournalData;
use super::desk::JournalPage;
use crate::config::Saved;
use crate::discover::Terminal;
use crate::ecr::Answer;
use crate::journal::AuditRow;
use crate::journal::{TxnRow, TxnState};
use crate::lane::{Event, PayRequest, QueryResult, Refusal, Target};
use crate::money::Money;
use crate::supervisor_pin::TypedPin;
use crate::supervisor_pin::tries::Checked;
use crate::terminal_reach::Check;

/// An original order and what of it can still be refunded.
pub(crate) type Refundable = (TxnRow, Option<Money>);

#[derive(Debug)]
pub(crate) enum Msg {
    Key(KeyEvent),
    Lane(Event),
    /// The lane's answer to `Effect::Pay`: the order number, or why not.
    Paid(Result<String, Refusal>),
    Queried(Box<Result<QueryResult, Refusal>>),
    Closed(Result<Answer, Refusal>),
    RawSent(Result<Option<Answer>, Refusal>),
    Resolved(Result<TxnRow, Refusal>),
    /// The lane's answer to `Effect::Retarget`.
    Retargeted(Result<(), Refusal>),
    /// The original of a refund looked up in the journal, with what is refundable.
    Found(Box<Result<Option<Refundable>, String>>),
    Data(Box<JournalData>),
    /// The journal screen's page, searched again.
    Journal(Box<JournalPage>),
    /// What a refund and a completion can take, read again.
    Candidates {
        refundable: Vec<TxnRow>,
        completable: Vec<TxnRow>,
    },
    /// The audit trail of the row in detail.
    Audit(Vec<AuditRow>),
    /// What the PIN checked by `Effect::CheckPin` came to, or why it was not checked.
    PinChecked(Result<Checked, String>),
    /// A row to show as the result.
    Row(Box<Option<TxnRow>>),
    /// What the last copy to the store did.
    Store(String),
    /// What the store found on other lanes for the journal search `text`.
    Elsewhere {
        text: String,
        found: Result<Vec<TxnRow>, String>,
    },
    /// The Diagnostics check-up of the way to the terminal, done at `at` (local time).
    Checkup {
        steps: Vec<Check>,
        at: String,
    },
    /// The terminals that answered the Settings screen's mDNS look, or why none could.
    Terminals(Result<Vec<Terminal>, String>),
    /// What the Settings screen's pairing server has to say.
    Pair(PairNews),
    /// Once a second while something shows elapsed time.
    Tick,
    /// The window's new columns and rows.
    Resize(u16, u16),
    /// SIGHUP or SIGTERM: the session is gone.
    Hangup,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Effect {
    Pay(PayRequest),
    /// A request the supervisor's PIN was given for.
    PaySupervised(PayRequest),
    Query(String),
    Close(String),
    Raw(String),
    Resolve {
        order_no: String,
        to: TxnState,
        note: String,
    },
    Lookup(String),
    /// Read a row's audit trail for the detail view.
    LoadAudit(String),
    /// Show a row's current state as the result (an outcome left unknown).
    ShowRow(String),
    /// Re-read the journal's rows and reports (the batch being browsed, if any).
    Refresh,
    /// Run the journal screen's search again (its text or page changed).
    Search,
    /// Read again what a refund or a completion can take (an order field changed).
    Candidates,
    /// A down link tries again now.
    Reconnect,
    /// The lane connects to this terminal now (the url saved changed).
    Retarget(Target),
    /// Check the way to the terminal step by step (Diagnostics).
    Checkup,
    /// Look for terminals by mDNS (Settings).
    FindTerminals,
    /// Run the register's pairing server in the background (Settings).
    StartPairing,
    StopPairing,
    /// The cashier's word on the terminal that asks to pair: accept or refuse.
    AnswerPair(bool),
    SaveSettings(Vec<(&'static str, Saved)>),
    /// Check the supervisor PIN typed, counted beside the config file (it waits for
    /// every other process checking one).
    CheckPin(TypedPin),
    Quit,
}

/// What the pairing server has to tell the screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PairNews {
    /// Listening at `at` (`ws://ip:port`), advertised by mDNS.
    Waiting { at: String },
    /// A terminal asks to pair: the cashier says y or n.
    Asks { name: String, address: String },
    /// Accepted and saved as `url`; `told` is false when the terminal left before the
    /// answer reached it. Pairing is over.
    Paired {
        name: String,
        url: String,
        told: bool,
    },
    /// Refused as the cashier said; the wait goes on.
    Refused { name: String },
    /// A terminal unpaired (always answered 000; the config is left as it is).
    Unpaired { name: String, address: String },
    /// A frame that could not be read was refused with the reason; the wait goes on.
    Malformed(String),
    /// Pairing is over without a terminal: why.
    Failed(String),
}
