//! RFC 9293 §3.10.7.4, first: the sequence number check (the acceptability test of
//! §3.3.2), and the receive window's right edge.

use std::time::Duration;

use crate::conn::segment::Seg;
use crate::profile::behaviour::{SequenceCheck, TsRecentUpdate};
use crate::seq::{segment_acceptable, SeqNumber};

use super::super::*;

impl Connection {
    /// RFC 9293 3.10.7.4, first: PAWS (RFC 7323 5.3, R1), then the sequence number. Returns
    /// `None` when the segment is dropped here, else whether it was let in only by MUST-66's
    /// zero-window allowance (its text is then not taken).
    pub(in crate::conn::machine) fn check_sequence(
        &mut self,
        now: Duration,
        seg: &Seg,
    ) -> Option<bool> {
        // RFC 7323 5.3: R1, PAWS, before the sequence number check: a segment whose TSval
        // is older than TS.Recent is not acceptable (a RST is never dropped this way).
        if self.paws_rejects(seg) {
            self.unacceptable_ack(now, seg, &rules::PAWS);
            return None;
        }
        let rcv_wnd = self.receive_window();
        self.branch_on_kept_edge(now, seg);
        // RFC 9293 3.4: MUST-66, with a zero window the RST, URG and ACK of a segment at
        // RCV.NXT are still processed; only its text is not taken.
        let mut zero_window_allowance = false;
        // RFC 9293 3.3.2 / 3.10.7.4: the four-case acceptability test.
        if rcv_wnd == 0 && seg.seq == self.tcb.rcv_nxt && seg.seg_len() > 0 {
            zero_window_allowance = true;
        } else if !self.acceptable(seg) {
            self.branch_on_wider_window(now, seg);
            if seg.flags.rst() && self.reset_at_rcv_nxt_minus_one(seg) {
                self.reset(now);
                return None;
            }
            if !seg.flags.rst() {
                self.unacceptable_ack(now, seg, &rules::UNACCEPTABLE_SEGMENT);
            }
            return None;
        }
        // RFC 7323 5.3: R3, TS.Recent follows a segment that covers the left window edge.
        // (Linux does it later, in tcp_ack(): see `check_ack`.)
        if let Some((val, _)) = seg.options.timestamps {
            let r3 = match self.profile.behaviour.ts_recent_update {
                TsRecentUpdate::Rfc7323 => true,
                TsRecentUpdate::LinuxTcpAck => false,
            };
            if r3 && !seg.seq.after(self.tcb.rcv_nxt) {
                self.ts.recent = Some(val);
            }
        }
        Some(zero_window_allowance)
    }

    /// The first check of RFC 9293 3.10.7.4 (the four-case acceptability test of §3.3.2),
    /// or on Linux tcp_sequence(): a segment is in when it ends at or after RCV.NXT and
    /// starts at or before the right window edge, so an empty segment exactly at the right
    /// edge is in (the RFC wants it strictly inside).
    pub(in crate::conn::machine) fn acceptable(&self, seg: &Seg) -> bool {
        let (nxt, wnd) = (self.tcb.rcv_nxt, self.receive_window());
        if let SequenceCheck::LinuxTcpSequence = self.profile.behaviour.sequence_check {
            // Since 6.17 a segment reaching past the right edge is taken only while the
            // receive queue is empty (tcp_sequence(): "Only accept this packet if receive
            // queue is empty"; the queue holds unread data and an unread FIN), so that unread
            // data bounds what the window can hold; a FIN alone may stick out ("Some stacks
            // are known to handle FIN incorrectly").
            // The window is counted from RCV.WUP, and a segment is old only if it ends before
            // RCV.WUP (tcp_sequence(), tcp_receive_window()): while an ACK is delayed, what
            // ends between RCV.WUP and RCV.NXT is still acceptable, and the right edge has not
            // moved with RCV.NXT.
            let edge = self.window_edge_from_rcv_wup();
            let queued = self.rcv.readable > 0 || self.rcv.fin_unread;
            let past_edge = (seg.end() - u32::from(seg.flags.fin())).after(edge) && queued;
            return !seg.end().before(self.tcb.rcv_wup) && !seg.seq.after(edge) && !past_edge;
        }
        segment_acceptable(seg.seq, seg.seg_len(), nxt, wnd)
    }

    /// The right edge of the receive window: RCV.NXT + RCV.WND (on a branch that keeps the
    /// advertised edge, that edge: `branch_on_kept_edge`), or on Linux RCV.WUP +
    /// RCV.WND (never left of RCV.NXT: tcp_receive_window() is not negative).
    pub(in crate::conn::machine) fn window_edge(&self) -> SeqNumber {
        match self.profile.behaviour.sequence_check {
            SequenceCheck::Rfc => self.tcb.rcv_nxt + self.receive_window(),
            SequenceCheck::LinuxTcpSequence => self.window_edge_from_rcv_wup(),
        }
    }

    pub(in crate::conn::machine) fn window_edge_from_rcv_wup(&self) -> SeqNumber {
        let edge = self.tcb.rcv_wup + self.tcb.rcv_wnd;
        if edge.before(self.tcb.rcv_nxt) {
            self.tcb.rcv_nxt
        } else {
            edge
        }
    }

    /// Linux tcp_select_window() keeps in tp->rcv_wnd the window it chose before clamping
    /// the header's field to 65535 << RCV.WIND.SHIFT: an advertised maximum may stand for a
    /// wider window, whose edge the wire does not show. Text starting within the advertised
    /// window and beyond is then taken by tcp_sequence() and tcp_data_queue() as inside, up
    /// to the receive buffer the window is carved from (tcp_full_space(), at most tcp_rmem's
    /// default of 128 KiB without SO_RCVBUF): followed as another branch, with the window
    /// just wide enough (explorer, seed 2718, case 2033).
    pub(in crate::conn::machine) fn branch_on_wider_window(&mut self, now: Duration, seg: &Seg) {
        const LINUX_RMEM_DEFAULT: u32 = 131_072;
        let edge = self.window_edge_from_rcv_wup();
        // An empty segment is in the wider window too: a RST there draws a challenge ACK
        // instead of being dropped (seen on 6.18, explorer seed 9001 case 3137: the ACK
        // started the out-of-window budget, so a SYN's challenge ACK after it was held
        // back), and a FIN or an ACK draws no duplicate ACK (seed 2026 case 3976). A SYN
        // draws a challenge ACK either way; a SYN with RST does so only inside the window:
        // outside, Linux's first check drops any segment with RST, and inside, its RST
        // check comes before the SYN check (tcp_validate_incoming(); explorer seed 1 cases
        // 1811 and 4240 at 1000 events: a SYN,RST there started the budget).
        if !self.window_field_clamped()
            || seg.flags.syn() && !seg.flags.rst()
            || seg.end().forward_distance(self.tcb.rcv_wup) > LINUX_RMEM_DEFAULT
            || !seg.end().after(edge)
            || seg.end().before(self.tcb.rcv_nxt)
        {
            return;
        }
        let mut wide = self.clone();
        wide.branches.alts.clear();
        wide.branches.new_alt = None;
        wide.tcb.rcv_wnd = seg.end().forward_distance(self.tcb.rcv_wup);
        wide.arrive_synchronized(now, seg);
        wide.branches.new_alt = None;
        self.branches.new_alt = Some(Box::new(wide));
    }

    /// Linux: the stack's last window field was the largest the header can carry
    /// (tcp_select_window(): `min(new_win, 65535U << rcv_wscale)` after tp->rcv_wnd is set).
    pub(in crate::conn::machine) fn window_field_clamped(&self) -> bool {
        self.profile.behaviour.sequence_check == SequenceCheck::LinuxTcpSequence
            && self.tcb.rcv_wnd == u32::from(u16::MAX) << self.opts.rcv_shift
    }
}
