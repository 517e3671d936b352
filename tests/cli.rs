//! The headless commands, run as the real binary against the simulator: human and
//! `--json` output, and the exit codes a POS script acts on.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use till::sim::Faults;
use tokio::io::AsyncBufReadExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_and_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(
        dir.path(),
        Faults {
            decline_cents: Some(51),
            ..Faults::default()
        },
        0,
    )
    .await;
    let url = sim.url();
    let t = || till(dir.path(), &url, QUICK);

    let sale = run(t(), &["sale", "12.34", "--tip", "1.00", "--json"]).await;
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    let j = sale.json();
    for key in [
        "outcome",
        "kind",
        "merchant_order_no",
        "amount",
        "currency",
        "response_code",
        "response_msg",
        "trans_no",
        "trans_status",
        "brand",
        "card",
        "auth_code",
        "ref_no",
    ] {
        assert!(j.get(key).is_some(), "--json lacks {key}: {j}");
    }
    assert_eq!(j["outcome"], "approved");
    assert_eq!(j["amount"], "12.34");
    assert!(
        is_masked_card(j["card"].as_str().unwrap_or_default()),
        "{j}"
    );
    let order = j["merchant_order_no"].as_str().unwrap().to_string();
    assert!(order.starts_with("C01-") && order.len() <= 32);

    let human = run(t(), &["sale", "20.00"]).await;
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(human.stdout.starts_with("APPROVED"), "{}", human.stdout);
    assert!(human.stdout.contains("20.00"));

    let declined = run(t(), &["sale", "10.51", "--json"]).await;
    assert_eq!(declined.code, 1, "{}", declined.stderr);
    assert_eq!(declined.json()["outcome"], "declined");

    let dup = run(t(), &["sale", "12.34"]).await;
    assert_eq!(
        dup.code, 2,
        "a possible duplicate needs --force: {}",
        dup.stderr
    );
    assert!(dup.stderr.contains("--force"));
    let forced = run(t(), &["sale", "12.34", "--force", "--json"]).await;
    assert_eq!(forced.code, 0, "{}", forced.stderr);

    let refund = run(t(), &["refund", "2.34", "--orig", &order, "--json"]).await;
    assert_eq!(
        (refund.code, refund.json()["kind"].clone()),
        (0, Value::from("refund")),
        "{}",
        refund.stderr
    );
    let over = run(t(), &["refund", "50.00", "--orig", &order]).await;
    assert_eq!(over.code, 2, "{}", over.stderr);
    let unref = run(t(), &["refund", "3.00"]).await;
    assert_eq!(unref.code, 0, "{}", unref.stderr);
    // A refunded sale's tip is fixed; an untouched one's may change.
    let refunded_tip = run(t(), &["tip", &order, "2.50"]).await;
    assert_eq!(refunded_tip.code, 2, "{}", refunded_tip.stderr);
    assert!(refunded_tip.stderr.contains("has a refund"));
    let forced_order = forced.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();
    let tip = run(t(), &["tip", &forced_order, "2.50", "--json"]).await;
    assert_eq!(tip.code, 0, "{}", tip.stderr);
    assert_eq!(tip.json()["kind"], "tip-adjust");

    let auth = run(t(), &["auth", "80.00", "--json"]).await;
    assert_eq!(auth.code, 0, "{}", auth.stderr);
    let auth_order = auth.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();
    let complete = run(t(), &["complete", &auth_order, "75.00", "--json"]).await;
    assert_eq!(complete.code, 0, "{}", complete.stderr);
    assert_eq!(complete.json()["kind"], "completion");

    let query = run(t(), &["query", &order, "--json"]).await;
    assert_eq!(query.code, 0, "{}", query.stderr);
    assert_eq!(query.json()["terminal"]["trans_status"], "2");
    assert_eq!(query.json()["journal"]["merchant_order_no"], order.as_str());
    let query_human = run(t(), &["query", &order]).await;
    assert!(query_human.stdout.contains("terminal:") && query_human.stdout.contains("journal:"));

    // Partly refunded: a void would give back more than was charged.
    let void = run(t(), &["void", &order, "--json"]).await;
    assert_eq!(void.code, 2, "{}", void.stderr);
    assert!(
        void.json()["error"]
            .as_str()
            .unwrap_or("")
            .contains("can no longer be voided"),
        "{}",
        void.stdout
    );
    let forced_order = forced.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();
    let void = run(t(), &["void", &forced_order, "--json"]).await;
    assert_eq!(void.code, 0, "{}", void.stderr);
    let twice = run(t(), &["void", &forced_order]).await;
    assert_eq!(twice.code, 2, "{}", twice.stderr);
    assert!(
        twice.stderr.contains("already has a void"),
        "{}",
        twice.stderr
    );
    let void_again = run(t(), &["void", "C01-0000-999999"]).await;
    assert_eq!(void_again.code, 2, "{}", void_again.stderr);
    assert!(void_again.stderr.contains("not in the journal"));

    let close = run(t(), &["close", &order]).await;
    assert_eq!(
        close.code, 1,
        "closing a paid order is refused by the terminal: {}",
        close.stdout
    );

    let history = run(t(), &["history", "--json"]).await;
    assert_eq!(history.code, 0);
    assert!(history.json()["rows"].as_array().unwrap().len() >= 8);
    let csv = run(t(), &["history", "--csv"]).await;
    assert!(csv.stdout.starts_with("created_at,order_no,kind"));
    let report = run(t(), &["report", "--json"]).await;
    assert_eq!(report.code, 0);
    assert!(
        report.json()["per_kind"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kind"] == "sale")
    );

    let batch = run(t(), &["batch-close", "--json"]).await;
    assert_eq!(batch.code, 0, "{}", batch.stderr);
    let b = batch.json();
    assert!(b["journal_totals"]["net"].is_string(), "{b}");
    assert!(b["terminal_reply"]["batch_no"].is_string(), "{b}");
    let after = run(t(), &["report", "--batch", "1", "--json"]).await;
    assert_eq!(after.json()["batch"], 1);
    let open = run(t(), &["history", "--json"]).await;
    assert_eq!(
        open.json()["rows"].as_array().unwrap().len(),
        0,
        "a new batch is open"
    );

    let bad = run(t(), &["sale", "1,5"]).await;
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("decimal point"), "{}", bad.stderr);
    let letters = run(t(), &["sale", "abc"]).await;
    assert_eq!(letters.code, 2);
    let long = "X".repeat(40);
    let too_long = run(t(), &["void", &long]).await;
    assert_eq!(too_long.code, 2);
    assert!(
        too_long.stderr.contains("at most 32"),
        "{}",
        too_long.stderr
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_outcome_exits_3_and_recover_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(
        dir.path(),
        Faults {
            hold: Some(Duration::from_secs(4)),
            ..Faults::default()
        },
        0,
    )
    .await;
    let url = sim.url();
    let quick = "heartbeat_secs = 1\nconnect_timeout_secs = 2\nrequest_timeout_secs = 1\ncard_flow_timeout_secs = 1\n";
    let out = run(till(dir.path(), &url, quick), &["sale", "9.99", "--json"]).await;
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    let j = out.json();
    assert_eq!(j["outcome"], "unknown");
    let order = j["merchant_order_no"].as_str().unwrap().to_string();

    // While it is unresolved, no new money moves.
    let blocked = run(till(dir.path(), &url, quick), &["sale", "1.00"]).await;
    assert_eq!(blocked.code, 3, "{}", blocked.stderr);
    assert!(blocked.stderr.contains("unresolved"), "{}", blocked.stderr);

    tokio::time::sleep(Duration::from_secs(4)).await;
    sim.set_faults(Faults::default());
    let rec = run(till(dir.path(), &url, QUICK), &["recover", "--json"]).await;
    assert_eq!(rec.code, 0, "{}\n{}", rec.stdout, rec.stderr);
    let q = run(till(dir.path(), &url, QUICK), &["history", "--json"]).await;
    let rows = q.json()["rows"].clone();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["merchant_order_no"] == order.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["outcome"], "approved");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisor_override_needs_a_note_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    // The terminal takes the order and is then gone for good.
    let sim = start_sim(
        dir.path(),
        Faults {
            drop_after_order: true,
            ..Faults::default()
        },
        0,
    )
    .await;
    let url = sim.url();
    let quick = "heartbeat_secs = 1\nconnect_timeout_secs = 1\nrequest_timeout_secs = 1\ncard_flow_timeout_secs = 1\n";
    let mut cmd = till(dir.path(), &url, quick);
    cmd.args(["sale", "7.00", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.contains("outcome unknown") {
            break;
        }
    }
    sim.shutdown().await;
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let order = j["merchant_order_no"].as_str().unwrap().to_string();

    let no_note = run(
        till(dir.path(), &url, quick),
        &["resolve", &order, "--as", "approved", "--note", " "],
    )
    .await;
    assert_eq!(no_note.code, 2, "{}", no_note.stderr);
    let ok = run(
        till(dir.path(), &url, quick),
        &[
            "resolve",
            &order,
            "--as",
            "approved",
            "--note",
            "terminal receipt shows approval",
            "--json",
        ],
    )
    .await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(ok.json()["outcome"], "approved");
    let journal = till::journal::Journal::open(&dir.path().join("data")).unwrap();
    let audit = journal.audit(&order).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.who.starts_with("supervisor") && a.why.contains("receipt shows")),
        "{audit:?}"
    );
    let again = run(
        till(dir.path(), &url, quick),
        &["resolve", &order, "--as", "declined", "--note", "x"],
    )
    .await;
    assert_eq!(
        again.code, 2,
        "a final row is not overridden: {}",
        again.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_terminal_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = run(
        till(dir.path(), &format!("127.0.0.1:{closed}"), QUICK),
        &["sale", "1.00", "--json"],
    )
    .await;
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("unreachable"), "{}", out.stderr);
    assert!(out.json()["error"].is_string());
    let journal = till::journal::Journal::open(&dir.path().join("data")).unwrap();
    assert!(
        journal.unresolved().unwrap().is_empty(),
        "nothing journaled when nothing could be sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_send_and_config() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let ping = run(
        till(dir.path(), &url, QUICK),
        &["ping", "--count", "3", "--json"],
    )
    .await;
    assert_eq!(ping.code, 0, "{}", ping.stderr);
    let j = ping.json();
    assert_eq!(j["received"], 3);
    assert_eq!(j["device"]["device_sn"], "SIM0000000000001");
    assert!(j["rtt_ms"]["p50"].is_number());
    // One connection at a time, as a terminal takes them: the next ping starts once the
    // simulator has seen the last one go (a ping racing the previous close sometimes got
    // no heartbeat answered; see the session notes).
    let deadline = tokio::time::Instant::now() + WAIT;
    while sim.stats().connections_open > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let human = run(till(dir.path(), &url, QUICK), &["ping", "--count", "2"]).await;
    assert!(human.stdout.contains("round trip ms"), "{}", human.stdout);

    let send = run(
        till(dir.path(), &url, QUICK),
        &[
            "send",
            r#"{"topic":"ecrhub.heartbeat","request_id":"hb-77"}"#,
            "--json",
        ],
    )
    .await;
    assert_eq!(send.code, 0, "{}", send.stderr);
    assert!(send.stdout.contains("hb-77"));
    let not_json = run(till(dir.path(), &url, QUICK), &["send", "{oops"]).await;
    assert_eq!(not_json.code, 2);

    // Logs go to a file in the data dir, with the app id partly masked.
    let mut verbose = till(dir.path(), &url, QUICK);
    verbose.env("TILL_APP_ID", "wz6012822ca2f1as78");
    let sale = run(verbose, &["sale", "3.00", "-v"]).await;
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    let logs: String = std::fs::read_dir(dir.path().join("data/logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        logs.contains("outcome recorded") && logs.contains("frame out"),
        "{logs}"
    );
    assert!(
        logs.contains("wz60************78") && !logs.contains("wz6012822ca2f1as78"),
        "{logs}"
    );

    let mut cmd = till(dir.path(), &url, QUICK);
    cmd.env("TILL_APP_ID", "wz6012822ca2f1as78");
    let config = run(cmd, &["config"]).await;
    assert_eq!(config.code, 0);
    assert!(config.stdout.contains("env TILL_URL"), "{}", config.stdout);
    let line = |key: &str| {
        let found = config
            .stdout
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_default();
        found.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    assert!(
        line("heartbeat_secs").starts_with("heartbeat_secs = 1 # file"),
        "{}",
        config.stdout
    );
    assert_eq!(line("lane"), "lane = C01 # env TILL_LANE");
    assert!(
        !config.stdout.contains("wz6012822ca2f1as78"),
        "app id is partly masked"
    );
    let mut cmd = till(dir.path(), &url, "url = [\n");
    cmd.env_remove("TILL_URL");
    let broken = run(cmd, &["config"]).await;
    assert_eq!(broken.code, 4);
    assert!(broken.stderr.contains("line"), "{}", broken.stderr);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_the_failing_step() {
    let dir = tempfile::tempdir().unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = run(
        till(dir.path(), &format!("127.0.0.1:{closed}"), QUICK),
        &["doctor"],
    )
    .await;
    assert_eq!(out.code, 4);
    assert!(
        out.stdout.contains("FAILED at 'tcp connect'"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("ECR Hub"),
        "the terminal-side switch is named: {}",
        out.stdout
    );

    // A port that speaks HTTP but not WebSocket.
    let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_port = http.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = http.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
                .await;
        }
    });
    let out = run(
        till(dir.path(), &format!("127.0.0.1:{http_port}"), QUICK),
        &["doctor", "--json"],
    )
    .await;
    assert_eq!(out.code, 4);
    let j = out.json();
    assert_eq!(j["ok"], false);
    assert!(
        j["verdict"].as_str().unwrap().contains("websocket upgrade"),
        "{j}"
    );
    assert!(j["verdict"].as_str().unwrap().contains("200 OK"), "{j}");

    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let out = run(till(dir.path(), &sim.url(), QUICK), &["doctor"]).await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("can take payments"), "{}", out.stdout);
    assert!(
        out.stdout.contains("101"),
        "the status line is shown: {}",
        out.stdout
    );
    sim.shutdown().await;
}

/// PCI: a terminal that names a card number spelled with spaces and dashes (vector
/// `spaced_pan_in_message`), in its replies and in the reason it closes the socket
/// with, leaves no spelling of it in the journal (the SQLite file and its WAL), the log
/// file, stderr or the `--json` output; the masked text is there instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spaced_card_numbers_from_the_terminal_never_reach_disk_or_output() {
    let case = vector("spaced_pan_in_message");
    let frame: Value = serde_json::from_str(case["frame"].as_str().unwrap()).unwrap();
    let message = frame["response_msg"].as_str().unwrap().to_string();
    let forbidden: Vec<String> = case["expect"]["message_must_not_contain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    assert!(forbidden.iter().any(|w| message.contains(w.as_str())));

    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(
        dir.path(),
        Faults {
            reply_note: Some(message.clone()),
            close_after_order: Some(message.clone()),
            ..Faults::default()
        },
        0,
    )
    .await;
    let url = sim.url();
    let t = || till(dir.path(), &url, QUICK);

    // The sale's socket is closed with the card number as the reason; the lane asks
    // by query after reconnecting, and the query's answer names it again.
    let sale = run(t(), &["--json", "sale", "4.00", "-v"]).await;
    let order = sale.json()["merchant_order_no"]
        .as_str()
        .unwrap_or_else(|| panic!("{}\n{}", sale.stdout, sale.stderr))
        .to_string();
    sim.set_faults(Faults {
        reply_note: Some(message.clone()),
        ..Faults::default()
    });
    let mut outputs = vec![("sale", sale)];
    for (what, args) in [
        ("query", vec!["query", order.as_str(), "--json"]),
        ("history", vec!["history", "--json"]),
        ("history csv", vec!["history", "--csv"]),
        ("human query", vec!["query", order.as_str()]),
        ("batch-close", vec!["batch-close", "--json"]),
    ] {
        outputs.push((what, run(t(), &args).await));
    }
    sim.shutdown().await;

    let masked = "4111 11** **** 1111";
    let sale = &outputs[0].1;
    assert!(
        sale.stderr.contains("Declined card") && sale.stderr.contains(masked),
        "the close reason reached stderr, masked: {}",
        sale.stderr
    );
    let query = &outputs[1].1;
    assert!(
        query.stdout.contains(masked),
        "the terminal's message reached the output, masked: {}",
        query.stdout
    );
    for (what, out) in &outputs {
        for word in &forbidden {
            assert!(
                !out.stdout.contains(word.as_str()),
                "{what} stdout: {word}\n{}",
                out.stdout
            );
            assert!(
                !out.stderr.contains(word.as_str()),
                "{what} stderr: {word}\n{}",
                out.stderr
            );
        }
    }

    let data = dir.path().join("data");
    let journal = till::journal::Journal::open(&data).unwrap();
    let audit = journal.audit(&order).unwrap();
    assert!(
        audit.iter().any(|a| a.why.contains(masked)),
        "the journal's audit trail holds the masked close reason: {audit:?}"
    );
    drop(journal);
    let files = files_under(&data);
    let logs: String = files
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "log"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(
        logs.contains("Declined card") && logs.contains(masked),
        "the log file holds the masked text: {logs}"
    );
    assert!(
        files
            .iter()
            .any(|(p, _)| p.file_name().is_some_and(|n| n == till::journal::FILE_NAME)),
        "{files:?}"
    );
    for (path, bytes) in &files {
        for word in &forbidden {
            assert!(
                !bytes.windows(word.len()).any(|w| w == word.as_bytes()),
                "{word} in {}",
                path.display()
            );
        }
    }
}

/// A timeout no clock can add: a clear configuration error (exit 4) naming the key and
/// the file's line, never a panic, with or without `--json`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_timeouts_in_the_config_file_are_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let url = &closed_port_url();
    for (config, key, line) in [
        (
            "heartbeat_secs = 1\nrequest_timeout_secs = 18446744073709551615\n",
            "request_timeout_secs",
            2,
        ),
        (
            "card_flow_timeout_secs = 9223372036854775807\n",
            "card_flow_timeout_secs",
            1,
        ),
        ("heartbeat_secs = 0\n", "heartbeat_secs", 1),
        (
            "\nduplicate_window_secs = 99999999999\n",
            "duplicate_window_secs",
            2,
        ),
    ] {
        let human = run(till(dir.path(), url, config), &["sale", "1.00"]).await;
        assert_eq!(human.code, 4, "{config}: {}", human.stderr);
        assert!(human.stdout.is_empty(), "{}", human.stdout);
        assert!(!human.stderr.contains("panicked"), "{}", human.stderr);
        assert!(
            human.stderr.contains(key)
                && human.stderr.contains(&format!("line {line}"))
                && human.stderr.contains("out of range"),
            "{config}: {}",
            human.stderr
        );

        let json = run(till(dir.path(), url, config), &["--json", "sale", "1.00"]).await;
        assert_eq!(json.code, 4, "{config}: {}", json.stderr);
        let j = json.json();
        assert_eq!(j["exit_code"], 4, "{j}");
        assert!(j["error"].as_str().unwrap().contains(key), "{j}");
    }
    assert!(
        !dir.path()
            .join("data")
            .join(till::journal::FILE_NAME)
            .exists(),
        "nothing was journaled"
    );
}

/// Under `--json` every failure is exactly one JSON object on stdout with its exit
/// code: usage errors clap finds (2), bad values till finds (2), configuration (4).
/// `--help` and `--version` stay text, exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_failures_are_one_object_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let url = &closed_port_url();
    let t = |config: &str| till(dir.path(), url, config);
    for args in [
        &["--json", "sale", "abc"][..],
        &["sale", "abc", "--json"],
        &["--json", "sale"],
        &["--json", "bogus"],
        &["--json", "ping", "--count", "many"],
        &["--json", "--lane"],
        &["--json", "sale", "1.00", "--scenario", "cash"],
        &["--json", "refund", "1.00", "--orig"],
    ] {
        let out = run(t(QUICK), args).await;
        assert_eq!(out.code, 2, "{args:?}: {}\n{}", out.stdout, out.stderr);
        assert_eq!(out.stdout.lines().count(), 1, "{args:?}: {}", out.stdout);
        let j = out.json();
        assert_eq!(j["exit_code"], 2, "{args:?}: {j}");
        let error = j["error"].as_str().unwrap_or_default();
        assert!(!error.is_empty() && !error.starts_with("error:"), "{j}");
        assert!(
            !out.stderr.is_empty(),
            "{args:?}: the text goes to stderr too"
        );
    }
    // Without --json a usage error prints nothing on stdout.
    let plain = run(t(QUICK), &["sale"]).await;
    assert_eq!((plain.code, plain.stdout.as_str()), (2, ""));
    // After `--` an argument is a value, not the flag.
    assert!(!till::cli::wants_json(&[
        "till".into(),
        "send".into(),
        "--".into(),
        "--json".into()
    ]));

    for broken in ["url = [\n", "currency = \"dollars\"\n", "ulr = \"x\"\n"] {
        let out = run(t(broken), &["--json", "sale", "1.00"]).await;
        assert_eq!(out.code, 4, "{broken}: {}\n{}", out.stdout, out.stderr);
        assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
        let j = out.json();
        assert_eq!(j["exit_code"], 4, "{j}");
        assert!(
            j["error"].as_str().unwrap().contains("config")
                || j["error"].as_str().unwrap().contains("lane"),
            "{j}"
        );
    }

    for args in [
        &["--json", "--help"][..],
        &["--json", "sale", "--help"],
        &["--json", "--version"],
    ] {
        let out = run(t("url = [\n"), args).await;
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(
            serde_json::from_str::<Value>(out.stdout.trim()).is_err() && !out.stdout.is_empty(),
            "{args:?}: text, not JSON: {}",
            out.stdout
        );
    }
}

/// Terminal options from the command line reach the terminal in `biz_data` under the
/// protocol's names and types, and nothing more; the lane's defaults from the config
/// file go under what a command sets; a bad description sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_options_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let t = |config: &str| till(dir.path(), &url, config);
    let last_order = || sim.stats().last_order.expect("the simulator got an order");
    let order_of = |out: &Run| {
        out.json()["merchant_order_no"]
            .as_str()
            .unwrap_or_else(|| panic!("{}\n{}", out.stdout, out.stderr))
            .to_string()
    };

    let args = [
        "sale",
        "1.00",
        "--on-screen-tip",
        "--receipt",
        "both",
        "--description",
        "x",
        "--json",
    ];
    let sale = run(t(QUICK), &args).await;
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    let first = order_of(&sale);
    assert_eq!(
        last_order(),
        json!({"trans_type": "1", "merchant_order_no": first, "order_amount": "1.00",
               "price_currency": "USD", "pay_scenario": "SWIPE_CARD",
               "on_screen_tip": true, "receipt_print_mode": 3, "description": "x"})
    );

    // The lane's defaults, from the config file.
    let lane = format!(
        "{QUICK}on_screen_tip = true\nconfirm_on_terminal = true\nreceipt = \"merchant\"\n"
    );
    let sale = run(t(&lane), &["sale", "2.00", "--json"]).await;
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    assert_eq!(
        last_order(),
        json!({"trans_type": "1", "merchant_order_no": order_of(&sale),
               "order_amount": "2.00", "price_currency": "USD", "pay_scenario": "SWIPE_CARD",
               "on_screen_tip": true, "confirm_on_terminal": true, "receipt_print_mode": 1})
    );
    // A command's flags win over them; the last of --x / --no-x wins.
    let args = [
        "sale",
        "3.00",
        "--on-screen-tip",
        "--no-on-screen-tip",
        "--signature",
        "--receipt",
        "customer",
        "--json",
    ];
    let sale = run(t(&lane), &args).await;
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    let third = order_of(&sale);
    let biz = last_order();
    assert_eq!(
        (
            &biz["on_screen_tip"],
            &biz["on_screen_signature"],
            &biz["confirm_on_terminal"],
            &biz["receipt_print_mode"]
        ),
        (&json!(false), &json!(true), &json!(true), &json!(2)),
        "{biz}"
    );
    // A refund and a void take confirmation and receipts, never the sale's options.
    let args = [
        "refund",
        "1.00",
        "--orig",
        &first,
        "--no-confirm-on-terminal",
        "--json",
    ];
    let refund = run(t(&lane), &args).await;
    assert_eq!(refund.code, 0, "{}", refund.stderr);
    assert_eq!(
        last_order(),
        json!({"trans_type": "3", "merchant_order_no": order_of(&refund),
               "order_amount": "1.00", "orig_merchant_order_no": first,
               "pay_scenario": "SWIPE_CARD", "confirm_on_terminal": false,
               "receipt_print_mode": 1})
    );
    let void = run(t(&lane), &["void", &third, "--receipt", "none", "--json"]).await;
    assert_eq!(void.code, 0, "{}", void.stderr);
    assert_eq!(
        last_order(),
        json!({"trans_type": "2", "merchant_order_no": order_of(&void),
               "orig_merchant_order_no": third, "confirm_on_terminal": true,
               "receipt_print_mode": 0})
    );
    let shown = run(t(&lane), &["config", "--json"]).await;
    assert_eq!(
        shown.json()["receipt"]["value"],
        "merchant",
        "{}",
        shown.stdout
    );

    // Refused before anything is journaled or sent.
    let sent = sim.stats().orders_received.len();
    let long = "x".repeat(129);
    for (description, says) in [
        ("a\tb", "printable"),
        (long.as_str(), "at most 128"),
        (" ", "empty"),
    ] {
        let args = ["sale", "4.00", "--description", description, "--json"];
        let out = run(t(QUICK), &args).await;
        assert_eq!(out.code, 2, "{description:?}: {}", out.stderr);
        let error = out.json()["error"].as_str().unwrap_or_default().to_string();
        assert!(
            error.contains("description") && error.contains(says),
            "{error}"
        );
    }
    let bad_receipt = run(t(QUICK), &["sale", "4.00", "--receipt", "all", "--json"]).await;
    assert_eq!(bad_receipt.code, 2, "{}", bad_receipt.stderr);
    let on_void = run(t(QUICK), &["void", &third, "--on-screen-tip", "--json"]).await;
    assert_eq!(
        on_void.code, 2,
        "a void takes no tip on screen: {}",
        on_void.stderr
    );
    assert_eq!(
        sim.stats().orders_received.len(),
        sent,
        "nothing more was sent"
    );
    let bad_config = run(
        t(&format!("{QUICK}receipt = \"all\"\n")),
        &["sale", "4.00", "--json"],
    )
    .await;
    assert_eq!(bad_config.code, 4, "{}", bad_config.stderr);
    let error = bad_config.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        error.contains("receipt") && error.contains("line 5"),
        "{error}"
    );
    sim.shutdown().await;
}

/// An address where nothing listens (a port just bound and let go).
fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("127.0.0.1:{}", l.local_addr().unwrap().port())
}

/// Issue 20, the command line: an unknown order is "not found", every failure names a
/// stable `code`, `--limit` pages a batch too, and a read-only command on a data dir
/// without a journal says so and creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_carry_a_code_and_read_only_commands_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let t = || till(dir.path(), &url, QUICK);
    let code_of = |r: &Run| r.json()["code"].as_str().unwrap_or_default().to_string();

    // Nowhere to read from: exit 4, and the mistyped dir is not made.
    let nowhere = dir.path().join("mistyped");
    for args in [&["history", "--json"][..], &["report", "--json"][..]] {
        let mut cmd = t();
        cmd.env("TILL_DATA_DIR", &nowhere);
        let r = run(cmd, args).await;
        assert_eq!(r.code, 4, "{args:?}: {}", r.stdout);
        assert_eq!(code_of(&r), "no_journal", "{}", r.stdout);
        assert!(!nowhere.exists(), "{args:?} created {}", nowhere.display());
    }

    let mut orders = Vec::new();
    for amount in ["1.00", "2.00", "3.00"] {
        let r = run(t(), &["sale", amount, "--json"]).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        orders.push(r.json()["merchant_order_no"].as_str().unwrap().to_string());
    }

    // A sale of the same amount just approved: a duplicate, said so.
    let again = run(t(), &["sale", "3.00", "--json"]).await;
    assert_eq!(again.code, 2, "{}", again.stdout);
    assert_eq!(code_of(&again), "duplicate");

    // An order no one knows.
    let unknown = run(t(), &["query", "C01-NOBODY-000999", "--json"]).await;
    assert_eq!(unknown.code, 2, "{}\n{}", unknown.stdout, unknown.stderr);
    assert_eq!(code_of(&unknown), "not_found");
    assert!(
        unknown.json()["error"]
            .as_str()
            .unwrap()
            .contains("not found")
    );
    // A known one is still answered.
    let known = run(t(), &["query", &orders[0], "--json"]).await;
    assert_eq!(known.code, 0, "{}", known.stderr);

    // A batch that does not exist.
    let batch = run(t(), &["history", "--batch", "7", "--json"]).await;
    assert_eq!(batch.code, 2, "{}", batch.stdout);
    assert_eq!(code_of(&batch), "not_found");

    // --limit pages the open batch: the newest two, then the rest by the cursor.
    let first = run(t(), &["history", "--limit", "2", "--json"]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let shown = |r: &Run| -> Vec<String> {
        r.json()["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["merchant_order_no"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(shown(&first), [orders[2].clone(), orders[1].clone()]);
    let next = first.json()["next"].as_i64().expect("a cursor to the rest");
    let rest = run(
        t(),
        &[
            "history",
            "--limit",
            "2",
            "--before",
            &next.to_string(),
            "--json",
        ],
    )
    .await;
    assert_eq!(shown(&rest), orders[..1]);
    assert!(rest.json()["next"].is_null());

    // A usage error names its code too.
    let usage = run(t(), &["sale", "abc", "--json"]).await;
    assert_eq!(usage.code, 2);
    assert_eq!(code_of(&usage), "usage");
}

/// Issue 24: an upgrade's tally runs behind whatever opened the journal; `till status`
/// says how many rows are still to tally, and the count goes down to nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_says_how_many_rows_are_still_to_tally() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let t = || till(dir.path(), &url, QUICK);
    let r = run(t(), &["sale", "1.00", "--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let status = run(t(), &["status", "--json"]).await;
    assert_eq!(status.json()["totals_waiting"], 0, "{}", status.stdout);
    // A backlog as an upgrade leaves it, too long to tally before status counts it.
    let file = dir.path().join("data").join("till.db");
    rusqlite::Connection::open(&file)
        .unwrap()
        .execute_batch(
            "WITH RECURSIVE n(x) AS (SELECT 1000000 UNION ALL SELECT x + 1 FROM n WHERE x < 1299999)
             INSERT INTO tally_dirty_row (id) SELECT x FROM n;",
        )
        .unwrap();
    let status = run(t(), &["status", "--json"]).await;
    let waiting = status.json()["totals_waiting"].as_i64().unwrap_or(-1);
    assert!(waiting > 0 && waiting <= 300_000, "{}", status.stdout);
    let human = run(t(), &["status"]).await;
    assert!(human.stdout.contains("still to tally"), "{}", human.stdout);
    // Whoever opens the file tallies the rest behind it.
    let journal = till::journal::Journal::open(&dir.path().join("data")).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while journal.untallied().unwrap() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the tally never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = run(t(), &["status", "--json"]).await;
    assert_eq!(status.json()["totals_waiting"], 0, "{}", status.stdout);
    assert_eq!(
        status.json()["lanes"][0]["today"]["net"],
        "1.00",
        "{}",
        status.stdout
    );
}

/// Issue 22, monitoring: `till status` shows every lane of a data dir (who holds it,
/// unresolved rows, today's net) without taking any lane.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_every_lane_without_taking_one() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = sim.url();
    let t = || till(dir.path(), &url, QUICK);
    for amount in ["1.00", "2.00"] {
        let r = run(t(), &["sale", amount, "--json"]).await;
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    // Lane L02's till is stopped with its customer at the terminal.
    let mut l02 = t();
    l02.env("TILL_LANE", "L02");
    let (mut child, order) = frozen_sale_by(l02, dir.path(), "after-send", "4.00").await;

    let status = run(t(), &["status", "--json"]).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    let lanes = status.json()["lanes"].as_array().unwrap().clone();
    let lane = |name: &str| {
        lanes
            .iter()
            .find(|l| l["lane"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no lane {name}: {lanes:?}"))
    };
    let c01 = lane("C01");
    assert!(c01["held_by"].is_null(), "{c01}");
    assert_eq!(c01["today"]["net"], "3.00", "{c01}");
    assert_eq!(c01["unresolved"], json!([]));
    let l02 = lane("L02");
    assert!(
        l02["held_by"]
            .as_str()
            .unwrap_or_default()
            .contains("till sale"),
        "{l02}"
    );
    assert_eq!(l02["unresolved"], json!([order]));
    let human = run(t(), &["status"]).await;
    assert!(
        human.stdout.contains("lane L02  held by till sale"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains(&order), "{}", human.stdout);
    child.kill().await.unwrap();
    // Free again once its till is gone; status took no lane while it looked.
    let status = run(t(), &["status", "--json"]).await;
    let l02 = status.json()["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lane"] == "L02")
        .cloned()
        .unwrap();
    assert!(l02["held_by"].is_null(), "{l02}");
}
