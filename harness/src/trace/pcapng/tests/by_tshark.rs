//! The file as Wireshark's dissectors read it. These need tshark: they are `#[ignore]`d and
//! `.ci/run` runs them with `--ignored tshark`.

use super::*;

/// Runs tshark on `path` and returns one line per packet, fields split.
fn tshark(path: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    crate::trace::tshark::fields(path, fields).unwrap_or_else(|e| panic!("{e}"))
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
