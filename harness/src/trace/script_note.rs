//! What the interpreter notes of an event it ran or matched: the script line, and what the
//! line did in the script's own terms. The trace is written by the sandbox and the stack,
//! which know nothing of scripts; readers (the ladder diagram, the failing-line marks, the
//! readable trace) take the line and the packet as values, and people read the note as
//! `L17: > . 1:1(0) ack 101`.

use std::fmt;

use crate::scenario;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptNote {
    /// 1-based script line.
    pub line: u32,
    pub noted: Noted,
}

/// What a script line did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Noted {
    /// A segment in the script's numbers: the line's own for an inbound one, the captured
    /// one as the script would write it for an outbound one.
    Packet(scenario::Packet),
    /// A call as the script writes it, with the result it got (`close(4) = 0`).
    Call { name: String, text: String },
    /// A command or a code block, as written.
    Step(String),
}

impl ScriptNote {
    /// The call's name, when the line was a call.
    pub fn call_name(&self) -> Option<&str> {
        match &self.noted {
            Noted::Call { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// What the line did, as the script writes it.
impl fmt::Display for Noted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Noted::Packet(p) => write!(f, "{p}"),
            Noted::Call { text, .. } | Noted::Step(text) => f.write_str(text),
        }
    }
}

/// `L17: > . 1:1(0) ack 101`.
impl fmt::Display for ScriptNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "L{}: {}", self.line, self.noted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_reads_as_its_line_and_the_script_s_text() {
        let script = scenario::parse("t.pkt", "0 > . 1:1(0) ack 101").unwrap();
        let scenario::Action::Packet(p) = &script.events[0].action else {
            panic!("a packet");
        };
        let packet = ScriptNote {
            line: 17,
            noted: Noted::Packet(p.clone()),
        };
        assert_eq!(packet.to_string(), "L17: > . 1:1(0) ack 101");
        assert_eq!(packet.call_name(), None);
        let call = ScriptNote {
            line: 9,
            noted: Noted::Call {
                name: "close".into(),
                text: "close(4) = 0".into(),
            },
        };
        assert_eq!(call.to_string(), "L9: close(4) = 0");
        assert_eq!(call.call_name(), Some("close"));
    }
}
