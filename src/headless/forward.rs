//! A command handed to the till that holds the lane: its progress printed here as the
//! command's own, its answer printed and exited with as if it had run here.

use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::output::Progress;
use super::signals::Signals;
use crate::exit::{Code, Exit, Failure, Report};
use crate::link::LinkConfig;
use crate::owner::{Ask, Line};

/// Sends `ask` to the lane's owner (`holder`) and waits for its answer: None when the
/// owner went away before it took the request (nothing was done: reach the lane again).
/// An owner that does not take it within about a request's time, or a signal before it
/// is taken, stops the command having done nothing (the owner acts only on `Go`). Once
/// taken, a payment is waited for as long as it takes (the owner's queue, then the card
/// flow), anything else for about a request's time; the owner gone after it took a
/// payment leaves its outcome unknown (exit 3): the lane's next owner settles it.
// Long on purpose: one exchange with the owner, from hand-over to answer, read top to bottom.
pub(super) async fn forward(
    stream: UnixStream,
    holder: &str,
    ask: Ask,
    money: bool,
    link: &LinkConfig,
    signals: &mut Signals,
) -> Option<Result<Report, Failure>> {
    let (read, mut write) = stream.into_split();
    let text = serde_json::to_string(&ask).ok()? + "\n";
    write.write_all(text.as_bytes()).await.ok()?;
    super::to_stderr(format_args!(
        "till: lane in use by {holder}; the request goes to it\n"
    ));
    let mut lines = BufReader::new(read).lines();
    let mut progress = Progress::new();
    let mut accepted = false;
    let patience = link.connect_timeout + link.request_timeout * 3;
    let until = tokio::time::Instant::from_std(Instant::now() + patience);
    loop {
        let deadline = async {
            match money && accepted {
                true => std::future::pending().await,
                false => tokio::time::sleep_until(until).await,
            }
        };
        let line = tokio::select! {
            line = lines.next_line() => line,
            () = deadline => {
                let nothing = if accepted { "" } else { ": nothing was done" };
                return Some(Err(Failure::new(
                    Exit::Unreachable,
                    format!("lane in use by {holder}, which did not answer within {}s{nothing}", patience.as_secs()),
                ).code(Code::LaneBusy)));
            }
            signal = signals.next() => {
                if !accepted {
                    return Some(Err(Failure::new(
                        Exit::Interrupted,
                        format!("stopped by {signal} before anything was sent: nothing was done"),
                    )));
                }
                if !money {
                    return Some(Err(Failure::new(Exit::Interrupted, format!("stopped by {signal}"))));
                }
                if signals.received() == 1 {
                    progress.say(&format!(
                        "{signal}: the payment is with {holder}, which books its answer; waiting for it (again to stop waiting)"
                    ));
                    continue;
                }
                return Some(Err(Failure::new(
                    Exit::Unknown,
                    format!("stopped waiting on {signal}: {holder} finishes the payment and journals it; `till history` shows how it went"),
                )));
            }
        };
        let line = match line {
            Ok(Some(line)) => line,
            // Gone before it took the request: nothing was done.
            Ok(None) | Err(_) if !accepted => return None,
            Ok(None) | Err(_) => return Some(Err(owner_gone(holder, money))),
        };
        match serde_json::from_str::<Line>(&line) {
            Ok(Line::Accepted { .. }) if !accepted => {
                // The owner acts from here on; gone already, it did nothing.
                write.write_all(Line::Go.text().as_bytes()).await.ok()?;
                accepted = true;
            }
            Ok(Line::Accepted { .. } | Line::Go) => {}
            Ok(Line::Progress { text }) => {
                progress.say(&text);
                progress.tick();
            }
            Ok(done @ Line::Final { .. }) => return done.result(),
            Err(e) => {
                tracing::warn!("the lane's owner said something unreadable: {e}");
                return Some(Err(owner_gone(holder, money)));
            }
        }
    }
}

fn owner_gone(holder: &str, money: bool) -> Failure {
    if money {
        return Failure::new(
            Exit::Unknown,
            format!("{holder} stopped before it answered: the outcome is unknown; the lane's next owner settles it (`till recover`)"),
        )
        .code(Code::Unknown);
    }
    Failure::new(
        Exit::Unreachable,
        format!("{holder} stopped before it answered"),
    )
}
