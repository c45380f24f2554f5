//! RFC 5961: challenge ACKs and their rate limit, and the ACK an unacceptable segment draws.

use std::time::Duration;

use crate::conn::expect::Choice;
use crate::conn::segment::Seg;

use super::*;

impl Connection {
    /// An ACK for an unacceptable segment (first check). In TIME-WAIT the same reply.
    pub(super) fn unacceptable_ack(&mut self, now: Duration, seg: &Seg, rule: &'static Rule) {
        // Linux tcp_oow_rate_limited(): a segment carrying data or a FIN (and no SYN) is
        // always answered; pure ACKs and SYNs share the challenge-ACK budget.
        let exempt = seg.seg_len() > 0 && !seg.flags.syn();
        if self.profile.behaviour.oow_ack_rate_limit && !exempt && self.rate_limited(now) {
            // Linux: tcp_oow_rate_limited() limits these duplicate ACKs like challenge ACKs.
            self.record.choices.push(Choice {
                rule: &rules::OOW_RATE_LIMITED,
                taken: "out-of-window ACK suppressed by the rate limit",
            });
            return;
        }
        self.ack_now(now, rule);
    }

    /// RFC 5961 challenge ACK: `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`, rate limited
    /// (RFC 5961 7; Linux one per `tcp_invalid_ratelimit` per socket).
    pub(super) fn challenge_ack(&mut self, now: Duration, rule: &'static Rule) {
        if self.rate_limited(now) {
            self.record.choices.push(Choice {
                rule: &rules::CHALLENGE_ACK_LIMIT,
                taken: "challenge ACK suppressed by the rate limit",
            });
            return;
        }
        self.ack_now(now, rule);
    }

    pub(super) fn rate_limited(&mut self, now: Duration) -> bool {
        if let Some(last) = self.timers.last_challenge {
            if now < last + self.profile.challenge_ack_interval {
                return true;
            }
        }
        self.timers.last_challenge = Some(now);
        false
    }
}
