//! RFC 9293 3.10.7.4, fifth: the ACK field — the end of the handshake in SYN-RECEIVED, the
//! acceptability of the ACK (RFC 5961 5.2), what it acknowledges, and the states a FIN's
//! acknowledgment leads to. The send window's update is in `window.rs`.

use std::ops::ControlFlow;
use std::time::Duration;

use crate::conn::expect::{LenSpec, SegSpec, SeqSpec};
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::profile::behaviour::TsRecentUpdate;
use crate::wire::TcpFlags;

use super::super::*;

impl Connection {
    /// The fifth step for a segment with the ACK bit on. `Break` when the segment goes no
    /// further.
    pub(in crate::conn::machine) fn check_ack(
        &mut self,
        now: Duration,
        seg: &Seg,
    ) -> ControlFlow<()> {
        let completes_handshake = self.state == State::SynReceived;
        let held_fin = completes_handshake && self.complete_handshake(now, seg)?;
        // RFC 9293 3.10.7.4: MAY-12, RFC 5961 5.2: acceptable only if
        // SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT; otherwise drop and ACK.
        let max_wnd = if self.profile.behaviour.old_ack_capped_by_bytes_acked {
            // Linux tcp_ack(): "do not accept ACK for bytes we never sent": MAX.SND.WND is
            // capped by the bytes acknowledged so far (a passive open's SYN not counted).
            self.snd
                .max_wnd
                .min(self.snd.bytes_acked.min(u64::from(u32::MAX)) as u32)
        } else {
            self.snd.max_wnd.max(1)
        };
        let oldest = self.tcb.snd_una - max_wnd;
        // The fast path takes every pure ACK it predicts (text only as memory allows: a
        // branch, below), so TS.Recent follows such an ACK whatever its SEG.ACK (seen on
        // 6.18, explorer seed 9001 case 201: an ACK of SND.UNA-1 gave the TSecr).
        let fast_tsval = self.fast_path_tsval(seg);
        if let (Some(val), 0) = (fast_tsval, seg.len) {
            self.ts.recent = Some(val);
        }
        if !seg.ack.in_range_inclusive(oldest, self.tcb.snd_nxt) {
            if self.header_predicted(seg) {
                // Linux tcp_rcv_established(): on the fast path the text is queued before
                // tcp_ack() refuses the ACK; the slow path drops it. Either, as the stack's
                // memory decides.
                let mut fast = self.clone();
                fast.fast_path_take(now, seg);
                self.branches.new_alt = Some(Box::new(fast));
            }
            self.challenge_ack(now, &rules::ACK_CHALLENGE_ACK);
            return ControlFlow::Break(());
        }
        if seg.ack.after(self.tcb.snd_nxt) {
            self.ack_now(now, &rules::ACK_OF_UNSENT);
            return ControlFlow::Break(());
        }
        // Linux tcp_ack() (FLAG_UPDATE_TS_RECENT) and the fast path: TS.Recent follows only a
        // segment that got this far (no RST, no SYN) with an ACK not behind SND.UNA (an old
        // one leaves tcp_ack() at old_ack first) and that covers RCV.WUP
        // (tcp_replace_ts_recent(): SEG.SEQ =< RCV.WUP).
        // A full socket reads no TSopt without timestamps (tcp_parse_options() with estab
        // set wants tstamp_ok).
        let ts = seg
            .options
            .timestamps
            .filter(|_| self.opts.negotiation.timestamps());
        if let (TsRecentUpdate::LinuxTcpAck, Some((val, _))) =
            (self.profile.behaviour.ts_recent_update, ts)
        {
            if !seg.seq.after(self.tcb.rcv_wup) && !seg.ack.before(self.tcb.snd_una) {
                self.ts.recent = Some(val);
            } else if fast_tsval.is_some() && seg.len > 0 {
                // Text on the fast path (as the stack's memory allows) stored it first.
                self.branches.fast_path_ts = Some(val);
            }
        }
        // The peer is heard from: keep-alives count again from now (Linux tcp_ack():
        // rcv_tstamp, icsk_probes_out = 0).
        self.ka.last_rcv = now;
        self.ka.probes_out = 0;
        let acks_new = seg.ack.after(self.tcb.snd_una);
        // RFC 5681 2: a duplicate ACK acknowledges SND.UNA with data outstanding, carries
        // no data, no SYN or FIN, and leaves the window as it was.
        if acks_new {
            self.snd.dup_acks = 0;
        } else if seg.ack == self.tcb.snd_una
            && self.tcb.snd_nxt.after(self.tcb.snd_una)
            && seg.len == 0
            && !seg.flags.syn()
            && !seg.flags.fin()
            && self.scaled_window(seg) == self.tcb.snd_wnd
        {
            self.snd.dup_acks += 1;
        }
        if acks_new {
            // A request socket's child starts with its SYN-ACK already acknowledged, so a
            // passive open's SYN is not counted; a simultaneous open's full socket counts it
            // in tcp_ack() like any other byte (Linux tcp_snd_una_update()).
            if !(completes_handshake && self.handshake.passive) {
                self.snd.bytes_acked += u64::from(seg.ack.forward_distance(self.tcb.snd_una));
            }
            self.tcb.snd_una = seg.ack;
            if completes_handshake {
                self.handshake_acked(now);
            } else {
                self.rtx_acked(now);
            }
        }
        self.update_send_window(seg, acks_new);
        if held_fin {
            self.send_held_fin(now);
        }
        if acks_new && !completes_handshake {
            self.release_unpushed(now, seg);
        }
        self.fin_acked(now)
    }

    /// RFC 9293 3.9.1.2: MUST-60, a stack whose SEND cannot ask for PUSH must not hold data
    /// indefinitely. Data queued while earlier data was in flight (Nagle, RFC 9293 3.7.4;
    /// MAY-16, the aggregate of several SENDs) goes out when the ACK of everything in
    /// flight arrives, if its first segment fits the window (RFC 9293 3.8.6.2.1, sender
    /// SWS avoidance: all queued data pushed and sendable, or a full segment). Linux:
    /// tcp_ack(), then tcp_data_snd_check() in tcp_rcv_established(); tcp_nagle_check()
    /// holds nothing with no packet out. Only a pure ACK is looked at, so that the owed
    /// segment's ACK field is known.
    fn release_unpushed(&mut self, now: Duration, seg: &Seg) {
        let idle = self.tcb.snd_una == self.tcb.snd_nxt;
        let open = matches!(self.state, State::Established | State::CloseWait);
        let unsent = self.snd.unsent;
        if !idle || !open || unsent == 0 || seg.len > 0 || seg.flags.fin() {
            return;
        }
        let first = unsent.min(self.snd.mss);
        if first > self.tcb.snd_wnd {
            return;
        }
        let spec = SegSpec {
            flags: TcpFlags::ACK,
            optional_flags: TcpFlags::PSH,
            seq: SeqSpec::Exact(self.tcb.snd_nxt),
            ack: Some(self.tcb.rcv_nxt),
            len: LenSpec::UpTo(first),
        };
        let due = self.immediately(now);
        self.oblige(spec, due, &rules::UNPUSHED_DATA_RELEASED);
    }

    /// SYN-RECEIVED: if SND.UNA < SEG.ACK =< SND.NXT, enter ESTABLISHED; else
    /// <SEQ=SEG.ACK><CTL=RST>. `Continue(true)` when a FIN held since a CLOSE in
    /// SYN-RECEIVED is to go once SND.UNA and the window are updated (`send_held_fin`).
    fn complete_handshake(&mut self, now: Duration, seg: &Seg) -> ControlFlow<(), bool> {
        // Linux, simultaneous open: tcp_ack() takes an ACK of SND.UNA itself (the SYN not
        // acknowledged) as acceptable, and the connection is ESTABLISHED with its SYN still
        // outstanding. RFC 9293 resets: SND.UNA < SEG.ACK is required.
        let linux_una = self
            .profile
            .behaviour
            .simultaneous_open_ack_of_iss_establishes
            && (self.linux.simultaneous || self.linux.child)
            && seg.ack == self.tcb.snd_una;
        let ok = self.handshake.iss_bound
            && (seg.ack.after(self.tcb.snd_una) || linux_una)
            && !seg.ack.after(self.tcb.snd_nxt);
        if !ok {
            let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
            let due = self.immediately(now);
            self.oblige(spec, due, &rules::SYN_RECEIVED_BAD_ACK);
            return ControlFlow::Break(());
        }
        self.enter(State::Established);
        // tcp_rcv_state_process(), SYN-RECEIVED: tcp_fast_path_on().
        self.linux.header_prediction = true;
        self.set_send_window(self.scaled_window(seg), seg.seq, seg.ack);
        let held_fin = std::mem::take(&mut self.linux.closed_in_synrecv);
        if held_fin {
            self.enter(State::FinWait1);
        }
        ControlFlow::Continue(held_fin)
    }

    /// Linux: the FIN held since a CLOSE in a simultaneous open's SYN-RECEIVED goes when
    /// the handshake completes, before the segment's own text is looked at, so it
    /// acknowledges RCV.NXT as it stood (seen on 6.18). tcp_rcv_state_process(),
    /// TCP_SYN_RECV, has set tp->snd_una = SEG.ACK and tp->snd_wnd from the segment first,
    /// so the FIN's window test (tcp_snd_wnd_test(): SND.NXT + 1 =< SND.UNA + SND.WND)
    /// counts the SYN as acknowledged: a window of 1 lets it go (explorer seed 99 case
    /// 50897).
    fn send_held_fin(&mut self, now: Duration) {
        if self.snd.unsent == 0 {
            self.queue_fin(now);
            self.linux.fin_before_text = true;
        }
    }

    /// The states the acknowledgment of the stack's FIN leads to (FIN-WAIT-1, CLOSING,
    /// LAST-ACK). `Break` when the connection is gone or Linux's timewait socket takes over.
    fn fin_acked(&mut self, now: Duration) -> ControlFlow<()> {
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
                if self.profile.behaviour.fin_after_fin_ignored {
                    // tcp_rcv_state_process(): the timewait socket takes over and the rest of
                    // the segment (a FIN again, text) is not processed ("goto consume").
                    return ControlFlow::Break(());
                }
            }
            State::LastAck if fin_acked => {
                self.enter(State::Closed);
                return ControlFlow::Break(());
            }
            State::TimeWait => {
                // The only thing that can arrive is a retransmission of the peer's FIN,
                // handled below.
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
