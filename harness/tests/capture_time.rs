//! A packet the stack sends is timed when the kernel sent it, not when the harness got
//! round to reading it: a harness descheduled on a loaded machine must not make the stack
//! look late. Run as root (or see the README's rootless notes).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tcpcheck::peer::Peer;
use tcpcheck::sandbox::{STACK_V4, STACK_V6};
use tcpcheck::stack::linux::LinuxStack;
use tcpcheck::stack::Stack;
use tcpcheck_model::wire::SegmentRepr;

/// How long the harness "is descheduled" between injecting a SYN and reading the answer.
const BUSY: Duration = Duration::from_millis(30);

fn stamped_when_sent(v6: bool) {
    let mut k = LinuxStack::new().unwrap();
    let ip: IpAddr = if v6 { STACK_V6.into() } else { STACK_V4.into() };
    let l = k.socket(v6).unwrap();
    k.bind(l, SocketAddr::new(ip, 8080)).unwrap();
    k.listen(l, 1).unwrap();
    for round in 0..5u16 {
        let mut peer = Peer::new(v6, 40_000 + round, 8080, 1_000);
        let before = k.now();
        k.inject(&peer.syn()).unwrap();
        // The kernel answers a SYN inside the write that hands it over.
        let after = k.now();
        std::thread::sleep(BUSY);
        let packets = k.settle().unwrap();
        let synack = packets
            .iter()
            .find(|p| SegmentRepr::parse(&p.bytes).is_ok_and(|s| peer.is_ours(&s)))
            .expect("a SYN-ACK");
        assert!(
            before <= synack.at && synack.at <= after,
            "round {round}: SYN-ACK timed at {:?}, sent between {before:?} and {after:?}",
            synack.at
        );
        assert!(
            synack.read_at >= after + BUSY,
            "read at {:?}",
            synack.read_at
        );
        let seg = SegmentRepr::parse(&synack.bytes).unwrap();
        peer.learn(&seg);
    }
}

#[test]
fn stamped_when_sent_v4() {
    stamped_when_sent(false)
}

#[test]
fn stamped_when_sent_v6() {
    stamped_when_sent(true)
}
