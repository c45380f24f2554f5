//! ICMP and ICMPv6 error messages that quote a TCP segment (RFC 792, RFC 4443; RFC 1191 and
//! RFC 8201 for the MTU they carry), as a peer's router sends them back to the stack.
//!
//! Laid out like the rest of the codec: [`IcmpRepr`] is the owned message with `parse` and
//! `emit`, whole IP packets in and out. Only error messages are read: their body is the
//! invoking packet's IP header and at least its first 8 bytes (RFC 792; RFC 4443 2.4 (c)
//! quotes as much as fits), which for TCP are the ports and the sequence number.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::checksum;
use super::{Header, WireError};

/// IP protocol numbers.
pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_ICMPV6: u8 = 58;

/// ICMPv4 types (RFC 792).
pub mod v4 {
    pub const DEST_UNREACH: u8 = 3;
    pub const SOURCE_QUENCH: u8 = 4;
    pub const TIME_EXCEEDED: u8 = 11;
    pub const PARAMETER_PROBLEM: u8 = 12;
    /// Destination unreachable, code 4: fragmentation needed and DF set (RFC 1191 carries
    /// the next-hop MTU in the low 16 bits of the rest-of-header word).
    pub const FRAG_NEEDED: u8 = 4;
}

/// ICMPv6 types (RFC 4443).
pub mod v6 {
    pub const DEST_UNREACH: u8 = 1;
    pub const PACKET_TOO_BIG: u8 = 2;
    pub const TIME_EXCEEDED: u8 = 3;
    pub const PARAMETER_PROBLEM: u8 = 4;
}

/// One ICMP or ICMPv6 message with the addresses of the packet that carried it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IcmpRepr {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub icmp_type: u8,
    pub code: u8,
    /// The four bytes after the checksum: the MTU of a fragmentation-needed (low 16 bits)
    /// or packet-too-big message, zero or unused otherwise.
    pub rest: u32,
    /// The message body: for an error, the invoking packet from its IP header on.
    pub body: Vec<u8>,
}

/// The TCP segment an error message quotes, from its sender's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotedTcp {
    /// The invoking segment's source: the stack that sent it.
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
}

const ICMP_HEADER_LEN: usize = 8;

impl IcmpRepr {
    pub fn is_v6(&self) -> bool {
        self.dst.is_ipv6()
    }

    /// The whole IP packet (IPv4 or IPv6 by the addresses, which must agree), checksums
    /// computed.
    pub fn emit(&self) -> Result<Vec<u8>, WireError> {
        let icmp_len = ICMP_HEADER_LEN + self.body.len();
        let mut icmp = vec![0u8; icmp_len];
        icmp[0] = self.icmp_type;
        icmp[1] = self.code;
        icmp[4..8].copy_from_slice(&self.rest.to_be_bytes());
        icmp[8..].copy_from_slice(&self.body);
        match (self.src, self.dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                let total = 20 + icmp_len;
                if total > usize::from(u16::MAX) {
                    return Err(WireError::PacketTooLong {
                        len: total,
                        max: usize::from(u16::MAX),
                    });
                }
                // RFC 792: the checksum covers the ICMP message alone.
                let sum = checksum::finish(checksum::sum(&icmp));
                icmp[2..4].copy_from_slice(&sum.to_be_bytes());
                let mut ip = ipv4_header(src, dst, total as u16, IPPROTO_ICMP);
                ip.extend_from_slice(&icmp);
                Ok(ip)
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                if icmp_len > usize::from(u16::MAX) {
                    return Err(WireError::PacketTooLong {
                        len: icmp_len,
                        max: usize::from(u16::MAX),
                    });
                }
                // RFC 4443 2.3: the checksum covers a pseudo-header too.
                let sum = checksum::finish(
                    checksum::sum(&v6_pseudo(src, dst, icmp_len as u32)) + checksum::sum(&icmp),
                );
                icmp[2..4].copy_from_slice(&sum.to_be_bytes());
                let mut ip = Vec::with_capacity(40 + icmp_len);
                ip.extend_from_slice(&[0x60, 0, 0, 0]);
                ip.extend_from_slice(&(icmp_len as u16).to_be_bytes());
                ip.push(IPPROTO_ICMPV6);
                ip.push(64);
                ip.extend_from_slice(&src.octets());
                ip.extend_from_slice(&dst.octets());
                ip.extend_from_slice(&icmp);
                Ok(ip)
            }
            _ => Err(WireError::FieldOutOfRange {
                field: "icmp addresses (one IPv4, one IPv6)",
                value: 0,
            }),
        }
    }

    /// An IP packet carrying ICMP (IPv4, no options) or ICMPv6 (no extension headers), its
    /// checksum checked.
    pub fn parse(packet: &[u8]) -> Result<IcmpRepr, WireError> {
        let truncated = |header, needed, available| WireError::Truncated {
            header,
            needed,
            available,
        };
        let version = packet.first().ok_or(truncated(Header::Ip, 1, 0))? >> 4;
        let (src, dst, icmp): (IpAddr, IpAddr, &[u8]) = match version {
            4 => {
                if packet.len() < 20 {
                    return Err(truncated(Header::Ipv4, 20, packet.len()));
                }
                let ihl = usize::from(packet[0] & 0xf) * 4;
                let total = usize::from(u16::from_be_bytes([packet[2], packet[3]]));
                if packet[9] != IPPROTO_ICMP {
                    return Err(WireError::FieldOutOfRange {
                        field: "ipv4.protocol (not ICMP)",
                        value: u64::from(packet[9]),
                    });
                }
                if ihl < 20 || total < ihl || total > packet.len() {
                    return Err(truncated(
                        Header::Ipv4,
                        total.max(ihl).max(20),
                        packet.len(),
                    ));
                }
                let src = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
                let dst = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
                (src.into(), dst.into(), &packet[ihl..total])
            }
            6 => {
                if packet.len() < 40 {
                    return Err(truncated(Header::Ipv6, 40, packet.len()));
                }
                let len = usize::from(u16::from_be_bytes([packet[4], packet[5]]));
                if packet[6] != IPPROTO_ICMPV6 {
                    return Err(WireError::FieldOutOfRange {
                        field: "ipv6.next_header (not ICMPv6)",
                        value: u64::from(packet[6]),
                    });
                }
                if 40 + len > packet.len() {
                    return Err(truncated(Header::Ipv6, 40 + len, packet.len()));
                }
                let a = |at: usize| -> [u8; 16] { packet[at..at + 16].try_into().expect("16") };
                (
                    Ipv6Addr::from(a(8)).into(),
                    Ipv6Addr::from(a(24)).into(),
                    &packet[40..40 + len],
                )
            }
            v => return Err(WireError::IpVersion { version: v }),
        };
        if icmp.len() < ICMP_HEADER_LEN {
            return Err(truncated(Header::Icmp, ICMP_HEADER_LEN, icmp.len()));
        }
        let sum = match (src, dst) {
            (IpAddr::V6(s), IpAddr::V6(d)) => checksum::finish(
                checksum::sum(&v6_pseudo(s, d, icmp.len() as u32)) + checksum::sum(icmp),
            ),
            _ => checksum::finish(checksum::sum(icmp)),
        };
        if sum != 0 {
            return Err(WireError::FieldOutOfRange {
                field: "icmp.checksum (does not add up)",
                value: u64::from(u16::from_be_bytes([icmp[2], icmp[3]])),
            });
        }
        Ok(IcmpRepr {
            src,
            dst,
            icmp_type: icmp[0],
            code: icmp[1],
            rest: u32::from_be_bytes([icmp[4], icmp[5], icmp[6], icmp[7]]),
            body: icmp[8..].to_vec(),
        })
    }

    /// The TCP segment quoted in the body, when there is one (the invoking packet's IP
    /// header, then at least the 8 bytes holding the ports and the sequence number).
    pub fn quoted_tcp(&self) -> Option<QuotedTcp> {
        let b = &self.body;
        let (src, dst, proto, at): (IpAddr, IpAddr, u8, usize) = match *b.first()? >> 4 {
            4 if b.len() >= 20 => {
                let ihl = usize::from(b[0] & 0xf) * 4;
                let ip = |i: usize| Ipv4Addr::new(b[i], b[i + 1], b[i + 2], b[i + 3]);
                (ip(12).into(), ip(16).into(), b[9], ihl)
            }
            6 if b.len() >= 40 => {
                let ip = |i: usize| -> Ipv6Addr {
                    Ipv6Addr::from(<[u8; 16]>::try_from(&b[i..i + 16]).expect("16"))
                };
                (ip(8).into(), ip(24).into(), b[6], 40)
            }
            _ => return None,
        };
        let tcp = b.get(at..at + 8)?;
        (proto == super::IPPROTO_TCP).then(|| QuotedTcp {
            src: SocketAddr::new(src, u16::from_be_bytes([tcp[0], tcp[1]])),
            dst: SocketAddr::new(dst, u16::from_be_bytes([tcp[2], tcp[3]])),
            seq: u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]),
        })
    }

    /// The start of a quoted TCP segment as packetdrill builds one (icmp_packet.c): the
    /// invoking packet's fixed IP header (from the stack to the peer, its length counting a
    /// 20-byte TCP header and `payload` bytes) and the TCP header's first 8 bytes.
    pub fn quote_tcp(quoted: QuotedTcp, payload: u16) -> Vec<u8> {
        let mut out = match (quoted.src.ip(), quoted.dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                ipv4_header(s, d, 40u16.saturating_add(payload), super::IPPROTO_TCP)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let mut h = vec![0x60, 0, 0, 0];
                h.extend_from_slice(&20u16.saturating_add(payload).to_be_bytes());
                h.push(super::IPPROTO_TCP);
                h.push(64);
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                h
            }
            // A mixed pair cannot be written; quote no header at all.
            _ => Vec::new(),
        };
        out.extend_from_slice(&quoted.src.port().to_be_bytes());
        out.extend_from_slice(&quoted.dst.port().to_be_bytes());
        out.extend_from_slice(&quoted.seq.to_be_bytes());
        out
    }
}

fn ipv4_header(src: Ipv4Addr, dst: Ipv4Addr, total: u16, protocol: u8) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0x40, 0, 64, protocol, 0, 0]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let sum = checksum::finish(checksum::sum(&h));
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h
}

fn v6_pseudo(src: Ipv6Addr, dst: Ipv6Addr, len: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(40);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(&len.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, IPPROTO_ICMPV6]);
    p
}
