//! The model's state after each event it was told of, kept for the ladders: a reader follows
//! LISTEN → SYN-RECEIVED → ESTABLISHED beside the segments, as in RFC 9293's diagrams.
//!
//! Only events the model accepted are noted: once it diverged or stopped following the run,
//! it has no state worth showing.

use std::time::Duration;

use tcpcheck_model::conn::State;
use tcpcheck_model::wire::SegmentRepr;

use super::states::Whose;
use super::{Blocking, Call, Differ, Key, Sock};
use crate::trace::states::{After, Side, StateNote};

impl Differ {
    /// A segment the harness wrote into the stack at `now`, for script line `line`.
    pub fn injected(&mut self, now: Duration, line: u32, seg: &SegmentRepr) {
        let discarded = self.address_refusal(seg).is_some();
        self.feed_injected(now, line, seg);
        if discarded {
            self.note_discarded(seg);
        } else {
            self.note_segment(seg, true);
        }
    }

    /// A segment discarded for its addresses leaves the listener (or the closed port) as it
    /// was. Noted all the same, so that the n-th of identical segments keeps the n-th note,
    /// but with no connection whose state the stack should show beside it.
    fn note_discarded(&mut self, seg: &SegmentRepr) {
        if !self.active() {
            return;
        }
        let after = After::segment(seg, true);
        let After::Segment { local_port, .. } = after else {
            return;
        };
        let state = if self.listeners.contains_key(&local_port) {
            State::Listen
        } else {
            State::Closed
        };
        self.note(after, state, None);
    }

    /// A segment the stack sent, captured at `now`; `line` is the script line it is owed to
    /// if one matched it, else the line of the event that provoked it.
    pub fn captured(&mut self, now: Duration, line: u32, seg: &SegmentRepr) {
        self.feed_captured(now, line, seg);
        self.note_segment(seg, false);
    }

    /// A call on the stack's descriptor `fd` at `now`, for script line `line`.
    pub fn call(&mut self, now: Duration, line: u32, fd: i32, call: Call) {
        // accept() is about the connection it hands over, not the listener.
        let shown = match &call {
            Call::Accept {
                accepted: Some((new, _)),
            } => *new,
            _ => fd,
        };
        // A blocking accept()'s return is told on the listener after the accept() itself:
        // the row keeps the accepted connection's state.
        let listener_return = matches!(
            call,
            Call::BlockingReturn {
                call: Blocking::Accept,
                ..
            }
        );
        let before = self.socks.get(&fd).cloned();
        self.feed_call(now, line, fd, call);
        if !self.active() || listener_return {
            return;
        }
        let (state, whose) = match self.socks.get(&shown) {
            Some(Sock::Gone) => match before {
                // close(): the connection lives on (FIN-WAIT-1, LAST-ACK) until it ends.
                Some(Sock::Conn(key)) => (
                    Some(self.state_of(&key).unwrap_or(State::Closed)),
                    Some(Whose::Conn(key)),
                ),
                _ => (Some(State::Closed), None),
            },
            Some(s) => (self.sock_state(shown, s), whose_of_sock(shown, s)),
            None => (None, None),
        };
        if let Some(state) = state {
            self.note(After::Call { line }, state, whose);
        }
    }

    /// The model's states so far, in the order of the events they followed.
    pub fn states(&self) -> &[StateNote] {
        &self.states
    }

    fn note_segment(&mut self, seg: &SegmentRepr, inbound: bool) {
        if !self.active() {
            return;
        }
        let after = After::segment(seg, inbound);
        let After::Segment {
            local_port, peer, ..
        } = after
        else {
            return;
        };
        let key = Key { local_port, peer };
        let state = self.state_of(&key).or_else(|| {
            // No connection: a listener on the port answered (or dropped) it.
            self.listeners
                .contains_key(&local_port)
                .then_some(State::Listen)
        });
        if let Some(state) = state {
            self.note(after, state, Some(Whose::Conn(key)));
        }
    }

    fn note(&mut self, after: After, state: State, whose: Option<Whose>) {
        if let Some(whose) = whose {
            self.check.noted(self.states.len(), whose);
        }
        self.states.push(StateNote {
            side: Side::Model,
            after,
            state,
        });
    }

    fn state_of(&self, key: &Key) -> Option<State> {
        self.conns.get(key).map(|t| t.conn.state())
    }

    fn sock_state(&self, fd: i32, sock: &Sock) -> Option<State> {
        match sock {
            // RFC 9293 3.3.2: CLOSED is "no connection state at all", a socket before use.
            Sock::Fresh { .. } => Some(State::Closed),
            Sock::Listening { .. } => Some(State::Listen),
            Sock::Connecting => self.connecting.get(&fd).map(|(_, t)| t.conn.state()),
            // Linux puts a deferred Fast Open connect() in SYN-SENT before its SYN.
            Sock::Deferred { .. } => Some(State::SynSent),
            Sock::Conn(key) => self.state_of(key),
            Sock::Gone => Some(State::Closed),
        }
    }
}

/// Whose state the stack tells for a descriptor (see [`super::states`]).
fn whose_of_sock(fd: i32, sock: &Sock) -> Option<Whose> {
    match sock {
        Sock::Listening { .. } | Sock::Connecting => Some(Whose::Fd(fd)),
        Sock::Conn(key) => Some(Whose::Conn(*key)),
        Sock::Fresh { .. } | Sock::Deferred { .. } | Sock::Gone => None,
    }
}
