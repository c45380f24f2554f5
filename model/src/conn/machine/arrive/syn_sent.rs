//! RFC 9293 §3.10.7.3: a segment arrives in SYN-SENT.

use std::time::Duration;

use crate::conn::expect::{LenSpec, Obligation, ObligationKind, SegSpec, SeqSpec};
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::wire::TcpFlags;

use super::super::deadlines::timer_due;
use super::super::*;

impl Connection {
    /// RFC 9293 3.10.7.3.
    pub(in crate::conn::machine) fn arrive_syn_sent(&mut self, now: Duration, seg: &Seg) {
        let due = self.immediately(now);
        // First, check the ACK bit.
        let mut ack_ok = false;
        if seg.flags.ack() {
            // If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit is set).
            let acceptable = self.handshake.iss_bound
                && seg.ack.after(self.tcb.iss)
                && !seg.ack.after(self.tcb.snd_nxt);
            if !acceptable {
                if !seg.flags.rst() {
                    let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
                    self.oblige(spec, due, &rules::SYN_SENT_BAD_ACK);
                }
                self.rearm_syn_after_bad_ack(now);
                return;
            }
            ack_ok = true;
        }
        // Second, check the RST bit: with an acceptable ACK the connection is reset.
        if seg.flags.rst() {
            if ack_ok {
                self.record.reports.push(Report::ConnectionRefused);
                self.record.obligations.clear();
                self.enter(State::Closed);
            }
            return;
        }
        // Fourth, check the SYN bit.
        if !seg.flags.syn() {
            return;
        }
        self.tcb.irs = seg.seq;
        self.tcb.rcv_nxt = seg.seq + 1;
        self.tcb.rcv_wup = self.tcb.rcv_nxt;
        self.take_peer_options(seg, true);
        // The SYN we sent is no longer owed a retransmission if it is acknowledged.
        if ack_ok {
            // Linux counts the SYN of an active open among the bytes acknowledged.
            self.snd.bytes_acked += u64::from(seg.ack.forward_distance(self.tcb.snd_una));
            self.tcb.snd_una = seg.ack;
        }
        self.update_send_window_from_syn(seg);
        if self.tcb.snd_una.after(self.tcb.iss) {
            self.handshake_acked(now);
            self.enter(State::Established);
            // tcp_finish_connect(): header prediction only without a send window scale.
            self.linux.header_prediction = self.opts.snd_shift == 0;
            self.ka.last_rcv = now;
            // Data or controls queued for transmission may be included; a pure ACK suffices.
            self.ack_now(now, &rules::SYN_SENT_ACKED);
        } else {
            // RFC 9293 3.5: MUST-10, simultaneous open is supported.
            self.linux.simultaneous = true;
            self.apply_negotiation();
            self.enter(State::SynReceived);
            let spec = SegSpec {
                flags: TcpFlags::SYN | TcpFlags::ACK,
                optional_flags: TcpFlags::empty(),
                // The stack's own SYN may not have been seen yet: its ISN binds either.
                seq: if self.handshake.iss_bound {
                    SeqSpec::Exact(self.tcb.iss)
                } else {
                    SeqSpec::Iss
                },
                ack: Some(self.tcb.rcv_nxt),
                len: LenSpec::Exact(0),
            };
            self.oblige(spec, due, &rules::SIMULTANEOUS_OPEN);
        }
    }

    /// Linux tcp_rcv_synsent_state_process(): "Previous FIN/ACK or RST/ACK might be
    /// ignored": after an unacceptable ACK, a SYN not yet retransmitted goes again after
    /// `TCP_TIMEOUT_MIN` instead of the full RTO. RFC 9293 3.10.7.3 only sends the RST; a
    /// retransmission is the stack's to time (RFC 6298 5 bounds it from below only on the
    /// `rfc9293` profile).
    pub(in crate::conn::machine) fn rearm_syn_after_bad_ack(&mut self, now: Duration) {
        if !self.profile.behaviour.syn_sent_rearm_after_bad_ack {
            return;
        }
        let Some(rtx) = &mut self.snd.rtx else { return };
        if rtx.count != 0 || !rtx.flags.syn() {
            return;
        }
        rtx.sent_at = now;
        self.record.obligations.retain(|e| !is_retransmission_of(e));
        self.record.obligations.push(Obligation {
            spec: SegSpec {
                optional_flags: TcpFlags::ECE | TcpFlags::CWR,
                ..SegSpec::ctl(TcpFlags::SYN, self.tcb.iss, None)
            },
            due: timer_due(self.profile.timer_precision, LINUX_TIMEOUT_MIN, now),
            kind: ObligationKind::Retransmission,
            rule: &rules::RETRANSMISSION,
        });
    }
}
