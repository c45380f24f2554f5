//! A sandbox whose setup timed out (on a machine overloaded for seconds, the kernel work queue
//! that configures the IPv6 address was seen not to run for over 30 s) says nothing about the
//! stack: the run is tried again in a fresh sandbox, as a run the harness fell behind in is,
//! and only a setup that times out on every attempt is an error. Run as root.

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};

use tcpcheck::runner::{run_text, IpVersion, RunOptions, ScenarioRun, Verdict};
use tcpcheck::stack::registry::{LinuxFactory, StackFactory, StackKind};
use tcpcheck::stack::{Purpose, Stack};
use tcpcheck::trace::EventKind;

/// The kernel, but the first `fail` openings time out as an overloaded machine's did.
struct SlowToOpen {
    fail: u32,
    opened: AtomicU32,
}

impl StackFactory for SlowToOpen {
    fn kind(&self) -> StackKind {
        StackKind::Linux
    }
    fn open(&self, purpose: Purpose) -> io::Result<Box<dyn Stack>> {
        if self.opened.fetch_add(1, Ordering::SeqCst) < self.fail {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "2001:db8::1 did not become reachable within 10s",
            ));
        }
        LinuxFactory.open(purpose)
    }
}

const SCRIPT: &str = "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 32792 <mss 1000>
+0  > S. 0:0(0) ack 1 <mss 1460>
";

/// The script run over IPv4 on `factory`'s stacks.
fn run_on(factory: &'static SlowToOpen) -> ScenarioRun {
    let opts = RunOptions {
        stack: factory,
        ..RunOptions::default()
    };
    run_text("t.pkt", SCRIPT, IpVersion::V4, &opts)
}

fn notes(run: &ScenarioRun) -> Vec<String> {
    run.trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Note { text } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_setup_that_timed_out_is_tried_again_and_said_so() {
    static FACTORY: SlowToOpen = SlowToOpen {
        fail: 2,
        opened: AtomicU32::new(0),
    };
    let (factory, run) = (&FACTORY, run_on(&FACTORY));
    assert_eq!(run.verdict, Verdict::Pass, "{}", run.describe());
    assert_eq!(factory.opened.load(Ordering::SeqCst), 3);
    let notes = notes(&run);
    for attempt in 1..=2 {
        let want = format!("attempt {attempt} void, run again: cannot create the stack:");
        assert!(notes.iter().any(|n| n.starts_with(&want)), "{notes:?}");
    }
}

#[test]
fn a_setup_that_times_out_every_time_is_an_error() {
    static FACTORY: SlowToOpen = SlowToOpen {
        fail: u32::MAX,
        opened: AtomicU32::new(0),
    };
    let (factory, run) = (&FACTORY, run_on(&FACTORY));
    match &run.verdict {
        Verdict::Error(e) => assert!(e.contains("cannot create the stack"), "{e}"),
        v => panic!("{v:?}"),
    }
    assert_eq!(factory.opened.load(Ordering::SeqCst), 3);
}
