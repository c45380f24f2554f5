//! The Internet checksum (RFC 1071) and the TCP pseudo-headers (RFC 9293 §3.1, RFC 8200 §8.1).

use core::net::{Ipv4Addr, Ipv6Addr};

/// What a packet carries in a checksum field.
///
/// `Correct` means "whatever the right value is": the parser reports it when the checksum
/// verified, and emit computes it. `Forced` is a value written verbatim: the parser reports it
/// when the checksum was wrong (under [`ChecksumPolicy::Accept`]), and a test sets it to
/// inject a corrupt packet. A `Forced` value that happens to be the correct one emits the
/// same bytes as `Correct`, but parses back as `Correct`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Checksum {
    #[default]
    Correct,
    Forced(u16),
}

/// Whether parsing rejects packets whose checksums are wrong.
///
/// `Accept` exists so the harness can still look inside a corrupt packet the stack sent (or
/// one it was fed), and report what was wrong with it rather than just that it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ChecksumPolicy {
    #[default]
    Verify,
    Accept,
}

/// Ones'-complement sum of `data` taken as big-endian 16-bit words, not yet folded.
///
/// Accumulates eight bytes at a time into a u64 (the carries land in the upper bits and are
/// folded at the end), which is several times faster than word-at-a-time on packet-sized
/// inputs and is what keeps checksum verification cheap in the parser benchmark.
pub fn sum(data: &[u8]) -> u64 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        // Add the two 32-bit halves separately so the u64 cannot overflow on any packet
        // shorter than 2^32 * 8 bytes.
        acc += (w >> 32) + (w & 0xffff_ffff);
    }
    let mut rest = chunks.remainder();
    while rest.len() >= 2 {
        acc += u64::from(u16::from_be_bytes([rest[0], rest[1]]));
        rest = &rest[2..];
    }
    if let [last] = rest {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a running sum to 16 bits and complements it: the value to put in the field.
pub fn finish(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The addresses that go into the TCP pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1).
///
/// For IPv6 with a routing header, `dst` is the final destination, not the next hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PseudoHeader {
    V4 { src: Ipv4Addr, dst: Ipv4Addr },
    V6 { src: Ipv6Addr, dst: Ipv6Addr },
}

impl PseudoHeader {
    /// The unfolded sum of the pseudo-header for a TCP segment of `tcp_len` bytes.
    pub fn sum(&self, tcp_len: u32) -> u64 {
        let proto_len = u64::from(super::IPPROTO_TCP) + u64::from(tcp_len);
        match self {
            PseudoHeader::V4 { src, dst } => sum(&src.octets()) + sum(&dst.octets()) + proto_len,
            PseudoHeader::V6 { src, dst } => sum(&src.octets()) + sum(&dst.octets()) + proto_len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of RFC 1071 §3.
    #[test]
    fn rfc1071_example() {
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(finish(sum(&data)), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(&[0xab]), 0xab00);
        assert_eq!(
            finish(sum(&[1, 2, 3, 4, 5, 6, 7, 8, 9])),
            finish(sum(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0]))
        );
    }

    #[test]
    fn wide_sum_matches_word_sum() {
        let data: Vec<u8> = (0..1003u32).map(|i| (i * 7919 % 251) as u8).collect();
        let naive: u64 = data
            .chunks(2)
            .map(|c| u64::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
            .sum();
        assert_eq!(finish(sum(&data)), finish(naive));
    }
}
