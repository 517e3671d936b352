//! What the journal lets go to the terminal, decided in the write transaction that
//! journals the row, on real SQLite files: the rules of `journal::rules`, unresolved
//! rows, duplicates, order numbers unique across journals, empty journal files.

use std::time::Duration;

use till::ecr::TransType as T;
use till::journal::{
    GatewayOriginal, Journal, JournalError, OutcomeRecord, Refused, Request, TxnKind, TxnRow,
    TxnState, Via,
};
use till::money::Money;

fn m(minor: i64) -> Money {
    Money::from_minor(minor, 2).unwrap()
}

fn req(kind: TxnKind, amount: Option<i64>, orig: Option<&str>) -> Request {
    Request {
        request_id: "r".into(),
        kind,
        amount: amount.map(m),
        tip: None,
        cashback: None,
        currency: "USD".into(),
        exponent: 2,
        orig_order_no: orig.map(String::from),
        lane: "L01".into(),
        scenario: None,
        duplicate_window: None,
        supervisor: false,
        via: Via::Lan,
        terminal_sn: None,
        original: None,
    }
}

/// Admits a request and books the terminal's answer.
fn book(j: &mut Journal, r: Request, state: TxnState) -> TxnRow {
    let row = j.admit(&r).unwrap_or_else(|e| panic!("{r:?}: {e}"));
    let rec = OutcomeRecord {
        state,
        ..OutcomeRecord::default()
    };
    j.record_outcome(&row.order_no, &rec, "test").unwrap()
}

fn refused(j: &mut Journal, r: Request) -> String {
    match j.admit(&r) {
        Err(Refused::Rule(why)) => why,
        other => panic!("{r:?} should be refused by a rule: {other:?}"),
    }
}

fn sale(j: &mut Journal, minor: i64) -> TxnRow {
    book(
        j,
        req(TxnKind::Trans(T::Sale), Some(minor), None),
        TxnState::Approved,
    )
}

#[test]
fn nothing_is_given_back_twice_and_nothing_moves_for_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let s = sale(&mut j, 1000);
    let refund = |amount| req(TxnKind::Trans(T::Refund), Some(amount), Some(&s.order_no));
    let void = || req(TxnKind::Trans(T::Void), None, Some(&s.order_no));
    let tip = |amount| req(TxnKind::TipAdjust, Some(amount), Some(&s.order_no));

    // Zero amounts move no money.
    for kind in [T::Sale, T::Refund, T::PreAuth] {
        let why = refused(&mut j, req(TxnKind::Trans(kind), Some(0), None));
        assert!(why.contains("moves no money"), "{why}");
    }
    // What is refundable follows the tip in force.
    book(&mut j, tip(200), TxnState::Approved);
    // A partial refund, then no void (14.00 back on a 10.00 charge), and the tip is
    // fixed: refunds never exceed what moved.
    book(&mut j, refund(600), TxnState::Approved);
    assert!(refused(&mut j, void()).contains("can no longer be voided"));
    assert!(refused(&mut j, tip(100)).contains("has a refund"));
    assert!(refused(&mut j, refund(700)).contains("at most 6.00"));
    book(&mut j, refund(600), TxnState::Approved);
    assert!(refused(&mut j, refund(1)).contains("at most 0.00"));

    // A voided sale: no second void, no tip, no refund.
    let v = sale(&mut j, 2000);
    book(
        &mut j,
        req(TxnKind::Trans(T::Void), None, Some(&v.order_no)),
        TxnState::Approved,
    );
    let voided = |kind, amount| req(kind, amount, Some(&v.order_no));
    assert!(refused(&mut j, voided(TxnKind::Trans(T::Void), None)).contains("already has a void"));
    assert!(refused(&mut j, voided(TxnKind::TipAdjust, Some(100))).contains("already has a void"));
    assert!(refused(&mut j, voided(TxnKind::Trans(T::Refund), Some(100))).contains("at most 0.00"));

    // A declined refund gives nothing back and uses up nothing.
    let d = sale(&mut j, 3000);
    book(
        &mut j,
        req(TxnKind::Trans(T::Refund), Some(3000), Some(&d.order_no)),
        TxnState::Declined,
    );
    let row = book(
        &mut j,
        req(TxnKind::Trans(T::Void), None, Some(&d.order_no)),
        TxnState::Approved,
    );
    assert_eq!(row.amount, m(3000), "a void gives back what the sale moved");
}

#[test]
fn pre_auths_complete_once_and_within_what_they_hold() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let auth = book(
        &mut j,
        req(TxnKind::Trans(T::PreAuth), Some(8000), None),
        TxnState::Approved,
    );
    let on_auth = |kind, amount| req(TxnKind::Trans(kind), amount, Some(&auth.order_no));
    assert!(refused(&mut j, on_auth(T::Completion, Some(8001))).contains("more than pre-auth"));
    assert!(refused(&mut j, on_auth(T::Completion, Some(0))).contains("moves no money"));
    assert!(refused(&mut j, on_auth(T::Refund, Some(100))).contains("cannot be done"));
    let done = book(
        &mut j,
        on_auth(T::Completion, Some(7500)),
        TxnState::Approved,
    );
    assert!(
        refused(&mut j, on_auth(T::Completion, Some(100))).contains("already has a completion")
    );
    assert!(refused(&mut j, on_auth(T::PreAuthCancel, None)).contains("can no longer be voided"));
    // The completion is refunded as a completion, within what it moved.
    let on_done = |kind, amount| req(TxnKind::Trans(kind), amount, Some(&done.order_no));
    assert!(refused(&mut j, on_done(T::CompletionRefund, Some(7501))).contains("at most 75.00"));
    book(
        &mut j,
        on_done(T::CompletionRefund, Some(500)),
        TxnState::Approved,
    );
    assert!(
        refused(&mut j, on_done(T::CompletionCancel, None)).contains("can no longer be voided")
    );
}

#[test]
fn settled_sales_are_refunded_not_voided_or_tipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let s = sale(&mut j, 1000);
    let close = book(
        &mut j,
        req(TxnKind::BatchClose, None, None),
        TxnState::Approved,
    );
    j.close_batch(&close.order_no, "{}").unwrap();
    let on = |kind, amount| req(kind, amount, Some(&s.order_no));
    assert!(refused(&mut j, on(TxnKind::Trans(T::Void), None)).contains("settled with batch 1"));
    assert!(refused(&mut j, on(TxnKind::TipAdjust, Some(100))).contains("settled with batch 1"));
    book(
        &mut j,
        on(TxnKind::Trans(T::Refund), Some(1000)),
        TxnState::Approved,
    );
    assert!(
        refused(&mut j, req(TxnKind::Trans(T::Void), None, Some("NOPE")))
            .contains("not in the journal")
    );
}

#[test]
fn unresolved_rows_of_the_lane_and_duplicates_stop_new_money() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let first = sale(&mut j, 2011);
    let mut again = req(TxnKind::Trans(T::Sale), Some(2011), None);
    again.duplicate_window = Some(Duration::from_secs(120));
    match j.admit(&again) {
        Err(Refused::PossibleDuplicate { order_no, .. }) => assert_eq!(order_no, first.order_no),
        other => panic!("{other:?}"),
    }
    // Confirmed by the cashier: no window.
    let pending = j
        .admit(&req(TxnKind::Trans(T::Sale), Some(2011), None))
        .unwrap();
    match j.admit(&req(TxnKind::Trans(T::Sale), Some(100), None)) {
        Err(Refused::Unresolved(orders)) => assert_eq!(orders, vec![pending.order_no.clone()]),
        other => panic!("{other:?}"),
    }
    // Another lane is not held up by this lane's unknown row.
    let mut other_lane = req(TxnKind::Trans(T::Sale), Some(100), None);
    other_lane.lane = "L02".into();
    let row = j.admit(&other_lane).unwrap();
    assert!(row.order_no.starts_with("L02-"), "{}", row.order_no);
}

#[test]
fn a_tip_changes_one_adjustment_at_a_time_across_lanes() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let mut tipped = req(TxnKind::Trans(T::Sale), Some(1000), None);
    tipped.tip = Some(m(500));
    let s = book(&mut j, tipped, TxnState::Approved);
    let on_lane = |kind, amount, lane: &str| {
        let mut r = req(kind, Some(amount), Some(&s.order_no));
        r.lane = lane.into();
        r
    };
    // Lane L01's cut of the tip to 1.00 is not known yet.
    let first = j.admit(&on_lane(TxnKind::TipAdjust, 100, "L01")).unwrap();
    let why = refused(&mut j, on_lane(TxnKind::TipAdjust, 300, "L02"));
    assert!(why.contains(&first.order_no), "{why}");
    // Nor can L02 refund the 4.00 of the tip the sale may no longer hold.
    let why = refused(&mut j, on_lane(TxnKind::Trans(T::Refund), 1101, "L02"));
    assert!(why.contains("at most 11.00"), "{why}");
}

#[test]
fn a_journal_started_afresh_never_reuses_an_order_number() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut identities = std::collections::HashSet::new();
    for round in 0..5 {
        let data = dir.path().join(format!("data{round}"));
        let mut j = Journal::open(&data).unwrap();
        assert!(identities.insert(j.identity().to_string()));
        for lane in ["L01", "L02", "LANE0008"] {
            let no = j.next_order_no(lane).unwrap();
            assert!(no.len() <= 32, "{no}");
            assert!(no.contains(j.identity()), "{no}");
            assert!(seen.insert(no.clone()), "{no} reused");
        }
        // The identity is the journal's: it survives a reopen.
        let identity = j.identity().to_string();
        drop(j);
        assert_eq!(Journal::open(&data).unwrap().identity(), identity);
    }
}

#[test]
fn an_empty_journal_file_is_an_error_not_a_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("till.db");
    std::fs::write(&file, b"").unwrap();
    let err = Journal::open(dir.path()).err().expect("refused");
    assert!(matches!(err, JournalError::Empty { .. }), "{err}");
    assert!(err.to_string().contains("never starts afresh"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap().len(), 0, "left as it was");

    // A SQLite file without a journal in it is no journal either.
    std::fs::remove_file(&file).unwrap();
    foreign_db(&file);
    let err = Journal::open(dir.path()).err().expect("refused");
    assert!(matches!(err, JournalError::Empty { .. }), "{err}");
}

/// A valid SQLite file holding something else than a journal.
fn foreign_db(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("CREATE TABLE notes (text TEXT)")
        .unwrap();
}

#[test]
fn journals_created_at_the_same_moment_are_one_journal() {
    for _ in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || Journal::open(&path).map(|j| j.identity().to_string()))
            })
            .collect();
        let identities: std::collections::HashSet<String> = openers
            .into_iter()
            .map(|t| t.join().unwrap().unwrap_or_else(|e| panic!("{e}")))
            .collect();
        assert_eq!(identities.len(), 1, "{identities:?}");
        let leftovers: Vec<_> = std::fs::read_dir(&path)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".new"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

#[test]
fn an_original_never_seen_is_allowed_through_the_cloud_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let lan = j.admit(&req(
        TxnKind::Trans(T::Refund),
        Some(300),
        Some("X9-ELSEWHERE-1"),
    ));
    assert!(
        matches!(lan, Err(Refused::Rule(ref e)) if e.contains("--via cloud")),
        "{lan:?}"
    );
    // Through the cloud, only with what the gateway said the original captured.
    let cloud = Request {
        via: Via::Cloud,
        terminal_sn: Some("SN-OTHER".into()),
        ..req(TxnKind::Trans(T::Void), None, Some("X9-ELSEWHERE-1"))
    };
    let unasked = j.admit(&cloud);
    assert!(
        matches!(unasked, Err(Refused::Rule(ref e)) if e.contains("gateway was not asked")),
        "{unasked:?}"
    );
    let cloud = Request {
        original: Some(GatewayOriginal {
            kind: TxnKind::Trans(T::Sale),
            amount: Money::from_minor(900, 2).unwrap(),
            tip: None,
            terminal_sn: Some("SN-OTHER".into()),
        }),
        ..cloud
    };
    let row = j.admit(&cloud).unwrap();
    assert_eq!(row.amount, Money::from_minor(900, 2).unwrap());
    assert_eq!(row.via, Via::Cloud);
    assert_eq!(row.terminal_sn.as_deref(), Some("SN-OTHER"));
    assert_eq!(row.orig_order_no.as_deref(), Some("X9-ELSEWHERE-1"));
    // The same refusal while it is unresolved, whichever way the next one goes.
    let next = j.admit(&Request {
        via: Via::Cloud,
        ..req(TxnKind::Trans(T::Refund), Some(100), Some("X9-ELSEWHERE-2"))
    });
    assert!(matches!(next, Err(Refused::Unresolved(_))), "{next:?}");
}

#[test]
fn a_lanes_close_settles_its_own_batch_and_a_close_of_every_terminal_settles_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(dir.path()).unwrap();
    let on = |lane: &str, r: Request| Request {
        lane: lane.into(),
        ..r
    };
    let sale_on = |j: &mut Journal, lane, minor| {
        book(
            j,
            on(lane, req(TxnKind::Trans(T::Sale), Some(minor), None)),
            TxnState::Approved,
        )
    };
    sale_on(&mut j, "L01", 1000);
    let theirs = sale_on(&mut j, "L02", 2000);
    let close = book(
        &mut j,
        on("L01", req(TxnKind::BatchClose, None, None)),
        TxnState::Approved,
    );
    assert_eq!(
        j.close_batch(&close.order_no, "{}").unwrap().net_minor,
        1000
    );
    // L02's sale is still in its lane's open batch: voided, not refunded.
    assert_eq!(j.open_batch("L02").unwrap(), theirs.batch);
    let void = on(
        "L02",
        req(TxnKind::Trans(T::Void), None, Some(&theirs.order_no)),
    );
    book(&mut j, void, TxnState::Approved);

    // Every terminal's batch closed through the cloud closes every lane's.
    sale_on(&mut j, "L01", 500);
    let all = Request {
        via: Via::Cloud,
        terminal_sn: Some("all".into()),
        ..on("L01", req(TxnKind::BatchClose, None, None))
    };
    let all = book(&mut j, all, TxnState::Approved);
    assert_eq!(j.close_batch(&all.order_no, "{}").unwrap().net_minor, 500);
    let theirs_closed = j
        .batches()
        .unwrap()
        .into_iter()
        .find(|b| b.number == theirs.batch)
        .unwrap();
    assert!(theirs_closed.closed_at.is_some());
    let (totals, _) = j.batch_close_record(theirs.batch).unwrap().unwrap();
    assert!(totals.contains("\"net_minor\":0"), "{totals}");
    assert_ne!(j.open_batch("L02").unwrap(), theirs.batch);
}
