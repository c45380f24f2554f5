//! Whole retransmission schedules: when each copy of an unanswered segment is sent and when
//! the stack gives up, for the SYN, the SYN-ACK and data.
//!
//! All times are nominal (timers firing exactly on time) and count from the first
//! transmission. Each later send is a timer armed at the send before it, so check an
//! observed send against [`Schedule::interval_windows`] shifted to the *observed* previous
//! send, not against the absolute nominal time: lateness accumulates (see
//! [`crate::timers::window`]).
//!
//! # How Linux decides to give up
//!
//! net/ipv4/tcp_timer.c `tcp_write_timeout` runs at each expiry, before the retransmission:
//!
//! - SYN_SENT / SYN_RECV: give up once `icsk_retransmits` reaches `tcp_syn_retries`, plus
//!   `tcp_syn_linear_timeouts` in SYN_SENT. So the default 6 retries mean *ten*
//!   retransmissions, eleven SYNs, as Documentation/networking/ip-sysctl.rst says ("67
//!   seconds (with tcp_syn_linear_timeouts = 4) till the last retransmission ... the final
//!   timeout ... after 131 seconds").
//! - Every state also gives up when the time since `retrans_stamp` reaches a budget
//!   (`retransmits_timed_out`): `TCP_USER_TIMEOUT` when set, else `tcp_model_timeout`, the
//!   time `boundary` doubling retransmissions would take from a base RTO ([`retries_timeout`]).
//!   The base is `TCP_RTO_MIN` (200 ms, a constant: *not* the `tcp_rto_min_us` sysctl) for
//!   data and `TCP_TIMEOUT_INIT` (1 s) in the SYN states; the boundary is `tcp_retries2`
//!   for data and `tcp_syn_retries` for SYNs. The check only runs once something was
//!   retransmitted (`icsk_retransmits > 0`).
//! - `retrans_stamp` is the first SYN's time in SYN_SENT (`tcp_connect`), but for data it is
//!   the time of the *first retransmission* (`tcp_retransmit_skb` stores the skb's
//!   timestamp after `__tcp_transmit_skb` has refreshed it), so for data the budget starts
//!   one RTO after the original send. A tail loss probe does not set it
//!   (`tcp_send_loss_probe` calls `__tcp_retransmit_skb`).
//!
//! The budget is compared with real elapsed time, and real timers run late, so an expiry
//! nominally just short of the budget may already be past it: see
//! [`Schedule::early_give_up`].

use std::time::Duration;

use crate::profile::{Profile, ProfileKind};
use crate::timers::window::{timer_tolerance_hz, Hz, TimeWindow};

/// Linux `TCP_RTO_MIN` (`HZ / 5`): the base of the data give-up budget. A compile-time
/// constant; changing `tcp_rto_min_us` does not move it.
pub const LINUX_TCP_RTO_MIN: Duration = Duration::from_millis(200);

/// Linux `TCP_TIMEOUT_MIN_US`: what a loss probe waits beyond 2·SRTT when more than one
/// segment is in flight.
pub const LINUX_TCP_TIMEOUT_MIN: Duration = Duration::from_millis(2);

/// Linux `TCP_TIMEOUT_INIT`: the loss probe's wait before any RTT sample.
pub const LINUX_TCP_TIMEOUT_INIT: Duration = Duration::from_secs(1);

/// RFC 9293 3.8.3: R2 for a SYN must allow retransmission for at least 3 minutes.
pub const SYN_R2_MIN: Duration = Duration::from_secs(180);

/// A bound on schedule length far beyond any kernel's counters (`tcp_syn_retries` and
/// `tcp_retries2` stop at 127 and 255; a 49-day user timeout at a 120 s RTO is 35,000
/// sends), so that absurd inputs end instead of looping.
const MAX_SENDS: usize = 1_000_000;

/// How long an expired user timeout waits before firing: one jiffy (`tcp_clamp_rto_to_user
/// _timeout` returns 1), taken at the target machine's HZ.
fn asap() -> Duration {
    Hz::TARGET.jiffy()
}

/// When each copy of a segment goes out and when the stack stops trying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Nominal send times since the first transmission, which is `sends[0]` (always zero).
    /// For data with a tail loss probe, `sends[1]` is the probe.
    pub sends: Vec<Duration>,
    /// When the stack gives up: connect() or the socket fails with ETIMEDOUT, a request
    /// socket is dropped. Always after the last send.
    pub give_up: Duration,
    /// Set when the give-up rests on elapsed time rather than a count.
    pub budget: Option<Budget>,
}

/// A give-up decided by comparing elapsed time with a length (Linux `retransmits_timed_out`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// The instant elapsed time counts from (`retrans_stamp`).
    pub from: Duration,
    pub length: Duration,
    /// The first retransmission: the budget is only checked at expiries after it.
    pub checked_after: Duration,
}

impl Schedule {
    pub fn retransmissions(&self) -> usize {
        self.sends.len() - 1
    }

    /// The delay of each timer in the schedule, in order: each send after the first counted
    /// from the send before it, then the give-up counted from the last send.
    pub fn intervals(&self) -> Vec<Duration> {
        let mut out: Vec<Duration> = self.sends.windows(2).map(|w| w[1] - w[0]).collect();
        out.push(self.give_up - self.last_send());
        out
    }

    /// [`Schedule::intervals`] as tolerance windows: entry `i` is where send `i + 1` may be
    /// seen relative to send `i` (the last entry is the give-up).
    pub fn interval_windows(&self, hz: Hz) -> Vec<TimeWindow> {
        self.intervals()
            .into_iter()
            .map(|d| timer_tolerance_hz(d, hz))
            .collect()
    }

    fn last_send(&self) -> Duration {
        *self.sends.last().unwrap_or(&Duration::ZERO)
    }

    /// The send at which Linux may give up instead of retransmitting, because its timers ran
    /// late enough to carry the elapsed time past the budget; `None` when every nominal
    /// retransmission stays clear of the budget even at the worst lateness.
    ///
    /// Lateness is the worst [`timer_tolerance_hz`] allows for each interval since
    /// `budget.from`, which makes this a conservative "may", not a "will".
    pub fn early_give_up(&self, hz: Hz) -> Option<Duration> {
        let budget = self.budget?;
        let mut late = Duration::ZERO;
        for w in self.sends.windows(2) {
            let (prev, at) = (w[0], w[1]);
            if prev >= budget.from {
                let d = at - prev;
                late += timer_tolerance_hz(d, hz).latest.saturating_sub(d);
            }
            if at > budget.checked_after && at - budget.from + late >= budget.length {
                return Some(at);
            }
        }
        None
    }
}

/// Linux `tcp_model_timeout`: how long `retries` retransmissions take when the RTO starts at
/// `base_rto` and doubles up to `rto_max` (the first RTO plus `retries` backed-off ones).
///
/// `retries_timeout(200 ms, 15, 120 s)` is the well-known 924.6 s of `tcp_retries2`.
pub fn retries_timeout(base_rto: Duration, retries: u32, rto_max: Duration) -> Duration {
    let base = base_rto.as_nanos().max(1);
    // Linux: tcp_model_timeout(): linear_backoff_thresh = ilog2(rto_max / rto_base).
    let thresh = (rto_max.as_nanos() / base).max(1).ilog2();
    let ns = if retries <= thresh {
        // Linux: tcp_model_timeout(): timeout = ((2 << boundary) - 1) * rto_base.
        ((2u128 << retries) - 1) * base
    } else {
        // Linux: tcp_model_timeout(): ... + (boundary - linear_backoff_thresh) * rto_max.
        ((2u128 << thresh) - 1) * base + u128::from(retries - thresh) * rto_max.as_nanos()
    };
    Duration::from_nanos(ns.min(u128::from(u64::MAX)) as u64)
}

/// One kernel timer-expiry loop, shared by the SYN and data schedules.
struct LinuxRun {
    first_rto: Duration,
    rto_max: Duration,
    /// Expiries after which the RTO does not double yet (SYN_SENT linear timeouts).
    linear: u32,
    /// The retransmission count at which the SYN states give up; none for data.
    max_retransmits: Option<u32>,
    /// The budget length: the user timeout if set, else the modelled timeout.
    budget: Duration,
    user_timeout: bool,
    /// Whether `retrans_stamp` is the first transmission (SYN_SENT) or the first
    /// retransmission (data).
    stamp_at_first_send: bool,
    /// A tail loss probe this long after the original send, before the first RTO.
    probe: Option<Duration>,
}

impl LinuxRun {
    fn run(&self) -> Schedule {
        let mut sends = vec![Duration::ZERO];
        let mut rto = self.first_rto.max(Duration::from_nanos(1));
        let mut armed = Duration::ZERO;
        let mut timer = rto;
        if let Some(pto) = self.probe {
            // Linux: tcp_send_loss_probe() sends the probe, then tcp_rearm_rto() restarts
            // the RTO from now with the unchanged icsk_rto ("Reset s.t. tcp_rearm_rto will
            // restart timer from now").
            sends.push(pto);
            armed = pto;
        }
        let mut stamp = self.stamp_at_first_send.then_some(Duration::ZERO);
        let mut retransmits: u32 = 0;
        loop {
            let now = armed.saturating_add(timer);
            // Linux: tcp_write_timeout(): in SYN states, expired = icsk_retransmits >=
            // retry_until (+ tcp_syn_linear_timeouts in SYN_SENT).
            let count_expired = self.max_retransmits.is_some_and(|max| retransmits >= max)
                || sends.len() > MAX_SENDS;
            // Linux: retransmits_timed_out(): false until something was retransmitted, then
            // elapsed since retrans_stamp >= timeout (user timeout or tcp_model_timeout).
            let time_expired = retransmits > 0
                && stamp.is_some_and(|from| now.saturating_sub(from) >= self.budget);
            if count_expired || time_expired {
                let first_retransmission = usize::from(self.probe.is_some()) + 1;
                let checked_after = sends.get(first_retransmission).copied().unwrap_or(now);
                return Schedule {
                    sends,
                    give_up: now,
                    budget: stamp.map(|from| Budget {
                        from,
                        length: self.budget,
                        checked_after,
                    }),
                };
            }
            // Linux: tcp_retransmit_timer(): tcp_update_rto_stats() counts the expiry in
            // icsk_retransmits and total_rto, then tcp_retransmit_skb() sends.
            retransmits += 1;
            sends.push(now);
            // Linux: tcp_retransmit_skb(): "Save stamp of the first (attempted) retransmit."
            let from = *stamp.get_or_insert(now);
            if retransmits > self.linear {
                // Linux: tcp_retransmit_timer(): exponential backoff unless in SYN_SENT with
                // total_rto <= tcp_syn_linear_timeouts: icsk_rto = min(rto << 1, rto_max).
                rto = rto.checked_mul(2).unwrap_or(self.rto_max).min(self.rto_max);
            }
            timer = if self.user_timeout {
                // Linux: tcp_clamp_rto_to_user_timeout(): the timer never runs past the user
                // timeout; once it has passed, fire as soon as possible.
                let remaining = (from + self.budget).saturating_sub(now);
                if remaining.is_zero() {
                    asap()
                } else {
                    rto.min(remaining)
                }
            } else {
                rto
            };
            armed = now;
        }
    }
}

/// One RFC 9293 retransmission loop: count-based R2, or a user timeout in its place.
fn rfc_run(
    first_rto: Duration,
    rto_max: Duration,
    retries: u32,
    not_before: Duration,
    user_timeout: Option<Duration>,
) -> Schedule {
    let mut sends = vec![Duration::ZERO];
    let mut rto = first_rto.max(Duration::from_nanos(1));
    let mut now = Duration::ZERO;
    let mut retransmits: u32 = 0;
    loop {
        let expiry = now.saturating_add(rto);
        if let Some(limit) = user_timeout {
            if expiry >= limit {
                // RFC 9293 3.8.3: MUST-21 the application sets R2 (here as a time: the user
                // timeout of RFC 9293 3.10.8, counted from the first transmission).
                return Schedule {
                    sends,
                    give_up: limit.max(now + Duration::from_nanos(1)),
                    budget: None,
                };
            }
        } else if (retransmits >= retries && expiry >= not_before) || sends.len() > MAX_SENDS {
            // RFC 9293 3.8.3: MUST-20 when the transmissions of the same segment reach R2,
            // close the connection.
            // RFC 9293 3.8.3: MUST-23 for a SYN, not before `not_before` (3 minutes).
            return Schedule {
                sends,
                give_up: expiry,
                budget: None,
            };
        }
        retransmits += 1;
        now = expiry;
        sends.push(now);
        // RFC 9293 3.8.2: MUST-19 exponential backoff (RFC 6298 5.5, bounded by 2.5).
        rto = rto.checked_mul(2).unwrap_or(rto_max).min(rto_max);
    }
}

/// The active opener's SYN retransmissions and the connect() timeout.
pub fn syn_schedule(profile: &Profile) -> Schedule {
    syn_schedule_with(profile, None)
}

/// [`syn_schedule`] with `TCP_USER_TIMEOUT` set (`Some`).
pub fn syn_schedule_with(profile: &Profile, user_timeout: Option<Duration>) -> Schedule {
    let first_rto = profile.rto_initial.min(profile.rto_max);
    match profile.kind {
        // RFC 9293 3.8.3: MUST-22 SYN retransmissions are handled like data retransmissions.
        // RFC 9293 3.8.3: MUST-23 R2 for a SYN allows retransmission for at least 3 minutes:
        // the profile's retry count is honoured, then retransmission goes on until 180 s.
        ProfileKind::Rfc9293 => rfc_run(
            first_rto,
            profile.rto_max,
            profile.syn_retries,
            SYN_R2_MIN,
            user_timeout,
        ),
        ProfileKind::Linux => LinuxRun {
            first_rto,
            rto_max: profile.rto_max,
            // Linux: tcp_retransmit_timer(): no doubling while total_rto <=
            // tcp_syn_linear_timeouts (SYN_SENT only).
            linear: profile.syn_linear_timeouts,
            // Linux: tcp_write_timeout(): max_retransmits = tcp_syn_retries +
            // tcp_syn_linear_timeouts in SYN_SENT.
            max_retransmits: Some(
                profile
                    .syn_retries
                    .saturating_add(profile.syn_linear_timeouts),
            ),
            // Linux: retransmits_timed_out(): in SYN states rto_base = tcp_timeout_init()
            // and the boundary is the syn retry count, without the linear ones.
            budget: user_timeout.unwrap_or_else(|| {
                retries_timeout(first_rto, profile.syn_retries, profile.rto_max)
            }),
            user_timeout: user_timeout.is_some(),
            // Linux: tcp_connect(): tp->retrans_stamp = tcp_time_stamp_ts(tp).
            stamp_at_first_send: true,
            probe: None,
        }
        .run(),
    }
}

/// The passive opener's SYN-ACK retransmissions and when the request is dropped, with the
/// profile's `synack_retries`.
pub fn synack_schedule(profile: &Profile) -> Schedule {
    synack_schedule_with_retries(profile, profile.synack_retries)
}

/// [`synack_schedule`] with the retry limit given, e.g. from [`effective_synack_retries`]
/// or `TCP_SYNCNT` on the listener.
pub fn synack_schedule_with_retries(profile: &Profile, retries: u32) -> Schedule {
    let first_rto = profile.rto_initial.min(profile.rto_max);
    match profile.kind {
        // RFC 9293 3.8.3: MUST-22 the SYN-ACK, a SYN segment too, is retransmitted likewise.
        // RFC 9293 3.8.3: MUST-23 and its R2 also allows at least 3 minutes.
        ProfileKind::Rfc9293 => rfc_run(first_rto, profile.rto_max, retries, SYN_R2_MIN, None),
        ProfileKind::Linux => {
            // Linux: inet_connection_sock.c reqsk_timer_handler() on a request socket (no
            // retrans_stamp, no time budget, no linear timeouts):
            let mut sends = vec![Duration::ZERO];
            let mut now = Duration::ZERO;
            let mut num_timeout: u32 = 0;
            loop {
                // Linux: reqsk_timeout(): timeout = min(req->timeout << num_timeout,
                // TCP_RTO_MAX), req->timeout = tcp_timeout_init() = TCP_TIMEOUT_INIT.
                let timer = first_rto
                    .checked_mul(1u32.checked_shl(num_timeout).unwrap_or(u32::MAX))
                    .unwrap_or(profile.rto_max)
                    .min(profile.rto_max);
                now += timer;
                // Linux: syn_ack_recalc(): expire = req->num_timeout >= max_syn_ack_retries;
                // the request is dropped, and a late ACK finds no request (a RST answers it).
                if num_timeout >= retries {
                    return Schedule {
                        sends,
                        give_up: now,
                        budget: None,
                    };
                }
                // Linux: reqsk_timer_handler(): inet_rtx_syn_ack(), then num_timeout++.
                sends.push(now);
                num_timeout += 1;
            }
        }
    }
}

/// Linux `reqsk_timer_handler`: the SYN-ACK retry limit in force when the SYN queue holds
/// `qlen` requests of which `young` have not timed out yet, on a listener with accept
/// backlog `max_ack_backlog`. Old requests lose retries while they fill more than half the
/// queue, so a flood of unanswered SYN-ACKs cannot starve new handshakes.
pub fn effective_synack_retries(retries: u32, qlen: u32, young: u32, max_ack_backlog: u32) -> u32 {
    let mut max = retries;
    // Linux: reqsk_timer_handler(): if ((qlen << 1) > max(8U, sk_max_ack_backlog)).
    if u64::from(qlen) << 1 > u64::from(max_ack_backlog.max(8)) {
        let mut young = u64::from(young) << 1;
        // Linux: reqsk_timer_handler(): while (max_syn_ack_retries > 2) { if (qlen < young)
        // break; max_syn_ack_retries--; young <<= 1; }
        while max > 2 {
            if u64::from(qlen) < young {
                break;
            }
            max -= 1;
            young <<= 1;
        }
    }
    max
}

/// The inputs a data retransmission schedule depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataTimers {
    /// The RTO in force when the segment was sent ([`crate::timers::RtoEstimator::rto`]).
    pub first_rto: Duration,
    /// R2 for the RFC profile (a count); for Linux the `tcp_retries2` boundary of the time
    /// budget (or the orphan retry count, see [`orphan_retries`]).
    pub retries: u32,
    /// `TCP_USER_TIMEOUT`: replaces the retry limit.
    pub user_timeout: Option<Duration>,
    /// A tail loss probe armed for this long after the send ([`loss_probe_timeout`]).
    pub loss_probe: Option<Duration>,
}

impl DataTimers {
    pub fn new(first_rto: Duration, retries: u32) -> DataTimers {
        DataTimers {
            first_rto,
            retries,
            user_timeout: None,
            loss_probe: None,
        }
    }
}

/// The retransmissions of one unacknowledged data segment sent at time zero (nothing else
/// in flight changes the picture), with RTO retransmissions only.
pub fn data_schedule(profile: &Profile, first_rto: Duration, retries: u32) -> Schedule {
    data_schedule_with(profile, &DataTimers::new(first_rto, retries))
}

/// [`data_schedule`] with a user timeout or a tail loss probe.
pub fn data_schedule_with(profile: &Profile, t: &DataTimers) -> Schedule {
    match profile.kind {
        ProfileKind::Rfc9293 => rfc_run(
            t.first_rto,
            profile.rto_max,
            t.retries,
            Duration::ZERO,
            t.user_timeout,
        ),
        ProfileKind::Linux => LinuxRun {
            first_rto: t.first_rto,
            rto_max: profile.rto_max,
            linear: 0,
            max_retransmits: None,
            budget: t.user_timeout.unwrap_or_else(|| {
                // Linux: retransmits_timed_out(): rto_base = TCP_RTO_MIN outside SYN states.
                retries_timeout(LINUX_TCP_RTO_MIN, t.retries, profile.rto_max)
            }),
            user_timeout: t.user_timeout.is_some(),
            stamp_at_first_send: false,
            probe: t.loss_probe.filter(|_| profile.tail_loss_probe),
        }
        .run(),
    }
}

/// Linux `tcp_schedule_loss_probe`: when the tail loss probe fires after a send, or `None`
/// when no probe is armed.
///
/// - `srtt`: the smoothed RTT ([`crate::timers::RtoEstimator::srtt`]), `None` before any
///   sample.
/// - `packets_out`: segments in flight; one segment waits out the peer's delayed ACK.
/// - `sack`: the probe needs SACK negotiated.
/// - `rto_remaining`: how far away the RTO expiry is (the full RTO right after arming it).
/// - `hz`: the kernel rounds the probe timeout up to whole jiffies.
///
/// The connection must also be out of loss recovery (CA state Open or CWR).
pub fn loss_probe_timeout(
    profile: &Profile,
    srtt: Option<Duration>,
    packets_out: u32,
    sack: bool,
    rto_remaining: Duration,
    hz: Hz,
) -> Option<Duration> {
    // Linux: tcp_schedule_loss_probe(): only with tcp_early_retrans 3 or 4, something in
    // flight and SACK.
    let probes = match profile.kind {
        ProfileKind::Rfc9293 => false,
        ProfileKind::Linux => profile.tail_loss_probe,
    };
    if !probes || packets_out == 0 || !sack {
        return None;
    }
    let timeout = match srtt {
        Some(srtt) => {
            // Linux: tcp_schedule_loss_probe(): "Probe timeout is 2*rtt. Add minimum RTO to
            // account for delayed ack when there's one outstanding packet", else
            // TCP_TIMEOUT_MIN_US; usecs_to_jiffies() rounds up.
            let extra = if packets_out == 1 {
                profile.rto_min
            } else {
                LINUX_TCP_TIMEOUT_MIN
            };
            hz.round_up(srtt * 2 + extra)
        }
        // Linux: tcp_schedule_loss_probe(): "If no RTT sample is available then probe after
        // TCP_TIMEOUT_INIT."
        None => LINUX_TCP_TIMEOUT_INIT,
    };
    if rto_remaining.is_zero() {
        return Some(timeout);
    }
    // Linux: tcp_schedule_loss_probe(): "If the RTO formula yields an earlier time, then use
    // that time."
    Some(timeout.min(hz.round_up(rto_remaining)))
}

/// Linux `tcp_orphan_retries`: the retry boundary for a socket the application has closed
/// while data is unacknowledged; `sysctl` is `tcp_orphan_retries`, `alive` means the RTO is
/// still below `rto_max`.
pub fn orphan_retries(sysctl: u32, alive: bool) -> u32 {
    // Linux: tcp_orphan_retries(): "if socket sent something recently, select some safe
    // number of retries. 8 corresponds to >100 seconds with minimal RTO of 200msec."
    if sysctl == 0 && alive {
        8
    } else {
        sysctl
    }
}

/// How long TIME-WAIT lasts under the profile.
pub fn time_wait(profile: &Profile) -> Duration {
    // RFC 9293 3.6.1: MUST-13 linger in TIME-WAIT for 2xMSL (240 s in the RFC profile).
    // Linux: tcp_time_wait() uses the fixed TCP_TIMEWAIT_LEN, 60 s.
    profile.time_wait
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&s| Duration::from_secs(s)).collect()
    }

    #[test]
    fn linux_default_syn_schedule_is_eleven_syns() {
        let s = syn_schedule(&Profile::linux_defaults());
        assert_eq!(s.sends, secs(&[0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67]));
        assert_eq!(s.give_up, Duration::from_secs(131));
    }

    #[test]
    fn linux_syn_without_linear_timeouts() {
        let mut p = Profile::linux_defaults();
        p.syn_linear_timeouts = 0;
        let s = syn_schedule(&p);
        assert_eq!(s.sends, secs(&[0, 1, 3, 7, 15, 31, 63]));
        assert_eq!(s.give_up, Duration::from_secs(127));
        p.syn_retries = 3;
        let s = syn_schedule(&p);
        assert_eq!(s.sends, secs(&[0, 1, 3, 7]));
        assert_eq!(s.give_up, Duration::from_secs(15));
    }

    #[test]
    fn linux_syn_time_budget_can_cut_linear_retries() {
        // tcp_syn_retries=1: the 3 s budget (1 + 2) ends the attempt at the third expiry,
        // before the count of 1 + 4 retransmissions is reached.
        let mut p = Profile::linux_defaults();
        p.syn_retries = 1;
        let s = syn_schedule(&p);
        assert_eq!(s.sends, secs(&[0, 1, 2]));
        assert_eq!(s.give_up, Duration::from_secs(3));
    }

    #[test]
    fn retries2_budget() {
        let t = retries_timeout(LINUX_TCP_RTO_MIN, 15, Duration::from_secs(120));
        assert_eq!(t, Duration::from_millis(924_600));
        let t = retries_timeout(Duration::from_secs(1), 6, Duration::from_secs(120));
        assert_eq!(t, Duration::from_secs(127));
        let t = retries_timeout(LINUX_TCP_RTO_MIN, 0, Duration::from_secs(120));
        assert_eq!(t, LINUX_TCP_RTO_MIN);
    }

    #[test]
    fn synack_queue_pressure_cuts_retries() {
        assert_eq!(effective_synack_retries(5, 3, 0, 128), 5);
        // 200 requests in a 128 backlog, none young: down to the floor of 2.
        assert_eq!(effective_synack_retries(5, 200, 0, 128), 2);
        // More than half of them young: qlen < young << 1 at once.
        assert_eq!(effective_synack_retries(5, 200, 101, 128), 5);
        assert_eq!(effective_synack_retries(5, 200, 100, 128), 4);
        assert_eq!(effective_synack_retries(5, 200, 50, 128), 3);
    }

    #[test]
    fn orphans_get_eight_retries_while_alive() {
        assert_eq!(orphan_retries(0, true), 8);
        assert_eq!(orphan_retries(0, false), 0);
        assert_eq!(orphan_retries(3, true), 3);
    }
}
