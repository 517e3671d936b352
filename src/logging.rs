//! Logs go through `tracing` to a daily-rotated file in the data dir, never to the
//! terminal the cashier looks at. Frames are masked before they are logged; the
//! WebSocket library, which logs raw payloads at trace level, is capped at info.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Starts file logging; the guard flushes on drop, so keep it for the process's life.
/// A data dir that cannot be written is not fatal for logging: the journal's own open
/// reports that clearly.
pub fn init(data_dir: &Path, verbose: u8) -> Option<WorkerGuard> {
    let dir = data_dir.join("logs");
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("till")
        .filename_suffix("log")
        .max_log_files(30)
        .build(&dir)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let level = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::new(format!("{level},tungstenite=info,tokio_tungstenite=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}
