//! Listen queues against design §4 and the kernel functions the model cites, through the
//! public API only, plus properties that hold for any profile and any event sequence.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use proptest::prelude::*;
use tcpcheck_model::conn::State;
use tcpcheck_model::listener::{
    synack_schedule, AckDrop, AckOutcome, AckReset, CookieReason, Listener, SynDrop, SynOutcome,
    SynSender, TimerEvent, Via,
};
use tcpcheck_model::profile::Profile;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

const T0: Duration = Duration::ZERO;

fn linux(edit: impl FnOnce(&mut Profile)) -> Profile {
    let mut p = Profile::linux_defaults();
    edit(&mut p);
    p
}

fn rfc(edit: impl FnOnce(&mut Profile)) -> Profile {
    let mut p = Profile::rfc9293();
    edit(&mut p);
    p
}

/// Runs SYN and final ACK for `key` at `now`, returning what the ACK did.
fn handshake(l: &mut Listener<u32>, now: Duration, key: u32) -> AckOutcome {
    assert_eq!(l.on_syn(now, key), SynOutcome::SynAck, "SYN for {key}");
    l.on_ack(now, key, false)
}

fn fill_accept_queue(l: &mut Listener<u32>) -> u32 {
    let mut key = 0;
    while l.accept_queue_len() < l.accept_queue_capacity() {
        assert_eq!(handshake(l, T0, key), AckOutcome::Established(Via::Request));
        key += 1;
    }
    key
}

#[test]
fn linux_backlog_n_holds_n_plus_one_children() {
    for n in 0..=5 {
        let mut l = Listener::new(n, &linux(|_| {}));
        assert_eq!(
            l.accept_queue_limit(),
            n as u32,
            "send-q reports the backlog"
        );
        for key in 0..=n as u32 {
            assert_eq!(
                handshake(&mut l, T0, key),
                AckOutcome::Established(Via::Request)
            );
        }
        assert_eq!(l.accept_queue_len(), n as usize + 1);
        assert_eq!(
            l.on_syn(T0, 100),
            SynOutcome::Dropped(SynDrop::AcceptQueueFull),
            "listen({n}) is full at {} children",
            n + 1
        );
    }
}

#[test]
fn rfc9293_backlog_n_holds_n_children() {
    for n in 1..=5 {
        let mut l = Listener::new(n, &rfc(|_| {}));
        for key in 0..n as u32 {
            assert_eq!(
                handshake(&mut l, T0, key),
                AckOutcome::Established(Via::Request)
            );
        }
        assert_eq!(l.accept_queue_len(), n as usize);
        assert_eq!(
            l.on_syn(T0, 100),
            SynOutcome::Dropped(SynDrop::AcceptQueueFull)
        );
    }
    // POSIX: 0 (and anything negative) may mean an implementation-defined minimum.
    let l: Listener<u32> = Listener::new(-3, &rfc(|_| {}));
    assert_eq!((l.accept_queue_limit(), l.accept_queue_capacity()), (1, 1));
}

#[test]
fn a_syn_is_dropped_while_the_accept_queue_is_full_even_for_a_cookie() {
    for syncookies in 0..=2 {
        let mut l = Listener::new(2, &linux(|p| p.syncookies = syncookies));
        if syncookies == 2 {
            for key in 0..3 {
                assert_eq!(l.on_syn(T0, key), SynOutcome::Cookie(CookieReason::Always));
                assert_eq!(
                    l.on_ack(T0, key, true),
                    AckOutcome::Established(Via::Cookie)
                );
            }
        } else {
            fill_accept_queue(&mut l);
        }
        assert_eq!(l.accept_queue_len(), 3);
        assert_eq!(
            l.on_syn(T0, 50),
            SynOutcome::Dropped(SynDrop::AcceptQueueFull)
        );
        assert_eq!(
            l.syn_queue_len(),
            0,
            "tcp_syncookies={syncookies}: nothing kept"
        );
        l.accept();
        let again = l.on_syn(T0, 50);
        assert!(
            matches!(again, SynOutcome::SynAck | SynOutcome::Cookie(_)),
            "{again:?}"
        );
    }
}

/// listen(1): children 0 and 1 fill the accept queue while request 2, which got in before
/// it filled, still waits for its final ACK.
fn full_with_pending_request(p: &Profile) -> Listener<u32> {
    let mut l = Listener::new(1, p);
    assert_eq!(l.on_syn(T0, 0), SynOutcome::SynAck);
    assert_eq!(l.on_syn(T0, 1), SynOutcome::SynAck);
    assert_eq!(
        l.on_ack(T0, 0, false),
        AckOutcome::Established(Via::Request)
    );
    assert_eq!(l.on_syn(T0, 2), SynOutcome::SynAck);
    assert_eq!(
        l.on_ack(T0, 1, false),
        AckOutcome::Established(Via::Request)
    );
    assert_eq!(
        l.on_syn(T0, 3),
        SynOutcome::Dropped(SynDrop::AcceptQueueFull)
    );
    l
}

#[test]
fn abort_on_overflow_0_drops_the_final_ack_and_completes_after_accept() {
    let mut l = full_with_pending_request(&linux(|p| p.abort_on_overflow = false));
    assert_eq!(
        l.on_ack(ms(10), 2, false),
        AckOutcome::Dropped(AckDrop::AcceptQueueFull)
    );
    assert_eq!(
        l.state_of(&2),
        Some(State::SynReceived),
        "the request is kept"
    );
    assert!(l.request(&2).unwrap().acked);

    // Its SYN-ACK keeps being retransmitted, which draws the peer's ACK again.
    let events = l.on_timer(secs(1));
    assert_eq!(
        events,
        [TimerEvent::SynAckRetransmitted {
            key: 2,
            at: secs(1),
            retransmission: 1
        }]
    );
    assert_eq!(
        l.on_ack(secs(1), 2, false),
        AckOutcome::Dropped(AckDrop::AcceptQueueFull)
    );

    assert_eq!(l.accept(), Some(0));
    assert_eq!(
        l.on_ack(secs(1), 2, false),
        AckOutcome::Established(Via::Request)
    );
    assert_eq!(l.state_of(&2), Some(State::Established));
    assert_eq!(l.syn_queue_len(), 0);
    assert_eq!(l.accept_queue().copied().collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn abort_on_overflow_0_request_still_expires_on_schedule() {
    let mut l = full_with_pending_request(&linux(|p| p.synack_retries = 2));
    assert_eq!(
        l.on_ack(T0, 2, false),
        AckOutcome::Dropped(AckDrop::AcceptQueueFull)
    );
    let events = l.on_timer(secs(7));
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[2],
        TimerEvent::Expired {
            key: 2,
            at: secs(7),
            pruned: false
        }
    );
    assert_eq!(
        l.on_ack(secs(7), 2, false),
        AckOutcome::Reset(AckReset::NoRequest)
    );
}

#[test]
fn abort_on_overflow_1_resets_and_forgets_the_request() {
    let mut l = full_with_pending_request(&linux(|p| p.abort_on_overflow = true));
    assert_eq!(
        l.on_ack(T0, 2, false),
        AckOutcome::Reset(AckReset::AcceptQueueFull)
    );
    assert_eq!(l.state_of(&2), None);
    assert_eq!(l.on_timer(secs(100)), []);
    // A retransmitted final ACK now meets LISTEN, even with room.
    l.accept();
    assert_eq!(
        l.on_ack(T0, 2, false),
        AckOutcome::Reset(AckReset::NoRequest)
    );
}

#[test]
fn syncookies_0_drops_syns_once_the_syn_queue_is_full() {
    let mut l = Listener::new(3, &linux(|p| p.syncookies = 0));
    assert_eq!(l.syn_queue_capacity(), 4);
    for key in 0..4 {
        assert_eq!(l.on_syn(T0, key), SynOutcome::SynAck);
    }
    assert_eq!(l.on_syn(T0, 4), SynOutcome::Dropped(SynDrop::SynQueueFull));
    assert_eq!(l.syn_queue_len(), 4);
    assert_eq!(
        l.on_ack(T0, 4, true),
        AckOutcome::Reset(AckReset::NoRequest),
        "no cookies"
    );
}

#[test]
fn syncookies_1_sends_cookies_only_when_the_syn_queue_is_full() {
    let mut l = Listener::new(3, &linux(|p| p.syncookies = 1));
    for key in 0..4 {
        assert_eq!(l.on_syn(T0, key), SynOutcome::SynAck);
    }
    assert_eq!(
        l.on_syn(T0, 4),
        SynOutcome::Cookie(CookieReason::SynQueueFull)
    );
    assert_eq!(l.syn_queue_len(), 4, "a cookie keeps nothing");
    assert_eq!(l.state_of(&4), None);
    assert_eq!(
        l.on_ack(ms(50), 4, true),
        AckOutcome::Established(Via::Cookie)
    );
    assert_eq!(l.state_of(&4), Some(State::Established));
    // Without a valid cookie the same ACK would meet LISTEN.
    assert_eq!(
        l.on_ack(ms(50), 5, false),
        AckOutcome::Reset(AckReset::NoRequest)
    );
    // Room in the SYN queue again: requests, not cookies.
    assert_eq!(
        l.on_ack(ms(60), 0, false),
        AckOutcome::Established(Via::Request)
    );
    assert_eq!(l.on_syn(ms(60), 6), SynOutcome::SynAck);
}

#[test]
fn syncookies_2_sends_cookies_always_and_keeps_nothing() {
    let mut l = Listener::new(8, &linux(|p| p.syncookies = 2));
    for key in 0..5 {
        assert_eq!(l.on_syn(T0, key), SynOutcome::Cookie(CookieReason::Always));
    }
    assert_eq!(l.syn_queue_len(), 0);
    assert_eq!(
        l.next_timer(),
        None,
        "no request, no SYN-ACK retransmission"
    );
    assert_eq!(
        l.on_ack(secs(1), 3, true),
        AckOutcome::Established(Via::Cookie)
    );
    assert_eq!(
        l.on_ack(secs(1), 4, false),
        AckOutcome::Reset(AckReset::NoRequest)
    );
    assert_eq!(l.accept(), Some(3));
}

#[test]
fn a_cookie_ack_into_a_full_accept_queue_is_dropped_even_with_abort_on_overflow() {
    for abort in [false, true] {
        let mut l = Listener::new(
            0,
            &linux(|p| {
                p.syncookies = 2;
                p.abort_on_overflow = abort;
            }),
        );
        assert_eq!(l.on_syn(T0, 0), SynOutcome::Cookie(CookieReason::Always));
        assert_eq!(l.on_syn(T0, 1), SynOutcome::Cookie(CookieReason::Always));
        assert_eq!(l.on_ack(T0, 0, true), AckOutcome::Established(Via::Cookie));
        assert_eq!(
            l.on_ack(T0, 1, true),
            AckOutcome::Dropped(AckDrop::CookieAcceptQueueFull),
            "tcp_abort_on_overflow={abort}"
        );
        assert_eq!(l.state_of(&1), None);
    }
}

#[test]
fn a_cookie_is_only_accepted_within_two_minutes_of_the_last_one_sent() {
    let mut l = Listener::new(8, &linux(|p| p.syncookies = 1));
    assert_eq!(
        l.on_ack(T0, 0, true),
        AckOutcome::Reset(AckReset::CookieNotRecent)
    );
    let mut l = Listener::new(8, &linux(|p| p.syncookies = 2));
    assert_eq!(
        l.on_syn(secs(10), 0),
        SynOutcome::Cookie(CookieReason::Always)
    );
    assert_eq!(
        l.on_ack(secs(130), 0, true),
        AckOutcome::Established(Via::Cookie)
    );
    assert_eq!(
        l.on_ack(ms(130_001), 1, true),
        AckOutcome::Reset(AckReset::CookieNotRecent)
    );
}

#[test]
fn an_ack_for_nothing_draws_a_reset_in_both_profiles() {
    for p in [linux(|_| {}), rfc(|_| {})] {
        let mut l: Listener<u32> = Listener::new(4, &p);
        assert_eq!(
            l.on_ack(T0, 9, false),
            AckOutcome::Reset(AckReset::NoRequest)
        );
    }
}

#[test]
fn listen_backlog_is_capped_by_somaxconn() {
    let p = linux(|p| p.somaxconn = 4096);
    for (asked, limit) in [
        (128, 128),
        (4096, 4096),
        (4097, 4096),
        (65535, 4096),
        (i32::MAX, 4096),
    ] {
        let l: Listener<u32> = Listener::new(asked, &p);
        assert_eq!(l.accept_queue_limit(), limit, "listen({asked})");
        assert_eq!(l.accept_queue_capacity(), limit as usize + 1);
    }
    // `(unsigned int)backlog > somaxconn`: negative backlogs become somaxconn.
    for asked in [-1, -4096, i32::MIN] {
        let l: Listener<u32> = Listener::new(asked, &p);
        assert_eq!(l.accept_queue_limit(), 4096, "listen({asked})");
    }
    let small = linux(|p| p.somaxconn = 10);
    let l: Listener<u32> = Listener::new(100, &small);
    assert_eq!(l.accept_queue_limit(), 10);
}

#[test]
fn without_cookies_the_last_quarter_of_max_syn_backlog_is_for_proven_peers() {
    let p = linux(|p| {
        p.syncookies = 0;
        p.max_syn_backlog = 128;
    });
    let mut l = Listener::new(1000, &p);
    // 128 - qlen < 32 first holds at qlen 97.
    for key in 0..97 {
        assert_eq!(l.on_syn(T0, key), SynOutcome::SynAck, "request {key}");
    }
    assert_eq!(l.on_syn(T0, 97), SynOutcome::Dropped(SynDrop::LastQuarter));
    assert_eq!(l.on_syn_from(T0, 98, SynSender::Proven), SynOutcome::SynAck);
    assert_eq!(
        l.on_syn_from(T0, 99, SynSender::TimeWait),
        SynOutcome::SynAck
    );
    assert_eq!(l.syn_queue_len(), 99);
    // Proven peers fill on up to the SYN queue's own limit, 1001.
    for key in 100..1002 {
        assert_eq!(
            l.on_syn_from(T0, key, SynSender::Proven),
            SynOutcome::SynAck
        );
    }
    assert_eq!(l.syn_queue_len(), 1001);
    assert_eq!(
        l.on_syn_from(T0, 1002, SynSender::Proven),
        SynOutcome::Dropped(SynDrop::SynQueueFull)
    );

    // With cookies on the rule is off: unproven peers get requests up to the SYN queue limit.
    let mut l = Listener::new(1000, &linux(|p| p.syncookies = 1));
    for key in 0..1001 {
        assert_eq!(l.on_syn(T0, key), SynOutcome::SynAck);
    }
    assert_eq!(
        l.on_syn(T0, 1001),
        SynOutcome::Cookie(CookieReason::SynQueueFull)
    );
}

#[test]
fn a_syn_reopening_time_wait_bypasses_the_syn_queue_limits() {
    let mut l = Listener::new(0, &linux(|p| p.syncookies = 2));
    assert_eq!(
        l.on_syn_from(T0, 0, SynSender::TimeWait),
        SynOutcome::SynAck
    );
    assert_eq!(
        l.on_syn_from(T0, 1, SynSender::TimeWait),
        SynOutcome::SynAck
    );
    assert_eq!(
        l.syn_queue_len(),
        2,
        "past syn_queue_capacity() = 1, and no cookie"
    );
    // The accept queue still bounds it.
    l.on_ack(T0, 0, false);
    assert_eq!(
        l.on_syn_from(T0, 2, SynSender::TimeWait),
        SynOutcome::Dropped(SynDrop::AcceptQueueFull)
    );
}

/// Feeds timers one second at a time up to `until`, returning what fired.
fn run_timers(l: &mut Listener<u32>, until: Duration) -> Vec<TimerEvent<u32>> {
    let mut events = Vec::new();
    let mut t = Duration::ZERO;
    while t <= until {
        events.extend(l.on_timer(t));
        t += ms(250);
    }
    events
}

#[test]
fn synack_retries_5_retransmits_at_1_3_7_15_31_and_gives_up_at_63() {
    let p = linux(|p| p.synack_retries = 5);
    let mut l = Listener::new(16, &p);
    l.on_syn(T0, 7);
    let events = run_timers(&mut l, secs(200));
    let mut want: Vec<TimerEvent<u32>> = [1, 3, 7, 15, 31]
        .iter()
        .zip(1..)
        .map(|(&t, n)| TimerEvent::SynAckRetransmitted {
            key: 7,
            at: secs(t),
            retransmission: n,
        })
        .collect();
    want.push(TimerEvent::Expired {
        key: 7,
        at: secs(63),
        pruned: false,
    });
    assert_eq!(events, want);
    let s = synack_schedule(&p);
    assert_eq!(s.retransmissions, [1, 3, 7, 15, 31].map(secs));
    assert_eq!(s.expires, secs(63));
}

#[test]
fn synack_retries_2_retransmits_at_1_3_and_an_ack_at_7_5_draws_a_reset() {
    let p = linux(|p| p.synack_retries = 2);
    let mut l = Listener::new(16, &p);
    l.on_syn(T0, 7);
    assert_eq!(l.request(&7).unwrap().expires, secs(1));
    let got: Vec<Duration> = l.on_timer(secs(6)).iter().map(TimerEvent::at).collect();
    assert_eq!(got, [secs(1), secs(3)]);
    let info = l.request(&7).unwrap();
    assert_eq!(
        (info.num_timeout, info.num_retrans, info.expires),
        (2, 2, secs(7))
    );
    assert_eq!(
        l.on_timer(ms(7_500)),
        [TimerEvent::Expired {
            key: 7,
            at: secs(7),
            pruned: false
        }]
    );
    assert_eq!(
        l.on_ack(ms(7_500), 7, false),
        AckOutcome::Reset(AckReset::NoRequest)
    );
    assert_eq!(synack_schedule(&p).retransmissions, [secs(1), secs(3)]);
    assert_eq!(synack_schedule(&p).expires, secs(7));
}

#[test]
fn rfc9293_schedule_doubles_from_rto_initial_to_rto_max() {
    let p = rfc(|p| p.synack_retries = 7);
    let s = synack_schedule(&p);
    assert_eq!(s.retransmissions, [1, 3, 7, 15, 31, 63, 123].map(secs));
    assert_eq!(
        s.expires,
        secs(183),
        "MUST-23: at least 3 minutes of SYN retransmission"
    );
    let mut l = Listener::new(4, &p);
    l.on_syn(T0, 1);
    let ev = l.on_timer(secs(1000));
    assert_eq!(
        ev.last(),
        Some(&TimerEvent::Expired {
            key: 1,
            at: secs(183),
            pruned: false
        })
    );
}

#[test]
fn old_requests_crowding_the_syn_queue_lose_retries() {
    // Ten requests under backlog 16: 10 << 1 > max(8, 16), all old after the first timeout.
    let mut l = Listener::new(16, &linux(|p| p.synack_retries = 5));
    for key in 0..10 {
        l.on_syn(T0, key);
    }
    let at = |ev: &[TimerEvent<u32>], t: u64| ev.iter().filter(|e| e.at() == secs(t)).count();
    let events = l.on_timer(secs(6));
    assert_eq!(
        (at(&events, 1), at(&events, 3)),
        (10, 10),
        "young ones keep their retries"
    );
    // At 7 s every request is old: the retries drop to 2 and the first to fire expire, until
    // only 8 are left, no longer more than half of 16.
    let events = l.on_timer(secs(7));
    let expired: Vec<u32> = events
        .iter()
        .filter_map(|e| match *e {
            TimerEvent::Expired {
                key, pruned: true, ..
            } => Some(key),
            _ => None,
        })
        .collect();
    assert_eq!(expired, [0, 1]);
    assert_eq!(l.syn_queue_len(), 8);
    let events = l.on_timer(secs(1000));
    let expiries: Vec<(Duration, bool)> = events
        .iter()
        .filter_map(|e| match *e {
            TimerEvent::Expired { at, pruned, .. } => Some((at, pruned)),
            _ => None,
        })
        .collect();
    assert_eq!(
        expiries,
        [(secs(63), false); 8],
        "the other eight keep their schedule"
    );

    // Eight requests never trigger it: the ordinary schedule.
    let mut l = Listener::new(16, &linux(|p| p.synack_retries = 5));
    for key in 0..8 {
        l.on_syn(T0, key);
    }
    let events = l.on_timer(secs(1000));
    assert!(events.iter().all(|e| match e {
        TimerEvent::Expired { at, pruned, .. } => *at == secs(63) && !pruned,
        TimerEvent::SynAckRetransmitted { .. } => true,
    }));
}

#[test]
fn a_repeated_syn_resends_the_synack_and_restarts_the_timer() {
    let mut l = Listener::new(4, &linux(|p| p.challenge_ack_interval = ms(500)));
    l.on_syn(T0, 1);
    l.on_timer(secs(1));
    assert_eq!(l.request(&1).unwrap().expires, secs(3));
    assert_eq!(l.on_syn(ms(1_200), 1), SynOutcome::SynAckResent);
    let info = l.request(&1).unwrap();
    assert_eq!(
        (info.num_timeout, info.num_retrans),
        (1, 2),
        "the resend is not a timeout"
    );
    assert_eq!(info.expires, ms(3_200), "now + (1 s << num_timeout)");
    assert_eq!(
        l.on_syn(ms(1_600), 1),
        SynOutcome::Dropped(SynDrop::RateLimited)
    );
    assert_eq!(l.request(&1).unwrap().expires, ms(3_200));
    assert_eq!(l.on_syn(ms(1_700), 1), SynOutcome::SynAckResent);
    assert_eq!(l.request(&1).unwrap().expires, ms(3_700));
}

#[test]
fn rfc9293_answers_a_repeated_syn_with_an_ack_and_has_no_linux_extras() {
    let p = rfc(|p| {
        p.syncookies = 2;
        p.max_syn_backlog = 4;
    });
    let mut l = Listener::new(8, &p);
    // Neither cookies nor the last quarter: eight requests, then the plain bound.
    for key in 0..8 {
        assert_eq!(l.on_syn(T0, key), SynOutcome::SynAck);
    }
    assert_eq!(l.on_syn(T0, 8), SynOutcome::Dropped(SynDrop::SynQueueFull));
    assert_eq!(l.on_syn(T0, 3), SynOutcome::Ack);
    assert_eq!(l.request(&3).unwrap().num_retrans, 0);
    assert_eq!(
        l.on_ack(T0, 8, true),
        AckOutcome::Reset(AckReset::NoRequest)
    );
}

#[test]
fn segments_for_a_waiting_child_are_the_childs() {
    for p in [linux(|_| {}), rfc(|_| {})] {
        let mut l = Listener::new(4, &p);
        handshake(&mut l, T0, 5);
        assert_eq!(l.on_syn(T0, 5), SynOutcome::ToChild);
        assert_eq!(l.on_ack(T0, 5, false), AckOutcome::ToChild);
        assert_eq!(l.accept(), Some(5));
        assert_eq!(l.accept(), None);
    }
}

#[test]
fn a_reset_request_leaves_the_syn_queue_and_the_listener_listening() {
    // MUST-11: a request came from a passive OPEN, so a reset returns it to LISTEN.
    for p in [linux(|_| {}), rfc(|_| {})] {
        let mut l = Listener::new(4, &p);
        l.on_syn(T0, 1);
        assert!(l.remove_request(&1));
        assert!(!l.remove_request(&1));
        assert_eq!((l.state_of(&1), l.next_timer()), (None, None));
        assert_eq!(l.on_syn(ms(5), 1), SynOutcome::SynAck);
    }
}

// ---- properties ----

#[derive(Clone, Debug)]
enum Op {
    Syn(u8, SynSender),
    Ack(u8, bool),
    Accept,
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..24;
    prop_oneof![
        4 => (key.clone(), prop_oneof![Just(SynSender::Unknown), Just(SynSender::Proven)])
            .prop_map(|(k, s)| Op::Syn(k, s)),
        4 => (key, any::<bool>()).prop_map(|(k, c)| Op::Ack(k, c)),
        2 => Just(Op::Accept),
        2 => (0u64..20_000).prop_map(Op::Wait),
    ]
}

fn profile() -> impl Strategy<Value = Profile> {
    (
        any::<bool>(),
        any::<bool>(),
        0u8..=2,
        0u32..24,
        0u32..12,
        0u32..7,
    )
        .prop_map(
            |(is_linux, abort, syncookies, max_syn_backlog, somaxconn, retries)| {
                let mut p = if is_linux {
                    Profile::linux_defaults()
                } else {
                    Profile::rfc9293()
                };
                p.abort_on_overflow = abort;
                p.syncookies = syncookies;
                p.max_syn_backlog = max_syn_backlog;
                p.somaxconn = somaxconn;
                p.synack_retries = retries;
                p
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Queue lengths stay within their limits, no key is in both queues (or twice in one),
    /// and accept() returns children in the order their handshakes completed.
    #[test]
    fn queues_stay_bounded_disjoint_and_fifo(
        p in profile(),
        backlog in -2i32..10,
        ops in prop::collection::vec(op(), 1..200),
    ) {
        let mut l: Listener<u8> = Listener::new(backlog, &p);
        let mut now = Duration::ZERO;
        let mut completed: VecDeque<u8> = VecDeque::new();
        for op in ops {
            match op {
                Op::Syn(k, s) => {
                    let out = l.on_syn_from(now, k, s);
                    if out == SynOutcome::SynAck {
                        prop_assert_eq!(l.state_of(&k), Some(State::SynReceived));
                    }
                }
                Op::Ack(k, c) => {
                    if let AckOutcome::Established(_) = l.on_ack(now, k, c) {
                        completed.push_back(k);
                    }
                }
                Op::Accept => prop_assert_eq!(l.accept(), completed.pop_front()),
                Op::Wait(d) => {
                    now += Duration::from_millis(d);
                    let events = l.on_timer(now);
                    prop_assert!(events.windows(2).all(|w| w[0].at() <= w[1].at()));
                    prop_assert!(events.iter().all(|e| e.at() <= now));
                    prop_assert!(l.next_timer().is_none_or(|t| t > now));
                }
            }
            prop_assert!(l.syn_queue_len() <= l.syn_queue_capacity());
            prop_assert!(l.accept_queue_len() <= l.accept_queue_capacity());
            let requests: BTreeSet<u8> = l.requests().map(|(k, _)| *k).collect();
            let children: Vec<u8> = l.accept_queue().copied().collect();
            let distinct: BTreeSet<u8> = children.iter().copied().collect();
            prop_assert_eq!(distinct.len(), children.len());
            prop_assert!(requests.is_disjoint(&distinct));
            prop_assert_eq!(&children, &completed.iter().copied().collect::<Vec<_>>());
        }
    }
}
