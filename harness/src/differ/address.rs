//! Addresses the model refuses before any connection sees them (RFC 9293 3.9.1.1,
//! 3.9.2.3): segments to broadcast and multicast addresses, SYNs from invalid sources,
//! and OPENs to broadcast and multicast addresses. The rules are the model's
//! ([`tcpcheck_model::address`]); the differ only knows the subnet's broadcast address,
//! which the runner tells it.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tcpcheck_model::address;
use tcpcheck_model::conn::{Actual, Divergence as ModelFault, Required};
use tcpcheck_model::wire::{IpRepr, SegmentRepr};

use tcpcheck_model::rule::Rule;

use tcpcheck_model::conn::{Seg, State};
use tcpcheck_model::wire::TcpFlags;

use super::{Context, Differ, Key, Owed, Sent, Trigger};

impl Differ {
    /// The broadcast address of the stack's subnet, which only the interface's prefix
    /// tells (192.0.2.255 for the sandbox's 192.0.2.1/24).
    pub fn set_directed_broadcast(&mut self, a: Option<IpAddr>) {
        self.directed_broadcast = a;
    }

    /// Whether the model discards `seg`, injected, for its addresses alone: then no
    /// connection or listener sees it, and nothing is owed for it. Its four-tuple, as the
    /// stack would answer on it, is remembered with the rule.
    pub(super) fn address_discards(&mut self, seg: &SegmentRepr) -> bool {
        let Some(rule) = self.address_refusal(seg) else {
            return false;
        };
        if let Some(key) = super::segments::key_of(seg, true) {
            self.refused.insert(key, rule);
        }
        true
    }

    /// The rule by which the model discards `seg`, injected, for its addresses, if one does.
    pub(super) fn address_refusal(&self, seg: &SegmentRepr) -> Option<&'static Rule> {
        let (src, dst) = match &seg.ip {
            IpRepr::V4(ip) => (IpAddr::V4(ip.src), IpAddr::V4(ip.dst)),
            IpRepr::V6(ip) => (IpAddr::V6(ip.src), IpAddr::V6(ip.dst)),
        };
        // Linux takes the subnet's broadcast address as a source unless reverse-path
        // filtering is on (`Behaviour::broadcast_source_accepted`).
        let as_source = if self.profile.behaviour.broadcast_source_accepted {
            None
        } else {
            self.directed_broadcast
        };
        if address::broadcast_or_multicast(dst, self.directed_broadcast) {
            return Some(&address::TO_BROADCAST_OR_MULTICAST);
        }
        address::inbound_refusal(src, dst, seg.tcp.flags.syn(), as_source)
    }

    /// A segment the stack sent on `key`, which no connection owns: if the model discarded
    /// segments there for their addresses, the stack answered one of them, a divergence on
    /// that rule, which the listener's state names. Returns whether it was.
    pub(super) fn diverge_refused(&mut self, now: Duration, line: u32, key: Key, s: &Seg) -> bool {
        let Some(rule) = self.refused.get(&key).copied() else {
            return false;
        };
        let fault = ModelFault {
            rule,
            expected: Required::Nothing(None),
            actual: Actual::Seen(format!("{s}")),
        };
        let state = if self.listeners.contains_key(&key.local_port) {
            State::Listen
        } else {
            State::Closed
        };
        let context = Context {
            state: Some(state),
            event: "< S".into(),
            trigger: Trigger::Segment(TcpFlags::SYN),
            ..Context::default()
        };
        let departure = (Owed::Nothing, Sent::Stray(Box::new(*s)));
        self.diverge_in(line, now, fault, Some(key), context, departure);
        true
    }

    /// A connect() the stack accepted, to `peer`: a divergence if the model rejects the
    /// OPEN (RFC 9293 3.9.1.1: MUST-46). Returns whether it did.
    pub(super) fn open_refused(&mut self, now: Duration, line: u32, peer: SocketAddr) -> bool {
        if !address::broadcast_or_multicast(peer.ip(), self.directed_broadcast) {
            return false;
        }
        let fault = ModelFault {
            rule: &address::OPEN_TO_BROADCAST_OR_MULTICAST,
            expected: Required::Call(format!("connect() to {} fails", peer.ip())),
            actual: Actual::Seen("connect() was accepted".into()),
        };
        self.diverge(line, now, fault, None, Sent::Other);
        true
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use tcpcheck_model::profile::Profile;
    use tcpcheck_model::wire::IpRepr;

    use super::super::tests::{
        agrees, divergence, inbound, listening, ms, outbound, peer, ACK, PEER_ISN, STACK_ISN, SYN,
    };
    use super::super::Call;
    use super::*;

    const SYN_ACK: tcpcheck_model::wire::TcpFlags = tcpcheck_model::wire::TcpFlags(SYN.0 | ACK.0);

    fn with_dst(mut seg: SegmentRepr, a: Ipv4Addr, src: bool) -> SegmentRepr {
        if let IpRepr::V4(ip) = &mut seg.ip {
            if src {
                ip.src = a;
            } else {
                ip.dst = a;
            }
        }
        seg
    }

    #[test]
    fn a_syn_to_multicast_owes_nothing_and_an_answer_names_must_57() {
        let mut d = listening(Profile::rfc9293());
        d.set_directed_broadcast(Some("192.0.2.255".parse().unwrap()));
        for a in ["224.0.0.1", "192.0.2.255", "255.255.255.255"] {
            d.injected(
                ms(10),
                4,
                &with_dst(inbound(SYN, PEER_ISN, 0), a.parse().unwrap(), false),
            );
        }
        d.finish(ms(500));
        agrees(&d);

        let mut d = listening(Profile::rfc9293());
        d.injected(
            ms(10),
            4,
            &with_dst(
                inbound(SYN, PEER_ISN, 0),
                Ipv4Addr::new(224, 0, 0, 1),
                false,
            ),
        );
        let answer = outbound(SYN_ACK, STACK_ISN, PEER_ISN.wrapping_add(1));
        d.captured(
            ms(10),
            5,
            &with_dst(answer, Ipv4Addr::new(224, 0, 0, 1), true),
        );
        assert_eq!(divergence(&d).rule, &address::TO_BROADCAST_OR_MULTICAST);
    }

    #[test]
    fn a_syn_from_an_invalid_source_is_ignored_and_an_answer_names_must_63() {
        let bcast = Ipv4Addr::new(192, 0, 2, 255);
        let mut d = listening(Profile::rfc9293());
        d.set_directed_broadcast(Some(IpAddr::V4(bcast)));
        d.injected(ms(10), 4, &with_dst(inbound(SYN, PEER_ISN, 0), bcast, true));
        let answer = outbound(SYN_ACK, STACK_ISN, PEER_ISN.wrapping_add(1));
        d.captured(ms(10), 5, &with_dst(answer, bcast, false));
        assert_eq!(divergence(&d).rule, &address::FROM_INVALID_SOURCE);

        // Without the subnet's broadcast address the model cannot tell it is one.
        let mut d = listening(Profile::rfc9293());
        d.injected(ms(10), 4, &with_dst(inbound(SYN, PEER_ISN, 0), bcast, true));
        let answer = outbound(SYN_ACK, STACK_ISN, PEER_ISN.wrapping_add(1));
        d.captured(ms(10), 5, &with_dst(answer, bcast, false));
        agrees(&d);
    }

    #[test]
    fn an_accepted_connect_to_multicast_diverges_on_must_46() {
        let mut d = Differ::new(Profile::rfc9293());
        d.call(ms(0), 1, 3, Call::Socket);
        let to = SocketAddr::from((Ipv4Addr::new(224, 0, 0, 1), 8080));
        d.call(ms(0), 2, 3, Call::Connect { peer: to });
        let div = divergence(&d);
        assert_eq!(div.rule, &address::OPEN_TO_BROADCAST_OR_MULTICAST);
        assert_eq!(div.line, 2);

        let mut d = Differ::new(Profile::rfc9293());
        d.call(ms(0), 1, 3, Call::Socket);
        d.call(ms(0), 2, 3, Call::Connect { peer: peer() });
        assert!(d.verdict() == crate::differ::ModelVerdict::Agree);
    }
}
