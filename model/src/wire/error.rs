//! Why a packet could not be parsed or emitted.
//!
//! Every variant names the header field at fault and carries the numbers involved, so a
//! report can say exactly what was wrong with a segment a stack sent.

use core::fmt;

/// The header a length problem was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Header {
    /// Not even a version nibble.
    Ip,
    Ipv4,
    Ipv6,
    Ipv6Extension(u8),
    Tcp,
    /// An ICMP or ICMPv6 message.
    Icmp,
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Header::Ip => f.write_str("IP header"),
            Header::Ipv4 => f.write_str("IPv4 header"),
            Header::Ipv6 => f.write_str("IPv6 header"),
            Header::Ipv6Extension(n) => write!(f, "IPv6 extension header (next header {n})"),
            Header::Tcp => f.write_str("TCP header"),
            Header::Icmp => f.write_str("ICMP message"),
        }
    }
}

/// A malformed packet, or a `Repr` that cannot be put on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WireError {
    /// Fewer bytes than the fixed part of a header.
    Truncated {
        header: Header,
        needed: usize,
        available: usize,
    },
    /// The first nibble is neither 4 nor 6.
    IpVersion {
        version: u8,
    },
    /// IPv4 IHL below 5.
    Ipv4HeaderLengthTooSmall {
        ihl: u8,
    },
    /// IPv4 IHL pointing past the end of the packet or of the total length.
    Ipv4HeaderLengthPastEnd {
        header_len: usize,
        available: usize,
    },
    /// IPv4 total length smaller than the header or larger than the buffer.
    Ipv4TotalLength {
        total_len: usize,
        header_len: usize,
        available: usize,
    },
    /// IPv4 fragment: TCP cannot be parsed without reassembly.
    Ipv4Fragment {
        fragment_offset: u16,
        more_fragments: bool,
    },
    Ipv4Checksum {
        found: u16,
        expected: u16,
    },
    /// IPv6 payload length larger than the buffer.
    Ipv6PayloadLength {
        payload_len: usize,
        available: usize,
    },
    /// An IPv6 extension header whose length field runs past the payload.
    Ipv6ExtensionPastEnd {
        next_header: u8,
        offset: usize,
        len: usize,
        available: usize,
    },
    /// An IPv6 extension header shorter than its own fixed part.
    Ipv6ExtensionTooShort {
        next_header: u8,
        offset: usize,
        len: usize,
        min: usize,
    },
    /// A hop-by-hop options header anywhere but straight after the IPv6 header.
    Ipv6HopByHopNotFirst {
        offset: usize,
    },
    /// An IPv6 fragment header of a real (non-atomic) fragment.
    Ipv6Fragment {
        fragment_offset: u16,
        more_fragments: bool,
    },
    /// Headers the parser cannot walk: ESP, jumbograms, routing types whose final
    /// destination (needed for the TCP checksum) it does not know how to find.
    Ipv6Unsupported {
        next_header: u8,
        reason: &'static str,
    },
    /// The packet carries another protocol (59 is IPv6 "no next header").
    NotTcp {
        protocol: u8,
    },
    /// TCP data offset below 5 words.
    TcpDataOffsetTooSmall {
        data_offset: u8,
    },
    /// TCP data offset past the end of the segment.
    TcpDataOffsetPastEnd {
        header_len: usize,
        segment_len: usize,
    },
    /// An option whose length byte is 0 or 1 (RFC 9293 §3.1, MUST-7).
    TcpOptionLength {
        offset: usize,
        kind: u8,
        len: u8,
    },
    /// An option running past the end of the TCP header, or a kind byte with no length byte.
    TcpOptionPastHeader {
        offset: usize,
        kind: u8,
        len: usize,
        remaining: usize,
    },
    /// A known option with a length its definition does not allow (MSS of length 5, SACK of
    /// length 11, ...).
    TcpOptionBadLength {
        offset: usize,
        kind: u8,
        len: u8,
    },
    TcpChecksum {
        found: u16,
        expected: u16,
    },
    /// Emit: options longer than the 40 bytes a TCP header can hold.
    TcpOptionsTooLong {
        len: usize,
    },
    /// Emit: an option that cannot be encoded as given (EOL not last, SACK with no blocks or
    /// more than 4, data too long for a length byte).
    TcpOptionUnencodable {
        index: usize,
        reason: &'static str,
    },
    /// Emit: a field outside its range (reserved bits above 4 bits, IPv4 options not a multiple
    /// of 4 or over 40 bytes, flow label above 20 bits, an extension header of impossible size).
    FieldOutOfRange {
        field: &'static str,
        value: u64,
    },
    /// Emit: the packet would be longer than its length field can say.
    PacketTooLong {
        len: usize,
        max: usize,
    },
    /// Emit: the output buffer is shorter than [`super::SegmentRepr::buffer_len`].
    BufferTooShort {
        needed: usize,
        available: usize,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use WireError::*;
        match *self {
            Truncated { header, needed, available } => write!(
                f,
                "{header} truncated: needs {needed} bytes, {available} available"
            ),
            IpVersion { version } => write!(f, "IP `version` is {version}, expected 4 or 6"),
            Ipv4HeaderLengthTooSmall { ihl } => {
                write!(f, "IPv4 `IHL` is {ihl} words, below the minimum of 5")
            }
            Ipv4HeaderLengthPastEnd { header_len, available } => write!(
                f,
                "IPv4 `IHL` says {header_len} bytes of header, only {available} available"
            ),
            Ipv4TotalLength { total_len, header_len, available } => write!(
                f,
                "IPv4 `total length` is {total_len}: the header alone is {header_len} bytes \
                 and the packet has {available}"
            ),
            Ipv4Fragment { fragment_offset, more_fragments } => write!(
                f,
                "IPv4 fragment (`fragment offset` {fragment_offset}, `MF` {}): TCP needs reassembly",
                more_fragments as u8
            ),
            Ipv4Checksum { found, expected } => write!(
                f,
                "IPv4 `header checksum` is {found:#06x}, expected {expected:#06x}"
            ),
            Ipv6PayloadLength { payload_len, available } => write!(
                f,
                "IPv6 `payload length` is {payload_len}, only {available} bytes follow the header"
            ),
            Ipv6ExtensionPastEnd { next_header, offset, len, available } => write!(
                f,
                "IPv6 extension header {next_header} at byte {offset} is {len} bytes long, \
                 only {available} remain in the payload"
            ),
            Ipv6ExtensionTooShort { next_header, offset, len, min } => write!(
                f,
                "IPv6 extension header {next_header} at byte {offset}: its length field says \
                 {len} bytes, its fixed part alone is {min}"
            ),
            Ipv6HopByHopNotFirst { offset } => write!(
                f,
                "IPv6 hop-by-hop options header at byte {offset}: it must come first"
            ),
            Ipv6Fragment { fragment_offset, more_fragments } => write!(
                f,
                "IPv6 fragment (`fragment offset` {fragment_offset}, `M` {}): TCP needs reassembly",
                more_fragments as u8
            ),
            Ipv6Unsupported { next_header, reason } => {
                write!(f, "IPv6 next header {next_header}: {reason}")
            }
            NotTcp { protocol } => write!(f, "not TCP: IP protocol / next header is {protocol}"),
            TcpDataOffsetTooSmall { data_offset } => write!(
                f,
                "TCP `data offset` is {data_offset} words, below the minimum of 5"
            ),
            TcpDataOffsetPastEnd { header_len, segment_len } => write!(
                f,
                "TCP `data offset` says {header_len} bytes of header, the segment has {segment_len}"
            ),
            TcpOptionLength { offset, kind, len } => write!(
                f,
                "TCP option kind {kind} at header byte {offset} has `length` {len} \
                 (an option's length counts its kind and length bytes, so it is at least 2)"
            ),
            TcpOptionPastHeader { offset, kind, len, remaining } => write!(
                f,
                "TCP option kind {kind} at header byte {offset} needs {len} bytes, \
                 only {remaining} remain in the header"
            ),
            TcpOptionBadLength { offset, kind, len } => write!(
                f,
                "TCP option kind {kind} at header byte {offset} has `length` {len}, \
                 which its definition does not allow"
            ),
            TcpChecksum { found, expected } => {
                write!(f, "TCP `checksum` is {found:#06x}, expected {expected:#06x}")
            }
            TcpOptionsTooLong { len } => {
                write!(f, "TCP options take {len} bytes, a header holds at most 40")
            }
            TcpOptionUnencodable { index, reason } => {
                write!(f, "TCP option #{index} cannot be encoded: {reason}")
            }
            FieldOutOfRange { field, value } => write!(f, "`{field}` = {value} is out of range"),
            PacketTooLong { len, max } => {
                write!(f, "packet of {len} bytes is longer than its length field allows ({max})")
            }
            BufferTooShort { needed, available } => {
                write!(f, "output buffer holds {available} bytes, {needed} needed")
            }
        }
    }
}

impl std::error::Error for WireError {}
