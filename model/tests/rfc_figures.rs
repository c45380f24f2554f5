//! The examples of RFC 9293 §3.5 and §3.6 (Figures 6 to 13), with the RFC's own numbers.
//! Each figure is played from the side of one peer at a time: that peer is the model, the
//! other peer's segments arrive, and every segment the modelled peer sends in the figure is
//! checked against what the model allows. Each test also shows that a wrong reply fails.

use std::time::Duration;

use tcpcheck_model::conn::{Connection, Report, Seg, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::TcpFlags;

const SYN: TcpFlags = TcpFlags::SYN;
const ACK: TcpFlags = TcpFlags::ACK;
const RST: TcpFlags = TcpFlags::RST;
const FIN: TcpFlags = TcpFlags::FIN;

fn at(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn seg(flags: TcpFlags, seq: u32, ack: u32) -> Seg {
    Seg::new(flags, seq, ack, 0)
}

fn data(seq: u32, ack: u32, len: u32) -> Seg {
    Seg::new(ACK, seq, ack, len)
}

fn model() -> Connection {
    Connection::new(Profile::rfc9293())
}

/// The model must allow `s` now, and must then owe nothing.
#[track_caller]
fn sends(c: &mut Connection, now: Duration, s: Seg) {
    if let Err(d) = c.emitted(now, &s) {
        panic!("the model refused what the RFC shows: {d}");
    }
    if let Err(d) = c.check_overdue(now) {
        panic!("still owed after the RFC's segment: {d}");
    }
}

/// The model must refuse `s`, on a clone so the test can go on.
#[track_caller]
fn refuses(c: &Connection, now: Duration, s: Seg) {
    let mut probe = c.clone();
    assert!(
        probe.emitted(now, &s).is_err() || probe.check_overdue(now).is_err(),
        "the model allowed a wrong segment: {s:?}"
    );
}

/// The model owes nothing.
#[track_caller]
fn quiet(c: &mut Connection, now: Duration) {
    assert_eq!(
        c.obligations()
            .iter()
            .filter(|e| e.due.latest <= now)
            .count(),
        0,
        "{:?}",
        c.obligations()
    );
}

/// A passive peer brought to ESTABLISHED with SND.NXT = `snd` and RCV.NXT = `rcv`.
fn established_passive(snd: u32, rcv: u32) -> Connection {
    let mut b = model();
    b.open_passive(at(0)).unwrap();
    b.arrive(at(0), &seg(SYN, rcv - 1, 0));
    sends(&mut b, at(0), seg(SYN | ACK, snd - 1, rcv));
    b.arrive(at(0), &seg(ACK, rcv, snd));
    assert_eq!(b.state(), State::Established);
    b
}

/// Figure 6: basic three-way handshake, as Peer A (active).
#[test]
fn figure_6_three_way_handshake_active() {
    let mut a = model();
    a.open_active(at(0)).unwrap();
    assert_eq!(a.state(), State::SynSent);
    refuses(&a, at(0), seg(SYN | ACK, 100, 0));
    sends(&mut a, at(0), seg(SYN, 100, 0)); // line 2
    a.arrive(at(1), &seg(SYN | ACK, 300, 101)); // line 3
    assert_eq!(a.state(), State::Established);
    refuses(&a, at(1), seg(ACK, 101, 300)); // ack off by one
    refuses(&a, at(1), seg(RST, 101, 0)); // RST instead of ACK
    sends(&mut a, at(1), seg(ACK, 101, 301)); // line 4
    a.send(at(2), 10).unwrap();
    sends(&mut a, at(2), data(101, 301, 10)); // line 5
}

/// Figure 6 as Peer B (passive).
#[test]
fn figure_6_three_way_handshake_passive() {
    let mut b = model();
    b.open_passive(at(0)).unwrap();
    b.arrive(at(0), &seg(SYN, 100, 0)); // line 2
    assert_eq!(b.state(), State::SynReceived);
    refuses(&b, at(0), seg(SYN | ACK, 300, 100));
    sends(&mut b, at(0), seg(SYN | ACK, 300, 101)); // line 3
    b.arrive(at(1), &seg(ACK, 101, 301)); // line 4
    assert_eq!(b.state(), State::Established);
    quiet(&mut b, at(1));
    b.arrive(at(2), &data(101, 301, 10)); // line 5
    refuses(&b, at(2), seg(ACK, 301, 110));
    sends(&mut b, at(2), seg(ACK, 301, 111));
    assert_eq!(b.readable(), 10);
}

/// Figure 7: simultaneous open, as Peer A (the figure is symmetric). Exercises MUST-10.
#[test]
fn figure_7_simultaneous_open() {
    let mut a = model();
    a.open_active(at(0)).unwrap();
    sends(&mut a, at(0), seg(SYN, 100, 0)); // line 2
    a.arrive(at(1), &seg(SYN, 300, 0)); // line 3
    assert_eq!(a.state(), State::SynReceived);
    refuses(&a, at(1), seg(SYN | ACK, 101, 301));
    sends(&mut a, at(1), seg(SYN | ACK, 100, 301)); // line 5
    a.arrive(at(2), &seg(SYN | ACK, 300, 101)); // line 6
    assert_eq!(a.state(), State::Established);
}

/// Figure 8: recovery from an old duplicate SYN, as both peers. Exercises MUST-11: the
/// passive peer returns to LISTEN, the active one does not.
#[test]
fn figure_8_old_duplicate_syn() {
    // Peer A: its SYN is answered with an ACK for an older one.
    let mut a = model();
    a.open_active(at(0)).unwrap();
    sends(&mut a, at(0), seg(SYN, 100, 0)); // line 2
    a.arrive(at(1), &seg(SYN | ACK, 300, 91)); // line 4
    assert_eq!(a.state(), State::SynSent);
    refuses(&a, at(1), seg(RST, 100, 0));
    sends(&mut a, at(1), seg(RST, 91, 0)); // line 5
    a.arrive(at(2), &seg(SYN | ACK, 400, 101)); // line 7
    assert_eq!(a.state(), State::Established);
    sends(&mut a, at(2), seg(ACK, 101, 401)); // line 8

    // Peer B: the old SYN, the RST, then the real SYN.
    let mut b = model();
    b.open_passive(at(0)).unwrap();
    b.arrive(at(0), &seg(SYN, 90, 0)); // line 3
    sends(&mut b, at(0), seg(SYN | ACK, 300, 91)); // line 4
    b.arrive(at(1), &seg(RST, 91, 0)); // line 5
    assert_eq!(b.state(), State::Listen);
    b.arrive(at(2), &seg(SYN, 100, 0)); // line 6
    sends(&mut b, at(2), seg(SYN | ACK, 400, 101)); // line 7
    b.arrive(at(3), &seg(ACK, 101, 401)); // line 8
    assert_eq!(b.state(), State::Established);
}

/// Figure 9: half-open connection discovery, as both peers. Exercises MUST-12 (the reset is
/// reported as such) and MUST-18 (the SYN retransmitted on the RFC 6298 timer).
#[test]
fn figure_9_half_open_discovery() {
    // Peer B thinks the connection is open (send 300, receive 100).
    let mut b = established_passive(300, 100);
    b.arrive(at(1), &seg(SYN, 400, 0)); // line 3
                                        // RFC 5961 4.2 makes this a challenge ACK; its numbers are the figure's line 4.
    refuses(&b, at(1), seg(RST, 300, 0));
    sends(&mut b, at(1), seg(ACK, 300, 100)); // line 4
    b.arrive(at(2), &seg(RST, 100, 0)); // line 5
    assert_eq!(b.state(), State::Closed);
    assert!(b.reports().contains(&Report::ConnectionReset));

    // Peer A, rebooted, opens again.
    let mut a = model();
    a.open_active(at(0)).unwrap();
    sends(&mut a, at(0), seg(SYN, 400, 0)); // line 3
    a.arrive(at(1), &seg(ACK, 300, 100)); // line 4
    refuses(&a, at(1), seg(RST, 300, 0));
    sends(&mut a, at(1), seg(RST, 100, 0)); // line 5
    assert_eq!(a.state(), State::SynSent); // line 6
                                           // Line 7: the SYN is retransmitted when its timer (RFC 6298 2.1: 1 s) runs out, not before.
    refuses(&a, at(500), seg(SYN, 400, 0));
    sends(&mut a, at(1000), seg(SYN, 400, 0));
}

/// Figure 10: the active side causes half-open discovery.
#[test]
fn figure_10_active_side_discovery() {
    // Peer A has no connection: CLOSED answers data with a RST.
    let mut a = model();
    a.arrive(at(0), &data(300, 100, 10)); // line 2
    refuses(&a, at(0), seg(RST | ACK, 0, 310));
    sends(&mut a, at(0), seg(RST, 100, 0)); // line 3

    // Peer B sends data, gets the RST, aborts.
    let mut b = established_passive(300, 100);
    b.send(at(1), 10).unwrap();
    sends(&mut b, at(1), data(300, 100, 10)); // line 2
    b.arrive(at(2), &seg(RST, 100, 0)); // line 3
    assert_eq!(b.state(), State::Closed);
}

/// Figure 11: an old duplicate SYN initiates a reset on two passive sockets.
#[test]
fn figure_11_two_passive_sockets() {
    const Z: u32 = 5000;
    const X: u32 = 9000;
    let mut b = model();
    b.open_passive(at(0)).unwrap();
    b.arrive(at(0), &seg(SYN, Z, 0)); // line 2
    sends(&mut b, at(0), seg(SYN | ACK, X, Z + 1)); // line 3
    b.arrive(at(1), &seg(RST, Z + 1, 0)); // line 4
    assert_eq!(b.state(), State::Listen);

    let mut a = model();
    a.open_passive(at(0)).unwrap();
    a.arrive(at(1), &seg(SYN | ACK, X, Z + 1)); // line 3
    refuses(&a, at(1), seg(SYN | ACK, 1, X + 1));
    sends(&mut a, at(1), seg(RST, Z + 1, 0)); // line 4
    assert_eq!(a.state(), State::Listen);
}

/// Figure 12: normal close, as both peers. Exercises MUST-13 (TIME-WAIT lasts 2 MSL).
#[test]
fn figure_12_normal_close() {
    // Peer A: send 100, receive 300.
    let mut a = established_passive(100, 300);
    a.close(at(1)).unwrap();
    assert_eq!(a.state(), State::FinWait1);
    refuses(&a, at(1), seg(FIN, 100, 0));
    sends(&mut a, at(1), seg(FIN | ACK, 100, 300)); // line 2
    a.arrive(at(2), &seg(ACK, 300, 101)); // line 3
    assert_eq!(a.state(), State::FinWait2);
    a.arrive(at(3), &seg(FIN | ACK, 300, 101)); // line 4
    assert_eq!(a.state(), State::TimeWait);
    sends(&mut a, at(3), seg(ACK, 101, 301)); // line 5
                                              // Line 6: 2 MSL later, CLOSED (RFC 9293 3.6.1: MUST-13).
    a.poll(at(3) + Duration::from_secs(239));
    assert_eq!(a.state(), State::TimeWait);
    a.poll(at(3) + Duration::from_secs(240));
    assert_eq!(a.state(), State::Closed);

    // Peer B: send 300, receive 100.
    let mut b = established_passive(300, 100);
    b.arrive(at(1), &seg(FIN | ACK, 100, 300)); // line 2
    assert_eq!(b.state(), State::CloseWait);
    sends(&mut b, at(1), seg(ACK, 300, 101)); // line 3
    b.close(at(2)).unwrap();
    assert_eq!(b.state(), State::LastAck);
    sends(&mut b, at(2), seg(FIN | ACK, 300, 101)); // line 4
    b.arrive(at(3), &seg(ACK, 101, 301)); // line 5
    assert_eq!(b.state(), State::Closed);
}

/// Figure 13: simultaneous close (symmetric; played as Peer A).
#[test]
fn figure_13_simultaneous_close() {
    let mut a = established_passive(100, 300);
    a.close(at(1)).unwrap();
    sends(&mut a, at(1), seg(FIN | ACK, 100, 300)); // line 2
    a.arrive(at(2), &seg(FIN | ACK, 300, 100)); // line 2, B's FIN
    assert_eq!(a.state(), State::Closing);
    refuses(&a, at(2), seg(ACK, 101, 300));
    sends(&mut a, at(2), seg(ACK, 101, 301)); // line 3
    a.arrive(at(3), &seg(ACK, 301, 101)); // line 3, B's ACK
    assert_eq!(a.state(), State::TimeWait); // line 4
}
