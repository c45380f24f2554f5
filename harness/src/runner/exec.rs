//! The interpreter loop: packetdrill's run.c, run_packet.c and run_system_call.c semantics
//! on one thread, over [`LinuxStack`].
//!
//! packetdrill runs blocking calls on a second thread and lets the main thread go on with
//! later events. `LinuxStack` is single-threaded with non-blocking descriptors, so a blocking
//! call is parked as a [`calls::Pending`] call and retried (see `calls`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::{ChecksumPolicy, SegmentRepr};

use super::annotate;
use super::command;
use super::packet::{self, Conn, ConnState, PEER_PORT_BASE, SCRIPT_PORT};
use super::timing;
use super::{Divergence, IpVersion, ModelProfile, RunOptions};
use crate::differ::{Call, Differ};
use crate::scenario::{
    Action, Direction, Event, EventTime, Script, Secs, Span, TcpOption, TcpOptions,
};
use crate::stack::linux::{Fd, LinuxStack};
use crate::stack::{Packet, Stack};
use crate::trace::EventKind;

mod calls;
mod validate;
use calls::Pending;
pub use validate::{located, validate, Settings};

/// Why a run stopped early.
pub enum Stop {
    Fail(Divergence),
    /// The harness itself missed the script's schedule (descheduled on a loaded machine):
    /// says nothing about the stack, so the run is void and is tried again.
    HarnessLate(Divergence),
    /// Rendered, located when it concerns a line of the script.
    Error(String),
    /// The run was asked to stop (Ctrl-C): no verdict.
    Cancelled,
}

type Step<T = ()> = Result<T, Stop>;

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        Stop::Error(format!("harness: {e}"))
    }
}

/// packetdrill waits this long past an outbound packet's expected time before giving up
/// (`sniff_outbound_live_packet`'s `tolerance_secs`).
const SNIFF_GRACE_USECS: i64 = 2_000_000;

/// How long a syscall waits for a blocking call still in progress (`await_idle_thread`).
const AWAIT_IDLE_USECS: i64 = 1_000_000;

/// How long before an event's time the runner stops sleeping and checks in a loop.
/// packetdrill spins (`MAX_SPIN_USECS`) because poll has millisecond resolution; the TUN wait
/// here is a ppoll on a high-resolution timer, late by the timer slack (about 50 µs), far
/// inside the 4 ms tolerance. Spinning would also starve parallel runs (`--jobs N` on few
/// cores), making their verdicts depend on N.
const SPIN_USECS: i64 = 0;

/// How often a parked blocking call is retried while the runner waits.
const PENDING_POLL_USECS: i64 = 1_000;

/// How often a wait looks at the cancel flag, when the caller gave one: a Ctrl-C is answered
/// within this, not after the script's longest sleep.
const CANCEL_POLL_USECS: i64 = 100_000;

pub struct Exec<'a> {
    pub stack: LinuxStack,
    file: &'a str,
    text: &'a str,
    script: &'a Script,
    opts: &'a RunOptions,
    /// IPv6 on the wire.
    v6: bool,
    /// AF_INET6 sockets over IPv4 (IPv4-mapped addresses).
    mapped: bool,
    tol_usecs: i64,
    tol_percent: f64,
    start: Duration,
    /// The adjusted script time of the previous event (packetdrill's `last_event`).
    last_time: Option<i64>,
    last_inbound: bool,
    fds: HashMap<i64, Fd>,
    nonblocking: HashMap<Fd, bool>,
    queues: BTreeMap<u16, VecDeque<Packet>>,
    conns: BTreeMap<u16, Conn>,
    ports_used: BTreeMap<u16, u16>,
    listen_epoch: u32,
    connecting: bool,
    pending: Option<Pending>,
    num_events: usize,
    /// The latest scheduled time reached: the script's own timeline.
    timeline: i64,
    /// The model's view of the run, when asked for.
    pub differ: Option<Differ>,
    /// The script line of the event being run.
    line: u32,
    /// When the model was last told of a call (script time).
    model_floor: Duration,
    /// When the event being run took effect (script µs): an inbound segment's or a call's
    /// start, an outbound segment's send time.
    effect: i64,
    /// `effect` of the event before.
    last_effect: i64,
    /// When the event being run had its time worked out (script µs): a relative time counts
    /// from here, however long after `last_effect` the harness got here.
    adjusted_at: i64,
}

impl<'a> Exec<'a> {
    pub fn new(
        stack: LinuxStack,
        file: &'a str,
        text: &'a str,
        script: &'a Script,
        opts: &'a RunOptions,
        settings: &Settings,
        ip: IpVersion,
    ) -> Exec<'a> {
        Exec {
            stack,
            file,
            text,
            script,
            opts,
            v6: ip == IpVersion::V6,
            mapped: ip == IpVersion::V4Mapped,
            tol_usecs: settings.tolerance_usecs,
            tol_percent: settings.tolerance_percent,
            start: Duration::ZERO,
            last_time: None,
            last_inbound: false,
            fds: HashMap::new(),
            nonblocking: HashMap::new(),
            queues: BTreeMap::new(),
            conns: BTreeMap::new(),
            ports_used: BTreeMap::new(),
            listen_epoch: 0,
            connecting: false,
            pending: None,
            num_events: 0,
            timeline: 0,
            differ: None,
            line: 0,
            model_floor: Duration::ZERO,
            effect: 0,
            last_effect: 0,
            adjusted_at: 0,
        }
    }

    fn now_us(&self) -> i64 {
        self.stack.now().as_micros() as i64 - self.start.as_micros() as i64
    }

    fn at(&self, us: i64) -> Duration {
        let t = self.start.as_micros() as i64 + us;
        Duration::from_micros(t.max(0) as u64)
    }

    fn error_at(&self, span: Span, message: impl Into<String>) -> Stop {
        Stop::Error(located(self.file, self.text, span, message.into()))
    }

    fn fail(&self, event: &Event, actual: String, message: impl Into<String>) -> Stop {
        Stop::Fail(Divergence {
            line: event.span.line,
            expected: event.to_string().trim().to_string(),
            actual,
            message: message.into(),
        })
    }

    /// Checks a `%{ assert tcpi_... }%` block against the TCP_INFO of the socket under test:
    /// the newest socket the script still has open (the accepted or connected one in the
    /// usual script).
    fn code(&mut self, ev: &Event, code: &str) -> Step {
        let assertions = super::assert::parse(code).map_err(|m| self.error_at(ev.span, &m))?;
        let Some((_, &fd)) = self.fds.iter().max_by_key(|(script_fd, _)| **script_fd) else {
            return Err(self.error_at(ev.span, "no open socket to read TCP_INFO from"));
        };
        let info = self.stack.tcp_info(fd)?;
        annotate::step(self.stack.sandbox_mut(), ev);
        super::assert::check(&assertions, &info)
            .map_err(|m| self.fail(ev, format!("tcpi_state {}", info.state), m))
    }

    /// The script's own timeline so far: the latest time an event was scheduled for, so
    /// callers can tell the harness's overhead from the time the script asks to wait.
    pub fn timeline(&self) -> Duration {
        Duration::from_micros(self.timeline.max(0) as u64)
    }

    pub fn run(&mut self) -> Step {
        // Before any command changes them: the schedule report's base numbers, and the
        // model's when the script sets no sysctl first.
        let fresh = crate::differ::profile::fresh_linux(self.stack.sandbox());
        if let Some(c) = &self.script.init_command {
            self.command(c.span, &c.text, None)?;
        }
        self.start = self.stack.now();
        self.start_model(fresh)?;
        let result = {
            let _punctual = timing::Punctual::enter();
            self.events()
        };
        if matches!(result, Err(Stop::Fail(_))) {
            // Before the cleanup command and the end's aborts add packets of their own.
            self.model_catch_up();
        }
        let result = if let Some(c) = &self.script.cleanup_command {
            // packetdrill runs it whether the script passed or not.
            let cleanup = self.command(c.span, &c.text, None);
            result.and(cleanup)
        } else {
            result
        };
        let ended = self.end();
        result.and(ended)
    }

    /// The scenario's last line has run and its checks are done (the trailing packets
    /// included): nothing of it may outlive it. Every socket is aborted, and what the
    /// script closed itself is destroyed (see [`LinuxStack::end_check`]); an orphan would
    /// otherwise keep the namespace alive for a minute or two after the verdict.
    fn end(&mut self) -> Step {
        self.stack.end_check().map(drop).map_err(|e| {
            Stop::Error(format!(
                "harness: cannot end the scenario's connections (SOCK_DESTROY): {e}"
            ))
        })
    }

    fn events(&mut self) -> Step {
        let events = &self.script.events;
        // validate() checked the times: the first at 0, none going back, all within
        // MAX_SCRIPT_SECS, so the arithmetic on them below cannot overflow.
        for (i, ev) in events.iter().enumerate() {
            self.line = ev.span.line;
            self.adjusted_at = self.now_us();
            let (t, t_end, end) = self.adjust(ev);
            if !matches!(ev.time, EventTime::Any) {
                self.timeline = self.timeline.max(t).max(end.unwrap_or(t));
            }
            let inbound =
                matches!(&ev.action, Action::Packet(p) if p.direction == Direction::Inbound);
            match &ev.action {
                Action::Packet(p) if p.direction == Direction::Inbound => {
                    self.wait_for_event(ev, t)?;
                    self.effect = self.now_us();
                    self.inbound(ev, p)?;
                }
                // Sets `effect` to the segment's send time.
                Action::Packet(p) => self.outbound(ev, p, t, t_end)?,
                Action::Syscall(sc) => {
                    self.await_idle(ev, sc.end.is_some())?;
                    self.wait_for_event(ev, t)?;
                    self.effect = self.now_us();
                    self.syscall(i, ev, sc, t, end)?;
                }
                Action::Command(c) => {
                    self.wait_for_event(ev, t)?;
                    self.command(ev.span, c, Some(ev))?;
                    self.effect = self.now_us();
                }
                Action::Code(code) => {
                    self.wait_for_event(ev, t)?;
                    self.code(ev, code)?;
                    self.effect = self.now_us();
                }
            }
            self.last_time = Some(t);
            self.last_effect = self.effect;
            self.last_inbound = inbound;
            self.num_events += 1;
        }
        // syscalls_free: a blocking call may take one more second to return.
        if self.pending.is_some() {
            let until = self.now_us() + AWAIT_IDLE_USECS;
            self.pump_while_pending(until)?;
            if let Some(p) = &self.pending {
                let ev = &events[p.event];
                return Err(self.fail(
                    ev,
                    "still blocked".into(),
                    "exiting while a blocking system call is in progress",
                ));
            }
        }
        let trailing = self.stack.settle()?;
        self.distribute(trailing);
        self.finish_model()?;
        if self.opts.strict_trailing {
            if let Some((peer, p)) = self
                .queues
                .iter()
                .find_map(|(peer, q)| q.front().map(|p| (*peer, p.clone())))
            {
                let shown = self.show_live(peer, &p);
                return Err(Stop::Fail(Divergence {
                    line: events.last().map_or(0, |e| e.span.line),
                    expected: "nothing more from the stack".into(),
                    actual: shown,
                    message: "unexpected packet after the last event".into(),
                }));
            }
        }
        Ok(())
    }

    /// packetdrill's `adjust_relative_event_times`: relative times count from now, except
    /// that consecutive inbound packets count from each other's scheduled times so harness
    /// overhead does not accumulate. Returns (time, range end, blocking call end).
    fn adjust(&self, ev: &Event) -> (i64, i64, Option<i64>) {
        let inbound = matches!(&ev.action, Action::Packet(p) if p.direction == Direction::Inbound);
        let offset = || match self.last_time {
            Some(last) if self.last_inbound && inbound => last,
            _ => self.now_us(),
        };
        let end = match &ev.action {
            Action::Syscall(sc) => sc.end.map(|e| e as i64),
            _ => None,
        };
        match ev.time {
            EventTime::Absolute(t) => (t as i64, t as i64, end),
            EventTime::AbsoluteRange(a, b) => (a as i64, b as i64, end),
            EventTime::Relative(t) => {
                let o = offset();
                (t as i64 + o, t as i64 + o, end.map(|e| e + o))
            }
            EventTime::RelativeRange(a, b) => {
                let o = offset();
                (a as i64 + o, b as i64 + o, end)
            }
            EventTime::Any => {
                let o = offset();
                (o, o, end)
            }
        }
    }

    /// packetdrill's `verify_time`.
    fn verify_time(
        &self,
        time: EventTime,
        t: i64,
        t_end: i64,
        actual: i64,
        last: Option<i64>,
        what: &str,
    ) -> Result<(), String> {
        let tol = self.tolerance(t, last);
        self.verify_time_within(time, t, t_end, actual, tol, tol, what)
    }

    /// packetdrill's tolerance for an event at `t` after one scheduled at `last`: the
    /// larger of `--tolerance_usecs` and `--tolerance_percent` of the interval.
    fn tolerance(&self, t: i64, last: Option<i64>) -> i64 {
        let mut tol = self.tol_usecs;
        if let Some(last) = last {
            tol = tol.max((self.tol_percent / 100.0 * (t - last) as f64) as i64);
        }
        tol
    }

    /// [`Exec::verify_time`] with the tolerance before (`early`) and after (`late`) the
    /// expected time given.
    #[allow(clippy::too_many_arguments)]
    fn verify_time_within(
        &self,
        time: EventTime,
        t: i64,
        t_end: i64,
        actual: i64,
        early: i64,
        late: i64,
        what: &str,
    ) -> Result<(), String> {
        let secs = |us: i64| format!("{:.6}", us as f64 / 1e6);
        match time {
            EventTime::Any => Ok(()),
            EventTime::AbsoluteRange(..) | EventTime::RelativeRange(..) => {
                if actual < t - early || actual > t_end + late {
                    Err(format!(
                        "timing error: expected {what} in time range {}~{} sec but happened at {} sec",
                        secs(t),
                        secs(t_end),
                        secs(actual)
                    ))
                } else {
                    Ok(())
                }
            }
            _ => {
                if actual < t - early || actual > t + late {
                    let shown = if early == late {
                        secs(early)
                    } else {
                        format!("-{} +{}", secs(early), secs(late))
                    };
                    Err(format!(
                        "timing error: expected {what} at {} sec but happened at {} sec; tolerance {shown} sec",
                        secs(t),
                        secs(actual),
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Sleeps until the event's time, capturing packets meanwhile, then checks the harness
    /// itself is not late (packetdrill's `wait_for_event` + `check_event_time`).
    fn wait_for_event(&mut self, ev: &Event, t: i64) -> Step {
        self.pump(t)?;
        if self.num_events > 0 {
            let now = self.now_us();
            let what = match &ev.action {
                Action::Packet(_) => "inbound packet",
                Action::Syscall(_) => "system call start",
                _ => "command",
            };
            if let Err(m) = self.verify_time(ev.time, t, t, now, self.last_time, what) {
                return Err(
                    match self.fail(ev, format!("at {} sec", Secs(now.max(0) as u64)), m) {
                        Stop::Fail(d) => Stop::HarnessLate(d),
                        other => other,
                    },
                );
            }
        }
        Ok(())
    }

    fn distribute(&mut self, packets: Vec<Packet>) {
        for p in packets {
            let Ok(seg) = SegmentRepr::parse_with(&p.bytes, ChecksumPolicy::Accept) else {
                continue;
            };
            if let Some(peer) = packet::peer_of(&seg) {
                if let Some(d) = &mut self.differ {
                    // The kernel's send time of a segment a call sent is inside the call,
                    // before the time the model was told of the call (its return): the
                    // model sees it as sent as the call returned, after it.
                    let at = p.at.saturating_sub(self.start).max(self.model_floor);
                    d.captured(at, self.line, &seg);
                }
                self.queues.entry(peer).or_default().push_back(p);
            }
        }
    }

    /// Captures packets until `until` (script time), precisely, retrying a parked call.
    fn pump(&mut self, until: i64) -> Step {
        loop {
            let now = self.now_us();
            if now >= until {
                return Ok(());
            }
            let slice = if self.pending.is_some() {
                until.min(now + PENDING_POLL_USECS)
            } else {
                until
            };
            let slice = self.cancel_point(now, slice)?;
            let block_until = slice - SPIN_USECS;
            let deadline = if now < block_until { block_until } else { now };
            if let Some(p) = self.stack.next_packet(self.at(deadline))? {
                self.distribute(vec![p]);
            }
            self.poll_pending()?;
        }
    }

    /// A wait's next slice, cut short so the cancel flag is seen; `Stop::Cancelled` once it
    /// is set. Without a flag (tests, benches) the slice is left as it is.
    fn cancel_point(&self, now: i64, slice: i64) -> Step<i64> {
        match self.opts.cancel {
            None => Ok(slice),
            Some(flag) if flag.load(std::sync::atomic::Ordering::Relaxed) => Err(Stop::Cancelled),
            Some(_) => Ok(slice.min(now + CANCEL_POLL_USECS)),
        }
    }

    fn pump_while_pending(&mut self, until: i64) -> Step {
        while self.pending.is_some() && self.now_us() < until {
            let slice = until.min(self.now_us() + PENDING_POLL_USECS);
            self.pump(slice)?;
        }
        Ok(())
    }

    /// `await_idle_thread`: a blocking call (one written with `...end`) waits up to a second
    /// for the one in progress to return, and is a script error if it does not. Other calls
    /// run at once, as on packetdrill's main thread (a `close()` of the socket a `connect()`
    /// is blocked on, say).
    fn await_idle(&mut self, ev: &Event, blocking: bool) -> Step {
        if self.pending.is_none() || !blocking {
            return Ok(());
        }
        let until = self.now_us() + AWAIT_IDLE_USECS;
        self.pump_while_pending(until)?;
        if blocking && self.pending.is_some() {
            return Err(self.error_at(
                ev.span,
                "blocking system call while another blocking system call is already in progress",
            ));
        }
        Ok(())
    }

    // --- packets ---

    fn inbound(&mut self, ev: &Event, p: &crate::scenario::Packet) -> Step {
        let epoch = self.listen_epoch;
        let reuse = self.conns.get(&p.peer).is_some_and(|c| c.epoch == epoch);
        if !reuse {
            // handle_listen_for_script_packet: a new child for this peer, on a fresh port.
            let used = self.ports_used.get(&p.peer).copied().unwrap_or(0);
            let Some(port) = PEER_PORT_BASE.checked_add(used) else {
                return Err(self.error_at(
                    ev.span,
                    format!(
                        "peer {} has no port left for a new connection (one per listen(), \
                         from {PEER_PORT_BASE} to 65535)",
                        p.peer
                    ),
                ));
            };
            self.ports_used.insert(p.peer, used + 1);
            self.conns.insert(
                p.peer,
                Conn {
                    peer: p.peer,
                    peer_port: port,
                    kernel_port: Some(SCRIPT_PORT),
                    state: ConnState::PassivePacketReceived,
                    remote_isn: p.seq,
                    script_local_isn: 0,
                    live_local_isn: 0,
                    ts_vals: HashMap::new(),
                    epoch,
                },
            );
        }
        let conn = self.conns.get_mut(&p.peer).expect("inserted above");
        // do_inbound_script_packet's state changes.
        if conn.state == ConnState::PassiveSynAckSent && p.flags.ack {
            conn.state = ConnState::PassiveSynAckAcked;
        } else if conn.state == ConnState::ActiveSynSent && p.flags.syn && p.flags.ack {
            conn.state = ConnState::ActiveSynAcked;
            conn.remote_isn = p.seq;
        }
        let seg = packet::inbound(conn, p, self.v6).map_err(|m| self.error_at(ev.span, m))?;
        let bytes = seg
            .emit()
            .map_err(|e| self.error_at(ev.span, format!("cannot build the packet: {e}")))?;
        let at = self.stack.now().saturating_sub(self.start);
        self.stack.inject(&bytes)?;
        annotate::injected(self.stack.sandbox_mut().trace_mut(), ev);
        if let Some(d) = &mut self.differ {
            d.injected(at, self.line, &seg);
        }
        let out = self.stack.settle()?;
        self.distribute(out);
        self.poll_pending()
    }

    /// The next packet from the stack for `conn`, dropping packets for other connections as
    /// packetdrill's sniffer does.
    fn take_for(&mut self, peer: u16) -> Option<(Packet, SegmentRepr)> {
        let q = self.queues.get_mut(&peer)?;
        let conn = self.conns.get_mut(&peer)?;
        while let Some(p) = q.pop_front() {
            let Ok(seg) = SegmentRepr::parse_with(&p.bytes, ChecksumPolicy::Accept) else {
                continue;
            };
            let t = &seg.tcp;
            match conn.kernel_port {
                Some(k) if t.src_port == k && t.dst_port == conn.peer_port => {
                    return Some((p, seg))
                }
                // find_connect_for_live_packet: the SYN of a pending connect() names the port.
                None if t.dst_port == conn.peer_port && t.flags.syn() && !t.flags.ack() => {
                    conn.kernel_port = Some(t.src_port);
                    conn.live_local_isn = t.seq.0;
                    return Some((p, seg));
                }
                _ => {}
            }
        }
        None
    }

    fn outbound(&mut self, ev: &Event, p: &crate::scenario::Packet, t: i64, t_end: i64) -> Step {
        if p.flags.syn && !p.flags.ack && self.connecting {
            // handle_connect_for_script_packet.
            self.connecting = false;
            self.conns.insert(
                p.peer,
                Conn {
                    peer: p.peer,
                    peer_port: SCRIPT_PORT,
                    kernel_port: None,
                    state: ConnState::ActiveSynSent,
                    remote_isn: 0,
                    script_local_isn: p.seq,
                    live_local_isn: 0,
                    ts_vals: HashMap::new(),
                    epoch: self.listen_epoch,
                },
            );
        }
        let Some(conn) = self.conns.get_mut(&p.peer) else {
            return Err(self.error_at(ev.span, "no matching socket for script packet"));
        };
        let synack = p.flags.syn && p.flags.ack;
        if conn.state == ConnState::PassivePacketReceived && synack {
            conn.script_local_isn = p.seq;
        }
        // The acceptance window's end: a segment later than packetdrill's tolerance may
        // still be a timer on time (see `timing::timer_late`).
        let early = self.tolerance(t, self.last_time);
        let late = match self.last_time {
            Some(last) if t_end > last => timing::timer_late(t_end - last, early),
            _ => early,
        };
        // Waiting ends a grace period after that window, as packetdrill's does after the
        // expected time, so a late segment is shown with its time rather than missed.
        let deadline = match ev.time {
            EventTime::Any => self.now_us() + self.opts.hang_limit.as_micros() as i64,
            _ => t.max(t_end) + late + SNIFF_GRACE_USECS,
        };
        let (live, seg) = loop {
            if let Some(found) = self.take_for(p.peer) {
                break found;
            }
            let now = self.now_us();
            if now >= deadline {
                return Err(self.fail(
                    ev,
                    format!("nothing by {} sec", Secs(now.max(0) as u64)),
                    "timed out waiting for packet",
                ));
            }
            let slice = if self.pending.is_some() {
                deadline.min(now + PENDING_POLL_USECS)
            } else {
                deadline
            };
            let slice = self.cancel_point(now, slice)?;
            if let Some(pk) = self.stack.next_packet(self.at(slice))? {
                self.distribute(vec![pk]);
            }
            self.poll_pending()?;
        };
        let conn = self.conns.get_mut(&p.peer).expect("checked above");
        if conn.state == ConnState::PassivePacketReceived && synack {
            conn.state = ConnState::PassiveSynAckSent;
            conn.live_local_isn = seg.tcp.seq.0;
        }
        let actual = packet::to_script_space(conn, &seg);
        let trace = self.stack.sandbox_mut().trace_mut();
        annotate::captured(trace, &live, ev, &actual.packet);
        // map_outbound_live_packet remembers the TS val mapping before any check.
        let script_ts = script_ts_val(p);
        let live_ts = seg.tcp.options.iter().find_map(|o| match o {
            tcpcheck_model::wire::TcpOption::Timestamps { val, .. } => Some(*val),
            _ => None,
        });
        if let (Some(s), Some(l)) = (script_ts, live_ts) {
            conn.ts_vals.insert(s, l);
        }
        let at = live.at.as_micros() as i64 - self.start.as_micros() as i64;
        self.effect = at;
        let shown = format!("{} at {} sec", actual.packet, fmt_secs(at));
        if SegmentRepr::parse(&live.bytes).is_err() {
            return Err(self.fail(ev, shown, "bad outbound checksum"));
        }
        if let Some(m) = packet::mismatch(p, &actual, &seg) {
            return Err(self.fail(ev, shown, m));
        }
        let what = "outbound packet";
        if let Err(m) = self.verify_time_within(ev.time, t, t_end, at, early, late, what) {
            // The segment is timed by the kernel, the expected time by the harness: counted
            // from when the harness got round to working it out, not from when the event
            // before took effect. A segment early only by the harness's own delay in between
            // (descheduled on a loaded machine) says nothing about the stack: the run is void.
            let relative = matches!(
                ev.time,
                EventTime::Relative(_) | EventTime::RelativeRange(..)
            );
            let delay = (self.adjusted_at - self.last_effect).max(0);
            if relative && at < t - early && at >= t - delay - early {
                return Err(match self.fail(ev, shown, m) {
                    Stop::Fail(d) => Stop::HarnessLate(d),
                    other => other,
                });
            }
            return Err(self.fail(ev, shown, m));
        }
        Ok(())
    }

    fn show_live(&self, peer: u16, p: &Packet) -> String {
        let at = p.at.as_micros() as i64 - self.start.as_micros() as i64;
        match (
            self.conns.get(&peer),
            SegmentRepr::parse_with(&p.bytes, ChecksumPolicy::Accept),
        ) {
            (Some(conn), Ok(seg)) => format!(
                "{} at {} sec",
                packet::to_script_space(conn, &seg).packet,
                fmt_secs(at)
            ),
            (_, Ok(seg)) => format!("{seg} at {} sec", fmt_secs(at)),
            (_, Err(e)) => format!("malformed packet: {e}"),
        }
    }

    // --- commands ---

    fn command(&mut self, span: Span, text: &str, ev: Option<&Event>) -> Step {
        if let Some(ev) = ev {
            annotate::step(self.stack.sandbox_mut(), ev);
        }
        match command::parse_sysctls(text) {
            Some(settings) => {
                for (name, value) in settings {
                    self.stack
                        .sandbox_mut()
                        .set_sysctl(&name, &value)
                        .map_err(|e| self.error_at(span, e.to_string()))?;
                }
            }
            None if self.opts.allow_shell => {
                self.stack.sandbox_mut().note(EventKind::Note {
                    text: format!("sh -c `{text}`"),
                });
                if let Err(m) = command::run_shell(text, self.opts.command_deadline) {
                    let message = format!("error executing `{text}` command: {m}");
                    return Err(match ev {
                        Some(ev) => self.fail(ev, "the command failed".into(), message),
                        None => self.error_at(span, message),
                    });
                }
            }
            None => return Err(self.error_at(span, "shell commands are refused")),
        }
        // The model's numbers follow the namespace's sysctls.
        if self.differ.is_some() {
            let profile = self.profile(self.opts.model)?;
            if let Some(d) = &mut self.differ {
                d.set_profile(profile);
            }
        }
        let out = self.stack.settle()?;
        self.distribute(out);
        Ok(())
    }

    /// After the script failed: the model judges up to now too (the stack's last packets
    /// read first), so that what it says of the failing moment covers a segment the script
    /// waited for in vain. When those packets cannot be read, it stops following the run
    /// rather than judge without them.
    fn model_catch_up(&mut self) {
        if self.differ.is_none() {
            return;
        }
        match self.stack.settle() {
            Ok(packets) => {
                self.distribute(packets);
                let now = self.stack.now().saturating_sub(self.start);
                if let Some(d) = &mut self.differ {
                    d.advance(now);
                }
            }
            Err(e) => {
                if let Some(d) = &mut self.differ {
                    d.give_up(format!("the stack's last packets could not be read: {e}"));
                }
            }
        }
    }

    /// The end of the run: a reply the model owes at once for the last events is given
    /// the same grace as any other before it counts as missing, so the run waits for it
    /// when (and only when) one is still owed.
    fn finish_model(&mut self) -> Step {
        let Some(owed) = self.differ.as_ref().and_then(Differ::owed_by) else {
            if let Some(d) = &mut self.differ {
                let now = self.stack.now().saturating_sub(self.start);
                d.finish(now);
            }
            return Ok(());
        };
        let grace = crate::differ::at_once_grace();
        let until = (owed + grace).as_micros() as i64;
        while self.now_us() < until {
            if let Some(p) = self.stack.next_packet(self.at(until))? {
                self.distribute(vec![p]);
                if self.differ.as_ref().and_then(Differ::owed_by).is_none() {
                    break;
                }
            }
        }
        let now = self.stack.now().saturating_sub(self.start);
        if let Some(d) = &mut self.differ {
            d.finish(now.min(owed));
        }
        Ok(())
    }

    /// Tells the model about a call that returned.
    fn model(&mut self, fd: Fd, call: Call) {
        let now = self.stack.now().saturating_sub(self.start);
        self.model_floor = now;
        if let Some(d) = &mut self.differ {
            d.call(now, self.line, fd.0, call);
        }
    }

    /// Starts the model on the profile asked for, with the numbers of the namespace's
    /// sysctls as they are now (after the init command).
    fn start_model(&mut self, fresh: Result<Profile, String>) -> Step {
        let linux = if self.script.init_command.is_none() {
            fresh
        } else {
            crate::differ::profile::read_linux(self.stack.sandbox())
        };
        self.differ = match self.opts.model {
            ModelProfile::Off => None,
            ModelProfile::Linux => Some(Differ::new(linux.map_err(Self::harness_error)?)),
            ModelProfile::Rfc9293 => Some(Differ::new(Profile::rfc9293())),
        };
        Ok(())
    }

    fn harness_error(e: String) -> Stop {
        Stop::Error(format!("harness: {e}"))
    }

    fn profile(&self, kind: ModelProfile) -> Step<Profile> {
        match kind {
            ModelProfile::Rfc9293 | ModelProfile::Off => Ok(Profile::rfc9293()),
            ModelProfile::Linux => crate::differ::profile::read_linux(self.stack.sandbox())
                .map_err(Self::harness_error),
        }
    }
}

fn script_ts_val(p: &crate::scenario::Packet) -> Option<u32> {
    match &p.options {
        TcpOptions::Exactly(list) => list.iter().find_map(|o| match o {
            TcpOption::Timestamp { val, .. } => Some(*val),
            _ => None,
        }),
        TcpOptions::Any => None,
    }
}

fn fmt_secs(us: i64) -> String {
    if us < 0 {
        format!("-{}", Secs((-us) as u64))
    } else {
        Secs(us as u64).to_string()
    }
}
