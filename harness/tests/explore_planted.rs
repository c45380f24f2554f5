//! The explorer finds a planted model bug and shrinks it. Built only with the test-only
//! feature: `cargo test -p tcpcheck --features planted-bug --test explore_planted`.
//!
//! The bug (tcpcheck-model's `planted-bug` feature): an in-window RST not exactly at RCV.NXT
//! resets the connection, where RFC 5961 3.2 (and the kernel) answer with a challenge ACK.

use std::time::Duration;

use tcpcheck::explore::{self, Config, Verdict};
use tcpcheck_model::profile::ProfileKind;

#[test]
fn planted_bug_is_found_and_shrunk_to_at_most_four_events() {
    let config = Config {
        profile: ProfileKind::Linux,
        seed: 1,
        cases: 400,
        jobs: 2,
        shrink_time: Duration::from_secs(120),
        ..Config::default()
    };
    let found = std::sync::Mutex::new(Vec::new());
    explore::run(&config, &|r| {
        if let Verdict::Unexplained {
            minimal, outcome, ..
        } = &r.verdict
        {
            found.lock().unwrap().push((
                r.index,
                minimal.events.clone(),
                outcome.found.clone(),
                outcome.script.text(""),
            ));
        }
    })
    .unwrap();
    let found = found.into_inner().unwrap();
    // The planted rule shows as the kernel's challenge ACK where the buggy model expected the
    // connection gone.
    let planted: Vec<_> = found
        .iter()
        .filter(|(_, events, f, _)| {
            f.as_ref().is_some_and(|f| f.actual.contains("<CTL=ACK>"))
                && events
                    .iter()
                    .any(|e| matches!(e, explore::Event::Segment(s) if s.flags.rst()))
        })
        .collect();
    assert!(
        !planted.is_empty(),
        "the planted bug was not found: {found:#?}"
    );
    let best = planted.iter().min_by_key(|(_, e, _, _)| e.len()).unwrap();
    assert!(
        best.1.len() <= 4,
        "shrunk to {} events, more than 4:\n{}",
        best.1.len(),
        best.3
    );
    eprintln!(
        "planted bug: case {} shrunk to {} events: {:?}\n{}",
        best.0,
        best.1.len(),
        best.1,
        best.3
    );
}
