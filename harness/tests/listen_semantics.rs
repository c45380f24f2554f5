//! RFC 9293 3.9.1.1, the OPEN call's LISTEN semantics, checked on the wire against the
//! local kernel where a packetdrill script cannot say it: a passive OPEN beside
//! connections on the same port (scripts address every inbound segment to one connection),
//! and the local IP address an OPEN names (scripts never name addresses; the sandbox is
//! given a second one). Each test runs in its own sandbox (private network namespace,
//! TUN). Run as root (or see the README's rootless notes).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Command;

use tcpcheck::peer::Peer;
use tcpcheck::sandbox::{Packet, Sandbox};
use tcpcheck_model::wire::{IpRepr, SegmentRepr, TcpFlags};

const PORT: u16 = 8080;
/// The sandbox's second address on the TUN, beside 192.0.2.1 and 2001:db8::1.
const SECOND_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 3);
const SECOND_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 3);

fn segments(packets: &[Packet]) -> Vec<SegmentRepr> {
    packets
        .iter()
        .filter_map(|p| SegmentRepr::parse(&p.bytes).ok())
        .collect()
}

/// A segment's (source, destination) addresses.
fn addrs(s: &SegmentRepr) -> (IpAddr, IpAddr) {
    match &s.ip {
        IpRepr::V4(ip) => (ip.src.into(), ip.dst.into()),
        IpRepr::V6(ip) => (ip.src.into(), ip.dst.into()),
    }
}

fn last_os_error(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is a valid value of the type.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for a sockaddr_in.
            let sin = unsafe {
                &mut *(&mut ss as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
            };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for a sockaddr_in6.
            let sin6 = unsafe {
                &mut *(&mut ss as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

/// A non-blocking TCP socket with SO_REUSEADDR, bound to `local`.
fn bound(local: SocketAddr) -> OwnedFd {
    let family = if local.is_ipv6() {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    // SAFETY: plain socket calls on a descriptor this function owns.
    unsafe {
        let fd = libc::socket(family, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0);
        assert!(fd >= 0, "{}", last_os_error("socket"));
        let fd = OwnedFd::from_raw_fd(fd);
        let one: libc::c_int = 1;
        let rc = libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        assert_eq!(rc, 0, "{}", last_os_error("SO_REUSEADDR"));
        let (ss, len) = sockaddr(local);
        let rc = libc::bind(
            fd.as_raw_fd(),
            (&ss as *const libc::sockaddr_storage).cast(),
            len,
        );
        assert_eq!(rc, 0, "{}", last_os_error(&format!("bind({local})")));
        fd
    }
}

fn listen(fd: &OwnedFd) {
    // SAFETY: a valid socket.
    let rc = unsafe { libc::listen(fd.as_raw_fd(), 8) };
    assert_eq!(rc, 0, "{}", last_os_error("listen"));
}

/// Starts an active OPEN to `to` (a non-blocking connect, which returns EINPROGRESS).
fn connect(fd: &OwnedFd, to: SocketAddr) {
    let (ss, len) = sockaddr(to);
    // SAFETY: a valid socket and address.
    let rc = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&ss as *const libc::sockaddr_storage).cast(),
            len,
        )
    };
    let err = std::io::Error::last_os_error();
    assert!(
        rc == 0 || err.raw_os_error() == Some(libc::EINPROGRESS),
        "connect({to}): {err}"
    );
}

/// The connection's pending error (SO_ERROR), 0 once connected.
fn so_error(fd: &OwnedFd) -> i32 {
    let mut err: libc::c_int = -1;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid socket and an int of the size given.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut err as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "{}", last_os_error("SO_ERROR"));
    err
}

/// The local address the stack bound `fd` to.
fn local_addr(fd: &OwnedFd) -> SocketAddr {
    // SAFETY: an all-zero sockaddr_storage is a valid value of the type.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: a valid socket and a buffer of the size given.
    let rc = unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut ss as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "{}", last_os_error("getsockname"));
    // SAFETY: the kernel filled in a sockaddr of the socket's family.
    unsafe {
        match i32::from(ss.ss_family) {
            libc::AF_INET => {
                let sin = &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>();
                SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes())),
                    u16::from_be(sin.sin_port),
                )
            }
            _ => {
                let sin6 = &*(&ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>();
                SocketAddr::new(
                    IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)),
                    u16::from_be(sin6.sin6_port),
                )
            }
        }
    }
}

fn accept(listener: &OwnedFd) -> OwnedFd {
    // SAFETY: a valid listening socket; the new descriptor is owned by the result.
    let fd = unsafe {
        libc::accept4(
            listener.as_raw_fd(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_NONBLOCK,
        )
    };
    assert!(fd >= 0, "{}", last_os_error("accept"));
    // SAFETY: accept4 returned a new descriptor nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn write(fd: &OwnedFd, data: &[u8]) {
    // SAFETY: a valid socket and buffer.
    let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
    assert_eq!(n, data.len() as isize, "{}", last_os_error("write"));
}

fn read(fd: &OwnedFd) -> Vec<u8> {
    let mut buf = [0u8; 1000];
    // SAFETY: a valid socket and buffer.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    assert!(n >= 0, "{}", last_os_error("read"));
    buf[..n as usize].to_vec()
}

/// The segment the stack sent to `peer` among `sent`, with exactly the control bits `ctl`
/// (PSH aside).
fn to_peer<'a>(sent: &'a [SegmentRepr], peer: &Peer, ctl: TcpFlags) -> Option<&'a SegmentRepr> {
    sent.iter().find(|s| {
        s.tcp.dst_port == peer.local.port()
            && addrs(s).1 == peer.local.ip()
            && s.tcp.flags & !TcpFlags::PSH == ctl
    })
}

#[track_caller]
fn expect_to_peer(sent: &[SegmentRepr], peer: &Peer, ctl: TcpFlags) -> SegmentRepr {
    to_peer(sent, peer, ctl)
        .cloned()
        .unwrap_or_else(|| panic!("no {ctl:?} to {}: {sent:?}", peer.local))
}

/// A passive OPEN's handshake with `peer`: its SYN, the stack's SYN-ACK, its ACK.
fn handshake(sandbox: &mut Sandbox, peer: &mut Peer) -> SegmentRepr {
    sandbox.inject(&peer.syn()).expect("inject the SYN");
    let sent = segments(&sandbox.settle().expect("settle"));
    let synack = expect_to_peer(&sent, peer, TcpFlags::SYN | TcpFlags::ACK);
    peer.learn(&synack);
    sandbox.inject(&peer.ack()).expect("inject the ACK");
    sandbox.settle().expect("settle");
    synack
}

fn peer_at(v6: bool, port: u16) -> Peer {
    Peer::new(v6, port, PORT, 5000 + u32::from(port))
}

fn any(v6: bool, port: u16) -> SocketAddr {
    let ip: IpAddr = if v6 {
        Ipv6Addr::UNSPECIFIED.into()
    } else {
        Ipv4Addr::UNSPECIFIED.into()
    };
    SocketAddr::new(ip, port)
}

/// RFC 9293 3.9.1.1: MUST-41, a passive OPEN creates a new connection record in LISTEN
/// and does not affect any earlier one. An ESTABLISHED connection on port 8080 (accepted
/// from a listener since closed) goes on as before after a new LISTEN on that port: data
/// both ways is acknowledged and delivered, nothing is reset, and the new listener
/// answers a new SYN.
#[test]
fn a_passive_open_leaves_an_established_connection_on_its_port_alone() {
    for v6 in [false, true] {
        let mut sandbox = Sandbox::new().expect("sandbox");
        let first = bound(any(v6, PORT));
        listen(&first);
        let mut peer = peer_at(v6, 40100);
        handshake(&mut sandbox, &mut peer);
        let conn = accept(&first);
        drop(first);
        sandbox.settle().expect("settle");

        let again = bound(any(v6, PORT));
        listen(&again);
        let sent = segments(&sandbox.settle().expect("settle"));
        assert!(sent.is_empty(), "v6 {v6}: the LISTEN sent {sent:?}");

        sandbox.inject(&peer.data(b"ping")).expect("inject data");
        let sent = segments(&sandbox.settle().expect("settle"));
        let ack = expect_to_peer(&sent, &peer, TcpFlags::ACK);
        assert_eq!(ack.tcp.ack, peer.snd_nxt, "v6 {v6}: {ack}");
        assert_eq!(read(&conn), b"ping");
        write(&conn, b"pong");
        let sent = segments(&sandbox.settle().expect("settle"));
        let data = expect_to_peer(&sent, &peer, TcpFlags::ACK);
        assert_eq!(data.tcp.payload, b"pong", "v6 {v6}: {data}");
        assert!(
            to_peer(&sent, &peer, TcpFlags::RST).is_none(),
            "v6 {v6}: {sent:?}"
        );

        let mut other = peer_at(v6, 40101);
        handshake(&mut sandbox, &mut other);
        accept(&again);
    }
}

/// RFC 9293 3.9.1.1: MUST-42, an application can LISTEN on a port while a connection with
/// that local port is in SYN-SENT; MUST-41, the LISTEN does not affect it. A connect()
/// from port 8080 sends its SYN; a listener on 8080 then answers another peer's SYN with a
/// SYN-ACK, and the first peer's SYN-ACK completes the active open (the stack ACKs it and
/// the socket reports no error).
#[test]
fn a_listen_beside_a_syn_sent_connection_on_its_port() {
    for v6 in [false, true] {
        let mut sandbox = Sandbox::new().expect("sandbox");
        let mut server = peer_at(v6, 40200);
        let active = bound(any(v6, PORT));
        connect(&active, server.local);
        let sent = segments(&sandbox.settle().expect("settle"));
        let syn = expect_to_peer(&sent, &server, TcpFlags::SYN);
        assert_eq!(syn.tcp.src_port, PORT, "v6 {v6}: {syn}");

        let listener = bound(any(v6, PORT));
        listen(&listener);
        let mut client = peer_at(v6, 40201);
        handshake(&mut sandbox, &mut client);
        accept(&listener);

        server.learn(&syn);
        sandbox
            .inject(&server.syn_ack())
            .expect("inject the SYN-ACK");
        let sent = segments(&sandbox.settle().expect("settle"));
        let ack = expect_to_peer(&sent, &server, TcpFlags::ACK);
        assert_eq!(ack.tcp.ack, server.snd_nxt, "v6 {v6}: {ack}");
        assert_eq!(so_error(&active), 0, "v6 {v6}: the active open failed");
    }
}

/// Gives the sandbox's TUN a second address (`ip`, run from this thread, works in the
/// thread's namespace).
fn add_second_address(v6: bool) -> IpAddr {
    let (addr, args): (IpAddr, &[&str]) = if v6 {
        (
            SECOND_V6.into(),
            &[
                "-6",
                "addr",
                "add",
                "2001:db8::3/64",
                "dev",
                "tun0",
                "nodad",
            ],
        )
    } else {
        (
            SECOND_V4.into(),
            &["addr", "add", "192.0.2.3/24", "dev", "tun0"],
        )
    };
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // IPv6 installs the address's local route from a work queue after the address itself
    // (addrconf_dad_completed(), even with nodad): wait, within a second, until the
    // address routes locally.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let got = Command::new("ip")
            .args(["route", "get", &addr.to_string()])
            .output()
            .expect("run ip");
        if String::from_utf8_lossy(&got.stdout).starts_with("local ") {
            return addr;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{addr} does not route locally: {}",
            String::from_utf8_lossy(&got.stdout)
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// RFC 9293 3.9.1.1: MUST-43, OPEN takes an optional local IP address. With two local
/// addresses: an active OPEN bound to either sends its SYN from it; a passive OPEN bound
/// to one answers a SYN to that address and resets one to the other; a passive OPEN with
/// the address unspecified answers SYNs to both, each connection from the address its
/// SYN came to (the local address is bound per connection).
#[test]
fn open_takes_a_local_ip_address() {
    for v6 in [false, true] {
        let mut sandbox = Sandbox::new().expect("sandbox");
        let second = add_second_address(v6);
        let first: IpAddr = peer_at(v6, 1).remote.ip();

        for (i, local) in [first, second].into_iter().enumerate() {
            let peer = peer_at(v6, 40300 + i as u16);
            let active = bound(SocketAddr::new(local, 0));
            connect(&active, peer.local);
            let sent = segments(&sandbox.settle().expect("settle"));
            let syn = expect_to_peer(&sent, &peer, TcpFlags::SYN);
            assert_eq!(addrs(&syn).0, local, "v6 {v6}: {syn}");
            assert_eq!(local_addr(&active).ip(), local);
        }

        let specific = bound(SocketAddr::new(second, PORT));
        listen(&specific);
        let mut to_second = peer_at(v6, 40310);
        to_second.remote = SocketAddr::new(second, PORT);
        let synack = handshake(&mut sandbox, &mut to_second);
        assert_eq!(addrs(&synack).0, second, "v6 {v6}: {synack}");
        accept(&specific);
        let mut to_first = peer_at(v6, 40311);
        sandbox.inject(&to_first.syn()).expect("inject the SYN");
        let sent = segments(&sandbox.settle().expect("settle"));
        expect_to_peer(&sent, &to_first, TcpFlags::RST | TcpFlags::ACK);
        drop(specific);

        let wild = bound(any(v6, PORT + 1));
        listen(&wild);
        for (i, local) in [first, second].into_iter().enumerate() {
            let mut peer = peer_at(v6, 40320 + i as u16);
            peer.remote = SocketAddr::new(local, PORT + 1);
            let synack = handshake(&mut sandbox, &mut peer);
            assert_eq!(addrs(&synack).0, local, "v6 {v6}: {synack}");
            let conn = accept(&wild);
            assert_eq!(local_addr(&conn), peer.remote, "v6 {v6}");
        }
    }
}
