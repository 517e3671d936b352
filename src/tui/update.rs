//! `update(&mut Model, Msg) -> Vec<Effect>`: the only way the model changes. No I/O
//! here; the app loop runs the effects. This is the router: it hands each message to
//! the screen it is meant for (its form and the desk), a key to the dialog up, the
//! payment overlay, the result or the screen shown, and keeps the keys every screen
//! shares (F-keys, Ctrl-C, Ctrl-T). What a screen does lives in its room under
//! `screens/`; the dialogs in `dialogs`.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::dialogs::{self, Next};
use super::flows::top_level;
use super::model::{
    Confirmed, Desk, Flight, Handoff, Modal, Model, OnNo, RefundForm, SaleForm, ScreenId,
};
use super::screens::sale::PastResult;
use super::screens::{batch, diagnostics, journal, query, refund, sale, settings, tip, void};
use crate::journal::{TxnRow, TxnState};
use crate::lane::{Event, Forwarded, PayRequest, Refusal, Step};

pub(crate) use super::msg::{Effect, Msg};
use crate::ecr::Outcome;

// Long on purpose: one arm per message: the one place every message is routed.
pub(crate) fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) if key.kind == KeyEventKind::Release => vec![],
        Msg::Key(key) => on_key(m, key),
        Msg::Lane(event) => on_lane(m, event),
        Msg::Paid(Ok(order_no)) => {
            if let Some(f) = &mut m.desk.flight {
                f.order_no = Some(order_no);
            }
            vec![]
        }
        Msg::Paid(Err(refusal)) => on_refused(m, refusal),
        Msg::Queried(result) => query::answered(&mut m.query, *result),
        Msg::Closed(result) => {
            let text = match result {
                Ok(a) if a.outcome == Outcome::Approved => {
                    "the terminal took the cancel request; waiting for its final word".to_string()
                }
                Ok(a) => format!(
                    "the terminal did not cancel ({}); the payment goes on",
                    a.reply
                        .as_ref()
                        .map(|r| r.message().to_string())
                        .filter(|m| !m.is_empty())
                        .unwrap_or_else(|| a.why.clone())
                ),
                Err(e) => format!("the cancel request did not reach the terminal: {e}"),
            };
            if let Some(f) = &mut m.desk.flight {
                f.progress.push(text);
            } else {
                m.desk.notice = Some(text);
            }
            vec![]
        }
        Msg::RawSent(result) => {
            diagnostics::raw_sent(&mut m.diag, result);
            vec![]
        }
        Msg::Resolved(result) => {
            m.desk.notice = Some(match result {
                Ok(row) => format!("{} marked {} by override", row.order_no, row.state.name()),
                Err(e) => format!("override refused: {e}"),
            });
            vec![Effect::Refresh]
        }
        Msg::Found(result) => {
            refund::found(&mut m.refund, &mut m.desk, *result);
            vec![]
        }
        Msg::Audit(rows) => {
            journal::audited(&mut m.journal, rows);
            vec![]
        }
        Msg::Row(row) => {
            m.desk.result = *row;
            vec![]
        }
        Msg::Data(data) => {
            // The rows as of the opening are in: from now on a selection follows its row.
            m.rows_change(|d| *d = *data, |_| true);
            vec![]
        }
        Msg::Journal(page) => {
            m.rows_change(|d| d.journal = *page, |s| s == ScreenId::Journal);
            vec![]
        }
        Msg::Candidates {
            refundable,
            completable,
        } => {
            m.rows_change(
                |d| {
                    d.refundable = refundable;
                    d.completable = completable;
                },
                |_| false,
            );
            vec![]
        }
        Msg::Store(text) => {
            m.desk.store = Some(text);
            vec![]
        }
        Msg::Elsewhere { text, found } => {
            journal::elsewhere(&mut m.journal, &text, found);
            vec![]
        }
        Msg::Checkup { steps, at } => {
            diagnostics::checked(&mut m.diag, steps, at);
            vec![]
        }
        Msg::Terminals(found) => {
            settings::found(&mut m.settings, found);
            vec![]
        }
        Msg::Pair(news) => settings::pair_news(&mut m.settings, news),
        Msg::Retargeted(Ok(())) => vec![],
        Msg::Retargeted(Err(refusal)) => {
            settings::not_moved(&mut m.desk, &refusal);
            vec![]
        }
        Msg::PinChecked(checked) => dialogs::pin_checked(m, checked),
        // The backlog's count goes down on the Batch screen; once done, the report
        // reads its totals again.
        Msg::Tick if m.desk.data.tallying.is_some() => vec![Effect::Refresh],
        Msg::Tick => vec![],
        Msg::Resize(w, h) => {
            m.desk.size = (w, h);
            vec![]
        }
        Msg::Hangup => {
            m.desk.hangup = true;
            m.desk.quit |= m.desk.closing;
            vec![Effect::Quit]
        }
    }
}

fn on_refused(m: &mut Model, refusal: Refusal) -> Vec<Effect> {
    let request = m.desk.flight.take().map(|f| f.request);
    match m.desk.screen {
        ScreenId::Sale => sale::refused(&mut m.sale, &mut m.desk, &refusal, request),
        ScreenId::Refund => refund::refused(&mut m.refund, &refusal),
        ScreenId::Void => void::refused(&mut m.void, &refusal),
        ScreenId::Tip => tip::refused(&mut m.tip, &refusal),
        ScreenId::Batch => batch::refused(&mut m.batch, &refusal),
        _ => m.desk.notice = Some(refusal.to_string()),
    }
    vec![]
}

// Long on purpose: one arm per lane event.
fn on_lane(m: &mut Model, event: Event) -> Vec<Effect> {
    match event {
        Event::Link(link) => {
            m.desk.link_news(link);
            vec![]
        }
        Event::Sent { order_no, .. } => {
            if let Some(f) = &mut m.desk.flight {
                f.order_no = Some(order_no);
            }
            vec![]
        }
        Event::Progress { order_no, step } => {
            match &mut m.desk.flight {
                Some(f) if f.order_no.as_deref() == Some(&order_no) => {
                    f.unknown |= matches!(step, Step::Unknown { .. });
                    f.progress.push(step.to_string());
                }
                _ => m.desk.notice = Some(format!("{order_no}: {step}")),
            }
            vec![]
        }
        Event::Done { row, reply } => {
            batch::answered(&mut m.batch, &m.desk, &row, reply);
            let mine = m
                .desk
                .flight
                .as_ref()
                .is_some_and(|f| f.order_no.as_deref() == Some(&row.order_no));
            let showing = m
                .desk
                .result
                .as_ref()
                .is_some_and(|r| r.order_no == row.order_no);
            let handed_over = m.desk.flight.as_ref().is_some_and(|f| f.from.is_some());
            if mine && handed_over {
                // Another till's payment: the cashier's forms are left as they were.
                m.desk.flight = None;
                m.desk.result = Some(*row);
            } else if mine {
                m.desk.flight = None;
                if row.state == TxnState::Declined && m.desk.screen == ScreenId::Sale {
                    sale::declined(&mut m.sale);
                } else {
                    m.clear_form();
                }
                // A question the answer made moot goes, saying why.
                match &m.desk.modal {
                    Some(Modal::Confirm {
                        then: Confirmed::CancelOnTerminal,
                        ..
                    }) => {
                        m.desk.modal = None;
                        m.desk.notice = Some(too_late(&row));
                    }
                    Some(Modal::Confirm {
                        then: Confirmed::Quit,
                        ..
                    }) => {
                        m.desk.modal = None;
                        m.desk.notice = Some(format!(
                            "the terminal answered ({}): Ctrl-C quits now",
                            row.state.name()
                        ));
                    }
                    _ => {}
                }
                m.desk.result = Some(*row);
            } else if showing {
                // The UNKNOWN on screen just became definite.
                m.desk.result = Some(*row);
            } else {
                m.desk.notice = Some(format!(
                    "{} {} resolved: {}",
                    row.kind.name(),
                    row.order_no,
                    row.state.name().to_uppercase()
                ));
            }
            vec![Effect::Refresh]
        }
        Event::BatchClosed { report } => {
            batch::closed(&mut m.batch, &m.desk, report);
            vec![Effect::Refresh]
        }
        Event::Unresolved { orders, .. } => {
            if orders.is_empty() {
                sale::settled(&mut m.sale);
            }
            m.desk.unresolved = orders;
            vec![]
        }
        Event::Forwarded { who, req, stage } => {
            on_forwarded(&mut m.desk, who, req, stage);
            vec![]
        }
        Event::Stopped => {
            // The answer that came while quitting is read before the screen goes.
            if m.desk.quit_after_answer && m.desk.result.is_some() && !m.desk.hangup {
                m.desk.closing = true;
                m.desk.notice = Some("the terminal has answered: any key closes till".into());
            } else {
                m.desk.quit = true;
            }
            vec![]
        }
    }
}

/// A payment another till (the POS) handed to this screen's lane shows as what it is,
/// in the overlay like the cashier's own (which the cashier can cancel on the terminal
/// as usual); its answer on the result screen.
fn on_forwarded(d: &mut Desk, who: String, req: PayRequest, stage: Forwarded) {
    let what = super::screens::shared::request_line(&req, d);
    match stage {
        Forwarded::Waiting => {
            d.notice = Some(format!("POS: {what} waits for the payment on the terminal"));
        }
        Forwarded::Started if d.flight.is_none() => {
            d.flight = Some(Flight {
                request: req,
                order_no: None,
                started: std::time::Instant::now(),
                progress: vec![format!("POS: {what}, follow the terminal ({who})")],
                cancel_asked: false,
                unknown: false,
                from: Some(who),
            });
            d.result = None;
        }
        Forwarded::Started => {}
        // Refused before it was sent: no answer comes to close the overlay.
        Forwarded::Ended => {
            if d.flight
                .as_ref()
                .is_some_and(|f| f.from.is_some() && f.order_no.is_none())
            {
                d.flight = None;
                d.notice = Some(format!("POS: {what} did not go to the terminal"));
            }
        }
    }
}

/// Why a cancel asked for too late was not sent.
fn too_late(row: &TxnRow) -> String {
    match row.state {
        TxnState::Approved => format!(
            "too late to cancel: {} approved; void it instead (F4)?",
            row.order_no
        ),
        state => format!(
            "no cancel sent: the terminal answered first ({} {})",
            row.order_no,
            state.name()
        ),
    }
}

fn ctrl(key: &KeyEvent, c: char) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
}

// Long on purpose: the keys every screen shares, in the order they are tried before the screen's own.
fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if m.desk.closing {
        m.desk.quit = true;
        return vec![];
    }
    if ctrl(&key, 'c') {
        if m.desk.flight.is_some() {
            m.desk.modal = Some(Modal::Confirm {
                question: "A payment is in progress. Quit when the terminal has answered?".into(),
                then: Confirmed::Quit,
                on_no: OnNo::Keep,
            });
            return vec![];
        }
        let typed = if m.sale.typed() {
            Some("the amount typed on the Sale screen".to_string())
        } else {
            settings::unsaved(&m.settings).map(|keys| format!("the unsaved settings ({keys})"))
        };
        if let Some(lost) = typed.filter(|_| m.desk.modal.is_none()) {
            m.desk.modal = Some(Modal::Confirm {
                question: format!("Quit and lose {lost}?"),
                then: Confirmed::Quit,
                on_no: OnNo::Keep,
            });
            return vec![];
        }
        return vec![Effect::Quit];
    }
    if m.desk.modal.is_some() {
        return on_modal_key(m, key);
    }
    if m.desk.flight.is_some() {
        // The overlay owns the keyboard until the final answer, except that an outcome
        // gone unknown may be left to resolve in the background (the lane keeps asking
        // and refuses new money until it knows).
        let unknown = m
            .desk
            .flight
            .as_ref()
            .filter(|f| f.unknown)
            .and_then(|f| f.order_no.clone());
        if let (KeyCode::Enter, Some(order_no)) = (key.code, unknown) {
            m.desk.flight = None;
            m.clear_form();
            m.desk.notice = Some(format!(
                "{order_no}: outcome unknown; still asking the terminal"
            ));
            return vec![Effect::ShowRow(order_no)];
        }
        if key.code == KeyCode::Esc && !m.desk.link.up {
            m.desk.notice = Some(
                "the terminal cannot be reached: no cancel can go out; till asks it as soon as the link is back"
                    .into(),
            );
        } else if key.code == KeyCode::Esc {
            let f = m.desk.flight.as_ref();
            if f.is_some_and(|f| f.order_no.is_some() && !f.cancel_asked) {
                m.desk.modal = Some(Modal::Confirm {
                    question:
                        "Ask the terminal to cancel this payment? (the terminal still decides)"
                            .into(),
                    then: Confirmed::CancelOnTerminal,
                    on_no: OnNo::Keep,
                });
            }
        }
        return vec![];
    }
    if let Some(result) = m.desk.result.take() {
        // Any key dismisses the result; an F-key also goes to its screen, and the Sale
        // screen may take the key on.
        let goes_on = m.desk.screen == ScreenId::Sale
            && match sale::past_result(&mut m.sale, &mut m.desk, &result, key) {
                PastResult::Charged(effects) => return effects,
                PastResult::Typing => true,
                PastResult::Dismissed => false,
            };
        if !goes_on && !matches!(key.code, KeyCode::F(_)) {
            return vec![];
        }
    }
    m.desk.notice = None;
    // Esc and a letter that arrive together (a fast typist, a laggy SSH link) reach
    // us as Alt+letter: it means the same as the two keys apart.
    if key.modifiers.contains(KeyModifiers::ALT)
        && let KeyCode::Char(c) = key.code
    {
        m.desk.modal = Some(Modal::Menu);
        return on_modal_key(m, KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    if let KeyCode::F(n) = key.code
        && let Some(screen) = ScreenId::ALL.get(usize::from(n).wrapping_sub(1))
    {
        return switch(m, *screen);
    }
    if ctrl(&key, 't') && m.desk.screen.takes_cloud() {
        m.desk.notice = Some(if !m.desk.cloud {
            "no [cloud] in the config: requests go to this lane's terminal".into()
        } else {
            m.desk.via_cloud = !m.desk.via_cloud;
            if m.desk.via_cloud {
                "through the cloud: refunds, voids, tips, queries and batch close go to the vendor's gateway (Ctrl-T: back to this terminal)".into()
            } else {
                "to this lane's terminal again".into()
            }
        });
        return vec![];
    }
    let effects = screen_key(m, key);
    match m.desk.handoff.take() {
        Some(Handoff::Refund(order_no)) => {
            m.refund = RefundForm::of(&order_no);
            m.desk.screen = ScreenId::Refund;
        }
        Some(Handoff::Complete(order_no)) => {
            m.sale = SaleForm::completing(&order_no);
            m.desk.screen = ScreenId::Sale;
        }
        None => {}
    }
    effects
}

/// A key press for the current screen, when no dialog, overlay or result has it.
fn screen_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
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
        ScreenId::Help => top_level(&mut m.desk, key),
    }
}

fn on_modal_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    match dialogs::on_key(m, key) {
        Next::Done(effects) => effects,
        Next::Key(key) => on_key(m, key),
        Next::Open(screen) => switch(m, screen),
    }
}

/// The cashier goes to `screen` (pressing its key again reads its rows again).
pub(crate) fn switch(m: &mut Model, screen: ScreenId) -> Vec<Effect> {
    let arriving = screen != m.desk.screen;
    let mut effects = if arriving { m.leave() } else { vec![] };
    m.desk.screen = screen;
    m.desk.modal = None;
    effects.extend(m.open(screen, arriving));
    effects
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Saved;
    use crate::ecr::TransType;
    use crate::journal::{TxnKind, TxnRow};
    use crate::lane::{LinkNews, PayRequest, Route, SaleOptions};
    use crate::money::Money;
    use crate::tui::field::TextField;
    use crate::tui::fixtures::row;
    use crate::tui::flows::{ORDER_FULL, start};
    use crate::tui::model::JournalData;
    use crate::tui::screens::refund::RefundField;
    use crate::tui::screens::sale::{SaleField, SaleKind};
    use crate::tui::screens::settings::{Pairing, Setting};

    /// A screen whose lane is connected.
    fn model() -> Model {
        let mut m = Model::new("L01", "USD", 2, "127.0.0.1:35779", false);
        m.desk.link.up = true;
        m
    }

    fn key(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn type_str(m: &mut Model, text: &str) -> Vec<Effect> {
        text.chars()
            .flat_map(|c| update(m, key(KeyCode::Char(c))))
            .collect()
    }

    #[test]
    fn a_payment_the_pos_handed_over_shows_as_its_own_and_leaves_the_form_alone() {
        let mut m = model();
        type_str(&mut m, "500");
        let req = PayRequest::Sale {
            amount: Money::from_minor(321, 2).unwrap(),
            tip: None,
            cashback: None,
            scenario: crate::ecr::PayScenario::Card,
            force: false,
            options: SaleOptions::default(),
        };
        let forwarded = |stage| {
            Msg::Lane(Event::Forwarded {
                who: "till sale (pid 42)".into(),
                req: req.clone(),
                stage,
            })
        };
        update(&mut m, forwarded(Forwarded::Waiting));
        assert!(m.desk.notice.as_deref().unwrap().contains("POS: SALE 3.21"));
        update(&mut m, forwarded(Forwarded::Started));
        let f = m.desk.flight.as_ref().expect("the overlay is up");
        assert_eq!(
            f.progress,
            ["POS: SALE 3.21 USD, follow the terminal (till sale (pid 42))"]
        );
        update(
            &mut m,
            Msg::Lane(Event::Sent {
                order_no: "L01-1124-000009".into(),
                kind: TxnKind::Trans(TransType::Sale),
                amount: None,
            }),
        );
        let done = row(
            "L01-1124-000009",
            TxnKind::Trans(TransType::Sale),
            TxnState::Approved,
            321,
        );
        update(
            &mut m,
            Msg::Lane(Event::Done {
                row: Box::new(done),
                reply: None,
            }),
        );
        update(&mut m, forwarded(Forwarded::Ended));
        assert!(m.desk.flight.is_none());
        assert_eq!(m.desk.result.as_ref().unwrap().order_no, "L01-1124-000009");
        assert_eq!(
            m.sale.amount.display(2),
            "5.00",
            "the cashier's amount stays"
        );

        // Refused before it was sent: the overlay goes, saying so.
        update(&mut m, forwarded(Forwarded::Started));
        update(&mut m, forwarded(Forwarded::Ended));
        assert!(m.desk.flight.is_none());
        assert!(
            m.desk
                .notice
                .as_deref()
                .unwrap()
                .contains("did not go to the terminal")
        );
    }

    #[test]
    fn a_terminal_found_by_serial_shows_serial_and_address() {
        let mut m = Model::new("L01", "USD", 2, "sn:WPYB0001", false);
        let news = LinkNews::Located {
            serial: "WPYB0001".into(),
            address: "ws://192.168.1.20:35779/".into(),
        };
        update(&mut m, Msg::Lane(Event::Link(news)));
        assert_eq!(m.desk.link.address, "sn:WPYB0001 ws://192.168.1.20:35779/");
    }

    #[test]
    fn a_down_links_retry_is_counted_down_not_frozen_in_its_text() {
        let mut m = model();
        let down = LinkNews::Down {
            reason: "no answer".into(),
            retry_in: std::time::Duration::from_secs(15),
        };
        update(&mut m, Msg::Lane(Event::Link(down)));
        assert_eq!(m.desk.link.state, "down: no answer");
        assert!(m.desk.link.retry_at.is_some());
        update(&mut m, Msg::Lane(Event::Link(LinkNews::Connected)));
        assert!(m.desk.link.retry_at.is_none());
    }

    #[test]
    fn a_lane_moved_to_another_terminal_forgets_the_old_one_and_a_refusal_says_why() {
        let mut m = model();
        let open = Refusal::OpenPayment("L01-1124-000001".into());
        update(&mut m, Msg::Retargeted(Err(open)));
        let notice = m.desk.notice.clone().unwrap_or_default();
        assert!(
            notice.starts_with("saved, but the lane stays on 127.0.0.1:35779: finish or resolve the open payment first (L01-1124-000001)"),
            "{notice}"
        );

        m.desk.link.device.device_sn = Some("OLD1".into());
        m.desk.link.rtts_us.push_back(900);
        let moved = LinkNews::Target("sn:NEW2".into());
        update(&mut m, Msg::Lane(Event::Link(moved)));
        assert_eq!(
            (m.desk.link.target.as_str(), m.desk.link.address.as_str()),
            ("sn:NEW2", "sn:NEW2")
        );
        assert_eq!(m.desk.link.device.device_sn, None);
        assert!(m.desk.link.rtts_us.is_empty() && !m.desk.link.up);
        assert_eq!(m.desk.link.state, "connecting to sn:NEW2");
    }

    #[test]
    fn a_sale_from_digits_to_approved_and_on_to_the_next() {
        let mut m = model();
        type_str(&mut m, "1234");
        assert_eq!(m.sale.amount.display(2), "12.34");
        update(&mut m, key(KeyCode::Backspace));
        type_str(&mut m, "4");
        let fx = update(&mut m, key(KeyCode::Enter));
        let Some(Effect::Pay(PayRequest::Sale {
            amount,
            force: false,
            ..
        })) = fx.first()
        else {
            panic!("{fx:?}")
        };
        assert_eq!(amount.minor(), 1234);
        assert!(m.desk.flight.is_some());
        // Keys do nothing while the terminal works, except Esc which asks first.
        assert!(type_str(&mut m, "99").is_empty());
        update(&mut m, Msg::Paid(Ok("L01-1124-000001".into())));
        update(&mut m, key(KeyCode::Esc));
        assert!(matches!(
            m.desk.modal,
            Some(Modal::Confirm {
                then: Confirmed::CancelOnTerminal,
                ..
            })
        ));
        let fx = update(&mut m, key(KeyCode::Char('y')));
        assert_eq!(fx, vec![Effect::Close("L01-1124-000001".into())]);
        let done = row(
            "L01-1124-000001",
            TxnKind::Trans(TransType::Sale),
            TxnState::Approved,
            1234,
        );
        let fx = update(
            &mut m,
            Msg::Lane(Event::Done {
                row: Box::new(done),
                reply: None,
            }),
        );
        assert_eq!(fx, vec![Effect::Refresh]);
        assert!(m.desk.flight.is_none());
        assert_eq!(m.desk.result.as_ref().unwrap().state, TxnState::Approved);
        assert_eq!(
            m.sale.amount.minor(2),
            0,
            "the form is ready for the next sale"
        );
        // Any key dismisses the result; a digit starts the next amount.
        type_str(&mut m, "5");
        assert!(m.desk.result.is_none());
        assert_eq!(m.sale.amount.display(2), "0.05");
    }

    /// Charges what is typed and brings the lane's final answer for it.
    fn charge_and_answer(m: &mut Model, order: &str, state: TxnState) -> Vec<Effect> {
        let fx = update(m, key(KeyCode::Enter));
        let Some(Effect::Pay(req)) = fx.first().cloned() else {
            panic!("{fx:?}")
        };
        update(m, Msg::Paid(Ok(order.into())));
        let (kind, minor) = match req {
            PayRequest::Sale { amount, .. } => (TxnKind::Trans(TransType::Sale), amount.minor()),
            PayRequest::PreAuth { amount } => (TxnKind::Trans(TransType::PreAuth), amount.minor()),
            other => panic!("{other:?}"),
        };
        let mut done = row(order, kind, state, minor);
        if state == TxnState::Declined {
            done.reply.response_code = Some("105".into());
        }
        update(
            m,
            Msg::Lane(Event::Done {
                row: Box::new(done),
                reply: None,
            }),
        );
        fx
    }

    #[test]
    fn after_a_pre_auth_the_next_payment_is_a_sale() {
        let mut m = model();
        // Tab to the type and pick pre-auth.
        for _ in 0..4 {
            update(&mut m, key(KeyCode::Tab));
        }
        assert_eq!(m.sale.focus, SaleField::Kind);
        update(&mut m, key(KeyCode::Right));
        assert_eq!(m.sale.kind, SaleKind::PreAuth);
        update(&mut m, key(KeyCode::BackTab));
        type_str(&mut m, "1717");
        charge_and_answer(&mut m, "L01-A-1", TxnState::Approved);
        assert_eq!(m.sale.kind, SaleKind::Sale, "the type went back to sale");
        type_str(&mut m, "1717");
        let fx = charge_and_answer(&mut m, "L01-A-2", TxnState::Approved);
        assert!(
            matches!(fx.first(), Some(Effect::Pay(PayRequest::Sale { .. }))),
            "{fx:?}"
        );
    }

    #[test]
    fn the_duplicate_question_defaults_to_no_and_no_clears_the_sale() {
        for answer in [KeyCode::Enter, KeyCode::Char('n'), KeyCode::Esc] {
            let mut m = model();
            type_str(&mut m, "350101");
            update(&mut m, key(KeyCode::Enter));
            update(
                &mut m,
                Msg::Paid(Err(Refusal::PossibleDuplicate {
                    amount: "3501.01".into(),
                    order_no: "L01-A-1".into(),
                    ago_secs: 5,
                })),
            );
            assert!(matches!(m.desk.modal, Some(Modal::Confirm { .. })));
            assert!(
                update(&mut m, key(answer)).is_empty(),
                "{answer:?} charges nothing"
            );
            assert!(m.desk.modal.is_none());
            assert!(m.sale.amount.is_empty(), "{answer:?}: the amount is gone");
            // The next digits start a new amount instead of appending.
            type_str(&mut m, "444");
            assert_eq!(m.sale.amount.display(2), "4.44");
        }
        let mut m = model();
        type_str(&mut m, "350101");
        update(&mut m, key(KeyCode::Enter));
        update(
            &mut m,
            Msg::Paid(Err(Refusal::PossibleDuplicate {
                amount: "3501.01".into(),
                order_no: "L01-A-1".into(),
                ago_secs: 5,
            })),
        );
        let fx = update(&mut m, key(KeyCode::Char('y')));
        assert!(
            matches!(
                fx.first(),
                Some(Effect::Pay(PayRequest::Sale { force: true, .. }))
            ),
            "{fx:?}"
        );
    }

    #[test]
    fn a_decline_keeps_the_sale_and_enter_charges_it_again() {
        let mut m = model();
        type_str(&mut m, "1051");
        update(&mut m, key(KeyCode::Tab));
        type_str(&mut m, "200");
        charge_and_answer(&mut m, "L01-A-1", TxnState::Declined);
        assert_eq!(
            m.desk.result.as_ref().map(|r| r.state),
            Some(TxnState::Declined)
        );
        assert_eq!(m.sale.amount.display(2), "10.51", "kept");
        assert_eq!(m.sale.tip.display(2), "2.00", "kept");
        let fx = update(&mut m, key(KeyCode::Enter));
        let Some(Effect::Pay(PayRequest::Sale { amount, tip, .. })) = fx.first() else {
            panic!("{fx:?}")
        };
        assert_eq!((amount.minor(), tip.map(|t| t.minor())), (1051, Some(200)));
        // Another key after a decline starts afresh instead.
        let mut m = model();
        type_str(&mut m, "1051");
        charge_and_answer(&mut m, "L01-A-2", TxnState::Declined);
        type_str(&mut m, "7");
        assert_eq!(m.sale.amount.display(2), "0.07");
    }

    #[test]
    fn ctrl_c_with_an_amount_typed_asks_first() {
        let ctrl_c = || Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        let mut m = model();
        assert_eq!(
            update(&mut m, ctrl_c()),
            vec![Effect::Quit],
            "nothing typed"
        );
        let mut m = model();
        type_str(&mut m, "12");
        assert!(update(&mut m, ctrl_c()).is_empty());
        assert!(matches!(
            m.desk.modal,
            Some(Modal::Confirm {
                then: Confirmed::Quit,
                ..
            })
        ));
        assert!(
            update(&mut m, key(KeyCode::Enter)).is_empty(),
            "Enter is no"
        );
        assert_eq!(m.sale.amount.display(2), "0.12");
        update(&mut m, ctrl_c());
        assert_eq!(update(&mut m, key(KeyCode::Char('y'))), vec![Effect::Quit]);
    }

    #[test]
    fn a_tally_behind_the_screen_is_read_again_each_tick_until_done() {
        let mut m = model();
        assert_eq!(update(&mut m, Msg::Tick), vec![]);
        let tallying = |left| {
            Msg::Data(Box::new(JournalData {
                tallying: left,
                ..JournalData::default()
            }))
        };
        update(&mut m, tallying(Some(500)));
        assert_eq!(update(&mut m, Msg::Tick), vec![Effect::Refresh]);
        update(&mut m, tallying(None));
        assert_eq!(update(&mut m, Msg::Tick), vec![]);
    }

    #[test]
    fn selections_follow_their_order_as_new_rows_arrive() {
        let sale = |no: &str| row(no, TxnKind::Trans(TransType::Sale), TxnState::Approved, 100);
        let data = |orders: &[&str]| {
            let rows: Vec<TxnRow> = orders.iter().map(|o| sale(o)).collect();
            let mut data = JournalData {
                open_rows: rows.clone(),
                ..JournalData::default()
            };
            data.journal.page.rows = rows;
            Msg::Data(Box::new(data))
        };
        let mut m = model();
        update(&mut m, data(&["B", "A"]));
        m.journal.selected = 1;
        m.void.selected = 1;
        update(&mut m, data(&["C", "B", "A"]));
        assert_eq!(journal::rows(&m.desk)[m.journal.selected].order_no, "A");
        assert_eq!(void::rows(&m.void, &m.desk)[m.void.selected].order_no, "A");
    }

    /// The journal's rows as the lane would send them after a change: newest first.
    fn open_rows(orders: &[(&str, i64)]) -> Msg {
        let rows: Vec<TxnRow> = orders
            .iter()
            .map(|(o, minor)| {
                row(
                    o,
                    TxnKind::Trans(TransType::Sale),
                    TxnState::Approved,
                    *minor,
                )
            })
            .collect();
        let mut data = JournalData {
            open_rows: rows.clone(),
            ..JournalData::default()
        };
        data.journal.page.rows = rows;
        Msg::Data(Box::new(data))
    }

    #[test]
    fn every_list_opens_on_the_newest_row_and_the_confirmation_names_what_the_request_carries() {
        let mut m = model();
        update(&mut m, open_rows(&[("L01-1", 1100)]));
        // A first visit to each list, then three sales made on the Sale screen.
        for screen in [
            ScreenId::Void,
            ScreenId::Tip,
            ScreenId::Journal,
            ScreenId::Sale,
        ] {
            switch(&mut m, screen);
            update(&mut m, open_rows(&[("L01-1", 1100)]));
        }
        update(
            &mut m,
            open_rows(&[
                ("L01-4", 4400),
                ("L01-3", 3300),
                ("L01-2", 2200),
                ("L01-1", 1100),
            ]),
        );
        // F4 Enter: the newest sale, named in full; y sends exactly that one.
        update(&mut m, key(KeyCode::F(4)));
        update(
            &mut m,
            open_rows(&[
                ("L01-4", 4400),
                ("L01-3", 3300),
                ("L01-2", 2200),
                ("L01-1", 1100),
            ]),
        );
        update(&mut m, key(KeyCode::Enter));
        let Some(Modal::Confirm { question, .. }) = &m.desk.modal else {
            panic!("{:?}", m.desk.modal)
        };
        assert_eq!(question, "Void sale 44.00 USD, card …3919, order L01-4?");
        let fx = update(&mut m, key(KeyCode::Char('y')));
        assert!(
            matches!(fx.as_slice(), [Effect::Pay(PayRequest::Void { orig, .. })] if orig == "L01-4"),
            "{fx:?}"
        );
        // A list opened before the journal's rows come still opens on the newest.
        let mut m = model();
        update(&mut m, open_rows(&[("L01-1", 1100)]));
        switch(&mut m, ScreenId::Tip);
        update(&mut m, key(KeyCode::Down));
        switch(&mut m, ScreenId::Sale);
        switch(&mut m, ScreenId::Tip);
        update(&mut m, open_rows(&[("L01-2", 2200), ("L01-1", 1100)]));
        assert_eq!(
            tip::rows(&m.tip, &m.desk)[m.tip.pick.selected].order_no,
            "L01-2"
        );
        // While the screen is open the selection follows its row.
        update(&mut m, key(KeyCode::Down));
        update(
            &mut m,
            open_rows(&[("L01-3", 3300), ("L01-2", 2200), ("L01-1", 1100)]),
        );
        assert_eq!(
            tip::rows(&m.tip, &m.desk)[m.tip.pick.selected].order_no,
            "L01-1"
        );
        update(&mut m, key(KeyCode::Enter));
        type_str(&mut m, "150");
        update(&mut m, key(KeyCode::Enter));
        let Some(Modal::Confirm { question, .. }) = &m.desk.modal else {
            panic!("{:?}", m.desk.modal)
        };
        assert_eq!(
            question,
            "Set the tip of sale 11.00 USD, card …3919, order L01-1 to 1.50 USD?"
        );
    }

    #[test]
    fn typed_digits_never_join_an_old_amount() {
        // A declined sale stays; Esc, the menu back to Sale, and 8 0 0 0 is 80.00.
        let mut m = model();
        type_str(&mut m, "751");
        update(&mut m, key(KeyCode::Tab));
        type_str(&mut m, "100");
        update(&mut m, key(KeyCode::BackTab));
        charge_and_answer(&mut m, "L01-A-1", TxnState::Declined);
        update(&mut m, key(KeyCode::Esc));
        update(&mut m, key(KeyCode::Esc));
        update(&mut m, key(KeyCode::Char('s')));
        assert_eq!(
            m.sale.amount.display(2),
            "7.51",
            "still there to charge again"
        );
        type_str(&mut m, "8000");
        assert_eq!(m.sale.amount.display(2), "80.00");
        assert!(m.sale.tip.is_empty(), "the old sale's tip went with it");
        // Leaving a screen half-way clears its form: a refund, a sale, a tip.
        let mut m = model();
        update(&mut m, open_rows(&[("L01-1", 1100)]));
        type_str(&mut m, "999");
        update(&mut m, key(KeyCode::F(3)));
        type_str(&mut m, "000001");
        update(&mut m, key(KeyCode::Tab));
        type_str(&mut m, "500");
        update(&mut m, key(KeyCode::F(2)));
        assert!(m.sale.amount.is_empty(), "the sale typed before F3 is gone");
        update(&mut m, key(KeyCode::F(3)));
        assert!(m.refund.orig.text.is_empty() && m.refund.amount.is_empty());
        update(&mut m, key(KeyCode::F(5)));
        update(&mut m, key(KeyCode::Enter));
        type_str(&mut m, "12");
        update(&mut m, key(KeyCode::F(2)));
        update(&mut m, key(KeyCode::F(5)));
        assert!(!m.tip.editing && m.tip.tip.is_empty());
    }

    #[test]
    fn quitting_mid_payment_shows_the_answer_before_closing() {
        let ctrl_c = || Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        let mut m = model();
        type_str(&mut m, "500");
        update(&mut m, key(KeyCode::Enter));
        update(&mut m, Msg::Paid(Ok("L01-A-1".into())));
        update(&mut m, ctrl_c());
        assert_eq!(update(&mut m, key(KeyCode::Char('y'))), vec![Effect::Quit]);
        let done = row(
            "L01-A-1",
            TxnKind::Trans(TransType::Sale),
            TxnState::Approved,
            500,
        );
        update(
            &mut m,
            Msg::Lane(Event::Done {
                row: Box::new(done),
                reply: None,
            }),
        );
        update(&mut m, Msg::Lane(Event::Stopped));
        assert!(!m.desk.quit && m.desk.closing, "the answer shows");
        assert_eq!(
            m.desk.result.as_ref().map(|r| r.state),
            Some(TxnState::Approved)
        );
        assert_eq!(crate::tui::view::footer_text(&m), "any key: close till");
        update(&mut m, key(KeyCode::Char('x')));
        assert!(m.desk.quit);
        // With nothing in flight Ctrl-C quits as soon as the lane stops.
        let mut m = model();
        update(&mut m, ctrl_c());
        update(&mut m, Msg::Lane(Event::Stopped));
        assert!(m.desk.quit);
    }

    #[test]
    fn a_cancel_question_the_answer_made_moot_closes_and_says_why() {
        for (state, said) in [
            (
                TxnState::Approved,
                "too late to cancel: L01-A-1 approved; void it instead",
            ),
            (
                TxnState::Declined,
                "no cancel sent: the terminal answered first",
            ),
        ] {
            let mut m = model();
            type_str(&mut m, "500");
            update(&mut m, key(KeyCode::Enter));
            update(&mut m, Msg::Paid(Ok("L01-A-1".into())));
            update(&mut m, key(KeyCode::Esc));
            assert!(matches!(m.desk.modal, Some(Modal::Confirm { .. })));
            let done = row("L01-A-1", TxnKind::Trans(TransType::Sale), state, 500);
            update(
                &mut m,
                Msg::Lane(Event::Done {
                    row: Box::new(done),
                    reply: None,
                }),
            );
            assert!(m.desk.modal.is_none(), "{state:?}");
            assert!(
                m.desk.notice.as_deref().unwrap_or("").starts_with(said),
                "{:?}",
                m.desk.notice
            );
            assert!(update(&mut m, key(KeyCode::Char('y'))).is_empty());
        }
    }

    #[test]
    fn enter_on_a_question_says_it_was_no_and_the_footer_says_what_enter_does() {
        let mut m = model();
        update(&mut m, open_rows(&[("L01-1", 1100)]));
        switch(&mut m, ScreenId::Void);
        update(&mut m, key(KeyCode::Enter));
        assert_eq!(
            crate::tui::view::footer_text(&m),
            "y yes · n no · Enter and Esc are no too"
        );
        assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
        assert_eq!(
            m.desk.notice.as_deref(),
            Some("Enter is no: nothing sent (only y says yes)")
        );
        // After a decline the footer says that Enter charges again.
        let mut m = model();
        type_str(&mut m, "751");
        charge_and_answer(&mut m, "L01-A-1", TxnState::Declined);
        assert!(crate::tui::view::footer_text(&m).starts_with("Enter charge again (another card)"));
    }

    #[test]
    fn picking_a_pre_auth_fills_its_number_and_amount() {
        let mut m = model();
        let auth = row(
            "L01-P-7",
            TxnKind::Trans(TransType::PreAuth),
            TxnState::Approved,
            8000,
        );
        update(
            &mut m,
            Msg::Candidates {
                refundable: vec![],
                completable: vec![auth],
            },
        );
        for _ in 0..4 {
            update(&mut m, key(KeyCode::Tab));
        }
        update(&mut m, key(KeyCode::Right));
        update(&mut m, key(KeyCode::Right));
        assert_eq!(m.sale.kind, SaleKind::Completion);
        update(&mut m, key(KeyCode::BackTab));
        assert_eq!(m.sale.focus, SaleField::Orig);
        update(&mut m, key(KeyCode::Down));
        assert_eq!(m.sale.orig.text, "L01-P-7");
        assert_eq!(m.sale.amount.display(2), "80.00");
        update(&mut m, key(KeyCode::Enter));
        let Some(Modal::Confirm { question, then, .. }) = &m.desk.modal else {
            panic!("{:?}", m.desk.modal)
        };
        assert_eq!(
            question,
            "Complete pre-auth 80.00 USD, card …3919, order L01-P-7 for 80.00 USD?"
        );
        assert!(matches!(
            then,
            Confirmed::Pay(PayRequest::FollowUp { orig, amount: Some(a), .. })
                if orig == "L01-P-7" && a.minor() == 8000
        ));
        // Typing replaces the filled-in amount.
        update(&mut m, key(KeyCode::Esc));
        update(&mut m, key(KeyCode::BackTab));
        assert_eq!(m.sale.focus, SaleField::Amount);
        type_str(&mut m, "75");
        assert_eq!(m.sale.amount.display(2), "0.75");
    }

    #[test]
    fn settings_write_only_what_was_changed_and_behind_the_supervisors_pin() {
        let mut m = model();
        // url and app id as the command line gave them, a lane from the file.
        m.settings.fields = vec![
            Setting::text("url", "10.9.9.9", 200),
            Setting::text("app_id", "one-off-app", 200),
            Setting::text("lane", "L01", 8),
        ];
        update(&mut m, key(KeyCode::F(10)));
        assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
        assert_eq!(
            m.settings.message.as_deref(),
            Some("nothing changed: nothing to save")
        );
        update(&mut m, key(KeyCode::Down));
        update(&mut m, key(KeyCode::Down));
        update(&mut m, key(KeyCode::Backspace));
        type_str(&mut m, "2");
        assert_eq!(
            update(&mut m, key(KeyCode::Enter)),
            vec![Effect::SaveSettings(vec![(
                "lane",
                Saved::Text("L02".into())
            )])]
        );
        // Once saved, the value is the one the screen has: Enter again saves nothing.
        settings::saved(&mut m.settings, &[("lane", Saved::Text("L02".into()))]);
        assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
        // With a PIN set, saving (and pairing) waits for it.
        m.desk.supervisor.pin = Some(crate::supervisor_pin::hash_pin("2468").expect("hash"));
        type_str(&mut m, "3");
        assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
        assert!(
            matches!(&m.desk.modal, Some(Modal::Pin { why, .. }) if why == "saving settings"),
            "{:?}",
            m.desk.modal
        );
        type_str(&mut m, "2468");
        assert_eq!(
            update(&mut m, key(KeyCode::Enter)),
            vec![Effect::CheckPin(crate::supervisor_pin::TypedPin(
                "2468".into()
            ))]
        );
        assert_eq!(
            update(
                &mut m,
                Msg::PinChecked(Ok(crate::supervisor_pin::tries::Checked::Right))
            ),
            vec![Effect::SaveSettings(vec![(
                "lane",
                Saved::Text("L023".into())
            )])]
        );
        let ctrl_p = Msg::Key(KeyEvent::new(KeyCode::Char('p'), KeyModifiers::CONTROL));
        assert!(update(&mut m, ctrl_p).is_empty());
        assert!(matches!(&m.desk.modal, Some(Modal::Pin { .. })));
        assert_eq!(m.settings.pairing, Pairing::Off);
    }

    #[test]
    fn settings_left_unsaved_are_kept_and_said_so_until_saved() {
        let mut m = model();
        m.settings.fields = vec![
            Setting::text("url", "10.9.9.9", 200),
            Setting::text("lane", "L01", 8),
        ];
        update(&mut m, key(KeyCode::F(10)));
        assert_eq!(m.settings.message, None, "nothing unsaved yet");
        update(&mut m, key(KeyCode::Down));
        update(&mut m, key(KeyCode::Backspace));
        type_str(&mut m, "7");
        // Off to look something up: the edit stays, and the cashier is told.
        assert!(update(&mut m, key(KeyCode::F(8))).contains(&Effect::Refresh));
        let notice = m.desk.notice.clone().unwrap_or_default();
        assert!(notice.contains("settings not saved (lane)"), "{notice}");
        update(&mut m, key(KeyCode::F(10)));
        assert_eq!(
            m.settings.message.as_deref(),
            Some("unsaved: lane (Enter saves)")
        );
        assert_eq!(m.settings.fields[1].saved(), Saved::Text("L07".into()));
        assert_eq!(
            update(&mut m, key(KeyCode::Enter)),
            vec![Effect::SaveSettings(vec![(
                "lane",
                Saved::Text("L07".into())
            )])]
        );
        // Quitting asks first while they are unsaved.
        update(&mut m, key(KeyCode::F(2)));
        let ctrl_c = || Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        assert!(update(&mut m, ctrl_c()).is_empty());
        assert!(
            matches!(&m.desk.modal, Some(Modal::Confirm { question, .. }) if question == "Quit and lose the unsaved settings (lane)?"),
            "{:?}",
            m.desk.modal
        );
        update(&mut m, key(KeyCode::Char('n')));
        update(&mut m, key(KeyCode::F(10)));
        // Saved: leaving and coming back says nothing more, and quitting asks nothing.
        settings::saved(&mut m.settings, &[("lane", Saved::Text("L07".into()))]);
        update(&mut m, key(KeyCode::F(2)));
        assert_eq!(m.desk.notice, None);
        update(&mut m, key(KeyCode::F(10)));
        assert_eq!(m.settings.message, None);
        assert_eq!(update(&mut m, ctrl_c()), vec![Effect::Quit]);
    }

    #[test]
    fn f_keys_go_to_their_screen_from_a_result_or_a_question() {
        let mut m = model();
        m.desk.result = Some(row(
            "L01-1",
            TxnKind::Trans(TransType::Sale),
            TxnState::Approved,
            100,
        ));
        update(&mut m, key(KeyCode::F(8)));
        assert_eq!(
            (m.desk.screen, m.desk.result.is_none()),
            (ScreenId::Journal, true)
        );
        m.desk.modal = Some(Modal::Confirm {
            question: "?".into(),
            then: Confirmed::Quit,
            on_no: OnNo::Keep,
        });
        assert_eq!(
            update(&mut m, key(KeyCode::F(2))),
            vec![],
            "no is the answer"
        );
        assert_eq!(
            (m.desk.screen, m.desk.modal.is_none()),
            (ScreenId::Sale, true)
        );
    }

    #[test]
    fn an_unresolved_refusal_goes_once_the_rows_are_settled() {
        let mut m = model();
        type_str(&mut m, "500");
        update(&mut m, key(KeyCode::Enter));
        update(
            &mut m,
            Msg::Paid(Err(Refusal::Unresolved {
                count: 1,
                orders: "L01-A-1".into(),
            })),
        );
        assert!(m.sale.error.as_deref().unwrap().contains("unresolved"));
        update(
            &mut m,
            Msg::Lane(Event::Unresolved {
                orders: vec![],
                by_query: vec![],
            }),
        );
        assert!(m.sale.error.as_deref().unwrap().contains("settled"));
        assert_eq!(m.sale.amount.display(2), "5.00", "the sale is still there");
    }

    #[test]
    fn with_the_link_down_the_overlay_says_not_to_charge_again() {
        let mut m = model();
        m.desk.link.up = false;
        type_str(&mut m, "500");
        update(&mut m, key(KeyCode::Enter));
        update(&mut m, Msg::Paid(Ok("L01-A-1".into())));
        update(&mut m, key(KeyCode::Esc));
        assert!(m.desk.modal.is_none(), "no cancel can go out");
        assert!(
            m.desk
                .notice
                .as_deref()
                .unwrap()
                .contains("cannot be reached")
        );
    }

    #[test]
    fn a_batch_close_sets_the_terminals_totals_beside_the_journals_and_flags_a_mismatch() {
        let sales = crate::journal::Group {
            name: "sale".into(),
            count: 128,
            sum_minor: 2_122_413,
        };
        for (pairs, word) in [
            (
                vec![("total_amount", "21224.13")],
                "the terminal agrees: total 21,224.13 USD",
            ),
            (
                vec![("total_amount", "21000.00")],
                "MISMATCH with the terminal: total: terminal 21,000.00 USD, journal 21,224.13, difference -224.13",
            ),
            (
                vec![("sale_count", "0"), ("sale_amount", "0.00")],
                "MISMATCH with the terminal: sales: terminal 0, journal 128, difference -128",
            ),
            (
                vec![("sale_count", "128")],
                "the terminal agrees: sales 128",
            ),
            (vec![], "the terminal's reply has nothing to compare"),
        ] {
            let mut m = model();
            update(
                &mut m,
                Msg::Lane(Event::BatchClosed {
                    report: crate::journal::BatchReport {
                        batch: 1,
                        net_minor: 2_122_413,
                        per_kind: vec![sales.clone()],
                        ..Default::default()
                    },
                }),
            );
            let mut reply = crate::ecr::Reply::default();
            for (k, v) in pairs {
                reply.biz.all.insert(k.into(), v.into());
            }
            let close = row("L01-B", TxnKind::BatchClose, TxnState::Approved, 0);
            update(
                &mut m,
                Msg::Lane(Event::Done {
                    row: Box::new(close),
                    reply: Some(Box::new(reply)),
                }),
            );
            let said = m.batch.last_close.clone().unwrap_or_default();
            assert!(said.contains(word), "{said}");
        }
    }

    #[test]
    fn closing_a_batch_names_the_pre_auths_still_open() {
        let mut m = model();
        let mut auth = row(
            "L01-P",
            TxnKind::Trans(TransType::PreAuth),
            TxnState::Approved,
            8000,
        );
        auth.batch = 1;
        update(
            &mut m,
            Msg::Data(Box::new(JournalData {
                open_rows: vec![auth],
                ..JournalData::default()
            })),
        );
        m.desk.screen = ScreenId::Batch;
        update(&mut m, key(KeyCode::Char('c')));
        let Some(Modal::Confirm { question, .. }) = &m.desk.modal else {
            panic!("{:?}", m.desk.modal)
        };
        assert!(
            question.contains("1 pre-auth(s) still open (80.00 USD)"),
            "{question}"
        );
    }

    #[test]
    fn unusual_amounts_are_asked_about_first() {
        let mut m = model();
        m.desk.confirm_above = Money::from_minor(1_000_000, 2).ok();
        type_str(&mut m, "1000001");
        assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
        let Some(Modal::Confirm { question, .. }) = &m.desk.modal else {
            panic!("{:?}", m.desk.modal)
        };
        assert!(question.contains("more than 10,000.00"), "{question}");
        assert!(
            update(&mut m, key(KeyCode::Enter)).is_empty(),
            "Enter is no"
        );
        // A tip larger than the sale asks too; y charges it.
        let mut m = model();
        type_str(&mut m, "1000");
        update(&mut m, key(KeyCode::Tab));
        type_str(&mut m, "2000");
        update(&mut m, key(KeyCode::Enter));
        let Some(Modal::Confirm { question, .. }) = &m.desk.modal else {
            panic!("{:?}", m.desk.modal)
        };
        assert!(
            question.contains("tip 20.00 is more than the sale 10.00"),
            "{question}"
        );
        let fx = update(&mut m, key(KeyCode::Char('y')));
        assert!(
            matches!(fx.first(), Some(Effect::Pay(PayRequest::Sale { .. }))),
            "{fx:?}"
        );
    }

    #[test]
    fn terminal_options_are_set_per_sale_with_one_key_each() {
        let mut m = model();
        type_str(&mut m, "1000");
        update(&mut m, key(KeyCode::Char('o')));
        assert!(matches!(m.desk.modal, Some(Modal::SaleOptions)));
        type_str(&mut m, "tsrr");
        update(&mut m, key(KeyCode::Enter));
        assert!(m.desk.modal.is_none());
        let fx = update(&mut m, key(KeyCode::Enter));
        let Some(Effect::Pay(PayRequest::Sale { options, .. })) = fx.first() else {
            panic!("{fx:?}")
        };
        assert_eq!(options.tip_on_terminal, Some(true));
        assert_eq!(options.signature_on_terminal, Some(true));
        assert_eq!(options.confirm_on_terminal, None, "the lane's default");
        assert_eq!(options.receipts, Some(crate::ecr::Receipts::Merchant));
        // A description, typed in the same dialog; a card number in it is masked.
        let mut m = model();
        type_str(&mut m, "1000");
        update(&mut m, key(KeyCode::Char('o')));
        update(&mut m, key(KeyCode::Char('d')));
        type_str(&mut m, "table 4 card 4111111111111111");
        update(&mut m, key(KeyCode::Enter));
        update(&mut m, key(KeyCode::Enter));
        let fx = update(&mut m, key(KeyCode::Enter));
        let Some(Effect::Pay(PayRequest::Sale { options, .. })) = fx.first() else {
            panic!("{fx:?}")
        };
        let said = options.description.as_ref().map(|d| d.as_str().to_string());
        assert_eq!(said.as_deref(), Some("table 4 card 411111******1111"));
    }

    #[test]
    fn the_theme_and_terminal_options_are_picked_from_those_there_are() {
        let mut m = model();
        let themes = ["default", "high-contrast", "mono"]
            .iter()
            .map(|t| (t.to_string(), Saved::Text(t.to_string())))
            .collect();
        m.settings.fields = vec![
            Setting::choice("theme", themes, &Saved::Text("default".into())),
            Setting::flag("on_screen_tip", None),
            Setting::text("confirm_above", "10000.00", 20),
        ];
        update(&mut m, key(KeyCode::F(10)));
        update(&mut m, key(KeyCode::Right));
        update(&mut m, key(KeyCode::Left));
        update(&mut m, key(KeyCode::Left));
        type_str(&mut m, "x");
        let said = m.settings.message.clone().unwrap_or_default();
        assert!(
            said.contains("pick with ←/→: default, high-contrast, mono"),
            "{said}"
        );
        // The tip on the terminal: from "terminal decides" to "no", going left.
        update(&mut m, key(KeyCode::Down));
        assert_eq!(m.settings.message, None, "moving on clears the hint");
        update(&mut m, key(KeyCode::Left));
        assert_eq!(m.settings.fields[1].shown(true), "‹ no ›");
        // Typed text is cleared to nothing: the key is removed, its default applies.
        update(&mut m, key(KeyCode::Down));
        update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
        );
        assert_eq!(
            update(&mut m, key(KeyCode::Enter)),
            vec![Effect::SaveSettings(vec![
                ("theme", Saved::Text("mono".into())),
                ("on_screen_tip", Saved::Flag(false)),
                ("confirm_above", Saved::Unset),
            ])]
        );
    }

    #[test]
    fn the_journal_searches_the_whole_journal_and_pages_through_it() {
        let mut m = model();
        update(&mut m, key(KeyCode::F(8)));
        update(&mut m, key(KeyCode::Char('/')));
        assert!(m.journal.searching);
        // Each change searches again from the newest page; kinds and states are words
        // of the one grammar every search reads (`journal::search`).
        assert_eq!(type_str(&mut m, "42"), vec![Effect::Search, Effect::Search]);
        type_str(&mut m, " refund Approved 2026-11-01..2026-11-30");
        let search = journal::search(&m.journal, &m.desk);
        assert_eq!(search.text, "42 refund Approved 2026-11-01..2026-11-30");
        assert_eq!(search.before, None);
        update(&mut m, key(KeyCode::Enter));
        assert!(!m.journal.searching);

        // Older pages by the cursor the last page gave, and back.
        assert!(
            update(&mut m, key(KeyCode::PageDown)).is_empty(),
            "no older page"
        );
        assert!(m.desk.notice.as_deref().unwrap_or("").contains("oldest"));
        // PgDn moves by the rows that show (24 rows: 15) within the rows read.
        let rows: Vec<TxnRow> = (0..40)
            .map(|i| {
                row(
                    &format!("L01-{i}"),
                    TxnKind::Trans(TransType::Sale),
                    TxnState::Approved,
                    100,
                )
            })
            .collect();
        m.desk.data.journal.page.rows = rows;
        assert!(update(&mut m, key(KeyCode::PageDown)).is_empty());
        assert_eq!(m.journal.selected, m.desk.list_rows());
        assert_eq!(m.desk.list_rows(), 15);
        update(&mut m, key(KeyCode::End));
        m.desk.data.journal.page.next = Some(500);
        assert_eq!(update(&mut m, key(KeyCode::PageDown)), vec![Effect::Search]);
        assert_eq!(journal::search(&m.journal, &m.desk).before, Some(500));
        assert_eq!(update(&mut m, key(KeyCode::PageUp)), vec![Effect::Search]);
        assert_eq!(journal::search(&m.journal, &m.desk).before, None);
        assert!(
            update(&mut m, key(KeyCode::PageUp)).is_empty(),
            "the newest"
        );
    }

    #[test]
    fn void_and_tip_lists_narrow_as_the_cashier_types() {
        let mut m = model();
        let sale = |no: &str, minor, card: &str| {
            let mut r = row(
                no,
                TxnKind::Trans(TransType::Sale),
                TxnState::Approved,
                minor,
            );
            r.reply.card = Some(card.into());
            r
        };
        m.desk.data.open_rows = vec![
            sale("L01-A-1125-000003", 4550, "411111******1111"),
            sale("L01-A-1125-000002", 1234, "555555******4444"),
            sale("L01-A-1125-000001", 999, "411111******1111"),
        ];
        update(&mut m, key(KeyCode::F(4)));
        assert_eq!(void::rows(&m.void, &m.desk).len(), 3);
        type_str(&mut m, "4444");
        let orders =
            |rows: Vec<&TxnRow>| rows.iter().map(|r| r.order_no.clone()).collect::<Vec<_>>();
        assert_eq!(
            orders(void::rows(&m.void, &m.desk)),
            ["L01-A-1125-000002"],
            "last four"
        );
        update(&mut m, key(KeyCode::Esc));
        assert_eq!(m.void.narrow.text, "", "Esc clears what was typed first");
        assert!(m.desk.modal.is_none());
        // The words every search reads: an amount with its point, a kind, a state.
        type_str(&mut m, "45.50");
        assert_eq!(
            orders(void::rows(&m.void, &m.desk)),
            ["L01-A-1125-000003"],
            "an amount"
        );
        update(&mut m, key(KeyCode::Esc));
        type_str(&mut m, "sale approved");
        assert_eq!(void::rows(&m.void, &m.desk).len(), 3);
        update(&mut m, key(KeyCode::Esc));
        // A term that reads no way matches nothing and says why.
        type_str(&mut m, "12.345");
        assert!(void::rows(&m.void, &m.desk).is_empty());
        assert!(
            m.desk
                .narrow_error(&m.void.narrow.text)
                .is_some_and(|e| e.contains("'12.345' is not understood"))
        );
        update(&mut m, key(KeyCode::Esc));
        type_str(&mut m, "0001");
        assert_eq!(
            orders(void::rows(&m.void, &m.desk)),
            ["L01-A-1125-000001"],
            "the order's end"
        );
        update(&mut m, key(KeyCode::Enter));
        assert!(
            matches!(&m.desk.modal, Some(Modal::Confirm { question, .. }) if question.contains("L01-A-1125-000001")),
            "{:?}",
            m.desk.modal
        );

        let mut m2 = model();
        m2.desk.data.open_rows = m.desk.data.open_rows.clone();
        update(&mut m2, key(KeyCode::F(5)));
        type_str(&mut m2, "12.34");
        assert_eq!(orders(tip::rows(&m2.tip, &m2.desk)), ["L01-A-1125-000002"]);
        update(&mut m2, key(KeyCode::Enter));
        assert!(m2.tip.editing, "Enter takes the one found");
    }

    #[test]
    fn refunds_and_completions_pick_their_original_from_a_list() {
        let mut m = model();
        update(&mut m, key(KeyCode::F(3)));
        // Typing asks for the candidates again; the journal answers with the list.
        assert_eq!(
            type_str(&mut m, "39"),
            vec![Effect::Candidates, Effect::Candidates]
        );
        let sale = |no: &str| row(no, TxnKind::Trans(TransType::Sale), TxnState::Approved, 500);
        update(
            &mut m,
            Msg::Candidates {
                refundable: vec![sale("L01-A-1125-000039"), sale("L01-A-1124-000039")],
                completable: vec![],
            },
        );
        assert_eq!(
            update(&mut m, key(KeyCode::Enter)),
            vec![Effect::Lookup("39".into())],
            "two match and none is picked: the text is looked up as typed"
        );
        update(&mut m, key(KeyCode::Down));
        update(&mut m, key(KeyCode::Down));
        assert_eq!(m.refund.picked, Some(1));
        update(&mut m, key(KeyCode::Up));
        update(&mut m, key(KeyCode::Up));
        assert_eq!(
            m.refund.picked, None,
            "up from the first goes back to the field"
        );
        update(&mut m, key(KeyCode::Down));
        update(&mut m, key(KeyCode::Down));
        assert_eq!(
            update(&mut m, key(KeyCode::Enter)),
            vec![Effect::Lookup("L01-A-1124-000039".into())]
        );
        assert_eq!(m.refund.orig.text, "L01-A-1124-000039");
        // The picked order is one whole: what is typed next replaces it, never joins it.
        type_str(&mut m, "41");
        assert_eq!(m.refund.orig.text, "41");

        // A completion takes the only open pre-auth left once something is typed.
        let mut m = model();
        update(&mut m, key(KeyCode::Tab));
        update(&mut m, key(KeyCode::Tab));
        update(&mut m, key(KeyCode::Tab));
        update(&mut m, key(KeyCode::Tab));
        assert_eq!(m.sale.focus, SaleField::Kind);
        update(&mut m, key(KeyCode::Right));
        let fx = update(&mut m, key(KeyCode::Right));
        assert_eq!(m.sale.kind, SaleKind::Completion);
        assert_eq!(fx, vec![Effect::Candidates]);
        let auth = row(
            "L01-A-1125-000007",
            TxnKind::Trans(TransType::PreAuth),
            TxnState::Approved,
            8000,
        );
        update(
            &mut m,
            Msg::Candidates {
                refundable: vec![],
                completable: vec![auth],
            },
        );
        m.sale.focus = SaleField::Orig;
        type_str(&mut m, "7");
        m.sale.focus = SaleField::Amount;
        type_str(&mut m, "8000");
        update(&mut m, key(KeyCode::Enter));
        assert!(
            matches!(&m.desk.modal, Some(Modal::Confirm { question, .. }) if question.contains("L01-A-1125-000007")),
            "{:?}",
            m.desk.modal
        );
    }

    #[test]
    fn ctrl_t_sends_a_screens_requests_through_the_cloud_when_one_is_configured() {
        let ctrl_t = || Msg::Key(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL));
        let mut m = model();
        update(&mut m, key(KeyCode::F(3)));
        update(&mut m, ctrl_t());
        assert_eq!(m.desk.route(), Route::Lan);
        assert!(
            m.desk
                .notice
                .as_deref()
                .unwrap_or("")
                .contains("no [cloud]")
        );

        m.desk.cloud = true;
        update(&mut m, ctrl_t());
        assert_eq!(m.desk.route(), Route::Cloud);
        // Another terminal's order: not in this journal, refunded through the cloud.
        type_str(&mut m, "X9-ELSEWHERE-1");
        let fx = update(&mut m, key(KeyCode::Enter));
        assert_eq!(fx, vec![Effect::Lookup("X9-ELSEWHERE-1".into())]);
        update(&mut m, Msg::Found(Box::new(Ok(None))));
        assert!(m.refund.elsewhere, "{:?}", m.refund.error);
        assert_eq!(m.refund.focus, RefundField::Amount);
        type_str(&mut m, "300");
        update(&mut m, key(KeyCode::Enter));
        assert!(
            matches!(m.desk.modal, Some(Modal::Confirm { .. })),
            "{:?}",
            m.desk.modal
        );
        let fx = update(&mut m, key(KeyCode::Char('y')));
        assert!(
            matches!(fx.as_slice(), [Effect::Pay(PayRequest::Refund { orig: Some(o), .. })] if o == "X9-ELSEWHERE-1"),
            "{fx:?}"
        );
        assert_eq!(
            m.desk.route(),
            Route::Cloud,
            "the refund goes through the cloud"
        );

        // The Sale screen never does.
        m.desk.flight = None;
        update(&mut m, key(KeyCode::F(2)));
        assert_eq!(m.desk.screen, ScreenId::Sale);
        assert_eq!(m.desk.route(), Route::Lan);
        update(&mut m, ctrl_t());
        assert!(m.desk.via_cloud, "Ctrl-T does nothing on the Sale screen");
    }

    #[test]
    fn a_down_link_can_be_told_to_try_now() {
        let mut m = model();
        update(&mut m, key(KeyCode::F(9)));
        assert!(
            update(&mut m, key(KeyCode::Char('r'))).is_empty(),
            "up: nothing to do"
        );
        m.desk.link.up = false;
        assert_eq!(
            update(&mut m, key(KeyCode::Char('r'))),
            vec![Effect::Reconnect]
        );
    }

    #[test]
    fn settings_pairing_asks_y_or_n_and_an_accepted_terminal_becomes_the_url_and_the_lane_moves() {
        use crate::tui::msg::PairNews;
        let mut m = model();
        m.settings.fields = vec![
            Setting::text("url", "192.168.1.20", 200),
            Setting::text("lane", "L01", 8),
        ];
        m.settings.focus = 1;
        update(&mut m, key(KeyCode::F(10)));
        let ctrl_p = || Msg::Key(KeyEvent::new(KeyCode::Char('p'), KeyModifiers::CONTROL));
        assert_eq!(update(&mut m, ctrl_p()), vec![Effect::StartPairing]);
        assert_eq!(m.settings.pairing, Pairing::Waiting { at: None });
        let at = "ws://127.0.0.1:4000".to_string();
        update(&mut m, Msg::Pair(PairNews::Waiting { at: at.clone() }));
        // Keys other than Esc, y and n do nothing while pairing; y before anyone asks
        // answers nothing.
        assert!(type_str(&mut m, "xy").is_empty());
        assert_eq!(m.settings.fields[1].saved(), Saved::Text("L01".into()));

        let asks = |name: &str| {
            Msg::Pair(PairNews::Asks {
                name: name.into(),
                address: "ws://10.0.0.7:35779".into(),
            })
        };
        update(&mut m, asks("Back office"));
        assert_eq!(
            update(&mut m, key(KeyCode::Char('n'))),
            vec![Effect::AnswerPair(false)]
        );
        assert_eq!(
            m.settings.pairing,
            Pairing::Waiting {
                at: Some(at.clone())
            }
        );
        update(
            &mut m,
            Msg::Pair(PairNews::Refused {
                name: "Back office".into(),
            }),
        );
        assert!(
            m.settings
                .message
                .as_deref()
                .unwrap_or("")
                .contains("refused Back office")
        );

        update(&mut m, asks("Front desk"));
        assert_eq!(
            update(&mut m, key(KeyCode::Char('y'))),
            vec![Effect::AnswerPair(true)]
        );
        assert!(
            update(&mut m, key(KeyCode::Esc)).is_empty(),
            "not stopped while it is saved and told"
        );
        let paired = PairNews::Paired {
            name: "Front desk".into(),
            url: "sn:SNB2".into(),
            told: true,
        };
        let fx = update(&mut m, Msg::Pair(paired));
        let moved = crate::lane::Target::parse("sn:SNB2").expect("a target");
        assert_eq!(fx, vec![Effect::Retarget(moved)]);
        assert_eq!(m.settings.pairing, Pairing::Off);
        assert_eq!(m.settings.fields[0].saved(), Saved::Text("sn:SNB2".into()));
        assert!(
            !m.settings.fields[0].changed(),
            "saved by the pairing: not an unsaved edit"
        );
        assert_eq!(m.settings.focus, 0);

        // Esc stops a wait; a word the stopped server sent before is ignored; so does
        // leaving the screen.
        update(&mut m, ctrl_p());
        assert_eq!(update(&mut m, key(KeyCode::Esc)), vec![Effect::StopPairing]);
        assert!(update(&mut m, asks("Late")).is_empty());
        assert_eq!(m.settings.pairing, Pairing::Off);
        update(&mut m, ctrl_p());
        assert_eq!(
            update(&mut m, key(KeyCode::F(2))),
            vec![Effect::StopPairing]
        );
        assert_eq!(m.settings.pairing, Pairing::Off);

        // No pairing in the demo: nothing it pairs with would be kept.
        update(&mut m, key(KeyCode::F(10)));
        m.desk.demo = true;
        assert!(update(&mut m, ctrl_p()).is_empty());
        assert_eq!(m.settings.pairing, Pairing::Off);
    }

    #[test]
    fn voids_and_overrides_ask_for_the_supervisors_pin_when_one_is_set() {
        use crate::supervisor_pin::tries::Checked;
        let mut m = model();
        m.desk.supervisor.pin = Some(crate::supervisor_pin::hash_pin("2468").expect("hash"));
        let void = PayRequest::Void {
            orig: "L01-1".into(),
            options: SaleOptions::default(),
        };
        assert!(start(&mut m.desk, void.clone()).is_empty());
        assert!(matches!(m.desk.modal, Some(Modal::Pin { .. })));
        // The PIN typed goes to be checked and counted; Enter waits for the answer.
        let typed = |pin: &str| {
            vec![Effect::CheckPin(crate::supervisor_pin::TypedPin(
                pin.into(),
            ))]
        };
        type_str(&mut m, "1111");
        assert_eq!(update(&mut m, key(KeyCode::Enter)), typed("1111"));
        type_str(&mut m, "2468");
        assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
        let wrong = Checked::Wrong {
            lock: None,
            left: 4,
        };
        assert!(update(&mut m, Msg::PinChecked(Ok(wrong))).is_empty());
        assert!(matches!(&m.desk.modal, Some(Modal::Pin { pin, .. }) if pin.text.is_empty()));
        // It was counted: the dialog says how many wrong ones are left.
        assert!(
            matches!(&m.desk.modal, Some(Modal::Pin { error: Some(e), checking: false, .. })
                if e == "wrong PIN: 4 more wrong and PIN entry locks for 5 minutes"),
            "{:?}",
            m.desk.modal
        );
        // The fifth wrong one locked PIN entry: while it lasts not even the right PIN
        // goes to be checked, nor is typed.
        let until = chrono::Utc::now() + chrono::TimeDelta::hours(1);
        type_str(&mut m, "1111");
        assert_eq!(update(&mut m, key(KeyCode::Enter)), typed("1111"));
        let locking = Checked::Wrong {
            lock: Some(until),
            left: 0,
        };
        update(&mut m, Msg::PinChecked(Ok(locking)));
        let says_locked = |m: &Model| {
            matches!(&m.desk.modal, Some(Modal::Pin { error: Some(e), .. })
                if e.starts_with("5 wrong PINs in a row: locked until"))
        };
        assert!(says_locked(&m), "{:?}", m.desk.modal);
        type_str(&mut m, "2468");
        assert!(
            matches!(&m.desk.modal, Some(Modal::Pin { pin, .. }) if pin.text.is_empty()),
            "no digit taken while locked"
        );
        assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
        assert!(says_locked(&m), "{:?}", m.desk.modal);
        // A dialog opened while locked says so at once.
        update(&mut m, key(KeyCode::Esc));
        assert!(start(&mut m.desk, void.clone()).is_empty());
        assert!(says_locked(&m), "{:?}", m.desk.modal);
        // A lock another process set, found when checking, says the same.
        m.desk.pin_locked_until = None;
        update(&mut m, key(KeyCode::Esc));
        assert!(start(&mut m.desk, void.clone()).is_empty());
        type_str(&mut m, "2468");
        assert_eq!(update(&mut m, key(KeyCode::Enter)), typed("2468"));
        update(&mut m, Msg::PinChecked(Ok(Checked::Locked(until))));
        assert!(says_locked(&m), "{:?}", m.desk.modal);
        // Once it has ended, the right PIN lets the void go ahead.
        m.desk.pin_locked_until = Some(chrono::Utc::now() - chrono::TimeDelta::seconds(1));
        type_str(&mut m, "2468");
        assert_eq!(update(&mut m, key(KeyCode::Enter)), typed("2468"));
        assert_eq!(
            update(&mut m, Msg::PinChecked(Ok(Checked::Right))),
            vec![Effect::PaySupervised(void.clone())]
        );
        // A PIN that cannot be counted is not taken; an answer after Esc does nothing.
        assert!(start(&mut m.desk, void.clone()).is_empty());
        type_str(&mut m, "2468");
        update(&mut m, key(KeyCode::Enter));
        update(&mut m, Msg::PinChecked(Err("read-only".into())));
        assert!(
            matches!(&m.desk.modal, Some(Modal::Pin { error: Some(e), .. }) if e.contains("cannot be checked")),
            "{:?}",
            m.desk.modal
        );
        type_str(&mut m, "2468");
        update(&mut m, key(KeyCode::Enter));
        update(&mut m, key(KeyCode::Esc));
        assert!(update(&mut m, Msg::PinChecked(Ok(Checked::Right))).is_empty());
        // A sale never asks.
        let mut m = model();
        m.desk.supervisor.pin = Some(crate::supervisor_pin::hash_pin("2468").expect("hash"));
        type_str(&mut m, "100");
        let fx = update(&mut m, key(KeyCode::Enter));
        assert!(matches!(fx.first(), Some(Effect::Pay(_))), "{fx:?}");
        // An override: the note says the PIN was given.
        let mut m = model();
        m.desk.supervisor.pin = Some(crate::supervisor_pin::hash_pin("2468").expect("hash"));
        m.desk.modal = Some(Modal::Override {
            order_no: "L01-9".into(),
            approve: false,
            note: TextField::with_max(200),
        });
        type_str(&mut m, "no receipt");
        update(&mut m, key(KeyCode::Enter));
        type_str(&mut m, "2468");
        assert_eq!(update(&mut m, key(KeyCode::Enter)), typed("2468"));
        let fx = update(&mut m, Msg::PinChecked(Ok(Checked::Right)));
        assert!(
            matches!(fx.as_slice(), [Effect::Resolve { note, .. }] if note == "no receipt (supervisor PIN given)"),
            "{fx:?}"
        );
    }

    #[test]
    fn validation_stays_next_to_the_field() {
        let mut m = model();
        assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
        assert!(m.sale.error.as_deref().unwrap().contains("enter an amount"));
        type_str(&mut m, "a");
        assert!(
            m.sale
                .error
                .as_deref()
                .unwrap()
                .contains("amounts take digits")
        );
        update(&mut m, key(KeyCode::Char('7')));
        update(
            &mut m,
            Msg::Lane(Event::Unresolved {
                orders: vec![],
                by_query: vec![],
            }),
        );
        let fx = update(&mut m, key(KeyCode::Enter));
        assert_eq!(fx.len(), 1);
        update(&mut m, Msg::Paid(Err(Refusal::NotConnected)));
        assert!(m.desk.flight.is_none());
        assert_eq!(
            m.sale.error.as_deref(),
            Some("the terminal is not connected")
        );
    }

    #[test]
    fn a_possible_duplicate_asks_and_then_forces() {
        let mut m = model();
        type_str(&mut m, "500");
        update(&mut m, key(KeyCode::Enter));
        update(
            &mut m,
            Msg::Paid(Err(Refusal::PossibleDuplicate {
                amount: "5.00".into(),
                order_no: "L01-1".into(),
                ago_secs: 3,
            })),
        );
        assert!(matches!(m.desk.modal, Some(Modal::Confirm { .. })));
        let fx = update(&mut m, key(KeyCode::Char('y')));
        assert!(
            matches!(
                fx.as_slice(),
                [Effect::Pay(PayRequest::Sale { force: true, .. })]
            ),
            "{fx:?}"
        );
    }

    #[test]
    fn function_keys_and_the_esc_menu_reach_every_screen() {
        let mut m = model();
        for s in ScreenId::ALL {
            update(&mut m, key(KeyCode::F(s.f_key())));
            assert_eq!(m.desk.screen, s);
            update(&mut m, key(KeyCode::F(2)));
            update(&mut m, key(KeyCode::Esc));
            assert!(matches!(m.desk.modal, Some(Modal::Menu)));
            update(&mut m, key(KeyCode::Char(s.letter())));
            assert_eq!(m.desk.screen, s, "letter {}", s.letter());
            assert!(m.desk.modal.is_none());
            update(&mut m, key(KeyCode::F(2)));
        }
        update(&mut m, key(KeyCode::Esc));
        assert_eq!(update(&mut m, key(KeyCode::Char('x'))), vec![Effect::Quit]);
    }

    #[test]
    fn esc_and_a_letter_arriving_together_still_pick_the_screen() {
        let mut m = model();
        update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::ALT)),
        );
        assert_eq!(m.desk.screen, ScreenId::Journal);
        assert!(m.desk.modal.is_none());
    }

    #[test]
    fn ctrl_c_asks_first_while_a_payment_is_in_flight() {
        let mut m = model();
        let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        type_str(&mut m, "100");
        update(&mut m, key(KeyCode::Enter));
        assert!(update(&mut m, ctrl_c).is_empty());
        assert!(matches!(
            m.desk.modal,
            Some(Modal::Confirm {
                then: Confirmed::Quit,
                ..
            })
        ));
        assert_eq!(update(&mut m, key(KeyCode::Char('y'))), vec![Effect::Quit]);
        let mut idle = model();
        let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        assert_eq!(update(&mut idle, ctrl_c), vec![Effect::Quit]);
    }

    #[test]
    fn refunds_look_up_the_original_and_respect_what_is_left() {
        let mut m = model();
        update(&mut m, key(KeyCode::F(3)));
        type_str(&mut m, "l01-1");
        assert_eq!(m.refund.orig.text, "L01-1");
        assert_eq!(
            update(&mut m, key(KeyCode::Enter)),
            vec![Effect::Lookup("L01-1".into())]
        );
        let orig = row(
            "L01-1",
            TxnKind::Trans(TransType::Sale),
            TxnState::Approved,
            1000,
        );
        update(
            &mut m,
            Msg::Found(Box::new(Ok(Some((
                orig,
                Some(Money::from_minor(600, 2).expect("amount")),
            ))))),
        );
        assert_eq!(m.refund.focus, RefundField::Amount);
        assert_eq!(
            m.refund.amount.display(2),
            "6.00",
            "all that is left, by default"
        );
        update(&mut m, key(KeyCode::Delete));
        type_str(&mut m, "700");
        assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
        assert!(m.refund.error.as_deref().unwrap().contains("at most 6.00"));
        update(&mut m, key(KeyCode::Delete));
        type_str(&mut m, "250");
        update(&mut m, key(KeyCode::Enter));
        assert!(
            matches!(m.desk.modal, Some(Modal::Confirm { .. })),
            "money-moving actions confirm"
        );
        let fx = update(&mut m, key(KeyCode::Char('y')));
        assert!(matches!(
            fx.as_slice(),
            [Effect::Pay(PayRequest::Refund { orig: Some(_), .. })]
        ));
        // Not found is said in words.
        let mut m = model();
        update(&mut m, key(KeyCode::F(3)));
        type_str(&mut m, "X9");
        update(&mut m, Msg::Found(Box::new(Ok(None))));
        assert!(
            m.refund
                .error
                .as_deref()
                .unwrap()
                .contains("not in the journal")
        );
    }

    #[test]
    fn void_tip_and_override_flows() {
        let mut m = model();
        let sale = row(
            "L01-1",
            TxnKind::Trans(TransType::Sale),
            TxnState::Approved,
            1000,
        );
        let mut unknown = row(
            "L01-2",
            TxnKind::Trans(TransType::Sale),
            TxnState::Unknown,
            300,
        );
        unknown.id = 2;
        m.desk.data.open_rows = vec![unknown, sale];
        m.desk.data.journal.page.rows = m.desk.data.open_rows.clone();
        update(&mut m, key(KeyCode::F(4)));
        update(&mut m, key(KeyCode::Enter));
        let fx = update(&mut m, key(KeyCode::Char('y')));
        assert_eq!(
            fx,
            vec![Effect::Pay(PayRequest::Void {
                orig: "L01-1".into(),
                options: SaleOptions::default(),
            })]
        );
        update(&mut m, Msg::Paid(Err(Refusal::ShuttingDown)));

        update(&mut m, key(KeyCode::F(5)));
        update(&mut m, key(KeyCode::Enter));
        assert!(m.tip.editing);
        type_str(&mut m, "250");
        update(&mut m, key(KeyCode::Enter));
        let fx = update(&mut m, key(KeyCode::Char('y')));
        assert!(
            matches!(fx.as_slice(), [Effect::Pay(PayRequest::TipAdjust { tip, .. })] if tip.minor() == 250)
        );
        update(&mut m, Msg::Paid(Err(Refusal::ShuttingDown)));

        update(&mut m, key(KeyCode::F(8)));
        assert_eq!(journal::rows(&m.desk)[0].order_no, "L01-2");
        assert_eq!(
            update(&mut m, key(KeyCode::Enter)),
            vec![Effect::LoadAudit("L01-2".into())]
        );
        assert!(m.journal.detail);
        update(&mut m, key(KeyCode::Esc));
        assert!(
            !m.journal.detail && m.desk.modal.is_none(),
            "Esc leaves the detail first"
        );
        update(&mut m, key(KeyCode::Char('x')));
        assert!(matches!(
            m.desk.modal,
            Some(Modal::Override { approve: false, .. })
        ));
        assert!(
            update(&mut m, key(KeyCode::Enter)).is_empty(),
            "a note is required"
        );
        type_str(&mut m, "no receipt");
        let fx = update(&mut m, key(KeyCode::Enter));
        assert_eq!(
            fx,
            vec![Effect::Resolve {
                order_no: "L01-2".into(),
                to: TxnState::Declined,
                note: "no receipt".into()
            }]
        );
    }

    #[test]
    fn query_starts_from_the_newest_order_and_demo_settings_stay_unsaved() {
        let mut m = model();
        m.desk.data.open_rows = vec![row(
            "L01-9",
            TxnKind::Trans(TransType::Sale),
            TxnState::Approved,
            100,
        )];
        update(&mut m, key(KeyCode::F(6)));
        assert_eq!(m.query.order.text, "L01-9");
        assert_eq!(
            update(&mut m, key(KeyCode::Enter)),
            vec![Effect::Query("L01-9".into())]
        );

        let mut demo = Model::new("L01", "USD", 2, "127.0.0.1:1", true);
        demo.settings.fields = vec![Setting::text("lane", "", 8)];
        update(&mut demo, key(KeyCode::F(10)));
        assert!(update(&mut demo, key(KeyCode::Enter)).is_empty());
        assert!(
            demo.settings
                .message
                .as_deref()
                .unwrap()
                .contains("not saved")
        );
        let mut real = model();
        real.settings.fields = vec![Setting::text("lane", "L01", 8)];
        update(&mut real, key(KeyCode::F(10)));
        update(
            &mut real,
            Msg::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)),
        );
        type_str(&mut real, "L02");
        assert_eq!(
            update(&mut real, key(KeyCode::Enter)),
            vec![Effect::SaveSettings(vec![(
                "lane",
                Saved::Text("L02".into())
            )])]
        );
    }

    #[test]
    fn order_numbers_too_long_or_odd_are_refused_in_words() {
        let mut m = model();
        update(&mut m, key(KeyCode::F(6)));
        type_str(&mut m, &"A".repeat(40));
        assert_eq!(m.query.order.text.len(), 32);
        assert_eq!(m.query.error.as_deref(), Some(ORDER_FULL));
        let mut m = model();
        update(&mut m, key(KeyCode::F(6)));
        type_str(&mut m, "L01 9");
        assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
        assert!(
            m.query
                .error
                .as_deref()
                .unwrap_or("")
                .contains("not an order number")
        );
    }

    #[test]
    fn an_unknown_outcome_can_be_left_to_resolve_in_the_background() {
        let mut m = model();
        type_str(&mut m, "900");
        update(&mut m, key(KeyCode::Enter));
        update(&mut m, Msg::Paid(Ok("L01-7".into())));
        assert!(
            update(&mut m, key(KeyCode::Enter)).is_empty(),
            "not while the terminal works"
        );
        update(
            &mut m,
            Msg::Lane(Event::Progress {
                order_no: "L01-7".into(),
                step: Step::Unknown {
                    why: "link lost".into(),
                },
            }),
        );
        assert_eq!(
            update(&mut m, key(KeyCode::Enter)),
            vec![Effect::ShowRow("L01-7".into())]
        );
        assert!(m.desk.flight.is_none());
        let row = row(
            "L01-7",
            TxnKind::Trans(TransType::Sale),
            TxnState::Unknown,
            900,
        );
        update(&mut m, Msg::Row(Box::new(Some(row.clone()))));
        assert_eq!(m.desk.result.as_ref().unwrap().state, TxnState::Unknown);
        let resolved = TxnRow {
            state: TxnState::Approved,
            ..row
        };
        update(
            &mut m,
            Msg::Lane(Event::Done {
                row: Box::new(resolved),
                reply: None,
            }),
        );
        assert_eq!(
            m.desk.result.as_ref().unwrap().state,
            TxnState::Approved,
            "the screen catches up"
        );
    }

    #[test]
    fn a_hangup_quits_through_the_lane() {
        let mut m = model();
        assert_eq!(update(&mut m, Msg::Hangup), vec![Effect::Quit]);
        assert!(m.desk.hangup);
    }
}
