//! Live dumps in a private namespace.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddrV4, SocketAddrV6, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::sys::socket::{
    accept, bind, listen, socket, Backlog, SockFlag, SockType, SockaddrStorage,
};

use super::*;
use crate::observe::testns::{wait_for, NetnsGuard};

const WAIT: Duration = Duration::from_secs(5);

fn sockaddr_of(addr: SocketAddr) -> SockaddrStorage {
    SockaddrStorage::from(addr)
}

/// A listener with an exact backlog; std's `TcpListener::bind` always asks for 128.
fn listener(addr: SocketAddr, backlog: i32) -> (OwnedFd, SocketAddr) {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let fd = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None).unwrap();
    bind(fd.as_raw_fd(), &sockaddr_of(addr)).unwrap();
    listen(&fd, Backlog::new(backlog).unwrap()).unwrap();
    let local: SockaddrStorage = nix::sys::socket::getsockname(fd.as_raw_fd()).unwrap();
    let local = match (local.as_sockaddr_in(), local.as_sockaddr_in6()) {
        (Some(v4), _) => SocketAddr::from(SocketAddrV4::from(*v4)),
        (_, Some(v6)) => SocketAddr::from(SocketAddrV6::from(*v6)),
        _ => unreachable!(),
    };
    (fd, local)
}

fn only_listener(diag: &mut Diag, port: u16) -> DiagSocket {
    let ls = diag.listeners(port).unwrap();
    let [l] = &ls[..] else {
        panic!("expected one listener on {port}: {ls:?}")
    };
    l.clone()
}

fn accept_queue(addr: &str) {
    let _ns = NetnsGuard::enter();
    let (lfd, laddr) = listener(addr.parse().unwrap(), 2);
    let mut diag = Diag::new().unwrap();

    let l = only_listener(&mut diag, laddr.port());
    assert_eq!(l.state, TcpState::Listen);
    assert_eq!(l.src, laddr);
    assert_eq!(
        (l.accept_queue_len(), l.accept_queue_limit()),
        (Some(0), Some(2))
    );
    assert_eq!(l.tcp_info.as_ref().map(|i| i.state), Some(TcpState::Listen));

    let clients: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(laddr).unwrap()).collect();
    // Each client is ESTABLISHED when connect() returns; the server-side child is queued
    // when the client's ACK is processed, which on loopback may trail slightly.
    wait_for("3 connections in the accept queue", WAIT, || {
        let l = only_listener(&mut diag, laddr.port());
        (l.accept_queue_len() == Some(3)).then_some(())
    });
    assert_eq!(
        only_listener(&mut diag, laddr.port()).accept_queue_limit(),
        Some(2)
    );

    let (afd, peer) = accept(lfd.as_raw_fd())
        .map(|fd| {
            // SAFETY: accept() returned a fresh descriptor we now own.
            let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
            let peer: SockaddrStorage = nix::sys::socket::getpeername(fd.as_raw_fd()).unwrap();
            (fd, peer)
        })
        .unwrap();
    assert_eq!(
        only_listener(&mut diag, laddr.port()).accept_queue_len(),
        Some(2)
    );

    // The accepted connection, found from both ends by its 4-tuple.
    let client = clients
        .iter()
        .find(|c| sockaddr_of(c.local_addr().unwrap()) == peer)
        .expect("accepted peer is one of our clients");
    let caddr = client.local_addr().unwrap();
    let server_side = diag.find(laddr, caddr).unwrap().expect("server side");
    let client_side = diag.find(caddr, laddr).unwrap().expect("client side");
    for s in [&server_side, &client_side] {
        assert_eq!(s.state, TcpState::Established);
        assert_eq!(s.tcp_info.as_ref().unwrap().state, TcpState::Established);
        assert_ne!(s.inode, 0);
        assert_eq!(
            s.family,
            if laddr.is_ipv4() {
                AddressFamily::Inet
            } else {
                AddressFamily::Inet6
            }
        );
    }
    assert_eq!(cookie(afd.as_fd()), server_side.cookie);
    assert_eq!(cookie(client.as_fd()), client_side.cookie);
    assert_ne!(server_side.cookie, client_side.cookie);
    // The same sockets by a hash lookup; for unknown endpoints the lookup falls back to
    // the listener, as for an arriving segment, and finds nothing on a port without one.
    let looked_up = diag.lookup(laddr, caddr).unwrap().expect("server side");
    assert_eq!(
        (looked_up.state, looked_up.cookie),
        (TcpState::Established, server_side.cookie)
    );
    // Port 1 is never an ephemeral port, so no client has it.
    let mut stranger = caddr;
    stranger.set_port(1);
    let fallback = diag.lookup(laddr, stranger).unwrap().expect("the listener");
    assert_eq!((fallback.state, fallback.src), (TcpState::Listen, laddr));
    let mut nowhere = laddr;
    nowhere.set_port(1);
    assert_eq!(diag.lookup(nowhere, stranger).unwrap(), None);
    // Not-yet-accepted children are full sockets in the established table too.
    let established = diag
        .dump(
            if laddr.is_ipv4() {
                AddressFamily::Inet
            } else {
                AddressFamily::Inet6
            },
            StateSet::only(TcpState::Established),
        )
        .unwrap();
    assert_eq!(
        established.len(),
        6,
        "3 clients + 3 children: {established:#?}"
    );
}

fn cookie(fd: std::os::fd::BorrowedFd<'_>) -> u64 {
    let mut v = 0u64;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: SO_COOKIE writes a u64 into `v`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            57, // SO_COOKIE
            (&mut v as *mut u64).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "SO_COOKIE: {}", io::Error::last_os_error());
    v
}

#[test]
fn observe_diag_accept_queue_v4() {
    accept_queue("127.0.0.1:0");
}

#[test]
fn observe_diag_accept_queue_v6() {
    accept_queue("[::1]:0");
}

fn time_wait(addr: &str) {
    let _ns = NetnsGuard::enter();
    let listener = TcpListener::bind(addr).unwrap();
    let laddr = listener.local_addr().unwrap();
    let mut diag = Diag::new().unwrap();

    let client = TcpStream::connect(laddr).unwrap();
    let caddr = client.local_addr().unwrap();
    let (mut server, _) = listener.accept().unwrap();

    // The client closes first: FIN_WAIT2 once the server ACKs its FIN. Closing the
    // descriptor orphans it, and an orphaned FIN_WAIT2 connection becomes a mini socket
    // with the TIME_WAIT timer but state FIN_WAIT2.
    drop(client);
    let fw2 = wait_for("client in FIN_WAIT2", WAIT, || {
        diag.find(caddr, laddr)
            .unwrap()
            .filter(|s| s.state == TcpState::FinWait2)
    });
    assert_eq!(fw2.timer_kind(), TimerKind::TimeWait);
    assert_eq!(fw2.tcp_info, None, "mini sockets carry no tcp_info");
    let srv = diag.find(laddr, caddr).unwrap().expect("server side");
    assert_eq!(srv.state, TcpState::CloseWait);

    // Then the server closes: the client, having received the FIN, is in TIME_WAIT.
    let mut buf = [0u8; 1];
    assert_eq!(server.read(&mut buf).unwrap(), 0);
    server.shutdown(Shutdown::Write).unwrap();
    let tw = wait_for("client in TIME_WAIT", WAIT, || {
        diag.find(caddr, laddr)
            .unwrap()
            .filter(|s| s.state == TcpState::TimeWait)
    });
    assert_eq!(tw.timer_kind(), TimerKind::TimeWait);
    assert!(
        tw.expires_ms > 0 && tw.expires_ms <= 60_000,
        "TIME_WAIT expiry {} ms",
        tw.expires_ms
    );
    assert_eq!(tw.cookie, fw2.cookie, "the same mini socket moved on");
    let listed = diag
        .dump(
            if laddr.is_ipv4() {
                AddressFamily::Inet
            } else {
                AddressFamily::Inet6
            },
            StateSet::only(TcpState::TimeWait),
        )
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:#?}");
    // The server side got its last ACK and left the lookup tables; its descriptor, still
    // open, reads CLOSE, and inet_diag can only list sockets it finds in those tables.
    wait_for("server side gone", WAIT, || {
        diag.find(laddr, caddr).unwrap().is_none().then_some(())
    });
}

#[test]
fn observe_diag_time_wait_v4() {
    time_wait("127.0.0.1:0");
}

#[test]
fn observe_diag_time_wait_v6() {
    time_wait("[::1]:0");
}

/// A request socket on loopback: with TCP_DEFER_ACCEPT the listener ignores the client's
/// bare handshake ACK, so the connection stays a SYN_RECV request until data arrives,
/// while the client already considers itself ESTABLISHED.
#[test]
fn observe_diag_syn_recv_with_defer_accept() {
    let _ns = NetnsGuard::enter();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let laddr = listener.local_addr().unwrap();
    // nix has no wrapper for TCP_DEFER_ACCEPT. 5 s keeps the request waiting for data
    // well past the first SYN-ACK timer, so nothing below races a retransmission.
    let secs: libc::c_int = 5;
    // SAFETY: TCP_DEFER_ACCEPT reads one int from `secs`.
    let rc = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&secs as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "TCP_DEFER_ACCEPT: {}", io::Error::last_os_error());
    let mut diag = Diag::new().unwrap();

    let mut client = TcpStream::connect(laddr).unwrap();
    let caddr = client.local_addr().unwrap();
    let req = wait_for("request socket", WAIT, || diag.find(laddr, caddr).unwrap());
    assert_eq!(req.state, TcpState::SynRecv);
    assert_eq!(req.timer_kind(), TimerKind::Retransmit);
    assert_eq!(req.retransmits, 0, "no SYN-ACK retransmitted yet");
    assert!(req.expires_ms > 0, "SYN-ACK timer pending");
    assert_eq!(req.tcp_info, None);
    assert_eq!((req.recv_q, req.send_q, req.inode), (0, 0, 0));
    let l = only_listener(&mut diag, laddr.port());
    assert_eq!(
        l.accept_queue_len(),
        Some(0),
        "a request is not in the accept queue"
    );
    // Only the SYN_RECV filter shows it.
    let syn_recv = diag
        .dump(AddressFamily::Inet, StateSet::only(TcpState::SynRecv))
        .unwrap();
    assert_eq!(syn_recv.len(), 1);
    let est = diag
        .dump(AddressFamily::Inet, StateSet::only(TcpState::Established))
        .unwrap();
    assert_eq!(est.len(), 1, "only the client: {est:#?}");

    // Data completes the handshake on the server side.
    client.write_all(b"x").unwrap();
    let (_server, _) = listener.accept().unwrap();
    let full = diag.find(laddr, caddr).unwrap().expect("server side");
    assert_eq!(full.state, TcpState::Established);
    assert_ne!(full.cookie, 0);
}

#[test]
fn observe_diag_rejects_other_families() {
    let _ns = NetnsGuard::enter();
    let mut diag = Diag::new().unwrap();
    let err = diag.dump(AddressFamily::Unix, StateSet::all()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    // And the socket still works afterwards, in an empty namespace.
    assert!(diag
        .dump(AddressFamily::Inet, StateSet::all())
        .unwrap()
        .is_empty());
    assert!(diag
        .dump(AddressFamily::Inet6, StateSet::all())
        .unwrap()
        .is_empty());
}
