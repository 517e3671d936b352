//! The log directory against a flood from the network: a hostile terminal sends many
//! huge unsolicited frames (stray answers and malformed ones), and the log keeps each
//! to its first 2 KB with its length, and the directory under its configured cap.

mod common;

use common::hostile::{Hostile, Switches};
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_unsolicited_frames_keep_the_log_under_its_cap() {
    let flood = |frames, bytes| Switches {
        flood: Some((frames, bytes)),
        ..Switches::default()
    };
    // A few frames near the link's limit, then hundreds of merely big ones: together
    // far more than the cap even when each is logged only in part.
    let h = Hostile::start(flood(4, 900 * 1024)).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = format!("{QUICK}log_max_mb = 1\nlog_keep_days = 7\n");
    // An old day's file past its retention, and enough of today's to need trimming.
    let logs = d.join("data/logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("till.2001-01-01.log"), "old\n").unwrap();
    let mut total = 0;
    for round in 0..4 {
        if round > 0 {
            h.set(flood(300, 8 * 1024));
        }
        let sale = run(
            till(d, &h.url, &config),
            &["sale", "1.00", "--json", "--force"],
        )
        .await;
        assert_eq!(sale.code, 0, "round {round}: {}", sale.stderr);
        let files = files_under(&logs);
        total = files.iter().map(|(_, b)| b.len()).sum::<usize>();
        assert!(
            total <= 1024 * 1024,
            "round {round}: {total} bytes of log in {:?}",
            files
                .iter()
                .map(|(p, b)| (p.file_name().unwrap().to_owned(), b.len()))
                .collect::<Vec<_>>()
        );
        assert!(!logs.join("till.2001-01-01.log").exists());
    }
    // The frames were logged, each cut with its length said.
    let text: String = files_under(&logs)
        .into_iter()
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .collect();
    assert!(
        text.contains("bytes in all)"),
        "{}",
        &text[..text.len().min(2000)]
    );
    assert!(text.lines().all(|l| l.len() < 20 * 1024));
    assert!(total > 100 * 1024, "the log holds what fits: {total}");
    // More than the cap was written: a day's file is a quarter of it, and its fifth
    // part or later is there while the first ones are gone.
    let parts: Vec<u32> = files_under(&logs)
        .iter()
        .filter_map(|(p, _)| {
            let name = p.file_name()?.to_str()?;
            name.strip_suffix(".log")?.rsplit('.').next()?.parse().ok()
        })
        .collect();
    assert!(parts.iter().any(|p| *p >= 4), "{parts:?}");
}
