//! The `segment` fuzz target's properties. The differential checks use two codecs written
//! independently of ours, etherparse and
//! pnet_packet: where either of them reads a packet we accept, every field must agree.

use crate::wire::{
    Checksum, ChecksumPolicy, IpHeader, IpRepr, Segment, SegmentRepr, TcpOption, TcpPacket,
    WireError,
};

/// The `segment` fuzz target: the parser never panics; what it accepts re-emits and re-parses
/// to the same `Repr`, and agrees with etherparse and pnet_packet.
pub fn segment(data: &[u8]) -> Result<(), String> {
    let strict = SegmentRepr::parse_with(data, ChecksumPolicy::Verify);
    let lenient = Segment::parse(data, ChecksumPolicy::Accept);
    match (&strict, &lenient) {
        (Ok(_), Err(e)) => return Err(format!("strict parse accepted what lenient rejected: {e}")),
        (Err(e), Ok(_)) if !is_checksum_error(e) => {
            return Err(format!("lenient parse accepted a non-checksum error: {e}"))
        }
        _ => {}
    }
    let Ok(view) = lenient else {
        return Ok(());
    };
    let repr = view.to_repr();
    if let Ok(strict) = &strict {
        if strict != &repr || !repr.checksums_correct() {
            return Err("strict and lenient parses differ on a valid packet".into());
        }
    }
    roundtrip(data, &repr)?;
    etherparse_agrees(data, &view, &repr)?;
    pnet_agrees(&view, &repr)?;
    Ok(())
}

fn is_checksum_error(e: &WireError) -> bool {
    matches!(
        e,
        WireError::TcpChecksum { .. } | WireError::Ipv4Checksum { .. }
    )
}

/// `parse(emit(parse(b))) == parse(b)`, and `emit(parse(b)) == b` when `b` is canonical.
fn roundtrip(data: &[u8], repr: &SegmentRepr) -> Result<(), String> {
    let emitted = repr
        .emit()
        .map_err(|e| format!("re-emit of a parsed packet failed: {e}"))?;
    let reparsed = SegmentRepr::parse_with(&emitted, ChecksumPolicy::Accept)
        .map_err(|e| format!("re-parse of the re-emitted packet failed: {e}"))?;
    if reparsed != forced_checksums_settled(repr, &emitted) {
        return Err(format!(
            "re-parse differs:\n first: {repr:?}\nsecond: {reparsed:?}"
        ));
    }
    if is_canonical(data, repr) && emitted != data {
        return Err(format!(
            "canonical packet re-emitted differently:\n  in: {data:02x?}\n out: {emitted:02x?}"
        ));
    }
    Ok(())
}

/// `repr` with each `Forced` checksum that is correct for `emitted` turned into `Correct`.
///
/// A packet with a wrong checksum and non-zero bytes where its `Repr` has none (padding after
/// EOL) can re-emit to bytes its forced checksum is right for; parsing then says `Correct`,
/// as documented on [`Checksum`].
fn forced_checksums_settled(repr: &SegmentRepr, emitted: &[u8]) -> SegmentRepr {
    let mut settled = repr.clone();
    if let Ok(view) = Segment::parse(emitted, ChecksumPolicy::Accept) {
        if let (IpHeader::V4(ip), IpRepr::V4(r)) = (view.ip(), &mut settled.ip) {
            if ip.checksum_valid() {
                r.checksum = Checksum::Correct;
            }
        }
        if view.tcp().checksum_valid(view.pseudo_header()) {
            settled.tcp.checksum = Checksum::Correct;
        }
    }
    settled
}

/// Whether `data` is the one encoding of its `Repr`: no bytes past the IP length, option
/// padding all zero and shorter than a word, and no correct checksum in its 0xffff form.
pub fn is_canonical(data: &[u8], repr: &SegmentRepr) -> bool {
    let Ok(view) = Segment::parse(data, ChecksumPolicy::Accept) else {
        return false;
    };
    let tcp = view.tcp();
    let used: usize = repr.tcp.options.iter().map(TcpOption::encoded_len).sum();
    let padding = tcp.options_bytes().get(used..).unwrap_or_default();
    // A correct checksum can be sent as 0x0000 or 0xffff; emit always writes the former.
    let plain = |found: u16, parsed: Checksum| found != 0xffff || parsed != Checksum::Correct;
    let ip_plain = match (view.ip(), &repr.ip) {
        (IpHeader::V4(ip), IpRepr::V4(r)) => plain(ip.checksum(), r.checksum),
        _ => true,
    };
    repr.buffer_len() == Ok(data.len())
        && padding.len() < 4
        && padding.iter().all(|&b| b == 0)
        && ip_plain
        && plain(tcp.checksum(), repr.tcp.checksum)
}

/// Where etherparse slices the packet down to TCP, every header field agrees with ours.
fn etherparse_agrees(data: &[u8], view: &Segment<'_>, repr: &SegmentRepr) -> Result<(), String> {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    let sliced = SlicedPacket::from_ip(data)
        .map_err(|e| format!("etherparse rejects a packet we accept: {e}"))?;
    match (&sliced.net, view.ip()) {
        (Some(NetSlice::Ipv4(ip)), IpHeader::V4(ours)) => {
            let h = ip.header();
            same("ipv4 source", h.source_addr(), ours.src_addr())?;
            same("ipv4 destination", h.destination_addr(), ours.dst_addr())?;
            same("ipv4 ttl", h.ttl(), ours.ttl())?;
            same(
                "ipv4 identification",
                h.identification(),
                ours.identification(),
            )?;
            same(
                "ipv4 dont_fragment",
                h.dont_fragment(),
                ours.dont_fragment(),
            )?;
            same("ipv4 header checksum", h.header_checksum(), ours.checksum())?;
            same("ipv4 total length", h.total_len(), ours.total_len())?;
            same("ipv4 options", h.options(), ours.options())?;
        }
        (Some(NetSlice::Ipv6(ip)), IpHeader::V6 { packet, .. }) => {
            let h = ip.header();
            same("ipv6 source", h.source_addr(), packet.src_addr())?;
            same("ipv6 destination", h.destination_addr(), packet.dst_addr())?;
            same("ipv6 hop limit", h.hop_limit(), packet.hop_limit())?;
            same(
                "ipv6 flow label",
                h.flow_label().value(),
                packet.flow_label(),
            )?;
            same(
                "ipv6 traffic class",
                h.traffic_class(),
                packet.traffic_class(),
            )?;
            same(
                "ipv6 payload length",
                h.payload_length(),
                packet.payload_len(),
            )?;
        }
        (net, _) => {
            return Err(format!(
                "etherparse sees a different network layer: {net:?}"
            ))
        }
    }
    let tcp = match &sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => tcp,
        // etherparse walks fewer IPv6 extension headers than we do (not Mobility, HIP or
        // Shim6); past those it has no transport layer to compare.
        None if has_extension_etherparse_skips(view) => return Ok(()),
        other => return Err(format!("etherparse sees a different transport: {other:?}")),
    };
    let ours = view.tcp();
    same("tcp source port", tcp.source_port(), ours.src_port())?;
    same(
        "tcp destination port",
        tcp.destination_port(),
        ours.dst_port(),
    )?;
    same(
        "tcp sequence number",
        tcp.sequence_number(),
        ours.seq_number().0,
    )?;
    same(
        "tcp ack number",
        tcp.acknowledgment_number(),
        ours.ack_number().0,
    )?;
    same("tcp data offset", tcp.data_offset(), ours.data_offset())?;
    same(
        "tcp NS (lowest reserved bit)",
        tcp.ns(),
        repr.tcp.reserved & 1 != 0,
    )?;
    let flags = repr.tcp.flags;
    same("tcp FIN", tcp.fin(), flags.fin())?;
    same("tcp SYN", tcp.syn(), flags.syn())?;
    same("tcp RST", tcp.rst(), flags.rst())?;
    same("tcp PSH", tcp.psh(), flags.psh())?;
    same("tcp ACK", tcp.ack(), flags.ack())?;
    same("tcp URG", tcp.urg(), flags.urg())?;
    same("tcp ECE", tcp.ece(), flags.ece())?;
    same("tcp CWR", tcp.cwr(), flags.cwr())?;
    same("tcp window", tcp.window_size(), repr.tcp.window)?;
    same("tcp checksum", tcp.checksum(), ours.checksum())?;
    same(
        "tcp urgent pointer",
        tcp.urgent_pointer(),
        repr.tcp.urgent_pointer,
    )?;
    same("tcp options bytes", tcp.options(), ours.options_bytes())?;
    same("tcp payload", tcp.payload(), &repr.tcp.payload[..])?;
    etherparse_options_agree(tcp.options_iterator(), &repr.tcp.options)
}

fn has_extension_etherparse_skips(view: &Segment<'_>) -> bool {
    use crate::wire::ipv6::{NH_HIP, NH_MOBILITY, NH_SHIM6};
    match view.ip() {
        IpHeader::V6 { extensions, .. } => extensions
            .iter()
            .any(|(kind, _)| matches!(kind, NH_MOBILITY | NH_HIP | NH_SHIM6)),
        IpHeader::V4(_) => false,
    }
}

/// etherparse decodes the five classic options and stops with an error at any other kind;
/// up to that point its list must be ours without EOL (which it treats as the end).
fn etherparse_options_agree(
    theirs: etherparse::TcpOptionsIterator<'_>,
    ours: &[TcpOption<'static>],
) -> Result<(), String> {
    use etherparse::{TcpOptionElement as E, TcpOptionReadError};
    let mut ours = ours.iter().filter(|o| **o != TcpOption::EndOfList);
    for (index, element) in theirs.enumerate() {
        let our = ours.next();
        let agree = match (&element, our) {
            (Ok(E::Noop), Some(TcpOption::Nop)) => true,
            (Ok(E::MaximumSegmentSize(a)), Some(TcpOption::Mss(b))) => a == b,
            (Ok(E::WindowScale(a)), Some(TcpOption::WindowScale(b))) => a == b,
            (Ok(E::SelectiveAcknowledgementPermitted), Some(TcpOption::SackPermitted)) => true,
            (Ok(E::Timestamp(v, e)), Some(TcpOption::Timestamps { val, ecr })) => {
                v == val && e == ecr
            }
            (Ok(E::SelectiveAcknowledgement(first, rest)), Some(TcpOption::Sack(blocks))) => {
                let theirs: Vec<(u32, u32)> = core::iter::once(*first)
                    .chain(rest.iter().flatten().copied())
                    .collect();
                let ours: Vec<(u32, u32)> = blocks
                    .as_slice()
                    .iter()
                    .map(|b| (b.left.0, b.right.0))
                    .collect();
                theirs == ours
            }
            (
                Err(TcpOptionReadError::UnknownId(kind)),
                Some(
                    o @ (TcpOption::Unknown { .. }
                    | TcpOption::FastOpen(_)
                    | TcpOption::FastOpenExp(_)),
                ),
            ) => {
                let k = &o.kind();
                return if kind == k {
                    Ok(())
                } else {
                    Err(format!(
                        "tcp option #{index}: etherparse kind {kind}, ours {k}"
                    ))
                };
            }
            _ => false,
        };
        if !agree {
            return Err(format!(
                "tcp option #{index}: etherparse {element:?}, ours {our:?}"
            ));
        }
    }
    match ours.next() {
        None => Ok(()),
        Some(extra) => Err(format!("etherparse ended the options before our {extra:?}")),
    }
}

/// pnet_packet reads headers lazily and walks no IPv6 extension headers, so it is compared on
/// the TCP header it is handed (the slice we located) and on the IP fields it reads.
fn pnet_agrees(view: &Segment<'_>, repr: &SegmentRepr) -> Result<(), String> {
    use pnet_packet::ipv4::Ipv4Packet as PnetV4;
    use pnet_packet::ipv6::Ipv6Packet as PnetV6;
    use pnet_packet::tcp::{TcpOptionNumbers, TcpPacket as PnetTcp};
    use pnet_packet::Packet;

    match view.ip() {
        IpHeader::V4(ours) => {
            let ip = PnetV4::new((*ours).into_inner()).ok_or("pnet rejects the IPv4 header")?;
            same("pnet ipv4 source", ip.get_source(), ours.src_addr())?;
            same(
                "pnet ipv4 destination",
                ip.get_destination(),
                ours.dst_addr(),
            )?;
            same(
                "pnet ipv4 header length",
                ip.get_header_length(),
                ours.ihl(),
            )?;
            same("pnet ipv4 checksum", ip.get_checksum(), ours.checksum())?;
            same("pnet ipv4 payload", ip.payload(), ours.payload())?;
        }
        IpHeader::V6 { packet, .. } => {
            let ip = PnetV6::new((*packet).into_inner()).ok_or("pnet rejects the IPv6 header")?;
            same("pnet ipv6 source", ip.get_source(), packet.src_addr())?;
            same(
                "pnet ipv6 destination",
                ip.get_destination(),
                packet.dst_addr(),
            )?;
            same(
                "pnet ipv6 flow label",
                ip.get_flow_label(),
                packet.flow_label(),
            )?;
            same(
                "pnet ipv6 traffic class",
                ip.get_traffic_class(),
                packet.traffic_class(),
            )?;
            same("pnet ipv6 payload", ip.payload(), packet.payload())?;
        }
    }
    let ours: &TcpPacket<&[u8]> = view.tcp();
    let tcp = PnetTcp::new(ours.as_bytes()).ok_or("pnet rejects the TCP header")?;
    same("pnet tcp source port", tcp.get_source(), ours.src_port())?;
    same(
        "pnet tcp destination port",
        tcp.get_destination(),
        ours.dst_port(),
    )?;
    same("pnet tcp sequence", tcp.get_sequence(), ours.seq_number().0)?;
    same(
        "pnet tcp ack",
        tcp.get_acknowledgement(),
        ours.ack_number().0,
    )?;
    same(
        "pnet tcp data offset",
        tcp.get_data_offset(),
        ours.data_offset(),
    )?;
    same("pnet tcp reserved", tcp.get_reserved(), repr.tcp.reserved)?;
    same("pnet tcp flags", tcp.get_flags(), repr.tcp.flags.bits())?;
    same("pnet tcp window", tcp.get_window(), repr.tcp.window)?;
    same("pnet tcp checksum", tcp.get_checksum(), ours.checksum())?;
    same(
        "pnet tcp urgent",
        tcp.get_urgent_ptr(),
        repr.tcp.urgent_pointer,
    )?;
    same("pnet tcp payload", tcp.payload(), &repr.tcp.payload[..])?;
    // pnet keeps reading padding zeros as further EOLs, so compare up to the first EOL.
    let mut theirs = Vec::new();
    for option in tcp.get_options_iter() {
        let number = option.get_number();
        theirs.push((number.0, option.payload().to_vec()));
        if number == TcpOptionNumbers::EOL {
            break;
        }
    }
    let ours_kinds: Vec<(u8, Vec<u8>)> = repr
        .tcp
        .options
        .iter()
        .map(|o| {
            let mut buf = vec![0; o.encoded_len()];
            crate::wire::options::emit(core::slice::from_ref(o), &mut buf);
            (o.kind(), buf.get(2..).unwrap_or_default().to_vec())
        })
        .collect();
    same("pnet tcp options", theirs, ours_kinds)
}

fn same<T: PartialEq + core::fmt::Debug>(field: &str, theirs: T, ours: T) -> Result<(), String> {
    if theirs == ours {
        Ok(())
    } else {
        Err(format!(
            "{field}: independent codec reads {theirs:?}, ours {ours:?}"
        ))
    }
}
