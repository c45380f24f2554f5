//! An active Fast Open connection (RFC 7413 3, 4.2): the SYN carries a cookie request or
//! the cached cookie with data, the SYN-ACK teaches the client's cache, and SYN data the
//! SYN-ACK did not acknowledge goes again after the handshake.

use crate::conn::expect::{
    Actual, Divergence, LenSpec, ObligationKind, OptionsRequired, Required, SegSpec, SeqSpec,
};
use crate::conn::fast_open_client::{linux_syn_data_space, Learned, SynPlan};
use crate::conn::segment::Seg;

use super::*;

#[derive(Clone, Copy, Debug)]
pub(super) struct ActiveFastOpen {
    plan: SynPlan,
    /// The bytes the call offered.
    offered: u32,
    /// The bytes the call says went on the SYN (its return value; 0 for EINPROGRESS).
    syn_data: u32,
    /// The first SYN has been seen.
    sent: bool,
    /// What the SYN-ACK taught, until the harness takes it.
    learned: Option<Learned>,
}

impl Connection {
    /// OPEN, active, with Fast Open (RFC 7413 3): the SYN goes with `plan`'s option and
    /// `syn_data` of the `offered` bytes (what the call returned).
    pub fn open_active_fast_open(
        &mut self,
        now: Duration,
        plan: SynPlan,
        offered: u32,
        syn_data: u32,
    ) -> Result<(), UserError> {
        self.open_active(now)?;
        // RFC 7413 4.2.2: the SYN carries the data (its option is checked apart).
        if let Some(e) = self.record.obligations.last_mut() {
            if e.spec.flags.syn() && e.spec.seq == SeqSpec::Iss {
                e.spec.len = LenSpec::Exact(syn_data);
                e.rule = &rules::FAST_OPEN_SYN;
            }
        }
        self.active_fo = Some(ActiveFastOpen {
            plan,
            offered,
            syn_data,
            sent: false,
            learned: None,
        });
        Ok(())
    }

    /// What the SYN-ACK of an active Fast Open taught about the server, once: the harness
    /// keeps the cache that outlives the connection.
    pub fn take_fast_open_learned(&mut self) -> Option<Learned> {
        self.active_fo.as_mut().and_then(|a| a.learned.take())
    }

    /// A SYN the stack sends on an active Fast Open connection: the option its plan calls
    /// for, the data the cache allows; no option on a retransmission (Linux).
    pub(super) fn check_active_fast_open(&mut self, seg: &Seg) -> Result<(), Divergence> {
        let linux = self.profile.behaviour.fast_open_client_linux;
        let Some(a) = &mut self.active_fo else {
            return Ok(());
        };
        let fail = |rule: &'static Rule, expected: OptionsRequired| Divergence {
            rule,
            expected: Required::Options(expected),
            actual: Actual::Segment(Box::new(*seg)),
        };
        if a.sent {
            // Linux tcp_send_syn_data(): "Exclude Fast Open option for SYN retries" (RFC
            // 7413 4.1.3.1 leaves the retry to the client).
            if linux && seg.options.fast_open.is_some() {
                return Err(fail(
                    &rules::FAST_OPEN_SYN_RETRY,
                    OptionsRequired::FastOpenSyn(None),
                ));
            }
            return Ok(());
        }
        a.sent = true;
        let want = a.plan.option();
        let same = match (seg.options.fast_open, want) {
            (None, None) => true,
            (Some(s), Some(w)) => s.exp == w.exp && s.as_slice() == w.as_slice(),
            _ => false,
        };
        if !same {
            // RFC 7413 4.2.1: a request without a cookie cached; 4.2.2: the cookie cached.
            return Err(fail(
                &rules::FAST_OPEN_SYN,
                OptionsRequired::FastOpenSyn(want),
            ));
        }
        // RFC 7413 4.1.3: the cached MSS bounds the SYN's data; Linux sends as much as
        // fits under it less 40 bytes of option space.
        let space = match (a.plan.server(), seg.options.mss) {
            (None, _) => Some(0),
            (Some(server), Some(own)) if linux => linux_syn_data_space(own, server),
            _ => None,
        };
        if let Some(space) = space {
            let bytes = a.offered.min(space);
            if seg.len != bytes {
                return Err(fail(
                    &rules::FAST_OPEN_SYN_DATA,
                    OptionsRequired::SynData(bytes),
                ));
            }
        }
        Ok(())
    }

    /// Whether the next SYN-ACK answers an active Fast Open, and whether the SYN was
    /// retransmitted before it: read before the SYN-SENT processing clears the timer.
    pub(super) fn fast_open_before_synack(&self) -> Option<bool> {
        self.active_fo
            .map(|_| self.snd.rtx.is_some_and(|r| r.flags.syn() && r.count > 0))
    }

    /// After a SYN-ACK in SYN-SENT established the connection: what the client learns
    /// (Linux tcp_rcv_fastopen_synack()), and the SYN data not acknowledged sent again.
    pub(super) fn fast_open_after_synack(
        &mut self,
        now: Duration,
        seg: &Seg,
        retransmitted: Option<bool>,
    ) {
        let (Some(retransmitted), Some(a)) = (retransmitted, self.active_fo) else {
            return;
        };
        if !(seg.flags.syn() && seg.flags.ack() && self.state.is_synchronized()) {
            return;
        }
        let asked = a.plan.option();
        // RFC 7413 4.1.3: the client caches the cookie the SYN-ACK carries (only one that
        // answers a Fast Open option: an unsolicited cookie is ignored).
        let cookie = seg
            .options
            .fast_open
            .filter(|c| asked.is_some() && !c.is_request());
        // Linux: a request that drew no option at all, on a SYN not retransmitted, tries
        // the other option form next time.
        let try_exp = match asked {
            Some(req) if !retransmitted && seg.options.fast_open.is_none() && a.syn_data == 0 => {
                if req.exp {
                    2
                } else {
                    1
                }
            }
            _ => 0,
        };
        if let Some(l) = &mut self.active_fo {
            l.learned = Some(Learned {
                cookie,
                mss: seg.options.mss,
                try_exp,
            });
        }
        let data_end = self.tcb.iss + 1 + a.syn_data;
        if !self.tcb.snd_una.before(data_end) {
            // RFC 7413 4.2.2: the server may send data with its SYN-ACK; the client takes
            // it (Linux tcp_fastopen_add_skb(), only when the SYN's data was all
            // acknowledged) and acknowledges it, with a FIN on it too (tcp_fin()).
            if seg.len > 0 && seg.seq + 1 == self.tcb.rcv_nxt {
                self.tcb.rcv_nxt += seg.len;
                self.rcv.readable += u64::from(seg.len);
                if seg.flags.fin() {
                    self.fin_at_rcv_nxt(now);
                } else {
                    self.ack_now(now, &rules::SYN_SENT_ACKED);
                }
            }
            return;
        }
        // RFC 7413 4.2.2: SYN data the SYN-ACK did not acknowledge is sent again, at once
        // after the handshake (Linux marks it lost and retransmits it, with the ACK on it,
        // instead of a pure ACK).
        self.snd.rtx = None;
        self.record
            .obligations
            .retain(|e| e.kind != ObligationKind::Retransmission);
        let unacked = data_end.forward_distance(self.tcb.snd_una);
        let spec = SegSpec {
            flags: TcpFlags::ACK,
            optional_flags: TcpFlags::PSH,
            seq: SeqSpec::Exact(self.tcb.snd_una),
            ack: Some(self.tcb.rcv_nxt),
            len: LenSpec::UpTo(unacked.min(self.snd.mss)),
        };
        let due = self.immediately(now);
        self.oblige(spec, due, &rules::FAST_OPEN_DATA_RETRANSMIT);
    }

    /// The retransmission timer of an active Fast Open's SYN: the SYN goes again without
    /// its data (Linux keeps the data apart and sends it after the handshake).
    pub(super) fn fast_open_syn_rtx_len(&self, seg: &Seg) -> u32 {
        if self.active_fo.is_some() && seg.flags.syn() {
            0
        } else {
            seg.len
        }
    }
}
