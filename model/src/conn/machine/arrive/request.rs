//! Linux's request socket: a passive SYN-RECEIVED connection judged by tcp_check_req()
//! (net/ipv4/tcp_minisocks.c) in its own order, until a child socket takes over.

use std::time::Duration;

use crate::conn::expect::{Choice, LenSpec, SegSpec, SeqSpec};
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::profile::behaviour::RequestSocket;
use crate::seq::SeqNumber;
use crate::wire::TcpFlags;

use super::super::*;

impl Connection {
    /// Linux: the connection is still a request socket (passive SYN-RECEIVED, no child).
    pub(in crate::conn::machine) fn in_request_socket(&self) -> bool {
        self.profile.behaviour.request_socket == RequestSocket::Linux
            && self.state == State::SynReceived
            && self.handshake.passive
            && !self.linux.child
    }

    /// Linux: a request socket's ACK (tcp_v4_reqsk_send_ack()) advertises the SYN-ACK's
    /// window shifted right by the scale, rounded down, but the request (tcp_check_req()'s
    /// tcp_in_window()) and the child it creates (tcp_create_openreq_child(): rcv_wnd =
    /// rsk_rcv_wnd) judge by the SYN-ACK's window: the right edge the ACK showed is not the
    /// one kept (known deviation `request-ack-window-rounded-down`).
    pub(in crate::conn::machine) fn keeps_synack_window(&self) -> bool {
        self.profile.behaviour.request_ack_window_rounded_down
            && self.state == State::SynReceived
            && self.handshake.passive
            && !self.linux.child
    }

    /// Linux: a passive SYN-RECEIVED connection is a request socket, and tcp_check_req()
    /// (net/ipv4/tcp_minisocks.c) answers segments in its own order. Returns true when the
    /// segment goes on to the full socket (an acceptable ACK), false when it was handled.
    pub(in crate::conn::machine) fn arrive_request_socket(
        &mut self,
        now: Duration,
        seg: &Seg,
    ) -> bool {
        let ctl = TcpFlags::RST | TcpFlags::SYN | TcpFlags::ACK;
        let mut flg = seg.flags & ctl;
        let due = self.immediately(now);
        // "Check for pure retransmitted SYN": the SYN-ACK again, within the rate limit.
        if seg.seq == self.tcb.irs && flg == TcpFlags::SYN {
            self.resend_synack(now);
            return false;
        }
        // tcp_in_window() against the SYN-ACK's window: the left edge is always in, a
        // segment reaching into the window is in, an empty one at the right edge is in.
        let (left, right) = (self.tcb.rcv_nxt, self.tcb.rcv_nxt + self.tcb.rcv_wnd);
        let end = seg.end();
        let in_window = seg.seq == left
            || (end.after(left) && seg.seq.before(right))
            || (seg.seq == right && seg.seq == end);
        // An ACK of anything but the SYN-ACK goes to the listener, which resets it whatever
        // its sequence number or TSecr (RFC 9293 3.10.7.4's RST, before the window check).
        // A RST is not answered so (below).
        if flg.ack() && !flg.rst() && seg.ack != self.tcb.iss + 1 {
            let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
            self.oblige(spec, due, &rules::SYN_RECEIVED_BAD_ACK);
            return false;
        }
        // tcp_check_req() (6.15 on): a TSecr that echoes none of the SYN-ACKs sent (between
        // the first and the latest one's TSval) is refused like a segment outside the window
        // (an ACK, none for a RST), before the RST bit is looked at (seen on 6.18: a RST at
        // RCV.NXT with such a TSecr leaves the request). RFC 7323 4.3 leaves an unexpected
        // TSecr to the implementation.
        let tsecr_reject = match (seg.options.timestamps, self.ts.synack) {
            (Some((_, ecr)), Some((first, last))) if ecr != 0 => {
                SeqNumber(ecr).before(SeqNumber(first)) || SeqNumber(ecr).after(SeqNumber(last))
            }
            _ => false,
        };
        if tsecr_reject {
            if !flg.rst() {
                self.unacceptable_ack(now, seg, &rules::UNACCEPTABLE_SEGMENT);
            }
            return false;
        }
        // RFC 9293 3.10.7.4, second (RFC 5961 3.2): a RST is judged by its sequence number
        // alone. Seen on 6.18, whatever its ACK field, SYN or FIN bit: outside the window it
        // is dropped; exactly at RCV.NXT it drops the request silently; elsewhere in the
        // window (the peer's ISN included: the SYN is not trimmed first) it draws a challenge
        // ACK from the request's out-of-window budget and is dropped.
        if flg.rst() {
            if !in_window {
                return false;
            }
            if seg.seq == self.tcb.rcv_nxt {
                self.back_to_listen();
            } else {
                self.challenge_ack(now, &rules::RST_CHALLENGE_ACK);
            }
            return false;
        }
        if !in_window {
            self.unacceptable_ack(now, seg, &rules::UNACCEPTABLE_SEGMENT);
            return false;
        }
        // A SYN at the peer's ISN is out of the window that starts after it: truncated.
        if seg.seq == self.tcb.irs {
            flg = flg & !TcpFlags::SYN;
        }
        // "fourth, check the SYN bit": drops the request (embryonic_reset) with a RST.
        if flg.syn() {
            self.back_to_listen();
            {
                let (spec, rule) = if seg.flags.ack() {
                    (
                        SegSpec::ctl(TcpFlags::RST, seg.ack, None),
                        &rules::REQUEST_SYN_RST,
                    )
                } else {
                    (
                        SegSpec::ctl(
                            TcpFlags::RST | TcpFlags::ACK,
                            SeqNumber(0),
                            Some(seg.seq + seg.seg_len()),
                        ),
                        &rules::REQUEST_SYN_RST_ACK,
                    )
                };
                self.oblige(spec, due, rule);
            }
            return false;
        }
        // Without ACK the segment is dropped silently.
        if !flg.ack() {
            return false;
        }
        // tcp_check_req() (6.14 on, "tcp: Defer ts_recent changes until req is owned"): the
        // request keeps the SYN's TSval as TS.Recent whatever else arrives; only the child
        // this segment creates takes its TSval, if the segment is at or before RCV.NXT.
        // (Seen on 6.18, explorer seed 9001 case 1753: a FIN without ACK left TS.Recent.)
        if let Some((val, _)) = seg.options.timestamps {
            if !seg.seq.after(self.tcb.rcv_nxt) {
                self.ts.recent = Some(val);
            }
        }
        true
    }

    /// Linux tcp_check_req(), "pure retransmitted SYN": the SYN-ACK goes again at once
    /// (unless `tcp_oow_rate_limited()`), and the request's timer restarts from now with the
    /// current timeout. RFC 9293 3.10.7.4 would trim the SYN away and drop what is left,
    /// which has no ACK bit; a stack is free to retransmit early, so the `rfc9293` profile
    /// only records the difference when it sees the SYN-ACK.
    pub(in crate::conn::machine) fn resend_synack(&mut self, now: Duration) {
        if self.rate_limited(now) {
            self.record.choices.push(Choice {
                rule: &rules::OOW_RATE_LIMITED,
                taken: "repeated SYN: SYN-ACK suppressed by the rate limit",
            });
            return;
        }
        let spec = SegSpec {
            flags: TcpFlags::SYN | TcpFlags::ACK,
            optional_flags: TcpFlags::ECE,
            seq: SeqSpec::Exact(self.tcb.iss),
            ack: Some(self.tcb.rcv_nxt),
            len: LenSpec::Exact(0),
        };
        self.record.obligations.retain(|e| !is_retransmission_of(e));
        let due = self.immediately(now);
        self.oblige(spec, due, &rules::REQUEST_SYN_AGAIN);
        if let Some(rtx) = &mut self.snd.rtx {
            rtx.sent_at = now;
        }
        self.schedule_retransmission();
    }
}
