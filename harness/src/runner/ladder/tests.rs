//! The normalisation rules on a made-up run, so each is checked without a kernel and with
//! numbers a real run would never repeat.

use std::net::IpAddr;
use std::time::Duration;

use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::{IpRepr, Ipv4Repr, SegmentRepr, TcpFlags, TcpOption, TcpRepr};

use super::ladder;
use crate::differ::ModelVerdict;
use crate::runner::packet::{peer_ip, PEER_PORT_BASE, SCRIPT_PORT};
use crate::runner::{IpVersion, ScenarioRun, Verdict};
use crate::scenario;
use crate::trace::{CallRecord, EventKind, Noted, Returned, ScriptNote, SocketCall, Trace};

const SCRIPT: &str = "\
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
+0   > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 1000 ecr 100,nop,wscale 7>
+.01 < P. 1:11(10) ack 1 win 512 <nop,nop,TS val 110 ecr 1000>
+.1  read(4, ..., 10) = 10
";

/// The kernel's random ISN and TS clock.
const ISN: u32 = 3_000_000_000;
const TS: u32 = 777_777;

fn segment(inbound: bool, flags: TcpFlags, seq: u32, ack: u32, ts: (u32, u32)) -> Vec<u8> {
    let (peer, kernel) = (peer_ip(false, 1), peer_ip(false, 0));
    let (src, dst, sport, dport) = if inbound {
        (peer, kernel, PEER_PORT_BASE, SCRIPT_PORT)
    } else {
        (kernel, peer, SCRIPT_PORT, PEER_PORT_BASE)
    };
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (src, dst) else {
        unreachable!("IPv4 addresses")
    };
    let payload = if inbound && flags.psh() { 10 } else { 0 };
    SegmentRepr {
        ip: IpRepr::V4(Ipv4Repr::new(src, dst)),
        tcp: TcpRepr {
            src_port: sport,
            dst_port: dport,
            seq: SeqNumber(seq),
            ack: SeqNumber(ack),
            flags,
            window: 512,
            options: vec![
                TcpOption::Nop,
                TcpOption::Nop,
                TcpOption::Timestamps {
                    val: ts.0,
                    ecr: ts.1,
                },
            ],
            payload: vec![0; payload],
            ..TcpRepr::default()
        },
    }
    .emit()
    .expect("a valid segment")
}

fn run(events: Vec<EventKind>) -> ScenarioRun {
    let mut trace = Trace::default();
    for (i, kind) in events.into_iter().enumerate() {
        trace.push(Duration::from_millis(i as u64), kind);
    }
    ScenarioRun {
        path: "made-up.pkt".into(),
        ip: IpVersion::V4,
        iteration: 0,
        verdict: Verdict::Pass,
        duration: Duration::ZERO,
        script_time: Duration::ZERO,
        trace,
        model: ModelVerdict::Off("not asked for".into()),
        states_off: None,
        stack: crate::stack::StackKind::Linux,
    }
}

/// The note of script line `line`'s packet, written in the script's notation.
fn note(line: u32, text: &str) -> Option<ScriptNote> {
    let script = scenario::parse("t.pkt", &format!("0 {text}")).unwrap();
    let scenario::Action::Packet(p) = &script.events[0].action else {
        panic!("not a packet: {text}");
    };
    Some(ScriptNote {
        line,
        noted: Noted::Packet(p.clone()),
    })
}

/// The note of script line `line`'s call.
fn call_note(line: u32, name: &str, text: &str) -> EventKind {
    EventKind::Script(ScriptNote {
        line,
        noted: Noted::Call {
            name: name.into(),
            text: text.into(),
        },
    })
}

#[test]
fn numbers_are_the_scripts_and_unscripted_segments_are_shown_until_the_last_step() {
    let syn_ack = TcpFlags::SYN | TcpFlags::ACK;
    let data = TcpFlags::PSH | TcpFlags::ACK;
    let events = vec![
        call_note(1, "socket", "socket(..., SOCK_STREAM, IPPROTO_TCP) = 3"),
        EventKind::Injected {
            packet: segment(true, TcpFlags::SYN, 0, 0, (100, 0)),
            note: note(2, "< S 0:0(0) win 512 <nop,nop,TS val 100 ecr 0>"),
        },
        EventKind::Captured {
            packet: segment(false, syn_ack, ISN, 1, (TS, 100)),
            note: note(
                3,
                &format!("> S. 0:0(0) ack 1 win 512 <nop,nop,TS val {TS} ecr 100>"),
            ),
        },
        EventKind::Filtered {
            packet: vec![0x45],
            why: "barrier probe 1".into(),
        },
        EventKind::Injected {
            packet: segment(true, data, 1, ISN + 1, (110, TS)),
            note: note(
                4,
                "< P. 1:11(10) ack 1 win 512 <nop,nop,TS val 110 ecr 1000>",
            ),
        },
        // The kernel's ACK, which no line asks for, while the script still runs.
        EventKind::Captured {
            packet: segment(false, TcpFlags::ACK, ISN + 1, 11, (TS + 13, 110)),
            note: None,
        },
        EventKind::Call(CallRecord {
            call: SocketCall::Read { fd: 4, max: 10 },
            result: Ok(Returned::Count(10)),
        }),
        call_note(5, "read", "read(4, ..., 10) = 10"),
        // Caught by the final drain: left out.
        EventKind::Captured {
            packet: segment(
                false,
                TcpFlags::FIN | TcpFlags::ACK,
                ISN + 1,
                11,
                (TS + 99, 110),
            ),
            note: None,
        },
    ];
    let script = scenario::parse("made-up.pkt", SCRIPT).expect("the script parses");
    let shown = ladder(&run(events), &script);
    let expected = "\
scenario  made-up.pkt
ip        ipv4
verdict   pass
model     off (not asked for)

line  time   kernel    peer 1
L1    0      *         |  socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
L2    +0     |<--------|  S 0:0(0) win 512 <nop,nop,TS val 100 ecr 0>
L3    +0     |-------->|  S. 0:0(0) ack 1 win 512 <nop,nop,TS val 1000 ecr 100>
L4    +0.01  |<--------|  P. 1:11(10) ack 1 win 512 <nop,nop,TS val 110 ecr 1000>
-            |-------->|  . 1:1(0) ack 11 win 512 <nop,nop,TS val ? ecr 110>  (unscripted)
L5    +0.1   *         |  read(4, ..., 10) = 10
";
    assert_eq!(shown, expected, "\n{shown}");
}

#[test]
fn lanes_cross_the_peers_between() {
    assert_eq!(
        super::layout::lanes(super::Lane::In(2), &[1, 2]),
        "|<--------+---------|"
    );
    assert_eq!(
        super::layout::lanes(super::Lane::Out(1), &[1, 2]),
        "|-------->|         |"
    );
    assert_eq!(
        super::layout::lanes(super::Lane::Kernel, &[1, 2]),
        "*         |         |"
    );
}

#[test]
fn states_sit_beside_their_rows_and_a_difference_is_marked() {
    use crate::trace::states::{After, Side, StateNote};
    use tcpcheck_model::conn::State;

    let syn = segment(true, TcpFlags::SYN, 0, 0, (100, 0));
    let syn_ack = segment(false, TcpFlags::SYN | TcpFlags::ACK, ISN, 1, (TS, 100));
    let parsed = |b: &[u8]| SegmentRepr::parse(b).expect("a valid segment");
    let events = vec![
        call_note(1, "socket", "socket(..., SOCK_STREAM, IPPROTO_TCP) = 3"),
        EventKind::Injected {
            packet: syn.clone(),
            note: note(2, "< S 0:0(0) win 512 <nop,nop,TS val 100 ecr 0>"),
        },
        EventKind::Captured {
            packet: syn_ack.clone(),
            note: note(
                3,
                &format!("> S. 0:0(0) ack 1 win 512 <nop,nop,TS val {TS} ecr 100>"),
            ),
        },
    ];
    let mut r = run(events);
    let n = |side, after, state| StateNote { side, after, state };
    r.trace.states = vec![
        n(Side::Model, After::Call { line: 1 }, State::Closed),
        n(
            Side::Model,
            After::segment(&parsed(&syn), true),
            State::SynReceived,
        ),
        n(
            Side::Stack,
            After::segment(&parsed(&syn), true),
            State::SynReceived,
        ),
        n(
            Side::Stack,
            After::segment(&parsed(&syn_ack), false),
            State::Established,
        ),
        n(
            Side::Model,
            After::segment(&parsed(&syn_ack), false),
            State::SynReceived,
        ),
    ];
    let script = scenario::parse("made-up.pkt", SCRIPT).expect("the script parses");
    let shown = ladder(&r, &script);
    let table = shown.split_once("\n\n").unwrap().1;
    let expected = "\
line  time  model         stack            kernel    peer 1
L1    0     CLOSED                         *         |  socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
L2    +0    SYN-RECEIVED  SYN-RECEIVED     |<--------|  S 0:0(0) win 512 <nop,nop,TS val 100 ecr 0>
L3    +0    SYN-RECEIVED  ESTABLISHED   !  |-------->|  S. 0:0(0) ack 1 win 512 <nop,nop,TS val 1000 ecr 100>
";
    assert_eq!(table, expected, "\n{table}");
}
