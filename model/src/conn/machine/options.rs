//! TCP options: what the SYNs negotiated (RFC 7323, RFC 2018, RFC 9293 §3.7.1) and the
//! option rules every segment the stack sends must follow.

use crate::conn::expect::{Actual, Choice, Divergence, OptionsRequired, Required};
use crate::conn::negotiate::SynOptions;
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::seq::SeqNumber;

use super::*;

impl Connection {
    pub(super) fn take_peer_options(&mut self, seg: &Seg, syn: bool) {
        if !syn {
            return;
        }
        // RFC 9293 3.7.1: MUST-16, the effective send MSS is the smaller of the peer's MSS
        // and what our path allows; MUST-15 gives 536 when the peer sends none.
        self.snd.mss = seg.options.mss.map_or(self.snd.default_mss, u32::from);
        // RFC 7323 4.3: TS.Recent starts from the SYN's TSval.
        self.ts.recent = seg.options.timestamps.map(|(val, _)| val);
        self.opts.negotiation.theirs = Some(SynOptions::of(seg));
        self.apply_negotiation();
    }

    pub(super) fn apply_negotiation(&mut self) {
        if let Some((rcv, snd)) = self.opts.negotiation.window_scale() {
            self.opts.rcv_shift = rcv;
            self.opts.snd_shift = snd;
        } else {
            self.opts.rcv_shift = 0;
            self.opts.snd_shift = 0;
            // Linux, simultaneous open: tcp_rcv_synsent_state_process() does not clear the
            // receive scale it offered when the peer's SYN has no Window Scale option (the
            // SYN-ACK path does), so the stack goes on scaling the windows it advertises.
            // RFC 7323 2.3 turns scaling off in both directions.
            if self
                .profile
                .behaviour
                .simultaneous_open_scales_unnegotiated_window
                && self.linux.simultaneous
            {
                if let Some(ours) = self.opts.negotiation.ours.and_then(|o| o.window_scale) {
                    self.opts.rcv_shift = ours;
                }
            }
        }
    }

    /// A SYN-ACK in SYN-SENT whose TSecr is not the TSval of the stack's last SYN: Linux
    /// resets it unless the echo lies between its first SYN's clock and now
    /// (tcp_rcv_synsent_state_process(), PAWSACTIVEREJECTED), a clock the model does not
    /// follow; RFC 7323 3.2 leaves such a SYN-ACK to the sequence checks.
    pub fn synack_echo_unknown(&self, seg: &Seg) -> bool {
        let (Some((_, ecr)), Some(last)) = (seg.options.timestamps, self.ts.clock) else {
            return false;
        };
        self.state == State::SynSent
            && seg.flags.syn()
            && seg.flags.ack()
            && ecr != 0
            && ecr != last
    }

    /// Remembers a TSval the peer sent, so an echo of it can be recognised.
    pub(super) fn note_peer_tsval(&mut self, seg: &Seg) {
        if let Some((val, _)) = seg.options.timestamps {
            self.ts.peer_vals.rotate_right(1);
            self.ts.peer_vals[0] = Some(val);
        }
    }

    pub(super) fn note_synack_tsval(&mut self, seg: &Seg) {
        if let (true, Some((val, _))) = (seg.flags.syn() && seg.flags.ack(), seg.options.timestamps)
        {
            let first = self.ts.synack.map_or(val, |(f, _)| f);
            self.ts.synack = Some((first, val));
        }
    }

    /// The option rules every segment the stack sends must follow, whatever else it is.
    pub(super) fn check_options(&mut self, seg: &Seg) -> Result<(), Divergence> {
        let fail = |rule: &'static Rule, expected: OptionsRequired| Divergence {
            rule,
            expected: Required::Options(expected),
            actual: Actual::Segment(Box::new(*seg)),
        };
        // RFC 9293 3.2: MUST-65, the MSS option is sent only in SYN segments.
        if seg.options.mss.is_some() && !seg.flags.syn() {
            return Err(fail(&rules::MSS_ONLY_IN_SYN, OptionsRequired::NoMss));
        }
        // RFC 9293 3.7.1: MUST-14, SHLD-5, MAY-3: a stack implements the MSS option and
        // sends it unless its receive MSS is the default; sending none is recorded, since
        // the model cannot know the stack's receive MSS.
        if seg.flags.syn() && seg.options.mss.is_none() {
            self.record.choices.push(Choice {
                rule: &rules::MSS_OPTION_SENT,
                taken:
                    "SYN without an MSS option (allowed only when the receive MSS is 536 or 1220)",
            });
        }
        if seg.flags.syn() && seg.flags.ack() {
            self.check_fast_open(seg)?;
        } else if seg.flags.syn() {
            self.check_active_fast_open(seg)?;
        }
        if seg.flags.syn() {
            // A SYN-ACK answers a SYN that did or did not offer timestamps.
            let theirs_without_ts = self.opts.negotiation.theirs.is_some_and(|t| !t.timestamps);
            // Linux, simultaneous open: the SYN-ACK repeats the options of the stack's own
            // SYN, TSopt included (tcp_rcv_synsent_state_process, tcp_send_synack).
            let linux_repeat = self.profile.behaviour.simultaneous_open_synack_tsopt
                && !self.handshake.passive
                && self.opts.negotiation.ours.is_some_and(|o| o.timestamps);
            if seg.flags.ack()
                && seg.options.timestamps.is_some()
                && theirs_without_ts
                && !linux_repeat
            {
                return Err(fail(
                    &rules::NO_TSOPT_IN_SYNACK,
                    OptionsRequired::SynAckWithoutTimestamps,
                ));
            }
            return Ok(());
        }
        if !self.opts.negotiation.done() {
            return Ok(());
        }
        let ts = seg.options.timestamps;
        if self.linux.tw_socket && !self.opts.negotiation.timestamps() {
            // Linux tcp_v4_send_ack() (and tcp_v6_send_response()) add TSopt whenever the
            // TSecr, the timewait socket's tw_ts_recent, is not zero, timestamps on or off:
            // a request socket's child takes the TSval of the ACK that made it whatever was
            // negotiated (tcp_check_req()), and tcp_time_wait() copies it (seen on 6.18,
            // explorer seed 4242 case 2876). RFC 7323 3.2 sends none.
            let recent = self.ts.recent.filter(|&r| r != 0);
            return match (ts, recent) {
                (None, None) => Ok(()),
                (Some((_, ecr)), Some(r)) if ecr == r => Ok(()),
                _ => Err(fail(
                    &rules::TIMEWAIT_TSOPT,
                    recent.map_or(OptionsRequired::NoTsopt, OptionsRequired::TsoptEchoing),
                )),
            };
        }
        if self.opts.negotiation.timestamps() {
            // RFC 7323 3.2: once negotiated, TSopt is sent in every non-RST segment.
            let Some((val, ecr)) = ts else {
                if seg.flags.rst() {
                    return Ok(());
                }
                return Err(fail(&rules::TSOPT_IN_EVERY_SEGMENT, OptionsRequired::Tsopt));
            };
            // RFC 7323 5.4: the TSval clock is monotone non-decreasing.
            if let Some(last) = self.ts.clock {
                if SeqNumber(val).before(SeqNumber(last)) {
                    return Err(fail(
                        &rules::TSVAL_MONOTONE,
                        OptionsRequired::TsvalAtLeast(last),
                    ));
                }
            }
            self.ts.clock = Some(val);
            // RFC 7323 4.3: TSecr echoes a TSval the peer sent.
            // (TS.Recent itself may be older than the last eight TSvals when later segments
            // did not update it.)
            let seen = self.ts.peer_vals.iter().flatten().any(|&v| v == ecr)
                || self.ts.recent == Some(ecr);
            if seg.flags.ack() && self.ts.peer_vals[0].is_some() && !seen {
                return Err(fail(&rules::TSECR_ECHOES, OptionsRequired::EchoedTsecr));
            }
        } else if ts.is_some() {
            return Err(fail(
                &rules::NO_TSOPT_UNNEGOTIATED,
                OptionsRequired::NoTsopt,
            ));
        }
        if let Some(blocks) = seg.options.sack {
            // RFC 2018 2: SACK only to a peer that said SACK-permitted.
            if !self.opts.negotiation.sack() {
                return Err(fail(&rules::NO_SACK_UNNEGOTIATED, OptionsRequired::NoSack));
            }
            for b in blocks.as_slice() {
                // RFC 2018 4: a block reports data held; RFC 2883 allows a block at or below
                // RCV.NXT (a duplicate).
                let purged = self.profile.behaviour.reset_carries_sack_blocks
                    && self.state != State::CloseWait;
                let held = self
                    .reasm
                    .held()
                    .iter()
                    .chain(self.reasm.purged().iter().filter(|_| purged))
                    .any(|&(start, len)| {
                        b.left.in_range_inclusive(start, start + len)
                            && b.right.in_range_inclusive(start, start + len)
                    });
                let duplicate = !b.right.after(self.tcb.rcv_nxt);
                if !b.left.before(b.right) || !(held || duplicate) {
                    return Err(fail(
                        &rules::SACK_BLOCKS_HELD,
                        OptionsRequired::SackBlocksHeld,
                    ));
                }
            }
        } else if self.profile.behaviour.sack_on_every_ack
            && self.opts.negotiation.sack()
            && !self.reasm.is_empty()
            && !(seg.flags.fin() && std::mem::take(&mut self.linux.fin_before_text))
            && seg.flags.ack()
            && seg.len == 0
            && seg.ack == self.tcb.rcv_nxt
        {
            // Linux: tcp_build_sack_options() puts the held ranges on every ACK while any
            // are held (design §4: "an immediate duplicate ACK carrying a SACK block").
            return Err(fail(&rules::SACK_ON_EVERY_ACK, OptionsRequired::Sack));
        }
        Ok(())
    }
}
