//! The IPv6 header and its extension headers (RFC 8200 §3, §4), as far as carrying TCP
//! needs them.

use core::net::Ipv6Addr;

use super::{Header, WireError, IPPROTO_TCP};

pub const HEADER_LEN: usize = 40;

pub const NH_HOP_BY_HOP: u8 = 0;
pub const NH_ROUTING: u8 = 43;
pub const NH_FRAGMENT: u8 = 44;
pub const NH_ESP: u8 = 50;
pub const NH_AH: u8 = 51;
pub const NH_NONE: u8 = 59;
pub const NH_DEST_OPTS: u8 = 60;
pub const NH_MOBILITY: u8 = 135;
pub const NH_HIP: u8 = 139;
pub const NH_SHIM6: u8 = 140;

/// An IPv6 packet in a buffer, read in place.
///
/// [`Ipv6Packet::new_checked`] guarantees the fixed header is there and the payload length
/// fits the buffer; bytes past it are padding, not part of the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Ipv6Packet<T> {
        Ipv6Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Ipv6Packet<T>, WireError> {
        let packet = Ipv6Packet { buffer };
        let data = packet.buffer.as_ref();
        if data.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                header: Header::Ipv6,
                needed: HEADER_LEN,
                available: data.len(),
            });
        }
        if packet.version() != 6 {
            return Err(WireError::IpVersion {
                version: packet.version(),
            });
        }
        let payload_len = usize::from(packet.payload_len());
        // RFC 8200 4.3: a zero payload length with hop-by-hop options is a jumbogram
        // (RFC 2675), whose real length hides in an option; nothing under test sends one.
        if payload_len == 0 && packet.next_header() == NH_HOP_BY_HOP {
            return Err(WireError::Ipv6Unsupported {
                next_header: NH_HOP_BY_HOP,
                reason: "jumbogram (payload length 0 with hop-by-hop options)",
            });
        }
        if payload_len > data.len() - HEADER_LEN {
            return Err(WireError::Ipv6PayloadLength {
                payload_len,
                available: data.len() - HEADER_LEN,
            });
        }
        Ok(packet)
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn version(&self) -> u8 {
        self.bytes()[0] >> 4
    }
    pub fn traffic_class(&self) -> u8 {
        (self.bytes()[0] << 4) | (self.bytes()[1] >> 4)
    }
    pub fn flow_label(&self) -> u32 {
        let b = self.bytes();
        (u32::from(b[1] & 0x0f) << 16) | (u32::from(b[2]) << 8) | u32::from(b[3])
    }
    pub fn payload_len(&self) -> u16 {
        u16::from_be_bytes([self.bytes()[4], self.bytes()[5]])
    }
    pub fn next_header(&self) -> u8 {
        self.bytes()[6]
    }
    pub fn hop_limit(&self) -> u8 {
        self.bytes()[7]
    }
    pub fn src_addr(&self) -> Ipv6Addr {
        addr_at(self.bytes(), 8)
    }
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr_at(self.bytes(), 24)
    }
    /// Extension headers and upper-layer data, up to the payload length.
    pub fn payload(&self) -> &[u8] {
        &self.bytes()[HEADER_LEN..HEADER_LEN + usize::from(self.payload_len())]
    }
}

impl<'a> Ipv6Packet<&'a [u8]> {
    /// [`Ipv6Packet::payload`] with the buffer's lifetime rather than the view's.
    pub fn payload_ref(&self) -> &'a [u8] {
        &self.buffer[HEADER_LEN..HEADER_LEN + usize::from(self.payload_len())]
    }

    /// Walks the extension headers to the TCP header.
    pub fn extensions(&self) -> Result<Extensions<'a>, WireError> {
        Extensions::walk(self.next_header(), self.payload_ref(), self.dst_addr())
    }
}

fn addr_at(b: &[u8], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[at..at + 16]);
    Ipv6Addr::from(a)
}

/// The extension headers in front of TCP, found by [`Ipv6Packet::extensions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extensions<'a> {
    first: u8,
    /// The raw extension headers, back to back.
    bytes: &'a [u8],
    /// Where the TCP header starts, relative to the IPv6 payload.
    pub tcp_offset: usize,
    /// The final destination, which the TCP pseudo-header uses (RFC 8200 §8.1).
    pub final_dst: Ipv6Addr,
}

impl<'a> Extensions<'a> {
    fn walk(first: u8, payload: &'a [u8], dst: Ipv6Addr) -> Result<Extensions<'a>, WireError> {
        let mut next = first;
        let mut at = 0;
        let mut final_dst = dst;
        loop {
            let rest = &payload[at..];
            let len = match next {
                IPPROTO_TCP => {
                    return Ok(Extensions {
                        first,
                        bytes: &payload[..at],
                        tcp_offset: at,
                        final_dst,
                    })
                }
                NH_ESP => {
                    return Err(WireError::Ipv6Unsupported {
                        next_header: next,
                        reason: "ESP encrypts what follows, so TCP cannot be read",
                    })
                }
                // RFC 8200 4.7: "no next header" means nothing follows.
                NH_NONE => return Err(WireError::NotTcp { protocol: next }),
                // RFC 8200 4.5: the fragment header is 8 bytes.
                NH_FRAGMENT => 8,
                // RFC 4302 2.2: AH's length is in 4-octet units, minus 2, and its fixed part
                // (next header, length, reserved, SPI, sequence number) is 12 bytes.
                NH_AH => match rest.get(1) {
                    Some(0) => {
                        return Err(WireError::Ipv6ExtensionTooShort {
                            next_header: next,
                            offset: HEADER_LEN + at,
                            len: 8,
                            min: 12,
                        })
                    }
                    Some(&l) => (usize::from(l) + 2) * 4,
                    None => 2,
                },
                // RFC 8200 4.3, 4.4, 4.6 and RFC 6564 4: the common layout, length in
                // 8-octet units not counting the first 8.
                NH_HOP_BY_HOP | NH_ROUTING | NH_DEST_OPTS | NH_MOBILITY | NH_HIP | NH_SHIM6 => {
                    match rest.get(1) {
                        Some(&l) => (usize::from(l) + 1) * 8,
                        None => 2,
                    }
                }
                other => return Err(WireError::NotTcp { protocol: other }),
            };
            if len > rest.len() {
                return Err(WireError::Ipv6ExtensionPastEnd {
                    next_header: next,
                    offset: HEADER_LEN + at,
                    len,
                    available: rest.len(),
                });
            }
            let header = &rest[..len];
            // RFC 8200 4.1: hop-by-hop options, when present, immediately follow the IPv6
            // header.
            if next == NH_HOP_BY_HOP && at != 0 {
                return Err(WireError::Ipv6HopByHopNotFirst {
                    offset: HEADER_LEN + at,
                });
            }
            match next {
                NH_FRAGMENT => {
                    let offset_flags = u16::from_be_bytes([header[2], header[3]]);
                    let fragment_offset = offset_flags >> 3;
                    let more_fragments = offset_flags & 1 != 0;
                    // RFC 8200 4.5 / RFC 6946: an atomic fragment (offset 0, M clear) is a
                    // whole packet and is processed as one.
                    if fragment_offset != 0 || more_fragments {
                        return Err(WireError::Ipv6Fragment {
                            fragment_offset,
                            more_fragments,
                        });
                    }
                }
                NH_ROUTING => final_dst = routing_final_destination(header, final_dst)?,
                _ => {}
            }
            next = header[0];
            at += len;
        }
    }

    /// The protocol number of the first extension header (or 6 when there is none).
    pub fn first(&self) -> u8 {
        self.first
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Iterates over the headers as (protocol number, bytes).
    pub fn iter(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let mut next = self.first;
        let mut rest = self.bytes;
        core::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let len = header_len(next, rest);
            let (header, tail) = rest.split_at(len);
            let kind = next;
            next = header[0];
            rest = tail;
            Some((kind, header))
        })
    }
}

/// Length of an extension header already validated by [`Extensions::walk`].
fn header_len(kind: u8, bytes: &[u8]) -> usize {
    match kind {
        NH_FRAGMENT => 8,
        NH_AH => (usize::from(bytes[1]) + 2) * 4,
        _ => (usize::from(bytes[1]) + 1) * 8,
    }
}

/// The final destination named by a routing header, when segments remain (RFC 8200 §8.1).
fn routing_final_destination(header: &[u8], current: Ipv6Addr) -> Result<Ipv6Addr, WireError> {
    let routing_type = header[2];
    let segments_left = header[3];
    if segments_left == 0 {
        return Ok(current);
    }
    let addresses = &header[8..];
    match routing_type {
        // RFC 5095 (type 0, deprecated) and RFC 6275 6.4 (type 2): the last address listed.
        0 | 2 if addresses.len() >= 16 => Ok(addr_at(addresses, addresses.len() / 16 * 16 - 16)),
        // RFC 8754 2: the segment list is in reverse, Segment List[0] is the final one.
        4 if addresses.len() >= 16 => Ok(addr_at(addresses, 0)),
        _ => Err(WireError::Ipv6Unsupported {
            next_header: NH_ROUTING,
            reason: "routing header whose final destination this parser cannot find",
        }),
    }
}

/// One extension header, kept verbatim. `data` is everything after the next-header byte,
/// which emit fills in from the chain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ipv6ExtHeader {
    /// The protocol number that identifies this header (0, 43, 44, 51, 60, ...).
    pub kind: u8,
    pub data: Vec<u8>,
}

impl Ipv6ExtHeader {
    fn check(&self) -> Result<(), WireError> {
        let len = self.data.len() + 1;
        let declared = match (self.kind, self.data.first()) {
            (NH_FRAGMENT, _) => 8,
            (NH_AH, Some(&l)) if l > 0 => (usize::from(l) + 2) * 4,
            (
                NH_HOP_BY_HOP | NH_ROUTING | NH_DEST_OPTS | NH_MOBILITY | NH_HIP | NH_SHIM6,
                Some(&l),
            ) => (usize::from(l) + 1) * 8,
            _ => 0,
        };
        if declared != len {
            return Err(WireError::FieldOutOfRange {
                field: "ipv6 extension header length",
                value: len as u64,
            });
        }
        Ok(())
    }
}

/// An IPv6 header carrying TCP, owned. Payload length and next header are derived.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub traffic_class: u8,
    /// 20 bits.
    pub flow_label: u32,
    pub hop_limit: u8,
    pub extensions: Vec<Ipv6ExtHeader>,
}

impl Ipv6Repr {
    pub fn new(src: Ipv6Addr, dst: Ipv6Addr) -> Ipv6Repr {
        Ipv6Repr {
            src,
            dst,
            traffic_class: 0,
            flow_label: 0,
            hop_limit: 64,
            extensions: Vec::new(),
        }
    }

    pub(crate) fn from_packet<T: AsRef<[u8]>>(
        packet: &Ipv6Packet<T>,
        extensions: &Extensions<'_>,
    ) -> Ipv6Repr {
        Ipv6Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
            hop_limit: packet.hop_limit(),
            extensions: extensions
                .iter()
                .map(|(kind, bytes)| Ipv6ExtHeader {
                    kind,
                    data: bytes[1..].to_vec(),
                })
                .collect(),
        }
    }

    /// The fixed header plus extension headers.
    pub fn header_len(&self) -> Result<usize, WireError> {
        if self.flow_label > 0xf_ffff {
            return Err(WireError::FieldOutOfRange {
                field: "ipv6.flow_label",
                value: u64::from(self.flow_label),
            });
        }
        let mut len = HEADER_LEN;
        for ext in &self.extensions {
            ext.check()?;
            len += ext.data.len() + 1;
        }
        Ok(len)
    }

    /// The destination the TCP pseudo-header uses: the last routing header's final
    /// destination when there is one with segments left.
    pub fn final_dst(&self) -> Result<Ipv6Addr, WireError> {
        let mut dst = self.dst;
        for ext in self.extensions.iter().filter(|e| e.kind == NH_ROUTING) {
            let mut header = Vec::with_capacity(ext.data.len() + 1);
            header.push(0);
            header.extend_from_slice(&ext.data);
            dst = routing_final_destination(&header, dst)?;
        }
        Ok(dst)
    }

    /// Writes the header and extensions into the first [`Self::header_len`] bytes of `buf`,
    /// for `tcp_len` bytes of TCP after them.
    pub fn emit(&self, buf: &mut [u8], tcp_len: usize) -> Result<(), WireError> {
        let header_len = self.header_len()?;
        let payload_len = header_len - HEADER_LEN + tcp_len;
        if payload_len > usize::from(u16::MAX) {
            return Err(WireError::PacketTooLong {
                len: payload_len,
                max: usize::from(u16::MAX),
            });
        }
        let b = &mut buf[..header_len];
        b[0] = 0x60 | (self.traffic_class >> 4);
        b[1] = (self.traffic_class << 4) | ((self.flow_label >> 16) as u8 & 0x0f);
        b[2] = (self.flow_label >> 8) as u8;
        b[3] = self.flow_label as u8;
        b[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
        b[6] = self.extensions.first().map_or(IPPROTO_TCP, |e| e.kind);
        b[7] = self.hop_limit;
        b[8..24].copy_from_slice(&self.src.octets());
        b[24..40].copy_from_slice(&self.dst.octets());
        let mut at = HEADER_LEN;
        for (i, ext) in self.extensions.iter().enumerate() {
            b[at] = self.extensions.get(i + 1).map_or(IPPROTO_TCP, |e| e.kind);
            b[at + 1..at + 1 + ext.data.len()].copy_from_slice(&ext.data);
            at += ext.data.len() + 1;
        }
        Ok(())
    }
}
