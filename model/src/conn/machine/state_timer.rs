//! The timer that will move the connection to another state without any input: what a
//! harness comparing the stack's own state with the model's needs, since a kernel's timer
//! fires within a window around the model's exact deadline (its tick, its timer wheel's
//! granularity), and within that window either state is right.

use std::time::Duration;

use crate::conn::state::State;
use crate::timers;

use super::Connection;

/// A pending timer that ends the connection's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateTimer {
    /// When the model's timer runs out (the model moves then).
    pub at: Duration,
    /// The earliest and latest times a stack's own timer may move it (Linux: a jiffy early
    /// at most, late by the wheel's granularity for the delay, a jiffy and scheduling).
    pub earliest: Duration,
    pub latest: Duration,
    /// The state it leads to.
    pub to: State,
}

impl StateTimer {
    /// A timer armed for `delay` that runs out at `at`.
    fn armed(at: Duration, delay: Duration, to: State) -> StateTimer {
        let window = timers::timer_tolerance(delay).after(at.saturating_sub(delay));
        StateTimer {
            at,
            earliest: window.earliest.min(at),
            latest: window.latest.max(at),
            to,
        }
    }
}

impl Connection {
    /// The earliest pending timer that changes the state (FIN-WAIT-2's timeout, TIME-WAIT's
    /// end, the retransmission give-up, the user timeout), if one is armed.
    pub fn state_timer(&self) -> Option<StateTimer> {
        let t = &self.timers;
        let mut found: Vec<StateTimer> = Vec::new();
        if let (Some(at), State::FinWait2) = (t.fin_wait_2, self.state) {
            let delay = self.profile.fin_timeout.unwrap_or(at);
            found.push(StateTimer::armed(at, delay, State::Closed));
        }
        if let Some(at) = t.time_wait {
            found.push(StateTimer::armed(at, self.profile.time_wait, State::Closed));
        }
        if let (Some(at), false) = (t.give_up, self.state == State::Closed) {
            // The last (re)transmission armed the timer that gives up.
            let delay = self.snd.rtx.map_or(at, |r| at.saturating_sub(r.sent_at));
            found.push(StateTimer::armed(at, delay, State::Closed));
        }
        if let (Some(rtx), Some(timeout), false) =
            (self.snd.rtx, t.user_timeout, self.state == State::Closed)
        {
            // Linux looks at the user timeout when the retransmission timer fires
            // (tcp_write_timeout()): up to one RTO after it runs out.
            let at = rtx.first_sent + timeout;
            let mut timer = StateTimer::armed(at, timeout, State::Closed);
            timer.latest += self.snd.rto.rto();
            found.push(timer);
        }
        found.into_iter().min_by_key(|s| s.at)
    }
}
