//! The initial sequence number, measured: RFC 9293 3.4.1 (MUST-8, a clock-driven ISN
//! generator; SHLD-1, ISN = M + F(4-tuple, secret) as RFC 6528 has it).
//!
//! The stack opens connection after connection from one local port to one remote port; the
//! peer refuses each with a RST, so the 4-tuple is free again at once (no TIME-WAIT) and
//! the next SYN reuses it. The ISNs of that one 4-tuple, against the SYNs' send times,
//! must lie on a line: a clock. A script cannot say this, since it sees ISNs only relative.
//!
//! The verdict does not depend on how busy the machine is: the times are the stack's own
//! send stamps, not the harness's pauses, and a point may sit off the line by two jiffies
//! of the target's timer wheel (the most a stamp can lag the clock read, HZ=250: 8 ms) in
//! clock counts. A random ISN lands within that of the line with a probability of about
//! 1e-4 per point, and six points are checked; it also fails the bounds on the rate.

use std::time::Duration;

use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::timers::Hz;
use tcpcheck_model::wire::TcpFlags;

use super::{call, connect, ctl, fail, pause, seam, sent, CheckStep, Outcome};
use crate::peer::Peer;
use crate::stack::Recorder;

/// The stack's port: the same for every connection.
const LOCAL_PORT: u16 = 41000;
/// The peer's port of the measured 4-tuple, then of the others.
const PEER_PORT: u16 = 8080;
const OTHER_PORTS: [u16; 3] = [8081, 8082, 8083];
/// Connections on the measured 4-tuple.
const SAMPLES: usize = 8;
/// Between two connections: long against the tolerance, so that the rate is exact to a few
/// percent (the tolerance over the whole span).
const SPACING: Duration = Duration::from_millis(100);
/// RFC 9293 3.4.1 says "roughly every 4 microseconds", 250,000 a second; a clock four times
/// slower is no longer roughly that.
const RFC_RATE: f64 = 250_000.0;
const MIN_RATE: f64 = RFC_RATE / 4.0;
/// The clock must not come round within an MSL (2 minutes in RFC 9293 3.4.2), or ISNs of
/// successive incarnations could repeat while old segments live.
const MSL: f64 = 120.0;
const MAX_RATE: f64 = 4_294_967_296.0 / MSL;

/// How far a point may sit off the clock's line, in time.
fn tolerance() -> Duration {
    Hz::TARGET.jiffy() * 2
}

/// One SYN: when the stack sent it, its ISN, the peer port it went to.
#[derive(Clone, Copy, Debug)]
struct Sample {
    at: Duration,
    isn: u32,
    port: u16,
}

/// The stack's ISN clock as measured on one 4-tuple.
#[derive(Debug)]
struct Fit {
    /// Counts a second.
    rate: f64,
    first: Sample,
    span: Duration,
    /// The farthest point off the line, in seconds of the clock.
    worst: f64,
}

impl Fit {
    /// Where the line puts the ISN at `at`.
    fn at(&self, at: Duration) -> u32 {
        let dt = at.as_secs_f64() - self.first.at.as_secs_f64();
        let counts = (self.rate * dt).round() as i64;
        self.first.isn.wrapping_add(counts as u32)
    }
}

/// One connection from LOCAL_PORT to `port`, refused: its SYN's time and ISN.
fn sample(r: &mut Recorder, port: u16) -> CheckStep<Sample> {
    let mut peer = Peer::new(false, port, LOCAL_PORT, 1);
    let fd = call("socket()", r.socket(false))?;
    call(&format!("bind({})", peer.remote), r.bind(fd, peer.remote))?;
    connect(r, fd, peer.local)?;
    let segs = sent(r, Duration::from_secs(1))?;
    let Some((at, syn)) = segs
        .iter()
        .find(|(_, s)| peer.is_ours(s) && ctl(s) == TcpFlags::SYN)
        .cloned()
    else {
        return fail(
            format!("a SYN from port {LOCAL_PORT} to {}", peer.local),
            format!("{segs:?}"),
        );
    };
    peer.learn(&syn);
    let rst = peer.segment(
        TcpFlags::RST | TcpFlags::ACK,
        SeqNumber(0),
        syn.tcp.seq + 1,
        Vec::new(),
        &[],
    );
    seam(r.inject(&rst.emit().map_err(|e| Outcome::Error(e.to_string()))?))?;
    sent(r, Duration::ZERO)?;
    call("close()", r.close(fd))?;
    Ok(Sample {
        at,
        isn: syn.tcp.seq.0,
        port,
    })
}

/// The measured 4-tuple's samples and one of each other 4-tuple's, interleaved.
fn measure(r: &mut Recorder) -> CheckStep<(Vec<Sample>, Vec<Sample>)> {
    let mut main = Vec::new();
    let mut others = Vec::new();
    for i in 0..SAMPLES {
        main.push(sample(r, PEER_PORT)?);
        pause(r, SPACING)?;
        if i % 2 == 1 {
            if let Some(&port) = OTHER_PORTS.get(i / 2) {
                others.push(sample(r, port)?);
                pause(r, SPACING)?;
            }
        }
    }
    Ok((main, others))
}

fn show(samples: &[Sample]) -> String {
    samples
        .iter()
        .map(|s| format!("{} at {:.6} s", s.isn, s.at.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The line through the samples of one 4-tuple, or why they are not on one.
fn fit(samples: &[Sample]) -> Result<Fit, String> {
    let (first, last) = (samples[0], samples[samples.len() - 1]);
    let span = last.at.saturating_sub(first.at);
    if span.is_zero() {
        return Err("the SYNs were all sent at one instant".into());
    }
    // Each step forward modulo 2^32: a clock within MAX_RATE moves less than 2^32 in SPACING.
    let mut along = vec![0u64];
    for w in samples.windows(2) {
        along.push(along[along.len() - 1] + u64::from(w[1].isn.wrapping_sub(w[0].isn)));
    }
    let rate = along[along.len() - 1] as f64 / span.as_secs_f64();
    if !(MIN_RATE..=MAX_RATE).contains(&rate) {
        return Err(format!(
            "ISNs {} advance {rate:.0} a second, outside {MIN_RATE:.0} to {MAX_RATE:.0} \
             (a quarter of RFC 9293's 250,000 to once round in an MSL)",
            show(samples)
        ));
    }
    let mut worst = 0.0f64;
    for (s, &d) in samples.iter().zip(&along) {
        let dt = s.at.as_secs_f64() - first.at.as_secs_f64();
        let off = (d as f64 - rate * dt).abs() / rate;
        worst = worst.max(off);
        if off > tolerance().as_secs_f64() {
            return Err(format!(
                "ISNs {} are not on one clock: at {:.6} s the ISN is {off:.6} s of the clock \
                 ({rate:.0} a second) off the line, more than {} ms",
                show(samples),
                s.at.as_secs_f64(),
                tolerance().as_millis()
            ));
        }
    }
    Ok(Fit {
        rate,
        first,
        span,
        worst,
    })
}

fn describe(f: &Fit, n: usize) -> String {
    format!(
        "{n} connections on one 4-tuple over {:.3} s: the ISN advances {:.0} a second \
         (RFC 9293: roughly 250,000), coming round every {:.0} s; every ISN within {:.3} ms \
         of the line (tolerance {} ms)",
        f.span.as_secs_f64(),
        f.rate,
        4_294_967_296.0 / f.rate,
        f.worst * 1e3,
        tolerance().as_millis()
    )
}

/// Checks MUST-8 (RFC 9293 3.4.1): the ISN generator is bound to a clock.
pub(super) fn clock(r: &mut Recorder) -> Outcome {
    let mut run = || -> CheckStep<String> {
        let (main, _) = measure(r)?;
        match fit(&main) {
            Ok(f) => Ok(describe(&f, main.len())),
            Err(why) => fail("ISNs driven by a clock (RFC 9293 3.4.1)", why),
        }
    };
    run().map_or_else(|o| o, Outcome::Pass)
}

/// Checks SHLD-1 (RFC 9293 3.4.1): ISN = M + F(localip, localport, remoteip, remoteport, key): each
/// other 4-tuple's ISN sits off the measured 4-tuple's line, by more than the tolerance; one
/// counter for all connections (F constant) puts them on it.
pub(super) fn keyed_offset(r: &mut Recorder) -> Outcome {
    let mut run = || -> CheckStep<String> {
        let (main, others) = measure(r)?;
        let f = match fit(&main) {
            Ok(f) => f,
            Err(why) => {
                return fail(
                    "ISN = M + F(4-tuple, key), M a clock (RFC 9293 3.4.1, RFC 6528)",
                    format!("no clock M on one 4-tuple: {why}"),
                )
            }
        };
        let offsets: Vec<(u16, f64)> = others
            .iter()
            .map(|s| {
                let off = s.isn.wrapping_sub(f.at(s.at)) as i32;
                (s.port, f64::from(off) / f.rate)
            })
            .collect();
        let text = offsets
            .iter()
            .map(|(port, off)| format!("to port {port}: {off:+.6} s"))
            .collect::<Vec<_>>()
            .join(", ");
        let tol = tolerance().as_secs_f64();
        if offsets.iter().all(|(_, off)| off.abs() <= tol) {
            return fail(
                "each 4-tuple's ISNs offset from the others' by a keyed hash (RFC 6528)",
                format!(
                    "the other 4-tuples' ISNs lie on the same clock line ({text}, within {} \
                     ms): one counter for all connections",
                    tolerance().as_millis()
                ),
            );
        }
        Ok(format!(
            "{}; other 4-tuples' ISNs off that line by {text} of the clock",
            describe(&f, main.len())
        ))
    };
    run().map_or_else(|o| o, Outcome::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(isns: &[u32], step_ms: u64) -> Vec<Sample> {
        isns.iter()
            .enumerate()
            .map(|(i, &isn)| Sample {
                at: Duration::from_millis(i as u64 * step_ms),
                isn,
                port: PEER_PORT,
            })
            .collect()
    }

    /// Linux's clock (64 ns ticks) with up to 3 ms of stamp lag per point, through a wrap
    /// of the 32-bit space, fits; the measured rate is exact to a few percent.
    #[test]
    fn a_clock_fits_through_a_wrap() {
        let rate = 15_625_000.0f64;
        let lag_ms = [0.0, 3.0, -2.0, 1.0, 0.0, 2.5, -3.0, 0.0];
        let isns: Vec<u32> = lag_ms
            .iter()
            .enumerate()
            .map(|(i, lag)| {
                let t = i as f64 * 0.1 + lag / 1e3;
                (4_290_000_000u64 + (rate * t) as u64) as u32
            })
            .collect();
        let f = fit(&samples(&isns, 100)).expect("a clock");
        assert!((f.rate / rate - 1.0).abs() < 0.02, "{f:?}");
    }

    /// Random ISNs, a constant ISN, a clock far too slow or too fast, and one point off
    /// a clock's line by more than the tolerance are all refused.
    #[test]
    fn what_is_no_clock_is_refused() {
        let random = [
            3700454066, 691086032, 1738216432, 1580861485, 1784990343, 915485457, 3212639776,
            3362453671,
        ];
        assert!(fit(&samples(&random, 100)).is_err());
        assert!(fit(&samples(&[7; 8], 100)).is_err());
        let slow: Vec<u32> = (0..8).map(|i| 1000 + i * 100).collect();
        assert!(fit(&samples(&slow, 100)).is_err());
        let fast: Vec<u32> = (0..8).map(|i| i * 10_000_000).collect();
        assert!(fit(&samples(&fast, 100)).is_err());
        let mut off: Vec<u32> = (0..8).map(|i| i * 25_000).collect();
        off[4] += 250_000 * 20 / 1000; // 20 ms of a 250 kHz clock
        assert!(fit(&samples(&off, 100)).is_err());
        off[4] -= 250_000 * 15 / 1000; // now 5 ms off: within two jiffies
        assert!(fit(&samples(&off, 100)).is_ok());
    }
}
