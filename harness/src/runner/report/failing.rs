//! Where a run went wrong, pointed at in its trace (report.md, pcapng), and what the model
//! says of that moment.

use std::net::IpAddr;

use tcpcheck_model::conn::SegSpec;
use tcpcheck_model::wire::{ChecksumPolicy, IpRepr, SegmentRepr};

use crate::differ::{ModelDivergence, ModelVerdict};
use crate::runner::{Check, Divergence, ScenarioRun, Verdict};
use crate::trace::notation;
use crate::trace::{EventKind, Isns, Mark, Trace};

/// What a failing run says when the model, having judged the failing line, allowed what
/// the stack did.
pub const MODEL_AGREES: &str =
    "the model agrees with the stack: the script's expectation may be wrong";

/// The fields of an outbound segment the model pins too (expect.rs: flags, sequence and
/// acknowledgment numbers, lengths), beside whether a segment came at all and when. Window,
/// options, urgent pointer, ECN bits, payload bytes and checksums are the stack's choice or
/// beyond the model, and PSH is optional on data, so its agreeing there says nothing.
const PINNED: [&str; 7] = [
    "payload length",
    "tcp_fin",
    "tcp_syn",
    "tcp_rst",
    "tcp_ack",
    "tcp_seq",
    "tcp_ack_seq",
];

/// Whether the model judges what the script's failing line checked.
pub fn model_judged(d: &Divergence) -> bool {
    match &d.check {
        Check::Field(field) => PINNED.contains(field),
        Check::NoPacket | Check::Time { outbound: true } => true,
        Check::CallReturn { judged, .. } => *judged,
        Check::Time { outbound: false } | Check::Other => false,
    }
}

/// A failing run whose model, following it, allowed what the stack did at the failing line.
pub fn model_agrees_with_stack(r: &ScenarioRun) -> bool {
    matches!((&r.verdict, &r.model), (Verdict::Fail(d), ModelVerdict::Agree) if model_judged(d))
}

/// The last event of script line `line` (a packet, or the note of a call), else the last
/// event the harness did not filter out: where a failure is shown.
fn event_of_line(trace: &Trace, line: u32) -> Option<usize> {
    let of_line = trace.events.iter().rposition(|e| {
        let note = match &e.kind {
            EventKind::Captured { note, .. } | EventKind::Injected { note, .. } => note.as_ref(),
            EventKind::Script(note) => Some(note),
            _ => None,
        };
        note.is_some_and(|n| n.line == line)
    });
    of_line.or_else(|| {
        trace
            .events
            .iter()
            .rposition(|e| !matches!(e.kind, EventKind::Filtered { .. }))
    })
}

/// The frame of `trace` the model's divergence names (the stack's segment it did not
/// allow), and the ISNs of the stack's and the peer's side of its connection.
fn locate(trace: &Trace, d: &ModelDivergence) -> (Option<usize>, Option<u32>, Option<u32>) {
    let actual = d.departure.sent.segment();
    let mut isns = Isns::default();
    let mut frame = None;
    for (i, e) in trace.events.iter().enumerate() {
        let (EventKind::Captured { packet, .. } | EventKind::Injected { packet, .. }) = &e.kind
        else {
            continue;
        };
        let Ok(seg) = SegmentRepr::parse_with(packet, ChecksumPolicy::Accept) else {
            continue;
        };
        isns.relative(&seg);
        let from_stack = matches!(e.kind, EventKind::Captured { .. });
        let port_ok = d
            .connection
            .is_none_or(|k| seg.tcp.src_port == k.local_port);
        if from_stack && port_ok && actual.is_some_and(|m| notation::is(m, &seg)) {
            let dst: IpAddr = match &seg.ip {
                IpRepr::V4(ip) => ip.dst.into(),
                IpRepr::V6(ip) => ip.dst.into(),
            };
            frame = Some((i, seg.tcp.src_port, (dst, seg.tcp.dst_port).into()));
            break;
        }
    }
    let (stack, peer) = match (frame, d.connection) {
        (Some((_, port, to)), _) => isns.of_connection(port, to),
        (None, Some(k)) => isns.of_connection(k.local_port, k.peer),
        (None, None) => (None, None),
    };
    (frame.map(|f| f.0), stack.map(|n| n.0), peer.map(|n| n.0))
}

/// The model's words on what it expected and what it got, with the segments they name in
/// the script's notation, numbers relative to the ISNs given, and times in milliseconds.
fn show(d: &ModelDivergence, stack: Option<u32>, peer: Option<u32>) -> (String, String) {
    let shown = |s: &SegSpec| notation::packetdrill(s, stack, peer);
    let sent = d.departure.sent.segment().map(notation::exactly);
    (
        notation::readable(&d.expected, d.departure.owed.segment(), shown),
        notation::readable(&d.actual, sent.as_ref(), shown),
    )
}

/// What the model expected and what it got, in the script's notation with the numbers of
/// `trace` relative to each side's ISN and the times in milliseconds from the script's start.
pub fn model_texts(trace: &Trace, d: &ModelDivergence) -> (String, String) {
    let (_, stack, peer) = locate(trace, d);
    show(d, stack, peer)
}

/// [`super::model_view`] for a person: the divergence as [`model_texts`] writes it.
pub fn model_view_readable(r: &ScenarioRun) -> String {
    match &r.model {
        ModelVerdict::Diverge(d) => {
            let (expected, actual) = model_texts(&r.trace, d);
            format!(
                "diverge at line {}: expected {expected}, got {actual} ({})",
                d.line, d.rule
            )
        }
        other => super::model_view(other),
    }
}

/// Where the model's divergence shows in `trace`, with its account.
fn model_mark(trace: &Trace, d: &ModelDivergence) -> Option<Mark> {
    let (frame, stack, peer) = locate(trace, d);
    let event = match frame {
        Some(i) => i,
        None => event_of_line(trace, d.line)?,
    };
    let (expected, actual) = show(d, stack, peer);
    Some(Mark {
        event,
        text: format!(
            "the model diverges here (script line {}): expected {expected}, got {actual} ({}; \
             times from the script's start)",
            d.line, d.rule
        ),
    })
}

/// The remarks that point at the failure in `r`'s trace: the script's failing line, with
/// what it expected and what the model says, and the model's own divergence.
pub fn marks(r: &ScenarioRun) -> Vec<Mark> {
    let mut out = Vec::new();
    if let Verdict::Fail(d) = &r.verdict {
        if let Some(event) = event_of_line(&r.trace, d.line) {
            let model = match &r.model {
                _ if model_agrees_with_stack(r) => MODEL_AGREES.to_string(),
                ModelVerdict::Agree => "the model has no rule on what this line checks".into(),
                ModelVerdict::Diverge(m) => {
                    format!(
                        "the model diverges too (script line {}, marked there)",
                        m.line
                    )
                }
                ModelVerdict::Off(why) => format!("the model is off ({why})"),
            };
            out.push(Mark {
                event,
                text: match r.is_builtin() {
                    true => format!(
                        "FAILED: the check expected `{}`, got `{}`: {}; {model}",
                        d.expected, d.actual, d.message
                    ),
                    false => format!(
                        "FAILED at script line {}: expected `{}`, got `{}`: {}; {model}",
                        d.line, d.expected, d.actual, d.message
                    ),
                },
            });
        }
    }
    if let ModelVerdict::Diverge(d) = &r.model {
        out.extend(model_mark(&r.trace, d));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use tcpcheck_model::conn::{Seg, SegSpec};
    use tcpcheck_model::seq::SeqNumber;
    use tcpcheck_model::wire::{Ipv4Repr, TcpRepr};

    use tcpcheck_model::wire::TcpFlags;

    use super::*;
    use crate::differ::{Departure, Key, Owed, Sent, Trigger};
    use crate::runner::IpVersion;
    use crate::trace::{Noted, ScriptNote};

    /// The note of script line `line`'s packet, written in the script's notation.
    fn script_packet(line: u32, text: &str) -> Option<ScriptNote> {
        let script = crate::scenario::parse("t.pkt", &format!("0 {text}")).unwrap();
        let crate::scenario::Action::Packet(p) = &script.events[0].action else {
            panic!("not a packet: {text}");
        };
        Some(ScriptNote {
            line,
            noted: Noted::Packet(p.clone()),
        })
    }

    fn failure(check: Check) -> Divergence {
        Divergence {
            line: 17,
            expected: "+0 > . 1:1(0) ack 100".into(),
            actual: "whatever".into(),
            message: "whatever".into(),
            check,
        }
    }

    #[test]
    fn the_model_vouches_only_for_what_it_pins() {
        for field in ["tcp_ack_seq", "tcp_seq", "payload length", "tcp_syn"] {
            assert!(model_judged(&failure(Check::Field(field))), "{field}");
        }
        assert!(model_judged(&failure(Check::NoPacket)));
        assert!(model_judged(&failure(Check::Time { outbound: true })));
        for field in ["tcp_window", "TCP options", "tcp_psh"] {
            assert!(!model_judged(&failure(Check::Field(field))), "{field}");
        }
        // A checksum, the payload's bytes, a getsockopt value.
        assert!(!model_judged(&failure(Check::Other)));
        assert!(!model_judged(&failure(Check::Time { outbound: false })));
        let call = |judged| Check::CallReturn {
            call: "read".into(),
            judged,
        };
        assert!(model_judged(&failure(call(true))));
        assert!(!model_judged(&failure(call(false))));
    }

    const STACK: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

    fn packet(from_stack: bool, seq: u32, ack: u32, flags: TcpFlags) -> Vec<u8> {
        let (src, dst, ports) = if from_stack {
            (STACK, PEER, (8080, 40000))
        } else {
            (PEER, STACK, (40000, 8080))
        };
        SegmentRepr {
            ip: IpRepr::V4(Ipv4Repr::new(src, dst)),
            tcp: TcpRepr {
                src_port: ports.0,
                dst_port: ports.1,
                seq: SeqNumber(seq),
                ack: SeqNumber(ack),
                flags,
                window: 100,
                ..TcpRepr::default()
            },
        }
        .emit()
        .unwrap()
    }

    /// SYN from the peer (ISN 1000), SYN-ACK (ISN 5000), two ACKs from the stack, the
    /// second noted as script line 17's.
    fn run(verdict: Verdict, model: ModelVerdict) -> ScenarioRun {
        let mut trace = Trace::default();
        let ms = Duration::from_millis;
        trace.push(
            ms(1),
            EventKind::Injected {
                packet: packet(false, 1000, 0, TcpFlags::SYN),
                note: script_packet(5, "< S 1000:1000(0) win 100"),
            },
        );
        trace.push(
            ms(2),
            EventKind::Captured {
                packet: packet(true, 5000, 1001, TcpFlags::SYN | TcpFlags::ACK),
                note: script_packet(6, "> S. 0:0(0) ack 1001"),
            },
        );
        trace.push(
            ms(3),
            EventKind::Captured {
                packet: packet(true, 5001, 1001, TcpFlags::ACK),
                note: None,
            },
        );
        trace.push(
            ms(4),
            EventKind::Captured {
                packet: packet(true, 5001, 1011, TcpFlags::ACK),
                note: script_packet(17, "> . 1:1(0) ack 11"),
            },
        );
        trace.push(
            ms(5),
            EventKind::Note {
                text: "L18: read(4, ..., 10) = 10".into(),
            },
        );
        ScenarioRun {
            path: "x.pkt".into(),
            ip: IpVersion::V4,
            iteration: 0,
            verdict,
            duration: Duration::ZERO,
            script_time: Duration::ZERO,
            trace,
            model,
            states_off: None,
            stack: crate::stack::StackKind::Linux,
        }
    }

    #[test]
    fn a_script_failure_is_marked_on_its_line_s_frame() {
        let d = Divergence {
            expected: "+0 > . 1:1(0) ack 12".into(),
            message: "bad outbound tcp_ack_seq".into(),
            ..failure(Check::Field("tcp_ack_seq"))
        };
        let r = run(Verdict::Fail(d), ModelVerdict::Agree);
        assert!(model_agrees_with_stack(&r));
        let m = marks(&r);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].event, 3);
        assert_eq!(
            m[0].text,
            format!(
                "FAILED at script line 17: expected `+0 > . 1:1(0) ack 12`, got `whatever`: \
                 bad outbound tcp_ack_seq; {MODEL_AGREES}"
            )
        );

        // A line with no event of its own (the script waited in vain): the last event.
        let mut d = Divergence {
            expected: "+0 > F. 1:1(0) ack 11".into(),
            message: "timed out waiting for packet".into(),
            ..failure(Check::NoPacket)
        };
        d.line = 30;
        let r = run(Verdict::Fail(d), ModelVerdict::Off("not asked for".into()));
        assert!(!model_agrees_with_stack(&r));
        let m = marks(&r);
        assert_eq!(m[0].event, 4);
        assert!(
            m[0].text.ends_with("the model is off (not asked for)"),
            "{}",
            m[0].text
        );
    }

    #[test]
    fn the_model_divergence_is_marked_on_the_segment_it_names() {
        let d = ModelDivergence {
            line: 17,
            at: Duration::from_millis(3),
            rule: &const { tcpcheck_model::rule::Rule::rfc(9293, "3.10.7.4").says("a rule") },
            expected: "nothing in ESTABLISHED by 2.5ms".into(),
            actual: "<SEQ=5001><ACK=1001><CTL=ACK> at 3.000001ms".into(),
            departure: Box::new(Departure {
                owed: Owed::Nothing,
                sent: Sent::Segment(Box::new(Seg::new(TcpFlags::ACK, 5001, 1001, 0))),
            }),
            connection: Some(Key {
                local_port: 8080,
                peer: "192.0.2.2:40000".parse().unwrap(),
            }),
            state: None,
            event: String::new(),
            trigger: Trigger::Other,
            deviation: None,
            after: None,
            passive: false,
            unscaled: false,
        };
        let r = run(Verdict::Pass, ModelVerdict::Diverge(d.clone()));
        let m = marks(&r);
        assert_eq!(m.len(), 1);
        // The first ACK (ack 1001), not the one of line 17 (ack 1011).
        assert_eq!(m[0].event, 2);
        assert_eq!(
            m[0].text,
            "the model diverges here (script line 17): expected nothing in ESTABLISHED by \
             2.500 ms, got > . 1:1(0) ack 1 at 3.000 ms (RFC 9293 3.10.7.4: a rule; times from \
             the script's start)"
        );
        assert_eq!(
            model_texts(&r.trace, &d),
            (
                "nothing in ESTABLISHED by 2.500 ms".to_string(),
                "> . 1:1(0) ack 1 at 3.000 ms".to_string()
            )
        );
        // Nothing sent where something was owed: the line's event, numbers still relative.
        let missing = ModelDivergence {
            expected: "<SEQ=5001><ACK=1011><CTL=ACK> by 4ms".into(),
            actual: "nothing by 20ms".into(),
            departure: Box::new(Departure {
                owed: Owed::Segment(SegSpec::ctl(
                    TcpFlags::ACK,
                    SeqNumber(5001),
                    Some(SeqNumber(1011)),
                )),
                sent: Sent::Nothing,
            }),
            ..d
        };
        let r = run(Verdict::Pass, ModelVerdict::Diverge(missing));
        let m = marks(&r);
        assert_eq!(m[0].event, 3);
        assert!(
            m[0].text
                .contains("expected > . 1:1(0) ack 11 by 4.000 ms, got nothing by 20.000 ms"),
            "{}",
            m[0].text
        );
    }
}
