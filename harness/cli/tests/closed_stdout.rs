//! A reader that goes away (`tcpcheck requirements | head -1`): the binary ends quietly with
//! the status a shell gives a tool its reader left, 141, instead of panicking on its write.

use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_ends_the_binary_quietly_with_141() {
    // A pipe whose read end is closed before the binary starts: every write to it fails
    // with EPIPE, whatever the size of the output or the timing.
    let (read, write): (OwnedFd, OwnedFd) = nix::unistd::pipe().expect("a pipe");
    drop(read);
    let out = Command::new(env!("CARGO_BIN_EXE_tcpcheck"))
        .arg("requirements")
        .stdout(Stdio::from(write))
        .stderr(Stdio::piped())
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
