//! The ladder as a Mermaid `sequenceDiagram`, which code hosts draw from report.md: the
//! kernel and each peer a participant, a segment an arrow, a call a note over the kernel,
//! and a state a note beside the kernel where it changes.

use std::fmt::Write as _;

use tcpcheck_model::conn::State;

use super::{Lane, Row};

/// The diagram, without the fence around it.
pub fn sequence_diagram(rows: &[Row]) -> String {
    let peers = super::peers(rows);
    let mut out = String::from("sequenceDiagram\n    participant K as kernel\n");
    for p in &peers {
        let _ = writeln!(out, "    participant P{p} as peer {p}");
    }
    let mut last: (Option<State>, Option<State>) = (None, None);
    for r in rows {
        let line = r.line.map_or("-".to_string(), |l| format!("L{l}"));
        let text = escape(&format!("{line} {}", r.text));
        let _ = match r.lane {
            Lane::Kernel => writeln!(out, "    Note over K: {text}"),
            Lane::Stray => writeln!(out, "    Note over K: ? {text}"),
            Lane::In(p) => writeln!(out, "    P{p}->>K: {text}"),
            Lane::Out(p) => writeln!(out, "    K->>P{p}: {text}"),
        };
        let now = (r.model.or(last.0), r.stack.or(last.1));
        if now != last {
            let _ = writeln!(out, "    Note left of K: {}", escape(&state_text(r)));
        }
        last = now;
    }
    out
}

/// The states a row shows: the model's, the stack's beside it when read.
fn state_text(r: &Row) -> String {
    let name = |s: Option<State>| s.map_or("?", State::rfc_name);
    match (r.model, r.stack) {
        (m, None) => name(m).to_string(),
        (m, Some(s)) if r.states_differ() => {
            format!("model {}, stack {} (differ)", name(m), s.rfc_name())
        }
        (m, Some(s)) => format!("model {}, stack {}", name(m), s.rfc_name()),
    }
}

/// Mermaid reads `;` as the end of a statement and `#` as the start of an entity code, and
/// some renderers take `<`, `>` and `&` as HTML: each is written as Mermaid's entity code.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#60;"),
            '>' => out.push_str("#62;"),
            '&' => out.push_str("#38;"),
            '"' => out.push_str("#34;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: u32, lane: Lane, text: &str, model: Option<State>) -> Row {
        Row {
            line: Some(line),
            time: "+0".into(),
            lane,
            text: text.into(),
            model,
            stack: None,
        }
    }

    #[test]
    fn arrows_notes_and_state_changes() {
        let rows = vec![
            row(4, Lane::Kernel, "listen(3, 1) = 0", Some(State::Listen)),
            row(
                5,
                Lane::In(1),
                "S 0:0(0) win 65535 <mss 1460;#>",
                Some(State::SynReceived),
            ),
            row(6, Lane::Out(1), "S. 0:0(0) ack 1", Some(State::SynReceived)),
        ];
        assert_eq!(
            sequence_diagram(&rows),
            "sequenceDiagram\n    participant K as kernel\n    participant P1 as peer 1\n    \
             Note over K: L4 listen(3, 1) = 0\n    Note left of K: LISTEN\n    \
             P1->>K: L5 S 0:0(0) win 65535 #60;mss 1460#59;#35;#62;\n    \
             Note left of K: SYN-RECEIVED\n    K->>P1: L6 S. 0:0(0) ack 1\n"
        );
    }

    #[test]
    fn a_stack_state_that_differs_is_said() {
        let mut r = row(9, Lane::Kernel, "close(4) = 0", Some(State::FinWait1));
        r.stack = Some(State::CloseWait);
        assert_eq!(
            state_text(&r),
            "model FIN-WAIT-1, stack CLOSE-WAIT (differ)"
        );
    }
}
