//! Script packets to live segments and back, with packetdrill's sequence-number spaces
//! (run_packet.c `map_inbound_packet`, `tcp_convert_seq_number`, socket.h `*_offset`).
//!
//! packetdrill writes numbers the way tcpdump prints them: every number in a SYN-flagged
//! segment is absolute, every other one is relative to the first SYN of its side. The remote
//! side's live ISN is the script's own (packetdrill picks it), so inbound SYNs go out as
//! written; the kernel picks its ISN, which is learned from its SYN or SYN-ACK.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::{
    IpRepr, Ipv4Repr, Ipv6Repr, SackBlock, SackBlocks, SegmentRepr, TcpFlags, TcpOption, TcpRepr,
};

use crate::scenario::{self, Direction, TcpOptions};

/// The port the kernel listens on and the port the peer answers on for an active open:
/// packetdrill's `live_bind_port` and `live_connect_port` (config.c).
pub const SCRIPT_PORT: u16 = 8080;

/// First remote port of a passive connection. packetdrill takes an ephemeral port of the
/// host for each; a sandbox has no other users, so a fixed base keeps traces identical from
/// run to run.
pub const PEER_PORT_BASE: u16 = 40000;

/// Peer `n`'s address: 192.0.2.(1+n) or 2001:db8::(1+n), the stack being peer 0.
pub fn peer_ip(v6: bool, n: u16) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1 + n))
    } else {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, (1 + n) as u8))
    }
}

/// Which peer a captured segment is addressed to, if any.
pub fn peer_of(seg: &SegmentRepr) -> Option<u16> {
    match &seg.ip {
        IpRepr::V4(ip) => {
            let o = ip.dst.octets();
            (o[..3] == [192, 0, 2] && o[3] >= 2).then(|| u16::from(o[3]) - 1)
        }
        IpRepr::V6(ip) => {
            let s = ip.dst.segments();
            (s[..7] == [0x2001, 0xdb8, 0, 0, 0, 0, 0] && s[7] >= 2).then(|| s[7] - 1)
        }
    }
}

/// One connection as packetdrill's `struct socket` tracks it (socket.h).
#[derive(Clone, Debug)]
pub struct Conn {
    pub peer: u16,
    pub peer_port: u16,
    /// Unknown for an active open until the kernel's SYN is seen.
    pub kernel_port: Option<u16>,
    pub state: ConnState,
    pub remote_isn: u32,
    pub script_local_isn: u32,
    pub live_local_isn: u32,
    /// Script TS val to the live TS val of the same outbound segment.
    pub ts_vals: HashMap<u32, u32>,
    /// Counts `listen()` calls, so that a SYN after a new listen() opens a new connection.
    pub epoch: u32,
}

/// The subset of packetdrill's `enum socket_state_t` that changes how numbers map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    PassivePacketReceived,
    PassiveSynAckSent,
    PassiveSynAckAcked,
    ActiveSynSent,
    ActiveSynAcked,
}

impl Conn {
    fn remote_script_to_live(&self, syn: bool) -> u32 {
        if syn {
            0
        } else {
            self.remote_isn
        }
    }

    fn local_script_to_live(&self, syn: bool) -> u32 {
        if syn {
            self.live_local_isn.wrapping_sub(self.script_local_isn)
        } else {
            self.live_local_isn
        }
    }
}

/// Why a script packet cannot be built.
pub type BuildError = String;

fn flags_of(f: &scenario::TcpFlags) -> (TcpFlags, u8) {
    let mut out = TcpFlags::empty();
    for (on, flag) in [
        (f.fin, TcpFlags::FIN),
        (f.syn, TcpFlags::SYN),
        (f.rst, TcpFlags::RST),
        (f.psh, TcpFlags::PSH),
        (f.ack, TcpFlags::ACK),
        (f.urg, TcpFlags::URG),
        (f.ece, TcpFlags::ECE),
        (f.cwr, TcpFlags::CWR),
    ] {
        if on {
            out |= flag;
        }
    }
    // AE is the lowest reserved bit, next to CWR.
    (out, u8::from(f.ae))
}

/// Options as written, SACK blocks moved by `sack_offset`.
pub fn options_to_wire(
    list: &[scenario::TcpOption],
    sack_offset: u32,
) -> Result<Vec<TcpOption<'static>>, BuildError> {
    list.iter()
        .map(|o| {
            Ok(match o {
                scenario::TcpOption::Nop => TcpOption::Nop,
                scenario::TcpOption::Eol => TcpOption::EndOfList,
                scenario::TcpOption::Mss(v) => TcpOption::Mss(*v),
                scenario::TcpOption::WScale(v) => TcpOption::WindowScale(*v),
                scenario::TcpOption::SackOk => TcpOption::SackPermitted,
                scenario::TcpOption::Sack(blocks) => {
                    let blocks: Vec<SackBlock> = blocks
                        .iter()
                        .map(|(l, r)| {
                            SackBlock::new(l.wrapping_add(sack_offset), r.wrapping_add(sack_offset))
                        })
                        .collect();
                    TcpOption::Sack(
                        SackBlocks::new(&blocks)
                            .ok_or_else(|| "a SACK option holds 1 to 4 blocks".to_string())?,
                    )
                }
                scenario::TcpOption::Timestamp { val, ecr } => TcpOption::Timestamps {
                    val: *val,
                    ecr: *ecr,
                },
                scenario::TcpOption::FastOpen(c) => TcpOption::FastOpen(cookie_bytes(c)?.into()),
                scenario::TcpOption::FastOpenExp(c) => {
                    TcpOption::FastOpenExp(cookie_bytes(c)?.into())
                }
                scenario::TcpOption::Md5(d) => TcpOption::Unknown {
                    kind: KIND_MD5,
                    data: md5_digest(d)?.into(),
                },
                scenario::TcpOption::Unknown { kind, data } => TcpOption::Unknown {
                    kind: *kind,
                    data: cookie_bytes(data)?.into(),
                },
                scenario::TcpOption::Raw(hex) => super::crafted::raw_placeholder(hex)?,
                other => return Err(format!("TCP option `{other}` is not supported yet")),
            })
        })
        .collect()
}

/// RFC 2385's TCP MD5 Signature option: kind 19, length 18.
const KIND_MD5: u8 = 19;
const MD5_DIGEST_LEN: usize = 16;

/// An `md5` option's digest as a script writes it: 32 hex digits (packetdrill's
/// `TCP_MD5_DIGEST_LEN` bytes), sent as written.
fn md5_digest(text: &str) -> Result<Vec<u8>, BuildError> {
    if text.len() != 2 * MD5_DIGEST_LEN || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "md5 digest `{text}`: {} hex digits expected (RFC 2385: 16 bytes)",
            2 * MD5_DIGEST_LEN
        ));
    }
    Ok(hex_bytes(text))
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("checked hex digits"))
        .collect()
}

/// A Fast Open cookie as a script writes it: hex digits (the parser has checked there is an
/// even number of them), or a name that only a definition (`-D NAME=HEX`) gives a value.
fn cookie_bytes(text: &str) -> Result<Vec<u8>, BuildError> {
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) || text.len() % 2 != 0 {
        return Err(format!(
            "Fast Open cookie `{text}` is neither hex digits nor a defined name (define it \
             with -D {text}=HEX, as packetdrill's run_all.py does for TFO_COOKIE)"
        ));
    }
    Ok(hex_bytes(text))
}

fn cookie_hex(cookie: &[u8]) -> String {
    cookie.iter().map(|b| format!("{b:02x}")).collect()
}

/// The live segment for an inbound script packet (`map_inbound_packet`). `ecr_base`: with
/// `--tcp_ts_ecr_scaled`, the connection's first outbound TS val in the script and live.
pub fn inbound(
    conn: &Conn,
    p: &scenario::Packet,
    v6: bool,
    ecr_base: Option<(u32, u32)>,
) -> Result<SegmentRepr, BuildError> {
    debug_assert_eq!(p.direction, Direction::Inbound);
    let syn = p.flags.syn;
    let (flags, reserved) = flags_of(&p.flags);
    let seq = p.seq.wrapping_add(conn.remote_script_to_live(syn));
    let ack_offset = conn.local_script_to_live(syn);
    let ack = if p.flags.ack {
        p.ack.unwrap_or(0).wrapping_add(ack_offset)
    } else {
        p.ack.unwrap_or(0)
    };
    let list = match &p.options {
        TcpOptions::Exactly(list) => list,
        TcpOptions::Any => return Err("`<...>` is only allowed on outbound packets".into()),
    };
    let mut options = options_to_wire(list, ack_offset)?;
    if p.flags.ack {
        for o in &mut options {
            if let TcpOption::Timestamps { ecr, .. } = o {
                // An echoed value one the kernel sent in a segment the script already
                // matched is that segment's; else, with `--tcp_ts_ecr_scaled`, counted from
                // the first outbound TS val as the script counts it (packetdrill's
                // interpolation); else an error.
                *ecr = match (conn.ts_vals.get(ecr), ecr_base) {
                    (Some(live), _) => *live,
                    (None, Some((first_script, first_live))) => {
                        ecr.wrapping_sub(first_script).wrapping_add(first_live)
                    }
                    (None, None) => {
                        return Err(format!(
                            "unable to infer live TS ecr for script TS ecr {ecr}; no matching \
                             or preceding outbound TS val"
                        ))
                    }
                };
            }
        }
    }
    let kernel_port = conn.kernel_port.unwrap_or(SCRIPT_PORT);
    let (src, dst) = (peer_ip(v6, conn.peer), peer_ip(v6, 0));
    // RFC 3168 5: the ECN field is the IP header's two low TOS / traffic class bits.
    let ecn = p.ecn.and_then(|e| e.bits()).unwrap_or(0);
    let ip = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => IpRepr::V4(Ipv4Repr {
            dscp_ecn: ecn,
            ..Ipv4Repr::new(s, d)
        }),
        (IpAddr::V6(s), IpAddr::V6(d)) => IpRepr::V6(Ipv6Repr {
            traffic_class: ecn,
            ..Ipv6Repr::new(s, d)
        }),
        _ => unreachable!("both addresses come from peer_ip with the same family"),
    };
    Ok(SegmentRepr {
        ip,
        tcp: TcpRepr {
            src_port: conn.peer_port,
            dst_port: kernel_port,
            seq: SeqNumber(seq),
            ack: SeqNumber(ack),
            reserved,
            flags,
            window: p.win.unwrap_or(0),
            urgent_pointer: p.urg.unwrap_or(0),
            options,
            // packetdrill sends zeros for payloads it makes up.
            payload: vec![0; usize::from(p.len)],
            ..TcpRepr::default()
        },
    })
}

/// A live outbound segment with its numbers moved into script space
/// (`tcp_convert_seq_number`), so it compares with and prints like a script line.
#[derive(Clone, Debug)]
pub struct Actual {
    pub packet: scenario::Packet,
    /// Fields the script packet language cannot hold.
    pub reserved: u8,
    pub payload_zero: bool,
}

/// A segment's control bits as a script writes them (AE is the lowest reserved bit).
pub fn script_flags(t: &TcpRepr) -> scenario::TcpFlags {
    let f = t.flags;
    scenario::TcpFlags {
        fin: f.fin(),
        syn: f.syn(),
        rst: f.rst(),
        psh: f.psh(),
        ack: f.ack(),
        urg: f.urg(),
        ece: f.ece(),
        cwr: f.cwr(),
        ae: t.reserved & 1 != 0,
    }
}

pub fn to_script_space(conn: &Conn, seg: &SegmentRepr) -> Actual {
    let t = &seg.tcp;
    let syn = t.flags.syn();
    let seq = t.seq.0.wrapping_sub(conn.local_script_to_live(syn));
    let ack_offset = conn.remote_script_to_live(syn);
    let ack = if t.flags.ack() {
        t.ack.0.wrapping_sub(ack_offset)
    } else {
        t.ack.0
    };
    let options = t
        .options
        .iter()
        .map(|o| match o {
            TcpOption::EndOfList => scenario::TcpOption::Eol,
            TcpOption::Nop => scenario::TcpOption::Nop,
            TcpOption::Mss(v) => scenario::TcpOption::Mss(*v),
            TcpOption::WindowScale(v) => scenario::TcpOption::WScale(*v),
            TcpOption::SackPermitted => scenario::TcpOption::SackOk,
            TcpOption::Sack(b) => scenario::TcpOption::Sack(
                b.as_slice()
                    .iter()
                    .map(|b| {
                        (
                            b.left.0.wrapping_sub(ack_offset),
                            b.right.0.wrapping_sub(ack_offset),
                        )
                    })
                    .collect(),
            ),
            TcpOption::Timestamps { val, ecr } => scenario::TcpOption::Timestamp {
                val: *val,
                ecr: *ecr,
            },
            TcpOption::FastOpen(c) => scenario::TcpOption::FastOpen(cookie_hex(c)),
            TcpOption::FastOpenExp(c) => scenario::TcpOption::FastOpenExp(cookie_hex(c)),
            TcpOption::Unknown { kind, data }
                if *kind == KIND_MD5 && data.len() == MD5_DIGEST_LEN =>
            {
                scenario::TcpOption::Md5(cookie_hex(data))
            }
            TcpOption::Unknown { kind, data } => scenario::TcpOption::Unknown {
                kind: *kind,
                data: cookie_hex(data),
            },
        })
        .collect();
    let f = t.flags;
    Actual {
        packet: scenario::Packet {
            direction: Direction::Outbound,
            peer: conn.peer,
            flags: script_flags(t),
            seq,
            len: t.payload.len() as u16,
            ack: f.ack().then_some(ack),
            win: Some(t.window),
            urg: f.urg().then_some(t.urgent_pointer),
            options: TcpOptions::Exactly(options),
            // Shown only where a script line asks for it (checked on the raw header).
            ecn: None,
            ip: scenario::IpFields::default(),
        },
        reserved: t.reserved,
        payload_zero: t.payload.iter().all(|&b| b == 0),
    }
}

/// The fields of an outbound segment RFC 9293 leaves to the stack, given what the script
/// did: the window it offers, its options (which, their values and order), PUSH on data
/// (3.9.1, MAY), ECN bits (RFC 3168 is optional), the reserved bits, and the urgent pointer
/// when URG is off. A script written against Linux pins Linux's choices there, which must
/// not fail another stack (README, "Verdicts for a stack that is not Linux").
pub const RFC_FREE: [&str; 7] = [
    "tcp_window",
    "TCP options",
    "tcp_psh",
    "tcp_ece",
    "tcp_cwr",
    "tcp_reserved_bits",
    "tcp_urg_ptr",
];

/// Which fields of an outbound segment a script's line is checked on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fields {
    /// Every field packetdrill checks: the script was written against this stack.
    All,
    /// Only those RFC 9293 fixes (all but [`RFC_FREE`]).
    RfcFixed,
}

/// The first field where the kernel's segment departs from the script's, in the order
/// packetdrill checks them (`verify_tcp`, `verify_outbound_live_tcp_options`,
/// `verify_outbound_live_payload`), among `fields`; `None` when they agree.
pub fn mismatch(
    script: &scenario::Packet,
    actual: &Actual,
    raw: &SegmentRepr,
    fields: Fields,
) -> Option<Mismatch> {
    let a = &actual.packet;
    let t = &raw.tcp;
    // Compared in the script's terms: SACK blocks are relative there, as in the script.
    let options_ok = match (&script.options, &a.options) {
        (TcpOptions::Any, _) => true,
        (TcpOptions::Exactly(expected), TcpOptions::Exactly(seen)) => {
            options_match(expected, seen) && t.options.len() == seen.len()
        }
        (TcpOptions::Exactly(_), TcpOptions::Any) => false,
    };
    let ip_ecn = match &raw.ip {
        IpRepr::V4(ip) => ip.dscp_ecn & 3,
        IpRepr::V6(ip) => ip.traffic_class & 3,
    };
    // packetdrill checks the ECN field only where the line names it (TOS_CHECK_ECN), and
    // before the TCP header; ECN is optional (RFC 3168), so free for another stack.
    if fields == Fields::All && script.ecn.is_some_and(|e| !e.matches(ip_ecn)) {
        return Some(Mismatch::Field("ip_ecn"));
    }
    // `[tos 0x..]`, `[ttl N]`: the whole byte, as the application set it (RFC 9293 3.9.1.9,
    // 3.9.2: MUST-48, MUST-49).
    let (tos, ttl) = match &raw.ip {
        IpRepr::V4(ip) => (ip.dscp_ecn, ip.ttl),
        IpRepr::V6(ip) => (ip.traffic_class, ip.hop_limit),
    };
    if fields == Fields::All && script.ip.tos.is_some_and(|t| t != tos) {
        return Some(Mismatch::Field("ip_tos"));
    }
    if fields == Fields::All && script.ip.ttl.is_some_and(|t| t != ttl) {
        return Some(Mismatch::Field("ip_ttl"));
    }
    let (s, f) = (&script.flags, &a.flags);
    let checks: [(&str, bool); 15] = [
        ("payload length", script.len == a.len),
        ("tcp_fin", s.fin == f.fin),
        ("tcp_syn", s.syn == f.syn),
        ("tcp_rst", s.rst == f.rst),
        ("tcp_psh", s.psh == f.psh),
        ("tcp_ack", s.ack == f.ack),
        ("tcp_urg", s.urg == f.urg),
        ("tcp_ece", s.ece == f.ece),
        ("tcp_cwr", s.cwr == f.cwr),
        ("tcp_reserved_bits", u8::from(s.ae) == actual.reserved),
        ("tcp_seq", script.seq == a.seq),
        (
            "tcp_ack_seq",
            script.ack.unwrap_or(0) == a.ack.unwrap_or(t.ack.0),
        ),
        ("tcp_window", script.win.is_none_or(|w| w == t.window)),
        ("tcp_urg_ptr", script.urg.unwrap_or(0) == t.urgent_pointer),
        ("TCP options", options_ok),
    ];
    let checked = |name: &str| fields == Fields::All || !RFC_FREE.contains(&name);
    if let Some((name, _)) = checks.iter().find(|(name, ok)| !ok && checked(name)) {
        return Some(Mismatch::Field(name));
    }
    (!actual.payload_zero).then_some(Mismatch::Payload)
}

/// How an outbound segment differs from the script's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// A field, by packetdrill's name for it.
    Field(&'static str),
    /// The payload's bytes (packetdrill's scripts send and expect zeros).
    Payload,
}

impl Mismatch {
    pub fn check(self) -> crate::runner::Check {
        match self {
            Mismatch::Field(name) => crate::runner::Check::Field(name),
            Mismatch::Payload => crate::runner::Check::Other,
        }
    }
}

/// packetdrill's words: `bad outbound tcp_seq`.
impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Field(name) => write!(f, "bad outbound {name}"),
            Mismatch::Payload => f.write_str("incorrect outbound data payload"),
        }
    }
}

/// Kinds in order; values compared except for timestamps, whose value packetdrill only
/// checks with `--tcp_ts_tick_usecs` (off by default) and whose echo it never checks.
fn options_match(expected: &[scenario::TcpOption], actual: &[scenario::TcpOption]) -> bool {
    expected.len() == actual.len()
        && expected.iter().zip(actual).all(|(e, a)| match (e, a) {
            (scenario::TcpOption::Timestamp { .. }, scenario::TcpOption::Timestamp { .. }) => true,
            // packetdrill compares the cookie's bytes; a script may write its hex in capitals.
            (scenario::TcpOption::FastOpen(e), scenario::TcpOption::FastOpen(a))
            | (scenario::TcpOption::FastOpenExp(e), scenario::TcpOption::FastOpenExp(a))
            | (scenario::TcpOption::Md5(e), scenario::TcpOption::Md5(a)) => {
                e.eq_ignore_ascii_case(a)
            }
            _ => e == a,
        })
}
