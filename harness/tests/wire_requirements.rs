//! RFC 9293 requirements that a packetdrill script cannot state, checked on the wire against
//! the local kernel: the ISN's clock (a property of many connections, measured), addresses a
//! script cannot name (broadcast, multicast, invalid sources), and the IP header fields an
//! application sets. Each test runs in its own sandbox (private network namespace, TUN).
//! Run as root (or see the README's rootless notes).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::time::Duration;

use tcpcheck::peer::Peer;
use tcpcheck::sandbox::{Packet, Sandbox};
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::{IpRepr, SegmentRepr, TcpFlags};

const PORT: u16 = 8080;

/// A listener on PORT, any address, in the sandbox's namespace (the calling thread's).
fn listen(v6: bool) -> TcpListener {
    let any: IpAddr = if v6 {
        Ipv6Addr::UNSPECIFIED.into()
    } else {
        Ipv4Addr::UNSPECIFIED.into()
    };
    TcpListener::bind(SocketAddr::new(any, PORT)).expect("listen on 8080 in the sandbox")
}

/// The TCP segments among `packets`, parsed.
fn segments(packets: &[Packet]) -> Vec<SegmentRepr> {
    packets
        .iter()
        .filter_map(|p| SegmentRepr::parse(&p.bytes).ok())
        .collect()
}

/// Sends a SYN from `peer` and returns the stack's SYN-ACK and when it left.
fn syn_ack(sandbox: &mut Sandbox, peer: &mut Peer) -> (SegmentRepr, Duration) {
    sandbox.inject(&peer.syn()).expect("inject the SYN");
    let packets = sandbox.settle().expect("settle");
    packets
        .iter()
        .find_map(|p| {
            let s = SegmentRepr::parse(&p.bytes).ok()?;
            (s.tcp.flags.syn() && s.tcp.flags.ack() && s.tcp.dst_port == peer.local.port())
                .then_some((s, p.at))
        })
        .unwrap_or_else(|| panic!("no SYN-ACK to {}: {packets:?}", peer.local))
}

/// Resets the request `synack` answered, so that the four-tuple is free again (a RST at the
/// SYN-ACK's ACK number ends a SYN-RECEIVED request; no TIME-WAIT is left).
fn reset(sandbox: &mut Sandbox, peer: &Peer, synack: &SegmentRepr) {
    let rst = peer.segment(TcpFlags::RST, synack.tcp.ack, SeqNumber(0), Vec::new(), &[]);
    sandbox
        .inject(&rst.emit().expect("a well-formed RST"))
        .expect("inject the RST");
    sandbox.settle().expect("settle");
}

/// RFC 9293 3.4.1: MUST-8, the ISN generator has a clock-driven component. Successive
/// connections on one four-tuple, some milliseconds apart, get ISNs that advance in
/// proportion to the time between them: a clock, not a counter or a random draw. Linux's
/// clock (secure_tcp_seq(): ktime_get_real_ns() >> 6) ticks every 64 ns, 15.6 per
/// microsecond, where RFC 9293 suggests one every 4 µs: that rate is checked too, as Linux's.
#[test]
fn isn_is_clock_driven_on_one_four_tuple() {
    for v6 in [false, true] {
        let mut sandbox = Sandbox::new().expect("sandbox");
        let _listener = listen(v6);
        let mut samples = Vec::new();
        for gap_ms in [0u64, 10, 20, 40, 30] {
            std::thread::sleep(Duration::from_millis(gap_ms));
            let mut peer = Peer::new(v6, 40000, PORT, 1000);
            let (synack, at) = syn_ack(&mut sandbox, &mut peer);
            samples.push((synack.tcp.seq, at));
            reset(&mut sandbox, &peer, &synack);
        }
        let rate = |a: (SeqNumber, Duration), b: (SeqNumber, Duration)| {
            let ticks = b.0 .0.wrapping_sub(a.0 .0);
            let us = (b.1 - a.1).as_secs_f64() * 1e6;
            f64::from(ticks) / us
        };
        // Each gap of 10 ms or more: the ISN advanced at Linux's 15.625 per µs, within 5%
        // (the SYN-ACK's stamp is a few µs after the ISN was drawn).
        for pair in samples.windows(2).skip(1) {
            let r = rate(pair[0], pair[1]);
            assert!(
                (r - 15.625).abs() < 15.625 * 0.05,
                "v6 {v6}: ISN advanced {r:.3} per µs between {:?} and {:?}: {samples:?}",
                pair[0],
                pair[1]
            );
        }
    }
}

/// RFC 9293 3.4.1: SHLD-1, the ISN has a keyed per-four-tuple component (RFC 6528): SYNs
/// from different source ports within a millisecond get ISNs that the clock alone does not
/// explain. A random offset lands within 2^20 of the clock's prediction with probability
/// 2^-12, so the test asks that two of three other ports land farther than that.
#[test]
fn isn_differs_per_four_tuple() {
    for v6 in [false, true] {
        let mut sandbox = Sandbox::new().expect("sandbox");
        let _listener = listen(v6);
        let mut first = Peer::new(v6, 40000, PORT, 1000);
        let (base, base_at) = syn_ack(&mut sandbox, &mut first);
        let mut far = 0;
        for port in [40001, 40002, 40003] {
            let mut peer = Peer::new(v6, port, PORT, 1000);
            let (s, at) = syn_ack(&mut sandbox, &mut peer);
            let by_clock = ((at - base_at).as_nanos() / 64) as u32;
            let predicted = base.tcp.seq.0.wrapping_add(by_clock);
            let off = s.tcp.seq.0.wrapping_sub(predicted);
            if off.min(off.wrapping_neg()) > 1 << 20 {
                far += 1;
            }
        }
        assert!(
            far >= 2,
            "v6 {v6}: only {far} of 3 ports got an ISN off the clock"
        );
    }
}

/// RFC 9293 3.9.2.3: MUST-57, a SYN (or any segment) addressed to a broadcast or multicast
/// address is silently discarded; MUST-63, a SYN from an invalid source address (multicast,
/// the limited broadcast) is rejected. With a listener on the port, the same SYN to the
/// stack's own address draws a SYN-ACK, so the silence is the discard. (A directed
/// broadcast source is the next test's.)
#[test]
fn segments_to_or_from_broadcast_and_multicast_are_discarded() {
    let mut sandbox = Sandbox::new().expect("sandbox");
    let _v4 = listen(false);
    let v4 = |a: [u8; 4]| IpAddr::V4(Ipv4Addr::from(a));
    let v6 = |s: &str| IpAddr::V6(s.parse::<Ipv6Addr>().expect("an IPv6 address"));
    // (source, destination, what)
    let cases: [(Option<IpAddr>, Option<IpAddr>, &str); 6] = [
        (
            Some(v4([255, 255, 255, 255])),
            None,
            "SYN from the limited broadcast address",
        ),
        (
            None,
            Some(v4([192, 0, 2, 255])),
            "SYN to the subnet's broadcast address",
        ),
        (
            None,
            Some(v4([255, 255, 255, 255])),
            "SYN to the limited broadcast address",
        ),
        (
            None,
            Some(v4([224, 0, 0, 1])),
            "SYN to the all-hosts multicast group",
        ),
        (
            Some(v4([224, 0, 0, 9])),
            None,
            "SYN from a multicast source",
        ),
        (
            Some(v6("ff02::1")),
            None,
            "IPv6 SYN from a multicast source",
        ),
    ];
    for (src, dst, what) in cases {
        let v6_case = matches!(src.or(dst), Some(IpAddr::V6(_)));
        let mut peer = Peer::new(v6_case, 40100, PORT, 1000);
        if let Some(s) = src {
            peer.local.set_ip(s);
        }
        if let Some(d) = dst {
            peer.remote.set_ip(d);
        }
        sandbox.inject(&peer.syn()).expect("inject");
        let answers = segments(&sandbox.settle().expect("settle"));
        assert!(answers.is_empty(), "{what}: the stack answered {answers:?}");
    }
    // A segment other than a SYN to the broadcast address draws no RST either.
    let mut peer = Peer::new(false, 40101, PORT, 1000);
    peer.remote.set_ip(v4([192, 0, 2, 255]));
    sandbox.inject(&peer.ack()).expect("inject");
    let answers = segments(&sandbox.settle().expect("settle"));
    assert!(answers.is_empty(), "ACK to broadcast: answered {answers:?}");
    // The control: the same SYN to the stack's address is answered.
    let mut peer = Peer::new(false, 40102, PORT, 1000);
    let (synack, _) = syn_ack(&mut sandbox, &mut peer);
    assert_eq!(synack.tcp.src_port, PORT);
}

/// RFC 9293 3.9.2.3: MUST-63, where Linux departs from it: a SYN whose source is the
/// subnet's directed broadcast address (192.0.2.255 on 192.0.2.0/24) is answered with a
/// SYN-ACK to that broadcast address when reverse-path filtering is off, a fresh
/// namespace's default (net.ipv4.conf.all.rp_filter = 0): ip_route_input_slow() rejects only
/// multicast and limited-broadcast sources, and fib_validate_source() looks the source up
/// only with rp_filter on. With rp_filter = 1 the SYN is dropped.
#[test]
fn syn_from_the_directed_broadcast_address_is_answered_unless_rp_filter() {
    let mut sandbox = Sandbox::new().expect("sandbox");
    let _v4 = listen(false);
    let bcast = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 255));
    let mut peer = Peer::new(false, 40110, PORT, 1000);
    peer.local.set_ip(bcast);
    let (synack, _) = syn_ack(&mut sandbox, &mut peer);
    let IpRepr::V4(ip) = &synack.ip else {
        panic!("an IPv4 SYN-ACK: {synack}")
    };
    assert_eq!(IpAddr::V4(ip.dst), bcast, "{synack}");
    reset(&mut sandbox, &peer, &synack);
    sandbox
        .set_sysctl("net.ipv4.conf.all.rp_filter", "1")
        .expect("set rp_filter");
    let mut peer = Peer::new(false, 40111, PORT, 1000);
    peer.local.set_ip(bcast);
    sandbox.inject(&peer.syn()).expect("inject");
    let answers = segments(&sandbox.settle().expect("settle"));
    assert!(answers.is_empty(), "rp_filter 1: answered {answers:?}");
}

/// RFC 9293 3.9.2.3: MUST-57 over IPv6: a SYN to the all-nodes multicast group is
/// discarded (tcp_v6_conn_request(): not a unicast destination); the control to the stack's
/// own address is answered.
#[test]
fn ipv6_syn_to_multicast_is_discarded() {
    let mut sandbox = Sandbox::new().expect("sandbox");
    let _v6 = listen(true);
    let mut peer = Peer::new(true, 40200, PORT, 1000);
    peer.remote
        .set_ip(IpAddr::V6("ff02::1".parse().expect("an IPv6 address")));
    sandbox.inject(&peer.syn()).expect("inject");
    let answers = segments(&sandbox.settle().expect("settle"));
    assert!(answers.is_empty(), "SYN to ff02::1: answered {answers:?}");
    let mut peer = Peer::new(true, 40201, PORT, 1000);
    syn_ack(&mut sandbox, &mut peer);
}

/// RFC 9293 3.9.1.1: MUST-46, an active OPEN to a broadcast or multicast address is an
/// error, and no SYN goes out.
#[test]
fn connect_to_broadcast_or_multicast_fails() {
    let mut sandbox = Sandbox::new().expect("sandbox");
    for dst in [[192, 0, 2, 255], [255, 255, 255, 255], [224, 0, 0, 1]] {
        let to = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(dst)), PORT);
        let got = std::net::TcpStream::connect_timeout(&to, Duration::from_millis(500));
        let err = got.expect_err("connect() to a broadcast or multicast address succeeded");
        assert_eq!(
            err.raw_os_error(),
            Some(libc::ENETUNREACH),
            "connect() to {to}: {err}"
        );
        let sent = segments(&sandbox.settle().expect("settle"));
        assert!(sent.is_empty(), "connect() to {to} sent {sent:?}");
    }
}

fn set_int(fd: i32, level: i32, name: i32, value: i32) {
    // SAFETY: a valid socket and a pointer to an int of the size given.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    assert_eq!(
        rc,
        0,
        "setsockopt({level}, {name}, {value}): {}",
        std::io::Error::last_os_error()
    );
}

/// The (TOS or traffic class, TTL or hop limit) of a segment's IP header.
fn ip_fields(s: &SegmentRepr) -> (u8, u8) {
    match &s.ip {
        IpRepr::V4(ip) => (ip.dscp_ecn, ip.ttl),
        IpRepr::V6(ip) => (ip.traffic_class, ip.hop_limit),
    }
}

/// RFC 9293 3.9.1.9: MUST-48, the application can set the Diffserv field of the segments
/// it sends; SHLD-22, it goes to IP unchanged; SHLD-21, it can change it during the
/// connection. RFC 9293 3.9.2: MUST-49, the TTL (hop limit) is configurable. A listener
/// with DSCP 46 (EF, TOS 0xb8) and TTL 7 sends its SYN-ACK with them; the accepted
/// connection, set to DSCP 10 (AF11, 0x28) and TTL 9, sends its data with those.
#[test]
fn diffserv_and_ttl_set_by_the_application_reach_the_wire() {
    for v6 in [false, true] {
        let mut sandbox = Sandbox::new().expect("sandbox");
        let listener = listen(v6);
        let (level, tos, ttl) = if v6 {
            (
                libc::IPPROTO_IPV6,
                libc::IPV6_TCLASS,
                libc::IPV6_UNICAST_HOPS,
            )
        } else {
            (libc::IPPROTO_IP, libc::IP_TOS, libc::IP_TTL)
        };
        set_int(listener.as_raw_fd(), level, tos, 0xb8);
        set_int(listener.as_raw_fd(), level, ttl, 7);
        let mut peer = Peer::new(v6, 40300, PORT, 1000);
        let (synack, _) = syn_ack(&mut sandbox, &mut peer);
        assert_eq!(ip_fields(&synack), (0xb8, 7), "v6 {v6}: SYN-ACK {synack}");
        peer.learn(&synack);
        sandbox.inject(&peer.ack()).expect("inject the ACK");
        sandbox.settle().expect("settle");
        let (conn, _) = listener.accept().expect("accept");
        set_int(conn.as_raw_fd(), level, tos, 0x28);
        set_int(conn.as_raw_fd(), level, ttl, 9);
        std::io::Write::write_all(&mut &conn, b"hello").expect("write");
        let sent = segments(&sandbox.settle().expect("settle"));
        let data = sent
            .iter()
            .find(|s| !s.tcp.payload.is_empty())
            .unwrap_or_else(|| panic!("v6 {v6}: no data segment in {sent:?}"));
        assert_eq!(ip_fields(data), (0x28, 9), "v6 {v6}: data {data}");
    }
}

/// RFC 9293 3.8.1: MAY-4, a retransmission may reuse the IP Identification of the original.
/// Linux does not take this: every IPv4 segment of a connected socket gets the socket's next
/// ID (ip_select_ident_segs()), retransmissions included, so the retransmitted copy's ID is
/// the original's + 1. Pinned here as Linux's choice.
#[test]
fn ipv4_retransmission_gets_a_new_identification() {
    let mut sandbox = Sandbox::new().expect("sandbox");
    let listener = listen(false);
    let mut peer = Peer::new(false, 40400, PORT, 1000);
    let (synack, _) = syn_ack(&mut sandbox, &mut peer);
    peer.learn(&synack);
    sandbox.inject(&peer.ack()).expect("inject the ACK");
    sandbox.settle().expect("settle");
    let (conn, _) = listener.accept().expect("accept");
    std::io::Write::write_all(&mut &conn, b"hello").expect("write");
    let id = |p: &Packet| match SegmentRepr::parse(&p.bytes) {
        Ok(SegmentRepr {
            ip: IpRepr::V4(ip),
            tcp,
        }) if !tcp.payload.is_empty() => Some(ip.identification),
        _ => None,
    };
    let first = sandbox
        .settle()
        .expect("settle")
        .iter()
        .find_map(id)
        .expect("the data segment");
    // No ACK: the RTO (200 ms floor, a few ms of RTT) brings the copy.
    let deadline = sandbox.now() + Duration::from_secs(3);
    let copy = loop {
        let p = sandbox
            .next_packet(deadline)
            .expect("read")
            .expect("a retransmission within 3 s");
        if let Some(i) = id(&p) {
            break i;
        }
    };
    assert_eq!(
        copy,
        first.wrapping_add(1),
        "original ID {first}, copy {copy}"
    );
}
