//! A trace as a stack author reads it in a report: the TCP conversation with sequence
//! numbers relative to each side's ISN (as tcpdump and packetdrill print them, so they read
//! next to the script's), without the harness's barrier probes, and with the failing moment
//! marked.
//!
//! [`Trace`]'s own `Display` stays the raw record (absolute numbers, every packet): it is
//! what a test prints when it fails, where nothing may be hidden.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::net::{IpAddr, SocketAddr};

use etherparse::{Icmpv4Type, Icmpv6Type, SlicedPacket, TransportSlice};
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::{ChecksumPolicy, IpRepr, SackBlocks, SegmentRepr, TcpOption};

use super::{EventKind, Mark, Trace};
use crate::io::barrier::ECHO_ID;

/// Whether `packet` is one of the harness's own probes (ICMP echo with tcpcheck's
/// identifier, or its answer): how the harness knows the stack has finished reacting, never
/// part of the check.
pub fn is_barrier(packet: &[u8]) -> bool {
    let Ok(sliced) = SlicedPacket::from_ip(packet) else {
        return false;
    };
    match &sliced.transport {
        Some(TransportSlice::Icmpv4(icmp)) => matches!(
            icmp.icmp_type(),
            Icmpv4Type::EchoRequest(e) | Icmpv4Type::EchoReply(e) if e.id == ECHO_ID
        ),
        Some(TransportSlice::Icmpv6(icmp)) => matches!(
            icmp.icmp_type(),
            Icmpv6Type::EchoRequest(e) | Icmpv6Type::EchoReply(e) if e.id == ECHO_ID
        ),
        _ => false,
    }
}

/// One direction of a connection: (source address, port, destination address, port).
type Direction = (IpAddr, u16, IpAddr, u16);

fn ends(ip: &IpRepr) -> (IpAddr, IpAddr) {
    match ip {
        IpRepr::V4(ip) => (ip.src.into(), ip.dst.into()),
        IpRepr::V6(ip) => (ip.src.into(), ip.dst.into()),
    }
}

/// Each side's ISN, learned from its SYNs as the trace goes: a SYN with a new number (a
/// connection reopened on the same ports) starts a new base.
#[derive(Default)]
pub struct Isns {
    of: HashMap<Direction, SeqNumber>,
    /// Every (side, ISN) learned, in order, for the report's header.
    pub learned: Vec<(String, u32)>,
    /// Some number was printed absolute: its side's SYN is not in the trace.
    pub absolute: bool,
}

impl Isns {
    /// The ISNs of the stack's side and of the peer's side of the connection between the
    /// stack's port `local_port` and `peer`, as far as learned.
    pub fn of_connection(
        &self,
        local_port: u16,
        peer: SocketAddr,
    ) -> (Option<SeqNumber>, Option<SeqNumber>) {
        let peer_ip = peer.ip().to_canonical();
        let find = |stack_sends: bool| {
            self.of.iter().find_map(|(&(src, sport, dst, dport), isn)| {
                let (stack_port, far, far_port) = if stack_sends {
                    (sport, dst, dport)
                } else {
                    (dport, src, sport)
                };
                (stack_port == local_port && far == peer_ip && far_port == peer.port())
                    .then_some(*isn)
            })
        };
        (find(true), find(false))
    }

    /// `seg` with its sequence, acknowledgment and SACK numbers made relative to the ISN
    /// of the side each counts bytes of; numbers of a side whose SYN is not known stay
    /// absolute.
    pub fn relative(&mut self, seg: &SegmentRepr) -> SegmentRepr {
        let (src, dst) = ends(&seg.ip);
        let t = &seg.tcp;
        let out_dir = (src, t.src_port, dst, t.dst_port);
        let back_dir = (dst, t.dst_port, src, t.src_port);
        if t.flags.syn() && self.of.get(&out_dir) != Some(&t.seq) {
            self.of.insert(out_dir, t.seq);
            let side = match src {
                IpAddr::V4(a) => format!("{a}.{}", t.src_port),
                IpAddr::V6(a) => format!("{a}.{}", t.src_port),
            };
            self.learned.push((side, t.seq.0));
        }
        let mine = self.of.get(&out_dir).copied();
        let theirs = self.of.get(&back_dir).copied();
        let mut absolute = false;
        let mut rel = |n: SeqNumber, base: Option<SeqNumber>| match base {
            Some(b) => SeqNumber(n.0.wrapping_sub(b.0)),
            None => {
                absolute = true;
                n
            }
        };
        let mut out = seg.clone();
        out.tcp.seq = rel(t.seq, mine);
        if t.flags.ack() {
            out.tcp.ack = rel(t.ack, theirs);
        }
        for o in &mut out.tcp.options {
            if let TcpOption::Sack(blocks) = o {
                let moved: Vec<_> = blocks
                    .as_slice()
                    .iter()
                    .map(|b| {
                        let mut b = *b;
                        b.left = rel(b.left, theirs);
                        b.right = rel(b.right, theirs);
                        b
                    })
                    .collect();
                if let Some(moved) = SackBlocks::new(&moved) {
                    *blocks = moved;
                }
            }
        }
        self.absolute |= absolute;
        out
    }
}

/// The report's view of `trace`, with `marks` printed under the events they name.
pub struct Readable<'a> {
    pub trace: &'a Trace,
    pub marks: &'a [Mark],
}

impl Readable<'_> {
    pub fn new<'a>(trace: &'a Trace, marks: &'a [Mark]) -> Readable<'a> {
        Readable { trace, marks }
    }
}

fn packet_text(bytes: &[u8], isns: &mut Isns) -> String {
    match SegmentRepr::parse_with(bytes, ChecksumPolicy::Accept) {
        Ok(seg) => isns.relative(&seg).to_string(),
        Err(e) => format!("{} bytes, not TCP or malformed: {e}", bytes.len()),
    }
}

impl fmt::Display for Readable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut isns = Isns::default();
        let mut body = String::new();
        let mut barrier = 0;
        let mut other: Vec<&str> = Vec::new();
        for (i, e) in self.trace.events.iter().enumerate() {
            let at = e.at.as_secs_f64() * 1e3;
            let line = match &e.kind {
                EventKind::Injected { packet, .. } => {
                    format!("in   {}", packet_text(packet, &mut isns))
                }
                EventKind::Captured { packet, .. } => {
                    format!("out  {}", packet_text(packet, &mut isns))
                }
                EventKind::Filtered { packet, why } => {
                    if is_barrier(packet) {
                        barrier += 1;
                    } else if !other.contains(&why.as_str()) {
                        other.push(why);
                    }
                    String::new()
                }
                EventKind::Call { text } => format!("call {text}"),
                EventKind::Observation { text } => format!("obs  {text}"),
                EventKind::Note { text } => format!("note {text}"),
            };
            if !line.is_empty() {
                let _ = writeln!(body, "{at:>10.3}ms  {line}");
            }
            for m in self.marks.iter().filter(|m| m.event == i) {
                let _ = writeln!(body, "{:>12}  ^^^  {}", "", m.text);
            }
        }
        if !isns.learned.is_empty() {
            let sides: Vec<String> = isns
                .learned
                .iter()
                .map(|(side, isn)| format!("{side} ISN {isn}"))
                .collect();
            writeln!(
                f,
                "Sequence numbers are relative to each side's ISN ({}).",
                sides.join(", ")
            )?;
        }
        if isns.absolute {
            writeln!(
                f,
                "Numbers of a side whose SYN is not in the trace are absolute."
            )?;
        }
        if barrier > 0 {
            writeln!(
                f,
                "Left out: {barrier} barrier packets (ICMP echo, by which tcpcheck knows the \
                 stack has finished reacting); the pcapng keeps them."
            )?;
        }
        if !other.is_empty() {
            writeln!(
                f,
                "Left out, not part of the check: {}.",
                other.join(", ")
            )?;
        }
        if !body.is_empty() && (barrier > 0 || !other.is_empty() || !isns.learned.is_empty()) {
            writeln!(f)?;
        }
        f.write_str(&body)
    }
}
