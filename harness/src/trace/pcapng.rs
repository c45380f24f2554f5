//! Writes a [`Trace`] as pcapng, so a failing check can be opened in Wireshark with the
//! harness's own account of each step (socket calls, observations, verdicts) shown as packet
//! comments next to the packets they explain.
//!
//! Layout: one Section Header Block, one Interface Description Block (`LINKTYPE_RAW`, because
//! the harness sees bare IP packets on a tun device and has no link header to show), then one
//! Enhanced Packet Block per packet event. Non-packet events have no block of their own in
//! pcapng that Wireshark shows in the packet list, so they ride along as comments on the next
//! packet that is not a barrier probe; those after the last such packet go on it, marked
//! `after: `, and a trace with no packets at all keeps them as comments of the Section Header
//! Block.
//!
//! The harness's barrier probes (ICMP echo request and reply, two per step, so they outnumber
//! the TCP segments) are kept, not dropped: the file is what crossed the tun device, and a
//! capture that silently lost packets could not be trusted on anything else. Each carries
//! one comment naming it, nothing of the check rides on one, and the section header says how
//! many there are and gives the display filter that hides them ([`PROBE_FILTER`]). A report
//! may add remarks of its own to chosen frames ([`Mark`]): the failing one says what was
//! expected there.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness, PcapError};

use super::{is_barrier, EventKind, Mark, ScriptNote, Trace};

/// `if_tsresol` value for 10^-6 s: the trace's own resolution, so nothing is rounded twice.
const TSRESOL_MICROS: u8 = 6;

/// libpcap's largest snapshot length. A raw IP packet is at most 65535 + 40 bytes, so no
/// packet is ever cut; an explicit value rather than 0 ("no limit") keeps older readers happy.
const SNAPLEN: u32 = 262_144;

/// `epb_flags` direction bits (pcapng spec, section 4.3.1): seen from the stack under test,
/// what the harness injects is inbound and what the stack sends is outbound.
const EPB_FLAGS_INBOUND: u32 = 0b01;
const EPB_FLAGS_OUTBOUND: u32 = 0b10;

/// pcapng option lengths are 16 bits; pcap-file casts longer values with `as u16` and writes a
/// corrupt file, so comments are cut to fit first.
const MAX_OPTION_LEN: usize = u16::MAX as usize;

/// Writes `trace` as a pcapng file to `out`, flushing it before returning so that errors from a
/// buffered writer are not lost when it is dropped.
///
/// Timestamps are the events' `at`, so Wireshark's absolute times read as offsets from
/// 1970-01-01 00:00:00 UTC and its relative times (from the first packet) as usual.
pub fn write_pcapng(trace: &Trace, out: impl Write) -> io::Result<()> {
    write_pcapng_marked(trace, &[], out)
}

/// [`write_pcapng`] with each of `marks` as one more comment on its event's frame (or, for
/// an event that is not a packet, beside that event's own comment).
///
/// The harness's barrier probes (ICMP echo) stay in the file, each with a comment saying
/// what it is: the file is what crossed the tun device, and a reader who wants only the
/// conversation hides them with the display filter the section header gives. So that
/// hiding them hides nothing else, socket calls and notes ride on the next packet that is
/// not a probe, not on a probe.
pub fn write_pcapng_marked(trace: &Trace, marks: &[Mark], out: impl Write) -> io::Result<()> {
    let packets: Vec<usize> = (0..trace.events.len())
        .filter(|&i| packet_of(&trace.events[i].kind).is_some())
        .collect();
    let probes = packets
        .iter()
        .filter(|&&i| is_probe(&trace.events[i].kind))
        .count();
    // The frames that carry the comments of the events around them.
    let hosts: Vec<usize> = if probes < packets.len() {
        packets
            .iter()
            .copied()
            .filter(|&i| !is_probe(&trace.events[i].kind))
            .collect()
    } else {
        packets.clone()
    };
    let marks_of = |i: usize| {
        marks
            .iter()
            .filter(move |m| m.event == i)
            .map(|m| m.text.clone())
    };
    // Comments of the non-packet events from `i` on, with their marks.
    let side_from = |from: usize| -> Vec<String> {
        (from..trace.events.len())
            .filter(|&i| packet_of(&trace.events[i].kind).is_none())
            .flat_map(|i| {
                side_comment(&trace.events[i].kind)
                    .into_iter()
                    .chain(marks_of(i))
            })
            .collect()
    };

    let mut section_options = vec![SectionHeaderOption::UserApplication(Cow::Owned(format!(
        "tcpcheck {}",
        env!("CARGO_PKG_VERSION")
    )))];
    if probes > 0 {
        section_options.push(SectionHeaderOption::Comment(Cow::Owned(format!(
            "{probes} ICMP echo frames are tcpcheck's barrier probes (by which it knows the \
             stack has finished reacting), not part of the check; each says so in its \
             comment. Display filter to hide them: {PROBE_FILTER}"
        ))));
    }
    if packets.is_empty() {
        section_options.extend(side_from(0).into_iter().map(|c| {
            let mut c = Cow::Owned(c);
            truncate_option(&mut c);
            SectionHeaderOption::Comment(c)
        }));
    }
    let section = SectionHeaderBlock {
        endianness: Endianness::native(),
        options: section_options,
        ..Default::default()
    };
    let mut writer = PcapNgWriter::with_section_header(out, section).map_err(into_io)?;

    writer
        .write_pcapng_block(InterfaceDescriptionBlock {
            linktype: DataLink::RAW,
            snaplen: SNAPLEN,
            options: vec![InterfaceDescriptionOption::IfTsResol(TSRESOL_MICROS)],
        })
        .map_err(into_io)?;

    // Comments of non-packet events waiting for the next host frame.
    let mut pending: Vec<String> = Vec::new();
    for (i, event) in trace.events.iter().enumerate() {
        let Some((data, own_comment, flags)) = packet_of(&event.kind) else {
            pending.extend(side_comment(&event.kind));
            pending.extend(marks_of(i));
            continue;
        };

        let mut options = vec![EnhancedPacketOption::Comment(Cow::Owned(own_comment))];
        if let Some(flags) = flags {
            options.push(EnhancedPacketOption::Flags(flags));
        }
        options.extend(marks_of(i).map(|c| EnhancedPacketOption::Comment(Cow::Owned(c))));
        if hosts.binary_search(&i).is_ok() {
            options.extend(
                pending
                    .drain(..)
                    .map(|c| EnhancedPacketOption::Comment(Cow::Owned(c))),
            );
        }
        if hosts.last() == Some(&i) {
            options.extend(
                side_from(i + 1)
                    .into_iter()
                    .map(|c| EnhancedPacketOption::Comment(Cow::Owned(format!("after: {c}")))),
            );
        }
        for option in &mut options {
            if let EnhancedPacketOption::Comment(c) = option {
                truncate_option(c);
            }
        }

        let original_len = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet longer than 4 GiB"))?;
        writer
            .write_pcapng_block(EnhancedPacketBlock {
                interface_id: 0,
                timestamp: timestamp_in_tsresol_units(event.at)?,
                original_len,
                data: Cow::Borrowed(data),
                options,
            })
            .map_err(into_io)?;
    }

    writer.into_inner().flush()
}

/// Creates (or truncates) `path` and writes `trace` to it.
pub fn write_pcapng_file(trace: &Trace, path: &Path) -> io::Result<()> {
    write_pcapng(trace, BufWriter::new(File::create(path)?))
}

/// Wireshark's display filter that hides the barrier probes (echo identifier
/// [`crate::io::barrier::ECHO_ID`], "tc").
pub const PROBE_FILTER: &str = "!(icmp.ident == 0x7463 || icmpv6.echo.identifier == 0x7463)";

fn is_probe(kind: &EventKind) -> bool {
    matches!(kind, EventKind::Filtered { packet, .. } if is_barrier(packet))
}

/// The bytes, role comment and `epb_flags` of a packet event; `None` for the others.
fn packet_of(kind: &EventKind) -> Option<(&[u8], String, Option<u32>)> {
    let with_note = |role: &str, note: &Option<ScriptNote>| match note {
        Some(note) => format!("{role}; {note}"),
        None => role.to_owned(),
    };
    match kind {
        EventKind::Injected { packet, note } => Some((
            packet,
            with_note("in: injected by tcpcheck", note),
            Some(EPB_FLAGS_INBOUND),
        )),
        EventKind::Captured { packet, note } => Some((
            packet,
            with_note("out: sent by the stack under test", note),
            Some(EPB_FLAGS_OUTBOUND),
        )),
        // Either side may have sent it (the stack's neighbour discovery, the harness's barrier
        // probes), so no direction is claimed.
        EventKind::Filtered { packet, why } if is_barrier(packet) => Some((
            packet,
            format!("tcpcheck barrier probe, not part of the check ({why})"),
            None,
        )),
        EventKind::Filtered { packet, why } => Some((packet, format!("filtered: {why}"), None)),
        EventKind::Call(_)
        | EventKind::Sysctl { .. }
        | EventKind::Observation { .. }
        | EventKind::Note { .. }
        | EventKind::Script(_) => None,
    }
}

/// The comment that stands in for a non-packet event; `None` for packets.
fn side_comment(kind: &EventKind) -> Option<String> {
    match kind {
        EventKind::Call(call) => Some(format!("call: {call}")),
        EventKind::Sysctl { name, value } => Some(format!("note: sysctl {name}={value}")),
        EventKind::Observation { text } => Some(format!("observed: {text}")),
        EventKind::Note { text } => Some(format!("note: {text}")),
        EventKind::Script(note) => Some(format!("note: {note}")),
        EventKind::Injected { .. } | EventKind::Captured { .. } | EventKind::Filtered { .. } => {
            None
        }
    }
}

/// pcap-file 2.0 writes `timestamp.as_nanos()` into the block whatever the interface's
/// `if_tsresol` says (and reads it back the same way), so to store microseconds the count of
/// microseconds has to be passed disguised as nanoseconds.
fn timestamp_in_tsresol_units(at: Duration) -> io::Result<Duration> {
    let micros = u64::try_from(at.as_micros()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "timestamp beyond 2^64 microseconds",
        )
    })?;
    Ok(Duration::from_nanos(micros))
}

fn truncate_option(text: &mut Cow<'_, str>) {
    const ELLIPSIS: &str = "\u{2026}";
    if text.len() <= MAX_OPTION_LEN {
        return;
    }
    let mut end = MAX_OPTION_LEN - ELLIPSIS.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = text[..end].to_owned();
    cut.push_str(ELLIPSIS);
    *text = Cow::Owned(cut);
}

fn into_io(e: PcapError) -> io::Error {
    match e {
        PcapError::IoError(e) => e,
        other => io::Error::other(other),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::path::PathBuf;

    use pcap_file::pcapng::{Block, PcapNgReader};
    use tcpcheck_model::seq::SeqNumber;
    use tcpcheck_model::wire::{
        Checksum, IpRepr, Ipv4Repr, Ipv6Repr, SegmentRepr, TcpFlags, TcpOption, TcpRepr,
    };

    use super::*;
    use crate::stack::CallError;
    use crate::trace::{CallRecord, Noted, Returned, SocketCall, TraceEvent};
    use nix::errno::Errno;

    const V4_CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const V4_STACK: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const V6_CLIENT: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    const V6_STACK: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

    /// Separates the values of a field that occurs more than once (several comments on one
    /// packet); the default `,` occurs in socket-call text.
    use super::super::tshark::AGGREGATOR;

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

    /// Runs tshark on `path` and returns one line per packet, fields split.
    fn tshark(path: &Path, fields: &[&str]) -> Vec<Vec<String>> {
        super::super::tshark::fields(path, fields).unwrap_or_else(|e| panic!("{e}"))
    }

    /// tshark 4.0 prints `epb_flags` direction as `0x00000001`; other versions may not pad
    /// or may print decimal.
    fn direction_of(field: &str) -> Option<u32> {
        if field.is_empty() {
            return None;
        }
        let parsed = match field.strip_prefix("0x") {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => field.parse(),
        };
        Some(parsed.unwrap_or_else(|_| panic!("direction {field:?} is not a number")))
    }

    fn comments(joined: &str) -> Vec<&str> {
        joined.split(AGGREGATOR).collect()
    }

    #[test]
    #[ignore = "needs tshark: .ci/run installs it and runs the tshark tests with --ignored"]
    fn tshark_reads_packets_times_and_comments() {
        let file = TempFile::new("tshark");
        write_pcapng_file(&sample_trace(), &file.0).expect("writing the trace");

        let lines = tshark(
            &file.0,
            &[
                "frame.time_relative",
                "ip.src",
                "ipv6.src",
                "tcp.flags.str",
                "tcp.seq_raw",
                "frame.packet_flags_direction",
                "frame.comment",
            ],
        );
        assert_eq!(lines.len(), 4, "{lines:?}");
        for line in &lines {
            assert_eq!(line.len(), 7, "{line:?}");
        }

        let [time, ip, ip6, flags, seq, direction, comment] = &lines[0][..] else {
            unreachable!()
        };
        assert_eq!(time, "0.000000000");
        assert_eq!(ip, "192.0.2.1");
        assert_eq!(ip6, "");
        assert_eq!(flags, "··········S·");
        assert_eq!(seq, "1000000");
        assert_eq!(direction_of(direction), Some(1));
        assert_eq!(comments(comment), ["in: injected by tcpcheck; L1: step 1"]);

        let [time, ip, ip6, flags, seq, direction, comment] = &lines[1][..] else {
            unreachable!()
        };
        assert_eq!(time, "0.000122000");
        assert_eq!(ip, "192.0.2.2");
        assert_eq!(ip6, "");
        assert_eq!(flags, "·······A··S·");
        assert_eq!(seq, "3000000000");
        assert_eq!(direction_of(direction), Some(2));
        assert_eq!(
            comments(comment),
            [
                "out: sent by the stack under test",
                "call: accept(3, ..., ...) = -1 EAGAIN (Try again)",
            ]
        );

        let [time, ip, ip6, flags, seq, direction, comment] = &lines[2][..] else {
            unreachable!()
        };
        assert_eq!(time, "0.001499000");
        assert_eq!(ip, "");
        assert_eq!(ip6, "2001:db8::1");
        assert_eq!(flags, "·········R··");
        assert_eq!(seq, "7");
        assert_eq!(direction_of(direction), None);
        assert_eq!(
            comments(comment),
            [
                "filtered: barrier probe",
                "observed: fd 3: tcpi_state=SYN_RECV",
            ]
        );

        let [time, ip, ip6, flags, seq, direction, comment] = &lines[3][..] else {
            unreachable!()
        };
        assert_eq!(time, "0.749999000");
        assert_eq!(ip, "");
        assert_eq!(ip6, "2001:db8::2");
        assert_eq!(flags, "·······AP···");
        assert_eq!(seq, "4294967290");
        assert_eq!(direction_of(direction), Some(2));
        assert_eq!(
            comments(comment),
            [
                "out: sent by the stack under test; L2: data",
                "note: step 2",
                "after: note: verdict: pass",
            ]
        );
    }

    #[test]
    fn starts_with_section_header_magic() {
        let mut bytes = Vec::new();
        write_pcapng(&sample_trace(), &mut bytes).expect("writing to a Vec");
        assert_eq!(bytes[..4], 0x0A0D_0D0Au32.to_ne_bytes());
        // The byte-order magic says which order the rest of the file is in.
        assert_eq!(bytes[8..12], 0x1A2B_3C4Du32.to_ne_bytes());
    }

    #[test]
    fn packets_round_trip_with_microsecond_timestamps() {
        let trace = sample_trace();
        let mut bytes = Vec::new();
        write_pcapng(&trace, &mut bytes).expect("writing to a Vec");

        let mut reader = PcapNgReader::new(&bytes[..]).expect("a section header");
        let Some(Ok(Block::InterfaceDescription(idb))) = reader.next_block() else {
            panic!("no interface description block")
        };
        assert_eq!(idb.linktype, DataLink::RAW);
        assert_eq!(
            idb.options,
            [InterfaceDescriptionOption::IfTsResol(TSRESOL_MICROS)]
        );

        let expected: Vec<&TraceEvent> = trace
            .events
            .iter()
            .filter(|e| packet_of(&e.kind).is_some())
            .collect();
        let mut found = 0;
        while let Some(block) = reader.next_block() {
            let Block::EnhancedPacket(epb) = block.expect("a valid block") else {
                panic!("unexpected block")
            };
            let event = expected[found];
            let (data, _, _) = packet_of(&event.kind).unwrap();
            assert_eq!(&epb.data[..], data);
            assert_eq!(epb.original_len as usize, data.len());
            // Read back the way it was written: units of if_tsresol, in a Duration's nanos.
            assert_eq!(epb.timestamp.as_nanos(), event.at.as_micros());
            found += 1;
        }
        assert_eq!(found, expected.len());
    }

    #[test]
    #[ignore = "needs tshark: .ci/run installs it and runs the tshark tests with --ignored"]
    fn tshark_reads_an_empty_trace_as_a_capture_with_no_packets() {
        let file = TempFile::new("empty");
        write_pcapng_file(&Trace::default(), &file.0).expect("writing the trace");
        let bytes = std::fs::read(&file.0).expect("reading it back");
        assert_eq!(bytes[..4], 0x0A0D_0D0Au32.to_ne_bytes());
        assert_eq!(
            tshark(&file.0, &["frame.number"]),
            Vec::<Vec<String>>::new()
        );
    }

    #[test]
    fn events_without_packets_become_section_comments() {
        let mut trace = Trace::default();
        trace.push(
            at(1),
            EventKind::Call(CallRecord {
                call: SocketCall::Socket { v6: false },
                result: Ok(Returned::Fd(3)),
            }),
        );
        trace.push(
            at(2),
            EventKind::Observation {
                text: "fd 3: tcpi_state=CLOSE".into(),
            },
        );
        trace.push(
            at(3),
            EventKind::Note {
                text: "verdict: pass".into(),
            },
        );
        let mut bytes = Vec::new();
        write_pcapng(&trace, &mut bytes).expect("writing to a Vec");

        let reader = PcapNgReader::new(&bytes[..]).expect("a section header");
        let comments: Vec<&str> = reader
            .section()
            .options
            .iter()
            .filter_map(|o| match o {
                SectionHeaderOption::Comment(c) => Some(&c[..]),
                _ => None,
            })
            .collect();
        assert_eq!(
            comments,
            [
                "call: socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3",
                "observed: fd 3: tcpi_state=CLOSE",
                "note: verdict: pass",
            ]
        );
    }

    /// Every frame's comments, in order, read back with pcap-file.
    fn frame_comments(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
        let mut reader = PcapNgReader::new(bytes).expect("a section header");
        let section = reader
            .section()
            .options
            .iter()
            .filter_map(|o| match o {
                SectionHeaderOption::Comment(c) => Some(c.to_string()),
                _ => None,
            })
            .collect();
        let mut frames = Vec::new();
        while let Some(block) = reader.next_block() {
            if let Block::EnhancedPacket(epb) = block.expect("a valid block") {
                frames.push(
                    epb.options
                        .iter()
                        .filter_map(|o| match o {
                            EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                            _ => None,
                        })
                        .collect(),
                );
            }
        }
        (section, frames)
    }

    #[test]
    fn the_probe_filter_names_the_harness_echo_identifier() {
        let id = format!("{:#06x}", crate::io::barrier::ECHO_ID);
        assert_eq!(PROBE_FILTER.matches(&id).count(), 2, "{PROBE_FILTER}");
    }

    /// Barrier frames stay, labelled and carrying nothing else; calls and notes ride on the
    /// TCP frames around them; marks land on the frame (or beside the event) they name.
    #[test]
    fn barrier_frames_are_labelled_and_marks_land_on_their_frames() {
        use crate::io::barrier;
        let probe = |seq| EventKind::Filtered {
            packet: barrier::probe(V4_CLIENT, V4_STACK, seq),
            why: format!("barrier probe {seq}"),
        };
        let syn = |src, dst, seq| {
            v4(
                src,
                dst,
                tcp(40000, 8080, seq, 0, TcpFlags::SYN, vec![], b""),
            )
        };
        let mut trace = Trace::default();
        trace.push(
            at(1),
            EventKind::Call(CallRecord {
                call: SocketCall::Listen { fd: 3, backlog: 1 },
                result: Ok(Returned::Zero),
            }),
        );
        trace.push(at(2), probe(1));
        trace.push(
            at(3),
            EventKind::Injected {
                packet: syn(V4_CLIENT, V4_STACK, 1),
                note: None,
            },
        );
        trace.push(at(4), probe(2));
        trace.push(
            at(5),
            EventKind::Note {
                text: "L12: read(4, ..., 10) = 10".into(),
            },
        );
        trace.push(
            at(6),
            EventKind::Captured {
                packet: syn(V4_STACK, V4_CLIENT, 2),
                note: None,
            },
        );
        trace.push(at(7), probe(3));
        trace.push(
            at(8),
            EventKind::Note {
                text: "verdict: fail".into(),
            },
        );
        let marks = [
            Mark {
                event: 5,
                text: "FAILED at script line 13".into(),
            },
            Mark {
                event: 4,
                text: "the model diverges here".into(),
            },
        ];
        let mut bytes = Vec::new();
        write_pcapng_marked(&trace, &marks, &mut bytes).expect("writing to a Vec");
        let (section, frames) = frame_comments(&bytes);
        assert!(
            section
                .iter()
                .any(|c| c.starts_with("3 ICMP echo frames") && c.ends_with(PROBE_FILTER)),
            "{section:?}"
        );
        assert_eq!(frames.len(), 5, "every packet is kept: {frames:?}");
        for i in [0, 2, 4] {
            assert_eq!(frames[i].len(), 1, "{:?}", frames[i]);
            assert!(
                frames[i][0].starts_with("tcpcheck barrier probe, not part of the check"),
                "{:?}",
                frames[i]
            );
        }
        assert_eq!(
            frames[1],
            ["in: injected by tcpcheck", "call: listen(3, 1) = 0"]
        );
        assert_eq!(
            frames[3],
            [
                "out: sent by the stack under test",
                "FAILED at script line 13",
                "note: L12: read(4, ..., 10) = 10",
                "the model diverges here",
                "after: note: verdict: fail",
            ]
        );

        // Without marks the file is what write_pcapng writes.
        let mut plain = Vec::new();
        write_pcapng(&trace, &mut plain).unwrap();
        let mut unmarked = Vec::new();
        write_pcapng_marked(&trace, &[], &mut unmarked).unwrap();
        assert_eq!(plain, unmarked);
    }

    #[test]
    fn overlong_comments_are_cut_to_fit_an_option() {
        let mut text = Cow::Owned("é".repeat(40_000));
        truncate_option(&mut text);
        assert!(text.len() <= MAX_OPTION_LEN);
        assert!(text.ends_with('\u{2026}'));

        let mut trace = Trace::default();
        trace.push(
            at(1),
            EventKind::Note {
                text: "x".repeat(100_000),
            },
        );
        trace.push(
            at(2),
            EventKind::Injected {
                packet: v4(
                    V4_CLIENT,
                    V4_STACK,
                    tcp(1, 2, 3, 0, TcpFlags::SYN, vec![], b""),
                ),
                note: None,
            },
        );
        let mut bytes = Vec::new();
        write_pcapng(&trace, &mut bytes).expect("writing to a Vec");
        let mut reader = PcapNgReader::new(&bytes[..]).expect("a section header");
        let mut blocks = 0;
        while let Some(block) = reader.next_block() {
            block.expect("every block parses");
            blocks += 1;
        }
        assert_eq!(blocks, 2);
    }
}
