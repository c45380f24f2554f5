//! Script ICMP lines to live ICMP errors (packetdrill's icmp_packet.c and run_packet.c
//! `map_inbound_icmp_tcp_packet`): the type and code by their names for the script's IP
//! version, and the quoted segment's sequence number moved into live space as the stack's
//! non-SYN sequence numbers are.

use std::net::{IpAddr, SocketAddr};

use tcpcheck_model::wire::icmp::{self, IcmpRepr, QuotedTcp};

use crate::runner::packet::{BuildError, Conn, SCRIPT_PORT};
use crate::scenario::IcmpPacket;

/// ICMPv4 destination-unreachable codes by packetdrill's names (RFC 1700 numbering).
const V4_UNREACH: [&str; 16] = [
    "net_unreachable",
    "host_unreachable",
    "protocol_unreachable",
    "port_unreachable",
    "frag_needed",
    "source_route_failed",
    "net_unknown",
    "host_unknown",
    "source_host_isolated",
    "net_prohibited",
    "host_prohibited",
    "net_unreachable_for_tos",
    "host_unreachable_for_tos",
    "packet_filtered",
    "precedence_violation",
    "precedence_cutoff",
];
/// ICMPv6 destination-unreachable codes (RFC 4443 3.1), by packetdrill's names, in order:
/// `net_unreachable` and `no_route` are both 0.
const V6_UNREACH: [&str; 6] = [
    "no_route",
    "admin_prohibited",
    "not_neighbour",
    "address_unreachable",
    "port_unreachable",
    "net_unreachable",
];

/// The type and code bytes a line names, for IPv4 or IPv6.
pub fn type_and_code(v6: bool, p: &IcmpPacket) -> Result<(u8, u8), BuildError> {
    let numbered =
        |text: &str, prefix: &str| text.strip_prefix(prefix).and_then(|n| n.parse::<u8>().ok());
    let family = if v6 { "ICMPv6" } else { "ICMPv4" };
    let (icmp_type, codes): (u8, &[&str]) = match (v6, p.icmp_type.as_str()) {
        (_, t) if numbered(t, "type_").is_some() => (numbered(t, "type_").expect("some"), &[]),
        (false, "unreachable") => (icmp::v4::DEST_UNREACH, &V4_UNREACH),
        (false, "source_quench") => (icmp::v4::SOURCE_QUENCH, &[]),
        (false, "time_exceeded") => (icmp::v4::TIME_EXCEEDED, &[]),
        (false, "parameter_problem") => (icmp::v4::PARAMETER_PROBLEM, &[]),
        (true, "unreachable") => (icmp::v6::DEST_UNREACH, &V6_UNREACH),
        (true, "packet_too_big") => (icmp::v6::PACKET_TOO_BIG, &[]),
        (true, "time_exceeded") => (
            icmp::v6::TIME_EXCEEDED,
            &["exceeded_hop_limit", "exceeded_frag_time"],
        ),
        (true, "parameter_problem") => (
            icmp::v6::PARAMETER_PROBLEM,
            &["header_field", "unknown_next_header", "unknown_option"],
        ),
        (_, t) => return Err(format!("bad {family} type `{t}` (or not an error message)")),
    };
    let code = match p.code.as_deref() {
        // A missing code means code 0 (icmp_packet.c).
        None => 0,
        Some(c) => match numbered(c, "code_") {
            Some(n) => n,
            None => codes
                .iter()
                .position(|name| *name == c)
                // The last v6 name, `net_unreachable`, is code 0 like `no_route`.
                .map(|i| if i == 5 && v6 { 0 } else { i as u8 })
                .ok_or_else(|| format!("bad {family} code `{c}` for type `{}`", p.icmp_type))?,
        },
    };
    Ok((icmp_type, code))
}

/// The live ICMP error for a script line about `conn`, between `addrs` (the stack's and
/// the peer's: the script's `--local_ip` and `--remote_ip` where it sets them).
pub fn inbound(
    conn: &Conn,
    p: &IcmpPacket,
    v6: bool,
    addrs: (IpAddr, IpAddr),
) -> Result<IcmpRepr, BuildError> {
    let (icmp_type, code) = type_and_code(v6, p)?;
    let rest = match (p.mtu, v6) {
        (None, _) => 0,
        (Some(m), false)
            if icmp_type == icmp::v4::DEST_UNREACH && code == icmp::v4::FRAG_NEEDED =>
        {
            u32::from(u16::try_from(m).map_err(|_| "ICMPv4 MTU out of 16-bit range".to_string())?)
        }
        (Some(_), false) => {
            return Err("ICMPv4 MTU is only valid for unreachable-frag_needed".into())
        }
        (Some(m), true) if icmp_type == icmp::v6::PACKET_TOO_BIG && code == 0 => m,
        (Some(_), true) => return Err("ICMPv6 MTU is only valid for packet_too_big-0".into()),
    };
    let (seq, len) = p.quoted.unwrap_or((0, 0));
    let (stack, peer) = addrs;
    let quoted = QuotedTcp {
        src: SocketAddr::new(stack, conn.kernel_port.unwrap_or(SCRIPT_PORT)),
        dst: SocketAddr::new(peer, conn.peer_port),
        // The stack's non-SYN sequence space (local_seq_script_to_live_offset, is_syn false).
        seq: seq.wrapping_add(conn.live_local_isn),
    };
    Ok(IcmpRepr {
        src: peer,
        dst: stack,
        icmp_type,
        code,
        rest,
        body: IcmpRepr::quote_tcp(quoted, len),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Direction;

    fn line(t: &str, code: Option<&str>, mtu: Option<u32>) -> IcmpPacket {
        IcmpPacket {
            direction: Direction::Inbound,
            peer: 1,
            ecn: None,
            icmp_type: t.into(),
            code: code.map(Into::into),
            mtu,
            quoted: None,
        }
    }

    #[test]
    fn names_resolve_per_family() {
        assert_eq!(
            type_and_code(false, &line("unreachable", Some("port_unreachable"), None)),
            Ok((3, 3))
        );
        assert_eq!(
            type_and_code(false, &line("unreachable", None, None)),
            Ok((3, 0))
        );
        assert_eq!(
            type_and_code(false, &line("source_quench", None, None)),
            Ok((4, 0))
        );
        assert_eq!(
            type_and_code(true, &line("unreachable", Some("port_unreachable"), None)),
            Ok((1, 4))
        );
        assert_eq!(
            type_and_code(true, &line("unreachable", Some("net_unreachable"), None)),
            Ok((1, 0))
        );
        assert_eq!(
            type_and_code(true, &line("unreachable", Some("admin_prohibited"), None)),
            Ok((1, 1))
        );
        assert_eq!(
            type_and_code(true, &line("packet_too_big", None, None)),
            Ok((2, 0))
        );
        assert_eq!(
            type_and_code(true, &line("type_200", Some("code_7"), None)),
            Ok((200, 7))
        );
        assert!(type_and_code(true, &line("source_quench", None, None)).is_err());
        assert!(type_and_code(false, &line("unreachable", Some("bogus"), None)).is_err());
    }
}
