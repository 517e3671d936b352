//! The owner's lane as its clients share it: the actor's events fanned out to the
//! owner's own consumer (the screen, a command) and to each forwarded request, what
//! the lane is doing now (for `till status` and for waiting in turn), and the queue
//! forwarded payments wait in.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedMutexGuard, mpsc, watch};

use crate::lane::{Event, LaneHandle, LinkNews, Step};

/// What the lane is doing now, as its events told it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct LaneState {
    /// `connected`, `connecting` or `down: why`.
    pub(crate) link: String,
    #[serde(skip)]
    pub(crate) up: bool,
    /// The terminal the lane is set to (an address or `sn:SERIAL`).
    pub(crate) target: String,
    pub(crate) serial: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) round_trip_ms: Option<u64>,
    /// The payment on the terminal now.
    pub(crate) paying: Option<String>,
    pub(crate) unresolved: Vec<String>,
    /// The unresolved rows the lane settles by query (the rest wait for a person).
    #[serde(skip)]
    pub(crate) by_query: Vec<String>,
    /// Forwarded payments not yet on the terminal: waiting for their turn, or for the
    /// payment on the terminal to end.
    pub(crate) queue: usize,
}

impl LaneState {
    fn apply(&mut self, event: &Event) {
        match event {
            Event::Link(news) => match news {
                LinkNews::Connecting { .. } => {
                    self.up = false;
                    self.link = "connecting".into();
                }
                // Up once the terminal has answered init, as the lane takes payments
                // only then (a row names the terminal that takes it).
                LinkNews::Connected => self.link = "connected".into(),
                LinkNews::Down { reason, .. } => {
                    self.up = false;
                    self.link = format!("down: {reason}");
                }
                LinkNews::Closed => {
                    self.up = false;
                    self.link = "closed".into();
                }
                LinkNews::Target(target) => {
                    self.target = target.clone();
                    self.serial = None;
                    self.address = None;
                }
                LinkNews::Located { serial, address } => {
                    self.serial = Some(serial.clone());
                    self.address = Some(address.clone());
                }
                LinkNews::Device(info) => {
                    self.up = true;
                    if info.device_sn.is_some() {
                        self.serial = info.device_sn.clone();
                    }
                }
                LinkNews::RoundTrip(rtt) => {
                    self.round_trip_ms = Some(u64::try_from(rtt.as_millis()).unwrap_or(u64::MAX))
                }
                LinkNews::Wire { .. } | LinkNews::Stray { .. } | LinkNews::Malformed { .. } => {}
            },
            Event::Sent { order_no, .. } => self.paying = Some(order_no.clone()),
            // Its answer was lost: no longer on the terminal, it is unresolved now (and
            // the lane's rules say what may go next).
            Event::Progress {
                order_no,
                step: Step::Unknown { .. },
            } if self.paying.as_ref() == Some(order_no) => self.paying = None,
            Event::Done { row, .. } if self.paying.as_ref() == Some(&row.order_no) => {
                self.paying = None
            }
            Event::Unresolved { orders, by_query } => {
                self.unresolved = orders.clone();
                self.by_query = by_query.clone();
            }
            Event::Stopped => {
                self.up = false;
                self.paying = None;
                self.link = "stopped".into();
            }
            _ => {}
        }
    }
}

/// The lane of the process that owns it, shared by its own work and the requests it
/// serves. Cheap to clone.
#[derive(Clone)]
pub struct Shared {
    pub(crate) handle: LaneHandle,
    inner: Arc<Inner>,
}

struct Inner {
    /// One sender per forwarded request that listens; closed ones are dropped.
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Event>>>,
    local: mpsc::UnboundedSender<Event>,
    state: watch::Sender<LaneState>,
    queue: Arc<tokio::sync::Mutex<()>>,
}

/// A forwarded payment's turn on the lane: the next waits until it is dropped.
pub(crate) struct Turn {
    _guard: OwnedMutexGuard<()>,
    waiting: Option<Waiting>,
}

impl Turn {
    /// It goes to the terminal now: it no longer counts as waiting.
    pub(crate) fn started(&mut self) {
        self.waiting = None;
    }
}

/// One forwarded payment counted in `LaneState::queue` while it lives.
struct Waiting(Shared);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0
            .inner
            .state
            .send_modify(|s| s.queue = s.queue.saturating_sub(1));
    }
}

impl Shared {
    /// Takes the actor's event stream; the owner's own consumer reads the one returned,
    /// which carries every event as before.
    pub fn start(
        handle: LaneHandle,
        mut events: mpsc::UnboundedReceiver<Event>,
        target: String,
    ) -> (Shared, mpsc::UnboundedReceiver<Event>) {
        let (local, local_rx) = mpsc::unbounded_channel();
        let (state, _) = watch::channel(LaneState {
            link: "connecting".into(),
            target,
            ..LaneState::default()
        });
        let shared = Shared {
            handle,
            inner: Arc::new(Inner {
                subscribers: Mutex::new(Vec::new()),
                local,
                state,
                queue: Arc::new(tokio::sync::Mutex::new(())),
            }),
        };
        let inner = shared.inner.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                inner.state.send_modify(|s| s.apply(&event));
                if let Ok(mut subscribers) = inner.subscribers.lock() {
                    subscribers.retain(|s| s.send(event.clone()).is_ok());
                }
                // The screen may be gone while a forwarded request still finishes.
                let _ = inner.local.send(event);
            }
            // Every receiver sees the end.
            if let Ok(mut subscribers) = inner.subscribers.lock() {
                subscribers.clear();
            }
        });
        (shared, local_rx)
    }

    /// Every event from now on, until the lane stops.
    pub(crate) fn subscribe(&self) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut subscribers) = self.inner.subscribers.lock() {
            subscribers.push(tx);
        }
        rx
    }

    pub(crate) fn state(&self) -> LaneState {
        self.inner.state.borrow().clone()
    }

    pub(crate) fn watch(&self) -> watch::Receiver<LaneState> {
        self.inner.state.subscribe()
    }

    /// Tells the owner's own consumer (the screen), not the forwarded requests.
    pub(crate) fn announce(&self, event: Event) {
        let _ = self.inner.local.send(event);
    }

    /// Waits for a forwarded payment's turn; `behind` is called once when another
    /// forwarded request has it.
    pub(crate) async fn turn(&self, behind: impl FnOnce()) -> Turn {
        self.inner.state.send_modify(|s| s.queue += 1);
        let waiting = Waiting(self.clone());
        let queue = self.inner.queue.clone();
        let guard = match queue.clone().try_lock_owned() {
            Ok(guard) => guard,
            Err(_) => {
                behind();
                queue.lock_owned().await
            }
        };
        Turn {
            _guard: guard,
            waiting: Some(waiting),
        }
    }

    /// Waits until no payment is on the terminal; `waiting` is told the one that is,
    /// once. False when the lane stopped meanwhile.
    pub(crate) async fn idle(&self, waiting: impl FnOnce(&str)) -> bool {
        let mut watch = self.watch();
        let mut told = Some(waiting);
        loop {
            let paying = watch.borrow_and_update().paying.clone();
            let Some(order_no) = paying else {
                return true;
            };
            if let Some(tell) = told.take() {
                tell(&order_no);
            }
            if watch.changed().await.is_err() {
                return false;
            }
        }
    }

    /// Waits until the link is up, at most `wait`.
    pub(crate) async fn up(&self, wait: Duration) -> bool {
        let mut watch = self.watch();
        tokio::time::timeout(wait, watch.wait_for(|s| s.up))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}
