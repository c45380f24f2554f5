//! `tcpcheck explore`: flags, progress and the summary of a campaign.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use clap::Args as ClapArgs;
use tcpcheck::explore::{bundle, campaign, Config, Target, Verdict};
use tcpcheck::stack::{Registry, StackKind};

use super::ProfileArg;

/// `I/N`: this machine runs the cases whose index is I modulo N.
#[derive(Clone, Copy, Debug)]
pub struct Shard(u64, u64);

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}`: expected I/N, e.g. 0/4"))?;
        let i: u64 = i.parse().map_err(|e| format!("shard index `{i}`: {e}"))?;
        let n: u64 = n.parse().map_err(|e| format!("shard count `{n}`: {e}"))?;
        if n == 0 || i >= n {
            return Err(format!("`{s}`: need 0 <= I < N"));
        }
        Ok(Shard(i, n))
    }
}

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Whose rules the model applies: `linux` (finds no divergence on a conforming kernel) or
    /// `rfc9293` (finds the known deviations and labels them) [default: linux on the Linux
    /// stack, rfc9293 on any other].
    #[arg(long, value_enum)]
    profile: Option<ProfileArg>,
    /// The stack under test: `linux` (the kernel, a network namespace per case) or
    /// `smoltcp` (in-process, when this binary has it built in).
    #[arg(long, value_enum, default_value_t = StackKind::Linux)]
    stack: StackKind,
    /// Campaign seed; the same seed runs the same cases. Random (and printed) when absent.
    #[arg(long)]
    seed: Option<u64>,
    /// Cases in the whole campaign, over all shards.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    cases: u64,
    /// Run only the cases of shard I of N (I/N, counting from 0).
    #[arg(long, default_value = "0/1")]
    shard: Shard,
    /// Cases run at once, each on its own thread and sandbox.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: u64,
    /// Events per case, at most.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=1000))]
    events: u64,
    /// Seconds shrinking one divergence may take.
    #[arg(long, default_value_t = 60)]
    shrink_time: u64,
    /// Run only this case of the campaign (as a report's `reproduce` line says).
    #[arg(long)]
    case: Option<u64>,
    /// Write a bundle (case.pkt, trace.pcapng, report.md) per unexplained divergence here.
    #[arg(long, default_value = "explore-out")]
    bundle: PathBuf,
    /// Print every known deviation found, not only the counts.
    #[arg(long)]
    verbose: bool,
    /// Wait for delayed ACKs after each step (up to 200 ms each), not only for segments owed
    /// at once: slower, and checks delayed-ACK timing in every case.
    #[arg(long)]
    thorough: bool,
}

impl Args {
    /// The stack asked for.
    pub fn stack(&self) -> StackKind {
        self.stack
    }
}

pub fn main(args: Args, registry: &Registry) -> ExitCode {
    let factory = match registry.get(args.stack) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("tcpcheck: {e}");
            return ExitCode::from(2);
        }
    };
    let profile = args.profile.unwrap_or(match args.stack {
        StackKind::Linux => ProfileArg::Linux,
        _ => ProfileArg::Rfc9293,
    });
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let config = Config {
        profile: profile.kind(),
        seed,
        cases: args.cases,
        shard: (args.shard.0, args.shard.1),
        jobs: args.jobs as usize,
        max_events: args.events as usize,
        shrink_time: Duration::from_secs(args.shrink_time),
        only_case: args.case,
        pace: if args.thorough {
            tcpcheck::explore::Pace::Thorough
        } else {
            tcpcheck::explore::Pace::Quick
        },
        target: Target {
            stack: factory,
            ..Target::default()
        },
    };
    let total = campaign::shard_indices(&config).len() as u64;
    eprintln!(
        "tcpcheck explore: seed {seed}, {total} cases (shard {}/{}), profile {:?}, {} jobs{}",
        config.shard.0,
        config.shard.1,
        profile,
        config.jobs,
        match args.stack {
            StackKind::Linux => String::new(),
            other => format!(", stack {}", other.name()),
        }
    );
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let bundle_failed = Mutex::new(false);
    // Where each shrunk case's bundle went, by case index: the findings table's last column.
    let bundles: Mutex<BTreeMap<u64, String>> = Mutex::new(BTreeMap::new());
    let on_case = |r: &campaign::CaseResult| {
        let line = match &r.verdict {
            Verdict::Pass => None,
            Verdict::Known(d, f) => args
                .verbose
                .then(|| format!("case {}: known deviation {}: {f}", r.index, d.name)),
            Verdict::Unexplained {
                original,
                minimal,
                outcome,
                shrink_runs,
            } => {
                let found = outcome.found.as_ref().unwrap_or(original);
                let written =
                    bundle::write(&args.bundle, &config, r.index, original, minimal, outcome);
                let place = place(written, &bundle_failed);
                bundles.lock().expect("lock").insert(r.index, place.clone());
                Some(format!(
                    "case {}: DIVERGENCE, shrunk to {} events in {shrink_runs} runs: {found}\n  {place}",
                    r.index,
                    minimal.events.len()
                ))
            }
            Verdict::Unconfirmed {
                found,
                case,
                outcome,
                replays,
            } => {
                let written = bundle::write_unconfirmed(
                    &args.bundle,
                    &config,
                    r.index,
                    found,
                    case,
                    outcome,
                    *replays,
                );
                let place = place(written, &bundle_failed);
                Some(format!(
                    "case {}: unconfirmed divergence ({replays}; not a failure): {found}\n  {place}",
                    r.index
                ))
            }
            Verdict::Error(e) => Some(format!("case {}: harness error: {e}", r.index)),
            Verdict::Choice(c, f) => args
                .verbose
                .then(|| format!("case {}: documented choice {}: {f}", r.index, c.name)),
            Verdict::Repeat(class, _) => args.verbose.then(|| {
                format!(
                    "case {}: divergence of a class already found ({class})",
                    r.index
                )
            }),
            Verdict::NotApplicable(c) => args
                .verbose
                .then(|| format!("case {}: not applicable (needs {c})", r.index)),
        };
        match (&bar, line) {
            (Some(b), Some(l)) => b.println(l),
            (None, Some(l)) => eprintln!("{l}"),
            _ => {}
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let summary = match campaign::run(&config, &on_case) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tcpcheck: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    outln!(
        "{} cases ({} events) in {:.1} s: {:.0} cases/s; {} passed, {} known deviations, {} \
         unexplained divergences, {} unconfirmed (not reproduced on replay), {} harness errors (seed \
         {seed})",
        summary.cases,
        summary.events,
        summary.elapsed.as_secs_f64(),
        summary.cases_per_second(),
        summary.passed,
        summary.known.values().sum::<u64>(),
        summary.unexplained,
        summary.unconfirmed,
        summary.errors
    );
    for (name, n) in &summary.known {
        outln!("  known deviation {name}: {n} cases");
    }
    for (name, n) in &summary.choices {
        outln!("  documented choice {name}: {n} cases");
    }
    if !summary.findings.is_empty() {
        out!(
            "{}",
            findings_table(&summary.findings, &bundles.lock().expect("lock"))
        );
    }
    if summary.not_applicable > 0 {
        outln!(
            "  not applicable: {} cases (the stack lacks their IP version)",
            summary.not_applicable
        );
    }
    for (name, n) in &summary.events_not_applicable {
        outln!("  events not applicable (needs {name}): {n}");
    }
    if summary.errors > 0 || *bundle_failed.lock().expect("lock") {
        ExitCode::from(2)
    } else if summary.unexplained > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The unexplained divergences by class: one row each, with the cases that hit it and the
/// bundle of the case shrunk for it.
fn findings_table(
    findings: &BTreeMap<campaign::Class, campaign::Finding>,
    bundles: &BTreeMap<u64, String>,
) -> String {
    use std::fmt::Write as _;
    let mut out = format!(
        "findings: {} classes
  {:>5}  {:<14} {:<8} {:<60} bundle
",
        findings.len(),
        "cases",
        "state",
        "event",
        "rule"
    );
    // Most hit first.
    let mut rows: Vec<_> = findings.iter().collect();
    rows.sort_by(|a, b| b.1.hits.cmp(&a.1.hits).then(a.0.cmp(b.0)));
    for (class, f) in rows {
        let bundle = f
            .case
            .and_then(|c| bundles.get(&c).cloned())
            .unwrap_or_else(|| "-".to_string());
        let _ = writeln!(
            out,
            "  {:>5}  {:<14} {:<8} {:<60} {bundle}",
            f.hits, class.state, class.event, class.rule
        );
    }
    out
}

/// Where a bundle was written, or why not (which fails the campaign: `failed`).
fn place(written: std::io::Result<std::path::PathBuf>, failed: &Mutex<bool>) -> String {
    match written {
        Ok(p) => p.display().to_string(),
        Err(e) => {
            *failed.lock().expect("lock") = true;
            format!("(bundle not written: {e})")
        }
    }
}
