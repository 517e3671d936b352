//! Everything the screen shows: the desk the screens share and each screen's form
//! (defined in the screen's own room). Only `update` changes it; views read it. Where
//! something concerns every form (leaving a screen, the journal's rows changing), the
//! model asks each screen.

pub use super::desk::ScreenId;
pub use super::desk::{
    Confirmed, Desk, Flight, Handoff, JournalData, JournalPage, Modal, OnNo, PinFor,
};
pub(crate) use super::field::TextField;
use super::msg::Effect;
pub(crate) use super::screens::batch::BatchScreen;
pub(crate) use super::screens::diagnostics::DiagScreen;
pub(crate) use super::screens::journal::JournalScreen;
pub(crate) use super::screens::query::QueryForm;
pub(crate) use super::screens::refund::RefundForm;
pub(crate) use super::screens::sale::SaleForm;
pub(crate) use super::screens::settings::SettingsForm;
pub(crate) use super::screens::shared::PickList;
pub(crate) use super::screens::tip::TipForm;
use super::screens::{journal, query, refund, sale, settings, tip, void};

#[derive(Clone, Debug)]
pub struct Model {
    /// What the screens share.
    pub desk: Desk,
    pub(crate) sale: SaleForm,
    pub(crate) refund: RefundForm,
    pub(crate) void: PickList,
    pub(crate) tip: TipForm,
    pub(crate) query: QueryForm,
    pub(crate) batch: BatchScreen,
    pub(crate) journal: JournalScreen,
    pub(crate) diag: DiagScreen,
    pub(crate) settings: SettingsForm,
}

impl Model {
    pub fn new(lane_id: &str, currency: &str, exponent: u8, address: &str, demo: bool) -> Model {
        Model {
            desk: Desk::new(lane_id, currency, exponent, address, demo),
            sale: SaleForm::default(),
            refund: RefundForm::default(),
            void: PickList::default(),
            tip: TipForm::default(),
            query: QueryForm::default(),
            batch: BatchScreen::default(),
            journal: JournalScreen::default(),
            diag: DiagScreen::default(),
            settings: SettingsForm::default(),
        }
    }

    /// Leaving the screen shown half-way drops what was typed on it: the next visit (the
    /// next customer, perhaps) starts from an empty form.
    pub(crate) fn leave(&mut self) -> Vec<Effect> {
        match self.desk.screen {
            ScreenId::Void => self.void = PickList::default(),
            ScreenId::Query => self.query = QueryForm::default(),
            ScreenId::Journal => self.journal = JournalScreen::default(),
            ScreenId::Sale | ScreenId::Refund | ScreenId::Tip => self.clear_form(),
            ScreenId::Settings => return settings::leave(&mut self.settings, &mut self.desk),
            ScreenId::Help | ScreenId::Batch | ScreenId::Diagnostics => {}
        }
        vec![]
    }

    /// `screen` opens (`arriving`: from another screen); what it reads to show.
    pub(crate) fn open(&mut self, screen: ScreenId, arriving: bool) -> Vec<Effect> {
        match screen {
            ScreenId::Void => void::open(&mut self.void, arriving),
            ScreenId::Tip => tip::open(&mut self.tip, arriving),
            ScreenId::Journal => journal::open(&mut self.journal, arriving),
            ScreenId::Query => {
                query::open(&mut self.query, &self.desk);
                vec![]
            }
            ScreenId::Settings => {
                if arriving {
                    settings::open(&mut self.settings);
                }
                vec![]
            }
            ScreenId::Batch | ScreenId::Refund => vec![Effect::Refresh],
            ScreenId::Help | ScreenId::Sale | ScreenId::Diagnostics => vec![],
        }
    }

    /// After a final answer, the form that started it is ready for the next one (the
    /// next customer's payment is a sale, whatever this one was).
    pub(crate) fn clear_form(&mut self) {
        match self.desk.screen {
            ScreenId::Sale => self.sale = SaleForm::default(),
            ScreenId::Refund => self.refund = RefundForm::default(),
            ScreenId::Tip => self.tip = TipForm::default(),
            _ => {}
        }
    }

    /// The journal's rows change (`change`); each list's selection follows its row, not
    /// its position. A list just opened stays on its newest row until `settled` says its
    /// rows as of the opening are in.
    pub(crate) fn rows_change(
        &mut self,
        change: impl FnOnce(&mut JournalData),
        settled: impl Fn(ScreenId) -> bool,
    ) {
        let d = &self.desk;
        let void = void::kept(&self.void, d);
        let tip = tip::kept(&self.tip, d);
        let journal = journal::kept(&self.journal, d);
        let refund = refund::kept(&self.refund, d);
        let completion = sale::kept(&self.sale, d);
        change(&mut self.desk.data);
        let d = &self.desk;
        void::follow_rows(&mut self.void, d, void, settled(ScreenId::Void));
        tip::follow_rows(&mut self.tip, d, tip, settled(ScreenId::Tip));
        journal::follow_rows(&mut self.journal, d, journal, settled(ScreenId::Journal));
        refund::follow_rows(&mut self.refund, d, refund);
        sale::follow_rows(&mut self.sale, d, completion);
    }
}
