//! smoltcp on the virtual clock against the Linux kernel in its sandbox, in one run: the
//! explorer's cases per second, and the wall time of the corpus (the scenarios applicable
//! to smoltcp), each printed with the ratio to Linux doing the same.
//!
//! `cargo bench -p tcpcheck-smoltcp --bench speed` (as root for the Linux side; without root
//! the Linux side is reported as unavailable). `SPEED_CASES` sets the smoltcp cases (20,000
//! by default), `SPEED_LINUX_CASES` the Linux ones (2,000: a case there costs a network
//! namespace). The generator draws 1 to 19 events per case, uniformly: 10 on average, the
//! issue's "cases of about 10 events" (the bench prints the mean drawn, and the mean run: a
//! case ends at its first divergence, so fewer run); 2 jobs, the machine's 2 cores. `SPEED_LINUX=0` leaves Linux out (to
//! profile the smoltcp side alone; no ratio is printed then).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tcpcheck::explore::{self, Config, Target};
use tcpcheck::runner::{self, IpVersion, Job, RunOptions, Verdict};
use tcpcheck::stack::{Capabilities, StackFactory};
use tcpcheck_model::profile::ProfileKind;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A campaign's speed and the length of its cases.
struct Speed {
    cases_per_second: f64,
    events_per_second: f64,
    /// Mean events drawn per case.
    drawn: f64,
    /// Mean events run per case.
    run: f64,
    unexplained: u64,
}

/// Cases per second and events per case of a campaign on `stack`.
fn explore(stack: &'static dyn StackFactory, cases: u64) -> Result<Speed, String> {
    let config = Config {
        profile: ProfileKind::Rfc9293,
        seed: 42,
        cases,
        jobs: 2,
        max_events: 19,
        // Speed of exploration: a divergence is counted, not shrunk.
        shrink_time: Duration::ZERO,
        target: Target {
            stack,
            hide: Capabilities::NONE,
        },
        ..Config::default()
    };
    let s = explore::run(&config, &|_| {})?;
    if s.errors > 0 {
        return Err(format!("{} harness errors", s.errors));
    }
    let secs = s.elapsed.as_secs_f64();
    let n = s.cases.max(1) as f64;
    Ok(Speed {
        cases_per_second: s.cases as f64 / secs,
        events_per_second: s.events as f64 / secs,
        drawn: s.drawn as f64 / n,
        run: s.events as f64 / n,
        unexplained: s.unexplained,
    })
}

fn corpus_jobs() -> Vec<Job> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus/scenarios");
    let mut jobs = Vec::new();
    for path in runner::collect_all(&[root]).expect("the corpus is readable") {
        let source = runner::load(&path);
        let versions = match &source {
            Ok((_, script)) => runner::versions_for(script, &[IpVersion::V4, IpVersion::V6]),
            Err(_) => vec![IpVersion::V4],
        };
        let source = std::sync::Arc::new(source);
        for ip in versions {
            jobs.push(Job {
                path: path.display().to_string(),
                ip,
                iteration: 0,
                source: source.clone(),
            });
        }
    }
    jobs
}

/// Wall time of `jobs` on `stack` with 2 threads, and the runs.
fn corpus(
    stack: &'static dyn StackFactory,
    jobs: Vec<Job>,
) -> (Duration, Vec<runner::ScenarioRun>) {
    let opts = RunOptions {
        stack,
        ..RunOptions::default()
    };
    let began = Instant::now();
    let runs = runner::run_jobs(jobs, 2, &opts, &|_| {});
    (began.elapsed(), runs)
}

/// Bare smoltcp stacks per second on one thread: made, a connect() and its SYN collected,
/// dropped. The floor under the explorer's cases/s that the adapter itself sets.
fn bare_stacks_per_second(n: u32) -> f64 {
    use tcpcheck::stack::Stack;
    let peer: std::net::SocketAddr = "192.0.2.2:8080".parse().expect("an address");
    let began = Instant::now();
    for seed in 0..n {
        let mut s = tcpcheck_smoltcp::SmoltcpStack::new(tcpcheck_smoltcp::SmoltcpConfig {
            seed: u64::from(seed),
            ..Default::default()
        });
        let fd = s.socket(false).expect("socket");
        let _ = s.connect(fd, peer);
        assert_eq!(s.settle().expect("settle").len(), 1);
    }
    f64::from(n) / began.elapsed().as_secs_f64()
}

fn main() {
    let smoltcp: &'static dyn StackFactory = &tcpcheck_smoltcp::FACTORY;
    println!(
        "baseline: bare smoltcp stacks (make, connect, collect the SYN, drop), 1 thread: \
         {:.0}/s",
        bare_stacks_per_second(20_000)
    );
    let linux: &'static dyn StackFactory = &tcpcheck::stack::registry::LinuxFactory;
    let with_linux = env("SPEED_LINUX", 1) != 0;

    let smol = explore(smoltcp, env("SPEED_CASES", 20_000)).expect("the smoltcp campaign runs");
    let rate = smol.cases_per_second;
    println!(
        "explore rfc9293, 2 jobs: smoltcp {rate:.0} cases/s, {:.0} events run/s (events per \
         case: {:.1} drawn, {:.1} run; {} unexplained divergences, counted not shrunk)",
        smol.events_per_second, smol.drawn, smol.run, smol.unexplained
    );
    if with_linux {
        match explore(linux, env("SPEED_LINUX_CASES", 2_000)) {
            Ok(l) => println!(
                "explore rfc9293, 2 jobs: linux {:.0} cases/s, {:.0} events run/s (events per \
                 case: {:.1} drawn, {:.1} run): smoltcp is {:.1}x linux in cases/s, {:.1}x in \
                 events/s",
                l.cases_per_second,
                l.events_per_second,
                l.drawn,
                l.run,
                rate / l.cases_per_second,
                smol.events_per_second / l.events_per_second
            ),
            Err(e) => println!("explore on linux: unavailable ({e})"),
        }
    }

    let (smol_wall, runs) = corpus(smoltcp, corpus_jobs());
    let applicable: Vec<Job> = corpus_jobs()
        .into_iter()
        .zip(&runs)
        .filter(|(_, r)| !matches!(r.verdict, Verdict::NotApplicable { .. }))
        .map(|(j, _)| j)
        .collect();
    let n = applicable.len();
    println!(
        "corpus on smoltcp, 2 threads: {} runs ({n} applicable) in {:.3} s wall",
        runs.len(),
        smol_wall.as_secs_f64()
    );
    if !with_linux {
        return;
    }
    let (linux_wall, linux_runs) = corpus(linux, applicable);
    if linux_runs
        .iter()
        .all(|r| matches!(r.verdict, Verdict::Error(_)))
    {
        println!("corpus on linux: unavailable (every run a harness error; run as root)");
    } else {
        println!(
            "corpus on linux, 2 threads: the same {n} runs in {:.1} s wall: smoltcp takes \
             1/{:.0} of it",
            linux_wall.as_secs_f64(),
            linux_wall.as_secs_f64() / smol_wall.as_secs_f64()
        );
    }
}
