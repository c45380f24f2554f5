//! The file as pcap-file reads it back: blocks, timestamps and comments.

use super::*;

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
