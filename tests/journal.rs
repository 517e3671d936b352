//! The journal on real SQLite files: durability across reopen, order numbers, the
//! audit trail, final states, overrides, reports and refundable amounts.

use till::ecr::TransType;
use till::journal::{
    BatchSel, Journal, JournalError, NewTxn, OutcomeRecord, TerminalReply, TxnKind, TxnState,
};
use till::money::Money;

fn m(minor: i64) -> Money {
    Money::from_minor(minor, 2).unwrap()
}

fn new(order: &str, kind: TxnKind, minor: i64, orig: Option<&str>) -> NewTxn {
    NewTxn {
        order_no: order.into(),
        request_id: format!("req-{order}"),
        kind,
        amount: m(minor),
        tip: None,
        cashback: None,
        currency: "USD".into(),
        orig_order_no: orig.map(String::from),
        lane: "L01".into(),
        scenario: None,
    }
}

fn approved(brand: &str) -> OutcomeRecord {
    OutcomeRecord {
        state: TxnState::Approved,
        reply: TerminalReply {
            response_code: Some("0".into()),
            brand: Some(brand.into()),
            card: Some("4111111111111111".into()),
            raw: Some(
                r#"{"biz_data":{"card_no":"4111111111111111","note":"5555555555554444"}}"#.into(),
            ),
            ..TerminalReply::default()
        },
        ..OutcomeRecord::default()
    }
}

fn record(j: &mut Journal, txn: NewTxn, rec: &OutcomeRecord) {
    let order = txn.order_no.clone();
    j.begin(&txn).unwrap();
    j.record_outcome(&order, rec, "test").unwrap();
}

#[test]
fn rows_survive_a_reopen_and_pending_rows_are_unresolved() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut j = Journal::open(dir.path()).unwrap();
        j.begin(&new("L01-A", TxnKind::Trans(TransType::Sale), 1234, None))
            .unwrap();
        // Dropped without an outcome: as if the power went.
    }
    let j = Journal::open(dir.path()).unwrap();
    let unresolved = j.unresolved().unwrap();
    assert_eq!(unresolved.len(), 1);
    assert_eq!(unresolved[0].state, TxnState::Pending);
    assert_eq!(unresolved[0].amount.minor(), 1234);
    let audit = j.audit("L01-A").unwrap();
    assert_eq!(audit[0].to, "pending");
    assert_eq!(audit[0].why, "journaled before sending");
}

#[test]
fn order_numbers_are_unique_across_reopens_and_lanes() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..3 {
        let mut a = Journal::open(dir.path()).unwrap();
        let mut b = Journal::open(dir.path()).unwrap();
        for _ in 0..5 {
            let numbers = [
                a.next_order_no("L01").unwrap(),
                b.next_order_no("L02").unwrap(),
                a.next_order_no("l02").unwrap(),
            ];
            for no in numbers {
                assert!(no.len() <= 32, "{no}");
                assert!(seen.insert(no.clone()), "{no} reused");
            }
        }
    }
    let mut j = Journal::open(dir.path()).unwrap();
    let no = j.next_order_no("L01").unwrap();
    assert!(no.starts_with("L01-") && no.ends_with("-000016"), "{no}");
    assert!(matches!(
        j.next_order_no("lane one"),
        Err(JournalError::Invalid(_))
    ));
    assert!(matches!(
        j.next_order_no("TOOLONGLANE"),
        Err(JournalError::Invalid(_))
    ));
    j.begin(&new("DUP-1", TxnKind::Trans(TransType::Sale), 100, None))
        .unwrap();
    assert!(matches!(
        j.begin(&new("DUP-1", TxnKind::Trans(TransType::Sale), 100, None)),
        Err(JournalError::Duplicate(_))
    ));
    assert!(matches!(
        j.begin(&new(
            &"X".repeat(33),
            TxnKind::Trans(TransType::Sale),
            100,
            None
        )),
        Err(JournalError::Invalid(_))
    ));
}

#[test]
fn final_states_hold_and_card_data_is_masked() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    record(
        &mut j,
        new("S1", TxnKind::Trans(TransType::Sale), 1000, None),
        &approved("Visa"),
    );
    let row = j.find("S1").unwrap().unwrap();
    assert_eq!(row.reply.card.as_deref(), Some("411111******1111"));
    let raw = row.reply.raw.unwrap();
    assert!(
        !raw.contains("4111111111111111") && !raw.contains("5555555555554444"),
        "{raw}"
    );
    // The same answer again is fine; a different one is kept in the audit only.
    j.record_outcome("S1", &approved("Visa"), "again").unwrap();
    let declined = OutcomeRecord {
        state: TxnState::Declined,
        ..OutcomeRecord::default()
    };
    assert!(matches!(
        j.record_outcome("S1", &declined, "late"),
        Err(JournalError::Conflict { .. })
    ));
    assert_eq!(j.find("S1").unwrap().unwrap().state, TxnState::Approved);
    let audit = j.audit("S1").unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.to == "declined" && a.why.contains("ignored")),
        "{audit:?}"
    );
    assert!(matches!(
        j.record_outcome("NOPE", &declined, "x"),
        Err(JournalError::NotFound(_))
    ));
}

#[test]
fn overrides_need_a_note_and_an_unresolved_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    j.begin(&new("U1", TxnKind::Trans(TransType::Sale), 500, None))
        .unwrap();
    let unknown = OutcomeRecord {
        state: TxnState::Unknown,
        ..OutcomeRecord::default()
    };
    j.record_outcome("U1", &unknown, "link lost").unwrap();
    assert!(
        matches!(
            j.override_state("U1", TxnState::Approved, "it went through", "sup", "L02"),
            Err(JournalError::OtherLane { ref lane, .. }) if lane == "L01"
        ),
        "another lane's row is not this lane's to settle"
    );
    assert!(matches!(
        j.override_state("U1", TxnState::Approved, "  ", "sup", "L01"),
        Err(JournalError::Invalid(_))
    ));
    assert!(matches!(
        j.override_state("U1", TxnState::Unknown, "x", "sup", "L01"),
        Err(JournalError::Invalid(_))
    ));
    let row = j
        .override_state(
            "U1",
            TxnState::Declined,
            "terminal replaced",
            "supervisor:ann",
            "L01",
        )
        .unwrap();
    assert_eq!(row.state, TxnState::Declined);
    let audit = j.audit("U1").unwrap();
    let last = audit.last().unwrap();
    assert_eq!(
        (last.who.as_str(), last.from.as_deref(), last.to.as_str()),
        ("supervisor:ann", Some("unknown"), "declined")
    );
    assert!(last.why.contains("terminal replaced"));
    assert!(
        j.override_state("U1", TxnState::Approved, "again", "sup", "L01")
            .is_err(),
        "final rows stay final"
    );
    assert!(j.unresolved().unwrap().is_empty());
}

#[test]
fn reports_refundable_amounts_and_batches() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let sale = |o: &str, minor| new(o, TxnKind::Trans(TransType::Sale), minor, None);
    record(&mut j, sale("S1", 1000), &approved("Visa"));
    record(&mut j, sale("S2", 2000), &approved("Mastercard"));
    let mut cb = new("S3", TxnKind::Trans(TransType::CashbackSale), 500, None);
    cb.cashback = Some(m(2000));
    record(&mut j, cb, &approved("Visa"));
    let declined = OutcomeRecord {
        state: TxnState::Declined,
        ..OutcomeRecord::default()
    };
    j.begin(&sale("S4", 9999)).unwrap();
    j.record_outcome("S4", &declined, "no").unwrap();
    record(
        &mut j,
        new("T1", TxnKind::TipAdjust, 150, Some("S1")),
        &approved("Visa"),
    );
    record(
        &mut j,
        new("T2", TxnKind::TipAdjust, 200, Some("S1")),
        &approved("Visa"),
    );
    record(
        &mut j,
        new("R1", TxnKind::Trans(TransType::Refund), 300, Some("S1")),
        &approved("Visa"),
    );
    record(
        &mut j,
        new("V1", TxnKind::Trans(TransType::Void), 2000, Some("S2")),
        &approved("Mastercard"),
    );

    // S1: 10.00 + tip 2.00 (the latest adjustment) - 3.00 refunded.
    assert_eq!(j.refundable("S1").unwrap(), Some(m(900)));
    assert_eq!(j.refundable("S2").unwrap(), Some(m(0)), "voided");
    assert_eq!(j.refundable("S4").unwrap(), Some(m(0)), "declined");
    assert_eq!(j.refundable("NOPE").unwrap(), None);

    let report = j.report(BatchSel::Open("L01")).unwrap();
    let kind = |name: &str| {
        report
            .per_kind
            .iter()
            .find(|k| k.name == name)
            .map(|k| (k.count, k.sum_minor))
    };
    assert_eq!(kind("sale"), Some((2, 3000)));
    assert_eq!(kind("cashback-sale"), Some((1, 500)));
    assert_eq!(kind("cash-back"), Some((1, 2000)));
    assert_eq!(kind("tips"), Some((1, 200)));
    assert_eq!(kind("refund"), Some((1, 300)));
    assert_eq!(kind("void"), Some((1, 2000)));
    // 10 + 20 + 5 + 20 cash-back + 2 tip - 3 refund - 20 void = 34.00
    assert_eq!(report.net_minor, 3400);
    let brand = |name: &str| {
        report
            .per_brand
            .iter()
            .find(|b| b.name == name)
            .map(|b| b.sum_minor)
    };
    assert_eq!(brand("Mastercard"), Some(0));
    assert_eq!(brand("Visa"), Some(3400));

    // The approval closes the batch in its own transaction; closing it again by its
    // order gives the same report and closes nothing more.
    let settled = OutcomeRecord {
        state: TxnState::Approved,
        reply: TerminalReply {
            raw: Some(r#"{"biz_data":{"batch_no":"1"}}"#.into()),
            ..TerminalReply::default()
        },
        ..OutcomeRecord::default()
    };
    record(&mut j, new("B1", TxnKind::BatchClose, 0, None), &settled);
    let closed = j.close_batch("B1", "{}").unwrap();
    assert_eq!(closed.net_minor, 3400);
    assert!(j.rows(BatchSel::Open("L01")).unwrap().is_empty());
    assert_eq!(j.rows(BatchSel::Number(1)).unwrap().len(), 9);
    let batches = j.batches().unwrap();
    assert_eq!(batches.len(), 2);
    assert!(batches[1].closed_at.is_some() && batches[0].closed_at.is_none());
    let (totals, reply) = j.batch_close_record(1).unwrap().unwrap();
    assert!(totals.contains("3400") && reply.contains("batch_no"));
    assert!(matches!(
        j.rows(BatchSel::Number(7)),
        Err(JournalError::Invalid(_))
    ));
}

#[test]
fn wal_and_full_sync_are_in_force_and_newer_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(Journal::open(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join("till.db")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Journal::open(dir.path()).err().unwrap();
    assert!(
        matches!(err, JournalError::TooNew { found: 99, .. }),
        "{err}"
    );
}

/// Leaves the journal in `dir` as a release before batches were per lane left it: one
/// closed batch 1 holding `settled` (every lane's), one open batch 2 holding the rest
/// (none, maybe), no lane on batches, schema v6.
fn as_older_release(dir: &std::path::Path, settled: &[&str]) {
    let conn = rusqlite::Connection::open(dir.join("till.db")).unwrap();
    let settled = settled
        .iter()
        .map(|o| format!("'{o}'"))
        .collect::<Vec<_>>()
        .join(",");
    conn.execute_batch(&format!(
        "DROP INDEX batch_open_lane;
         DELETE FROM batch;
         INSERT INTO batch (number, opened_at, closed_at, journal_totals, terminal_reply)
            VALUES (1, '2026-01-01T00:00:00.000Z', '2026-01-01T10:00:00.000Z', '{{}}', '{{}}');
         INSERT INTO batch (number, opened_at) VALUES (2, '2026-01-01T10:00:00.000Z');
         UPDATE txn SET batch = CASE WHEN order_no IN ({settled}) THEN 1 ELSE 2 END;
         ALTER TABLE batch DROP COLUMN lane;
         PRAGMA user_version = 6;"
    ))
    .unwrap();
}

#[test]
fn an_older_journal_splits_its_open_batch_per_lane_and_keeps_closed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let sale = |order: &str, lane: &str, minor| NewTxn {
        lane: lane.into(),
        ..new(order, TxnKind::Trans(TransType::Sale), minor, None)
    };
    for (order, lane, minor) in [
        ("OLD-1", "L01", 700),
        ("OLD-2", "L02", 300),
        // L02's row comes first in the open batch: L02 keeps its number.
        ("NEW-2", "L02", 2000),
        ("NEW-1", "L01", 1000),
        ("NEW-3", "L02", 500),
    ] {
        record(&mut j, sale(order, lane, minor), &approved("Visa"));
    }
    drop(j);
    as_older_release(dir.path(), &["OLD-1", "OLD-2"]);

    let mut j = Journal::open(dir.path()).unwrap();
    let batches: Vec<_> = j
        .batches()
        .unwrap()
        .into_iter()
        .map(|b| (b.number, b.lane, b.closed_at.is_some(), b.count))
        .collect();
    assert_eq!(
        batches,
        [
            (3, Some("L01".to_string()), false, 1),
            (2, Some("L02".to_string()), false, 2),
            (1, None, true, 2),
        ]
    );
    assert_eq!(j.open_batch("L02").unwrap(), 2);
    assert_eq!(j.open_batch("L01").unwrap(), 3);
    assert_eq!(j.report(BatchSel::Number(1)).unwrap().net_minor, 1000);
    assert_eq!(j.report(BatchSel::Open("L01")).unwrap().net_minor, 1000);
    assert_eq!(j.report(BatchSel::Open("L02")).unwrap().net_minor, 2500);
    // The totals kept per batch follow the rows that moved.
    let kept = |j: &Journal, n| {
        j.report_batches((n, n), 0, till::journal::Source::Totals)
            .unwrap()
    };
    assert_eq!(kept(&j, 2).net_minor, 2500);
    assert_eq!(kept(&j, 3).net_minor, 1000);

    // L01's close closes L01's batch only; the next batch number is the journal's next.
    let settled = OutcomeRecord {
        state: TxnState::Approved,
        ..OutcomeRecord::default()
    };
    record(
        &mut j,
        NewTxn {
            lane: "L01".into(),
            ..new("CLOSE-1", TxnKind::BatchClose, 0, None)
        },
        &settled,
    );
    assert_eq!(j.close_batch("CLOSE-1", "{}").unwrap().net_minor, 1000);
    assert_eq!(j.open_batch("L01").unwrap(), 4);
    assert_eq!(j.rows(BatchSel::Open("L02")).unwrap().len(), 2);

    // An older journal whose open batch is empty: each lane opens its own when asked.
    let empty = tempfile::tempdir().unwrap();
    let mut j = Journal::open(empty.path()).unwrap();
    record(&mut j, sale("OLD-9", "L01", 100), &approved("Visa"));
    drop(j);
    as_older_release(empty.path(), &["OLD-9"]);
    let j = Journal::open(empty.path()).unwrap();
    assert_eq!(j.batches().unwrap().len(), 1);
    assert_eq!(j.open_batch("L02").unwrap(), 2);
}

#[test]
fn a_tally_behind_the_opening_shows_its_backlog_and_a_sales_own_row_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    record(
        &mut j,
        new("T-1", TxnKind::Trans(TransType::Sale), 500, None),
        &approved("VISA"),
    );
    let batch = j.rows(BatchSel::Open("L01")).unwrap()[0].batch;
    // Admitted, not yet sent: its share waits for the sent mark, which is no backlog.
    j.begin(&new("T-2", TxnKind::Trans(TransType::Sale), 700, None))
        .unwrap();
    assert_eq!(j.untallied().unwrap(), 1);
    assert_eq!(j.tallying().unwrap(), None);
    j.record_outcome("T-2", &approved("VISA"), "test").unwrap();
    drop(j);

    const ROWS: i64 = 20_000;
    written_before_totals(dir.path(), ROWS, batch);

    let j = Journal::open(dir.path()).unwrap();
    // The tally behind the opening waits for this write lock after its turn.
    let lock = rusqlite::Connection::open(dir.path().join("till.db")).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let left = j.tallying().unwrap().expect("tallying behind the opening");
    assert!((1..=ROWS).contains(&left), "{left}");
    // The report is right meanwhile: it adds up its rows.
    let net = 500 + 700 + ROWS * 100;
    assert_eq!(j.report(BatchSel::Open("L01")).unwrap().net_minor, net);
    lock.execute_batch("COMMIT").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while j.tallying().unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "the tally never ends");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(j.untallied().unwrap(), 0);
    assert_eq!(j.report(BatchSel::Open("L01")).unwrap().net_minor, net);
}

/// Rows an older release wrote (approved sales of 1.00 into `batch`), every one with
/// its totals still to tally.
fn written_before_totals(dir: &std::path::Path, rows: i64, batch: i64) {
    let conn = rusqlite::Connection::open(dir.join("till.db")).unwrap();
    conn.execute(
        "INSERT INTO txn (order_no, request_id, kind, state, amount_minor, asked_minor,
            currency, exponent, lane, batch, created_at, updated_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         SELECT 'OLD-' || i, 'r' || i, 'sale', 'approved', 100, 100, 'USD', 2, 'L01', ?2,
                '2026-12-01T10:00:00.000Z', '2026-12-01T10:00:00.000Z' FROM n",
        rusqlite::params![rows, batch],
    )
    .unwrap();
}

#[test]
fn a_sale_goes_in_between_the_turns_of_another_process_tallying_a_backlog() {
    let dir = tempfile::tempdir().unwrap();
    drop(Journal::open(dir.path()).unwrap());
    // Twenty-five turns of tallying.
    const ROWS: i64 = 100_000;
    written_before_totals(dir.path(), ROWS, 1);
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    // `till check` tallies the backlog first, in turns, in the foreground.
    let mut check = std::process::Command::new(env!("CARGO_BIN_EXE_till"))
        .arg("check")
        .env_clear()
        .env("HOME", dir.path())
        .env("TILL_DATA_DIR", dir.path())
        .env("TILL_CONFIG", dir.path().join("config.toml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let backlog = || {
        rusqlite::Connection::open(dir.path().join("till.db"))
            .and_then(|c| c.query_row("SELECT COUNT(*) FROM tally_dirty_row", [], |r| r.get(0)))
            .unwrap_or(ROWS)
    };
    while backlog() == ROWS {
        assert!(
            check.try_wait().unwrap().is_none(),
            "till check ended first"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // Opening writes too; then sales. SQLite's own wait (backing off to 100 ms a try)
    // found the lock taken again after every turn and got it only once the whole
    // backlog was done; the journal's connections ask every millisecond and the tally
    // pauses between turns (`open::wait_for_the_lock`).
    let mut j = Journal::open(dir.path()).unwrap();
    for i in 0..3 {
        let order = format!("T-{i}");
        j.begin(&new(&order, TxnKind::Trans(TransType::Sale), 500, None))
            .unwrap();
        j.record_outcome(&order, &approved("VISA"), "test").unwrap();
    }
    assert!(
        backlog() > 0,
        "the sales waited for the other process's whole tally"
    );
    assert!(check.wait().unwrap().success());
    assert_eq!(j.untallied().unwrap(), 0);
}

#[test]
fn a_write_behind_a_lock_held_too_long_says_busy_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let other = rusqlite::Connection::open(dir.path().join("till.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    // The journal's wait is bounded (five seconds): an error, not a hang.
    let err = j
        .begin(&new("T-1", TxnKind::Trans(TransType::Sale), 500, None))
        .expect_err("the file stays locked");
    assert!(err.to_string().contains("locked"), "{err}");
    other.execute_batch("ROLLBACK").unwrap();
    assert!(j.find("T-1").unwrap().is_none());
    j.begin(&new("T-1", TxnKind::Trans(TransType::Sale), 500, None))
        .unwrap();
}
