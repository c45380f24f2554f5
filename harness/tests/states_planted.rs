//! The state check finds a planted model bug that segments alone do not show, and the
//! explorer shrinks it. Built only with the test-only feature:
//! `cargo test -p tcpcheck --features planted-state-bug --test states_planted`.
//!
//! The bug (tcpcheck-model's `planted-state-bug` feature): FIN-WAIT-2 enters CLOSED on the
//! peer's FIN where RFC 9293 3.10.7.4 (and the kernel) enter TIME-WAIT. The FIN is still
//! acknowledged, so every segment agrees; only the kernel's own state (a timewait socket on
//! the connection's endpoints) tells.

use std::time::Duration;

use tcpcheck::differ::{ModelVerdict, Owed, Sent};
use tcpcheck::explore::{campaign, Config, Verdict};
use tcpcheck::runner::{self, IpVersion, RunOptions};
use tcpcheck_model::conn::State;
use tcpcheck_model::profile::ProfileKind;

#[test]
fn planted_state_bug_is_found_by_the_state_check_and_shrunk_to_at_most_four_events() {
    let config = Config {
        profile: ProfileKind::Linux,
        seed: 1,
        cases: 600,
        jobs: 1,
        shrink_time: Duration::from_secs(30),
        ..Config::default()
    };
    let profile = campaign::live_profile(ProfileKind::Linux).unwrap();
    let mut other = Vec::new();
    for index in 0..config.cases {
        let r = campaign::run_one(&config, &profile, index);
        let Verdict::Unexplained {
            minimal, outcome, ..
        } = &r.verdict
        else {
            continue;
        };
        let Some(found) = &outcome.found else {
            continue;
        };
        let planted = found.departure.owed == Owed::State(State::Closed)
            && found.departure.sent == Sent::State(State::TimeWait);
        if !planted {
            other.push(format!("case {index}: {found}"));
            continue;
        }
        let text = outcome.script.text("");
        assert!(
            minimal.events.len() <= 4,
            "shrunk to {} events, more than 4:\n{text}",
            minimal.events.len()
        );
        eprintln!(
            "planted state bug found in case {index}, shrunk to {} events:\n{text}",
            minimal.events.len()
        );
        return;
    }
    panic!(
        "the planted state bug was not found in {} cases; other divergences: {other:#?}",
        config.cases
    );
}

/// The runner's state check sees it too, at the line of the peer's FIN, where every segment
/// of the script passes.
#[test]
fn the_runner_reports_the_planted_state_bug_at_the_fin() {
    let text = "\
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+0 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
+0 close(4) = 0
+0 > F. 1:1(0) ack 1
+0 < . 1:1(0) ack 2 win 65535
+0 < F. 1:1(0) ack 2 win 65535
+0 > . 2:2(0) ack 2
";
    let run = runner::run_text("planted.pkt", text, IpVersion::V4, &RunOptions::default());
    assert_eq!(run.verdict, runner::Verdict::Pass, "{}", run.describe());
    let ModelVerdict::Diverge(d) = &run.model else {
        panic!("the model agreed: {}", run.describe());
    };
    assert_eq!(d.departure.owed, Owed::State(State::Closed), "{d}");
    assert_eq!(d.departure.sent, Sent::State(State::TimeWait), "{d}");
    assert_eq!(d.line, 12, "{d}");
    assert!(
        run.describe().contains("state TIME-WAIT"),
        "{}",
        run.describe()
    );
}
