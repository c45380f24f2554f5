//! The remote end of a connection, played by the harness: builds the segments it sends and
//! tracks both sides' sequence numbers, so checks can speak in relative numbers the way
//! tcpdump and packetdrill do.

use std::net::{IpAddr, SocketAddr};

use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::{IpRepr, Ipv4Repr, Ipv6Repr, SegmentRepr, TcpFlags, TcpOption, TcpRepr};

use crate::sandbox::{PEER_V4, PEER_V6, STACK_V4, STACK_V6};

#[derive(Clone, Debug)]
pub struct Peer {
    /// The harness's end.
    pub local: SocketAddr,
    /// The stack's end.
    pub remote: SocketAddr,
    /// Our initial sequence number.
    pub iss: SeqNumber,
    /// The next sequence number we send.
    pub snd_nxt: SeqNumber,
    /// The stack's initial sequence number, once its SYN is seen.
    pub irs: Option<SeqNumber>,
    /// What we acknowledge next.
    pub rcv_nxt: SeqNumber,
    pub window: u16,
}

impl Peer {
    /// A peer at 192.0.2.2 or 2001:db8::2 talking to the stack's address on `stack_port`.
    pub fn new(v6: bool, port: u16, stack_port: u16, iss: u32) -> Peer {
        let (local, remote): (IpAddr, IpAddr) = if v6 {
            (PEER_V6.into(), STACK_V6.into())
        } else {
            (PEER_V4.into(), STACK_V4.into())
        };
        Peer {
            local: SocketAddr::new(local, port),
            remote: SocketAddr::new(remote, stack_port),
            iss: SeqNumber(iss),
            snd_nxt: SeqNumber(iss),
            irs: None,
            rcv_nxt: SeqNumber(0),
            window: 65535,
        }
    }

    /// A segment from us with explicit fields; checksums are computed on emit.
    pub fn segment(
        &self,
        flags: TcpFlags,
        seq: SeqNumber,
        ack: SeqNumber,
        options: Vec<TcpOption<'static>>,
        payload: &[u8],
    ) -> SegmentRepr {
        let ip = match (self.local.ip(), self.remote.ip()) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => IpRepr::V4(Ipv4Repr::new(src, dst)),
            (IpAddr::V6(src), IpAddr::V6(dst)) => IpRepr::V6(Ipv6Repr::new(src, dst)),
            _ => unreachable!("a peer's addresses share a family"),
        };
        SegmentRepr {
            ip,
            tcp: TcpRepr {
                src_port: self.local.port(),
                dst_port: self.remote.port(),
                seq,
                ack,
                flags,
                window: self.window,
                options,
                payload: payload.to_vec(),
                ..TcpRepr::default()
            },
        }
    }

    /// Emits a segment built by [`Self::segment`] and advances SND.NXT by its length.
    fn send(
        &mut self,
        flags: TcpFlags,
        options: Vec<TcpOption<'static>>,
        payload: &[u8],
    ) -> Vec<u8> {
        let ack = if flags.ack() {
            self.rcv_nxt
        } else {
            SeqNumber(0)
        };
        let seg = self.segment(flags, self.snd_nxt, ack, options, payload);
        self.snd_nxt += seg.tcp.segment_len();
        seg.emit().expect("peer segments are well-formed")
    }

    /// A SYN with the options Linux itself sends, minus timestamps (whose values would make
    /// the stack's replies differ from run to run).
    pub fn syn(&mut self) -> Vec<u8> {
        self.send(TcpFlags::SYN, syn_options(), &[])
    }

    pub fn syn_ack(&mut self) -> Vec<u8> {
        self.send(TcpFlags::SYN | TcpFlags::ACK, syn_options(), &[])
    }

    pub fn ack(&mut self) -> Vec<u8> {
        self.send(TcpFlags::ACK, Vec::new(), &[])
    }

    pub fn data(&mut self, payload: &[u8]) -> Vec<u8> {
        self.send(TcpFlags::ACK | TcpFlags::PSH, Vec::new(), payload)
    }

    pub fn fin(&mut self) -> Vec<u8> {
        self.send(TcpFlags::FIN | TcpFlags::ACK, Vec::new(), &[])
    }

    /// Learns from a segment the stack sent: binds its ISN from a SYN and moves RCV.NXT past
    /// whatever it carried.
    pub fn learn(&mut self, seg: &SegmentRepr) {
        if seg.tcp.flags.syn() {
            self.irs = Some(seg.tcp.seq);
            self.rcv_nxt = seg.tcp.seq;
        }
        let end = seg.tcp.seq + seg.tcp.segment_len();
        if end.after(self.rcv_nxt) {
            self.rcv_nxt = end;
        }
    }

    /// The stack's sequence number relative to its ISN.
    pub fn rel_seq(&self, seq: SeqNumber) -> u32 {
        seq.forward_distance(self.irs.unwrap_or(SeqNumber(0)))
    }

    /// An acknowledgment number relative to our ISN.
    pub fn rel_ack(&self, ack: SeqNumber) -> u32 {
        ack.forward_distance(self.iss)
    }

    /// Whether a segment is from the stack to this peer.
    pub fn is_ours(&self, seg: &SegmentRepr) -> bool {
        let (src, dst) = match &seg.ip {
            IpRepr::V4(ip) => (IpAddr::V4(ip.src), IpAddr::V4(ip.dst)),
            IpRepr::V6(ip) => (IpAddr::V6(ip.src), IpAddr::V6(ip.dst)),
        };
        SocketAddr::new(src, seg.tcp.src_port) == self.remote
            && SocketAddr::new(dst, seg.tcp.dst_port) == self.local
    }
}

fn syn_options() -> Vec<TcpOption<'static>> {
    vec![
        TcpOption::Mss(1460),
        TcpOption::SackPermitted,
        TcpOption::Nop,
        TcpOption::Nop,
        TcpOption::Nop,
        TcpOption::WindowScale(7),
    ]
}
