//! The differ fed by hand: socket calls and synthetic segments, no kernel. Each case shows
//! the verdict a right run gets and the one a wrong run gets.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tcpcheck_model::conn::rules as model_rules;
use tcpcheck_model::profile::Profile;
use tcpcheck_model::rule::Source;
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::{IpRepr, Ipv4Repr, SegmentRepr, TcpFlags, TcpOption, TcpRepr};

use super::{at_once_grace, Call, Differ, Key, ModelDivergence, ModelVerdict};

const STACK: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
pub(super) const PORT: u16 = 8080;
const PEER_PORT: u16 = 40000;
/// The peer's ISN sits just below 2^32, so RCV.NXT wraps during the handshake's arithmetic.
pub(super) const PEER_ISN: u32 = 4_294_967_290;
pub(super) const STACK_ISN: u32 = 1_000_000;
pub(super) const LISTEN_FD: i32 = 3;
pub(super) const CONN_FD: i32 = 4;

pub(super) const SYN: TcpFlags = TcpFlags::SYN;
pub(super) const ACK: TcpFlags = TcpFlags::ACK;
pub(super) const RST: TcpFlags = TcpFlags::RST;

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) fn peer() -> SocketAddr {
    SocketAddr::from((PEER, PEER_PORT))
}

pub(super) fn key() -> Key {
    Key {
        local_port: PORT,
        peer: peer(),
    }
}

fn segment(
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    flags: TcpFlags,
    seq: u32,
    ack: u32,
) -> SegmentRepr {
    let options = if flags.syn() {
        vec![TcpOption::Mss(1460)]
    } else {
        Vec::new()
    };
    SegmentRepr {
        ip: IpRepr::V4(Ipv4Repr::new(src.0, dst.0)),
        tcp: TcpRepr {
            src_port: src.1,
            dst_port: dst.1,
            seq: SeqNumber(seq),
            ack: SeqNumber(ack),
            flags,
            window: 64240,
            options,
            ..TcpRepr::default()
        },
    }
}

/// From the peer to the stack's `port`.
fn inbound_to(port: u16, flags: TcpFlags, seq: u32, ack: u32) -> SegmentRepr {
    segment((PEER, PEER_PORT), (STACK, port), flags, seq, ack)
}

/// From the stack's `port` to the peer.
fn outbound_from(port: u16, flags: TcpFlags, seq: u32, ack: u32) -> SegmentRepr {
    segment((STACK, port), (PEER, PEER_PORT), flags, seq, ack)
}

pub(super) fn inbound(flags: TcpFlags, seq: u32, ack: u32) -> SegmentRepr {
    inbound_to(PORT, flags, seq, ack)
}

pub(super) fn outbound(flags: TcpFlags, seq: u32, ack: u32) -> SegmentRepr {
    outbound_from(PORT, flags, seq, ack)
}

/// Lines 1 to 3: socket(), bind(), listen() on `PORT`.
pub(super) fn listening(profile: Profile) -> Differ {
    let mut d = Differ::new(profile);
    d.call(ms(0), 1, LISTEN_FD, Call::Socket);
    d.call(ms(0), 2, LISTEN_FD, Call::Bind { port: PORT });
    d.call(ms(0), 3, LISTEN_FD, Call::Listen { backlog: 1 });
    d
}

/// Lines 4 to 6: the peer's SYN at 10 ms, the stack's SYN-ACK, the peer's ACK at 20 ms.
pub(super) fn handshake(d: &mut Differ) {
    d.injected(ms(10), 4, &inbound(SYN, PEER_ISN, 0));
    d.captured(
        ms(10),
        5,
        &outbound(SYN | ACK, STACK_ISN, PEER_ISN.wrapping_add(1)),
    );
    d.injected(
        ms(20),
        6,
        &inbound(ACK, PEER_ISN.wrapping_add(1), STACK_ISN + 1),
    );
}

#[track_caller]
pub(super) fn divergence(d: &Differ) -> ModelDivergence {
    match d.verdict() {
        ModelVerdict::Diverge(div) => div,
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[track_caller]
pub(super) fn agrees(d: &Differ) {
    assert_eq!(d.verdict(), ModelVerdict::Agree);
}

#[test]
fn passive_open_through_a_listener_agrees() {
    for profile in [Profile::linux_defaults(), Profile::rfc9293()] {
        let mut d = listening(profile);
        handshake(&mut d);
        d.call(
            ms(30),
            7,
            LISTEN_FD,
            Call::Accept {
                accepted: Some((CONN_FD, peer())),
            },
        );
        // The accepted descriptor names the connection: a read finds nothing there.
        d.call(
            ms(40),
            8,
            CONN_FD,
            Call::Read {
                asked: 100,
                len: None,
            },
        );
        assert_eq!(d.owed_by(), None);
        d.finish(ms(40));
        agrees(&d);
        assert_eq!(d.verdict().name(), "agree");
    }
}

#[test]
fn synack_with_ack_off_by_one_diverges_naming_rule_and_line() {
    let mut d = listening(Profile::linux_defaults());
    d.injected(ms(10), 4, &inbound(SYN, PEER_ISN, 0));
    agrees(&d);
    d.captured(ms(10), 5, &outbound(SYN | ACK, STACK_ISN, PEER_ISN));
    let div = divergence(&d);
    assert_eq!(div.line, 5);
    assert_eq!(div.at, ms(10));
    assert_eq!(div.rule, &model_rules::LISTEN_SYN);
    assert_eq!(div.connection, Some(key()));
    assert!(div.expected.contains("ACK=4294967291"), "{div}");
    assert!(div.actual.contains("ACK=4294967290"), "{div}");
    assert!(div.to_string().starts_with("line 5: "), "{div}");
    assert_eq!(d.verdict().name(), "diverge");

    // The first divergence stays the verdict, whatever follows.
    d.captured(ms(11), 9, &outbound(RST, 1, 0));
    d.call(
        ms(12),
        10,
        LISTEN_FD,
        Call::Unmodelled("TCP_FASTOPEN".into()),
    );
    d.finish(ms(20));
    assert_eq!(divergence(&d), div);
}

#[test]
fn segment_on_no_known_connection_diverges() {
    let mut d = listening(Profile::linux_defaults());
    d.captured(ms(5), 4, &outbound(ACK, STACK_ISN, PEER_ISN));
    let div = divergence(&d);
    assert_eq!(div.line, 4);
    assert_eq!(div.rule, &super::rules::NO_CONNECTION);
    assert_eq!(div.connection, Some(key()));

    // The same segment on a connection the model follows is judged by that connection.
    let mut known = listening(Profile::linux_defaults());
    handshake(&mut known);
    known.captured(
        ms(25),
        7,
        &outbound(ACK, STACK_ISN + 1, PEER_ISN.wrapping_add(1)),
    );
    known.finish(ms(25));
    agrees(&known);
}

#[test]
fn unmodelled_call_turns_the_model_off() {
    let mut d = listening(Profile::linux_defaults());
    d.call(ms(1), 4, LISTEN_FD, Call::Harmless);
    agrees(&d);
    d.call(ms(2), 5, LISTEN_FD, Call::Unmodelled("TCP_FASTOPEN".into()));
    let ModelVerdict::Off(why) = d.verdict() else {
        panic!("expected off, got {:?}", d.verdict());
    };
    assert!(why.contains("TCP_FASTOPEN"), "{why}");
    // Nothing the stack does afterwards is judged.
    d.captured(ms(3), 6, &outbound(ACK, 1, 2));
    d.injected(ms(4), 7, &inbound(SYN, PEER_ISN, 0));
    assert_eq!(d.owed_by(), None);
    d.finish(ms(10));
    assert_eq!(d.verdict(), ModelVerdict::Off(why));
    assert_eq!(d.verdict().name(), "off");
}

#[test]
fn accept_with_an_empty_accept_queue_diverges() {
    let accept = |accepted| Call::Accept { accepted };

    // Nothing queued and accept() finds nothing: agree.
    let mut d = listening(Profile::linux_defaults());
    d.call(ms(5), 4, LISTEN_FD, accept(None));
    agrees(&d);

    // The handshake is not complete (no final ACK), yet accept() returns a connection.
    let mut d = listening(Profile::linux_defaults());
    d.injected(ms(10), 4, &inbound(SYN, PEER_ISN, 0));
    d.captured(
        ms(10),
        5,
        &outbound(SYN | ACK, STACK_ISN, PEER_ISN.wrapping_add(1)),
    );
    d.call(ms(15), 6, LISTEN_FD, accept(Some((CONN_FD, peer()))));
    let div = divergence(&d);
    assert_eq!(div.line, 6);
    assert_eq!(div.rule, &super::rules::ESTABLISHED_BY_FINAL_ACK);
    assert_eq!(div.expected, "accept() finds the queue empty");
    assert!(div.actual.contains("192.0.2.2:40000"), "{div}");

    // The other way round: the child is queued, accept() says there is none.
    let mut d = listening(Profile::linux_defaults());
    handshake(&mut d);
    d.call(ms(30), 7, LISTEN_FD, accept(None));
    let div = divergence(&d);
    assert_eq!(div.line, 7);
    assert_eq!(div.actual, "accept() found the queue empty");
}

#[test]
fn syn_to_a_closed_port_expects_rst_ack_from_zero() {
    const CLOSED: u16 = 9;
    let syn = inbound_to(CLOSED, SYN, PEER_ISN, 0);
    let right = outbound_from(CLOSED, RST | ACK, 0, PEER_ISN.wrapping_add(1));
    for profile in [Profile::linux_defaults(), Profile::rfc9293()] {
        let mut d = Differ::new(profile.clone());
        d.injected(ms(10), 1, &syn);
        assert_eq!(d.owed_by(), Some(ms(10)));
        d.captured(ms(10), 2, &right);
        d.finish(ms(10));
        agrees(&d);

        for wrong in [
            outbound_from(CLOSED, RST | ACK, 0, PEER_ISN),
            outbound_from(CLOSED, RST | ACK, 1, PEER_ISN.wrapping_add(1)),
            outbound_from(CLOSED, RST, 0, 0),
            outbound_from(CLOSED, SYN | ACK, 0, PEER_ISN.wrapping_add(1)),
        ] {
            let mut d = Differ::new(profile.clone());
            d.injected(ms(10), 1, &syn);
            d.captured(ms(10), 2, &wrong);
            let div = divergence(&d);
            assert_eq!(div.line, 2, "{div}");
            assert!(div.rule.is(Source::Rfc(9293), "3.10.7.1"), "{div}");
        }

        // Silence is a divergence too, named after the SYN's line.
        let mut d = Differ::new(profile);
        d.injected(ms(10), 1, &syn);
        d.finish(ms(10));
        let div = divergence(&d);
        assert_eq!(div.line, 1);
        assert_eq!(div.rule, &model_rules::CLOSED_ACK_OFF);
        assert_eq!(div.connection.map(|k| k.local_port), Some(CLOSED));
    }
}

#[test]
fn missing_reply_is_found_after_the_grace_not_before() {
    let grace = at_once_grace();
    assert!(grace > Duration::ZERO);
    let t0 = ms(100);
    let start = || {
        let mut d = listening(Profile::linux_defaults());
        d.injected(t0, 4, &inbound(SYN, PEER_ISN, 0));
        assert_eq!(d.owed_by(), Some(t0));
        d
    };
    let synack = outbound(SYN | ACK, STACK_ISN, PEER_ISN.wrapping_add(1));

    // Within the grace nothing is missing yet.
    let mut d = start();
    d.advance(t0 + grace - Duration::from_micros(1));
    agrees(&d);
    // finish() waits the grace out: the SYN-ACK never came.
    d.finish(t0 + grace - Duration::from_micros(1));
    let div = divergence(&d);
    assert_eq!(div.line, 4);
    assert_eq!(div.rule, &model_rules::LISTEN_SYN);
    assert!(div.actual.starts_with("nothing by"), "{div}");
    assert_eq!(div.connection, Some(key()));

    // finish() right after the SYN also waits the grace out.
    let mut d = start();
    d.finish(t0);
    assert_eq!(divergence(&d).line, 4);

    // A reply late by less than the grace is on time.
    let mut d = start();
    d.captured(t0 + grace - ms(1), 5, &synack);
    d.finish(t0 + grace);
    agrees(&d);

    // Past the grace, the reply is missing before it is seen.
    let mut d = start();
    d.advance(t0 + grace);
    assert_eq!(divergence(&d).line, 4);
}

/// Lines 1 to 7: a connection accepted on `CONN_FD`, ESTABLISHED.
fn accepted() -> Differ {
    let mut d = listening(Profile::linux_defaults());
    handshake(&mut d);
    d.call(
        ms(30),
        7,
        LISTEN_FD,
        Call::Accept {
            accepted: Some((CONN_FD, peer())),
        },
    );
    d
}

#[test]
fn a_blocking_call_never_says_try_again() {
    use super::Blocking;
    use nix::errno::Errno;
    // A blocking write returns all it was given; a blocking read what it found.
    let mut d = accepted();
    d.call(ms(40), 8, CONN_FD, Call::Write { len: 6000 });
    let full = Ok(6000);
    let write = Blocking::Write { len: 6000 };
    d.call(
        ms(40),
        8,
        CONN_FD,
        Call::BlockingReturn {
            call: write,
            result: full,
        },
    );
    agrees(&d);
    // EAGAIN is the non-blocking answer, whatever the call.
    for call in [Blocking::Accept, Blocking::Read, write] {
        let mut d = accepted();
        let result = Err(Errno::EAGAIN);
        d.call(ms(40), 8, CONN_FD, Call::BlockingReturn { call, result });
        let div = divergence(&d);
        assert!(
            div.rule == &super::rules::EAGAIN_ONLY_NONBLOCKING,
            "{div:?}"
        );
        assert_eq!(div.line, 8);
    }
    // A short count while the connection can still send: the write should have blocked.
    let mut d = accepted();
    d.call(ms(40), 8, CONN_FD, Call::Write { len: 2000 });
    let short = Ok(2000);
    d.call(
        ms(40),
        8,
        CONN_FD,
        Call::BlockingReturn {
            call: write,
            result: short,
        },
    );
    let div = divergence(&d);
    assert!(div.rule == &super::rules::BLOCKING_SEND_WAITS, "{div:?}");
    assert_eq!(
        div.actual,
        "write() returned 2000 while the connection can still send"
    );
}

#[test]
fn a_blocking_connect_ends_with_the_handshake() {
    use super::Blocking;
    use nix::errno::Errno;
    // What a blocking connect() may return does not depend on the handshake's segments.
    let connect = |result| {
        let mut d = Differ::new(Profile::linux_defaults());
        d.call(ms(0), 1, CONN_FD, Call::Socket);
        d.call(
            ms(0),
            2,
            CONN_FD,
            Call::BlockingReturn {
                call: Blocking::Connect,
                result,
            },
        );
        d.verdict()
    };
    // A refused or timed-out handshake is a blocking connect's answer ...
    assert_eq!(connect(Err(Errno::ECONNREFUSED)), ModelVerdict::Agree);
    assert_eq!(connect(Err(Errno::ETIMEDOUT)), ModelVerdict::Agree);
    // ... "in progress" is the non-blocking one.
    match connect(Err(Errno::EINPROGRESS)) {
        ModelVerdict::Diverge(div) => {
            assert!(
                div.rule == &super::rules::EINPROGRESS_ONLY_NONBLOCKING,
                "{div:?}"
            )
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
}

/// fin-after-fin-ignored, fed by hand: on rfc9293 the peer's second FIN in CLOSE-WAIT moves
/// RCV.NXT, Linux's ACK afterwards does not, and the divergence is named after the FIN that
/// caused it although it shows on a later segment. On linux the same run agrees.
#[test]
fn a_deviation_gone_through_unseen_names_what_follows() {
    let fin = TcpFlags::FIN | ACK;
    let one = PEER_ISN.wrapping_add(1);
    let two = PEER_ISN.wrapping_add(2);
    let run = |profile: Profile| {
        let mut d = listening(profile);
        handshake(&mut d);
        d.call(
            ms(20),
            7,
            LISTEN_FD,
            Call::Accept {
                accepted: Some((CONN_FD, peer())),
            },
        );
        d.injected(ms(30), 8, &inbound(fin, one, STACK_ISN + 1));
        d.captured(ms(30), 9, &outbound(ACK, STACK_ISN + 1, two));
        d.injected(ms(40), 10, &inbound(fin, two, STACK_ISN + 1));
        // Linux neither counts nor acknowledges it: its next ACK still says `two`.
        d.injected(ms(100), 11, &inbound(ACK, 1_000_000_000, STACK_ISN + 1));
        d.captured(ms(100), 12, &outbound(ACK, STACK_ISN + 1, two));
        d.finish(ms(100));
        d.verdict()
    };
    match run(Profile::rfc9293()) {
        ModelVerdict::Diverge(d) => {
            assert_eq!(d.deviation, Some("fin-after-fin-ignored"), "{d:?}");
            assert!(d.after.is_some(), "{d:?}");
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
    assert_eq!(run(Profile::linux_defaults()), ModelVerdict::Agree);
}

/// The listener's queues follow their connections: a RST the listener dropped does not
/// let the next SYN bypass it (its connection would never reach the accept queue), and a
/// SYN the connection dropped (Linux drops a SYN with FIN in LISTEN) leaves no request
/// behind to make the next SYNs repeats, rate-limited. The explorer's cases found both
/// (the runner said "accept() finds the queue empty" and "expected nothing in LISTEN"
/// where the kernel was right).
#[test]
fn listener_queues_follow_their_connections() {
    for profile in [Profile::linux_defaults(), Profile::rfc9293()] {
        let mut d = listening(profile);
        d.injected(ms(5), 4, &inbound(RST, PEER_ISN.wrapping_add(1), 0));
        handshake(&mut d);
        let accepted = Some((CONN_FD, peer()));
        d.call(ms(30), 7, LISTEN_FD, Call::Accept { accepted });
        d.finish(ms(30));
        agrees(&d);
    }
    let mut d = listening(Profile::linux_defaults());
    d.injected(ms(10), 4, &inbound(SYN | TcpFlags::FIN, PEER_ISN, 0));
    d.injected(ms(11), 5, &inbound(SYN | TcpFlags::FIN, PEER_ISN, 0));
    d.injected(ms(12), 6, &inbound(SYN, PEER_ISN, 0));
    let synack = outbound(SYN | ACK, STACK_ISN, PEER_ISN.wrapping_add(1));
    d.captured(ms(12), 7, &synack);
    d.finish(ms(12));
    agrees(&d);
}
