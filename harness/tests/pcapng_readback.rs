//! The pcapng files tcpcheck writes, read back by a reader that shares nothing with the
//! writer: rusticata's `pcap-parser` (the writer is `pcap-file`), with packets built and
//! decoded by etherparse (not the model's codec). These always run; tshark, Wireshark's own
//! dissectors, reads the same files in the `#[ignore]`d `tshark_*` tests that `.ci/run` runs
//! as a step of its own.

use std::time::Duration;

use etherparse::{NetSlice, PacketBuilder, SlicedPacket, TransportSlice};
use nix::errno::Errno;
use pcap_parser::pcapng::Block;
use pcap_parser::{Linktype, OptionCode, PcapBlockOwned, PcapNGOption, PcapNGSlice};
use tcpcheck::runner::{self, IpVersion, RunOptions, Verdict};
use tcpcheck::stack::CallError;
use tcpcheck::trace::{
    write_pcapng, CallRecord, EventKind, Noted, Returned, ScriptNote, SocketCall, Trace,
};

/// One Enhanced Packet Block as the independent reader sees it.
#[derive(Debug)]
struct Frame {
    /// Raw timestamp, in units of the interface's `if_tsresol`.
    ts: u64,
    data: Vec<u8>,
    original_len: u32,
    /// `epb_flags`, when present.
    flags: Option<u32>,
    comments: Vec<String>,
}

#[derive(Debug, Default)]
struct Capture {
    section_comments: Vec<String>,
    interfaces: Vec<(Linktype, u8)>,
    frames: Vec<Frame>,
}

fn comments(options: &[PcapNGOption<'_>]) -> Vec<String> {
    options
        .iter()
        .filter(|o| o.code == OptionCode::Comment)
        .map(|o| o.as_str().expect("a UTF-8 comment").to_owned())
        .collect()
}

/// Parses every block of `bytes`; any block the reader rejects fails the test.
fn read(bytes: &[u8]) -> Capture {
    let mut capture = Capture::default();
    let mut big_endian = false;
    for block in PcapNGSlice::from_slice(bytes).expect("a section header block") {
        let PcapBlockOwned::NG(block) = block.expect("a valid block") else {
            panic!("a legacy pcap block in a pcapng file")
        };
        match block {
            Block::SectionHeader(shb) => {
                big_endian = shb.big_endian();
                capture.section_comments.extend(comments(&shb.options));
            }
            Block::InterfaceDescription(idb) => {
                capture.interfaces.push((idb.linktype, idb.if_tsresol));
            }
            Block::EnhancedPacket(epb) => {
                assert_eq!(epb.if_id, 0, "one interface");
                // The option `epb_flags` (code 2) is a u32 in the section's byte order.
                let flags = epb.options.iter().find(|o| o.code.0 == 2).map(|o| {
                    let b: [u8; 4] = o.as_bytes().expect("flags")[..4].try_into().unwrap();
                    if big_endian {
                        u32::from_be_bytes(b)
                    } else {
                        u32::from_le_bytes(b)
                    }
                });
                capture.frames.push(Frame {
                    ts: (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low),
                    // `data` keeps the block's padding; the captured length ends the packet.
                    data: epb.data[..epb.caplen as usize].to_vec(),
                    original_len: epb.origlen,
                    flags,
                    comments: comments(&epb.options),
                });
            }
            other => panic!("unexpected block {other:?}"),
        }
    }
    capture
}

fn write(trace: &Trace) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_pcapng(trace, &mut bytes).expect("writing to a Vec");
    bytes
}

const V4_PEER: [u8; 4] = [192, 0, 2, 2];
const V4_STACK: [u8; 4] = [192, 0, 2, 1];
const V6_PEER: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const V6_STACK: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

fn build(builder: etherparse::PacketBuilderStep<etherparse::TcpHeader>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    builder
        .write(&mut out, payload)
        .expect("etherparse builds it");
    out
}

/// What etherparse reads in a frame: source address, ports, flags (`S`, `S.`, `R`, `P.`),
/// sequence number and payload length.
type Decoded = (String, u16, u16, String, u32, usize);

fn decode(data: &[u8]) -> Decoded {
    let p = SlicedPacket::from_ip(data).expect("an IP packet");
    let src = match &p.net {
        Some(NetSlice::Ipv4(ip)) => ip.header().source_addr().to_string(),
        Some(NetSlice::Ipv6(ip)) => ip.header().source_addr().to_string(),
        _ => panic!("not IP"),
    };
    let Some(TransportSlice::Tcp(tcp)) = &p.transport else {
        panic!("not TCP")
    };
    let mut flags = String::new();
    for (on, c) in [
        (tcp.syn(), 'S'),
        (tcp.fin(), 'F'),
        (tcp.rst(), 'R'),
        (tcp.psh(), 'P'),
        (tcp.ack(), '.'),
    ] {
        if on {
            flags.push(c);
        }
    }
    (
        src,
        tcp.source_port(),
        tcp.destination_port(),
        flags,
        tcp.sequence_number(),
        tcp.payload().len(),
    )
}

fn at(micros: u64) -> Duration {
    Duration::from_micros(micros)
}

/// A handshake on IPv4 with socket activity between its packets, then IPv6 traffic, then a
/// verdict after the last packet. The first timestamp is past 2^32 µs, so the timestamp's
/// high word is exercised.
fn sample_trace() -> Trace {
    let mut trace = Trace::default();
    let syn = build(
        PacketBuilder::ipv4(V4_PEER, V4_STACK, 64)
            .tcp(40000, 8080, 1_000_000, 64240)
            .syn(),
        b"",
    );
    let synack = build(
        PacketBuilder::ipv4(V4_STACK, V4_PEER, 64)
            .tcp(8080, 40000, 3_000_000_000, 64240)
            .syn()
            .ack(1_000_001),
        b"",
    );
    let rst = build(
        PacketBuilder::ipv6(V6_PEER, V6_STACK, 64)
            .tcp(40001, 9, 7, 0)
            .rst(),
        b"",
    );
    let data = build(
        PacketBuilder::ipv6(V6_STACK, V6_PEER, 64)
            .tcp(8080, 40002, 4_294_967_290, 64240)
            .psh()
            .ack(42),
        b"hello",
    );
    let note = |line: u32, s: &str| {
        Some(ScriptNote {
            line,
            noted: Noted::Step(s.to_owned()),
        })
    };
    trace.push(
        at(5_000_250_001),
        EventKind::Injected {
            packet: syn,
            note: note(1, "step 1"),
        },
    );
    trace.push(
        at(5_000_250_010),
        EventKind::Call(CallRecord {
            call: SocketCall::Accept { fd: 3 },
            result: Err(CallError::Errno(Errno::EAGAIN)),
        }),
    );
    trace.push(
        at(5_000_250_123),
        EventKind::Captured {
            packet: synack,
            note: None,
        },
    );
    trace.push(
        at(5_000_251_000),
        EventKind::Observation {
            text: "fd 3: tcpi_state=SYN_RECV".into(),
        },
    );
    trace.push(
        at(5_000_251_500),
        EventKind::Filtered {
            packet: rst,
            why: "not part of the check".into(),
        },
    );
    trace.push(
        at(5_000_252_000),
        EventKind::Note {
            text: "step 2".into(),
        },
    );
    trace.push(
        at(5_001_000_000),
        EventKind::Captured {
            packet: data,
            note: note(2, "data"),
        },
    );
    trace.push(
        at(5_001_000_100),
        EventKind::Note {
            text: "verdict: pass".into(),
        },
    );
    trace
}

#[test]
fn packets_times_directions_and_comments_read_back() {
    let trace = sample_trace();
    let capture = read(&write(&trace));

    // LINKTYPE_RAW (bare IP packets, as on the TUN device), microsecond timestamps.
    assert_eq!(capture.interfaces, [(Linktype::RAW, 6)]);
    assert_eq!(capture.frames.len(), 4, "{capture:#?}");

    let packets: Vec<(Duration, &Vec<u8>)> = trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Injected { packet, .. }
            | EventKind::Captured { packet, .. }
            | EventKind::Filtered { packet, .. } => Some((e.at, packet)),
            _ => None,
        })
        .collect();
    for (frame, (at, packet)) in capture.frames.iter().zip(&packets) {
        assert_eq!(&frame.data, *packet, "every byte, uncut");
        assert_eq!(frame.original_len as usize, packet.len());
        assert_eq!(u128::from(frame.ts), at.as_micros(), "µs since the epoch");
    }

    let f = &capture.frames;
    assert_eq!(
        decode(&f[0].data),
        ("192.0.2.2".into(), 40000, 8080, "S".into(), 1_000_000, 0)
    );
    assert_eq!(f[0].flags, Some(0b01), "inbound");
    assert_eq!(f[0].comments, ["in: injected by tcpcheck; L1: step 1"]);

    assert_eq!(
        decode(&f[1].data),
        (
            "192.0.2.1".into(),
            8080,
            40000,
            "S.".into(),
            3_000_000_000,
            0
        )
    );
    assert_eq!(f[1].flags, Some(0b10), "outbound");
    assert_eq!(
        f[1].comments,
        [
            "out: sent by the stack under test",
            "call: accept(3, ..., ...) = -1 EAGAIN (Try again)",
        ]
    );

    assert_eq!(
        decode(&f[2].data),
        ("2001:db8::2".into(), 40001, 9, "R".into(), 7, 0)
    );
    assert_eq!(f[2].flags, None, "no direction claimed");
    assert_eq!(
        f[2].comments,
        [
            "filtered: not part of the check",
            "observed: fd 3: tcpi_state=SYN_RECV",
        ]
    );

    assert_eq!(
        decode(&f[3].data),
        (
            "2001:db8::1".into(),
            8080,
            40002,
            "P.".into(),
            4_294_967_290,
            5
        )
    );
    assert_eq!(f[3].flags, Some(0b10));
    assert_eq!(
        f[3].comments,
        [
            "out: sent by the stack under test; L2: data",
            "note: step 2",
            "after: note: verdict: pass",
        ]
    );
    assert!(capture.section_comments.is_empty());
}

#[test]
fn a_trace_without_packets_reads_back_as_section_comments() {
    assert_eq!(read(&write(&Trace::default())).frames.len(), 0);

    let mut trace = Trace::default();
    trace.push(
        at(1),
        EventKind::Call(CallRecord {
            call: SocketCall::Socket { v6: false },
            result: Ok(Returned::Fd(3)),
        }),
    );
    trace.push(
        at(3),
        EventKind::Note {
            text: "verdict: pass".into(),
        },
    );
    let capture = read(&write(&trace));
    assert_eq!(capture.interfaces.len(), 1);
    assert!(capture.frames.is_empty());
    assert_eq!(
        capture.section_comments,
        [
            "call: socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3",
            "note: verdict: pass"
        ]
    );
}

/// A real run against the kernel: its trace, written as pcapng and read back, holds the
/// handshake the kernel really did, in order and with directions.
#[test]
fn a_real_run_reads_back_as_the_handshake_it_was() {
    let script = "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1 <...>
+0  < . 1:1(0) ack 1 win 65535
+0  accept(3, ..., ...) = 4
";
    for ip in [IpVersion::V4, IpVersion::V6] {
        let run = runner::run_text("readback.pkt", script, ip, &RunOptions::default());
        assert_eq!(run.verdict, Verdict::Pass, "{}", run.describe());
        let capture = read(&write(&run.trace));
        let tcp: Vec<(&Frame, Decoded)> = capture
            .frames
            .iter()
            .filter_map(|f| {
                let p = SlicedPacket::from_ip(&f.data).ok()?;
                matches!(p.transport, Some(TransportSlice::Tcp(_))).then(|| (f, decode(&f.data)))
            })
            .collect();
        let shape: Vec<(&str, Option<u32>)> =
            tcp.iter().map(|(f, d)| (d.3.as_str(), f.flags)).collect();
        assert_eq!(
            shape,
            [("S", Some(0b01)), ("S.", Some(0b10)), (".", Some(0b01))],
            "{ip:?}: {capture:#?}"
        );
        let (peer, stack) = (&tcp[0].1, &tcp[1].1);
        assert_eq!((stack.1, stack.2), (peer.2, peer.1), "one connection");
        assert!(tcp[1].0.comments[0].starts_with("out: sent by the stack"));
        // Frames are in time order.
        assert!(
            capture.frames.windows(2).all(|w| w[0].ts <= w[1].ts),
            "{ip:?}: {:#?}",
            capture
                .frames
                .iter()
                .map(|f| (f.ts, f.flags, f.comments.first()))
                .collect::<Vec<_>>()
        );
    }
}
