//! The supervisor PIN, on real files and as the real binary against the simulator:
//! `till config set-pin` / `clear-pin`, which commands ask for the PIN, what a missing
//! or wrong one does (exit 2, nothing journaled or sent), and the audit trail.

mod common;

use common::pty::keys::F4;
use std::path::Path;

use common::*;
use serde_json::Value;
use till::config::{Config, ConfigError, Overrides, Saved, save_keys};
use till::journal::{Journal, Request, TxnKind, TxnState};
use till::sim::Faults;
use till::supervisor_pin::{PinHash, hash_pin, verify};
use tokio::io::AsyncWriteExt;

const PIN: &str = "2468";
/// A wrong PIN no timestamp or order number in a log line is likely to hold.
const WRONG: &str = "86420864208";

fn config_path(dir: &Path) -> std::path::PathBuf {
    dir.join("config.toml")
}

/// The real binary with the config file as it is now (the `till` helper writes it).
fn as_is(dir: &Path, url: &str) -> tokio::process::Command {
    let text = std::fs::read_to_string(config_path(dir)).unwrap_or_default();
    till(dir, url, &text)
}

/// Runs `till` with `input` on its stdin (a pipe, not a terminal).
async fn run_with_stdin(mut cmd: tokio::process::Command, args: &[&str], input: &str) -> Run {
    cmd.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("till runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("till finishes")
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn hash_in_file(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(config_path(dir)).unwrap();
    let table: toml::Table = text.parse().unwrap();
    table
        .get("supervisor_pin_hash")
        .and_then(|v| v.as_str())
        .map(String::from)
}

fn logs(dir: &Path) -> String {
    std::fs::read_dir(dir.join("data/logs"))
        .map(|entries| {
            entries
                .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_pin_and_clear_pin_keep_the_rest_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = closed_port_url();
    let original =
        "# the store's lane 3\nlane = \"L03\"   # by the door\n\n# deadlines\nheartbeat_secs = 7\n";
    std::fs::write(config_path(d), original).unwrap();

    for (input, says) in [
        ("2468\n1357\n", "differ"),
        ("123\n123\n", "4 to 12 digits"),
        ("12ab\n12ab\n", "4 to 12 digits"),
        ("2468\n", "twice"),
        // The length is checked at the first entry, before the second is asked for.
        ("123\n", "4 to 12 digits"),
        ("1234567890123\n", "4 to 12 digits"),
    ] {
        let out = run_with_stdin(as_is(d, &url), &["config", "set-pin"], input).await;
        assert_eq!(out.code, 2, "{input:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{input:?}: {}", out.stderr);
        assert_eq!(std::fs::read_to_string(config_path(d)).unwrap(), original);
    }

    let set = run_with_stdin(as_is(d, &url), &["config", "set-pin"], "2468\n2468\n").await;
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(set.stdout.contains("supervisor PIN set"), "{}", set.stdout);
    let text = std::fs::read_to_string(config_path(d)).unwrap();
    assert!(
        text.starts_with(original),
        "every other key and comment is kept as it was:\n{text}"
    );
    let hash = PinHash::parse(&hash_in_file(d).expect("the hash is in the file")).unwrap();
    assert!(hash.as_str().starts_with("$argon2id$"));
    assert!(verify(&hash, PIN) && !verify(&hash, "2469"));
    let cfg = Config::load(Some(&config_path(d)), &|_| None, &Overrides::default()).unwrap();
    assert_eq!(cfg.lane.value, "L03");
    assert_eq!(cfg.supervisor().unwrap().pin, Some(hash.clone()));

    // `till config` says whether a PIN is set, never the hash.
    for args in [&["config"][..], &["config", "--json"]] {
        let shown = run(as_is(d, &url), args).await;
        assert_eq!(shown.code, 0, "{}", shown.stderr);
        assert!(
            !shown.stdout.contains(hash.as_str()) && !shown.stdout.contains("$argon2"),
            "{}",
            shown.stdout
        );
        assert!(
            shown.stdout.contains("supervisor_pin_hash"),
            "{}",
            shown.stdout
        );
    }
    let shown = run(as_is(d, &url), &["config", "--json"]).await.json();
    assert_eq!(shown["supervisor_pin_hash"]["value"], "set", "{shown}");
    assert_eq!(
        shown["supervisor_refund_above"]["source"], "default",
        "{shown}"
    );

    // Changing it takes the current PIN.
    let new = "0123456789";
    let twice = format!("{new}\n{new}\n");
    let without = run_with_stdin(as_is(d, &url), &["config", "set-pin"], &twice).await;
    assert_eq!(without.code, 2, "{}", without.stderr);
    assert!(
        without.stderr.contains("--current-pin"),
        "{}",
        without.stderr
    );
    let wrong = run_with_stdin(
        as_is(d, &url),
        &["config", "set-pin", "--current-pin", WRONG],
        &twice,
    )
    .await;
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("wrong supervisor PIN"),
        "{}",
        wrong.stderr
    );
    assert_eq!(hash_in_file(d).as_deref(), Some(hash.as_str()));
    let changed = run_with_stdin(
        as_is(d, &url),
        &["config", "set-pin", "--current-pin", PIN, "--json"],
        &twice,
    )
    .await;
    assert_eq!(changed.code, 0, "{}", changed.stderr);
    assert_eq!(changed.json()["supervisor_pin"], "set");
    let changed_hash = PinHash::parse(&hash_in_file(d).unwrap()).unwrap();
    assert!(verify(&changed_hash, new) && !verify(&changed_hash, PIN));

    // Clearing it too; the environment may carry the PIN.
    let refused = run(as_is(d, &url), &["config", "clear-pin"]).await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    let mut cmd = as_is(d, &url);
    cmd.env("TILL_SUPERVISOR_PIN", new);
    let cleared = run(cmd, &["config", "clear-pin"]).await;
    assert_eq!(cleared.code, 0, "{}", cleared.stderr);
    assert_eq!(std::fs::read_to_string(config_path(d)).unwrap(), original);
    let shown = run(as_is(d, &url), &["config"]).await;
    assert!(
        shown
            .stdout
            .lines()
            .any(|l| l.starts_with("supervisor_pin_hash") && l.contains("not set")),
        "{}",
        shown.stdout
    );
    // No PIN, nothing to check: a new one is set straight away.
    let again = run_with_stdin(as_is(d, &url), &["config", "set-pin"], "5555\n5555\n").await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(logs(d).contains("wrong supervisor PIN"), "{}", logs(d));
    assert!(!logs(d).contains(WRONG), "{}", logs(d));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_pin_hash_or_threshold_is_a_config_error_naming_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = closed_port_url();
    let good = hash_pin(PIN).unwrap();
    for (config, key, line) in [
        (
            "heartbeat_secs = 1\nsupervisor_pin_hash = \"hunter2\"\n".to_string(),
            "supervisor_pin_hash",
            2,
        ),
        (
            format!(
                "# pin\n\nsupervisor_pin_hash = \"{}\"\n",
                good.as_str().replacen("argon2id", "argon2i", 1)
            ),
            "supervisor_pin_hash",
            3,
        ),
        (
            format!(
                "supervisor_pin_hash = \"{}\"\nsupervisor_refund_above = \"50,00\"\n",
                good.as_str()
            ),
            "supervisor_refund_above",
            2,
        ),
        (
            "supervisor_refund_above = \"0.001\"\n".to_string(),
            "supervisor_refund_above",
            1,
        ),
    ] {
        for args in [
            &["void", "C01-X"][..],
            &["config"],
            &["--json", "sale", "1.00"],
        ] {
            let out = run(till(d, &url, &config), args).await;
            assert_eq!(out.code, 4, "{config} {args:?}: {}", out.stderr);
            assert!(
                out.stderr.contains(key) && out.stderr.contains(&format!("line {line}")),
                "{config} {args:?}: {}",
                out.stderr
            );
            assert!(!out.stderr.contains(good.as_str()), "{}", out.stderr);
        }
    }
    // set-pin mends a broken hash (the config around it need not load).
    till(
        d,
        &url,
        "lane = \"C01\"\nsupervisor_pin_hash = \"hunter2\"\n",
    );
    let mended = run_with_stdin(as_is(d, &url), &["config", "set-pin"], "2468\n2468\n").await;
    assert_eq!(mended.code, 0, "{}", mended.stderr);
    let config = run(as_is(d, &url), &["config"]).await;
    assert_eq!(config.code, 0, "{}", config.stderr);
    // A file that is not TOML is never overwritten.
    till(d, &url, "lane = [\n");
    let broken = run_with_stdin(as_is(d, &url), &["config", "set-pin"], "2468\n2468\n").await;
    assert_eq!(broken.code, 4, "{}", broken.stderr);
    assert_eq!(
        std::fs::read_to_string(config_path(d)).unwrap(),
        "lane = [\n"
    );
}

#[test]
fn the_threshold_is_parsed_with_the_currency_exponent() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_path(dir.path());
    let load = |text: &str| {
        std::fs::write(&file, text).unwrap();
        Config::load(Some(&file), &|_| None, &Overrides::default())
    };
    let policy = load("").unwrap().supervisor().unwrap();
    assert_eq!((policy.pin, policy.refund_above), (None, None));
    let usd = load("supervisor_refund_above = \"50.00\"\n").unwrap();
    assert_eq!(
        usd.supervisor().unwrap().refund_above.unwrap().minor(),
        5000
    );
    let jpy = "currency = \"JPY\"\nconfirm_above = \"100000\"\n";
    let jpy = load(&format!("{jpy}supervisor_refund_above = \"5000\"\n")).unwrap();
    let above = jpy.supervisor().unwrap().refund_above.unwrap();
    assert_eq!((above.minor(), above.exponent()), (5000, 0));
    let err = load(
        "currency = \"JPY\"\nconfirm_above = \"100000\"\nsupervisor_refund_above = \"50.00\"\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("supervisor_refund_above"), "{err}");
    assert!(matches!(err, ConfigError::Invalid(_)), "{err:?}");
    // A Config changed after loading says what is wrong rather than dropping the PIN.
    let mut cfg = load("").unwrap();
    cfg.supervisor_pin_hash.value = Some("nonsense".into());
    assert!(cfg.supervisor().is_err());
}

#[test]
fn saving_keys_keeps_comments_and_refuses_a_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sub").join("config.toml");
    save_keys(&file, &[("url", Saved::Text("10.0.0.9".into()))]).unwrap();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "url = \"10.0.0.9\"\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a new config file is its owner's only");
    }
    std::fs::write(
        &file,
        "# terminal\nurl = \"10.0.0.1\" # old\nlane = \"L02\"\n",
    )
    .unwrap();
    save_keys(
        &file,
        &[
            ("url", Saved::Text("10.0.0.2".into())),
            ("lane", Saved::Unset),
        ],
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# terminal\nurl = \"10.0.0.2\" # old\n"
    );
    // Flags are written as TOML booleans, and a value the loader would refuse is not
    // written at all: the file stays as it was.
    save_keys(&file, &[("on_screen_tip", Saved::Flag(true))]).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("on_screen_tip = true"), "{text}");
    for (key, bad) in [
        ("lane", "L-09!"),
        ("currency", "DOLLARS"),
        ("confirm_above", "lots"),
    ] {
        let err = save_keys(&file, &[(key, Saved::Text(bad.into()))]).unwrap_err();
        assert!(err.to_string().contains(key), "{key}: {err}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    }
    std::fs::write(&file, "url = [\n").unwrap();
    assert!(save_keys(&file, &[("lane", Saved::Text("L09".into()))]).is_err());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "url = [\n");
}

/// What five minutes would do to a lock of PIN entry: it ends.
fn lock_ended(dir: &Path) {
    rusqlite::Connection::open(dir.join("config.toml.pin-tries"))
        .unwrap()
        .execute(
            "UPDATE tries SET locked_until = '2000-01-01T00:00:00+00:00'",
            [],
        )
        .unwrap();
}

/// Wrong PINs in a row counted beside the config file (0 again once they lock).
fn wrong_in_a_row(dir: &Path) -> i64 {
    rusqlite::Connection::open(dir.join("config.toml.pin-tries"))
        .and_then(|c| c.query_row("SELECT failures FROM tries", [], |r| r.get(0)))
        .unwrap_or(-1)
}

/// The rows of the journal, and what the simulator has seen: both unchanged by a
/// command refused for its PIN.
fn untouched(dir: &Path, sim: &till::sim::SimHandle) -> (usize, usize, usize) {
    let journal = Journal::open(&dir.join("data")).unwrap();
    let stats = sim.stats();
    (
        journal.recent(1000).unwrap().len(),
        stats.connections_total,
        stats.frames_received,
    )
}

fn order_of(out: &Run) -> String {
    out.json()["merchant_order_no"]
        .as_str()
        .unwrap_or_else(|| panic!("{}\n{}", out.stdout, out.stderr))
        .to_string()
}

/// The `why` of the audit line that journaled `order`.
fn journaled_why(dir: &Path, order: &str) -> String {
    let journal = Journal::open(&dir.join("data")).unwrap();
    let audit = journal.audit(order).unwrap();
    audit
        .iter()
        .find(|a| a.to == "pending")
        .unwrap_or_else(|| panic!("{audit:?}"))
        .why
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voids_refunds_and_batch_close_ask_for_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sim = start_sim(d, Faults::default(), 0).await;
    let url = sim.url();
    let config = format!(
        "{QUICK}supervisor_pin_hash = \"{}\"\nsupervisor_refund_above = \"50.00\"\n",
        hash_pin(PIN).unwrap().as_str()
    );
    let t = || till(d, &url, &config);
    let with_pin = |pin: &str| {
        let mut cmd = t();
        cmd.env("TILL_SUPERVISOR_PIN", pin);
        cmd
    };

    // Sales, pre-auths and referenced refunds up to the threshold need no PIN.
    let big = run(t(), &["sale", "200.00", "--json"]).await;
    assert_eq!(big.code, 0, "{}", big.stderr);
    let big = order_of(&big);
    let small = run(t(), &["sale", "20.00", "--json"]).await;
    assert_eq!(small.code, 0, "{}", small.stderr);
    let small = order_of(&small);
    let refund = run(t(), &["refund", "50.00", "--orig", &big, "--json"]).await;
    assert_eq!(refund.code, 0, "{}", refund.stderr);
    assert_eq!(
        journaled_why(d, &order_of(&refund)),
        "journaled before sending"
    );

    // Missing or wrong: exit 2, nothing journaled, nothing sent.
    let refused: [(&[&str], &str); 4] = [
        (&["void", &small], "a void"),
        (&["refund", "50.01", "--orig", &big], "a refund above 50.00"),
        (&["refund", "5.00"], "a refund without an original"),
        (&["batch-close"], "a batch close"),
    ];
    for (args, why) in refused {
        let before = untouched(d, &sim);
        let missing = run(t(), args).await;
        assert_eq!(missing.code, 2, "{args:?}: {}", missing.stderr);
        assert!(
            missing.stderr.contains(why)
                && missing.stderr.contains("supervisor PIN")
                && missing.stderr.contains("nothing was sent"),
            "{args:?}: {}",
            missing.stderr
        );
        let json = run(t(), &[args, &["--json"]].concat()).await;
        assert_eq!(json.code, 2, "{args:?}: {}", json.stderr);
        assert_eq!(json.json()["exit_code"], 2);
        // Before the wrong tries below lock PIN entry, a missing PIN is said so.
        if args[0] == "void" {
            assert_eq!(json.json()["code"], "pin_required", "{}", json.stdout);
        }
        let wrong = run(t(), &[args, &["--pin", WRONG, "--json"]].concat()).await;
        // The fifth wrong one locks PIN entry (see below).
        let code = wrong.json()["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let first = args[0] == "void";
        assert!(
            code == "pin_wrong" || (!first && code == "locked"),
            "{}",
            wrong.stdout
        );
        assert_eq!(wrong.code, 2, "{args:?}: {}", wrong.stderr);
        assert!(
            wrong.stderr.contains("wrong supervisor PIN"),
            "{args:?}: {}",
            wrong.stderr
        );
        let wrong_env = run(with_pin(WRONG), args).await;
        assert_eq!(wrong_env.code, 2, "{args:?}: {}", wrong_env.stderr);
        assert_eq!(
            untouched(d, &sim),
            before,
            "{args:?}: nothing journaled or sent"
        );
    }
    let log = logs(d);
    assert!(log.contains("wrong supervisor PIN"), "{log}");
    assert!(
        !log.contains(WRONG),
        "the PIN itself is never logged: {log}"
    );

    // Eight wrong PINs: the fifth locked PIN entry for every process on the lane, and
    // until the lock ends not even the right PIN is taken.
    let before = untouched(d, &sim);
    let locked = run(t(), &["void", &small, "--pin", PIN]).await;
    assert_eq!(locked.code, 2, "{}", locked.stderr);
    let locked_json = run(t(), &["void", &small, "--pin", PIN, "--json"]).await;
    assert_eq!(
        locked_json.json()["code"],
        "locked",
        "{}",
        locked_json.stdout
    );
    assert!(
        locked
            .stderr
            .contains("5 wrong supervisor PINs in a row have locked PIN entry until")
            && locked.stderr.contains("nothing was sent"),
        "{}",
        locked.stderr
    );
    assert_eq!(untouched(d, &sim), before, "nothing journaled or sent");
    lock_ended(d);

    // The right PIN, from the flag or the environment: done, and the audit says so.
    let void = run(t(), &["void", &small, "--pin", PIN, "--json"]).await;
    assert_eq!(void.code, 0, "{}", void.stderr);
    assert_eq!(void.json()["outcome"], "approved");
    let why = journaled_why(d, &order_of(&void));
    assert_eq!(why, "journaled before sending; supervisor PIN given");
    for args in [
        &["refund", "50.01", "--orig", &big, "--json"][..],
        &["refund", "5.00", "--json"],
        &["batch-close", "--json"],
    ] {
        let done = run(with_pin(PIN), args).await;
        assert_eq!(done.code, 0, "{args:?}: {}", done.stderr);
        assert!(
            journaled_why(d, &order_of(&done)).ends_with("supervisor PIN given"),
            "{args:?}"
        );
    }
    assert!(logs(d).contains("supervisor PIN given"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_override_asks_for_the_pin_and_its_audit_line_says_it_was_given() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = closed_port_url();
    // A row left pending by a till that died (the terminal is gone for good).
    let mut journal = Journal::open(&d.join("data")).unwrap();
    let row = journal
        .admit(&Request {
            request_id: "r-1".into(),
            kind: TxnKind::Trans(till::ecr::TransType::Sale),
            amount: Some(till::money::Money::from_minor(700, 2).unwrap()),
            tip: None,
            cashback: None,
            currency: "USD".into(),
            exponent: 2,
            orig_order_no: None,
            lane: "C01".into(),
            scenario: None,
            duplicate_window: None,
            supervisor: false,
            via: till::journal::Via::Lan,
            terminal_sn: None,
            original: None,
        })
        .unwrap();
    drop(journal);
    let order = row.order_no;
    let config = format!(
        "{QUICK}supervisor_pin_hash = \"{}\"\n",
        hash_pin(PIN).unwrap().as_str()
    );
    let args = [
        "resolve",
        &order,
        "--as",
        "declined",
        "--note",
        "no receipt",
    ];
    let missing = run(till(d, &url, &config), &args).await;
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("a supervisor override needs the supervisor PIN"),
        "{}",
        missing.stderr
    );
    let wrong = run(
        till(d, &url, &config),
        &[&args[..], &["--pin", WRONG]].concat(),
    )
    .await;
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    let state = |d: &Path| {
        Journal::open(&d.join("data"))
            .unwrap()
            .find(&order)
            .unwrap()
            .unwrap()
            .state
    };
    assert_eq!(state(d), TxnState::Pending, "nothing was changed");
    let ok = run(
        till(d, &url, &config),
        &[&args[..], &["--pin", PIN, "--json"]].concat(),
    )
    .await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let j: Value = ok.json();
    assert_eq!(j["outcome"], "declined");
    assert_eq!(state(d), TxnState::Declined);
    let audit = Journal::open(&d.join("data"))
        .unwrap()
        .audit(&order)
        .unwrap();
    let last = audit.last().unwrap();
    assert!(
        last.who.starts_with("supervisor") && last.who.contains("supervisor PIN given"),
        "{audit:?}"
    );
    assert!(last.why.contains("no receipt"), "{audit:?}");
}

fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("127.0.0.1:{}", l.local_addr().unwrap().port())
}

/// The screen at the PIN prompt of a void of `order`.
async fn void_on_screen(d: &Path, url: &str, config: &str, order: &str) -> pty::Screen {
    // On the command line's lane: the Void screen offers its own lane's batch only.
    let mut s = pty::Screen::start_with(d, url, config, &[("TILL_LANE", "C01")]);
    s.wait_for("UP").await;
    s.keys(F4);
    s.wait_for("F4 Void").await;
    s.keys(&order[order.len() - 6..]);
    s.keys("\r");
    s.wait_for("Void sale 20.00").await;
    s.keys("y");
    s.wait_for("needs the supervisor's PIN").await;
    s
}

async fn leave(mut s: pty::Screen) {
    s.keys("\x1b");
    s.wait_for("not done without the supervisor's PIN").await;
    s.keys("\x03");
    assert_eq!(s.exit_code().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pins_lock_pin_entry_for_the_screen_and_the_command_line_alike() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sim = start_sim(d, Faults::default(), 0).await;
    let url = sim.url();
    let config = format!(
        "{QUICK}supervisor_pin_hash = \"{}\"\n",
        hash_pin(PIN).unwrap().as_str()
    );
    let t = || till(d, &url, &config);
    let sale = run(t(), &["sale", "20.00", "--json"]).await;
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    let order = order_of(&sale);

    // Five wrong PINs on the screen lock it, and the command line with it.
    let mut s = void_on_screen(d, &url, &config, &order).await;
    for tried in 1..=5 {
        s.keys(WRONG);
        s.keys("\r");
        // One at a time: keys typed while a PIN is checked are not taken.
        assert!(eventually(|| wrong_in_a_row(d) == tried % 5).await);
        s.wait_until(|c| !c.contains("checking…")).await;
    }
    s.wait_for("5 wrong PINs in a row: locked until").await;
    leave(s).await;
    let locked = run(t(), &["void", &order, "--pin", PIN]).await;
    assert_eq!(locked.code, 2, "{}", locked.stderr);
    assert!(
        locked.stderr.contains("have locked PIN entry until"),
        "{}",
        locked.stderr
    );

    // Once it ends, five wrong ones on the command line lock the screen's prompt: the
    // right PIN is not tried there.
    lock_ended(d);
    for tries in 1..=5 {
        let wrong = run(t(), &["void", &order, "--pin", WRONG]).await;
        assert_eq!(wrong.code, 2, "{}", wrong.stderr);
        assert_eq!(
            wrong.stderr.contains("have locked PIN entry"),
            tries == 5,
            "{}",
            wrong.stderr
        );
    }
    let mut s = void_on_screen(d, &url, &config, &order).await;
    s.keys(PIN);
    s.keys("\r");
    s.wait_for("5 wrong PINs in a row: locked until").await;
    leave(s).await;
    assert_eq!(
        sim.stats().orders_received.len(),
        1,
        "only the sale was sent"
    );
    sim.shutdown().await;
}
