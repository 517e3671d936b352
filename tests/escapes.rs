//! A hostile terminal's text holding escape sequences (a CSI that redraws a declined
//! sale as a green APPROVED, OSC 52 that writes the clipboard, a one-byte C1 CSI, a
//! bidi override) reaches the command line's output, the log and the screen only as
//! visible escapes (`\x1b`), never as the bytes a terminal would act on.

mod common;

use common::hostile::{Hostile, Switches};
use common::pty::Screen;
use common::*;

/// The declined sale's `response_msg`: erase the line, go back, green APPROVED, then
/// the clipboard, a C1 CSI clearing the screen and a right-to-left override.
const HOSTILE_MSG: &str =
    "\x1b[2K\r\x1b[32mAPPROVED\x1b[0m\x1b]52;c;cm0gLXJmIH4=\x07\u{9b}2J\u{202e}devorppa";

/// The bytes a terminal acts on; none may come from the terminal's text.
fn acted_on(text: &[u8]) -> Vec<&'static str> {
    let s = String::from_utf8_lossy(text);
    [
        ("\x1b[32mAPPROVED", "CSI colour"),
        ("\x1b]52", "OSC 52"),
        ("\x07", "BEL"),
        ("\u{9b}", "C1 CSI"),
        ("\u{202e}", "RLO"),
        ("\x1b[2K\r", "erase line"),
    ]
    .into_iter()
    .filter(|(seq, _)| s.contains(seq))
    .map(|(_, name)| name)
    .collect()
}

fn declining() -> Switches {
    Switches {
        trans_status: Some("1".into()),
        message: Some(HOSTILE_MSG.into()),
        ..Switches::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_from_the_terminal_reach_output_and_log_only_as_visible_escapes() {
    let h = Hostile::start(declining()).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = || till(d, &h.url, QUICK);
    let sale = run(t(), &["sale", "5.00"]).await;
    assert_eq!(sale.code, 1, "declined: {}", sale.stderr);
    let json = run(t(), &["sale", "6.00", "--json", "--force"]).await;
    assert_eq!(json.code, 1, "{}", json.stderr);
    let order = json.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();
    let mut runs = vec![sale, json];
    runs.push(run(t(), &["query", &order]).await);
    runs.push(run(t(), &["history"]).await);
    runs.push(run(t(), &["history", "--search", &order[order.len() - 6..]]).await);
    for r in &runs {
        let both = format!("{}{}", r.stdout, r.stderr);
        assert!(
            acted_on(both.as_bytes()).is_empty(),
            "{:?}: {both}",
            acted_on(both.as_bytes())
        );
    }
    // The person reads what the terminal sent, as text.
    assert!(
        runs[0].stdout.contains("\\x1b[32mAPPROVED") && runs[0].stdout.contains("\\x1b]52;c;"),
        "{}",
        runs[0].stdout
    );
    // JSON escapes it its own way, which no terminal acts on either.
    assert!(runs[1].stdout.contains("\\u001b]52"), "{}", runs[1].stdout);
    let logs: Vec<u8> = files_under(&d.join("data/logs"))
        .into_iter()
        .flat_map(|(_, bytes)| bytes)
        .collect();
    assert!(!logs.is_empty());
    assert!(acted_on(&logs).is_empty(), "the log: {:?}", acted_on(&logs));
    assert!(!logs.contains(&0x1b), "a raw ESC in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_from_the_terminal_reach_the_screen_only_as_visible_escapes() {
    let h = Hostile::start(declining()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Screen::start(dir.path(), &h.url, &[]);
    s.wait_for("UP").await;
    s.keys("500\r");
    s.wait_for("DECLINED").await;
    s.wait_for("\\x1b[32mAPPROVED").await;
    let raw = s.raw.lock().unwrap().clone();
    assert!(acted_on(&raw).is_empty(), "{:?}", acted_on(&raw));
    s.keys(" ");
    s.keys("\x03");
    s.wait_for("Quit").await;
    s.keys("y");
    assert_eq!(s.exit_code().await, 0);
}
