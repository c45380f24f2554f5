//! The connection states each side held after the events of a run, so that a ladder can
//! show them row by row, as RFC 9293's own diagrams do (LISTEN → SYN-RECEIVED →
//! ESTABLISHED).
//!
//! A state is tied to the event it followed, not to a time: the model is told of a segment
//! at a time of its own (a call's return, say) that need not be the trace's, while the
//! event itself is the same on both sides. The stack's states slot in beside the model's
//! with [`Side::Stack`] once the harness reads them; none is recorded today, and a ladder
//! shows only what was recorded.

use std::net::{IpAddr, SocketAddr};

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
        /// The stack's address the segment names: a segment to a broadcast address is
        /// another row than the same one to the stack's own.
        local: IpAddr,
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
        let (local, local_port, peer) = if inbound {
            (dst, t.dst_port, SocketAddr::new(src, t.src_port))
        } else {
            (src, t.src_port, SocketAddr::new(dst, t.dst_port))
        };
        After::Segment {
            local,
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
    /// retransmission with the same fields) takes the next note, so each is asked once. A
    /// call takes the last note of its line: a blocking call is told to the model when it
    /// starts and again when it returns (connect() then its ETIMEDOUT), and its row shows
    /// where it left the connection.
    pub fn next(&mut self, side: Side, after: After) -> Option<State> {
        if let After::Call { .. } = after {
            return self
                .notes
                .iter()
                .rfind(|n| n.side == side && n.after == after)
                .map(|n| n.state);
        }
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

#[cfg(test)]
mod tests {
    use tcpcheck_model::wire::TcpFlags;

    use super::*;

    fn seg(flags: TcpFlags) -> After {
        After::Segment {
            local: "192.0.2.1".parse().unwrap(),
            local_port: 8080,
            peer: "192.0.2.2:40000".parse().unwrap(),
            inbound: false,
            seg: Seg::new(flags, 1, 1, 0),
        }
    }

    #[test]
    fn repeated_segments_take_the_notes_in_turn_and_a_call_its_last() {
        let fin = seg(TcpFlags::FIN | TcpFlags::ACK);
        let note = |after, state| StateNote {
            side: Side::Model,
            after,
            state,
        };
        let notes = [
            note(After::Call { line: 3 }, State::SynSent),
            note(fin, State::FinWait1),
            note(After::Call { line: 3 }, State::Closed),
            note(fin, State::Closing),
        ];
        let mut l = StateLookup::new(&notes);
        assert_eq!(l.next(Side::Stack, fin), None);
        assert_eq!(l.next(Side::Model, fin), Some(State::FinWait1));
        assert_eq!(l.next(Side::Model, fin), Some(State::Closing));
        assert_eq!(l.next(Side::Model, fin), None);
        assert_eq!(
            l.next(Side::Model, After::Call { line: 3 }),
            Some(State::Closed)
        );
        assert_eq!(l.next(Side::Model, seg(TcpFlags::ACK)), None);
    }
}
