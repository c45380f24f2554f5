//! The receive window's right edge while an ACK is delayed, on the `rfc9293` profile: where
//! the last window advertised put it, or where RCV.NXT has moved it since. RFC 9293 allows
//! either, so both are followed as branches and the wire tells which the stack keeps.

use std::time::Duration;

use crate::conn::segment::Seg;
use crate::profile::behaviour::SequenceCheck;
use crate::seq::segment_acceptable;

use super::super::*;

impl Connection {
    /// RFC 9293 3.10.7.4 (seventh, segment text): "Once the TCP endpoint takes responsibility
    /// for the data, it advances RCV.NXT over the data accepted, and adjusts RCV.WND as
    /// appropriate to the current buffer availability. The total of RCV.NXT and RCV.WND should
    /// not be reduced." (3.8.6.2.2: SHLD-14, the right edge does not move left.) The profile
    /// counts RCV.WND as the window last advertised, so while an ACK is delayed its right edge
    /// (RCV.NXT + RCV.WND) moves on with RCV.NXT, as a receiver with that much buffer free may
    /// let it; a receiver that shrinks RCV.WND by what it took keeps the edge it advertised
    /// (RCV.WUP + RCV.WND), which is as allowed (smoltcp judges by `remote_last_ack +
    /// remote_last_win`: fuzz crash-757820…, a FIN past that edge answered with an ACK). A
    /// segment reaching past the advertised edge that the profile would take is also followed
    /// on a branch that keeps the advertised edge from then on.
    pub(in crate::conn::machine) fn branch_on_kept_edge(&mut self, now: Duration, seg: &Seg) {
        if self.profile.behaviour.sequence_check != SequenceCheck::Rfc
            || self.rcv.kept_edge
            || self.branches.new_alt.is_some()
            || !self.tcb.rcv_wup.before(self.tcb.rcv_nxt)
        {
            return;
        }
        let kept = self.window_edge_from_rcv_wup();
        let (nxt, wnd) = (self.tcb.rcv_nxt, self.tcb.rcv_wnd);
        let past_kept = if seg.seg_len() == 0 {
            !seg.seq.before(kept)
        } else {
            seg.end().after(kept)
        };
        if !past_kept || !segment_acceptable(seg.seq, seg.seg_len(), nxt, wnd) {
            return;
        }
        let mut keep = self.clone();
        keep.branches.alts.clear();
        keep.rcv.kept_edge = true;
        keep.arrive_synchronized(now, seg);
        keep.branches.new_alt = None;
        self.branches.new_alt = Some(Box::new(keep));
    }

    /// The receive window counted from RCV.NXT: RCV.WND, or on a branch that keeps the
    /// advertised right edge what is left of it (`branch_on_kept_edge`).
    pub(in crate::conn::machine) fn receive_window(&self) -> u32 {
        if self.rcv.kept_edge {
            self.window_edge_from_rcv_wup()
                .forward_distance(self.tcb.rcv_nxt)
        } else {
            self.tcb.rcv_wnd
        }
    }
}
