//! One judge: a case the explorer ran, replayed from its `case.pkt` by the scenario runner
//! with the matching `--model`, gets the same model verdict (agree, or diverge with the
//! same rule and, on rfc9293, the same known deviation). Both feed the model through the
//! one adapter (`differ::Differ`); this checks that nothing around it (how the explorer
//! writes its scripts, how the runner replays them) makes them disagree.
//!
//! Every run is real: the explorer's case in its own namespace, then the runner's replay in
//! another.
//!
//! Only replays that did what the explorer's run did are compared: the script passed (the
//! kernel sent what the explorer saw it send). Others did not replay the case, and their
//! model verdicts judge a different run: a case whose second connection's ISS lies at
//! another distance from the first's (the scripts' numbers are relative to the first, and
//! the kernel's ISN clock ticks every 64 ns), a timestamp echo of 0 before the stack sent one
//! (packetdrill's "unable to infer live TS ecr"), a first segment other than a SYN at an
//! odd sequence number (packetdrill counts it from its own number, so the script writes half
//! of it). They are counted, with their reasons and
//! a first example of each; at least half the cases must replay faithfully (about 55 to 60
//! in 100 do), so the comparison never covers only a few.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as PtConfig, RngAlgorithm, TestRng, TestRunner};
use proptest_state_machine::ReferenceStateMachine;
use tcpcheck::differ::{ModelVerdict, Sent};
use tcpcheck::explore::deviations::classify;
use tcpcheck::explore::reference::ProfileSource;
use tcpcheck::explore::{campaign, run_case, Case, Explore, LinuxProfile, RfcProfile};
use tcpcheck::runner::{self, IpVersion, RunOptions};
use tcpcheck::trace::states::Side;
use tcpcheck_model::profile::{Profile, ProfileKind};

/// Cases per profile. Each is two real runs of a few milliseconds to a few hundred.
const CASES: u64 = 150;

/// Why one case's two verdicts differ, for the failure message.
fn disagreement(index: u64, explorer: &str, runner: &str, script: &str, describe: &str) -> String {
    format!("case {index}: explorer {explorer}; runner {runner}\n{describe}\n{script}")
}

fn verdict_text(rule: &str, deviation: Option<&str>) -> String {
    match deviation {
        Some(d) => format!("diverge ({rule}) [known deviation {d}]"),
        None => format!("diverge ({rule})"),
    }
}

/// What comparing a profile's cases found.
#[derive(Default)]
struct Tally {
    /// Replays that did what the explorer's run did, compared.
    compared: u64,
    /// Of those, cases the explorer found diverging.
    diverged: u64,
    /// Replays that did not replay the case, by the first line of the runner's account.
    unfaithful: std::collections::BTreeMap<String, u64>,
    /// The first replay of each kind that was not faithful: the runner's account and the
    /// script.
    examples: std::collections::BTreeMap<String, String>,
    disagreements: Vec<String>,
}

/// Runs `CASES` generated cases on profile `P` through the explorer and replays each one's
/// script through the runner.
fn compare<P: ProfileSource>(kind: ProfileKind, seed: u64) -> Tally {
    let profile: Profile = campaign::live_profile(kind).expect("profile");
    let opts = RunOptions {
        model: Some(kind),
        // A call that blocks where the explorer's returned did not replay the case; no
        // need to wait packetdrill's 30 s to know.
        hang_limit: std::time::Duration::from_secs(2),
        ..RunOptions::default()
    };
    let strategy = Explore::<P>::sequential_strategy(1..=12);
    let mut tally = Tally::default();
    for index in 0..CASES {
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &campaign::case_seed(seed, index));
        let mut pt = TestRunner::new_with_rng(PtConfig::default(), rng);
        let (state, events, _) = strategy.new_tree(&mut pt).expect("a case").current();
        let case = Case {
            setup: state.setup,
            events,
        };
        let outcome = match run_case(&case, &profile) {
            Ok(o) => o,
            Err(e) => {
                let text = format!("case {index}: explorer harness error: {e}");
                tally.disagreements.push(text);
                continue;
            }
        };
        let text = outcome.script.text("replayed by tests/one_judge.rs");
        let ip = if case.setup.v6 {
            IpVersion::V6
        } else {
            IpVersion::V4
        };
        let run = runner::run_text("case.pkt", &text, ip, &opts);
        if run.verdict != runner::Verdict::Pass {
            let describe = run.describe();
            let reason = describe.lines().nth(1).unwrap_or("").to_string();
            // Numbers and line positions vary: the kind of failure is what counts.
            let kind: String = reason
                .split_once(": ")
                .map_or(reason.as_str(), |(_, r)| r)
                .chars()
                .filter(|c| !c.is_ascii_digit())
                .collect();
            *tally.unfaithful.entry(kind.clone()).or_default() += 1;
            tally
                .examples
                .entry(kind)
                .or_insert_with(|| format!("case {index}:\n{describe}\n{text}"));
            continue;
        }
        // A state the explorer read that the replay's kernel did not end in: the kernel took
        // another branch on replay (a TS val a millisecond apart decides whether a request
        // takes an ACK), which the script's lines do not pin. Not a faithful replay.
        if let Some(Sent::State(seen)) = outcome.found.as_ref().map(|f| &f.departure.sent) {
            // The case's script ends at the diverging event, so the replay's last state
            // read is the one the explorer's read is compared with.
            let last = run
                .trace
                .states
                .iter()
                .rev()
                .find(|n| n.side == Side::Stack)
                .map(|n| n.state);
            if last != Some(*seen) && run.model == ModelVerdict::Agree {
                let kind = "the kernel's state differs on replay".to_string();
                *tally.unfaithful.entry(kind.clone()).or_default() += 1;
                tally
                    .examples
                    .entry(kind)
                    .or_insert_with(|| format!("case {index}:\n{}\n{text}", run.describe()));
                continue;
            }
        }
        tally.compared += 1;
        let explorer = outcome.found.as_ref().map(|f| {
            let name = classify(f, &profile).map(|d| d.name);
            (f.rule.clone(), name)
        });
        tally.diverged += u64::from(explorer.is_some());
        let explorer_text = match &explorer {
            None => "agree".to_string(),
            Some((rule, name)) => verdict_text(rule, *name),
        };
        let same = match (&explorer, &run.model) {
            (None, ModelVerdict::Agree) => true,
            (Some((rule, name)), ModelVerdict::Diverge(d)) => {
                *rule == d.rule.to_string() && *name == d.deviation
            }
            _ => false,
        };
        if !same {
            let runner_text = match &run.model {
                ModelVerdict::Agree => "agree".to_string(),
                ModelVerdict::Diverge(d) => verdict_text(&d.rule.to_string(), d.deviation),
                ModelVerdict::Off(why) => format!("off ({why})"),
            };
            tally.disagreements.push(disagreement(
                index,
                &explorer_text,
                &runner_text,
                &text,
                &run.describe(),
            ));
        }
    }
    tally
}

fn check<P: ProfileSource>(kind: ProfileKind, seed: u64) {
    let t = compare::<P>(kind, seed);
    let unfaithful: u64 = t.unfaithful.values().sum();
    eprintln!(
        "{kind:?}: {} cases compared ({} diverged in the explorer), {} disagreements; \
         {unfaithful} not replayed faithfully: {:?}",
        t.compared,
        t.diverged,
        t.disagreements.len(),
        t.unfaithful
    );
    assert!(
        t.disagreements.is_empty(),
        "{} of {} cases judged differently:\n\n{}",
        t.disagreements.len(),
        t.compared,
        t.disagreements.join("\n\n")
    );
    if t.compared < unfaithful {
        for e in t.examples.values() {
            eprintln!("{e}\n");
        }
    }
    assert!(
        t.compared >= unfaithful,
        "only {} of {CASES} cases replayed faithfully: {:?}",
        t.compared,
        t.unfaithful
    );
}

#[test]
fn runner_replay_judges_rfc9293_cases_as_the_explorer() {
    check::<RfcProfile>(ProfileKind::Rfc9293, 0x1_2026);
}

#[test]
fn runner_replay_judges_linux_cases_as_the_explorer() {
    check::<LinuxProfile>(ProfileKind::Linux, 0x1_2026);
}
