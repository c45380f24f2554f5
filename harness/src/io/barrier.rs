//! The barrier: how the harness knows the kernel has finished reacting to what it was sent.
//!
//! After the packets of a step, the harness sends an ICMP echo request to the stack's address
//! and reads until the matching echo reply. The kernel handles packets written to a TUN in the
//! writer's context and in order, and replies go out through the same FIFO queue, so
//! everything the stack sent in reaction to the step is ahead of the echo reply. That costs
//! one round trip of a few microseconds, where waiting a fixed quiet period would cost
//! milliseconds and still be a guess. Only timers need real waiting.
//!
//! etherparse builds and reads the ICMP packets: the harness's own codec is for TCP.

use std::net::{Ipv4Addr, Ipv6Addr};

use etherparse::{Icmpv4Type, Icmpv6Type, NetSlice, PacketBuilder, SlicedPacket, TransportSlice};

/// Echo identifier of barrier probes ("tc").
pub const ECHO_ID: u16 = 0x7463;

/// An echo request from `peer` to `stack` carrying sequence number `seq`.
pub fn probe(peer: Ipv4Addr, stack: Ipv4Addr, seq: u16) -> Vec<u8> {
    let builder =
        PacketBuilder::ipv4(peer.octets(), stack.octets(), 64).icmpv4_echo_request(ECHO_ID, seq);
    let payload = b"tcpcheck barrier";
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder
        .write(&mut out, payload)
        .expect("writing to a Vec cannot fail");
    out
}

/// An ICMPv6 echo request from `peer` to `stack`: the stack answers it only once its IPv6
/// address is fully configured, which is how a sandbox knows IPv6 is ready.
pub fn probe_v6(peer: Ipv6Addr, stack: Ipv6Addr, seq: u16) -> Vec<u8> {
    let builder =
        PacketBuilder::ipv6(peer.octets(), stack.octets(), 64).icmpv6_echo_request(ECHO_ID, seq);
    let payload = b"tcpcheck ready";
    let mut out = Vec::with_capacity(builder.size(payload.len()));
    builder
        .write(&mut out, payload)
        .expect("writing to a Vec cannot fail");
    out
}

/// What a packet the stack sent is, as far as the harness is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// TCP: part of the check.
    Tcp,
    /// The answer to barrier probe `seq`.
    BarrierReply(u16),
    /// The answer to IPv6 readiness probe `seq`.
    ReadyReply(u16),
    /// Traffic every IPv6 interface makes on its own (router solicitation, neighbour
    /// discovery, multicast listener reports) or IGMP: filtered out, with the reason.
    Noise(&'static str),
    /// Anything else (ICMP errors, say): kept, since a stack's ICMP answer can matter.
    Other,
}

pub fn classify(packet: &[u8]) -> Kind {
    let Ok(sliced) = SlicedPacket::from_ip(packet) else {
        return Kind::Other;
    };
    match (&sliced.net, &sliced.transport) {
        (_, Some(TransportSlice::Tcp(_))) => Kind::Tcp,
        (_, Some(TransportSlice::Icmpv4(icmp))) => match icmp.icmp_type() {
            Icmpv4Type::EchoReply(echo) if echo.id == ECHO_ID => Kind::BarrierReply(echo.seq),
            _ => Kind::Other,
        },
        (_, Some(TransportSlice::Icmpv6(icmp))) => match icmp.icmp_type() {
            Icmpv6Type::EchoReply(echo) if echo.id == ECHO_ID => Kind::ReadyReply(echo.seq),
            Icmpv6Type::RouterSolicitation => Kind::Noise("IPv6 router solicitation"),
            Icmpv6Type::RouterAdvertisement(_) => Kind::Noise("IPv6 router advertisement"),
            Icmpv6Type::NeighborSolicitation => Kind::Noise("IPv6 neighbour solicitation"),
            Icmpv6Type::NeighborAdvertisement(_) => Kind::Noise("IPv6 neighbour advertisement"),
            Icmpv6Type::Redirect => Kind::Noise("IPv6 redirect"),
            Icmpv6Type::Unknown {
                type_u8: 130..=132 | 143,
                ..
            } => Kind::Noise("IPv6 multicast listener report"),
            _ => Kind::Other,
        },
        (Some(NetSlice::Ipv4(ip)), None)
            if ip.header().protocol() == etherparse::IpNumber::IGMP =>
        {
            Kind::Noise("IGMP")
        }
        // etherparse stops at hop-by-hop headers it cannot place; MLD reports carry one.
        (Some(NetSlice::Ipv6(ip)), None)
            if ip.payload().ip_number == etherparse::IpNumber::IPV6_ICMP =>
        {
            match ip.payload().payload.first() {
                Some(130..=132 | 143) => Kind::Noise("IPv6 multicast listener report"),
                Some(133..=137) => Kind::Noise("IPv6 neighbour discovery"),
                _ => Kind::Other,
            }
        }
        _ => Kind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_is_a_valid_echo_request() {
        let p = probe(Ipv4Addr::new(192, 0, 2, 2), Ipv4Addr::new(192, 0, 2, 1), 7);
        let sliced = SlicedPacket::from_ip(&p).unwrap();
        let Some(TransportSlice::Icmpv4(icmp)) = sliced.transport else {
            panic!("not ICMP");
        };
        assert!(
            matches!(icmp.icmp_type(), Icmpv4Type::EchoRequest(e) if e.id == ECHO_ID && e.seq == 7)
        );
    }

    #[test]
    fn router_solicitation_is_noise() {
        let rs = PacketBuilder::ipv6(
            [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            255,
        )
        .icmpv6(Icmpv6Type::RouterSolicitation);
        let mut out = Vec::new();
        rs.write(&mut out, &[0, 0, 0, 0]).unwrap();
        assert_eq!(classify(&out), Kind::Noise("IPv6 router solicitation"));
    }
}
