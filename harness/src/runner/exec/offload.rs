//! Segments the TUN's offloads make differ from the wire's, read as the wire would carry them.
//!
//! With packetdrill's offloads (see `io::tun`) the kernel hands the device one TCP segment
//! standing for a train of `gso_size` segments (TSO): a NIC cuts it, the wire carries the
//! train. Two readings follow:
//!
//! - **The script.** packetdrill matches the packet as the device got it: a script line
//!   `> P. 1:5841(5840)` matches one 5840-byte super-segment. It also joins consecutive
//!   segments until a line's length is reached (`do_outbound_script_packet`, unless
//!   `--strict_segments`): [`join`]. A line written for the wire (`> . 1:537(536)` when
//!   the kernel sent 2000 bytes of 536-byte segments as one) matches the train's first
//!   segments: [`cut`]. packetdrill fails such a line; tcpcheck reads the train as the
//!   wire carries it, so its own scenarios, written segment by segment, keep their verdicts.
//! - **The model.** It judges the train, segment by segment ([`train`]): a super-segment is
//!   no segment larger than the MSS, and judging it whole would call it one.

use tcpcheck_model::wire::{Checksum, IpRepr, SegmentRepr, TcpFlags};

/// The first `take` bytes of payload of a super-segment of `gso_size` segments, and the
/// rest, each as the wire's segments would say it: PSH and FIN only on the last of the
/// train, CWR only on the first (`tcp_gso_segment`). `None` unless `take` ends a segment of
/// the train strictly inside the payload.
pub fn cut(seg: &SegmentRepr, gso_size: u16, take: usize) -> Option<(SegmentRepr, SegmentRepr)> {
    let g = usize::from(gso_size);
    let len = seg.tcp.payload.len();
    if g == 0 || take == 0 || take >= len || take % g != 0 {
        return None;
    }
    let mut head = seg.clone();
    let mut rest = seg.clone();
    head.tcp.payload.truncate(take);
    head.tcp.flags = without(head.tcp.flags, TcpFlags::PSH.0 | TcpFlags::FIN.0);
    rest.tcp.payload.drain(..take);
    rest.tcp.seq = seg.tcp.seq + take as u32;
    rest.tcp.flags = without(rest.tcp.flags, TcpFlags::CWR.0);
    for s in [&mut head, &mut rest] {
        s.tcp.checksum = Checksum::Correct;
        if let IpRepr::V4(v4) = &mut s.ip {
            v4.checksum = Checksum::Correct;
        }
    }
    Some((head, rest))
}

/// The train a super-segment stands for.
pub fn train(seg: &SegmentRepr, gso_size: u16) -> Vec<SegmentRepr> {
    let mut out = Vec::new();
    let mut rest = seg.clone();
    while let Some((head, tail)) = cut(&rest, gso_size, usize::from(gso_size)) {
        out.push(head);
        rest = tail;
    }
    out.push(rest);
    out
}

/// packetdrill's `aggregate_packets`: `next` appended to `acc` when it continues it (same
/// endpoints, its first byte right after `acc`'s last, `acc` without FIN); the headers
/// are the newest segment's, the sequence number and CWR the first's.
pub fn join(acc: &SegmentRepr, next: &SegmentRepr) -> Option<SegmentRepr> {
    let (a, n) = (&acc.tcp, &next.tcp);
    let continues = a.src_port == n.src_port
        && a.dst_port == n.dst_port
        && acc.ip.pseudo_header().ok() == next.ip.pseudo_header().ok()
        && !a.flags.fin()
        && !a.flags.syn()
        && !n.flags.syn()
        && a.seq + a.payload.len() as u32 == n.seq;
    if !continues {
        return None;
    }
    let mut out = next.clone();
    out.tcp.seq = a.seq;
    let cwr = a.flags.bits() & TcpFlags::CWR.0;
    out.tcp.flags = TcpFlags(without(n.flags, TcpFlags::CWR.0).bits() | cwr);
    out.tcp.payload = [a.payload.as_slice(), n.payload.as_slice()].concat();
    out.tcp.checksum = Checksum::Correct;
    if let IpRepr::V4(v4) = &mut out.ip {
        v4.checksum = Checksum::Correct;
    }
    Some(out)
}

fn without(flags: TcpFlags, bits: u8) -> TcpFlags {
    TcpFlags(flags.bits() & !bits)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use tcpcheck_model::seq::SeqNumber;
    use tcpcheck_model::wire::{Ipv4Repr, TcpRepr};

    use super::*;

    fn seg(seq: u32, len: usize, flags: TcpFlags) -> SegmentRepr {
        SegmentRepr {
            ip: IpRepr::V4(Ipv4Repr::new(
                Ipv4Addr::new(192, 0, 2, 1),
                Ipv4Addr::new(192, 0, 2, 2),
            )),
            tcp: TcpRepr {
                src_port: 8080,
                dst_port: 40000,
                seq: SeqNumber(seq),
                ack: SeqNumber(1),
                reserved: 0,
                flags,
                window: 100,
                checksum: Checksum::Correct,
                urgent_pointer: 0,
                options: Vec::new(),
                payload: (0..len).map(|i| i as u8).collect(),
            },
        }
    }

    #[test]
    fn a_train_has_psh_and_fin_last_and_cwr_first() {
        let flags = TcpFlags(TcpFlags::ACK.0 | TcpFlags::PSH.0 | TcpFlags::FIN.0 | TcpFlags::CWR.0);
        let whole = seg(1000, 2500, flags);
        let t = train(&whole, 1000);
        let lens: Vec<_> = t.iter().map(|s| s.tcp.payload.len()).collect();
        assert_eq!(lens, [1000, 1000, 500]);
        let seqs: Vec<_> = t.iter().map(|s| s.tcp.seq.0).collect();
        assert_eq!(seqs, [1000, 2000, 3000]);
        assert_eq!(t[0].tcp.flags, TcpFlags(TcpFlags::ACK.0 | TcpFlags::CWR.0));
        assert_eq!(t[1].tcp.flags, TcpFlags::ACK);
        assert_eq!(
            t[2].tcp.flags,
            TcpFlags(TcpFlags::ACK.0 | TcpFlags::PSH.0 | TcpFlags::FIN.0)
        );
        assert_eq!(t[2].tcp.payload, whole.tcp.payload[2000..]);
        // Only at a segment's end, strictly inside.
        assert!(cut(&whole, 1000, 1500).is_none());
        assert!(cut(&whole, 1000, 2500).is_none());
        assert!(cut(&whole, 1000, 0).is_none());
    }

    #[test]
    fn joining_takes_the_last_headers_and_the_first_sequence_number() {
        let a = seg(1, 100, TcpFlags::ACK);
        let b = seg(101, 50, TcpFlags(TcpFlags::ACK.0 | TcpFlags::PSH.0));
        let j = join(&a, &b).expect("b continues a");
        assert_eq!(j.tcp.seq.0, 1);
        assert_eq!(j.tcp.payload.len(), 150);
        assert!(j.tcp.flags.psh());
        // A gap, or a FIN before, ends the joining.
        assert!(join(&a, &seg(102, 50, TcpFlags::ACK)).is_none());
        let fin = seg(1, 100, TcpFlags(TcpFlags::ACK.0 | TcpFlags::FIN.0));
        assert!(join(&fin, &b).is_none());
    }
}
