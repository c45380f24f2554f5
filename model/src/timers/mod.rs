//! Timers: the retransmission timeout and the retransmission schedules each profile expects,
//! and the tolerance within which a real kernel's timers fire.
//!
//! Everything here is arithmetic on `Duration`s handed in by the caller; nothing reads a
//! clock. [`window`] says how late a timer may be, [`rto`] keeps a connection's RTO, and
//! [`schedule`] lays out whole sequences of retransmissions and the give-up time.

pub mod precision;
pub mod rto;
pub mod schedule;
pub mod window;

pub use precision::TimerPrecision;
pub use rto::{RtoEstimator, K, SYN_FALLBACK_RTO};
pub use schedule::{
    data_schedule, data_schedule_with, effective_synack_retries, loss_probe_timeout,
    orphan_retries, retries_timeout, syn_schedule, syn_schedule_with, synack_schedule,
    synack_schedule_with_retries, time_wait, Budget, DataTimers, Schedule, LINUX_TCP_RTO_MIN,
    LINUX_TCP_TIMEOUT_INIT, LINUX_TCP_TIMEOUT_MIN, SYN_R2_MIN,
};
pub use window::{
    timer_tolerance, timer_tolerance_hz, wheel_granularity, Hz, TimeWindow, SCHEDULING_SLACK,
};
