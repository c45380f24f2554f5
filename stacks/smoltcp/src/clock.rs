//! Virtual time. smoltcp never reads a clock: every `poll` is told the time. So the adapter
//! keeps its own, which stands still while the harness works and jumps straight to the next
//! instant something can happen (smoltcp's `poll_at`, or the harness's deadline) instead of
//! sleeping. A whole SYN schedule (1, 2, 4, ... 32 s) then takes microseconds of real
//! time, timers are checked to the microsecond with no scheduling jitter, and a case run
//! twice produces byte-identical packets at identical times.

use std::cell::Cell;
use std::time::Duration;

use smoltcp::time::Instant;

/// smoltcp's instant for a time since the stack started.
pub(crate) fn instant(at: Duration) -> Instant {
    Instant::from_micros(at.as_micros() as i64)
}

/// A time since the stack started for smoltcp's instant (never before the start).
pub(crate) fn since_start(at: Instant) -> Duration {
    Duration::from_micros(at.total_micros().max(0) as u64)
}

thread_local! {
    /// The virtual time of the poll running on this thread, in milliseconds, for the
    /// timestamp generator: smoltcp takes a plain `fn() -> u32` for TSval, which cannot
    /// capture the stack, so the stack publishes its time here before each poll. Stacks on
    /// other threads have their own.
    static TSVAL_MS: Cell<u32> = const { Cell::new(0) };
}

/// Publishes `now` for [`tsval`] before smoltcp runs.
pub(crate) fn publish(now: Duration) {
    TSVAL_MS.with(|c| c.set(now.as_millis() as u32));
}

/// TSval: the virtual milliseconds since the stack started, plus one so the first SYN's is
/// not 0 (RFC 7323 allows any start; 0 reads as "no echo" to some peers).
pub(crate) fn tsval() -> u32 {
    TSVAL_MS.with(|c| c.get()).wrapping_add(1)
}
