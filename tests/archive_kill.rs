//! `till archive` killed at every fsync it makes (strace injects SIGKILL at the Nth
//! `fsync`/`fdatasync` of the process): every file stays readable, the next run
//! finishes the archive, and every row is found exactly once, in the journal or an
//! archive. Needs `strace` on the PATH.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{QUICK, files_under};
use till::journal::generate::{Spec, generate};
use till::journal::{Journal, Search, TxnRow};

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Every row, journal and archives, newest first.
fn every_row(j: &Journal) -> Vec<TxnRow> {
    let mut q = Search {
        limit: 997,
        exponent: 2,
        ..Search::default()
    };
    let mut out = Vec::new();
    loop {
        let page = j.search(&q).unwrap();
        out.extend(page.rows);
        match page.next {
            Some(next) => q.before = Some(next),
            None => return out,
        }
    }
}

/// The real binary on `data`, run as itself or under `strace` with `strace_args`.
fn till(dir: &Path, data: &Path, strace_args: &[String], args: &[&str]) -> std::process::Output {
    let config = dir.join("config.toml");
    std::fs::write(&config, QUICK).unwrap();
    let bin = env!("CARGO_BIN_EXE_till");
    let mut cmd = if strace_args.is_empty() {
        Command::new(bin)
    } else {
        let mut c = Command::new("strace");
        c.args(strace_args).arg("--").arg(bin);
        c
    };
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("TILL_DATA_DIR", data)
        .env("TILL_CONFIG", &config)
        .env("TILL_URL", "127.0.0.1:9")
        .env("TILL_APP_ID", "test-app")
        .env("TILL_LANE", "C01")
        .args(args)
        .output()
        .expect("strace and till run")
}

fn copy_dir(from: &Path, to: &Path) {
    for (path, bytes) in files_under(from) {
        let target = to.join(path.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
}

fn said(out: &std::process::Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The fsyncs of one whole run, as strace counts them (one line each).
fn syncs_of_a_run(dir: &Path, data: &Path) -> usize {
    let trace = dir.join("syncs.trace");
    let strace = [
        "-f",
        "-qq",
        "-e",
        "trace=fsync,fdatasync",
        "-o",
        trace.to_str().unwrap(),
    ]
    .map(String::from);
    let out = till(dir, data, &strace, &["archive", "--json"]);
    assert!(out.status.success(), "{}", said(&out));
    std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .filter(|l| l.contains("sync("))
        .count()
}

#[test]
fn an_archive_killed_at_any_fsync_is_finished_by_the_next_run() {
    let base = tempfile::tempdir().unwrap();
    let pristine: PathBuf = base.path().join("pristine");
    // Two years of closed batches: two archive files made, filled and tallied.
    let j = generate(
        &pristine,
        &Spec {
            rows: 600,
            batches: 8,
            start: at("2001-01-01T00:00:00Z"),
            end: at("2002-12-31T00:00:00Z"),
            lanes: 2,
            seed: 11,
        },
    )
    .unwrap();
    let mut rows: Vec<i64> = every_row(&j).iter().map(|r| r.id).collect();
    rows.sort_unstable();
    drop(j);

    let whole = base.path().join("whole");
    copy_dir(&pristine, &whole);
    let syncs = syncs_of_a_run(base.path(), &whole);
    assert!(syncs >= 10, "an archive run makes {syncs} fsyncs");

    let mut broken = Vec::new();
    for n in 1..=syncs {
        let data = base.path().join(format!("kill-{n}"));
        copy_dir(&pristine, &data);
        let inject = format!("inject=fsync,fdatasync:signal=KILL:when={n}");
        let strace = [
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            "trace=fsync,fdatasync",
            "-e",
            &inject,
        ]
        .map(String::from);
        let killed = till(base.path(), &data, &strace, &["archive", "--json"]);
        assert!(
            !killed.status.success(),
            "not killed at fsync {n}: {}",
            said(&killed)
        );

        // Every file reads, and the next run finishes what was left.
        let check = till(base.path(), &data, &[], &["check", "--json"]);
        let again = till(base.path(), &data, &[], &["archive", "--json"]);
        let search = till(
            base.path(),
            &data,
            &[],
            &["history", "--search", "2001-06-01..2002-06-30", "--json"],
        );
        let after = till(base.path(), &data, &[], &["check", "--json"]);
        let ok = check.status.success()
            && again.status.success()
            && search.status.success()
            && after.status.success();
        if !ok {
            broken.push(format!(
                "fsync {n}:\ncheck {}\narchive {}\nsearch {}\ncheck after {}",
                said(&check),
                said(&again),
                said(&search),
                said(&after)
            ));
            continue;
        }
        // Every row exactly once; nothing left in the journal to archive.
        let j = Journal::open(&data).unwrap();
        let mut found: Vec<i64> = every_row(&j).iter().map(|r| r.id).collect();
        found.sort_unstable();
        assert_eq!(found, rows, "fsync {n}: rows lost or doubled");
        assert_eq!(
            j.archives().unwrap().len(),
            2,
            "fsync {n}: two yearly archives"
        );
        let left = j.recent(10_000).unwrap().len();
        assert_eq!(left, 0, "fsync {n}: {left} rows still in the journal");
        std::fs::remove_dir_all(&data).unwrap();
    }
    assert!(
        broken.is_empty(),
        "{} of {syncs} kill points broke the journal's history:\n{}",
        broken.len(),
        broken.join("\n\n")
    );
}
