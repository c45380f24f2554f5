//! How precisely the stack under test fires its timers, which sets the window in which the
//! segment a timer sends is accepted. A kernel's timers run on its timer wheel and fire late
//! by its granularity ([`super::timer_tolerance_hz`]); a stack on a virtual clock runs each
//! timer at the instant it is due, so its window is that instant alone: a retransmission one
//! tick early or late is a divergence (issue 13, "timer checks are exact").

use std::time::Duration;

use super::window::{timer_tolerance_hz, Hz, TimeWindow};

/// The precision a profile assumes of the stack's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerPrecision {
    /// A kernel's timer wheel at this HZ: late by up to the wheel's granularity.
    Wheel(Hz),
    /// A virtual clock: a timer fires exactly when due.
    Exact,
}

impl TimerPrecision {
    /// The delays after arming at which a timer armed for `nominal` may be seen to fire.
    pub fn window(self, nominal: Duration) -> TimeWindow {
        match self {
            TimerPrecision::Wheel(hz) => timer_tolerance_hz(nominal, hz),
            TimerPrecision::Exact => TimeWindow {
                earliest: nominal,
                latest: nominal,
            },
        }
    }
}

impl Default for TimerPrecision {
    /// The target machine's kernel (HZ=250).
    fn default() -> Self {
        TimerPrecision::Wheel(Hz::TARGET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exact_window_is_the_instant_alone_and_a_wheel_window_is_wider() {
        let d = Duration::from_secs(1);
        let exact = TimerPrecision::Exact.window(d);
        assert!(exact.contains(d));
        assert!(!exact.contains(d - Duration::from_micros(1)));
        assert!(!exact.contains(d + Duration::from_micros(1)));
        let wheel = TimerPrecision::default().window(d);
        assert!(wheel.contains(d + Duration::from_millis(4)));
        assert!(wheel.contains(d - Duration::from_millis(4)));
    }
}
