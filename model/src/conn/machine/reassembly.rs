//! Out-of-order data held for later (RFC 9293 §3.10.7.4: SHLD-31), as sorted, disjoint
//! ranges of absolute sequence numbers, with the first FIN among them.

use crate::seq::SeqNumber;

/// The out-of-order queue. Ranges are kept merged and ordered by their distance from
/// RCV.NXT, which every call passes in (the queue does not own the TCB).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Reassembly {
    /// Held ranges as (first sequence number, length); a held FIN's sequence number is
    /// inside its segment's range, as Linux's SACK blocks cover it.
    held: Vec<(SeqNumber, u32)>,
    /// FINs held out of order, each as (the first sequence number of its segment, the
    /// FIN's): processed when the hole before it fills. Linux keeps each segment with its
    /// own FIN, so a peer that sent two may leave two.
    fins: Vec<(SeqNumber, SeqNumber)>,
    /// Ranges just dropped by a FIN or the end of the connection: Linux's reply sent in the
    /// same breath (the ACK of that FIN in FIN-WAIT-1 and -2, a RST from close()) still
    /// carries them as SACK blocks (tcp_fin() purges after tcp_send_ack()).
    purged: Vec<(SeqNumber, u32)>,
}

impl Reassembly {
    pub(super) fn held(&self) -> &[(SeqNumber, u32)] {
        &self.held
    }

    pub(super) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// The ranges purged by the last input, for the SACK blocks of the reply to it.
    pub(super) fn purged(&self) -> &[(SeqNumber, u32)] {
        &self.purged
    }

    /// Only the reply sent in the same breath as the purge carries the purged ranges.
    pub(super) fn forget_purged(&mut self) {
        self.purged.clear();
    }

    /// Nothing follows a FIN taken in order, and nothing is held once the connection is
    /// gone: the held ranges are dropped (and kept as `purged` for the reply).
    pub(super) fn purge(&mut self) {
        self.purged = std::mem::take(&mut self.held);
        self.fins.clear();
    }

    /// The right edge of the range farthest from `rcv_nxt`: the right edge of the highest
    /// SACK block reported.
    pub(super) fn highest_edge(&self, rcv_nxt: SeqNumber) -> Option<SeqNumber> {
        self.held
            .iter()
            .map(|&(s, l)| s + l)
            .max_by_key(|e| e.forward_distance(rcv_nxt))
    }

    /// Holds a segment that starts beyond `rcv_nxt`, with its FIN. With `whole_segments`
    /// (Linux keeps segments, not bytes: tcp_data_queue_ofo()) one whose every byte and FIN
    /// is already held is dropped whole, its FIN with it, and one that covers the held
    /// FIN's whole segment replaces it.
    pub(super) fn hold(
        &mut self,
        rcv_nxt: SeqNumber,
        start: SeqNumber,
        len: u32,
        fin: bool,
        whole_segments: bool,
    ) {
        let end = start + len + u32::from(fin);
        if whole_segments {
            let covered = self
                .held
                .iter()
                .any(|&(s, l)| !start.before(s) && !end.after(s + l));
            if covered {
                return;
            }
            self.fins
                .retain(|&(fin_start, fin_seq)| start.after(fin_start) || end.before(fin_seq + 1));
        }
        self.hold_range(rcv_nxt, start, len + u32::from(fin));
        // Of two FINs held, the earlier still ahead of RCV.NXT ends the stream when the hole
        // fills (`pull`): Linux keeps each segment with its own FIN (tcp_data_queue_ofo()),
        // tcp_ofo_queue() meets the earlier first, and tcp_fin() then purges the out-of-order
        // queue, the later FIN with it (explorer, seed 2718, case 1820). RFC 9293 3.10.7.4,
        // eighth, likewise ends the stream at the first FIN.
        if fin && !self.fins.contains(&(start, start + len)) {
            self.fins.push((start, start + len));
        }
    }

    fn hold_range(&mut self, rcv_nxt: SeqNumber, start: SeqNumber, len: u32) {
        // Keep ranges sorted by distance from RCV.NXT and merged.
        let base = rcv_nxt;
        let mut ranges: Vec<(u32, u32)> = self
            .held
            .iter()
            .map(|(s, l)| (s.forward_distance(base), s.forward_distance(base) + l))
            .collect();
        let from = start.forward_distance(base);
        ranges.push((from, from.saturating_add(len)));
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.held = merged.into_iter().map(|(a, b)| (base + a, b - a)).collect();
    }

    /// Moves held data that now follows `rcv_nxt` into the stream, advancing it; returns the
    /// bytes moved and whether it reached a held FIN (`rcv_nxt` then stands at the FIN,
    /// which the caller processes).
    pub(super) fn pull(&mut self, rcv_nxt: &mut SeqNumber) -> (u32, bool) {
        let mut moved = 0;
        while let Some(&(start, len)) = self.held.first() {
            if start.after(*rcv_nxt) {
                break;
            }
            let mut end = start + len;
            // tcp_ofo_queue() drops a held segment that ends at or before RCV.NXT, its FIN
            // with it (text in order had covered it: seen on 6.18, explorer seed 9001 case
            // 263), and takes the first that reaches beyond.
            let nxt = *rcv_nxt;
            self.fins.retain(|&(_, f)| !f.before(nxt));
            let fin = self
                .fins
                .iter()
                .map(|&(_, f)| f)
                .filter(|f| f.before(end))
                .min_by_key(|f| f.forward_distance(nxt));
            if let Some(f) = fin {
                end = f;
            }
            if end.after(*rcv_nxt) {
                moved += end.forward_distance(*rcv_nxt);
                *rcv_nxt = end;
            }
            if fin.is_some() {
                // The range stays for `purge` with the rest: Linux's SACK blocks are trimmed
                // only after tcp_ofo_queue() returns (tcp_sack_remove()), so the ACK tcp_fin()
                // sends in FIN-WAIT-2 (or FIN-WAIT-1) still reports the block that covered
                // this FIN (explorer, seed 2718, case 1546).
                return (moved, true);
            }
            self.held.remove(0);
        }
        (moved, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NXT: SeqNumber = SeqNumber(1000);

    #[test]
    fn ranges_merge_and_stay_ordered_from_rcv_nxt() {
        let mut q = Reassembly::default();
        q.hold(NXT, NXT + 30, 10, false, false);
        q.hold(NXT + 10, NXT + 10, 5, false, false);
        q.hold(NXT, NXT + 15, 15, false, false);
        assert_eq!(q.held(), &[(NXT + 10, 30)]);
        q.hold(NXT, NXT + 50, 5, false, false);
        assert_eq!(q.held(), &[(NXT + 10, 30), (NXT + 50, 5)]);
        assert_eq!(q.highest_edge(NXT), Some(NXT + 55));
    }

    #[test]
    fn ranges_order_across_sequence_wrap() {
        let nxt = SeqNumber(u32::MAX - 5);
        let mut q = Reassembly::default();
        q.hold(nxt, nxt + 20, 4, false, false);
        q.hold(nxt, nxt + 2, 4, false, false);
        assert_eq!(q.held(), &[(nxt + 2, 4), (nxt + 20, 4)]);
    }

    #[test]
    fn pull_moves_what_follows_rcv_nxt_and_stops_at_a_hole() {
        let mut q = Reassembly::default();
        q.hold(NXT, NXT + 10, 10, false, false);
        q.hold(NXT, NXT + 30, 10, false, false);
        let mut nxt = NXT;
        assert_eq!(q.pull(&mut nxt), (0, false));
        nxt = NXT + 12;
        assert_eq!(q.pull(&mut nxt), (8, false));
        assert_eq!(nxt, NXT + 20);
        assert_eq!(q.held(), &[(NXT + 30, 10)]);
    }

    #[test]
    fn pull_stops_at_a_held_fin_and_keeps_its_range() {
        let mut q = Reassembly::default();
        q.hold(NXT, NXT + 5, 10, true, false);
        let mut nxt = NXT + 5;
        assert_eq!(q.pull(&mut nxt), (10, true));
        assert_eq!(nxt, NXT + 15);
        assert_eq!(q.held(), &[(NXT + 5, 11)]);
        q.purge();
        assert!(q.is_empty());
        assert_eq!(q.purged(), &[(NXT + 5, 11)]);
        q.forget_purged();
        assert!(q.purged().is_empty());
    }

    #[test]
    fn the_earlier_of_two_fins_ends_the_stream() {
        let mut q = Reassembly::default();
        q.hold(NXT, NXT + 20, 5, true, false);
        q.hold(NXT, NXT + 5, 5, true, false);
        let mut nxt = NXT + 5;
        assert_eq!(q.pull(&mut nxt), (5, true));
        assert_eq!(nxt, NXT + 10);
    }

    #[test]
    fn whole_segments_drop_a_segment_already_held() {
        // Linux: a segment whose bytes and FIN are all held is dropped, FIN included.
        let mut linux = Reassembly::default();
        linux.hold(NXT, NXT + 5, 10, false, true);
        linux.hold(NXT, NXT + 8, 3, true, true);
        let mut nxt = NXT + 5;
        assert_eq!(linux.pull(&mut nxt), (10, false));
        // Bytes: the FIN inside the held range is kept and ends the stream there.
        let mut rfc = Reassembly::default();
        rfc.hold(NXT, NXT + 5, 10, false, false);
        rfc.hold(NXT, NXT + 8, 3, true, false);
        let mut nxt = NXT + 5;
        assert_eq!(rfc.pull(&mut nxt), (6, true));
        assert_eq!(nxt, NXT + 11);
    }

    #[test]
    fn whole_segments_let_a_covering_segment_replace_a_held_fin() {
        let mut q = Reassembly::default();
        q.hold(NXT, NXT + 5, 5, true, true);
        q.hold(NXT, NXT + 5, 10, false, true);
        let mut nxt = NXT + 5;
        assert_eq!(q.pull(&mut nxt), (10, false));
    }

    #[test]
    fn a_fin_whose_segment_text_in_order_covered_is_dropped() {
        // Linux tcp_ofo_queue(): a held segment ending at or before RCV.NXT goes, its FIN
        // with it; the next FIN still ahead ends the stream.
        let mut q = Reassembly::default();
        q.hold(NXT, NXT + 5, 5, true, true);
        q.hold(NXT, NXT + 20, 5, true, true);
        let mut nxt = NXT + 12;
        assert_eq!(q.pull(&mut nxt), (0, false));
        q.hold(nxt, NXT + 12, 8, false, true);
        assert_eq!(q.pull(&mut nxt), (13, true));
        assert_eq!(nxt, NXT + 25);
    }
}
