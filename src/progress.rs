//! Progress of long work (a store copy, an archive, a check, a tally of totals) on
//! stderr, so a technician can tell working from hung: a bar with what is done, the
//! rate and the time left when stderr is a terminal, a line every few seconds when it
//! is not (a log, a pipe, a script). Never anything on stdout: `--json` stays one
//! object.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a line is written when stderr is not a terminal, unless
/// `TILL_PROGRESS_SECS` says otherwise (0: at every step).
const EVERY: Duration = Duration::from_secs(5);

/// Where progress goes; cloned handles report to the same place. `hidden()` costs
/// nothing, so library code reports whether anyone is watching or not.
#[derive(Clone, Default)]
pub(crate) struct Progress(Option<Arc<Mutex<Shown>>>);

enum Shown {
    Bar(Option<ProgressBar>),
    Lines(Option<Lines>, Duration),
}

/// The phase under way when progress is written as lines.
struct Lines {
    what: String,
    unit: &'static str,
    total: u64,
    done: u64,
    started: Instant,
    last: Instant,
    said: bool,
}

impl Progress {
    /// Progress nobody sees.
    pub(crate) fn hidden() -> Progress {
        Progress(None)
    }

    /// Progress on stderr: a bar on a terminal, lines otherwise.
    pub(crate) fn stderr() -> Progress {
        let shown = if std::io::stderr().is_terminal() {
            Shown::Bar(None)
        } else {
            let every = std::env::var("TILL_PROGRESS_SECS")
                .ok()
                .and_then(|s| s.parse().ok())
                .map_or(EVERY, Duration::from_secs);
            Shown::Lines(None, every)
        };
        Progress(Some(Arc::new(Mutex::new(shown))))
    }

    /// Begins a phase of `total` `unit`s (0: not known beforehand), ending the one
    /// before.
    pub(crate) fn start(&self, what: &str, unit: &'static str, total: u64) {
        self.with(|shown| {
            end(shown);
            match shown {
                Shown::Bar(bar) => {
                    let b = ProgressBar::with_draw_target(
                        (total > 0).then_some(total),
                        ProgressDrawTarget::stderr(),
                    );
                    let template = if total > 0 {
                        format!(
                            "{{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit}, {{per_sec}}, {{eta}} left"
                        )
                    } else {
                        "{msg} {spinner} {elapsed}".to_string()
                    };
                    if let Ok(style) = ProgressStyle::with_template(&template) {
                        b.set_style(style.progress_chars("=> "));
                    }
                    b.set_message(what.to_string());
                    if total == 0 {
                        b.enable_steady_tick(Duration::from_millis(250));
                    }
                    *bar = Some(b);
                }
                Shown::Lines(lines, _) => {
                    let now = Instant::now();
                    *lines = Some(Lines {
                        what: what.to_string(),
                        unit,
                        total,
                        done: 0,
                        started: now,
                        last: now,
                        said: false,
                    });
                }
            }
        });
    }

    /// `n` more units done.
    pub(crate) fn add(&self, n: u64) {
        self.with(|shown| match shown {
            Shown::Bar(Some(bar)) => bar.inc(n),
            Shown::Lines(Some(lines), every) => {
                lines.done += n;
                if lines.last.elapsed() >= *every {
                    lines.last = Instant::now();
                    lines.said = true;
                    eprintln!("{}", lines.line());
                }
            }
            _ => {}
        });
    }

    /// Ends the phase under way.
    pub(crate) fn finish(&self) {
        self.with(end);
    }

    fn with(&self, f: impl FnOnce(&mut Shown)) {
        if let Some(shown) = &self.0
            && let Ok(mut shown) = shown.lock()
        {
            f(&mut shown);
        }
    }
}

fn end(shown: &mut Shown) {
    match shown {
        Shown::Bar(bar) => {
            if let Some(bar) = bar.take() {
                bar.finish_and_clear();
            }
        }
        Shown::Lines(lines, _) => {
            // A phase that said how it went says that it ended.
            if let Some(l) = lines.take().filter(|l| l.said) {
                eprintln!(
                    "{}: {} {} done in {:.1} s",
                    l.what,
                    l.done,
                    l.unit,
                    l.started.elapsed().as_secs_f64()
                );
            }
        }
    }
}

impl Lines {
    fn line(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 {
            self.done as f64 / secs
        } else {
            0.0
        };
        let (what, done, unit) = (&self.what, self.done, self.unit);
        if self.total == 0 {
            return format!("{what}: {done} {unit}, {rate:.0} a second, {secs:.0} s so far");
        }
        let left = self.total.saturating_sub(self.done);
        let eta = if rate > 0.0 {
            format!("about {:.0} s left", left as f64 / rate)
        } else {
            "time left not known yet".to_string()
        };
        format!(
            "{what}: {done} of {} {unit}, {rate:.0} a second, {eta}",
            self.total
        )
    }
}
