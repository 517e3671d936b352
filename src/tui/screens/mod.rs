//! One room per screen: each module holds that screen's key handling (`on_key`), its
//! drawing (`draw`) and its key table (`KEYS`), from which the footer and the help
//! screen are made, so they cannot drift from what the keys do. What screens share
//! (labels, the rows table, a request in one line) lives in `shared`; here, which
//! screen has the floor.

pub mod batch;
pub mod diagnostics;
pub mod help;
pub mod journal;
pub mod query;
pub mod refund;
pub mod sale;
pub mod settings;
pub mod shared;
pub mod tip;
pub mod void;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

pub use shared::*;

use super::model::*;
use super::msg::Effect;
use super::theme::Theme;

pub fn body(frame: &mut Frame, area: Rect, m: &Model, theme: &Theme) {
    match m.desk.screen {
        ScreenId::Sale => sale::draw(frame, area, &m.sale, &m.desk, theme),
        ScreenId::Refund => refund::draw(frame, area, &m.refund, &m.desk, theme),
        ScreenId::Void => void::draw(frame, area, &m.void, &m.desk, theme),
        ScreenId::Tip => tip::draw(frame, area, &m.tip, &m.desk, theme),
        ScreenId::Query => query::draw(frame, area, &m.query, theme),
        ScreenId::Batch => batch::draw(frame, area, &m.batch, &m.desk, theme),
        ScreenId::Journal => journal::draw(frame, area, &m.journal, &m.desk, theme),
        ScreenId::Diagnostics => diagnostics::draw(frame, area, &m.diag, &m.desk, theme),
        ScreenId::Settings => settings::draw(frame, area, &m.settings, &m.desk, theme),
        ScreenId::Help => help::draw(frame, area, |s| keys_of(s, false), theme),
    }
}

/// A key press for the current screen, when no dialog, overlay or result has it.
pub fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    match m.desk.screen {
        ScreenId::Sale => sale::on_key(&mut m.sale, &mut m.desk, key),
        ScreenId::Refund => refund::on_key(&mut m.refund, &mut m.desk, key),
        ScreenId::Void => void::on_key(&mut m.void, &mut m.desk, key),
        ScreenId::Tip => tip::on_key(&mut m.tip, &mut m.desk, key),
        ScreenId::Query => query::on_key(&mut m.query, &mut m.desk, key),
        ScreenId::Batch => batch::on_key(&mut m.batch, &mut m.desk, key),
        ScreenId::Journal => journal::on_key(&mut m.journal, &mut m.desk, key),
        ScreenId::Diagnostics => diagnostics::on_key(&mut m.diag, &mut m.desk, key),
        ScreenId::Settings => settings::on_key(&mut m.settings, &mut m.desk, key),
        ScreenId::Help => super::flows::top_level(&mut m.desk, key),
    }
}

/// The smallest window the screen is drawn in whole (below it, the frame says so).
pub fn min_size(screen: ScreenId) -> (u16, u16) {
    match screen {
        ScreenId::Sale => sale::MIN_SIZE,
        ScreenId::Refund => refund::MIN_SIZE,
        ScreenId::Void => void::MIN_SIZE,
        ScreenId::Tip => tip::MIN_SIZE,
        ScreenId::Query => query::MIN_SIZE,
        ScreenId::Batch => batch::MIN_SIZE,
        ScreenId::Journal => journal::MIN_SIZE,
        ScreenId::Diagnostics => diagnostics::MIN_SIZE,
        ScreenId::Settings => settings::MIN_SIZE,
        ScreenId::Help => help::MIN_SIZE,
    }
}

/// The keys of a screen as it is now (the Tip and Journal screens have two sets).
pub fn keys(m: &Model) -> &'static [Key] {
    match m.desk.screen {
        ScreenId::Journal if m.journal.searching => journal::SEARCH_KEYS,
        ScreenId::Settings => match (&m.settings.pairing, &m.settings.finding) {
            (Pairing::Asks { .. }, _) => settings::ASKED_KEYS,
            (Pairing::Waiting { .. }, _) => settings::PAIRING_KEYS,
            (Pairing::Keeping { .. }, _) => &[],
            (Pairing::Off, Finding::Found { .. }) => settings::FOUND_KEYS,
            (Pairing::Off, _) => settings::KEYS,
        },
        screen => keys_of(screen, m.tip.editing),
    }
}

pub fn keys_of(screen: ScreenId, tip_editing: bool) -> &'static [Key] {
    match screen {
        ScreenId::Sale => sale::KEYS,
        ScreenId::Refund => refund::KEYS,
        ScreenId::Void => void::KEYS,
        ScreenId::Tip if tip_editing => tip::EDIT_KEYS,
        ScreenId::Tip => tip::KEYS,
        ScreenId::Query => query::KEYS,
        ScreenId::Batch => batch::KEYS,
        ScreenId::Journal => journal::KEYS,
        ScreenId::Diagnostics => diagnostics::KEYS,
        ScreenId::Settings => settings::KEYS,
        ScreenId::Help => help::KEYS,
    }
}
