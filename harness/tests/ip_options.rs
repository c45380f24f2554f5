//! RFC 9293 3.9.2, the IP options TCP passes between the application and IP, checked on the
//! wire against the local kernel: a source route and Record Route the application sets
//! (IP_OPTIONS), the return route built from a received source route, and which route
//! wins when both exist. A packetdrill script cannot state IP options, so these tests
//! build and read the IPv4 headers themselves. Each runs in its own sandbox (private
//! network namespace, TUN). Run as root (or see the README's rootless notes).
//!
//! A source-routed packet's TCP checksum covers its final destination, not the next hop
//! the IP header names, so the stack's packets are read through the codec's views, whose
//! structure checks do not look at checksums, not through `SegmentRepr` (whose
//! pseudo-header is the IP header's).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::os::fd::AsRawFd;

use tcpcheck::peer::Peer;
use tcpcheck::sandbox::{Sandbox, PEER_V4 as PEER, STACK_V4 as STACK};
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::ipv4::option_kind::{LSRR, RR};
use tcpcheck_model::wire::ipv4::{option_of_kind as option, route_option};
use tcpcheck_model::wire::{IpRepr, Ipv4Packet, TcpFlags, TcpPacket, IPPROTO_TCP};

const PORT: u16 = 8080;
/// Routers on the TUN's subnet that source routes name.
const HOP_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 7);
const HOP_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 8);
const HOP_C: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 9);

/// A TCP segment the stack sent, read from its IPv4 packet.
#[derive(Debug)]
struct Sent {
    dst: Ipv4Addr,
    options: Vec<u8>,
    src_port: u16,
    dst_port: u16,
    seq: u32,
    flags: u8,
    payload: Vec<u8>,
}

fn read_ipv4(bytes: &[u8]) -> Option<Sent> {
    let ip = Ipv4Packet::new_checked(bytes).ok()?;
    if ip.protocol() != IPPROTO_TCP {
        return None;
    }
    let tcp = TcpPacket::new_checked(ip.payload_ref()).ok()?;
    Some(Sent {
        dst: ip.dst_addr(),
        options: ip.options().to_vec(),
        src_port: tcp.src_port(),
        dst_port: tcp.dst_port(),
        seq: tcp.seq_number().0,
        flags: tcp.flags().0,
        payload: tcp.payload().to_vec(),
    })
}

fn sent(sandbox: &mut Sandbox) -> Vec<Sent> {
    sandbox
        .settle()
        .expect("settle")
        .iter()
        .filter_map(|p| read_ipv4(&p.bytes))
        .collect()
}

/// The one segment among `sent` with exactly the control bits `ctl` (PSH aside).
#[track_caller]
fn one(sent: &[Sent], ctl: TcpFlags) -> &Sent {
    let ctl = ctl.0;
    let psh = TcpFlags::PSH.0;
    let found: Vec<&Sent> = sent.iter().filter(|s| s.flags & !psh == ctl).collect();
    assert_eq!(
        found.len(),
        1,
        "want one segment with flags {ctl:#x}: {sent:?}"
    );
    found[0]
}

/// A route option of `kind` holding one address.
fn route(kind: u8, ptr: u8, addr: Ipv4Addr) -> Vec<u8> {
    route_option(kind, ptr, &[addr]).expect("one address fits an option")
}

/// setsockopt(IP_OPTIONS): the options the socket's packets carry from now on.
fn set_ip_options(fd: i32, options: &[u8]) {
    // SAFETY: a valid socket and a buffer of the length given.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_IP,
            libc::IP_OPTIONS,
            options.as_ptr().cast(),
            options.len() as libc::socklen_t,
        )
    };
    assert_eq!(
        rc,
        0,
        "setsockopt(IP_OPTIONS): {}",
        std::io::Error::last_os_error()
    );
}

/// Source-routed packets are accepted only with net.ipv4.conf.{all,tun0}.accept_source_route
/// on (off by default on a host: ip_rcv_options() drops them).
fn accept_source_routes(sandbox: &mut Sandbox) {
    for dev in ["all", "tun0"] {
        sandbox
            .set_sysctl(&format!("net.ipv4.conf.{dev}.accept_source_route"), "1")
            .expect("accept_source_route");
    }
}

/// A segment from `peer` (its numbers as the peer has them) with the IPv4 options `options`.
fn from_peer(peer: &Peer, flags: TcpFlags, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let ack = if flags.ack() {
        peer.rcv_nxt
    } else {
        SeqNumber(0)
    };
    let mut seg = peer.segment(flags, peer.snd_nxt, ack, Vec::new(), payload);
    if let IpRepr::V4(ip) = &mut seg.ip {
        ip.options = options.to_vec();
    }
    seg.emit().expect("a well-formed segment")
}

/// RFC 9293 3.9.2.1: MUST-51, the application can give a source route (IP_OPTIONS, a loose
/// source route through HOP_A): the SYN goes to HOP_A, and the option carries the final
/// destination in its last slot (Linux ip_options_build()). MUST-52, the application's
/// route overrides one a received segment brings: the SYN-ACK comes by another route, the
/// ACK still goes by the application's. RFC 9293 3.9.2: MAY-11, Record Route: the SYN
/// carries the option with the stack's own address recorded.
#[test]
fn the_application_sets_a_source_route_and_record_route() {
    let mut sandbox = Sandbox::new().expect("sandbox");
    accept_source_routes(&mut sandbox);
    let to = SocketAddr::new(IpAddr::V4(PEER), 40500);

    for (options, want_dst, kind, want) in [
        (route(LSRR, 4, HOP_A), HOP_A, LSRR, route(LSRR, 4, PEER)),
        (
            route(RR, 4, Ipv4Addr::UNSPECIFIED),
            PEER,
            RR,
            route(RR, 8, STACK),
        ),
    ] {
        // SAFETY: a new socket, owned below.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0) };
        assert!(fd >= 0);
        // SAFETY: fd is a new descriptor nothing else owns.
        let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        set_ip_options(sock.as_raw_fd(), &options);
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: to.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(PEER.octets()),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: a valid socket and address of the size given.
        let rc = unsafe {
            libc::connect(
                sock.as_raw_fd(),
                (&addr as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        let err = std::io::Error::last_os_error();
        assert!(
            rc == 0 || err.raw_os_error() == Some(libc::EINPROGRESS),
            "connect: {err}"
        );
        let out = sent(&mut sandbox);
        let syn = one(&out, TcpFlags::SYN);
        assert_eq!(syn.dst, want_dst, "{syn:?}");
        assert_eq!(syn.dst_port, to.port());
        let got = option(&syn.options, kind).unwrap_or_else(|| panic!("no option {kind}: {syn:?}"));
        assert_eq!(got, &want[..usize::from(want[1])], "{syn:?}");
        if kind != LSRR {
            continue;
        }
        // MUST-52: the SYN-ACK arrives by another source route (through HOP_C); the
        // application's route still carries the ACK (Linux saves a received route only for
        // a passive open, tcp_v4_save_options() in tcp_v4_conn_request()).
        let mut peer = Peer::new(false, to.port(), syn.src_port, 3000);
        peer.irs = Some(SeqNumber(syn.seq));
        peer.rcv_nxt = SeqNumber(syn.seq) + 1;
        let synack = from_peer(
            &peer,
            TcpFlags::SYN | TcpFlags::ACK,
            &route(LSRR, 8, HOP_C),
            &[],
        );
        sandbox.inject(&synack).expect("inject the SYN-ACK");
        let out = sent(&mut sandbox);
        let ack = one(&out, TcpFlags::ACK);
        assert_eq!(ack.dst, HOP_A, "{ack:?}");
        let got = option(&ack.options, LSRR).unwrap_or_else(|| panic!("no LSRR: {ack:?}"));
        assert_eq!(got, &want[..7], "{ack:?}");
    }
}

/// RFC 9293 3.9.2.1: MUST-53, a return route is built from the source route a SYN arrived
/// with: the SYN from PEER came by a loose source route through HOP_C (the route used up,
/// HOP_C recorded), so the SYN-ACK goes back to HOP_C with PEER as the route's end, and
/// the accepted connection's segments follow it. SHLD-24, a later received source route
/// should override the earlier one: Linux does not take this, it keeps the route saved
/// from the SYN (tcp_v4_save_options() in tcp_v4_conn_request(), nowhere else), which is
/// pinned here as Linux's choice.
#[test]
fn the_return_route_follows_the_source_route_the_syn_came_by() {
    let mut sandbox = Sandbox::new().expect("sandbox");
    accept_source_routes(&mut sandbox);
    let listener = TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT))
        .expect("listen");
    let mut peer = Peer::new(false, 40600, PORT, 1000);
    let came_by = |hop: Ipv4Addr| route(LSRR, 8, hop);
    let back_by = route(LSRR, 4, PEER);

    sandbox
        .inject(&from_peer(&peer, TcpFlags::SYN, &came_by(HOP_C), &[]))
        .expect("inject the SYN");
    peer.snd_nxt += 1;
    let out = sent(&mut sandbox);
    let synack = one(&out, TcpFlags::SYN | TcpFlags::ACK);
    assert_eq!(synack.dst, HOP_C, "{synack:?}");
    assert_eq!(synack.dst_port, peer.local.port());
    let got = option(&synack.options, LSRR).unwrap_or_else(|| panic!("no LSRR: {synack:?}"));
    assert_eq!(got, &back_by[..7], "{synack:?}");
    peer.irs = Some(SeqNumber(synack.seq));
    peer.rcv_nxt = SeqNumber(synack.seq) + 1;
    sandbox
        .inject(&from_peer(&peer, TcpFlags::ACK, &came_by(HOP_C), &[]))
        .expect("inject the ACK");
    sent(&mut sandbox);
    let (conn, _) = listener.accept().expect("accept");

    // SHLD-24: data by another route (through HOP_B); Linux answers by the saved one.
    sandbox
        .inject(&from_peer(
            &peer,
            TcpFlags::ACK | TcpFlags::PSH,
            &came_by(HOP_B),
            b"ping",
        ))
        .expect("inject data");
    peer.snd_nxt += 4;
    let out = sent(&mut sandbox);
    let ack = one(&out, TcpFlags::ACK);
    assert_eq!(ack.dst, HOP_C, "Linux keeps the SYN's route: {ack:?}");

    std::io::Write::write_all(&mut &conn, b"pong").expect("write");
    let out = sent(&mut sandbox);
    let data = one(&out, TcpFlags::ACK);
    assert_eq!(
        (data.dst, &data.payload[..]),
        (HOP_C, &b"pong"[..]),
        "{data:?}"
    );
}
