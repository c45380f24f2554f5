//! SEGMENT ARRIVES (RFC 9293 §3.10.7): one file per state group, and the synchronized
//! states (with SYN-RECEIVED) cut at the RFC's own steps.

mod closed;
mod fast_path;
mod fin;
mod listen;
mod request;
mod rst;
mod sequence;
mod syn_sent;
mod text;
mod time_wait;

use std::time::Duration;

use crate::conn::expect::{Choice, SegSpec};
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::profile::ProfileKind;
use crate::seq::SeqNumber;
use crate::wire::TcpFlags;

use super::*;

impl Connection {
    /// A segment from the peer reaches the stack.
    pub(in crate::conn::machine) fn arrive_one(&mut self, now: Duration, seg: &Seg) {
        self.events += 1;
        self.note_peer_tsval(seg);
        match self.state {
            State::Closed => self.arrive_closed(now, seg),
            State::Listen => self.arrive_listen(now, seg),
            State::SynSent => self.arrive_syn_sent(now, seg),
            _ => self.arrive_other(now, seg),
        }
        if self.ka.on {
            self.plan_keepalive(now);
        }
    }

    /// RFC 9293 3.10.7.4, for SYN-RECEIVED and the synchronized states.
    pub(in crate::conn::machine) fn arrive_other(&mut self, now: Duration, seg: &Seg) {
        if !self.handshake.iss_bound {
            // The stack has not answered the SYN yet, so SND.NXT and RCV.WND are unknown and
            // no reply can be pinned. A stack answers a SYN at once, and the missing SYN-ACK
            // is reported by itself; this segment is not judged.
            self.record.choices.push(Choice {
                rule: "RFC 9293 3.10.7.4",
                taken: "segment arrived before the stack's SYN-ACK: not judged",
            });
            return;
        }
        if self.profile.kind == ProfileKind::Linux
            && self.state == State::SynReceived
            && self.handshake.passive
            && !self.linux.child
        {
            if !self.arrive_request_linux(now, seg) {
                return;
            }
            // tcp_check_req() created the child, which repeats every check on the segment
            // as it came (tcp_child_process()), with its own out-of-window budget.
            self.linux.child = true;
            self.timers.last_challenge = None;
            // tcp_create_openreq_child(): the child starts with its SYN-ACK acknowledged and
            // the window of this segment (SND.WL1 at the peer's ISN).
            self.tcb.snd_una = seg.ack;
            self.tcb.snd_wnd = u32::from(seg.wnd) << self.opts.snd_shift;
            self.tcb.snd_wl1 = self.tcb.irs;
            self.tcb.snd_wl2 = seg.ack;
            self.snd.max_wnd = self.snd.max_wnd.max(self.tcb.snd_wnd);
            let expired = self.snd.rtx.is_some_and(|r| r.count > 0);
            self.rtx_acked(now);
            // RFC 6298 5.7 (and Linux tcp_init_metrics()): no RTT sample from the handshake
            // (a retransmitted SYN-ACK, or a SYN cookie that kept no send time) puts the
            // data RTO at 3 s.
            self.snd
                .rto
                .on_handshake_complete(expired || self.handshake.cookie);
        }
        let due = self.immediately(now);
        if self.profile.kind == ProfileKind::Linux
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
                rule: "Linux tcp_rcv_state_process",
                taken: "segment without ACK, RST or SYN dropped before the sequence check",
            });
            return;
        }
        if self.state == State::FinWait2 && self.timers.fin_wait_2.is_some_and(|t| now >= t) {
            // The orphan's FIN-WAIT-2 timeout ran out: the connection is gone.
            self.enter(State::Closed);
            return self.arrive_closed(now, seg);
        }
        let mut trimmed;
        let mut seg = seg;
        // Linux trims nothing in a full socket's SYN-RECEIVED (a simultaneous open): its
        // tcp_rcv_state_process() lets only the exact SYN,ACK of Figure 7, line 6 through
        // (SEG.SEQ+1 = RCV.NXT, no text, no FIN, SEG.ACK = SND.NXT); any other SYN, RST
        // included, is judged where it stands (a RST not at RCV.NXT draws a challenge ACK,
        // a SYN the challenge ACK of RFC 5961 4.2). A request socket has already trimmed
        // (tcp_check_req).
        let linux_passes = self.profile.kind != ProfileKind::Linux
            || (!self.handshake.passive
                && seg.flags.ack()
                && !seg.flags.rst()
                && !seg.flags.fin()
                && seg.len == 0
                && seg.ack == self.tcb.snd_nxt);
        // (A request socket's child has no socket of its own yet, so tcp_rcv_state_process()
        // lets no SYN through: the one tcp_check_req() trimmed draws a challenge ACK there.)
        if self.state == State::SynReceived
            && seg.flags.syn()
            && seg.seq + 1 == self.tcb.rcv_nxt
            && linux_passes
        {
            // RFC 9293 3.10.7.4: "trimming off any portions that lie outside the window
            // (including SYN and FIN)": the peer's SYN again, as in a simultaneous open's
            // SYN,ACK (Figure 7, line 6), is the idealized segment that starts at RCV.NXT.
            trimmed = *seg;
            trimmed.seq = seg.seq + 1;
            trimmed.flags = seg.flags & !TcpFlags::SYN;
            seg = &trimmed;
        }
        if self.state == State::TimeWait {
            if let Some(until) = self.timers.time_wait {
                if now >= until {
                    self.enter(State::Closed);
                    return self.arrive_closed(now, seg);
                }
            }
            if self.profile.kind == ProfileKind::Linux {
                return self.arrive_time_wait_linux(now, seg);
            }
        }
        // RFC 7323 5.3: R1, PAWS, before the sequence number check: a segment whose TSval
        // is older than TS.Recent is not acceptable (a RST is never dropped this way).
        if let (Some((val, _)), Some(recent), true) = (
            seg.options.timestamps,
            self.ts.recent,
            self.opts.negotiation.timestamps(),
        ) {
            if SeqNumber(val).before(SeqNumber(recent)) && !seg.flags.rst() {
                self.unacceptable_ack(
                    now,
                    seg,
                    "RFC 7323 5.3: R1, PAWS: an old TSval makes the segment unacceptable: ACK and drop",
                );
                return;
            }
        }
        // First, check the sequence number.
        let rcv_wnd = self.tcb.rcv_wnd;
        // RFC 9293 3.4: MUST-66, with a zero window the RST, URG and ACK of a segment at
        // RCV.NXT are still processed; only its text is not taken.
        let mut zero_window_allowance = false;
        // RFC 9293 3.3.2 / 3.10.7.4: the four-case acceptability test.
        if rcv_wnd == 0 && seg.seq == self.tcb.rcv_nxt && seg.seg_len() > 0 {
            zero_window_allowance = true;
        } else if !self.acceptable(seg) {
            self.branch_on_wider_window(now, seg);
            if seg.flags.rst() && self.linux_reset_check(seg) {
                self.reset(now);
                return;
            }
            if !seg.flags.rst() {
                self.unacceptable_ack(
                    now,
                    seg,
                    "RFC 9293 3.10.7.4: unacceptable segment: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
                );
            }
            return;
        }
        // RFC 7323 5.3: R3, TS.Recent follows a segment that covers the left window edge.
        // (Linux does it later, in tcp_ack(): see below.)
        if let Some((val, _)) = seg.options.timestamps {
            if self.profile.kind != ProfileKind::Linux && !seg.seq.after(self.tcb.rcv_nxt) {
                self.ts.recent = Some(val);
            }
        }
        // Second, check the RST bit (RFC 5961 3.2). Any data it carries is ignored.
        // RFC 9293 3.5.3: SHLD-2, a RST may carry data; the model accepts one that does.
        if seg.flags.rst() {
            // The explorer's planted bug (test only): every in-window RST resets.
            let exact = seg.seq == self.tcb.rcv_nxt
                || cfg!(feature = "planted-bug")
                || self.linux_reset_check(seg)
                || self.linux_rst_at_sack_edge(seg);
            if exact {
                self.reset(now);
            } else {
                // RFC 5961 3.2: a RST in the window but not exactly at RCV.NXT draws a
                // challenge ACK and is dropped.
                self.challenge_ack(
                    now,
                    "RFC 5961 3.2: in-window RST not at RCV.NXT: challenge ACK",
                );
            }
            return;
        }
        // Fourth, check the SYN bit.
        if seg.flags.syn() {
            if self.state == State::SynReceived
                && self.handshake.passive
                && self.profile.kind != ProfileKind::Linux
            {
                // RFC 9293 3.10.7.4: SYN-RECEIVED from a passive OPEN returns to LISTEN.
                self.back_to_listen();
                return;
            }
            // RFC 5961 4.2: a SYN in a synchronized state, wherever it falls, draws a
            // challenge ACK and is dropped.
            self.challenge_ack(
                now,
                "RFC 5961 4.2: SYN in a synchronized state: challenge ACK",
            );
            return;
        }
        // Fifth, check the ACK field.
        if !seg.flags.ack() {
            return;
        }
        let completes_handshake = self.state == State::SynReceived;
        if self.state == State::SynReceived {
            // If SND.UNA < SEG.ACK =< SND.NXT, enter ESTABLISHED; else <SEQ=SEG.ACK><CTL=RST>.
            // Linux, simultaneous open: tcp_ack() takes an ACK of SND.UNA itself (the SYN
            // not acknowledged) as acceptable, and the connection is ESTABLISHED with its
            // SYN still outstanding. RFC 9293 resets: SND.UNA < SEG.ACK is required.
            let linux_una = self.profile.kind == ProfileKind::Linux
                && (self.linux.simultaneous || self.linux.child)
                && seg.ack == self.tcb.snd_una;
            let ok = self.handshake.iss_bound
                && (seg.ack.after(self.tcb.snd_una) || linux_una)
                && !seg.ack.after(self.tcb.snd_nxt);
            if !ok {
                let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
                self.expect(
                    spec,
                    due,
                    "RFC 9293 3.10.7.4: SYN-RECEIVED, unacceptable ACK: <SEQ=SEG.ACK><CTL=RST>",
                );
                return;
            }
            self.enter(State::Established);
            // tcp_rcv_state_process(), SYN-RECEIVED: tcp_fast_path_on().
            self.linux.header_prediction = true;
            self.tcb.snd_wnd = u32::from(seg.wnd) << self.opts.snd_shift;
            self.tcb.snd_wl1 = seg.seq;
            self.tcb.snd_wl2 = seg.ack;
            self.snd.max_wnd = self.snd.max_wnd.max(self.tcb.snd_wnd);
            if std::mem::take(&mut self.linux.closed_in_synrecv) {
                // The FIN held since the CLOSE goes at once, before the segment's own text
                // is looked at, so it acknowledges RCV.NXT as it stood (seen on 6.18).
                self.enter(State::FinWait1);
                if self.snd.unsent == 0 {
                    self.queue_fin(now);
                    self.linux.fin_before_text = true;
                }
            }
        }
        // RFC 9293 3.10.7.4: MAY-12, RFC 5961 5.2: acceptable only if
        // SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT; otherwise drop and ACK.
        let max_wnd = if self.profile.kind == ProfileKind::Linux {
            // Linux tcp_ack(): "do not accept ACK for bytes we never sent": MAX.SND.WND is
            // capped by the bytes acknowledged so far (a passive open's SYN not counted).
            self.snd
                .max_wnd
                .min(self.snd.bytes_acked.min(u64::from(u32::MAX)) as u32)
        } else {
            self.snd.max_wnd.max(1)
        };
        let oldest = self.tcb.snd_una - max_wnd;
        if !seg.ack.in_range_inclusive(oldest, self.tcb.snd_nxt) {
            if self.linux_header_predicted(seg) {
                // Linux tcp_rcv_established(): on the fast path the text is queued before
                // tcp_ack() refuses the ACK; the slow path drops it. Either, as the stack's
                // memory decides.
                let mut fast = self.clone();
                fast.fast_path_take(now, seg);
                self.branches.new_alt = Some(Box::new(fast));
            }
            self.challenge_ack(
                now,
                "RFC 5961 5.2: ACK outside SND.UNA-MAX.SND.WND..SND.NXT: challenge ACK",
            );
            return;
        }
        if seg.ack.after(self.tcb.snd_nxt) {
            self.ack_now(
                now,
                "RFC 9293 3.10.7.4: ACK of unsent data: send an ACK and drop",
            );
            return;
        }
        // Linux tcp_ack() (FLAG_UPDATE_TS_RECENT) and the fast path: TS.Recent follows only a
        // segment that got this far (no RST, no SYN) with an ACK not behind SND.UNA (an old
        // one leaves tcp_ack() at old_ack first) and that covers RCV.WUP
        // (tcp_replace_ts_recent(): SEG.SEQ =< RCV.WUP).
        if let (ProfileKind::Linux, Some((val, _))) = (self.profile.kind, seg.options.timestamps) {
            if !seg.seq.after(self.tcb.rcv_wup) && !seg.ack.before(self.tcb.snd_una) {
                self.ts.recent = Some(val);
            }
        }
        // The peer is heard from: keep-alives count again from now (Linux tcp_ack():
        // rcv_tstamp, icsk_probes_out = 0).
        self.ka.last_rcv = now;
        self.ka.probes_out = 0;
        let acks_new = seg.ack.after(self.tcb.snd_una);
        if acks_new {
            // A request socket's child starts with its SYN-ACK already acknowledged, so a
            // passive open's SYN is not counted; a simultaneous open's full socket counts it
            // in tcp_ack() like any other byte (Linux tcp_snd_una_update()).
            if !(completes_handshake && self.handshake.passive) {
                self.snd.bytes_acked += u64::from(seg.ack.forward_distance(self.tcb.snd_una));
            }
            self.tcb.snd_una = seg.ack;
            let expired = self.snd.rtx.is_some_and(|r| r.count > 0);
            self.rtx_acked(now);
            if completes_handshake {
                // RFC 6298 5.7 (and Linux tcp_init_metrics()): no RTT sample from the
                // handshake (a retransmitted SYN-ACK, or a SYN cookie that kept no send
                // time) puts the data RTO at 3 s.
                self.snd
                    .rto
                    .on_handshake_complete(expired || self.handshake.cookie);
            }
        }
        // Window update: if SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK).
        if self.linux_header_predicted(seg) && !acks_new && self.tcb.snd_wl1.after(seg.seq) {
            // The fast path's tcp_update_wl() sets SND.WL1 to SEG.SEQ even backwards.
            self.branches.fast_path_wl1 = Some(seg.seq);
        }
        let update = if self.profile.kind == ProfileKind::Linux {
            // Linux tcp_may_update_window(): also whenever new data is acknowledged, and
            // at SND.WL1 only when the window grows or closes.
            let nwin = u32::from(seg.wnd) << self.opts.snd_shift;
            acks_new
                || self.tcb.snd_wl1.before(seg.seq)
                || (self.tcb.snd_wl1 == seg.seq && (nwin > self.tcb.snd_wnd || nwin == 0))
        } else {
            self.tcb.snd_wl1.before(seg.seq)
                || (self.tcb.snd_wl1 == seg.seq && !seg.ack.before(self.tcb.snd_wl2))
        };
        if !seg.ack.before(self.tcb.snd_una) && update {
            if self.tcb.snd_wnd != u32::from(seg.wnd) << self.opts.snd_shift {
                // tcp_ack_update_window(): tcp_fast_path_check() with the new window.
                self.linux.header_prediction = self.reasm.held.is_empty() && self.tcb.rcv_wnd > 0;
            }
            self.tcb.snd_wnd = u32::from(seg.wnd) << self.opts.snd_shift;
            self.tcb.snd_wl1 = seg.seq;
            self.tcb.snd_wl2 = seg.ack;
            self.snd.max_wnd = self.snd.max_wnd.max(self.tcb.snd_wnd);
        }
        let fin_acked = self
            .snd
            .fin_seq
            .is_some_and(|f| !self.tcb.snd_una.before(f + 1));
        match self.state {
            State::FinWait1 if fin_acked => {
                self.enter(State::FinWait2);
                self.arm_fin_wait_2(now);
            }
            State::Closing if fin_acked => {
                self.enter_time_wait(now);
                if self.profile.kind == ProfileKind::Linux {
                    // tcp_rcv_state_process(): the timewait socket takes over and the rest of
                    // the segment (a FIN again, text) is not processed ("goto consume").
                    return;
                }
            }
            State::LastAck if fin_acked => {
                self.enter(State::Closed);
                return;
            }
            State::TimeWait => {
                // The only thing that can arrive is a retransmission of the peer's FIN,
                // handled below.
            }
            _ => {}
        }
        // Sixth, URG: not modelled (RFC 9293 3.8.5's urgent pointer is kept by the codec).
        if zero_window_allowance {
            // The text does not fit a zero window: acknowledge what we have instead.
            self.ack_now(
                now,
                "RFC 9293 3.10.7.4: zero window: text dropped, ACK sent",
            );
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
}
