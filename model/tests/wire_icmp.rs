//! ICMP and ICMPv6 errors quoting a TCP segment: round trip, and etherparse (an independent
//! codec) reading what we emit, checksum included.

use std::net::{IpAddr, SocketAddr};

use etherparse::{Icmpv4Type, Icmpv6Type, SlicedPacket, TransportSlice};
use tcpcheck_model::wire::icmp::{self, IcmpRepr, QuotedTcp};

fn quoted(v6: bool) -> QuotedTcp {
    let (s, d): (IpAddr, IpAddr) = if v6 {
        (
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        )
    } else {
        ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap())
    };
    QuotedTcp {
        src: SocketAddr::new(s, 8080),
        dst: SocketAddr::new(d, 40000),
        seq: 0xdead_beef,
    }
}

fn message(v6: bool, icmp_type: u8, code: u8, rest: u32) -> IcmpRepr {
    let q = quoted(v6);
    IcmpRepr {
        src: q.dst.ip(),
        dst: q.src.ip(),
        icmp_type,
        code,
        rest,
        body: IcmpRepr::quote_tcp(q, 1000),
    }
}

#[test]
fn icmpv4_frag_needed_round_trips_and_etherparse_agrees() {
    let m = message(false, icmp::v4::DEST_UNREACH, icmp::v4::FRAG_NEEDED, 1400);
    let bytes = m.emit().unwrap();
    assert_eq!(IcmpRepr::parse(&bytes).unwrap(), m);
    assert_eq!(m.quoted_tcp(), Some(quoted(false)));
    let sliced = SlicedPacket::from_ip(&bytes).unwrap();
    let Some(TransportSlice::Icmpv4(i)) = sliced.transport else {
        panic!("etherparse sees no ICMPv4: {:?}", sliced.transport)
    };
    assert!(matches!(
        i.icmp_type(),
        Icmpv4Type::DestinationUnreachable(_)
    ));
    assert_eq!(i.icmp_type().calc_checksum(i.payload()), i.checksum());
    // The quoted IP header's total length counts 20 + 20 + 1000.
    assert_eq!(&m.body[2..4], &1040u16.to_be_bytes());
}

#[test]
fn icmpv6_packet_too_big_round_trips_and_etherparse_agrees() {
    let m = message(true, icmp::v6::PACKET_TOO_BIG, 0, 1280);
    let bytes = m.emit().unwrap();
    assert_eq!(IcmpRepr::parse(&bytes).unwrap(), m);
    assert_eq!(m.quoted_tcp(), Some(quoted(true)));
    let sliced = SlicedPacket::from_ip(&bytes).unwrap();
    let Some(TransportSlice::Icmpv6(i)) = sliced.transport else {
        panic!("etherparse sees no ICMPv6: {:?}", sliced.transport)
    };
    assert!(matches!(
        i.icmp_type(),
        Icmpv6Type::PacketTooBig { mtu: 1280 }
    ));
    let (IpAddr::V6(s), IpAddr::V6(d)) = (m.src, m.dst) else {
        unreachable!()
    };
    let sum = i
        .icmp_type()
        .calc_checksum(s.octets(), d.octets(), i.payload())
        .unwrap();
    assert_eq!(sum, i.checksum());
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let m = message(false, icmp::v4::SOURCE_QUENCH, 0, 0);
    let mut bytes = m.emit().unwrap();
    bytes[22] ^= 0xff;
    assert!(
        IcmpRepr::parse(&bytes).is_err(),
        "a bad checksum is refused"
    );
    for n in 0..bytes.len() {
        let _ = IcmpRepr::parse(&bytes[..n]);
    }
    assert!(IcmpRepr::parse(&[]).is_err());
}
