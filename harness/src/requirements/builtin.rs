//! Built-in checks: requirements a packetdrill script cannot state, checked on the wire by
//! code. A script hides absolute sequence numbers (MUST-8's ISN clock), addresses every
//! inbound segment to one connection (MUST-41, 42: a LISTEN beside other connections on its
//! port), and names neither addresses nor IP options (MUST-43, 51 to 53, SHLD-24, MAY-11).
//!
//! Each check drives a fresh stack through the seam ([`Recorder`]: every packet and call is
//! in its trace and pcap), and its verdict comes from the packets the stack sent and
//! received. A check is a run like a scenario's ([`ScenarioRun`], path `builtin/NAME`):
//! `tcpcheck run` runs them with the corpus (or by name), `requirements --stack` counts
//! them on the card for the labels they name, and `harness/tests/builtin_checks.rs` runs
//! each against the kernel under `cargo test` (which is what makes the matrix list them).

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use tcpcheck_model::profile::ProfileKind;
use tcpcheck_model::wire::{SegmentRepr, TcpFlags};

use crate::differ::ModelVerdict;
use crate::runner::{Check, Divergence, IpVersion, ScenarioRun, Verdict};
use crate::stack::{CallError, Capability, Fd, Purpose, Recorder, StackFactory};
use crate::trace::EventKind;

mod ip_options;
mod isn;
mod listen;

/// How a built-in check's name starts, where a scenario's path would be.
pub const PREFIX: &str = "builtin/";

/// One built-in check.
pub struct BuiltinCheck {
    /// `builtin/NAME`: its path in runs, reports and on the card.
    pub name: &'static str,
    /// The labels (RFC 9293 Appendix B) whose verdict it gives.
    pub labels: &'static [&'static str],
    /// What it checks, one sentence.
    pub about: &'static str,
    run: fn(&mut Recorder) -> Outcome,
}

/// Every built-in check.
pub static CHECKS: &[BuiltinCheck] = &[
    BuiltinCheck {
        name: "builtin/isn-clock",
        labels: &["MUST-8"],
        about: "successive connections on one 4-tuple get ISNs that advance with time at one \
                rate (a clock), neither too slowly nor coming round within an MSL",
        run: isn::clock,
    },
    BuiltinCheck {
        name: "builtin/isn-keyed-offset",
        labels: &["SHLD-1"],
        about: "the ISN clock carries an offset of its own per 4-tuple (RFC 6528's F), not \
                one counter shared by all connections",
        run: isn::keyed_offset,
    },
    BuiltinCheck {
        name: "builtin/listen-beside-established",
        labels: &["MUST-41"],
        about: "a passive OPEN on a port leaves an established connection on that port alone",
        run: listen::beside_established,
    },
    BuiltinCheck {
        name: "builtin/listen-beside-syn-sent",
        labels: &["MUST-41", "MUST-42"],
        about: "a LISTEN on a port while a connection from that port is in SYN-SENT: both \
                handshakes complete",
        run: listen::beside_syn_sent,
    },
    BuiltinCheck {
        name: "builtin/open-local-address",
        labels: &["MUST-43"],
        about: "OPEN takes a local IP address: active and passive opens use the one named",
        run: listen::local_address,
    },
    BuiltinCheck {
        name: "builtin/source-route-from-application",
        labels: &["MUST-51", "MUST-52"],
        about: "the application's source route carries the SYN, and still the ACK after a \
                SYN-ACK that came by another route",
        run: ip_options::from_application,
    },
    BuiltinCheck {
        name: "builtin/source-route-returned",
        labels: &["MUST-53"],
        about: "a SYN that came by a source route is answered by the reversed route",
        run: ip_options::returned,
    },
    BuiltinCheck {
        name: "builtin/source-route-later-overrides",
        labels: &["SHLD-24"],
        about: "a source route received after the SYN's overrides it: the ACK of data that \
                came by another route goes back by that route",
        run: ip_options::later_route_overrides,
    },
    BuiltinCheck {
        name: "builtin/record-route",
        labels: &["MAY-11"],
        about: "the application's Record Route option goes out with the stack's address \
                recorded",
        run: ip_options::record_route,
    },
];

/// The check named `name` (`builtin/NAME`).
pub fn find(name: &str) -> Option<&'static BuiltinCheck> {
    CHECKS.iter().find(|c| c.name == name)
}

/// The checks that give `label`'s verdict.
pub fn of_label(label: &str) -> impl Iterator<Item = &'static str> + '_ {
    CHECKS
        .iter()
        .filter(move |c| c.labels.contains(&label))
        .map(|c| c.name)
}

/// What a check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The stack did what the requirement asks; what was measured.
    Pass(String),
    /// It did not: what the requirement asks, what the stack did.
    Fail { expected: String, actual: String },
    /// The stack departs from the requirement in the way Linux documents as its choice
    /// (`choice` says where): a failure when judged by RFC 9293, a pass when judged by
    /// Linux's choices (`--model linux`), as a scenario pinning that choice would be.
    Deviation {
        expected: String,
        actual: String,
        choice: &'static str,
    },
    /// The check needs what the stack does not have.
    NotApplicable(Capability),
    /// The check could not run (a harness failure): no verdict.
    Error(String),
}

/// A step of a built-in check: `?` ends the check with its outcome. (The runner's
/// `exec::Step` is a step of a script's run, which `?` stops.)
pub(crate) type CheckStep<T> = Result<T, Outcome>;

pub(crate) fn fail<T>(expected: impl Into<String>, actual: impl Into<String>) -> CheckStep<T> {
    Err(Outcome::Fail {
        expected: expected.into(),
        actual: actual.into(),
    })
}

/// A socket call that must succeed: an errno is the stack's failure, a missing capability
/// makes the check not applicable.
pub(crate) fn call<T>(what: &str, r: Result<T, CallError>) -> CheckStep<T> {
    match r {
        Ok(v) => Ok(v),
        Err(CallError::Unsupported(c)) => Err(Outcome::NotApplicable(c)),
        Err(e) => fail(format!("{what} succeeds"), format!("{what} = {e}")),
    }
}

/// connect(), which answers EINPROGRESS (or 0) when it starts the handshake.
pub(crate) fn connect(r: &mut Recorder, fd: Fd, to: SocketAddr) -> CheckStep<()> {
    match r.connect(fd, to) {
        Ok(()) | Err(CallError::Errno(Errno::EINPROGRESS)) => Ok(()),
        other => call(&format!("connect({to})"), other),
    }
}

/// An I/O error of the seam: a missing capability makes the check not applicable, anything
/// else is the harness's error.
pub(crate) fn seam<T>(r: io::Result<T>) -> CheckStep<T> {
    r.map_err(|e| match crate::stack::needed(&e) {
        Some(c) => Outcome::NotApplicable(c),
        None => Outcome::Error(e.to_string()),
    })
}

/// The segments the stack sent since the last look, with their send times, once it has
/// settled; waits up to `wait` of the stack's time for the first when there is none yet.
pub(crate) fn sent(r: &mut Recorder, wait: Duration) -> CheckStep<Vec<(Duration, SegmentRepr)>> {
    let mut packets = seam(r.settle())?;
    if packets.is_empty() && !wait.is_zero() {
        let deadline = r.now() + wait;
        if let Some(p) = seam(r.next_packet(deadline))? {
            packets.push(p);
            packets.extend(seam(r.settle())?);
        }
    }
    Ok(packets
        .into_iter()
        .filter_map(|p| SegmentRepr::parse(&p.bytes).ok().map(|s| (p.at, s)))
        .collect())
}

/// Lets `d` of the stack's time pass, reading whatever it sends meanwhile.
pub(crate) fn pause(r: &mut Recorder, d: Duration) -> CheckStep<Vec<(Duration, SegmentRepr)>> {
    let deadline = r.now() + d;
    let mut out = Vec::new();
    while let Some(p) = seam(r.next_packet(deadline))? {
        if let Ok(s) = SegmentRepr::parse(&p.bytes) {
            out.push((p.at, s));
        }
    }
    Ok(out)
}

/// The control bits of `s` without PSH.
pub(crate) fn ctl(s: &SegmentRepr) -> TcpFlags {
    s.tcp.flags & !TcpFlags::PSH
}

/// Runs `check` on a fresh stack of `factory`, judged by `model` (`None`: the model is off,
/// and the stack is judged as the corpus's scripts judge it, by what Linux does).
pub fn run(
    check: &BuiltinCheck,
    factory: &dyn StackFactory,
    model: Option<ProfileKind>,
) -> ScenarioRun {
    let began = Instant::now();
    let mut run = ScenarioRun {
        path: check.name.to_string(),
        ip: IpVersion::V4,
        iteration: 0,
        verdict: Verdict::Pass,
        duration: Duration::ZERO,
        script_time: Duration::ZERO,
        trace: Default::default(),
        model: ModelVerdict::Off(
            "a built-in check: its verdict is its own measurement, the model does not follow it"
                .into(),
        ),
        states_off: None,
        stack: factory.kind(),
    };
    let stack = match factory.open(Purpose::Scenario) {
        Ok(s) => s,
        Err(e) => {
            run.verdict = Verdict::Error(format!("{}: cannot open the stack: {e}", check.name));
            return run;
        }
    };
    let mut r = Recorder::new(stack);
    r.note(EventKind::Note {
        text: format!("{}: {}", check.name, check.about),
    });
    let outcome = (check.run)(&mut r);
    let outcome = match r.panicked() {
        Some(m) => Outcome::Fail {
            expected: "no panic".into(),
            actual: format!("the stack panicked: {m}"),
        },
        None => outcome,
    };
    let outcome = match outcome {
        Outcome::Deviation {
            expected,
            actual,
            choice,
        } => match model {
            Some(ProfileKind::Rfc9293) => Outcome::Fail {
                expected,
                actual: format!("{actual} ({choice})"),
            },
            // Linux's choices, or the model off: judged as the corpus judges, by Linux.
            Some(ProfileKind::Linux) | None => Outcome::Pass(format!("{actual}: {choice}")),
        },
        o => o,
    };
    run.script_time = r.now();
    let _ = r.end();
    let text = match &outcome {
        Outcome::Pass(m) => format!("{PASS_NOTE}{m}"),
        Outcome::Fail { expected, actual } => format!("fail: expected {expected}; got {actual}"),
        Outcome::NotApplicable(c) => format!("not applicable: needs {c}"),
        Outcome::Error(e) => format!("error: {e}"),
        Outcome::Deviation { .. } => unreachable!("judged above"),
    };
    r.note(EventKind::Note { text });
    run.verdict = match outcome {
        Outcome::Pass(_) => Verdict::Pass,
        Outcome::Fail { expected, actual } => Verdict::Fail(Divergence {
            line: 0,
            message: format!("{}: {}", check.labels.join(", "), check.about),
            expected,
            actual,
            check: Check::Other,
        }),
        Outcome::NotApplicable(needs) => Verdict::NotApplicable { line: 0, needs },
        Outcome::Error(e) => Verdict::Error(format!("{}: {e}", check.name)),
        Outcome::Deviation { .. } => unreachable!("judged above"),
    };
    run.trace = r.into_trace();
    run.duration = began.elapsed();
    run
}

/// What a passing built-in check measured (the note it ends its trace with).
pub fn measured(run: &ScenarioRun) -> Option<&str> {
    if !run.path.starts_with(PREFIX) || run.verdict != Verdict::Pass {
        return None;
    }
    run.trace.events.iter().rev().find_map(|e| match &e.kind {
        EventKind::Note { text } => text.strip_prefix(PASS_NOTE),
        _ => None,
    })
}

/// How the note of a pass starts.
const PASS_NOTE: &str = "pass: ";

/// Runs the checks named `names` one after another (each on its own fresh stack), on this
/// thread.
pub fn run_all(
    names: &[&'static BuiltinCheck],
    factory: &dyn StackFactory,
    model: Option<ProfileKind>,
) -> Vec<ScenarioRun> {
    names.iter().map(|c| run(c, factory, model)).collect()
}
