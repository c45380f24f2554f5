//! Out-of-order data held for later (RFC 9293 §3.10.7.4: SHLD-31).

use crate::profile::ProfileKind;
use crate::seq::SeqNumber;

use super::*;

impl Connection {
    /// Holds a segment that starts beyond RCV.NXT, with its FIN. Linux keeps segments, not
    /// bytes (tcp_data_queue_ofo()): one whose every byte and FIN is already held is dropped
    /// whole, its FIN with it; one that covers the held FIN's whole segment replaces it.
    pub(super) fn hold_segment(&mut self, start: SeqNumber, len: u32, fin: bool) {
        let end = start + len + u32::from(fin);
        if self.profile.kind == ProfileKind::Linux {
            let covered = self
                .reasm
                .held
                .iter()
                .any(|&(s, l)| !start.before(s) && !end.after(s + l));
            if covered {
                return;
            }
            if let Some((fin_start, fin_seq)) = self.reasm.fin {
                if !start.after(fin_start) && !end.before(fin_seq + 1) {
                    self.reasm.fin = None;
                }
            }
        }
        self.hold_out_of_order(start, len + u32::from(fin));
        // Of two FINs held, the earlier ends the stream: Linux keeps each segment with its
        // own FIN (tcp_data_queue_ofo()), tcp_ofo_queue() meets the earlier first when the
        // hole fills, and tcp_fin() then purges the out-of-order queue, the later FIN with it
        // (explorer, seed 2718, case 1820). RFC 9293 3.10.7.4, eighth, likewise ends the
        // stream at the first FIN.
        let base = self.tcb.rcv_nxt;
        let fin_seq = start + len;
        if fin
            && self.reasm.fin.is_none_or(|(_, held)| {
                fin_seq.forward_distance(base) < held.forward_distance(base)
            })
        {
            self.reasm.fin = Some((start, fin_seq));
        }
    }

    pub(super) fn hold_out_of_order(&mut self, start: SeqNumber, len: u32) {
        // Keep ranges sorted by distance from RCV.NXT and merged.
        let base = self.tcb.rcv_nxt;
        let mut ranges: Vec<(u32, u32)> = self
            .reasm
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
        self.reasm.held = merged.into_iter().map(|(a, b)| (base + a, b - a)).collect();
    }

    /// Moves held data that now follows RCV.NXT into the stream; returns true when it
    /// reached a held FIN (RCV.NXT then stands at the FIN, which the caller processes).
    pub(super) fn pull_out_of_order(&mut self) -> bool {
        while let Some(&(start, len)) = self.reasm.held.first() {
            if start.after(self.tcb.rcv_nxt) {
                break;
            }
            let mut end = start + len;
            let fin = self
                .reasm
                .fin
                .map(|(_, f)| f)
                .filter(|f| !f.before(self.tcb.rcv_nxt) && f.before(end));
            if let Some(f) = fin {
                end = f;
            }
            if end.after(self.tcb.rcv_nxt) {
                let new = end.forward_distance(self.tcb.rcv_nxt);
                self.tcb.rcv_nxt = end;
                self.rcv.readable += u64::from(new);
            }
            if fin.is_some() {
                // The range stays for fin_at_rcv_nxt() to purge with the rest: Linux's SACK
                // blocks are trimmed only after tcp_ofo_queue() returns (tcp_sack_remove()),
                // so the ACK tcp_fin() sends in FIN-WAIT-2 (or FIN-WAIT-1) still reports the
                // block that covered this FIN (explorer, seed 2718, case 1546).
                return true;
            }
            self.reasm.held.remove(0);
        }
        false
    }
}
