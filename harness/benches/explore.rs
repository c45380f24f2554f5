//! Explorer throughput: cases and events per second on this machine, beside the cost of the
//! sandboxes the cases need, measured in the same run.
//!
//! Run as root: `cargo bench -p tcpcheck --bench explore` (`EXPLORE_BENCH_CASES` sets the
//! number of cases per measurement, 4000 by default). Cases have up to 19 events, 10 on
//! average. Every case gets a fresh network namespace; the baseline is a bare sandbox set up
//! as the explorer sets its own (IPv4 alone, no sysctl) and dropped, nothing else.

use std::time::{Duration, Instant};

use tcpcheck::explore::{self, Config};
use tcpcheck::sandbox::{Sandbox, SandboxConfig};
use tcpcheck_model::profile::ProfileKind;

/// Sandboxes created and dropped per second on `jobs` threads: the floor under cases/s, since
/// every case gets its own.
fn sandboxes_per_second(n: usize, jobs: usize) -> f64 {
    let config = SandboxConfig {
        ipv6: false,
        namespace_defaults: false,
        kernel_stamps: false,
        offload: tcpcheck::io::tun::Offload::None,
        mtu: None,
        inbound_gso: None,
        addresses: None,
    };
    let began = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                for _ in 0..n / jobs {
                    drop(Sandbox::with_config(config).expect("sandbox"));
                }
            });
        }
    });
    (n / jobs * jobs) as f64 / began.elapsed().as_secs_f64()
}

fn main() {
    let cases: u64 = std::env::var("EXPLORE_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    for jobs in [1, 2] {
        let base = sandboxes_per_second(cases as usize, jobs);
        let config = Config {
            profile: ProfileKind::Linux,
            seed: 42,
            cases,
            jobs,
            max_events: 19,
            // Speed of exploration: a divergence is counted, not shrunk.
            shrink_time: Duration::ZERO,
            ..Config::default()
        };
        let s = explore::run(&config, &|_| {}).expect("campaign");
        let secs = s.elapsed.as_secs_f64();
        println!(
            "explore, {jobs} job(s): {} cases ({:.1} events each) in {secs:.2} s: {:.0} cases/s, \
             {:.0} events/s; baseline (sandbox create+drop only): {base:.0}/s, so a case costs \
             {:.2}x a bare sandbox; {} unexplained divergences, {} harness errors",
            s.cases,
            s.events as f64 / s.cases.max(1) as f64,
            s.cases_per_second(),
            s.events as f64 / secs,
            base / s.cases_per_second(),
            s.unexplained,
            s.errors,
        );
    }
}
