//! The command line as a user meets it: the built `tcpcheck` binary, spawned. Bad input is an
//! error with a clear message and exit status 2, never a silent pass; a long run shows each
//! result as it comes and stops cleanly on Ctrl-C.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A directory of its own under the system's temporary directory, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("tcpcheck-cli-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tcpcheck() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tcpcheck"))
}

fn run(args: &[&str], paths: &[&Path]) -> Output {
    tcpcheck().args(args).args(paths).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_usage_error(o: &Output, message: &str) {
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let all = stdout(o) + &stderr(o);
    assert!(all.contains(message), "{message:?} not in {all}");
}

const QUICK: &str = "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  close(3) = 0
";

#[test]
fn an_empty_script_is_an_error_for_run_and_check() {
    let dir = TempDir::new("empty");
    for (name, text) in [
        ("empty.pkt", ""),
        ("comments.pkt", "// nothing but this\n\n"),
    ] {
        let script = dir.file(name, text);
        for sub in ["run", "check"] {
            let o = run(&[sub], &[&script]);
            assert_usage_error(&o, "the script has no events");
            assert!(!stdout(&o).contains("ok "), "{o:?}");
        }
    }
}

#[test]
fn a_path_without_scripts_is_an_error() {
    let dir = TempDir::new("noscripts");
    dir.file("README", "not a script");
    let other = TempDir::new("noscripts-good");
    let good = other.file("quick.pkt", QUICK);
    for sub in ["run", "check"] {
        let o = run(&[sub], &[&dir.0]);
        assert_usage_error(&o, "holds no scripts");
        // One empty path among good ones is still refused.
        let o = run(&[sub], &[&good, &dir.0]);
        assert_usage_error(&o, "holds no scripts");
    }
}

#[test]
fn zero_jobs_or_repeats_are_refused() {
    let dir = TempDir::new("zero");
    let script = dir.file("quick.pkt", QUICK);
    for args in [
        &["run", "--jobs", "0"][..],
        &["run", "-j", "0"],
        &["run", "--repeat", "0"],
        &["explore", "--jobs", "0", "--cases", "1"],
        &["explore", "-j", "0", "--cases", "1"],
    ] {
        let o = run(args, &[&script]);
        assert_usage_error(&o, "invalid value '0'");
    }
    // The short form is the same flag.
    let o = run(&["run", "-j", "2", "--repeat", "2"], &[&script]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(stdout(&o).contains("2 passed, 0 failed, 0 errors"), "{o:?}");
}

#[test]
fn run_without_a_path_outside_the_repository_says_where_the_corpus_is() {
    let dir = TempDir::new("nocorpus");
    let o = tcpcheck().arg("run").current_dir(&dir.0).output().unwrap();
    assert_usage_error(&o, "./corpus/scenarios does not exist");
    assert!(
        stderr(&o).contains("tcpcheck run /path/to/tcpcheck/corpus/scenarios"),
        "{o:?}"
    );
}

#[test]
fn json_errors_carry_their_message() {
    let dir = TempDir::new("jsonerror");
    let script = dir.file(
        "bad.pkt",
        "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bogus(\n",
    );
    let o = run(&["run", "--format", "json"], &[&script]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let s = &v["scenarios"][0];
    assert_eq!(s["verdict"], "error");
    let message = s["error"].as_str().expect("an error message");
    assert!(message.contains("bad.pkt:2:"), "located: {message}");
    assert_eq!(v["summary"]["errors"], 1);
}

/// A known Linux deviation from RFC 9293 (text after the peer's FIN resets the connection):
/// the script passes, and the rfc9293 model diverges from what the kernel did.
fn deviation() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/deviations/data-after-fin-resets.pkt")
}

#[test]
fn the_summary_counts_model_divergences() {
    let dir = TempDir::new("divergence");
    let deviation = deviation();
    let quick = dir.file("quick.pkt", QUICK);
    let o = run(&["run", "--model", "rfc9293"], &[&deviation, &quick]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        stdout(&o).contains("2 passed (1 with a model divergence), 0 failed, 0 errors"),
        "{o:?}"
    );
    let o = run(
        &["run", "--model", "rfc9293", "--format", "json"],
        &[&deviation, &quick],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["summary"]["passed"], 2, "{v:#}");
    assert_eq!(v["summary"]["passed_with_model_divergence"], 1, "{v:#}");
    // Under the linux model, which encodes the deviation, nothing diverges.
    let o = run(&["run"], &[&deviation, &quick]);
    assert!(
        stdout(&o).ends_with("\n2 passed, 0 failed, 0 errors\n"),
        "{o:?}"
    );
}

/// A script that sleeps `secs` between two calls.
fn sleeper(secs: u32) -> String {
    format!("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+{secs} close(3) = 0\n")
}

#[test]
fn each_result_prints_as_it_finishes() {
    let dir = TempDir::new("lines");
    let quick = dir.file("quick.pkt", QUICK);
    let slow = dir.file("slow.pkt", &sleeper(3));
    let mut child = tcpcheck()
        .args(["run", "-j", "2"])
        .args([&slow, &quick])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.starts_with("ok ") && first.contains("quick.pkt"),
        "{first}"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "the quick result came before the slow script ended"
    );
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(child.wait().unwrap().success());
    assert!(
        rest.iter()
            .any(|l| l.starts_with("ok ") && l.contains("slow.pkt")),
        "{rest:?}"
    );
    assert_eq!(rest.last().unwrap(), "2 passed, 0 failed, 0 errors");
}

#[test]
fn ctrl_c_prints_what_ran_and_exits_130() {
    let dir = TempDir::new("sigint");
    let quick = dir.file("quick.pkt", QUICK);
    let slow = dir.file("slow.pkt", &sleeper(30));
    // One worker: the quick script runs after the slow one, so it never starts.
    let child = tcpcheck()
        .args(["run", "-j", "1"])
        .args([&slow, &quick])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Signalled before its handler is in place, the process would just die: wait for it.
    let status = format!("/proc/{}/status", child.id());
    let began = Instant::now();
    while !catches_sigint(&std::fs::read_to_string(&status).unwrap_or_default()) {
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "SIGINT never caught"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The slow script starts right after.
    std::thread::sleep(Duration::from_millis(1000));
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let sent = Instant::now();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        sent.elapsed()
    );
    assert_eq!(o.status.code(), Some(130), "{o:?}");
    let out = stdout(&o);
    assert!(
        out.contains("INTERRUPTED") && out.contains("slow.pkt"),
        "{out}"
    );
    assert!(
        out.contains("0 passed, 0 failed, 0 errors, 1 interrupted, 1 not started"),
        "{out}"
    );
    assert!(stderr(&o).contains("interrupted (Ctrl-C)"), "{o:?}");
}

/// Whether `/proc/PID/status` shows a handler for SIGINT (signal 2: bit 1 of `SigCgt`).
fn catches_sigint(status: &str) -> bool {
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << 1) != 0)
}
