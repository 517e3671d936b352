//! The screen acts on exactly what it shows: random keys interleaved with random lane
//! news, over the pure `update`. After every step: each money-moving effect carries the
//! amount and order the cashier saw in the confirmation answered `y` (or in the amount
//! field when Enter charged), none follows `n`, Esc or Enter on a question, none comes
//! from lane news, and the Sale screen's amount holds only digits typed since it was
//! last cleared (or filled in by the screen).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use proptest::prelude::*;

use super::fixtures::row;
use super::model::{Confirmed, JournalData, Modal, Model, ScreenId};
use super::update::{Effect, Msg, update};
use crate::ecr::TransType;
use crate::journal::{TxnKind, TxnRow, TxnState};
use crate::lane::{Event, LinkNews, PayRequest, Refusal, Step};
use crate::money::Money;

#[derive(Clone, Debug)]
enum News {
    /// The lane's answer to what is in flight: its order number, then its outcome.
    Answer(TxnState),
    /// The terminal approved half of what was asked.
    Partial,
    /// An answer for an order the screen is not waiting for.
    Late,
    Unknown,
    LinkDown,
    LinkUp,
    Duplicate,
    /// The journal's rows read again, the newest `n` of a shift's.
    Rows(usize),
}

#[derive(Clone, Debug)]
enum Step_ {
    Key(KeyEvent),
    News(News),
}

fn keys() -> impl Strategy<Value = KeyEvent> {
    let plain = |c| KeyEvent::new(c, KeyModifiers::NONE);
    prop_oneof![
        6 => (0u8..10).prop_map(move |d| plain(KeyCode::Char(char::from(b'0' + d)))),
        1 => Just(plain(KeyCode::Char('.'))),
        3 => Just(plain(KeyCode::Enter)),
        2 => Just(plain(KeyCode::Esc)),
        2 => Just(plain(KeyCode::Char('y'))),
        1 => Just(plain(KeyCode::Char('n'))),
        1 => Just(plain(KeyCode::Tab)),
        1 => Just(plain(KeyCode::BackTab)),
        2 => prop::sample::select(vec![KeyCode::Up, KeyCode::Down, KeyCode::Left, KeyCode::Right, KeyCode::PageDown, KeyCode::Backspace])
            .prop_map(plain),
        2 => (2u8..9).prop_map(move |n| plain(KeyCode::F(n))),
        1 => prop::sample::select(vec!['s', 'r', 'v', 't', 'c', 'j', 'b', 'x', 'a'])
            .prop_map(move |c| plain(KeyCode::Char(c))),
        1 => Just(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    ]
}

fn news() -> impl Strategy<Value = News> {
    prop_oneof![
        3 => prop::sample::select(vec![TxnState::Approved, TxnState::Declined]).prop_map(News::Answer),
        1 => Just(News::Partial),
        1 => Just(News::Late),
        1 => Just(News::Unknown),
        1 => Just(News::LinkDown),
        1 => Just(News::LinkUp),
        1 => Just(News::Duplicate),
        2 => (0usize..6).prop_map(News::Rows),
    ]
}

fn steps() -> impl Strategy<Value = Vec<Step_>> {
    prop::collection::vec(
        prop_oneof![3 => keys().prop_map(Step_::Key), 1 => news().prop_map(Step_::News)],
        1..120,
    )
}

/// A shift's rows, newest first: sales and a pre-auth a completion can take.
fn shift(n: usize) -> Vec<TxnRow> {
    let mut rows: Vec<TxnRow> = (0..n)
        .map(|i| {
            let kind = if i % 3 == 2 {
                TransType::PreAuth
            } else {
                TransType::Sale
            };
            let minor = 1_000 * (i as i64 + 1) + 7;
            let mut r = row(
                &format!("L01-SH-{:06}", i + 1),
                TxnKind::Trans(kind),
                TxnState::Approved,
                minor,
            );
            r.id = i as i64 + 1;
            r
        })
        .collect();
    rows.reverse();
    rows
}

/// The minor units a request moves that the cashier must have seen, and its order.
fn carried(req: &PayRequest) -> (Vec<Money>, Option<String>) {
    let money = match req {
        PayRequest::Sale {
            amount,
            tip,
            cashback,
            ..
        } => {
            let total = [Some(*amount), *tip, *cashback]
                .iter()
                .flatten()
                .map(|m| m.minor())
                .sum();
            vec![*amount, Money::from_minor(total, 2).unwrap_or(*amount)]
        }
        PayRequest::Refund { amount, .. } | PayRequest::PreAuth { amount } => vec![*amount],
        PayRequest::FollowUp { amount, .. } => amount.iter().copied().collect(),
        PayRequest::TipAdjust { tip, .. } => vec![*tip],
        PayRequest::Void { .. } | PayRequest::BatchClose => vec![],
    };
    (money, req.orig().map(String::from))
}

fn pays(effects: &[Effect]) -> Vec<&PayRequest> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Pay(r) | Effect::PaySupervised(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The lane's message for `news`, as the model stands.
fn lane_says(m: &Model, news: &News, orders: &mut u32) -> Option<Msg> {
    let flight = m.desk.flight.as_ref();
    let asked = flight.map(|f| f.request.clone());
    let mut next_order = || {
        *orders += 1;
        format!("L01-PT-{:06}", *orders)
    };
    let done = |order: String, state: TxnState, minor: i64, kind: TxnKind| {
        Msg::Lane(Event::Done {
            row: Box::new(row(&order, kind, state, minor)),
            reply: None,
        })
    };
    let asked_minor = |r: &PayRequest| carried(r).0.first().map_or(0, |m| m.minor());
    match (news, flight) {
        (News::Answer(_) | News::Partial | News::Duplicate, Some(f)) if f.order_no.is_none() => {
            Some(match news {
                News::Duplicate => {
                    let amount = asked.as_ref().map_or(0, asked_minor);
                    Msg::Paid(Err(Refusal::PossibleDuplicate {
                        amount: crate::money::format_minor(amount, 2),
                        order_no: "L01-PT-000000".into(),
                        ago_secs: 5,
                    }))
                }
                _ => Msg::Paid(Ok(next_order())),
            })
        }
        (News::Answer(state), Some(f)) => {
            let req = asked?;
            Some(done(
                f.order_no.clone()?,
                *state,
                asked_minor(&req),
                req.kind(),
            ))
        }
        (News::Partial, Some(f)) => {
            let req = asked?;
            Some(done(
                f.order_no.clone()?,
                TxnState::Approved,
                asked_minor(&req) / 2,
                req.kind(),
            ))
        }
        (News::Unknown, Some(f)) => Some(Msg::Lane(Event::Progress {
            order_no: f.order_no.clone()?,
            step: Step::Unknown {
                why: "no answer".into(),
            },
        })),
        (News::Late, _) => Some(done(
            next_order(),
            TxnState::Approved,
            4_200,
            TxnKind::Trans(TransType::Sale),
        )),
        (News::LinkDown, _) => Some(Msg::Lane(Event::Link(LinkNews::Down {
            reason: "gone".into(),
            retry_in: std::time::Duration::from_secs(1),
        }))),
        (News::LinkUp, _) => Some(Msg::Lane(Event::Link(LinkNews::Connected))),
        (News::Rows(n), _) => {
            let rows = shift(*n);
            let mut data = JournalData {
                open_rows: rows.clone(),
                completable: rows
                    .iter()
                    .filter(|r| r.kind == TxnKind::Trans(TransType::PreAuth))
                    .cloned()
                    .collect(),
                refundable: rows.clone(),
                ..JournalData::default()
            };
            data.journal.page.rows = rows;
            Some(Msg::Data(Box::new(data)))
        }
        _ => None,
    }
}

/// Is `small` a subsequence of `big`?
fn within(small: &str, big: &str) -> bool {
    let mut big = big.chars();
    small.chars().all(|c| big.any(|b| b == c))
}

fn run(steps: Vec<Step_>) -> Result<(), TestCaseError> {
    let mut m = Model::new("L01", "USD", 2, "127.0.0.1:1", false);
    m.desk.link.up = true;
    m.desk.confirm_above = Money::from_minor(50_000, 2).ok();
    let mut orders = 0;
    // Digits typed since the Sale screen's amount was last empty or filled in.
    let mut typed = String::new();
    for step in steps {
        if m.desk.quit {
            break;
        }
        let before = m.clone();
        let (effects, key) = match &step {
            Step_::Key(key) => (update(&mut m, Msg::Key(*key)), Some(*key)),
            Step_::News(news) => match lane_says(&m, news, &mut orders) {
                Some(msg) => {
                    // The answer to what is in flight may fill the form in: typing
                    // starts again.
                    let waiting = m.desk.flight.as_ref().and_then(|f| f.order_no.clone());
                    let answer = matches!(&msg, Msg::Lane(Event::Done { row, .. })
                        if Some(&row.order_no) == waiting.as_ref());
                    let fx = update(&mut m, msg);
                    if answer {
                        typed.clear();
                    }
                    (fx, None)
                }
                None => continue,
            },
        };
        let paid = pays(&effects);
        match (key, &before.desk.modal) {
            // Lane news never moves money.
            (None, _) => prop_assert!(paid.is_empty(), "{step:?} -> {effects:?}"),
            // Only y says yes, and it sends exactly what the question named.
            (
                Some(k),
                Some(Modal::Confirm {
                    question,
                    then: Confirmed::Pay(req),
                    ..
                }),
            ) => {
                if k.code == KeyCode::Char('y') {
                    prop_assert_eq!(paid.len(), 1, "{:?}", effects);
                    prop_assert_eq!(paid[0], req);
                    let (money, order) = carried(req);
                    prop_assert!(
                        money.is_empty() || money.iter().any(|a| question.contains(&a.grouped())),
                        "{question} does not name {money:?}"
                    );
                    if let Some(order) = order {
                        prop_assert!(question.contains(&order), "{question} lacks {order}");
                    }
                } else {
                    prop_assert!(paid.is_empty(), "{k:?} on '{question}' -> {effects:?}");
                }
            }
            (Some(_), Some(_)) => prop_assert!(paid.is_empty(), "{step:?} -> {effects:?}"),
            // Without a question only Enter on the Sale screen charges: the amount
            // the field showed, and only a sale or pre-auth.
            (Some(k), None) => {
                if !paid.is_empty() {
                    prop_assert_eq!(k.code, KeyCode::Enter);
                    prop_assert_eq!(before.desk.screen, ScreenId::Sale);
                    match paid[0] {
                        PayRequest::Sale { amount, .. } | PayRequest::PreAuth { amount } => {
                            prop_assert_eq!(amount.grouped(), before.sale.amount.display(2));
                        }
                        other => prop_assert!(false, "Enter charged {other:?}"),
                    }
                }
            }
        }
        // The amount holds only digits typed since it was last cleared or filled in.
        let field = &m.sale.amount;
        if field.is_empty() || field.prefilled {
            typed.clear();
        } else if let Some(KeyEvent {
            code: KeyCode::Char(c),
            ..
        }) = key
            && c.is_ascii_digit()
        {
            typed.push(c);
        }
        if !field.prefilled {
            prop_assert!(
                within(&field.digits, &typed),
                "amount {} not typed since cleared ({typed}); after {step:?}",
                field.digits
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_screen_sends_exactly_what_it_showed(steps in steps()) {
        run(steps)?;
    }
}
