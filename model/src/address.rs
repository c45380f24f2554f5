//! Which remote addresses TCP may open connections to and take segments from
//! (RFC 9293 3.9.1.1 and 3.9.2.3, which quote RFC 1122 3.2.1.3 and 4.2.3.10).
//!
//! The model sees addresses only on segments and calls; whether an address is a subnet's
//! broadcast depends on the interface, so the caller says which one is (`directed`).

use core::net::{IpAddr, Ipv4Addr};

use crate::rule::{Label, Rule};

/// RFC 9293 3.9.2.3: MUST-57, a segment (a SYN, and per RFC 1122 any segment) addressed
/// to a broadcast or multicast address is silently discarded.
pub const TO_BROADCAST_OR_MULTICAST: Rule = Rule::rfc(9293, "3.9.2.3")
    .labels(&[Label::Must(57)])
    .says("a segment to a broadcast or multicast address is silently discarded");

/// RFC 9293 3.9.2.3: MUST-63, a SYN from an invalid source address is ignored.
pub const FROM_INVALID_SOURCE: Rule = Rule::rfc(9293, "3.9.2.3")
    .labels(&[Label::Must(63)])
    .says("a SYN from an invalid source address is ignored");

/// RFC 9293 3.9.1.1: MUST-46, an OPEN to a broadcast or multicast address is rejected.
pub const OPEN_TO_BROADCAST_OR_MULTICAST: Rule = Rule::rfc(9293, "3.9.1.1")
    .labels(&[Label::Must(46)])
    .says("an OPEN to a broadcast or multicast address is rejected as an error");

/// Whether `a` is a broadcast or multicast address: IPv4's 224/4, the limited broadcast
/// 255.255.255.255 and `directed` (the subnet's broadcast, if the caller knows it); IPv6's
/// ff00::/8 (IPv6 has no broadcast).
pub fn broadcast_or_multicast(a: IpAddr, directed: Option<IpAddr>) -> bool {
    match a {
        IpAddr::V4(v4) => v4.is_multicast() || v4.is_broadcast() || Some(a) == directed,
        IpAddr::V6(v6) => v6.is_multicast(),
    }
}

/// Whether `a` is invalid as a source (RFC 1122 3.2.1.3): IPv4's "this network" 0/8,
/// loopback 127/8, multicast, the reserved class E 240/4 (which holds the limited
/// broadcast) and the subnet's broadcast; IPv6's unspecified, loopback and multicast
/// addresses (RFC 4291 2.5.2, 2.5.3, 2.7).
pub fn invalid_source(a: IpAddr, directed: Option<IpAddr>) -> bool {
    match a {
        IpAddr::V4(v4) => {
            let first = v4.octets()[0];
            first == 0
                || v4.is_loopback()
                || v4.is_multicast()
                || first >= 240
                || Some(a) == directed
        }
        IpAddr::V6(v6) => v6.is_unspecified() || v6.is_loopback() || v6.is_multicast(),
    }
}

/// The rule that has an arriving segment from `src` to `dst` discarded before any
/// connection or listener sees it, if one does.
pub fn inbound_refusal(
    src: IpAddr,
    dst: IpAddr,
    syn: bool,
    directed: Option<IpAddr>,
) -> Option<&'static Rule> {
    if broadcast_or_multicast(dst, directed) {
        return Some(&TO_BROADCAST_OR_MULTICAST);
    }
    // RFC 9293 3.9.2.3 names SYNs; the other segments from such a source can match no
    // connection, since none is ever opened with one.
    (syn && invalid_source(src, directed)).then_some(&FROM_INVALID_SOURCE)
}

/// The broadcast address of the IPv4 subnet `addr`/`prefix_len`, for a prefix that has one
/// (up to /30).
pub fn subnet_broadcast(addr: Ipv4Addr, prefix_len: u8) -> Option<Ipv4Addr> {
    if prefix_len > 30 {
        return None;
    }
    let host_bits = u32::MAX >> prefix_len;
    Some(Ipv4Addr::from(u32::from(addr) | host_bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn destinations() {
        let directed = Some(v4("192.0.2.255"));
        for bad in [
            "224.0.0.1",
            "239.1.2.3",
            "255.255.255.255",
            "192.0.2.255",
            "ff02::1",
        ] {
            assert!(broadcast_or_multicast(v4(bad), directed), "{bad}");
        }
        for good in ["192.0.2.1", "192.0.2.254", "2001:db8::1"] {
            assert!(!broadcast_or_multicast(v4(good), directed), "{good}");
        }
        assert!(!broadcast_or_multicast(v4("192.0.2.255"), None));
    }

    #[test]
    fn sources() {
        let directed = Some(v4("192.0.2.255"));
        for bad in [
            "0.0.0.0",
            "127.0.0.1",
            "224.0.0.5",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.2.255",
            "::",
            "::1",
            "ff02::1",
        ] {
            assert!(invalid_source(v4(bad), directed), "{bad}");
        }
        for good in ["192.0.2.2", "198.51.100.7", "2001:db8::2"] {
            assert!(!invalid_source(v4(good), directed), "{good}");
        }
    }

    #[test]
    fn refusal_names_the_rule() {
        let (peer, stack) = (v4("192.0.2.2"), v4("192.0.2.1"));
        assert_eq!(inbound_refusal(peer, stack, true, None), None);
        assert_eq!(
            inbound_refusal(peer, v4("224.0.0.1"), false, None),
            Some(&TO_BROADCAST_OR_MULTICAST)
        );
        assert_eq!(
            inbound_refusal(v4("224.0.0.5"), stack, true, None),
            Some(&FROM_INVALID_SOURCE)
        );
        assert_eq!(inbound_refusal(v4("224.0.0.5"), stack, false, None), None);
    }

    #[test]
    fn broadcast_of_a_subnet() {
        let a = Ipv4Addr::new(192, 0, 2, 1);
        assert_eq!(subnet_broadcast(a, 24), Some(Ipv4Addr::new(192, 0, 2, 255)));
        assert_eq!(
            subnet_broadcast(a, 16),
            Some(Ipv4Addr::new(192, 0, 255, 255))
        );
        assert_eq!(subnet_broadcast(a, 32), None);
    }
}
