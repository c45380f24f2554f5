//! How late the runner lets a segment the stack sends on its own be.

use std::time::Duration;

use tcpcheck_model::timers::{timer_tolerance_hz, wheel_granularity, Hz};

/// The kernel under test ticks at 250 Hz (design §3), as the model assumes.
const HZ: Hz = Hz::TARGET;

/// How late (µs) a segment the stack sends on its own (a timer fired: a retransmission, a
/// delayed ACK, a probe) may be, `interval` µs after the event before it, where packetdrill's
/// tolerance is `tol` µs.
///
/// A timer of a quarter second or more sits in a coarse level of the kernel's timer wheel,
/// which rounds its expiry up by as much as 12.7 % of the delay (2.048 s for 32 s at HZ=250)
/// before any scheduling delay. The end of the model's window for the same delay
/// ([`timer_tolerance_hz`]) is allowed too, so the runner and the model agree on when a timer
/// may fire. The wheel's levels above the first start at 63 jiffies (252 ms, 248 ms with the
/// wheel clock's one-jiffy lag); below that a timer is at most a jiffy or two late, which
/// packetdrill's tolerance or the script's own range (`+0~+.012`) states, so nothing
/// changes there. The early side is never widened, and the
/// late side never reaches a timer of twice the delay (the model's windows for `d` and `2d`
/// are disjoint), so a backoff that doubled once too often or too rarely still fails.
pub fn timer_late(interval: i64, tol: i64) -> i64 {
    let Ok(d) = u64::try_from(interval) else {
        return tol;
    };
    let d = Duration::from_micros(d);
    if wheel_granularity(d, HZ) <= HZ.jiffy() {
        return tol;
    }
    let late = timer_tolerance_hz(d, HZ).latest.saturating_sub(d);
    tol.max(i64::try_from(late.as_micros()).unwrap_or(i64::MAX))
}

/// The calling thread runs at real-time priority (`SCHED_FIFO` 1) while this lives, then
/// at its old policy again.
///
/// The script's schedule is the harness's to keep: an inbound segment due at `t` is sent
/// when the thread wakes from its wait, within packetdrill's 4 ms. Behind busy threads of
/// normal priority (two busy loops on two cores) the wake-up was seen 5 to 40 ms late, which
/// voids the run (`Stop::HarnessLate`) three times over. At real-time priority the wake-up
/// preempts them. The thread sleeps between events (nothing here spins), and the kernel
/// keeps 5 % of each second for normal threads whatever real-time threads do
/// (`sched_rt_runtime_us`). Where the priority cannot be had (no `CAP_SYS_NICE`), the run
/// goes on at normal priority, as before; the lateness check still voids a late run.
pub struct Punctual {
    old: Option<(libc::c_int, libc::sched_param)>,
}

impl Punctual {
    /// Whether this thread can have real-time priority: `enter` is tried and undone. The
    /// doctor and the harness-late message say so when it cannot, because the run then keeps
    /// its schedule only as well as the machine's load lets it.
    pub fn available() -> bool {
        Punctual::enter().old.is_some()
    }

    /// Real-time priority until dropped, for a stack on real time; nothing for one on a
    /// virtual clock, whose time waits for the harness.
    pub fn enter_for(clock: crate::stack::Clock) -> Punctual {
        match clock {
            crate::stack::Clock::Real => Punctual::enter(),
            crate::stack::Clock::Virtual => Punctual { old: None },
        }
    }

    pub fn enter() -> Punctual {
        // SAFETY: reads and sets the calling thread's own scheduling policy.
        unsafe {
            let me = libc::pthread_self();
            let mut policy = 0;
            let mut param: libc::sched_param = std::mem::zeroed();
            if libc::pthread_getschedparam(me, &mut policy, &mut param) != 0 {
                return Punctual { old: None };
            }
            let rt = libc::sched_param { sched_priority: 1 };
            if libc::pthread_setschedparam(me, libc::SCHED_FIFO, &rt) != 0 {
                return Punctual { old: None };
            }
            Punctual {
                old: Some((policy, param)),
            }
        }
    }
}

impl Drop for Punctual {
    fn drop(&mut self) {
        if let Some((policy, param)) = self.old {
            // SAFETY: restores the calling thread's own policy, read in `enter`.
            unsafe {
                libc::pthread_setschedparam(libc::pthread_self(), policy, &param);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::timer_late;

    const MS: i64 = 1000;
    const S: i64 = 1_000_000;

    /// packetdrill's tolerance for an interval: 4 ms or 12.5 %.
    fn tol(interval: i64) -> i64 {
        (interval / 8).max(4 * MS)
    }

    #[test]
    fn short_timers_keep_packetdrills_tolerance() {
        for d in [0, 8 * MS, 40 * MS, 200 * MS, 244 * MS] {
            assert_eq!(timer_late(d, tol(d)), tol(d), "{d} µs");
        }
    }

    #[test]
    fn a_timer_just_into_a_coarse_level_may_be_a_bucket_late() {
        // 2.1 s is on the 256 ms level: 256 ms + a jiffy + 10 ms of slack, over 12.5 %.
        assert_eq!(timer_late(2_100 * MS, tol(2_100 * MS)), 270 * MS);
        // 300 ms is on the 32 ms level: 32 + 4 + 10 ms, over 37.5 ms.
        assert_eq!(timer_late(300 * MS, tol(300 * MS)), 46 * MS);
    }

    #[test]
    fn long_timers_are_covered_by_the_percentage_already() {
        // 32 s: the wheel adds up to 2.048 s, 12.5 % is 4 s. The runner waited only 2 s past
        // the expected time, so a SYN on time by the wheel was "nothing by".
        assert_eq!(timer_late(32 * S, tol(32 * S)), 4 * S);
    }

    #[test]
    fn a_doubled_or_halved_backoff_never_passes() {
        let mut d = 10 * MS;
        while d < 200 * S {
            // Expected after `d`, came after `2d`: later than the late bound.
            assert!(d + timer_late(d, tol(d)) < 2 * d, "{d} µs vs twice that");
            // Expected after `2d`, came after `d`: the early side is packetdrill's.
            assert!(2 * d - tol(2 * d) > d, "{d} µs vs half");
            d = d * 9 / 8;
        }
    }
}
