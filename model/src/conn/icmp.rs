//! ICMP errors about a connection (RFC 9293 3.9.2.2, RFC 5927, RFC 1122 4.2.3.9): the
//! classes RFC 9293 sorts them into, read from an ICMP or ICMPv6 type and code.

use crate::seq::SeqNumber;
use crate::wire::icmp::{v4, v6, IcmpRepr};

/// How RFC 9293 3.9.2.2 treats an ICMP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpClass {
    /// Source Quench (ICMPv4 type 4).
    SourceQuench,
    /// Destination Unreachable codes 0, 1, 5 (ICMPv6: 0, 3); Time Exceeded; Parameter
    /// Problem.
    Soft,
    /// Destination Unreachable codes 2 and 3 (protocol, port; ICMPv6 code 4, port).
    Hard,
    /// Fragmentation needed (Destination Unreachable code 4) or ICMPv6 Packet Too Big: path
    /// MTU discovery (RFC 1191, RFC 8201), with the MTU it carries.
    PacketTooBig { mtu: u32 },
    /// Any other type or code.
    Other,
}

/// An ICMP error as the connection it names sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpError {
    pub class: IcmpClass,
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    /// The sequence number of the quoted segment.
    pub seq: SeqNumber,
}

impl IcmpError {
    /// The error an ICMP message carries about the TCP segment it quotes, if it quotes one.
    pub fn of(msg: &IcmpRepr) -> Option<IcmpError> {
        let quoted = msg.quoted_tcp()?;
        let v6 = msg.is_v6();
        let (t, c) = (msg.icmp_type, msg.code);
        let class = match (v6, t, c) {
            (false, v4::SOURCE_QUENCH, _) => IcmpClass::SourceQuench,
            (false, v4::DEST_UNREACH, v4::FRAG_NEEDED) => IcmpClass::PacketTooBig {
                mtu: msg.rest & 0xffff,
            },
            // RFC 9293 3.9.2.2: soft errors, Destination Unreachable codes 0, 1, 5.
            (false, v4::DEST_UNREACH, 0 | 1 | 5) => IcmpClass::Soft,
            // RFC 9293 3.9.2.2: hard errors, Destination Unreachable codes 2-4 (4 is PMTUD).
            (false, v4::DEST_UNREACH, 2 | 3) => IcmpClass::Hard,
            (false, v4::TIME_EXCEEDED, 0 | 1) | (false, v4::PARAMETER_PROBLEM, _) => {
                IcmpClass::Soft
            }
            (true, v6::PACKET_TOO_BIG, _) => IcmpClass::PacketTooBig { mtu: msg.rest },
            (true, v6::DEST_UNREACH, 0 | 3) => IcmpClass::Soft,
            (true, v6::DEST_UNREACH, 4) => IcmpClass::Hard,
            (true, v6::TIME_EXCEEDED, 0 | 1) | (true, v6::PARAMETER_PROBLEM, 0..=2) => {
                IcmpClass::Soft
            }
            _ => IcmpClass::Other,
        };
        Some(IcmpError {
            class,
            v6,
            icmp_type: t,
            code: c,
            seq: SeqNumber(quoted.seq),
        })
    }
}

/// What the connection did with an ICMP error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpEffect {
    /// Dropped for what it quotes (RFC 5927 4.1: a sequence number outside SND.UNA to
    /// SND.NXT), or for the state the connection is in.
    Ignored(&'static str),
    /// Source Quench, discarded (MUST-55).
    Discarded,
    /// Noted; the connection goes on (a soft error, MUST-56; or Linux in a synchronized
    /// state).
    NoAbort,
    /// The connection is aborted, without a segment (SHLD-26; Linux in SYN-SENT).
    Aborted,
    /// Something the model does not follow, and why.
    NotFollowed(&'static str),
}
