//! RFC 9293 §3.10.7.2: a segment arrives in LISTEN.

use std::time::Duration;

use crate::conn::expect::{Choice, LenSpec, SegSpec, SeqSpec};
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::profile::behaviour::RequestSocket;
use crate::wire::TcpFlags;

use super::super::*;

impl Connection {
    /// RFC 9293 3.10.7.2.
    pub(in crate::conn::machine) fn arrive_listen(&mut self, now: Duration, seg: &Seg) {
        // First, check for a RST: ignore it.
        if seg.flags.rst() {
            return;
        }
        let due = self.immediately(now);
        // Second, check for an ACK: <SEQ=SEG.ACK><CTL=RST>.
        if seg.flags.ack() {
            let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
            self.oblige(spec, due, &rules::LISTEN_ACK_RST);
            return;
        }
        // Third, check for a SYN.
        if seg.flags.syn() {
            // Linux tcp_rcv_state_process(), LISTEN: "if (th->fin) goto discard". RFC 9293
            // 3.10.7.2 would answer it and process the FIN in SYN-RECEIVED.
            if self.profile.behaviour.listen_syn_fin_dropped && seg.flags.fin() {
                self.record.choices.push(Choice {
                    rule: &rules::LINUX_RCV_STATE_PROCESS,
                    taken: "SYN with FIN in LISTEN dropped",
                });
                return;
            }
            match self.profile.behaviour.request_socket {
                RequestSocket::Rfc => {}
                // A new request socket: its own out-of-window ACK budget.
                RequestSocket::Linux => self.timers.last_challenge = None,
            }
            self.tcb.irs = seg.seq;
            self.tcb.rcv_nxt = seg.seq + 1;
            self.tcb.rcv_wup = self.tcb.rcv_nxt;
            self.fast_open_on_syn(seg);
            self.take_peer_options(seg, true);
            self.update_send_window_from_syn(seg);
            let (ecn, ecn_allowed) = self.ecn_synack_flags(seg);
            let spec = SegSpec {
                flags: TcpFlags::SYN | TcpFlags::ACK | ecn,
                optional_flags: ecn_allowed,
                seq: SeqSpec::Iss,
                ack: Some(self.tcb.rcv_nxt),
                len: LenSpec::Exact(0),
            };
            self.oblige(spec, due, &rules::LISTEN_SYN);
            self.handshake.passive = true;
            self.enter(State::SynReceived);
        }
        // Fourth, other text or control: drop.
    }
}
