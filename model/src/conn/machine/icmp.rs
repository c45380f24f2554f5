//! An ICMP error reaches the connection it quotes (RFC 9293 3.9.2.2, RFC 5927), on each
//! profile: Linux's tcp_v4_err() and tcp_v6_err() abort a connection in SYN-SENT on any
//! destination-unreachable, time-exceeded or parameter-problem error (the "widespread
//! implementation behavior" RFC 9293 3.9.2.2 notes from RFC 5461 section 4), and never abort
//! a synchronized one without IP_RECVERR (they keep the error as sk_err_soft for a later
//! timeout: RFC 5461 section 4's synchronized-state behaviour).

use crate::conn::icmp::{IcmpClass, IcmpEffect, IcmpError};

use super::*;

impl Connection {
    /// An ICMP error quoting one of this connection's segments arrives.
    pub fn icmp_error(&mut self, _now: Duration, err: &IcmpError) -> IcmpEffect {
        self.events += 1;
        let linux = self.profile.behaviour.icmp_errors_linux;
        match self.state {
            State::Closed | State::Listen | State::TimeWait => {
                return IcmpEffect::Ignored("no connection to report it to in this state")
            }
            // A request socket (Linux tcp_req_err()) drops itself on a hard error; the model
            // does not follow the listener's side of that.
            State::SynReceived if self.handshake.passive => {
                return IcmpEffect::NotFollowed(
                    "an ICMP error about a SYN-ACK (Linux tcp_req_err() may drop the request)",
                )
            }
            _ => {}
        }
        // RFC 5927 4.1: an error whose quoted sequence number is not one in flight
        // (SND.UNA to SND.NXT) is ignored; Linux tcp_v4_err() checks `between(seq, snd_una,
        // snd_nxt)`.
        if !err
            .seq
            .in_range_inclusive(self.tcb.snd_una, self.tcb.snd_nxt)
        {
            return IcmpEffect::Ignored("its quoted sequence number is outside SND.UNA..SND.NXT");
        }
        match err.class {
            // RFC 9293 3.9.2.2: MUST-55, Source Quench is silently discarded.
            IcmpClass::SourceQuench => return IcmpEffect::Discarded,
            IcmpClass::PacketTooBig { .. } => {
                return IcmpEffect::NotFollowed(
                    "path MTU discovery (RFC 1191, RFC 8201): a Packet Too Big lowers the MSS \
                     and resends at the new size",
                )
            }
            _ => {}
        }
        let synchronized = self.state != State::SynSent;
        // RFC 9293 3.9.2.2: MUST-54, the error is acted on by the connection it names.
        let abort = if linux {
            if synchronized {
                // RFC 6069 (Linux tcp_ld_RTO_revert()): net and host unreachable about
                // SND.UNA undo one backoff of the retransmission timer.
                let unreachable = if err.v6 {
                    (err.icmp_type, err.code) == (crate::wire::icmp::v6::DEST_UNREACH, 0)
                } else {
                    err.icmp_type == crate::wire::icmp::v4::DEST_UNREACH && err.code <= 1
                };
                let revert = unreachable
                    && err.seq == self.tcb.snd_una
                    && self.tcb.snd_una != self.tcb.snd_nxt;
                if revert {
                    return IcmpEffect::NotFollowed(
                        "RFC 6069: a net or host unreachable about SND.UNA shortens the \
                         retransmission timer",
                    );
                }
                false
            } else {
                // tcp_v4_err(): ICMPv4 types other than these are dropped before the state
                // is looked at; ICMPv6 errors of any type reach it.
                use crate::wire::icmp::v4;
                err.v6
                    || matches!(
                        (err.icmp_type, err.code),
                        (v4::DEST_UNREACH, 0..=15) | (v4::TIME_EXCEEDED | v4::PARAMETER_PROBLEM, _)
                    )
            }
        } else {
            match err.class {
                // RFC 9293 3.9.2.2: MUST-56, soft errors never abort.
                IcmpClass::Soft => false,
                // RFC 9293 3.9.2.2: SHLD-26, hard errors abort the connection.
                IcmpClass::Hard => true,
                _ => return IcmpEffect::Ignored("not an error RFC 9293 3.9.2.2 classifies"),
            }
        };
        if !abort {
            return IcmpEffect::NoAbort;
        }
        self.record.reports.push(Report::Unreachable);
        self.record.obligations.clear();
        self.enter(State::Closed);
        IcmpEffect::Aborted
    }
}
