//! A campaign: many cases, each from its own seed, spread over threads and machines.
//!
//! Case `i` of a campaign with seed `S` is generated from a seed derived from `(S, i)` alone,
//! so `--shard I/N` (the cases with `i % N == I`) on N machines runs exactly the campaign one
//! machine would, and any case can be run again by its index. Each case is one proptest run:
//! the reference state machine generates it, the kernel runs it, and on an unexplained
//! divergence proptest-state-machine shrinks it (fresh sandbox per attempt) within the
//! shrink time limit.
//!
//! A divergence is replayed before it is reported ([`REPLAYS`] more runs of the same case,
//! each in a fresh sandbox): a kernel that departs from the model does so every time, while
//! a run spoilt by the machine (a capture or a timer late under load) does not. One that
//! does not reproduce on every replay is [`Verdict::Unconfirmed`]: reported with its trace,
//! counted apart, and not a failure of the campaign.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proptest::test_runner::{
    Config as PtConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use proptest_state_machine::ReferenceStateMachine;
use tcpcheck_model::profile::{Profile, ProfileKind};

use super::deviations::{classify, Deviation};
use super::driver::{
    run_case_on, run_case_unscripted, Case, Found, HarnessError, Outcome, Pace, Target,
};
use super::findings::Findings;
pub use super::findings::{Class, Finding};
use super::reference::{Explore, LinuxProfile, ProfileSource, RfcProfile};
use super::sample;
use crate::stack::{documented, Capability, Choice, Purpose, StackKind};

#[derive(Clone, Debug)]
pub struct Config {
    pub profile: ProfileKind,
    pub seed: u64,
    /// Cases in the whole campaign (all shards).
    pub cases: u64,
    /// This machine's shard: (index, count).
    pub shard: (u64, u64),
    pub jobs: usize,
    /// Events per case, at most (at least one).
    pub max_events: usize,
    /// How long shrinking one failure may take.
    pub shrink_time: Duration,
    /// Run only this case index (replay).
    pub only_case: Option<u64>,
    /// Whether steps wait for delayed ACKs too (see [`Pace`]).
    pub pace: Pace,
    /// The stack the cases run on.
    pub target: Target,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            profile: ProfileKind::Linux,
            seed: 0,
            cases: 1000,
            shard: (0, 1),
            jobs: 1,
            max_events: 12,
            shrink_time: Duration::from_secs(60),
            only_case: None,
            pace: Pace::default(),
            target: Target::default(),
        }
    }
}

/// How one case ended.
#[derive(Debug)]
pub enum Verdict {
    Pass,
    /// A divergence the registry explains (rfc9293 profile only).
    Known(&'static Deviation, Found),
    /// A divergence the stack documents as its choice (see [`Choice`]): not a defect.
    Choice(&'static Choice, Found),
    /// An unexplained divergence of a class another case was shrunk for (see
    /// [`super::findings`]): counted, not shrunk again.
    Repeat(Class, Found),
    /// A divergence nothing explains, shrunk: the minimal case and its run.
    Unexplained {
        original: Found,
        minimal: Case,
        outcome: Box<Outcome>,
        shrink_runs: u32,
    },
    /// A divergence nothing explains that did not come back on every replay: reported with
    /// the run that showed it (not shrunk), and not a failure of the campaign.
    Unconfirmed {
        found: Found,
        case: Case,
        outcome: Box<Outcome>,
        replays: Replays,
    },
    /// The case needs what the stack lacks (its IP version): nothing ran.
    NotApplicable(Capability),
    /// The harness failed; says nothing about the kernel.
    Error(String),
}

/// How many times the case is run again before a divergence is reported as the kernel's.
pub const REPLAYS: u32 = 2;

/// What replaying a divergence showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replays {
    /// Replays that diverged the same way (same rule, same state).
    pub reproduced: u32,
    /// Replays run.
    pub of: u32,
}

impl Replays {
    /// Confirmed: it came back every time.
    pub fn confirmed(&self) -> bool {
        self.reproduced == self.of
    }
}

impl std::fmt::Display for Replays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "reproduced in {} of {} replays",
            self.reproduced, self.of
        )
    }
}

/// Runs the case `n` more times (`rerun` gives each run's divergence, if any) and counts the
/// runs that diverge as `found` did. A replay the harness could not run counts as one that
/// did not reproduce: nothing confirms the divergence then.
pub fn replay(found: &Found, n: u32, mut rerun: impl FnMut() -> Option<Found>) -> Replays {
    let reproduced = (0..n)
        .filter(|_| rerun().is_some_and(|again| same_failure(found, &again)))
        .count() as u32;
    Replays { reproduced, of: n }
}

#[derive(Debug)]
pub struct CaseResult {
    pub index: u64,
    pub verdict: Verdict,
    /// Events run in the first attempt.
    pub events: usize,
    /// Events the generator drew for the case (the first attempt's): more than were run
    /// when it diverged before its end.
    pub drawn: usize,
    /// What each event of the first attempt that was not applicable needed.
    pub not_applicable: Vec<Capability>,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub cases: u64,
    pub passed: u64,
    /// Events run, over all cases (a case ends at its divergence).
    pub events: u64,
    /// Events the generator drew, over all cases (see [`CaseResult::drawn`]).
    pub drawn: u64,
    pub known: BTreeMap<&'static str, u64>,
    /// Divergences the stack documents as its choices, by the choice's name.
    pub choices: BTreeMap<&'static str, u64>,
    /// The unexplained divergences by class: hits and the case shrunk for each.
    pub findings: BTreeMap<Class, Finding>,
    pub unexplained: u64,
    /// Divergences that did not reproduce on replay (see [`Verdict::Unconfirmed`]).
    pub unconfirmed: u64,
    pub errors: u64,
    /// Cases that could not run at all on the stack (see [`Verdict::NotApplicable`]).
    pub not_applicable: u64,
    /// Events not run for lack of a capability, by the capability's name.
    pub events_not_applicable: BTreeMap<&'static str, u64>,
    pub elapsed: Duration,
}

impl Summary {
    fn add(&mut self, r: &CaseResult) {
        self.cases += 1;
        self.events += r.events as u64;
        self.drawn += r.drawn as u64;
        for c in &r.not_applicable {
            *self.events_not_applicable.entry(c.name()).or_default() += 1;
        }
        match &r.verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Known(d, _) => *self.known.entry(d.name).or_default() += 1,
            Verdict::Choice(c, _) => *self.choices.entry(c.name).or_default() += 1,
            Verdict::Repeat(..) => self.unexplained += 1,
            Verdict::Unexplained { .. } => self.unexplained += 1,
            Verdict::Unconfirmed { .. } => self.unconfirmed += 1,
            Verdict::Error(_) => self.errors += 1,
            Verdict::NotApplicable(_) => self.not_applicable += 1,
        }
    }

    pub fn cases_per_second(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The 32-byte proptest seed of case `index` (splitmix64 over the campaign seed and index).
pub fn case_seed(seed: u64, index: u64) -> [u8; 32] {
    let mut x = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes());
    }
    out
}

/// The live model's profile: for `linux`, read from a fresh namespace's sysctls by the one
/// profile builder ([`crate::differ::profile`]).
pub fn live_profile(kind: ProfileKind) -> Result<Profile, String> {
    live_profile_on(Target::default(), kind)
}

/// [`live_profile`] for the stack of `target`: `linux` is the stack's own profile, as a
/// fresh stack of its kind reports it ([`crate::stack::Stack::profile`]).
pub fn live_profile_on(target: Target, kind: ProfileKind) -> Result<Profile, String> {
    match kind {
        ProfileKind::Rfc9293 => Ok(Profile::rfc9293()),
        ProfileKind::Linux => {
            let mut stack = target
                .stack
                .open(Purpose::Scenario)
                .map_err(|e| format!("cannot create the stack: {e}"))?;
            let profile = stack.profile()?;
            match profile.kind {
                ProfileKind::Linux => Ok(profile),
                ProfileKind::Rfc9293 => Err(format!(
                    "--profile linux describes the Linux kernel; {} is judged by --profile rfc9293",
                    stack.name()
                )),
            }
        }
    }
}

/// The indices this shard runs, in order.
pub fn shard_indices(config: &Config) -> Vec<u64> {
    if let Some(i) = config.only_case {
        return vec![i];
    }
    let (i, n) = config.shard;
    (0..config.cases).filter(|c| c % n.max(1) == i).collect()
}

/// Runs the campaign; `on_case` sees each case as it finishes (from worker threads).
pub fn run(config: &Config, on_case: &(dyn Fn(&CaseResult) + Sync)) -> Result<Summary, String> {
    let profile = live_profile_on(config.target, config.profile)?;
    let indices = shard_indices(config);
    let next = AtomicU64::new(0);
    let summary = Mutex::new(Summary::default());
    let findings = Findings::default();
    let began = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..config.jobs.max(1).min(indices.len().max(1)) {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(&index) = indices.get(k) else { break };
                let r = run_one_in(config, &profile, index, &findings);
                on_case(&r);
                summary.lock().expect("summary lock").add(&r);
            });
        }
    });
    let mut summary = summary.into_inner().expect("summary lock");
    summary.findings = findings.table();
    summary.elapsed = began.elapsed();
    Ok(summary)
}

/// Runs case `index` on the calling thread, on its own (every divergence is shrunk).
pub fn run_one(config: &Config, profile: &Profile, index: u64) -> CaseResult {
    run_one_in(config, profile, index, &Findings::default())
}

/// Runs case `index` on the calling thread as part of a campaign whose `findings` so far
/// say which classes have their shrunk case already.
pub fn run_one_in(
    config: &Config,
    profile: &Profile,
    index: u64,
    findings: &Findings,
) -> CaseResult {
    match config.profile {
        ProfileKind::Linux => run_typed::<LinuxProfile>(config, profile, index, findings),
        ProfileKind::Rfc9293 => run_typed::<RfcProfile>(config, profile, index, findings),
    }
}

/// What explains `found` on the stack of `config`: for Linux, its known deviations from
/// RFC 9293 (on the rfc9293 profile); for another stack, the choices it documents. Linux's
/// deviations say nothing about another stack.
fn explained(config: &Config, found: &Found, profile: &Profile) -> Option<Explained> {
    if config.target.stack.kind() == StackKind::Linux {
        return classify(found, profile).map(Explained::Known);
    }
    let state = found.step.map(|_| found.state.to_string());
    documented(
        config.target.stack.choices(),
        &found.rule.to_string(),
        state.as_deref(),
    )
    .map(Explained::Choice)
}

enum Explained {
    Known(&'static Deviation),
    Choice(&'static Choice),
}

/// What the test closure learned, outside proptest's pass/fail.
#[derive(Default)]
struct Seen {
    first_events: Option<usize>,
    /// The first attempt's events drawn.
    first_drawn: Option<usize>,
    /// The first attempt's events not applicable.
    first_not_applicable: Option<Vec<Capability>>,
    /// The case could not run on the stack at all.
    case_not_applicable: Option<Capability>,
    known: Option<(&'static Deviation, Found)>,
    choice: Option<(&'static Choice, Found)>,
    /// The case's divergence is of a class another case has (see [`Findings`]).
    repeat: Option<(Class, Found)>,
    /// The class this case claimed, while it may still be released.
    class: Option<Class>,
    error: Option<String>,
    original: Option<Found>,
    /// The first failing run, kept while shrinking: reported if the minimal case does not
    /// reproduce.
    first_failure: Option<(Case, Outcome)>,
    last_failure: Option<(Case, Outcome)>,
    /// The first divergence did not come back on every replay: not shrunk, not a failure.
    unconfirmed: Option<(Found, Case, Outcome, Replays)>,
    runs: u32,
}

fn run_typed<P: ProfileSource>(
    config: &Config,
    profile: &Profile,
    index: u64,
    findings: &Findings,
) -> CaseResult {
    let pt = PtConfig {
        cases: 1,
        failure_persistence: None,
        max_shrink_time: config.shrink_time.as_millis().min(u32::MAX as u128) as u32,
        // No time, no shrinking: the case as generated is the counterexample.
        max_shrink_iters: if config.shrink_time.is_zero() {
            0
        } else {
            10_000
        },
        max_global_rejects: 10_000,
        max_local_rejects: 100_000,
        verbose: 0,
        ..PtConfig::default()
    };
    if let Some(r) = run_drawn::<P>(config, profile, index, findings, &pt) {
        return r;
    }
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &case_seed(config.seed, index));
    let mut runner = TestRunner::new_with_rng(pt, rng);
    let strategy = Explore::<P>::sequential_strategy(1..=config.max_events.max(1));
    let seen = RefCell::new(Seen::default());
    let shrinking = !config.shrink_time.is_zero();
    let result = runner.run(&strategy, |(state, events, counter)| {
        let case = Case {
            setup: state.setup,
            events,
        };
        let outcome = run_case_on(config.target, &case, profile, config.pace);
        let mut seen = seen.borrow_mut();
        seen.runs += 1;
        seen.first_drawn.get_or_insert(case.events.len());
        let outcome = match outcome {
            Ok(o) => o,
            Err(HarnessError(e)) => {
                seen.error.get_or_insert(e);
                return Ok(());
            }
        };
        // Events after the divergence never ran: the first shrink drops them. Without
        // shrinking, proptest-state-machine wants the counter left at zero.
        if let (Some(c), true) = (&counter, shrinking) {
            c.fetch_add(outcome.events_run, Ordering::SeqCst);
        }
        seen.first_events.get_or_insert(outcome.events_run);
        seen.first_not_applicable
            .get_or_insert_with(|| outcome.not_applicable.clone());
        if let Some(c) = outcome.case_not_applicable {
            seen.case_not_applicable = Some(c);
            return Ok(());
        }
        let Some(found) = outcome.found.clone() else {
            return Ok(());
        };
        match explained(config, &found, profile) {
            Some(Explained::Known(d)) => {
                seen.known.get_or_insert((d, found));
                return Ok(());
            }
            Some(Explained::Choice(c)) => {
                seen.choice.get_or_insert((c, found));
                return Ok(());
            }
            None => {}
        }
        // While shrinking, a smaller case that fails another way is not this failure: keep
        // shrinking the original one (no slipping to a different bug).
        if seen
            .original
            .as_ref()
            .is_some_and(|o| !same_failure(o, &found))
        {
            return Ok(());
        }
        if seen.original.is_none() {
            // One shrunk case per class: a stack with many divergences keeps being explored.
            let class = Class::of(&found);
            if !findings.claim(&class, index) {
                seen.repeat = Some((class, found));
                return Ok(());
            }
            seen.class = Some(class);
            // Replay before reporting: only a divergence that comes back every time is the
            // kernel's to answer for, and worth shrinking.
            let replays = replay(&found, REPLAYS, || {
                run_case_on(config.target, &case, profile, config.pace)
                    .ok()
                    .and_then(|o| o.found)
            });
            seen.runs += replays.of;
            if !replays.confirmed() {
                if let Some(class) = seen.class.take() {
                    findings.release(&class, index);
                }
                seen.unconfirmed = Some((found, case, outcome, replays));
                return Ok(());
            }
            seen.original = Some(found.clone());
            seen.first_failure = Some((case.clone(), outcome));
            let (case, outcome) = seen.first_failure.as_ref().expect("just set");
            seen.last_failure = Some((case.clone(), clone_outcome(outcome)));
            return Err(TestCaseError::fail(found.to_string()));
        }
        seen.last_failure = Some((case, outcome));
        Err(TestCaseError::fail(found.to_string()))
    });
    let seen = seen.into_inner();
    let events = seen.first_events.unwrap_or(0);
    let drawn = seen.first_drawn.unwrap_or(0);
    let not_applicable = seen.first_not_applicable.clone().unwrap_or_default();
    let verdict = match result {
        Ok(()) if seen.case_not_applicable.is_some() => {
            Verdict::NotApplicable(seen.case_not_applicable.expect("checked"))
        }
        Ok(()) if seen.repeat.is_some() => {
            let (class, found) = seen.repeat.expect("checked");
            Verdict::Repeat(class, found)
        }
        Ok(()) if seen.choice.is_some() => {
            let (c, found) = seen.choice.expect("checked");
            Verdict::Choice(c, found)
        }
        Ok(()) => match (seen.known, seen.unconfirmed, seen.error) {
            (Some((d, f)), _, _) => Verdict::Known(d, f),
            (None, Some((found, case, outcome, replays)), _) => Verdict::Unconfirmed {
                found,
                case,
                outcome: Box::new(outcome),
                replays,
            },
            (None, None, Some(e)) => Verdict::Error(e),
            (None, None, None) => Verdict::Pass,
        },
        Err(TestError::Fail(_, _)) => {
            match (seen.original, seen.first_failure, seen.last_failure) {
                (Some(original), Some(first), Some(last)) => {
                    let shrink_runs = seen.runs.saturating_sub(1);
                    // The minimal case is replayed too: a shrinking step spoilt by the machine
                    // could have kept a case that does not fail; then the original case (whose
                    // divergence was confirmed) is the one reported.
                    let (minimal, outcome) = if last.0 == first.0 {
                        last
                    } else {
                        let minimal_found =
                            last.1.found.clone().unwrap_or_else(|| original.clone());
                        let again = replay(&minimal_found, REPLAYS, || {
                            run_case_on(config.target, &last.0, profile, config.pace)
                                .ok()
                                .and_then(|o| o.found)
                        });
                        if again.confirmed() {
                            last
                        } else {
                            first
                        }
                    };
                    Verdict::Unexplained {
                        original,
                        minimal,
                        outcome: Box::new(outcome),
                        shrink_runs,
                    }
                }
                _ => Verdict::Error("a failure without a recorded run".into()),
            }
        }
        Err(TestError::Abort(reason)) => Verdict::Error(format!("proptest aborted: {reason}")),
    };
    CaseResult {
        index,
        verdict,
        events,
        drawn,
        not_applicable,
    }
}

/// Case `index` drawn by [`sample`] (the case proptest would generate, without its value
/// trees) and run once: its result, unless it is a divergence nothing explains and the
/// first of its class, which `None` hands back to proptest to be generated again, replayed
/// and shrunk as before. The verdicts are the ones the test closure of [`run_typed`] gives
/// for a single run.
fn run_drawn<P: ProfileSource>(
    config: &Config,
    profile: &Profile,
    index: u64,
    findings: &Findings,
    pt: &PtConfig,
) -> Option<CaseResult> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &case_seed(config.seed, index));
    // As TestRunner::run does before its one case (gen_get_seed): a child generator.
    let rng = TestRunner::new_with_rng(pt.clone(), rng).new_rng();
    let mut runner = TestRunner::new_with_rng(pt.clone(), rng);
    let (setup, events) = sample::case::<P>(&mut runner, config.max_events.max(1))?;
    let case = Case { setup, events };
    let drawn = case.events.len();
    // Its script is wanted only for a bundle, which this run never writes.
    let outcome = match run_case_unscripted(config.target, &case, profile, config.pace) {
        Ok(o) => o,
        Err(HarnessError(e)) => {
            return Some(CaseResult {
                index,
                verdict: Verdict::Error(e),
                events: 0,
                drawn,
                not_applicable: Vec::new(),
            })
        }
    };
    let verdict = match (outcome.case_not_applicable, &outcome.found) {
        (Some(c), _) => Verdict::NotApplicable(c),
        (None, None) => Verdict::Pass,
        (None, Some(found)) => match explained(config, found, profile) {
            Some(Explained::Known(d)) => Verdict::Known(d, found.clone()),
            Some(Explained::Choice(c)) => Verdict::Choice(c, found.clone()),
            None => {
                let class = Class::of(found);
                if findings.claim(&class, index) {
                    // The class's first case: given back, and claimed again by the run
                    // that shrinks it.
                    findings.release(&class, index);
                    return None;
                }
                Verdict::Repeat(class, found.clone())
            }
        },
    };
    Some(CaseResult {
        index,
        verdict,
        events: outcome.events_run,
        drawn,
        not_applicable: outcome.not_applicable,
    })
}

/// A copy of a run's outcome (the driver's type is not `Clone`).
fn clone_outcome(o: &Outcome) -> Outcome {
    Outcome {
        found: o.found.clone(),
        script: o.script.clone(),
        trace: o.trace.clone(),
        events_run: o.events_run,
        not_applicable: o.not_applicable.clone(),
        case_not_applicable: o.case_not_applicable,
    }
}

/// Two divergences are the same failure when the same rule fails in the same state.
fn same_failure(a: &Found, b: &Found) -> bool {
    a.rule == b.rule && a.state == b.state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::differ::{Departure, Owed, Sent, Trigger};
    use tcpcheck_model::conn::State;

    fn found(rule: &str, state: State) -> Found {
        Found {
            step: Some(3),
            state,
            event: "".into(),
            trigger: Trigger::Other,
            rule: rule.into(),
            expected: "an ACK".into(),
            actual: "nothing".into(),
            departure: Box::new(Departure {
                owed: Owed::Other,
                sent: Sent::Nothing,
            }),
            after: None,
            passive: false,
            unscaled: false,
            stack: crate::stack::StackKind::Linux,
        }
    }

    #[test]
    fn a_divergence_that_comes_back_every_time_is_confirmed() {
        let f = found("RFC 5961 3.2", State::Established);
        let r = replay(&f, 2, || Some(f.clone()));
        assert_eq!(
            r,
            Replays {
                reproduced: 2,
                of: 2
            }
        );
        assert!(r.confirmed());
    }

    #[test]
    fn a_divergence_missing_from_one_replay_is_unconfirmed() {
        let f = found("RFC 5961 3.2", State::Established);
        let mut runs = [Some(f.clone()), None].into_iter();
        let r = replay(&f, 2, || runs.next().flatten());
        assert_eq!(
            r,
            Replays {
                reproduced: 1,
                of: 2
            }
        );
        assert!(!r.confirmed());
        assert_eq!(r.to_string(), "reproduced in 1 of 2 replays");
    }

    #[test]
    fn another_divergence_on_replay_does_not_confirm() {
        let f = found("RFC 5961 3.2", State::Established);
        let other = found("RFC 5961 3.2", State::CloseWait);
        let r = replay(&f, 2, || Some(other.clone()));
        assert_eq!(r.reproduced, 0);
        assert!(!r.confirmed());
    }
}
