//! What a scenario costs beyond its own timeline: untimed scripts (every event at `+0`,
//! harness/benches/untimed/) run through the runner one after another and on two workers,
//! with and without the model, beside the floor measured in the same run (creating and
//! dropping a sandbox, which every scenario pays once).
//!
//! The state check (the stack's state of every connection read after every line, see
//! `tcpcheck::differ::states`) is measured the same way: with the model, with and without
//! the reads, interleaved block by block (a busy machine weighs on both alike), its cost
//! printed as the ratio of the overheads per scenario.
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

/// The runs' results, with the wall time they took, under `threads`, `model`, `read_states`.
fn run(
    threads: usize,
    model: Option<ProfileKind>,
    read_states: bool,
    rounds: u32,
) -> (Vec<Duration>, Duration) {
    let opts = RunOptions {
        model,
        read_states,
        ..RunOptions::default()
    };
    let began = Instant::now();
    let runs = runner::run_jobs(jobs(rounds), threads, &opts, &|_| {});
    let wall = began.elapsed();
    for r in &runs {
        assert_eq!(r.verdict, Verdict::Pass, "{}", r.describe());
    }
    let overheads = runs
        .iter()
        .map(|r| r.duration.saturating_sub(r.script_time))
        .collect();
    (overheads, wall)
}

fn measured(overheads: Vec<Duration>, wall: Duration) -> Measured {
    Measured {
        per_second: overheads.len() as f64 / wall.as_secs_f64(),
        overhead: median(overheads),
    }
}

fn measure(threads: usize, model: Option<ProfileKind>) -> Measured {
    let (overheads, wall) = run(threads, model, false, ROUNDS);
    measured(overheads, wall)
}

/// The model's runs without and with the state reads, interleaved: BLOCKS blocks of each,
/// in the order ABBA, so that what the rest of the machine does meanwhile (a build, another
/// bench) weighs on both alike instead of on whichever ran second.
/// Also each block's ratio (its median overhead with the reads over the one without), whose
/// spread shows how much of the overall ratio is the machine's noise.
fn measure_reads(threads: usize) -> (Measured, Measured, Vec<f64>) {
    const BLOCKS: u32 = 10;
    let mut sides = [(Vec::new(), Duration::ZERO), (Vec::new(), Duration::ZERO)];
    let mut ratios = Vec::new();
    for block in 0..BLOCKS {
        let order = if block % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        let mut medians = [Duration::ZERO; 2];
        for reads in order {
            let (overheads, wall) = run(threads, Some(ProfileKind::Linux), reads, ROUNDS / BLOCKS);
            medians[usize::from(reads)] = median(overheads.clone());
            let side = &mut sides[usize::from(reads)];
            side.0.extend(overheads);
            side.1 += wall;
        }
        ratios.push(medians[1].as_secs_f64() / medians[0].as_secs_f64());
    }
    let [without, with] = sides;
    (
        measured(without.0, without.1),
        measured(with.0, with.1),
        ratios,
    )
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
    for threads in [1, 2] {
        let none = measure(threads, None);
        let (without, with, mut ratios) = measure_reads(threads);
        for (label, m) in [
            ("model None", &none),
            ("model Some(Linux)", &without),
            ("model Some(Linux), state reads", &with),
        ] {
            let per_second_1 = *base.get_or_insert(m.per_second);
            println!(
                "untimed scenarios, --jobs {threads}, {label}: {:.0} scenarios/s \
                 ({:.2}x of --jobs 1 without model), overhead per scenario median {:.3} ms \
                 ({:.2}x the sandbox alone)",
                m.per_second,
                m.per_second / per_second_1,
                ms(m.overhead),
                m.overhead.as_secs_f64() / sandbox.as_secs_f64(),
            );
        }
        // The state check's cost: the model's runs with the reads against those without,
        // interleaved in the same run.
        let (w, wo) = (with.overhead, without.overhead);
        println!(
            "state reads, --jobs {threads}: overhead per scenario median {:.3} ms with, {:.3} ms \
             without: {:.2}x ({:+.1} %); {:.0} against {:.0} scenarios/s ({:+.1} %)",
            ms(w),
            ms(wo),
            w.as_secs_f64() / wo.as_secs_f64(),
            (w.as_secs_f64() / wo.as_secs_f64() - 1.0) * 100.0,
            with.per_second,
            without.per_second,
            (with.per_second / without.per_second - 1.0) * 100.0,
        );
        ratios.sort_by(f64::total_cmp);
        println!(
            "state reads, --jobs {threads}: per interleaved block {:.2}x median, {:.2}x to \
             {:.2}x",
            ratios[ratios.len() / 2],
            ratios[0],
            ratios[ratios.len() - 1],
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
