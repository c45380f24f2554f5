//! packetdrill's TUN offloads and script options against the local kernel: super-segments
//! (TSO) read as packetdrill reads them, judged by the model as the wire's train, the
//! script options `--strict_segments`, `--mss`, `--mtu`, `--tcp_ts_tick_usecs`, and the
//! ones refused at their position. Run as root (or see the README's rootless notes).

use tcpcheck::differ::ModelVerdict;
use tcpcheck::runner::{run_text, IpVersion, RunOptions, ScenarioRun, Verdict};
use tcpcheck::trace::EventKind;
use tcpcheck_model::wire::SegmentRepr;

fn run(text: &str, ip: IpVersion) -> ScenarioRun {
    run_text("offload.pkt", text, ip, &RunOptions::default())
}

#[track_caller]
fn assert_pass(r: &ScenarioRun) {
    assert_eq!(
        r.verdict,
        Verdict::Pass,
        "{}\ntrace:\n{}",
        r.describe(),
        r.trace
    );
    assert_eq!(r.model, ModelVerdict::Agree, "{}", r.describe());
}

/// A connection whose SYN and ACK come 10 ms apart: the kernel's pacing rate, from that
/// RTT, makes its TSO size two segments of 1460 bytes (`tcp_tso_autosize`, and
/// `tcp_min_tso_segs` is 2), whatever the machine's load adds to the RTT.
const OPEN: &str = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <...>
+.01  < . 1:1(0) ack 1 win 1000
+0    accept(3, ..., ...) = 4
";

/// The largest TCP payload among the packets the stack sent.
fn largest_sent(r: &ScenarioRun) -> usize {
    r.trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Captured { packet, .. } => SegmentRepr::parse(packet).ok(),
            _ => None,
        })
        .map(|s| s.tcp.payload.len())
        .max()
        .unwrap_or(0)
}

#[test]
fn a_super_segment_matches_one_line_and_the_model_agrees() {
    // Strict: one line, one packet as the device got it. Without offloads the kernel
    // sends two 1460-byte segments and the line fails on its payload length.
    let text = format!(
        "--strict_segments\n{OPEN}\
         +0    write(4, ..., 2920) = 2920\n\
         +0    > P. 1:2921(2920) ack 1\n\
         +.01  < . 1:1(0) ack 2921 win 1000\n"
    );
    let r = run(&text, IpVersion::V4);
    assert_pass(&r);
    // The trace keeps what was on the TUN, its checksum finished (strict parse).
    assert_eq!(largest_sent(&r), 2920, "{}", r.trace);
}

#[test]
fn a_super_segment_matches_lines_written_for_the_wire() {
    // The same segment, written as the wire carries it: the train's segments one by one.
    // IPv6 runs take packetdrill's --mtu=1520, so the MSS is 1460 on both.
    for ip in [IpVersion::V4, IpVersion::V6] {
        let mss = 1460;
        let text = format!(
            "{OPEN}\
             +0    write(4, ..., {two}) = {two}\n\
             +0    > . 1:{b}({mss}) ack 1\n\
             +0    > P. {b}:{e}({mss}) ack 1\n\
             +.01  < . 1:1(0) ack {e} win 1000\n",
            two = 2 * mss,
            b = 1 + mss,
            e = 1 + 2 * mss,
        );
        let r = run(&text, ip);
        assert_pass(&r);
        assert_eq!(largest_sent(&r), 2 * mss, "{ip:?}: {}", r.trace);
    }
}

#[test]
fn segments_are_joined_to_a_line_unless_strict() {
    // 5840 bytes leave as two super-segments of 2920: packetdrill joins them to the line.
    let body = "\
+0    write(4, ..., 5840) = 5840
+0    > P. 1:5841(5840) ack 1
+.01  < . 1:1(0) ack 5841 win 1000
";
    let r = run(&format!("{OPEN}{body}"), IpVersion::V4);
    assert_pass(&r);
    let r = run(&format!("--strict_segments\n{OPEN}{body}"), IpVersion::V4);
    match &r.verdict {
        Verdict::Fail(d) => {
            assert_eq!(d.line, 11, "{}", r.describe());
            assert!(d.message.contains("payload length"), "{}", r.describe());
        }
        other => panic!("strict: expected a failure, got {other:?}"),
    }
}

#[test]
fn mss_option_injects_segments_as_receive_offload() {
    // packetdrill's gro-mss-option: 10000 bytes in one packet of 1000-byte segments. The
    // kernel counts 1000 as the largest segment received; without --mss, 10000.
    let text = "\
--mss=1000
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1100,sackOK,nop,nop,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 10>
+0    < . 1:1(0) ack 1 win 320
+0    accept(3, ..., ...) = 4
+0    < . 1:10001(10000) ack 1 win 320
+0    > . 1:1(0) ack 10001
+0    %{ assert tcpi_rcv_mss == 1000 }%
";
    let r = run(text, IpVersion::V4);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
}

#[test]
fn mtu_option_sets_the_devices_mtu() {
    // packetdrill's IPv6 runs pass --mtu=1520 so that the SYN-ACK offers 1460, as IPv4's.
    let text = "\
--mtu=1520
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 10>
";
    let r = run(text, IpVersion::V6);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    let r = run(&text.replacen("--mtu=1520", "--mtu=1500", 1), IpVersion::V6);
    assert!(matches!(r.verdict, Verdict::Fail(_)), "{}", r.describe());
}

#[test]
fn ts_tick_option_checks_outbound_ts_vals() {
    // The second TS val is written 1000 ticks after the first; the kernel's is about 10
    // ms (10 ticks of 1 ms) after. Checked only with --tcp_ts_tick_usecs.
    let text = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 5000 ecr 100,nop,wscale 10>
+.01  < . 1:1(0) ack 1 win 1000 <nop,nop,TS val 110 ecr 5000>
+0    accept(3, ..., ...) = 4
+0    write(4, ..., 10) = 10
+0    > P. 1:11(10) ack 1 <nop,nop,TS val 6000 ecr 110>
";
    let r = run(text, IpVersion::V4);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.describe());
    let r = run(&format!("--tcp_ts_tick_usecs=1000\n{text}"), IpVersion::V4);
    match &r.verdict {
        Verdict::Fail(d) => {
            assert_eq!(d.line, 11, "{}", r.describe());
            assert!(d.message.contains("timestamp value"), "{}", r.describe());
        }
        other => panic!("expected a TS val failure, got {other:?}"),
    }
    // 10 ticks as the script has it: within the tolerance. A loaded machine may send the
    // segment milliseconds after the script's time, and the kernel's clock counts them (the
    // check, like packetdrill's, measures from the script's time), so the tolerance here is
    // 50 ms: still 20 times below the 1000-tick error above.
    let close = text.replace("TS val 6000", "TS val 5010");
    let r = run(
        &format!("--tcp_ts_tick_usecs=1000\n--tolerance_usecs=50000\n{close}"),
        IpVersion::V4,
    );
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.describe());
}

#[test]
fn unsupported_options_are_refused_at_their_position() {
    for (option, says) in [
        ("--local_ip=192.168.0.256", "bad address `192.168.0.256`"),
        ("--remote_ip=224.0.0.1", "multicast"),
        ("--mtu=20", "bad --mtu"),
        ("--mss=0", "bad --mss"),
        ("--strict_segments=1", "takes no value"),
        ("--tcp_ts_tick_usecs=2000000", "bad --tcp_ts_tick_usecs"),
    ] {
        let r = run(&format!("\n{option}\n{OPEN}"), IpVersion::V4);
        match &r.verdict {
            Verdict::Error(e) => {
                assert!(e.contains("offload.pkt:2:1"), "{option}: {e}");
                assert!(e.contains(says), "{option}: {e}");
            }
            other => panic!("{option}: expected an error, got {other:?}"),
        }
    }
}
