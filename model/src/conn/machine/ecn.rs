//! ECN negotiation (RFC 3168 6.1.1; RFC 9293 3.8.2, SHLD-8): an ECN-setup SYN carries ECE
//! and CWR, an ECN-setup SYN-ACK ECE alone. On the `linux` profile `net.ipv4.tcp_ecn`
//! decides: 0 neither asks nor agrees, 1 asks on active opens and agrees, 2 (the default)
//! only agrees (tcp_ecn_create_request(), tcp_ecn_make_synack(), tcp_ecn_send_syn()).
//! Once negotiated the model does not follow the congestion signals themselves: ECE and CWR
//! are then left to the stack on every later segment.

use crate::conn::segment::Seg;
use crate::wire::TcpFlags;

use super::*;

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Ecn {
    /// The stack's SYN asked for ECN.
    asked: bool,
    /// ECN is in use on the connection.
    negotiated: bool,
}

impl Connection {
    /// The SYN-ACK's ECN flags for the SYN `seg` in LISTEN: (required, allowed).
    pub(super) fn ecn_synack_flags(&mut self, seg: &Seg) -> (TcpFlags, TcpFlags) {
        let Some(mode) = self.profile.ecn.filter(|m| *m <= 2) else {
            // The standard (ECN is optional), or a Linux mode the model does not follow
            // (AccECN): ECE is the stack's choice.
            return (TcpFlags::empty(), TcpFlags::ECE);
        };
        let setup = seg.flags.contains(TcpFlags::ECE | TcpFlags::CWR);
        // RFC 9293 3.8.2: SHLD-8, ECN as RFC 3168 describes it.
        // RFC 3168 6.1.1: an ECN-setup SYN-ACK answers an ECN-setup SYN, if the host agrees.
        self.ecn.negotiated = setup && mode != 0;
        if self.ecn.negotiated {
            (TcpFlags::ECE, TcpFlags::empty())
        } else {
            (TcpFlags::empty(), TcpFlags::empty())
        }
    }

    /// The ECN flags of an active open's SYN: (required, allowed).
    pub(super) fn ecn_syn_flags(&self) -> (TcpFlags, TcpFlags) {
        match self.profile.ecn {
            // RFC 3168 6.1.1: an ECN-setup SYN has ECE and CWR.
            Some(1) => (TcpFlags::ECE | TcpFlags::CWR, TcpFlags::empty()),
            // Retransmitted SYNs drop them again (Linux tcp_ecn_clear_syn()); allowed too.
            _ => (TcpFlags::empty(), TcpFlags::ECE | TcpFlags::CWR),
        }
    }

    /// The stack sent `seg`: an ECN-setup SYN is noted; once ECN is in use, ECE and CWR on a
    /// later segment are the stack's, so they are left out of what the model checks. Returns
    /// the segment without them when it had any, and `None` when `seg` is to be checked as
    /// it is (so the usual segment is not copied).
    pub(super) fn ecn_seen(&mut self, seg: &Seg) -> Option<Seg> {
        let stack_flags = TcpFlags::ECE | TcpFlags::CWR;
        if seg.flags.syn() && !seg.flags.ack() {
            self.ecn.asked = seg.flags.contains(stack_flags);
        } else if self.ecn.negotiated && !seg.flags.syn() && seg.flags.intersects(stack_flags) {
            return Some(Seg {
                flags: seg.flags & !stack_flags,
                ..*seg
            });
        }
        None
    }

    /// A SYN-ACK reaches SYN-SENT: ECN is in use if the stack asked and it has ECE alone.
    pub(super) fn ecn_synack_arrives(&mut self, seg: &Seg) {
        self.ecn.negotiated = self.ecn.asked
            && seg.flags.contains(TcpFlags::ECE)
            && !seg.flags.contains(TcpFlags::CWR);
    }
}
