//! SEGMENT ARRIVES (RFC 9293 §3.10.7): one file per state group, and the synchronized
//! states (with SYN-RECEIVED) cut at the RFC's own steps.

mod ack;
mod closed;
mod fast_path;
mod fin;
mod kept_edge;
mod listen;
mod request;
mod rst;
mod sequence;
mod syn;
mod syn_sent;
mod text;
mod time_wait;
mod window;

use std::time::Duration;

use crate::conn::expect::Choice;
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::profile::behaviour::TimeWait;
use crate::wire::TcpFlags;

use super::*;

impl Connection {
    /// A segment from the peer reaches the stack.
    pub(in crate::conn::machine) fn arrive_on_branch(&mut self, now: Duration, seg: &Seg) {
        self.events += 1;
        self.note_peer_tsval(seg);
        match self.state {
            State::Closed => self.arrive_closed(now, seg),
            State::Listen => self.arrive_listen(now, seg),
            State::SynSent => {
                if seg.flags.syn() && seg.flags.ack() {
                    self.ecn_synack_arrives(seg);
                }
                let fast_open = self.fast_open_before_synack();
                self.arrive_syn_sent(now, seg);
                self.fast_open_after_synack(now, seg, fast_open);
            }
            _ => self.arrive_synchronized(now, seg),
        }
        if self.ka.on {
            self.plan_keepalive(now);
        }
    }

    /// RFC 9293 3.10.7.4, for SYN-RECEIVED and the synchronized states, in the RFC's order.
    pub(in crate::conn::machine) fn arrive_synchronized(&mut self, now: Duration, seg: &Seg) {
        let Some(seg) = self.admit(now, seg) else {
            return;
        };
        let seg = &seg;
        // First, check the sequence number.
        let Some(zero_window_allowance) = self.check_sequence(now, seg) else {
            return;
        };
        // Second, check the RST bit. (Third, security, is not modelled.)
        if seg.flags.rst() {
            return self.check_rst(now, seg);
        }
        // Fourth, check the SYN bit.
        if seg.flags.syn() {
            return self.check_syn(now);
        }
        // Fifth, check the ACK field.
        if !seg.flags.ack() || self.check_ack(now, seg).is_break() {
            return;
        }
        // Sixth, check the URG bit.
        if seg.flags.urg() {
            self.urgent(seg);
        }
        if zero_window_allowance {
            // The text does not fit a zero window: acknowledge what we have instead.
            self.ack_now(now, &rules::ZERO_WINDOW_TEXT);
            return;
        }
        // Seventh, process the segment text.
        if seg.len > 0 {
            self.text(now, seg);
        }
        // Eighth, check the FIN bit (unless the text reset the connection).
        if seg.flags.fin() && self.state != State::Closed {
            self.fin(now, seg);
        }
    }

    /// What happens before the RFC's first step: a segment the model cannot judge yet, the
    /// request socket's own handling, drops and deadlines that come first, and the trimming
    /// of a repeated SYN in SYN-RECEIVED. Returns the segment to judge, if any.
    fn admit(&mut self, now: Duration, seg: &Seg) -> Option<Seg> {
        if !self.handshake.iss_bound {
            // The stack has not answered the SYN yet, so SND.NXT and RCV.WND are unknown and
            // no reply can be pinned. A stack answers a SYN at once, and the missing SYN-ACK
            // is reported by itself; this segment is not judged.
            self.record.choices.push(Choice {
                rule: &rules::SEGMENT_ARRIVES,
                taken: "segment arrived before the stack's SYN-ACK: not judged",
            });
            return None;
        }
        if self.in_request_socket() {
            if !self.arrive_request_socket(now, seg) {
                return None;
            }
            // tcp_check_req() created the child, which repeats every check on the segment
            // as it came (tcp_child_process()), with its own out-of-window budget.
            self.linux.child = true;
            self.timers.last_challenge = None;
            // tcp_create_openreq_child(): the child starts with its SYN-ACK acknowledged and
            // the window of this segment (SND.WL1 at the peer's ISN).
            self.tcb.snd_una = seg.ack;
            self.set_send_window(self.scaled_window(seg), self.tcb.irs, seg.ack);
            self.handshake_acked(now);
        }
        if self.profile.behaviour.segment_without_ack_dropped
            && self.state != State::TimeWait
            && !(self.state == State::FinWait2 && self.released)
            && !seg
                .flags
                .intersects(TcpFlags::ACK | TcpFlags::RST | TcpFlags::SYN)
        {
            // Linux tcp_rcv_established() and tcp_rcv_state_process() drop a segment with
            // none of ACK, RST and SYN before its sequence number is looked at, so even an
            // unacceptable one draws no ACK (RFC 9293 3.10.7.4 would acknowledge it).
            self.record.choices.push(Choice {
                rule: &rules::LINUX_RCV_STATE_PROCESS,
                taken: "segment without ACK, RST or SYN dropped before the sequence check",
            });
            return None;
        }
        if self.state == State::FinWait2 && self.timers.fin_wait_2.is_some_and(|t| now >= t) {
            // The orphan's FIN-WAIT-2 timeout ran out: the connection is gone.
            self.enter(State::Closed);
            self.arrive_closed(now, seg);
            return None;
        }
        let mut seg = *seg;
        // Linux trims nothing in a full socket's SYN-RECEIVED (a simultaneous open): its
        // tcp_rcv_state_process() lets only the exact SYN,ACK of Figure 7, line 6 through
        // (SEG.SEQ+1 = RCV.NXT, no text, no FIN, SEG.ACK = SND.NXT); any other SYN, RST
        // included, is judged where it stands (a RST not at RCV.NXT draws a challenge ACK,
        // a SYN the challenge ACK of RFC 5961 4.2). A request socket has already trimmed
        // (tcp_check_req).
        let linux_passes = if self.handshake.passive {
            !self.profile.behaviour.request_child_challenges_trimmed_syn
        } else {
            !self.profile.behaviour.simultaneous_open_syn_not_trimmed
                || (seg.flags.ack()
                    && !seg.flags.rst()
                    && !seg.flags.fin()
                    && seg.len == 0
                    && seg.ack == self.tcb.snd_nxt)
        };
        // (A request socket's child has no socket of its own yet, so tcp_rcv_state_process()
        // lets no SYN through: the one tcp_check_req() trimmed draws a challenge ACK there.)
        // A RST is not trimmed: RFC 9293 3.10.7.4, second (RFC 5961 3.2), judges it by its
        // own sequence number, so a SYN,RST at the peer's ISN is outside the window (dropped)
        // or, with text reaching into it, not at RCV.NXT (a challenge ACK), never a reset
        // (explorer rfc9293, seed 2026, cases 1252, 3287, 4130, 5879, 7133, 7493).
        // After a passive open only an acceptable segment is trimmed (RFC 9293 3.3.2 judges
        // first): the SYN again alone, its one sequence number before RCV.NXT, is not
        // acceptable and draws an ACK; the SYN,ACK of Figure 7, line 6 is a simultaneous
        // open's (explorer rfc9293, seed 60607, case 1379).
        let acceptable_untrimmed = !self.handshake.passive || seg.len > 0 || seg.flags.fin();
        if self.state == State::SynReceived
            && seg.flags.syn()
            && !seg.flags.rst()
            && acceptable_untrimmed
            && seg.seq + 1 == self.tcb.rcv_nxt
            && linux_passes
        {
            // RFC 9293 3.10.7.4: "trimming off any portions that lie outside the window
            // (including SYN and FIN)": the peer's SYN again, as in a simultaneous open's
            // SYN,ACK (Figure 7, line 6), is the idealized segment that starts at RCV.NXT.
            seg.seq += 1;
            seg.flags = seg.flags & !TcpFlags::SYN;
        }
        if self.state == State::TimeWait {
            if let Some(until) = self.timers.time_wait {
                if now >= until {
                    self.enter(State::Closed);
                    self.arrive_closed(now, &seg);
                    return None;
                }
            }
            match self.profile.behaviour.time_wait {
                TimeWait::Rfc => {}
                TimeWait::LinuxMiniSocket => {
                    self.arrive_time_wait_minisocket(now, &seg);
                    return None;
                }
            }
        }
        Some(seg)
    }
}
