//! "Not applicable (needs X)": a scenario line or an explorer event that needs a capability
//! the stack lacks is neither a pass nor a failure, and is counted apart in every summary.
//! The kernel has every capability, so these tests mask some of them (`RunOptions::hide`,
//! `Target::hide`) and check the same script passes with nothing masked. Run as root.

use tcpcheck::explore::campaign::live_profile;
use tcpcheck::explore::{run_case_on, Case, Event, Pace, Setup, Target};
use tcpcheck::runner::report;
use tcpcheck::runner::{run_text, IpVersion, RunOptions, ScenarioRun, Verdict};
use tcpcheck::stack::{Capabilities, Capability, Registry, StackKind};
use tcpcheck_model::profile::ProfileKind;

/// An active close after a one-way shutdown: line 11 needs half-close.
const HALF_CLOSE: &str = "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0  > S. 0:0(0) ack 1 <...>
+.01 < . 1:1(0) ack 1 win 257
+0  accept(3, ..., ...) = 4

// The stack's half of the connection ends here; the peer's may go on.
+0  shutdown(4, SHUT_WR) = 0
+0  > F. 1:1(0) ack 1
";

/// A blocking connect(), whose outcome the runner reads from the connection's state (a
/// need only the run shows, not the script's text).
const BLOCKING_CONNECT: &str = "\
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0...0.01 connect(3, ..., ...) = 0
*   > S 0:0(0) <...>
+.01 < S. 0:0(0) ack 1 win 5792 <mss 1460,sackOK,nop,nop,nop,wscale 7>
*   > . 1:1(0) ack 1
";

fn run(text: &str, hide: Capabilities) -> ScenarioRun {
    let opts = RunOptions {
        hide,
        ..RunOptions::default()
    };
    run_text("t.pkt", text, IpVersion::V4, &opts)
}

#[test]
fn a_line_needing_a_missing_capability_is_not_applicable() {
    let all = run(HALF_CLOSE, Capabilities::NONE);
    assert_eq!(
        all.verdict,
        Verdict::Pass,
        "{}\n{}",
        all.describe(),
        all.trace
    );

    let hidden = Capabilities::NONE.with(Capability::HalfClose);
    let r = run(HALF_CLOSE, hidden);
    assert_eq!(
        r.verdict,
        Verdict::NotApplicable {
            line: 11,
            needs: Capability::HalfClose
        },
        "{}",
        r.describe()
    );
    assert_eq!(
        r.describe(),
        "n/a t.pkt (ipv4): not applicable (needs half-close), line 11"
    );
    // Nothing ran: not a single packet went in.
    assert!(
        !r.trace
            .events
            .iter()
            .any(|e| matches!(e.kind, tcpcheck::trace::EventKind::Injected { .. })),
        "{}",
        r.trace
    );
}

#[test]
fn a_need_the_run_discovers_stops_it_as_not_applicable() {
    let all = run(BLOCKING_CONNECT, Capabilities::NONE);
    assert_eq!(
        all.verdict,
        Verdict::Pass,
        "{}\n{}",
        all.describe(),
        all.trace
    );

    let r = run(
        BLOCKING_CONNECT,
        Capabilities::NONE.with(Capability::ConnectionState),
    );
    assert_eq!(
        r.verdict,
        Verdict::NotApplicable {
            line: 2,
            needs: Capability::ConnectionState
        },
        "{}\n{}",
        r.describe(),
        r.trace
    );
}

#[test]
fn not_applicable_is_counted_apart_in_every_summary_and_is_no_failure() {
    let pass = run(HALF_CLOSE, Capabilities::NONE);
    let na = run(HALF_CLOSE, Capabilities::NONE.with(Capability::HalfClose));
    let runs = [pass, na];

    let s = report::summary(&runs);
    assert_eq!(
        (s.passed, s.failed, s.errors, s.not_applicable),
        (1, 0, 0, 1)
    );
    assert_eq!(s.line(), "1 passed, 0 failed, 0 errors, 1 not applicable");

    let json = report::json(&runs);
    assert_eq!(json["summary"]["not_applicable"], 1);
    assert_eq!(json["summary"]["failed"], 0);
    assert_eq!(json["scenarios"][1]["verdict"], "not applicable");
    assert_eq!(json["scenarios"][1]["needs"], "half-close");
    assert_eq!(json["scenarios"][1]["line"], 11);

    let junit = report::junit(&runs);
    assert!(
        junit.contains("failures=\"0\" errors=\"0\" skipped=\"1\""),
        "{junit}"
    );
    assert!(
        junit.contains("<skipped message=\"not applicable (needs half-close)\"/>"),
        "{junit}"
    );

    let md = report::markdown(&runs);
    assert!(
        md.contains("1 passed, 0 failed, 0 errors, 1 not applicable"),
        "{md}"
    );
    assert!(md.contains("| not applicable |"), "{md}");
}

#[test]
fn an_explorer_event_needing_a_missing_capability_is_skipped_and_counted() {
    let case = Case {
        setup: Setup {
            passive: true,
            v6: false,
            peer_isn: 1000,
            mss: None,
            sack: false,
            wscale: None,
            ts: false,
        },
        events: vec![Event::Shutdown, Event::Abort],
    };
    let profile = live_profile(ProfileKind::Linux).expect("the linux profile");
    let target = Target {
        hide: Capabilities::NONE
            .with(Capability::HalfClose)
            .with(Capability::Linger),
        ..Target::default()
    };
    let o = run_case_on(target, &case, &profile, Pace::Quick).expect("the case runs");
    assert_eq!(o.found, None, "{}", o.trace);
    assert_eq!(o.events_run, 2);
    assert_eq!(
        o.not_applicable,
        [Capability::HalfClose, Capability::Linger]
    );
    // With everything there, both events run (and reach the stack).
    let o = run_case_on(Target::default(), &case, &profile, Pace::Quick).expect("runs");
    assert!(o.not_applicable.is_empty());
}

/// `--stack smoltcp` on a binary without it (the harness's own registry, Linux alone, as a
/// stack crate's binary starts from): a usage error naming what it has, exit 2, before
/// anything runs (for `run` and `explore` alike). In-process: the workspace's `tcpcheck`
/// binary (harness/cli) has smoltcp, so it cannot show this refusal.
#[test]
fn a_stack_not_built_in_is_refused_by_name() {
    let refusal = Registry::builtin()
        .get(StackKind::Smoltcp)
        .expect_err("Linux alone");
    assert!(
        refusal.contains("--stack smoltcp: not built in to this binary (it has linux)"),
        "{refusal}"
    );
    for sub in ["run", "explore"] {
        let code =
            tcpcheck::cli::main_from(Registry::builtin(), ["tcpcheck", sub, "--stack", "smoltcp"]);
        assert_eq!(code, std::process::ExitCode::from(2), "{sub}");
    }
}

/// A stack that cannot tell its connection states runs the script all the same, on its
/// segments; the state check is off for it, and every report says why. With the states
/// there, they are compared and nothing is said.
#[test]
fn a_stack_without_states_runs_with_the_state_check_off_and_says_why() {
    let all = run(HALF_CLOSE, Capabilities::NONE);
    assert_eq!(all.verdict, Verdict::Pass, "{}", all.describe());
    assert_eq!(all.states_off, None, "{}", all.describe());
    assert!(!all.describe().contains("states:"), "{}", all.describe());

    let r = run(
        HALF_CLOSE,
        Capabilities::NONE.with(Capability::ConnectionState),
    );
    assert_eq!(r.verdict, Verdict::Pass, "{}\n{}", r.describe(), r.trace);
    let why = r
        .states_off
        .as_deref()
        .expect("the state check says it is off");
    assert!(why.contains("needs connection-state"), "{why}");
    assert!(
        r.describe().contains(&format!("\n  states: {why}")),
        "{}",
        r.describe()
    );
    let json = report::json(std::slice::from_ref(&r));
    assert_eq!(json["scenarios"][0]["states_off"], why);
    assert!(
        r.trace.to_string().contains(&format!("states: {why}")),
        "{}",
        r.trace
    );
}
