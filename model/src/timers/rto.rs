//! The retransmission timeout, as each profile computes it.
//!
//! The `rfc9293` profile follows RFC 6298 to the letter. Linux keeps Jacobson's 1988 code
//! (net/ipv4/tcp_input.c `tcp_rtt_estimator`, `tcp_set_rto`), which agrees with RFC 6298
//! on the first sample and on backoff but not after that, by more than a timer tolerance
//! could hide, so the `linux` profile runs the kernel's arithmetic instead:
//!
//! - The kernel keeps `srtt_us` as 8 × SRTT and `mdev_us` as 4 × the RFC's RTTVAR, in
//!   microseconds, and truncates at each shift exactly as below.
//! - First sample R: SRTT = R, `mdev_us` = 2R (RTTVAR = R/2, as RFC 6298 2.2) and
//!   `rttvar_us` = max(2R, rto_min).
//! - Later samples move SRTT by 1/8 of the error and `mdev_us` by 1/4 of (|error| −
//!   `mdev_us`/4), like RFC 6298 2.3, except that when the sample is *below* SRTT and the
//!   error still exceeds `mdev_us`/4, the gain is 1/32 instead: a falling RTT shrinks the
//!   variance eight times slower than the RFC would.
//! - The term added to SRTT is not `mdev_us` but `rttvar_us`: the largest `mdev_us` seen in
//!   the current flight (raised at once when `mdev_us` exceeds it), which at the end of each
//!   flight (when SND.UNA passes the `rtt_seq` mark) moves a quarter of the way down to that
//!   flight's maximum. Each flight's maximum starts at rto_min (`tcp_rto_min_us`), so
//!   `rttvar_us` never drops below rto_min.
//! - RTO = `usecs_to_jiffies(srtt + rttvar_us)`, rounded *up* to whole jiffies, then capped
//!   at rto_max (`tcp_bound_rto`). There is no explicit floor: the one above is implied.
//!
//! In steady state that is RTO = SRTT + max(4·RTTVAR, rto_min); after an RTT jump it is
//! larger, and it decays per flight, not per sample. On a fast link (SRTT of microseconds)
//! the result is 200 ms plus the rounding: 204 ms at HZ=250.
//!
//! TCP_INFO reports these values as `tcpi_rtt` ([`RtoEstimator::srtt`]), `tcpi_rttvar`
//! (`mdev_us`/4, [`RtoEstimator::rttvar`]), `tcpi_rto` and `tcpi_backoff`.

use std::time::Duration;

use crate::profile::{Profile, ProfileKind};
use crate::timers::window::{duration_nanos_u64, Hz};

/// RFC 6298 2.2/2.3: the weight of the variance in the RTO.
pub const K: u32 = 4;

/// RFC 6298 5.7's conservative RTO after a handshake that gave no usable timing (Linux
/// `TCP_TIMEOUT_FALLBACK`).
pub const SYN_FALLBACK_RTO: Duration = Duration::from_secs(3);

/// The smoothed RTT state, in whichever form the profile's algorithm keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Estimate {
    /// RFC 6298 2.1: no measurement yet.
    None,
    Rfc {
        srtt: Duration,
        rttvar: Duration,
    },
    /// Field for field the kernel's `struct tcp_sock` members, in microseconds.
    Linux {
        srtt8_us: i64,
        mdev_us: i64,
        mdev_max_us: i64,
        rttvar_us: i64,
    },
}

/// One connection's retransmission timer value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtoEstimator {
    kind: ProfileKind,
    min: Duration,
    max: Duration,
    granularity: Duration,
    rto: Duration,
    backoff: u32,
    estimate: Estimate,
}

impl RtoEstimator {
    /// An estimator whose clock granularity is one jiffy of the target machine (4 ms), the
    /// resolution Linux keeps the RTO in.
    pub fn new(profile: &Profile) -> RtoEstimator {
        RtoEstimator::with_granularity(profile, Hz::TARGET.jiffy())
    }

    /// `granularity` is RFC 6298's G. For the Linux profile it is the jiffy, to which the
    /// kernel rounds every RTO up; pass `Hz::jiffy()` of the kernel under test.
    pub fn with_granularity(profile: &Profile, granularity: Duration) -> RtoEstimator {
        RtoEstimator {
            kind: profile.kind,
            min: profile.rto_min,
            max: profile.rto_max,
            granularity,
            // RFC 6298 2.1: until a RTT measurement has been made ... RTO <- 1 second.
            // Linux: tcp_init_sock(): icsk_rto = TCP_TIMEOUT_INIT.
            rto: profile.rto_initial.min(profile.rto_max),
            backoff: 0,
            estimate: Estimate::None,
        }
    }

    /// The timeout the next (re)transmission's timer is armed with, backoff included.
    pub fn rto(&self) -> Duration {
        self.rto
    }

    /// Timeouts since the last valid sample (`tcpi_backoff`).
    pub fn backoff(&self) -> u32 {
        self.backoff
    }

    pub fn srtt(&self) -> Option<Duration> {
        match self.estimate {
            Estimate::None => None,
            Estimate::Rfc { srtt, .. } => Some(srtt),
            Estimate::Linux { srtt8_us, .. } => Some(micros(srtt8_us >> 3)),
        }
    }

    /// RTTVAR in RFC 6298's sense; for Linux `mdev_us / 4`, which is what `tcpi_rttvar`
    /// reports (not the `rttvar_us` the RTO adds, see [`RtoEstimator::variance_term`]).
    pub fn rttvar(&self) -> Option<Duration> {
        match self.estimate {
            Estimate::None => None,
            Estimate::Rfc { rttvar, .. } => Some(rttvar),
            Estimate::Linux { mdev_us, .. } => Some(micros(mdev_us >> 2)),
        }
    }

    /// What the RTO adds to SRTT before bounds and backoff: max(G, K·RTTVAR) in RFC 6298,
    /// `rttvar_us` in Linux.
    pub fn variance_term(&self) -> Option<Duration> {
        match self.estimate {
            Estimate::None => None,
            Estimate::Rfc { rttvar, .. } => Some(self.granularity.max(rttvar * K)),
            Estimate::Linux { rttvar_us, .. } => Some(micros(rttvar_us)),
        }
    }

    /// The RTO after `timeouts` more expiries with no sample in between, without changing
    /// the estimator: what the timer of the `timeouts`-th retransmission from now will be.
    pub fn backed_off(&self, timeouts: u32) -> Duration {
        (0..timeouts.min(64)).fold(self.rto, |rto, _| self.doubled(rto))
    }

    fn doubled(&self, rto: Duration) -> Duration {
        // RFC 6298 5.5: RTO <- RTO * 2; the maximum of (2.5) may bound the doubling.
        // Linux: tcp_retransmit_timer(): icsk_rto = min(icsk_rto << 1, tcp_rto_max(sk)).
        rto.checked_mul(2).unwrap_or(self.max).min(self.max)
    }

    /// The retransmission timer expired: back off.
    pub fn on_timeout(&mut self) {
        // RFC 9293 3.8.2: MUST-19 exponential backoff of RTO (RFC 6298 5.5).
        self.rto = self.doubled(self.rto);
        self.backoff = self.backoff.saturating_add(1);
    }

    /// An ACK acknowledged new data sent `rtt` ago and closed the current flight (the usual
    /// case when each sample comes from a new round of data).
    ///
    /// `retransmitted` says the sample is ambiguous: the acknowledged segment was sent more
    /// than once and nothing tells which copy is answered. A sample from a timestamp echo
    /// is not ambiguous (RFC 6298 3, Linux `tcp_ack_update_rtt`), so pass `false` for it.
    ///
    /// Returns whether the sample was taken.
    pub fn on_ack(&mut self, rtt: Duration, retransmitted: bool) -> bool {
        self.sample(rtt, retransmitted, true)
    }

    /// Like [`RtoEstimator::on_ack`], for an ACK that does not yet pass the end of the flight
    /// that was in the air at the previous sample (Linux: SND.UNA not after `rtt_seq`). Only
    /// Linux distinguishes the two: its variance term decays once per flight.
    pub fn on_ack_within_flight(&mut self, rtt: Duration, retransmitted: bool) -> bool {
        self.sample(rtt, retransmitted, false)
    }

    fn sample(&mut self, rtt: Duration, retransmitted: bool, ends_flight: bool) -> bool {
        if retransmitted {
            // RFC 9293 3.8.1: MUST-18 Karn's algorithm: RFC 6298 3, RTT samples MUST NOT be
            // made using segments that were retransmitted; the backed-off RTO stays.
            return false;
        }
        match self.kind {
            ProfileKind::Rfc9293 => self.rfc_sample(rtt),
            ProfileKind::Linux => self.linux_sample(rtt, ends_flight),
        }
        // RFC 6298 5: once a new RTT measurement is obtained the RTO is computed again,
        // which may collapse it after backoff. Linux: tcp_ack_update_rtt(): "RFC6298: only
        // reset backoff on valid RTT measurement", icsk_backoff = 0.
        self.backoff = 0;
        true
    }

    fn rfc_sample(&mut self, r: Duration) {
        let (srtt, rttvar) = match self.estimate {
            // RFC 6298 2.2: SRTT <- R, RTTVAR <- R/2.
            Estimate::None | Estimate::Linux { .. } => (r, r / 2),
            Estimate::Rfc { srtt, rttvar } => {
                // RFC 6298 2.3: RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|, beta = 1/4,
                // with the SRTT from before this sample.
                let rttvar = (rttvar * 3 + srtt.abs_diff(r)) / 4;
                // RFC 6298 2.3: SRTT <- (1 - alpha) * SRTT + alpha * R', alpha = 1/8.
                let srtt = (srtt * 7 + r) / 8;
                (srtt, rttvar)
            }
        };
        self.estimate = Estimate::Rfc { srtt, rttvar };
        // RFC 9293 3.8.1: MUST-18 the RTO is computed by RFC 6298.
        // RFC 6298 2.2/2.3: RTO <- SRTT + max (G, K*RTTVAR), K = 4.
        let rto = srtt + self.granularity.max(rttvar * K);
        // RFC 6298 2.4: whenever RTO is computed, if it is less than 1 second (the floor,
        // profile.rto_min), then the RTO SHOULD be rounded up to 1 second.
        let rto = rto.max(self.min);
        // RFC 6298 2.5: a maximum value MAY be placed on RTO provided it is at least 60 s.
        self.rto = rto.min(self.max);
    }

    fn linux_sample(&mut self, rtt: Duration, ends_flight: bool) {
        let rto_min_us = self.min.as_micros() as i64;
        let m_us = rtt.as_micros().min(i64::MAX as u128) as i64;
        self.estimate = match self.estimate {
            Estimate::Linux {
                srtt8_us,
                mut mdev_us,
                mut mdev_max_us,
                mut rttvar_us,
            } if srtt8_us != 0 => {
                // Linux: tcp_rtt_estimator(): m -= (srtt >> 3); srtt += m, i.e.
                // SRTT = 7/8 SRTT + 1/8 R (RFC 6298 2.3, alpha = 1/8).
                let mut m = m_us - (srtt8_us >> 3);
                let srtt8 = srtt8_us + m;
                if m < 0 {
                    // Linux: tcp_rtt_estimator(): a sample below SRTT moves mdev with gain
                    // 1/32 instead of 1/4 ("similar to one of Eifel findings").
                    m = -m - (mdev_us >> 2);
                    if m > 0 {
                        m >>= 3;
                    }
                } else {
                    m -= mdev_us >> 2;
                }
                // Linux: tcp_rtt_estimator(): mdev = 3/4 mdev + 1/4 |err| (RFC 6298 2.3, beta).
                mdev_us += m;
                if mdev_us > mdev_max_us {
                    // Linux: tcp_rtt_estimator(): the flight's largest mdev raises rttvar at once.
                    mdev_max_us = mdev_us;
                    if mdev_max_us > rttvar_us {
                        rttvar_us = mdev_max_us;
                    }
                }
                if ends_flight {
                    // Linux: tcp_rtt_estimator(): once per flight (after(snd_una, rtt_seq))
                    // rttvar decays a quarter of the way to the flight's max, and the next
                    // flight's max starts at tcp_rto_min_us, so rttvar >= rto_min always.
                    if mdev_max_us < rttvar_us {
                        rttvar_us -= (rttvar_us - mdev_max_us) >> 2;
                    }
                    mdev_max_us = rto_min_us;
                }
                Estimate::Linux {
                    srtt8_us: srtt8.max(1),
                    mdev_us,
                    mdev_max_us,
                    rttvar_us,
                }
            }
            _ => {
                // Linux: tcp_rtt_estimator() first measure: srtt = m << 3, mdev = m << 1
                // ("make sure rto = 3*rtt"), rttvar = max(mdev, tcp_rto_min_us).
                let mdev_us = m_us << 1;
                let rttvar_us = mdev_us.max(rto_min_us);
                Estimate::Linux {
                    srtt8_us: (m_us << 3).max(1),
                    mdev_us,
                    mdev_max_us: rttvar_us,
                    rttvar_us,
                }
            }
        };
        if let Estimate::Linux {
            srtt8_us,
            rttvar_us,
            ..
        } = self.estimate
        {
            // Linux: __tcp_set_rto(): usecs_to_jiffies((srtt_us >> 3) + rttvar_us), which
            // rounds up to a whole jiffy; tcp_bound_rto() caps it at tcp_rto_max. No floor:
            // "clamping at TCP_RTO_MIN is not required, current algo guarantees that rto is
            // higher".
            let rto = ceil_to(micros((srtt8_us >> 3) + rttvar_us), self.granularity);
            self.rto = rto.min(self.max);
        }
    }

    /// The three-way handshake completed and data transmission begins.
    ///
    /// `syn_timer_expired`: the timer of our SYN or SYN-ACK ran out at least once.
    pub fn on_handshake_complete(&mut self, syn_timer_expired: bool) {
        match self.kind {
            ProfileKind::Rfc9293 => {
                // RFC 6298 5.7: if the timer expired awaiting the ACK of a SYN and the RTO is
                // less than 3 seconds, the RTO MUST be re-initialized to 3 seconds when data
                // transmission begins.
                if syn_timer_expired && self.rto < SYN_FALLBACK_RTO {
                    self.rto = SYN_FALLBACK_RTO;
                }
            }
            ProfileKind::Linux => {
                // Linux: tcp_init_metrics(): "RFC6298: 5.7 We've failed to get a valid RTT
                // sample from 3WHS" (srtt_us == 0, whether or not a timer expired): RTO =
                // TCP_TIMEOUT_FALLBACK. With timestamps a retransmitted handshake still
                // gives a sample, and then nothing changes. (A cached RTT from an earlier
                // connection to the same peer, tcp_metrics, also overrides this.)
                if self.estimate == Estimate::None {
                    self.rto = SYN_FALLBACK_RTO;
                }
            }
        }
    }
}

fn micros(us: i64) -> Duration {
    Duration::from_micros(us.max(0) as u64)
}

/// `d` rounded up to a multiple of `g`, as `usecs_to_jiffies` rounds to jiffies.
fn ceil_to(d: Duration, g: Duration) -> Duration {
    let g_ns = g.as_nanos();
    if g_ns == 0 {
        return d;
    }
    // In 64 bits when they suffice (every RTO does): the same result without the 128-bit
    // division the model bench showed, once per RTT sample.
    if let (Some(d64), Some(g64)) = (duration_nanos_u64(d), duration_nanos_u64(g)) {
        if let Some(ns) = d64.div_ceil(g64).checked_mul(g64) {
            return Duration::from_nanos(ns);
        }
    }
    let ns = d.as_nanos().div_ceil(g_ns) * g_ns;
    Duration::from_nanos(ns.min(u64::MAX as u128) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn rfc() -> RtoEstimator {
        RtoEstimator::with_granularity(&Profile::rfc9293(), MS)
    }

    fn linux() -> RtoEstimator {
        RtoEstimator::with_granularity(&Profile::linux_defaults(), Hz::TARGET.jiffy())
    }

    #[test]
    fn rfc_initial_rto_is_one_second() {
        assert_eq!(rfc().rto(), Duration::from_secs(1));
        assert_eq!(rfc().srtt(), None);
    }

    #[test]
    fn rfc_second_sample_uses_the_old_srtt_for_the_variance() {
        let mut e = rfc();
        assert!(e.on_ack(100 * MS, false));
        assert!(e.on_ack(200 * MS, false));
        // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5 ms, SRTT = 7/8 * 100 + 1/8 * 200.
        assert_eq!(e.rttvar(), Some(Duration::from_micros(62_500)));
        assert_eq!(e.srtt(), Some(Duration::from_micros(112_500)));
        // 112.5 + 250 = 362.5 ms, under the 1 s floor.
        assert_eq!(e.rto(), Duration::from_secs(1));
    }

    #[test]
    fn rfc_without_floor_shows_the_raw_formula() {
        let mut p = Profile::rfc9293();
        p.rto_min = MS;
        let mut e = RtoEstimator::with_granularity(&p, MS);
        e.on_ack(100 * MS, false);
        assert_eq!(e.rto(), 300 * MS);
        e.on_ack(200 * MS, false);
        assert_eq!(e.rto(), Duration::from_micros(362_500));
    }

    #[test]
    fn rfc_granularity_bounds_the_variance_term() {
        let mut p = Profile::rfc9293();
        p.rto_min = MS;
        let mut e = RtoEstimator::with_granularity(&p, 100 * MS);
        e.on_ack(10 * MS, false);
        // max(G, 4 * 5 ms) = G.
        assert_eq!(e.rto(), 110 * MS);
    }

    #[test]
    fn linux_first_sample() {
        let mut e = linux();
        e.on_ack(100 * MS, false);
        assert_eq!(e.srtt(), Some(100 * MS));
        assert_eq!(e.rttvar(), Some(50 * MS));
        assert_eq!(e.variance_term(), Some(200 * MS));
        assert_eq!(e.rto(), 300 * MS);
        let mut e = linux();
        e.on_ack(10 * MS, false);
        // 10 + max(20, 200) = 210 ms, rounded up to 53 jiffies.
        assert_eq!(e.rto(), 212 * MS);
        let mut e = linux();
        e.on_ack(Duration::from_micros(20), false);
        assert_eq!(e.rto(), 204 * MS);
    }

    #[test]
    fn linux_rttvar_is_a_per_flight_maximum_that_decays_by_quarters() {
        let mut e = linux();
        e.on_ack(100 * MS, false);
        e.on_ack(500 * MS, false);
        // srtt 150 ms; mdev 550 ms raises rttvar at once.
        assert_eq!(e.srtt(), Some(150 * MS));
        assert_eq!(e.variance_term(), Some(550 * MS));
        assert_eq!(e.rto(), 700 * MS);
        e.on_ack(150 * MS, false);
        // mdev falls to 412.5 ms; rttvar only moves a quarter of the way: 515.625 ms. RFC
        // 6298 would give 150 + 412.5 = 562.5 ms; Linux gives 665.625, rounded to 668.
        assert_eq!(e.rttvar(), Some(Duration::from_micros(103_125)));
        assert_eq!(e.variance_term(), Some(Duration::from_micros(515_625)));
        assert_eq!(e.rto(), 668 * MS);
    }

    #[test]
    fn linux_within_flight_samples_do_not_decay_rttvar() {
        let mut e = linux();
        e.on_ack(100 * MS, false);
        e.on_ack(500 * MS, false);
        e.on_ack_within_flight(150 * MS, false);
        assert_eq!(e.variance_term(), Some(550 * MS));
    }

    #[test]
    fn linux_falling_rtt_shrinks_mdev_slowly() {
        let mut e = linux();
        e.on_ack(100 * MS, false);
        e.on_ack(10 * MS, false);
        // err 90 ms, mdev/4 = 50 ms: mdev grows by (90 - 50)/8 = 5 ms, to 205 ms.
        assert_eq!(e.rttvar(), Some(Duration::from_micros(51_250)));
    }

    #[test]
    fn karn_keeps_the_backed_off_rto() {
        for mut e in [rfc(), linux()] {
            e.on_ack(100 * MS, false);
            let before = e.rto();
            e.on_timeout();
            assert!(!e.on_ack(5 * MS, true));
            assert_eq!(e.rto(), before * 2);
            assert_eq!(e.backoff(), 1);
            assert!(e.on_ack(100 * MS, false));
            assert_eq!(e.backoff(), 0);
            assert!(e.rto() < before * 2);
        }
    }

    #[test]
    fn backoff_caps_at_the_profile_ceiling() {
        let mut e = rfc();
        for _ in 0..10 {
            e.on_timeout();
        }
        assert_eq!(e.rto(), Duration::from_secs(60));
        let mut e = linux();
        assert_eq!(e.backed_off(6), Duration::from_secs(64));
        assert_eq!(e.backed_off(7), Duration::from_secs(120));
        for _ in 0..10 {
            e.on_timeout();
        }
        assert_eq!(e.rto(), Duration::from_secs(120));
        assert_eq!(e.backoff(), 10);
    }

    #[test]
    fn rfc_syn_timeout_sets_three_seconds_for_data() {
        let mut e = rfc();
        e.on_timeout();
        e.on_handshake_complete(true);
        assert_eq!(e.rto(), SYN_FALLBACK_RTO);
        let mut e = rfc();
        e.on_handshake_complete(false);
        assert_eq!(e.rto(), Duration::from_secs(1));
        let mut e = rfc();
        e.on_timeout();
        e.on_timeout();
        e.on_handshake_complete(true);
        assert_eq!(e.rto(), Duration::from_secs(4));
    }

    #[test]
    fn linux_falls_back_to_three_seconds_only_without_a_sample() {
        let mut e = linux();
        e.on_handshake_complete(true);
        assert_eq!(e.rto(), SYN_FALLBACK_RTO);
        let mut e = linux();
        e.on_ack(100 * MS, false);
        e.on_handshake_complete(true);
        assert_eq!(e.rto(), 300 * MS);
    }
}
