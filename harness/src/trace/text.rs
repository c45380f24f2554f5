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

/// Whether the next event after `i` that is not filtered out is the script's note of the
/// call named `call`.
fn noted_next(trace: &Trace, i: usize, call: &str) -> bool {
    let next = trace.events[i + 1..]
        .iter()
        .find(|e| !matches!(e.kind, EventKind::Filtered { .. }));
    match next.map(|e| &e.kind) {
        Some(EventKind::Script(note)) => note.call_name() == Some(call),
        _ => false,
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
                // The runner notes each call again as the script writes it, with the
                // result it got: one line says it.
                EventKind::Call(call) if noted_next(self.trace, i, call.name()) => String::new(),
                EventKind::Call(call) => format!("call {call}"),
                EventKind::Sysctl { name, value } => format!("note sysctl {name}={value}"),
                EventKind::Observation { text } => format!("obs  {text}"),
                EventKind::Note { text } => format!("note {text}"),
                EventKind::Judged(kind) => format!("note {}", super::judged(*kind)),
                EventKind::Script(note) => format!("note {note}"),
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
            writeln!(f, "Left out, not part of the check: {}.", other.join(", "))?;
        }
        if !body.is_empty() && (barrier > 0 || !other.is_empty() || !isns.learned.is_empty()) {
            writeln!(f)?;
        }
        f.write_str(&body)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use etherparse::PacketBuilder;
    use tcpcheck_model::wire::{Ipv4Repr, SackBlock, TcpFlags, TcpRepr};

    use super::*;
    use crate::io::barrier;
    use crate::trace::{CallRecord, Noted, Returned, ScriptNote, SocketCall};

    const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const STACK: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    fn seg(ports: (u16, u16), seq: u32, ack: u32, flags: TcpFlags) -> TcpRepr {
        TcpRepr {
            src_port: ports.0,
            dst_port: ports.1,
            seq: SeqNumber(seq),
            ack: SeqNumber(ack),
            flags,
            window: 512,
            ..TcpRepr::default()
        }
    }

    fn bytes(from_peer: bool, tcp: TcpRepr) -> Vec<u8> {
        let (src, dst) = if from_peer {
            (PEER, STACK)
        } else {
            (STACK, PEER)
        };
        SegmentRepr {
            ip: IpRepr::V4(Ipv4Repr::new(src, dst)),
            tcp,
        }
        .emit()
        .expect("a valid segment")
    }

    fn echo_reply(seq: u16) -> Vec<u8> {
        let b = PacketBuilder::ipv4(STACK.octets(), PEER.octets(), 64)
            .icmpv4_echo_reply(barrier::ECHO_ID, seq);
        let mut out = Vec::new();
        b.write(&mut out, b"tcpcheck barrier").unwrap();
        out
    }

    /// A passive open whose numbers wrap, a SACK, barrier probes, IPv6 noise and a RST on
    /// ports whose SYN never came.
    fn trace() -> Trace {
        let mut t = Trace::default();
        let ms = Duration::from_millis;
        let peer_isn = 4_294_967_290;
        let stack_isn = 3_000_000_000;
        let mut push = |at, kind| t.push(at, kind);
        push(
            ms(1),
            EventKind::Injected {
                packet: bytes(true, seg((40000, 8080), peer_isn, 0, TcpFlags::SYN)),
                note: Some(ScriptNote {
                    line: 5,
                    noted: Noted::Step("< S 0:0(0) win 512".into()),
                }),
            },
        );
        push(
            ms(1),
            EventKind::Filtered {
                packet: barrier::probe(PEER, STACK, 1),
                why: "barrier probe 1".into(),
            },
        );
        push(
            ms(2),
            EventKind::Captured {
                packet: bytes(
                    false,
                    seg(
                        (8080, 40000),
                        stack_isn,
                        peer_isn + 1,
                        TcpFlags::SYN | TcpFlags::ACK,
                    ),
                ),
                note: None,
            },
        );
        push(
            ms(2),
            EventKind::Filtered {
                packet: echo_reply(1),
                why: "barrier reply 1".into(),
            },
        );
        let mut data = seg(
            (40000, 8080),
            peer_isn.wrapping_add(11),
            stack_isn + 1,
            TcpFlags::ACK,
        );
        data.payload = vec![0; 10];
        push(
            ms(3),
            EventKind::Injected {
                packet: bytes(true, data),
                note: None,
            },
        );
        let mut sack = seg((8080, 40000), stack_isn + 1, peer_isn + 1, TcpFlags::ACK);
        sack.options = vec![TcpOption::Sack(
            SackBlocks::new(&[SackBlock {
                left: SeqNumber(peer_isn.wrapping_add(11)),
                right: SeqNumber(peer_isn.wrapping_add(21)),
            }])
            .unwrap(),
        )];
        push(
            ms(3),
            EventKind::Captured {
                packet: bytes(false, sack),
                note: None,
            },
        );
        push(
            ms(4),
            EventKind::Filtered {
                packet: vec![0x60, 0, 0, 0],
                why: "IPv6 router solicitation".into(),
            },
        );
        push(
            ms(5),
            EventKind::Captured {
                packet: bytes(false, seg((8080, 40001), 7, 0, TcpFlags::RST)),
                note: None,
            },
        );
        push(
            ms(6),
            EventKind::Note {
                text: "verdict: fail".into(),
            },
        );
        t
    }

    #[test]
    fn barrier_probes_are_told_by_their_bytes() {
        assert!(is_barrier(&barrier::probe(PEER, STACK, 9)));
        assert!(is_barrier(&echo_reply(9)));
        let other_echo = {
            let b = PacketBuilder::ipv4(STACK.octets(), PEER.octets(), 64).icmpv4_echo_reply(1, 9);
            let mut out = Vec::new();
            b.write(&mut out, b"x").unwrap();
            out
        };
        assert!(!is_barrier(&other_echo));
        assert!(!is_barrier(&bytes(true, seg((1, 2), 3, 0, TcpFlags::SYN))));
        assert!(!is_barrier(b"junk"));
    }

    #[test]
    fn reads_relative_without_barriers_with_marks() {
        let t = trace();
        let marks = [Mark {
            event: 5,
            text: "FAILED at script line 10".into(),
        }];
        let shown = Readable::new(&t, &marks).to_string();
        assert_eq!(
            shown,
            "\
Sequence numbers are relative to each side's ISN (192.0.2.2.40000 ISN 4294967290, 192.0.2.1.8080 ISN 3000000000).
Numbers of a side whose SYN is not in the trace are absolute.
Left out: 2 barrier packets (ICMP echo, by which tcpcheck knows the stack has finished reacting); the pcapng keeps them.
Left out, not part of the check: IPv6 router solicitation.

     1.000ms  in   192.0.2.2.40000 > 192.0.2.1.8080: Flags [S], seq 0, win 512, length 0
     2.000ms  out  192.0.2.1.8080 > 192.0.2.2.40000: Flags [S.], seq 0, ack 1, win 512, length 0
     3.000ms  in   192.0.2.2.40000 > 192.0.2.1.8080: Flags [.], seq 11:21, ack 1, win 512, length 10
     3.000ms  out  192.0.2.1.8080 > 192.0.2.2.40000: Flags [.], seq 1, ack 1, win 512, options [sack 11:21,eol], length 0
              ^^^  FAILED at script line 10
     5.000ms  out  192.0.2.1.8080 > 192.0.2.2.40001: Flags [R], seq 7, win 512, length 0
     6.000ms  note verdict: fail
"
        );
        // The raw record keeps everything, absolute.
        let raw = t.to_string();
        assert!(raw.contains("seq 3000000000, ack 4294967291"), "{raw}");
        assert!(raw.contains("(barrier probe 1)"), "{raw}");
    }

    #[test]
    fn a_call_the_script_notes_shows_once() {
        let mut t = Trace::default();
        let ms = Duration::from_millis;
        let call = |call, result| EventKind::Call(CallRecord { call, result });
        let note = |line: u32, name: &str, text: &str| {
            EventKind::Script(ScriptNote {
                line,
                noted: Noted::Call {
                    name: name.into(),
                    text: text.into(),
                },
            })
        };
        t.push(
            ms(1),
            call(SocketCall::Socket { v6: false }, Ok(Returned::Fd(3))),
        );
        t.push(
            ms(1),
            EventKind::Filtered {
                packet: barrier::probe(PEER, STACK, 1),
                why: "barrier probe 1".into(),
            },
        );
        t.push(
            ms(2),
            note(5, "socket", "socket(..., SOCK_STREAM, IPPROTO_TCP) = 3"),
        );
        let peer = "192.0.2.2:40000".parse().unwrap();
        t.push(
            ms(3),
            call(
                SocketCall::Accept { fd: 3 },
                Ok(Returned::Accepted { fd: 4, peer }),
            ),
        );
        t.push(ms(4), note(9, "close", "close(4) = 0"));
        t.push(ms(5), call(SocketCall::Close { fd: 4 }, Ok(Returned::Zero)));
        let shown = Readable::new(&t, &[]).to_string();
        let lines: Vec<&str> = shown.lines().filter(|l| l.contains("ms  ")).collect();
        assert_eq!(
            lines,
            [
                "     2.000ms  note L5: socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
                "     3.000ms  call accept(3, 192.0.2.2:40000, ...) = 4",
                "     4.000ms  note L9: close(4) = 0",
                "     5.000ms  call close(4) = 0",
            ]
        );
    }

    #[test]
    fn a_new_syn_on_the_same_ports_starts_a_new_base() {
        let mut isns = Isns::default();
        let syn = |seq| SegmentRepr {
            ip: IpRepr::V4(Ipv4Repr::new(PEER, STACK)),
            tcp: seg((40000, 8080), seq, 0, TcpFlags::SYN),
        };
        assert_eq!(isns.relative(&syn(100)).tcp.seq.0, 0);
        // A retransmission is the same connection.
        assert_eq!(isns.relative(&syn(100)).tcp.seq.0, 0);
        assert_eq!(isns.relative(&syn(5000)).tcp.seq.0, 0);
        let data = SegmentRepr {
            ip: IpRepr::V4(Ipv4Repr::new(PEER, STACK)),
            tcp: seg((40000, 8080), 5001, 0, TcpFlags::PSH),
        };
        assert_eq!(isns.relative(&data).tcp.seq.0, 1);
        assert_eq!(isns.learned.len(), 2);
        assert_eq!(
            isns.of_connection(8080, "192.0.2.2:40000".parse().unwrap()),
            (None, Some(SeqNumber(5000)))
        );
    }
}
