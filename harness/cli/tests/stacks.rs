//! The binary offers every stack of the workspace: `--stack smoltcp` runs the corpus and the
//! explorer in-process (no root, no namespace), and every scenario ends as a pass, a failure
//! or not applicable, never an error of the harness.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_tcpcheck");

fn corpus() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/scenarios")
}

#[test]
fn run_stack_smoltcp_runs_the_corpus_without_a_harness_error() {
    let out = Command::new(BIN)
        .args(["run", "--stack", "smoltcp", "--format", "json"])
        .arg(corpus())
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&out.stderr);
    // 1: some scenarios fail on smoltcp (its departures); 2 would be a usage error.
    assert_eq!(out.status.code(), Some(1), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let summary = &v["summary"];
    assert_eq!(summary["errors"], 0, "{summary}");
    assert_eq!(summary["interrupted"], 0, "{summary}");
    let count = |k: &str| {
        summary[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {summary}"))
    };
    assert!(count("passed") > 0 && count("failed") > 0 && count("not_applicable") > 0);
    let scenarios = v["scenarios"].as_array().expect("scenarios");
    assert_eq!(
        u64::try_from(scenarios.len()).unwrap(),
        count("passed") + count("failed") + count("not_applicable"),
        "{summary}"
    );
}

#[test]
fn explore_stack_smoltcp_prints_the_findings_table() {
    let dir = std::env::temp_dir().join(format!("tcpcheck-stacks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(BIN)
        .args([
            "explore",
            "--stack",
            "smoltcp",
            "--profile",
            "rfc9293",
            "--cases",
            "100",
            "--seed",
            "1",
            "--shrink-time",
            "1",
        ])
        .current_dir(&dir)
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(stdout.contains("100 cases"), "{stdout}");
    assert!(stdout.contains("0 harness errors"), "{stdout}");
    assert!(stdout.contains("findings:"), "{stdout}");
    assert!(stdout.contains("cases  state"), "{stdout}");
}
