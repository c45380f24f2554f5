//! The timer rules of both profiles against the numbers the project has seen or derived from
//! the kernel source (design §3, §4), plus properties over arbitrary inputs.

use std::time::Duration;

use proptest::prelude::*;
use tcpcheck_model::profile::{Profile, ProfileKind};
use tcpcheck_model::timers::{
    data_schedule, data_schedule_with, loss_probe_timeout, retries_timeout, syn_schedule,
    syn_schedule_with, synack_schedule, synack_schedule_with_retries, time_wait, timer_tolerance,
    timer_tolerance_hz, DataTimers, Hz, RtoEstimator, Schedule, TimeWindow, LINUX_TCP_RTO_MIN,
};

const MS: Duration = Duration::from_millis(1);

fn secs(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|&s| Duration::from_secs(s)).collect()
}

fn ms(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|&m| Duration::from_millis(m)).collect()
}

fn linux() -> Profile {
    Profile::linux_defaults()
}

/// Checks observed send times against a schedule the way a harness should: each send inside
/// the window of its interval, counted from the observed send before it.
fn conforms(schedule: &Schedule, observed: &[Duration], hz: Hz) -> Result<(), usize> {
    let windows = schedule.interval_windows(hz);
    for (i, pair) in observed.windows(2).enumerate() {
        let w = windows.get(i).ok_or(i + 1)?.after(pair[0]);
        if !w.contains(pair[1]) {
            return Err(i + 1);
        }
    }
    Ok(())
}

// --- SYN ---

#[test]
fn linux_syn_default_matches_the_source_not_a_seven_syn_reading() {
    // tcp_write_timeout(): max_retransmits = tcp_syn_retries + tcp_syn_linear_timeouts.
    let s = syn_schedule(&linux());
    assert_eq!(s.sends, secs(&[0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67]));
    assert_eq!(s.retransmissions(), 10);
    assert_eq!(s.give_up, Duration::from_secs(131));
    assert_eq!(s.early_give_up(Hz::TARGET), None);
}

#[test]
fn linux_syn_exponential_only() {
    let mut p = linux();
    p.syn_linear_timeouts = 0;
    let s = syn_schedule(&p);
    assert_eq!(s.sends, secs(&[0, 1, 3, 7, 15, 31, 63]));
    assert_eq!(s.give_up, Duration::from_secs(127));
}

#[test]
fn linux_syn_three_retries_as_seen() {
    let mut p = linux();
    p.syn_linear_timeouts = 0;
    p.syn_retries = 3;
    let s = syn_schedule(&p);
    assert_eq!(s.sends, secs(&[0, 1, 3, 7]));
    assert_eq!(s.give_up, Duration::from_secs(15));
}

#[test]
fn linux_syn_three_retries_with_linear_timeouts() {
    let mut p = linux();
    p.syn_retries = 3;
    let s = syn_schedule(&p);
    assert_eq!(s.sends, secs(&[0, 1, 2, 3, 4, 5, 7, 11]));
    assert_eq!(s.give_up, Duration::from_secs(19));
}

#[test]
fn linux_syn_user_timeout_clamps_the_last_timer() {
    let s = syn_schedule_with(&linux(), Some(Duration::from_secs(10)));
    assert_eq!(s.sends, secs(&[0, 1, 2, 3, 4, 5, 7]));
    assert_eq!(s.give_up, Duration::from_secs(10));
}

/// MUST-22 (SYNs back off like data) and MUST-23 (R2 for a SYN of at least 3 minutes).
#[test]
fn rfc_syn_doubles_from_one_second_and_lasts_three_minutes() {
    let s = syn_schedule(&Profile::rfc9293());
    // Six retries would give up at 123 s; MUST-23 keeps going to 183 s.
    assert_eq!(s.sends, secs(&[0, 1, 3, 7, 15, 31, 63, 123]));
    assert_eq!(s.give_up, Duration::from_secs(183));
    let mut p = Profile::rfc9293();
    p.syn_retries = 9;
    let s = syn_schedule(&p);
    assert_eq!(s.sends, secs(&[0, 1, 3, 7, 15, 31, 63, 123, 183, 243]));
    assert_eq!(s.give_up, Duration::from_secs(303));
}

#[test]
fn second_syn_at_two_seconds_is_caught() {
    let s = syn_schedule(&linux());
    assert_eq!(s.sends[1], Duration::from_secs(1));
    let first = timer_tolerance(s.sends[1] - s.sends[0]);
    assert!(first.contains(Duration::from_secs(1)));
    assert!(!first.contains(Duration::from_secs(2)));
    // A stack that backs off from the start instead of keeping 1 s linear timeouts.
    let wrong = secs(&[0, 2, 4]);
    assert_eq!(conforms(&s, &wrong, Hz::TARGET), Err(1));
    let mut p = linux();
    p.syn_linear_timeouts = 0;
    let s = syn_schedule(&p);
    // And one that keeps 1 s where the profile doubles.
    assert_eq!(conforms(&s, &secs(&[0, 1, 2]), Hz::TARGET), Err(2));
}

#[test]
fn late_but_correct_syns_conform() {
    // Intervals published for a 6.12 kernel with the defaults: 1.03, 1.02 (x4), then
    // 2.02, 4.19, 8.19, 16.13, 32.26 s. Timer-wheel rounding explains each.
    let gaps = [
        1030, 1020, 1020, 1020, 1020, 2020, 4190, 8190, 16_130, 32_260,
    ];
    let mut t = Duration::ZERO;
    let mut observed = vec![t];
    for g in gaps {
        t += g * MS;
        observed.push(t);
    }
    assert_eq!(
        conforms(&syn_schedule(&linux()), &observed, Hz::TARGET),
        Ok(())
    );
}

// --- SYN-ACK ---

#[test]
fn linux_synack_default() {
    let s = synack_schedule(&linux());
    assert_eq!(s.sends, secs(&[0, 1, 3, 7, 15, 31]));
    assert_eq!(s.give_up, Duration::from_secs(63));
}

#[test]
fn linux_synack_two_retries_drops_before_a_late_ack() {
    let mut p = linux();
    p.synack_retries = 2;
    let s = synack_schedule(&p);
    assert_eq!(s.sends, secs(&[0, 1, 3]));
    assert_eq!(s.give_up, Duration::from_secs(7));
    // Seen: an ACK at 7.5 s draws a RST; even a late timer has dropped the request by then.
    let last = *s.sends.last().unwrap();
    let drop = timer_tolerance(s.give_up - last).after(last);
    assert!(drop.latest < Duration::from_millis(7500));
    assert_eq!(synack_schedule_with_retries(&p, 2), s);
}

/// MUST-22 and MUST-23 for the SYN-ACK.
#[test]
fn rfc_synack_lasts_three_minutes() {
    let s = synack_schedule(&Profile::rfc9293());
    assert_eq!(s.sends, secs(&[0, 1, 3, 7, 15, 31, 63, 123]));
    assert_eq!(s.give_up, Duration::from_secs(183));
}

// --- data ---

#[test]
fn linux_tail_loss_probe_then_rto_on_a_fast_link() {
    // One segment in flight, SRTT of 20 µs: RTO 204 ms (200.02 ms rounded up to jiffies).
    let p = linux();
    let mut est = RtoEstimator::with_granularity(&p, Hz::TARGET.jiffy());
    est.on_ack(Duration::from_micros(20), false);
    let rto = est.rto();
    assert_eq!(rto, 204 * MS);
    let pto = loss_probe_timeout(&p, est.srtt(), 1, true, rto, Hz::TARGET);
    assert_eq!(pto, Some(204 * MS));
    let with_probe = DataTimers {
        loss_probe: pto,
        ..DataTimers::new(rto, p.retries2)
    };
    let s = data_schedule_with(&p, &with_probe);
    // Seen, default: copies at +0.2, +0.2, +0.4, +0.8 s.
    assert_eq!(s.intervals()[..4], ms(&[204, 204, 408, 816])[..]);
    // Seen with tcp_early_retrans=0: +0.2, +0.4, +0.8 s.
    let mut no_tlp = p.clone();
    no_tlp.tail_loss_probe = false;
    assert_eq!(
        loss_probe_timeout(&no_tlp, est.srtt(), 1, true, rto, Hz::TARGET),
        None
    );
    let s = data_schedule_with(&no_tlp, &with_probe);
    assert_eq!(s.intervals()[..3], ms(&[204, 408, 816])[..]);
}

#[test]
fn loss_probe_needs_sack_and_waits_two_rtts_with_more_in_flight() {
    let p = linux();
    let srtt = Some(30 * MS);
    assert_eq!(
        loss_probe_timeout(&p, srtt, 1, false, MS * 300, Hz::TARGET),
        None
    );
    assert_eq!(
        loss_probe_timeout(&p, srtt, 0, true, MS * 300, Hz::TARGET),
        None
    );
    // 2 * 30 ms + 2 ms = 62 ms, rounded up to 64 ms.
    assert_eq!(
        loss_probe_timeout(&p, srtt, 3, true, MS * 300, Hz::TARGET),
        Some(64 * MS)
    );
    // 2 * 30 ms + 200 ms, but the RTO comes first.
    assert_eq!(
        loss_probe_timeout(&p, srtt, 1, true, MS * 230, Hz::TARGET),
        Some(232 * MS)
    );
    assert_eq!(
        loss_probe_timeout(&p, None, 1, true, Duration::ZERO, Hz::TARGET),
        Some(Duration::from_secs(1))
    );
    assert_eq!(
        loss_probe_timeout(&Profile::rfc9293(), srtt, 1, true, MS * 300, Hz::TARGET),
        None
    );
}

#[test]
fn retries2_budget_is_924_6_seconds() {
    let b = retries_timeout(LINUX_TCP_RTO_MIN, 15, Duration::from_secs(120));
    assert_eq!(b, Duration::from_millis(924_600));
}

#[test]
fn linux_data_gives_up_by_time_counted_from_the_first_retransmission() {
    let p = linux();
    // RTO of exactly 200 ms: the 16th expiry is 924.4 s after the first retransmission, just
    // short of the budget, so nominally a 16th retransmission follows...
    let s = data_schedule(&p, 200 * MS, 15);
    assert_eq!(s.retransmissions(), 16);
    assert_eq!(s.give_up, Duration::from_millis(1_044_600));
    // ...but real timers that ran late may already be past the budget there.
    assert_eq!(
        s.early_give_up(Hz::TARGET),
        Some(Duration::from_millis(924_600))
    );
    // With the 204 ms a fast link really gets, 15 retransmissions, no ambiguity.
    let s = data_schedule(&p, 204 * MS, 15);
    assert_eq!(s.retransmissions(), 15);
    assert_eq!(s.give_up, Duration::from_millis(928_692));
    assert_eq!(s.early_give_up(Hz::TARGET), None);
    let budget = s.budget.unwrap();
    assert_eq!(budget.from, 204 * MS);
    assert_eq!(budget.length, Duration::from_millis(924_600));
}

#[test]
fn linux_user_timeout_overrides_retries2() {
    let p = linux();
    let t = DataTimers {
        user_timeout: Some(Duration::from_secs(5)),
        ..DataTimers::new(200 * MS, 15)
    };
    let s = data_schedule_with(&p, &t);
    assert_eq!(s.sends, ms(&[0, 200, 600, 1400, 3000]));
    // Five seconds after the first retransmission, not after the original send.
    assert_eq!(s.give_up, 5200 * MS);
}

/// MUST-19 (backoff), MUST-20 (close on R2) and MUST-21 (the application sets R2).
#[test]
fn rfc_data_counts_retransmissions_and_caps_at_sixty_seconds() {
    let s = data_schedule(&Profile::rfc9293(), Duration::from_secs(1), 8);
    assert_eq!(s.sends, secs(&[0, 1, 3, 7, 15, 31, 63, 123, 183]));
    assert_eq!(s.give_up, Duration::from_secs(243));
    assert_eq!(s.budget, None);
    let t = DataTimers {
        user_timeout: Some(Duration::from_secs(5)),
        ..DataTimers::new(Duration::from_secs(1), 8)
    };
    let s = data_schedule_with(&Profile::rfc9293(), &t);
    assert_eq!(s.sends, secs(&[0, 1, 3]));
    assert_eq!(s.give_up, Duration::from_secs(5));
}

/// MUST-13: TIME-WAIT lasts 2 MSL in the RFC profile.
#[test]
fn time_wait_per_profile() {
    assert_eq!(time_wait(&linux()), Duration::from_secs(60));
    assert_eq!(time_wait(&Profile::rfc9293()), Duration::from_secs(240));
}

// --- RTO estimator ---

/// MUST-18: the RTO follows RFC 6298.
#[test]
fn rfc6298_first_sample() {
    let mut e = RtoEstimator::with_granularity(&Profile::rfc9293(), MS);
    assert_eq!(e.rto(), Duration::from_secs(1));
    e.on_ack(100 * MS, false);
    assert_eq!(e.srtt(), Some(100 * MS));
    assert_eq!(e.rttvar(), Some(50 * MS));
    // 100 + 4 * 50 = 300 ms, raised to the 1 s floor.
    assert_eq!(e.rto(), Duration::from_secs(1).max(300 * MS));
    let mut e = RtoEstimator::with_granularity(&linux(), Hz::TARGET.jiffy());
    e.on_ack(100 * MS, false);
    assert_eq!(e.rto(), 300 * MS);
}

/// MUST-18: Karn's algorithm.
#[test]
fn karn_ignores_ambiguous_samples() {
    for p in [Profile::rfc9293(), linux()] {
        let mut e = RtoEstimator::new(&p);
        e.on_timeout();
        assert!(!e.on_ack(MS, true));
        assert_eq!(e.srtt(), None);
        assert_eq!(e.rto(), 2 * p.rto_initial);
    }
}

/// MUST-19: exponential backoff, bounded by the ceiling.
#[test]
fn backoff_caps_at_rto_max() {
    for p in [Profile::rfc9293(), linux()] {
        let mut e = RtoEstimator::new(&p);
        for _ in 0..20 {
            e.on_timeout();
        }
        assert_eq!(e.rto(), p.rto_max);
        assert_eq!(e.backed_off(5), p.rto_max);
    }
}

// --- windows ---

#[test]
fn doubled_intervals_of_every_default_schedule_have_disjoint_windows() {
    let mut p = linux();
    let mut schedules = vec![
        syn_schedule(&p),
        synack_schedule(&p),
        data_schedule(&p, 204 * MS, p.retries2),
        data_schedule(&p, Duration::from_secs(3), p.retries2),
        syn_schedule(&Profile::rfc9293()),
        data_schedule(&Profile::rfc9293(), Duration::from_secs(1), 15),
    ];
    p.syn_linear_timeouts = 0;
    schedules.push(syn_schedule(&p));
    let mut pairs = 0;
    for s in &schedules {
        for hz in [100, 250, 300, 1000].map(Hz::new) {
            let iv = s.intervals();
            let w = s.interval_windows(hz);
            for i in 1..iv.len() {
                if iv[i] == iv[i - 1] * 2 {
                    assert!(
                        w[i - 1].is_disjoint(&w[i]),
                        "{:?} vs {:?} at {hz:?}",
                        iv[i - 1],
                        iv[i]
                    );
                    pairs += 1;
                }
            }
        }
    }
    assert!(pairs > 100);
}

#[test]
fn every_millisecond_delay_is_told_apart_from_its_double() {
    for (hz, from) in [(250, 30), (100, 60), (300, 60), (1000, 60)] {
        let hz = Hz::new(hz);
        for ms in from..130_000u64 {
            let d = Duration::from_millis(ms);
            assert!(
                timer_tolerance_hz(d, hz).is_disjoint(&timer_tolerance_hz(d * 2, hz)),
                "{d:?} at {hz:?}"
            );
        }
    }
}

#[test]
fn one_second_and_two_seconds_never_overlap() {
    for hz in [100, 250, 300, 1000].map(Hz::new) {
        let one = timer_tolerance_hz(Duration::from_secs(1), hz);
        let two = timer_tolerance_hz(Duration::from_secs(2), hz);
        assert!(one.is_disjoint(&two));
        assert!(!one.contains(Duration::from_secs(2)) && !two.contains(Duration::from_secs(1)));
    }
}

#[test]
fn window_at_250_hz_for_the_common_delays() {
    assert_eq!(
        timer_tolerance(Duration::from_secs(1)),
        TimeWindow::new(996 * MS, 1046 * MS)
    );
    assert_eq!(
        timer_tolerance(200 * MS),
        TimeWindow::new(196 * MS, 218 * MS)
    );
    assert_eq!(
        timer_tolerance(Duration::from_secs(120)),
        TimeWindow::new(119_996 * MS, 122_062 * MS)
    );
}

// --- properties ---

#[derive(Clone, Debug)]
enum Op {
    Ack(Duration, bool),
    AckWithinFlight(Duration, bool),
    Timeout,
}

fn op() -> impl Strategy<Value = Op> {
    let rtt = (0u64..20_000_000).prop_map(Duration::from_micros);
    prop_oneof![
        (rtt.clone(), any::<bool>()).prop_map(|(r, x)| Op::Ack(r, x)),
        (rtt, any::<bool>()).prop_map(|(r, x)| Op::AckWithinFlight(r, x)),
        Just(Op::Timeout),
    ]
}

fn profile() -> impl Strategy<Value = Profile> {
    prop_oneof![Just(Profile::rfc9293()), Just(Profile::linux_defaults())]
}

fn schedule_profile() -> impl Strategy<Value = Profile> {
    (
        profile(),
        1u32..12,
        0u32..8,
        0u32..8,
        1u64..200,
        50u64..3000,
    )
        .prop_map(|(mut p, syn, linear, synack, max_s, init_ms)| {
            p.syn_retries = syn;
            // Only Linux has linear SYN timeouts (tcp_syn_linear_timeouts).
            match p.kind {
                ProfileKind::Linux => p.syn_linear_timeouts = linear,
                ProfileKind::Rfc9293 => {}
            }
            p.synack_retries = synack;
            p.rto_max = Duration::from_secs(max_s);
            p.rto_initial = Duration::from_millis(init_ms);
            p
        })
}

fn well_formed(s: &Schedule) -> Result<(), TestCaseError> {
    prop_assert_eq!(s.sends[0], Duration::ZERO);
    for w in s.sends.windows(2) {
        prop_assert!(w[0] < w[1], "not increasing: {:?}", s.sends);
    }
    prop_assert!(*s.sends.last().unwrap() < s.give_up, "{:?}", s);
    Ok(())
}

proptest! {
    #[test]
    fn rto_stays_within_the_profile_bounds(
        p in profile(),
        handshake in proptest::option::of(any::<bool>()),
        ops in proptest::collection::vec(op(), 0..60),
    ) {
        let mut e = RtoEstimator::with_granularity(&p, Hz::TARGET.jiffy());
        if let Some(expired) = handshake {
            e.on_handshake_complete(expired);
        }
        for o in ops {
            match o {
                Op::Ack(r, x) => { e.on_ack(r, x); }
                Op::AckWithinFlight(r, x) => { e.on_ack_within_flight(r, x); }
                Op::Timeout => e.on_timeout(),
            }
            prop_assert!(e.rto() >= p.rto_min && e.rto() <= p.rto_max, "{:?}", e.rto());
        }
    }

    #[test]
    fn backoff_never_shrinks_the_rto(
        p in profile(),
        samples in proptest::collection::vec(0u64..5_000_000, 0..5),
        timeouts in 0u32..30,
    ) {
        let mut e = RtoEstimator::new(&p);
        for s in samples {
            e.on_ack(Duration::from_micros(s), false);
        }
        let mut last = e.rto();
        for i in 0..timeouts {
            prop_assert_eq!(e.backed_off(1), (last * 2).min(p.rto_max));
            e.on_timeout();
            prop_assert!(e.rto() >= last);
            prop_assert_eq!(e.backoff(), i + 1);
            last = e.rto();
        }
    }

    #[test]
    fn handshake_schedules_are_well_formed(
        p in schedule_profile(),
        user in proptest::option::of(1u64..400_000),
    ) {
        well_formed(&syn_schedule(&p))?;
        well_formed(&syn_schedule_with(&p, user.map(Duration::from_millis)))?;
        well_formed(&synack_schedule(&p))?;
    }

    #[test]
    fn data_schedules_are_well_formed(
        p in schedule_profile(),
        rto in 1u64..5_000,
        retries in 0u32..20,
        user in proptest::option::of(1u64..2_000_000),
        probe in proptest::option::of(1u64..5_000),
    ) {
        let t = DataTimers {
            first_rto: Duration::from_millis(rto),
            retries,
            user_timeout: user.map(Duration::from_millis),
            loss_probe: probe.map(Duration::from_millis),
        };
        let s = data_schedule_with(&p, &t);
        well_formed(&s)?;
        if let Some(early) = s.early_give_up(Hz::TARGET) {
            prop_assert!(s.sends.contains(&early));
        }
    }

    #[test]
    fn doubling_is_always_told_apart(ms in 30u64..130_000) {
        let d = Duration::from_millis(ms);
        prop_assert!(timer_tolerance(d).is_disjoint(&timer_tolerance(d * 2)));
        for hz in [100, 300, 1000].map(Hz::new) {
            if ms >= 60 {
                prop_assert!(timer_tolerance_hz(d, hz).is_disjoint(&timer_tolerance_hz(d * 2, hz)));
            }
        }
    }
}
