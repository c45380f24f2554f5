//! RFC 9293 §3.10.7.4, second: the RST bit (with RFC 5961 §3.2).

use std::time::Duration;

use crate::conn::segment::Seg;
use crate::conn::state::State;

use super::super::*;

impl Connection {
    /// RFC 9293 3.10.7.4, second: the RST bit, as RFC 5961 3.2 refines it. Any data a RST
    /// carries is ignored (RFC 9293 3.5.3: SHLD-2, a RST may carry data; the model accepts
    /// one that does).
    pub(in crate::conn::machine) fn check_rst(&mut self, now: Duration, seg: &Seg) {
        // The explorer's planted bug (test only): every in-window RST resets.
        let exact = seg.seq == self.tcb.rcv_nxt
            || cfg!(feature = "planted-bug")
            || self.reset_at_rcv_nxt_minus_one(seg)
            || self.rst_at_sack_edge(seg);
        if exact {
            self.reset(now);
        } else {
            // RFC 5961 3.2: a RST in the window but not exactly at RCV.NXT draws a
            // challenge ACK and is dropped.
            self.challenge_ack(now, &rules::RST_CHALLENGE_ACK);
        }
    }

    /// RST accepted: RFC 9293 3.10.7.4, second, per state.
    pub(in crate::conn::machine) fn reset(&mut self, now: Duration) {
        self.note_raced_retransmissions(now);
        self.note_raced_acks(now);
        self.record.obligations.clear();
        match self.state {
            // RFC 7413 4.2.2: a Fast Open SYN made a connection the application may already
            // hold (accept() returned it), not a request the listener may forget: a RST
            // resets it as one in ESTABLISHED would, and the SYN's data stays readable
            // before the error (Linux tcp_reset() on the child socket: ECONNRESET).
            State::SynReceived if self.is_fast_open_child() => {
                self.record.reports.push(Report::ConnectionReset);
                self.enter(State::Closed);
            }
            State::SynReceived if self.handshake.passive => self.back_to_listen(),
            State::SynReceived => {
                self.record.reports.push(Report::ConnectionRefused);
                self.enter(State::Closed);
            }
            State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait => {
                self.record.reports.push(Report::ConnectionReset);
                self.enter(State::Closed);
            }
            _ => self.enter(State::Closed),
        }
    }

    /// Linux tcp_reset_check(): once the peer's FIN is in, a RST at RCV.NXT - 1 (a peer that
    /// did not count its FIN) resets the connection although it is outside the window.
    pub(in crate::conn::machine) fn reset_at_rcv_nxt_minus_one(&self, seg: &Seg) -> bool {
        self.profile.behaviour.reset_at_rcv_nxt_minus_one_after_fin
            && seg.seq + 1 == self.tcb.rcv_nxt
            && matches!(
                self.state,
                State::CloseWait | State::LastAck | State::Closing
            )
    }

    /// Linux tcp_validate_incoming(): RFC 5961 3.2 "extended to match ... the right-most
    /// SACK block": while out-of-order data is held and SACK is on, a RST exactly at the
    /// right edge of the highest block reported resets the connection like one at RCV.NXT
    /// (a peer that has only seen our SACKs may reset from there). RFC 5961 3.2 would send a
    /// challenge ACK.
    pub(in crate::conn::machine) fn rst_at_sack_edge(&self, seg: &Seg) -> bool {
        if !self.profile.behaviour.rst_at_sack_edge_resets || !self.opts.negotiation.sack() {
            return false;
        }
        self.reasm
            .highest_edge(self.tcb.rcv_nxt)
            .is_some_and(|edge| seg.seq == edge)
    }
}
