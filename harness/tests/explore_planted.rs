//! The explorer finds a planted model bug and shrinks it. Built only with the test-only
//! feature: `cargo test -p tcpcheck --features planted-bug --test explore_planted`.
//!
//! The bug (tcpcheck-model's `planted-bug` feature): an in-window RST not exactly at RCV.NXT
//! resets the connection, where RFC 5961 3.2 (and the kernel) answer with a challenge ACK.

use std::time::Duration;

use tcpcheck::explore::{self, campaign, Config, Verdict};
use tcpcheck_model::profile::ProfileKind;
use tcpcheck_model::wire::TcpFlags;

#[test]
fn planted_bug_is_found_and_shrunk_to_at_most_five_events() {
    let config = Config {
        profile: ProfileKind::Linux,
        seed: 1,
        cases: 400,
        jobs: 1,
        shrink_time: Duration::from_secs(30),
        ..Config::default()
    };
    let profile = campaign::live_profile(ProfileKind::Linux).unwrap();
    let mut other = Vec::new();
    // Case by case until the planted rule shows: the kernel's challenge ACK where the buggy
    // model expected the connection gone.
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
        let planted = outcome
            .found
            .as_ref()
            .is_some_and(|f| f.departure.sent.ctl_is(TcpFlags::ACK))
            && minimal
                .events
                .iter()
                .any(|e| matches!(e, explore::Event::Segment(s) if s.flags.rst()));
        if !planted {
            other.push(format!("case {index}: {:?}", outcome.found));
            continue;
        }
        let text = outcome.script.text("");
        // Seed 1's first planted case shrank to 4 events until the explorer drew ICMP and
        // TCP_QUICKACK events too; the case drawn now is another, whose smallest form the
        // shrinker reaches is 5 events (a handshake, data, the peer's FIN twice, the RST).
        assert!(
            minimal.events.len() <= 5,
            "shrunk to {} events, more than 5:\n{text}",
            minimal.events.len()
        );
        eprintln!(
            "planted bug found in case {index}, shrunk to {} events:\n{text}",
            minimal.events.len()
        );
        // The bundle's report.html: the minimal case replayed by the runner, whose model
        // (planted too) diverges at the same segment, shaded on the ladder.
        let out = std::env::temp_dir().join(format!("tcpcheck-planted-{}", std::process::id()));
        let dir = explore::bundle::write(&out, &config, index, original, minimal, outcome)
            .expect("writing the bundle");
        let page = std::fs::read_to_string(dir.join(explore::bundle::HTML)).unwrap();
        let _ = std::fs::remove_dir_all(&out);
        assert!(page.contains("class=\"ladder\""), "{page}");
        assert!(page.contains("class=\"divergence\""), "{page}");
        assert!(page.contains(">ESTABLISHED</text>"), "{page}");
        return;
    }
    panic!(
        "the planted bug was not found in {} cases; other divergences: {other:#?}",
        config.cases
    );
}
