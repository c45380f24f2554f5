//! `tcpcheck check` refuses what `run` refuses, with the same located message, and bad values
//! in scripts (huge lengths, values an int cannot hold, times past the runner's clock) are
//! errors at their line: never truncated, never allocated, never a silent pass.
//!
//! Only the last test runs scripts against the kernel (as root, or see the README's rootless
//! notes); the others stop before a sandbox exists.

use std::path::{Path, PathBuf};
use std::process::Command;

use tcpcheck::runner::{self, run_text, IpVersion, RunOptions, Verdict};
use tcpcheck::scenario;

const SETUP: &str = "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  bind(3, ..., ...) = 0
";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `run`'s error for `text` (it must stop before the sandbox, with an error).
fn run_error(name: &str, text: &str) -> String {
    let r = run_text(name, text, IpVersion::V4, &RunOptions::default());
    match r.verdict {
        Verdict::Error(e) => e,
        other => panic!("run should refuse {name}, got {other:?}"),
    }
}

/// `tcpcheck check` on `text` written to a file: its exit code and output.
fn check_cli(dir: &Path, name: &str, text: &str) -> (Option<i32>, String) {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the script");
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcheck"))
        .arg("check")
        .arg(&path)
        .output()
        .expect("run tcpcheck check");
    let mut shown = String::from_utf8_lossy(&out.stdout).into_owned();
    shown.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code(), shown)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tcpcheck-check-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    dir
}

/// Each bad line, appended to the setup as line 4, the text in it the error points at
/// (`None`: the whole event), and what the error must say.
fn assert_refused_at_line_4(test: &str, cases: &[(&str, Option<&str>, &str)]) {
    let dir = temp_dir(test);
    for (i, (line, culprit, message)) in cases.iter().enumerate() {
        let name = format!("case{i}.pkt");
        let text = format!("{SETUP}{line}\n");
        let (code, shown) = check_cli(&dir, &name, &text);
        let path = dir.join(&name).display().to_string();
        assert_eq!(code, Some(2), "check must refuse `{line}`:\n{shown}");
        let col = culprit.map_or(1, |c| line.find(c).expect("the culprit is in the line") + 1);
        let width = culprit.map_or(line.len(), str::len);
        let underline = format!("| {}{}", " ".repeat(col - 1), "^".repeat(width));
        assert!(
            shown.contains(&format!("{path}:4:{col}: {message}")) && shown.contains(&underline),
            "check's message for `{line}` must be located at 4:{col} and say `{message}`:\n{shown}"
        );
        // run refuses it too, before any sandbox, with the same text.
        let ran = run_error(&path, &text);
        assert!(
            shown.contains(&ran),
            "check and run must say the same for `{line}`:\n--- check\n{shown}\n--- run\n{ran}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_refuses_an_unknown_system_call() {
    assert_refused_at_line_4(
        "syscall",
        &[
            (
                "+0  lsten(3, 1) = 0",
                Some("lsten"),
                "system call `lsten` is not supported yet",
            ),
            (
                "+0  listen(3) = 0",
                None,
                "listen expects [2] arguments, not 1",
            ),
        ],
    );
}

#[test]
fn check_refuses_an_unsupported_option() {
    assert_refused_at_line_4(
        "option",
        &[
            (
                "+0  setsockopt(3, SOL_SOCKET, 25, [1], 4) = 0",
                Some("25"),
                "setsockopt(SOL_SOCKET, 25) is not supported yet",
            ),
            (
                "+0  getsockopt(3, SOL_SOCKET, SO_LINGER, [1], [4]) = 0",
                Some("SO_LINGER"),
                "getsockopt(SOL_SOCKET, SO_LINGER) is not supported yet",
            ),
        ],
    );
}

#[test]
fn check_refuses_an_unknown_constant() {
    assert_refused_at_line_4(
        "constant",
        &[
            (
                "+0  setsockopt(3, SOL_SOCKET, SO_BINDTODEVICE, [1], 4) = 0",
                Some("SO_BINDTODEVICE"),
                "unknown constant `SO_BINDTODEVICE`",
            ),
            (
                "+0  listen(3, SOMAXCONN) = 0",
                Some("SOMAXCONN"),
                "unknown constant `SOMAXCONN`",
            ),
            (
                "+0  listen(3, 1) = 0 EBOGUS (Bogus)",
                Some("EBOGUS"),
                "unknown errno EBOGUS",
            ),
            (
                "+0  socket(..., SOCK_STREAM, IPPROTO_UDP) = 4",
                Some("IPPROTO_UDP"),
                "unknown constant `IPPROTO_UDP`",
            ),
        ],
    );
}

#[test]
fn bad_values_are_located_errors() {
    assert_refused_at_line_4(
        "values",
        &[
            (
                "+0  write(3, ..., 1000000000000) = 1000000000000",
                Some("1000000000000"),
                "write length 1000000000000 is out of range (0 to 16777216)",
            ),
            (
                "+0  read(3, ..., 16777217) = 0",
                Some("16777217"),
                "read length 16777217 is out of range (0 to 16777216)",
            ),
            (
                "+0  write(3, ..., -1) = 0",
                Some("-1"),
                "write length -1 is out of range",
            ),
            (
                "+0  listen(3, 4294967297) = 0",
                Some("4294967297"),
                "backlog 4294967297 is out of range for an int",
            ),
            (
                "+0  setsockopt(3, IPPROTO_TCP, TCP_MAXSEG, [65536], 4) = 0",
                Some("[65536]"),
                "TCP_MAXSEG value 65536 is out of range (0 to 65535)",
            ),
            (
                "+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [4294967297], 4) = 0",
                Some("[4294967297]"),
                "SO_REUSEADDR value 4294967297 is out of range for an int",
            ),
            (
                // 2^32 + SO_REUSEADDR: as an int it would be SO_REUSEADDR.
                "+0  setsockopt(3, SOL_SOCKET, 4294967298, [1], 4) = 0",
                Some("4294967298"),
                "setsockopt(SOL_SOCKET, 4294967298) is not supported yet",
            ),
            (
                "+0  setsockopt(3, IPPROTO_TCP, TCP_USER_TIMEOUT, [-1], 4) = 0",
                Some("[-1]"),
                "TCP_USER_TIMEOUT value -1 is out of range (0 to 2147483647)",
            ),
            (
                "+0  setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=-1}, 8) = 0",
                Some("linger=-1"),
                "SO_LINGER l_linger -1 is out of range",
            ),
            (
                "+0  listen(3, 0xffffffffffffffff) = 0",
                Some("0xffffffffffffffff"),
                "`0xffffffffffffffff` is out of range",
            ),
            (
                "+0  < [peer 300] S 0:0(0) win 1000",
                None,
                "peer 300 has no address: the runner addresses peers 1 to 253",
            ),
        ],
    );
}

#[test]
fn times_past_the_runners_clock_are_located_errors() {
    assert_refused_at_line_4(
        "times",
        &[
            (
                "+18446744073709.551615 close(3) = 0",
                None,
                "time out of range: this event would run at 18446744073709.551615 s, past the \
                 runner's limit of 86400 s",
            ),
            (
                "+9223372036854.775807 close(3) = 0",
                None,
                "time out of range: this event would run at 9223372036854.775807 s",
            ),
            ("86400.000001 close(3) = 0", None, "time out of range"),
            ("+0...86401 listen(3, 1) = 0", None, "time out of range"),
        ],
    );
    // Relative times add up: each is fine, their sum is not.
    let dir = temp_dir("sum");
    let text = format!("{SETUP}+43200 listen(3, 1) = 0\n+43200.5 close(3) = 0\n");
    let (code, shown) = check_cli(&dir, "sum.pkt", &text);
    assert_eq!(code, Some(2), "{shown}");
    assert!(
        shown.contains("sum.pkt:5:1: time out of range: this event would run at 86400.5 s"),
        "{shown}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn script_options_are_range_checked() {
    for (option, message) in [
        ("--tolerance_usecs=-5", "bad --tolerance_usecs `-5`"),
        ("--tolerance_percent=nan", "bad --tolerance_percent `nan`"),
        ("--tolerance_percent=-1", "bad --tolerance_percent `-1`"),
    ] {
        let text = format!("{option}\n{SETUP}");
        let e = run_error("opt.pkt", &text);
        assert!(e.starts_with("opt.pkt:1:1: ") && e.contains(message), "{e}");
    }
}

#[test]
fn check_accepts_the_corpus() {
    let root = workspace();
    for dir in ["corpus/scenarios", "corpus/deviations"] {
        let out = Command::new(env!("CARGO_BIN_EXE_tcpcheck"))
            .arg("check")
            .arg(root.join(dir))
            .output()
            .expect("run tcpcheck check");
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// corpus/scenarios and corpus/deviations run in scenarios.rs and explore.rs; the parser's
/// seeds in corpus/fuzz/scenario run nowhere else. Every one `check` accepts (with and
/// without `--allow-shell`) starts under `run`: its verdict is the kernel's, not an error.
#[test]
fn scripts_check_accepts_run() {
    let root = workspace();
    let mut files = Vec::new();
    runner::collect_scripts(&root.join("corpus/fuzz/scenario"), false, &mut files)
        .expect("the fuzz seeds");
    let mut accepted = 0;
    for allow_shell in [false, true] {
        let opts = RunOptions {
            allow_shell,
            ..RunOptions::default()
        };
        for file in &files {
            let name = file.display().to_string();
            let text = String::from_utf8_lossy(&std::fs::read(file).expect("read")).into_owned();
            let Ok(script) = scenario::parse(&name, &text) else {
                continue;
            };
            if runner::check_script(&name, &text, &script, &opts).is_err() {
                continue;
            }
            accepted += 1;
            let ip = runner::versions_for(&script, &[IpVersion::V4])[0];
            let r = runner::run_script(&name, &text, &script, ip, &opts);
            assert!(
                !matches!(r.verdict, Verdict::Error(_)),
                "check accepted {name} (allow_shell {allow_shell}) but run refused it:\n{}",
                r.describe()
            );
        }
    }
    assert!(accepted >= 2, "the seeds include scripts check accepts");
}
