//! When a kernel timer that was armed for a nominal delay can be seen to fire.
//!
//! A check must accept every firing a correct kernel can produce and reject a timer that
//! used the wrong delay, above all a backoff that doubled once too often or too rarely
//! (1 s against 2 s). Flat percentages are either too loose for long timers or too tight
//! for short ones, so the bound here follows the mechanism that makes timers late.
//!
//! # Where lateness comes from
//!
//! Linux runs the TCP retransmission, SYN-ACK and TIME-WAIT timers on the timer wheel
//! (kernel/time/timer.c), not on hrtimers. A timer armed for `t` jiffies goes into a
//! bucket of level `l`, chosen by how far away it is; level `l` buckets are `8^l` jiffies
//! wide and the wheel rounds the expiry *up* to the bucket edge (`calc_index`: "The timer
//! wheel has to guarantee that a timer does not fire early"). A level starts at
//! `63 * 8^(l-1)` jiffies (`LVL_START`), so the rounding adds at most `8/63` (12.7 %) of
//! the delay, and much less for most delays. The timer is never early: it fires after
//! more than `t` jiffies and at most `t + 8^l` jiffies after it was armed.
//!
//! On top of that come one jiffy of skew between the wheel's clock and `jiffies`, softirq
//! latency and the harness's capture timestamps ([`SCHEDULING_SLACK`]). The window also
//! starts one jiffy early because the two capture timestamps that bound an interval are
//! taken by the harness, not by the kernel, and the kernel itself measures in whole jiffies.
//!
//! # Intervals, not absolute times
//!
//! Every timer here is armed when the previous segment leaves, so lateness accumulates
//! along a schedule: the eleventh SYN can be almost a second behind its nominal time
//! without any single interval being wrong. Windows therefore apply to the *delay since
//! the event that armed the timer*; shift them with [`TimeWindow::after`] to the observed
//! time of that event.

use std::time::Duration;

/// The tick rate of the kernel under test (`CONFIG_HZ`). Timers are counted in jiffies of
/// `1/HZ` seconds, which sets both the rounding of every delay and the wheel granularity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hz(u32);

impl Hz {
    /// The machine the project targets ticks at 250 Hz (design §3): 4 ms jiffies.
    pub const TARGET: Hz = Hz(250);

    /// # Panics
    /// If `hz` is zero: there is no such kernel, and every conversion would divide by it.
    pub const fn new(hz: u32) -> Hz {
        assert!(hz > 0, "HZ must be positive");
        Hz(hz)
    }

    pub const fn get(self) -> u32 {
        self.0
    }

    pub fn jiffy(self) -> Duration {
        self.from_jiffies(1)
    }

    /// Jiffies in `d`, rounded up as `msecs_to_jiffies`/`usecs_to_jiffies` do, so that a
    /// delay converted for the kernel is never shorter than asked.
    pub fn jiffies_ceil(self, d: Duration) -> u64 {
        // In 64 bits when the product fits (any delay under about two years at HZ=250, so
        // every delay a kernel arms): the same quotient without a 128-bit division, which
        // the model bench showed among its costliest instructions.
        if let Some(n) = duration_nanos_u64(d).and_then(|ns| ns.checked_mul(u64::from(self.0))) {
            return n.div_ceil(1_000_000_000);
        }
        let n = d.as_nanos() * u128::from(self.0);
        n.div_ceil(1_000_000_000) as u64
    }

    pub fn from_jiffies(self, jiffies: u64) -> Duration {
        // 64 bits when they suffice, as in `jiffies_ceil`.
        if let Some(n) = jiffies.checked_mul(1_000_000_000) {
            return Duration::from_nanos(n / u64::from(self.0));
        }
        let ns = u128::from(jiffies) * 1_000_000_000 / u128::from(self.0);
        Duration::from_nanos(ns as u64)
    }

    /// `d` as the kernel would store it: a whole number of jiffies, rounded up.
    pub fn round_up(self, d: Duration) -> Duration {
        self.from_jiffies(self.jiffies_ceil(d))
    }
}

/// `d` in nanoseconds when that fits in 64 bits (about 584 years), without the 128-bit
/// arithmetic of [`Duration::as_nanos`].
pub(crate) fn duration_nanos_u64(d: Duration) -> Option<u64> {
    d.as_secs()
        .checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(u64::from(d.subsec_nanos())))
}

impl Default for Hz {
    fn default() -> Hz {
        Hz::TARGET
    }
}

/// Softirq latency plus capture-timestamp noise. Measured on the target machine a SYN comes
/// back as a SYN-ACK within 130 µs at worst (design §3), so 10 ms leaves a wide margin and
/// still keeps a 200 ms RTO apart from 400 ms.
pub const SCHEDULING_SLACK: Duration = Duration::from_millis(10);

/// A closed range of times, both ends allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeWindow {
    pub earliest: Duration,
    pub latest: Duration,
}

impl TimeWindow {
    pub fn new(earliest: Duration, latest: Duration) -> TimeWindow {
        TimeWindow { earliest, latest }
    }

    pub fn contains(&self, t: Duration) -> bool {
        self.earliest <= t && t <= self.latest
    }

    /// The same window counted from `start`: a delay window becomes the window of absolute
    /// times once the arming event's observed time is known.
    pub fn after(self, start: Duration) -> TimeWindow {
        TimeWindow {
            earliest: start + self.earliest,
            latest: start + self.latest,
        }
    }

    /// No instant lies in both, so an observation cannot satisfy both expectations.
    pub fn is_disjoint(&self, other: &TimeWindow) -> bool {
        self.latest < other.earliest || other.latest < self.earliest
    }
}

// kernel/time/timer.c: LVL_CLK_SHIFT, LVL_BITS, LVL_DEPTH.
const LVL_CLK_SHIFT: u32 = 3;
const LVL_SIZE: u64 = 1 << 6;

fn lvl_depth(hz: Hz) -> u32 {
    // Linux: kernel/time/timer.c, LVL_DEPTH is 9 for HZ > 100 and 8 otherwise.
    if hz.get() > 100 {
        9
    } else {
        8
    }
}

/// The bucket width of the wheel level a timer of `delay` lands in: the most it can fire
/// after its nominal expiry.
pub fn wheel_granularity(delay: Duration, hz: Hz) -> Duration {
    // The wheel's clock may lag `jiffies` by one, which makes the delay it sees one longer;
    // the longer delay can only pick the coarser level, so it is the safe one to assume.
    let delta = hz.jiffies_ceil(delay) + 1;
    let depth = lvl_depth(hz);
    let mut level = 0;
    // Linux: kernel/time/timer.c calc_wheel_index(): level n holds delays below
    // LVL_START(n + 1) = (LVL_SIZE - 1) << (n * LVL_CLK_SHIFT).
    while level + 1 < depth && delta >= (LVL_SIZE - 1) << (level * LVL_CLK_SHIFT) {
        level += 1;
    }
    // Linux: calc_index() rounds the expiry up to a multiple of LVL_GRAN(level) = 8^level.
    hz.from_jiffies(1u64 << (level * LVL_CLK_SHIFT))
}

/// [`timer_tolerance_hz`] at the target machine's HZ=250.
pub fn timer_tolerance(nominal: Duration) -> TimeWindow {
    timer_tolerance_hz(nominal, Hz::TARGET)
}

/// The delays after arming at which a Linux timer armed for `nominal` can be observed to
/// fire (see the module docs for each term).
///
/// For any delay of at least 30 ms at HZ=250 (60 ms at any HZ from 100 up), the window of
/// `d` and the window of `2 * d` are disjoint, so a doubled or undoubled backoff is always
/// told apart.
pub fn timer_tolerance_hz(nominal: Duration, hz: Hz) -> TimeWindow {
    let jiffy = hz.jiffy();
    TimeWindow {
        earliest: nominal.saturating_sub(jiffy),
        latest: hz.round_up(nominal) + wheel_granularity(nominal, hz) + jiffy + SCHEDULING_SLACK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn granularity_matches_the_kernel_table_for_hz_250() {
        // kernel/time/timer.c, HZ 250: level 0 is 4 ms wide up to 255 ms, level 1 32 ms up
        // to 2047 ms, level 2 256 ms up to 16383 ms, level 3 2048 ms up to 131071 ms.
        let hz = Hz::TARGET;
        assert_eq!(wheel_granularity(200 * MS, hz), 4 * MS);
        assert_eq!(wheel_granularity(1000 * MS, hz), 32 * MS);
        assert_eq!(wheel_granularity(2000 * MS, hz), 32 * MS);
        assert_eq!(wheel_granularity(4000 * MS, hz), 256 * MS);
        assert_eq!(wheel_granularity(16_000 * MS, hz), 256 * MS);
        assert_eq!(wheel_granularity(32_000 * MS, hz), 2048 * MS);
        assert_eq!(wheel_granularity(120_000 * MS, hz), 2048 * MS);
    }

    #[test]
    fn granularity_never_exceeds_eight_sixty_thirds() {
        for hz in [100, 250, 300, 1000].map(Hz::new) {
            let mut d = 10 * MS;
            while d < Duration::from_secs(3600) {
                let g = wheel_granularity(d, hz);
                if g == hz.jiffy() {
                    // Level 0 is one jiffy wide whatever the delay.
                    d = d * 9 / 8;
                    continue;
                }
                // 8/63 of the delay, plus the one-jiffy clock lag that can push a delay
                // just below a level start over it.
                assert!(g * 63 <= (d + 2 * hz.jiffy()) * 8, "{d:?} at {hz:?}: {g:?}");
                d = d * 9 / 8;
            }
        }
    }

    #[test]
    fn jiffy_conversions_round_like_the_kernel() {
        let hz = Hz::TARGET;
        assert_eq!(hz.jiffy(), 4 * MS);
        assert_eq!(hz.jiffies_ceil(Duration::from_micros(200_001)), 51);
        assert_eq!(hz.round_up(Duration::from_micros(200_037)), 204 * MS);
        assert_eq!(hz.round_up(Duration::from_secs(1)), Duration::from_secs(1));
        let hz300 = Hz::new(300);
        assert_eq!(hz300.jiffies_ceil(hz300.jiffy()), 1);
    }

    #[test]
    fn window_is_never_early_and_admits_a_full_bucket_late() {
        let w = timer_tolerance(Duration::from_secs(4));
        assert!(w.contains(Duration::from_millis(3996)));
        assert!(!w.contains(Duration::from_millis(3995)));
        assert!(w.contains(Duration::from_millis(4256)));
        // Seen on a kernel with 250 Hz wheels: a 4 s SYN timer 190 ms late.
        assert!(w.contains(Duration::from_millis(4190)));
    }

    #[test]
    fn after_shifts_both_ends() {
        let w = TimeWindow::new(MS, 2 * MS).after(10 * MS);
        assert_eq!(w, TimeWindow::new(11 * MS, 12 * MS));
        assert!(w.is_disjoint(&TimeWindow::new(13 * MS, 14 * MS)));
        assert!(!w.is_disjoint(&TimeWindow::new(12 * MS, 14 * MS)));
    }

    #[test]
    #[should_panic(expected = "HZ must be positive")]
    fn zero_hz_is_refused() {
        let _ = Hz::new(0);
    }
}
