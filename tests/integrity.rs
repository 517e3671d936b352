//! Opening is fast: SQLite's integrity check runs after an unclean shutdown, in
//! `till doctor` and in `till check`, not at every open. A corrupt page deep in the
//! file is still found by each of those.

mod common;

use common::{QUICK, run, till};
use till::ecr::TransType;
use till::journal::{Journal, JournalError, NewTxn, TxnKind};
use till::money::Money;

/// A journal of a few hundred rows, closed cleanly, with one page of row data
/// overwritten: opening reads the schema only, so it does not notice.
fn corrupt_journal(data: &std::path::Path) {
    let mut j = Journal::open(data).unwrap();
    for i in 0..300 {
        j.begin(&NewTxn {
            order_no: format!("L01-TEST-1125-{i:06}"),
            request_id: format!("req-{i}-{}", "x".repeat(100)),
            kind: TxnKind::Trans(TransType::Sale),
            amount: Money::from_minor(100 + i, 2).unwrap(),
            tip: None,
            cashback: None,
            currency: "USD".into(),
            orig_order_no: None,
            lane: "L01".into(),
            scenario: None,
        })
        .unwrap();
    }
    drop(j);
    // Fold the WAL into the file, so the damage below is what SQLite reads.
    let conn = rusqlite::Connection::open(data.join("till.db")).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let (root, page): (i64, i64) = conn
        .query_row(
            "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_master WHERE name = 'txn'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(conn);
    let file = data.join("till.db");
    let mut bytes = std::fs::read(&file).unwrap();
    // The cell pointers of the txn table's root page, which only reading rows visits.
    let at = usize::try_from((root - 1) * page).unwrap();
    for b in &mut bytes[at + 12..at + 200] {
        *b = 0xA5;
    }
    std::fs::write(&file, &bytes).unwrap();
}

/// What a process killed with the journal open leaves: its marker, no longer locked.
fn leave_crash_marker(data: &std::path::Path) {
    let dir = data.join("till.db.open");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("4000000-deadbeef.lock"), b"").unwrap();
}

#[test]
fn a_clean_open_skips_the_check_an_unclean_one_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    corrupt_journal(dir.path());
    // Cleanly closed: no check, the open succeeds (a later read may still fail).
    drop(Journal::open(dir.path()).unwrap());
    let markers = || {
        std::fs::read_dir(dir.path().join("till.db.open"))
            .unwrap()
            .count()
    };
    assert_eq!(markers(), 0, "a clean drop removes its marker");

    leave_crash_marker(dir.path());
    match Journal::open(dir.path()) {
        Err(JournalError::Corrupt { detail, .. }) => assert!(!detail.is_empty()),
        Err(e) => panic!("corrupt expected, got {e}"),
        Ok(_) => panic!("corrupt expected, the open succeeded"),
    }
    // Not cleared while the check fails: the next open checks again.
    assert_eq!(markers(), 1);
    assert!(matches!(
        Journal::open(dir.path()),
        Err(JournalError::Corrupt { .. })
    ));
}

#[test]
fn a_sound_journal_after_a_crash_is_checked_once() {
    let dir = tempfile::tempdir().unwrap();
    drop(Journal::open(dir.path()).unwrap());
    leave_crash_marker(dir.path());
    let j = Journal::open(dir.path()).unwrap();
    let entries: Vec<_> = std::fs::read_dir(dir.path().join("till.db.open"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        entries.len(),
        1,
        "the dead one is gone, ours is there: {entries:?}"
    );
    assert!(entries[0].starts_with(&format!("{}-", std::process::id())));
    // A second live opener does not take the first for a crash.
    let k = Journal::open(dir.path()).unwrap();
    drop((j, k));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn till_check_and_doctor_find_the_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(till(dir.path(), "127.0.0.1:9", QUICK), &["check"]).await;
    assert_eq!(
        out.code, 0,
        "no journal yet is nothing wrong: {}",
        out.stderr
    );

    drop(Journal::open(&data).unwrap());
    let out = run(till(dir.path(), "127.0.0.1:9", QUICK), &["check", "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["ok"], true);

    corrupt_journal(&data);
    let out = run(till(dir.path(), "127.0.0.1:9", QUICK), &["check"]).await;
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("corrupt"), "{}", out.stdout);
    let out = run(till(dir.path(), "127.0.0.1:9", QUICK), &["check", "--json"]).await;
    assert_eq!(out.code, 4);
    let j = out.json();
    assert_eq!(j["ok"], false);
    assert!(!j["problems"].as_array().unwrap().is_empty(), "{j}");

    let out = run(
        till(dir.path(), "127.0.0.1:9", QUICK),
        &["doctor", "--json"],
    )
    .await;
    assert_eq!(out.code, 4);
    let j = out.json();
    assert_eq!(j["steps"][0]["step"], "journal");
    assert_eq!(j["steps"][0]["ok"], false, "{j}");
    assert!(j["verdict"].as_str().unwrap().contains("corrupt"), "{j}");
}
