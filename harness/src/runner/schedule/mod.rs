//! Retransmission schedules measured in a run's trace, beside the schedule the model
//! expects (`tcpcheck_model::timers`), for the reports.
//!
//! A *series* is one segment the stack sent more than once: same connection, same sequence
//! number, length, SYN and FIN bits. The acknowledgment number may move on between copies
//! (data retransmitted after the peer sent more), so it is not part of the identity. Pure
//! ACKs (keep-alives, window probes, duplicate ACKs) and RSTs are never retransmitted by a
//! timer in the RFC 6298 sense, so they never form a series.
//!
//! # Intervals, not absolute times
//!
//! Each retransmission timer is armed when the copy before it leaves (RFC 6298 5.5, Linux
//! `tcp_retransmit_timer()`), and a Linux timer-wheel timer is never early but may be late by
//! its bucket width, so lateness accumulates along a series: the eleventh SYN can be a second
//! behind its nominal time although no timer was wrong. The reports therefore show, for
//! each copy, the *interval since the copy before it*, and the give-up as the interval since
//! the last copy; each interval is checked against
//! [`timer_tolerance_hz`](tcpcheck_model::timers::timer_tolerance_hz) of the model's
//! nominal interval, a window derived from the kernel's tick (HZ=250 on the target) and the
//! wheel's bucket widths, which always tells a doubled RTO from an undoubled one.
//!
//! # What the model is given
//!
//! The `linux` profile of a fresh namespace (read once per process by the one profile
//! builder, [`crate::differ::profile`]) with the sysctls the script set (the trace's
//! `sysctl` notes), and per kind of segment:
//!
//! - a SYN: [`syn_schedule`](tcpcheck_model::timers::syn_schedule);
//! - a SYN-ACK: [`synack_schedule`](tcpcheck_model::timers::synack_schedule) (without the
//!   queue-pressure cut of `reqsk_timer_handler()`, which the trace cannot show);
//! - data or a FIN: [`data_schedule_with`](tcpcheck_model::timers::data_schedule_with), with
//!   the RTO in force when the segment was first sent, from an
//!   [`RtoEstimator`](tcpcheck_model::timers::RtoEstimator) fed with the RTT samples the
//!   trace shows (the handshake's, then each ACK of data never retransmitted: Karn's rule,
//!   RFC 6298 3), `tcp_retries2`, `TCP_USER_TIMEOUT` if the script set it, and a tail loss
//!   probe when the profile has one and SACK was negotiated.
//!
//! The estimator here sees only what the wire shows; it is an approximation where the
//! kernel's state is richer (several segments in flight, SACKed data), and a series that is
//! not the oldest outstanding segment when first sent is shown without a model. A copy sent
//! within [`ANSWER_WINDOW`] of a segment the peer sent on the same connection is an answer
//! (a SYN-ACK repeated for a repeated SYN), not a timer, and such a series is shown without
//! a model too. The schedules are information beside the verdict, which stays the script's.
//!
//! `extraction` finds the series in the trace and follows each connection as the wire shows
//! it; `expectations` computes the model's schedule for a series from that; `series` holds
//! one series, compares it with its schedule and shows it.

mod expectations;
mod extraction;
mod series;
#[cfg(test)]
mod tests;

use std::time::Duration;

use tcpcheck_model::timers::Hz;

pub use expectations::ExpectedSchedule;
pub use extraction::{extract, extract_with, judged_event};
pub use series::{Comparison, Series};

/// A copy the stack sends this soon after a segment from the peer on the same connection
/// is an answer to it, not a timer's. Answers take microseconds (design §3); the shortest
/// timer a retransmission can use is Linux's 200 ms RTO floor.
pub const ANSWER_WINDOW: Duration = Duration::from_millis(2);

/// How late the harness may record a blocking call's return after the kernel completed it:
/// the runner retries a parked call once a millisecond (`exec::PENDING_POLL_USECS`).
pub const CALL_POLL_SLACK: Duration = Duration::from_millis(1);

/// The kernel tick the windows assume: the target machine's (design §3).
const HZ: Hz = Hz::TARGET;

/// What was retransmitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentKind {
    Syn,
    SynAck,
    Fin,
    Data,
}

/// Linux `TCP_TIMEOUT_MIN` (include/net/tcp.h): two jiffies.
pub fn timeout_min() -> Duration {
    HZ.jiffy() * 2
}

/// Seconds with two decimals, three below a second so that 204 ms and 208 ms differ.
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{s:.3}")
    } else {
        format!("{s:.2}")
    }
}
