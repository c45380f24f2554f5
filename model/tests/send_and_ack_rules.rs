//! The model's rules for when data and ACKs must leave, in both profiles: data held by
//! Nagle is released by the ACK of what was in flight, the ACK for two full-sized segments,
//! a window shrunk to zero that never times the connection out, and the keep-alive probe
//! that may carry a garbage octet. Each test feeds a connection the inputs and checks what
//! the model allows the stack to send, and by when.

use std::time::Duration;

use tcpcheck_model::conn::{Connection, LenSpec, Seg, SeqSpec, State};
use tcpcheck_model::profile::{KeepAlive, Profile};
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::TcpFlags;

const SYN: TcpFlags = TcpFlags::SYN;
const ACK: TcpFlags = TcpFlags::ACK;
const PSH: TcpFlags = TcpFlags::PSH;

/// The stack's ISS and the peer's IRS.
const S: u32 = 1000;
const P: u32 = 50_000;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn seg(flags: TcpFlags, seq: u32, ack: u32, len: u32) -> Seg {
    Seg::new(flags, seq, ack, len)
}

/// The peer's segment `seq` (relative), acknowledging `ack` (relative), with `len` bytes and
/// a window of `wnd`.
fn peer(seq: u32, ack: u32, len: u32, wnd: u16) -> Seg {
    let mut s = seg(ACK, P + 1 + seq, S + 1 + ack, len);
    s.wnd = wnd;
    s
}

/// The stack's segment at relative `seq`, acknowledging relative `ack`.
fn stack(flags: TcpFlags, seq: u32, ack: u32, len: u32) -> Seg {
    seg(flags, S.wrapping_add(1).wrapping_add(seq), P + 1 + ack, len)
}

#[track_caller]
fn sends(c: &mut Connection, at: Duration, s: Seg) {
    if let Err(d) = c.emitted(at, &s) {
        panic!("the model refused {s:?}: {d}");
    }
}

/// ESTABLISHED by a passive open; the stack offered MSS 1460, the peer 1000 and a window of
/// 4000.
fn established(p: Profile) -> Connection {
    let mut c = Connection::new(p);
    c.open_passive(ms(0)).unwrap();
    let mut syn = seg(SYN, P, 0, 0);
    syn.options.mss = Some(1000);
    c.arrive(ms(0), &syn);
    let mut synack = seg(SYN | ACK, S, P + 1, 0);
    synack.options.mss = Some(1460);
    synack.wnd = 65535;
    sends(&mut c, ms(0), synack);
    c.arrive(ms(10), &peer(0, 0, 0, 4000));
    assert_eq!(c.state(), State::Established);
    c
}

fn profiles() -> [Profile; 2] {
    [Profile::rfc9293(), Profile::linux_defaults()]
}

/// RFC 9293 3.9.1.2: MUST-60, data a SEND queued while earlier data was in flight is not
/// held indefinitely: the ACK of everything in flight releases it at once. MAY-16 and
/// SHLD-27: the held SENDs may go as one segment, with one PSH bit.
#[test]
fn held_data_leaves_when_everything_in_flight_is_acknowledged() {
    for p in profiles() {
        let mut c = established(p);
        c.send(ms(20), 100).unwrap();
        sends(&mut c, ms(20), stack(ACK | PSH, 0, 0, 100));
        // Three short SENDs while the first is in flight: none is owed yet (Nagle).
        for t in [30, 31, 32] {
            c.send(ms(t), 50).unwrap();
        }
        assert!(c.clone().check_overdue(ms(100)).is_ok());
        // The ACK of the first releases them, owed at once.
        c.arrive(ms(120), &peer(0, 100, 0, 4000));
        assert!(c.clone().check_overdue(ms(200)).is_err());
        // One segment with all three SENDs' data, one PSH bit.
        let mut all = c.clone();
        sends(&mut all, ms(120), stack(ACK | PSH, 100, 0, 150));
        assert!(all.check_overdue(ms(200)).is_ok());
        // Or a part of it first: the rest is not owed at once (it may wait for the ACK).
        let mut part = c.clone();
        sends(&mut part, ms(120), stack(ACK, 100, 0, 50));
        assert!(part.check_overdue(ms(200)).is_ok());
    }
}

/// An ACK that leaves data in flight releases nothing: Nagle may go on holding.
#[test]
fn a_partial_ack_owes_no_data() {
    for p in profiles() {
        let mut c = established(p);
        c.send(ms(20), 1000).unwrap();
        sends(&mut c, ms(20), stack(ACK, 0, 0, 1000));
        c.send(ms(21), 100).unwrap();
        sends(&mut c, ms(21), stack(ACK | PSH, 1000, 0, 50));
        c.arrive(ms(120), &peer(0, 1000, 0, 4000));
        assert!(c.clone().check_overdue(ms(200)).is_ok());
    }
}

/// RFC 9293 3.8.6.3: SHLD-19, an ACK for at least every second full-sized segment. The
/// rfc9293 profile owes it on arrival of 2 * RMSS (the stack's MSS option, 1460) of data;
/// Linux sends it when the application reads (tcp_cleanup_rbuf()), and delays it
/// otherwise, as any ACK (the known deviation second-segment-ack-delayed).
#[test]
fn two_full_sized_segments_are_acknowledged() {
    let at_once = |p: Profile| {
        let mut c = established(p);
        c.arrive(ms(100), &peer(0, 0, 1460, 4000));
        c.arrive(ms(100), &peer(1460, 0, 1460, 4000));
        c
    };
    let rfc = at_once(Profile::rfc9293());
    assert!(rfc.clone().check_overdue(ms(130)).is_err());
    let linux = at_once(Profile::linux_defaults());
    assert!(linux.clone().check_overdue(ms(130)).is_ok());
    // The read at 130 ms makes it due then.
    let mut read = linux.clone();
    assert_eq!(read.receive_where_at(ms(130), 10_000, |_| true), Ok(2920));
    assert!(read.clone().check_overdue(ms(131)).is_err());
    sends(&mut read, ms(130), stack(ACK, 0, 2920, 0));
    assert!(read.check_overdue(ms(1000)).is_ok());
    // One full-sized segment read at once: the ACK may still wait.
    let mut one = established(Profile::linux_defaults());
    one.arrive(ms(100), &peer(0, 0, 1460, 4000));
    assert_eq!(one.receive_where_at(ms(101), 10_000, |_| true), Ok(1460));
    assert!(one.check_overdue(ms(130)).is_ok());
    // Below two full-sized segments the rfc9293 profile lets the ACK wait too.
    let mut small = established(Profile::rfc9293());
    small.arrive(ms(100), &peer(0, 0, 1460, 4000));
    small.arrive(ms(100), &peer(1460, 0, 1000, 4000));
    assert!(small.check_overdue(ms(130)).is_ok());
}

/// RFC 9293 3.8.6: SHLD-17, a window shrunk to zero with data in flight does not time the
/// connection out, however many retransmissions go unanswered (with tcp_retries2 = 2 an
/// open window gives up after the third); MAY-7, each retransmission is SND.UNA's whole
/// segment, beyond the right edge.
#[test]
fn a_window_shrunk_to_zero_never_times_out() {
    for mut p in profiles() {
        p.retries2 = 2;
        let mut c = established(p);
        c.send(ms(20), 2000).unwrap();
        sends(&mut c, ms(20), stack(ACK, 0, 0, 1000));
        sends(&mut c, ms(20), stack(ACK | PSH, 1000, 0, 1000));
        c.arrive(ms(120), &peer(0, 1000, 0, 0));
        let mut at = ms(120);
        for _ in 0..8 {
            let next = c
                .obligations()
                .iter()
                .find(|e| {
                    e.spec.len != LenSpec::Exact(0)
                        && e.spec.seq == SeqSpec::Exact(SeqNumber(S + 1001))
                })
                .map(|e| e.due.earliest)
                .unwrap_or_else(|| panic!("a retransmission is owed: {:?}", c.obligations()));
            assert!(next > at);
            at = next;
            sends(&mut c, at, stack(ACK, 1000, 0, 1000));
            assert_ne!(c.state(), State::Closed);
        }
    }
}

/// RFC 9293 3.8.4: SHLD-12, a keep-alive without data; MAY-6, the rfc9293 profile also
/// takes one garbage octet; Linux never sends it (tcp_xmit_probe_skb()), so its profile
/// refuses it.
#[test]
fn a_keepalive_probe_may_carry_one_garbage_octet_on_rfc9293_only() {
    for (p, octet_ok) in [
        (Profile::rfc9293(), true),
        (Profile::linux_defaults(), false),
    ] {
        let mut c = established(p);
        let t = KeepAlive {
            idle: Duration::from_secs(1),
            interval: Duration::from_secs(1),
            probes: 3,
        };
        c.set_keepalive_times(ms(20), t);
        c.set_keepalive(ms(20), true);
        let due = c
            .obligations()
            .first()
            .map(|e| e.due.earliest)
            .expect("a keep-alive is owed");
        let empty = stack(ACK, u32::MAX, 0, 0);
        let octet = stack(ACK, u32::MAX, 0, 1);
        assert!(c.clone().emitted(due, &empty).is_ok());
        assert_eq!(c.clone().emitted(due, &octet).is_ok(), octet_ok);
    }
}
