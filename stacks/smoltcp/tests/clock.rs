//! The virtual clock: smoltcp's SYN schedule in microseconds of real time, exactly timed,
//! the same bytes at the same times from the same seed.

use std::time::{Duration, Instant};

use nix::errno::Errno;
use tcpcheck_model::wire::SegmentRepr;
use tcpcheck_smoltcp::{SmoltcpConfig, SmoltcpStack};

fn syn_schedule(seed: u64) -> Vec<(Duration, Vec<u8>)> {
    use tcpcheck::stack::{CallError, Stack};
    let mut s = SmoltcpStack::new(SmoltcpConfig {
        seed,
        ..SmoltcpConfig::default()
    });
    let fd = s.socket(false).unwrap();
    s.set_nonblocking(fd, true).unwrap();
    let r = s.connect(fd, "192.0.2.2:8080".parse().unwrap());
    assert_eq!(r, Err(CallError::Errno(Errno::EINPROGRESS)));
    let mut out: Vec<_> = s
        .settle()
        .unwrap()
        .into_iter()
        .map(|p| (p.at, p.bytes))
        .collect();
    while let Some(p) = s.next_packet(Duration::from_secs(100)).unwrap() {
        out.push((p.at, p.bytes));
    }
    assert_eq!(s.now(), Duration::from_secs(100));
    out
}

#[test]
fn the_syn_schedule_is_exact_fast_and_repeatable() {
    let began = Instant::now();
    let a = syn_schedule(7);
    let took = began.elapsed();
    for (at, bytes) in &a {
        let seg = SegmentRepr::parse(bytes).unwrap();
        eprintln!("{at:?} {:?} seq {}", seg.tcp.flags, seg.tcp.seq);
        assert!(seg.tcp.flags.syn());
    }
    assert!(a.len() >= 5, "{} SYNs", a.len());
    assert_eq!(a[0].0, Duration::ZERO);
    assert_eq!(a, syn_schedule(7));
    assert_ne!(a, syn_schedule(8));
    eprintln!("took {took:?}");
}
