//! Terminal-initiated pairing over loopback only: `till pair` (the register) and
//! `till sim --pair` (the terminal) as real processes; frames sent by hand for unpair
//! and malformed input; `till unpair` to a simulator; pairing from the Settings screen
//! of the real binary in a pseudo-terminal.

mod common;

use common::pty::keys::{F2, F10};
use std::net::Ipv4Addr;
use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

use till::discover::{self, terminal_advert};
use till::pair::terminal::{ask, find_register};

const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A register name no other test (or test process) advertises: they share the group.
fn name(tag: &str) -> String {
    format!("p{}{tag}", std::process::id())
}

/// `till pair` with these flags, running; its config file holds `config`.
fn start_pair(dir: &std::path::Path, url: &str, config: &str, args: &[&str]) -> Child {
    let mut cmd = common::till(dir, url, config);
    cmd.args([
        "pair",
        "--json",
        "--wait",
        "120",
        "--mdns-interface",
        "127.0.0.1",
    ])
    .args(args)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

async fn finish(child: Child) -> common::Run {
    let out = tokio::time::timeout(common::WAIT * 2, child.wait_with_output())
        .await
        .expect("till pair finishes")
        .unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `till sim --pair NAME`, and the register's answer it printed.
async fn sim_pairs_with(register: &str) -> (Child, Value) {
    sim_pairs_as(register, &[]).await
}

/// The same, with more of the simulator's flags (`--advertise SERIAL`).
async fn sim_pairs_as(register: &str, more: &[&str]) -> (Child, Value) {
    let mut sim = tokio::process::Command::new(env!("CARGO_BIN_EXE_till"))
        .args(["sim", "--port", "0", "--card-delay-ms", "0"])
        .args(["--pair", register, "--mdns-interface", "127.0.0.1"])
        .args(more)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(common::WAIT * 2, lines.next_line())
        .await
        .expect("the sim reports the answer")
        .unwrap()
        .expect("a line");
    (sim, serde_json::from_str(&line).unwrap())
}

/// The address of the register advertising `register`, found as a terminal would.
async fn register_address(register: &str) -> String {
    find_register(LOOPBACK, Some(register), common::WAIT)
        .await
        .unwrap()
        .expect("the register is advertised")
        .address
}

fn pair_frame(topic: &str, port: u16) -> String {
    json!({"topic": topic, "device_data": {
        "mac_address": "aa:bb:cc:dd:ee:ff", "device_name": "P2",
        "alias_name": "Front 4111 1111 1111 1111", "ip_address": "127.0.0.1", "port": port,
    }})
    .to_string()
}

#[tokio::test]
async fn an_accepted_terminal_is_saved_as_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let register = name("ACCEPT");
    let pairing = start_pair(
        dir.path(),
        "127.0.0.1:1",
        "lane = \"C01\"\n",
        &["--accept", "--name", &register],
    );
    let (_sim, answer) = sim_pairs_with(&register).await;
    let run = finish(pairing).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(answer["topic"], "ecrhub.pair");
    assert_eq!(answer["response_code"], "000");
    let sim_at = format!("ws://127.0.0.1:{}", answer["device_data"]["port"]);
    let json = run.json();
    assert_eq!(json["event"], "pair");
    assert_eq!(json["accepted"], true);
    assert_eq!(json["response_code"], "000");
    assert_eq!(json["terminal"]["address"], sim_at.as_str());
    let text = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert_eq!(text, format!("lane = \"C01\"\nurl = \"{sim_at}\"\n"));
}

#[tokio::test]
async fn an_accepted_terminal_that_advertises_itself_is_saved_by_serial() {
    let dir = tempfile::tempdir().unwrap();
    let register = name("SERIAL");
    let serial = format!("SNPAIR{}", std::process::id());
    let pairing = start_pair(
        dir.path(),
        "127.0.0.1:1",
        "lane = \"C01\"\n",
        &["--accept", "--name", &register],
    );
    let (_sim, answer) = sim_pairs_as(&register, &["--advertise", &serial]).await;
    let run = finish(pairing).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(answer["response_code"], "000");
    let json = run.json();
    assert_eq!(
        json["saved"]["url"],
        format!("sn:{serial}").as_str(),
        "{json}"
    );
    let text = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert_eq!(text, format!("lane = \"C01\"\nurl = \"sn:{serial}\"\n"));
}

#[tokio::test]
async fn a_refused_terminal_leaves_the_config_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let register = name("REFUSE");
    let config = "# the lane's file\nurl = \"10.0.0.9\"\n";
    let pairing = start_pair(
        dir.path(),
        "127.0.0.1:1",
        config,
        &["--refuse", "--name", &register],
    );
    let (_sim, answer) = sim_pairs_with(&register).await;
    let run = finish(pairing).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(answer["response_code"], "001");
    assert_eq!(run.json()["accepted"], false);
    assert_eq!(run.json()["response_code"], "001");
    let text = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert_eq!(text, config);
}

#[tokio::test]
async fn an_unpair_is_answered_000_and_names_the_configured_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let register = name("UNPAIR");
    let pairing = start_pair(
        dir.path(),
        "ws://127.0.0.1:40999",
        "",
        &["--accept", "--name", &register],
    );
    let at = register_address(&register).await;
    let answer = ask(&at, &pair_frame("ecrhub.unpair", 40999), common::WAIT)
        .await
        .unwrap();
    assert_eq!(answer["topic"], "ecrhub.unpair");
    assert_eq!(answer["response_code"], "000");
    assert_eq!(answer["device_data"]["port"], 40999, "the same object back");
    let run = finish(pairing).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["event"], "unpair");
    assert_eq!(json["configured"], true);
    assert_eq!(json["terminal"]["name"], "Front 4111 11** **** 1111");
    assert!(
        json["note"].as_str().unwrap().contains("pair it again"),
        "{json}"
    );
    let text = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert_eq!(text, "", "an unpair never edits the config");
}

#[tokio::test]
async fn a_malformed_frame_is_refused_with_the_reason_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let register = name("BAD");
    let pairing = start_pair(
        dir.path(),
        "127.0.0.1:1",
        "",
        &["--refuse", "--name", &register],
    );
    let at = register_address(&register).await;
    for (frame, says) in [
        ("{\"topic\": \"ecrhub.pair\", ", "not a JSON object"),
        (
            r#"{"topic":"ecrhub.pair","device_data":{"ip_address":"127.0.0.1"}}"#,
            "device_data.port",
        ),
    ] {
        let answer = ask(&at, frame, common::WAIT).await.unwrap();
        assert_eq!(answer["response_code"], "001", "{answer}");
        let msg = answer["response_msg"].as_str().unwrap();
        assert!(msg.contains(says), "{msg}");
    }
    // Still up: a good request is decided.
    let answer = ask(&at, &pair_frame("ecrhub.pair", 40998), common::WAIT)
        .await
        .unwrap();
    assert_eq!(answer["response_code"], "001");
    assert_eq!(answer["device_data"]["device_name"], "P2");
    let run = finish(pairing).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("refused a malformed frame")
            && run.stderr.contains("not a JSON object"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn pair_without_a_decision_and_without_a_terminal_to_ask_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run(
        common::till(dir.path(), "127.0.0.1:1", ""),
        &["pair", "--json"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.json()["error"]
            .as_str()
            .unwrap()
            .contains("--accept or --refuse")
    );
}

#[tokio::test]
async fn till_unpair_asks_the_configured_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let sim = common::start_sim(dir.path(), till::sim::Faults::default(), 0).await;
    let run = common::run(
        common::till(dir.path(), &sim.url(), common::QUICK),
        &["unpair", "--json"],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["topic"], "ecrhub.unpair");
    assert_eq!(json["response_code"], "000");
}

/// The screen on terminal `url` pairing from its Settings screen, and the address of its
/// pairing server. Its lane, and so the register's name till-LANE, is `tag` and this
/// process's id: no other test process uses it.
async fn pairing_screen(
    dir: &std::path::Path,
    url: &str,
    tag: &str,
) -> (common::pty::Screen, String) {
    let lane = format!("{tag}{}", std::process::id() % 10_000_000);
    let config = format!("{}lane = \"{lane}\"\n", common::QUICK);
    let mut s = common::pty::Screen::start_with(dir, url, &config, &[]);
    s.wait_for("UP").await;
    s.keys(F10);
    s.wait_for("receipt").await;
    s.keys("\x10"); // Ctrl-P
    s.wait_for("waiting for a terminal to pair").await;
    let at = register_address(&format!("till-{lane}")).await;
    (s, at)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_screen_pairs_and_the_lane_moves_to_the_accepted_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let a = common::start_sim(dir.path(), till::sim::Faults::default(), 0).await;
    // The terminal that pairs: a simulator advertising its serial, in a dir of its own.
    let b_dir = tempfile::tempdir().unwrap();
    let b = common::start_sim(b_dir.path(), till::sim::Faults::default(), 0).await;
    let serial = format!("SNSCREEN{}", std::process::id());
    let b_port = b.addr().port();
    let advert = terminal_advert(
        &serial,
        std::net::SocketAddrV4::new(LOOPBACK, b_port),
        "sim",
        "1",
    );
    let _ad = discover::advertise(LOOPBACK, advert).unwrap();
    let (mut s, at) = pairing_screen(dir.path(), &a.url(), "P").await;

    // One terminal is refused: 001, and the wait goes on.
    let asking = tokio::spawn({
        let at = at.clone();
        async move { ask(&at, &pair_frame("ecrhub.pair", 40997), common::WAIT).await }
    });
    s.wait_for("Front 4111 11** **** 1111 at ws://127.0.0.1:40997 asks to pair")
        .await;
    s.keys("n");
    let answer = asking.await.unwrap().unwrap();
    assert_eq!(answer["response_code"], "001");
    s.wait_for("refused Front").await;
    s.wait_for("waiting for a terminal to pair").await;

    // The next is accepted: 000, saved by serial, and the lane connects to it.
    let asking =
        tokio::spawn(
            async move { ask(&at, &pair_frame("ecrhub.pair", b_port), common::WAIT).await },
        );
    s.wait_for(&format!("at ws://127.0.0.1:{b_port} asks to pair"))
        .await;
    s.keys("y");
    let answer = asking.await.unwrap().unwrap();
    assert_eq!(answer["response_code"], "000");
    s.wait_for(&format!(
        "paired with Front 4111 11** **** 1111: url = sn:{serial}"
    ))
    .await;
    s.wait_for(&format!("UP sn:{serial} ws://127.0.0.1:{b_port}/"))
        .await;
    let text = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert!(text.contains(&format!("url = \"sn:{serial}\"")), "{text}");

    s.keys(F2);
    s.keys("500\r");
    s.wait_for("APPROVED").await;
    assert_eq!(b.stats().orders_received.len(), 1, "{:?}", b.stats());
    assert!(a.stats().orders_received.is_empty(), "{:?}", a.stats());
    s.keys(" \x03");
    assert_eq!(s.exit_code().await, 0);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_pairing_while_a_terminal_asks_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let sim = common::start_sim(dir.path(), till::sim::Faults::default(), 0).await;
    let (mut s, at) = pairing_screen(dir.path(), &sim.url(), "Q").await;
    let asking =
        tokio::spawn(
            async move { ask(&at, &pair_frame("ecrhub.pair", 40996), common::WAIT).await },
        );
    s.wait_for("at ws://127.0.0.1:40996 asks to pair").await;
    s.keys("\x1b");
    // The terminal hears no rather than a dropped connection, and nothing is saved.
    let answer = asking.await.unwrap().unwrap();
    assert_eq!(answer["response_code"], "001");
    s.wait_for("pairing stopped; Front 4111 11** **** 1111 was refused")
        .await;
    let text = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert!(!text.contains("40996"), "{text}");
    s.keys("\x03");
    assert_eq!(s.exit_code().await, 0);
    sim.shutdown().await;
}
