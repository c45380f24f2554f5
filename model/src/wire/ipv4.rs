//! The IPv4 header (RFC 791 §3.1), as far as carrying TCP needs it.

use core::net::Ipv4Addr;

use super::checksum::{self, Checksum};
use super::{Header, WireError};

pub const HEADER_LEN: usize = 20;
/// The most option bytes an IPv4 header can carry (IHL 15 words, less 20 fixed bytes).
pub const MAX_OPTIONS_LEN: usize = 40;

/// An IPv4 packet in a buffer, read in place.
///
/// [`Ipv4Packet::new_checked`] guarantees that version, IHL and total length are consistent
/// with each other and with the buffer, so every accessor is in bounds. Bytes past the total
/// length (link-layer padding) are not part of the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Ipv4Packet<T> {
        Ipv4Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Ipv4Packet<T>, WireError> {
        let packet = Ipv4Packet { buffer };
        packet.check_len()?;
        Ok(packet)
    }

    fn check_len(&self) -> Result<(), WireError> {
        let data = self.buffer.as_ref();
        if data.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                header: Header::Ipv4,
                needed: HEADER_LEN,
                available: data.len(),
            });
        }
        if self.version() != 4 {
            return Err(WireError::IpVersion {
                version: self.version(),
            });
        }
        // RFC 791 3.1: IHL counts 32-bit words; "the minimum value for a correct header is 5".
        if self.ihl() < 5 {
            return Err(WireError::Ipv4HeaderLengthTooSmall { ihl: self.ihl() });
        }
        let header_len = self.header_len();
        if header_len > data.len() {
            return Err(WireError::Ipv4HeaderLengthPastEnd {
                header_len,
                available: data.len(),
            });
        }
        let total_len = usize::from(self.total_len());
        if total_len < header_len || total_len > data.len() {
            return Err(WireError::Ipv4TotalLength {
                total_len,
                header_len,
                available: data.len(),
            });
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    fn u16_at(&self, at: usize) -> u16 {
        u16::from_be_bytes([self.bytes()[at], self.bytes()[at + 1]])
    }

    pub fn version(&self) -> u8 {
        self.bytes()[0] >> 4
    }
    /// Header length in 32-bit words.
    pub fn ihl(&self) -> u8 {
        self.bytes()[0] & 0x0f
    }
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }
    /// The DSCP and ECN bits together, as the old type-of-service byte.
    pub fn dscp_ecn(&self) -> u8 {
        self.bytes()[1]
    }
    pub fn total_len(&self) -> u16 {
        self.u16_at(2)
    }
    pub fn identification(&self) -> u16 {
        self.u16_at(4)
    }
    /// The reserved flag bit (must be zero, RFC 791 §3.1).
    pub fn reserved_flag(&self) -> bool {
        self.bytes()[6] & 0x80 != 0
    }
    pub fn dont_fragment(&self) -> bool {
        self.bytes()[6] & 0x40 != 0
    }
    pub fn more_fragments(&self) -> bool {
        self.bytes()[6] & 0x20 != 0
    }
    /// Fragment offset in 8-byte units.
    pub fn fragment_offset(&self) -> u16 {
        self.u16_at(6) & 0x1fff
    }
    pub fn ttl(&self) -> u8 {
        self.bytes()[8]
    }
    pub fn protocol(&self) -> u8 {
        self.bytes()[9]
    }
    pub fn checksum(&self) -> u16 {
        self.u16_at(10)
    }
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = self.bytes();
        Ipv4Addr::new(b[12], b[13], b[14], b[15])
    }
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = self.bytes();
        Ipv4Addr::new(b[16], b[17], b[18], b[19])
    }
    pub fn options(&self) -> &[u8] {
        &self.bytes()[HEADER_LEN..self.header_len()]
    }
    /// The bytes after the header, up to the total length.
    pub fn payload(&self) -> &[u8] {
        &self.bytes()[self.header_len()..usize::from(self.total_len())]
    }
    /// Whether the header checksum sums to zero (either encoding of zero, RFC 1624 §3).
    pub fn checksum_valid(&self) -> bool {
        checksum::finish(checksum::sum(&self.bytes()[..self.header_len()])) == 0
    }
    /// The checksum a sender would compute for this header.
    pub fn expected_checksum(&self) -> u16 {
        let header = &self.bytes()[..self.header_len()];
        checksum::finish(checksum::sum(header) - u64::from(self.checksum()))
    }
}

impl<'a> Ipv4Packet<&'a [u8]> {
    /// [`Ipv4Packet::payload`] with the buffer's lifetime rather than the view's.
    pub fn payload_ref(&self) -> &'a [u8] {
        &self.buffer[self.header_len()..usize::from(self.total_len())]
    }
}

/// An IPv4 header carrying TCP, owned. The protocol field is always 6 and the total length
/// and IHL are derived, so neither is stored.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub dscp_ecn: u8,
    pub identification: u16,
    pub reserved_flag: bool,
    pub dont_fragment: bool,
    pub ttl: u8,
    pub checksum: Checksum,
    /// Raw option bytes, a multiple of 4 and at most 40.
    pub options: Vec<u8>,
}

impl Ipv4Repr {
    /// A plain header as Linux would send it: DF set, TTL 64.
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr) -> Ipv4Repr {
        Ipv4Repr {
            src,
            dst,
            dscp_ecn: 0,
            identification: 0,
            reserved_flag: false,
            dont_fragment: true,
            ttl: 64,
            checksum: Checksum::Correct,
            options: Vec::new(),
        }
    }

    pub(crate) fn from_packet<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>) -> Ipv4Repr {
        Ipv4Repr {
            src: packet.src_addr(),
            dst: packet.dst_addr(),
            dscp_ecn: packet.dscp_ecn(),
            identification: packet.identification(),
            reserved_flag: packet.reserved_flag(),
            dont_fragment: packet.dont_fragment(),
            ttl: packet.ttl(),
            checksum: if packet.checksum_valid() {
                Checksum::Correct
            } else {
                Checksum::Forced(packet.checksum())
            },
            options: packet.options().to_vec(),
        }
    }

    pub fn header_len(&self) -> Result<usize, WireError> {
        if self.options.len() % 4 != 0 || self.options.len() > MAX_OPTIONS_LEN {
            return Err(WireError::FieldOutOfRange {
                field: "ipv4.options length",
                value: self.options.len() as u64,
            });
        }
        Ok(HEADER_LEN + self.options.len())
    }

    /// Writes the header into the first [`Self::header_len`] bytes of `buf`, for a payload of
    /// `payload_len` bytes.
    pub fn emit(&self, buf: &mut [u8], payload_len: usize) -> Result<(), WireError> {
        let header_len = self.header_len()?;
        let total = header_len + payload_len;
        if total > usize::from(u16::MAX) {
            return Err(WireError::PacketTooLong {
                len: total,
                max: usize::from(u16::MAX),
            });
        }
        let b = &mut buf[..header_len];
        b[0] = 0x40 | (header_len / 4) as u8;
        b[1] = self.dscp_ecn;
        b[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        b[4..6].copy_from_slice(&self.identification.to_be_bytes());
        b[6] = (u8::from(self.reserved_flag) << 7) | (u8::from(self.dont_fragment) << 6);
        b[7] = 0;
        b[8] = self.ttl;
        b[9] = super::IPPROTO_TCP;
        b[10..12].fill(0);
        b[12..16].copy_from_slice(&self.src.octets());
        b[16..20].copy_from_slice(&self.dst.octets());
        b[HEADER_LEN..].copy_from_slice(&self.options);
        let sum = match self.checksum {
            Checksum::Correct => checksum::finish(checksum::sum(b)),
            Checksum::Forced(v) => v,
        };
        b[10..12].copy_from_slice(&sum.to_be_bytes());
        Ok(())
    }
}

/// IPv4 option types (RFC 791 3.1) that checks put on or read off the wire.
pub mod option_kind {
    /// End of Option List.
    pub const END: u8 = 0;
    /// No Operation.
    pub const NOP: u8 = 1;
    /// Record Route.
    pub const RR: u8 = 7;
    /// Loose Source and Record Route.
    pub const LSRR: u8 = 131;
    /// Strict Source and Record Route.
    pub const SSRR: u8 = 137;
}

/// A route option (LSRR, SSRR or RR) with pointer `ptr` and `addrs`, padded with End of
/// Option List to the 4-octet boundary an IPv4 header needs (RFC 791 3.1: length counts the
/// type, length and pointer octets and the route data). `None` when the addresses do not fit
/// an option's one-octet length.
pub fn route_option(kind: u8, ptr: u8, addrs: &[Ipv4Addr]) -> Option<Vec<u8>> {
    let len = u8::try_from(3 + 4 * addrs.len()).ok()?;
    let mut o = vec![kind, len, ptr];
    for a in addrs {
        o.extend_from_slice(&a.octets());
    }
    while o.len() % 4 != 0 {
        o.push(option_kind::END);
    }
    Some(o)
}

/// The IPv4 option of `kind` in a header's option bytes, as its bytes (type, length, then
/// its own fields), or `None` when there is none before End of Options List or the list is
/// malformed (RFC 791 3.1: options 0 and 1 are single octets, the rest carry a length of at
/// least 2). Tests and checks read what a stack put on the wire with it.
pub fn option_of_kind(options: &[u8], kind: u8) -> Option<&[u8]> {
    let mut i = 0;
    while i < options.len() {
        match options[i] {
            0 => return None,
            1 => i += 1,
            k => {
                let len = usize::from(*options.get(i + 1)?);
                if len < 2 {
                    return None;
                }
                let opt = options.get(i..i + len)?;
                if k == kind {
                    return Some(opt);
                }
                i += len;
            }
        }
    }
    None
}

#[cfg(test)]
mod option_tests {
    use super::option_of_kind;

    #[test]
    fn a_route_option_is_padded_to_a_word_and_read_back_whole() {
        use super::{option_kind, route_option};
        use core::net::Ipv4Addr;
        let hop = Ipv4Addr::new(192, 0, 2, 7);
        let o = route_option(option_kind::LSRR, 4, &[hop]).unwrap();
        assert_eq!(o, [131, 7, 4, 192, 0, 2, 7, 0]);
        assert_eq!(option_of_kind(&o, option_kind::LSRR), Some(&o[..7]));
        assert_eq!(route_option(option_kind::RR, 4, &[hop; 64]), None);
        assert_eq!(
            route_option(option_kind::RR, 4, &[hop; 9]).unwrap().len(),
            40
        );
    }

    #[test]
    fn finds_an_option_after_nops_and_stops_at_the_end_or_a_bad_length() {
        // NOP, record route (7, len 7, ptr 4, one address), End of Options, then junk.
        let opts = [1, 7, 7, 4, 192, 0, 2, 1, 0, 131, 3, 4];
        assert_eq!(option_of_kind(&opts, 7), Some(&opts[1..8]));
        assert_eq!(option_of_kind(&opts, 131), None, "past End of Options");
        assert_eq!(option_of_kind(&[131, 1, 4], 131), None, "length below 2");
        assert_eq!(
            option_of_kind(&[131, 9, 4], 131),
            None,
            "length past the bytes"
        );
        assert_eq!(option_of_kind(&[], 7), None);
    }
}
