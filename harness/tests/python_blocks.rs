//! `%{ ... }%` blocks beyond `assert tcpi_X OP VALUE` run with python3, as packetdrill runs
//! them: each block sees the `tcpi_*` values of its own moment, later blocks see what
//! earlier ones defined, and an exception fails the script at its block's line. Without
//! `--allow-shell` such a block is refused at its position. Run as root.

use tcpcheck::runner::{run_text, IpVersion, RunOptions, Verdict};

const SCRIPT: &str = "\
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 32792 <mss 1000,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,wscale 10>
+.01  < . 1:1(0) ack 1 win 257
+0    accept(3, ..., ...) = 4
+0    %{
first_cwnd = tcpi_snd_cwnd
assert tcpi_state == TCP_ESTABLISHED, tcpi_state
}%
+0    write(4, ..., 1000) = 1000
+0    > P. 1:1001(1000) ack 1
+.01  < . 1:1(0) ack 1001 win 257
+0    %{ assert tcpi_bytes_acked == 1000 and first_cwnd == 10, (tcpi_bytes_acked, first_cwnd) }%
";

fn shell() -> RunOptions {
    RunOptions {
        allow_shell: true,
        ..RunOptions::default()
    }
}

#[test]
fn python_blocks_see_their_moments_values() {
    let r = run_text("py.pkt", SCRIPT, IpVersion::V4, &shell());
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
}

#[test]
fn an_exception_fails_at_its_blocks_line() {
    let text = SCRIPT.replace("tcpi_bytes_acked == 1000", "tcpi_bytes_acked == 1002");
    let r = run_text("py.pkt", &text, IpVersion::V4, &shell());
    match &r.verdict {
        Verdict::Fail(d) => {
            assert_eq!(d.line, 16, "{}", r.describe());
            assert!(
                d.message.contains("py.pkt:16: error in Python code"),
                "{}",
                r.describe()
            );
            assert!(
                d.actual.contains("AssertionError: (1000, 10)"),
                "{}",
                r.describe()
            );
        }
        other => panic!("expected a failure at line 16, got {other:?}"),
    }
}

#[test]
fn python_needs_allow_shell() {
    let r = run_text("py.pkt", SCRIPT, IpVersion::V4, &RunOptions::default());
    match &r.verdict {
        Verdict::Error(e) => {
            assert!(e.contains("py.pkt:9:"), "{e}");
            assert!(e.contains("--allow-shell"), "{e}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

/// A script that lives under /tmp keeps its own tree behind the scenario's private /tmp:
/// its shell commands find `../common/` and can `cd "$PWD"`, and its Python blocks run.
#[test]
fn a_script_under_tmp_keeps_its_tree() {
    let top = std::env::temp_dir().join(format!("tcpcheck-tree-{}", std::process::id()));
    let dir = top.join("case");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::create_dir_all(top.join("common")).expect("mkdir");
    std::fs::write(
        top.join("common/ok.sh"),
        "#!/bin/sh\ncd \"$PWD\" && touch /tmp/mine\n",
    )
    .expect("write");
    std::process::Command::new("chmod")
        .args(["+x"])
        .arg(top.join("common/ok.sh"))
        .status()
        .expect("chmod");
    let script = dir.join("t.pkt");
    let text = format!(
        "`../common/ok.sh`\n{SCRIPT}+0 %{{ import os; assert os.getcwd() == {:?} }}%\n",
        dir.display().to_string()
    );
    std::fs::write(&script, &text).expect("write");
    let name = script.display().to_string();
    let r = run_text(&name, &text, IpVersion::V4, &shell());
    let _ = std::fs::remove_dir_all(&top);
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
}
