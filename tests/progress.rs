//! Long commands say how far they have got on stderr, and only there: the real binary
//! with stderr a pipe (so progress comes as lines) and `TILL_PROGRESS_SECS=0` (a line at
//! every step, so nothing here waits on the clock); stdout stays what it was, one JSON
//! object with `--json`.

mod common;

use std::path::Path;

use common::pg::Pg;
use common::*;
use till::journal::generate::{Spec, generate};

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Two years of closed batches, long gone: all of it archivable.
fn journal_in(dir: &Path) {
    generate(
        &dir.join("data"),
        &Spec {
            rows: 5_000,
            batches: 12,
            start: at("2001-01-01T00:00:00Z"),
            end: at("2002-12-31T00:00:00Z"),
            lanes: 1,
            seed: 5,
        },
    )
    .unwrap();
}

/// `till` on `dir`, progress lines at every step or (`false`) at the default pace.
fn till_showing(dir: &Path, every_step: bool) -> tokio::process::Command {
    let mut cmd = till(dir, "127.0.0.1:9", QUICK);
    if every_step {
        cmd.env("TILL_PROGRESS_SECS", "0");
    }
    cmd
}

fn lines_of<'a>(stderr: &'a str, what: &str) -> Vec<&'a str> {
    stderr
        .lines()
        .filter(|l| l.starts_with(&format!("{what}: ")))
        .collect()
}

#[tokio::test]
async fn check_and_archive_show_progress_on_stderr_and_keep_stdout_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    journal_in(dir.path());

    let quiet = run(till_showing(dir.path(), false), &["check", "--json"]).await;
    let shown = run(till_showing(dir.path(), true), &["check", "--json"]).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert_eq!(
        shown.stdout, quiet.stdout,
        "stdout is the same with progress"
    );
    assert_eq!(shown.json()["ok"], true);
    let compared = lines_of(&shown.stderr, "comparing the totals with the rows");
    assert!(compared.len() >= 2, "{}", shown.stderr);
    assert!(
        compared[0].contains(" of 5000 rows"),
        "rows done of all: {}",
        compared[0]
    );
    assert!(
        compared.last().unwrap().contains("done in"),
        "{}",
        shown.stderr
    );

    let archived = run(
        till_showing(dir.path(), true),
        &["archive", "--older-than", "30", "--json"],
    )
    .await;
    assert_eq!(archived.code, 0, "{}", archived.stderr);
    assert_eq!(archived.json()["rows"], 5_000);
    let steps = lines_of(&archived.stderr, "archiving");
    assert!(steps.len() >= 2, "{}", archived.stderr);
    assert!(steps[0].contains(" of 5000 rows"), "{}", steps[0]);
    assert!(
        steps
            .iter()
            .any(|l| l.starts_with("archiving: 5000 rows done in")),
        "{}",
        archived.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_copy_shows_progress_on_stderr_and_json_stays_one_object() {
    let pg = Pg::start();
    let dir = tempfile::tempdir().unwrap();
    generate(
        &dir.path().join("data"),
        &Spec {
            rows: 5_000,
            batches: 4,
            start: at("2026-01-01T08:00:00Z"),
            end: at("2026-01-05T20:00:00Z"),
            lanes: 1,
            seed: 7,
        },
    )
    .unwrap();
    let mut cmd = till_showing(dir.path(), true);
    cmd.env("TILL_LANE", "L01").env("TILL_STORE_URL", pg.url());
    let synced = run(cmd, &["store", "sync", "--json"]).await;
    assert_eq!(synced.code, 0, "{}", synced.stderr);
    let json = synced.json();
    assert_eq!(json["rows"], 5_000);
    assert_eq!(json["left"], 0);
    let steps = lines_of(&synced.stderr, "copying to the store");
    // Rows and audit lines go in batches of 2,000: several steps, then the end.
    assert!(steps.len() >= 3, "{}", synced.stderr);
    assert!(
        steps.last().unwrap().contains("changes done in"),
        "{}",
        synced.stderr
    );
}
