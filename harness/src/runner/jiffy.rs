//! A script on real time starts a quarter of a millisecond after a jiffy begins, as
//! packetdrill's do (run.c `schedule_start_time_usecs()`).
//!
//! The kernel counts some of what a script checks in jiffies: `tcpi_busy_time`,
//! `tcpi_rwnd_limited` and `tcpi_sndbuf_limited` (`tcp_chrono_*`), `tcpi_last_data_recv`,
//! timers. Where a script's events fall in their jiffies decides those counts: at HZ=250 a
//! 50 ms span is 12 or 13 jiffies (48 or 52 ms) by where it begins in its first jiffy. Started
//! at any moment, such a check passes on some runs and fails on others. packetdrill starts
//! every script 250 µs into a jiffy, so its scripts' events at whole milliseconds fall at
//! the same place in their jiffies on every run, and their counts are the same every run;
//! tcpcheck starts where packetdrill does, so its verdict on them is packetdrill's, every run.
//!
//! Jiffies begin at whole multiples of the jiffy on `CLOCK_MONOTONIC`: the kernel aligns its
//! first tick so (kernel/time/tick-sched.c `tick_init_jiffy_update()`: "Ensure that the tick
//! is aligned to a multiple of TICK_NSEC"), and each tick after is a jiffy later. So the start
//! is computed, not watched for: the next multiple of the jiffy, plus the offset, slept to.
//! (Watching the coarse clock does not do: on a tickless kernel it moves only on the ticks
//! a CPU took, not on every jiffy.) The tick's interrupt comes some microseconds after its
//! moment; 250 µs leaves room for it, as packetdrill's offset does.

use std::time::Duration;

/// Where in its jiffy a script starts: packetdrill's `JIFFY_OFFSET_USECS`.
pub const OFFSET: Duration = Duration::from_micros(250);

fn read(clock: libc::clockid_t) -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return None;
    }
    Some(Duration::new(
        u64::try_from(ts.tv_sec).ok()?,
        u32::try_from(ts.tv_nsec).ok()?,
    ))
}

/// The kernel's jiffy: the coarse clock's resolution (`TICK_NSEC`).
pub fn length() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    if unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut ts) } != 0 {
        return None;
    }
    let d = Duration::new(
        u64::try_from(ts.tv_sec).ok()?,
        u32::try_from(ts.tv_nsec).ok()?,
    );
    // A coarse clock as fine as the fine one has no ticks to align to.
    (d >= Duration::from_micros(100) && d <= Duration::from_millis(20)).then_some(d)
}

/// The next time, from `now`, that is [`OFFSET`] into a jiffy of length `jiffy`.
fn next_start(now: Duration, jiffy: Duration) -> Duration {
    let j = jiffy.as_nanos();
    let into = now.as_nanos() % j;
    let offset = OFFSET.as_nanos() % j;
    let wait = (offset + j - into) % j;
    now + Duration::from_nanos(u64::try_from(wait).unwrap_or(0))
}

/// Waits until [`OFFSET`] into a jiffy (half a jiffy on average). False when the jiffy
/// cannot be told (no coarse clock): the script then starts where it is, as before.
pub fn align() -> bool {
    let Some(jiffy) = length() else {
        return false;
    };
    let Some(now) = read(libc::CLOCK_MONOTONIC) else {
        return false;
    };
    let start = next_start(now, jiffy);
    // The offset was passed in the sleep's own wake-up: as good as late by a few
    // microseconds, so no second jiffy is waited for.
    std::thread::sleep(start - now);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_start_is_the_offset_into_the_next_jiffy() {
        let j = Duration::from_millis(4);
        let at = |us| next_start(Duration::from_micros(us), j).as_micros();
        assert_eq!(at(1_000_000), 1_000_250);
        assert_eq!(at(1_000_250), 1_000_250);
        assert_eq!(at(1_000_251), 1_004_250);
        assert_eq!(at(1_003_999), 1_004_250);
    }
}
