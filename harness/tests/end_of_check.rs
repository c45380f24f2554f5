//! Nothing of a check outlives it: after `LinuxStack::end_check` the namespace holds no TCP
//! socket at all, whatever the script left behind (an orphan it closed itself, a request
//! socket, TIME_WAIT, sockets still open). An orphan would keep the namespace alive for one
//! to two minutes after the verdict. Run as root (or see the README's rootless notes).

use std::net::{IpAddr, SocketAddr};

use tcpcheck::peer::Peer;
use tcpcheck::sandbox::{STACK_V4, STACK_V6};
use tcpcheck::stack::linux::LinuxStack;
use tcpcheck::stack::{Stack, TcpState, Wait};
use tcpcheck_model::wire::SegmentRepr;

const STACK_PORT: u16 = 8080;

fn stack_addr(v6: bool) -> SocketAddr {
    let ip: IpAddr = if v6 { STACK_V6.into() } else { STACK_V4.into() };
    SocketAddr::new(ip, STACK_PORT)
}

/// Completes a handshake from `port` and learns the SYN-ACK; the connection is left in the
/// listener's accept queue.
fn handshake(k: &mut LinuxStack, v6: bool, port: u16) -> Peer {
    let mut peer = Peer::new(v6, port, STACK_PORT, 1_000_000);
    k.inject(&peer.syn()).unwrap();
    let seg = from(k, &peer);
    peer.learn(&seg);
    k.inject(&peer.ack()).unwrap();
    k.settle().unwrap();
    peer
}

/// The segment the stack sent `peer` in reaction to the last step.
fn from(k: &mut LinuxStack, peer: &Peer) -> SegmentRepr {
    k.settle()
        .unwrap()
        .iter()
        .filter_map(|p| SegmentRepr::parse(&p.bytes).ok())
        .find(|s| peer.is_ours(s))
        .expect("a segment for the peer")
}

fn states(k: &mut LinuxStack) -> Vec<(TcpState, SocketAddr, SocketAddr)> {
    k.connections()
        .unwrap()
        .into_iter()
        .map(|s| (s.state, s.src, s.dst))
        .collect()
}

fn leaves_nothing(v6: bool) {
    let mut k = LinuxStack::new().unwrap();
    let l = k.socket(v6).unwrap();
    k.bind(l, stack_addr(v6)).unwrap();
    k.listen(l, 8).unwrap();
    // An orphan in FIN_WAIT_1: accepted, then closed by the script, its FIN unanswered.
    let _orphan = handshake(&mut k, v6, 40_000);
    let (fd, _) = k.accept(l, Wait::No).unwrap();
    k.close(fd).unwrap();
    // TIME_WAIT: accepted, closed, and the peer's ACK and FIN answered.
    let mut tw = handshake(&mut k, v6, 40_001);
    let (fd, _) = k.accept(l, Wait::No).unwrap();
    k.close(fd).unwrap();
    let fin = from(&mut k, &tw);
    tw.learn(&fin);
    k.inject(&tw.ack()).unwrap();
    k.inject(&tw.fin()).unwrap();
    k.settle().unwrap();
    // Established and still open, and one waiting in the accept queue.
    let _open = handshake(&mut k, v6, 40_002);
    let _ = k.accept(l, Wait::No).unwrap();
    let _queued = handshake(&mut k, v6, 40_003);
    // A request socket: a SYN answered, never acknowledged.
    let mut half = Peer::new(v6, 40_004, STACK_PORT, 7);
    k.inject(&half.syn()).unwrap();
    k.settle().unwrap();

    let before = states(&mut k);
    for want in [
        TcpState::FinWait1,
        TcpState::TimeWait,
        TcpState::Established,
        TcpState::SynRecv,
        TcpState::Listen,
    ] {
        assert!(
            before.iter().any(|(s, _, _)| *s == want),
            "no {want:?} to clean up: {before:?}"
        );
    }
    let destroyed = k.end_check().unwrap();
    // The orphan, TIME_WAIT and the request socket had no descriptor left.
    assert_eq!(destroyed, 3, "before: {before:?}");
    let after = states(&mut k);
    assert!(after.is_empty(), "left behind: {after:?}");
}

#[test]
fn leaves_nothing_v4() {
    leaves_nothing(false)
}

#[test]
fn leaves_nothing_v6() {
    leaves_nothing(true)
}
