//! TIME-WAIT: the reopening SYN of RFC 9293 §3.6.1 (MAY-2), and Linux's timewait
//! mini-socket (tcp_timewait_state_process()).

use std::time::Duration;

use crate::conn::expect::Choice;
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::profile::behaviour::TimeWait;
use crate::seq::SeqNumber;

use super::super::*;

impl Connection {
    /// RFC 9293 3.6.1: MAY-2, a SYN may reopen a connection in TIME-WAIT if the new ISN is
    /// above every sequence number the old one used (condition 1). Linux takes it when the
    /// SYN lies beyond RCV.NXT or carries a newer TSval (tcp_timewait_state_process()) and
    /// a listener owns the port, which only the caller knows. Returns whether it reopened:
    /// then the connection is a new passive one that received this SYN.
    pub(in crate::conn::machine) fn reopen_from_time_wait_on_branch(
        &mut self,
        now: Duration,
        seg: &Seg,
    ) -> bool {
        if self.state != State::TimeWait || !self.syn_may_reopen(seg) {
            return false;
        }
        // MAY-2 is the stack's to take or leave. Linux takes it whenever it can (its
        // timewait socket hands the SYN to the listener); a stack judged by the RFC's
        // profile may also leave the SYN to TIME-WAIT's own rules (RFC 9293 3.10.7.4), so
        // that path is followed as a branch too, and the wire tells which was taken.
        let stay = (self.profile.behaviour.time_wait == TimeWait::Rfc
            && self.branches.new_alt.is_none())
        .then(|| {
            let mut stay = self.clone();
            stay.branches.alts.clear();
            stay.arrive_on_branch(now, seg);
            stay.refresh_retransmission_ack();
            stay.branches.new_alt = None;
            stay
        });
        let floor = self.tcb.snd_nxt;
        self.events += 1;
        self.forget();
        self.record.choices.push(Choice {
            rule: &rules::TIME_WAIT_REOPEN,
            taken: "a SYN reopens the connection from TIME-WAIT",
        });
        self.handshake.passive = true;
        self.state = State::Listen;
        self.handshake.iss_floor = Some(floor);
        self.note_peer_tsval(seg);
        self.arrive_listen(now, seg);
        if self.state == State::Listen {
            // The listener dropped the SYN (a SYN with FIN, say): TIME-WAIT is gone all the
            // same (Linux tcp_v4_rcv(), TCP_TW_SYN: inet_twsk_deschedule_put() before the
            // listener sees the segment), and the ISN it proposed went with that segment, so
            // the next SYN is a fresh connection with a fresh ISN (explorer, seed 4242,
            // cases 736 and 750).
            self.handshake.iss_floor = None;
        }
        if let (Some(stay), None) = (stay, &self.branches.new_alt) {
            self.branches.new_alt = Some(Box::new(stay));
        }
        true
    }

    /// Linux: TIME-WAIT belongs to a timewait mini-socket, and tcp_timewait_state_process()
    /// answers in its own way. Only an empty segment or a RST exactly at RCV.NXT is "in the
    /// window": the RST ends TIME-WAIT (tcp_rfc1337 = 0), the empty one restarts it, both
    /// silently. A SYN beyond RCV.NXT (or with a newer TSval) goes to a listener if one owns
    /// the port (the caller's [`Connection::reopen_from_time_wait`]); with none it is
    /// answered with an ACK, not rate limited. A RST anywhere else is dropped, with no
    /// challenge ACK. Everything else (a second FIN at RCV.NXT, text, an old segment) is not
    /// processed and is answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, within the
    /// out-of-window rate limit unless it carries text or a FIN. RFC 9293 3.10.7.4 would
    /// challenge the RST (RFC 5961 3.2), take a FIN at RCV.NXT and ignore text silently.
    pub(in crate::conn::machine) fn arrive_time_wait_minisocket(
        &mut self,
        now: Duration,
        seg: &Seg,
    ) {
        self.linux.tw_socket = true;
        let paws_reject = self.paws_rejects(seg);
        let empty = seg.seg_len() == 0;
        if !paws_reject && seg.seq == self.tcb.rcv_nxt && (empty || seg.flags.rst()) {
            if seg.flags.rst() {
                self.record.obligations.clear();
                self.enter(State::Closed);
            } else {
                self.timers.time_wait = Some(now + self.profile.time_wait);
                // Read only with timestamps on (tw_ts_recent_stamp set).
                if let (Some((val, _)), true) =
                    (seg.options.timestamps, self.opts.negotiation.timestamps())
                {
                    self.ts.recent = Some(val);
                }
            }
            return;
        }
        let rule = &rules::TIME_WAIT_ACK;
        if self.syn_may_reopen(seg) {
            // TCP_TW_SYN with no listener falls through to the ACK, outside the rate limit.
            self.ack_now(now, rule);
            return;
        }
        if seg.flags.rst() {
            self.record.choices.push(Choice {
                rule: &rules::LINUX_TIME_WAIT,
                taken: "TIME-WAIT: a RST not at RCV.NXT dropped without a challenge ACK",
            });
            return;
        }
        if paws_reject || seg.flags.ack() {
            self.timers.time_wait = Some(now + self.profile.time_wait);
        }
        self.unacceptable_ack(now, seg, rule);
    }

    /// RFC 7323 5.3 R1 (PAWS): the segment's TSval is older than TS.Recent (a RST is never
    /// rejected so; Linux tcp_paws_reject(), against tw_ts_recent in TIME-WAIT).
    pub(in crate::conn::machine) fn paws_rejects(&self, seg: &Seg) -> bool {
        match (seg.options.timestamps, self.ts.recent) {
            (Some((val, _)), Some(recent)) if self.opts.negotiation.timestamps() => {
                SeqNumber(val).before(SeqNumber(recent)) && !seg.flags.rst()
            }
            _ => false,
        }
    }

    /// A SYN that may open a new incarnation from TIME-WAIT: no ACK or RST, not rejected by
    /// PAWS, and beyond RCV.NXT or with a TSval newer than TS.Recent (RFC 6191 2, which RFC
    /// 9293 3.6.1's MAY-2 points to; Linux tcp_timewait_state_process(), TCP_TW_SYN). The
    /// reference is TS.Recent, as Linux's tw_ts_recent (tcp_store_ts_recent() keeps only
    /// what passed the window), not the peer's latest TSval; and a TSopt counts only when
    /// timestamps are on (tw_ts_recent_stamp set): without them a SYN's TSval is not newer
    /// than anything (explorer, seed 31337, case 608).
    fn syn_may_reopen(&self, seg: &Seg) -> bool {
        // RFC 9293 3.6.1: SHLD-4, timestamps shorten TIME-WAIT: a newer TSval proves the SYN
        // new even below RCV.NXT (RFC 6191).
        let newer_ts = match (seg.options.timestamps, self.ts.recent) {
            (Some((val, _)), Some(recent)) if self.opts.negotiation.timestamps() => {
                SeqNumber(recent).before(SeqNumber(val))
            }
            _ => false,
        };
        seg.flags.syn()
            && !seg.flags.rst()
            && !seg.flags.ack()
            && !self.paws_rejects(seg)
            && (seg.seq.after(self.tcb.rcv_nxt) || newer_ts)
    }
}
