//! What the explorer does to a connection: the case's setup, then events (socket calls and
//! injected segments).
//!
//! Segment numbers are symbolic ("RCV.NXT - 1", "the right window edge", "SND.NXT + 1") and
//! are resolved against the model's view of the live connection when the event runs. The
//! kernel picks its own ISN and window, so absolute numbers chosen in advance would mean
//! nothing; symbolic ones keep their meaning on every run, and keep it while shrinking
//! deletes the events before them.

use std::fmt;
use std::net::SocketAddr;

use tcpcheck_model::conn::{Connection, Seg, SegOptions, State};
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::icmp::{IcmpRepr, QuotedTcp};
use tcpcheck_model::wire::{TcpFlags, TcpOption};

/// How a case opens its connection, and what the peer's SYN offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// `listen()` and wait for the peer's SYN (true), or `connect()` to the peer.
    pub passive: bool,
    pub v6: bool,
    /// The peer's initial sequence number: often near 2^32 so the case wraps.
    pub peer_isn: u32,
    pub mss: Option<u16>,
    pub sack: bool,
    pub wscale: Option<u8>,
    /// The peer offers timestamps (and sends them on every segment that asks for options).
    pub ts: bool,
}

/// A sequence number, relative to the receiving side of the stack under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqAt {
    /// RCV.NXT + d: the left edge of the stack's receive window.
    RcvNxt(i32),
    /// RCV.NXT + RCV.WND + d: the right edge.
    WndEnd(i32),
    /// The peer's ISN + d: for SYNs.
    PeerIsn(i32),
}

/// An acknowledgment number, relative to the sending side of the stack under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckOf {
    SndNxt(i32),
    SndUna(i32),
    /// The stack's ISN + d.
    Iss(i32),
}

/// A segment the peer sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegEvent {
    /// Any of SYN, FIN, RST, PSH and ACK.
    pub flags: TcpFlags,
    pub seq: SeqAt,
    /// Used only when ACK is set; the field is zero otherwise.
    pub ack: AckOf,
    pub len: u16,
    /// The window field as sent (the peer's scale applies after the handshake).
    pub wnd: u16,
    /// On a SYN, the setup's options (else none); on other segments, a timestamp when the
    /// setup offered them (else none).
    pub options: bool,
}

/// An ICMP or ICMPv6 error from the network about one of the stack's segments (RFC 9293
/// 3.9.2.2, RFC 5927): its kind, and the sequence number it quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpEvent {
    pub kind: IcmpKind,
    /// The quoted segment's sequence number: SND.UNA for the segment in flight, others in
    /// and out of the window (RFC 5927 4.1).
    pub quote: AckOf,
}

/// The errors RFC 9293 3.9.2.2 sorts, each as ICMPv4 and as ICMPv6 sends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpKind {
    /// ICMPv4 Source Quench (MUST-55). ICMPv6 has none: a v6 case sends Time Exceeded.
    SourceQuench,
    /// Destination Unreachable, net (soft; ICMPv6 no route).
    NetUnreachable,
    /// Destination Unreachable, host (soft; ICMPv6 address unreachable).
    HostUnreachable,
    /// Destination Unreachable, protocol (hard; ICMPv6 has no such code: Parameter
    /// Problem, unknown next header, a soft error).
    ProtocolUnreachable,
    /// Destination Unreachable, port (hard on both).
    PortUnreachable,
    /// Destination Unreachable, source route failed (ICMPv4 code 5, soft; ICMPv6:
    /// administratively prohibited, code 1, which RFC 9293 does not classify).
    SourceRouteFailed,
    /// Time Exceeded in transit (soft).
    TimeExceeded,
    // No Packet Too Big: the model does not follow path MTU discovery (RFC 1191, RFC 8201),
    // so it would stop judging the case there and the rest would pass unchecked. The
    // runner's scenarios (corpus/scenarios/icmp) cover it, where the model's "off" is
    // reported.
}

impl IcmpKind {
    pub const ALL: [IcmpKind; 7] = [
        IcmpKind::SourceQuench,
        IcmpKind::NetUnreachable,
        IcmpKind::HostUnreachable,
        IcmpKind::ProtocolUnreachable,
        IcmpKind::PortUnreachable,
        IcmpKind::SourceRouteFailed,
        IcmpKind::TimeExceeded,
    ];

    /// Type, code, the four bytes after the checksum (the MTU) and packetdrill's words for
    /// them, for the family.
    pub fn wire(self, v6: bool) -> (u8, u8, u32, &'static str) {
        use tcpcheck_model::wire::icmp::{v4, v6 as six};
        match (self, v6) {
            (IcmpKind::SourceQuench, false) => (v4::SOURCE_QUENCH, 0, 0, "source_quench"),
            (IcmpKind::NetUnreachable, false) => {
                (v4::DEST_UNREACH, 0, 0, "unreachable net_unreachable")
            }
            (IcmpKind::HostUnreachable, false) => {
                (v4::DEST_UNREACH, 1, 0, "unreachable host_unreachable")
            }
            (IcmpKind::ProtocolUnreachable, false) => {
                (v4::DEST_UNREACH, 2, 0, "unreachable protocol_unreachable")
            }
            (IcmpKind::PortUnreachable, false) => {
                (v4::DEST_UNREACH, 3, 0, "unreachable port_unreachable")
            }
            (IcmpKind::SourceRouteFailed, false) => {
                (v4::DEST_UNREACH, 5, 0, "unreachable source_route_failed")
            }
            (IcmpKind::TimeExceeded, false) => (v4::TIME_EXCEEDED, 0, 0, "time_exceeded"),
            (IcmpKind::SourceQuench | IcmpKind::TimeExceeded, true) => {
                (six::TIME_EXCEEDED, 0, 0, "time_exceeded exceeded_hop_limit")
            }
            (IcmpKind::NetUnreachable, true) => (six::DEST_UNREACH, 0, 0, "unreachable no_route"),
            (IcmpKind::HostUnreachable, true) => {
                (six::DEST_UNREACH, 3, 0, "unreachable address_unreachable")
            }
            (IcmpKind::ProtocolUnreachable, true) => (
                six::PARAMETER_PROBLEM,
                1,
                0,
                "parameter_problem unknown_next_header",
            ),
            (IcmpKind::PortUnreachable, true) => {
                (six::DEST_UNREACH, 4, 0, "unreachable port_unreachable")
            }
            (IcmpKind::SourceRouteFailed, true) => {
                (six::DEST_UNREACH, 1, 0, "unreachable admin_prohibited")
            }
        }
    }
}

/// An ICMP event from the explorer's three draws: the kind's index into [`IcmpKind::ALL`],
/// a selector (half the time the segment in flight at SND.UNA; else near SND.NXT, near
/// SND.UNA, or a window's worth or more away, out of RFC 5927's range) and an offset.
pub fn icmp_event(kind: usize, selector: u8, d: i32) -> Event {
    let quote = match selector {
        0..=2 => AckOf::SndUna(0),
        3 => AckOf::SndNxt(d),
        4 => AckOf::SndUna(d),
        _ => AckOf::SndUna(d.saturating_mul(70_000)),
    };
    Event::Icmp(IcmpEvent {
        kind: IcmpKind::ALL[kind % IcmpKind::ALL.len()],
        quote,
    })
}

/// The sequence number an ICMP error quotes, against the model's view of the connection.
pub fn icmp_quote(quote: AckOf, conn: &Connection) -> SeqNumber {
    let tcb = conn.tcb();
    match quote {
        AckOf::SndNxt(d) => offset(tcb.snd_nxt, d),
        AckOf::SndUna(d) => offset(tcb.snd_una, d),
        AckOf::Iss(d) => offset(tcb.iss, d),
    }
}

/// The ICMP message for `ev` from `peer`'s network to `stack`, quoting a segment of the
/// stack's to `peer` (no payload) at the sequence number [`icmp_quote`] gives.
pub fn icmp_repr(
    ev: &IcmpEvent,
    conn: &Connection,
    stack: SocketAddr,
    peer: SocketAddr,
) -> IcmpRepr {
    let (icmp_type, code, rest, _) = ev.kind.wire(stack.is_ipv6());
    let quoted = QuotedTcp {
        src: stack,
        dst: peer,
        seq: icmp_quote(ev.quote, conn).0,
    };
    IcmpRepr {
        src: peer.ip(),
        dst: stack.ip(),
        icmp_type,
        code,
        rest,
        body: IcmpRepr::quote_tcp(quoted, 0),
    }
}

/// One step of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Segment(SegEvent),
    /// An ICMP error about the connection, from the network.
    Icmp(IcmpEvent),
    /// The `n`-th most recent injected segment again, numbers unchanged: a duplicate, or an
    /// old segment arriving after newer ones. Its timestamp is fresh, so PAWS (not modelled)
    /// does not decide its fate.
    Replay(u8),
    /// `write()` of this many bytes: SEND.
    Write(u16),
    /// Non-blocking `read()` of up to this many bytes: RECEIVE.
    Read(u16),
    /// `shutdown(SHUT_WR)`: CLOSE (RFC 9293 3.10.4; the application may still read).
    Shutdown,
    /// `SO_LINGER {1, 0}` then `close()`: ABORT (RFC 9293 3.10.5).
    Abort,
    /// `setsockopt(TCP_QUICKACK, 0)`: delayed ACKs from now on (Linux's pingpong mode),
    /// where the ACK rules of RFC 9293 3.8.6.3 and 3.10.7.4 (aggregation, every second
    /// full-sized segment) show; a connection starts in quick-ACK mode.
    DelayedAcks,
}

impl Event {
    pub fn is_call(&self) -> bool {
        !matches!(self, Event::Segment(_) | Event::Replay(_) | Event::Icmp(_))
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Segment(s) => {
                write!(f, "< {} seq {:?}", s.flags.packetdrill(), s.seq)?;
                if s.flags.ack() {
                    write!(f, " ack {:?}", s.ack)?;
                }
                write!(f, " len {} win {}", s.len, s.wnd)?;
                if !s.options {
                    f.write_str(" no options")?;
                }
                Ok(())
            }
            Event::Icmp(i) => write!(f, "< icmp {:?} quoting {:?}", i.kind, i.quote),
            Event::Replay(n) => write!(f, "replay injected segment -{}", n + 1),
            Event::Write(n) => write!(f, "write {n}"),
            Event::Read(n) => write!(f, "read {n}"),
            Event::Shutdown => f.write_str("shutdown(SHUT_WR)"),
            Event::Abort => f.write_str("abort (SO_LINGER 0, close)"),
            Event::DelayedAcks => f.write_str("TCP_QUICKACK 0 (delayed ACKs)"),
        }
    }
}

/// A segment with every number fixed, as injected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub flags: TcpFlags,
    pub seq: SeqNumber,
    pub ack: SeqNumber,
    pub wnd: u16,
    pub len: u16,
    pub options: Vec<TcpOption<'static>>,
}

impl Resolved {
    /// The model's view of the segment.
    pub fn seg(&self) -> Seg {
        let mut options = SegOptions::default();
        for o in &self.options {
            match *o {
                TcpOption::Mss(v) => options.mss = Some(v),
                TcpOption::WindowScale(v) => options.window_scale = Some(v),
                TcpOption::SackPermitted => options.sack_permitted = true,
                TcpOption::Timestamps { val, ecr } => options.timestamps = Some((val, ecr)),
                _ => {}
            }
        }
        Seg {
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            wnd: self.wnd,
            len: u32::from(self.len),
            options,
            up: 0,
        }
    }

    /// A fresh timestamp on a replayed segment.
    pub fn restamp(&mut self, val: u32, ecr: u32) {
        for o in &mut self.options {
            if let TcpOption::Timestamps { val: v, ecr: e } = o {
                *v = val;
                if self.flags.ack() {
                    *e = ecr;
                }
            }
        }
    }
}

/// What resolving needs besides the model: the peer's next TSval and the stack's last one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    pub peer_tsval: u32,
    pub stack_tsval: u32,
}

impl Clock {
    /// A case's clock before its first segment: the peer's first TSval is 1, and the stack
    /// has sent none.
    pub fn start() -> Clock {
        Clock {
            peer_tsval: 1,
            stack_tsval: 0,
        }
    }
}

fn offset(base: SeqNumber, d: i32) -> SeqNumber {
    SeqNumber(base.0.wrapping_add(d as u32))
}

/// Fixes the numbers of `ev` against the model's view of the connection.
pub fn resolve(ev: &SegEvent, conn: &Connection, setup: &Setup, clock: Clock) -> Resolved {
    let tcb = conn.tcb();
    // Before the peer's SYN is in, RCV.NXT is where it would be after it.
    let known = match conn.state() {
        State::Listen | State::SynSent => false,
        State::Closed => tcb.rcv_nxt != SeqNumber(0),
        _ => true,
    };
    let rcv_nxt = if known {
        tcb.rcv_nxt
    } else {
        SeqNumber(setup.peer_isn.wrapping_add(1))
    };
    let seq = match ev.seq {
        SeqAt::RcvNxt(d) => offset(rcv_nxt, d),
        SeqAt::WndEnd(d) => offset(rcv_nxt + tcb.rcv_wnd, d),
        SeqAt::PeerIsn(d) => offset(SeqNumber(setup.peer_isn), d),
    };
    let ack = if ev.flags.ack() {
        match ev.ack {
            AckOf::SndNxt(d) => offset(tcb.snd_nxt, d),
            AckOf::SndUna(d) => offset(tcb.snd_una, d),
            AckOf::Iss(d) => offset(tcb.iss, d),
        }
    } else {
        SeqNumber(0)
    };
    let mut options = Vec::new();
    let ecr = if ev.flags.ack() { clock.stack_tsval } else { 0 };
    let ts = TcpOption::Timestamps {
        val: clock.peer_tsval,
        ecr,
    };
    if ev.options && ev.flags.syn() {
        // Linux's own layout, so the kernel sees what a Linux peer sends.
        if let Some(m) = setup.mss {
            options.push(TcpOption::Mss(m));
        }
        match (setup.sack, setup.ts) {
            (true, true) => options.extend([TcpOption::SackPermitted, ts]),
            (true, false) => {
                options.extend([TcpOption::Nop, TcpOption::Nop, TcpOption::SackPermitted])
            }
            (false, true) => options.extend([TcpOption::Nop, TcpOption::Nop, ts]),
            (false, false) => {}
        }
        if let Some(w) = setup.wscale {
            options.extend([TcpOption::Nop, TcpOption::WindowScale(w)]);
        }
    } else if ev.options && setup.ts {
        options.extend([TcpOption::Nop, TcpOption::Nop, ts]);
    }
    Resolved {
        flags: ev.flags,
        seq,
        ack,
        wnd: ev.wnd,
        len: ev.len,
        options,
    }
}
