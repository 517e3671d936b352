//! `update(&mut Model, Msg) -> Vec<Effect>`: the only place the model changes. No I/O
//! here; the app loop runs the effects.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::model::*;
use crate::ecr::{PayScenario, TransType};
use crate::journal::{TxnRow, TxnState};
use crate::lane::{Event, PayRequest, QueryResult, Refusal, SaleOptions};
use crate::link::{Answer, LinkEvent, LinkState};
use crate::money::Money;

/// An original order and what of it can still be refunded.
pub type Refundable = (TxnRow, Option<Money>);

/// What a cashier reads when an order number field is full.
const ORDER_FULL: &str = "order numbers have at most 32 characters";

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Lane(Event),
    /// The lane's answer to `Effect::Pay`: the order number, or why not.
    Paid(Result<String, Refusal>),
    Queried(Box<Result<QueryResult, Refusal>>),
    Closed(Result<Answer, Refusal>),
    RawSent(Result<Option<Answer>, Refusal>),
    Resolved(Result<TxnRow, Refusal>),
    /// The original of a refund looked up in the journal, with what is refundable.
    Found(Box<Result<Option<Refundable>, String>>),
    Data(Box<JournalData>),
    /// The audit trail of the row in detail.
    Audit(Vec<crate::journal::AuditRow>),
    /// A row to show as the result.
    Row(Box<Option<TxnRow>>),
    Notice(String),
    /// Once a second while something shows elapsed time.
    Tick,
    /// SIGHUP or SIGTERM: the session is gone.
    Hangup,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    Pay(PayRequest),
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
    SaveSettings(Vec<(String, String)>),
    Quit,
}

pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) if key.kind == KeyEventKind::Release => vec![],
        Msg::Key(key) => on_key(m, key),
        Msg::Lane(event) => on_lane(m, event),
        Msg::Paid(Ok(order_no)) => {
            if let Some(f) = &mut m.flight {
                f.order_no = Some(order_no);
            }
            vec![]
        }
        Msg::Paid(Err(refusal)) => on_refused(m, refusal),
        Msg::Queried(result) => {
            m.query.asking = false;
            match *result {
                Ok(r) => {
                    m.query.result = Some(r);
                    m.query.error = None;
                }
                Err(e) => m.query.error = Some(e.to_string()),
            }
            vec![Effect::Refresh]
        }
        Msg::Closed(result) => {
            let text = match result {
                Ok(a) => format!("cancel request: terminal answered {}", a.outcome),
                Err(e) => format!("cancel request failed: {e}"),
            };
            if let Some(f) = &mut m.flight {
                f.progress.push(text);
            } else {
                m.notice = Some(text);
            }
            vec![]
        }
        Msg::RawSent(result) => {
            m.diag.console_result = Some(match result {
                Ok(Some(a)) => format!("answer: {} ({})", a.outcome, a.why),
                Ok(None) => "sent (no request_id: replies show in the wire log)".into(),
                Err(e) => format!("not sent: {e}"),
            });
            vec![]
        }
        Msg::Resolved(result) => {
            m.notice = Some(match result {
                Ok(row) => format!("{} marked {} by override", row.order_no, row.state.name()),
                Err(e) => format!("override refused: {e}"),
            });
            vec![Effect::Refresh]
        }
        Msg::Found(result) => {
            match *result {
                Ok(Some(found)) => {
                    m.refund.error = None;
                    // Refund all by default; the cashier can type a smaller amount.
                    if let Some(left) = found.1.filter(|l| !l.is_zero()) {
                        m.refund.amount.digits = left.minor().to_string();
                    }
                    m.refund.found = Some(found);
                    m.refund.focus = RefundField::Amount;
                }
                Ok(None) => {
                    m.refund.found = None;
                    m.refund.error = Some(format!(
                        "order {} is not in the journal",
                        m.refund.orig.text
                    ));
                }
                Err(e) => m.refund.error = Some(e),
            }
            vec![]
        }
        Msg::Audit(rows) => {
            m.journal.audit = rows;
            vec![]
        }
        Msg::Row(row) => {
            m.result = *row;
            vec![]
        }
        Msg::Data(data) => {
            m.data = *data;
            clamp_selections(m);
            vec![]
        }
        Msg::Notice(text) => {
            m.notice = Some(text);
            vec![]
        }
        Msg::Tick => vec![],
        Msg::Hangup => {
            m.hangup = true;
            vec![Effect::Quit]
        }
    }
}

fn clamp_selections(m: &mut Model) {
    let clamp = |sel: &mut usize, len: usize| *sel = (*sel).min(len.saturating_sub(1));
    let (v, t, j) = (
        m.voidable().len(),
        m.tippable().len(),
        m.journal_rows().len(),
    );
    clamp(&mut m.void.selected, v);
    clamp(&mut m.tip.pick.selected, t);
    clamp(&mut m.journal.selected, j);
}

fn on_refused(m: &mut Model, refusal: Refusal) -> Vec<Effect> {
    let request = m.flight.take().map(|f| f.request);
    if let (Refusal::PossibleDuplicate { .. }, Some(PayRequest::Sale { .. })) = (&refusal, &request)
    {
        if let Some(PayRequest::Sale {
            amount,
            tip,
            cashback,
            scenario,
            options,
            ..
        }) = request
        {
            m.modal = Some(Modal::Confirm {
                question: format!("{refusal}. Charge again?"),
                then: Confirmed::Pay(PayRequest::Sale {
                    amount,
                    tip,
                    cashback,
                    scenario,
                    force: true,
                    options,
                }),
            });
        }
        return vec![];
    }
    let text = refusal.to_string();
    match m.screen {
        ScreenId::Sale => m.sale.error = Some(text),
        ScreenId::Refund => m.refund.error = Some(text),
        ScreenId::Void => m.void.error = Some(text),
        ScreenId::Tip => m.tip.pick.error = Some(text),
        ScreenId::Batch => m.batch.last_close = Some(text),
        _ => m.notice = Some(text),
    }
    vec![]
}

fn on_lane(m: &mut Model, event: Event) -> Vec<Effect> {
    match event {
        Event::Link(link) => on_link(m, link),
        Event::Sent { order_no, .. } => {
            if let Some(f) = &mut m.flight {
                f.order_no = Some(order_no);
            }
            vec![]
        }
        Event::Progress { order_no, message } => {
            match &mut m.flight {
                Some(f) if f.order_no.as_deref() == Some(&order_no) => {
                    f.unknown |= message.contains("outcome unknown");
                    f.progress.push(message);
                }
                _ => m.notice = Some(format!("{order_no}: {message}")),
            }
            vec![]
        }
        Event::Done { row, .. } => {
            let mine = m
                .flight
                .as_ref()
                .is_some_and(|f| f.order_no.as_deref() == Some(&row.order_no));
            let showing = m
                .result
                .as_ref()
                .is_some_and(|r| r.order_no == row.order_no);
            if mine {
                m.flight = None;
                clear_form(m);
                m.result = Some(*row);
            } else if showing {
                // The UNKNOWN on screen just became definite.
                m.result = Some(*row);
            } else {
                m.notice = Some(format!(
                    "{} {} resolved: {}",
                    row.kind.name(),
                    row.order_no,
                    row.state.name().to_uppercase()
                ));
            }
            vec![Effect::Refresh]
        }
        Event::BatchClosed { report } => {
            m.batch.last_close = Some(format!(
                "batch {} closed: net {}",
                report.batch,
                crate::money::format_minor(report.net_minor, m.exponent)
            ));
            vec![Effect::Refresh]
        }
        Event::Unresolved { orders, .. } => {
            m.unresolved = orders;
            vec![]
        }
        Event::Stopped => {
            m.quit = true;
            vec![]
        }
    }
}

fn on_link(m: &mut Model, event: LinkEvent) -> Vec<Effect> {
    let now = chrono::Local::now();
    match event {
        LinkEvent::State(state) => {
            let (text, up) = match &state {
                LinkState::Connecting { attempt } => {
                    (format!("connecting (attempt {attempt})"), false)
                }
                LinkState::Connected => ("connected".to_string(), true),
                LinkState::Down { reason, retry_in } => (
                    format!("down: {reason}; retry in {:.1}s", retry_in.as_secs_f32()),
                    false,
                ),
                LinkState::Closed => ("closed".to_string(), false),
            };
            if up {
                if m.link.connected_once {
                    m.link.reconnects += 1;
                }
                m.link.connected_once = true;
            }
            m.link.up = up;
            m.link.state = if up { "connected".into() } else { text.clone() };
            push_capped(
                &mut m.link.history,
                format!("{} {text}", now.format("%H:%M:%S")),
                50,
            );
        }
        LinkEvent::Device(device) => m.link.device = device,
        LinkEvent::Heartbeat { rtt } => {
            let us = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX);
            push_capped(&mut m.link.rtts_us, us, RTT_SAMPLES);
        }
        LinkEvent::Wire { dir, text } => {
            push_capped(&mut m.wire, WireLine { at: now, dir, text }, WIRE_LOG_LINES)
        }
        LinkEvent::Malformed { error, .. } => push_capped(
            &mut m.link.history,
            format!(
                "{} dropped a malformed frame: {error}",
                now.format("%H:%M:%S")
            ),
            50,
        ),
        LinkEvent::Stray { why, .. } => push_capped(
            &mut m.link.history,
            format!("{} stray reply: {why}", now.format("%H:%M:%S")),
            50,
        ),
        LinkEvent::Answer(_) => {}
    }
    vec![]
}

fn push_capped<T>(q: &mut std::collections::VecDeque<T>, item: T, cap: usize) {
    if q.len() >= cap {
        q.pop_front();
    }
    q.push_back(item);
}

/// After a final answer, the form that started it is ready for the next one.
fn clear_form(m: &mut Model) {
    match m.screen {
        ScreenId::Sale => {
            let kind = m.sale.kind;
            m.sale = SaleForm {
                kind,
                orig: TextField::with_max(crate::journal::ORDER_NO_MAX),
                ..SaleForm::default()
            }
        }
        ScreenId::Refund => {
            m.refund = RefundForm {
                orig: TextField::with_max(crate::journal::ORDER_NO_MAX),
                ..RefundForm::default()
            }
        }
        ScreenId::Tip => m.tip = TipForm::default(),
        _ => {}
    }
}

fn ctrl(key: &KeyEvent, c: char) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
}

fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if ctrl(&key, 'c') {
        if m.flight.is_some() {
            m.modal = Some(Modal::Confirm {
                question: "A payment is in progress. Quit when the terminal has answered?".into(),
                then: Confirmed::Quit,
            });
            return vec![];
        }
        return vec![Effect::Quit];
    }
    if m.modal.is_some() {
        return on_modal_key(m, key);
    }
    if m.flight.is_some() {
        // The overlay owns the keyboard until the final answer, except that an outcome
        // gone unknown may be left to resolve in the background (the lane keeps asking
        // and refuses new money until it knows).
        let unknown = m
            .flight
            .as_ref()
            .filter(|f| f.unknown)
            .and_then(|f| f.order_no.clone());
        if let (KeyCode::Enter, Some(order_no)) = (key.code, unknown) {
            m.flight = None;
            clear_form(m);
            m.notice = Some(format!(
                "{order_no}: outcome unknown; still asking the terminal"
            ));
            return vec![Effect::ShowRow(order_no)];
        }
        if key.code == KeyCode::Esc {
            let f = m.flight.as_ref();
            if f.is_some_and(|f| f.order_no.is_some() && !f.cancel_asked) {
                m.modal = Some(Modal::Confirm {
                    question:
                        "Ask the terminal to cancel this payment? (the terminal still decides)"
                            .into(),
                    then: Confirmed::CancelOnTerminal,
                });
            }
        }
        return vec![];
    }
    if m.result.take().is_some() {
        // Any key dismisses the result; a digit also starts the next amount.
        if !matches!(key.code, KeyCode::Char(c) if c.is_ascii_digit()) || m.screen != ScreenId::Sale
        {
            return vec![];
        }
    }
    m.notice = None;
    // Esc and a letter that arrive together (a fast typist, a laggy SSH link) reach
    // us as Alt+letter: it means the same as the two keys apart.
    if key.modifiers.contains(KeyModifiers::ALT)
        && let KeyCode::Char(c) = key.code
    {
        m.modal = Some(Modal::Menu);
        return on_modal_key(m, KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    if let KeyCode::F(n) = key.code
        && let Some(screen) = ScreenId::ALL.get(usize::from(n).wrapping_sub(1))
    {
        return switch(m, *screen);
    }
    match m.screen {
        ScreenId::Sale => sale_key(m, key),
        ScreenId::Refund => refund_key(m, key),
        ScreenId::Void => void_key(m, key),
        ScreenId::Tip => tip_key(m, key),
        ScreenId::Query => query_key(m, key),
        ScreenId::Batch => batch_key(m, key),
        ScreenId::Journal => journal_key(m, key),
        ScreenId::Diagnostics => diag_key(m, key),
        ScreenId::Settings => settings_key(m, key),
        ScreenId::Help => top_level(m, key),
    }
}

/// Keys every screen shares at its top level: Esc opens the menu.
fn top_level(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if key.code == KeyCode::Esc {
        m.modal = Some(Modal::Menu);
    }
    vec![]
}

pub fn switch(m: &mut Model, screen: ScreenId) -> Vec<Effect> {
    m.screen = screen;
    m.modal = None;
    if screen == ScreenId::Query && m.query.order.text.is_empty() {
        // The order asked about is most often the one just made.
        if let Some(newest) = m.data.open_rows.first() {
            m.query.order.text = newest.order_no.clone();
        }
    }
    match screen {
        ScreenId::Void | ScreenId::Tip | ScreenId::Batch | ScreenId::Journal | ScreenId::Refund => {
            vec![Effect::Refresh]
        }
        _ => vec![],
    }
}

fn on_modal_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let Some(modal) = m.modal.take() else {
        return vec![];
    };
    match modal {
        Modal::Menu => match key.code {
            KeyCode::Char(c) => {
                let c = c.to_ascii_lowercase();
                if c == 'x' {
                    return on_key(m, KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
                }
                match ScreenId::ALL.iter().find(|s| s.letter() == c) {
                    Some(screen) => switch(m, *screen),
                    None => {
                        m.modal = Some(Modal::Menu);
                        vec![]
                    }
                }
            }
            KeyCode::F(_) => on_key(m, key),
            _ => vec![],
        },
        Modal::Confirm { question, then } => match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => confirmed(m, then),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => vec![],
            _ => {
                m.modal = Some(Modal::Confirm { question, then });
                vec![]
            }
        },
        Modal::Override {
            order_no,
            approve,
            mut note,
        } => match key.code {
            KeyCode::Esc => vec![],
            KeyCode::Enter if !note.text.trim().is_empty() => vec![Effect::Resolve {
                order_no,
                to: if approve {
                    TxnState::Approved
                } else {
                    TxnState::Declined
                },
                note: note.text,
            }],
            KeyCode::Backspace => {
                note.pop();
                m.modal = Some(Modal::Override {
                    order_no,
                    approve,
                    note,
                });
                vec![]
            }
            KeyCode::Char(c) => {
                note.push(c);
                m.modal = Some(Modal::Override {
                    order_no,
                    approve,
                    note,
                });
                vec![]
            }
            _ => {
                m.modal = Some(Modal::Override {
                    order_no,
                    approve,
                    note,
                });
                vec![]
            }
        },
    }
}

fn confirmed(m: &mut Model, then: Confirmed) -> Vec<Effect> {
    match then {
        Confirmed::Pay(req) => start(m, req),
        Confirmed::CancelOnTerminal => match &mut m.flight {
            Some(f) => {
                f.cancel_asked = true;
                f.progress.push("asked the terminal to cancel".into());
                f.order_no.clone().map(Effect::Close).into_iter().collect()
            }
            None => vec![],
        },
        Confirmed::Quit => vec![Effect::Quit],
    }
}

/// Hands a money-moving request to the lane; the overlay stays up until its end.
fn start(m: &mut Model, req: PayRequest) -> Vec<Effect> {
    m.flight = Some(Flight {
        request: req.clone(),
        order_no: None,
        started: std::time::Instant::now(),
        progress: Vec::new(),
        cancel_asked: false,
        unknown: false,
    });
    m.result = None;
    vec![Effect::Pay(req)]
}

fn confirm(m: &mut Model, question: String, req: PayRequest) -> Vec<Effect> {
    m.modal = Some(Modal::Confirm {
        question,
        then: Confirmed::Pay(req),
    });
    vec![]
}

fn move_sel(sel: &mut usize, len: usize, key: KeyCode) -> bool {
    let last = len.saturating_sub(1);
    *sel = match key {
        KeyCode::Up => sel.saturating_sub(1),
        KeyCode::Down => (*sel + 1).min(last),
        KeyCode::PageUp => sel.saturating_sub(10),
        KeyCode::PageDown => (*sel + 10).min(last),
        KeyCode::Home => 0,
        KeyCode::End => last,
        _ => return false,
    };
    true
}

fn sale_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let fields = m.sale.fields();
    let at = fields.iter().position(|f| *f == m.sale.focus).unwrap_or(0);
    let f = &mut m.sale;
    match key.code {
        KeyCode::Esc => return top_level(m, key),
        KeyCode::Tab | KeyCode::Down => f.focus = fields[(at + 1) % fields.len()],
        KeyCode::BackTab | KeyCode::Up => f.focus = fields[(at + fields.len() - 1) % fields.len()],
        KeyCode::Left | KeyCode::Right | KeyCode::Char(' ')
            if matches!(f.focus, SaleField::Scenario | SaleField::Kind) =>
        {
            if f.focus == SaleField::Kind {
                f.kind = f.kind.next();
            } else {
                f.scenario = match f.scenario {
                    PayScenario::Card => PayScenario::CustomerScansQr,
                    PayScenario::CustomerScansQr => PayScenario::MerchantScansQr,
                    PayScenario::MerchantScansQr => PayScenario::Card,
                };
            }
        }
        KeyCode::Backspace => match f.focus {
            SaleField::Amount => f.amount.pop(),
            SaleField::Tip => f.tip.pop(),
            SaleField::Cashback => f.cashback.pop(),
            SaleField::Orig => f.orig.pop(),
            _ => {}
        },
        KeyCode::Delete => match f.focus {
            SaleField::Amount => f.amount.clear(),
            SaleField::Tip => f.tip.clear(),
            SaleField::Cashback => f.cashback.clear(),
            SaleField::Orig => f.orig.text.clear(),
            _ => {}
        },
        KeyCode::Char(c) => {
            f.error = None;
            match f.focus {
                SaleField::Amount => f.amount.push(c),
                SaleField::Tip => f.tip.push(c),
                SaleField::Cashback => f.cashback.push(c),
                SaleField::Orig if !f.orig.push(c.to_ascii_uppercase()) => {
                    f.error = Some(ORDER_FULL.into());
                }
                _ => {}
            }
            if f.focus != SaleField::Orig && !c.is_ascii_digit() {
                f.error = Some("amounts take digits only: 1 2 3 4 makes 12.34".into());
            }
        }
        KeyCode::Enter => return submit_sale(m),
        _ => {}
    }
    vec![]
}

fn submit_sale(m: &mut Model) -> Vec<Effect> {
    let exp = m.exponent;
    let f = &mut m.sale;
    let Some(amount) = f.amount.money(exp) else {
        f.error = Some("enter an amount: digits, cents first".into());
        f.focus = SaleField::Amount;
        return vec![];
    };
    let req = match f.kind {
        SaleKind::Sale => PayRequest::Sale {
            amount,
            tip: f.tip.money(exp),
            cashback: f.cashback.money(exp),
            scenario: f.scenario,
            force: false,
            options: SaleOptions::default(),
        },
        SaleKind::PreAuth => PayRequest::PreAuth { amount },
        SaleKind::Completion => {
            let orig = f.orig.text.trim().to_string();
            if orig.is_empty() {
                f.error = Some("enter the pre-auth's order number".into());
                f.focus = SaleField::Orig;
                return vec![];
            }
            return confirm(
                m,
                format!("Complete pre-auth {orig} for {amount}?"),
                PayRequest::FollowUp {
                    trans_type: TransType::Completion,
                    orig,
                    amount: Some(amount),
                },
            );
        }
    };
    f.error = None;
    start(m, req)
}

fn refund_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let exp = m.exponent;
    let f = &mut m.refund;
    match key.code {
        KeyCode::Esc => return top_level(m, key),
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
            f.focus = match f.focus {
                RefundField::Orig => RefundField::Amount,
                RefundField::Amount => RefundField::Orig,
            }
        }
        KeyCode::Backspace => match f.focus {
            RefundField::Orig => {
                f.orig.pop();
                f.found = None;
            }
            RefundField::Amount => f.amount.pop(),
        },
        KeyCode::Delete => match f.focus {
            RefundField::Orig => {
                f.orig.text.clear();
                f.found = None;
            }
            RefundField::Amount => f.amount.clear(),
        },
        KeyCode::Char(c) => {
            f.error = None;
            match f.focus {
                RefundField::Orig => {
                    if !f.orig.push(c.to_ascii_uppercase()) {
                        f.error = Some(ORDER_FULL.into());
                    }
                    f.found = None;
                }
                RefundField::Amount if c.is_ascii_digit() => f.amount.push(c),
                RefundField::Amount => f.error = Some("amounts take digits only".into()),
            }
        }
        KeyCode::Enter => match f.focus {
            RefundField::Orig if f.orig.text.trim().is_empty() => {
                f.found = None;
                f.focus = RefundField::Amount;
            }
            RefundField::Orig => return vec![Effect::Lookup(f.orig.text.trim().to_string())],
            RefundField::Amount => {
                let Some(amount) = f.amount.money(exp) else {
                    f.error = Some("enter the amount to refund".into());
                    return vec![];
                };
                let orig = f.orig.text.trim().to_string();
                if orig.is_empty() {
                    return confirm(
                        m,
                        format!(
                            "Unreferenced refund of {amount}: the customer presents the card. Go?"
                        ),
                        PayRequest::Refund {
                            amount,
                            orig: None,
                            options: SaleOptions::default(),
                        },
                    );
                }
                match &f.found {
                    None => return vec![Effect::Lookup(orig)],
                    Some((_, Some(left))) if amount > *left => {
                        f.error = Some(format!("at most {left} of {orig} can still be refunded"));
                        return vec![];
                    }
                    Some(_) => {}
                }
                return confirm(
                    m,
                    format!("Refund {amount} of order {orig}?"),
                    PayRequest::Refund {
                        amount,
                        orig: Some(orig),
                        options: SaleOptions::default(),
                    },
                );
            }
        },
        _ => {}
    }
    vec![]
}

fn void_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let rows: Vec<(String, String)> = m
        .voidable()
        .iter()
        .map(|r| {
            (
                r.order_no.clone(),
                format!("{} {}", r.kind.name(), r.amount),
            )
        })
        .collect();
    if move_sel(&mut m.void.selected, rows.len(), key.code) {
        return vec![];
    }
    match key.code {
        KeyCode::Esc => top_level(m, key),
        KeyCode::Enter => match rows.get(m.void.selected) {
            Some((order, what)) => confirm(
                m,
                format!("Void {what} (order {order})?"),
                PayRequest::Void {
                    orig: order.clone(),
                    options: SaleOptions::default(),
                },
            ),
            None => {
                m.void.error = Some("nothing in the open batch can be voided".into());
                vec![]
            }
        },
        _ => vec![],
    }
}

fn tip_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let rows: Vec<String> = m.tippable().iter().map(|r| r.order_no.clone()).collect();
    if m.tip.editing {
        match key.code {
            KeyCode::Esc => m.tip.editing = false,
            KeyCode::Backspace => m.tip.tip.pop(),
            KeyCode::Char(c) if c.is_ascii_digit() => m.tip.tip.push(c),
            KeyCode::Char(_) => m.tip.pick.error = Some("tips take digits only".into()),
            KeyCode::Enter => {
                let Some(order) = rows.get(m.tip.pick.selected).cloned() else {
                    m.tip.editing = false;
                    return vec![];
                };
                let tip = Money::from_minor(m.tip.tip.minor(), m.exponent)
                    .unwrap_or(Money::zero(m.exponent));
                return confirm(
                    m,
                    format!("Set the tip of order {order} to {tip}?"),
                    PayRequest::TipAdjust { orig: order, tip },
                );
            }
            _ => {}
        }
        return vec![];
    }
    if move_sel(&mut m.tip.pick.selected, rows.len(), key.code) {
        return vec![];
    }
    match key.code {
        KeyCode::Esc => return top_level(m, key),
        KeyCode::Enter if !rows.is_empty() => {
            m.tip.editing = true;
            m.tip.tip.clear();
            m.tip.pick.error = None;
        }
        KeyCode::Enter => m.tip.pick.error = Some("no approved sale in the open batch".into()),
        _ => {}
    }
    vec![]
}

fn query_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let q = &mut m.query;
    match key.code {
        KeyCode::Esc => return top_level(m, key),
        KeyCode::Backspace => q.order.pop(),
        KeyCode::Char(c) => {
            q.error = (!q.order.push(c.to_ascii_uppercase())).then(|| ORDER_FULL.into());
        }
        KeyCode::Enter => match crate::journal::check_order_no(&q.order.text) {
            Ok(order) => {
                q.asking = true;
                q.error = None;
                q.result = None;
                return vec![Effect::Query(order)];
            }
            Err(e) => q.error = Some(e),
        },
        _ => {}
    }
    vec![]
}

fn batch_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let closed = m
        .data
        .batches
        .iter()
        .filter(|b| b.closed_at.is_some())
        .count();
    match key.code {
        KeyCode::Esc => top_level(m, key),
        KeyCode::Left | KeyCode::PageDown => {
            m.batch.viewing = match m.batch.viewing {
                None if closed > 0 => Some(0),
                Some(i) if i + 1 < closed => Some(i + 1),
                other => other,
            };
            vec![Effect::Refresh]
        }
        KeyCode::Right | KeyCode::PageUp => {
            m.batch.viewing = match m.batch.viewing {
                Some(0) | None => None,
                Some(i) => Some(i - 1),
            };
            vec![Effect::Refresh]
        }
        KeyCode::Char('c') if m.batch.viewing.is_none() => {
            let net = m
                .data
                .open_report
                .as_ref()
                .map(|r| crate::money::format_minor(r.net_minor, m.exponent))
                .unwrap_or_default();
            m.modal = Some(Modal::Confirm {
                question: format!(
                    "Close the batch (net {net} {})? This settles it on the terminal.",
                    m.currency
                ),
                then: Confirmed::Pay(PayRequest::BatchClose),
            });
            vec![]
        }
        _ => vec![],
    }
}

fn journal_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if m.journal.filtering {
        match key.code {
            KeyCode::Esc | KeyCode::Enter => m.journal.filtering = false,
            KeyCode::Backspace => m.journal.filter.pop(),
            KeyCode::Char(c) => {
                m.journal.filter.push(c);
            }
            _ => {}
        }
        m.journal.selected = 0;
        return vec![];
    }
    let rows: Vec<TxnRow> = m.journal_rows().into_iter().cloned().collect();
    if move_sel(&mut m.journal.selected, rows.len(), key.code) {
        return vec![];
    }
    let row = rows.get(m.journal.selected);
    match (key.code, row) {
        (KeyCode::Esc, _) if m.journal.detail => m.journal.detail = false,
        (KeyCode::Esc, _) => return top_level(m, key),
        (KeyCode::Char('/'), _) => m.journal.filtering = true,
        (KeyCode::Enter, Some(row)) => {
            m.journal.detail = !m.journal.detail;
            m.journal.audit.clear();
            if m.journal.detail {
                return vec![Effect::LoadAudit(row.order_no.clone())];
            }
        }
        (KeyCode::Char('r'), Some(row)) => {
            m.refund = RefundForm {
                orig: TextField {
                    text: row.order_no.clone(),
                    max: crate::journal::ORDER_NO_MAX,
                },
                ..RefundForm::default()
            };
            m.screen = ScreenId::Refund;
            return vec![Effect::Lookup(row.order_no.clone())];
        }
        (KeyCode::Char('v'), Some(row)) => {
            let req = PayRequest::Void {
                orig: row.order_no.clone(),
                options: SaleOptions::default(),
            };
            return confirm(
                m,
                format!(
                    "Void {} {} (order {})?",
                    row.kind.name(),
                    row.amount,
                    row.order_no
                ),
                req,
            );
        }
        (KeyCode::Char('c'), Some(row)) => {
            m.sale = SaleForm {
                kind: SaleKind::Completion,
                orig: TextField {
                    text: row.order_no.clone(),
                    max: crate::journal::ORDER_NO_MAX,
                },
                ..SaleForm::default()
            };
            m.screen = ScreenId::Sale;
        }
        (KeyCode::Char(c @ ('a' | 'x')), Some(row))
            if matches!(row.state, TxnState::Pending | TxnState::Unknown) =>
        {
            m.modal = Some(Modal::Override {
                order_no: row.order_no.clone(),
                approve: c == 'a',
                note: TextField::with_max(200),
            });
        }
        _ => {}
    }
    vec![]
}

fn diag_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if m.diag.focus == DiagFocus::Console {
        match key.code {
            KeyCode::Esc | KeyCode::Tab => m.diag.focus = DiagFocus::Log,
            KeyCode::Backspace => m.diag.console.pop(),
            KeyCode::Char(c) if !m.diag.console.push(c) => {
                m.diag.console_result = Some("the console takes frames up to 4 KiB".into());
            }
            KeyCode::Enter if !m.diag.console.text.trim().is_empty() => {
                m.diag.console_result = Some("sending…".into());
                return vec![Effect::Raw(m.diag.console.text.clone())];
            }
            _ => {}
        }
        return vec![];
    }
    let len = m.wire.len();
    if move_sel(&mut m.diag.selected, len, key.code) {
        return vec![];
    }
    match key.code {
        KeyCode::Esc => top_level(m, key),
        KeyCode::Tab | KeyCode::Char('i') => {
            m.diag.focus = DiagFocus::Console;
            if m.diag.console.text.is_empty() {
                m.diag.console.text =
                    r#"{"topic":"ecrhub.heartbeat","request_id":"console-1"}"#.into();
            }
            vec![]
        }
        _ => vec![],
    }
}

fn settings_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let s = &mut m.settings;
    let len = s.fields.len();
    match key.code {
        KeyCode::Esc => return top_level(m, key),
        KeyCode::Up | KeyCode::BackTab => s.focus = (s.focus + len.max(1) - 1) % len.max(1),
        KeyCode::Down | KeyCode::Tab => s.focus = (s.focus + 1) % len.max(1),
        KeyCode::Backspace => {
            if let Some((_, f)) = s.fields.get_mut(s.focus) {
                f.pop();
            }
        }
        KeyCode::Char(c) => {
            if let Some((_, f)) = s.fields.get_mut(s.focus) {
                f.push(c);
            }
        }
        KeyCode::Enter if m.demo => {
            s.message =
                Some("demo mode: settings are not saved (the demo terminal is temporary)".into());
        }
        KeyCode::Enter => {
            let values = s
                .fields
                .iter()
                .map(|(k, f)| (k.clone(), f.text.trim().to_string()))
                .collect();
            return vec![Effect::SaveSettings(values)];
        }
        _ => {}
    }
    vec![]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{TxnKind, TxnRow};
    use crate::tui::fixtures::row;

    fn model() -> Model {
        Model::new("L01", "USD", 2, "127.0.0.1:35779", false)
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
        assert!(m.flight.is_some());
        // Keys do nothing while the terminal works, except Esc which asks first.
        assert!(type_str(&mut m, "99").is_empty());
        update(&mut m, Msg::Paid(Ok("L01-1124-000001".into())));
        update(&mut m, key(KeyCode::Esc));
        assert!(matches!(
            m.modal,
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
        assert!(m.flight.is_none());
        assert_eq!(m.result.as_ref().unwrap().state, TxnState::Approved);
        assert_eq!(
            m.sale.amount.minor(),
            0,
            "the form is ready for the next sale"
        );
        // Any key dismisses the result; a digit starts the next amount.
        type_str(&mut m, "5");
        assert!(m.result.is_none());
        assert_eq!(m.sale.amount.display(2), "0.05");
    }

    #[test]
    fn validation_stays_next_to_the_field() {
        let mut m = model();
        assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
        assert!(m.sale.error.as_deref().unwrap().contains("enter an amount"));
        type_str(&mut m, "a");
        assert!(m.sale.error.as_deref().unwrap().contains("digits only"));
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
        assert!(m.flight.is_none());
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
        assert!(matches!(m.modal, Some(Modal::Confirm { .. })));
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
            assert_eq!(m.screen, s);
            update(&mut m, key(KeyCode::F(2)));
            update(&mut m, key(KeyCode::Esc));
            assert!(matches!(m.modal, Some(Modal::Menu)));
            update(&mut m, key(KeyCode::Char(s.letter())));
            assert_eq!(m.screen, s, "letter {}", s.letter());
            assert!(m.modal.is_none());
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
        assert_eq!(m.screen, ScreenId::Journal);
        assert!(m.modal.is_none());
    }

    #[test]
    fn ctrl_c_asks_first_while_a_payment_is_in_flight() {
        let mut m = model();
        let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        type_str(&mut m, "100");
        update(&mut m, key(KeyCode::Enter));
        assert!(update(&mut m, ctrl_c).is_empty());
        assert!(matches!(
            m.modal,
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
            matches!(m.modal, Some(Modal::Confirm { .. })),
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
        m.data.open_rows = vec![unknown, sale];
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
        assert_eq!(m.journal_rows()[0].order_no, "L01-2");
        assert_eq!(
            update(&mut m, key(KeyCode::Enter)),
            vec![Effect::LoadAudit("L01-2".into())]
        );
        assert!(m.journal.detail);
        update(&mut m, key(KeyCode::Esc));
        assert!(
            !m.journal.detail && m.modal.is_none(),
            "Esc leaves the detail first"
        );
        update(&mut m, key(KeyCode::Char('x')));
        assert!(matches!(
            m.modal,
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
        m.data.open_rows = vec![row(
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
        demo.settings.fields = vec![("lane".into(), TextField::with_max(8))];
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
        real.settings.fields = vec![(
            "lane".into(),
            TextField {
                text: "L02".into(),
                max: 8,
            },
        )];
        update(&mut real, key(KeyCode::F(10)));
        assert_eq!(
            update(&mut real, key(KeyCode::Enter)),
            vec![Effect::SaveSettings(vec![("lane".into(), "L02".into())])]
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
                message: "outcome unknown (link lost); asking the terminal".into(),
            }),
        );
        assert_eq!(
            update(&mut m, key(KeyCode::Enter)),
            vec![Effect::ShowRow("L01-7".into())]
        );
        assert!(m.flight.is_none());
        let row = row(
            "L01-7",
            TxnKind::Trans(TransType::Sale),
            TxnState::Unknown,
            900,
        );
        update(&mut m, Msg::Row(Box::new(Some(row.clone()))));
        assert_eq!(m.result.as_ref().unwrap().state, TxnState::Unknown);
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
            m.result.as_ref().unwrap().state,
            TxnState::Approved,
            "the screen catches up"
        );
    }

    #[test]
    fn a_hangup_quits_through_the_lane() {
        let mut m = model();
        assert_eq!(update(&mut m, Msg::Hangup), vec![Effect::Quit]);
        assert!(m.hangup);
    }
}
