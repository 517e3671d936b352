//! Logs go through `tracing` to a file a day in the data dir's `logs/`, never to the
//! terminal the cashier looks at, in a directory bounded by size and age (`dir`).
//! Frames are masked before they are logged, and logged up to `FRAME_BYTES`; the
//! WebSocket library, which logs raw payloads at trace level, is capped at info.

pub(crate) mod dir;

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::mask::mask_line;
use crate::visible::visible_lines;
pub use dir::Limits;

/// How much of a frame a log line holds: its start, and its length.
pub(crate) const FRAME_BYTES: usize = 2048;

/// Any one log line at most (a line is cut there, its length said).
const LINE_BYTES: usize = 16 * 1024;

/// Log lines queued for the writer thread before more are dropped (a log line, never a
/// journal record). The queue's slots are allocated and touched when logging starts:
/// the crate's default of 128,000 (4 MB) cost every start about 2 ms, before a
/// screen's first frame or a command's first step; this many is minutes of a busy
/// lane's lines, and the writer drains them as they come.
const LINES_BUFFERED: usize = 8 * 1024;

/// Starts file logging; the guard flushes on drop, so keep it for the process's life.
/// A data dir that cannot be written is not fatal for logging: the journal's own open
/// reports that clearly.
pub fn init(data_dir: &Path, verbose: u8, limits: Limits) -> Option<WorkerGuard> {
    let files =
        dir::LogDir::open(&data_dir.join("logs"), limits, Box::new(chrono::Utc::now)).ok()?;
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LINES_BUFFERED)
        .finish(files);
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

/// `text` up to `max` bytes (cut at a character), and then its whole length.
pub(crate) fn capped(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}… ({} bytes in all)", &text[..end], text.len()))
}

/// The last guard before the file: every formatted line has its card numbers masked
/// and its control characters shown as escapes (`crate::visible`: a log read with
/// `cat` or `tail -f` runs no escape sequence from a terminal), whatever a log call
/// forgot (the formatter hands over one whole event per write, so a number is never
/// split between two writes). A frame logged whole is masked
/// field by field, as in the wire log, so its references keep their digits.
pub(crate) struct Masking<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Masking<M> {
    type Writer = MaskingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskingWriter(self.0.make_writer())
    }
}

pub(crate) struct MaskingWriter<W>(W);

impl<W: Write> Write for MaskingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let masked = mask_line(&text);
        let shown = visible_lines(&masked);
        match capped(shown.trim_end_matches('\n'), LINE_BYTES) {
            Cow::Borrowed(_) => self.0.write_all(shown.as_bytes())?,
            Cow::Owned(cut) => self.0.write_all(format!("{cut}\n").as_bytes())?,
        }
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
    fn long_text_is_cut_at_a_character_and_says_its_length() {
        assert_eq!(capped("short", 10), "short");
        assert_eq!(capped("ééééé", 5), "éé… (10 bytes in all)");
        let mut file = Vec::new();
        let mut writer = MaskingWriter(&mut file);
        writer
            .write_all(format!("{}\n", "x".repeat(100_000)).as_bytes())
            .unwrap();
        let written = String::from_utf8(file).unwrap();
        assert!(written.len() < LINE_BYTES + 100, "{}", written.len());
        assert!(
            written.ends_with("… (100000 bytes in all)\n"),
            "{}",
            &written[LINE_BYTES - 10..]
        );
    }

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
