//! The socket calls mapped onto smoltcp, against a scripted peer: each mapping the crate's
//! docs promise, seen on the wire.

use std::net::Shutdown;
use std::time::Duration;

use nix::errno::Errno;
use tcpcheck::peer::Peer;
use tcpcheck::stack::{CallError, SockOpt, Stack, Wait};
use tcpcheck_model::wire::SegmentRepr;
use tcpcheck_smoltcp::SmoltcpStack;

fn segs(s: &mut SmoltcpStack) -> Vec<SegmentRepr> {
    s.settle()
        .unwrap()
        .iter()
        .map(|p| SegmentRepr::parse(&p.bytes).unwrap())
        .collect()
}

/// A passive open through the emulated listener: SYN, SYN-ACK, ACK, accept().
fn accepted(v6: bool) -> (SmoltcpStack, Peer, tcpcheck::stack::Fd) {
    let mut s = SmoltcpStack::default();
    let mut peer = Peer::new(v6, 40001, 8080, 1000);
    let l = s.socket(v6).unwrap();
    s.bind(l, std::net::SocketAddr::new(peer.remote.ip(), 8080))
        .unwrap();
    s.listen(l, 1).unwrap();
    assert_eq!(s.accept(l, Wait::No), Err(CallError::Errno(Errno::EAGAIN)));
    let syn = peer.syn();
    s.inject(&syn).unwrap();
    let out = segs(&mut s);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].tcp.flags.syn() && out[0].tcp.flags.ack());
    peer.learn(&out[0]);
    s.inject(&peer.ack()).unwrap();
    assert!(segs(&mut s).is_empty());
    let (fd, addr) = s.accept(l, Wait::No).unwrap();
    assert_eq!(addr, peer.local);
    s.set_nonblocking(fd, true).unwrap();
    (s, peer, fd)
}

#[test]
fn passive_open_data_and_close_both_versions() {
    for v6 in [false, true] {
        let (mut s, mut peer, fd) = accepted(v6);
        assert_eq!(
            s.read(fd, 10, Wait::No),
            Err(CallError::Errno(Errno::EAGAIN))
        );
        s.inject(&peer.data(b"hello")).unwrap();
        assert_eq!(s.read(fd, 10, Wait::No).unwrap(), b"hello");
        assert_eq!(s.write(fd, b"world").unwrap(), 5);
        let out = segs(&mut s);
        assert_eq!(out.last().unwrap().tcp.payload, b"world");
        for o in &out {
            peer.learn(o);
        }
        s.inject(&peer.fin()).unwrap();
        assert_eq!(s.read(fd, 10, Wait::No).unwrap(), b"");
        s.shutdown(fd, Shutdown::Write).unwrap();
        let out = segs(&mut s);
        assert!(out.iter().any(|o| o.tcp.flags.fin()), "{out:?}");
    }
}

#[test]
fn a_rst_to_a_syn_refuses_the_connection() {
    let mut s = SmoltcpStack::default();
    let fd = s.socket(false).unwrap();
    s.set_nonblocking(fd, true).unwrap();
    let mut peer = Peer::new(false, 8080, 0, 5000);
    let r = s.connect(fd, peer.local);
    assert_eq!(r, Err(CallError::Errno(Errno::EINPROGRESS)));
    let syn = &segs(&mut s)[0];
    peer.remote.set_port(syn.tcp.src_port);
    peer.learn(syn);
    let rst = peer
        .segment(
            tcpcheck_model::wire::TcpFlags::RST | tcpcheck_model::wire::TcpFlags::ACK,
            peer.snd_nxt,
            peer.rcv_nxt,
            Vec::new(),
            &[],
        )
        .emit()
        .unwrap();
    s.inject(&rst).unwrap();
    assert_eq!(s.take_error(fd), Ok(Some(Errno::ECONNREFUSED)));
    assert_eq!(s.take_error(fd), Ok(None));
}

#[test]
fn linger_zero_aborts_and_a_blocking_read_waits_in_virtual_time() {
    let (mut s, _peer, fd) = accepted(false);
    s.set_nonblocking(fd, false).unwrap();
    let r = s.read(fd, 10, Wait::Until(Duration::from_secs(30)));
    assert_eq!(r, Err(CallError::Deadline));
    assert_eq!(s.now(), Duration::from_secs(30));
    s.setsockopt(fd, SockOpt::Linger(Some(Duration::ZERO)))
        .unwrap();
    s.close(fd).unwrap();
    let out = segs(&mut s);
    assert!(out.iter().any(|o| o.tcp.flags.rst()), "{out:?}");
}

/// bind() shares a port as applications expect of it (Linux's rule): two sockets with
/// SO_REUSEADDR, neither listening, may share one; a listener's port, or a port either
/// socket did not mark for reuse, is in use.
#[test]
fn bind_shares_a_port_only_under_so_reuseaddr_and_never_with_a_listener() {
    let addr = std::net::SocketAddr::from(([0, 0, 0, 0], 8080));
    let mut s = SmoltcpStack::default();
    let a = s.socket(false).unwrap();
    let b = s.socket(false).unwrap();
    s.bind(a, addr).unwrap();
    assert_eq!(s.bind(b, addr), Err(CallError::Errno(Errno::EADDRINUSE)));
    s.setsockopt(a, SockOpt::ReuseAddr(true)).unwrap();
    s.setsockopt(b, SockOpt::ReuseAddr(true)).unwrap();
    s.bind(b, addr).unwrap();
    s.listen(b, 1).unwrap();
    let c = s.socket(false).unwrap();
    s.setsockopt(c, SockOpt::ReuseAddr(true)).unwrap();
    assert_eq!(s.bind(c, addr), Err(CallError::Errno(Errno::EADDRINUSE)));
}

/// The built-in LISTEN checks (MUST-41, MUST-42) pass on smoltcp: a listener beside an
/// established and a SYN-SENT connection on its port leaves them alone.
#[test]
fn the_listen_checks_pass() {
    use tcpcheck::requirements::builtin;
    for name in [
        "builtin/listen-beside-established",
        "builtin/listen-beside-syn-sent",
    ] {
        let check = builtin::find(name).expect("a built-in check");
        let run = builtin::run(
            check,
            &tcpcheck_smoltcp::FACTORY,
            Some(tcpcheck_model::profile::ProfileKind::Rfc9293),
        );
        assert_eq!(
            run.verdict,
            tcpcheck::runner::Verdict::Pass,
            "{}",
            run.describe()
        );
    }
}
