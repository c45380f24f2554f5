//! Properties of the wire codec: round trips, and agreement with etherparse and pnet_packet
//! (through the same oracle the `segment` fuzz target calls).

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use tcpcheck_model::oracle;
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::ipv6::{NH_AH, NH_DEST_OPTS, NH_FRAGMENT, NH_HOP_BY_HOP, NH_ROUTING};
use tcpcheck_model::wire::options::padded_len;
use tcpcheck_model::wire::{
    Checksum, ChecksumPolicy, IpRepr, Ipv4Repr, Ipv6ExtHeader, Ipv6Repr, SackBlock, SackBlocks,
    SegmentRepr, TcpFlags, TcpOption, TcpRepr,
};

const CASES: u32 = 10_000;

fn option() -> impl Strategy<Value = TcpOption<'static>> {
    let block = (any::<u32>(), any::<u32>()).prop_map(|(l, r)| SackBlock::new(l, r));
    prop_oneof![
        3 => Just(TcpOption::Nop),
        2 => any::<u16>().prop_map(TcpOption::Mss),
        2 => any::<u8>().prop_map(TcpOption::WindowScale),
        2 => Just(TcpOption::SackPermitted),
        2 => proptest::collection::vec(block, 1..=4)
            .prop_map(|b| TcpOption::Sack(SackBlocks::new(&b).unwrap())),
        2 => (any::<u32>(), any::<u32>()).prop_map(|(val, ecr)| TcpOption::Timestamps { val, ecr }),
        1 => proptest::collection::vec(any::<u8>(), 0..18)
            .prop_map(|c| TcpOption::FastOpen(Cow::Owned(c))),
        1 => proptest::collection::vec(any::<u8>(), 0..18)
            .prop_map(|c| TcpOption::FastOpenExp(Cow::Owned(c))),
        // Kinds nobody in the comparison interprets: not 0-5, not 8, not 34 (Fast Open), and
        // 254 only without Fast Open's magic.
        1 => ((6u8..=255).prop_filter("known", |k| *k != 8 && *k != 34), proptest::collection::vec(any::<u8>(), 0..8))
            .prop_filter("Fast Open's experimental form", |(kind, data)| {
                !(*kind == 254 && data.starts_with(&[0xF9, 0x89]))
            })
            .prop_map(|(kind, data)| TcpOption::Unknown { kind, data: Cow::Owned(data) }),
    ]
}

/// Option lists as stacks send them: at most 40 bytes, and either a multiple of four long or
/// ended by EOL (anything else would pick up an EOL from its zero padding when parsed).
fn options() -> impl Strategy<Value = Vec<TcpOption<'static>>> {
    (proptest::collection::vec(option(), 0..8), any::<bool>())
        .prop_map(|(mut list, eol)| {
            let len: usize = list.iter().map(TcpOption::encoded_len).sum();
            if len % 4 != 0 || eol {
                list.push(TcpOption::EndOfList);
            }
            list
        })
        .prop_filter("fits in 40 bytes", |list| padded_len(list).is_ok())
}

fn tcp() -> impl Strategy<Value = TcpRepr> {
    (
        (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>()),
        (0u8..16, any::<u8>(), any::<u16>(), any::<u16>()),
        options(),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(
            |((sp, dp, seq, ack), (reserved, flags, window, urg), options, payload)| TcpRepr {
                src_port: sp,
                dst_port: dp,
                seq: SeqNumber(seq),
                ack: SeqNumber(ack),
                reserved,
                flags: TcpFlags(flags),
                window,
                checksum: Checksum::Correct,
                urgent_pointer: urg,
                options,
                payload,
            },
        )
}

fn ipv4() -> impl Strategy<Value = Ipv4Repr> {
    (
        (
            any::<[u8; 4]>(),
            any::<[u8; 4]>(),
            any::<u8>(),
            any::<u16>(),
        ),
        (any::<bool>(), any::<bool>(), any::<u8>()),
        (0usize..=10).prop_flat_map(|words| proptest::collection::vec(any::<u8>(), words * 4)),
    )
        .prop_map(|((src, dst, tos, id), (evil, df, ttl), options)| Ipv4Repr {
            src: Ipv4Addr::from(src),
            dst: Ipv4Addr::from(dst),
            dscp_ecn: tos,
            identification: id,
            reserved_flag: evil,
            dont_fragment: df,
            ttl,
            checksum: Checksum::Correct,
            options,
        })
}

/// Extension headers with consistent lengths: hop-by-hop (first only), destination options,
/// a routing header with no segments left, an atomic fragment, AH.
fn extensions() -> impl Strategy<Value = Vec<Ipv6ExtHeader>> {
    let body = |len: usize| proptest::collection::vec(any::<u8>(), len);
    let generic = |kind: u8| {
        (0u8..3).prop_flat_map(move |units| {
            body((usize::from(units) + 1) * 8 - 2).prop_map(move |rest| {
                let mut data = vec![units];
                data.extend(rest);
                Ipv6ExtHeader { kind, data }
            })
        })
    };
    let routing = (0u8..2, any::<u8>(), body(4)).prop_map(|(units, ty, rest)| {
        let mut data = vec![units, ty, 0];
        data.extend(rest);
        data.resize((usize::from(units) + 1) * 8 - 1, 0);
        Ipv6ExtHeader {
            kind: NH_ROUTING,
            data,
        }
    });
    let fragment = any::<u32>().prop_map(|id| {
        let mut data = vec![0, 0, 0];
        data.extend(id.to_be_bytes());
        Ipv6ExtHeader {
            kind: NH_FRAGMENT,
            data,
        }
    });
    let ah = (1u8..4).prop_flat_map(move |l| {
        body((usize::from(l) + 2) * 4 - 2).prop_map(move |rest| {
            let mut data = vec![l];
            data.extend(rest);
            Ipv6ExtHeader { kind: NH_AH, data }
        })
    });
    (
        proptest::option::of(generic(NH_HOP_BY_HOP)),
        proptest::collection::vec(
            prop_oneof![generic(NH_DEST_OPTS), routing, fragment, ah],
            0..3,
        ),
    )
        .prop_map(|(hbh, rest)| hbh.into_iter().chain(rest).collect())
}

fn ipv6() -> impl Strategy<Value = Ipv6Repr> {
    (
        (any::<[u8; 16]>(), any::<[u8; 16]>()),
        (any::<u8>(), 0u32..(1 << 20), any::<u8>()),
        prop_oneof![3 => Just(Vec::new()), 1 => extensions()],
    )
        .prop_map(|((src, dst), (tc, flow, hops), extensions)| Ipv6Repr {
            src: Ipv6Addr::from(src),
            dst: Ipv6Addr::from(dst),
            traffic_class: tc,
            flow_label: flow,
            hop_limit: hops,
            extensions,
        })
}

fn segment() -> impl Strategy<Value = SegmentRepr> {
    (
        prop_oneof![ipv4().prop_map(IpRepr::V4), ipv6().prop_map(IpRepr::V6)],
        tcp(),
    )
        .prop_map(|(ip, tcp)| SegmentRepr { ip, tcp })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Checksums generated and verified (MUST-2, MUST-3); options of every kind, unknown ones
    /// included, read wherever they start (MUST-4, MUST-5, MUST-6, MUST-64, MUST-68); zero
    /// padding after them (MUST-69).
    #[test]
    fn parse_of_emit_is_identity(repr in segment()) {
        let bytes = repr.emit().expect("valid repr emits");
        prop_assert_eq!(bytes.len(), repr.buffer_len().unwrap());
        let parsed = SegmentRepr::parse(&bytes);
        prop_assert_eq!(parsed.as_ref(), Ok(&repr));
        // What emit writes is canonical, so it comes back byte for byte.
        prop_assert!(oracle::is_canonical(&bytes, &repr));
        prop_assert_eq!(parsed.unwrap().emit().unwrap(), bytes);
    }

    /// Every generated packet goes through the fuzz oracle: round trip plus field-by-field
    /// agreement with etherparse and pnet_packet.
    #[test]
    fn independent_codecs_agree(repr in segment()) {
        let bytes = repr.emit().unwrap();
        if let Err(e) = oracle::segment(&bytes) {
            return Err(TestCaseError::fail(format!("{e}\nrepr: {repr:?}")));
        }
    }

    /// A forced checksum survives a round trip through the lenient parser, and the strict one
    /// rejects it, naming the checksum.
    #[test]
    fn wrong_checksums_are_reported_and_inspectable(repr in segment(), delta in 1u16..0xffff) {
        let good = repr.emit().unwrap();
        let mut bad = repr.clone();
        let correct = u16::from_be_bytes([good[good.len() - repr.tcp.buffer_len().unwrap() + 16], good[good.len() - repr.tcp.buffer_len().unwrap() + 17]]);
        let forced = correct.wrapping_add(delta);
        // 0x0000 and 0xffff both mean zero in ones' complement.
        prop_assume!(!(correct == 0 && forced == 0xffff));
        bad.tcp.checksum = Checksum::Forced(forced);
        let bytes = bad.emit().unwrap();
        let strict = SegmentRepr::parse(&bytes);
        let is_tcp_checksum_error = matches!(
            strict,
            Err(tcpcheck_model::wire::WireError::TcpChecksum { found, expected })
                if found == forced && expected == correct
        );
        prop_assert!(is_tcp_checksum_error);
        let lenient = SegmentRepr::parse_with(&bytes, ChecksumPolicy::Accept).unwrap();
        prop_assert_eq!(&lenient, &bad);
        prop_assert_eq!(lenient.emit().unwrap(), bytes.clone());
        prop_assert!(oracle::segment(&bytes).is_ok());
    }

    /// Corrupting generated packets anywhere never panics and never breaks the oracle.
    #[test]
    fn corrupted_packets_never_break_the_oracle(
        repr in segment(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = repr.emit().unwrap();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        if let Err(e) = oracle::segment(&bytes) {
            return Err(TestCaseError::fail(format!("{e}\nbytes: {bytes:02x?}")));
        }
    }
}
