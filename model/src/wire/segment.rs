//! A whole IP packet carrying one TCP segment: what the harness injects and captures.

use super::checksum::{ChecksumPolicy, PseudoHeader};
use super::ipv4::{Ipv4Packet, Ipv4Repr};
use super::ipv6::{Extensions, Ipv6Packet, Ipv6Repr};
use super::tcp::{TcpPacket, TcpRepr};
use super::{Checksum, Header, WireError, IPPROTO_TCP};

/// The IP layer of a parsed [`Segment`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpHeader<'a> {
    V4(Ipv4Packet<&'a [u8]>),
    V6 {
        packet: Ipv6Packet<&'a [u8]>,
        extensions: Extensions<'a>,
    },
}

/// A validated IP + TCP packet, read in place without allocating.
///
/// Everything [`SegmentRepr::parse`] checks has been checked: IP lengths, fragments,
/// extension headers, the TCP data offset, every option, and (under
/// [`ChecksumPolicy::Verify`]) both checksums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    ip: IpHeader<'a>,
    tcp: TcpPacket<&'a [u8]>,
}

impl<'a> Segment<'a> {
    pub fn parse(bytes: &'a [u8], policy: ChecksumPolicy) -> Result<Segment<'a>, WireError> {
        let Some(&first) = bytes.first() else {
            return Err(WireError::Truncated {
                header: Header::Ip,
                needed: 1,
                available: 0,
            });
        };
        let (ip, tcp_bytes) = match first >> 4 {
            4 => {
                let packet = Ipv4Packet::new_checked(bytes)?;
                // RFC 791 3.2: a fragment carries only part of the segment.
                if packet.more_fragments() || packet.fragment_offset() != 0 {
                    return Err(WireError::Ipv4Fragment {
                        fragment_offset: packet.fragment_offset(),
                        more_fragments: packet.more_fragments(),
                    });
                }
                if packet.protocol() != IPPROTO_TCP {
                    return Err(WireError::NotTcp {
                        protocol: packet.protocol(),
                    });
                }
                if policy == ChecksumPolicy::Verify && !packet.checksum_valid() {
                    return Err(WireError::Ipv4Checksum {
                        found: packet.checksum(),
                        expected: packet.expected_checksum(),
                    });
                }
                (IpHeader::V4(packet), packet.payload_ref())
            }
            6 => {
                let packet = Ipv6Packet::new_checked(bytes)?;
                let extensions = packet.extensions()?;
                let tcp = &packet.payload_ref()[extensions.tcp_offset..];
                (IpHeader::V6 { packet, extensions }, tcp)
            }
            version => return Err(WireError::IpVersion { version }),
        };
        let segment = Segment {
            ip,
            tcp: TcpPacket::new_checked(tcp_bytes)?,
        };
        segment.tcp.validate(|| segment.pseudo_header(), policy)?;
        Ok(segment)
    }

    pub fn ip(&self) -> &IpHeader<'a> {
        &self.ip
    }
    pub fn tcp(&self) -> &TcpPacket<&'a [u8]> {
        &self.tcp
    }
    /// The addresses the TCP checksum covers.
    pub fn pseudo_header(&self) -> PseudoHeader {
        match &self.ip {
            IpHeader::V4(packet) => PseudoHeader::V4 {
                src: packet.src_addr(),
                dst: packet.dst_addr(),
            },
            IpHeader::V6 { packet, extensions } => PseudoHeader::V6 {
                src: packet.src_addr(),
                dst: extensions.final_dst,
            },
        }
    }

    pub fn to_repr(&self) -> SegmentRepr {
        let ip = match &self.ip {
            IpHeader::V4(packet) => IpRepr::V4(Ipv4Repr::from_packet(packet)),
            IpHeader::V6 { packet, extensions } => {
                IpRepr::V6(Ipv6Repr::from_packet(packet, extensions))
            }
        };
        SegmentRepr {
            ip,
            tcp: TcpRepr::from_validated(&self.tcp, self.pseudo_header()),
        }
    }
}

/// The IP layer of a [`SegmentRepr`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IpRepr {
    V4(Ipv4Repr),
    V6(Ipv6Repr),
}

impl IpRepr {
    pub fn header_len(&self) -> Result<usize, WireError> {
        match self {
            IpRepr::V4(r) => r.header_len(),
            IpRepr::V6(r) => r.header_len(),
        }
    }

    pub fn pseudo_header(&self) -> Result<PseudoHeader, WireError> {
        Ok(match self {
            IpRepr::V4(r) => PseudoHeader::V4 {
                src: r.src,
                dst: r.dst,
            },
            IpRepr::V6(r) => PseudoHeader::V6 {
                src: r.src,
                dst: r.final_dst()?,
            },
        })
    }
}

/// An IP packet carrying a TCP segment, owned: what a test builds to inject and what a
/// captured packet is compared as.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SegmentRepr {
    pub ip: IpRepr,
    pub tcp: TcpRepr,
}

impl SegmentRepr {
    /// Parses strictly: any malformation, including a bad checksum, is an error.
    pub fn parse(bytes: &[u8]) -> Result<SegmentRepr, WireError> {
        Self::parse_with(bytes, ChecksumPolicy::Verify)
    }

    /// Parses with a choice of checksum policy. Under `Accept`, wrong checksums come back as
    /// [`Checksum::Forced`] holding the value found.
    pub fn parse_with(bytes: &[u8], policy: ChecksumPolicy) -> Result<SegmentRepr, WireError> {
        Segment::parse(bytes, policy).map(|s| s.to_repr())
    }

    pub fn buffer_len(&self) -> Result<usize, WireError> {
        Ok(self.ip.header_len()? + self.tcp.buffer_len()?)
    }

    pub fn emit(&self) -> Result<Vec<u8>, WireError> {
        let mut buf = vec![0; self.buffer_len()?];
        self.emit_into(&mut buf)?;
        Ok(buf)
    }

    /// Writes the packet into `buf`, returning its length. Checksums marked
    /// [`Checksum::Correct`] are computed.
    pub fn emit_into(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let ip_len = self.ip.header_len()?;
        let tcp_len = self.tcp.buffer_len()?;
        let needed = ip_len + tcp_len;
        let Some(buf) = buf.get_mut(..needed) else {
            return Err(WireError::BufferTooShort {
                needed,
                available: buf.len(),
            });
        };
        match &self.ip {
            IpRepr::V4(r) => r.emit(buf, tcp_len)?,
            IpRepr::V6(r) => r.emit(buf, tcp_len)?,
        }
        self.tcp
            .emit(&mut buf[ip_len..], self.ip.pseudo_header()?)?;
        Ok(needed)
    }

    /// Whether both checksums are [`Checksum::Correct`].
    pub fn checksums_correct(&self) -> bool {
        let ip_ok = match &self.ip {
            IpRepr::V4(r) => r.checksum == Checksum::Correct,
            IpRepr::V6(_) => true,
        };
        ip_ok && self.tcp.checksum == Checksum::Correct
    }
}
