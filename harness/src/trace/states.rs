//! The connection states each side held after the events of a run, so that a ladder can
//! show them row by row, as RFC 9293's own diagrams do (LISTEN → SYN-RECEIVED →
//! ESTABLISHED).
//!
//! A state is tied to the event it followed, not to a time: the model is told of a segment
//! at a time of its own (a call's return, say) that need not be the trace's, while the
//! event itself is the same on both sides. The stack's states slot in beside the model's
//! with [`Side::Stack`] once the harness reads them; none is recorded today, and a ladder
//! shows only what was recorded.

use std::net::SocketAddr;

use tcpcheck_model::conn::{Seg, State};
use tcpcheck_model::wire::SegmentRepr;

/// Whose view of the connection a state is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The reference model's, as the differ followed the run.
    Model,
    /// The stack's own, as read from it.
    Stack,
}

/// The event a state was taken after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// A segment between the stack's `local_port` and `peer`, `inbound` when the peer sent
    /// it; told apart from others of the same connection by its fields.
    Segment {
        local_port: u16,
        peer: SocketAddr,
        inbound: bool,
        seg: Seg,
    },
    /// The socket call of script line `line`.
    Call { line: u32 },
}

impl After {
    /// The [`After::Segment`] of a segment on the wire; `inbound` when the peer sent it.
    pub fn segment(seg: &SegmentRepr, inbound: bool) -> After {
        let (src, dst) = match &seg.ip {
            tcpcheck_model::wire::IpRepr::V4(ip) => (ip.src.into(), ip.dst.into()),
            tcpcheck_model::wire::IpRepr::V6(ip) => (ip.src.into(), ip.dst.into()),
        };
        let t = &seg.tcp;
        let (local_port, peer) = if inbound {
            (t.dst_port, SocketAddr::new(src, t.src_port))
        } else {
            (t.src_port, SocketAddr::new(dst, t.dst_port))
        };
        After::Segment {
            local_port,
            peer,
            inbound,
            seg: Seg::from_repr(t),
        }
    }
}

/// One side's state of the connection an event concerned, right after that event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateNote {
    pub side: Side,
    pub after: After,
    pub state: State,
}

/// Finds, for the events of a trace in order, the state each side noted after them: the
/// n-th segment with the same fields gets the n-th note about such a segment, a call the
/// note of its line.
pub struct StateLookup<'a> {
    notes: &'a [StateNote],
    /// How many notes of each side were already taken, per event.
    taken: Vec<(Side, After)>,
}

impl<'a> StateLookup<'a> {
    pub fn new(notes: &'a [StateNote]) -> StateLookup<'a> {
        StateLookup {
            notes,
            taken: Vec::new(),
        }
    }

    /// The state `side` noted after `after`, when it noted one. A segment seen again (a
    /// retransmission with the same fields) takes the next note, so each is asked once.
    pub fn next(&mut self, side: Side, after: After) -> Option<State> {
        let seen = self
            .taken
            .iter()
            .filter(|(s, a)| *s == side && *a == after)
            .count();
        self.taken.push((side, after));
        self.notes
            .iter()
            .filter(|n| n.side == side && n.after == after)
            .nth(seen)
            .map(|n| n.state)
    }
}
