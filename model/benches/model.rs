//! Model events per second on one thread: a connection's whole life (passive open, data both
//! ways, close) fed to the model again and again, against a baseline in the same run: the
//! same loop that only builds the segments, so the ratio isolates the model's own cost.
//!
//! Run: `cargo bench -p tcpcheck-model --bench model`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use tcpcheck_model::conn::{Connection, Seg};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::TcpFlags;

const ACK: TcpFlags = TcpFlags::ACK;

/// One connection: 3 handshake events, 2 × `rounds` data events each way plus their ACKs,
/// 4 close events. Returns the events the model counted.
fn lifecycle(profile: &Profile, rounds: u32) -> u64 {
    let mut c = Connection::new(profile.clone());
    let mut now = Duration::ZERO;
    let (iss, irs) = (1_000u32, 5_000u32);
    c.open_passive(now).unwrap();
    c.arrive(now, &Seg::new(TcpFlags::SYN, irs, 0, 0));
    c.emitted(now, &Seg::new(TcpFlags::SYN | ACK, iss, irs + 1, 0))
        .unwrap();
    c.arrive(now, &Seg::new(ACK, irs + 1, iss + 1, 0));
    let (mut snd, mut rcv) = (iss + 1, irs + 1);
    for _ in 0..rounds {
        now += Duration::from_micros(10);
        // The peer sends 100 bytes; the stack acknowledges.
        c.arrive(now, &Seg::new(ACK | TcpFlags::PSH, rcv, snd, 100));
        rcv += 100;
        c.emitted(now, &Seg::new(ACK, snd, rcv, 0)).unwrap();
        // The stack sends 100 bytes; the peer acknowledges.
        c.send(now, 100).unwrap();
        c.emitted(now, &Seg::new(ACK | TcpFlags::PSH, snd, rcv, 100))
            .unwrap();
        snd += 100;
        c.arrive(now, &Seg::new(ACK, rcv, snd, 0));
    }
    c.close(now).unwrap();
    c.emitted(now, &Seg::new(TcpFlags::FIN | ACK, snd, rcv, 0))
        .unwrap();
    c.arrive(now, &Seg::new(TcpFlags::FIN | ACK, rcv, snd + 1, 0));
    c.emitted(now, &Seg::new(ACK, snd + 1, rcv + 1, 0)).unwrap();
    c.check_overdue(now).unwrap();
    c.events
}

/// The baseline: the same segments built and consumed, no model.
fn baseline(rounds: u32) -> u64 {
    let mut n = 0u64;
    for i in 0..(4 * rounds + 7) {
        n += u64::from(black_box(Seg::new(ACK, i, i, 0)).seq.0 & 1);
    }
    n + u64::from(4 * rounds + 7)
}

fn main() {
    let rounds = 100;
    let mut c = Criterion::default().configure_from_args();
    for (name, profile) in [
        ("rfc9293", Profile::rfc9293()),
        ("linux", Profile::linux_defaults()),
    ] {
        let events = lifecycle(&profile, rounds);
        c.bench_function(&format!("model/{name}"), |b| {
            b.iter(|| lifecycle(black_box(&profile), rounds))
        });
        // A plain timing for the events/s line, same work.
        let start = Instant::now();
        let mut total = 0;
        let iterations = 2_000;
        for _ in 0..iterations {
            total += lifecycle(&profile, rounds);
        }
        let took = start.elapsed();
        let start = Instant::now();
        for _ in 0..iterations {
            black_box(baseline(rounds));
        }
        let base = start.elapsed();
        println!(
            "{name}: {events} events per connection, {:.1} M events/s on one thread \
             (baseline loop without the model: {:.1}x faster)",
            total as f64 / took.as_secs_f64() / 1e6,
            took.as_secs_f64() / base.as_secs_f64().max(1e-9),
        );
    }
    c.final_summary();
}
