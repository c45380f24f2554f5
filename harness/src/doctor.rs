//! `tcpcheck doctor`: checks, one step at a time, that this machine and user can run checks,
//! and says what to do about each step that fails.
//!
//! The steps: how the process got its privileges (root or a user namespace), access to
//! `/dev/net/tun`, creating a sandbox, a SYN to a closed port answered by RST+ACK over IPv4
//! and over IPv6 (with the time it took), and the thread's return to its own network
//! namespace afterwards, and whether the runner can keep a script's schedule at real-time
//! priority (a warning, not a failure: without it runs still work, but a loaded machine
//! voids more of them as harness-late). The sandbox steps run on a worker thread under a deadline, so the
//! doctor answers even if the kernel does not.

use std::fmt;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::SegmentRepr;

use crate::peer::Peer;
use crate::rootless::{self, Privilege, RootlessError};
use crate::sandbox::Sandbox;

/// How long the sandbox steps together may take. Each of the sandbox's own waits is bounded
/// (a second for the barrier, two for netlink); this only guards against a wait that is not.
const DEADLINE: Duration = Duration::from_secs(15);

/// The stack's port the SYN goes to: discard, with nothing listening, so the answer is RST.
const CLOSED_PORT: u16 = 9;
const PEER_PORT: u16 = 40000;
const PEER_ISS: u32 = 1000;

pub const PRIVILEGE: &str = "privilege";
pub const TUN: &str = "/dev/net/tun";
pub const SANDBOX: &str = "sandbox";
pub const ROUND_TRIP_V4: &str = "ipv4 round trip";
pub const ROUND_TRIP_V6: &str = "ipv6 round trip";
pub const CLEANUP: &str = "namespace cleanup";
pub const PRIORITY: &str = "real-time priority";

/// The sandbox steps, in order.
const SANDBOX_STEPS: [&str; 4] = [SANDBOX, ROUND_TRIP_V4, ROUND_TRIP_V6, CLEANUP];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Works, less well than it could; says what would help.
    Warn,
    Fail,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Ok,
            detail: detail.into(),
        }
    }

    fn warn(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Warn,
            detail: detail.into(),
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            status: Status::Fail,
            detail: detail.into(),
        }
    }

    /// A warning passes: the machine can run checks.
    pub fn passed(&self) -> bool {
        self.status != Status::Fail
    }
}

/// `ok   name: detail` or `FAIL name: detail`; further lines of the detail are indented.
impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.status {
            Status::Ok => "ok  ",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        };
        write!(
            f,
            "{tag} {}: {}",
            self.name,
            self.detail.replace('\n', "\n     ")
        )
    }
}

/// Runs every check. The privilege step reports what
/// [`rootless::enter_user_namespace_if_needed`] did at the start of `main`.
pub fn run() -> Vec<Check> {
    let mut checks = vec![privilege(rootless::status()), tun()];
    checks.extend(sandbox_steps());
    checks.push(priority(crate::runner::realtime_priority()));
    checks
}

fn priority(available: bool) -> Check {
    if available {
        Check::ok(
            PRIORITY,
            "SCHED_FIFO 1 while a script's events are due, so busy threads do not delay them",
        )
    } else {
        Check::warn(
            PRIORITY,
            "not available (needs CAP_SYS_NICE): runs keep their schedule only as well as the \
             machine's load allows, and a run the harness was late for is repeated or reported \
             as an error, never as the stack's fault",
        )
    }
}

fn privilege(status: Option<Result<Privilege, RootlessError>>) -> Check {
    match status {
        Some(Ok(Privilege::Root)) if !rootless::in_initial_user_namespace() => Check::ok(
            PRIVILEGE,
            "running as uid 0 of a user namespace (not the host's root)",
        ),
        Some(Ok(p)) => Check::ok(PRIVILEGE, p.to_string()),
        Some(Err(e)) => Check::fail(PRIVILEGE, e.to_string()),
        None if nix::unistd::geteuid().is_root() => Check::ok(PRIVILEGE, "running as root"),
        None => Check::fail(
            PRIVILEGE,
            "not root, and rootless::enter_user_namespace_if_needed() was not called at the \
             start of main",
        ),
    }
}

fn tun() -> Check {
    match rootless::check_tun_access() {
        Ok(()) => Check::ok(TUN, "opens read-write"),
        Err(e) => Check::fail(TUN, e.to_string()),
    }
}

/// The sandbox steps on a worker thread; steps that did not report by the deadline fail.
fn sandbox_steps() -> Vec<Check> {
    let (tx, rx) = mpsc::channel();
    let spawned = thread::Builder::new().name("doctor".into()).spawn(move || {
        in_sandbox(&mut |c| {
            // The receiver is gone only after the deadline; nobody is left to tell.
            let _ = tx.send(c);
        })
    });
    if let Err(e) = spawned {
        return SANDBOX_STEPS
            .iter()
            .map(|name| Check::fail(name, format!("cannot start a thread: {e}")))
            .collect();
    }
    let deadline = Instant::now() + DEADLINE;
    let mut out: Vec<Check> = Vec::new();
    while out.len() < SANDBOX_STEPS.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(check) => out.push(check),
            // Timeout, or the worker ended early (it panicked).
            Err(e) => {
                let why = match e {
                    mpsc::RecvTimeoutError::Timeout => {
                        format!("no answer within {DEADLINE:?}: the kernel stopped responding")
                    }
                    mpsc::RecvTimeoutError::Disconnected => {
                        "the check panicked (see the message above)".to_string()
                    }
                };
                for name in &SANDBOX_STEPS[out.len()..] {
                    out.push(Check::fail(name, why.clone()));
                }
            }
        }
    }
    out
}

/// The sandbox steps, reporting each as it finishes.
fn in_sandbox(report: &mut dyn FnMut(Check)) {
    let home = thread_netns();
    let started = Instant::now();
    let mut sandbox = match Sandbox::new() {
        Ok(s) => s,
        Err(e) => {
            report(Check::fail(SANDBOX, e.to_string()));
            let why = "not run: no sandbox";
            report(Check::fail(ROUND_TRIP_V4, why));
            report(Check::fail(ROUND_TRIP_V6, why));
            report(cleanup_check(home, None));
            return;
        }
    };
    let inside = thread_netns();
    report(Check::ok(
        SANDBOX,
        format!(
            "network namespace {} with tun0 (192.0.2.1/24, 2001:db8::1/64), set up in {} µs",
            show_ns(inside),
            started.elapsed().as_micros()
        ),
    ));
    report(round_trip(&mut sandbox, false));
    report(round_trip(&mut sandbox, true));
    drop(sandbox);
    report(cleanup_check(home, inside));
}

/// A SYN to a closed port must come back as RST+ACK acknowledging it.
fn round_trip(sandbox: &mut Sandbox, v6: bool) -> Check {
    let name = if v6 { ROUND_TRIP_V6 } else { ROUND_TRIP_V4 };
    let mut peer = Peer::new(v6, PEER_PORT, CLOSED_PORT, PEER_ISS);
    let syn = peer.syn();
    let sent_at = sandbox.now();
    if let Err(e) = sandbox.inject(&syn) {
        return Check::fail(name, format!("injecting the SYN: {e}"));
    }
    let packets = match sandbox.settle() {
        Ok(p) => p,
        Err(e) => return Check::fail(name, format!("waiting for the answer: {e}")),
    };
    let what = format!("SYN {} > {} (closed port)", peer.local, peer.remote);
    let Some(first) = packets.first() else {
        return Check::fail(name, format!("{what}: the stack sent nothing back"));
    };
    let rtt = first.at.saturating_sub(sent_at).as_micros();
    let repr = match SegmentRepr::parse(&first.bytes) {
        Ok(r) => r,
        Err(e) => return Check::fail(name, format!("{what}: the answer is malformed: {e}")),
    };
    let want_ack = SeqNumber(PEER_ISS.wrapping_add(1));
    let flags = repr.tcp.flags;
    if flags.rst() && flags.ack() && repr.tcp.ack == want_ack {
        Check::ok(
            name,
            format!("{what} answered by RST+ACK, ack {want_ack}, in {rtt} µs: {repr}"),
        )
    } else {
        Check::fail(
            name,
            format!("{what}: expected RST+ACK with ack {want_ack}, got {repr} (after {rtt} µs)"),
        )
    }
}

fn cleanup_check(home: Option<u64>, inside: Option<u64>) -> Check {
    let now = thread_netns();
    match (home, now) {
        (Some(h), Some(n)) if h == n => Check::ok(
            CLEANUP,
            format!(
                "the thread is back in its network namespace {}",
                show_ns(Some(h))
            ),
        ),
        (Some(h), Some(n)) => Check::fail(
            CLEANUP,
            format!(
                "the thread stayed in {} instead of returning to {}{}: setns back failed (without \
                 root this happens when the namespace it started in belongs to another user \
                 namespace)",
                show_ns(Some(n)),
                show_ns(Some(h)),
                if inside == Some(n) {
                    ", the sandbox's"
                } else {
                    ""
                }
            ),
        ),
        _ => Check::fail(CLEANUP, "cannot read /proc/thread-self/ns/net"),
    }
}

/// The calling thread's network namespace (its inode number).
fn thread_netns() -> Option<u64> {
    fs::metadata("/proc/thread-self/ns/net")
        .ok()
        .map(|m| m.ino())
}

fn show_ns(ino: Option<u64>) -> String {
    match ino {
        Some(i) => format!("net:[{i}]"),
        None => "net:[?]".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_render_with_aligned_tags() {
        assert_eq!(
            Check::ok("sandbox", "fine").to_string(),
            "ok   sandbox: fine"
        );
        assert_eq!(
            Check::fail("sandbox", "broke\nbecause").to_string(),
            "FAIL sandbox: broke\n     because"
        );
    }

    #[test]
    fn missing_priority_warns_and_passes() {
        let c = priority(false);
        assert_eq!(c.status, Status::Warn);
        assert!(c.passed());
        assert!(c.to_string().starts_with("warn real-time priority:"));
        assert!(c.detail.contains("CAP_SYS_NICE"));
        assert_eq!(priority(true).status, Status::Ok);
    }

    #[test]
    fn privilege_reports_the_start_of_main() {
        let c = privilege(Some(Ok(Privilege::UserNamespace {
            uid: 1000,
            gid: 100,
        })));
        assert!(c.passed());
        assert!(c.detail.contains("uid 1000"), "{}", c.detail);
        let c = privilege(Some(Err(RootlessError::Threaded { threads: 3 })));
        assert!(!c.passed());
        assert!(c.detail.contains("3 threads"), "{}", c.detail);
    }
}
