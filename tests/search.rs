//! Search over a generated journal of 20,000 rows, each answer checked against a plain
//! filter over every row (the oracle); archives; and `till history` on the binary.
//! Times are fixed: nothing here reads the clock.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use till::journal::generate::{Spec, generate};
use till::journal::{
    Aftermath, Journal, JournalError, Search, Source, TxnKind, TxnRow, TxnState, row_matches,
};
use till::money::format_minor;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn spec(rows: usize, batches: usize, start: &str, end: &str) -> Spec {
    Spec {
        rows,
        batches,
        start: at(start),
        end: at(end),
        lanes: 3,
        seed: 7,
    }
}

/// One generated journal shared by the read-only tests, and every row of it.
fn shared() -> (&'static Path, &'static [TxnRow]) {
    static SHARED: OnceLock<(tempfile::TempDir, Vec<TxnRow>)> = OnceLock::new();
    let (dir, rows) = SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let j = generate(
            dir.path(),
            &spec(20_000, 300, "2026-01-01T00:00:00Z", "2026-11-25T00:00:00Z"),
        )
        .unwrap();
        let rows = every_row(&j);
        (dir, rows)
    });
    (dir.path(), rows)
}

/// All pages of a search, checking the paging on the way: newest first, no row twice.
fn all_pages(j: &Journal, q: &Search) -> Vec<TxnRow> {
    let mut out: Vec<TxnRow> = Vec::new();
    let mut q = q.clone();
    loop {
        let page = j.search(&q).unwrap();
        assert!(page.rows.len() <= q.limit);
        if let (Some(prev), Some(first)) = (out.last(), page.rows.first()) {
            assert!(first.id < prev.id, "pages overlap or go back");
        }
        assert!(page.rows.windows(2).all(|w| w[0].id > w[1].id));
        out.extend(page.rows);
        match page.next {
            Some(next) => q.before = Some(next),
            None => return out,
        }
    }
}

fn every_row(j: &Journal) -> Vec<TxnRow> {
    all_pages(
        j,
        &Search {
            limit: 997,
            exponent: 2,
            ..Search::default()
        },
    )
}

fn query(text: &str) -> Search {
    Search {
        text: text.into(),
        limit: 25,
        exponent: 2,
        ..Search::default()
    }
}

fn ids(rows: &[TxnRow]) -> Vec<i64> {
    rows.iter().map(|r| r.id).collect()
}

/// The search's answer is exactly the oracle's, and not empty.
fn agrees(j: &Journal, q: &Search, every: &[TxnRow], keep: impl Fn(&TxnRow) -> bool) {
    let want: Vec<i64> = every.iter().filter(|r| keep(r)).map(|r| r.id).collect();
    assert!(!want.is_empty(), "the oracle finds nothing for {q:?}");
    assert_eq!(ids(&all_pages(j, q)), want, "{q:?}");
}

fn tail(r: &TxnRow) -> i64 {
    r.order_no.rsplit('-').next().unwrap().parse().unwrap()
}

fn last4(r: &TxnRow) -> Option<&str> {
    r.reply.card.as_deref().map(|c| &c[c.len() - 4..])
}

fn a_sale(every: &[TxnRow], n: usize) -> &TxnRow {
    every
        .iter()
        .filter(|r| r.kind.is_sale() && r.state == TxnState::Approved)
        .nth(n)
        .unwrap()
}

#[test]
fn paging_over_every_row_has_no_gap_and_no_repeat() {
    let (path, every) = shared();
    assert_eq!(every.len(), 20_000);
    let j = Journal::open(path).unwrap();
    let mut sorted = ids(every);
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 20_000);
    // Another page size finds the same rows.
    let q = Search {
        limit: 7,
        kind: Some(TxnKind::TipAdjust),
        ..query("")
    };
    agrees(&j, &q, every, |r| r.kind == TxnKind::TipAdjust);
}

#[test]
fn an_order_number_or_its_tail() {
    let (path, every) = shared();
    let j = Journal::open(path).unwrap();
    let row = a_sale(every, 1234);
    agrees(&j, &query(&row.order_no), every, |r| {
        r.order_no == row.order_no
    });
    agrees(&j, &query(&row.order_no.to_lowercase()), every, |r| {
        r.order_no == row.order_no
    });
    let end = &row.order_no[row.order_no.len() - 11..];
    agrees(&j, &query(end), every, |r| r.order_no.ends_with(end));
    // Six digits and fewer: the sequence of every lane, or an auth code.
    let t = tail(row);
    for text in [format!("{t:06}"), t.to_string()] {
        agrees(&j, &query(&text), every, |r| {
            tail(r) == t
                || r.reply.auth_code.as_deref() == Some(&text)
                || (text.len() == 4 && last4(r) == Some(&text))
        });
    }
}

#[test]
fn four_digits_are_last_four_or_tail_or_auth_code() {
    let (path, every) = shared();
    let j = Journal::open(path).unwrap();
    let row = a_sale(every, 777);
    let four = last4(row).unwrap().to_string();
    agrees(&j, &query(&four), every, |r| {
        last4(r) == Some(&four)
            || four.parse::<i64>().is_ok_and(|n| tail(r) == n)
            || r.reply.auth_code.as_deref() == Some(&four)
    });
}

#[test]
fn an_amount_an_auth_code_and_terms_together() {
    let (path, every) = shared();
    let j = Journal::open(path).unwrap();
    let row = a_sale(every, 4321);
    let amount = format_minor(row.amount.minor(), 2);
    agrees(&j, &query(&amount), every, |r| r.amount == row.amount);
    let auth = row.reply.auth_code.clone().unwrap();
    agrees(&j, &query(&auth.to_lowercase()), every, |r| {
        r.reply.auth_code.as_deref() == Some(&auth)
    });
    // A popular amount and a card brand's last four: AND.
    let four = last4(row).unwrap().to_string();
    let both = format!("{amount} {four}");
    agrees(&j, &query(&both), every, |r| {
        r.amount == row.amount
            && (last4(r) == Some(&four)
                || four.parse::<i64>().is_ok_and(|n| tail(r) == n)
                || r.reply.auth_code.as_deref() == Some(&four))
    });
    let refunds = Search {
        kind: Some(TxnKind::from_name("refund").unwrap()),
        state: Some(TxnState::Declined),
        lane: Some("l02".into()),
        ..query("")
    };
    agrees(&j, &refunds, every, |r| {
        r.kind.name() == "refund" && r.state == TxnState::Declined && r.lane == "L02"
    });
}

/// The local date of a row, `offset` seconds east of UTC.
fn local_day(r: &TxnRow, offset: i32) -> NaiveDate {
    let utc = at(&r.created_at);
    (utc + chrono::Duration::seconds(offset.into())).date_naive()
}

#[test]
fn dates_and_ranges_are_local_days() {
    let (path, every) = shared();
    let j = Journal::open(path).unwrap();
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    for offset in [0, -5 * 3600, 10 * 3600 + 1800] {
        let q = Search {
            from: Some(day("2026-03-07")),
            to: Some(day("2026-03-09")),
            utc_offset_secs: offset,
            ..query("")
        };
        agrees(&j, &q, every, |r| {
            (day("2026-03-07")..=day("2026-03-09")).contains(&local_day(r, offset))
        });
        let q = Search {
            utc_offset_secs: offset,
            ..query("2026-06-30")
        };
        agrees(&j, &q, every, |r| local_day(r, offset) == day("2026-06-30"));
    }
    // A range in the text narrows the flags' range; with an amount it is an AND.
    let row = a_sale(every, 9000);
    let d = local_day(row, 0);
    let text = format!(
        "{}..{} {}",
        d.with_day(1).unwrap(),
        d,
        format_minor(row.amount.minor(), 2)
    );
    agrees(&j, &query(&text), every, |r| {
        let rd = local_day(r, 0);
        rd <= d && rd >= d.with_day(1).unwrap() && r.amount == row.amount
    });
    let none = j.search(&query("2027-01-01")).unwrap();
    assert!(none.rows.is_empty() && none.next.is_none());
}

#[test]
fn bad_terms_say_what_is_understood() {
    let (path, _) = shared();
    let j = Journal::open(path).unwrap();
    for bad in ["12.345", "2026-02-30", "a;b"] {
        match j.search(&query(bad)) {
            Err(JournalError::Invalid(m)) => assert!(m.contains(bad), "{m}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn aftermath_of_a_page_in_one_call() {
    let (path, every) = shared();
    let j = Journal::open(path).unwrap();
    let refund = every
        .iter()
        .find(|r| r.kind.name() == "refund" && r.state == TxnState::Approved)
        .unwrap();
    let orig = refund.orig_order_no.clone().unwrap();
    let voided = every
        .iter()
        .find(|r| r.kind.name() == "void" && r.state == TxnState::Approved)
        .unwrap()
        .orig_order_no
        .clone()
        .unwrap();
    let untouched = a_sale(every, 0).order_no.clone();
    let after = j
        .aftermath(&[orig.clone(), voided.clone(), untouched.clone()])
        .unwrap();
    let refunded: i64 = every
        .iter()
        .filter(|r| r.kind.name() == "refund" && r.state == TxnState::Approved)
        .filter(|r| r.orig_order_no.as_deref() == Some(&orig))
        .map(|r| r.amount.minor())
        .sum();
    assert!(
        after[&orig]
            .iter()
            .any(|a| matches!(a, Aftermath::Refunded(m) if m.minor() == refunded)),
        "{:?}",
        after[&orig]
    );
    assert!(after[&voided].contains(&Aftermath::Voided));
    assert_eq!(Aftermath::Voided.to_string(), "voided");
    let untouched_has = every
        .iter()
        .any(|r| r.orig_order_no.as_deref() == Some(&untouched) && r.state != TxnState::Declined);
    assert_eq!(after.contains_key(&untouched), untouched_has);
}

/// A copy of a freshly generated journal spanning two years, for the archive tests.
fn two_years(dir: &Path) -> Vec<TxnRow> {
    let j = generate(
        dir,
        &spec(5_000, 40, "2025-07-01T00:00:00Z", "2026-07-01T00:00:00Z"),
    )
    .unwrap();
    every_row(&j)
}

fn copy_journal(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::copy(from.join("till.db"), to.join("till.db")).unwrap();
}

#[test]
fn archive_moves_old_closed_batches_and_search_still_finds_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let before = two_years(dir.path());
    let mut j = Journal::open(dir.path()).unwrap();
    // A closed batch with an unresolved row stays.
    let stuck = before.iter().rev().find(|r| r.batch == 3).unwrap().clone();
    rusqlite::Connection::open(dir.path().join("till.db"))
        .unwrap()
        .execute("UPDATE txn SET state = 'unknown' WHERE id = ?1", [stuck.id])
        .unwrap();
    let done = j.archive("2026-05-01T00:00:00Z").unwrap();
    assert!(!done.batches.contains(&3), "{:?}", done.batches);
    assert_eq!(done.files.len(), 2, "{:?}", done.files);
    assert!(dir.path().join("till-2025.db").exists());
    assert!(dir.path().join("till-2026.db").exists());
    let years: Vec<i32> = j.archives().unwrap().iter().map(|a| a.year).collect();
    assert_eq!(years, [2026, 2025]);
    let live = j.rows(till::journal::BatchSel::Number(3)).unwrap();
    assert!(live.iter().any(|r| r.id == stuck.id));
    assert!(
        j.rows(till::journal::BatchSel::Number(2))
            .unwrap()
            .is_empty()
    );
    assert!(done.rows > 3_000, "{done:?}");

    // Every row once, from journal and archives alike; the stuck row is unknown now.
    let after = every_row(&j);
    assert_eq!(ids(&after), ids(&before));
    let row = before
        .iter()
        .find(|r| r.batch == 1 && r.kind.is_sale())
        .unwrap();
    agrees(&j, &query(&row.order_no), &after, |r| {
        r.order_no == row.order_no
    });
    agrees(
        &j,
        &query(row.reply.auth_code.as_deref().unwrap()),
        &after,
        |r| r.reply.auth_code == row.reply.auth_code,
    );

    // A new row never takes an archived row's id, even once the journal is empty.
    let next = j
        .begin(&till::journal::NewTxn {
            order_no: "L09-NEW-0101-000001".into(),
            request_id: "r".into(),
            kind: TxnKind::from_name("sale").unwrap(),
            amount: till::money::Money::from_minor(100, 2).unwrap(),
            tip: None,
            cashback: None,
            currency: "USD".into(),
            orig_order_no: None,
            lane: "L09".into(),
            scenario: None,
        })
        .unwrap();
    assert!(next > before.iter().map(|r| r.id).max().unwrap());
    // Nothing more is old enough: a second run moves nothing.
    assert_eq!(j.archive("2026-05-01T00:00:00Z").unwrap().rows, 0);
}

#[test]
fn an_archive_interrupted_after_the_copy_finishes_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let before = two_years(&dir.path().join("a"));
    // `b` is `a` as it was before archiving, beside the archives `a` wrote: what a
    // crash after the copy's commit and before the delete leaves.
    copy_journal(&dir.path().join("a"), &dir.path().join("b"));
    let mut a = Journal::open(&dir.path().join("a")).unwrap();
    let first = a.archive("2026-03-01T00:00:00Z").unwrap();
    for f in &first.files {
        std::fs::copy(f, dir.path().join("b").join(f.file_name().unwrap())).unwrap();
    }
    let mut b = Journal::open(&dir.path().join("b")).unwrap();
    assert_eq!(
        ids(&every_row(&b)),
        ids(&before),
        "search never shows a row twice"
    );
    // Nor does a report count a batch twice, from totals or rows.
    for (from, to) in periods() {
        let want = a.report_range(from, to, 0).unwrap();
        assert_eq!(b.report_range(from, to, 0).unwrap(), want);
        let rows = b.report_range_from(from, to, 0, Source::Rows).unwrap();
        assert_eq!(rows, want);
    }
    let again = b.archive("2026-03-01T00:00:00Z").unwrap();
    assert_eq!(again.batches, first.batches);
    assert_eq!(again.rows, first.rows, "the delete finishes");
    assert_eq!(ids(&every_row(&b)), ids(&before));
    for f in &first.files {
        let count = |p: &Path| -> i64 {
            rusqlite::Connection::open(p)
                .unwrap()
                .query_row("SELECT COUNT(*) FROM txn", [], |r| r.get(0))
                .unwrap()
        };
        let name = f.file_name().unwrap();
        assert_eq!(
            count(f),
            count(&dir.path().join("b").join(name)),
            "no copy twice"
        );
        let audits = |p: &Path| -> i64 {
            rusqlite::Connection::open(p)
                .unwrap()
                .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(
            audits(f),
            2 * count(f),
            "two audit lines per row, once each"
        );
        assert_eq!(audits(f), audits(&dir.path().join("b").join(name)));
    }
}

/// Every period the tests ask of the kept totals, each compared with its rows tallied.
fn periods() -> Vec<(Option<NaiveDate>, Option<NaiveDate>)> {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    vec![
        (None, None),
        (d("2026-03-07"), d("2026-03-07")),
        (d("2026-05-03"), d("2026-05-09")),
        (d("2026-02-01"), d("2026-02-28")),
        (d("2025-07-01"), d("2026-11-24")),
        (None, d("2026-04-15")),
        (d("2026-02-28"), None),
    ]
}

fn totals_agree(j: &Journal, offsets: &[i32]) {
    for &offset in offsets {
        for (from, to) in periods() {
            let kept = j
                .report_range_from(from, to, offset, Source::Totals)
                .unwrap();
            let rows = j.report_range_from(from, to, offset, Source::Rows).unwrap();
            assert_eq!(kept, rows, "{from:?}..{to:?} at {offset}");
        }
    }
}

#[test]
fn a_range_of_batches_counts_as_its_batch_reports_do() {
    let (path, every) = shared();
    let j = Journal::open(path).unwrap();
    for (first, last) in [(1, 1), (10, 20), (250, 301)] {
        let kept = j.report_batches((first, last), 0, Source::Totals).unwrap();
        let rows = j.report_batches((first, last), 0, Source::Rows).unwrap();
        assert_eq!(kept, rows, "{first}..{last}");
        let want = every
            .iter()
            .filter(|r| (first..=last).contains(&r.batch))
            .count();
        assert_eq!(kept.rows, want);
        for kind in ["sale", "refund", "completion", "pre-auth"] {
            let (mut count, mut sum) = (0, 0);
            for b in first..=last.min(300) {
                let rep = j.report(till::journal::BatchSel::Number(b)).unwrap();
                if let Some(g) = rep.per_kind.iter().find(|g| g.name == kind) {
                    count += g.count;
                    sum += g.sum_minor;
                }
            }
            let got = kept.per_kind.iter().find(|g| g.name == kind);
            assert_eq!(
                got.map_or((0, 0), |g| (g.count, g.sum_minor)),
                (count, sum),
                "{kind} in {first}..{last}"
            );
        }
    }
}

#[test]
fn kept_totals_say_what_the_rows_say_for_any_period_and_zone() {
    let (path, every) = shared();
    let j = Journal::open(path).unwrap();
    // Whole hours either side, India (+5:30) and Nepal (+5:45): every one starts its
    // days on a quarter hour. The last is not a real zone: the report tallies rows.
    totals_agree(
        &j,
        &[0, 10 * 3600, -5 * 3600, 19_800, 20_700, 7 * 3600 + 1234],
    );
    let year = j.report_range(None, None, 0).unwrap();
    assert_eq!(year.rows, every.len());
    assert_eq!(year.per_hour.len(), 24);
}

fn sale(order: &str, minor: i64, kind: &str, orig: Option<&str>) -> till::journal::NewTxn {
    till::journal::NewTxn {
        order_no: order.into(),
        request_id: format!("r-{order}"),
        kind: TxnKind::from_name(kind).unwrap(),
        amount: till::money::Money::from_minor(minor, 2).unwrap(),
        tip: None,
        cashback: None,
        currency: "USD".into(),
        orig_order_no: orig.map(String::from),
        lane: "L01".into(),
        scenario: None,
    }
}

fn approve(j: &mut Journal, txn: &till::journal::NewTxn) {
    j.begin(txn).unwrap();
    let rec = till::journal::OutcomeRecord {
        state: TxnState::Approved,
        reply: till::journal::TerminalReply {
            brand: Some("VISA".into()),
            ..till::journal::TerminalReply::default()
        },
        ..Default::default()
    };
    j.record_outcome(&txn.order_no, &rec, "test").unwrap();
}

fn dirty(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM tally_dirty_row", [], |r| r.get(0))
        .unwrap()
}

/// The rows per batch the journal lists (from its kept totals) are its rows.
fn batch_counts_agree(j: &Journal, path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    for b in j.batches().unwrap() {
        let rows: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM txn WHERE batch = ?1",
                [b.number],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(b.count, rows, "batch {}", b.number);
    }
}

/// The file at `path` as an upgrade leaves it: no totals kept, every row to tally.
fn forget_totals(path: &Path) {
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch(
            "DELETE FROM tally_slot; DELETE FROM tally_day; DELETE FROM tally_row;
             INSERT OR IGNORE INTO tally_dirty_row SELECT id FROM txn;",
        )
        .unwrap();
}

#[test]
fn kept_totals_follow_every_write_an_archive_and_a_repair() {
    let dir = tempfile::tempdir().unwrap();
    let before = two_years(dir.path());
    let file = dir.path().join("till.db");
    let mut j = Journal::open(dir.path()).unwrap();
    let old = before
        .iter()
        .find(|r| r.kind.is_sale() && r.state == TxnState::Approved && r.tip.is_none())
        .unwrap();
    let its_day = Some(local_day(old, 0));
    let day_before = j.report_range(its_day, its_day, 0).unwrap();
    // A tip adjustment written today changes the old sale's day (its tip), then a
    // void gives the sale and its tip back today, and a refund of another sale.
    approve(
        &mut j,
        &sale("L01-T-1", 700, "tip-adjust", Some(&old.order_no)),
    );
    let day_after = j.report_range(its_day, its_day, 0).unwrap();
    let tips = |r: &till::journal::RangeReport| {
        r.per_kind
            .iter()
            .find(|g| g.name == "tips")
            .map_or(0, |g| g.sum_minor)
    };
    assert_eq!(tips(&day_after), tips(&day_before) + 700);
    assert_eq!(day_after.net_minor, day_before.net_minor + 700);
    approve(
        &mut j,
        &sale("L01-V-1", old.amount.minor(), "void", Some(&old.order_no)),
    );
    let other = before
        .iter()
        .rev()
        .find(|r| r.kind.is_sale() && r.state == TxnState::Approved)
        .unwrap();
    approve(
        &mut j,
        &sale("L01-R-1", 100, "refund", Some(&other.order_no)),
    );
    // A row resolved by a supervisor.
    j.begin(&sale("L01-S-1", 4321, "sale", None)).unwrap();
    j.override_state(
        "L01-S-1",
        TxnState::Approved,
        "customer's receipt",
        "sup",
        "L01",
    )
    .unwrap();
    assert_eq!(dirty(&file), 0, "every write tallied what it changed");
    batch_counts_agree(&j, &file);
    assert_eq!(
        j.report_range(None, None, 0).unwrap().rows,
        before.len() + 4
    );
    totals_agree(&j, &[0, 3600]);

    // Archived, the totals move with the rows; the archives keep theirs.
    let done = j.archive("2026-05-01T00:00:00Z").unwrap();
    assert!(done.rows > 1_000, "{done:?}");
    for f in &done.files {
        assert_eq!(dirty(f), 0, "{}", f.display());
    }
    assert_eq!(dirty(&file), 0);
    totals_agree(&j, &[0, -3 * 3600]);
    batch_counts_agree(&j, &file);

    // A void and a refund written today of payments now archived: their write finds
    // the originals in the archive (a void gives back what its original took).
    let mut archived = before.iter().filter(|r| {
        r.created_at.as_str() < "2026-05-01"
            && r.kind.is_sale()
            && r.state == TxnState::Approved
            && r.order_no != old.order_no
    });
    let (voided, refunded) = (archived.next().unwrap(), archived.next().unwrap());
    approve(
        &mut j,
        &sale(
            "L01-V-2",
            voided.amount.minor(),
            "void",
            Some(&voided.order_no),
        ),
    );
    approve(
        &mut j,
        &sale("L01-R-2", 100, "refund", Some(&refunded.order_no)),
    );
    assert_eq!(dirty(&file), 0);
    totals_agree(&j, &[0, -3 * 3600]);

    // Totals that drifted from their rows are found by `check_totals`, tallied again.
    rusqlite::Connection::open(&file)
        .unwrap()
        .execute("UPDATE tally_day SET sum_minor = sum_minor + 1", [])
        .unwrap();
    assert!(!j.check_totals().unwrap());
    assert!(j.check_totals().unwrap());
    totals_agree(&j, &[0]);

    // A file whose totals were never kept (as an older release left it): a payment's
    // write does not wait for the backlog, reports read the rows meanwhile, and the
    // next open tallies everything.
    forget_totals(&file);
    let backlog = dirty(&file);
    assert!(backlog > 100);
    approve(&mut j, &sale("L01-S-2", 555, "sale", None));
    // (The write's own rows wait with the backlog.)
    assert!(dirty(&file) >= backlog, "the write left the backlog alone");
    totals_agree(&j, &[0]);
    drop(j);
    // The next open tallies the backlog on a thread of its own; it returns at once and
    // reports agree all the while.
    let j = Journal::open(dir.path()).unwrap();
    totals_agree(&j, &[0]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while dirty(&file) > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the backlog was never tallied"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    totals_agree(&j, &[0]);
}

mod cli {
    use super::*;
    use common::{QUICK, run, till};

    /// A small journal from years ago in the data dir the binary uses, so the cut-off
    /// `till archive` takes from the clock is after every batch whatever the date.
    fn data_dir(dir: &Path) -> Vec<TxnRow> {
        let j = generate(
            &dir.join("data"),
            &spec(2_000, 12, "2001-01-01T00:00:00Z", "2001-12-31T00:00:00Z"),
        )
        .unwrap();
        every_row(&j)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn history_prints_one_object_and_searches_every_batch() {
        let dir = tempfile::tempdir().unwrap();
        let every = data_dir(dir.path());
        let t = || till(dir.path(), "127.0.0.1:9", QUICK);

        // The open batch is empty: still one object with its rows.
        let open = run(t(), &["history", "--json"]).await;
        assert_eq!(open.code, 0, "{}", open.stderr);
        assert_eq!(open.json(), serde_json::json!({"rows": [], "next": null}));

        let row = a_sale(&every, 100);
        let t6 = format!("{:06}", tail(row));
        let out = run(t(), &["history", "--search", &row.order_no, "--json"]).await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        let j = out.json();
        assert_eq!(j["rows"].as_array().unwrap().len(), 1, "{j}");
        assert_eq!(j["rows"][0]["merchant_order_no"], row.order_no.as_str());
        assert!(j["rows"][0]["aftermath"].is_array());

        // Paging through the binary: a page, then the rest by its cursor.
        let by_tail: Vec<i64> = every
            .iter()
            .filter(|r| tail(r) == tail(row))
            .map(|r| r.id)
            .collect();
        let first = run(t(), &["history", "--search", &t6, "--limit", "1", "--json"]).await;
        let next = first.json()["next"].as_i64();
        assert_eq!(next.is_some(), by_tail.len() > 1);
        let human = run(t(), &["history", "--search", &t6, "--limit", "1"]).await;
        assert!(
            human
                .stdout
                .contains(&format!("--before {}", next.unwrap_or(0)))
                || next.is_none()
        );

        let csv = run(
            t(),
            &[
                "history",
                "--kind",
                "void",
                "--from",
                "2001-03-01",
                "--to",
                "2001-03-31",
                "--csv",
            ],
        )
        .await;
        assert_eq!(csv.code, 0, "{}", csv.stderr);
        let lines: Vec<&str> = csv.stdout.lines().collect();
        assert!(lines[0].starts_with("created_at,order_no,kind"));
        assert!(
            lines.len() > 1
                && lines[1..]
                    .iter()
                    .all(|l| l.contains(",void,") && l.starts_with("2001-03")),
            "{}",
            csv.stdout
        );

        // The batch selection still works.
        let n = every.iter().filter(|r| r.batch == 2).count();
        let b = run(
            t(),
            &["history", "--batch", "2", "--limit", "10000", "--json"],
        )
        .await;
        assert_eq!(b.json()["rows"].as_array().unwrap().len(), n);
        // A page at a time by default.
        let b = run(t(), &["history", "--batch", "2", "--json"]).await;
        assert_eq!(b.json()["rows"].as_array().unwrap().len(), n.min(50));
        assert_eq!(b.json()["next"].is_null(), n <= 50);

        for (args, word) in [
            (
                vec!["history", "--from", "2001-02-30", "--json"],
                "YYYY-MM-DD",
            ),
            (vec!["report", "--to", "yesterday", "--json"], "YYYY-MM-DD"),
            (vec!["history", "--kind", "sales", "--json"], "not a kind"),
            (vec!["history", "--search", "12.345", "--json"], "12.345"),
        ] {
            let out = run(t(), &args).await;
            assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
            assert!(
                out.json()["error"].as_str().unwrap().contains(word),
                "{args:?}: {}",
                out.stdout
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commands_that_exit_while_a_backlog_is_tallied_say_the_same_and_leave_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        data_dir(dir.path());
        let t = || till(dir.path(), "127.0.0.1:9", QUICK);
        let year = [
            "report",
            "--from",
            "2001-01-01",
            "--to",
            "2001-12-31",
            "--json",
        ];
        let kept = run(t(), &year).await;
        assert_eq!(kept.code, 0, "{}", kept.stderr);
        // As an older release leaves it: no totals, every quarter hour to tally.
        let data = dir.path().join("data");
        let file = data.join("till.db");
        forget_totals(&file);
        assert!(dirty(&file) > 1_000);
        // Each command leaves the backlog to a thread of its own and exits when its own
        // work is done, here in the middle of the thread's first turn (which is rolled
        // back): what it says never changes, and nothing is half tallied.
        for _ in 0..4 {
            let r = run(t(), &year).await;
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert_eq!(r.json(), kept.json());
        }
        let mut j = Journal::open(&data).unwrap();
        j.tally_totals().unwrap();
        assert_eq!(dirty(&file), 0);
        assert_eq!(run(t(), &year).await.json(), kept.json());
        totals_agree(&j, &[0, 3600]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn report_over_dates_and_archive_through_the_binary() {
        let dir = tempfile::tempdir().unwrap();
        let every = data_dir(dir.path());
        let t = || till(dir.path(), "127.0.0.1:9", QUICK);

        let month = run(
            t(),
            &[
                "report",
                "--from",
                "2001-03-01",
                "--to",
                "2001-03-31",
                "--json",
            ],
        )
        .await;
        assert_eq!(month.code, 0, "{}", month.stderr);
        let j = month.json();
        let in_march = every
            .iter()
            .filter(|r| r.created_at.starts_with("2001-03"))
            .count();
        assert_eq!(j["rows"].as_u64().unwrap() as usize, in_march);
        for group in ["per_lane", "per_kind", "per_brand", "per_hour"] {
            assert!(!j[group].as_array().unwrap().is_empty(), "{group}: {j}");
        }
        // Per lane and per hour split the same net.
        let sum = |g: &str| -> i64 {
            j[g].as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    till::money::Money::parse(x["sum"].as_str().unwrap().trim_start_matches('-'), 2)
                        .unwrap()
                        .minor()
                        * if x["sum"].as_str().unwrap().starts_with('-') {
                            -1
                        } else {
                            1
                        }
                })
                .sum()
        };
        let net = j["net"].as_str().unwrap();
        let net = till::money::Money::parse(net.trim_start_matches('-'), 2)
            .unwrap()
            .minor()
            * if net.starts_with('-') { -1 } else { 1 };
        assert_eq!(sum("per_lane"), net);
        assert_eq!(sum("per_hour"), net);
        let csv = run(
            t(),
            &[
                "report",
                "--from",
                "2001-03-01",
                "--to",
                "2001-03-31",
                "--csv",
            ],
        )
        .await;
        assert!(csv.stdout.starts_with("group,name,count,sum\n"));
        for group in ["lane,L01", "kind,sale", "hour,"] {
            assert!(csv.stdout.contains(group), "{group}: {}", csv.stdout);
        }
        // A range of batches, as over dates.
        let batches = run(t(), &["report", "--batch", "3..5", "--json"]).await;
        assert_eq!(batches.code, 0, "{}", batches.stderr);
        let b = batches.json();
        assert_eq!(b["batches"]["first"], 3, "{b}");
        let in_them = every.iter().filter(|r| (3..=5).contains(&r.batch)).count();
        assert_eq!(b["rows"].as_u64().unwrap() as usize, in_them);
        for bad in ["5..3", "3..x"] {
            let refused = run(t(), &["report", "--batch", bad]).await;
            assert_eq!(refused.code, 2, "{bad}: {}", refused.stdout);
        }

        let out = run(t(), &["archive", "--older-than", "30", "--json"]).await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        let a = out.json();
        assert_eq!(a["batches"].as_array().unwrap().len(), 12, "{a}");
        assert!(dir.path().join("data").join("till-2001.db").exists());
        // The same report and the same search, now from the archive.
        let again = run(
            t(),
            &[
                "report",
                "--from",
                "2001-03-01",
                "--to",
                "2001-03-31",
                "--json",
            ],
        )
        .await;
        assert_eq!(again.json(), j);
        let row = a_sale(&every, 5);
        let found = run(t(), &["history", "--search", &row.order_no, "--json"]).await;
        assert_eq!(
            found.json()["rows"][0]["merchant_order_no"],
            row.order_no.as_str()
        );
        let out = run(t(), &["archive", "--json"]).await;
        assert_eq!(out.json()["rows"], 0);
        let check = run(t(), &["check", "--json"]).await;
        assert_eq!(check.json()["ok"], true, "{}", check.stdout);
        // `till check` checks the archives too.
        let archive = dir.path().join("data").join("till-2001.db");
        std::fs::write(&archive, b"not a database".repeat(500)).unwrap();
        let check = run(t(), &["check", "--json"]).await;
        assert_eq!(check.code, 4, "{}", check.stderr);
        let j = check.json();
        assert_eq!(j["ok"], false);
        assert!(
            j["problems"][0].as_str().unwrap().contains("till-2001.db"),
            "{j}"
        );
    }
}

#[test]
fn a_range_report_counts_as_the_batch_reports_do() {
    let (path, every) = shared();
    let j = Journal::open(path).unwrap();
    let range = j.report_range(None, None, 0).unwrap();
    assert_eq!(range.rows, every.len());
    let batches: Vec<i64> = {
        let mut b: Vec<i64> = every.iter().map(|r| r.batch).collect();
        b.dedup();
        b
    };
    // Not voids: a void gives back the tip in force, and a batch's report sees only
    // the tip adjustments made in that batch.
    for kind in ["sale", "refund", "completion", "pre-auth", "tip-adjust"] {
        let (mut count, mut sum) = (0, 0);
        for b in &batches {
            let rep = j.report(till::journal::BatchSel::Number(*b)).unwrap();
            if let Some(g) = rep.per_kind.iter().find(|g| g.name == kind) {
                count += g.count;
                sum += g.sum_minor;
            }
        }
        let g = range.per_kind.iter().find(|g| g.name == kind).unwrap();
        assert_eq!((g.count, g.sum_minor), (count, sum), "{kind}");
    }
    let lanes: i64 = range.per_lane.iter().map(|g| g.sum_minor).sum();
    let hours: i64 = range.per_hour.iter().map(|g| g.sum_minor).sum();
    let brands: i64 = range.per_brand.iter().map(|g| g.sum_minor).sum();
    assert_eq!(
        (lanes, hours, brands),
        (range.net_minor, range.net_minor, range.net_minor)
    );
    assert_eq!(range.per_lane.len(), 3);
    assert_eq!(range.per_hour.len(), 24);
    // A day in a zone ten hours east: its hours are local ones, all 24 of them.
    let d = NaiveDate::from_ymd_opt(2026, 4, 2);
    let day = j.report_range(d, d, 10 * 3600).unwrap();
    let want = every
        .iter()
        .filter(|r| Some(local_day(r, 10 * 3600)) == d)
        .count();
    assert_eq!(day.rows, want);
}

#[test]
fn a_batch_opened_after_an_archive_is_numbered_above_the_archived_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = generate(
        dir.path(),
        &spec(200, 4, "2025-07-01T00:00:00Z", "2025-08-01T00:00:00Z"),
    )
    .unwrap();
    let done = j.archive("2026-01-01T00:00:00Z").unwrap();
    assert_eq!(done.batches, [1, 2, 3, 4]);
    assert_eq!(j.open_batch("L01").unwrap(), 5);
}

/// One grammar: a list in memory (the Void and Tip screens' narrowing) reads a search
/// exactly as the journal's search does, kinds, states and what happened since
/// included; a term that reads no way is a clear error in both.
#[test]
fn a_list_in_memory_reads_a_search_as_the_journal_does() {
    let (path, every) = shared();
    let j = Journal::open(path).unwrap();
    let row = a_sale(every, 1234);
    let orders: Vec<String> = every.iter().map(|r| r.order_no.clone()).collect();
    let since = j.aftermath(&orders).unwrap();
    let texts = [
        format_minor(row.amount.minor(), 2),
        last4(row).unwrap().to_string(),
        tail(row).to_string(),
        row.reply.auth_code.clone().unwrap(),
        "refund declined".to_string(),
        "voided".to_string(),
        "refunded sale".to_string(),
    ];
    for text in texts {
        let found = ids(&all_pages(&j, &query(&text)));
        let matched: Vec<i64> = every
            .iter()
            .filter(|r| {
                let after = since.get(&r.order_no).map_or(&[][..], Vec::as_slice);
                row_matches(r, after, &text, 2, 0).unwrap()
            })
            .map(|r| r.id)
            .collect();
        assert!(!found.is_empty(), "{text}: nothing found");
        assert_eq!(found, matched, "{text}");
    }
    for bad in ["12.345", "2026-02-30"] {
        let said = j.search(&query(bad)).unwrap_err().to_string();
        assert!(said.contains(bad), "{said}");
        assert!(row_matches(&every[0], &[], bad, 2, 0).is_err());
    }
}
