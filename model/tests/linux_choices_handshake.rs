//! The rules added for Linux's documented choices and the RFC clauses behind them: PAWS,
//! the half-duplex close, the orphaned FIN-WAIT-2 timeout, reopening from TIME-WAIT, the IPv6
//! default MSS, probes, the repeated SYN, the SYN-SENT rearm, RFC 5961 5.2 as Linux bounds
//! it, the simultaneous-open TSopt and the tail loss probe.
//!
//! Each test shows the allowed behaviour passing and a wrong one refused, so none of them can
//! pass because the model allows anything. Sequence numbers sit near 2^32 where a rule does
//! arithmetic on them, so the wrap is crossed.
//!
//! This file: PAWS, the IPv6 default MSS, the repeated SYN, the SYN-SENT rearm and the
//! simultaneous-open TSopt (the rest: the other `linux_choices_*.rs`).

mod common;

use std::time::Duration;

use tcpcheck_model::conn::{rules, Connection, Report, Seg, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::rule::Source;
use tcpcheck_model::timers::timer_tolerance;

use common::linux_choices::*;

/// RFC 7323 5.3 R1 (PAWS): once timestamps are on, a segment whose TSval is older than
/// TS.Recent is acknowledged (ACK = RCV.NXT as it was) and dropped; the same data with a newer
/// TSval is taken; a RST is never dropped by PAWS. TSvals and sequence numbers cross 2^32.
#[test]
fn paws_drops_old_tsval_but_not_a_rst() {
    let p = NEAR_WRAP; // the peer's data wraps past 0
    let s = 70_000;
    let t0 = u32::MAX - 1; // the peer's TSvals wrap too
    for prof in [Profile::linux_defaults(), Profile::rfc9293()] {
        let mut c = passive(
            prof,
            ts(seg(SYN, p, 0), t0, 0),
            ts(seg(SYN | ACK, s, p.wrapping_add(1)), 7000, t0),
            ts(seg(ACK, p.wrapping_add(1), s + 1), t0.wrapping_add(1), 7000),
        );
        let (p1, p11, p21) = (p.wrapping_add(1), p.wrapping_add(11), p.wrapping_add(21));
        c.arrive(ms(20), &ts(data(p1, s + 1, 10), t0.wrapping_add(2), 7000));
        assert_eq!(c.readable(), 10);
        sends(
            &mut c,
            ms(20),
            ts(seg(ACK, s + 1, p11), 7001, t0.wrapping_add(2)),
        );

        // An older TSval (2^32 - 1, older than TS.Recent = 0 across the wrap, though newer
        // than the SYN's): ACK with the old RCV.NXT, data dropped.
        c.arrive(ms(30), &ts(data(p11, s + 1, 10), t0.wrapping_add(1), 7000));
        assert_eq!(c.readable(), 10, "PAWS: the data must not be taken");
        assert_eq!(c.state(), State::Established);
        let d = refusal(
            &c,
            ms(30),
            ts(seg(ACK, s + 1, p21), 7002, t0.wrapping_add(2)),
        );
        assert!(d.rule.is(Source::Rfc(7323), "5.3"), "{d}");
        silence_refused(&c, ms(30));
        sends(
            &mut c,
            ms(30),
            ts(seg(ACK, s + 1, p11), 7002, t0.wrapping_add(2)),
        );

        // The same data with a newer TSval (t0 + 3 wraps to 1) is taken.
        c.arrive(ms(40), &ts(data(p11, s + 1, 10), t0.wrapping_add(3), 7000));
        assert_eq!(c.readable(), 20);
        refusal(
            &c,
            ms(40),
            ts(seg(ACK, s + 1, p11), 7003, t0.wrapping_add(3)),
        );
        sends(
            &mut c,
            ms(40),
            ts(seg(ACK, s + 1, p21), 7003, t0.wrapping_add(3)),
        );

        // A RST with an old TSval at RCV.NXT still resets.
        let old = t0.wrapping_sub(100);
        let mut ack_old = c.clone();
        ack_old.arrive(ms(600), &ts(seg(ACK, p21, s + 1), old, 7003));
        assert_eq!(
            ack_old.state(),
            State::Established,
            "a plain ACK is PAWS-dropped"
        );
        assert!(accepts(
            &ack_old,
            ms(600),
            ts(seg(ACK, s + 1, p21), 7004, t0.wrapping_add(3))
        ));
        c.arrive(ms(600), &ts(seg(RST, p21, 0), old, 0));
        assert_eq!(c.state(), State::Closed, "a RST is not PAWS-dropped");
        assert!(c.reports().contains(&Report::ConnectionReset));
        refusal(
            &c,
            ms(600),
            ts(seg(ACK, s + 1, p21), 7004, t0.wrapping_add(3)),
        );
    }
}

/// Data segments of up to `len` bytes after SEND on a connection whose peer sent no MSS
/// option: which sizes does the model allow?
fn default_mss_allows(ipv6: bool, syn: Seg, len: u32) -> bool {
    let mut c = Connection::new(Profile::linux_defaults());
    c.set_ipv6(ipv6);
    c.open_passive(ms(0)).unwrap();
    c.arrive(ms(0), &syn);
    sends(&mut c, ms(0), mss(seg(SYN | ACK, 500, 10_001), 1460));
    c.arrive(ms(10), &seg(ACK, 10_001, 501));
    c.send(ms(20), 5000).unwrap();
    accepts(&c, ms(20), data(501, 10_001, len))
}

/// RFC 9293 3.7.1 MUST-15: without an MSS option the send MSS is 536 on IPv4 and 1220
/// (1280 - 60) on IPv6; an MSS option overrides either.
#[test]
fn default_send_mss_follows_the_ip_version() {
    let bare = seg(SYN, 10_000, 0);
    assert!(default_mss_allows(true, bare, 1220));
    assert!(!default_mss_allows(true, bare, 1221));
    assert!(default_mss_allows(false, bare, 536));
    assert!(!default_mss_allows(false, bare, 537));
    assert!(default_mss_allows(true, mss(bare, 1400), 1400));
    assert!(!default_mss_allows(true, mss(bare, 1400), 1401));

    // The default survives a reset back to LISTEN, which starts a new incarnation.
    let mut c = Connection::new(Profile::rfc9293());
    c.set_ipv6(true);
    c.open_passive(ms(0)).unwrap();
    c.arrive(ms(0), &seg(SYN, 7, 0));
    sends(&mut c, ms(0), seg(SYN | ACK, 500, 8));
    c.arrive(ms(5), &seg(RST, 8, 0));
    assert_eq!(c.state(), State::Listen);
    c.arrive(ms(6), &bare);
    sends(&mut c, ms(6), seg(SYN | ACK, 900, 10_001));
    c.arrive(ms(10), &seg(ACK, 10_001, 901));
    c.send(ms(20), 5000).unwrap();
    assert!(accepts(&c, ms(20), data(901, 10_001, 1220)));
    assert!(!accepts(&c, ms(20), data(901, 10_001, 1221)));
}

/// Linux tcp_check_req(): a repeated SYN in SYN-RECEIVED is answered with the SYN-ACK at
/// once, at most once per `challenge_ack_interval`, and restarts the SYN-ACK timer. On
/// rfc9293 the repeat, before RCV.NXT, draws an ACK, and an early SYN-ACK breaks MUST-18.
#[test]
fn repeated_syn_in_syn_received() {
    let (s, p) = (NEAR_WRAP, 77);
    let synack = seg(SYN | ACK, s, p + 1);
    let start = |prof: Profile| {
        let mut c = Connection::new(prof);
        c.open_passive(ms(0)).unwrap();
        c.arrive(ms(0), &seg(SYN, p, 0));
        sends(&mut c, ms(0), synack);
        c
    };

    let mut c = start(Profile::linux_defaults());
    // Without a repeat, the SYN-ACK goes again on its 1 s timer.
    assert!(accepts(&c, ms(1000), synack));
    c.arrive(ms(300), &seg(SYN, p, 0));
    assert_eq!(c.state(), State::SynReceived);
    silence_refused(&c, ms(300));
    sends(&mut c, ms(300), synack);
    // The timer restarted from 300 ms.
    let d = refusal(&c, ms(1000), synack);
    assert!(d.rule.labels.contains(&MUST_18), "{d}");
    assert!(c.clone().check_overdue(ms(1200)).is_ok());
    // Rate limited: a second repeat within 500 ms gets nothing.
    let mut limited = c.clone();
    limited.arrive(ms(500), &seg(SYN, p, 0));
    assert!(limited.clone().check_overdue(ms(500)).is_ok());
    refusal(&limited, ms(500), synack);
    assert!(accepts(&limited, ms(1300), synack));
    // After the interval, the next repeat is answered again.
    let mut again = c.clone();
    again.arrive(ms(800), &seg(SYN, p, 0));
    silence_refused(&again, ms(800));
    sends(&mut again, ms(800), synack);
    assert!(!accepts(&again, ms(1300), synack));
    assert!(accepts(&again, ms(1800), synack));
    // The handshake still completes.
    c.arrive(ms(1100), &seg(ACK, p + 1, s.wrapping_add(1)));
    assert_eq!(c.state(), State::Established);

    // RFC 9293 3.3.2: the SYN again lies before RCV.NXT, an unacceptable segment: an ACK.
    let mut rfc = start(Profile::rfc9293());
    rfc.arrive(ms(300), &seg(SYN, p, 0));
    assert_eq!(rfc.state(), State::SynReceived);
    assert!(
        rfc.clone().check_overdue(ms(300)).is_err(),
        "the ACK is owed"
    );
    sends(&mut rfc, ms(300), seg(ACK, s.wrapping_add(1), p + 1));
    let d = refusal(&rfc, ms(300), synack);
    assert!(d.rule.labels.contains(&MUST_18), "{d}");
    sends(&mut rfc, ms(1000), synack);
}

/// Linux tcp_rcv_synsent_state_process(): after an unacceptable ACK (or RST,ACK) in SYN-SENT,
/// a SYN not yet retransmitted goes again after TCP_TIMEOUT_MIN (8 ms) rather than the RTO.
/// The rfc9293 profile keeps the 1 s timer (MUST-18).
#[test]
fn syn_sent_unacceptable_ack_rearms_the_syn() {
    let s = NEAR_WRAP;
    let syn = seg(SYN, s, 0);
    let min = timer_tolerance(ms(8));
    let start = |prof: Profile| {
        let mut c = Connection::new(prof);
        c.open_active(ms(0)).unwrap();
        sends(&mut c, ms(0), syn);
        c
    };
    // Without a bad ACK, nothing is owed for a while.
    assert!(start(Profile::linux_defaults())
        .check_overdue(ms(500))
        .is_ok());

    for bad in [seg(ACK, 9, s), seg(RST | ACK, 9, s.wrapping_add(5))] {
        let mut c = start(Profile::linux_defaults());
        c.arrive(ms(100), &bad);
        assert_eq!(c.state(), State::SynSent);
        if !bad.flags.rst() {
            silence_refused(&c, ms(100));
            sends(&mut c, ms(100), seg(RST, s, 0));
        }
        let d = refusal(&c, ms(100) + min.earliest - Duration::from_micros(1), syn);
        assert!(d.rule.labels.contains(&MUST_18), "{d}");
        assert!(accepts(&c, ms(108), syn));
        assert!(accepts(&c, ms(100) + min.earliest, syn));
        assert!(c.clone().check_overdue(ms(100) + min.latest).is_ok());
        silence_refused(&c, ms(100) + min.latest + ms(1));
    }

    // Only if the SYN has not been retransmitted yet.
    let mut c = start(Profile::linux_defaults());
    sends(&mut c, ms(1000), syn);
    c.arrive(ms(1100), &seg(ACK, 9, s));
    sends(&mut c, ms(1100), seg(RST, s, 0));
    refusal(&c, ms(1108), syn);
    assert!(c.clone().check_overdue(ms(1500)).is_ok());
    assert!(accepts(&c, ms(2000), syn));

    let mut rfc = start(Profile::rfc9293());
    rfc.arrive(ms(100), &seg(ACK, 9, s));
    sends(&mut rfc, ms(100), seg(RST, s, 0));
    let d = refusal(&rfc, ms(108), syn);
    assert!(d.rule.labels.contains(&MUST_18), "{d}");
    assert!(rfc.clone().check_overdue(ms(500)).is_ok());
    assert!(accepts(&rfc, ms(1000), syn));
}

/// Linux answers a crossed SYN with its own SYN again plus ACK, so the SYN-ACK may carry the
/// TSopt its SYN offered even when the peer's SYN had none. RFC 7323 3.2 forbids that, and so
/// does Linux itself in a passive open.
#[test]
fn simultaneous_open_synack_may_keep_our_tsopt_on_linux() {
    let (s, p) = (NEAR_WRAP, 600);
    let crossed = |prof: Profile, our_syn: Seg| {
        let mut c = Connection::new(prof);
        c.open_active(ms(0)).unwrap();
        sends(&mut c, ms(0), our_syn);
        c.arrive(ms(5), &seg(SYN, p, 0));
        assert_eq!(c.state(), State::SynReceived);
        c
    };
    let synack_ts = ts(seg(SYN | ACK, s, p + 1), 101, 0);
    let synack = seg(SYN | ACK, s, p + 1);

    let linux = crossed(Profile::linux_defaults(), ts(seg(SYN, s, 0), 100, 0));
    assert!(accepts(&linux, ms(5), synack_ts));
    assert!(accepts(&linux, ms(5), synack));
    refusal(&linux, ms(5), ts(seg(SYN | ACK, s, p), 101, 0));

    let rfc = crossed(Profile::rfc9293(), ts(seg(SYN, s, 0), 100, 0));
    assert!(accepts(&rfc, ms(5), synack));
    let d = refusal(&rfc, ms(5), synack_ts);
    assert_eq!(d.rule, &rules::NO_TSOPT_IN_SYNACK);

    // Linux, but our SYN offered no timestamps: nothing to keep.
    let plain = crossed(Profile::linux_defaults(), seg(SYN, s, 0));
    let d = refusal(&plain, ms(5), synack_ts);
    assert!(d.rule.is(Source::Rfc(7323), "3.2"), "{d}");

    // Linux, passive open: the SYN-ACK answers the peer's options only.
    let mut passive = Connection::new(Profile::linux_defaults());
    passive.open_passive(ms(0)).unwrap();
    passive.arrive(ms(0), &seg(SYN, p, 0));
    let d = refusal(&passive, ms(0), synack_ts);
    assert!(d.rule.is(Source::Rfc(7323), "3.2"), "{d}");
    assert!(accepts(&passive, ms(0), synack));
}
