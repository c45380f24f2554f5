//! The listener's internal arithmetic: caps, stamps and the pruning ladder, each against the
//! kernel expression it transcribes.

use std::time::Duration;

use super::*;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

fn linux() -> Profile {
    Profile::linux_defaults()
}

#[test]
fn request_timeout_doubles_up_to_each_profiles_cap() {
    let l = linux();
    let got: Vec<u64> = (0..10).map(|n| request_timeout(&l, n).as_secs()).collect();
    assert_eq!(
        got,
        [1, 2, 4, 8, 16, 32, 64, 120, 120, 120],
        "TCP_RTO_MAX caps Linux"
    );
    let r = Profile::rfc9293();
    let got: Vec<u64> = (0..8).map(|n| request_timeout(&r, n).as_secs()).collect();
    assert_eq!(
        got,
        [1, 2, 4, 8, 16, 32, 60, 60],
        "RFC 6298 2.5: rto_max caps the RFC"
    );
    // num_timeout is a u8 in the kernel; far past the cap nothing overflows.
    assert_eq!(request_timeout(&l, 255), TCP_RTO_MAX);
}

#[test]
fn effective_backlog_follows_sys_listen_and_posix() {
    let mut l = linux();
    l.somaxconn = 4096;
    for (asked, got) in [
        (0, 0),
        (1, 1),
        (4096, 4096),
        (4097, 4096),
        (i32::MAX, 4096),
        (-1, 4096),
        (i32::MIN, 4096),
    ] {
        assert_eq!(effective_backlog(asked, &l), got, "linux listen({asked})");
    }
    let mut r = Profile::rfc9293();
    r.somaxconn = 4096;
    for (asked, got) in [(0, 1), (1, 1), (7, 7), (5000, 4096), (-1, 1), (i32::MIN, 1)] {
        assert_eq!(effective_backlog(asked, &r), got, "rfc9293 listen({asked})");
    }
}

#[test]
fn cookie_stamp_moves_at_most_once_a_second() {
    let mut l: Listener<u32> = Listener::new(8, &linux());
    assert!(
        !l.cookie_recent(secs(0)),
        "a new listener has never sent a cookie"
    );
    l.note_cookie_sent(secs(10));
    l.note_cookie_sent(ms(10_500));
    l.note_cookie_sent(secs(11));
    assert_eq!(
        l.last_overflow,
        Some(secs(10)),
        "within [last, last + HZ]: no restamp"
    );
    l.note_cookie_sent(ms(11_001));
    assert_eq!(l.last_overflow, Some(ms(11_001)));
    // An earlier time (not reachable with a monotonic caller) is outside the interval too.
    l.note_cookie_sent(secs(5));
    assert_eq!(l.last_overflow, Some(secs(5)));
}

#[test]
fn cookie_window_is_one_second_before_to_two_minutes_after_the_stamp() {
    let mut l: Listener<u32> = Listener::new(8, &linux());
    l.note_cookie_sent(secs(10));
    assert!(!l.cookie_recent(ms(8_999)));
    assert!(l.cookie_recent(secs(9)));
    assert!(l.cookie_recent(secs(130)));
    assert!(!l.cookie_recent(ms(130_001)));
}

/// A Linux listener whose requests have the given `num_timeout`s, nothing else.
fn with_requests(backlog: i32, retries: u32, num_timeouts: &[u32]) -> Listener<u32> {
    let mut p = linux();
    p.synack_retries = retries;
    p.syncookies = 1;
    let mut l = Listener::new(backlog, &p);
    for (k, &n) in num_timeouts.iter().enumerate() {
        assert_eq!(l.on_syn(Duration::ZERO, k as u32), SynOutcome::SynAck);
        l.requests.get_mut(&(k as u32)).unwrap().num_timeout = n;
    }
    l
}

#[test]
fn pruning_waits_for_half_of_max_8_backlog() {
    // qlen << 1 > max(8, backlog): 4 old requests under backlog 8 are not enough, 5 are.
    assert_eq!(with_requests(8, 5, &[1; 4]).pruned_retries(5), 5);
    assert_eq!(with_requests(8, 5, &[1; 5]).pruned_retries(5), 2);
    // A small backlog still needs five requests: the floor is 8.
    assert_eq!(with_requests(2, 5, &[1; 3]).pruned_retries(5), 5);
    // A large backlog needs more than half of it.
    assert_eq!(with_requests(20, 5, &[1; 10]).pruned_retries(5), 5);
    assert_eq!(with_requests(20, 5, &[1; 11]).pruned_retries(5), 2);
}

#[test]
fn pruning_costs_one_retry_per_halving_of_the_young_share() {
    // qlen 16 over backlog 16; young y: the retries drop by each k with 16 >= y << k.
    let case = |young: usize| {
        let mut n = vec![0; young];
        n.resize(16, 1);
        with_requests(16, 7, &n).pruned_retries(7)
    };
    assert_eq!(case(9), 7, "young > half: 16 < 18 at once");
    assert_eq!(case(8), 6, "16 < 16 fails, 16 < 32 holds");
    assert_eq!(case(4), 5);
    assert_eq!(case(2), 4);
    assert_eq!(case(1), 3);
    assert_eq!(case(0), 2, "never below two");
    // Retries already at or below two are never cut.
    assert_eq!(with_requests(16, 2, &[1; 16]).pruned_retries(2), 2);
    assert_eq!(with_requests(16, 1, &[1; 16]).pruned_retries(1), 1);
}

#[test]
fn schedule_with_no_retries_expires_at_the_first_timeout() {
    let mut p = linux();
    p.synack_retries = 0;
    let s = synack_schedule(&p);
    assert!(s.retransmissions.is_empty());
    assert_eq!(s.expires, secs(1));
}

#[test]
fn schedule_reaches_the_cap() {
    let mut p = linux();
    p.synack_retries = 9;
    let s = synack_schedule(&p);
    let got: Vec<u64> = s.retransmissions.iter().map(Duration::as_secs).collect();
    assert_eq!(got, [1, 3, 7, 15, 31, 63, 127, 247, 367]);
    assert_eq!(s.expires, secs(487));
}
