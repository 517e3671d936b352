//! The store against a real PostgreSQL server the test starts itself: two lanes copying
//! at once, the store down and back, a copy killed with SIGKILL and done again, a row
//! that changes after it was copied. Nothing here reads the clock.

mod common;

use common::pty::keys::{F2, F9};
use std::path::Path;

use common::pg::Pg;
use common::*;
use till::journal::Journal;
use till::journal::generate::{Spec, generate};
use till::sim::Faults;

/// A `till` command for the lane `lane` in `dir`, with the store at `pg`.
fn till_at(dir: &Path, sim_url: &str, lane: &str, pg: &Pg) -> tokio::process::Command {
    let mut cmd = till(dir, sim_url, QUICK);
    cmd.env("TILL_LANE", lane).env("TILL_STORE_URL", pg.url());
    cmd
}

async fn state(pg: &Pg, order: &str) -> String {
    pg.client()
        .await
        .query_one("SELECT state FROM txn WHERE order_no = $1", &[&order])
        .await
        .unwrap()
        .get(0)
}

async fn count(pg: &Pg, sql: &str) -> i64 {
    pg.client().await.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_lanes_copy_at_once_and_the_store_reports_across_them() {
    let pg = Pg::start();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sim_a = start_sim(a.path(), Faults::default(), 0).await;
    let sim_b = start_sim(b.path(), Faults::default(), 0).await;
    for (dir, sim, lane, amounts) in [
        (a.path(), &sim_a, "L01", ["10.00", "2.50"]),
        (b.path(), &sim_b, "L02", ["7.25", "1.00"]),
    ] {
        for amount in amounts {
            let sale = run(
                till_at(dir, &sim.url(), lane, &pg),
                &["sale", amount, "--json"],
            )
            .await;
            assert_eq!(sale.code, 0, "{}", sale.stderr);
        }
    }
    let (sync_a, sync_b) = tokio::join!(
        run(
            till_at(a.path(), &sim_a.url(), "L01", &pg),
            &["store", "sync", "--json"]
        ),
        run(
            till_at(b.path(), &sim_b.url(), "L02", &pg),
            &["store", "sync", "--json"]
        ),
    );
    for s in [&sync_a, &sync_b] {
        assert_eq!(s.code, 0, "{}", s.stderr);
        assert_eq!(s.json()["rows"], 2, "{}", s.stdout);
        assert_eq!(s.json()["left"], 0);
    }
    assert_eq!(count(&pg, "SELECT count(*) FROM txn").await, 4);

    let report = run(
        till_at(a.path(), &sim_a.url(), "L01", &pg),
        &["store", "report", "--json"],
    )
    .await;
    assert_eq!(report.code, 0, "{}", report.stderr);
    let r = report.json();
    assert_eq!(r["net"], "20.75", "{r}");
    let lanes: Vec<(String, String)> = r["per_lane"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["lane"].as_str().unwrap().to_string(),
                g["sum"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        lanes,
        [
            ("L01".into(), "12.50".into()),
            ("L02".into(), "8.25".into())
        ]
    );
    let csv = run(
        till_at(a.path(), &sim_a.url(), "L01", &pg),
        &["store", "report", "--csv"],
    )
    .await;
    assert!(csv.stdout.contains("lane,L02,2,8.25"), "{}", csv.stdout);

    // The same search as a lane's journal, over every lane.
    let find =
        |args: &'static [&'static str]| run(till_at(a.path(), &sim_a.url(), "L01", &pg), args);
    let found = find(&["store", "find", "7.25", "--json"]).await;
    assert_eq!(found.code, 0, "{}", found.stderr);
    let rows = found.json()["rows"].clone();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    let order = rows[0]["merchant_order_no"].as_str().unwrap().to_string();
    assert!(order.starts_with("L02-"), "{order}");
    assert!(order.ends_with("-000001"), "{order}");
    let by_tail = find(&["store", "find", "000001", "--json"]).await;
    let rows = by_tail.json()["rows"].clone();
    assert_eq!(rows.as_array().unwrap().len(), 2, "one per lane: {rows}");
    let bad = find(&["store", "find", "12.345", "--json"]).await;
    assert_eq!(bad.code, 2, "{}", bad.stdout);

    let status = run(
        till_at(b.path(), &sim_b.url(), "L02", &pg),
        &["store", "status", "--json"],
    )
    .await;
    let lanes = status.json()["lanes"].clone();
    assert_eq!(lanes.as_array().unwrap().len(), 2, "{lanes}");
    assert_eq!(lanes[1]["lane"], "L02");
    assert_eq!(lanes[1]["outbox"], 0);
    assert_eq!(lanes[1]["unresolved"], 0);
    sim_a.shutdown().await;
    sim_b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_go_on_with_the_store_down_and_the_outbox_drains_when_it_is_back() {
    let pg = Pg::start();
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let first = run(
        till_at(dir.path(), &sim.url(), "L01", &pg),
        &["store", "sync"],
    )
    .await;
    assert_eq!(first.code, 0, "{}", first.stderr);

    pg.down();
    for amount in ["3.00", "4.00"] {
        let sale = run(
            till_at(dir.path(), &sim.url(), "L01", &pg),
            &["sale", amount],
        )
        .await;
        assert_eq!(
            sale.code, 0,
            "the lane does not wait for the store: {}",
            sale.stderr
        );
    }
    let refused = run(
        till_at(dir.path(), &sim.url(), "L01", &pg),
        &["store", "sync", "--json"],
    )
    .await;
    assert_eq!(refused.code, 4, "{}", refused.stdout);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{}",
        refused.stdout
    );
    let waiting = Journal::open(&dir.path().join("data"))
        .unwrap()
        .outbox_len()
        .unwrap();
    assert!(waiting >= 2, "the outbox holds the changes: {waiting}");

    pg.up();
    let drained = run(
        till_at(dir.path(), &sim.url(), "L01", &pg),
        &["store", "sync", "--json"],
    )
    .await;
    assert_eq!(drained.code, 0, "{}", drained.stderr);
    assert_eq!(drained.json()["rows"], 2);
    assert_eq!(drained.json()["left"], 0);
    assert_eq!(
        count(&pg, "SELECT count(*) FROM txn WHERE state = 'approved'").await,
        2
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_killed_mid_way_and_done_again_holds_each_row_once() {
    let pg = Pg::start();
    let dir = tempfile::tempdir().unwrap();
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let journal = generate(
        &dir.path().join("data"),
        &Spec {
            rows: 20_000,
            batches: 20,
            start: at("2026-01-01T08:00:00Z"),
            end: at("2026-03-01T20:00:00Z"),
            lanes: 1,
            seed: 3,
        },
    )
    .unwrap();
    let audit_lines: i64 = {
        let path = journal.path().to_path_buf();
        drop(journal);
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
            .unwrap()
    };
    let mut sync = till_at(dir.path(), "127.0.0.1:9", "L01", &pg);
    let mut child = sync.args(["store", "sync"]).spawn().unwrap();
    // Killed once the store has taken some of it, and before it has all.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let copied = pg
            .client()
            .await
            .query_opt("SELECT count(*) FROM txn", &[])
            .await
            .ok()
            .flatten()
            .map_or(0, |r| r.get::<_, i64>(0));
        if copied > 0 || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let copied = count(&pg, "SELECT count(*) FROM txn").await;
    assert!(copied > 0, "the copy had started");

    let again = run(
        till_at(dir.path(), "127.0.0.1:9", "L01", &pg),
        &["store", "sync", "--json"],
    )
    .await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["left"], 0);
    assert_eq!(count(&pg, "SELECT count(*) FROM txn").await, 20_000);
    assert_eq!(
        count(&pg, "SELECT count(DISTINCT order_no) FROM txn").await,
        20_000
    );
    assert_eq!(count(&pg, "SELECT count(*) FROM audit").await, audit_lines);
    // The store's totals are the lane's own, whatever the kill cut short.
    for period in [
        ["--from", "2025-12-01", "--to", "2026-03-31"],
        ["--from", "2026-01-17", "--to", "2026-01-17"],
        ["--from", "2026-01-09", "--to", "2026-02-13"],
    ] {
        let lane = run(
            till_at(dir.path(), "127.0.0.1:9", "L01", &pg),
            &[&["report", "--json"][..], &period[..]].concat(),
        )
        .await;
        let store = run(
            till_at(dir.path(), "127.0.0.1:9", "L01", &pg),
            &[&["store", "report", "--json"][..], &period[..]].concat(),
        )
        .await;
        assert_eq!(lane.code, 0, "{}", lane.stderr);
        assert_eq!(store.code, 0, "{}", store.stderr);
        assert!(
            lane.json()["rows"].as_u64().unwrap() > 100,
            "{}",
            lane.stdout
        );
        assert_eq!(store.json(), lane.json(), "{period:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_that_changes_after_it_was_copied_is_copied_again() {
    let pg = Pg::start();
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    // A sale frozen with its row journaled as pending, the frame not yet sent.
    let (mut frozen, order) = frozen_sale(dir.path(), &sim.url(), "after-journal", "9.99").await;
    let sync = run(
        till_at(dir.path(), &sim.url(), "C01", &pg),
        &["store", "sync"],
    )
    .await;
    assert_eq!(sync.code, 0, "{}", sync.stderr);
    assert_eq!(state(&pg, &order).await, "pending");
    let status = run(
        till_at(dir.path(), &sim.url(), "C01", &pg),
        &["store", "status", "--json"],
    )
    .await;
    assert_eq!(
        status.json()["lanes"][0]["unresolved"],
        1,
        "{}",
        status.stdout
    );

    frozen.start_kill().unwrap();
    frozen.wait().await.unwrap();
    let recover = run(till_at(dir.path(), &sim.url(), "C01", &pg), &["recover"]).await;
    assert_eq!(recover.code, 0, "{}", recover.stderr);
    let sync = run(
        till_at(dir.path(), &sim.url(), "C01", &pg),
        &["store", "sync"],
    )
    .await;
    assert_eq!(sync.code, 0, "{}", sync.stderr);
    let settled = state(&pg, &order).await;
    assert!(settled == "declined" || settled == "approved", "{settled}");
    let trail = count(
        &pg,
        &format!("SELECT count(*) FROM audit WHERE order_no = '{order}'"),
    )
    .await;
    assert!(trail >= 2, "the audit trail came along: {trail}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_copies_to_the_store_in_the_background() {
    let pg = Pg::start();
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    let url = pg.url();
    let mut s = common::pty::Screen::start(dir.path(), &sim.url(), &[("TILL_STORE_URL", &url)]);
    s.wait_for("UP").await;
    s.keys("1234\r");
    s.wait_for("APPROVED").await;
    s.keys(" ");
    // The copier makes the store's tables on its first copy: until then there is none.
    let copied = || async {
        let client = pg.client().await;
        let approved = "SELECT count(*) FROM txn WHERE state = 'approved'";
        client
            .query_one(approved, &[])
            .await
            .is_ok_and(|row| row.get::<_, i64>(0) >= 1)
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while !copied().await {
        assert!(tokio::time::Instant::now() < deadline, "never copied");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    s.keys(F9);
    s.wait_for("copied at").await;
    // The store going away does not stop the lane.
    pg.down();
    s.keys(F2);
    s.keys("500\r");
    s.wait_for("APPROVED").await;
    s.keys(" ");
    s.keys(F9);
    s.wait_for("not copied").await;
    s.keys("\x03");
    assert_eq!(s.exit_code().await, 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_search_finds_a_payment_of_another_lane_in_the_store() {
    let pg = Pg::start();
    let (here, there) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sim_there = start_sim(there.path(), Faults::default(), 0).await;
    let sale = run(
        till_at(there.path(), &sim_there.url(), "L03", &pg),
        &["sale", "61.17"],
    )
    .await;
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    let sync = run(
        till_at(there.path(), &sim_there.url(), "L03", &pg),
        &["store", "sync"],
    )
    .await;
    assert_eq!(sync.code, 0, "{}", sync.stderr);

    let sim = start_sim(here.path(), Faults::default(), 0).await;
    let url = pg.url();
    let mut s = common::pty::Screen::start(here.path(), &sim.url(), &[("TILL_STORE_URL", &url)]);
    s.wait_for("UP").await;
    s.keys("\x1b[19~/61.17"); // F8, search
    s.wait_for("on other lanes (the store)").await;
    s.wait_for("found on lane L03").await;
    s.wait_for("61.17").await;
    s.keys("\r\x03");
    assert_eq!(s.exit_code().await, 0);
    sim.shutdown().await;
    sim_there.shutdown().await;
}

/// A CA's certificate, and a certificate for 127.0.0.1 it signed with that
/// certificate's key, all PEM.
fn certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca_pem, cert.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_the_store_is_reached_only_through_the_ca_the_url_names() {
    let pg = Pg::start();
    let (ca, cert, key) = certificates();
    pg.enable_tls(&cert, &key);
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(dir.path(), Faults::default(), 0).await;
    std::fs::write(dir.path().join("ca.pem"), ca).unwrap();
    std::fs::write(dir.path().join("other.pem"), certificates().0).unwrap();
    let url = |ca: &str| {
        let ca = dir.path().join(ca);
        format!("{}?sslmode=require&sslrootcert={}", pg.url(), ca.display())
    };
    let lane = |store_url: String| {
        let mut cmd = till_at(dir.path(), &sim.url(), "L01", &pg);
        cmd.env("TILL_STORE_URL", store_url);
        cmd
    };
    let sale = run(lane(url("ca.pem")), &["sale", "3.00", "--json"]).await;
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    let sync = run(lane(url("ca.pem")), &["store", "sync", "--json"]).await;
    assert_eq!(sync.code, 0, "{}", sync.stderr);
    assert_eq!(sync.json()["rows"], 1, "{}", sync.stdout);
    // The server saw the store's own connection encrypted.
    let store = till::store::Store::open(&till::store::StoreUrl::parse(&url("ca.pem")).unwrap())
        .await
        .unwrap();
    assert_eq!(store.status().await.unwrap().len(), 1);
    let encrypted = count(
        &pg,
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
         WHERE s.ssl AND a.usename = 'till'",
    )
    .await;
    assert!(encrypted >= 1, "{encrypted}");

    // Another CA, or the web's roots: the server is not trusted, nothing is copied,
    // and the sale waits in the outbox.
    let sale = run(lane(url("ca.pem")), &["sale", "4.00", "--json"]).await;
    assert_eq!(sale.code, 0, "{}", sale.stderr);
    for store_url in [url("other.pem"), format!("{}?sslmode=require", pg.url())] {
        let refused = run(lane(store_url), &["store", "sync", "--json"]).await;
        assert_ne!(refused.code, 0, "{}", refused.stdout);
        assert!(
            refused.stderr.contains("certificate"),
            "says why: {}",
            refused.stderr
        );
    }
    assert_eq!(count(&pg, "SELECT count(*) FROM txn").await, 1);
    let again = run(lane(url("ca.pem")), &["store", "sync", "--json"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(count(&pg, "SELECT count(*) FROM txn").await, 2);
    sim.shutdown().await;
}
