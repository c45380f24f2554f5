//! A sample trace for the writer's tests, and the two readers that check it: pcap-file
//! ([`by_pcap_file`]) and Wireshark's own dissectors ([`by_tshark`]).

mod by_pcap_file;
mod by_tshark;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use pcap_file::pcapng::{Block, PcapNgReader};
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::{
    Checksum, IpRepr, Ipv4Repr, Ipv6Repr, SegmentRepr, TcpFlags, TcpOption, TcpRepr,
};

use super::*;
use crate::stack::CallError;
use crate::trace::{CallRecord, Noted, Returned, ScriptNote, SocketCall, TraceEvent};
use nix::errno::Errno;

const V4_CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const V4_STACK: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const V6_CLIENT: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const V6_STACK: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

/// Separates the values of a field that occurs more than once (several comments on one
/// packet); the default `,` occurs in socket-call text.
use crate::trace::tshark::AGGREGATOR;

/// A temporary file that is removed even when the test panics.
struct TempFile(PathBuf);

impl TempFile {
    fn new(test: &str) -> TempFile {
        TempFile(std::env::temp_dir().join(format!(
            "tcpcheck-pcapng-{test}-{}.pcapng",
            std::process::id()
        )))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn tcp(
    src_port: u16,
    dst_port: u16,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    options: Vec<TcpOption<'static>>,
    payload: &[u8],
) -> TcpRepr {
    TcpRepr {
        src_port,
        dst_port,
        seq: SeqNumber(seq),
        ack: SeqNumber(ack),
        reserved: 0,
        flags,
        window: 64240,
        checksum: Checksum::Correct,
        urgent_pointer: 0,
        options,
        payload: payload.to_vec(),
    }
}

fn v4(src: Ipv4Addr, dst: Ipv4Addr, tcp: TcpRepr) -> Vec<u8> {
    SegmentRepr {
        ip: IpRepr::V4(Ipv4Repr::new(src, dst)),
        tcp,
    }
    .emit()
    .expect("valid IPv4 segment")
}

fn v6(src: Ipv6Addr, dst: Ipv6Addr, tcp: TcpRepr) -> Vec<u8> {
    SegmentRepr {
        ip: IpRepr::V6(Ipv6Repr::new(src, dst)),
        tcp,
    }
    .emit()
    .expect("valid IPv6 segment")
}

fn at(micros: u64) -> Duration {
    Duration::from_micros(micros)
}

/// A handshake on IPv4 with socket activity between its packets, then IPv6 traffic, then a
/// verdict after the last packet. The first timestamp is past 2^32 µs so the high word of
/// the EPB timestamp is exercised.
fn sample_trace() -> Trace {
    let mut trace = Trace::default();
    trace.push(
        at(5_000_250_001),
        EventKind::Injected {
            packet: v4(
                V4_CLIENT,
                V4_STACK,
                tcp(
                    40000,
                    8080,
                    1_000_000,
                    0,
                    TcpFlags::SYN,
                    vec![TcpOption::Mss(1460), TcpOption::SackPermitted],
                    b"",
                ),
            ),
            note: Some(ScriptNote {
                line: 1,
                noted: Noted::Step("step 1".into()),
            }),
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
            packet: v4(
                V4_STACK,
                V4_CLIENT,
                tcp(
                    8080,
                    40000,
                    3_000_000_000,
                    1_000_001,
                    TcpFlags::SYN | TcpFlags::ACK,
                    vec![TcpOption::Mss(1460)],
                    b"",
                ),
            ),
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
            packet: v6(
                V6_CLIENT,
                V6_STACK,
                tcp(40001, 9, 7, 0, TcpFlags::RST, vec![], b""),
            ),
            why: "barrier probe".into(),
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
            packet: v6(
                V6_STACK,
                V6_CLIENT,
                tcp(
                    8080,
                    40002,
                    4_294_967_290,
                    42,
                    TcpFlags::PSH | TcpFlags::ACK,
                    vec![],
                    b"hello",
                ),
            ),
            note: Some(ScriptNote {
                line: 2,
                noted: Noted::Step("data".into()),
            }),
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
