//! The Sale screen: amount typed cents-first, tip, cash-back, how the customer pays and the type (sale, pre-auth, completion).

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::shared::{
    Key, act_words, candidates, chosen, error_line, find_order, label, order_at, pick_key,
};
use crate::ecr::Receipts;
use crate::ecr::{PayScenario, TransType};
use crate::journal::{TxnRow, TxnState, rules};
use crate::lane::Description;
use crate::lane::SaleOptions;
use crate::lane::{PayRequest, Refusal};
use crate::money::{Money, grouped_minor};
use crate::tui::desk::{Confirmed, Desk, Modal, OnNo};
use crate::tui::field::{CentsField, Edit, TextField};
use crate::tui::flows::{ORDER_FULL, confirm, start, top_level};
use crate::tui::msg::Effect;
use crate::tui::theme::Theme;

/// The smallest window this screen is drawn in whole.
pub(crate) const MIN_SIZE: (u16, u16) = (60, 16);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum SaleKind {
    #[default]
    Sale,
    PreAuth,
    Completion,
}

impl SaleKind {
    pub(crate) fn label(self) -> &'static str {
        match self {
            SaleKind::Sale => "Sale",
            SaleKind::PreAuth => "Pre-auth",
            SaleKind::Completion => "Completion",
        }
    }

    pub(crate) fn next(self) -> SaleKind {
        match self {
            SaleKind::Sale => SaleKind::PreAuth,
            SaleKind::PreAuth => SaleKind::Completion,
            SaleKind::Completion => SaleKind::Sale,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum SaleField {
    #[default]
    Amount,
    Tip,
    Cashback,
    Scenario,
    Kind,
    Orig,
}

#[derive(Clone, Debug)]
pub(crate) struct SaleForm {
    pub(crate) kind: SaleKind,
    pub(crate) amount: CentsField,
    pub(crate) tip: CentsField,
    pub(crate) cashback: CentsField,
    pub(crate) scenario: PayScenario,
    pub(crate) orig: TextField,
    pub(crate) focus: SaleField,
    pub(crate) error: Option<String>,
    /// The error says earlier rows are unresolved: it goes once they are settled.
    pub(crate) error_until_settled: bool,
    /// What the terminal is asked to do for this sale (unset: the lane's defaults).
    pub(crate) options: SaleOptions,
    /// The description being typed in the options dialog, when it is.
    pub(crate) description: Option<TextField>,
    /// The pre-auth picked from those a completion can take (`JournalData::completable`).
    pub(crate) picked: Option<usize>,
}

/// An empty form (its text fields take what they hold).
impl Default for SaleForm {
    fn default() -> Self {
        SaleForm {
            kind: Default::default(),
            amount: Default::default(),
            tip: Default::default(),
            cashback: Default::default(),
            scenario: Default::default(),
            orig: TextField::order_no(),
            focus: Default::default(),
            error: Default::default(),
            error_until_settled: Default::default(),
            options: Default::default(),
            description: Default::default(),
            picked: Default::default(),
        }
    }
}

impl SaleForm {
    /// Whether the cashier has typed something that quitting would lose.
    pub(crate) fn typed(&self) -> bool {
        !(self.amount.is_empty() && self.tip.is_empty() && self.cashback.is_empty())
    }

    /// A completion of a pre-auth picked on another screen: its number is filled in
    /// (and replaced by the first character typed).
    pub(crate) fn completing(order_no: &str) -> SaleForm {
        let mut form = SaleForm {
            kind: SaleKind::Completion,
            ..SaleForm::default()
        };
        form.orig.prefill(order_no);
        form
    }

    pub(crate) fn fields(&self) -> Vec<SaleField> {
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

/// The keys of this screen, shown in its footer and on the help screen.
pub(crate) const KEYS: &[Key] = &[
    Key {
        keys: "digits",
        does: "amount",
    },
    Key {
        keys: "Tab",
        does: "field",
    },
    Key {
        keys: "←/→",
        does: "choose",
    },
    Key {
        keys: "Enter",
        does: "charge",
    },
    Key {
        keys: "Del",
        does: "clear",
    },
    Key {
        keys: "o",
        does: "terminal",
    },
];

/// The pre-auth picked, to follow as the candidates change.
pub(crate) fn kept(f: &SaleForm, d: &Desk) -> Option<String> {
    order_at(&d.data.completable.iter().collect::<Vec<_>>(), f.picked)
}

/// A pre-auth picked stays picked only while it is offered.
pub(crate) fn follow_rows(f: &mut SaleForm, d: &Desk, kept: Option<String>) {
    let rows: Vec<&TxnRow> = d.data.completable.iter().collect();
    f.picked = kept.and_then(|o| find_order(&rows, Some(&o)));
}

// Long on purpose: the Sale screen's keys, one arm each.
pub(crate) fn on_key(f: &mut SaleForm, d: &mut Desk, key: KeyEvent) -> Vec<Effect> {
    let fields = f.fields();
    let at = fields.iter().position(|x| *x == f.focus).unwrap_or(0);
    let offered = d.data.completable.len();
    match key.code {
        KeyCode::Esc => return top_level(d, key),
        KeyCode::Up | KeyCode::Down
            if f.focus == SaleField::Orig && pick_key(&mut f.picked, offered, key.code) =>
        {
            // The pre-auth picked fills the form: its number and what it holds, each
            // replaced by the first character typed.
            match f.picked.and_then(|i| d.data.completable.get(i)) {
                Some(row) => {
                    f.orig.prefill(&row.order_no);
                    f.amount = CentsField::prefill(row.amount.minor());
                }
                None if f.orig.prefilled => {
                    f.orig.clear();
                    f.amount.clear();
                }
                None => {}
            }
        }
        KeyCode::Tab | KeyCode::Down => f.focus = fields[(at + 1) % fields.len()],
        KeyCode::BackTab | KeyCode::Up => f.focus = fields[(at + fields.len() - 1) % fields.len()],
        KeyCode::Left | KeyCode::Right | KeyCode::Char(' ')
            if matches!(f.focus, SaleField::Scenario | SaleField::Kind) =>
        {
            // Right and Space go forward through the choices, Left back.
            let steps = if key.code == KeyCode::Left { 2 } else { 1 };
            for _ in 0..steps {
                if f.focus == SaleField::Kind {
                    f.kind = f.kind.next();
                    f.picked = None;
                } else {
                    f.scenario = match f.scenario {
                        PayScenario::Card => PayScenario::CustomerScansQr,
                        PayScenario::CustomerScansQr => PayScenario::MerchantScansQr,
                        PayScenario::MerchantScansQr => PayScenario::Card,
                    };
                }
            }
            if f.kind == SaleKind::Completion {
                return vec![Effect::Candidates];
            }
        }
        KeyCode::Enter => return submit(f, d),
        KeyCode::Char('o') if f.focus != SaleField::Orig && f.kind == SaleKind::Sale => {
            d.modal = Some(Modal::SaleOptions);
        }
        _ => {
            // A declined sale kept in the form: a new amount is another sale, its tip
            // and cash-back go with the old amount.
            let typed = matches!(key.code, KeyCode::Char(c) if c.is_ascii_digit() || c == '.');
            if typed && f.focus == SaleField::Amount && f.amount.prefilled {
                f.tip.clear();
                f.cashback.clear();
            }
            let edit = match f.focus {
                SaleField::Amount => f.amount.edit(key),
                SaleField::Tip => f.tip.edit(key),
                SaleField::Cashback => f.cashback.edit(key),
                SaleField::Orig => f.orig.edit(key),
                SaleField::Scenario | SaleField::Kind => Edit::Ignored,
            };
            match edit {
                Edit::Changed if f.focus == SaleField::Orig => {
                    // What is typed narrows the pre-auths offered.
                    f.error = None;
                    f.picked = None;
                    return vec![Effect::Candidates];
                }
                Edit::Changed => f.error = None,
                Edit::Full => f.error = Some(ORDER_FULL.into()),
                Edit::Refused => {
                    f.error =
                        Some("amounts take digits: 1 2 3 4 makes 12.34, 1 2 . 5 makes 12.50".into())
                }
                Edit::Ignored => {}
            }
        }
    }
    vec![]
}

pub(crate) fn submit(f: &mut SaleForm, d: &mut Desk) -> Vec<Effect> {
    let exp = d.exponent;
    let Some(amount) = f.amount.money(exp) else {
        f.error = Some("enter an amount: digits, cents first".into());
        f.focus = SaleField::Amount;
        return vec![];
    };
    // Tip and cash-back go with a sale only: a pre-auth or a completion neither sends
    // nor asks about what their hidden fields may hold.
    let sale = f.kind == SaleKind::Sale;
    let cashback = f.cashback.money(exp).filter(|_| sale);
    if let Err(why) = rules::check_sale(f.scenario, cashback) {
        f.error = Some(why);
        f.focus = SaleField::Cashback;
        return vec![];
    }
    let tip = f.tip.money(exp).filter(|_| sale);
    let req = match f.kind {
        SaleKind::Sale => PayRequest::Sale {
            amount,
            tip,
            cashback,
            scenario: f.scenario,
            force: false,
            options: f.options.clone(),
        },
        SaleKind::PreAuth => PayRequest::PreAuth { amount },
        SaleKind::Completion => {
            let (orig, what) = match chosen(&d.data.completable, f.picked, &f.orig.text) {
                Some(row) => (row.order_no.clone(), act_words(row, &d.currency)),
                None => {
                    let orig = f.orig.text.trim().to_string();
                    (orig.clone(), format!("order {orig}"))
                }
            };
            if orig.is_empty() {
                f.error = Some("enter the pre-auth's order number".into());
                f.focus = SaleField::Orig;
                return vec![];
            }
            return confirm(
                d,
                format!("Complete {what} for {} {}?", amount.grouped(), d.currency),
                PayRequest::FollowUp {
                    trans_type: TransType::Completion,
                    orig,
                    amount: Some(amount),
                },
            );
        }
    };
    f.error = None;
    // A slip of the finger is expensive: unusual amounts are asked about first.
    let total = amount.minor() + tip.map_or(0, |t| t.minor()) + cashback.map_or(0, |c| c.minor());
    let total = Money::from_minor(total, exp).unwrap_or(amount);
    if let Some(limit) = d.confirm_above.filter(|limit| total > *limit) {
        let question = format!(
            "Charge {} {}? That is more than {}.",
            total.grouped(),
            d.currency,
            limit.grouped()
        );
        return confirm(d, question, req);
    }
    if let Some(tip) = tip.filter(|t| *t > amount) {
        let question = format!(
            "The tip {} is more than the sale {}. Charge it?",
            tip.grouped(),
            amount.grouped()
        );
        return confirm(d, question, req);
    }
    start(d, req)
}

/// The lane refused the sale: why, kept until earlier rows are settled when that is why.
/// A possible duplicate asks whether to charge again (no clears the form).
pub(crate) fn refused(
    f: &mut SaleForm,
    d: &mut Desk,
    refusal: &Refusal,
    request: Option<PayRequest>,
) {
    if let (
        Refusal::PossibleDuplicate { .. },
        Some(PayRequest::Sale {
            amount,
            tip,
            cashback,
            scenario,
            options,
            ..
        }),
    ) = (refusal, request)
    {
        d.modal = Some(Modal::Confirm {
            question: format!(
                "{refusal}. Charge this customer {} {} again?",
                amount.grouped(),
                d.currency
            ),
            then: Confirmed::Pay(PayRequest::Sale {
                amount,
                tip,
                cashback,
                scenario,
                force: true,
                options,
            }),
            on_no: OnNo::ClearSale,
        });
        return;
    }
    f.error_until_settled = matches!(refusal, Refusal::Unresolved { .. });
    f.error = Some(refusal.to_string());
}

/// A declined sale stays in the form, to be charged again on another card; the first
/// digit typed starts another sale instead.
pub(crate) fn declined(f: &mut SaleForm) {
    for field in [&mut f.amount, &mut f.tip, &mut f.cashback] {
        field.prefilled = !field.is_empty();
    }
}

/// The sale asked about again is not made: the form is cleared for the next customer.
pub(crate) fn not_charged(f: &mut SaleForm) {
    *f = SaleForm::default();
    f.error = Some("not charged".into());
}

/// The lane's unresolved rows are settled: an error that waited for it goes.
pub(crate) fn settled(f: &mut SaleForm) {
    if f.error_until_settled {
        f.error_until_settled = false;
        f.error = Some("earlier transactions are settled: Enter charges".into());
    }
}

/// A key in the terminal-options dialog; false when it closes the dialog.
pub(crate) fn options_key(f: &mut SaleForm, key: KeyEvent) -> bool {
    if let Some(field) = &mut f.description {
        match key.code {
            KeyCode::Esc => f.description = None,
            KeyCode::Enter if field.text.trim().is_empty() => {
                f.options.description = None;
                f.description = None;
            }
            KeyCode::Enter => match Description::new(&field.text) {
                Ok(d) => {
                    f.options.description = Some(d);
                    f.description = None;
                }
                Err(e) => f.error = Some(e.to_string()),
            },
            _ => {
                field.edit(key);
            }
        }
        return true;
    }
    let o = &mut f.options;
    match key.code {
        KeyCode::Char('d') => {
            let mut field = TextField::with_max(Description::MAX_CHARS);
            if let Some(d) = &o.description {
                field.prefill(d.as_str());
            }
            f.description = Some(field);
        }
        KeyCode::Char('t') => o.tip_on_terminal = next_choice(o.tip_on_terminal),
        KeyCode::Char('s') => o.signature_on_terminal = next_choice(o.signature_on_terminal),
        KeyCode::Char('c') => o.confirm_on_terminal = next_choice(o.confirm_on_terminal),
        KeyCode::Char('r') => o.receipts = next_receipts(o.receipts),
        KeyCode::Esc | KeyCode::Enter => return false,
        _ => {}
    }
    true
}

/// The lane's default, then yes, then no.
fn next_choice(choice: Option<bool>) -> Option<bool> {
    match choice {
        None => Some(true),
        Some(true) => Some(false),
        Some(false) => None,
    }
}

/// The lane's default, then each kind of receipt in turn.
fn next_receipts(receipts: Option<Receipts>) -> Option<Receipts> {
    use crate::ecr::Receipts as R;
    match receipts {
        None => Some(R::None),
        Some(r) => R::ALL.iter().skip_while(|x| **x != r).nth(1).copied(),
    }
}

/// What a key that dismisses a result over the Sale screen does besides.
pub(crate) enum PastResult {
    /// After a decline, Enter charged the sale still in the form again (another card).
    Charged(Vec<Effect>),
    /// A digit: the next amount is being typed.
    Typing,
    /// Nothing more (an F-key still goes to its screen).
    Dismissed,
}

/// A key that dismisses `result`: after a decline the form still holds the sale and
/// Enter charges it again; any other key starts afresh (a digit, the next amount).
pub(crate) fn past_result(
    f: &mut SaleForm,
    d: &mut Desk,
    result: &TxnRow,
    key: KeyEvent,
) -> PastResult {
    let declined = result.state == TxnState::Declined;
    if declined && key.code == KeyCode::Enter && f.typed() {
        return PastResult::Charged(submit(f, d));
    }
    let digit = matches!(key.code, KeyCode::Char(c) if c.is_ascii_digit());
    if declined && (digit || matches!(key.code, KeyCode::F(_))) {
        *f = SaleForm::default();
    }
    if digit {
        PastResult::Typing
    } else {
        PastResult::Dismissed
    }
}

fn scenario_name(s: PayScenario) -> &'static str {
    match s {
        PayScenario::Card => "Card",
        PayScenario::CustomerScansQr => "Customer scans QR",
        PayScenario::MerchantScansQr => "Merchant scans QR",
    }
}

// Long on purpose: the screen's layout, top to bottom, each part a few lines.
pub(crate) fn draw(frame: &mut Frame, area: Rect, f: &SaleForm, d: &Desk, theme: &Theme) {
    let exp = d.exponent;
    let mut lines = vec![Line::from("")];
    for field in f.fields() {
        let focused = f.focus == field;
        let (name, value, style) = match field {
            SaleField::Amount => (
                "Amount",
                format!("{} {}", f.amount.display(exp), d.currency),
                theme.amount,
            ),
            SaleField::Tip => ("Tip", f.tip.display(exp), theme.text),
            SaleField::Cashback => ("Cash-back", f.cashback.display(exp), theme.text),
            SaleField::Scenario => (
                "Pay by",
                format!("< {} >", scenario_name(f.scenario)),
                theme.text,
            ),
            SaleField::Kind => ("Type", format!("< {} >", f.kind.label()), theme.text),
            SaleField::Orig => ("Pre-auth no", f.orig.shown(true), theme.input),
        };
        lines.push(Line::from(vec![
            label(name, focused, theme),
            Span::raw(" "),
            Span::styled(value, style),
        ]));
        if field == SaleField::Amount {
            lines.push(error_line(&f.error, theme));
        }
    }
    if f.kind == SaleKind::Sale {
        let total = f.amount.minor(exp) + f.tip.minor(exp) + f.cashback.minor(exp);
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled(" Total        ", theme.muted),
            Span::styled(
                format!("{} {}", grouped_minor(total, exp), d.currency),
                theme.amount,
            ),
        ]));
        let o = &f.options;
        let said =
            |c: Option<bool>, yes: &str, no: &str| c.map(|c| if c { yes } else { no }.to_string());
        let set: Vec<String> = [
            said(o.tip_on_terminal, "customer adds a tip", "no tip asked"),
            said(o.signature_on_terminal, "signature", "no signature"),
            said(
                o.confirm_on_terminal,
                "confirm on terminal",
                "no confirmation",
            ),
            o.receipts.map(|r| format!("receipts: {}", r.name())),
            o.description
                .as_ref()
                .map(|d| format!("\"{}\"", d.as_str())),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !set.is_empty() {
            lines.push(Line::from(vec![
                Span::styled(" Terminal     ", theme.muted),
                Span::raw(set.join(", ")),
            ]));
        }
    }
    if f.kind == SaleKind::Completion && f.focus == SaleField::Orig {
        // The pre-auths it may complete, under the form: Enter takes the one picked.
        let form_rows = u16::try_from(lines.len() + 1).unwrap_or(u16::MAX);
        let [form, list] =
            Layout::vertical([Constraint::Length(form_rows), Constraint::Min(0)]).areas(area);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), form);
        if list.height > 2 {
            candidates(
                frame,
                list,
                d,
                (&d.data.completable, f.picked),
                "open pre-auths, newest first",
                theme,
            );
        }
        return;
    }
    // A long refusal wraps rather than being cut at the window's edge.
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn screen() -> (SaleForm, Desk) {
        (
            SaleForm::default(),
            Desk::new("L01", "USD", 2, "127.0.0.1:35779", false),
        )
    }

    fn press(f: &mut SaleForm, d: &mut Desk, code: KeyCode) -> Vec<Effect> {
        on_key(f, d, KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn type_str(f: &mut SaleForm, d: &mut Desk, text: &str) {
        for c in text.chars() {
            press(f, d, KeyCode::Char(c));
        }
    }

    #[test]
    fn a_typed_point_reads_the_amount_as_written() {
        let (mut f, mut d) = screen();
        type_str(&mut f, &mut d, "12.5");
        assert_eq!(f.amount.display(2), "12.50");
        assert!(f.error.is_none());
        press(&mut f, &mut d, KeyCode::Backspace);
        press(&mut f, &mut d, KeyCode::Backspace);
        assert_eq!(
            f.amount.display(2),
            "0.12",
            "the point is gone: cents-first again"
        );
        type_str(&mut f, &mut d, ".075");
        assert_eq!(
            f.amount.display(2),
            "12.07",
            "more places than the currency has are cut"
        );
        let (mut f, mut d) = screen();
        type_str(&mut f, &mut d, ".5");
        assert_eq!(f.amount.display(2), "0.50");
    }

    #[test]
    fn left_goes_back_through_choices_and_cash_back_needs_a_card() {
        let (mut f, mut d) = screen();
        for _ in 0..3 {
            press(&mut f, &mut d, KeyCode::Tab);
        }
        assert_eq!(f.focus, SaleField::Scenario);
        press(&mut f, &mut d, KeyCode::Left);
        assert_eq!(f.scenario, PayScenario::MerchantScansQr);
        press(&mut f, &mut d, KeyCode::Right);
        assert_eq!(f.scenario, PayScenario::Card);
        press(&mut f, &mut d, KeyCode::Right);
        assert_eq!(f.scenario, PayScenario::CustomerScansQr);
        // 10.00 with 20.00 cash-back, paid by QR: refused before anything is sent.
        press(&mut f, &mut d, KeyCode::Up);
        type_str(&mut f, &mut d, "2000");
        press(&mut f, &mut d, KeyCode::Up);
        press(&mut f, &mut d, KeyCode::Up);
        type_str(&mut f, &mut d, "1000");
        assert!(press(&mut f, &mut d, KeyCode::Enter).is_empty());
        assert!(
            f.error
                .as_deref()
                .unwrap()
                .contains("cash-back only on card")
        );
    }
}
