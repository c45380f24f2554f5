//! A stack other than Linux, from outside the crate: the kernel behind a thin adapter that
//! says the scripts were not written against it ([`Reference::Rfc9293`]) and has no profile
//! of its own. It proves the seam is implementable with the public API alone, and checks
//! the verdict rule for such a stack (README, "Verdicts for a stack that is not Linux"):
//! the model's `rfc9293` profile judges, a script's outbound lines are checked only in the
//! fields RFC 9293 fixes, and a script that pins a choice the RFC allows otherwise is not
//! applicable, never failed. Run as root.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use nix::errno::Errno;
use tcpcheck::explore::sut::OnStack;
use tcpcheck::explore::LinuxProfile;
use tcpcheck::runner::{run_text, IpVersion, RunOptions, ScenarioRun, Verdict};
use tcpcheck::sandbox::Packet;
use tcpcheck::stack::linux::LinuxStack;
use tcpcheck::stack::{
    CallResult, Capabilities, Capability, Fd, Purpose, Reference, SockOpt, Stack, StackFactory,
    StackKind, TcpState, Wait,
};
use tcpcheck::trace::TraceEvent;

/// The kernel, presented as a stack the corpus was not written for; with `panics`, one
/// that panics on the first FIN it is given.
struct Elsewhere(LinuxStack, bool);

impl Stack for Elsewhere {
    fn name(&self) -> String {
        format!("{} (as another stack)", self.0.name())
    }
    fn capabilities(&self) -> Capabilities {
        // Not the kernel's own reads, which this adapter does not pass on: as another stack
        // would, it lacks them.
        [
            Capability::TcpInfo,
            Capability::ConnectionTable,
            Capability::ListenerQueues,
            Capability::Settings,
            Capability::Shell,
            Capability::LinuxChoices,
        ]
        .into_iter()
        .fold(self.0.capabilities(), Capabilities::without)
    }
    fn now(&self) -> Duration {
        self.0.now()
    }
    fn inject(&mut self, packet: &[u8]) -> io::Result<()> {
        let fin = tcpcheck_model::wire::SegmentRepr::parse(packet).is_ok_and(|s| s.tcp.flags.fin());
        if self.1 && fin {
            panic!("a FIN, and this stack cannot take one");
        }
        self.0.inject(packet)
    }
    fn settle(&mut self) -> io::Result<Vec<Packet>> {
        self.0.settle()
    }
    fn next_packet(&mut self, deadline: Duration) -> io::Result<Option<Packet>> {
        self.0.next_packet(deadline)
    }
    fn socket(&mut self, v6: bool) -> CallResult<Fd> {
        self.0.socket(v6)
    }
    fn bind(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()> {
        self.0.bind(fd, addr)
    }
    fn listen(&mut self, fd: Fd, backlog: i32) -> CallResult<()> {
        self.0.listen(fd, backlog)
    }
    fn accept(&mut self, fd: Fd, wait: Wait) -> CallResult<(Fd, SocketAddr)> {
        self.0.accept(fd, wait)
    }
    fn connect(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()> {
        self.0.connect(fd, addr)
    }
    fn write(&mut self, fd: Fd, data: &[u8]) -> CallResult<usize> {
        self.0.write(fd, data)
    }
    fn read(&mut self, fd: Fd, max: usize, wait: Wait) -> CallResult<Vec<u8>> {
        self.0.read(fd, max, wait)
    }
    fn shutdown(&mut self, fd: Fd, how: Shutdown) -> CallResult<()> {
        self.0.shutdown(fd, how)
    }
    fn close(&mut self, fd: Fd) -> CallResult<()> {
        self.0.close(fd)
    }
    fn setsockopt(&mut self, fd: Fd, opt: SockOpt) -> CallResult<()> {
        self.0.setsockopt(fd, opt)
    }
    fn take_error(&mut self, fd: Fd) -> CallResult<Option<Errno>> {
        self.0.take_error(fd)
    }
    fn set_nonblocking(&mut self, fd: Fd, on: bool) -> CallResult<()> {
        self.0.set_nonblocking(fd, on)
    }
    fn writable(&mut self, fd: Fd) -> CallResult<bool> {
        Stack::writable(&mut self.0, fd)
    }
    fn state(&mut self, fd: Fd) -> io::Result<TcpState> {
        self.0.state(fd)
    }
    fn end(&mut self) -> io::Result<usize> {
        self.0.end()
    }
    fn take_log(&mut self) -> Vec<TraceEvent> {
        self.0.take_log()
    }
}

struct ElsewhereFactory;

impl StackFactory for ElsewhereFactory {
    fn kind(&self) -> StackKind {
        // A registry needs a kind; this one stands in for any stack but Linux.
        StackKind::Smoltcp
    }
    fn open(&self, _purpose: Purpose) -> io::Result<Box<dyn Stack>> {
        Ok(Box::new(Elsewhere(LinuxStack::new()?, false)))
    }
}

struct PanickyFactory;

impl StackFactory for PanickyFactory {
    fn kind(&self) -> StackKind {
        StackKind::Smoltcp
    }
    fn open(&self, purpose: Purpose) -> io::Result<Box<dyn Stack>> {
        let config = tcpcheck::stack::registry::LinuxFactory::config(purpose);
        Ok(Box::new(Elsewhere(LinuxStack::with_config(config)?, true)))
    }
}

fn run(text: &str, elsewhere: bool) -> ScenarioRun {
    let mut opts = RunOptions::default();
    if elsewhere {
        opts.stack = &ElsewhereFactory;
    }
    run_text("t.pkt", text, IpVersion::V4, &opts)
}

/// The opening of a passive connection, then data acknowledged.
const OPEN: &str = "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
SYNACK
+.01 < . 1:1(0) ack 1 win 257
+0  accept(3, ..., ...) = 4
+0  < P. 1:11(10) ack 1 win 257
ACK
";

fn script(synack: &str, ack: &str) -> String {
    OPEN.replace("SYNACK", synack)
        .replace("ACK\n", &format!("{ack}\n"))
}

#[test]
fn the_adapter_is_another_stack() {
    let mut s = ElsewhereFactory.open(Purpose::Scenario).unwrap();
    assert_eq!(s.reference(), Reference::Rfc9293);
    assert_eq!(
        s.profile().unwrap().kind,
        tcpcheck_model::profile::ProfileKind::Rfc9293
    );
    assert!(s
        .tcp_info(Fd(3))
        .is_err_and(|e| tcpcheck::stack::needed(&e) == Some(Capability::TcpInfo)));
}

#[test]
fn fields_the_rfc_leaves_free_do_not_fail_another_stack() {
    // Linux's SYN-ACK with another window and other options than it sends.
    let text = script(
        "+0  > S. 0:0(0) ack 1 win 1234 <nop,wscale 3,mss 536>",
        "+0  > . 1:1(0) ack 11",
    );
    let linux = run(&text, false);
    assert!(
        matches!(&linux.verdict, Verdict::Fail(d) if d.line == 6),
        "{}",
        linux.describe()
    );
    let other = run(&text, true);
    assert_eq!(
        other.verdict,
        Verdict::Pass,
        "{}\n{}",
        other.describe(),
        other.trace
    );
}

#[test]
fn a_fixed_field_the_model_allows_otherwise_is_not_applicable() {
    // The script's ACK number is wrong; the stack's is right, and the model says so.
    let text = script("+0  > S. 0:0(0) ack 1 <...>", "+0  > . 1:1(0) ack 12");
    let linux = run(&text, false);
    assert!(
        matches!(&linux.verdict, Verdict::Fail(d) if d.line == 10),
        "{}",
        linux.describe()
    );
    let other = run(&text, true);
    assert_eq!(
        other.verdict,
        Verdict::NotApplicable {
            line: 10,
            needs: Capability::LinuxChoices
        },
        "{}\n{}",
        other.describe(),
        other.trace
    );
}

#[test]
fn a_departure_from_the_rfc_fails_another_stack_even_where_the_script_passes() {
    // The kernel's known deviations from RFC 9293 pass their scripts (written against
    // Linux) and diverge from the rfc9293 profile, which judges another stack.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../corpus/deviations/fin-after-fin-ignored.pkt"
    ))
    .unwrap();
    let linux = run_text("d.pkt", &text, IpVersion::V4, &RunOptions::default());
    assert_eq!(linux.verdict, Verdict::Pass, "{}", linux.describe());
    let other = run(&text, true);
    assert!(
        matches!(&other.verdict, Verdict::Fail(d) if d.message.starts_with("the model diverges: ")),
        "{}\n{}",
        other.describe(),
        other.trace
    );
}

/// A panic inside the stack is a failure of the scenario at the line that caused it, and a
/// divergence of the explorer's case, with its message; tcpcheck itself carries on.
#[test]
fn a_panic_inside_the_stack_is_a_finding() {
    let text = script("+0  > S. 0:0(0) ack 1 <...>", "+0  > . 1:1(0) ack 11")
        + "+0  < F. 11:11(0) ack 1 win 257\n+0  > . 1:1(0) ack 12\n";
    let opts = RunOptions {
        stack: &PanickyFactory,
        ..RunOptions::default()
    };
    let r = run_text("t.pkt", &text, IpVersion::V4, &opts);
    match &r.verdict {
        Verdict::Fail(d) => {
            assert_eq!(d.line, 11, "{}", r.describe());
            assert_eq!(d.message, "the stack panicked");
            assert_eq!(d.actual, "panicked: a FIN, and this stack cannot take one");
        }
        other => panic!(
            "expected the panic as a failure, got {other:?}\n{}",
            r.trace
        ),
    }

    use tcpcheck::explore::driver::PANIC_RULE;
    use tcpcheck::explore::{run_case_on, Case, Event, Pace, Setup, Target};
    let setup = Setup {
        passive: true,
        v6: false,
        peer_isn: 1000,
        mss: None,
        sack: false,
        wscale: None,
        ts: false,
    };
    use tcpcheck::explore::event::{AckOf, SegEvent, SeqAt};
    use tcpcheck_model::wire::TcpFlags;
    let fin = SegEvent {
        flags: TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0),
        seq: SeqAt::RcvNxt(0),
        ack: AckOf::SndNxt(0),
        len: 0,
        wnd: 512,
        options: false,
    };
    let case = Case {
        setup,
        events: vec![Event::Segment(fin)],
    };
    let target = Target {
        stack: &PanickyFactory,
        ..Target::default()
    };
    let o = run_case_on(
        target,
        &case,
        &tcpcheck_model::profile::Profile::rfc9293(),
        Pace::Quick,
    )
    .expect("a panic is no harness error");
    let f = o.found.expect("the panic is found");
    assert_eq!(f.rule, PANIC_RULE);
    assert_eq!(f.step, Some(0));
    assert_eq!(
        &*f.actual,
        "panicked: a FIN, and this stack cannot take one"
    );
}

/// A stack with many divergences keeps being explored: each divergence is sorted into a
/// class, one case per class is shrunk, the others are counted against it. On the kernel
/// as another stack (no known Linux deviation explains anything there) the panicking
/// adapter gives classes aplenty.
#[test]
fn the_explorer_keeps_going_and_shrinks_one_case_per_class() {
    use tcpcheck::explore::campaign::{self, Config, Verdict as CaseVerdict};
    use tcpcheck::explore::Target;
    use tcpcheck_model::profile::ProfileKind;
    let config = Config {
        profile: ProfileKind::Rfc9293,
        seed: 2026,
        cases: 40,
        jobs: 2,
        max_events: 8,
        shrink_time: Duration::from_secs(20),
        target: Target {
            stack: &PanickyFactory,
            ..Target::default()
        },
        ..Config::default()
    };
    let shrunk = std::sync::Mutex::new(Vec::new());
    let summary = campaign::run(&config, &|r| {
        if let CaseVerdict::Unexplained { original, .. } = &r.verdict {
            shrunk.lock().unwrap().push(campaign::Class::of(original));
        }
    })
    .expect("the campaign runs");
    let shrunk = shrunk.into_inner().unwrap();
    assert!(summary.unexplained > 0, "{summary:?}");
    assert_eq!(summary.errors, 0, "{summary:?}");
    // One shrunk case per class, and every unexplained case counted against its class.
    let mut classes = shrunk.clone();
    classes.sort();
    classes.dedup();
    assert_eq!(classes.len(), shrunk.len(), "{shrunk:#?}");
    assert_eq!(
        summary.findings.len(),
        shrunk.len(),
        "{:#?}",
        summary.findings
    );
    let hits: u64 = summary.findings.values().map(|f| f.hits).sum();
    assert_eq!(hits, summary.unexplained, "{:#?}", summary.findings);
    assert!(
        summary.known.is_empty(),
        "Linux's deviations explain nothing here"
    );
    assert!(
        summary
            .findings
            .keys()
            .any(|c| c.rule == tcpcheck::explore::driver::PANIC_RULE),
        "{:#?}",
        summary.findings
    );
}

/// The stack of a `prop_state_machine!` test, as a type: what a stack's crate writes to
/// run the explorer from its own `cargo test`.
struct ElsewhereSource;

impl tcpcheck::explore::sut::StackSource for ElsewhereSource {
    fn factory() -> &'static dyn StackFactory {
        &ElsewhereCaseFactory
    }
}

/// [`ElsewhereFactory`] made for explorer cases (one IP version, no kernel stamps).
struct ElsewhereCaseFactory;

impl StackFactory for ElsewhereCaseFactory {
    fn kind(&self) -> StackKind {
        StackKind::Smoltcp
    }
    fn open(&self, purpose: Purpose) -> io::Result<Box<dyn Stack>> {
        let config = tcpcheck::stack::registry::LinuxFactory::config(purpose);
        Ok(Box::new(Elsewhere(LinuxStack::with_config(config)?, false)))
    }
}

proptest_state_machine::prop_state_machine! {
    #![proptest_config(proptest::test_runner::Config {
        cases: 10,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    })]
    /// Any stack as proptest-state-machine's system under test (here the kernel behind the
    /// adapter, on the profile that describes it).
    #[test]
    fn another_stack_under_the_state_machine_test(
        sequential 1..8 => OnStack<LinuxProfile, ElsewhereSource>
    );
}

/// The whole corpus on the kernel as another stack: how the verdict rule sorts it. A
/// measurement (it takes the corpus's 2 minutes and prints the summary), not a check:
/// `cargo test -p tcpcheck --test other_stack -- --ignored --nocapture corpus`.
#[test]
#[ignore = "runs the whole corpus (2 minutes); prints how the rule sorts it"]
fn corpus_as_another_stack() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/scenarios"));
    let files = tcpcheck::runner::collect_all(&[dir.to_path_buf()]).unwrap();
    let jobs = files
        .iter()
        .map(|f| tcpcheck::runner::Job {
            path: f.display().to_string(),
            ip: IpVersion::V4,
            iteration: 0,
            source: std::sync::Arc::new(tcpcheck::runner::load(f)),
        })
        .collect();
    let opts = RunOptions {
        stack: &ElsewhereFactory,
        ..RunOptions::default()
    };
    let runs = tcpcheck::runner::run_jobs(jobs, 16, &opts, &|_| {});
    for r in runs.iter().filter(|r| r.verdict != Verdict::Pass) {
        println!(
            "{}",
            r.describe()
                .lines()
                .take(3)
                .collect::<Vec<_>>()
                .join("\n    ")
        );
    }
    println!("{}", tcpcheck::runner::report::summary(&runs).line());
}
