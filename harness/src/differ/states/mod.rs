//! The stack's own states, diffed with the model's after every step.
//!
//! Segments alone can look right while a connection's state is wrong: stuck in CLOSE-WAIT,
//! CLOSED where TIME-WAIT is due, a request that never leaves SYN-RECEIVED. So after each
//! step (a script line, an explorer event) the harness reads the stack's state of every
//! connection the model follows ([`Differ::state_probes`], [`read`]), mapped onto RFC 9293's
//! states (Linux: [`crate::observe::rfc_state`]), and the differ compares it with the
//! model's ([`Differ::stack_states`]). A state that differs is a divergence like a segment's,
//! citing the transition the model took ([`transitions`]).
//!
//! A timer's transition is checked within the timer's window: the model moves at its exact
//! deadline (on a harness's clock a grace late, see [`Differ::advance`]), a kernel's timer
//! within its wheel's granularity after it. While a state timer is within its window
//! ([`tcpcheck_model::conn::StateTimer`]) the state before and the state after are both right.
//!
//! A stack that cannot tell its states (no [`Capability::ConnectionState`]) is not checked,
//! and says so ([`Differ::states_off`]); one that cannot look connections up by endpoints (no
//! [`Capability::ConnectionTable`]) is checked on its descriptors alone.

pub mod read;
#[cfg(test)]
mod tests;
pub mod transitions;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tcpcheck_model::conn::{Actual, Divergence as ModelFault, Required, State};

use super::{Context, Differ, Key, Owed, Sent, Sock};
use crate::stack::Capability;
use crate::trace::states::{Side, StateNote};

/// Whose state a probe reads: a connection the model follows by its four-tuple, or a
/// descriptor that names no four-tuple yet (a listener, a connect() before its SYN).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Whose {
    Conn(Key),
    Fd(i32),
}

/// One connection whose state the harness is to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub whose: Whose,
    /// The stack's descriptor holding it, if one does.
    pub fd: Option<i32>,
    /// Its endpoints (the stack's, the peer's), once a segment showed them.
    pub ends: Option<(SocketAddr, SocketAddr)>,
}

/// A timer moved the model's state: until `latest` the stack may still be in `from`.
#[derive(Clone, Copy, Debug)]
pub(super) struct TimerMove {
    from: State,
    to: State,
    latest: Duration,
}

/// What the differ keeps for the state check.
#[derive(Clone, Debug, Default)]
pub(super) struct StateCheck {
    /// The stack's address of each connection, from its segments.
    local_ip: BTreeMap<Key, IpAddr>,
    /// Connections both sides agree are gone, with the model's state then: not read again
    /// until the model's state changes, or a row of theirs wants the stack's state.
    closed: BTreeMap<Key, State>,
    /// The last move a timer made, per connection.
    moved: BTreeMap<Key, TimerMove>,
    /// Per connection, the script line of the last event that fed it when its state last
    /// fitted: a later divergence with no event since is the stack moving on its own.
    fitted: BTreeMap<Key, u32>,
    /// Why states are not compared, once known.
    off: Option<String>,
    /// Whose connection each of the model's notes not yet given the stack's state beside
    /// it is, by index into `states`.
    whose: Vec<(usize, Whose)>,
}

impl StateCheck {
    pub(super) fn learn_local(&mut self, key: Key, ip: IpAddr) {
        self.local_ip.entry(key).or_insert(ip);
    }

    pub(super) fn timer_moved(&mut self, key: Key, from: State, to: State, latest: Duration) {
        self.moved.insert(key, TimerMove { from, to, latest });
    }

    pub(super) fn noted(&mut self, index: usize, whose: Whose) {
        self.whose.push((index, whose));
    }
}

/// Model states that mean "no connection here": the RFC's CLOSED, and the listener's LISTEN
/// a segment nobody else owned met.
fn no_connection(s: State) -> bool {
    matches!(s, State::Closed | State::Listen)
}

impl Differ {
    /// Turns the state check off for this run, with the reason the reports give.
    pub fn states_off_because(&mut self, why: impl Into<String>) {
        if self.check.off.is_none() {
            self.check.off = Some(why.into());
        }
    }

    /// Why the stack's states are not compared in this run, when they are not.
    pub fn states_off(&self) -> Option<&str> {
        self.check.off.as_deref()
    }

    /// The connections whose state the harness should read now: every descriptor the model
    /// follows (listeners, connections, connect()s before their SYN) and every connection it
    /// follows by four-tuple (a request, an orphan, TIME-WAIT), but those both sides agreed
    /// were gone while the model still says so. None once the model stopped following the run.
    pub fn state_probes(&self) -> Vec<Probe> {
        if !self.active() || self.check.off.is_some() {
            return Vec::new();
        }
        let mut probes = Vec::new();
        let mut held = BTreeMap::new();
        for (&fd, sock) in &self.socks {
            match sock {
                Sock::Listening { .. } | Sock::Connecting => probes.push(Probe {
                    whose: Whose::Fd(fd),
                    fd: Some(fd),
                    ends: None,
                }),
                Sock::Conn(key) => {
                    held.insert(*key, fd);
                }
                Sock::Fresh { .. } | Sock::Deferred { .. } | Sock::Gone => {}
            }
        }
        let ends = |key: &Key| {
            self.check
                .local_ip
                .get(key)
                .map(|ip| (SocketAddr::new(*ip, key.local_port), key.peer))
        };
        for (key, t) in &self.conns {
            let state = t.conn.state();
            // Gone on both sides: read again only for a row that wants the stack's state
            // beside it (another segment the listener or the closed port met).
            let noted = self
                .check
                .whose
                .iter()
                .any(|(_, w)| *w == Whose::Conn(*key));
            if self.check.closed.get(key) == Some(&state) && !noted {
                continue;
            }
            // The model still waits for a segment due now: the step has not settled for
            // this connection yet. Its state is read after that segment came, or the missing
            // segment is the divergence (the one a known deviation is named by).
            // On a virtual clock (no grace) only what is due by now holds the read back: a
            // reply the stack may still delay (the ACK of a FIN, within the ACK delay limit)
            // leaves its state as it is, and the clock does not move for it.
            let now = self.now;
            let exact = self.grace.is_zero();
            if t.conn
                .obligations_any()
                .any(|e| e.due.earliest <= now && (!exact || e.due.latest <= now))
            {
                continue;
            }
            probes.push(Probe {
                whose: Whose::Conn(*key),
                fd: held.get(key).copied(),
                ends: ends(key),
            });
        }
        // A segment of no connection the model follows (a SYN the listener dropped, one
        // the closed port answered) was noted too: the stack must have none either.
        for (_, whose) in &self.check.whose {
            let Whose::Conn(key) = whose else { continue };
            if self.conns.contains_key(key) || probes.iter().any(|p| p.whose == *whose) {
                continue;
            }
            probes.push(Probe {
                whose: *whose,
                fd: None,
                ends: ends(key),
            });
        }
        probes
    }

    /// `whose` as the model follows it now: a descriptor read while it was a connect()
    /// before its SYN, once the step's SYN told its four-tuple, is the connection it became.
    fn resolved(&self, whose: Whose) -> Whose {
        if let Whose::Fd(fd) = whose {
            if let Some(Sock::Conn(key)) = self.socks.get(&fd) {
                return Whose::Conn(*key);
            }
        }
        whose
    }

    /// The model's state for `whose`, and its context for a report.
    fn model_state(&self, whose: Whose) -> Option<(State, Context)> {
        match whose {
            Whose::Conn(key) => Some(match self.conns.get(&key) {
                Some(t) => (t.conn.state(), Context::of(t)),
                // No connection: the listener takes the next segment, or the closed port.
                None if self.listeners.contains_key(&key.local_port) => {
                    (State::Listen, Context::default())
                }
                None => (State::Closed, Context::default()),
            }),
            Whose::Fd(fd) => match self.socks.get(&fd)? {
                Sock::Listening { .. } => Some((State::Listen, Context::default())),
                Sock::Connecting => self
                    .connecting
                    .get(&fd)
                    .map(|(_, t)| (t.conn.state(), Context::of(t))),
                _ => None,
            },
        }
    }

    /// Whether the stack's `seen` state fits the model's for `whose` at `now`: the same
    /// (CLOSED and LISTEN alike for a connection: no TCB), any open branch's, or the other
    /// side of a state timer still within its window.
    fn state_fits(&self, whose: Whose, model: State, seen: State, now: Duration) -> bool {
        let same = |m: State| {
            m == seen
                || (matches!(whose, Whose::Conn(_)) && no_connection(m) && no_connection(seen))
        };
        if same(model) {
            return true;
        }
        let Whose::Conn(key) = whose else {
            return false;
        };
        let Some(t) = self.conns.get(&key) else {
            return false;
        };
        if t.conn.branch_states().iter().any(|(s, _)| same(*s)) {
            return true;
        }
        // A SYN answered with a cookie (RFC 4987) keeps no state in the stack: its
        // SYN-RECEIVED lives in the cookie until the final ACK brings it back.
        if t.cookie && model == State::SynReceived && no_connection(seen) {
            return true;
        }
        // The stack's timer ran first: the model moves a grace later.
        if let Some(timer) = t.conn.state_timer() {
            if now >= timer.earliest && same(timer.to) {
                return true;
            }
        }
        // The model's timer ran, the stack's is still within its window.
        if let Some(m) = self.check.moved.get(&key) {
            if m.to == model && now <= m.latest && same(m.from) {
                return true;
            }
        }
        false
    }

    /// The stack's states of the connections probed, read at `now` after the step of script
    /// line `line` (the stack's packets sent by then already told): each is compared with the
    /// model's, and noted beside the model's for the ladders. The first that does not fit is
    /// the run's divergence, unless there is one already.
    pub fn stack_states(&mut self, now: Duration, line: u32, seen: &[(Probe, State)]) {
        if !self.active() {
            return;
        }
        let mut found = None;
        for &(probe, state) in seen {
            let whose = self.resolved(probe.whose);
            let Some((model, context)) = self.model_state(whose) else {
                continue;
            };
            if let Whose::Conn(key) = whose {
                // A timer's move is forgotten once an event moved the model on.
                if self.check.moved.get(&key).is_some_and(|m| m.to != model) {
                    self.check.moved.remove(&key);
                }
                if no_connection(model) && no_connection(state) {
                    self.check.closed.insert(key, model);
                } else {
                    self.check.closed.remove(&key);
                }
            }
            let fits = self.state_fits(whose, model, state, now);
            if let (true, Whose::Conn(key)) = (fits, whose) {
                if let Some(t) = self.conns.get(&key) {
                    self.check.fitted.insert(key, t.line);
                }
            }
            if found.is_none() && !fits {
                found = Some((whose, model, state, context));
            }
        }
        self.note_stack_states(seen);
        let Some((whose, model, state, context)) = found else {
            return;
        };
        let key = match whose {
            Whose::Conn(k) => Some(k),
            Whose::Fd(_) => None,
        };
        // A timer's move is cited from the state it left, not the last event's.
        let timer = key
            .and_then(|k| self.check.moved.get(&k))
            .filter(|m| m.to == model)
            .map(|m| m.from);
        // No event since the stack's state last fitted: the model stayed where it was
        // (TIME-WAIT lingering, RFC 9293 3.6.1), and the stack moved by itself.
        let unmoved = key.is_some_and(|k| {
            self.conns
                .get(&k)
                .is_some_and(|t| self.check.fitted.get(&k) == Some(&t.line))
        });
        let before = timer
            .or(if unmoved { Some(model) } else { None })
            .or(context.state)
            .unwrap_or(model);
        let rule = transitions::rule_of(before, model, context.trigger, timer.is_some());
        let fault = ModelFault {
            rule,
            expected: Required::Call(format!("state {model}")),
            actual: Actual::Seen(format!("state {state}")),
        };
        let departure = (Owed::State(model), Sent::State(state));
        self.diverge_in(line, now, fault, key, context, departure);
    }

    /// Each note the model made since the last check gets the stack's state beside it, when
    /// it is about a connection read now and the model's state then is its state now (an
    /// earlier row of the step, in a state the model has left since, is not the stack's to
    /// show: it was read once, at the step's end).
    fn note_stack_states(&mut self, seen: &[(Probe, State)]) {
        let whose = std::mem::take(&mut self.check.whose);
        let mut notes = Vec::new();
        let mut pending = Vec::new();
        for (index, w) in whose {
            // Not read this time (its model still waited for a segment): next time.
            let now = self.resolved(w);
            let Some(&(_, state)) = seen.iter().find(|(p, _)| self.resolved(p.whose) == now) else {
                pending.push((index, w));
                continue;
            };
            let Some(note) = self.states.get(index) else {
                continue;
            };
            let Some((model, _)) = self.model_state(now) else {
                continue;
            };
            if note.state != model {
                continue;
            }
            // No connection on either side: the row's segment met what the model noted (the
            // listener, or the closed port), on the stack too.
            let state = if no_connection(model) && no_connection(state) {
                note.state
            } else {
                state
            };
            notes.push(StateNote {
                side: Side::Stack,
                after: note.after,
                state,
            });
        }
        self.states.extend(notes);
        self.check.whose = pending;
    }
}

/// Why a stack's states cannot be compared, if they cannot.
pub fn unreadable(has: impl Fn(Capability) -> bool) -> Option<String> {
    (!has(Capability::ConnectionState)).then(|| {
        "the stack cannot tell its connection states (needs connection-state): the state \
         check is off"
            .to_string()
    })
}
