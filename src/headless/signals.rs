//! SIGTERM, SIGHUP and SIGINT for a command on the lane. Caught from the start, so no
//! signal can end the process between journaling a payment and booking its answer:
//! before anything is sent a signal stops the command; while a payment is with the
//! terminal the first one is only noted (its answer is waited for and booked), the
//! second stops the wait and leaves the row for `till recover`.

use tokio::signal::unix::{Signal, SignalKind, signal};

pub(super) struct Signals {
    term: Signal,
    hup: Signal,
    int: Signal,
    received: u32,
}

impl Signals {
    pub(super) fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
            received: 0,
        })
    }

    /// The next signal's name. Cancel-safe: a signal is never lost by a `select!`.
    pub(super) async fn next(&mut self) -> &'static str {
        let name = tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
            _ = self.int.recv() => "SIGINT",
        };
        self.received += 1;
        name
    }

    /// How many signals came so far.
    pub(super) fn received(&self) -> u32 {
        self.received
    }
}
