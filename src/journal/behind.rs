//! Syncs a write leaves to a thread: the numbering mark's, synced while the
//! commit that takes its number runs, and the log's behind an outcome nobody waits
//! for. Each kind has one long-lived thread, started on first use, so a sale does not
//! pay for starting one (about 30 µs each), and a log sync never holds up a mark.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

/// A thread that runs the jobs handed to it, in order.
pub(super) struct Behind(OnceLock<Mutex<Sender<Job>>>);

/// Syncs the numbering mark.
pub(super) static MARKS: Behind = Behind::new();
/// Syncs the journal's write-ahead log behind outcomes.
pub(super) static LOGS: Behind = Behind::new();

impl Behind {
    const fn new() -> Behind {
        Behind(OnceLock::new())
    }

    /// Runs `job` on the thread; its result comes on the receiver. Where the thread
    /// cannot take it (it could not start, or died), it runs here, now.
    pub(super) fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Receiver<T> {
        let (done, result) = channel();
        let job: Job = Box::new(move || {
            let _ = done.send(job());
        });
        let rejected = match self.0.get_or_init(start).lock() {
            Ok(jobs) => jobs.send(job).err().map(|e| e.0),
            Err(_) => Some(job),
        };
        if let Some(job) = rejected {
            job();
        }
        result
    }
}

fn start() -> Mutex<Sender<Job>> {
    let (jobs, queue) = channel::<Job>();
    // Should the thread not start, the queue is dropped with it and every send fails:
    // `run` then does the job itself.
    let started = std::thread::Builder::new()
        .name("journal-sync".into())
        .spawn(move || {
            for job in queue {
                job();
            }
        });
    if let Err(e) = started {
        tracing::warn!("no thread for the journal's syncs, they run in line: {e}");
    }
    Mutex::new(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_in_order_and_answer() {
        let behind = Behind::new();
        let answers: Vec<_> = (0..5).map(|i| behind.run(move || i * 2)).collect();
        let got: Vec<i32> = answers.into_iter().filter_map(|r| r.recv().ok()).collect();
        assert_eq!(got, vec![0, 2, 4, 6, 8]);
    }
}
