//! Wrong supervisor PINs against bursts of real processes started at once: every
//! command that takes a PIN (a supervisor override, `config clear-pin`, `config set-pin
//! --current-pin`) checks it inside the count kept beside the config file, so no burst
//! has more than five checked, the right PIN in a burst after the lock is refused, and
//! scratch data dirs share the one count.

mod common;

use std::path::Path;

use common::*;
use till::supervisor_pin::hash_pin;

const PIN: &str = "2468";
const WRONG: &str = "86420864208";
const BURST: usize = 20;

fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("127.0.0.1:{}", l.local_addr().unwrap().port())
}

/// A config with a supervisor PIN, written once (the tests' `till` rewrites it).
fn config() -> String {
    format!(
        "{QUICK}supervisor_pin_hash = \"{}\"\n",
        hash_pin(PIN).unwrap().as_str()
    )
}

/// `till` on the config file as it is now, with a data dir of its own when given.
fn cmd(d: &Path, url: &str, data_dir: Option<&Path>) -> tokio::process::Command {
    let text = std::fs::read_to_string(d.join("config.toml")).unwrap();
    let mut cmd = till(d, url, &text);
    if let Some(data) = data_dir {
        cmd.env("TILL_DATA_DIR", data);
    }
    cmd
}

/// A supervisor override of an order no journal has: a right PIN gets as far as
/// "not found", a wrong or locked one no further than the PIN.
fn resolve_args(pin: &str) -> Vec<String> {
    [
        "resolve",
        "C01-0000-000001",
        "--as",
        "declined",
        "--note",
        "x",
        "--pin",
        pin,
    ]
    .map(String::from)
    .to_vec()
}

/// Runs every command at once, each with its own arguments; their runs in that order.
async fn burst(cmds: Vec<(tokio::process::Command, Vec<String>)>) -> Vec<Run> {
    let runs = cmds.into_iter().map(|(cmd, args)| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(cmd, &args).await
    });
    futures_util::future::join_all(runs).await
}

/// The PIN was checked and found wrong (the fifth says it locked PIN entry too).
fn checked_wrong(r: &Run) -> bool {
    r.code == 2 && r.stderr.contains("till: wrong supervisor PIN")
}

/// Refused unchecked: PIN entry was locked.
fn refused_locked(r: &Run) -> bool {
    r.code == 2
        && r.stderr.contains("have locked PIN entry until")
        && !r.stderr.contains("till: wrong supervisor PIN")
}

fn hash_in_file(d: &Path) -> Option<String> {
    let text = std::fs::read_to_string(d.join("config.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    table
        .get("supervisor_pin_hash")
        .and_then(|v| v.as_str())
        .map(String::from)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_wrong_pins_at_once_have_five_checked_and_the_right_one_after_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = closed_port_url();
    drop(till(d, &url, &config()));
    let runs = burst(
        (0..BURST)
            .map(|_| (cmd(d, &url, None), resolve_args(WRONG)))
            .collect(),
    )
    .await;
    let checked = runs.iter().filter(|r| checked_wrong(r)).count();
    let locked = runs.iter().filter(|r| refused_locked(r)).count();
    let said: Vec<&str> = runs.iter().map(|r| r.stderr.as_str()).collect();
    assert_eq!(checked, 5, "{said:#?}");
    assert_eq!(locked, BURST - 5, "{said:#?}");
    assert_eq!(
        runs.iter()
            .filter(|r| r.stderr.contains("locked PIN entry"))
            .count(),
        BURST - 4,
        "the fifth wrong one locked it: {said:#?}"
    );

    // Three bursts more, the right PIN among wrong ones: all refused unchecked.
    for right_at in [0, BURST / 2, BURST - 1] {
        let runs = burst(
            (0..BURST)
                .map(|i| {
                    let pin = if i == right_at { PIN } else { WRONG };
                    (cmd(d, &url, None), resolve_args(pin))
                })
                .collect(),
        )
        .await;
        for r in &runs {
            assert!(refused_locked(r), "{}", r.stderr);
        }
    }
    // The log says five wrong PINs, never a PIN.
    let logs: String = files_under(&d.join("data/logs"))
        .into_iter()
        .map(|(_, bytes)| String::from_utf8_lossy(&bytes).into_owned())
        .collect();
    assert_eq!(
        logs.matches("wrong supervisor PIN: refused").count(),
        5,
        "{logs}"
    );
    assert!(!logs.contains(WRONG) && !logs.contains(PIN), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scratch_data_dirs_share_the_count_kept_beside_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = closed_port_url();
    drop(till(d, &url, &config()));
    // Each guess in a data dir of its own, all at once.
    let scratch: Vec<_> = (0..BURST).map(|i| d.join(format!("scratch-{i}"))).collect();
    let runs = burst(
        scratch
            .iter()
            .map(|data| (cmd(d, &url, Some(data)), resolve_args(WRONG)))
            .collect(),
    )
    .await;
    assert_eq!(runs.iter().filter(|r| checked_wrong(r)).count(), 5);
    assert_eq!(runs.iter().filter(|r| refused_locked(r)).count(), BURST - 5);
    // The right PIN from yet another data dir is refused, and so is every command
    // that changes the PIN: the hash stays.
    let fresh = d.join("fresh");
    let right = run(
        cmd(d, &url, Some(&fresh)),
        &resolve_args(PIN)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
    .await;
    assert!(refused_locked(&right), "{}", right.stderr);
    let hash = hash_in_file(d);
    let clear = run(
        cmd(d, &url, Some(&fresh)),
        &["config", "clear-pin", "--current-pin", PIN],
    )
    .await;
    assert!(refused_locked(&clear), "{}", clear.stderr);
    let mut set = cmd(d, &url, Some(&fresh));
    set.stdin(std::process::Stdio::piped());
    let set = run(set, &["config", "set-pin", "--current-pin", PIN]).await;
    assert!(refused_locked(&set), "{}", set.stderr);
    assert!(hash.is_some());
    assert_eq!(hash_in_file(d), hash, "the PIN is still set");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_pin_and_set_pin_count_wrong_pins_and_honour_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = closed_port_url();
    drop(till(d, &url, &config()));
    let hash = hash_in_file(d);
    // Twenty guesses at once through clear-pin and set-pin: five are checked.
    let runs = burst(
        (0..BURST)
            .map(|i| {
                let action = if i % 2 == 0 { "clear-pin" } else { "set-pin" };
                let args = ["config", action, "--current-pin", WRONG].map(String::from);
                (cmd(d, &url, None), args.to_vec())
            })
            .collect(),
    )
    .await;
    let said: Vec<&str> = runs.iter().map(|r| r.stderr.as_str()).collect();
    assert_eq!(
        runs.iter().filter(|r| checked_wrong(r)).count(),
        5,
        "{said:#?}"
    );
    assert_eq!(
        runs.iter().filter(|r| refused_locked(r)).count(),
        BURST - 5,
        "{said:#?}"
    );
    // The right PIN to clear it, during the lock: refused, the PIN stays.
    let clear = run(
        cmd(d, &url, None),
        &["config", "clear-pin", "--current-pin", PIN],
    )
    .await;
    assert!(refused_locked(&clear), "{}", clear.stderr);
    assert_eq!(hash_in_file(d), hash);
    // A money command during the lock is refused as well: one count for all.
    let right = run(
        cmd(d, &url, None),
        &resolve_args(PIN)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
    .await;
    assert!(refused_locked(&right), "{}", right.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_right_pin_is_taken_once_nothing_locks_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = closed_port_url();
    drop(till(d, &url, &config()));
    let right = run(
        cmd(d, &url, None),
        &resolve_args(PIN)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
    .await;
    // Past the PIN: the order is not in the journal.
    assert_eq!(right.code, 2, "{}", right.stderr);
    assert!(!right.stderr.contains("supervisor PIN"), "{}", right.stderr);
    let clear = run(
        cmd(d, &url, None),
        &["config", "clear-pin", "--current-pin", PIN],
    )
    .await;
    assert_eq!(clear.code, 0, "{}", clear.stderr);
    assert_eq!(hash_in_file(d), None);
}
