//! `tcpcheck run` as a user meets it, the built binary spawned against the kernel: the JSON
//! summary, the report directory and the ladder in the terminal. Run as root (or see the
//! README's rootless notes). (Moved from the harness's runner_scenarios.rs and report_html.rs
//! when the binary became a package of its own.)

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_tcpcheck");

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

/// A passive open and an active close whose script expects a RST where the kernel sends its
/// FIN: the script fails at line 11, with the model following the run up to there.
const WRONG_CLOSE: &str = "\
// The kernel closes with a FIN; this script wrongly expects a RST.
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0   bind(3, ..., ...) = 0
+0   listen(3, 1) = 0
+0   < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
+0   > S. 0:0(0) ack 1 <...>
+.01 < . 1:1(0) ack 1 win 512
+0   accept(3, ..., ...) = 4
+0   close(4) = 0
+0   > R. 1:1(0) ack 1
+.01 < . 1:1(0) ack 2 win 512
";

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "tcpcheck-report-html-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("a temporary directory");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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
    let out = Command::new(BIN)
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

/// `tcpcheck run --ladder` prints the ladder with the model's and the stack's states in the
/// terminal, and keeps it off stdout when stdout carries JSON.
#[test]
fn run_ladder_prints_each_ladder_with_states() {
    let dir = TempDir::new("cli");
    let script = dir.0.join("wrong-close.pkt");
    std::fs::write(&script, WRONG_CLOSE).unwrap();
    let run = |json: bool| {
        let mut c = Command::new(BIN);
        c.args(["run", "--ladder"]);
        if json {
            c.args(["--format", "json"]);
        }
        let out = c.arg(&script).output().expect("tcpcheck runs");
        assert_eq!(out.status.code(), Some(1), "the script fails");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (stdout, _) = run(false);
    assert!(stdout.contains("verdict   fail at L11"), "{stdout}");
    let table = stdout
        .lines()
        .skip_while(|l| !l.starts_with("line "))
        .collect::<Vec<_>>()
        .join("\n");
    // The model's state, and the stack's read beside it.
    assert!(
        table.starts_with("line  time   model         stack"),
        "{stdout}"
    );
    for (line, state) in [
        ("L5 ", "LISTEN"),
        ("L8 ", "ESTABLISHED"),
        ("L10 ", "FIN-WAIT-1"),
    ] {
        assert!(
            table
                .lines()
                .any(|l| l.starts_with(line) && l.matches(state).count() == 2),
            "{line}{state} twice:\n{stdout}"
        );
    }
    let (stdout, stderr) = run(true);
    let _: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON alone");
    assert!(stderr.contains("line  time   model"), "{stderr}");
}
