//! `tcpcheck requirements`, the built binary spawned: the matrix as JSON, filtered by
//! status, and a bad status refused. (Moved from the harness's requirements.rs when the
//! binary became a package of its own.)
//!
//! Labels in these tests are written only inside string literals, which the scanner ignores.

use std::process::Command;

use tcpcheck::requirements::scan::Status;
use tcpcheck::requirements::{OTHER_REQUIREMENTS, REQUIREMENTS};

const BIN: &str = env!("CARGO_BIN_EXE_tcpcheck");

#[test]
fn requirements_command_prints_json() {
    let out = Command::new(BIN)
        .args(["requirements", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json.as_array().unwrap().len(),
        119 + OTHER_REQUIREMENTS.len()
    );

    let out = Command::new(BIN)
        .args([
            "requirements",
            "--format",
            "json",
            "--status",
            "not-observable",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let shown = json.as_array().unwrap();
    assert_eq!(
        shown.len(),
        REQUIREMENTS
            .iter()
            .chain(OTHER_REQUIREMENTS)
            .filter(|e| e.status == Status::NotObservable)
            .count()
    );
    assert!(shown.iter().all(|e| e["status"] == "not-observable"));

    let out = Command::new(BIN)
        .args(["requirements", "--status", "nonsense"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
