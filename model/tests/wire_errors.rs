//! Each malformation gets its own typed error, naming the field and the numbers involved.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use tcpcheck_model::wire::{
    Checksum, ChecksumPolicy, Header, IpRepr, Ipv4Repr, Ipv6ExtHeader, Ipv6Repr, SegmentRepr,
    TcpFlags, TcpOption, TcpRepr, WireError,
};

fn tcp() -> TcpRepr {
    TcpRepr {
        src_port: 40000,
        dst_port: 8080,
        seq: 1000.into(),
        ack: 2000.into(),
        flags: TcpFlags::ACK | TcpFlags::PSH,
        window: 512,
        options: vec![
            TcpOption::Nop,
            TcpOption::Nop,
            TcpOption::Timestamps { val: 1, ecr: 2 },
        ],
        payload: b"hello".to_vec(),
        ..TcpRepr::default()
    }
}

fn v4() -> SegmentRepr {
    SegmentRepr {
        ip: IpRepr::V4(Ipv4Repr::new(
            Ipv4Addr::new(192, 0, 2, 2),
            Ipv4Addr::new(192, 0, 2, 1),
        )),
        tcp: tcp(),
    }
}

fn v6() -> SegmentRepr {
    SegmentRepr {
        ip: IpRepr::V6(Ipv6Repr::new(
            "2001:db8::2".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
        )),
        tcp: tcp(),
    }
}

/// Re-computes the IPv4 header checksum after a test edits the header.
fn fix_ipv4_checksum(b: &mut [u8]) {
    let ihl = usize::from(b[0] & 0x0f) * 4;
    b[10..12].fill(0);
    let sum = tcpcheck_model::wire::checksum_finish(tcpcheck_model::wire::checksum_sum(
        &b[..ihl.min(b.len())],
    ));
    b[10..12].copy_from_slice(&sum.to_be_bytes());
}

fn parse(b: &[u8]) -> Result<SegmentRepr, WireError> {
    SegmentRepr::parse_with(b, ChecksumPolicy::Accept)
}

#[test]
fn truncation_names_the_header() {
    let b = v4().emit().unwrap();
    assert_eq!(
        parse(&b[..10]),
        Err(WireError::Truncated {
            header: Header::Ipv4,
            needed: 20,
            available: 10
        })
    );
    let b = v6().emit().unwrap();
    assert_eq!(
        parse(&b[..39]),
        Err(WireError::Truncated {
            header: Header::Ipv6,
            needed: 40,
            available: 39
        })
    );
    assert_eq!(
        parse(&[]),
        Err(WireError::Truncated {
            header: Header::Ip,
            needed: 1,
            available: 0
        })
    );
}

#[test]
fn ipv4_header_lengths() {
    let good = v4().emit().unwrap();
    let mut b = good.clone();
    b[0] = 0x44;
    assert_eq!(
        parse(&b),
        Err(WireError::Ipv4HeaderLengthTooSmall { ihl: 4 })
    );
    b[0] = 0x4f;
    assert_eq!(
        parse(&b[..40]),
        Err(WireError::Ipv4HeaderLengthPastEnd {
            header_len: 60,
            available: 40
        })
    );
    let mut b = good.clone();
    b[2..4].copy_from_slice(&19u16.to_be_bytes());
    assert_eq!(
        parse(&b),
        Err(WireError::Ipv4TotalLength {
            total_len: 19,
            header_len: 20,
            available: good.len()
        })
    );
    b[2..4].copy_from_slice(&(good.len() as u16 + 1).to_be_bytes());
    assert!(matches!(parse(&b), Err(WireError::Ipv4TotalLength { .. })));
    let mut b = good.clone();
    b[0] = 0x55;
    assert_eq!(parse(&b), Err(WireError::IpVersion { version: 5 }));
}

#[test]
fn ipv4_fragments_protocols_and_checksum() {
    let good = v4().emit().unwrap();
    let mut b = good.clone();
    b[6] = 0x20; // MF
    fix_ipv4_checksum(&mut b);
    assert_eq!(
        parse(&b),
        Err(WireError::Ipv4Fragment {
            fragment_offset: 0,
            more_fragments: true
        })
    );
    let mut b = good.clone();
    b[9] = 17;
    fix_ipv4_checksum(&mut b);
    assert_eq!(parse(&b), Err(WireError::NotTcp { protocol: 17 }));
    let mut b = good.clone();
    b[8] = 63; // TTL changed, checksum left stale
    let expected = {
        let mut fixed = b.clone();
        fix_ipv4_checksum(&mut fixed);
        u16::from_be_bytes([fixed[10], fixed[11]])
    };
    let found = u16::from_be_bytes([b[10], b[11]]);
    assert_eq!(
        SegmentRepr::parse(&b),
        Err(WireError::Ipv4Checksum { found, expected })
    );
    // The lenient path still reads it, and keeps the bad value for re-emission.
    let lenient = parse(&b).unwrap();
    assert!(matches!(&lenient.ip, IpRepr::V4(r) if r.checksum == Checksum::Forced(found)));
    assert_eq!(lenient.emit().unwrap(), b);
}

#[test]
fn ipv6_lengths_and_extension_headers() {
    let good = v6().emit().unwrap();
    let mut b = good.clone();
    b[4..6].copy_from_slice(&(good.len() as u16).to_be_bytes());
    assert_eq!(
        parse(&b),
        Err(WireError::Ipv6PayloadLength {
            payload_len: good.len(),
            available: good.len() - 40
        })
    );
    let mut b = good.clone();
    b[6] = 59;
    assert_eq!(parse(&b), Err(WireError::NotTcp { protocol: 59 }));
    b[6] = 50;
    assert!(matches!(
        parse(&b),
        Err(WireError::Ipv6Unsupported {
            next_header: 50,
            ..
        })
    ));

    let mut with_ext = v6();
    let IpRepr::V6(ip) = &mut with_ext.ip else {
        unreachable!()
    };
    ip.extensions = vec![
        Ipv6ExtHeader {
            kind: 60,
            data: vec![0, 1, 4, 0, 0, 0, 0],
        },
        Ipv6ExtHeader {
            kind: 0,
            data: vec![0, 1, 4, 0, 0, 0, 0],
        },
    ];
    let b = with_ext.emit().unwrap();
    assert_eq!(
        parse(&b),
        Err(WireError::Ipv6HopByHopNotFirst { offset: 48 })
    );

    let IpRepr::V6(ip) = &mut with_ext.ip else {
        unreachable!()
    };
    ip.extensions = vec![Ipv6ExtHeader {
        kind: 44,
        data: vec![0, 0, 0x09, 0, 0, 0, 1],
    }];
    let b = with_ext.emit().unwrap();
    assert_eq!(
        parse(&b),
        Err(WireError::Ipv6Fragment {
            fragment_offset: 1,
            more_fragments: true
        })
    );

    let IpRepr::V6(ip) = &mut with_ext.ip else {
        unreachable!()
    };
    ip.extensions = vec![Ipv6ExtHeader {
        kind: 60,
        data: vec![0, 1, 4, 0, 0, 0, 0],
    }];
    let mut b = with_ext.emit().unwrap();
    b[41] = 200; // Hdr Ext Len: 1608 bytes
    assert!(matches!(
        parse(&b),
        Err(WireError::Ipv6ExtensionPastEnd {
            next_header: 60,
            offset: 40,
            len: 1608,
            ..
        })
    ));
}

#[test]
fn routing_header_final_destination_is_in_the_checksum() {
    // RFC 8200 8.1: with segments left, the pseudo-header uses the final destination.
    let final_dst: Ipv6Addr = "2001:db8::99".parse().unwrap();
    let mut data = vec![2, 2, 1, 0, 0, 0, 0]; // Hdr Ext Len 2, type 2, segments left 1
    data.extend(final_dst.octets());
    let mut seg = v6();
    let IpRepr::V6(ip) = &mut seg.ip else {
        unreachable!()
    };
    ip.extensions = vec![Ipv6ExtHeader { kind: 43, data }];
    let b = seg.emit().unwrap();
    assert_eq!(SegmentRepr::parse(&b), Ok(seg.clone()));
    let view = tcpcheck_model::wire::Segment::parse(&b, ChecksumPolicy::Verify).unwrap();
    assert!(matches!(
        view.pseudo_header(),
        tcpcheck_model::wire::PseudoHeader::V6 { dst, .. } if dst == final_dst
    ));
}

/// Option lengths 0 and 1 and options past the header are errors, not crashes (MUST-7); a
/// wrong checksum is caught (MUST-3).
#[test]
fn tcp_header_and_option_errors() {
    let good = v4().emit().unwrap();
    let mut b = good.clone();
    b[32] = 0x40 | (b[32] & 0x0f); // data offset 4
    assert_eq!(
        parse(&b),
        Err(WireError::TcpDataOffsetTooSmall { data_offset: 4 })
    );
    b[32] = 0xf0;
    assert_eq!(
        parse(&b),
        Err(WireError::TcpDataOffsetPastEnd {
            header_len: 60,
            segment_len: good.len() - 20
        })
    );
    // Options start at byte 40: NOP NOP TS(8, 10, ...).
    let mut b = good.clone();
    b[43] = 1;
    assert_eq!(
        parse(&b),
        Err(WireError::TcpOptionLength {
            offset: 22,
            kind: 8,
            len: 1
        })
    );
    b[43] = 0;
    assert_eq!(
        parse(&b),
        Err(WireError::TcpOptionLength {
            offset: 22,
            kind: 8,
            len: 0
        })
    );
    b[43] = 12;
    assert_eq!(
        parse(&b),
        Err(WireError::TcpOptionPastHeader {
            offset: 22,
            kind: 8,
            len: 12,
            remaining: 10
        })
    );
    b[43] = 8;
    assert_eq!(
        parse(&b),
        Err(WireError::TcpOptionBadLength {
            offset: 22,
            kind: 8,
            len: 8
        })
    );
    // Strict parsing reports a wrong TCP checksum; the error carries both values.
    let mut b = good.clone();
    b[good.len() - 1] ^= 0xff;
    assert!(matches!(
        SegmentRepr::parse(&b),
        Err(WireError::TcpChecksum { .. })
    ));
}

#[test]
fn emit_refuses_what_cannot_be_encoded() {
    let mut seg = v4();
    seg.tcp.options = vec![TcpOption::Timestamps { val: 0, ecr: 0 }; 5];
    assert_eq!(seg.emit(), Err(WireError::TcpOptionsTooLong { len: 50 }));
    seg.tcp.options = vec![TcpOption::EndOfList, TcpOption::Nop];
    assert!(matches!(
        seg.emit(),
        Err(WireError::TcpOptionUnencodable { index: 0, .. })
    ));
    seg.tcp.options = vec![TcpOption::Unknown {
        kind: 1,
        data: Cow::Owned(vec![1]),
    }];
    assert!(matches!(
        seg.emit(),
        Err(WireError::TcpOptionUnencodable { index: 0, .. })
    ));
    seg.tcp.options = vec![];
    seg.tcp.reserved = 16;
    assert!(matches!(
        seg.emit(),
        Err(WireError::FieldOutOfRange {
            field: "tcp.reserved",
            ..
        })
    ));
    seg.tcp.reserved = 0;
    seg.tcp.payload = vec![0; 65_535];
    assert!(matches!(seg.emit(), Err(WireError::PacketTooLong { .. })));

    let mut seg = v6();
    let IpRepr::V6(ip) = &mut seg.ip else {
        unreachable!()
    };
    ip.flow_label = 1 << 20;
    assert!(matches!(
        seg.emit(),
        Err(WireError::FieldOutOfRange {
            field: "ipv6.flow_label",
            ..
        })
    ));
    let IpRepr::V6(ip) = &mut seg.ip else {
        unreachable!()
    };
    ip.flow_label = 0;
    ip.extensions = vec![Ipv6ExtHeader {
        kind: 60,
        data: vec![1, 0, 0],
    }];
    assert!(matches!(seg.emit(), Err(WireError::FieldOutOfRange { .. })));

    let seg = v4();
    let mut small = [0u8; 10];
    assert!(matches!(
        seg.emit_into(&mut small),
        Err(WireError::BufferTooShort { .. })
    ));
}

#[test]
fn error_messages_name_the_field() {
    let msg = WireError::TcpOptionLength {
        offset: 22,
        kind: 8,
        len: 1,
    }
    .to_string();
    assert!(
        msg.contains("option kind 8") && msg.contains("`length` 1"),
        "{msg}"
    );
    let msg = WireError::Ipv4TotalLength {
        total_len: 19,
        header_len: 20,
        available: 60,
    }
    .to_string();
    assert!(msg.contains("`total length` is 19"), "{msg}");
}
