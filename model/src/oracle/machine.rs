//! The `model` fuzz target's properties: any sequence of events never panics, and the
//! connection's invariants hold after every one of them.
//!
//! Bytes are read as a program of events. Most events are built from the model's own state
//! (segments near RCV.NXT and SND.NXT, the segment the model expects next), so the fuzzer
//! reaches deep states instead of bouncing off the sequence check.

use std::time::Duration;

use crate::conn::{Connection, LenSpec, Seg, SeqSpec, State};
use crate::profile::Profile;
use crate::seq::SeqNumber;
use crate::wire::TcpFlags;

/// Reads the fuzzer's bytes as small numbers; runs out into zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn offset(&mut self) -> u32 {
        // Mostly small signed offsets around the edge, sometimes anywhere.
        match self.u8() % 8 {
            0 => self.u32(),
            _ => (self.u8() as i8) as i32 as u32,
        }
    }
}

/// RFC 9293 Figure 5, plus what the text adds: SYN-RECEIVED back to LISTEN (3.10.7.4), and
/// CLOSED from anywhere (RST, ABORT, timeouts). A segment completing a Linux simultaneous
/// open that was closed in SYN-RECEIVED goes through FIN-WAIT-1 on to what a FIN or an ACK
/// of ours there leads to, in one step.
fn transition_allowed(from: State, to: State) -> bool {
    use State::*;
    from == to
        || to == Closed
        || matches!(
            (from, to),
            (Closed, Listen | SynSent)
                | (Listen, SynReceived)
                | (SynSent, SynReceived | Established)
                | (
                    SynReceived,
                    Established | FinWait1 | CloseWait | Listen | FinWait2 | Closing | TimeWait
                )
                | (Established, FinWait1 | CloseWait)
                | (FinWait1, FinWait2 | Closing | TimeWait)
                | (FinWait2, TimeWait)
                | (CloseWait, LastAck)
                | (Closing, TimeWait)
        )
}

/// The invariants checked after every event.
///
/// `before` holds every branch's state and RCV.NXT before the event, the connection's own
/// first: the model follows choices the wire does not show yet as branches, and an event
/// one branch refuses leaves another in its place, so the state after it has to follow
/// from one of them, not necessarily from the first.
fn check(c: &Connection, before: &[(State, Option<SeqNumber>)]) -> Result<(), String> {
    let tcb = c.tcb();
    let follows = |&(state, rcv_nxt): &(State, Option<SeqNumber>)| {
        transition_allowed(state, c.state())
            && !(c.state().is_synchronized() && rcv_nxt.is_some_and(|p| tcb.rcv_nxt.before(p)))
    };
    if !before.iter().any(follows) {
        let (state, rcv_nxt) = before[0];
        if !transition_allowed(state, c.state()) {
            return Err(format!(
                "transition {state} -> {} is not in RFC 9293",
                c.state()
            ));
        }
        return Err(format!(
            "RCV.NXT went back from {} to {}",
            rcv_nxt.map_or(String::from("?"), |p| p.to_string()),
            tcb.rcv_nxt
        ));
    }
    if c.state().is_synchronized() && tcb.snd_una.after(tcb.snd_nxt) {
        return Err(format!(
            "SND.UNA {} after SND.NXT {}",
            tcb.snd_una, tcb.snd_nxt
        ));
    }
    let mut last_end: Option<SeqNumber> = None;
    for &(start, len) in c.out_of_order() {
        if len == 0 || !start.after(tcb.rcv_nxt) {
            return Err(format!(
                "out-of-order range {start}+{len} not beyond RCV.NXT {}",
                tcb.rcv_nxt
            ));
        }
        if let Some(end) = last_end {
            if !start.after(end) {
                return Err("out-of-order ranges overlap or are unsorted".into());
            }
        }
        last_end = Some(start + len);
    }
    // Each input owes at most a couple of segments, so owed segments never outnumber the
    // events that created them.
    if c.obligations().len() as u64 > 2 * c.events + 2 {
        return Err(format!(
            "{} expectations from {} events",
            c.obligations().len(),
            c.events
        ));
    }
    Ok(())
}

/// The `model` fuzz target.
pub fn model(data: &[u8]) -> Result<(), String> {
    let mut bytes = Bytes(data);
    let profile = if bytes.u8() % 2 == 0 {
        Profile::rfc9293()
    } else {
        Profile::linux_defaults()
    };
    let mut c = Connection::new(profile);
    let mut now = Duration::ZERO;
    let mut steps = 0;
    while !bytes.0.is_empty() && steps < 256 {
        steps += 1;
        let before = c.branch_states();
        let tcb = *c.tcb();
        match bytes.u8() % 12 {
            0 => drop(c.open_passive(now)),
            1 => drop(c.open_active(now)),
            2 => drop(c.send(now, u32::from(bytes.u8()))),
            3 => drop(c.receive(u64::from(bytes.u8()))),
            4 => drop(c.close(now)),
            5 => drop(c.abort(now)),
            6 | 10 => {
                let flags = TcpFlags(bytes.u8() & 0x3f);
                let seq = tcb.rcv_nxt.0.wrapping_add(bytes.offset());
                let ack = tcb.snd_nxt.0.wrapping_add(bytes.offset());
                let mut s = Seg::new(flags, seq, ack, u32::from(bytes.u8() % 64));
                s.wnd = u16::from(bytes.u8()) << 4;
                if flags.syn() && bytes.u8() % 2 == 0 {
                    s.options.mss = Some(536 + u16::from(bytes.u8()));
                    s.options.window_scale = Some(bytes.u8() % 16);
                }
                c.arrive(now, &s);
            }
            7 | 11 => {
                // The segment the model expects first, at the earliest time it is due.
                if let Some(e) = c.obligations().first().copied() {
                    let seq = match e.spec.seq {
                        SeqSpec::Exact(s) => s.0,
                        SeqSpec::Iss => bytes.u32(),
                    };
                    let len = match e.spec.len {
                        LenSpec::Exact(n) => n,
                        LenSpec::UpTo(n) => 1 + u32::from(bytes.u8()) % n.max(1),
                        LenSpec::AtMost(n) => u32::from(bytes.u8()) % (n + 1),
                    };
                    let mut s = Seg::new(e.spec.flags, seq, e.spec.ack.map_or(0, |a| a.0), len);
                    if e.spec.flags.syn() && bytes.u8() % 2 == 0 {
                        s.options.window_scale = Some(bytes.u8() % 16);
                    }
                    now = now.max(e.due.earliest);
                    let emitted = c.emitted(now, &s);
                    if let Err(d) = emitted {
                        return Err(format!(
                            "the model refused its own expectation {}: {d}",
                            e.spec
                        ));
                    }
                }
            }
            8 => {
                let flags = TcpFlags(bytes.u8() & 0x3f);
                let s = Seg::new(
                    flags,
                    tcb.snd_nxt.0.wrapping_add(bytes.offset()),
                    tcb.rcv_nxt.0.wrapping_add(bytes.offset()),
                    u32::from(bytes.u8() % 64),
                );
                // A wrong segment may be refused; it must not corrupt the model.
                let _ = c.emitted(now, &s);
            }
            _ => {
                now += Duration::from_millis(u64::from(bytes.u8()) * 10);
                c.poll(now);
                if c.check_overdue(now).is_err() {
                    // A harness would stop the check at the first overdue segment.
                    return Ok(());
                }
            }
        }
        check(&c, &before)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_5_edges() {
        assert!(transition_allowed(State::Listen, State::SynReceived));
        assert!(!transition_allowed(State::Listen, State::Established));
        assert!(!transition_allowed(State::TimeWait, State::Established));
    }
}
