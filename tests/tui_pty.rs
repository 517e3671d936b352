//! The real binary in a pseudo-terminal at 80x24 against the simulator: keys typed as
//! a cashier types them, the screen read as a cashier reads it.

mod common;

use std::time::Duration;

use common::pty::Screen;
use common::pty::keys::*;
use common::*;
use till::sim::Faults;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_is_approved_and_a_decline_says_so() {
    let (_dir, sim, mut s) = open_lane(
        Faults {
            decline_cents: Some(51),
            ..Faults::default()
        },
        &[],
    )
    .await;
    s.wait_for("F2 Sale").await;
    s.keys("1234");
    s.wait_for("12.34 USD").await;
    s.keys("\r");
    s.wait_for("APPROVED").await;
    // A frame arrives in pieces: each line is waited for, not read at once.
    s.wait_for("sale 12.34 USD").await;
    s.keys(" ");
    s.keys("1051\r");
    s.wait_for("DECLINED").await;
    s.wait_for("Insufficient funds").await;
    s.keys(" ");
    // The declined sale is still in the form: quitting asks first.
    s.keys(CTRL_C);
    s.wait_for("Quit and lose the amount typed").await;
    s.keys("y");
    assert_eq!(s.exit_code().await, 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overlay_stays_up_through_recovery_after_a_dropped_link() {
    let (_dir, sim, mut s) = open_lane(
        Faults {
            drop_after_order: true,
            ..Faults::default()
        },
        &[("NO_COLOR", "1")],
    )
    .await;
    s.keys("4200\r");
    // The overlay, which says not to charge again once the answer is lost.
    s.wait_for("Waiting for the terminal").await;
    s.wait_for("APPROVED").await;
    s.wait_for("42.00").await;
    assert_eq!(
        sim.stats().orders_received.values().sum::<u32>(),
        1,
        "sent once, resolved by query"
    );
    s.keys(" ");
    s.quit().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_leaves_the_terminal_restored() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let mut s = Screen::start(dir.path(), &sim.url(), &[("NO_COLOR", "1")]);
    s.wait_for("F2 Sale").await;
    // Every screen is reachable without F-keys: Esc, then a letter.
    for (letter, title) in [
        ("j", "F8 Journal"),
        ("d", "F9 Diagnostics"),
        ("h", "F1 Help"),
        ("s", "F2 Sale"),
    ] {
        s.keys(ESC);
        s.wait_for("Go to").await;
        s.keys(letter);
        s.wait_for(title).await;
    }
    s.quit().await;
    let raw = s.raw.lock().unwrap().clone();
    let tail = String::from_utf8_lossy(&raw[raw.len().saturating_sub(200)..]).to_string();
    assert!(
        tail.contains("\x1b[?1049l"),
        "left the alternate screen: {tail:?}"
    );
    assert!(tail.contains("\x1b[?25h"), "cursor shown again: {tail:?}");
    sim.shutdown().await;
}

fn signal(s: &Screen, sig: &str) {
    let pid = s.child.process_id().expect("child pid");
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hangup_mid_sale_waits_for_the_answer_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let sim = till::sim::Sim::start(till::sim::SimConfig {
        card_delay: Duration::from_secs(2),
        ledger: Some(ledger_path(dir.path())),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut s = Screen::start(dir.path(), &sim.url(), &[]);
    s.wait_for("UP").await;
    s.keys("777\r");
    s.wait_for("FOLLOW THE PROMPTS").await;
    signal(&s, "-HUP");
    assert_eq!(s.exit_code().await, 0);
    let journal = till::journal::Journal::open(&dir.path().join("data")).unwrap();
    let rows = journal.rows(till::journal::BatchSel::Open("L01")).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].state,
        till::journal::TxnState::Approved,
        "recorded before exiting"
    );
    sim.shutdown().await;

    // With nothing in flight, SIGTERM ends it at once.
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let mut s = Screen::start(dir.path(), &sim.url(), &[]);
    s.wait_for("UP").await;
    signal(&s, "-TERM");
    assert_eq!(s.exit_code().await, 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_screen_share_one_journal() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let cli = run(
        till(dir.path(), &sim.url(), QUICK),
        &["sale", "31.17", "--json"],
    )
    .await;
    assert_eq!(cli.code, 0, "{}", cli.stderr);
    let cli_order = cli.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();

    // The command line's lane: the batch is the lane's.
    let mut s = Screen::start(dir.path(), &sim.url(), &[("TILL_LANE", "C01")]);
    s.wait_for("UP").await;
    s.keys(F2);
    s.keys("4466\r");
    s.wait_for("APPROVED").await;
    s.keys(" ");
    s.keys(F8);
    s.wait_for("F8 Journal").await;
    // At 80 columns an order shows without the journal's identity.
    let parts: Vec<&str> = cli_order.split('-').collect();
    s.wait_for(&format!("{}-{}-{}", parts[0], parts[2], parts[3]))
        .await;
    s.keys(F7);
    s.wait_for("F7 Batch").await;
    s.wait_for("75.83").await; // 31.17 + 44.66
    s.quit().await;

    let history = run(till(dir.path(), &sim.url(), QUICK), &["history", "--json"]).await;
    let rows = history.json()["rows"].clone();
    let amounts: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["amount"].as_str())
        .collect();
    assert!(
        amounts.contains(&"44.66") && amounts.contains(&"31.17"),
        "{amounts:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_waits_for_a_lane_another_till_holds_and_then_owns_it() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let (mut sale, order) = frozen_sale(dir.path(), &sim.url(), "after-journal", "40.00").await;
    let mut s = Screen::start(dir.path(), &sim.url(), &[("TILL_LANE", "C01")]);
    s.wait_for("lane C01 is in use by till sale").await;
    // The sale's process dies before sending: the screen takes the lane and settles
    // the row it left (the terminal never saw it).
    sale.start_kill().unwrap();
    sale.wait().await.unwrap();
    s.wait_for("UP").await;
    s.wait_for("unresolved 0").await;
    let row = till::journal::Journal::open(&dir.path().join("data"))
        .unwrap()
        .find(&order)
        .unwrap()
        .unwrap();
    assert_eq!(row.state, till::journal::TxnState::Declined);
    // While the screen is open, another till on its lane hands its request to it.
    let query = run(till(dir.path(), &sim.url(), QUICK), &["query", &order]).await;
    assert_eq!(query.code, 0, "{}", query.stderr);
    assert!(query.stdout.contains(&order), "{}", query.stdout);
    assert!(
        query.stderr.contains("in use by the cashier screen"),
        "{}",
        query.stderr
    );
    s.quit().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decline_is_charged_again_with_enter_and_a_pre_auth_does_not_stick() {
    let (dir, sim, mut s) = open_lane(
        Faults {
            decline_cents: Some(51),
            ..Faults::default()
        },
        &[],
    )
    .await;
    s.keys("1051\r");
    s.wait_for("DECLINED").await;
    s.wait_for("Enter charge again").await;
    s.keys("\r"); // another card
    assert!(
        eventually(|| sim.stats().orders_received.len() == 2).await,
        "charged again"
    );
    s.wait_for("DECLINED").await;
    s.keys(" ");
    s.keys(DELETE); // this customer pays another way

    // Pre-auth for 17.17, then the next customer's 17.17 is a sale.
    s.keys(&format!("\t\t\t\t{RIGHT}\t"));
    s.wait_for("Pre-auth").await;
    s.keys("1717\r");
    s.wait_for("APPROVED").await;
    s.keys(" ");
    s.keys("1717\r");
    s.wait_for("sale 17.17 USD").await;
    s.keys(" ");
    s.quit().await;
    let journal = till::journal::Journal::open(&dir.path().join("data")).unwrap();
    let rows: Vec<(&str, String)> = journal
        .recent(10)
        .unwrap()
        .iter()
        .map(|r| (r.kind.name(), r.amount.to_string()))
        .collect();
    let want = [
        ("sale", "17.17"),
        ("pre-auth", "17.17"),
        ("sale", "10.51"),
        ("sale", "10.51"),
    ];
    assert_eq!(rows, want.map(|(k, a)| (k, a.to_string())), "newest first");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_replaces_a_prefill_and_ctrl_u_clears_a_field() {
    let (_dir, sim, mut s) = open_lane(Faults::default(), &[]).await;
    s.keys("1234\r");
    s.wait_for("APPROVED").await;
    s.keys(" ");
    // The journal's row into a refund: the whole 12.34 is suggested; 5 0 0 replaces it.
    s.keys(F8);
    s.wait_for("F8 Journal").await;
    s.keys("r");
    s.wait_for("refundable: 12.34").await;
    s.keys("500");
    s.wait_for("5.00 USD").await;
    assert!(!s.contents().contains("1234.00"), "{}", s.contents());
    // The query screen suggests the newest order; Ctrl-U clears it, letters do not
    // come from Ctrl.
    s.keys(F6);
    s.wait_for("F6 Query").await;
    s.keys("\x15"); // Ctrl-U
    s.keys("\x12"); // Ctrl-R: nothing
    s.keys("abc");
    s.wait_for("Order        ABC_").await;
    s.quit().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vt100_console_gets_ascii_borders() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let mut s = Screen::start(dir.path(), &sim.url(), &[("TERM", "vt100")]);
    s.wait_for("F2 Sale").await;
    s.wait_for("+-").await;
    assert!(!s.contents().contains('┌'), "{}", s.contents());
    s.quit().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_net_shows_at_80x24() {
    let (_dir, sim, mut s) = open_lane(Faults::default(), &[]).await;
    for digits in ["1000", "2500", "725"] {
        s.sell(digits).await;
    }
    s.keys(F7);
    s.wait_for("NET 42.25 USD").await;
    s.quit().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_checks_the_way_to_the_terminal_step_by_step() {
    let (_dir, sim, mut s) = open_lane(Faults::default(), &[]).await;
    s.keys(F9);
    s.wait_for("verdict: the terminal answers").await;
    s.keys("t");
    s.wait_for("[ ok ] websocket upgrade").await;
    s.wait_for("[ ok ] session").await;
    // The terminal goes away: the check-up stops where the way is cut, and says why.
    sim.shutdown().await;
    s.wait_for("verdict: no link").await;
    s.keys("t");
    s.wait_for("[FAIL] tcp connect").await;
    s.wait_for("refused").await;
    s.wait_for("fix: ECR Hub is off").await;
    s.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_option_saved_in_settings_goes_with_the_next_sale() {
    let (dir, sim, mut s) = open_lane(Faults::default(), &[]).await;
    s.keys(F10);
    s.wait_for("receipt").await;
    // url, app_id, lane, currency, theme, confirm_above, then on_screen_tip.
    s.keys(&DOWN.repeat(6));
    s.wait_for("asks the customer for a tip").await;
    s.keys(RIGHT); // yes
    s.wait_for("‹ yes ›").await;
    s.keys("\r");
    s.wait_for("apply now").await;
    let file = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert!(file.contains("on_screen_tip = true"), "{file}");
    s.keys(F2);
    s.keys("500\r");
    s.wait_for("APPROVED").await;
    let sent = sim.stats().last_order.expect("a pay.order");
    assert_eq!(sent["on_screen_tip"], serde_json::json!(true), "{sent}");
    s.keys(" ");
    s.quit().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_is_searched_and_a_refund_picks_its_original_from_a_list() {
    let (_dir, sim, mut s) = open_lane(Faults::default(), &[]).await;
    for digits in ["1000", "2500", "725"] {
        s.sell(digits).await;
    }
    s.keys(F8);
    s.wait_for("7.25").await;
    s.keys("/25.00");
    s.wait_for("search: 25.00").await;
    s.wait_until(|screen| screen.contains("25.00") && !screen.contains("10.00"))
        .await;
    s.keys("\r");
    s.keys(F3);
    s.wait_for("payments to refund").await;
    s.keys("7.25");
    s.wait_until(|screen| screen.contains("7.25") && !screen.contains("10.00"))
        .await;
    s.keys(DOWN);
    s.keys("\r");
    s.wait_for("refundable: 7.25 USD").await;
    s.quit().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_mid_payment_shows_the_answer_before_closing() {
    let dir = tempfile::tempdir().unwrap();
    let sim = till::sim::Sim::start(till::sim::SimConfig {
        card_delay: Duration::from_secs(4),
        ledger: Some(ledger_path(dir.path())),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut s = Screen::start(dir.path(), &sim.url(), &[]);
    s.wait_for("UP").await;
    s.keys("888\r");
    s.wait_for("FOLLOW THE PROMPTS").await;
    s.keys(CTRL_C);
    s.wait_for("Quit when the terminal has").await;
    s.keys("y");
    s.wait_for("APPROVED").await;
    s.wait_for("any key: close till").await;
    assert!(
        s.child.try_wait().unwrap().is_none(),
        "still open: the answer shows"
    );
    s.keys(" ");
    assert_eq!(s.exit_code().await, 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_set_while_the_screen_is_open_is_asked_for_by_that_screen() {
    let (dir, sim, mut s) = open_lane(Faults::default(), &[]).await;
    s.keys("1100\r");
    s.wait_for("APPROVED").await;
    s.keys(" ");
    // Another shell sets a PIN in the same config file.
    let config = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    let mut set = till(dir.path(), &sim.url(), &config);
    set.args(["config", "set-pin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = set.spawn().unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"2468\n2468\n").await.unwrap();
    }
    assert!(child.wait().await.unwrap().success());
    s.wait_for("the config file changed").await;
    // The void now waits for the PIN.
    s.keys(F4);
    s.wait_for("F4 Void").await;
    s.keys("\r");
    s.wait_for("Void sale 11.00 USD").await;
    s.keys("y");
    s.wait_for("needs the supervisor's PIN").await;
    assert!(
        sim.stats().orders_received.len() == 1,
        "nothing sent without it"
    );
    s.keys(ESC);
    s.quit().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_finds_its_original_by_the_end_and_says_when_nothing_is_left() {
    let (_dir, sim, mut s) = open_lane(Faults::default(), &[]).await;
    s.keys("1234\r");
    s.wait_for("APPROVED").await;
    s.keys(" ");
    // The end of the order number finds it; all of it is refunded.
    s.keys(F3);
    s.wait_for("payments to refund").await;
    s.keys("000001\r");
    s.wait_for("refundable: 12.34 USD").await;
    s.keys("\r");
    s.wait_for("Refund 12.34 USD of sale 12.34 USD").await;
    s.keys("y");
    s.wait_for("APPROVED").await;
    s.keys(" ");
    // Asked again, it is in the journal: nothing is left of it, and the screen says so.
    s.keys(F3);
    s.wait_for("payments to refund").await;
    s.keys("000001\r");
    s.wait_for("nothing is left to refund of").await;
    assert!(
        !s.contents().contains("not in the journal"),
        "{}",
        s.contents()
    );
    s.quit().await;
    sim.shutdown().await;
}

/// A journal slow to open (an upgrade, a slow disk) does not keep the screen from the
/// cashier: it is drawn at once, and a sale charged before the journal is open waits in
/// the lane's queue. Nothing reaches the terminal before the journal has the row; then
/// the sale goes once, or is refused aloud (the terminal not connected yet) and goes
/// once when charged again: never twice, never silently dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_charged_while_the_journal_opens_waits_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    // The screen's journal opens once something is written to this FIFO (a hook of the
    // fixtures build): slow without a clock.
    let gate = dir.path().join("gate");
    let made = std::process::Command::new("mkfifo")
        .arg(&gate)
        .status()
        .unwrap();
    assert!(made.success());
    let gate_env = gate.to_string_lossy().into_owned();
    let mut s = Screen::start(
        dir.path(),
        &sim.url(),
        &[
            ("TILL_FIXTURE_HOLD_OPENING", &gate_env),
            ("TILL_LANE", "C01"),
        ],
    );
    s.wait_for("opening the journal").await;
    s.keys("1234");
    s.wait_for("12.34 USD").await;
    s.keys("\r");
    s.wait_for("Waiting for the terminal").await;
    assert!(sim.stats().orders_received.is_empty());
    assert!(!dir.path().join("data").join("till.db").exists());

    std::fs::write(&gate, "open").unwrap();
    s.wait_until(|c| c.contains("APPROVED") || c.contains("the terminal is not connected"))
        .await;
    if !s.contents().contains("APPROVED") {
        // Refused before anything was journaled or sent; the amount stays for Enter.
        s.wait_for("UP").await;
        s.keys("\r");
        s.wait_for("APPROVED").await;
    }
    s.keys(" ");
    s.quit().await;

    let orders = sim.stats().orders_received;
    assert_eq!(orders.values().sum::<u32>(), 1, "{orders:?}");
    let history = run(till(dir.path(), &sim.url(), QUICK), &["history", "--json"]).await;
    let rows = history.json()["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["amount"], "12.34", "{rows:?}");
    sim.shutdown().await;
}
