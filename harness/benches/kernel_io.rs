//! What driving the kernel costs: inject-to-reply latency, the barrier per step, and a
//! sandbox's life, each beside the baseline it replaces, measured in the same run.
//!
//! Run as root: `cargo bench -p tcpcheck --bench kernel_io`.

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::Criterion;
use tcpcheck::io::tun::Tun;
use tcpcheck::peer::Peer;
use tcpcheck::sandbox::Sandbox;

/// A step as a harness without a barrier would end it: read until the stack has been quiet
/// for `quiet`. 1 ms is already optimistic for a loaded machine; packetdrill-style tools wait
/// longer.
fn settle_by_quiet_period(sandbox: &mut Sandbox, quiet: Duration) -> usize {
    let mut n = 0;
    while sandbox
        .next_packet(sandbox.now() + quiet)
        .unwrap()
        .is_some()
    {
        n += 1;
    }
    n
}

/// Latency from writing a SYN to a closed port to reading the RST, straight on the sandbox's
/// TUN device (no trace, no parsing): the floor under every step.
fn latency_samples(n: usize) -> (Vec<Duration>, usize) {
    let sandbox = Sandbox::new().unwrap();
    let mut samples = Vec::with_capacity(n);
    let mut already_queued = 0;
    let mut buf = vec![0u8; 2048];
    let tun: &Tun = sandbox.tun();
    for i in 0..n {
        let mut peer = Peer::new(false, 10_000 + (i % 50_000) as u16, 9, i as u32);
        let syn = peer.syn();
        let start = Instant::now();
        tun.send(&syn).unwrap();
        let mut first = true;
        loop {
            if tun.try_recv(&mut buf).unwrap().is_some() {
                if first {
                    already_queued += 1;
                }
                break;
            }
            first = false;
            tun.wait_readable(Duration::from_secs(1)).unwrap();
        }
        samples.push(start.elapsed());
    }
    samples.sort();
    (samples, already_queued)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn mean_ns(dir: &Path, group: &str, name: &str) -> Option<f64> {
    let path = dir.join(group).join(name).join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(path).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn main() {
    let (samples, queued) = latency_samples(10_000);
    println!(
        "inject-to-reply latency over {} SYN→RST trials: p50 {:?}, p99 {:?}, max {:?}; reply \
         already queued when write() returned: {}/{}",
        samples.len(),
        pct(&samples, 0.50),
        pct(&samples, 0.99),
        samples[samples.len() - 1],
        queued,
        samples.len()
    );

    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("criterion");
    let mut c = Criterion::default()
        .output_directory(&dir)
        .configure_from_args();

    let mut sandbox = Sandbox::new().unwrap();
    let mut port = 1024u16;
    let mut syn = move || {
        port = port.checked_add(1).unwrap_or(1024);
        Peer::new(false, port, 9, 1).syn()
    };
    {
        let mut g = c.benchmark_group("step");
        g.bench_function("barrier", |b| {
            b.iter(|| {
                sandbox.inject(&syn()).unwrap();
                let got = sandbox.settle().unwrap();
                assert_eq!(got.len(), 1);
                black_box(got)
            })
        });
        g.bench_function("quiet-1ms", |b| {
            b.iter(|| {
                sandbox.inject(&syn()).unwrap();
                assert_eq!(
                    settle_by_quiet_period(&mut sandbox, Duration::from_millis(1)),
                    1
                );
            })
        });
        g.bench_function("empty-barrier", |b| {
            b.iter(|| black_box(sandbox.settle().unwrap()))
        });
        g.finish();
    }
    drop(sandbox);
    {
        let mut g = c.benchmark_group("sandbox");
        g.bench_function("create-and-drop", |b| {
            b.iter(|| drop(Sandbox::new().unwrap()))
        });
        g.finish();
    }
    c.final_summary();

    let barrier = mean_ns(&dir, "step", "barrier");
    let quiet = mean_ns(&dir, "step", "quiet-1ms");
    let empty = mean_ns(&dir, "step", "empty-barrier");
    let sandbox = mean_ns(&dir, "sandbox", "create-and-drop");
    if let (Some(b), Some(q), Some(e)) = (barrier, quiet, empty) {
        println!(
            "one step (inject a SYN, collect the RST): barrier {:.1} µs, 1 ms quiet period {:.1} µs: \
             the barrier is {:.0}x faster; the barrier alone costs {:.1} µs per step",
            b / 1e3,
            q / 1e3,
            q / b,
            e / 1e3
        );
    }
    if let Some(s) = sandbox {
        println!("a sandbox, created and dropped: {:.0} µs", s / 1e3);
    }
}
