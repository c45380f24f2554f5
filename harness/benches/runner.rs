//! What a scenario costs beyond its own timeline: untimed scripts (every event at `+0`,
//! harness/benches/untimed/) run through the runner one after another and on two workers,
//! with and without the model, beside the floor measured in the same run (creating and
//! dropping a sandbox, which every scenario pays once).
//!
//! The state check (the stack's state of every connection read after every line, see
//! `tcpcheck::differ::states`) is measured the same way: with the model, with and without
//! the reads, its cost printed as the ratio of the overheads per scenario.
//!
//! Run as root: `cargo bench -p tcpcheck --bench runner`. packetdrill, run on the same
//! scripts for the README's comparison, pays 150 to 270 ms of fixed overhead per script on
//! the reference machine; the goal here is under 2 ms per scenario and 50 untimed
//! scenarios/s with two workers.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tcpcheck::runner::{self, IpVersion, Job, RunOptions, Verdict};
use tcpcheck::stack::linux::LinuxStack;
use tcpcheck_model::profile::ProfileKind;

const ROUNDS: u32 = 50;

fn jobs(rounds: u32) -> Vec<Job> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/untimed");
    let mut files = Vec::new();
    runner::collect_scripts(&dir, false, &mut files).expect("bench scripts");
    let mut jobs = Vec::new();
    for path in &files {
        let source = Arc::new(runner::load(path));
        for iteration in 0..rounds {
            for ip in [IpVersion::V4, IpVersion::V6] {
                jobs.push(Job {
                    path: path.display().to_string(),
                    ip,
                    iteration,
                    source: Arc::clone(&source),
                });
            }
        }
    }
    jobs
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct Measured {
    per_second: f64,
    overhead: Duration,
}

fn measure(threads: usize, model: Option<ProfileKind>, read_states: bool) -> Measured {
    let opts = RunOptions {
        model,
        read_states,
        ..RunOptions::default()
    };
    let jobs = jobs(ROUNDS);
    let n = jobs.len();
    let began = Instant::now();
    let runs = runner::run_jobs(jobs, threads, &opts, &|_| {});
    let wall = began.elapsed();
    for r in &runs {
        assert_eq!(r.verdict, Verdict::Pass, "{}", r.describe());
    }
    let overhead = median(
        runs.iter()
            .map(|r| r.duration.saturating_sub(r.script_time))
            .collect(),
    );
    Measured {
        per_second: n as f64 / wall.as_secs_f64(),
        overhead,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // Warm up: page in the binary, let the kernel's namespace caches fill.
    runner::run_jobs(jobs(2), 1, &RunOptions::default(), &|_| {});

    let sandbox = median(
        (0..500)
            .map(|_| {
                let t = Instant::now();
                drop(LinuxStack::new().expect("sandbox"));
                t.elapsed()
            })
            .collect(),
    );
    println!(
        "baseline: sandbox create+drop, median {:.3} ms",
        ms(sandbox)
    );
    let mut base = None;
    let mut states = Vec::new();
    for (threads, model, read_states) in [
        (1, None, false),
        (1, Some(ProfileKind::Linux), false),
        (1, Some(ProfileKind::Linux), true),
        (2, None, false),
        (2, Some(ProfileKind::Linux), false),
        (2, Some(ProfileKind::Linux), true),
    ] {
        let m = measure(threads, model, read_states);
        if model.is_some() {
            states.push((threads, read_states, m.overhead));
        }
        let per_second_1 = *base.get_or_insert(m.per_second);
        let reads = if read_states { ", state reads" } else { "" };
        println!(
            "untimed scenarios, --jobs {threads}, model {model:?}{reads}: {:.0} scenarios/s \
             ({:.2}x of --jobs 1 without model), overhead per scenario median {:.3} ms \
             ({:.2}x the sandbox alone)",
            m.per_second,
            m.per_second / per_second_1,
            ms(m.overhead),
            m.overhead.as_secs_f64() / sandbox.as_secs_f64(),
        );
    }
    // The state check's cost: the model's run with the reads against the one without.
    for threads in [1, 2] {
        let of = |reads: bool| {
            states
                .iter()
                .find(|(t, r, _)| *t == threads && *r == reads)
                .map(|(_, _, o)| *o)
                .expect("measured above")
        };
        let (without, with) = (of(false), of(true));
        println!(
            "state reads, --jobs {threads}: overhead per scenario median {:.3} ms with, {:.3} ms \
             without: {:.2}x ({:+.1} %)",
            ms(with),
            ms(without),
            with.as_secs_f64() / without.as_secs_f64(),
            (with.as_secs_f64() / without.as_secs_f64() - 1.0) * 100.0,
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
