//! What the screens share, below them all: the screen shown, the dialog up, the payment
//! in flight and its result, the link, the journal's rows and the lane's settings.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use chrono::Offset;

use super::field::TextField;
use crate::config::Saved;
use crate::ecr::{DeviceInfo, Direction};
use crate::journal;
use crate::journal::TxnState;
use crate::journal::{Aftermath, BatchInfo, BatchReport, Page, TxnRow, rules};
use crate::lane::{LinkNews, PayRequest, Route};
use crate::money::Money;
use crate::supervisor_pin::Policy;

/// How much wire log and link history the diagnostics screen keeps.
pub(crate) const WIRE_LOG_LINES: usize = 500;
pub(crate) const RTT_SAMPLES: usize = 120;

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

    pub(crate) fn title(self) -> &'static str {
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
    pub(crate) fn takes_cloud(self) -> bool {
        matches!(
            self,
            ScreenId::Refund | ScreenId::Void | ScreenId::Tip | ScreenId::Query | ScreenId::Batch
        )
    }

    /// F1..F10.
    pub(crate) fn f_key(self) -> u8 {
        ScreenId::ALL.iter().position(|s| *s == self).unwrap_or(0) as u8 + 1
    }

    /// The letter that picks the screen in the Esc menu (F-keys do not survive every
    /// SSH client).
    pub(crate) fn letter(self) -> char {
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

#[derive(Clone, Debug)]
pub(crate) struct WireLine {
    pub(crate) at: chrono::DateTime<chrono::Local>,
    pub(crate) dir: Direction,
    pub(crate) text: String,
}

/// What the link looks like from the lane, for the status bar and diagnostics.
#[derive(Clone, Debug, Default)]
pub(crate) struct LinkView {
    pub(crate) state: String,
    pub(crate) up: bool,
    /// The terminal the lane talks to as configured: an address or `sn:SERIAL`.
    pub(crate) target: String,
    /// Where it is: the target, or for a serial where it was found.
    pub(crate) address: String,
    pub(crate) device: DeviceInfo,
    /// Heartbeat round trips in microseconds (loopback is well under a millisecond).
    pub(crate) rtts_us: VecDeque<u64>,
    pub(crate) reconnects: u32,
    pub(crate) history: VecDeque<String>,
    pub(crate) connected_once: bool,
    /// A down link's next attempt, counted down on screen.
    pub(crate) retry_at: Option<Instant>,
}

/// A money-moving request between Enter and its final answer.
#[derive(Clone, Debug)]
pub struct Flight {
    pub(crate) request: PayRequest,
    /// Known once the lane journaled and sent it.
    pub(crate) order_no: Option<String>,
    pub(crate) started: Instant,
    pub(crate) progress: Vec<String>,
    pub(crate) cancel_asked: bool,
    /// The outcome went unknown; the lane is resolving it by query.
    pub(crate) unknown: bool,
    /// Another till's payment (a POS script's), handed to this screen's lane: who asked.
    pub(crate) from: Option<String>,
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
        to: TxnState,
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
    pub(crate) open_rows: Vec<TxnRow>,
    pub(crate) open_report: Option<BatchReport>,
    pub(crate) batches: Vec<BatchInfo>,
    /// The journal screen's page of the whole journal, as searched.
    pub(crate) journal: JournalPage,
    /// Payments a refund can take, newest first, narrowed by the Refund screen's order.
    pub(crate) refundable: Vec<TxnRow>,
    /// Pre-auths a completion can take, narrowed by the Sale screen's order.
    pub(crate) completable: Vec<TxnRow>,
    /// Rows and report of the closed batch being browsed.
    pub(crate) viewed: Option<(Vec<TxnRow>, BatchReport)>,
    /// Rows whose report totals are still being tallied behind the journal's opening
    /// (after an upgrade): the screen reads again each second until it is done.
    pub(crate) tallying: Option<i64>,
    pub(crate) error: Option<String>,
}

/// One page of a search of the whole journal, with what happened to its rows since.
#[derive(Clone, Debug, Default)]
pub struct JournalPage {
    pub(crate) page: Page,
    pub(crate) since: HashMap<String, Vec<Aftermath>>,
    /// The search could not be read or run: why (the rows are the last good ones).
    pub(crate) error: Option<String>,
}

/// How many rows a page of the journal screen holds.
pub(crate) const JOURNAL_PAGE: usize = 100;

/// What every screen may read and the flows change: the screen shown, the dialog and the
/// payment in flight, the result, the link, the journal's rows, the lane's settings.
#[derive(Clone, Debug)]
pub struct Desk {
    pub screen: ScreenId,
    pub(crate) modal: Option<Modal>,
    pub(crate) flight: Option<Flight>,
    /// The last final answer, shown large until a key is pressed.
    pub(crate) result: Option<TxnRow>,
    pub(crate) link: LinkView,
    pub(crate) wire: VecDeque<WireLine>,
    pub(crate) unresolved: Vec<String>,
    pub(crate) data: JournalData,
    pub(crate) lane_id: String,
    pub(crate) currency: String,
    pub(crate) exponent: u8,
    pub(crate) demo: bool,
    /// Times are shown in the register's local time: the offset, injected so tests
    /// do not depend on the machine's zone.
    pub(crate) utc_offset: chrono::FixedOffset,
    /// Sales above this ask the cashier first (a slip of the finger is expensive).
    pub(crate) confirm_above: Option<Money>,
    /// Which acts need the supervisor's PIN (none while no PIN is set).
    pub(crate) supervisor: Policy,
    /// Until when wrong PINs have locked PIN entry (`supervisor_pin::tries`), as last read.
    pub(crate) pin_locked_until: Option<chrono::DateTime<chrono::Utc>>,
    /// A one-line message for the cashier (theme warnings, saved settings, ...).
    pub(crate) notice: Option<String>,
    /// What the last copy to the store did, when a store is configured.
    pub(crate) store: Option<String>,
    /// A `[cloud]` is configured: requests can go through the vendor's cloud.
    pub(crate) cloud: bool,
    /// The cashier chose the cloud (Ctrl-T) for the screens that take it.
    pub(crate) via_cloud: bool,
    pub(crate) quit: bool,
    /// The window's columns and rows, for what pages by what shows.
    pub(crate) size: (u16, u16),
    /// Quit was asked while a payment was in flight: its answer is shown before closing.
    pub(crate) quit_after_answer: bool,
    /// The lane has stopped and the last answer shows: the next key closes the screen.
    pub(crate) closing: bool,
    /// A hang-up or terminate signal came: exit as soon as nothing is in flight.
    pub(crate) hangup: bool,
    /// A screen hands the cashier over to another, with the order to act on.
    pub(crate) handoff: Option<Handoff>,
}

/// Where a screen sends the cashier with an order picked on it (the Journal's r and c).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handoff {
    /// Refund it: the Refund screen with its order filled in.
    Refund(String),
    /// Complete it: the Sale screen's completion with its pre-auth filled in.
    Complete(String),
}

impl Desk {
    /// Until when PIN entry is still locked by wrong PINs, if it is now.
    pub(crate) fn pin_lock(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.pin_locked_until.filter(|u| *u > chrono::Utc::now())
    }

    pub(crate) fn new(
        lane_id: &str,
        currency: &str,
        exponent: u8,
        address: &str,
        demo: bool,
    ) -> Desk {
        Desk {
            screen: ScreenId::Sale,
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
            supervisor: Policy::default(),
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
            handoff: None,
        }
    }

    /// How many rows of a list show at once in the window as it is: a page for
    /// PgUp/PgDn (the frame, the find line and the table's header take the rest).
    pub(crate) fn list_rows(&self) -> usize {
        usize::from(self.size.1.saturating_sub(9)).max(1)
    }

    /// Whether `row` is one the cashier means by `typed`, read as every search reads
    /// it (`journal::search`): the end of its order number, its card's last four, its
    /// amount (`12.34`), an auth code, a date, a kind or state. Nothing matches a term
    /// that reads no way (`narrow_error` says why).
    pub(crate) fn narrows_to(&self, row: &TxnRow, typed: &str) -> bool {
        let offset = self.utc_offset.local_minus_utc();
        journal::row_matches(row, &[], typed, self.exponent, offset).unwrap_or(false)
    }

    /// Why what is typed in a find field reads no way, if it does not.
    pub(crate) fn narrow_error(&self, typed: &str) -> Option<String> {
        typed
            .split_whitespace()
            .find_map(|w| journal::parse_term(w, self.exponent).err())
            .map(|e| e.to_string())
    }

    /// The tip in force on a sale: its latest approved adjustment, else its own.
    pub(crate) fn effective_tip(&self, sale: &TxnRow) -> Option<Money> {
        let minor = rules::effective_tip(sale, &self.data.open_rows);
        if minor == 0 && sale.tip.is_none() {
            return None;
        }
        Money::from_minor(minor, sale.amount.exponent()).ok()
    }

    /// Which way a request made now goes: through the cloud when the cashier chose it
    /// on a screen that takes it, else to the lane's terminal.
    pub(crate) fn route(&self) -> Route {
        if self.via_cloud && self.screen.takes_cloud() {
            Route::Cloud
        } else {
            Route::Lan
        }
    }

    /// What the lane says of its link: the status bar's state, Diagnostics' history,
    /// round trips and wire log.
    pub(crate) fn link_news(&mut self, news: LinkNews) {
        let now = chrono::Local::now();
        let state = match news {
            LinkNews::Connecting { attempt } => {
                Some((format!("connecting (attempt {attempt})"), false))
            }
            LinkNews::Connected => Some(("connected".to_string(), true)),
            LinkNews::Down { reason, retry_in } => {
                // The wait is counted down where it shows, not frozen in the text.
                self.link.retry_at = Some(std::time::Instant::now() + retry_in);
                Some((format!("down: {reason}"), false))
            }
            LinkNews::Closed => Some(("closed".to_string(), false)),
            LinkNews::Target(target) => {
                // Another terminal: what the old one said of itself no longer applies.
                self.link = LinkView {
                    target: target.clone(),
                    address: target.clone(),
                    reconnects: self.link.reconnects,
                    history: std::mem::take(&mut self.link.history),
                    ..LinkView::default()
                };
                Some((format!("connecting to {target}"), false))
            }
            LinkNews::Device(device) => {
                self.link.device = device;
                None
            }
            LinkNews::Located { serial, address } => {
                self.link.address = format!("sn:{serial} {address}");
                None
            }
            LinkNews::RoundTrip(rtt) => {
                let us = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX);
                push_capped(&mut self.link.rtts_us, us, RTT_SAMPLES);
                None
            }
            LinkNews::Wire { dir, text } => {
                push_capped(
                    &mut self.wire,
                    WireLine { at: now, dir, text },
                    WIRE_LOG_LINES,
                );
                None
            }
            LinkNews::Malformed { error } => {
                let line = format!(
                    "{} dropped a malformed frame: {error}",
                    now.format("%H:%M:%S")
                );
                push_capped(&mut self.link.history, line, 50);
                None
            }
            LinkNews::Stray { why, .. } => {
                let line = format!("{} stray reply: {why}", now.format("%H:%M:%S"));
                push_capped(&mut self.link.history, line, 50);
                None
            }
        };
        if let Some((text, up)) = state {
            if !text.starts_with("down:") {
                self.link.retry_at = None;
            }
            if up {
                if self.link.connected_once {
                    self.link.reconnects += 1;
                }
                self.link.connected_once = true;
            }
            self.link.up = up;
            self.link.state = if up { "connected".into() } else { text.clone() };
            push_capped(
                &mut self.link.history,
                format!("{} {text}", now.format("%H:%M:%S")),
                50,
            );
        }
    }
}

fn push_capped<T>(q: &mut std::collections::VecDeque<T>, item: T, cap: usize) {
    if q.len() >= cap {
        q.pop_front();
    }
    q.push_back(item);
}

#[cfg(test)]
mod tests {
    use super::*;

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
