//! The stack's own segments: each one is checked against what is owed or allowed, then
//! applied to the model (binding the ISN, the window, the retransmission timer), and
//! `check_overdue_on_branch` reports what was owed and not sent.

use std::time::Duration;

use crate::conn::expect::{Actual, Choice, Divergence, ObligationKind, Required, SeqSpec};
use crate::conn::negotiate::SynOptions;
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::wire::TcpFlags;

use super::*;

impl Connection {
    /// The stack sent `seg` at `now`: check it against what is allowed, then apply it.
    pub(super) fn emitted_on_branch(&mut self, now: Duration, seg: &Seg) -> Result<(), Divergence> {
        self.events += 1;
        // The segment is copied only where a flag comes off (ECN's here, URG below): copying
        // every segment its caller had just built cost the model bench about a twentieth
        // (the copy's wide loads stall on the caller's narrower stores).
        let seen = self.ecn_seen(seg);
        let seg = seen.as_ref().unwrap_or(seg);
        let checked = self.check_options(seg);
        // Only the reply sent in the same breath as the purge carries the purged ranges.
        self.reasm.forget_purged();
        checked?;
        self.check_urgent(seg)?;
        // URG is checked: the obligations and allowances below need not know of it.
        let plain;
        let seg = if seg.flags.urg() {
            plain = Seg {
                flags: seg.flags & !TcpFlags::URG,
                ..*seg
            };
            &plain
        } else {
            seg
        };
        self.refresh_retransmission_ack();
        if let (true, false, Some(floor)) = (
            seg.flags.syn(),
            self.handshake.iss_bound,
            self.handshake.iss_floor,
        ) {
            if !seg.seq.after(floor) {
                return Err(Divergence {
                    rule: &rules::REOPEN_ISN_ABOVE,
                    expected: Required::IsnAbove(floor),
                    actual: Actual::Segment(Box::new(*seg)),
                });
            }
        }
        // An expectation already due wins over one that matches but is not due yet (a
        // SYN-ACK answering a duplicate SYN is not its early retransmission).
        let found = self
            .record
            .obligations
            .iter()
            .position(|e| e.spec.matches(seg) && now >= e.due.earliest)
            .or_else(|| {
                self.record
                    .obligations
                    .iter()
                    .position(|e| e.spec.matches(seg))
            });
        if let Some(i) = found {
            let e = self.record.obligations[i];
            if now < e.due.earliest
                && e.kind == ObligationKind::Retransmission
                && self.allowed_unasked(now, seg)
            {
                // Not the retransmission, but something sent on its own that looks the same
                // (a tail loss probe).
                self.apply_own(now, seg);
                return Ok(());
            }
            if now < e.due.earliest {
                return Err(Divergence {
                    rule: e.rule,
                    expected: Required::NotBefore {
                        spec: e.spec,
                        earliest: e.due.earliest,
                    },
                    actual: Actual::SegmentAt(Box::new(*seg), now),
                });
            }
            if i + 1 == self.record.obligations.len() {
                // The usual case, the only one owed: `pop` is `remove` without its shift
                // (a call to memmove the model bench showed at a twentieth of its time).
                self.record.obligations.pop();
            } else {
                self.record.obligations.remove(i);
            }
            match e.kind {
                ObligationKind::KeepAliveProbe => {
                    self.ka.probes_out += 1;
                    self.ka.last_probe = Some(now);
                    self.plan_keepalive(now);
                    return Ok(());
                }
                ObligationKind::KeepAliveReset => {
                    self.record.reports.push(Report::TimedOut);
                    self.record.obligations.clear();
                    self.enter(State::Closed);
                    return Ok(());
                }
                ObligationKind::Retransmission => {
                    if let Some(rtx) = &mut self.snd.rtx {
                        rtx.count += 1;
                        rtx.sent_at = now;
                        rtx.first_rtx_at.get_or_insert(now);
                    }
                    self.snd.rto.on_timeout();
                    self.schedule_retransmission();
                    return Ok(());
                }
                ObligationKind::Reply => {}
            }
            self.apply_own(now, seg);
            if self.ka.on {
                self.plan_keepalive(now);
            }
            return Ok(());
        }
        if self.allowed_unasked(now, seg) {
            self.apply_own(now, seg);
            if self.ka.on {
                self.plan_keepalive(now);
            }
            return Ok(());
        }
        if let Some(i) = self
            .record
            .raced
            .iter()
            .position(|(e, _)| e.spec.matches(seg))
        {
            self.record.raced.remove(i);
            self.record.choices.push(Choice {
                rule: &rules::RETRANSMISSION,
                taken: "a segment due when an input made it needless: its timer fired first",
            });
            return Ok(());
        }
        // Name what the segment stands in for: an obligation due by now that differs from
        // it only in its numbers, before the first one owed (a retransmission still to
        // come), so that the report, and the known deviation a harness recognises, are that
        // obligation's (explorer, rfc9293 profile, seed 8, 200 events, case 189).
        let named = self
            .record
            .obligations
            .iter()
            .find(|e| now >= e.due.earliest && e.spec.resembles(seg))
            .or(self.record.obligations.first());
        let (rule, expected) = match named {
            Some(e) => (
                e.rule,
                Required::Owed {
                    spec: e.spec,
                    rule: e.rule,
                    state: self.state,
                },
            ),
            None => (&rules::NO_RULE, Required::Nothing(Some(self.state))),
        };
        Err(Divergence {
            rule,
            expected,
            actual: Actual::Segment(Box::new(*seg)),
        })
    }

    /// Segments no rule demands but the standard allows at any time.
    pub(super) fn allowed_unasked(&mut self, now: Duration, seg: &Seg) -> bool {
        if !self.state.is_synchronized() && self.state != State::SynReceived {
            return false;
        }
        if seg.flags.syn() || seg.flags.rst() || !seg.flags.ack() || seg.ack != self.tcb.rcv_nxt {
            return false;
        }
        // Probes carry an old sequence number so the peer answers with an ACK:
        // <SEQ=SND.UNA-1><ACK=RCV.NXT><CTL=ACK>.
        if seg.flags & !TcpFlags::PSH == TcpFlags::ACK
            && seg.seq == self.tcb.snd_una - 1
            && seg.len <= 1
        {
            // RFC 9293 3.8.6: MUST-35, a zero window is probed. Linux probes without data
            // (tcp_xmit_probe_skb()), which the window cannot refuse.
            if self.tcb.snd_wnd == 0 && self.snd.unsent > 0 && seg.len == 0 {
                self.record.choices.push(Choice {
                    rule: &rules::ZERO_WINDOW_PROBE,
                    taken: "zero-window probe: SND.UNA-1, no data",
                });
                return true;
            }
        }
        // A window update or a repeated ACK.
        if seg.len == 0 && !seg.flags.fin() && seg.seq == self.ack_seq() {
            self.record.choices.push(Choice {
                rule: &rules::WINDOW_UPDATE,
                taken: "window update or duplicate ACK",
            });
            return true;
        }
        // More queued data, within the window and the MSS. RFC 9293 3.8.6: MUST-34, SHLD-15,
        // a window that shrank below what is in flight leaves no usable window, and no new
        // data goes out until the right edge passes SND.NXT again (Linux tcp_snd_wnd_test()).
        // RFC 9293 3.9.1.2: MAY-16, SHLD-27, the data of several SENDs may go in one
        // segment, as large as the MSS and the window allow, with one PSH bit for all of
        // them: a segment is judged by its bytes, never by the SENDs they came from.
        if seg.len > 0
            && seg.seq == self.tcb.snd_nxt
            && seg.len <= self.snd.unsent
            && seg.len <= self.snd.mss
            && !(seg.seq + seg.len).after(self.tcb.snd_una + self.tcb.snd_wnd)
        {
            return true;
        }
        // A FIN after all queued data.
        if seg.flags.fin()
            && self.snd.fin_queued
            && self.snd.unsent == seg.len
            && self.snd.fin_seq.is_none()
            && seg.seq == self.tcb.snd_nxt
        {
            return true;
        }
        // RFC 5681 3.2: after three duplicate ACKs the stack SHOULD retransmit the segment
        // at SND.UNA at once (fast retransmit), before the RTO; queued data may fill it up
        // to the MSS within the window (smoltcp sends from SND.UNA again), and the FIN with
        // it where the FIN follows the last byte (RFC 9293 3.10.4: after all queued data).
        let data_end = seg.seq + seg.len;
        let fin_in_place = !seg.flags.fin()
            || (self.snd.fin_queued
                && match self.snd.fin_seq {
                    Some(fin) => data_end == fin,
                    None => data_end == self.tcb.snd_nxt + self.snd.unsent,
                });
        if self.snd.dup_acks >= 3
            && seg.len > 0
            && seg.len <= self.snd.mss
            && fin_in_place
            && seg.seq == self.tcb.snd_una
            && !data_end.after(self.tcb.snd_nxt + self.snd.unsent)
            && !seg.end().after(self.tcb.snd_una + self.tcb.snd_wnd)
        {
            self.record.choices.push(Choice {
                rule: &rules::FAST_RETRANSMIT,
                taken: "fast retransmit after three duplicate ACKs",
            });
            return true;
        }
        // Linux's tail loss probe: the last segment again, before the RTO.
        if self.profile.tail_loss_probe
            && seg.seg_len() > 0
            && !seg.seq.before(self.tcb.snd_una)
            && !seg.end().after(self.tcb.snd_nxt)
        {
            self.record.choices.push(Choice {
                rule: &rules::TAIL_LOSS_PROBE,
                taken: "tail loss probe",
            });
            // tcp_send_loss_probe() rearms the RTO from the probe.
            if let Some(rtx) = &mut self.snd.rtx {
                rtx.sent_at = now;
                self.record.obligations.retain(|e| !is_retransmission_of(e));
                self.schedule_retransmission();
            }
            return true;
        }
        false
    }

    /// Applies a segment the stack sent to the model's view of it.
    pub(super) fn apply_own(&mut self, now: Duration, seg: &Seg) {
        if seg.flags.rst() {
            // The state change belongs to the input that called for the RST (an ABORT, or a
            // segment refused): sending it changes nothing more.
            return;
        }
        if seg.flags.syn() && self.handshake.iss_bound {
            // A SYN or SYN-ACK again (simultaneous open, retransmission): the ISN is already
            // bound and every spec that let this segment through carried it.
            self.opts.negotiation.ours = Some(SynOptions::of(seg));
            self.apply_negotiation();
            self.note_synack_tsval(seg);
            // A simultaneous open turns the SYN waiting for its ACK into a SYN-ACK
            // (Linux tcp_send_synack() sets ACK on the queued SYN): retransmitted as such.
            if let Some(rtx) = &mut self.snd.rtx {
                if rtx.flags.syn() && seg.flags.ack() && !rtx.flags.ack() {
                    rtx.flags |= TcpFlags::ACK;
                    self.record.obligations.retain(|e| !is_retransmission_of(e));
                    self.schedule_retransmission();
                }
            }
        } else if seg.flags.syn() {
            self.tcb.iss = seg.seq;
            self.handshake.iss_bound = true;
            // The ISN is bound once: any SYN still owed must carry the same one.
            for e in &mut self.record.obligations {
                if e.spec.seq == SeqSpec::Iss {
                    e.spec.seq = SeqSpec::Exact(seg.seq);
                }
            }
            self.tcb.snd_una = seg.seq;
            // RFC 7413 3: a Fast Open SYN's data follows its sequence number.
            self.tcb.snd_nxt = seg.seq + 1 + seg.len;
            self.opts.negotiation.ours = Some(SynOptions::of(seg));
            self.apply_negotiation();
            if let Some((val, _)) = seg.options.timestamps {
                self.ts.clock = Some(val);
            }
            self.note_synack_tsval(seg);
            // RFC 7323 2.2: the window in a SYN is never scaled.
            self.tcb.rcv_wnd = u32::from(seg.wnd);
            if seg.flags.ack() {
                self.handshake.synack_wnd = Some(self.tcb.rcv_wnd);
            }
            if self.snd.fin_queued && self.snd.fin_seq.is_none() {
                self.queue_fin(now);
            }
        } else {
            // A request socket's ACKs show its window rounded down to the scale
            // (tcp_v4_reqsk_send_ack()); the window it judges by, and hands to the child,
            // stays the SYN-ACK's. RFC 9293 3.3.2 judges by the window offered last.
            if !self.keeps_synack_window() {
                self.tcb.rcv_wnd = u32::from(seg.wnd) << self.opts.rcv_shift;
                if seg.flags.ack() {
                    self.tcb.rcv_wup = seg.ack;
                }
            }
            let end = seg.end();
            if end.after(self.tcb.snd_nxt) {
                let new_data = end.forward_distance(self.tcb.snd_nxt) - u32::from(seg.flags.fin());
                self.snd.unsent = self.snd.unsent.saturating_sub(new_data);
                self.tcb.snd_nxt = end;
            }
            if seg.flags.fin() {
                self.snd.fin_seq = Some(seg.seq + seg.len);
            }
        }
        // A pure ACK (or anything carrying the ACK) discharges an owed ACK.
        if seg.flags.ack() && seg.ack == self.tcb.rcv_nxt {
            self.drop_owed_pure_acks();
        }
        // A SYN-ACK carrying a SYN cookie is sent by a listener that keeps nothing: it is
        // never retransmitted (Linux cookie_v4_init_sequence(), no request socket).
        let stateless = self.handshake.cookie && seg.flags.syn();
        if seg.seg_len() > 0 && self.snd.rtx.is_none() && !stateless {
            self.snd.rtx = Some(Rtx {
                first_sent: now,
                sent_at: now,
                count: 0,
                first_rtx_at: None,
                flags: seg.flags & (TcpFlags::SYN | TcpFlags::ACK | TcpFlags::FIN),
                len: self.fast_open_syn_rtx_len(seg),
            });
            self.schedule_retransmission();
        }
    }

    /// Everything owed by `now` has been sent; returns the first overdue expectation.
    pub(super) fn check_overdue_on_branch(&mut self, now: Duration) -> Result<(), Divergence> {
        // A raced segment comes with the input's reaction or not at all. A harness checks
        // what is overdue by a time a grace before it reads a reply (the differ's advance()),
        // which may lie before the input: what raced it stays allowed until then.
        self.record.raced.retain(|&(_, at)| at > now);
        self.poll_on_branch(now);
        self.refresh_retransmission_ack();
        match self
            .record
            .obligations
            .iter()
            .find(|e| e.due.latest < now || (e.due.latest == e.due.earliest && e.due.latest <= now))
        {
            None => Ok(()),
            Some(e) => Err(Divergence {
                // RFC 9293 3.8.3: MUST-23, a SYN's retransmission never sent within R2.
                rule: if e.kind == ObligationKind::Retransmission && e.spec.flags.syn() {
                    &rules::SYN_RETRANSMITTED_FOR_R2
                } else {
                    e.rule
                },
                expected: Required::By {
                    spec: e.spec,
                    latest: e.due.latest,
                },
                actual: Actual::NothingBy(now),
            }),
        }
    }
}
