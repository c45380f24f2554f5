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
        | EventKind::Judged(_)
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
        EventKind::Judged(kind) => Some(format!("note: {}", crate::trace::judged(*kind))),
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
mod tests;
