//! Secrets never shown: the store's password in every spelling (`user:password@`,
//! `?password=`, from `TILL_STORE_URL` or the config file), the cloud's private key and
//! the supervisor PIN. Every command's stdout and stderr, every log file, the journal's
//! files and every table of a real PostgreSQL store are searched for them, with the
//! store up and with it down ("cannot be reached").

mod common;

use common::cloud::{cloud_table, fixture};
use common::pg::Pg;
use common::*;
use till::sim::Faults;

/// Passwords no timestamp, order number or amount holds.
const USER_PW_FILE: &str = "UsrPwFile7Kq";
const QUERY_PW_FILE: &str = "QryPwFile3Zx";
const USER_PW_ENV: &str = "UsrPwEnv5Mv";
const QUERY_PW_ENV: &str = "QryPwEnv8Jd";
const PIN: &str = "90817263545";

/// The private key's body: a line of its base64.
fn private_key_line() -> String {
    let pem = std::fs::read_to_string(fixture("app_private_pkcs1.pem")).unwrap();
    pem.lines().nth(3).unwrap().to_string()
}

fn secrets() -> Vec<String> {
    let mut all: Vec<String> = [USER_PW_FILE, QUERY_PW_FILE, USER_PW_ENV, QUERY_PW_ENV, PIN]
        .map(String::from)
        .to_vec();
    all.push(private_key_line());
    all
}

/// Every table of the store, each row as text.
async fn store_text(pg: &Pg) -> String {
    let client = pg.client().await;
    let tables = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .await
        .unwrap();
    let mut text = String::new();
    for t in tables {
        let name: String = t.get(0);
        for row in client
            .query(&format!("SELECT t::text FROM \"{name}\" t"), &[])
            .await
            .unwrap()
        {
            text.push_str(&row.get::<_, String>(0));
            text.push('\n');
        }
    }
    text
}

fn assert_hidden(what: &str, text: &str) {
    for secret in secrets() {
        assert!(!text.contains(&secret), "{what} shows {secret}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_key_or_pin_reaches_any_output_log_journal_or_store_table() {
    let pg = Pg::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sim = start_sim(d, Faults::default(), 0).await;
    let url = sim.url();
    // pg.url() is postgres://till@HOST:PORT/postgres.
    let host = pg.url()["postgres://till@".len()..]
        .trim_end_matches("/postgres")
        .to_string();
    let file_url = format!(
        "postgres://till:{USER_PW_FILE}@{host}/postgres?sslmode=disable&password={QUERY_PW_FILE}"
    );
    let env_url =
        format!("postgresql://till:{USER_PW_ENV}@{host}/postgres?password={QUERY_PW_ENV}");
    let pin_hash = till::supervisor_pin::hash_pin(PIN).unwrap();
    let cloud_url = "http://127.0.0.1:9/open-api";
    let config = format!(
        "{QUICK}store_url = \"{file_url}\"\nsupervisor_pin_hash = \"{}\"\n{}",
        pin_hash.as_str(),
        cloud_table(cloud_url)
    );
    // The file's URL, and the environment's over it.
    let from_file = || till(d, &url, &config);
    let from_env = || {
        let mut cmd = till(d, &url, &config);
        cmd.env("TILL_STORE_URL", &env_url);
        cmd
    };

    let mut outputs = Vec::new();
    let sale = run(from_file(), &["sale", "12.00", "--json"]).await;
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    let order = sale.json()["merchant_order_no"]
        .as_str()
        .unwrap()
        .to_string();
    outputs.push(sale);
    let void = run(from_file(), &["void", &order, "--pin", PIN, "--json"]).await;
    assert_eq!(void.code, 0, "{}", void.stderr);
    outputs.push(void);
    let mut with_pin = from_env();
    with_pin.env("TILL_SUPERVISOR_PIN", PIN);
    outputs.push(run(with_pin, &["batch-close", "--json"]).await);
    let wrong = run(from_file(), &["void", &order, "--pin", "90817263546"]).await;
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    outputs.push(wrong);

    let commands: [&[&str]; 8] = [
        &["config"],
        &["config", "--json"],
        &["store", "sync"],
        &["store", "status"],
        &["store", "status", "--json"],
        &["store", "find", "12.00"],
        &["store", "report", "--json"],
        &["history", "--json"],
    ];
    for args in commands {
        for cmd in [from_file(), from_env()] {
            let out = run(cmd, args).await;
            assert_ne!(out.code, 4, "{args:?}: {}", out.stderr);
            outputs.push(out);
        }
    }
    // `till config` names where the URL came from and hides both passwords.
    let shown = run(from_env(), &["config"]).await;
    assert!(
        shown.stdout.contains("postgresql://till:***@") && shown.stdout.contains("password=***"),
        "{}",
        shown.stdout
    );
    outputs.push(shown);

    // The store down: every command that needs it says it cannot be reached.
    pg.down();
    for args in [
        &["store", "sync"][..],
        &["store", "status"],
        &["store", "status", "--json"],
        &["store", "find", "12.00"],
        &["store", "report"],
    ] {
        for cmd in [from_file(), from_env()] {
            let out = run(cmd, args).await;
            assert_eq!(out.code, 4, "{args:?}: {}", out.stderr);
            assert!(
                format!("{}{}", out.stdout, out.stderr).contains("cannot be reached"),
                "{args:?}: {} {}",
                out.stdout,
                out.stderr
            );
            outputs.push(out);
        }
    }
    for out in &outputs {
        assert_hidden("a command", &format!("{}\n{}", out.stdout, out.stderr));
    }
    for (path, bytes) in files_under(d) {
        if path.ends_with("config.toml") || path.extension().is_some_and(|e| e == "pin-tries") {
            continue;
        }
        assert_hidden(
            &path.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        );
    }
    pg.up();
    let tables = store_text(&pg).await;
    assert!(
        tables.contains(&order),
        "the store holds the rows: {tables}"
    );
    assert_hidden("the store", &tables);
    sim.shutdown().await;
}
