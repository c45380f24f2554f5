//! The explorer against the local kernel: a campaign on the `linux` profile finds nothing the
//! model does not explain; the same through proptest-state-machine's own test macro (whose
//! failures go to `proptest-regressions/explore.txt`, committed); counterexamples are
//! written as scripts the scenario parser reads back; every known deviation has its
//! demonstrating scenario, and it passes on the kernel.

use std::time::Duration;

use proptest::test_runner::{Config as PtConfig, FileFailurePersistence};
use proptest_state_machine::prop_state_machine;
use tcpcheck::explore::deviations::DEVIATIONS;
use tcpcheck::explore::event::{AckOf, Event, SegEvent, SeqAt, Setup};
use tcpcheck::explore::sut::Kernel;
use tcpcheck::explore::{self, campaign, run_case, Case, Config, LinuxProfile, Verdict};
use tcpcheck::runner::{self, IpVersion, RunOptions};
use tcpcheck_model::profile::{Profile, ProfileKind};
use tcpcheck_model::wire::TcpFlags;

fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// RFC 9293 3.10.7.4 and RFC 5961 in every state the generator reaches: the linux profile
/// explains everything the kernel does. A failure prints the shrunk case as a script.
#[test]
fn linux_profile_campaign_finds_no_unexplained_divergence() {
    let config = Config {
        profile: ProfileKind::Linux,
        seed: 0x7C9C_2026,
        cases: 300,
        jobs: 2,
        shrink_time: Duration::from_secs(60),
        ..Config::default()
    };
    let out = std::env::temp_dir().join(format!("tcpcheck-explore-{}", std::process::id()));
    let failures = std::sync::Mutex::new(Vec::new());
    let summary = explore::run(&config, &|r| match &r.verdict {
        Verdict::Unexplained {
            original,
            minimal,
            outcome,
            ..
        } => {
            let dir = explore::bundle::write(&out, &config, r.index, original, minimal, outcome);
            failures.lock().unwrap().push(format!(
                "case {}: {}\n{}\nbundle: {dir:?}",
                r.index,
                outcome.found.as_ref().unwrap_or(original),
                outcome.script.text("")
            ));
        }
        Verdict::Error(e) => failures
            .lock()
            .unwrap()
            .push(format!("case {}: {e}", r.index)),
        _ => {}
    })
    .unwrap();
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(summary.cases, 300);
    assert!(
        summary.events > 300,
        "cases should average more than one event"
    );
}

prop_state_machine! {
    #![proptest_config(PtConfig {
        cases: 40,
        max_shrink_time: 60_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::SourceParallel(
            "proptest-regressions",
        ))),
        ..PtConfig::default()
    })]
    /// The same property through proptest-state-machine's macro: the kernel is its system
    /// under test, the model its reference.
    #[test]
    fn kernel_follows_the_linux_profile(sequential 1..12 => Kernel<LinuxProfile>);
}

/// A case renders as a packetdrill script that the scenario parser accepts.
#[test]
fn cases_render_as_scripts() {
    let seg = |flags, seq, ack, len| {
        Event::Segment(SegEvent {
            flags,
            seq,
            ack,
            len,
            wnd: 65535,
            options: true,
        })
    };
    for (passive, ts, v6) in [
        (true, false, false),
        (false, true, false),
        (true, true, true),
    ] {
        let setup = Setup {
            passive,
            v6,
            peer_isn: u32::MAX - 10,
            mss: Some(1460),
            sack: true,
            wscale: Some(7),
            ts,
        };
        let mut events = Vec::new();
        if passive {
            events.push(seg(TcpFlags::SYN, SeqAt::PeerIsn(0), AckOf::SndNxt(0), 0));
            events.push(seg(TcpFlags::ACK, SeqAt::RcvNxt(0), AckOf::SndNxt(0), 0));
        } else {
            events.push(seg(
                TcpFlags::SYN | TcpFlags::ACK,
                SeqAt::PeerIsn(0),
                AckOf::SndNxt(0),
                0,
            ));
        }
        events.extend([
            seg(
                TcpFlags::ACK | TcpFlags::PSH,
                SeqAt::RcvNxt(0),
                AckOf::SndNxt(0),
                30,
            ),
            Event::Write(100),
            Event::Read(10),
            seg(
                TcpFlags::ACK | TcpFlags::FIN,
                SeqAt::RcvNxt(0),
                AckOf::SndNxt(0),
                0,
            ),
            Event::Shutdown,
        ]);
        let case = Case { setup, events };
        let profile = campaign::live_profile(ProfileKind::Linux).unwrap();
        let outcome = run_case(&case, &profile).unwrap();
        assert_eq!(outcome.found, None, "{}", outcome.script.text(""));
        let text = outcome.script.text("rendered by tests/explore.rs");
        let parsed =
            tcpcheck::scenario::parse("case.pkt", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(parsed.events.len() >= 10, "{text}");
        // Replayed by the scenario runner, the script passes: it is what the kernel did.
        let ip = if v6 { IpVersion::V6 } else { IpVersion::V4 };
        let run = runner::run_text("case.pkt", &text, ip, &RunOptions::default());
        assert_eq!(
            run.verdict,
            runner::Verdict::Pass,
            "{}\n{text}",
            run.describe()
        );
    }
}

/// Every known deviation names a scenario that exists and passes on the kernel (it pins
/// Linux's behaviour), and says what the RFC says and where the Linux behaviour comes from.
#[test]
fn deviations_have_passing_scenarios() {
    let mut names = std::collections::BTreeSet::new();
    for d in DEVIATIONS {
        assert!(names.insert(d.name), "duplicate deviation {}", d.name);
        assert!(!d.linux.is_empty() && !d.rfc.is_empty() && !d.source.is_empty());
        let path = repo_root().join(d.scenario);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {}: {e}", d.name, path.display()));
        let run = runner::run_text(d.scenario, &text, IpVersion::V4, &RunOptions::default());
        assert_eq!(
            run.verdict,
            runner::Verdict::Pass,
            "{}: {}",
            d.name,
            run.describe()
        );
    }
}

/// The rfc9293 profile labels what it finds with the registry's names.
#[test]
fn rfc9293_profile_labels_known_deviations() {
    let config = Config {
        profile: ProfileKind::Rfc9293,
        seed: 0x7C9C_2026,
        cases: 150,
        jobs: 2,
        shrink_time: Duration::ZERO,
        ..Config::default()
    };
    let s = explore::run(&config, &|_| {}).unwrap();
    assert!(
        !s.known.is_empty(),
        "150 cases on rfc9293 should meet a known deviation: {s:?}"
    );
    let _ = Profile::rfc9293();
}

/// A segment sent again is judged by its own control bits, in the explorer as in the
/// runner (one judge): the peer's SYN again in a simultaneous open's SYN-RECEIVED draws
/// Linux's challenge ACK, which the RFC's model, trimming the SYN, does not owe
/// (`simultaneous-open-syn-not-trimmed`; explorer rfc9293, seed 123456, case 6034, whose
/// window of 0 put the ACK at SND.UNA as well). A replayed event used to count as a call.
#[test]
fn a_replayed_syn_is_judged_as_a_syn() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: false,
            peer_isn: 0,
            mss: Some(1460),
            sack: false,
            wscale: None,
            ts: true,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::SYN,
                seq: SeqAt::PeerIsn(0),
                ack: AckOf::SndNxt(0),
                len: 0,
                wnd: 0,
                options: true,
            }),
            Event::Replay(0),
        ],
    };
    let profile = campaign::live_profile(ProfileKind::Rfc9293).unwrap();
    let outcome = run_case(&case, &profile).unwrap();
    let found = outcome.found.expect("the RFC's model owes no ACK");
    assert_eq!(
        found.trigger,
        tcpcheck::differ::Trigger::Segment(TcpFlags::SYN)
    );
    assert_eq!(
        explore::deviations::classify(&found, &profile).map(|d| d.name),
        Some("simultaneous-open-syn-not-trimmed"),
        "{found}"
    );
}
