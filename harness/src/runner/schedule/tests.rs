//! The schedules measured on hand-made traces.

use std::net::Ipv4Addr;

use nix::errno::Errno;
use tcpcheck_model::profile::{Profile, ProfileKind};
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::{IpRepr, Ipv4Repr, SegmentRepr, TcpFlags, TcpOption, TcpRepr};

use super::*;
use crate::trace::{CallRecord, EventKind, Returned, SocketCall, Trace};

const STACK: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn packet(from_stack: bool, flags: TcpFlags, seq: u32, ack: u32, len: usize) -> Vec<u8> {
    let options = if flags.syn() {
        vec![TcpOption::Mss(1460), TcpOption::SackPermitted]
    } else {
        Vec::new()
    };
    packet_with(from_stack, flags, seq, ack, len, options)
}

fn packet_with(
    from_stack: bool,
    flags: TcpFlags,
    seq: u32,
    ack: u32,
    len: usize,
    options: Vec<TcpOption<'static>>,
) -> Vec<u8> {
    let (src, dst, sport, dport) = if from_stack {
        (STACK, PEER, 8080, 40000)
    } else {
        (PEER, STACK, 40000, 8080)
    };
    SegmentRepr {
        ip: IpRepr::V4(Ipv4Repr::new(src, dst)),
        tcp: TcpRepr {
            src_port: sport,
            dst_port: dport,
            seq: SeqNumber(seq),
            ack: SeqNumber(ack),
            flags,
            window: 512,
            options,
            payload: vec![0; len],
            ..TcpRepr::default()
        },
    }
    .emit()
    .expect("a well-formed segment")
}

fn out(trace: &mut Trace, at: Duration, flags: TcpFlags, seq: u32, ack: u32, len: usize) {
    let packet = packet(true, flags, seq, ack, len);
    trace.push(at, EventKind::Captured { packet, note: None });
}

fn inj(trace: &mut Trace, at: Duration, flags: TcpFlags, seq: u32, ack: u32, len: usize) {
    let packet = packet(false, flags, seq, ack, len);
    trace.push(at, EventKind::Injected { packet, note: None });
}

fn flags(bits: &[TcpFlags]) -> TcpFlags {
    TcpFlags(bits.iter().fold(0, |a, f| a | f.bits()))
}

/// syn-sent-unacceptable-ack.pkt: a SYN-ACK with a bad ACK makes Linux resend the SYN
/// TCP_TIMEOUT_MIN later. That copy is checked against TCP_TIMEOUT_MIN from the peer's
/// segment, not against the 1 s backoff; the next copy against the backoff again.
#[test]
fn syn_rearmed_by_a_bad_ack_is_not_a_backoff() {
    let syn = TcpFlags::SYN;
    let synack = flags(&[TcpFlags::SYN, TcpFlags::ACK]);
    let series = |resend: u64| {
        let mut t = Trace::default();
        out(&mut t, ms(0), syn, 7000, 0, 0);
        inj(&mut t, ms(10), synack, 100, 8001, 0);
        out(&mut t, ms(10), TcpFlags::RST, 8001, 0, 0);
        out(&mut t, ms(10 + resend), syn, 7000, 0, 0);
        out(&mut t, ms(10 + resend + 1004), syn, 7000, 0, 0);
        extract_with(&t, Ok(Profile::linux_defaults())).remove(0)
    };
    let s = series(11);
    assert_eq!(s.rearmed, Some((1, ms(10))));
    assert_eq!(s.compare(), Comparison::Within, "{}", s.render());
    assert!(s.render().contains("0.018"), "{}", s.render());
    // A resend at 10 + 40 ms is no TCP_TIMEOUT_MIN rearm: a backoff interval, too early.
    let s = series(40);
    assert_eq!(s.rearmed, None);
    assert!(
        matches!(s.compare(), Comparison::Differs(_)),
        "{}",
        s.render()
    );
}

/// An active open whose SYN goes unanswered, as syn-schedule-full-exponential.pkt
/// produces it: each interval a little late, the way the timer wheel makes it.
#[test]
fn syn_series_with_give_up_is_within_the_model() {
    let mut t = Trace::default();
    t.push(
        Duration::ZERO,
        EventKind::Sysctl {
            name: "net.ipv4.tcp_syn_retries".into(),
            value: "3".into(),
        },
    );
    t.push(
        Duration::ZERO,
        EventKind::Sysctl {
            name: "net.ipv4.tcp_syn_linear_timeouts".into(),
            value: "0".into(),
        },
    );
    let syn = TcpFlags::SYN;
    let mut at = ms(1);
    out(&mut t, at, syn, 7000, 0, 0);
    for gap in [1008, 2016, 4256] {
        at += ms(gap);
        out(&mut t, at, syn, 7000, 0, 0);
    }
    t.push(
        at + ms(8192),
        EventKind::Call(CallRecord {
            call: SocketCall::TakeError { fd: 3 },
            result: Ok(Returned::Error(Some(Errno::ETIMEDOUT))),
        }),
    );
    let series = extract_with(&t, Ok(Profile::linux_defaults()));
    assert_eq!(series.len(), 1);
    let s = &series[0];
    assert_eq!(s.kind, SegmentKind::Syn);
    assert_eq!(s.segment, "SYN");
    assert_eq!(s.intervals(), vec![ms(1008), ms(2016), ms(4256)]);
    assert_eq!(s.give_up_after(), Some(ms(8192)));
    let e = s.expected.as_ref().expect("a model schedule");
    assert_eq!(
        e.intervals,
        vec![
            Duration::from_secs(1),
            Duration::from_secs(2),
            Duration::from_secs(4)
        ]
    );
    assert_eq!(e.give_up, Duration::from_secs(8));
    assert_eq!(s.compare(), Comparison::Within);
    let text = s.render();
    assert!(
        text.contains("kernel 1.01 2.02 4.26  ETIMEDOUT +8.19"),
        "{text}"
    );
    assert!(
        text.contains("model  1.00 2.00 4.00  ETIMEDOUT +8.00"),
        "{text}"
    );
}

/// A passive open with a microsecond handshake RTT, then data retransmitted at the
/// 200 ms floor (data-rto-floor.pkt): the model's first RTO comes from the sample.
#[test]
fn data_series_uses_the_handshake_sample() {
    let mut t = Trace::default();
    t.push(
        Duration::ZERO,
        EventKind::Sysctl {
            name: "net.ipv4.tcp_early_retrans".into(),
            value: "0".into(),
        },
    );
    let ack = TcpFlags::ACK;
    let psh_ack = flags(&[TcpFlags::PSH, TcpFlags::ACK]);
    inj(&mut t, ms(0), TcpFlags::SYN, 0, 0, 0);
    out(
        &mut t,
        ms(0),
        flags(&[TcpFlags::SYN, TcpFlags::ACK]),
        5000,
        1,
        0,
    );
    inj(&mut t, ms(0) + Duration::from_micros(20), ack, 1, 5001, 0);
    let mut at = ms(1);
    out(&mut t, at, psh_ack, 5001, 1, 100);
    for gap in [208, 420, 832] {
        at += ms(gap);
        out(&mut t, at, psh_ack, 5001, 1, 100);
    }
    // A duplicate of a pure ACK is no series.
    out(&mut t, at, ack, 5101, 1, 0);
    out(&mut t, at + ms(1), ack, 5101, 1, 0);
    inj(&mut t, at + ms(10), ack, 1, 5101, 0);
    let series = extract_with(&t, Ok(Profile::linux_defaults()));
    assert_eq!(series.len(), 1, "{series:?}");
    let s = &series[0];
    assert_eq!(s.kind, SegmentKind::Data);
    assert_eq!(s.segment, "data 1:101");
    assert_eq!(s.give_up, None);
    let e = s.expected.as_ref().expect("a model schedule");
    // SRTT 20 µs + rttvar max(40 µs, 200 ms), rounded up to 51 jiffies.
    assert_eq!(e.intervals[..3], [ms(204), ms(408), ms(816)]);
    assert!(e.basis.starts_with("RTO 204 ms"), "{}", e.basis);
    assert_eq!(s.compare(), Comparison::Within);
}

/// A SYN-ACK that leaves out the SACK-permitted the SYN offered is a Linux cookie: the
/// connection made from it has no RTT sample, however long the ACK took, so its data
/// waits the 3 s of RFC 6298 5.7 (syncookies-on-overflow.pkt).
#[test]
fn a_connection_from_a_cookie_has_no_rtt_sample() {
    let mut t = Trace::default();
    let psh_ack = flags(&[TcpFlags::PSH, TcpFlags::ACK]);
    inj(&mut t, ms(0), TcpFlags::SYN, 0, 0, 0);
    let cookie = packet_with(
        true,
        flags(&[TcpFlags::SYN, TcpFlags::ACK]),
        777,
        1,
        0,
        vec![TcpOption::Mss(1200)],
    );
    t.push(
        ms(0),
        EventKind::Captured {
            packet: cookie,
            note: None,
        },
    );
    inj(&mut t, ms(1500), TcpFlags::ACK, 1, 778, 0);
    out(&mut t, ms(1501), psh_ack, 778, 1, 100);
    out(&mut t, ms(4550), psh_ack, 778, 1, 100);
    let s = &extract_with(&t, Ok(Profile::linux_defaults()))[0];
    let e = s.expected.as_ref().expect("a model schedule");
    assert_eq!(e.intervals[0], Duration::from_secs(3), "{}", e.basis);
    assert_eq!(s.compare(), Comparison::Within);
}

/// A backoff that did not double is caught.
#[test]
fn an_undoubled_interval_differs() {
    let mut t = Trace::default();
    let syn = TcpFlags::SYN;
    t.push(
        Duration::ZERO,
        EventKind::Sysctl {
            name: "net.ipv4.tcp_syn_linear_timeouts".into(),
            value: "0".into(),
        },
    );
    out(&mut t, ms(0), syn, 1, 0, 0);
    out(&mut t, ms(1010), syn, 1, 0, 0);
    out(&mut t, ms(2030), syn, 1, 0, 0);
    let s = &extract_with(&t, Ok(Profile::linux_defaults()))[0];
    match s.compare() {
        Comparison::Differs(why) => assert!(why.starts_with("copy 3: 1.02"), "{why}"),
        other => panic!("{other:?}"),
    }
}

/// A SYN-ACK repeated in answer to a repeated SYN is no timer: no model.
#[test]
fn answers_are_not_compared() {
    let mut t = Trace::default();
    let synack = flags(&[TcpFlags::SYN, TcpFlags::ACK]);
    inj(&mut t, ms(0), TcpFlags::SYN, 0, 0, 0);
    out(&mut t, ms(0), synack, 9, 1, 0);
    inj(&mut t, ms(300), TcpFlags::SYN, 0, 0, 0);
    out(&mut t, ms(300), synack, 9, 1, 0);
    let s = &extract_with(&t, Ok(Profile::linux_defaults()))[0];
    assert!(matches!(s.compare(), Comparison::NotCompared(_)));
    assert!(s.render().contains("no model"), "{}", s.render());
}

/// A run on a stack judged by the rfc9293 profile says so in its trace, and its schedules
/// are compared with that profile's numbers, not with a Linux namespace's sysctls (which a
/// process testing only another stack never reads).
#[test]
fn a_trace_judged_on_rfc9293_is_compared_with_rfc9293() {
    let mut t = Trace::default();
    let syn = TcpFlags::SYN;
    let mut at = ms(0);
    out(&mut t, at, syn, 7000, 0, 0);
    for gap in [1000, 2000] {
        at += ms(gap);
        out(&mut t, at, syn, 7000, 0, 0);
    }
    let with_note = {
        let mut t = t.clone();
        t.push(
            Duration::ZERO,
            // What the runner notes for a stack its fresh profile says is rfc9293's.
            super::judged_event(ProfileKind::Rfc9293).expect("the rfc9293 profile is noted"),
        );
        t
    };
    let s = &super::extract(&with_note)[0];
    let e = s.expected.as_ref().expect("the rfc9293 profile's schedule");
    assert_eq!(
        e.intervals[..2],
        [Duration::from_secs(1), Duration::from_secs(2)]
    );
    assert_eq!(
        extract_with(&with_note, Ok(Profile::rfc9293()))[0].expected,
        s.expected
    );
}
