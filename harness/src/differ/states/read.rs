//! Reads the stack's state of each probed connection, as RFC 9293 names it.
//!
//! A descriptor is asked first ([`Stack::state`](crate::stack::Stack::state); Linux:
//! `TCP_INFO`), and what no descriptor holds by its endpoints
//! ([`Stack::state_at`](crate::stack::Stack::state_at); Linux: inet_diag). A descriptor that
//! says CLOSED is looked up by its endpoints too: Linux hands a connection entering
//! TIME-WAIT to a timewait socket and closes the one behind the descriptor
//! ([`crate::observe::rfc_state`] has the whole mapping).

use std::io;

use tcpcheck_model::conn::State;

use super::Probe;
use crate::observe::rfc_state::{rfc_state, rfc_state_at};
use crate::stack::{needed, Capability, Fd, Recorder};

/// The state of every probe the stack can tell: a probe it cannot read (no descriptor, and
/// no lookup by endpoints on this stack; a state it names in no RFC terms) is left out.
/// An error is the harness's: the stack could not be read.
pub fn read(stack: &mut Recorder, probes: &[Probe]) -> io::Result<Vec<(Probe, State)>> {
    let by_ends = stack.has(Capability::ConnectionTable);
    let mut seen = Vec::with_capacity(probes.len());
    for &probe in probes {
        let at = |stack: &mut Recorder| -> io::Result<Option<State>> {
            match probe.ends {
                Some((local, remote)) if by_ends => {
                    Ok(rfc_state_at(stack.read_state_at(local, remote)?))
                }
                _ => Ok(None),
            }
        };
        let state = match probe.fd {
            Some(fd) => match stack.read_state(Fd(fd)) {
                Ok(s) => match rfc_state(s) {
                    Some(State::Closed) => match at(stack)? {
                        Some(s @ (State::TimeWait | State::FinWait2)) => Some(s),
                        _ => Some(State::Closed),
                    },
                    other => other,
                },
                Err(e) if needed(&e).is_some() => None,
                Err(e) => return Err(e),
            },
            None => at(stack)?,
        };
        if let Some(state) = state {
            seen.push((probe, state));
        }
    }
    Ok(seen)
}
