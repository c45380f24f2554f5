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
use tcpcheck::explore::{self, campaign, Config, Verdict};
use tcpcheck::runner::{self, report, IpVersion, RunOptions};
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
            original,
            minimal,
            outcome,
            ..
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
        // The bundle says it too: its report names the two states, and its report.html
        // replays the minimal case, whose run (the same planted model) diverges on the
        // state, shaded, with TIME-WAIT in the stack's column beside the model's CLOSED.
        let out =
            std::env::temp_dir().join(format!("tcpcheck-states-planted-{}", std::process::id()));
        let dir = explore::bundle::write(&out, &config, index, original, minimal, outcome)
            .expect("writing the bundle");
        let md = std::fs::read_to_string(dir.join(explore::bundle::REPORT)).unwrap();
        let page = std::fs::read_to_string(dir.join(explore::bundle::HTML)).unwrap();
        let _ = std::fs::remove_dir_all(&out);
        for words in ["state CLOSED", "state TIME-WAIT"] {
            assert!(md.contains(words), "{words} not in report.md:\n{md}");
        }
        shows_the_state_divergence(&page);
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
    // From a file, so that the reports can draw the run's ladder from its script.
    let dir = std::env::temp_dir().join(format!(
        "tcpcheck-states-planted-run-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("planted.pkt");
    std::fs::write(&path, text).unwrap();
    let (text, script) = runner::load(&path).expect("the script loads");
    let name = path.display().to_string();
    let run = runner::run_script(&name, &text, &script, IpVersion::V4, &RunOptions::default());
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
    // And the reports: report.html shades it, report.md's diagram says the states differ.
    let written = report::write_dir(&dir.join("report"), std::slice::from_ref(&run));
    let read = |name: &str| std::fs::read_to_string(dir.join("report").join(name));
    let (page, md) = (read("report.html"), read("report.md"));
    let _ = std::fs::remove_dir_all(&dir);
    written.expect("writing the report");
    let (page, md) = (page.unwrap(), md.unwrap());
    shows_the_state_divergence(&page);
    assert!(page.contains("script line 12"), "{page}");
    assert!(
        md.contains("Note left of K: model CLOSED, stack TIME-WAIT (differ)"),
        "{md}"
    );
}

/// A report.html that shows the planted divergence: the box with the two states, the row
/// shaded, and TIME-WAIT in red in the stack's column where the model has CLOSED.
fn shows_the_state_divergence(page: &str) {
    let boxed = page
        .split("<div class=\"divergence-box\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no divergence box:\n{page}"));
    let boxed = boxed.split("</div>").next().unwrap();
    assert!(
        boxed.contains("<dt>expected</dt><dd>state CLOSED</dd>"),
        "{boxed}"
    );
    assert!(
        boxed.contains("<dt>the stack did</dt><dd>state TIME-WAIT</dd>"),
        "{boxed}"
    );
    assert_eq!(page.matches("class=\"divergence\"").count(), 1, "{page}");
    for state in ["CLOSED", "TIME-WAIT"] {
        assert!(
            page.contains(&format!(
                "fill=\"#b00\" font-weight=\"bold\">{state}</text>"
            )),
            "{state} not marked as differing:\n{page}"
        );
    }
}
