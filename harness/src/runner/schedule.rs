//! Retransmission schedules measured in a run's trace, beside the schedule the model
//! expects (`tcpcheck_model::timers`), for the reports.
//!
//! A *series* is one segment the stack sent more than once: same connection, same sequence
//! number, length, SYN and FIN bits. The acknowledgment number may move on between copies
//! (data retransmitted after the peer sent more), so it is not part of the identity. Pure
//! ACKs (keep-alives, window probes, duplicate ACKs) and RSTs are never retransmitted by a
//! timer in the RFC 6298 sense, so they never form a series.
//!
//! # Intervals, not absolute times
//!
//! Each retransmission timer is armed when the copy before it leaves (RFC 6298 5.5, Linux
//! `tcp_retransmit_timer()`), and a Linux timer-wheel timer is never early but may be late by
//! its bucket width, so lateness accumulates along a series: the eleventh SYN can be a second
//! behind its nominal time although no timer was wrong. The reports therefore show, for
//! each copy, the *interval since the copy before it*, and the give-up as the interval since
//! the last copy; each interval is checked against
//! [`timer_tolerance_hz`](tcpcheck_model::timers::timer_tolerance_hz) of the model's
//! nominal interval, a window derived from the kernel's tick (HZ=250 on the target) and the
//! wheel's bucket widths, which always tells a doubled RTO from an undoubled one.
//!
//! # What the model is given
//!
//! The `linux` profile of a fresh namespace (read once per process by the one profile
//! builder, [`crate::differ::profile`]) with the sysctls the script set (the trace's
//! `sysctl` notes), and per kind of segment:
//!
//! - a SYN: [`syn_schedule`](tcpcheck_model::timers::syn_schedule);
//! - a SYN-ACK: [`synack_schedule`](tcpcheck_model::timers::synack_schedule) (without the
//!   queue-pressure cut of `reqsk_timer_handler()`, which the trace cannot show);
//! - data or a FIN: [`data_schedule_with`](tcpcheck_model::timers::data_schedule_with), with
//!   the RTO in force when the segment was first sent, from an
//!   [`RtoEstimator`](tcpcheck_model::timers::RtoEstimator) fed with the RTT samples the
//!   trace shows (the handshake's, then each ACK of data never retransmitted: Karn's rule,
//!   RFC 6298 3), `tcp_retries2`, `TCP_USER_TIMEOUT` if the script set it, and a tail loss
//!   probe when the profile has one and SACK was negotiated.
//!
//! The estimator here sees only what the wire shows; it is an approximation where the
//! kernel's state is richer (several segments in flight, SACKed data), and a series that is
//! not the oldest outstanding segment when first sent is shown without a model. A copy sent
//! within [`ANSWER_WINDOW`] of a segment the peer sent on the same connection is an answer
//! (a SYN-ACK repeated for a repeated SYN), not a timer, and such a series is shown without
//! a model too. The schedules are information beside the verdict, which stays the script's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde_json::{json, Value};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::timers::{
    data_schedule_with, loss_probe_timeout, syn_schedule_with, synack_schedule, timer_tolerance_hz,
    DataTimers, Hz, RtoEstimator, Schedule, TimeWindow,
};
use tcpcheck_model::wire::{ChecksumPolicy, IpRepr, SegmentRepr, TcpOption};

use crate::trace::{EventKind, Trace};

/// A copy the stack sends this soon after a segment from the peer on the same connection
/// is an answer to it, not a timer's. Answers take microseconds (design §3); the shortest
/// timer a retransmission can use is Linux's 200 ms RTO floor.
pub const ANSWER_WINDOW: Duration = Duration::from_millis(2);

/// How late the harness may record a blocking call's return after the kernel completed it:
/// the runner retries a parked call once a millisecond (`exec::PENDING_POLL_USECS`).
pub const CALL_POLL_SLACK: Duration = Duration::from_millis(1);

/// The kernel tick the windows assume: the target machine's (design §3).
const HZ: Hz = Hz::TARGET;

/// What was retransmitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentKind {
    Syn,
    SynAck,
    Fin,
    Data,
}

/// The schedule the model expects for one series, cut to what the trace can be compared
/// with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// Nominal intervals, each from the copy before (the first from the original send).
    pub intervals: Vec<Duration>,
    /// When the stack gives up, counted from its last copy.
    pub give_up: Duration,
    /// How many copies the model sends in all, the original included.
    pub sends: usize,
    /// What the schedule was computed from, e.g. `RTO 204 ms`.
    pub basis: String,
    /// Set when the last timer is clamped to a time budget (`TCP_USER_TIMEOUT`): the copy
    /// the budget counts from (index into the sends) and its length. The give-up then
    /// depends on how late the copies before it really were, not on nominal intervals
    /// (Linux `tcp_clamp_rto_to_user_timeout()` measures the real elapsed time).
    pub budget: Option<(usize, Duration)>,
}

impl Expected {
    /// The give-up the model expects after the last of `sends` (trace times): the nominal
    /// one, or what is left of a clamping budget at the observed last copy.
    pub fn give_up_after(&self, sends: &[Duration]) -> Duration {
        match self.budget {
            Some((from, length)) if from < sends.len() && sends.len() == self.sends => {
                let elapsed = sends[sends.len() - 1] - sends[from];
                // Linux: tcp_clamp_rto_to_user_timeout(): the remaining time, or one jiffy
                // once it has passed.
                length
                    .checked_sub(elapsed)
                    .filter(|d| !d.is_zero())
                    .unwrap_or(HZ.jiffy())
            }
            _ => self.give_up,
        }
    }
}

/// One segment sent more than once, with what the model expected of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    /// `192.0.2.1:8080 > 192.0.2.2:40000`, the stack's side first.
    pub connection: String,
    pub kind: SegmentKind,
    /// `SYN`, `SYN-ACK`, `FIN 101`, `data 1:101`, sequence numbers relative to the stack's
    /// ISN as in the scripts.
    pub segment: String,
    /// When each copy left, trace time (since the sandbox started).
    pub sends: Vec<Duration>,
    /// When the application was told the stack gave up (a call failing with ETIMEDOUT),
    /// trace time.
    pub give_up: Option<Duration>,
    /// The model's schedule, or why there is none.
    pub expected: Result<Expected, String>,
    /// A copy the stack sent early because a segment from the peer rearmed its timer, and
    /// when that segment came (trace time): Linux answers an unacceptable ACK in SYN-SENT
    /// by rearming the SYN's timer at `TCP_TIMEOUT_MIN` (tcp_rcv_synsent_state_process(),
    /// "Previous FIN/ACK or RST/ACK might be ignored"). Its interval is not a backoff: it is
    /// checked against `TCP_TIMEOUT_MIN` from the peer's segment, as the model has it.
    pub rearmed: Option<(usize, Duration)>,
}

/// Linux `TCP_TIMEOUT_MIN` (include/net/tcp.h): two jiffies.
pub fn timeout_min() -> Duration {
    HZ.jiffy() * 2
}

/// How a series compares with its model.
#[derive(Clone, Debug, PartialEq)]
pub enum Comparison {
    /// Every measured interval lies in the tolerance window of its nominal one.
    Within,
    /// The first disagreement, in words.
    Differs(String),
    /// No model to compare with, and why.
    NotCompared(String),
}

impl Comparison {
    pub fn name(&self) -> &'static str {
        match self {
            Comparison::Within => "within",
            Comparison::Differs(_) => "differs",
            Comparison::NotCompared(_) => "not compared",
        }
    }
}

impl Series {
    /// Measured intervals, each from the copy before.
    pub fn intervals(&self) -> Vec<Duration> {
        self.sends.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// The nominal interval before copy `i + 1` (from the copy before) and its tolerance
    /// window: the model's backoff interval, or for a rearmed copy `TCP_TIMEOUT_MIN` after
    /// the peer's segment that rearmed it.
    fn due(&self, i: usize, backoff: Duration) -> (Duration, TimeWindow) {
        match self.rearmed {
            Some((copy, by)) if copy == i + 1 => {
                let lead = by.saturating_sub(self.sends[i]);
                let w = timer_tolerance_hz(timeout_min(), HZ);
                (
                    lead + timeout_min(),
                    TimeWindow {
                        earliest: lead + w.earliest,
                        latest: lead + w.latest,
                    },
                )
            }
            _ => (backoff, timer_tolerance_hz(backoff, HZ)),
        }
    }

    /// The measured give-up, counted from the last copy.
    pub fn give_up_after(&self) -> Option<Duration> {
        let last = *self.sends.last()?;
        self.give_up.map(|g| g.saturating_sub(last))
    }

    /// Checks each measured interval, and the give-up, against the window the kernel's tick
    /// allows around the model's nominal value.
    pub fn compare(&self) -> Comparison {
        let expected = match &self.expected {
            Ok(e) => e,
            Err(why) => return Comparison::NotCompared(why.clone()),
        };
        let measured = self.intervals();
        if measured.len() > expected.intervals.len() {
            return Comparison::Differs(format!(
                "{} copies, the model sends {}",
                self.sends.len(),
                expected.sends
            ));
        }
        for (i, (&got, &nominal)) in measured.iter().zip(&expected.intervals).enumerate() {
            let (nominal, window) = self.due(i, nominal);
            if !window.contains(got) {
                return Comparison::Differs(format!(
                    "copy {}: {} after the one before, the model {} ({})",
                    i + 2,
                    secs(got),
                    secs(nominal),
                    show_window(window)
                ));
            }
        }
        if let Some(got) = self.give_up_after() {
            if measured.len() < expected.intervals.len() {
                return Comparison::Differs(format!(
                    "gave up after {} copies, the model sends {}",
                    self.sends.len(),
                    expected.sends
                ));
            }
            let nominal = expected.give_up_after(&self.sends);
            let mut window = timer_tolerance_hz(nominal, HZ);
            window.latest += CALL_POLL_SLACK;
            if !window.contains(got) {
                return Comparison::Differs(format!(
                    "gave up {} after the last copy, the model {} ({})",
                    secs(got),
                    secs(nominal),
                    show_window(window)
                ));
            }
        }
        Comparison::Within
    }

    /// Two aligned lines, kernel then model, e.g.
    ///
    /// ```text
    /// SYN 192.0.2.1:40000 > 192.0.2.2:8080: intervals (s) from the copy before
    ///   kernel  1.01  2.02  4.26  8.19 16.13 33.54  ETIMEDOUT +64.51
    ///   model   1.00  2.00  4.00  8.00 16.00 32.00  ETIMEDOUT +64.00  [initial RTO; within ...]
    /// ```
    pub fn render(&self) -> String {
        let measured: Vec<String> = self.intervals().into_iter().map(secs).collect();
        let (model, model_end, note): (Vec<String>, Option<String>, String) = match &self.expected {
            Ok(e) => {
                let n = measured.len().min(e.intervals.len());
                let shown: Vec<String> = e.intervals[..n]
                    .iter()
                    .enumerate()
                    .map(|(i, &d)| secs(self.due(i, d).0))
                    .collect();
                // The model's give-up is shown when the kernel went the whole course.
                let end = (self.sends.len() >= e.sends)
                    .then(|| give_up_word(self.kind, e.give_up_after(&self.sends)));
                let rearm = match self.rearmed {
                    Some((copy, _)) => format!(
                        ", copy {} rearmed at TCP_TIMEOUT_MIN by the peer's segment",
                        copy + 1
                    ),
                    None => String::new(),
                };
                (
                    shown,
                    end,
                    format!("{}{rearm}; {}", e.basis, self.compare().describe()),
                )
            }
            Err(why) => (Vec::new(), None, format!("no model: {why}")),
        };
        let kernel_end = self
            .give_up_after()
            .map(|d| format!("ETIMEDOUT +{}", secs(d)));
        let width = measured
            .iter()
            .chain(&model)
            .map(String::len)
            .max()
            .unwrap_or(1);
        let row = |values: &[String], end: Option<String>| {
            let mut line: String = values.iter().map(|v| format!(" {v:>width$}")).collect();
            if values.is_empty() {
                line.push_str(" -");
            }
            if let Some(end) = end {
                let _ = write!(line, "  {end}");
            }
            line
        };
        format!(
            "{} {}: intervals (s) from the copy before\n  kernel{}\n  model {}  [{}]",
            self.segment,
            self.connection,
            row(&measured, kernel_end),
            row(&model, model_end),
            note
        )
    }

    /// The JSON form in `report.json`'s optional `schedules` array.
    pub fn to_json(&self) -> Value {
        let s = |d: Duration| d.as_secs_f64();
        let comparison = self.compare();
        let model = match &self.expected {
            Ok(e) => json!({
                "intervals_s": e.intervals.iter().map(|&d| s(d)).collect::<Vec<_>>(),
                "give_up_after_s": s(e.give_up_after(&self.sends)),
                "sends": e.sends,
                "basis": e.basis,
            }),
            Err(why) => json!({ "none": why }),
        };
        json!({
            "connection": self.connection,
            "segment": self.segment,
            "kind": match self.kind {
                SegmentKind::Syn => "syn",
                SegmentKind::SynAck => "syn-ack",
                SegmentKind::Fin => "fin",
                SegmentKind::Data => "data",
            },
            "sends": self.sends.len(),
            "intervals_s": self.intervals().into_iter().map(s).collect::<Vec<_>>(),
            "give_up_after_s": self.give_up_after().map(s),
            "model": model,
            "comparison": comparison.name(),
            "detail": comparison.describe(),
        })
    }
}

impl Comparison {
    fn describe(&self) -> String {
        match self {
            Comparison::Within => "within the kernel-tick tolerance".into(),
            Comparison::Differs(why) => format!("differs: {why}"),
            Comparison::NotCompared(why) => format!("not compared: {why}"),
        }
    }
}

fn give_up_word(kind: SegmentKind, after: Duration) -> String {
    match kind {
        // The request socket is dropped silently (syn_ack_recalc()): nothing on the wire.
        SegmentKind::SynAck => format!("dropped +{}", secs(after)),
        _ => format!("ETIMEDOUT +{}", secs(after)),
    }
}

/// Seconds with two decimals, three below a second so that 204 ms and 208 ms differ.
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{s:.3}")
    } else {
        format!("{s:.2}")
    }
}

fn show_window(w: TimeWindow) -> String {
    format!("allowed {} to {}", secs(w.earliest), secs(w.latest))
}

/// One TCP connection as the trace shows it, the stack's side first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct ConnKey {
    stack: SocketAddr,
    peer: SocketAddr,
}

impl std::fmt::Display for ConnKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} > {}", self.stack, self.peer)
    }
}

/// A segment's identity within its connection: what makes two captures copies of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct SegKey {
    seq: u32,
    len: u32,
    syn: bool,
    fin: bool,
}

/// What the tracker knows of one connection, as the wire shows it.
struct Conn {
    rto: RtoEstimator,
    /// The stack's ISN, once its SYN or SYN-ACK was seen.
    isn: Option<SeqNumber>,
    /// The stack's SYN or SYN-ACK: first send and copies.
    handshake: Option<(Duration, usize)>,
    handshake_done: bool,
    our_sack: bool,
    peer_sack: bool,
    /// The peer's SYN carried timestamps.
    peer_ts: bool,
    /// Our SYN-ACK looks like a SYN cookie (see [`looks_like_cookie`]).
    cookie: bool,
    /// The stack's data and FIN segments not yet acknowledged: end sequence number, first
    /// send, retransmitted.
    unacked: Vec<(SeqNumber, Duration, bool)>,
    /// The last segment the peer sent, for telling answers from timers.
    last_inbound: Option<Duration>,
    /// The last segment before the handshake completed whose ACK did not acknowledge our
    /// SYN: Linux rearms the SYN's timer at `TCP_TIMEOUT_MIN` after it.
    last_bad_ack: Option<Duration>,
}

impl Conn {
    fn new(profile: &Profile) -> Conn {
        Conn {
            rto: RtoEstimator::with_granularity(profile, HZ.jiffy()),
            isn: None,
            handshake: None,
            handshake_done: false,
            our_sack: false,
            peer_sack: false,
            peer_ts: false,
            cookie: false,
            unacked: Vec::new(),
            last_inbound: None,
            last_bad_ack: None,
        }
    }
}

/// A series being collected.
struct Building {
    conn: ConnKey,
    kind: SegmentKind,
    segment: String,
    sends: Vec<Duration>,
    answered: bool,
    give_up: Option<Duration>,
    /// Computed at the first send, from the state then.
    expected: Result<Expected, String>,
    /// The model's schedule starts with a tail loss probe: its copy does not back off.
    probe: bool,
    /// The sequence number that acknowledges the segment.
    end: SeqNumber,
    /// The peer acknowledged it: a later ETIMEDOUT is not this series' give-up.
    acked: bool,
    rearmed: Option<(usize, Duration)>,
}

/// Finds every retransmission series in `trace` and the model's schedule for each, on the
/// `linux` profile of a fresh namespace as this process read it
/// ([`crate::differ::profile::fresh`]).
pub fn extract(trace: &Trace) -> Vec<Series> {
    let base = crate::differ::profile::fresh()
        .ok_or_else(|| "no fresh namespace's sysctls were read in this process".to_string());
    extract_with(trace, base)
}

/// [`extract`] from the profile `base` (the sysctls the trace shows set are applied to it).
/// Without a profile (`Err`), or when a sysctl set cannot be taken, the series are shown
/// without a model, and why.
pub fn extract_with(trace: &Trace, base: Result<Profile, String>) -> Vec<Series> {
    let mut profile = base;
    let mut user_timeout: Option<Duration> = None;
    let mut conns: BTreeMap<ConnKey, Conn> = BTreeMap::new();
    let mut building: Vec<Building> = Vec::new();
    let mut index: BTreeMap<(ConnKey, SegKey), usize> = BTreeMap::new();

    for event in &trace.events {
        let at = event.at;
        match &event.kind {
            EventKind::Note { text } => {
                if let Some((name, value)) =
                    text.strip_prefix("sysctl ").and_then(|s| s.split_once('='))
                {
                    profile =
                        profile.and_then(|p| crate::differ::profile::with_sysctl(&p, name, value));
                }
            }
            EventKind::Call { text } => {
                if let Some(d) = user_timeout_set(text) {
                    user_timeout = (!d.is_zero()).then_some(d);
                }
                if text.contains("ETIMEDOUT") {
                    // The series that was still being retransmitted most recently.
                    if let Some(b) = building
                        .iter_mut()
                        .filter(|b| b.give_up.is_none() && !b.acked)
                        .max_by_key(|b| b.sends.last().copied())
                    {
                        b.give_up = Some(at);
                    }
                }
            }
            EventKind::Captured { packet, .. } | EventKind::Injected { packet, .. } => {
                let outbound = matches!(event.kind, EventKind::Captured { .. });
                let Ok(seg) = SegmentRepr::parse_with(packet, ChecksumPolicy::Accept) else {
                    continue;
                };
                let (src, dst) = endpoints(&seg);
                let key = if outbound {
                    ConnKey {
                        stack: src,
                        peer: dst,
                    }
                } else {
                    ConnKey {
                        stack: dst,
                        peer: src,
                    }
                };
                // Without a profile the series are still found; their schedules are
                // replaced by the reason below, never computed from defaults.
                let (numbers, missing) = match &profile {
                    Ok(p) => (p.clone(), None),
                    Err(why) => (Profile::linux_defaults(), Some(why.clone())),
                };
                let conn = conns.entry(key).or_insert_with(|| Conn::new(&numbers));
                if outbound {
                    let before = building.len();
                    on_outbound(
                        key,
                        conn,
                        &seg,
                        at,
                        &numbers,
                        user_timeout,
                        &mut building,
                        &mut index,
                    );
                    if let Some(why) = missing {
                        for b in &mut building[before..] {
                            b.expected = Err(format!("the model's numbers: {why}"));
                        }
                    }
                } else if let Some(ack) = on_inbound(conn, &seg, at) {
                    for b in building.iter_mut().filter(|b| b.conn == key) {
                        b.acked |= !b.end.after(ack);
                    }
                }
            }
            EventKind::Filtered { .. } | EventKind::Observation { .. } => {}
        }
    }

    building
        .into_iter()
        .filter(|b| b.sends.len() > 1)
        .map(|b| Series {
            connection: b.conn.to_string(),
            kind: b.kind,
            segment: b.segment,
            sends: b.sends,
            give_up: b.give_up,
            expected: if b.answered {
                Err("a copy answered a segment from the peer (not a timer)".into())
            } else {
                b.expected
            },
            rearmed: b.rearmed,
        })
        .collect()
}

fn endpoints(seg: &SegmentRepr) -> (SocketAddr, SocketAddr) {
    let (src, dst): (IpAddr, IpAddr) = match &seg.ip {
        IpRepr::V4(ip) => (ip.src.into(), ip.dst.into()),
        IpRepr::V6(ip) => (ip.src.into(), ip.dst.into()),
    };
    (
        SocketAddr::new(src, seg.tcp.src_port),
        SocketAddr::new(dst, seg.tcp.dst_port),
    )
}

/// Whether a SYN-ACK is a Linux SYN cookie, as far as the wire tells: the peer's SYN
/// offered SACK-permitted without timestamps and the SYN-ACK leaves it out. Linux answers
/// a SYN it keeps a request for with every option it supports, but for a cookie without
/// timestamps it clears them, having nowhere to keep them (net/ipv4/tcp_input.c
/// tcp_conn_request(): "if (want_cookie && !tmp_opt.saw_tstamp) tcp_clear_options()").
/// With timestamps a cookie keeps its options and is not recognised here; its connection
/// then gets an RTT sample from the timestamp echo anyway.
fn looks_like_cookie(peer_sack: bool, peer_ts: bool, synack: &SegmentRepr) -> bool {
    peer_sack && !peer_ts && !has_sack_permitted(synack)
}

fn has_sack_permitted(seg: &SegmentRepr) -> bool {
    seg.tcp
        .options
        .iter()
        .any(|o| matches!(o, TcpOption::SackPermitted))
}

/// The sequence space a segment occupies: payload plus SYN and FIN.
fn seg_len(seg: &SegmentRepr) -> u32 {
    seg.tcp.payload.len() as u32 + u32::from(seg.tcp.flags.syn()) + u32::from(seg.tcp.flags.fin())
}

#[allow(clippy::too_many_arguments)]
fn on_outbound(
    key: ConnKey,
    conn: &mut Conn,
    seg: &SegmentRepr,
    at: Duration,
    profile: &Profile,
    user_timeout: Option<Duration>,
    building: &mut Vec<Building>,
    index: &mut BTreeMap<(ConnKey, SegKey), usize>,
) {
    let t = &seg.tcp;
    let flags = t.flags;
    if flags.rst() {
        return;
    }
    let len = seg_len(seg);
    if len == 0 {
        // Pure ACKs are not retransmitted by a timer (keep-alives and window probes have
        // their own, not the RTO schedule).
        return;
    }
    if flags.syn() && conn.isn.is_some_and(|isn| isn != t.seq) {
        // A new connection on the same four-tuple (a SYN reopening TIME-WAIT): start over,
        // keeping what the peer's new SYN told.
        let fresh = Conn {
            peer_sack: conn.peer_sack,
            peer_ts: conn.peer_ts,
            last_inbound: conn.last_inbound,
            ..Conn::new(profile)
        };
        *conn = fresh;
    }
    if flags.syn() {
        conn.isn = Some(t.seq);
        conn.our_sack = has_sack_permitted(seg);
        conn.cookie = flags.ack() && looks_like_cookie(conn.peer_sack, conn.peer_ts, seg);
        let first = conn.handshake.map_or(at, |(first, _)| first);
        let copies = conn.handshake.map_or(0, |(_, n)| n) + 1;
        conn.handshake = Some((first, copies));
    }
    let end = t.seq.wrapping_add(len);
    let segkey = SegKey {
        seq: t.seq.0,
        len,
        syn: flags.syn(),
        fin: flags.fin(),
    };
    if let Some(&i) = index.get(&(key, segkey)) {
        // A copy.
        let b = &mut building[i];
        let answer = conn
            .last_inbound
            .is_some_and(|last| at.saturating_sub(last) <= ANSWER_WINDOW);
        b.answered |= answer;
        // Linux rearms only a SYN not yet retransmitted (icsk_retransmits == 0).
        let rearm = conn.last_bad_ack.filter(|&by| {
            flags.syn()
                && !flags.ack()
                && b.sends.len() == 1
                && by >= b.sends[0]
                && timer_tolerance_hz(timeout_min(), HZ).contains(at.saturating_sub(by))
        });
        if let Some(by) = rearm {
            b.rearmed = Some((b.sends.len(), by));
        }
        let probe = b.probe && b.sends.len() == 1;
        b.sends.push(at);
        if !flags.syn() {
            if let Some(u) = conn.unacked.iter_mut().find(|u| u.0 == end) {
                u.2 = true;
            }
            if !answer && !probe {
                // RFC 6298 5.5: the RTO backs off at each expiry (a tail loss probe does
                // not: Linux tcp_send_loss_probe() re-arms the RTO unchanged).
                conn.rto.on_timeout();
            }
        }
        return;
    }

    // A first transmission.
    let rel = |s: SeqNumber| conn.isn.map_or(s.0, |isn| s.forward_distance(isn));
    let (kind, segment) = if flags.syn() && flags.ack() {
        (SegmentKind::SynAck, "SYN-ACK".to_string())
    } else if flags.syn() {
        (SegmentKind::Syn, "SYN".to_string())
    } else if t.payload.is_empty() {
        (SegmentKind::Fin, format!("FIN {}", rel(t.seq)))
    } else {
        let what = if flags.fin() { "data+FIN" } else { "data" };
        (
            SegmentKind::Data,
            format!(
                "{what} {}:{}",
                rel(t.seq),
                rel(t.seq) + t.payload.len() as u32
            ),
        )
    };
    let oldest = conn.unacked.is_empty();
    let in_flight = conn.unacked.len() as u32 + 1;
    let (expected, probe) = match kind {
        SegmentKind::Syn => (
            Ok(expected_from(
                syn_schedule_with(profile, None),
                "initial RTO".into(),
                false,
            )),
            false,
        ),
        SegmentKind::SynAck => (
            Ok(expected_from(
                synack_schedule(profile),
                format!("tcp_synack_retries {}", profile.synack_retries),
                false,
            )),
            false,
        ),
        SegmentKind::Data | SegmentKind::Fin if !oldest => (
            Err("sent while earlier data was unacknowledged".into()),
            false,
        ),
        SegmentKind::Data | SegmentKind::Fin => {
            data_expected(conn, profile, user_timeout, in_flight)
        }
    };
    if !flags.syn() {
        conn.unacked.push((end, at, false));
    }
    index.insert((key, segkey), building.len());
    building.push(Building {
        conn: key,
        kind,
        segment,
        sends: vec![at],
        answered: false,
        give_up: None,
        expected,
        probe,
        end,
        acked: false,
        rearmed: None,
    });
}

/// The model's schedule for a data segment or FIN sent now as the only one outstanding.
fn data_expected(
    conn: &Conn,
    profile: &Profile,
    user_timeout: Option<Duration>,
    in_flight: u32,
) -> (Result<Expected, String>, bool) {
    let first_rto = conn.rto.rto();
    let sack = conn.our_sack && conn.peer_sack;
    // Linux: tcp_schedule_loss_probe() arms the probe when the segment is sent.
    let loss_probe = loss_probe_timeout(profile, conn.rto.srtt(), in_flight, sack, first_rto, HZ);
    let timers = DataTimers {
        first_rto,
        // Linux: tcp_write_timeout(): the tcp_retries2 boundary (an orphan's FIN would use
        // tcp_orphan_retries; only the give-up differs, and orphans rarely get that far).
        retries: profile.retries2,
        user_timeout,
        loss_probe,
    };
    let mut basis = format!("RTO {}", millis(first_rto));
    if let Some(srtt) = conn.rto.srtt() {
        let _ = write!(basis, " (SRTT {})", millis(srtt));
    } else {
        basis.push_str(" (no RTT sample)");
    }
    if let Some(p) = loss_probe {
        let _ = write!(basis, ", loss probe {}", millis(p));
    }
    if let Some(u) = user_timeout {
        let _ = write!(
            basis,
            ", user timeout {} from the first retransmission",
            millis(u)
        );
    } else {
        let _ = write!(basis, ", tcp_retries2 {}", profile.retries2);
    }
    (
        Ok(expected_from(
            data_schedule_with(profile, &timers),
            basis,
            user_timeout.is_some(),
        )),
        loss_probe.is_some(),
    )
}

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 1.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.0} µs", ms * 1e3)
    }
}

/// `clamped`: the last timer is cut to the schedule's time budget (a user timeout).
fn expected_from(s: Schedule, basis: String, clamped: bool) -> Expected {
    let mut intervals = s.intervals();
    let give_up = intervals.pop().unwrap_or_default();
    let budget = s
        .budget
        .filter(|_| clamped)
        .and_then(|b| Some((s.sends.iter().position(|&t| t == b.from)?, b.length)));
    Expected {
        intervals,
        give_up,
        sends: s.sends.len(),
        basis,
        budget,
    }
}

/// Updates the connection with a segment from the peer; returns the acknowledgment number
/// it carries, if it is one the stack takes (not on a RST).
fn on_inbound(conn: &mut Conn, seg: &SegmentRepr, at: Duration) -> Option<SeqNumber> {
    let t = &seg.tcp;
    conn.last_inbound = Some(at);
    if t.flags.ack() && !conn.handshake_done {
        // RFC 9293 3.10.7.3: in SYN-SENT an ACK other than ISS + 1 is unacceptable (a RST
        // with it included: Linux checks the ACK first).
        if conn.isn.is_some_and(|isn| t.ack != isn.wrapping_add(1)) {
            conn.last_bad_ack = Some(at);
        }
    }
    if t.flags.syn() {
        conn.peer_sack = has_sack_permitted(seg);
        conn.peer_ts = seg
            .tcp
            .options
            .iter()
            .any(|o| matches!(o, TcpOption::Timestamps { .. }));
    }
    if t.flags.rst() || !t.flags.ack() {
        return None;
    }
    let ack = t.ack;
    if !conn.handshake_done {
        if let (Some(isn), Some((first, copies))) = (conn.isn, conn.handshake) {
            if ack == isn.wrapping_add(1) {
                // The peer acknowledged our SYN or SYN-ACK. Karn's rule (RFC 6298 3): no
                // sample if it was sent more than once (Linux tcp_synack_rtt_meas() needs
                // num_retrans == 0; tcp_rcv_synsent_state_process() the same for the SYN).
                // Nor from a cookie: the request rebuilt from it has no SYN-ACK send time
                // (net/ipv4/syncookies.c cookie_tcp_reqsk_init(): snt_synack = 0).
                if copies == 1 && !conn.cookie {
                    conn.rto.on_ack(at.saturating_sub(first), false);
                }
                // RFC 6298 5.7 / Linux tcp_init_metrics(): 3 s without a sample.
                conn.rto.on_handshake_complete(copies > 1);
                conn.handshake_done = true;
            }
        }
        return Some(ack);
    }
    // Newly acknowledged data: a sample from the oldest, unless any was retransmitted
    // (Linux tcp_clean_rtx_queue(): FLAG_RETRANS_DATA_ACKED suppresses seq_rtt_us).
    let acked: Vec<(SeqNumber, Duration, bool)> = conn
        .unacked
        .iter()
        .copied()
        .filter(|u| !u.0.after(ack))
        .collect();
    if !acked.is_empty() {
        conn.unacked.retain(|u| u.0.after(ack));
        let retransmitted = acked.iter().any(|u| u.2);
        let oldest = acked.iter().map(|u| u.1).min().unwrap_or(at);
        conn.rto.on_ack(at.saturating_sub(oldest), retransmitted);
    }
    Some(ack)
}

/// `setsockopt(4, UserTimeout(1.5s))` as `LinuxStack` records it: the duration.
fn user_timeout_set(call: &str) -> Option<Duration> {
    let rest = call.strip_prefix("setsockopt(")?;
    let (_, value) = rest.split_once("UserTimeout(")?;
    let value = value.split_once(')')?.0;
    if !call.ends_with("= ()") {
        return None;
    }
    parse_debug_duration(value)
}

/// Parses `Duration`'s `Debug` form: `1.5s`, `200ms`, `20µs`, `0ns`.
fn parse_debug_duration(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = s.split_at(split);
    let n: f64 = number.parse().ok()?;
    let scale = match unit {
        "s" => 1.0,
        "ms" => 1e-3,
        "µs" | "us" => 1e-6,
        "ns" => 1e-9,
        _ => return None,
    };
    Some(Duration::from_secs_f64(n * scale))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use tcpcheck_model::wire::{Ipv4Repr, TcpFlags, TcpRepr};

    const STACK: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    fn packet(from_stack: bool, flags: TcpFlags, seq: u32, ack: u32, len: usize) -> Vec<u8> {
        let options = if flags.syn() {
            vec![TcpOption::Mss(1460), TcpOption::SackPermitted]
        } else {
            Vec::new()
        };
        packet_with(from_stack, flags, seq, ack, len, options)
    }

    fn packet_with(
        from_stack: bool,
        flags: TcpFlags,
        seq: u32,
        ack: u32,
        len: usize,
        options: Vec<TcpOption<'static>>,
    ) -> Vec<u8> {
        let (src, dst, sport, dport) = if from_stack {
            (STACK, PEER, 8080, 40000)
        } else {
            (PEER, STACK, 40000, 8080)
        };
        SegmentRepr {
            ip: IpRepr::V4(Ipv4Repr::new(src, dst)),
            tcp: TcpRepr {
                src_port: sport,
                dst_port: dport,
                seq: SeqNumber(seq),
                ack: SeqNumber(ack),
                flags,
                window: 512,
                options,
                payload: vec![0; len],
                ..TcpRepr::default()
            },
        }
        .emit()
        .expect("a well-formed segment")
    }

    fn out(trace: &mut Trace, at: Duration, flags: TcpFlags, seq: u32, ack: u32, len: usize) {
        let packet = packet(true, flags, seq, ack, len);
        trace.push(at, EventKind::Captured { packet, note: None });
    }

    fn inj(trace: &mut Trace, at: Duration, flags: TcpFlags, seq: u32, ack: u32, len: usize) {
        let packet = packet(false, flags, seq, ack, len);
        trace.push(at, EventKind::Injected { packet, note: None });
    }

    fn flags(bits: &[TcpFlags]) -> TcpFlags {
        TcpFlags(bits.iter().fold(0, |a, f| a | f.bits()))
    }

    /// syn-sent-unacceptable-ack.pkt: a SYN-ACK with a bad ACK makes Linux resend the SYN
    /// TCP_TIMEOUT_MIN later. That copy is checked against TCP_TIMEOUT_MIN from the peer's
    /// segment, not against the 1 s backoff; the next copy against the backoff again.
    #[test]
    fn syn_rearmed_by_a_bad_ack_is_not_a_backoff() {
        let syn = TcpFlags::SYN;
        let synack = flags(&[TcpFlags::SYN, TcpFlags::ACK]);
        let series = |resend: u64| {
            let mut t = Trace::default();
            out(&mut t, ms(0), syn, 7000, 0, 0);
            inj(&mut t, ms(10), synack, 100, 8001, 0);
            out(&mut t, ms(10), TcpFlags::RST, 8001, 0, 0);
            out(&mut t, ms(10 + resend), syn, 7000, 0, 0);
            out(&mut t, ms(10 + resend + 1004), syn, 7000, 0, 0);
            extract_with(&t, Ok(Profile::linux_defaults())).remove(0)
        };
        let s = series(11);
        assert_eq!(s.rearmed, Some((1, ms(10))));
        assert_eq!(s.compare(), Comparison::Within, "{}", s.render());
        assert!(s.render().contains("0.018"), "{}", s.render());
        // A resend at 10 + 40 ms is no TCP_TIMEOUT_MIN rearm: a backoff interval, too early.
        let s = series(40);
        assert_eq!(s.rearmed, None);
        assert!(
            matches!(s.compare(), Comparison::Differs(_)),
            "{}",
            s.render()
        );
    }

    /// An active open whose SYN goes unanswered, as syn-schedule-full-exponential.pkt
    /// produces it: each interval a little late, the way the timer wheel makes it.
    #[test]
    fn syn_series_with_give_up_is_within_the_model() {
        let mut t = Trace::default();
        t.push(
            Duration::ZERO,
            EventKind::Note {
                text: "sysctl net.ipv4.tcp_syn_retries=3".into(),
            },
        );
        t.push(
            Duration::ZERO,
            EventKind::Note {
                text: "sysctl net.ipv4.tcp_syn_linear_timeouts=0".into(),
            },
        );
        let syn = TcpFlags::SYN;
        let mut at = ms(1);
        out(&mut t, at, syn, 7000, 0, 0);
        for gap in [1008, 2016, 4256] {
            at += ms(gap);
            out(&mut t, at, syn, 7000, 0, 0);
        }
        t.push(
            at + ms(8192),
            EventKind::Call {
                text: "getsockopt(3, SOL_SOCKET, SO_ERROR) = Some(ETIMEDOUT)".into(),
            },
        );
        let series = extract_with(&t, Ok(Profile::linux_defaults()));
        assert_eq!(series.len(), 1);
        let s = &series[0];
        assert_eq!(s.kind, SegmentKind::Syn);
        assert_eq!(s.segment, "SYN");
        assert_eq!(s.intervals(), vec![ms(1008), ms(2016), ms(4256)]);
        assert_eq!(s.give_up_after(), Some(ms(8192)));
        let e = s.expected.as_ref().expect("a model schedule");
        assert_eq!(
            e.intervals,
            vec![
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_secs(4)
            ]
        );
        assert_eq!(e.give_up, Duration::from_secs(8));
        assert_eq!(s.compare(), Comparison::Within);
        let text = s.render();
        assert!(
            text.contains("kernel 1.01 2.02 4.26  ETIMEDOUT +8.19"),
            "{text}"
        );
        assert!(
            text.contains("model  1.00 2.00 4.00  ETIMEDOUT +8.00"),
            "{text}"
        );
    }

    /// A passive open with a microsecond handshake RTT, then data retransmitted at the
    /// 200 ms floor (data-rto-floor.pkt): the model's first RTO comes from the sample.
    #[test]
    fn data_series_uses_the_handshake_sample() {
        let mut t = Trace::default();
        t.push(
            Duration::ZERO,
            EventKind::Note {
                text: "sysctl net.ipv4.tcp_early_retrans=0".into(),
            },
        );
        let ack = TcpFlags::ACK;
        let psh_ack = flags(&[TcpFlags::PSH, TcpFlags::ACK]);
        inj(&mut t, ms(0), TcpFlags::SYN, 0, 0, 0);
        out(
            &mut t,
            ms(0),
            flags(&[TcpFlags::SYN, TcpFlags::ACK]),
            5000,
            1,
            0,
        );
        inj(&mut t, ms(0) + Duration::from_micros(20), ack, 1, 5001, 0);
        let mut at = ms(1);
        out(&mut t, at, psh_ack, 5001, 1, 100);
        for gap in [208, 420, 832] {
            at += ms(gap);
            out(&mut t, at, psh_ack, 5001, 1, 100);
        }
        // A duplicate of a pure ACK is no series.
        out(&mut t, at, ack, 5101, 1, 0);
        out(&mut t, at + ms(1), ack, 5101, 1, 0);
        inj(&mut t, at + ms(10), ack, 1, 5101, 0);
        let series = extract_with(&t, Ok(Profile::linux_defaults()));
        assert_eq!(series.len(), 1, "{series:?}");
        let s = &series[0];
        assert_eq!(s.kind, SegmentKind::Data);
        assert_eq!(s.segment, "data 1:101");
        assert_eq!(s.give_up, None);
        let e = s.expected.as_ref().expect("a model schedule");
        // SRTT 20 µs + rttvar max(40 µs, 200 ms), rounded up to 51 jiffies.
        assert_eq!(e.intervals[..3], [ms(204), ms(408), ms(816)]);
        assert!(e.basis.starts_with("RTO 204 ms"), "{}", e.basis);
        assert_eq!(s.compare(), Comparison::Within);
    }

    /// A SYN-ACK that leaves out the SACK-permitted the SYN offered is a Linux cookie: the
    /// connection made from it has no RTT sample, however long the ACK took, so its data
    /// waits the 3 s of RFC 6298 5.7 (syncookies-on-overflow.pkt).
    #[test]
    fn a_connection_from_a_cookie_has_no_rtt_sample() {
        let mut t = Trace::default();
        let psh_ack = flags(&[TcpFlags::PSH, TcpFlags::ACK]);
        inj(&mut t, ms(0), TcpFlags::SYN, 0, 0, 0);
        let cookie = packet_with(
            true,
            flags(&[TcpFlags::SYN, TcpFlags::ACK]),
            777,
            1,
            0,
            vec![TcpOption::Mss(1200)],
        );
        t.push(
            ms(0),
            EventKind::Captured {
                packet: cookie,
                note: None,
            },
        );
        inj(&mut t, ms(1500), TcpFlags::ACK, 1, 778, 0);
        out(&mut t, ms(1501), psh_ack, 778, 1, 100);
        out(&mut t, ms(4550), psh_ack, 778, 1, 100);
        let s = &extract_with(&t, Ok(Profile::linux_defaults()))[0];
        let e = s.expected.as_ref().expect("a model schedule");
        assert_eq!(e.intervals[0], Duration::from_secs(3), "{}", e.basis);
        assert_eq!(s.compare(), Comparison::Within);
    }

    /// A backoff that did not double is caught.
    #[test]
    fn an_undoubled_interval_differs() {
        let mut t = Trace::default();
        let syn = TcpFlags::SYN;
        t.push(
            Duration::ZERO,
            EventKind::Note {
                text: "sysctl net.ipv4.tcp_syn_linear_timeouts=0".into(),
            },
        );
        out(&mut t, ms(0), syn, 1, 0, 0);
        out(&mut t, ms(1010), syn, 1, 0, 0);
        out(&mut t, ms(2030), syn, 1, 0, 0);
        let s = &extract_with(&t, Ok(Profile::linux_defaults()))[0];
        match s.compare() {
            Comparison::Differs(why) => assert!(why.starts_with("copy 3: 1.02"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    /// A SYN-ACK repeated in answer to a repeated SYN is no timer: no model.
    #[test]
    fn answers_are_not_compared() {
        let mut t = Trace::default();
        let synack = flags(&[TcpFlags::SYN, TcpFlags::ACK]);
        inj(&mut t, ms(0), TcpFlags::SYN, 0, 0, 0);
        out(&mut t, ms(0), synack, 9, 1, 0);
        inj(&mut t, ms(300), TcpFlags::SYN, 0, 0, 0);
        out(&mut t, ms(300), synack, 9, 1, 0);
        let s = &extract_with(&t, Ok(Profile::linux_defaults()))[0];
        assert!(matches!(s.compare(), Comparison::NotCompared(_)));
        assert!(s.render().contains("no model"), "{}", s.render());
    }

    #[test]
    fn user_timeout_calls_are_read() {
        assert_eq!(
            user_timeout_set("setsockopt(4, UserTimeout(1.5s)) = ()"),
            Some(ms(1500))
        );
        assert_eq!(
            user_timeout_set("setsockopt(4, UserTimeout(200ms)) = ()"),
            Some(ms(200))
        );
        assert_eq!(
            user_timeout_set("setsockopt(4, UserTimeout(1.5s)) = -1 EINVAL (x)"),
            None
        );
        assert_eq!(user_timeout_set("setsockopt(4, NoDelay(true)) = ()"), None);
    }
}
