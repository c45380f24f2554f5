//! RFC 9293 §3.10.7.4, seventh: the segment text, and the ACKs it draws.

use std::time::Duration;

use crate::conn::expect::{Choice, Due, LenSpec, SegSpec};
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::wire::TcpFlags;

use super::super::*;

impl Connection {
    pub(in crate::conn::machine) fn text(&mut self, now: Duration, seg: &Seg) {
        let new_data = (seg.seq + u32::from(seg.flags.syn()) + seg.len).after(self.tcb.rcv_nxt);
        if self.released && matches!(self.state, State::FinWait1 | State::FinWait2) && new_data {
            // RFC 9293 3.6.1: MAY-1, SHLD-3, "if new data is received after CLOSE is called,
            // its TCP SHOULD send a RST to show that data was lost". Linux
            // tcp_rcv_state_process() resets with <SEQ=SEG.ACK><CTL=RST> (tcp_v4_send_reset).
            let spec = SegSpec {
                optional_flags: TcpFlags::ACK,
                ..SegSpec::ctl(TcpFlags::RST, seg.ack, None)
            };
            let due = self.immediately(now);
            self.record.obligations.clear();
            self.oblige(spec, due, &rules::DATA_AFTER_HALF_CLOSE_RST);
            self.record.reports.push(Report::ConnectionReset);
            self.enter(State::Closed);
            return;
        }
        let fin_in = matches!(
            self.state,
            State::CloseWait | State::Closing | State::LastAck
        );
        let data_end = seg.seq + u32::from(seg.flags.syn()) + seg.len;
        if self.profile.behaviour.data_after_fin_resets
            && fin_in
            && seg.seq.before(self.tcb.rcv_nxt)
            && data_end.after(self.tcb.rcv_nxt)
        {
            // Linux tcp_rcv_state_process(): data beyond the peer's FIN resets the
            // connection (RFC 1122 4.2.2.13's reset for data after close, applied to the
            // receive side); the RST answers the segment: <SEQ=SEG.ACK><CTL=RST>.
            self.record.obligations.clear();
            let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
            let due = self.immediately(now);
            self.oblige(spec, due, &rules::LINUX_DATA_AFTER_FIN_RST);
            self.record.reports.push(Report::ConnectionReset);
            self.enter(State::Closed);
            return;
        }
        match self.state {
            State::Established | State::FinWait1 | State::FinWait2 => {}
            // RFC 9293 3.10.7.4: text after the remote FIN "should not occur": ignore it.
            _ => return,
        }
        let data_start = seg.seq + u32::from(seg.flags.syn());
        let end = data_start + seg.len;
        if !data_start.before(self.window_edge()) && seg.len > 0 {
            self.branch_on_wider_window(now, seg);
            // Only Linux's acceptability test lets data starting at the right edge get
            // here: tcp_data_queue() drops it and acknowledges at once.
            self.ack_now(now, &rules::TEXT_BEYOND_WINDOW);
            return;
        }
        if !data_start.after(self.tcb.rcv_nxt) {
            // In order (possibly overlapping what we have): take what is new.
            if end.after(self.tcb.rcv_nxt) {
                let new = end.forward_distance(self.tcb.rcv_nxt);
                let window = self.receive_window();
                let taken = new.min(window.max(1));
                self.tcb.rcv_nxt += taken;
                self.rcv.readable += u64::from(taken);
                // tcp_data_queue(): tcp_fast_path_check() once the text is queued.
                // It stays off while urgent data is pending (tcp_fast_path_check()).
                self.linux.header_prediction =
                    self.tcb.rcv_wnd > 0 && self.rcv.urgent_ahead.is_none();
                // RFC 9293 3.10.7.4: MUST-59, the queued segments this one joins are all
                // processed before the ACK is owed, so one ACK covers them all. The FIN ends
                // the stream at its sequence number (eighth), so data held beyond it is not
                // part of it (fin() drops it).
                if !seg.flags.fin() && self.pull_out_of_order() {
                    self.ack_data(now);
                    return self.fin_at_rcv_nxt(now);
                }
            }
            self.ack_data(now);
        } else {
            // RFC 9293 3.10.7.4: SHLD-31, segments beyond RCV.NXT are held for later, a FIN
            // they carry with them.
            self.hold_segment(data_start, seg.len, seg.flags.fin());
            // tcp_data_queue_ofo(): header prediction off while data is held.
            self.linux.header_prediction = false;
            self.ack_out_of_order(now);
        }
    }

    /// RFC 9293 3.10.7.4: MAY-13, an in-window segment not at the left edge may be
    /// acknowledged at once; RFC 5681 4.2 says it SHOULD (a duplicate ACK). Linux does.
    pub(in crate::conn::machine) fn ack_out_of_order(&mut self, now: Duration) {
        if self.profile.behaviour.ack_out_of_order_at_once {
            self.ack_now(now, &rules::OUT_OF_ORDER_ACK);
        } else {
            self.record.choices.push(Choice {
                rule: &rules::OUT_OF_ORDER_HELD,
                taken: "out-of-order data: immediate ACK allowed, not required",
            });
        }
    }

    /// An ACK for in-order data: at once or delayed, but RFC 9293 3.8.6.3: MUST-40 by less
    /// than 0.5 s (the profile's `ack_delay_max`).
    pub(in crate::conn::machine) fn ack_data(&mut self, now: Duration) {
        let spec = SegSpec::ctl(TcpFlags::ACK, self.ack_seq(), Some(self.tcb.rcv_nxt));
        // RFC 9293 3.10.7.4: MUST-58, ACKs are aggregated: the ACK owed for earlier data is
        // replaced by the one for all data received so far, never owed twice.
        self.drop_owed_pure_acks();
        let unacked = self.tcb.rcv_nxt.forward_distance(self.tcb.rcv_wup);
        if !self.profile.behaviour.second_segment_ack_delayed && unacked >= 2 * self.rcv_mss() {
            // RFC 9293 3.8.6.3: SHLD-19, an ACK for at least every second full-sized
            // segment (2 * RMSS of new data): at once.
            let due = self.immediately(now);
            self.oblige(spec, due, &rules::ACK_EVERY_SECOND_SEGMENT);
            return;
        }
        let due = Due {
            earliest: now,
            latest: now + self.profile.ack_delay_max,
        };
        // RFC 9293 3.8.6.3: SHLD-18, a delayed ACK; MUST-40, less than 0.5 seconds.
        self.oblige(spec, due, &rules::DELAYED_ACK);
    }

    /// The largest segment the stack said it takes (its MSS option), the RMSS of RFC 9293
    /// 3.8.6.3; without the option the default of RFC 9293 3.7.1 (536, or 1220 on IPv6).
    pub(in crate::conn::machine) fn rcv_mss(&self) -> u32 {
        match self.opts.negotiation.ours.and_then(|o| o.mss) {
            Some(mss) => u32::from(mss),
            None => self.snd.default_mss,
        }
    }

    /// A read at `now`. Linux sends the ACK for more than one full-sized segment from the
    /// read when tcp_input.c held it back (tcp_cleanup_rbuf(): "Once-per-two-segments ACK
    /// was not sent by tcp_input.c"; __tcp_ack_snd_check() sends it on arrival only when
    /// the window it would offer is no smaller than the last). Its estimate of the
    /// segment size (icsk_ack.rcv_mss) is never above its MSS option, so more unacknowledged
    /// data than that makes the ACK due now.
    pub(in crate::conn::machine) fn ack_after_read(&mut self, now: Duration, n: u64) {
        if !self.profile.behaviour.second_segment_ack_delayed || n == 0 {
            return;
        }
        let unacked = self.tcb.rcv_nxt.forward_distance(self.tcb.rcv_wup);
        if unacked <= self.rcv_mss() {
            return;
        }
        let rcv_nxt = self.tcb.rcv_nxt;
        for e in &mut self.record.obligations {
            let pure_ack = e.spec.flags == TcpFlags::ACK && e.spec.len == LenSpec::Exact(0);
            if pure_ack && e.spec.ack == Some(rcv_nxt) && e.due.latest > now {
                e.due.latest = now.max(e.due.earliest);
                e.rule = &rules::LINUX_SECOND_SEGMENT_ACK_AT_READ;
            }
        }
    }

    /// Holds a segment that starts beyond RCV.NXT, with its FIN (see [`Reassembly::hold`]).
    pub(in crate::conn::machine) fn hold_segment(&mut self, start: SeqNumber, len: u32, fin: bool) {
        let whole_segments = self.profile.behaviour.out_of_order_whole_segments;
        self.reasm
            .hold(self.tcb.rcv_nxt, start, len, fin, whole_segments);
    }

    /// Moves held data that now follows RCV.NXT into the stream; returns true when it
    /// reached a held FIN (RCV.NXT then stands at the FIN, which the caller processes).
    fn pull_out_of_order(&mut self) -> bool {
        let (moved, fin) = self.reasm.pull(&mut self.tcb.rcv_nxt);
        self.rcv.readable += u64::from(moved);
        fin
    }
}
