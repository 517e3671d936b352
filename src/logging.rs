//! Logs go through `tracing` to a daily-rotated file in the data dir, never to the
//! terminal the cashier looks at. Frames are masked before they are logged; the
//! WebSocket library, which logs raw payloads at trace level, is capped at info.

use std::io::Write;
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::mask::mask_line;
use crate::visible::visible_lines;

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
        .with_writer(Masking(writer))
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}

/// The last guard before the file: every formatted line has its card numbers masked
/// and its control characters shown as escapes (`crate::visible`: a log read with
/// `cat` or `tail -f` runs no escape sequence from a terminal), whatever a log call
/// forgot (the formatter hands over one whole event per write, so a number is never
/// split between two writes). A frame logged whole is masked
/// field by field, as in the wire log, so its references keep their digits.
pub struct Masking<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Masking<M> {
    type Writer = MaskingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskingWriter(self.0.make_writer())
    }
}

pub struct MaskingWriter<W>(W);

impl<W: Write> Write for MaskingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let masked = mask_line(&text);
        self.0.write_all(visible_lines(&masked).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_masked_on_their_way_to_the_file() {
        let mut file = Vec::new();
        let mut writer = MaskingWriter(&mut file);
        let line = "2026-11-25T12:00:01Z WARN link down reason=closed (1000 card 4111 1111 1111 1111) order=L01-1124-000042\n";
        writer.write_all(line.as_bytes()).unwrap();
        let written = String::from_utf8(file).unwrap();
        assert_eq!(
            written,
            "2026-11-25T12:00:01Z WARN link down reason=closed (1000 card 4111 11** **** 1111) order=L01-1124-000042\n"
        );
    }
}
