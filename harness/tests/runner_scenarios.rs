//! The scenario runner against the local kernel: scripts written inline, each run on IPv4
//! and IPv6 in its own sandbox, checking verdicts, the line a divergence points at, and the
//! CLI's JSON. Run as root (or see the README's rootless notes).

use std::process::Command;

use tcpcheck::differ::ModelVerdict;
use tcpcheck::runner::{run_text, IpVersion, RunOptions, ScenarioRun, Verdict};
use tcpcheck_model::profile::ProfileKind;
use tcpcheck_model::rule::Label;

const BOTH: [IpVersion; 2] = [IpVersion::V4, IpVersion::V6];

fn run(name: &str, text: &str, ip: IpVersion) -> ScenarioRun {
    run_text(name, text, ip, &RunOptions::default())
}

#[track_caller]
fn assert_pass(name: &str, text: &str) {
    for ip in BOTH {
        let r = run(name, text, ip);
        assert_eq!(
            r.verdict,
            Verdict::Pass,
            "{}\ntrace:\n{}",
            r.describe(),
            r.trace
        );
        assert!(!r.trace.events.is_empty(), "the trace is kept");
    }
}

#[track_caller]
fn assert_fails_at(name: &str, text: &str, line: u32, message: &str) {
    for ip in BOTH {
        let r = run(name, text, ip);
        match &r.verdict {
            Verdict::Fail(d) => {
                assert_eq!(d.line, line, "{}", r.describe());
                assert!(d.message.contains(message), "{}", r.describe());
            }
            other => panic!("expected a failure at line {line}, got {other:?}"),
        }
    }
}

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
+0  > . 1:1(0) ack 11
+0  read(4, ..., 100) = 10
+0  write(4, ..., 20) = 20
+0  > P. 1:21(20) ack 11
+.01 < . 11:11(0) ack 21 win 257
+0  close(4) = 0
+0  > F. 21:21(0) ack 11
+.01 < F. 11:11(0) ack 22 win 257
+0  > . 22:22(0) ack 12
";

#[test]
fn passive_open_data_and_close() {
    assert_pass("passive.pkt", PASSIVE_OPEN);
}

#[test]
fn active_open_with_blocking_connect() {
    // The connect blocks until the SYN-ACK injected 20 ms later completes it.
    assert_pass(
        "active.pkt",
        "\
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0...0.02 connect(3, ..., ...) = 0
+0   > S 0:0(0) <...>
+.02 < S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
+0   > . 1:1(0) ack 1
+0   write(3, ..., 100) = 100
+0   > P. 1:101(100) ack 1
+.01 < . 1:1(0) ack 101 win 512
",
    );
}

#[test]
fn blocking_accept_and_read() {
    assert_pass(
        "blocking.pkt",
        "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0...0.02 accept(3, ..., ...) = 4
+0  < S 0:0(0) win 32792 <mss 1000>
+0  > S. 0:0(0) ack 1 <...>
+.02 < . 1:1(0) ack 1 win 257
+0...0.03 read(4, ..., 100) = 5
+.03 < P. 1:6(5) ack 1 win 257
+0  > . 1:1(0) ack 6
",
    );
}

#[test]
fn rst_to_a_closed_port() {
    assert_pass(
        "closed.pkt",
        "\
0   < S 0:0(0) win 65535 <mss 1460>
+0  > R. 0:0(0) ack 1 win 0
+.01 < S 1000:1020(20) win 65535 <mss 1460>
+0  > R. 0:0(0) ack 1021 win 0
",
    );
}

#[test]
fn a_wrong_ack_fails_at_its_line() {
    let text = PASSIVE_OPEN.replace("+0  > . 1:1(0) ack 11", "+0  > . 1:1(0) ack 12");
    assert_fails_at("wrong-ack.pkt", &text, 10, "tcp_ack_seq");
}

#[test]
fn a_packet_at_the_wrong_time_fails() {
    // The SYN-ACK comes at once, not 0.5 s later.
    assert_fails_at(
        "late.pkt",
        "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 32792 <mss 1000>
+.5 > S. 0:0(0) ack 1 <...>
",
        5,
        "timing error",
    );
}

#[test]
fn sysctl_commands_apply_in_the_sandbox() {
    // Without timestamps the SYN-ACK carries exactly these options.
    let text = "\
`sysctl -q net.ipv4.tcp_timestamps=0`
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  `sysctl -w net.ipv4.tcp_sack=0; sysctl -q net.ipv4.tcp_window_scaling=0`
+0  < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 1 ecr 0,nop,wscale 7>
+0  > S. 0:0(0) ack 1 <mss MSS>
";
    // IPv6 runs take packetdrill's --mtu=1520 (`Wire::for_ipv6`): 1460 on both.
    for ip in BOTH {
        let r = run("sysctl.pkt", &text.replace("MSS", "1460"), ip);
        assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    }
}

#[test]
fn shell_commands_are_refused_with_their_position() {
    for ip in BOTH {
        let r = run(
            "shell.pkt",
            "0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0  `ip link show`\n",
            ip,
        );
        let Verdict::Error(e) = &r.verdict else {
            panic!("expected an error, got {:?}", r.verdict);
        };
        assert!(
            e.starts_with("shell.pkt:2:1: shell commands are refused"),
            "{e}"
        );
        assert!(e.contains("  2 | +0  `ip link show`\n    | ^^^^"), "{e}");
    }
}

#[test]
fn shell_commands_run_in_the_namespace_when_allowed() {
    let opts = RunOptions {
        allow_shell: true,
        ..RunOptions::default()
    };
    // `tun0` exists only inside the sandbox; /proc/net follows the process's namespace.
    let r = run_text(
        "shell.pkt",
        "0   `grep -q tun0 /proc/net/dev`\n",
        IpVersion::V4,
        &opts,
    );
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.describe());
}

#[test]
fn shell_commands_run_as_under_packetdrill() {
    // packetdrill's corpus sources `../common/defaults.sh` and keeps state in
    // `/tmp/..._${PACKETDRILL_PID}` from one command to a later one, via `${PPID}`.
    let opts = RunOptions {
        allow_shell: true,
        ..RunOptions::default()
    };
    let dir = std::env::temp_dir().join(format!("tcpcheck-shellenv-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("common.sh"),
        "echo sourced > /tmp/mark_$PACKETDRILL_PID\n",
    )
    .unwrap();
    let script = dir.join("sub").join("env.pkt");
    // The script's directory is the working directory: `../common.sh` is found from `sub/`.
    let text = "0   `sh ../common.sh`\n+0  `grep -q sourced /tmp/mark_${PPID}`\n";
    std::fs::write(&script, text).unwrap();
    let r = run_text(script.to_str().unwrap(), text, IpVersion::V4, &opts);
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.describe());
    // The mark went to the scenario's own /tmp, and went with it.
    let mark = format!("mark_{}", std::process::id());
    assert!(
        !std::env::temp_dir().join(&mark).exists(),
        "the host's /tmp was written"
    );
    let prefix = format!("tcpcheck-{}-", std::process::id());
    for entry in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with("-tmp") {
            assert!(
                !entry.path().join(&mark).exists(),
                "{name} outlived its scenario"
            );
        }
    }
    // Run from elsewhere, the relative source is not found: the directory really matters.
    let r = run_text("env.pkt", text, IpVersion::V4, &opts);
    assert!(
        matches!(r.verdict, Verdict::Error(_) | Verdict::Fail(_)),
        "{}",
        r.describe()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn script_fds_map_to_stack_fds() {
    // Script numbers need not match the kernel's: packetdrill maps them (CHECK_FD).
    assert_pass(
        "fds.pkt",
        "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 7
+0  socket(..., SOCK_STREAM, IPPROTO_TCP) = 4
+0  close(7) = 0
+0  bind(4, ..., ...) = 0
+0  listen(4, 1) = 0
+0  fcntl(4, F_GETFL) = 0x2
+0  fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0  fcntl(4, F_GETFL) = 0x802
+0  accept(4, ..., ...) = -1 EAGAIN (Resource temporarily unavailable)
+0  close(4) = 0
",
    );
}

#[test]
fn cli_json_shape() {
    let dir = std::env::temp_dir().join(format!("tcpcheck-runner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a-pass.pkt"), PASSIVE_OPEN).unwrap();
    std::fs::write(
        dir.join("b-fail.pkt"),
        PASSIVE_OPEN.replace("+0  > . 1:1(0) ack 11", "+0  > . 1:1(0) ack 12"),
    )
    .unwrap();
    let report = dir.join("report");
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcheck"))
        .args([
            "run", "--format", "json", "--ip", "both", "--jobs", "4", "--report",
        ])
        .arg(&report)
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["summary"],
        serde_json::json!({
            "passed": 2,
            "failed": 2,
            "errors": 0,
            "interrupted": 0,
            "not_applicable": 0,
            "passed_with_model_divergence": 0
        })
    );
    let scenarios = v["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 4);
    for s in scenarios {
        let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        let mut keys = keys;
        keys.sort();
        assert_eq!(
            keys,
            [
                "duration_ms",
                "first_divergence",
                "ip",
                "model",
                "path",
                "script_ms",
                "verdict"
            ]
        );
        // The kernel did what the model allows in both scripts: only the script is wrong
        // in the failing one.
        assert_eq!(s["model"], "agree", "{s}");
        assert!(s["duration_ms"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(scenarios[0]["verdict"], "pass");
    assert_eq!(scenarios[0]["ip"], 4);
    assert_eq!(scenarios[1]["ip"], 6);
    assert!(scenarios[0]["first_divergence"].is_null());
    let d = &scenarios[2]["first_divergence"];
    assert_eq!(scenarios[2]["verdict"], "fail");
    assert_eq!(d["line"], 10);
    assert_eq!(d["model"], "agree");
    assert!(d["expected"].as_str().unwrap().contains("ack 12"), "{d}");
    assert!(d["actual"].as_str().unwrap().contains("ack 11"), "{d}");
    for name in ["report.json", "report.md", "junit.xml"] {
        assert!(report.join(name).exists(), "{name}");
    }
    let pcaps = std::fs::read_dir(&report)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "pcapng")
        })
        .count();
    assert_eq!(pcaps, 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Linux retransmits a SYN 8 ms after an unacceptable SYN-ACK; RFC 6298 allows no
/// retransmission before the RTO. The script pins Linux's behaviour, so it passes; the
/// model says which rule that departs from, and `--strict-model` makes that a failure.
const EARLY_SYN: &str = "\
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <...>
+.01 < S. 0:0(0) ack 1001 win 65535 <mss 1460>
+0 > R 1001:1001(0)
+0~+.012 > S 0:0(0) <...>
+.01 < S. 0:0(0) ack 1 win 65535 <mss 1460>
+0 > . 1:1(0) ack 1
";

fn early_syn(ip: IpVersion, model: Option<ProfileKind>, strict_model: bool) -> ScenarioRun {
    let opts = RunOptions {
        model,
        strict_model,
        ..RunOptions::default()
    };
    run_text("early-syn.pkt", EARLY_SYN, ip, &opts)
}

#[test]
fn the_model_is_checked_beside_the_script() {
    for ip in BOTH {
        let linux = early_syn(ip, Some(ProfileKind::Linux), false);
        assert_eq!(linux.verdict, Verdict::Pass, "{}", linux.describe());
        assert_eq!(linux.model, ModelVerdict::Agree, "{}", linux.describe());

        let rfc = early_syn(ip, Some(ProfileKind::Rfc9293), false);
        assert_eq!(rfc.verdict, Verdict::Pass, "{}", rfc.describe());
        let ModelVerdict::Diverge(d) = &rfc.model else {
            panic!("expected a model divergence: {}", rfc.describe());
        };
        assert_eq!(d.line, 7, "{d}");
        assert!(d.rule.labels.contains(&Label::Must(18)), "{d}");

        let strict = early_syn(ip, Some(ProfileKind::Rfc9293), true);
        match &strict.verdict {
            Verdict::Fail(f) => {
                assert_eq!(f.line, 7);
                assert!(
                    f.message.contains("--strict-model"),
                    "{}",
                    strict.describe()
                );
            }
            other => panic!("--strict-model should fail the run: {other:?}"),
        }

        let off = early_syn(ip, None, true);
        assert_eq!(off.verdict, Verdict::Pass);
        assert!(matches!(off.model, ModelVerdict::Off(_)));
    }
}

#[test]
fn ipv4_mapped_ipv6_sockets_speak_ipv4_on_the_wire() {
    let r = run("passive.pkt", PASSIVE_OPEN, IpVersion::V4Mapped);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    assert_eq!(r.model, ModelVerdict::Agree, "{}", r.describe());
    let trace = r.trace.to_string();
    assert!(
        trace.contains("bind(3, [::ffff:192.0.2.1]:8080, ...) = 0"),
        "{trace}"
    );
    assert!(
        trace.contains("192.0.2.2.40000 > 192.0.2.1.8080"),
        "{trace}"
    );
    assert!(!trace.contains("2001:db8"), "{trace}");
}

/// A segment retransmitted at the RTO floor: the report's schedule shows the kernel's
/// intervals beside the model's, within the kernel-tick tolerance, and the JSON carries it.
#[test]
fn retransmission_schedule_in_the_reports() {
    let text = "\
`sysctl -q net.ipv4.tcp_early_retrans=0`
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0  > S. 0:0(0) ack 1 <...>
+0  < . 1:1(0) ack 1 win 257
+0  accept(3, ..., ...) = 4
+0  write(4, ..., 100) = 100
+0  > P. 1:101(100) ack 1
+.2 > P. 1:101(100) ack 1
+.4 > P. 1:101(100) ack 1
+.01 < . 1:1(0) ack 101 win 257
";
    for ip in BOTH {
        let r = run("rto-floor.pkt", text, ip);
        assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
        let series = tcpcheck::runner::report::schedules(&r);
        assert_eq!(series.len(), 1, "{series:?}");
        let s = &series[0];
        assert_eq!(s.segment, "data 1:101");
        assert_eq!(s.sends.len(), 3);
        assert_eq!(
            s.compare(),
            tcpcheck::runner::schedule::Comparison::Within,
            "{}",
            s.render()
        );
        let json = tcpcheck::runner::report::json(std::slice::from_ref(&r));
        let schedules = &json["scenarios"][0]["schedules"];
        assert_eq!(schedules[0]["kind"], "data", "{json}");
        assert_eq!(schedules[0]["intervals_s"].as_array().unwrap().len(), 2);
        assert_eq!(schedules[0]["comparison"], "within");
        assert!(tcpcheck::runner::report::text(std::slice::from_ref(&r)).contains("  model "));
    }
}

/// The listener's queues as inet_diag reports them ride along in the trace: the request in
/// the SYN queue after the SYN, the child in the accept queue after the ACK, none after
/// accept().
#[test]
fn listener_queues_are_observed() {
    for ip in BOTH {
        let r = run("passive-open.pkt", PASSIVE_OPEN, ip);
        assert_eq!(r.verdict, Verdict::Pass, "{}", r.describe());
        let seen: Vec<String> = r
            .trace
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                tcpcheck::trace::EventKind::Observation { text }
                    if text.starts_with("listener") =>
                {
                    Some(text.split_once(": ").unwrap().1.to_string())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            seen,
            [
                "accept queue 0 (backlog 1), SYN queue 0",
                "accept queue 0 (backlog 1), SYN queue 1",
                "accept queue 1 (backlog 1), SYN queue 0",
                "accept queue 0 (backlog 1), SYN queue 0",
            ],
            "{}",
            r.trace
        );
    }
}

/// A non-blocking write() in SYN-SENT: Linux waits for the connection
/// (tcp_sendmsg_locked(): sk_stream_wait_connect()) and so answers EAGAIN, where RFC 9293
/// 3.10.2 queues the data. The runner tells the model what each non-blocking write
/// returned, as the explorer's driver does, so the rfc9293 model judges the answer.
const SYN_SENT_WRITE: &str = "\
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0   connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0   > S 0:0(0) <...>
+0   write(3, ..., 100) = -1 EAGAIN (Resource temporarily unavailable)
+.01 < S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
+0   > . 1:1(0) ack 1
+0   write(3, ..., 100) = 100
+0   > P. 1:101(100) ack 1
+.01 < . 1:1(0) ack 101 win 512
";

#[test]
fn a_non_blocking_write_is_judged_by_the_model() {
    let opts = RunOptions {
        model: Some(ProfileKind::Rfc9293),
        ..RunOptions::default()
    };
    for ip in BOTH {
        let r = run_text("syn-sent-write.pkt", SYN_SENT_WRITE, ip, &opts);
        assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
        let ModelVerdict::Diverge(d) = &r.model else {
            panic!("the model did not judge the write: {}", r.describe());
        };
        assert_eq!(d.line, 5, "{d}");
        assert_eq!(d.rule, &tcpcheck::differ::rules::SEND, "{d}");
        assert!(d.actual.contains("EAGAIN"), "{d}");
    }
}

/// Non-blocking writes into a zero window (a full count, a short one, EAGAIN), then reads
/// before and after the peer's RST (EAGAIN, ECONNRESET, end of stream) and a write after
/// it (EPIPE): the model is told each answer, errno included, and allows them all.
const ZERO_WINDOW_THEN_RST: &str = "\
`sysctl -q net.ipv4.tcp_congestion_control=reno net.ipv4.tcp_min_tso_segs=1`

0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0   setsockopt(3, SOL_SOCKET, SO_SNDBUF, [2048], 4) = 0
+0   bind(3, ..., ...) = 0
+0   listen(3, 1) = 0
+0   < S 0:0(0) win 4000 <mss 1000,nop,nop,sackOK>
+0   > S. 0:0(0) ack 1 <...>
+.01 < . 1:1(0) ack 1 win 1000
+0   accept(3, ..., ...) = 4
+0   fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0   < . 1:1(0) ack 1 win 0
+0   write(4, ..., 1000) = 1000
+0   write(4, ..., 6000) = 1000
+0   write(4, ..., 1000) = -1 EAGAIN (Resource temporarily unavailable)
+0   read(4, ..., 100) = -1 EAGAIN (Resource temporarily unavailable)
+.01 < R. 1:1(0) ack 1 win 0
+0   read(4, ..., 100) = -1 ECONNRESET (Connection reset by peer)
+0   read(4, ..., 100) = 0
+0   write(4, ..., 100) = -1 EPIPE (Broken pipe)
";

#[test]
fn non_blocking_answers_and_read_errors_agree_with_the_model() {
    for ip in BOTH {
        let r = run("zero-window-then-rst.pkt", ZERO_WINDOW_THEN_RST, ip);
        assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
        assert_eq!(r.model, ModelVerdict::Agree, "{}", r.describe());
    }
}
