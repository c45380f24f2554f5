//! Extraction: the series found in a trace, with what the wire showed of each connection
//! (the RTT samples, SACK, cookies, the peer's segments that rearm or answer).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use nix::errno::Errno;
use tcpcheck_model::profile::{Profile, ProfileKind};
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::timers::{timer_tolerance_hz, RtoEstimator};
use tcpcheck_model::wire::{ChecksumPolicy, IpRepr, SegmentRepr, TcpOption};

use super::expectations::{for_first_send, FirstSend};
use super::{timeout_min, ExpectedSchedule, SegmentKind, Series, ANSWER_WINDOW, HZ};
use crate::trace::{EventKind, Trace};

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
struct WireConn {
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

impl WireConn {
    fn new(profile: &Profile) -> WireConn {
        WireConn {
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
    expected: Result<ExpectedSchedule, String>,
    /// The model's schedule starts with a tail loss probe: its copy does not back off.
    probe: bool,
    /// The sequence number that acknowledges the segment.
    end: SeqNumber,
    /// The peer acknowledged it: a later ETIMEDOUT is not this series' give-up.
    acked: bool,
    rearmed: Option<(usize, Duration)>,
}

/// The event a run on a stack judged by `kind` opens its trace with, so that [`extract`]
/// compares its schedules with that profile's: [`EventKind::Judged`] for `rfc9293`; none
/// for `linux`, whose numbers are the fresh namespace's sysctls, which `extract` reads
/// itself. A new profile must say here how its schedules are found again.
pub fn judged_event(kind: ProfileKind) -> Option<EventKind> {
    match kind {
        ProfileKind::Rfc9293 => Some(EventKind::Judged(kind)),
        ProfileKind::Linux => None,
    }
}

/// Finds every retransmission series in `trace` and the model's schedule for each, on the
/// `linux` profile of a fresh namespace as this process read it
/// ([`crate::differ::profile::fresh`]), or on the `rfc9293` profile when the trace says
/// ([`judged_event`]) the stack is judged on it.
pub fn extract(trace: &Trace) -> Vec<Series> {
    let judged = trace.events.iter().find_map(|e| match e.kind {
        EventKind::Judged(kind) => Some(kind),
        _ => None,
    });
    let base = match judged {
        Some(ProfileKind::Rfc9293) => Ok(Profile::rfc9293()),
        Some(ProfileKind::Linux) | None => crate::differ::profile::fresh()
            .ok_or_else(|| "no fresh namespace's sysctls were read in this process".to_string()),
    };
    extract_with(trace, base)
}

/// [`extract`] from the profile `base` (the sysctls the trace shows set are applied to it).
/// Without a profile (`Err`), or when a sysctl set cannot be taken, the series are shown
/// without a model, and why.
pub fn extract_with(trace: &Trace, base: Result<Profile, String>) -> Vec<Series> {
    let mut profile = base;
    let mut user_timeout: Option<Duration> = None;
    let mut conns: BTreeMap<ConnKey, WireConn> = BTreeMap::new();
    let mut building: Vec<Building> = Vec::new();
    let mut index: BTreeMap<(ConnKey, SegKey), usize> = BTreeMap::new();

    for event in &trace.events {
        let at = event.at;
        match &event.kind {
            EventKind::Sysctl { name, value } => {
                profile =
                    profile.and_then(|p| crate::differ::profile::with_sysctl(&p, name, value));
            }
            EventKind::Call(call) => {
                if let Some(d) = call.user_timeout_set() {
                    user_timeout = (!d.is_zero()).then_some(d);
                }
                if call.reports(Errno::ETIMEDOUT) {
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
                let conn = conns.entry(key).or_insert_with(|| WireConn::new(&numbers));
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
            EventKind::Filtered { .. }
            | EventKind::Observation { .. }
            | EventKind::Note { .. }
            | EventKind::Judged(_)
            | EventKind::Script(_) => {}
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
    conn: &mut WireConn,
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
        let fresh = WireConn {
            peer_sack: conn.peer_sack,
            peer_ts: conn.peer_ts,
            last_inbound: conn.last_inbound,
            ..WireConn::new(profile)
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
    let first = FirstSend {
        kind,
        rto: &conn.rto,
        sack: conn.our_sack && conn.peer_sack,
        oldest,
        in_flight,
        user_timeout,
    };
    let (expected, probe) = for_first_send(&first, profile);
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

/// Updates the connection with a segment from the peer; returns the acknowledgment number
/// it carries, if it is one the stack takes (not on a RST).
fn on_inbound(conn: &mut WireConn, seg: &SegmentRepr, at: Duration) -> Option<SeqNumber> {
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
