//! Everything the screen shows: the desk the screens share and each screen's form.
//! Only `update` changes it; views read it.

use crate::checkup::Check;
use crate::config::Saved;
use crate::ecr::PayScenario;
use crate::journal::{BatchReport, Search, TxnRow, rules};
use crate::lane::QueryResult;
use crate::money::Money;

pub use super::desk::*;
pub use super::field::{CentsField, Edit, TextField};

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
pub struct Model {
    /// What the screens share.
    pub desk: Desk,
    pub sale: SaleForm,
    pub refund: RefundForm,
    pub void: PickList,
    pub tip: TipForm,
    pub query: QueryForm,
    pub batch: BatchScreen,
    pub journal: JournalScreen,
    pub diag: DiagScreen,
    pub settings: SettingsForm,
}

impl Model {
    pub fn new(lane_id: &str, currency: &str, exponent: u8, address: &str, demo: bool) -> Model {
        Model {
            desk: Desk::new(lane_id, currency, exponent, address, demo),
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
        }
    }

    /// Rows of the open batch that a void (or cancel) can take, by the lane's rules,
    /// narrowed by what is typed.
    pub fn voidable(&self) -> Vec<&TxnRow> {
        let rows = &self.desk.data.open_rows;
        // Every row listed is of the open batch, so its own batch is the open one.
        rows.iter()
            .filter(|r| rules::may_void(r, rows, r.batch))
            .filter(|r| self.desk.narrows_to(r, &self.void.narrow.text))
            .collect()
    }

    /// Sales of the open batch whose tip can still change, by the lane's rules,
    /// narrowed by what is typed.
    pub fn tippable(&self) -> Vec<&TxnRow> {
        let rows = &self.desk.data.open_rows;
        rows.iter()
            .filter(|r| rules::may_tip(r, rows, r.batch))
            .filter(|r| self.desk.narrows_to(r, &self.tip.pick.narrow.text))
            .collect()
    }

    /// The journal screen's rows: a page of the whole journal, as searched.
    pub fn journal_rows(&self) -> Vec<&TxnRow> {
        self.desk.data.journal.page.rows.iter().collect()
    }

    /// The journal screen's search: the words typed (a kind or a state by name, the
    /// rest as `journal::Search` reads them), the page being looked at.
    pub fn journal_search(&self) -> Search {
        Search {
            text: self.journal.search.text.trim().to_string(),
            utc_offset_secs: self.desk.utc_offset.local_minus_utc(),
            exponent: self.desk.exponent,
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
