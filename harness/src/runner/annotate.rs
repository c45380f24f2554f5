//! Ties trace events to the script line that caused or matched them.
//!
//! The trace is written by the stack's recorder, which knows nothing of scripts; only the
//! interpreter knows which line a packet or call belongs to and what its numbers are in the
//! script's terms. It writes that here as the event's [`ScriptNote`] (shown
//! `L17: > . 1:1(0) ack 101`), so every consumer of the trace (the ladder diagram, pcapng
//! comments) can tell scripted from unscripted events without redoing the interpreter's
//! bookkeeping.

use crate::sandbox::Packet;
use crate::scenario::{self, Event, Syscall};
use crate::stack::Recorder;
use crate::trace::{EventKind, Noted, ScriptNote, Trace};

/// Notes the packet of `ev` just injected, which `Recorder::inject` recorded last.
pub fn injected(trace: &mut Trace, ev: &Event, p: &scenario::Packet) {
    if let Some(EventKind::Injected { note: n, .. }) = trace.events.last_mut().map(|e| &mut e.kind)
    {
        *n = Some(ScriptNote {
            line: ev.span.line,
            noted: Noted::Packet(p.clone()),
        });
    }
}

/// Notes the ICMP error of `ev` just injected, as the script wrote it.
pub fn injected_icmp(trace: &mut Trace, ev: &Event, p: &scenario::IcmpPacket) {
    if let Some(EventKind::Injected { note: n, .. }) = trace.events.last_mut().map(|e| &mut e.kind)
    {
        *n = Some(ScriptNote {
            line: ev.span.line,
            noted: Noted::Step(p.to_string()),
        });
    }
}

/// Notes the capture of `live`, matched by `ev` and `shown` in the script's numbers: the
/// newest unnoted event with its time and bytes, since the interpreter may match a packet
/// long after it was read.
pub fn captured(trace: &mut Trace, live: &Packet, ev: &Event, shown: &scenario::Packet) {
    let found = trace
        .events
        .iter_mut()
        .rev()
        .find_map(|e| match &mut e.kind {
            EventKind::Captured { packet, note: n }
                if e.at == live.at && *packet == live.bytes && n.is_none() =>
            {
                Some(n)
            }
            _ => None,
        });
    if let Some(n) = found {
        *n = Some(ScriptNote {
            line: ev.span.line,
            noted: Noted::Packet(shown.clone()),
        });
    }
}

/// Records a code block or command as the script wrote it, when it runs.
pub fn step(rec: &mut Recorder, ev: &Event) {
    rec.note(EventKind::Script(ScriptNote {
        line: ev.span.line,
        noted: Noted::Step(ev.action.to_string()),
    }));
}

/// Records a call of `ev` returning `result`, shown as the script would write it.
pub fn call(rec: &mut Recorder, ev: &Event, sc: &Syscall, result: &str) {
    let args: Vec<String> = sc.args.iter().map(ToString::to_string).collect();
    let text = format!("{}({}) = {result}", sc.name, args.join(", "));
    rec.note(EventKind::Script(ScriptNote {
        line: ev.span.line,
        noted: Noted::Call {
            name: sc.name.clone(),
            text,
        },
    }));
}
