//! Linux header prediction: the fast path of tcp_rcv_established(), which may take an
//! in-order segment's text before tcp_ack() judges its ACK.

use std::time::Duration;

use crate::conn::expect::Choice;
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::seq::SeqNumber;
use crate::wire::TcpFlags;

use super::super::*;

impl Connection {
    /// Linux tcp_rcv_established()'s header prediction for text, all but the memory test.
    pub(in crate::conn::machine) fn header_predicted(&self, seg: &Seg) -> bool {
        self.header_matches(seg) && seg.len > 0
    }

    /// Linux tcp_rcv_established()'s header prediction: an in-order segment with ACK (and
    /// PSH) only, the header length the connection predicts (TSopt exactly when negotiated,
    /// and not older than TS.Recent), the window last recorded, an ACK not beyond SND.NXT.
    fn header_matches(&self, seg: &Seg) -> bool {
        let ts_ok = match (self.opts.negotiation.timestamps(), seg.options.timestamps) {
            (true, Some((val, _))) => self
                .ts
                .recent
                .is_none_or(|r| !SeqNumber(val).before(SeqNumber(r))),
            (false, None) => true,
            _ => false,
        };
        self.profile.behaviour.header_prediction
            && self.state == State::Established
            && self.linux.header_prediction
            && self.reasm.is_empty()
            && seg.flags & !TcpFlags::PSH == TcpFlags::ACK
            && seg.options.sack.is_none()
            && ts_ok
            && seg.seq == self.tcb.rcv_nxt
            && !seg.ack.after(self.tcb.snd_nxt)
            && u32::from(seg.wnd) == self.tcb.snd_wnd >> self.opts.snd_shift
    }

    /// The TSval Linux's fast path stores as TS.Recent before tcp_ack() judges the ACK
    /// (tcp_rcv_established(): tcp_store_ts_recent() when RCV.NXT = RCV.WUP), so even an
    /// old ACK's TSval is kept there; the slow path's tcp_ack() leaves at old_ack first.
    pub(in crate::conn::machine) fn fast_path_tsval(&self, seg: &Seg) -> Option<u32> {
        let (val, _) = seg.options.timestamps?;
        (self.header_matches(seg) && self.tcb.rcv_nxt == self.tcb.rcv_wup).then_some(val)
    }

    /// Linux's fast path for text whose ACK is too old: the text is queued (as in order),
    /// then tcp_ack() refuses the ACK and sends its challenge ACK, which now acknowledges
    /// the text; if the rate limit holds it back, the text's own ACK follows
    /// (__tcp_ack_snd_check(), at once or delayed).
    pub(in crate::conn::machine) fn fast_path_take(&mut self, now: Duration, seg: &Seg) {
        self.record.choices.push(Choice {
            rule: &rules::LINUX_FAST_PATH,
            taken: "header prediction queued text whose ACK was too old",
        });
        if let Some(val) = self.fast_path_tsval(seg) {
            self.ts.recent = Some(val);
        }
        self.tcb.rcv_nxt += seg.len;
        self.rcv.readable += u64::from(seg.len);
        if self.rate_limited(now) {
            self.ack_data(now);
        } else {
            self.ack_now(now, &rules::ACK_CHALLENGE_ACK);
        }
    }
}
