//! RFC 9293 §3.10.7.4, eighth: the FIN bit.

use std::time::Duration;

use crate::conn::expect::{Choice, Due, SegSpec};
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::wire::TcpFlags;

use super::super::*;

impl Connection {
    pub(in crate::conn::machine) fn fin(&mut self, now: Duration, seg: &Seg) {
        if self.profile.behaviour.fin_after_fin_ignored
            && matches!(
                self.state,
                State::CloseWait | State::Closing | State::LastAck
            )
        {
            let fin_seq = seg.seq + u32::from(seg.flags.syn()) + seg.len;
            if seg.seq.before(self.tcb.rcv_nxt) && fin_seq == self.tcb.rcv_nxt {
                // Linux tcp_rcv_state_process(): a segment starting before RCV.NXT falls
                // through to tcp_data_queue() (its text ends at RCV.NXT, so it is not data
                // after the FIN), which queues it as a partial packet and moves RCV.NXT to its
                // END_SEQ (tcp_rcv_nxt_update()): over its FIN, a second time; tcp_fin()
                // changes no state in CLOSE-WAIT, CLOSING or LAST-ACK, and schedules the ACK
                // (inet_csk_schedule_ack(), at once or delayed). The text under it is never
                // read: the first FIN ends the stream (explorer, seed 2718 case 2321, seed
                // 4242 case 925). RFC 9293 3.10.7.4 takes nothing before RCV.NXT.
                self.tcb.rcv_nxt += 1;
                self.ack_data(now);
                return;
            }
            // Linux tcp_rcv_state_process(): once the peer's FIN is in, a segment at or past
            // RCV.NXT is not queued, so a second FIN is neither taken nor acknowledged. RFC
            // 9293 3.10.7.4 would advance RCV.NXT over it and acknowledge it.
            self.record.choices.push(Choice {
                rule: &rules::LINUX_RCV_STATE_PROCESS,
                taken: "FIN after the peer's FIN ignored",
            });
            return;
        }
        let fin_seq = seg.seq + u32::from(seg.flags.syn()) + seg.len;
        if fin_seq.after(self.tcb.rcv_nxt) {
            // RFC 9293 3.10.7.4: SHLD-31, the FIN lies beyond a hole: held (with the text
            // before it, which text() held) and processed when the hole fills. Linux queues
            // it out of order and reports it in its SACK blocks (tcp_data_queue_ofo()).
            if seg.len == 0 && !fin_seq.before(self.window_edge()) {
                // As text() does for data at the right edge (Linux tcp_data_queue()).
                self.ack_now(now, &rules::TEXT_BEYOND_WINDOW);
            } else if seg.len == 0 {
                self.hold_segment(fin_seq, 0, true);
                self.ack_out_of_order(now);
            }
            return;
        }
        if fin_seq != self.tcb.rcv_nxt {
            return;
        }
        self.fin_at_rcv_nxt(now);
    }

    /// RFC 9293 3.10.7.4, eighth: the FIN at RCV.NXT is taken.
    pub(in crate::conn::machine) fn fin_at_rcv_nxt(&mut self, now: Duration) {
        self.tcb.rcv_nxt += 1;
        self.rcv.fin_unread = true;
        self.rcv.fin_in_tail = self.rcv.readable > 0;
        // Nothing follows a FIN: data held beyond it was never part of the stream.
        self.reasm.purge();
        self.record.reports.push(Report::ConnectionClosing);
        match self.state {
            State::SynReceived | State::Established => self.enter(State::CloseWait),
            State::FinWait1 => {
                let acked = self
                    .snd
                    .fin_seq
                    .is_some_and(|f| !self.tcb.snd_una.before(f + 1));
                if acked {
                    self.enter_time_wait(now);
                } else {
                    self.enter(State::Closing);
                }
            }
            // The state check's planted bug (test only): FIN-WAIT-2 goes to CLOSED on the
            // peer's FIN. The FIN is acknowledged as before, so the segments stay right.
            State::FinWait2 if cfg!(feature = "planted-state-bug") => self.enter(State::Closed),
            State::FinWait2 => self.enter_time_wait(now),
            // RFC 9293 3.10.7.4: in TIME-WAIT a FIN restarts the 2 MSL timeout.
            State::TimeWait => self.enter_time_wait(now),
            _ => {}
        }
        // The FIN is acknowledged. RFC 9293 3.8.6.3: SHLD-18, MUST-40, the ACK may be
        // delayed, within the ACK delay limit, in any state. Linux delays it only in
        // ping-pong mode after a FIN in ESTABLISHED, and acknowledges at once once it has
        // sent its own FIN (`closing_fin_acked_at_once`).
        let spec = SegSpec::ctl(TcpFlags::ACK, self.ack_seq(), Some(self.tcb.rcv_nxt));
        self.drop_owed_pure_acks();
        let delayable =
            self.state == State::CloseWait || !self.profile.behaviour.closing_fin_acked_at_once;
        let latest = if delayable {
            now + self.profile.ack_delay_max
        } else {
            now
        };
        self.oblige(
            spec,
            Due {
                earliest: now,
                latest,
            },
            &rules::FIN_ACKED,
        );
    }
}
