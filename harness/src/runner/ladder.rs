//! One run as a ladder diagram: the kernel and each peer as a lane, one row per socket call,
//! code block or segment, in the order they happened.
//!
//! It is meant to be kept as a snapshot, so it holds only what the same kernel does the same
//! way on every run; anything else would make the snapshot fail at random and hide the diffs
//! that matter. Hence:
//!
//! - Sequence, ACK and SACK numbers are in the script's terms, relative to each side's ISN as
//!   packetdrill prints them (the runner's own mapping, from the trace's notes); the kernel's
//!   ISN is random.
//! - The kernel's TS val counts milliseconds of its clock from a random offset. It is shown
//!   as the value the matched script line gives it (packetdrill's own identification of the
//!   two), and as `?` where no line gives one. The peer's values and every TS ecr the kernel
//!   sends are the script's own and shown as they are.
//! - Addresses and ports are lanes (`peer 1`, ...), never numbers.
//! - No wall-clock time: the time column is the line's own (`+0.01`, `0...7` for a blocking
//!   call), canonically printed. Rows are in the order the harness recorded them, which is the
//!   script's order of steps: each step ends with a barrier that collects all the kernel sent
//!   in reaction, and timers fire at times the script fixes far enough apart to tell.
//! - Barrier probes, IPv6 neighbour discovery and other filtered packets are left out, and so
//!   are the harness's own calls (polling a blocking call, reading TCP_INFO): the calls shown
//!   are the script's, with what they returned.
//! - A segment no script line matched is shown, marked `(unscripted)`, when the kernel sent
//!   it while the script still had events to run: it answered something the script did, at
//!   a time the script fixed. Those read after the last scripted event are left out: what
//!   the final drain catches depends on how long after the last event it runs (a timer may or
//!   may not have fired), so it is not the kernel's behaviour but the harness's timing.
//! - Each row carries the state each side left the row's connection in, as RFC 9293's
//!   diagrams show them (LISTEN → SYN-RECEIVED → ESTABLISHED): the model's, from the differ
//!   (none where the model was off or had stopped following the run), and the stack's once
//!   the harness reads it (a column that appears only when some row has one). Where both
//!   are known and differ, the row is marked.

mod bases;
mod layout;
pub mod mermaid;
pub mod svg;
#[cfg(test)]
mod tests;
mod text;
pub mod traced;

use std::collections::HashMap;
use std::fmt::Write as _;

use tcpcheck_model::conn::State;
use tcpcheck_model::wire::{ChecksumPolicy, SegmentRepr};

use super::{packet, ScenarioRun, Verdict};
use crate::differ::ModelVerdict;
use crate::scenario::{Action, Direction, Event, Script, Secs, Syscall};
use crate::trace::states::{After, Side, StateLookup};
use crate::trace::{EventKind, Noted, ScriptNote, Trace};
use bases::Bases;
use text::{flags_of, script_ts_val, segment_text, set_ts_val};

/// The diagram of `run`; `script`, the script it ran, gives each row the time its line is
/// written with and each kernel TS val the number the script knows it by.
pub fn ladder(run: &ScenarioRun, script: &Script) -> String {
    drawn(run, &rows(&run.trace, script))
}

/// The diagram of a run that had no script (a built-in check), from its trace alone.
pub fn ladder_of_trace(run: &ScenarioRun) -> String {
    drawn(run, &traced::rows(&run.trace))
}

fn drawn(run: &ScenarioRun, rows: &[Row]) -> String {
    let mut out = header(run);
    out.push('\n');
    out.push_str(&layout::layout(rows, run.stack.word()));
    out
}

/// The peers that have a lane among `rows`, in order; the default peer when none has.
pub fn peers(rows: &[Row]) -> Vec<u16> {
    let mut peers = std::collections::BTreeSet::new();
    for r in rows {
        if let Lane::In(p) | Lane::Out(p) = r.lane {
            peers.insert(p);
        }
    }
    if peers.is_empty() {
        peers.insert(crate::scenario::DEFAULT_PEER);
    }
    peers.into_iter().collect()
}

fn header(run: &ScenarioRun) -> String {
    let mut out = format!("scenario  {}\nip        {}\n", run.path, run.ip.name());
    let _ = match &run.verdict {
        Verdict::Pass => writeln!(out, "verdict   pass"),
        Verdict::Fail(d) if run.is_builtin() => writeln!(
            out,
            "verdict   fail: {}\ncheck     {}\n{:<10}{}",
            d.message,
            d.expected,
            run.stack.word(),
            d.actual
        ),
        Verdict::Fail(d) => writeln!(
            out,
            "verdict   fail at L{}: {}\nscript    {}\n{:<10}{}",
            d.line,
            d.message,
            d.expected,
            run.stack.word(),
            d.actual
        ),
        Verdict::Error(e) => writeln!(out, "verdict   error\n{e}"),
        Verdict::Interrupted => writeln!(out, "verdict   interrupted"),
        Verdict::NotApplicable { line, needs } => {
            writeln!(out, "verdict   not applicable at L{line} (needs {needs})")
        }
    };
    // The model's segments carry absolute sequence numbers, which change every run: the
    // snapshot keeps the line and the rule, the report has the rest.
    let _ = match &run.model {
        ModelVerdict::Agree => writeln!(out, "model     agree"),
        ModelVerdict::Diverge(d) => writeln!(out, "model     diverge at L{}: {}", d.line, d.rule),
        ModelVerdict::Off(why) => writeln!(out, "model     off ({why})"),
    };
    out
}

/// One row of a ladder: what the text, SVG and Mermaid diagrams all draw.
#[derive(Clone, Debug)]
pub struct Row {
    /// The script line, for a row a line matched.
    pub line: Option<u32>,
    /// The line's time as the script writes it.
    pub time: String,
    pub lane: Lane,
    pub text: String,
    /// The model's state of the row's connection after it, where the model noted one.
    pub model: Option<State>,
    /// The stack's own, where the harness read it.
    pub stack: Option<State>,
}

impl Row {
    /// Both sides' states are known and are not the same.
    pub fn states_differ(&self) -> bool {
        matches!((self.model, self.stack), (Some(m), Some(s)) if m != s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// A step of the program under test: a call, a code block, a command.
    Kernel,
    /// A segment from peer N to the kernel.
    In(u16),
    /// A segment from the kernel to peer N.
    Out(u16),
    /// A packet from the kernel to no peer, or not TCP.
    Stray,
}

/// The rows of `trace`, run from `script`, in the script's order.
pub fn rows(trace: &Trace, script: &Script) -> Vec<Row> {
    let by_line: HashMap<u32, &Event> = script.events.iter().map(|e| (e.span.line, e)).collect();
    let events = &trace.events;
    let last_scripted = events.iter().rposition(|e| scripted(&e.kind).is_some());
    let mut bases = Bases::default();
    let mut states = StateLookup::new(&trace.states);
    let mut rows = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let step = scripted(&e.kind);
        let time = |line| by_line.get(&line).map(|e| time_of(e)).unwrap_or_default();
        match (&e.kind, step) {
            (EventKind::Script(_), Some(note)) => {
                let after = After::Call { line: note.line };
                rows.push(Row {
                    line: Some(note.line),
                    time: time(note.line),
                    lane: Lane::Kernel,
                    text: note.noted.to_string(),
                    model: states.next(Side::Model, after),
                    stack: states.next(Side::Stack, after),
                })
            }
            (EventKind::Injected { packet, .. } | EventKind::Captured { packet, .. }, step) => {
                let seg = SegmentRepr::parse_with(packet, ChecksumPolicy::Accept).ok();
                let inbound = matches!(e.kind, EventKind::Injected { .. });
                // Asked for every segment, shown or not, so the n-th of its kind keeps
                // its place among the notes.
                let noted = seg.as_ref().map(|seg| {
                    let after = After::segment(seg, inbound);
                    (
                        states.next(Side::Model, after),
                        states.next(Side::Stack, after),
                    )
                });
                let (model, stack) = noted.unwrap_or_default();
                let row = match (step, seg) {
                    (Some(note), Some(seg)) => {
                        let event = by_line.get(&note.line).copied();
                        let time = time(note.line);
                        Some(scripted_row(note, time, &seg, event, &mut bases))
                    }
                    // A scripted packet that is not TCP: an ICMP error the script injected.
                    (Some(note), None) if inbound => Some(Row {
                        line: Some(note.line),
                        time: time(note.line),
                        lane: icmp_lane(packet),
                        text: note.noted.to_string(),
                        model: None,
                        stack: None,
                    }),
                    _ if last_scripted.is_some_and(|l| i < l) => {
                        Some(unscripted_row(packet, inbound, &bases))
                    }
                    _ => None,
                };
                if let Some(row) = row {
                    rows.push(Row {
                        model,
                        stack,
                        ..row
                    });
                }
            }
            _ => {}
        }
    }
    // Script order, not capture order: two segments the kernel sends in the same instant
    // (two requests' SYN-ACK timers expiring together) come out in either order from run
    // to run, and the snapshot must not care. An unscripted segment stays after the
    // furthest scripted row it followed, and those sharing a place are sorted by what they
    // show. The furthest, not the last: the trace is in time order, and a segment a call
    // sent is stamped inside the call, before the call's own row, which is noted when the
    // call returns.
    let mut after = 0;
    let mut keyed: Vec<((u32, bool, String), Row)> = rows
        .into_iter()
        .map(|r| match r.line {
            Some(line) => {
                after = after.max(line);
                ((line, false, String::new()), r)
            }
            None => ((after, true, format!("{:?} {}", r.lane, r.text)), r),
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().map(|(_, r)| r).collect()
}

/// What the runner noted of an event of the script.
fn scripted(kind: &EventKind) -> Option<&ScriptNote> {
    match kind {
        EventKind::Script(note) => Some(note),
        EventKind::Injected { note, .. } | EventKind::Captured { note, .. } => note.as_ref(),
        _ => None,
    }
}

/// The event's time as the script writes it, with a blocking call's end.
fn time_of(e: &Event) -> String {
    match &e.action {
        Action::Syscall(Syscall { end: Some(end), .. }) => format!("{}...{}", e.time, Secs(*end)),
        _ => e.time.to_string(),
    }
}

fn scripted_row(
    note: &ScriptNote,
    time: String,
    seg: &SegmentRepr,
    event: Option<&Event>,
    bases: &mut Bases,
) -> Row {
    let line = note.line;
    let Noted::Packet(p) = &note.noted else {
        // Not a packet after all; shown as noted rather than dropped.
        return Row {
            line: Some(line),
            time,
            lane: Lane::Stray,
            text: note.noted.to_string(),
            model: None,
            stack: None,
        };
    };
    let mut p = p.clone();
    bases.learn(&p, seg);
    let lane = match p.direction {
        Direction::Inbound => Lane::In(p.peer),
        Direction::Outbound => Lane::Out(p.peer),
    };
    let mut hide_ts = false;
    if p.direction == Direction::Outbound {
        match event.and_then(script_ts_val) {
            Some(val) => set_ts_val(&mut p, val),
            None => hide_ts = true,
        }
    }
    Row {
        line: Some(line),
        time,
        lane,
        text: segment_text(p, hide_ts),
        model: None,
        stack: None,
    }
}

/// The lane of an injected ICMP error: from the peer whose address sends it.
fn icmp_lane(bytes: &[u8]) -> Lane {
    let peer = tcpcheck_model::wire::IcmpRepr::parse(bytes)
        .ok()
        .and_then(|m| match m.src {
            std::net::IpAddr::V4(a) => {
                let o = a.octets();
                (o[..3] == [192, 0, 2] && o[3] >= 2).then(|| u16::from(o[3]) - 1)
            }
            std::net::IpAddr::V6(a) => {
                let s = a.segments();
                (s[..7] == [0x2001, 0xdb8, 0, 0, 0, 0, 0] && s[7] >= 2).then(|| s[7] - 1)
            }
        });
    peer.map_or(Lane::Stray, Lane::In)
}

fn unscripted_row(bytes: &[u8], inbound: bool, bases: &Bases) -> Row {
    let seg = SegmentRepr::parse_with(bytes, ChecksumPolicy::Accept).ok();
    let peer = seg.as_ref().and_then(packet::peer_of);
    let (lane, text) = match (inbound, peer, &seg) {
        (false, Some(peer), Some(seg)) => match bases.outbound(peer, seg) {
            Some(actual) => (Lane::Out(peer), segment_text(actual.packet, true)),
            None => (
                Lane::Out(peer),
                format!("{} (connection unknown)", flags_of(seg)),
            ),
        },
        (false, None, Some(seg)) => (Lane::Stray, format!("{} to no peer", flags_of(seg))),
        (true, _, Some(seg)) => (Lane::Stray, format!("{} injected", flags_of(seg))),
        (_, _, None) => (Lane::Stray, format!("{} bytes, not TCP", bytes.len())),
    };
    Row {
        line: None,
        time: String::new(),
        lane,
        text: format!("{text}  (unscripted)"),
        model: None,
        stack: None,
    }
}
