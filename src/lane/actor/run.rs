//! Starting the actor and its loop: commands, the link, cloud answers and the
//! resolution timer, until a shutdown finds nothing left open.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use super::{Actor, Inflight, LaneHandle};
use crate::cloud::{CloudClient, system_clock};
use crate::journal::Journal;
use crate::lane::command::{Command, Event, PausePoint, Settings};
use crate::lane::owner::LaneOwner;
use crate::link::Link;

/// Starts the lane actor on an opened journal, for the process that owns the lane
/// (held until the actor stops). Events stream out until `Stopped`.
pub fn spawn(
    settings: Settings,
    journal: Journal,
    owner: LaneOwner,
) -> (LaneHandle, mpsc::UnboundedReceiver<Event>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(32);
    let (events, events_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(Actor::new(settings, journal, owner, events).run(rx));
    (LaneHandle { tx }, events_rx, task)
}

/// `spawn` with the journal still to open, on a blocking thread (the screen draws its
/// first frame meanwhile): what is asked of the lane waits in its queue until the
/// journal is open and the actor takes it, in order. The task ends with why the
/// journal did not open, if it did not; then everything queued is refused as for a
/// stopped lane, nothing of it sent.
pub(crate) fn spawn_opening(
    settings: Settings,
    owner: LaneOwner,
    open: impl FnOnce() -> Result<Journal, String> + Send + 'static,
) -> (
    LaneHandle,
    mpsc::UnboundedReceiver<Event>,
    JoinHandle<Result<(), String>>,
) {
    let (tx, rx) = mpsc::channel(32);
    let (events, events_rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let journal = tokio::task::spawn_blocking(open)
            .await
            .map_err(|e| format!("the journal's opening stopped: {e}"))??;
        Actor::new(settings, journal, owner, events).run(rx).await;
        Ok(())
    });
    (LaneHandle { tx }, events_rx, task)
}

impl Actor {
    fn new(
        settings: Settings,
        journal: Journal,
        owner: LaneOwner,
        events: mpsc::UnboundedSender<Event>,
    ) -> Actor {
        let link = Link::new(settings.link.clone());
        let cloud = match settings.cloud.clone() {
            Some(cloud) => CloudClient::new(cloud, system_clock()).map(Some),
            None => Ok(None),
        };
        Actor {
            settings,
            journal,
            _owner: owner,
            link,
            cloud,
            cloud_calls: JoinSet::new(),
            device_sn: None,
            link_sn: None,
            identified: false,
            events,
            inflight: HashMap::new(),
            resolving: BTreeMap::new(),
            shutdown_since: None,
        }
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        self.resume_unresolved();
        loop {
            let resolve_at = tokio::time::Instant::from_std(self.next_resolve_at());
            tokio::select! {
                command = commands.recv(), if self.shutdown_since.is_none() => match command {
                    Some(command) => self.on_command(command).await,
                    None => self.shutdown_since = Some(Instant::now()),
                },
                wake = self.link.wait() => self.link.handle(wake).await,
                Some(done) = self.cloud_calls.join_next(), if !self.cloud_calls.is_empty() => {
                    match done {
                        Ok(answer) => self.on_cloud_answer(answer),
                        Err(e) => tracing::error!("a cloud request's task failed: {e}"),
                    }
                }
                _ = tokio::time::sleep_until(resolve_at) => self.ask_due().await,
            }
            self.pump_link_events();
            if self.may_stop() {
                break;
            }
        }
        self.link.close().await;
        self.pump_link_events();
        self.emit(Event::Stopped);
    }

    pub(super) fn emit(&self, event: Event) {
        // The receiver may be gone (the UI quit first); the journal has it all anyway.
        let _ = self.events.send(event);
    }

    /// The order of the payment on the wire, if one is (the lane sends one at a time).
    pub(super) fn paying(&self) -> Option<&str> {
        self.inflight.values().find_map(|i| match i {
            Inflight::Pay { order_no } => Some(order_no.as_str()),
            _ => None,
        })
    }

    fn may_stop(&self) -> bool {
        let Some(since) = self.shutdown_since else {
            return false;
        };
        self.paying().is_none()
            && (self.resolving.is_empty() || since.elapsed() >= self.settings.shutdown_grace)
    }

    pub(super) fn pause(&self, point: PausePoint) {
        if self.settings.pause_at == Some(point) {
            eprintln!("till: paused at {}", point.name());
            // Frozen on purpose until the test kills the process: all of it, so no other
            // task answers for it meanwhile (the lane's socket). Raised, not sent by a
            // child process, which would hold this one's files a moment after its death.
            // SAFETY: raise() takes a signal number and touches no memory of ours.
            unsafe {
                libc::raise(libc::SIGSTOP);
            }
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
    }
}
