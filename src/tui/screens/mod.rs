//! One room per screen: each module holds that screen's key handling (`on_key`), its
//! drawing (`draw`) and its key table (`KEYS`), from which the footer and the help
//! screen are made, so they cannot drift from what the keys do. What screens share
//! (labels, the rows table, a request in one line) lives in `shared`; here, each
//! screen's size and keys.

pub(crate) mod batch;
pub(crate) mod diagnostics;
pub(crate) mod help;
pub(crate) mod journal;
pub(crate) mod query;
pub(crate) mod refund;
pub(crate) mod sale;
pub(crate) mod settings;
pub(crate) mod shared;
pub(crate) mod tip;
pub(crate) mod void;

pub(crate) use shared::{Key, key_line, request_line, row_summary, rtt_text, wrap_keys};

use super::desk::ScreenId;

/// The smallest window the screen is drawn in whole (below it, the frame says so).
pub(crate) fn min_size(screen: ScreenId) -> (u16, u16) {
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

pub(crate) fn keys_of(screen: ScreenId) -> &'static [Key] {
    match screen {
        ScreenId::Sale => sale::KEYS,
        ScreenId::Refund => refund::KEYS,
        ScreenId::Void => void::KEYS,
        ScreenId::Tip => tip::KEYS,
        ScreenId::Query => query::KEYS,
        ScreenId::Batch => batch::KEYS,
        ScreenId::Journal => journal::KEYS,
        ScreenId::Diagnostics => diagnostics::KEYS,
        ScreenId::Settings => settings::KEYS,
        ScreenId::Help => help::KEYS,
    }
}
