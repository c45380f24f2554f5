//! The rules added for Linux's documented choices and the RFC clauses behind them: PAWS,
//! the half-duplex close, the orphaned FIN-WAIT-2 timeout, reopening from TIME-WAIT, the IPv6
//! default MSS, probes, the repeated SYN, the SYN-SENT rearm, RFC 5961 5.2 as Linux bounds
//! it, the simultaneous-open TSopt and the tail loss probe.
//!
//! Each test shows the allowed behaviour passing and a wrong one refused, so none of them can
//! pass because the model allows anything. Sequence numbers sit near 2^32 where a rule does
//! arithmetic on them, so the wrap is crossed.
//!
//! This file: probes, RFC 5961 5.2 as Linux bounds it, the tail loss probe and urgent data (the
//! rest: the other `linux_choices_*.rs`).

mod common;

use tcpcheck_model::conn::{rules, Connection, Seg, State};
use tcpcheck_model::profile::{KeepAlive, Profile};
use tcpcheck_model::rule::Label;
use tcpcheck_model::timers::timer_tolerance;
use tcpcheck_model::wire::TcpFlags;

use common::linux_choices::*;

/// RFC 9293 3.8.6.1 MUST-35 and 3.8.4 MAY-5: <SEQ=SND.UNA-1><ACK=RCV.NXT><CTL=ACK> is a
/// zero-window probe while the peer's window is 0 and data waits, a keep-alive when those
/// are on and nothing is outstanding, and otherwise not allowed. SND.UNA is 0, so the probe's
/// sequence number is 2^32 - 1.
#[test]
fn zero_window_and_keepalive_probes() {
    let (s, p) = (u32::MAX, 40_000);
    let open = |w: u16| {
        passive(
            Profile::linux_defaults(),
            seg(SYN, p, 0),
            seg(SYN | ACK, s, p + 1),
            wnd(seg(ACK, p + 1, 0), w),
        )
    };
    let probe = seg(ACK, u32::MAX, p + 1);

    // Zero window, data queued: the probe is allowed (and nothing is owed).
    let mut zero = open(0);
    let idle_zero = zero.clone();
    zero.send(ms(20), 100).unwrap();
    assert!(zero.clone().check_overdue(ms(20)).is_ok());
    assert!(accepts(&zero, secs(1), probe));
    let mut probed = zero.clone();
    probed.emitted(secs(1), &probe).unwrap();
    assert!(probed
        .choices()
        .iter()
        .any(|ch| ch.rule.labels.contains(&Label::Must(35))));
    // Wrong numbers are not probes.
    refusal(&zero, secs(1), seg(ACK, u32::MAX - 1, p + 1));
    refusal(&zero, secs(1), seg(ACK, u32::MAX, p));
    // Zero window, nothing queued: nothing to probe for.
    refusal(&idle_zero, secs(1), probe);

    // Open window, nothing outstanding, keep-alive off: refused.
    let mut c = open(65535);
    let d = refusal(&c, secs(1), probe);
    assert!(d.rule == &rules::NO_RULE, "{d}");
    // Keep-alive on at 20 ms (idle 1 s): allowed once idle, counted from when keep-alives
    // were turned on (Linux tcp_set_keepalive() arms the timer then; seen on 6.18, see
    // corpus/scenarios/timers/keepalive-off-by-default.pkt), not from the last ACK (10 ms).
    c.set_keepalive_times(
        ms(20),
        KeepAlive {
            idle: secs(1),
            interval: secs(1),
            probes: 3,
        },
    );
    c.set_keepalive(ms(20), true);
    let idle = timer_tolerance(secs(1)).after(ms(20));
    assert!(accepts(&c, idle.earliest, probe));
    assert!(accepts(&c, ms(1030), probe));
    refusal(&c, ms(1010), probe);
    let mut kept = c.clone();
    kept.emitted(ms(1030), &probe).unwrap();
    assert!(kept
        .choices()
        .iter()
        .all(|ch| !ch.rule.labels.contains(&Label::Must(35))));
    // Not before the idle time, and not with a wrong acknowledgment number.
    refusal(&c, ms(500), probe);
    refusal(&c, ms(1030), seg(ACK, u32::MAX, p + 2));
    // Keep-alive on but data outstanding: not a keep-alive.
    c.send(ms(20), 100).unwrap();
    sends(&mut c, ms(20), data(0, p + 1, 100));
    refusal(&c, ms(1030), probe);
}

/// RFC 5961 5.2 (RFC 9293 MAY-12) with Linux's bound: an ACK below SND.UNA - min(MAX.SND.WND,
/// bytes acked) draws a challenge ACK and its data is dropped; within the bound the data is
/// taken. The rfc9293 profile bounds by the window alone. SND.UNA wraps past 0.
#[test]
fn old_ack_bound_is_min_of_window_and_bytes_acked() {
    let (s, p) = (NEAR_WRAP, 1000);
    let prepare = |prof: Profile| {
        let mut c = established(prof, s, p);
        c.send(ms(20), 100).unwrap();
        sends(&mut c, ms(20), data(s.wrapping_add(1), p + 1, 100));
        c.arrive(ms(30), &seg(ACK, p + 1, s.wrapping_add(101)));
        assert_eq!(c.tcb().snd_una.0, s.wrapping_add(101));
        c
    };
    let una = s.wrapping_add(101);
    let taken = |c: &Connection, below: u32| {
        let mut c = c.clone();
        // A window other than the one recorded keeps the segment off Linux's header
        // prediction, whose fast path takes text before judging the ACK (see
        // tests/explorer_findings_window.rs).
        let mut d = data(p + 1, una.wrapping_sub(below), 10);
        d.wnd = 60000;
        c.arrive(ms(40), &d);
        let took = c.readable() == 10;
        if took {
            refusal(&c, ms(40), seg(ACK, una, p + 1));
            sends(&mut c, ms(40), seg(ACK, una, p + 11));
        } else {
            assert_eq!(c.state(), State::Established);
            refusal(&c, ms(40), seg(ACK, una, p + 11));
            silence_refused(&c, ms(40));
            sends(&mut c, ms(40), seg(ACK, una, p + 1));
        }
        took
    };

    let linux = prepare(Profile::linux_defaults());
    assert!(!taken(&linux, 1000));
    assert!(taken(&linux, 50));
    assert!(taken(&linux, 100));
    assert!(!taken(&linux, 101));

    let rfc = prepare(Profile::rfc9293());
    assert!(taken(&rfc, 1000));
    assert!(taken(&rfc, 65535));
    assert!(!taken(&rfc, 65536));
}

/// Linux's tail loss probe: a copy of the last segment sent before the RTO is allowed, and
/// the RTO restarts from the probe (tcp_send_loss_probe()). Not on rfc9293 (MUST-18), nor
/// with `tcp_early_retrans` below 3.
#[test]
fn tail_loss_probe_rearms_the_rto() {
    let (s, p) = (NEAR_WRAP, 1);
    let s1 = s.wrapping_add(1);
    let prepare = |prof: Profile| {
        let mut c = passive(
            prof,
            sack_ok(mss(seg(SYN, p, 0), 1460)),
            sack_ok(mss(seg(SYN | ACK, s, p + 1), 1460)),
            seg(ACK, p + 1, s1),
        );
        c.send(ms(20), 1000).unwrap();
        sends(&mut c, ms(20), data(s1, p + 1, 1000));
        c
    };
    let rtx_due = |c: &Connection| {
        c.obligations()
            .iter()
            .find(|e| e.rule.labels.contains(&MUST_18))
            .map(|e| e.due)
            .expect("a retransmission is scheduled")
    };
    let copy = data(s1, p + 1, 1000);

    let mut c = prepare(Profile::linux_defaults());
    let before = rtx_due(&c);
    let probe_at = ms(20) + (before.earliest - ms(20)) / 2;
    // Without a probe the retransmission is overdue after its window.
    silence_refused(&c, before.latest + ms(1));
    // Data never sent is no probe.
    refusal(&c, probe_at, data(s1, p + 1, 1001));
    sends(&mut c, probe_at, copy);
    assert!(c.choices().iter().any(|ch| ch.taken == "tail loss probe"));
    let after = rtx_due(&c);
    assert_eq!(after.earliest, before.earliest + (probe_at - ms(20)));
    assert_eq!(after.latest, before.latest + (probe_at - ms(20)));
    assert!(c.clone().check_overdue(before.latest + ms(1)).is_ok());
    silence_refused(&c, after.latest + ms(1));
    sends(&mut c, after.earliest, copy);

    for prof in [
        Profile::rfc9293(),
        linux_with("net.ipv4.tcp_early_retrans", "2"),
    ] {
        let c = prepare(prof);
        let due = rtx_due(&c);
        let d = refusal(&c, ms(20) + (due.earliest - ms(20)) / 2, copy);
        assert!(d.rule.labels.contains(&MUST_18), "{d}");
        assert!(accepts(&c, due.earliest, copy));
    }
}

/// RFC 9293 3.8.5: MUST-30, MUST-62. Sending urgent data (MSG_OOB): every segment that starts
/// before SND.UP carries URG and the offset of SND.UP; a segment without URG, or with the
/// pointer at the last urgent octet (RFC 793's reading), is refused; once SND.UP is
/// acknowledged, URG is refused. Receiving with SO_OOBINLINE: the out-of-band byte is read in
/// its place. Sequence numbers cross 2^32.
#[test]
fn urgent_data_sent_and_read_inline() {
    let (s, p) = (NEAR_WRAP, 9000);
    let s1 = s.wrapping_add(1);
    let urg = |mut x: Seg, up: u16| {
        x.flags |= TcpFlags::URG;
        x.up = up;
        x
    };
    for prof in [Profile::linux_defaults(), Profile::rfc9293()] {
        let mut c = established(prof.clone(), s, p);
        // 1000 octets in segments of the default MSS, 536.
        c.send(ms(20), 1000).unwrap();
        c.mark_urgent();
        let first = data(s1, p + 1, 536);
        let d = refusal(&c, ms(20), first);
        assert_eq!(d.rule, &rules::URGENT_SEND, "{d}");
        let d = refusal(&c, ms(20), urg(first, 999));
        assert_eq!(d.rule, &rules::URGENT_SEND, "{d}");
        sends(&mut c, ms(20), urg(first, 1000));
        sends(
            &mut c,
            ms(20),
            urg(data(s1.wrapping_add(536), p + 1, 464), 464),
        );
        c.arrive(ms(30), &seg(ACK, p + 1, s1.wrapping_add(1000)));
        c.send(ms(40), 10).unwrap();
        let plain = data(s1.wrapping_add(1000), p + 1, 10);
        let d = refusal(&c, ms(40), urg(plain, 1));
        assert_eq!(d.rule, &rules::URGENT_SEND, "{d}");
        sends(&mut c, ms(40), plain);

        // Inline: a read stops before the urgent octet (the 10th), the next starts at it.
        let mut c = established(prof, s, p);
        c.set_oob_inline(true);
        c.arrive(ms(20), &urg(data(p + 1, s1, 10), 10));
        assert_eq!(c.receive(100), Ok(9));
        c.arrive(ms(30), &data(p + 11, s1, 10));
        assert_eq!(c.receive(100), Ok(11));
    }
}
