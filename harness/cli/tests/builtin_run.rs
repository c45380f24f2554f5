//! `tcpcheck run builtin/NAME`: built-in checks named on the command line run like
//! scenarios (a line each, the summary, the exit status); an unknown name is refused with
//! the names there are. Run as root (or see the README's rootless notes).

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_tcpcheck");

#[test]
fn a_builtin_check_runs_by_name() {
    let out = Command::new(BIN)
        .args(["run", "builtin/listen-beside-syn-sent"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout.contains("ok builtin/listen-beside-syn-sent (ipv4)"),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed, 0 failed, 0 errors"), "{stdout}");
    assert!(!stdout.contains("not started"), "{stdout}");
}

#[test]
fn an_unknown_builtin_check_is_refused() {
    let out = Command::new(BIN)
        .args(["run", "builtin/no-such-check"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr.contains(
            "builtin/no-such-check: no such built-in check (there are: builtin/isn-clock,"
        ),
        "{stderr}"
    );
}
