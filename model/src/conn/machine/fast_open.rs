//! A passive Fast Open connection (RFC 7413 4.2): what the listener decided for its SYN
//! ([`crate::conn::fast_open`]) and what that changes in the connection: the SYN's data
//! accepted, a cookie owed in the SYN-ACK.

use crate::conn::expect::{Actual, Divergence, OptionsRequired, Required};
use crate::conn::fast_open::{Cookie, SynFastOpen};
use crate::conn::segment::Seg;

use super::*;

#[derive(Clone, Debug, Default)]
pub(super) struct PassiveFastOpen {
    /// The listener's decision for the SYN about to arrive.
    decision: Option<SynFastOpen>,
    /// The SYN opened the connection at once (Linux: a child socket in SYN_RECV that
    /// accept() returns).
    child: bool,
    /// The SYN-ACK owes a cookie in this form (and with this value, when known).
    owed: Option<(Option<Cookie>, bool)>,
}

impl Connection {
    /// What the listener decided for the SYN this connection is about to take.
    pub fn set_fast_open(&mut self, decision: SynFastOpen) {
        self.fast_open.decision = Some(decision);
    }

    /// The connection was opened by a Fast Open SYN and is accept()able before the
    /// handshake completes (RFC 7413 4.2.2).
    pub fn is_fast_open_child(&self) -> bool {
        self.fast_open.child
    }

    /// The SYN in LISTEN, after RCV.NXT is set from it: the listener's decision applied.
    pub(super) fn fast_open_on_syn(&mut self, seg: &Seg) {
        match self.fast_open.decision.take() {
            Some(SynFastOpen::Accept) => {
                // RFC 7413 4.2.2: the server accepts the SYN's data and acknowledges it in
                // the SYN-ACK.
                self.tcb.rcv_nxt += seg.len;
                self.tcb.rcv_wup = self.tcb.rcv_nxt;
                self.rcv.readable += u64::from(seg.len);
                self.fast_open.child = true;
                // Linux makes the full child socket at once (tcp_fastopen_create_child()):
                // no request socket judges what follows.
                self.linux.child = true;
            }
            Some(SynFastOpen::SendCookie { cookie, exp }) => {
                // RFC 7413 4.2.1: the SYN-ACK carries the server's cookie; data on the SYN
                // is not acknowledged.
                let cookie = cookie.and_then(|c| Cookie::new(&c, exp));
                self.fast_open.owed = Some((cookie, exp));
            }
            Some(SynFastOpen::No | SynFastOpen::Unknown(_)) | None => {}
        }
    }

    /// A SYN-ACK the stack sends: the cookie it owes, if any.
    pub(super) fn check_fast_open(&self, seg: &Seg) -> Result<(), Divergence> {
        let Some((cookie, exp)) = self.fast_open.owed else {
            return Ok(());
        };
        let ok = match (seg.options.fast_open, cookie) {
            (Some(sent), Some(want)) => sent.exp == exp && sent.as_slice() == want.as_slice(),
            (Some(sent), None) => sent.exp == exp && !sent.is_request(),
            (None, _) => false,
        };
        if ok {
            return Ok(());
        }
        Err(Divergence {
            rule: &rules::FAST_OPEN_COOKIE,
            expected: Required::Options(OptionsRequired::FastOpenCookie { cookie, exp }),
            actual: Actual::Segment(Box::new(*seg)),
        })
    }
}
