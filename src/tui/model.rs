//! Everything the screen shows, in one place. Only `update` changes it; views read it.

use std::collections::{HashMap, VecDeque};

use chrono::Offset;
use std::time::{Duration, Instant};

use crate::checkup::Check;
use crate::config::Saved;
use crate::ecr::Direction;
use crate::ecr::{DeviceInfo, PayScenario};
use crate::journal::{Aftermath, BatchInfo, BatchReport, Page, Search, TxnRow, rules};
use crate::lane::{PayRequest, QueryResult, Route};
use crate::money::Money;

pub use super::field::{CentsField, Edit, TextField};

/// How much wire log and link history the diagnostics screen keeps.
pub const WIRE_LOG_LINES: usize = 500;
pub const RTT_SAMPLES: usize = 120;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScreenId {
    Help,
    Sale,
    Refund,
    Void,
    Tip,
    Query,
    Batch,
    Journal,
    Diagnostics,
    Settings,
}

impl ScreenId {
    pub const ALL: [ScreenId; 10] = [
        ScreenId::Help,
        ScreenId::Sale,
        ScreenId::Refund,
        ScreenId::Void,
        ScreenId::Tip,
        ScreenId::Query,
        ScreenId::Batch,
        ScreenId::Journal,
        ScreenId::Diagnostics,
        ScreenId::Settings,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ScreenId::Help => "Help",
            ScreenId::Sale => "Sale",
            ScreenId::Refund => "Refund",
            ScreenId::Void => "Void",
            ScreenId::Tip => "Tip adjust",
            ScreenId::Query => "Query",
            ScreenId::Batch => "Batch",
            ScreenId::Journal => "Journal",
            ScreenId::Diagnostics => "Diagnostics",
            ScreenId::Settings => "Settings",
        }
    }

    /// The screens whose requests can go through the vendor's cloud (Ctrl-T): a
    /// payment taken on another terminal is refunded, voided, tipped or asked about
    /// there, and every terminal's batch closed.
    pub fn takes_cloud(self) -> bool {
        matches!(
            self,
            ScreenId::Refund | ScreenId::Void | ScreenId::Tip | ScreenId::Query | ScreenId::Batch
        )
    }

    /// F1..F10.
    pub fn f_key(self) -> u8 {
        ScreenId::ALL.iter().position(|s| *s == self).unwrap_or(0) as u8 + 1
    }

    /// The letter that picks the screen in the Esc menu (F-keys do not survive every
    /// SSH client).
    pub fn letter(self) -> char {
        match self {
            ScreenId::Help => 'h',
            ScreenId::Sale => 's',
            ScreenId::Refund => 'r',
            ScreenId::Void => 'v',
            ScreenId::Tip => 't',
            ScreenId::Query => 'q',
            ScreenId::Batch => 'b',
            ScreenId::Journal => 'j',
            ScreenId::Diagnostics => 'd',
            ScreenId::Settings => 'c',
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SaleKind {
    #[default]
    Sale,
    PreAuth,
    Completion,
}

impl SaleKind {
    pub fn label(self) -> &'static str {
        match self {
            SaleKind::Sale => "Sale",
            SaleKind::PreAuth => "Pre-auth",
            SaleKind::Completion => "Completion",
        }
    }

    pub fn next(self) -> SaleKind {
        match self {
            SaleKind::Sale => SaleKind::PreAuth,
            SaleKind::PreAuth => SaleKind::Completion,
            SaleKind::Completion => SaleKind::Sale,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SaleField {
    #[default]
    Amount,
    Tip,
    Cashback,
    Scenario,
    Kind,
    Orig,
}

#[derive(Clone, Debug, Default)]
pub struct SaleForm {
    pub kind: SaleKind,
    pub amount: CentsField,
    pub tip: CentsField,
    pub cashback: CentsField,
    pub scenario: PayScenario,
    pub orig: TextField,
    pub focus: SaleField,
    pub error: Option<String>,
    /// The error says earlier rows are unresolved: it goes once they are settled.
    pub error_until_settled: bool,
    /// What the terminal is asked to do for this sale (unset: the lane's defaults).
    pub options: crate::lane::SaleOptions,
    /// The description being typed in the options dialog, when it is.
    pub description: Option<TextField>,
    /// The pre-auth picked from those a completion can take (`JournalData::completable`).
    pub picked: Option<usize>,
}

impl SaleForm {
    /// Whether the cashier has typed something that quitting would lose.
    pub fn typed(&self) -> bool {
        !(self.amount.is_empty() && self.tip.is_empty() && self.cashback.is_empty())
    }

    pub fn fields(&self) -> Vec<SaleField> {
        match self.kind {
            SaleKind::Sale => vec![
                SaleField::Amount,
                SaleField::Tip,
                SaleField::Cashback,
                SaleField::Scenario,
                SaleField::Kind,
            ],
            SaleKind::PreAuth => vec![SaleField::Amount, SaleField::Kind],
            SaleKind::Completion => vec![SaleField::Amount, SaleField::Orig, SaleField::Kind],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RefundField {
    #[default]
    Orig,
    Amount,
}

#[derive(Clone, Debug, Default)]
pub struct RefundForm {
    pub orig: TextField,
    pub amount: CentsField,
    pub focus: RefundField,
    /// The original, once looked up in the journal, and what can still be refunded.
    pub found: Option<(TxnRow, Option<Money>)>,
    pub error: Option<String>,
    /// The payment picked from those a refund can take (`JournalData::refundable`).
    pub picked: Option<usize>,
    /// The original is not in this journal and goes through the cloud.
    pub elsewhere: bool,
}

/// A list of journal rows to pick one from (void, tip adjust), narrowed by what is
/// typed: the end of an order number, a card's last four, or an amount.
#[derive(Clone, Debug, Default)]
pub struct PickList {
    pub selected: usize,
    pub narrow: TextField,
    pub error: Option<String>,
    /// Just opened: the selection stays on the newest row until the journal's rows as
    /// of the opening come (then it follows its row).
    pub fresh: bool,
}

#[derive(Clone, Debug, Default)]
pub struct TipForm {
    pub pick: PickList,
    pub tip: CentsField,
    /// Entering the tip for the picked row.
    pub editing: bool,
}

#[derive(Clone, Debug, Default)]
pub struct QueryForm {
    pub order: TextField,
    pub result: Option<QueryResult>,
    pub asking: bool,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct BatchScreen {
    /// None: the open batch; Some(i): the i-th closed batch, newest first.
    pub viewing: Option<usize>,
    pub last_close: Option<String>,
    /// The journal's report of the batch just closed, to set beside the terminal's.
    pub closed: Option<BatchReport>,
}

#[derive(Clone, Debug, Default)]
pub struct JournalScreen {
    pub selected: usize,
    /// Just opened: as `PickList::fresh`.
    pub fresh: bool,
    /// What to look for across the whole journal (see `journal_search`).
    pub search: TextField,
    pub searching: bool,
    /// The cursors of the pages before the one shown: empty on the newest page.
    pub pages: Vec<i64>,
    /// What the store found on other lanes for the search (with a store configured).
    pub elsewhere: Vec<TxnRow>,
    /// Why the store could not be asked.
    pub elsewhere_error: Option<String>,
    pub detail: bool,
    /// The audit trail of the row in detail: every state it went through, and why.
    pub audit: Vec<crate::journal::AuditRow>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DiagFocus {
    #[default]
    Log,
    Console,
}

#[derive(Clone, Debug, Default)]
pub struct DiagScreen {
    pub focus: DiagFocus,
    pub console: TextField,
    /// Index into the wire log from the newest end.
    pub selected: usize,
    pub console_result: Option<String>,
    /// Frames the console sent, for each one's own request id.
    pub console_sent: u32,
    /// The wire log without heartbeats, to see the traffic that matters.
    pub hide_heartbeats: bool,
    pub checkup: Checkup,
    /// When the check-up shown was made (local `HH:MM:SS`).
    pub checked_at: Option<String>,
}

/// The step-by-step check of the way to the terminal, as far as it has gone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Checkup {
    #[default]
    NotRun,
    Running,
    Done(Vec<Check>),
}

#[derive(Clone, Debug, Default)]
pub struct SettingsForm {
    pub fields: Vec<Setting>,
    pub focus: usize,
    pub message: Option<String>,
    /// Terminals looked for by mDNS, to pick one as `url`.
    pub finding: Finding,
    /// Terminal-initiated pairing (Ctrl-P), while it runs.
    pub pairing: Pairing,
}

/// The Settings screen's pairing: the register's pairing server runs in the background
/// for as long as this is not `Off`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Pairing {
    #[default]
    Off,
    /// Waiting for a terminal to ask; `at` is where the server listens, once it does.
    Waiting { at: Option<String> },
    /// A terminal asks to pair: y accepts, n refuses.
    Asks {
        at: Option<String>,
        name: String,
        address: String,
    },
    /// Accepted: the terminal is being saved, then told yes.
    Keeping { name: String },
}

impl Pairing {
    /// Where the pairing server listens, when known.
    pub fn at(&self) -> Option<String> {
        match self {
            Pairing::Waiting { at } | Pairing::Asks { at, .. } => at.clone(),
            Pairing::Off | Pairing::Keeping { .. } => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Finding {
    #[default]
    Off,
    Looking,
    /// What answered; Enter makes the one at `at` the url.
    Found {
        terminals: Vec<crate::discover::Terminal>,
        at: usize,
    },
}

/// One line of the Settings screen: a config key and its value as edited.
#[derive(Clone, Debug)]
pub struct Setting {
    pub key: &'static str,
    pub value: SettingValue,
    /// What the screen opened with (the file's, or the command line's): only a value
    /// the cashier changed is written.
    pub initial: Saved,
}

#[derive(Clone, Debug)]
pub enum SettingValue {
    Text(TextField),
    /// One of a few values, picked with ←/→ (never typed): what is shown, what is saved.
    Choice {
        choices: Vec<(String, Saved)>,
        at: usize,
    },
}

impl Setting {
    pub fn text(key: &'static str, text: &str, max: usize) -> Setting {
        let mut field = TextField::with_max(max);
        field.set(text);
        Setting {
            key,
            value: SettingValue::Text(field),
            initial: Saved::Unset,
        }
        .opened()
    }

    /// The value as it is now is the one it opened with.
    fn opened(mut self) -> Setting {
        self.initial = self.saved();
        self
    }

    /// Whether the cashier changed it since it opened (or was last saved).
    pub fn changed(&self) -> bool {
        self.saved() != self.initial
    }

    /// A choice, at the one that saves `current` (else the first).
    pub fn choice(key: &'static str, choices: Vec<(String, Saved)>, current: &Saved) -> Setting {
        let at = choices.iter().position(|(_, s)| s == current).unwrap_or(0);
        Setting {
            key,
            value: SettingValue::Choice { choices, at },
            initial: Saved::Unset,
        }
        .opened()
    }

    /// A lane default of the terminal's: on, off, or left to the terminal.
    pub fn flag(key: &'static str, current: Option<bool>) -> Setting {
        let choices = vec![
            ("terminal decides".into(), Saved::Unset),
            ("yes".into(), Saved::Flag(true)),
            ("no".into(), Saved::Flag(false)),
        ];
        Setting::choice(key, choices, &current.map_or(Saved::Unset, Saved::Flag))
    }

    /// What saving writes: trimmed text (nothing typed removes the key) or the choice.
    pub fn saved(&self) -> Saved {
        match &self.value {
            SettingValue::Text(f) => match f.text.trim() {
                "" => Saved::Unset,
                text => Saved::Text(text.to_string()),
            },
            SettingValue::Choice { choices, at } => choices
                .get(*at)
                .map_or(Saved::Unset, |(_, saved)| saved.clone()),
        }
    }

    /// The value as the screen shows it; a focused choice shows its arrows.
    pub fn shown(&self, focused: bool) -> String {
        match &self.value {
            SettingValue::Text(f) => f.shown(focused),
            SettingValue::Choice { choices, at } => {
                let name = choices.get(*at).map_or("", |(name, _)| name.as_str());
                if focused {
                    format!("‹ {name} ›")
                } else {
                    name.to_string()
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct WireLine {
    pub at: chrono::DateTime<chrono::Local>,
    pub dir: Direction,
    pub text: String,
}

/// What the link looks like from the lane, for the status bar and diagnostics.
#[derive(Clone, Debug, Default)]
pub struct LinkView {
    pub state: String,
    pub up: bool,
    /// The terminal the lane talks to as configured: an address or `sn:SERIAL`.
    pub target: String,
    /// Where it is: the target, or for a serial where it was found.
    pub address: String,
    pub device: DeviceInfo,
    /// Heartbeat round trips in microseconds (loopback is well under a millisecond).
    pub rtts_us: VecDeque<u64>,
    pub reconnects: u32,
    pub history: VecDeque<String>,
    pub connected_once: bool,
    /// A down link's next attempt, counted down on screen.
    pub retry_at: Option<Instant>,
}

/// A money-moving request between Enter and its final answer.
#[derive(Clone, Debug)]
pub struct Flight {
    pub request: PayRequest,
    /// Known once the lane journaled and sent it.
    pub order_no: Option<String>,
    pub started: Instant,
    pub progress: Vec<String>,
    pub cancel_asked: bool,
    /// The outcome went unknown; the lane is resolving it by query.
    pub unknown: bool,
    /// Another till's payment (a POS script's), handed to this screen's lane: who asked.
    pub from: Option<String>,
}

/// What a confirm dialog does on yes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmed {
    Pay(PayRequest),
    CancelOnTerminal,
    Quit,
}

/// What the supervisor's PIN allows once given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinFor {
    Pay(PayRequest),
    /// Saving the Settings screen's changed values.
    Settings(Vec<(&'static str, Saved)>),
    /// Letting a terminal pair (it becomes the lane's terminal).
    Pairing,
    Resolve {
        order_no: String,
        to: crate::journal::TxnState,
        note: String,
    },
}

/// What a confirm dialog does on no, besides closing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnNo {
    Keep,
    /// The sale asked about is not made: its form is cleared for the next customer.
    ClearSale,
}

#[derive(Clone, Debug)]
pub enum Modal {
    /// The Esc menu: one letter picks a screen.
    Menu,
    Confirm {
        question: String,
        then: Confirmed,
        on_no: OnNo,
    },
    /// The terminal's options for the sale being typed: one key each.
    SaleOptions,
    /// The supervisor's PIN, before an act that needs it.
    Pin {
        then: PinFor,
        /// What needs it, in words.
        why: String,
        pin: TextField,
        error: Option<String>,
        /// A PIN is being checked (`Effect::CheckPin`): Enter waits for its answer.
        checking: bool,
    },
    /// A supervisor override needs a note.
    Override {
        order_no: String,
        approve: bool,
        note: TextField,
    },
}

/// The journal's view of things, refreshed after anything that changes it.
#[derive(Clone, Debug, Default)]
pub struct JournalData {
    pub open_rows: Vec<TxnRow>,
    pub open_report: Option<BatchReport>,
    pub batches: Vec<BatchInfo>,
    /// The journal screen's page of the whole journal, as searched.
    pub journal: JournalPage,
    /// Payments a refund can take, newest first, narrowed by the Refund screen's order.
    pub refundable: Vec<TxnRow>,
    /// Pre-auths a completion can take, narrowed by the Sale screen's order.
    pub completable: Vec<TxnRow>,
    /// Rows and report of the closed batch being browsed.
    pub viewed: Option<(Vec<TxnRow>, BatchReport)>,
    pub error: Option<String>,
}

/// One page of a search of the whole journal, with what happened to its rows since.
#[derive(Clone, Debug, Default)]
pub struct JournalPage {
    pub page: Page,
    pub since: HashMap<String, Vec<Aftermath>>,
    /// The search could not be read or run: why (the rows are the last good ones).
    pub error: Option<String>,
}

/// How many rows a page of the journal screen holds.
pub const JOURNAL_PAGE: usize = 100;

#[derive(Clone, Debug)]
pub struct Model {
    pub screen: ScreenId,
    pub sale: SaleForm,
    pub refund: RefundForm,
    pub void: PickList,
    pub tip: TipForm,
    pub query: QueryForm,
    pub batch: BatchScreen,
    pub journal: JournalScreen,
    pub diag: DiagScreen,
    pub settings: SettingsForm,
    pub modal: Option<Modal>,
    pub flight: Option<Flight>,
    /// The last final answer, shown large until a key is pressed.
    pub result: Option<TxnRow>,
    pub link: LinkView,
    pub wire: VecDeque<WireLine>,
    pub unresolved: Vec<String>,
    pub data: JournalData,
    pub lane_id: String,
    pub currency: String,
    pub exponent: u8,
    pub demo: bool,
    /// Times are shown in the register's local time: the offset, injected so tests
    /// do not depend on the machine's zone.
    pub utc_offset: chrono::FixedOffset,
    /// Sales above this ask the cashier first (a slip of the finger is expensive).
    pub confirm_above: Option<Money>,
    /// Which acts need the supervisor's PIN (none while no PIN is set).
    pub supervisor: crate::supervisor::Policy,
    /// Until when wrong PINs have locked PIN entry (`supervisor::tries`), as last read.
    pub pin_locked_until: Option<chrono::DateTime<chrono::Utc>>,
    /// A one-line message for the cashier (theme warnings, saved settings, ...).
    pub notice: Option<String>,
    /// What the last copy to the store did, when a store is configured.
    pub store: Option<String>,
    /// A `[cloud]` is configured: requests can go through the vendor's cloud.
    pub cloud: bool,
    /// The cashier chose the cloud (Ctrl-T) for the screens that take it.
    pub via_cloud: bool,
    pub quit: bool,
    /// The window's columns and rows, for what pages by what shows.
    pub size: (u16, u16),
    /// Quit was asked while a payment was in flight: its answer is shown before closing.
    pub quit_after_answer: bool,
    /// The lane has stopped and the last answer shows: the next key closes the screen.
    pub closing: bool,
    /// A hang-up or terminate signal came: exit as soon as nothing is in flight.
    pub hangup: bool,
}

impl Model {
    pub fn new(lane_id: &str, currency: &str, exponent: u8, address: &str, demo: bool) -> Model {
        Model {
            screen: ScreenId::Sale,
            sale: SaleForm::default(),
            refund: RefundForm {
                orig: TextField::order_no(),
                ..RefundForm::default()
            },
            void: PickList::default(),
            tip: TipForm::default(),
            query: QueryForm {
                order: TextField::order_no(),
                ..QueryForm::default()
            },
            batch: BatchScreen::default(),
            journal: JournalScreen {
                search: TextField::with_max(80),
                ..JournalScreen::default()
            },
            diag: DiagScreen {
                console: TextField::with_max(4096),
                ..DiagScreen::default()
            },
            settings: SettingsForm::default(),
            modal: None,
            flight: None,
            result: None,
            link: LinkView {
                state: "connecting".into(),
                target: address.to_string(),
                address: address.to_string(),
                ..LinkView::default()
            },
            wire: VecDeque::new(),
            unresolved: Vec::new(),
            data: JournalData::default(),
            lane_id: lane_id.to_string(),
            currency: currency.to_string(),
            exponent,
            demo,
            utc_offset: chrono::Utc.fix(),
            confirm_above: None,
            supervisor: crate::supervisor::Policy::default(),
            pin_locked_until: None,
            notice: None,
            store: None,
            cloud: false,
            via_cloud: false,
            quit: false,
            size: (80, 24),
            quit_after_answer: false,
            closing: false,
            hangup: false,
        }
    }

    /// How many rows of a list show at once in the window as it is: a page for
    /// PgUp/PgDn (the frame, the find line and the table's header take the rest).
    pub fn list_rows(&self) -> usize {
        usize::from(self.size.1.saturating_sub(9)).max(1)
    }

    pub fn elapsed(&self) -> Option<Duration> {
        self.flight.as_ref().map(|f| f.started.elapsed())
    }

    /// Rows of the open batch that a void (or cancel) can take, by the lane's rules,
    /// narrowed by what is typed.
    pub fn voidable(&self) -> Vec<&TxnRow> {
        let rows = &self.data.open_rows;
        // Every row listed is of the open batch, so its own batch is the open one.
        rows.iter()
            .filter(|r| rules::may_void(r, rows, r.batch))
            .filter(|r| self.narrows_to(r, &self.void.narrow.text))
            .collect()
    }

    /// Sales of the open batch whose tip can still change, by the lane's rules,
    /// narrowed by what is typed.
    pub fn tippable(&self) -> Vec<&TxnRow> {
        let rows = &self.data.open_rows;
        rows.iter()
            .filter(|r| rules::may_tip(r, rows, r.batch))
            .filter(|r| self.narrows_to(r, &self.tip.pick.narrow.text))
            .collect()
    }

    /// Whether `row` is one the cashier means by `typed`, read as every search reads
    /// it (`journal::search`): the end of its order number, its card's last four, its
    /// amount (`12.34`), an auth code, a date, a kind or state. Nothing matches a term
    /// that reads no way (`narrow_error` says why).
    pub fn narrows_to(&self, row: &TxnRow, typed: &str) -> bool {
        let offset = self.utc_offset.local_minus_utc();
        crate::journal::row_matches(row, &[], typed, self.exponent, offset).unwrap_or(false)
    }

    /// Why what is typed in a find field reads no way, if it does not.
    pub fn narrow_error(&self, typed: &str) -> Option<String> {
        typed
            .split_whitespace()
            .find_map(|w| crate::journal::parse_term(w, self.exponent).err())
            .map(|e| e.to_string())
    }

    /// The tip in force on a sale: its latest approved adjustment, else its own.
    pub fn effective_tip(&self, sale: &TxnRow) -> Option<Money> {
        let minor = rules::effective_tip(sale, &self.data.open_rows);
        if minor == 0 && sale.tip.is_none() {
            return None;
        }
        Money::from_minor(minor, sale.amount.exponent()).ok()
    }

    /// Which way a request made now goes: through the cloud when the cashier chose it
    /// on a screen that takes it, else to the lane's terminal.
    pub fn route(&self) -> Route {
        if self.via_cloud && self.screen.takes_cloud() {
            Route::Cloud
        } else {
            Route::Lan
        }
    }

    /// The journal screen's rows: a page of the whole journal, as searched.
    pub fn journal_rows(&self) -> Vec<&TxnRow> {
        self.data.journal.page.rows.iter().collect()
    }

    /// The journal screen's search: the words typed (a kind or a state by name, the
    /// rest as `journal::Search` reads them), the page being looked at.
    pub fn journal_search(&self) -> Search {
        Search {
            text: self.journal.search.text.trim().to_string(),
            utc_offset_secs: self.utc_offset.local_minus_utc(),
            exponent: self.exponent,
            before: self.journal.pages.last().copied(),
            limit: JOURNAL_PAGE,
            ..Search::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_first_entry() {
        let mut f = CentsField::default();
        for d in "1234".chars() {
            f.push(d);
        }
        assert_eq!(f.display(2), "12.34");
        f.pop();
        assert_eq!(f.display(2), "1.23");
        f.clear();
        f.push('0');
        assert_eq!(f.digits, "", "leading zero ignored");
        f.push('5');
        assert_eq!(f.display(2), "0.05");
        assert_eq!(f.display(0), "5");
        for _ in 0..20 {
            f.push('9');
        }
        assert_eq!(f.digits.len(), 12);
        assert!(f.money(2).is_some());
        f.push('x');
        assert_eq!(f.digits.len(), 12);
    }

    #[test]
    fn f_keys_and_letters_are_unique() {
        let mut letters: Vec<char> = ScreenId::ALL.iter().map(|s| s.letter()).collect();
        letters.sort();
        letters.dedup();
        assert_eq!(letters.len(), ScreenId::ALL.len());
        assert_eq!(ScreenId::Help.f_key(), 1);
        assert_eq!(ScreenId::Settings.f_key(), 10);
    }
}
