//! Deadlines that never overflow the clock, and the backoff between reconnects.

use std::time::{Duration, Instant};

/// The longest wait any deadline gets: a timeout longer than this (from a config or a
/// caller) waits this long instead of overflowing the clock.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// `at + wait`, never panicking: a wait beyond `LONGEST_WAIT` is cut to it.
pub(crate) fn instant_after(at: Instant, wait: Duration) -> Instant {
    at.checked_add(wait.min(LONGEST_WAIT)).unwrap_or(at)
}

/// Capped exponential backoff with jitter, so a store full of registers does not
/// reconnect in lockstep after a terminal reboots.
pub(crate) fn backoff(failures: u32, min: Duration, max: Duration) -> Duration {
    let exp = min.saturating_mul(1u32 << failures.min(16));
    let capped = exp.min(max);
    // Between half and all of the capped delay.
    let half = capped / 2;
    half.saturating_add(half.mul_f64(fastrand::f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_waits_do_not_overflow_the_clock() {
        let now = Instant::now();
        assert_eq!(
            instant_after(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        assert_eq!(instant_after(now, Duration::MAX), now + LONGEST_WAIT);
        assert_eq!(
            instant_after(now, Duration::from_secs(u64::MAX)),
            now + LONGEST_WAIT
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let (min, max) = (Duration::from_millis(100), Duration::from_secs(2));
        for failures in 0..40 {
            let d = backoff(failures, min, max);
            let ceiling = min.saturating_mul(1 << failures.min(16)).min(max);
            assert!(d <= ceiling && d >= ceiling / 2, "{failures}: {d:?}");
        }
    }
}
