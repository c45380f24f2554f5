//! Reports a stack author reads, from real runs: report.md's trace (numbers relative to each
//! side's ISN, barrier probes left out, the failing moment marked), the pcapng (barrier
//! frames labelled, the failing frame commented), and the "model agrees with the stack"
//! verdict in text, Markdown and JSON. Run as root.
//!
//! The pcapng is read back with pcap-parser, not with the writer's crate, so a mistake
//! shared by writer and reader cannot hide.

use std::path::PathBuf;

use pcap_parser::pcapng::Block;
use pcap_parser::{OptionCode, PcapBlockOwned, PcapNGOption, PcapNGSlice};
use tcpcheck::differ::ModelVerdict;
use tcpcheck::runner::report::{self, MODEL_AGREES};
use tcpcheck::runner::{run_text, IpVersion, RunOptions, ScenarioRun, Verdict};
use tcpcheck::trace::EventKind;
use tcpcheck_model::profile::ProfileKind;
use tcpcheck_model::wire::{SegmentRepr, TcpFlags};

const PASSIVE_OPEN: &str = "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0  > S. 0:0(0) ack 1 <...>
+.01 < . 1:1(0) ack 1 win 257
+0  accept(3, ..., ...) = 4
+0  < P. 1:11(10) ack 1 win 257
+0  > . 1:1(0) ack 12
";

/// Linux ignores a second FIN (known deviation fin-after-fin-ignored); this script wants
/// RFC 9293's ACK of it, which never comes.
const SECOND_FIN_ACKED: &str = "\
0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <...>
+.01  < . 1:1(0) ack 1 win 512
+0    accept(3, ..., ...) = 4
+0    < F. 1:1(0) ack 1 win 512
+0~+.2 > . 1:1(0) ack 2
+.01  < F. 2:2(0) ack 1 win 512
+0    > . 1:1(0) ack 3
";

fn run(text: &str, model: Option<ProfileKind>) -> ScenarioRun {
    let opts = RunOptions {
        model,
        ..RunOptions::default()
    };
    run_text("wrong.pkt", text, IpVersion::V4, &opts)
}

/// A directory removed when the test ends, even by a panic.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p =
            std::env::temp_dir().join(format!("tcpcheck-reports-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One frame of a pcapng file: its bytes and its comments.
#[derive(Debug)]
struct Frame {
    data: Vec<u8>,
    comments: Vec<String>,
}

fn comments(options: &[PcapNGOption<'_>]) -> Vec<String> {
    options
        .iter()
        .filter(|o| o.code == OptionCode::Comment)
        .map(|o| o.as_str().expect("a UTF-8 comment").to_owned())
        .collect()
}

/// Section comments and frames of a pcapng file, read with pcap-parser: a reader
/// independent of the writer's crate (pcap-file), so a mistake shared by both cannot hide.
fn read_pcapng(bytes: &[u8]) -> (Vec<String>, Vec<Frame>) {
    let mut section = Vec::new();
    let mut frames = Vec::new();
    for block in PcapNGSlice::from_slice(bytes).expect("a section header block") {
        match block.expect("a valid block") {
            PcapBlockOwned::NG(Block::SectionHeader(shb)) => section = comments(&shb.options),
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => frames.push(Frame {
                // `data` keeps the block's padding; the captured length ends the packet.
                data: epb.data[..epb.caplen as usize].to_vec(),
                comments: comments(&epb.options),
            }),
            _ => {}
        }
    }
    (section, frames)
}

fn is_icmp(data: &[u8]) -> bool {
    data[0] >> 4 == 4 && data[9] == 1
}

/// The kernel's ISN: the sequence number of the first SYN it sent.
fn kernel_isn(r: &ScenarioRun) -> u32 {
    r.trace
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Captured { packet, .. } => SegmentRepr::parse(packet)
                .ok()
                .filter(|s| s.tcp.flags.syn())
                .map(|s| s.tcp.seq.0),
            _ => None,
        })
        .expect("the kernel's SYN-ACK is in the trace")
}

#[test]
fn a_wrong_ack_is_reported_relative_without_barriers_and_marked() {
    let r = run(PASSIVE_OPEN, Some(ProfileKind::Linux));
    let Verdict::Fail(d) = &r.verdict else {
        panic!("the script should fail: {}", r.describe())
    };
    assert_eq!(d.line, 10, "{}", r.describe());
    assert_eq!(r.model, ModelVerdict::Agree, "{}", r.describe());
    let isn = kernel_isn(&r);

    // Text: the model's word under the verdict.
    assert!(r.describe().contains(MODEL_AGREES), "{}", r.describe());

    let dir = TempDir::new("wrong-ack");
    report::write_dir(&dir.0, std::slice::from_ref(&r)).expect("writing the reports");

    // JSON: a field.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.0.join("report.json")).unwrap()).unwrap();
    let div = &json["scenarios"][0]["first_divergence"];
    assert_eq!(div["model_agrees_with_stack"], true, "{div}");

    // report.md: the trace as the script reads.
    let md = std::fs::read_to_string(dir.0.join("report.md")).unwrap();
    assert!(md.contains(MODEL_AGREES), "{md}");
    let trace = md.split("Trace (").nth(1).expect("a trace section");
    assert!(
        trace.contains(&format!("192.0.2.1.8080 ISN {isn}")),
        "the header names the kernel's ISN:\n{trace}"
    );
    let lines: Vec<&str> = trace.lines().filter(|l| l.contains("ms  ")).collect();
    assert!(
        lines.iter().all(|l| !l.contains(&isn.to_string())
            && !l.contains(&isn.wrapping_add(1).to_string())),
        "absolute numbers in the trace:\n{trace}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Flags [S.], seq 0, ack 1,")),
        "{trace}"
    );
    let barrier_count: usize = r
        .trace
        .events
        .iter()
        .filter(
            |e| matches!(&e.kind, EventKind::Filtered { why, .. } if why.starts_with("barrier")),
        )
        .count();
    assert!(barrier_count > 0);
    assert!(
        trace.contains(&format!("Left out: {barrier_count} barrier packets")),
        "{trace}"
    );
    assert!(!trace.contains("barrier probe"), "{trace}");
    let failing = trace
        .lines()
        .position(|l| l.contains("^^^  FAILED at script line 10"))
        .expect("the failure is marked");
    let above = trace.lines().nth(failing - 1).unwrap();
    assert!(
        above.contains("out  192.0.2.1.8080 > 192.0.2.2.40000: Flags [.], seq 1, ack 11,"),
        "the mark is under the failing segment:\n{trace}"
    );

    // pcapng: barrier frames labelled and carrying nothing else, the failing frame commented.
    let name = report::pcap_name(&r);
    let (section, frames) = read_pcapng(&std::fs::read(dir.0.join(name)).unwrap());
    let probes: Vec<&Frame> = frames.iter().filter(|f| is_icmp(&f.data)).collect();
    assert_eq!(probes.len(), barrier_count);
    assert!(
        section.iter().any(
            |c| c.starts_with(&format!("{barrier_count} ICMP echo frames"))
                && c.contains("icmp.ident == 0x7463")
        ),
        "{section:?}"
    );
    for p in &probes {
        assert_eq!(p.comments.len(), 1, "{:?}", p.comments);
        assert!(p.comments[0].starts_with("tcpcheck barrier probe"), "{p:?}");
    }
    let tcp: Vec<&Frame> = frames.iter().filter(|f| !is_icmp(&f.data)).collect();
    assert!(
        tcp.iter()
            .any(|f| f.comments.iter().any(|c| c.starts_with("call: listen("))),
        "calls ride on TCP frames"
    );
    let marked: Vec<&&Frame> = tcp
        .iter()
        .filter(|f| {
            f.comments
                .iter()
                .any(|c| c.starts_with("FAILED at script line 10"))
        })
        .collect();
    assert_eq!(marked.len(), 1, "{tcp:?}");
    let seg = SegmentRepr::parse(&marked[0].data).unwrap();
    assert_eq!(seg.tcp.flags, TcpFlags::ACK);
    assert_eq!(seg.tcp.ack.0, 11, "the frame that failed");
    let comment = marked[0]
        .comments
        .iter()
        .find(|c| c.starts_with("FAILED"))
        .unwrap();
    assert!(
        comment.contains("expected `+0 > . 1:1(0) ack 12`"),
        "{comment}"
    );
    assert!(comment.contains("bad outbound tcp_ack_seq"), "{comment}");
    assert!(comment.contains(MODEL_AGREES), "{comment}");
}

/// A segment the script waits for in vain: the model is brought up to the failure before
/// its word is taken, so it agrees only where it too owed nothing.
#[test]
fn a_missing_segment_is_blamed_on_the_script_only_when_the_model_owed_nothing() {
    let linux = run(SECOND_FIN_ACKED, Some(ProfileKind::Linux));
    let Verdict::Fail(d) = &linux.verdict else {
        panic!("the script should fail: {}", linux.describe())
    };
    assert_eq!(
        (d.line, d.message.as_str()),
        (12, "timed out waiting for packet")
    );
    assert_eq!(linux.model, ModelVerdict::Agree, "{}", linux.describe());
    assert!(
        linux.describe().contains(MODEL_AGREES),
        "{}",
        linux.describe()
    );
    assert!(report::model_agrees_with_stack(&linux));

    let rfc = run(SECOND_FIN_ACKED, Some(ProfileKind::Rfc9293));
    assert!(
        matches!(rfc.verdict, Verdict::Fail(_)),
        "{}",
        rfc.describe()
    );
    assert!(
        matches!(&rfc.model, ModelVerdict::Diverge(m) if m.actual.starts_with("nothing")),
        "RFC 9293 owes the ACK the script waited for: {}",
        rfc.describe()
    );
    assert!(!rfc.describe().contains(MODEL_AGREES), "{}", rfc.describe());
    let json = report::json(std::slice::from_ref(&rfc));
    assert_eq!(
        json["scenarios"][0]["first_divergence"]["model_agrees_with_stack"],
        false
    );
    let md = report::markdown(std::slice::from_ref(&rfc));
    assert!(md.contains("^^^  FAILED at script line 12"), "{md}");
    assert!(md.contains("^^^  the model diverges here"), "{md}");
}
