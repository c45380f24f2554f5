//! What happened during one check, in order: every packet in and out, every socket call and
//! observation, with the time it happened. Reports and pcapng files are written from this.

mod call;
pub mod notation;
mod pcapng;
mod script_note;
pub mod states;
mod text;
pub mod tshark;

use std::time::Duration;

use tcpcheck_model::profile::ProfileKind;

pub use call::{CallRecord, Returned, SocketCall};
pub use pcapng::{write_pcapng, write_pcapng_file, write_pcapng_marked};
pub use script_note::{Noted, ScriptNote};
pub use text::{is_barrier, Isns, Readable};

/// One run's record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub events: Vec<TraceEvent>,
    /// Each side's connection state after the events it concerned, for the ladders.
    pub states: Vec<states::StateNote>,
}

/// Something that happened, `at` after the sandbox started (monotonic clock, microsecond
/// resolution).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    pub at: Duration,
    pub kind: EventKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A packet the harness wrote into the stack (raw IP bytes), and the script line it was.
    Injected {
        packet: Vec<u8>,
        note: Option<ScriptNote>,
    },
    /// A packet the stack sent (raw IP bytes), and the script line it matched.
    Captured {
        packet: Vec<u8>,
        note: Option<ScriptNote>,
    },
    /// A packet that is not part of the check and was filtered out, with the reason: IPv6
    /// router solicitations and neighbour discovery, the harness's own barrier probes.
    Filtered { packet: Vec<u8>, why: String },
    /// A socket call and its result, typed; shown as packetdrill writes it, e.g.
    /// `connect(3, 192.0.2.2:8080, ...) = -1 EINPROGRESS (Operation now in progress)`.
    Call(CallRecord),
    /// A sysctl of the namespace set to `value` (as read back), shown as a note
    /// `sysctl net.ipv4.tcp_sack=0`.
    Sysctl { name: String, value: String },
    /// What the harness observed of the stack, e.g. `fd 3: tcpi_state=SYN_SENT`.
    Observation { text: String },
    /// Free text: a step's name, a verdict.
    Note { text: String },
    /// The profile the model judges the stack on, when the run does not take Linux's from
    /// the namespace's sysctls: the schedule report compares the stack's retransmissions
    /// with this profile's. Shown as a note ([`judged`]).
    Judged(ProfileKind),
    /// A call, command or code block of the script as it ran, shown as a note
    /// `L17: close(4) = 0`.
    Script(ScriptNote),
}

/// How a trace says which profile the model judges the stack on ([`EventKind::Judged`]).
pub fn judged(kind: ProfileKind) -> String {
    let name = match kind {
        ProfileKind::Rfc9293 => "rfc9293",
        ProfileKind::Linux => "linux",
    };
    format!("the model judges this stack on its {name} profile")
}

/// A remark a report adds to one event of a trace, after the fact: the failing frame's
/// "what was expected". The trace itself stays the record of what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Index into [`Trace::events`].
    pub event: usize,
    pub text: String,
}

impl Trace {
    /// Keeps the trace in time order. A captured packet carries the kernel's own send time
    /// (`io::tap`), which can be earlier than events the harness recorded before it read the
    /// packet (a barrier probe written meanwhile): it goes before them, after every event of
    /// its own time or earlier, so that events of one instant keep the order they came in.
    pub fn push(&mut self, at: Duration, kind: EventKind) {
        let place = self.events.len() - self.events.iter().rev().take_while(|e| e.at > at).count();
        self.events.insert(place, TraceEvent { at, kind });
    }
}

/// One line per event: `  1.079ms  out  192.0.2.1.8080 > 192.0.2.2.40000: Flags [S.], ...`.
impl std::fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use tcpcheck_model::wire::{ChecksumPolicy, SegmentRepr};
        let packet = |bytes: &[u8]| match SegmentRepr::parse_with(bytes, ChecksumPolicy::Accept) {
            Ok(seg) => seg.to_string(),
            Err(e) => format!("{} bytes, not TCP or malformed: {e}", bytes.len()),
        };
        let at = self.at.as_secs_f64() * 1e3;
        match &self.kind {
            EventKind::Injected { packet: p, .. } => write!(f, "{at:>10.3}ms  in   {}", packet(p)),
            EventKind::Captured { packet: p, .. } => write!(f, "{at:>10.3}ms  out  {}", packet(p)),
            EventKind::Filtered { why, .. } => write!(f, "{at:>10.3}ms  --   ({why})"),
            EventKind::Call(call) => write!(f, "{at:>10.3}ms  call {call}"),
            EventKind::Sysctl { name, value } => {
                write!(f, "{at:>10.3}ms  note sysctl {name}={value}")
            }
            EventKind::Observation { text } => write!(f, "{at:>10.3}ms  obs  {text}"),
            EventKind::Note { text } => write!(f, "{at:>10.3}ms  note {text}"),
            EventKind::Judged(kind) => write!(f, "{at:>10.3}ms  note {}", judged(*kind)),
            EventKind::Script(note) => write!(f, "{at:>10.3}ms  note {note}"),
        }
    }
}

impl std::fmt::Display for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for e in &self.events {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod push_tests {
    use super::{EventKind, Trace};
    use std::time::Duration;

    fn note(text: &str) -> EventKind {
        EventKind::Note { text: text.into() }
    }

    #[test]
    fn an_event_stamped_earlier_goes_before_the_later_ones_and_after_its_equals() {
        let mut t = Trace::default();
        t.push(Duration::from_micros(10), note("a"));
        t.push(Duration::from_micros(20), note("probe"));
        t.push(Duration::from_micros(20), note("reply"));
        // Read after the probe was written, but sent by the kernel before it.
        t.push(Duration::from_micros(15), note("syn-ack"));
        t.push(Duration::from_micros(10), note("same instant as a"));
        let order: Vec<String> = t
            .events
            .iter()
            .map(|e| match &e.kind {
                EventKind::Note { text } => text.clone(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            order,
            ["a", "same instant as a", "syn-ack", "probe", "reply"]
        );
    }
}
