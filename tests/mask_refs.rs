//! Masking keeps references and loses every card number: a processor's Luhn-valid
//! transaction number, our request ids and timestamps survive in the journal, the wire
//! log, the log file and stdout; a card number in free text, in any spelling, reaches
//! none of them.

mod common;

use common::hostile::{Hostile, PAN, PAN_SPELLINGS, Switches};
use common::*;
use serde_json::Value;
use till::ecr::PayScenario;
use till::journal::{Journal, TxnRow, TxnState};
use till::lane::{Event, LinkNews, PayRequest, SaleOptions};
use till::mask::{digit_value, is_card_number, is_issuer_card_number};
use till::money::Money;
use till::sim::Faults;

/// Date-prefixed, 16 digits, Luhn-valid: what the PCI rule alone would mask.
const TRANS_NO: &str = "2026120300000108";

async fn till_at(dir: &std::path::Path, h: &Hostile, args: &[&str]) -> Run {
    run(till(dir, &h.url, QUICK), args).await
}

fn row(dir: &std::path::Path, order: &str) -> TxnRow {
    Journal::open(&dir.join("data"))
        .expect("journal opens")
        .find(order)
        .expect("journal reads")
        .unwrap_or_else(|| panic!("{order} not journaled"))
}

fn order_of(out: &Run) -> String {
    out.json()["merchant_order_no"]
        .as_str()
        .unwrap_or_else(|| panic!("no order: {}\n{}", out.stdout, out.stderr))
        .to_string()
}

/// The log files' text.
fn logs(dir: &std::path::Path) -> String {
    files_under(&dir.join("data").join("logs"))
        .iter()
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .collect()
}

/// The request ids `till` sent for `topic`, as the terminal received them.
fn sent_ids(h: &Hostile, topic: &str) -> Vec<String> {
    h.received()
        .iter()
        .filter(|f| f["topic"] == topic)
        .filter_map(|f| f["request_id"].as_str().map(String::from))
        .collect()
}

/// What a reader could put together from `text`: separators (spaces of any kind,
/// tabs and their JSON escapes, dots, dashes, `+`, `%20`) dropped, digits of any
/// script read as ASCII, everything else a break.
fn readable_numbers(text: &str) -> Vec<String> {
    let text = text
        .replace("\\t", " ")
        .replace("\\u00a0", " ")
        .replace("%20", " ");
    let mut numbers = vec![String::new()];
    for c in text.chars() {
        if let Some(d) = digit_value(c) {
            if let Some(last) = numbers.last_mut() {
                last.push(char::from(b'0' + d));
            }
        } else if c == '*' {
            if let Some(last) = numbers.last_mut() {
                last.push('*');
            }
        } else if !(c.is_whitespace() || "\u{200b}.-+\u{2013}\u{2014}\u{2212}".contains(c)) {
            numbers.push(String::new());
        }
    }
    numbers.retain(|n| !n.is_empty());
    numbers
}

/// None of the card's spellings, nor its digits however joined, is in `text`.
fn assert_no_card(what: &str, text: &str) {
    for spelling in PAN_SPELLINGS {
        assert!(!text.contains(spelling), "{what}: {spelling:?} in {text}");
        let escaped = serde_json::to_string(spelling).expect("a string");
        let escaped = escaped.trim_matches('"');
        assert!(!text.contains(escaped), "{what}: {escaped} in {text}");
    }
    for number in readable_numbers(text) {
        assert!(!number.contains(PAN), "{what}: {number} in {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processor_references_survive_in_journal_log_and_stdout() {
    assert!(is_card_number(TRANS_NO) && !is_issuer_card_number(TRANS_NO));
    // The hostile terminal's fixed timestamp passes Luhn too.
    assert!(is_card_number(common::hostile::PLAIN_TIMESTAMP));
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Hostile::start(Switches {
        trans_no: Some(TRANS_NO.into()),
        ..Switches::default()
    })
    .await;
    let sale = till_at(dir.path(), &h, &["sale", "10.00", "--json", "-v"]).await;
    assert_eq!(sale.code, 0, "{}\n{}", sale.stdout, sale.stderr);
    let order = order_of(&sale);
    let row = row(dir.path(), &order);
    assert_eq!(row.state, TxnState::Approved);
    assert_eq!(row.reply.trans_no.as_deref(), Some(TRANS_NO));
    assert_eq!(
        row.reply.ref_no.as_deref(),
        Some(&*format!("REF{TRANS_NO}"))
    );
    let raw = row.reply.raw.clone().unwrap_or_default();
    let ids = sent_ids(&h, "ecrhub.pay.order");
    assert_eq!(ids.len(), 1, "{ids:?}");
    for kept in [
        format!(r#""trans_no":"{TRANS_NO}""#),
        format!(r#""timestamp":"{}""#, common::hostile::PLAIN_TIMESTAMP),
        format!(r#""request_id":"{}""#, ids[0]),
        format!(r#""merchant_order_no":"{order}""#),
    ] {
        assert!(
            raw.contains(&kept),
            "{kept} not in the journal's raw: {raw}"
        );
    }
    // The card field is masked all the same.
    assert!(raw.contains(r#""card_no":"411111******1111""#), "{raw}");
    assert!(
        sale.stdout.contains(TRANS_NO),
        "stdout: {}\n{}",
        sale.stdout,
        sale.stderr
    );
    let log = logs(dir.path());
    assert!(log.contains(TRANS_NO), "log: {log}");
    assert!(
        log.contains(common::hostile::PLAIN_TIMESTAMP),
        "the terminal's timestamp in the log: {log}"
    );

    // The raw console shows the frame with its references whole.
    let send = till_at(
        dir.path(),
        &h,
        &[
            "send",
            &format!(
                r#"{{"topic":"ecrhub.pay.query","request_id":"t-1","biz_data":{{"merchant_order_no":"{order}"}}}}"#
            ),
            "--json",
        ],
    )
    .await;
    assert!(send.stdout.contains(TRANS_NO), "{}", send.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_card_spelling_in_free_text_goes_nowhere() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Hostile::start(Switches {
        every_spelling: true,
        trans_no: Some(TRANS_NO.into()),
        ..Switches::default()
    })
    .await;
    let sale = till_at(dir.path(), &h, &["sale", "10.00", "--json", "-v"]).await;
    assert_eq!(sale.code, 0, "{}\n{}", sale.stdout, sale.stderr);
    let order = order_of(&sale);
    let query = till_at(dir.path(), &h, &["query", &order, "--json", "-v"]).await;
    let send = till_at(
        dir.path(),
        &h,
        &[
            "send",
            r#"{"topic":"ecrhub.heartbeat","request_id":"t-1"}"#,
            "--json",
            "-v",
        ],
    )
    .await;
    let history = till_at(dir.path(), &h, &["history", "--json"]).await;
    let human = till_at(dir.path(), &h, &["query", &order]).await;
    for (what, out) in [
        ("sale", &sale),
        ("query", &query),
        ("send", &send),
        ("history", &history),
        ("human query", &human),
    ] {
        assert_no_card(&format!("{what} stdout"), &out.stdout);
        assert_no_card(&format!("{what} stderr"), &out.stderr);
    }
    // The spellings did reach till: the message is there, masked.
    assert!(
        send.stdout.contains("４１１１１１******１１１１")
            && send.stdout.contains("4111 - 11** - **** - 1111"),
        "{}",
        send.stdout
    );

    let row = row(dir.path(), &order);
    assert_no_card(
        "response_msg",
        row.reply.response_msg.as_deref().unwrap_or(""),
    );
    let raw = row.reply.raw.clone().unwrap_or_default();
    assert_no_card("raw", &raw);
    let stored: Value = serde_json::from_str(&raw).expect("raw is JSON");
    assert!(
        stored["response_msg"]
            .as_str()
            .is_some_and(|m| m.contains("４１１１１１******１１１１")),
        "{raw}"
    );
    // Free text lost the card numbers, references kept their digits.
    assert_eq!(row.reply.trans_no.as_deref(), Some(TRANS_NO));
    assert!(raw.contains(TRANS_NO), "{raw}");
    assert_no_card("log", &logs(dir.path()));
    // Everything on disk: the journal (and its WAL) and the logs.
    for (path, bytes) in files_under(&dir.path().join("data")) {
        assert_no_card(
            &path.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        );
    }
}

/// The simulator numbers its transactions "2026" and a count: one in ten passes the
/// Luhn check. Each keeps its digits in the journal and the wire log.
#[tokio::test]
async fn the_simulators_luhn_valid_transaction_numbers_survive() {
    let mut rig = Rig::new(Faults::default()).await;
    let mut luhn_valid = 0;
    for _ in 0..12 {
        let order = rig
            .lane
            .pay(PayRequest::Sale {
                amount: Money::from_minor(100, 2).expect("money"),
                tip: None,
                cashback: None,
                scenario: PayScenario::Card,
                force: true,
                options: SaleOptions::default(),
            })
            .await
            .expect("accepted");
        let mut wire = Vec::new();
        let row = loop {
            match rig.wait_for(|_| true).await {
                Event::Link(LinkNews::Wire { text, .. }) => wire.push(text),
                Event::Done { row, .. } if row.order_no == order => break *row,
                _ => {}
            }
        };
        assert_eq!(row.state, TxnState::Approved);
        let trans_no = row.reply.trans_no.clone().unwrap_or_default();
        assert!(
            trans_no.bytes().all(|b| b.is_ascii_digit()),
            "masked: {trans_no}"
        );
        assert!(
            row.reply.raw.as_deref().unwrap_or("").contains(&trans_no),
            "{row:?}"
        );
        assert!(
            wire.iter().any(|w| w.contains(&trans_no)),
            "{trans_no} not in the wire log: {wire:?}"
        );
        // Our own envelope in the wire log: its timestamp whole.
        assert!(
            wire.iter()
                .any(|w| w.contains(r#""timestamp":""#) && !w.contains("*")),
            "{wire:?}"
        );
        if is_card_number(&trans_no) {
            luhn_valid += 1;
        }
    }
    assert!(luhn_valid > 0, "no Luhn-valid transaction number in 12");
    rig.assert_books_agree();
}
