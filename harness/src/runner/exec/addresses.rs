//! The addresses of a run: the sandbox's own (192.0.2.1 for the stack, 192.0.2.2 and up
//! for the peers; 2001:db8::1 and up), or the script's `--local_ip` and `--remote_ip`,
//! which stand in for them (see [`crate::sandbox::Addresses`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tcpcheck_model::wire::{IpRepr, SegmentRepr};

use super::Exec;
use crate::runner::packet;

impl Exec<'_> {
    /// Peer `n`'s address, the stack being peer 0.
    pub(super) fn peer_ip(&self, n: u16) -> IpAddr {
        let Some(a) = self.addresses else {
            return packet::peer_ip(self.v6, n);
        };
        if n == 0 {
            return a.stack;
        }
        let step = u32::from(n - 1);
        match a.peer {
            IpAddr::V4(p) => IpAddr::V4(Ipv4Addr::from(u32::from(p).wrapping_add(step))),
            IpAddr::V6(p) => IpAddr::V6(Ipv6Addr::from(u128::from(p).wrapping_add(step.into()))),
        }
    }

    /// Which peer a segment the stack sent is addressed to, if any.
    pub(super) fn peer_of(&self, seg: &SegmentRepr) -> Option<u16> {
        let dst = match &seg.ip {
            IpRepr::V4(ip) => IpAddr::V4(ip.dst),
            IpRepr::V6(ip) => IpAddr::V6(ip.dst),
        };
        if let Some(&peer) = self.stray_sources.get(&dst) {
            return Some(peer);
        }
        let Some(a) = self.addresses else {
            return packet::peer_of(seg);
        };
        let offset = match (&seg.ip, a.peer) {
            (IpRepr::V4(ip), IpAddr::V4(p)) => {
                u128::from(u32::from(ip.dst)).checked_sub(u32::from(p).into())?
            }
            (IpRepr::V6(ip), IpAddr::V6(p)) => u128::from(ip.dst).checked_sub(u128::from(p))?,
            _ => return None,
        };
        u16::try_from(offset)
            .ok()
            .filter(|o| *o < 253)
            .map(|o| o + 1)
    }

    /// An inbound segment built for the sandbox's addresses, readdressed to the script's.
    pub(super) fn readdress(&self, seg: &mut SegmentRepr, peer: u16) {
        if self.addresses.is_none() {
            return;
        }
        match (&mut seg.ip, self.peer_ip(peer), self.peer_ip(0)) {
            (IpRepr::V4(ip), IpAddr::V4(src), IpAddr::V4(dst)) => (ip.src, ip.dst) = (src, dst),
            (IpRepr::V6(ip), IpAddr::V6(src), IpAddr::V6(dst)) => (ip.src, ip.dst) = (src, dst),
            _ => {}
        }
    }

    /// A `[src ADDR]` line of `peer`'s: what the stack sends to that address is the peer's
    /// to match, so that a reply the stack owed nobody fails the script's next line.
    pub(super) fn note_stray_source(&mut self, ip: &crate::scenario::IpFields, peer: u16) {
        if let Some(a) = ip.src {
            self.stray_sources.insert(a, peer);
        }
    }

    /// The broadcast address of the stack's IPv4 subnet, for the model (RFC 9293 3.9.2.3).
    pub(super) fn directed_broadcast(&self) -> Option<IpAddr> {
        let (stack, prefix) = match self.addresses {
            None => (crate::sandbox::STACK_V4, 24),
            Some(a) => match a.stack {
                IpAddr::V4(s) => (s, a.prefix_len()),
                IpAddr::V6(_) => return None,
            },
        };
        tcpcheck_model::address::subnet_broadcast(stack, prefix).map(IpAddr::V4)
    }
}
