//! A counterexample bundle's report.md, written for the stack author who opens it: the rule
//! and the state, the event that set it off, what the model required and what the kernel
//! did in the script's notation (numbers as in case.pkt, times in milliseconds), how the
//! case opens and what it does in RFC 9293's terms, then the script and the trace.

use std::fmt::Write as _;

use tcpcheck_model::conn::ctl_names;
use tcpcheck_model::profile::ProfileKind;
use tcpcheck_model::wire::{ChecksumPolicy, SegmentRepr};

use super::campaign::Config;
use super::driver::{Case, Found, Outcome};
use super::event::{AckOf, Event, SeqAt, Setup};
use crate::trace::{notation, EventKind, Mark, Readable, Trace};

fn offset(name: &str, d: i32) -> String {
    match d {
        0 => name.to_string(),
        d if d > 0 => format!("{name}+{d}"),
        d => format!("{name}\u{2212}{}", d.unsigned_abs()),
    }
}

/// An event in RFC 9293's terms: the user calls by the RFC's names, a segment's numbers by
/// the variables they were chosen from (the case fixes them only when it runs).
pub fn event_text(e: &Event) -> String {
    match e {
        Event::Segment(s) => {
            let seq = match s.seq {
                SeqAt::RcvNxt(d) => offset("RCV.NXT", d),
                SeqAt::WndEnd(d) => offset("RCV.NXT+RCV.WND", d),
                SeqAt::PeerIsn(d) => offset("the peer's ISN", d),
            };
            let mut t = format!(
                "the peer sends {}, SEQ = {seq}",
                match ctl_names(s.flags) {
                    n if n.is_empty() => "a segment without control bits".to_string(),
                    n => n,
                }
            );
            if s.flags.ack() {
                let ack = match s.ack {
                    AckOf::SndNxt(d) => offset("SND.NXT", d),
                    AckOf::SndUna(d) => offset("SND.UNA", d),
                    AckOf::Iss(d) => offset("ISS", d),
                };
                let _ = write!(t, ", ACK = {ack}");
            }
            let _ = write!(t, ", {} bytes, window {}", s.len, s.wnd);
            if !s.options {
                t += ", no options";
            }
            t
        }
        Event::Icmp(i) => {
            let quote = match i.quote {
                AckOf::SndNxt(d) => offset("SND.NXT", d),
                AckOf::SndUna(d) => offset("SND.UNA", d),
                AckOf::Iss(d) => offset("ISS", d),
            };
            format!(
                "the network sends an ICMP error ({:?}, as ICMPv4 or ICMPv6 carries it) quoting \
                 the stack's segment at SEQ = {quote}",
                i.kind
            )
        }
        Event::Replay(n) => format!(
            "the peer's segment {} back sent again, numbers unchanged (a duplicate or an old \
             segment), with a fresh timestamp",
            u16::from(*n) + 1
        ),
        Event::Write(n) => format!("write() of {n} bytes (SEND)"),
        Event::Read(n) => format!("non-blocking read() of up to {n} bytes (RECEIVE)"),
        Event::Shutdown => "shutdown(SHUT_WR) (CLOSE)".to_string(),
        Event::Abort => "SO_LINGER {1, 0} then close() (ABORT)".to_string(),
        Event::DelayedAcks => "setsockopt(TCP_QUICKACK, 0): delayed ACKs".to_string(),
    }
}

/// How the case opens, one item a line.
pub fn setup_text(s: &Setup) -> Vec<String> {
    let mut out = vec![
        if s.passive {
            "passive open: the stack listens and the peer connects".to_string()
        } else {
            "active open: the stack connects to the peer".to_string()
        },
        if s.v6 { "IPv6" } else { "IPv4" }.to_string(),
        format!("the peer's ISN: {}", s.peer_isn),
    ];
    let mut offers = Vec::new();
    if let Some(m) = s.mss {
        offers.push(format!("MSS {m}"));
    }
    if s.sack {
        offers.push("SACK permitted".to_string());
    }
    if let Some(w) = s.wscale {
        offers.push(format!("window scale {w}"));
    }
    if s.ts {
        offers.push("timestamps (on every later segment too)".to_string());
    }
    out.push(if offers.is_empty() {
        "the peer's SYN carries no options".to_string()
    } else {
        format!("the peer's SYN offers {}", offers.join(", "))
    });
    out
}

fn profile_name(config: &Config) -> &'static str {
    match config.profile {
        ProfileKind::Linux => "linux",
        ProfileKind::Rfc9293 => "rfc9293",
    }
}

fn where_text(f: &Found, events: usize) -> String {
    match f.step {
        Some(i) => format!("at event {} of {events}, in {}", i + 1, f.state),
        None => "while opening the connection".to_string(),
    }
}

/// Where the divergence shows in the trace: the kernel's segment the model did not allow
/// (the last frame that is it, since the case stops there), else the trace's last event.
pub fn mark(trace: &Trace, found: &Found, text: String) -> Option<Mark> {
    let frame = found.departure.sent.segment().and_then(|seg| {
        trace.events.iter().rposition(|e| match &e.kind {
            EventKind::Captured { packet, .. } => {
                SegmentRepr::parse_with(packet, ChecksumPolicy::Accept)
                    .is_ok_and(|s| notation::is(seg, &s))
            }
            _ => false,
        })
    });
    let event = frame.or_else(|| {
        trace
            .events
            .iter()
            .rposition(|e| !matches!(e.kind, EventKind::Filtered { .. }))
    })?;
    Some(Mark { event, text })
}

/// What the model required and what the kernel did, for a person: in the case's notation
/// and numbers, times in milliseconds (see [`super::render::Script::readable`]).
pub fn readable_words(outcome: &Outcome, found: &Found, peer_isn: u32) -> (String, String) {
    let d = &found.departure;
    let sent = d.sent.segment().map(notation::exactly);
    (
        outcome
            .script
            .readable(&found.expected, d.owed.segment(), peer_isn),
        outcome
            .script
            .readable(&found.actual, sent.as_ref(), peer_isn),
    )
}

/// The divergence of `outcome`, as its mark in the trace and pcapng says it.
pub fn marks(case: &Case, outcome: &Outcome, found: &Found) -> Vec<Mark> {
    let (expected, actual) = readable_words(outcome, found, case.setup.peer_isn);
    let text = format!(
        "the model diverges here: it requires {expected}; {}: {actual} ({})",
        found.stack.subject(),
        found.rule
    );
    mark(&outcome.trace, found, text).into_iter().collect()
}

/// The report.md of the bundle for case `index`: `original` is the divergence as first
/// seen, before shrinking; the outcome's own (if it has one) is the one shown.
pub fn markdown(
    config: &Config,
    index: u64,
    original: &Found,
    case: &Case,
    outcome: &Outcome,
) -> String {
    let found = outcome.found.as_ref().unwrap_or(original);
    let peer_isn = case.setup.peer_isn;
    let profile = profile_name(config);
    let n = case.events.len();
    let mut r = String::new();
    let _ = writeln!(
        r,
        "# Counterexample: case {index} (profile {profile}, {n} events)\n"
    );
    let _ = writeln!(
        r,
        "{} departs from the model {}.\n",
        found.stack.subject_start(),
        where_text(found, n)
    );
    let _ = writeln!(r, "- **Rule:** {}", found.rule);
    let _ = writeln!(r, "- **State before the event:** {}", found.state);
    if let Some(e) = found.step.and_then(|i| case.events.get(i)) {
        let _ = writeln!(r, "- **Event:** {}", event_text(e));
    }
    let (expected, actual) = readable_words(outcome, found, peer_isn);
    let _ = writeln!(r, "- **The model requires:** {expected}");
    let _ = writeln!(r, "- **{}:** {actual}", found.stack.subject_start());
    let _ = writeln!(
        r,
        "- **Reproduce:** `tcpcheck explore {}--profile {profile} --seed {} --case {index} \
         --events {}`",
        found.stack.flag(),
        config.seed,
        config.max_events
    );
    let _ = writeln!(
        r,
        "- **Replay:** `tcpcheck run --strict-trailing case.pkt`\n"
    );
    let _ = writeln!(
        r,
        "Segments are in packetdrill's notation with case.pkt's numbers: the kernel's \
         relative to its ISN, the peer's relative to the peer's ISN, a SYN's own numbers \
         absolute. Times are milliseconds since the sandbox started, as in the trace.\n"
    );
    if original != found {
        let _ = writeln!(
            r,
            "First seen before shrinking at {} ({}).\n",
            match original.step {
                Some(i) => format!("event {} in {}", i + 1, original.state),
                None => "the opening".to_string(),
            },
            original.rule
        );
    }
    let _ = writeln!(r, "## How the case opens\n");
    for line in setup_text(&case.setup) {
        let _ = writeln!(r, "- {line}");
    }
    let _ = writeln!(r, "\n## Events\n");
    for (i, e) in case.events.iter().enumerate() {
        let here = if found.step == Some(i) {
            " **\u{2190} diverges here**"
        } else {
            ""
        };
        let _ = writeln!(r, "{}. {}{here}", i + 1, event_text(e));
    }
    let _ = writeln!(
        r,
        "\n## Scenario (case.pkt)\n\n```\n{}```\n",
        outcome
            .script
            .with_readable_comments(&[(&found.expected, &expected), (&found.actual, &actual)])
            .text("")
            .trim_start()
    );
    let marks = marks(case, outcome, found);
    let _ = writeln!(
        r,
        "## Trace (trace.pcapng)\n\n```\n{}```",
        Readable::new(&outcome.trace, &marks)
    );
    r
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use tcpcheck_model::conn::{Seg, SegSpec, State};
    use tcpcheck_model::seq::SeqNumber;
    use tcpcheck_model::wire::{IpRepr, Ipv4Repr, TcpFlags, TcpRepr};

    use super::*;
    use crate::differ::{Departure, Owed, Sent, Trigger};
    use crate::explore::event::{Resolved, SegEvent};
    use crate::explore::render::Script;
    use crate::io::barrier;

    const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const STACK: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const PEER_ISN: u32 = 4_294_967_000;
    const STACK_ISN: u32 = 3_000_000_000;

    fn segment(from_peer: bool, seq: u32, ack: u32, flags: TcpFlags) -> SegmentRepr {
        let (src, dst, ports) = if from_peer {
            (PEER, STACK, (40000, 8080))
        } else {
            (STACK, PEER, (8080, 40000))
        };
        SegmentRepr {
            ip: IpRepr::V4(Ipv4Repr::new(src, dst)),
            tcp: TcpRepr {
                src_port: ports.0,
                dst_port: ports.1,
                seq: SeqNumber(seq),
                ack: SeqNumber(ack),
                flags,
                window: 1000,
                ..TcpRepr::default()
            },
        }
    }

    fn resolved(s: &SegmentRepr) -> Resolved {
        Resolved {
            flags: s.tcp.flags,
            seq: s.tcp.seq,
            ack: s.tcp.ack,
            wnd: s.tcp.window,
            len: 0,
            options: vec![],
        }
    }

    /// A passive open, then an ACK and a RST from the peer; the model wanted a challenge
    /// ACK for the RST and the kernel sent nothing.
    fn bundle() -> (Config, Found, Case, Outcome) {
        let setup = Setup {
            passive: true,
            v6: false,
            peer_isn: PEER_ISN,
            mss: Some(1460),
            sack: true,
            wscale: Some(7),
            ts: false,
        };
        let ev = |flags, seq| {
            Event::Segment(SegEvent {
                flags,
                seq,
                ack: AckOf::SndNxt(0),
                len: 0,
                wnd: 1000,
                options: false,
            })
        };
        let case = Case {
            setup,
            events: vec![
                ev(TcpFlags::SYN, SeqAt::PeerIsn(0)),
                ev(TcpFlags::ACK, SeqAt::RcvNxt(0)),
                ev(TcpFlags::RST, SeqAt::RcvNxt(1)),
            ],
        };
        let syn = segment(true, PEER_ISN, 0, TcpFlags::SYN);
        let synack = segment(
            false,
            STACK_ISN,
            PEER_ISN + 1,
            TcpFlags::SYN | TcpFlags::ACK,
        );
        let ack = segment(true, PEER_ISN + 1, STACK_ISN + 1, TcpFlags::ACK);
        let rst = segment(true, PEER_ISN + 2, 0, TcpFlags::RST);
        let mut script = Script::new(false);
        script.call("socket(..., SOCK_STREAM, IPPROTO_TCP) = 3");
        script.inbound(&resolved(&syn), PEER_ISN);
        script.outbound(&synack, PEER_ISN, false);
        script.inbound(&resolved(&ack), PEER_ISN);
        script.inbound(&resolved(&rst), PEER_ISN);
        script.comment(&format!(
            "divergence: event 3 in ESTABLISHED: expected <SEQ={}><ACK={}><CTL=ACK> by \
             4.012345ms, kernel: nothing by 16.5ms",
            STACK_ISN + 1,
            PEER_ISN + 1
        ));
        let mut trace = Trace::default();
        let ms = Duration::from_millis;
        let bytes = |s: &SegmentRepr| s.emit().unwrap();
        trace.push(
            ms(1),
            EventKind::Injected {
                packet: bytes(&syn),
                note: None,
            },
        );
        trace.push(
            ms(2),
            EventKind::Captured {
                packet: bytes(&synack),
                note: None,
            },
        );
        for (i, (at, s)) in [(3, &ack), (4, &rst)].into_iter().enumerate() {
            trace.push(
                ms(at),
                EventKind::Injected {
                    packet: bytes(s),
                    note: None,
                },
            );
            trace.push(
                ms(at),
                EventKind::Filtered {
                    packet: barrier::probe(PEER, STACK, i as u16),
                    why: format!("barrier probe {i}"),
                },
            );
        }
        let found = Found {
            step: Some(2),
            state: State::Established,
            event: "".into(),
            trigger: Trigger::Other,
            rule: "RFC 5961 3.2: an in-window RST not at RCV.NXT gets a challenge ACK".into(),
            expected: format!(
                "<SEQ={}><ACK={}><CTL=ACK> by 4.012345ms",
                STACK_ISN + 1,
                PEER_ISN + 1
            )
            .into(),
            actual: "nothing by 16.5ms".into(),
            departure: Box::new(Departure {
                owed: Owed::Segment(SegSpec::ctl(
                    TcpFlags::ACK,
                    SeqNumber(STACK_ISN + 1),
                    Some(SeqNumber(PEER_ISN + 1)),
                )),
                sent: Sent::Nothing,
            }),
            after: None,
            passive: false,
            unscaled: false,
            stack: crate::stack::StackKind::Linux,
        };
        let outcome = Outcome {
            found: Some(found.clone()),
            script,
            trace,
            events_run: 3,
            not_applicable: Vec::new(),
            case_not_applicable: None,
        };
        let config = Config {
            seed: 7,
            ..Config::default()
        };
        (config, found, case, outcome)
    }

    #[test]
    fn reads_for_a_person() {
        let (config, found, case, outcome) = bundle();
        let md = markdown(&config, 42, &found, &case, &outcome);
        for internal in [
            "Setup {",
            "RcvNxt(",
            "SndNxt(",
            "PeerIsn(",
            "4.012345ms",
            "16.5ms",
        ] {
            assert!(!md.contains(internal), "{internal} in\n{md}");
        }
        for line in [
            "# Counterexample: case 42 (profile linux, 3 events)",
            "The kernel departs from the model at event 3 of 3, in ESTABLISHED.",
            "- **Rule:** RFC 5961 3.2: an in-window RST not at RCV.NXT gets a challenge ACK",
            "- **State before the event:** ESTABLISHED",
            "- **Event:** the peer sends RST, SEQ = RCV.NXT+1, 0 bytes, window 1000, no options",
            "- **The model requires:** > . 1:1(0) ack 1 by 4.012 ms",
            "- **The kernel:** nothing by 16.500 ms",
            "- **Reproduce:** `tcpcheck explore --profile linux --seed 7 --case 42 --events 12`",
            "- passive open: the stack listens and the peer connects",
            "- the peer's ISN: 4294967000",
            "- the peer's SYN offers MSS 1460, SACK permitted, window scale 7",
            "1. the peer sends SYN, SEQ = the peer's ISN, 0 bytes, window 1000, no options",
            "2. the peer sends ACK, SEQ = RCV.NXT, ACK = SND.NXT, 0 bytes, window 1000, no options",
            "3. the peer sends RST, SEQ = RCV.NXT+1, 0 bytes, window 1000, no options **\u{2190} diverges here**",
            "+0    > S. 0:0(0) ack 4294967001",
            "+0    < R 2:2(0) win 1000",
            "// divergence: event 3 in ESTABLISHED: expected > . 1:1(0) ack 1 by 4.012 ms, \
             kernel: nothing by 16.500 ms",
            "Left out: 2 barrier packets (ICMP echo, by which tcpcheck knows the stack has finished reacting); the pcapng keeps them.",
            "     2.000ms  out  192.0.2.1.8080 > 192.0.2.2.40000: Flags [S.], seq 0, ack 1, win 1000, length 0",
            "              ^^^  the model diverges here: it requires > . 1:1(0) ack 1 by 4.012 ms; the kernel: nothing by 16.500 ms (RFC 5961 3.2: an in-window RST not at RCV.NXT gets a challenge ACK)",
        ] {
            assert!(md.lines().any(|l| l == line), "no line {line:?} in\n{md}");
        }
        // Shrinking moved the divergence: the first one is named without its numbers.
        let mut original = found.clone();
        original.step = Some(7);
        original.rule = "RFC 9293 3.10.7.4: another".into();
        let md = markdown(&config, 42, &original, &case, &outcome);
        assert!(
            md.contains("First seen before shrinking at event 8 in ESTABLISHED (RFC 9293 3.10.7.4: another)."),
            "{md}"
        );
    }

    /// bundle::write puts this report, the marked pcapng and the translated script header
    /// on disk.
    #[test]
    fn the_bundle_on_disk() {
        use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
        use pcap_file::pcapng::{Block, PcapNgReader};

        use crate::explore::bundle;

        let (config, found, case, outcome) = bundle();
        let dir = std::env::temp_dir().join(format!("tcpcheck-bundle-{}", std::process::id()));
        let out = bundle::write(&dir, &config, 42, &found, &case, &outcome).expect("written");
        let md = std::fs::read_to_string(out.join(bundle::REPORT)).unwrap();
        let script = std::fs::read_to_string(out.join(bundle::SCRIPT)).unwrap();
        let pcapng = std::fs::read(out.join(bundle::PCAPNG)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();

        assert_eq!(md, markdown(&config, 42, &found, &case, &outcome));
        assert!(
            script.contains("\n// divergence: event 3 in ESTABLISHED: expected > . 1:1(0) ack 1"),
            "{script}"
        );
        assert!(
            script.contains(
                "// model: > . 1:1(0) ack 1 by 4.012 ms\n// kernel: nothing by 16.500 ms\n"
            ),
            "{script}"
        );
        let mut reader = PcapNgReader::new(&pcapng[..]).unwrap();
        let mut comments = Vec::new();
        while let Some(block) = reader.next_block() {
            if let Block::EnhancedPacket(epb) = block.unwrap() {
                comments.push(
                    epb.options
                        .iter()
                        .filter_map(|o| match o {
                            EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                            _ => None,
                        })
                        .collect::<Vec<_>>(),
                );
            }
        }
        // The RST (event 3) is the last TCP frame; the probe after it is the last frame.
        assert_eq!(comments.len(), 6);
        assert!(
            comments[4]
                .iter()
                .any(|c| c.starts_with("the model diverges here: it requires > . 1:1(0) ack 1")),
            "{comments:?}"
        );
    }

    #[test]
    fn the_kernel_segment_the_model_refused_is_the_marked_frame() {
        let (_, mut found, case, mut outcome) = bundle();
        found.expected = "nothing in ESTABLISHED".into();
        found.actual = format!(
            "<SEQ={}><ACK={}><CTL=SYN,ACK> at 2.000001ms",
            STACK_ISN,
            PEER_ISN + 1
        )
        .into();
        found.departure.owed = Owed::Nothing;
        found.departure.sent = Sent::Segment(Box::new(Seg::new(
            TcpFlags::SYN | TcpFlags::ACK,
            STACK_ISN,
            PEER_ISN + 1,
            0,
        )));
        outcome.found = Some(found.clone());
        let m = marks(&case, &outcome, &found);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].event, 1);
        assert_eq!(
            m[0].text,
            "the model diverges here: it requires nothing in ESTABLISHED; the kernel: \
             > S. 0:0(0) ack 4294967001 at 2.000 ms (RFC 5961 3.2: an in-window RST not at \
             RCV.NXT gets a challenge ACK)"
        );
    }
}
