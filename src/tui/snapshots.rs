//! Every screen in its main states at 80x24, as characters (insta snapshots), plus
//! buffer assertions for the styles that carry meaning.

use insta::assert_snapshot;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;

use super::fixtures::{busy_model, row};
use super::model::{Flight, Modal, Model, ScreenId, TextField};
use super::screens::diagnostics::Checkup;
use super::screens::refund::RefundField;
use super::screens::sale::{SaleField, SaleKind};
use super::screens::settings::{Finding, Pairing, Setting};
use super::theme::Theme;
use super::update::{Msg, update};
use super::view::view;
use crate::config::Saved;
use crate::ecr::TransType;
use crate::journal::{TxnKind, TxnState};
use crate::lane::{PayRequest, QueryResult};
use crate::money::Money;
use crate::terminal_reach::Check;

fn draw(m: &Model, theme: &Theme) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test backend");
    terminal.draw(|f| view(f, m, theme)).expect("draws");
    terminal.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            let line: String = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn snap(m: &Model) -> String {
    text(&draw(m, &Theme::mono()))
}

fn key(m: &mut Model, code: crossterm::event::KeyCode) {
    update(
        m,
        Msg::Key(crossterm::event::KeyEvent::new(
            code,
            crossterm::event::KeyModifiers::NONE,
        )),
    );
}

fn on(screen: ScreenId) -> Model {
    let mut m = busy_model();
    m.desk.screen = screen;
    m
}

#[test]
fn sale_screen_states() {
    let mut m = busy_model();
    assert_snapshot!("sale_empty", snap(&m));
    for c in "1234".chars() {
        key(&mut m, crossterm::event::KeyCode::Char(c));
    }
    key(&mut m, crossterm::event::KeyCode::Tab);
    for c in "150".chars() {
        key(&mut m, crossterm::event::KeyCode::Char(c));
    }
    assert_snapshot!("sale_typed", snap(&m));
    let mut e = busy_model();
    key(&mut e, crossterm::event::KeyCode::Enter);
    assert_snapshot!("sale_error", snap(&e));
}

/// A card sale of 12.34 the terminal is working on.
fn sale_in_flight() -> Flight {
    Flight {
        request: PayRequest::Sale {
            amount: Money::from_minor(1234, 2).expect("amount"),
            tip: None,
            cashback: None,
            scenario: crate::ecr::PayScenario::Card,
            force: false,
            options: crate::lane::SaleOptions::default(),
        },
        order_no: Some("L01-1124-000005".into()),
        started: std::time::Instant::now(),
        progress: vec![],
        cancel_asked: false,
        unknown: false,
        from: None,
    }
}

#[test]
fn waiting_for_the_terminal() {
    let mut m = busy_model();
    let mut flight = sale_in_flight();
    flight.progress = vec![
        "outcome unknown (link lost); asking the terminal".into(),
        "asking the terminal (query 1)".into(),
    ];
    m.desk.flight = Some(flight);
    assert_snapshot!("sale_in_flight", snap(&m));
}

#[test]
fn results_are_unmistakable() {
    for state in [TxnState::Approved, TxnState::Declined, TxnState::Unknown] {
        let mut m = busy_model();
        let mut r = row(
            "L01-1124-000005",
            TxnKind::Trans(TransType::Sale),
            state,
            1234,
        );
        if state == TxnState::Declined {
            r.reply.response_msg = Some("Transaction declined[51 Insufficient funds]".into());
        }
        m.desk.result = Some(r);
        assert_snapshot!(format!("result_{}", state.name()), snap(&m));
    }
    // A payment cancelled at the terminal says so, not DECLINED.
    let mut m = busy_model();
    let mut r = row(
        "L01-KQXRT-1124-000007",
        TxnKind::Trans(TransType::Sale),
        TxnState::Declined,
        700,
    );
    r.reply.response_code = Some("110".into());
    m.desk.result = Some(r);
    let screen = snap(&m);
    assert!(
        screen.contains(" CANCELLED ") && !screen.contains("DECLINED"),
        "{screen}"
    );
    // Cash-back: the cashier reads what to hand over, and the total charged.
    let mut m = busy_model();
    let mut r = row(
        "L01-KQXRT-1124-000008",
        TxnKind::Trans(TransType::CashbackSale),
        TxnState::Approved,
        1000,
    );
    r.tip = Some(Money::from_minor(100, 2).expect("amount"));
    r.cashback = Some(Money::from_minor(2000, 2).expect("amount"));
    m.desk.result = Some(r);
    let screen = snap(&m);
    for text in [
        "tip 1.00",
        "cash-back 20.00",
        "total 31.00 USD",
        "GIVE 20.00 CASH",
    ] {
        assert!(screen.contains(text), "{text}: {screen}");
    }
    // A partial approval says in words what is left to collect.
    let mut m = busy_model();
    let mut r = row(
        "L01-KQXRT-1124-000006",
        TxnKind::Trans(TransType::Sale),
        TxnState::Approved,
        500,
    );
    r.asked = Money::from_minor(1000, 2).expect("amount");
    m.desk.result = Some(r);
    let screen = snap(&m);
    assert!(
        screen.contains("APPROVED 5.00 of 10.00: collect 5.00 another way"),
        "{screen}"
    );
    assert_snapshot!("result_partial", screen);
    // The word carries the role's style, in colour and in monochrome alike.
    let mut m = busy_model();
    m.desk.result = Some(row(
        "L01-1",
        TxnKind::Trans(TransType::Sale),
        TxnState::Approved,
        100,
    ));
    for theme in [Theme::default_theme(), Theme::mono()] {
        let buf = draw(&m, &theme);
        let (x, y) = find(&buf, "APPROVED").expect("the word is on screen");
        assert_eq!(
            buf[(x, y)].style().add_modifier,
            theme.approved.add_modifier,
            "{}",
            theme.name
        );
        assert_eq!(
            buf[(x, y)].fg,
            theme.approved.fg.unwrap_or(ratatui::style::Color::Reset)
        );
    }
}

fn find(buf: &Buffer, word: &str) -> Option<(u16, u16)> {
    let rows = text(buf);
    rows.lines().enumerate().find_map(|(y, line)| {
        let byte = line.find(word)?;
        Some((line[..byte].chars().count() as u16, y as u16))
    })
}

#[test]
fn other_screens() {
    let mut refund = on(ScreenId::Refund);
    refund.refund.orig.set("L01-1124-000001");
    refund.refund.found = Some((
        refund.desk.data.open_rows[3].clone(),
        Some(Money::from_minor(1200, 2).expect("amount")),
    ));
    refund.refund.focus = RefundField::Amount;
    assert_snapshot!("refund_found", snap(&refund));

    // Before an original is found: the payments it may be, the picked one highlighted.
    let mut picking = on(ScreenId::Refund);
    picking.refund.orig.set("3919");
    picking.refund.picked = Some(0);
    assert_snapshot!("refund_picklist", snap(&picking));

    let mut completion = on(ScreenId::Sale);
    completion.sale.kind = SaleKind::Completion;
    completion.sale.focus = SaleField::Orig;
    completion.desk.data.completable = vec![row(
        "L01-1124-000009",
        TxnKind::Trans(TransType::PreAuth),
        TxnState::Approved,
        8000,
    )];
    assert_snapshot!("completion_picklist", snap(&completion));

    assert_snapshot!("void_list", snap(&on(ScreenId::Void)));

    let mut tip = on(ScreenId::Tip);
    tip.tip.editing = true;
    tip.tip.tip.digits = "300".into();
    assert_snapshot!("tip_editing", snap(&tip));

    let mut query = on(ScreenId::Query);
    query.query.order.set("L01-1124-000001");
    query.query.result = Some(QueryResult {
        answer: None,
        row: Some(query.desk.data.open_rows[3].clone()),
    });
    assert_snapshot!("query_result", snap(&query));

    assert_snapshot!("batch_open", snap(&on(ScreenId::Batch)));

    let mut journal = on(ScreenId::Journal);
    assert_snapshot!("journal_list", snap(&journal));
    journal.journal.detail = true;
    journal.journal.audit = vec![
        crate::journal::AuditRow {
            at: "2026-11-24T12:00:00.000Z".into(),
            who: "lane".into(),
            from: None,
            to: "pending".into(),
            why: "journaled before sending".into(),
        },
        crate::journal::AuditRow {
            at: "2026-11-24T12:00:01.000Z".into(),
            who: "lane".into(),
            from: Some("pending".into()),
            to: "approved".into(),
            why: "terminal answered 0 SUCCESS".into(),
        },
    ];
    assert_snapshot!("journal_detail", snap(&journal));

    assert_snapshot!("diagnostics", snap(&on(ScreenId::Diagnostics)));
    // The check-up: what passed, where it stopped, and the fix, above the wire log.
    let mut checked = on(ScreenId::Diagnostics);
    checked.desk.link.up = false;
    checked.desk.link.state = "DOWN: connection refused".into();
    checked.diag.checkup = Checkup::Done(vec![
        Check::pass("address", "ws://192.168.1.20:35779 (config file)".into()),
        Check::pass(
            "name resolution",
            "192.168.1.20 -> 192.168.1.20:35779 in 0 ms".into(),
        ),
        Check::fail(
            "tcp connect",
            "192.168.1.20:35779 refused: nothing listens on that port".into(),
            "ECR Hub is off or the port is wrong".into(),
        ),
    ]);
    assert_snapshot!("diagnostics_checkup", snap(&checked));
    // A check-up that got further, with a long fix, at 80x24: the fix shows whole and
    // the steps that passed share a line; it says when it was made.
    checked.diag.checked_at = Some("12:00:05".into());
    checked.diag.checkup = Checkup::Done(vec![
        Check::pass("address", "ws://192.168.1.20:35779 (config file)".into()),
        Check::pass("name resolution", "192.168.1.20 -> 192.168.1.20:35779".into()),
        Check::pass("tcp connect", "192.168.1.20:35779 in 2 ms".into()),
        Check::fail(
            "websocket upgrade",
            "the terminal closed the connection during the upgrade".into(),
            "another register may hold the terminal's ECR Hub session: close it there, then restart the CodePay Register app and press r".into(),
        ),
    ]);
    let shown = snap(&checked);
    for whole in [
        "check-up at 12:00:05",
        "[ ok ] address, name resolution, tcp connect",
        "then restart the CodePay Register app and press r",
    ] {
        assert!(shown.contains(whole), "{whole}:\n{shown}");
    }

    let mut settings = on(ScreenId::Settings);
    settings.settings.fields = settings_fields();
    settings.settings.focus = 2;
    assert_snapshot!("settings", snap(&settings));
    // The url's help wraps at 80 columns, its second line as far in as the first.
    settings.settings.focus = 0;
    assert_snapshot!("settings_url_help", snap(&settings));
    settings.settings.focus = 2;

    settings.settings.finding = Finding::Found {
        terminals: vec![
            crate::discover::Terminal {
                serial: "WPYB002248000123".into(),
                address: "ws://192.168.1.20:35779".into(),
                app_name: Some("CodePay Register".into()),
                app_version: Some("2.1.0".into()),
            },
            crate::discover::Terminal {
                serial: "WPYB002248000456".into(),
                address: "ws://192.168.1.31:35779".into(),
                app_name: None,
                app_version: None,
            },
        ],
        at: 1,
    };
    assert_snapshot!("settings_terminals_found", snap(&settings));

    // A terminal asks to pair: its name (outside text, masked) and address, y or n.
    settings.settings.finding = Finding::Off;
    settings.settings.pairing = Pairing::Asks {
        at: Some("ws://192.168.1.5:41234".into()),
        name: "Front 4111 11** **** 1111".into(),
        address: "ws://192.168.1.20:35779".into(),
    };
    settings.settings.message = Some("refused Back office; the config is unchanged".into());
    assert_snapshot!("settings_pair_asks", snap(&settings));

    assert_snapshot!("help", snap(&on(ScreenId::Help)));
}

#[test]
fn dialogs_and_a_troubled_link() {
    let mut menu = busy_model();
    menu.desk.modal = Some(Modal::Menu);
    assert_snapshot!("menu", snap(&menu));

    let mut confirm = on(ScreenId::Void);
    key(&mut confirm, crossterm::event::KeyCode::Enter);
    assert_snapshot!("confirm_void", snap(&confirm));

    let mut over = on(ScreenId::Journal);
    over.desk.modal = Some(Modal::Override {
        order_no: "L01-1124-000009".into(),
        approve: true,
        note: text_field("receipt shows approval", 200),
    });
    assert_snapshot!("override", snap(&over));

    let mut down = busy_model();
    down.desk.link.up = false;
    down.desk.link.state = "down: no answer from the terminal for 16s; retry in 2.0s".into();
    down.desk.unresolved = vec!["L01-1124-000007".into(), "L01-1124-000008".into()];
    down.desk.demo = true;
    let buf = draw(&down, &Theme::mono());
    assert_snapshot!("link_down", text(&buf));
    let (x, y) = find(&buf, "unresolved 2").expect("the count is on screen");
    assert!(
        buf[(x, y)].modifier.contains(Modifier::REVERSED),
        "unresolved rows stand out"
    );
}

#[test]
fn the_selection_shows_without_colour() {
    let m = on(ScreenId::Journal);
    let buf = draw(&m, &Theme::mono());
    let (x, y) = find(&buf, "1124-000004").expect("the row is on screen");
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn any_size_draws_without_panicking() {
    let mut m = busy_model();
    m.desk.modal = Some(Modal::Menu);
    for (w, h) in [(1, 1), (20, 6), (40, 10), (79, 23), (200, 60)] {
        for screen in ScreenId::ALL {
            m.desk.screen = screen;
            let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
            terminal
                .draw(|f| view(f, &m, &Theme::default_theme()))
                .expect("draws at any size");
        }
    }
}

#[test]
fn a_window_too_small_says_how_large_it_must_be() {
    let mut terminal = Terminal::new(TestBackend::new(50, 12)).expect("test backend");
    let mut m = busy_model();
    m.desk.flight = Some(sale_in_flight());
    terminal
        .draw(|f| view(f, &m, &Theme::mono()))
        .expect("draws");
    let screen = text(terminal.backend().buffer());
    let said = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        said.contains("enlarge the window to at least 60x16 for Sale (now 50x12)"),
        "{screen}"
    );
    assert!(said.contains("in flight: SALE 12.34 USD"), "{screen}");
}

/// Each screen at its own minimum size shows what it is for and its whole key line;
/// a column or a row less, it asks for a larger window instead of drawing a broken one.
#[test]
fn every_screen_fits_its_minimum_size_and_asks_for_it_below() {
    let marks = [
        (ScreenId::Sale, "Total"),
        (ScreenId::Refund, "Amount"),
        (ScreenId::Void, "3919"),
        (ScreenId::Tip, "4417"),
        (ScreenId::Query, "Order"),
        (ScreenId::Batch, "NET 57.50 USD"),
        (ScreenId::Journal, "search:"),
        (ScreenId::Diagnostics, "send>"),
        (ScreenId::Settings, "which receipts the terminal prints"),
        (ScreenId::Help, "Esc while paying asks to cancel"),
    ];
    for (screen, mark) in marks {
        let mut m = on(screen);
        m.desk.flight = None;
        m.desk.notice = None;
        m.settings.fields = settings_fields();
        m.settings.focus = m.settings.fields.len() - 1;
        let (w, h) = super::screens::min_size(screen);
        let draw = |w: u16, h: u16| {
            let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
            terminal
                .draw(|f| view(f, &m, &Theme::mono()))
                .expect("draws");
            text(terminal.backend().buffer())
        };
        let fits = draw(w, h);
        assert!(fits.contains(mark), "{screen:?} at {w}x{h}:\n{fits}");
        let keys = super::view::footer_text(&m);
        let footer: String = fits
            .lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join(" ");
        // Every word of the key line, in order (a line break stands for a " · ").
        let words = |text: &str| {
            text.split_whitespace()
                .filter(|w| *w != "·")
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert!(
            words(&footer).contains(&words(&keys)),
            "{screen:?} at {w}x{h}: footer cut:\n{fits}"
        );
        for (w, h) in [(w - 1, h), (w, h - 1)] {
            let small = draw(w, h);
            assert!(
                small.contains("enlarge the window"),
                "{screen:?} at {w}x{h}:\n{small}"
            );
        }
    }
}

#[test]
fn the_pair_prompt_fits_the_settings_screens_smallest_size() {
    let mut m = on(ScreenId::Settings);
    m.desk.notice = None;
    m.settings.fields = settings_fields();
    m.settings.pairing = Pairing::Asks {
        at: Some("ws://192.168.100.105:41234".into()),
        name: "Front desk of the second floor".into(),
        address: "ws://192.168.100.120:35779".into(),
    };
    m.settings.message = Some("refused Back office; the config is unchanged".into());
    let (w, h) = super::screens::min_size(ScreenId::Settings);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    terminal
        .draw(|f| view(f, &m, &Theme::mono()))
        .expect("draws");
    let screen = text(terminal.backend().buffer());
    for part in [
        "asks to pair",
        "ws://192.168.100.120:35779",
        "y yes, n no",
        "refused Back office",
        "y pair with it · n refuse · Esc stop pairing",
    ] {
        assert!(screen.contains(part), "{part} at {w}x{h}:\n{screen}");
    }
}

#[test]
fn settings_left_unsaved_show_a_star_and_say_so_on_return() {
    let mut m = on(ScreenId::Sale);
    m.settings.fields = settings_fields();
    key(&mut m, crossterm::event::KeyCode::F(10));
    key(&mut m, crossterm::event::KeyCode::Down);
    key(&mut m, crossterm::event::KeyCode::Down);
    key(&mut m, crossterm::event::KeyCode::Backspace);
    key(&mut m, crossterm::event::KeyCode::Char('2'));
    key(&mut m, crossterm::event::KeyCode::F(2));
    key(&mut m, crossterm::event::KeyCode::F(10));
    let screen = snap(&m);
    for part in ["lane               * L02", "unsaved: lane (Enter saves)"] {
        assert!(screen.contains(part), "{part}:\n{screen}");
    }
    assert!(
        screen.contains("url                  192.168.1.20"),
        "{screen}"
    );
}

fn settings_fields() -> Vec<Setting> {
    vec![
        Setting::text("url", "192.168.1.20", 200),
        Setting::text("app_id", "wz6012822ca2f1as78", 200),
        Setting::text("lane", "L01", 8),
        Setting::text("currency", "USD", 3),
        Setting::choice(
            "theme",
            vec![("default".into(), Saved::Text("default".into()))],
            &Saved::Text("default".into()),
        ),
        Setting::text("confirm_above", "10000", 20),
        Setting::flag("on_screen_tip", Some(true)),
        Setting::flag("on_screen_signature", None),
        Setting::flag("confirm_on_terminal", Some(false)),
        Setting::choice(
            "receipt",
            vec![
                ("terminal decides".into(), Saved::Unset),
                ("both".into(), Saved::Text("both".into())),
            ],
            &Saved::Text("both".into()),
        ),
    ]
}

fn text_field(text: &str, max: usize) -> TextField {
    let mut field = TextField::with_max(max);
    field.set(text);
    field
}

#[test]
fn a_plain_console_gets_ascii_lines_and_letters() {
    let mut theme = Theme::mono();
    theme.ascii = true;
    let mut m = busy_model();
    m.desk.result = Some(row(
        "L01-KQXRT-1124-000009",
        TxnKind::Trans(TransType::Sale),
        TxnState::Approved,
        100,
    ));
    let screen = text(&draw(&m, &theme));
    assert!(screen.contains("+--") && screen.contains('|'), "{screen}");
    assert!(
        !screen.contains('┌') && !screen.contains('│') && !screen.contains('█'),
        "{screen}"
    );
    assert!(screen.contains("#### "), "the big word in #: {screen}");
}

/// At every supported size the lists keep an order's sequence (what the cashier types
/// to find it) and every amount whole, thousands grouped.
#[test]
fn lists_keep_the_sequence_and_whole_amounts_at_every_size() {
    let mut m = on(ScreenId::Journal);
    let mut big = row(
        "L01-KQXRT-1203-000042",
        TxnKind::Trans(TransType::CompletionRefund),
        TxnState::Approved,
        123_456_789,
    );
    big.tip = Some(Money::from_minor(150_000, 2).unwrap_or(Money::zero(2)));
    let mut small = row(
        "L01-KQXRT-1203-000007",
        TxnKind::Trans(TransType::Sale),
        TxnState::Approved,
        1100,
    );
    small.id = 2;
    m.desk.data.journal.page.rows = vec![big.clone(), small];
    m.desk.data.open_rows = m.desk.data.journal.page.rows.clone();
    for (w, h) in [(60, 16), (80, 24), (120, 40)] {
        for screen in [ScreenId::Journal, ScreenId::Void] {
            m.desk.screen = screen;
            let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
            terminal
                .draw(|f| view(f, &m, &Theme::mono()))
                .expect("draws");
            let shown = text(terminal.backend().buffer());
            // Only the sale can be voided.
            let marks: &[&str] = match screen {
                ScreenId::Void => &["000007", "11.00"],
                _ => &["000042", "000007", "1,234,567.89", "11.00"],
            };
            for mark in marks {
                assert!(
                    shown.contains(mark),
                    "{screen:?} {w}x{h} lacks {mark}:\n{shown}"
                );
            }
            if screen == ScreenId::Journal {
                assert!(shown.contains("1,500.00"), "{w}x{h}:\n{shown}");
            }
        }
    }
}

#[test]
fn the_batch_screen_says_the_totals_are_being_tallied_and_keeps_its_net() {
    let mut m = on(ScreenId::Batch);
    m.desk.flight = None;
    m.desk.data.tallying = Some(123_456);
    let (w, h) = super::screens::min_size(ScreenId::Batch);
    for (w, h) in [(w, h), (80, 24)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        terminal
            .draw(|f| view(f, &m, &Theme::mono()))
            .expect("draws");
        let screen = text(terminal.backend().buffer());
        assert!(
            screen.contains("tallying totals after an upgrade: 123,456 rows to go"),
            "{w}x{h}:\n{screen}"
        );
        assert!(screen.contains("NET 57.50 USD"), "{w}x{h}:\n{screen}");
    }
}
