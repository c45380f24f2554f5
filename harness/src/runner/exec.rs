//! The interpreter loop: packetdrill's run.c, run_packet.c and run_system_call.c semantics
//! on one thread, over [`LinuxStack`].
//!
//! packetdrill runs blocking calls on a second thread and lets the main thread go on with
//! later events. `LinuxStack` is single-threaded with non-blocking descriptors, so a blocking
//! call is started, parked as [`Pending`] when it would block, and retried whenever something
//! could complete it (after every injected packet, and every millisecond while waiting),
//! which gives its completion time to within a millisecond.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use nix::errno::Errno;
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::{ChecksumPolicy, SegmentRepr};

use super::annotate;
use super::command;
use super::packet::{self, Conn, ConnState, PEER_PORT_BASE, SCRIPT_PORT};
use super::syscall::{bracketed, errno_named, int, is_ellipsis, SUPPORTED};
use super::timing;
use super::{Divergence, IpVersion, ModelProfile, RunOptions};
use crate::differ::{Call, Differ};
use crate::scenario::{
    Action, Direction, Event, EventTime, Expr, ParseError, Script, Secs, Span, Syscall, TcpOption,
    TcpOptions,
};
use crate::stack::linux::{Fd, LinuxStack};
use crate::stack::{CallError, Packet, SockOpt, Stack, TcpState, Wait};
use crate::trace::EventKind;

/// Why a run stopped early.
pub enum Stop {
    Fail(Divergence),
    /// The harness itself missed the script's schedule (descheduled on a loaded machine):
    /// says nothing about the stack, so the run is void and is tried again.
    HarnessLate(Divergence),
    /// Rendered, located when it concerns a line of the script.
    Error(String),
}

type Step<T = ()> = Result<T, Stop>;

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        Stop::Error(format!("harness: {e}"))
    }
}

/// packetdrill's defaults (config.c): `--tolerance_usecs=4000`, `--tolerance_percent=12.5`.
const TOLERANCE_USECS: i64 = 4000;
const TOLERANCE_PERCENT: f64 = 12.5;

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

/// Script-level validation before any sandbox exists, so an unsupported construct costs
/// nothing and is reported at its column.
pub struct Settings {
    pub ip: Option<IpVersion>,
    pub tolerance_usecs: i64,
    pub tolerance_percent: f64,
}

pub fn validate(
    file: &str,
    text: &str,
    script: &Script,
    opts: &RunOptions,
) -> Result<Settings, String> {
    let err = |span: Span, msg: String| located(file, text, span, msg);
    let mut settings = Settings {
        ip: None,
        tolerance_usecs: TOLERANCE_USECS,
        tolerance_percent: TOLERANCE_PERCENT,
    };
    for o in &script.options {
        let value = o.value.as_deref().map(|v| v.trim_matches('"'));
        match (o.name.as_str(), value) {
            ("ip_version", Some(v)) if IpVersion::parse(v).is_some() => {
                settings.ip = IpVersion::parse(v);
            }
            ("ip_version", Some(v)) => {
                return Err(err(
                    o.span,
                    format!("--ip_version={v} is not supported yet"),
                ))
            }
            ("tolerance_usecs", Some(v)) => {
                settings.tolerance_usecs = v
                    .parse()
                    .map_err(|_| err(o.span, format!("bad --tolerance_usecs `{v}`")))?
            }
            ("tolerance_percent", Some(v)) => {
                settings.tolerance_percent = v
                    .parse()
                    .map_err(|_| err(o.span, format!("bad --tolerance_percent `{v}`")))?
            }
            (name, _) => {
                return Err(err(
                    o.span,
                    format!("script option --{name} is not supported yet"),
                ))
            }
        }
    }
    let commands = script
        .init_command
        .iter()
        .chain(script.cleanup_command.iter())
        .map(|c| (c.span, c.text.as_str()));
    let event_commands = script.events.iter().filter_map(|e| match &e.action {
        Action::Command(c) => Some((e.span, c.as_str())),
        _ => None,
    });
    for (span, text_) in commands.chain(event_commands) {
        if command::parse_sysctls(text_).is_none() && !opts.allow_shell {
            return Err(err(
                span,
                "shell commands are refused (only `sysctl` settings run natively); pass \
                 --allow-shell to run it with `sh -c` inside the scenario's network namespace"
                    .into(),
            ));
        }
    }
    for e in &script.events {
        match &e.action {
            Action::Code(code) => {
                if let Err(m) = super::assert::parse(code) {
                    return Err(err(e.span, m));
                }
            }
            Action::Syscall(sc) if !SUPPORTED.contains(&sc.name.as_str()) => {
                return Err(err(
                    e.span,
                    format!("system call `{}` is not supported yet", sc.name),
                ))
            }
            Action::Packet(p) => {
                if let TcpOptions::Exactly(list) = &p.options {
                    packet::options_to_wire(list, 0).map_err(|m| err(e.span, m))?;
                }
                if p.direction == Direction::Inbound {
                    if matches!(p.options, TcpOptions::Any) {
                        return Err(err(
                            e.span,
                            "`<...>` is only allowed on outbound packets".into(),
                        ));
                    }
                    if matches!(
                        e.time,
                        EventTime::Any
                            | EventTime::AbsoluteRange(..)
                            | EventTime::RelativeRange(..)
                    ) {
                        return Err(err(e.span, "inbound packets need an exact time".into()));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(settings)
}

/// A runtime error at a script position, rendered like a parse error.
pub fn located(file: &str, text: &str, span: Span, message: String) -> String {
    let source_line = text
        .lines()
        .nth(span.line.saturating_sub(1) as usize)
        .unwrap_or("")
        .trim_end_matches('\r')
        .to_string();
    let chars = source_line.chars().count() as u32;
    let last = if span.end_line == span.line {
        span.end_col
    } else {
        chars + 1
    };
    ParseError {
        file: file.to_string(),
        line: span.line,
        col: span.col.max(1),
        message,
        width: last.saturating_sub(span.col).max(1),
        source_line,
    }
    .to_string()
}

/// A blocking call that has not returned yet.
struct Pending {
    event: usize,
    op: Op,
    /// Script-live time it must return at (`None`: a call without `...end` that blocks,
    /// which in packetdrill blocks the whole interpreter).
    end: Option<i64>,
    start: i64,
}

#[derive(Clone, Copy)]
enum Op {
    Accept(Fd),
    Connect(Fd),
    Read(Fd, usize),
}

/// What a call returned, as the script sees it.
struct Ret {
    value: i64,
    errno: Option<Errno>,
    new_fd: Option<Fd>,
}

/// What the model needs of a call's result beyond [`Ret`].
fn accepted(r: &Result<(Fd, SocketAddr), CallError>) -> Option<(i32, SocketAddr)> {
    r.as_ref().ok().map(|(f, a)| (f.0, *a))
}

impl Ret {
    fn ok(value: i64) -> Ret {
        Ret {
            value,
            errno: None,
            new_fd: None,
        }
    }

    fn err(e: Errno) -> Ret {
        Ret {
            value: -1,
            errno: Some(e),
            new_fd: None,
        }
    }

    fn from<T>(r: Result<T, CallError>, value: impl FnOnce(T) -> i64) -> Ret {
        match r {
            Ok(v) => Ret::ok(value(v)),
            Err(CallError::Errno(e)) => Ret::err(e),
            Err(CallError::Deadline) => Ret::err(Errno::ETIMEDOUT),
        }
    }

    fn show(&self) -> String {
        match self.errno {
            Some(e) => format!("-1 {e:?} ({})", e.desc()),
            None => self.value.to_string(),
        }
    }
}

enum Started {
    Done(Ret),
    Blocked(Op),
}

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
        if let Some(c) = &self.script.init_command {
            self.command(c.span, &c.text, None)?;
        }
        self.start = self.stack.now();
        self.start_model()?;
        let result = {
            let _punctual = timing::Punctual::enter();
            self.events()
        };
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
        let mut last_absolute: Option<i64> = None;
        for (i, ev) in events.iter().enumerate() {
            if i == 0 && !matches!(ev.time, EventTime::Absolute(0) | EventTime::Relative(0)) {
                return Err(self.error_at(ev.span, "first event should be at time 0"));
            }
            if let EventTime::Absolute(t) = ev.time {
                let t = t as i64;
                if last_absolute.is_some_and(|l| t < l) {
                    return Err(self.error_at(ev.span, "time goes backward in script"));
                }
                last_absolute = Some(t);
            }
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
            let block_until = slice - SPIN_USECS;
            let deadline = if now < block_until { block_until } else { now };
            if let Some(p) = self.stack.next_packet(self.at(deadline))? {
                self.distribute(vec![p]);
            }
            self.poll_pending()?;
        }
    }

    fn pump_while_pending(&mut self, until: i64) -> Step {
        while self.pending.is_some() && self.now_us() < until {
            let slice = until.min(self.now_us() + PENDING_POLL_USECS);
            self.pump(slice)?;
        }
        Ok(())
    }

    /// `await_idle_thread`: a syscall waits up to a second for a blocking one to return;
    /// a second blocking call while one is in progress is a script error.
    fn await_idle(&mut self, ev: &Event, blocking: bool) -> Step {
        if self.pending.is_none() {
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
            let n = self.ports_used.entry(p.peer).or_insert(0);
            let port = PEER_PORT_BASE + *n;
            *n += 1;
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

    // --- system calls ---

    fn fd_arg(&self, ev: &Event, e: &Expr) -> Step<Fd> {
        let n = int(e).map_err(|m| self.error_at(ev.span, m))?;
        self.fds
            .get(&n)
            .copied()
            .ok_or_else(|| self.error_at(ev.span, format!("unable to find fd with script fd {n}")))
    }

    fn arity(&self, ev: &Event, sc: &Syscall, n: &[usize]) -> Step {
        if n.contains(&sc.args.len()) {
            Ok(())
        } else {
            Err(self.error_at(
                ev.span,
                format!(
                    "{} expects {:?} arguments, not {}",
                    sc.name,
                    n,
                    sc.args.len()
                ),
            ))
        }
    }

    fn ellipsis(&self, ev: &Event, e: &Expr, what: &str) -> Step {
        if is_ellipsis(e) {
            Ok(())
        } else {
            Err(self.error_at(
                ev.span,
                format!("only `...` is supported for the {what} (found `{e}`)"),
            ))
        }
    }

    fn peer_addr(&self) -> SocketAddr {
        self.socket_addr(packet::peer_ip(self.v6, 1), SCRIPT_PORT)
    }

    /// An address as the script's sockets name it: IPv4-mapped on an IPv6 socket.
    fn socket_addr(&self, ip: std::net::IpAddr, port: u16) -> SocketAddr {
        match ip {
            std::net::IpAddr::V4(v4) if self.mapped => {
                SocketAddr::new(std::net::IpAddr::V6(v4.to_ipv6_mapped()), port)
            }
            _ => SocketAddr::new(ip, port),
        }
    }

    fn is_blocking(&self, fd: Fd) -> bool {
        !self.nonblocking.get(&fd).copied().unwrap_or(false)
    }

    fn syscall(
        &mut self,
        index: usize,
        ev: &Event,
        sc: &Syscall,
        t: i64,
        end: Option<i64>,
    ) -> Step {
        let started = self.start_call(ev, sc)?;
        match started {
            Started::Done(ret) => {
                self.finish_call(ev, sc, ret, t, end)?;
            }
            Started::Blocked(op) => {
                self.pending = Some(Pending {
                    event: index,
                    op,
                    end,
                    start: t,
                });
                if end.is_none() {
                    // packetdrill's interpreter itself blocks in such a call.
                    let limit = self.now_us() + self.opts.hang_limit.as_micros() as i64;
                    self.pump_while_pending(limit)?;
                    if self.pending.take().is_some() {
                        return Err(self.fail(
                            ev,
                            format!("still blocked after {:?}", self.opts.hang_limit),
                            "the call blocked (packetdrill would hang here)",
                        ));
                    }
                }
            }
        }
        let out = self.stack.settle()?;
        self.distribute(out);
        self.poll_pending()
    }

    /// Checks a returned call against the script: result, errno (`end_syscall`), then the
    /// return time of a blocking call.
    fn finish_call(
        &mut self,
        ev: &Event,
        sc: &Syscall,
        ret: Ret,
        t: i64,
        end: Option<i64>,
    ) -> Step {
        let now = self.now_us();
        let shown = format!("returned {} at {} sec", ret.show(), fmt_secs(now));
        annotate::call(self.stack.sandbox_mut(), ev, sc, &ret.show());
        let expected = int(&sc.result).map_err(|m| self.error_at(ev.span, m))?;
        let fd_call = matches!(sc.name.as_str(), "socket" | "accept");
        if fd_call && expected >= 0 {
            if ret.value < 0 {
                return Err(self.fail(ev, shown, "expected a non-negative result"));
            }
        } else if ret.value != expected {
            return Err(self.fail(ev, shown, format!("expected result {expected}")));
        }
        if let Some(want) = &sc.errno {
            let want_errno = errno_named(&want.name)
                .ok_or_else(|| self.error_at(ev.span, format!("unknown errno {}", want.name)))?;
            if ret.errno != Some(want_errno) {
                return Err(self.fail(ev, shown, format!("expected errno {}", want.name)));
            }
        }
        if let (true, Some(fd)) = (fd_call, ret.new_fd) {
            if self.fds.insert(expected, fd).is_some() {
                return Err(self.error_at(ev.span, format!("duplicate fd {expected} in script")));
            }
        }
        if let Some(end) = end {
            let time = match ev.time {
                EventTime::Absolute(_) => EventTime::Absolute(0),
                _ => EventTime::Relative(0),
            };
            if let Err(m) = self.verify_time(time, end, end, now, Some(t), "system call return") {
                return Err(self.fail(ev, shown, m));
            }
        }
        Ok(())
    }

    fn poll_pending(&mut self) -> Step {
        let Some(p) = &self.pending else {
            return Ok(());
        };
        let (op, index, end, start) = (p.op, p.event, p.end, p.start);
        let Some(ret) = self.try_op(op)? else {
            return Ok(());
        };
        self.pending = None;
        let ev = &self.script.events[index];
        let Action::Syscall(sc) = &ev.action else {
            unreachable!("pending calls come from syscall events")
        };
        // A call without `...end` is checked by the caller that waits for it.
        self.finish_call(ev, sc, ret, start, end)
    }

    /// One non-blocking attempt at a parked call; `None` while it would still block. Failed
    /// attempts are removed from the trace so it shows the call once.
    fn try_op(&mut self, op: Op) -> Step<Option<Ret>> {
        let mark = self.stack.sandbox().trace().events.len();
        let ret = match op {
            Op::Accept(fd) => match self.stack.accept(fd, Wait::No) {
                Err(CallError::Errno(Errno::EAGAIN)) => None,
                r => {
                    let accepted = accepted(&r);
                    if accepted.is_some() {
                        self.model(fd, Call::Accept { accepted });
                    }
                    let new_fd = r.as_ref().ok().map(|(f, _)| *f);
                    let mut ret = Ret::from(r, |(f, _)| i64::from(f.0));
                    ret.new_fd = new_fd;
                    Some(ret)
                }
            },
            Op::Read(fd, max) => match self.stack.read(fd, max, Wait::No) {
                Err(CallError::Errno(Errno::EAGAIN)) => None,
                r => {
                    if let Ok(d) = &r {
                        let len = Some(d.len() as u64);
                        self.model(fd, Call::Read { len });
                    }
                    Some(Ret::from(r, |d| d.len() as i64))
                }
            },
            Op::Connect(fd) => match self.stack.take_error(fd) {
                Ok(Some(e)) => Some(Ret::err(e)),
                Err(e) => Some(Ret::from::<()>(Err(e), |_| 0)),
                Ok(None) => match self.stack.tcp_info(fd)?.state {
                    TcpState::SynSent => None,
                    // The handshake may have failed between the two reads (the SYN timer
                    // sets the error, then closes): read the error again now that the
                    // state has moved on.
                    _ => match self.stack.take_error(fd) {
                        Ok(Some(e)) => Some(Ret::err(e)),
                        _ => Some(Ret::ok(0)),
                    },
                },
            },
        };
        if ret.is_none() {
            self.stack.sandbox_mut().trace_mut().events.truncate(mark);
        }
        Ok(ret)
    }

    fn start_call(&mut self, ev: &Event, sc: &Syscall) -> Step<Started> {
        let a = &sc.args;
        let done = |r| Ok(Started::Done(r));
        match sc.name.as_str() {
            "socket" => {
                self.arity(ev, sc, &[3])?;
                let v6 = if is_ellipsis(&a[0]) {
                    self.v6 || self.mapped
                } else {
                    match int(&a[0]).map_err(|m| self.error_at(ev.span, m))? {
                        x if x == libc::AF_INET as i64 => false,
                        x if x == libc::AF_INET6 as i64 => true,
                        x => {
                            return Err(self.error_at(
                                ev.span,
                                format!("address family {x} is not supported yet"),
                            ))
                        }
                    }
                };
                let ty = int(&a[1]).map_err(|m| self.error_at(ev.span, m))?;
                let nonblock = ty & libc::SOCK_NONBLOCK as i64 != 0;
                if ty & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) as i64
                    != libc::SOCK_STREAM as i64
                {
                    return Err(
                        self.error_at(ev.span, "only SOCK_STREAM sockets are supported yet")
                    );
                }
                let r = self.stack.socket(v6);
                if let Ok(fd) = r {
                    self.model(fd, Call::Socket);
                    self.nonblocking.insert(fd, nonblock);
                    if nonblock {
                        let _ = self.stack.set_nonblocking(fd, true);
                    }
                }
                let new_fd = r.as_ref().ok().copied();
                let mut ret = Ret::from(r, |f| i64::from(f.0));
                ret.new_fd = new_fd;
                done(ret)
            }
            "bind" => {
                self.arity(ev, sc, &[3])?;
                let fd = self.fd_arg(ev, &a[0])?;
                self.ellipsis(ev, &a[1], "address")?;
                self.ellipsis(ev, &a[2], "address length")?;
                // run_syscall_bind: always the stack's address and live_bind_port.
                let addr = self.socket_addr(packet::peer_ip(self.v6, 0), SCRIPT_PORT);
                let r = self.stack.bind(fd, addr);
                if r.is_ok() {
                    self.model(fd, Call::Bind { port: SCRIPT_PORT });
                }
                done(Ret::from(r, |_| 0))
            }
            "listen" => {
                self.arity(ev, sc, &[2])?;
                let fd = self.fd_arg(ev, &a[0])?;
                let backlog = int(&a[1]).map_err(|m| self.error_at(ev.span, m))?;
                let r = self.stack.listen(fd, backlog as i32);
                if r.is_ok() {
                    self.listen_epoch += 1;
                    let backlog = backlog as i32;
                    self.model(fd, Call::Listen { backlog });
                }
                done(Ret::from(r, |_| 0))
            }
            "accept" => {
                self.arity(ev, sc, &[3])?;
                let fd = self.fd_arg(ev, &a[0])?;
                self.ellipsis(ev, &a[1], "address")?;
                self.ellipsis(ev, &a[2], "address length")?;
                self.attempt(Op::Accept(fd), fd)
            }
            "connect" => {
                self.arity(ev, sc, &[3])?;
                let fd = self.fd_arg(ev, &a[0])?;
                self.ellipsis(ev, &a[1], "address")?;
                self.ellipsis(ev, &a[2], "address length")?;
                self.connecting = true;
                let addr = self.peer_addr();
                let r = self.stack.connect(fd, addr);
                if matches!(r, Ok(()) | Err(CallError::Errno(Errno::EINPROGRESS))) {
                    self.model(fd, Call::Connect { peer: addr });
                }
                match r {
                    Err(CallError::Errno(Errno::EINPROGRESS)) if self.is_blocking(fd) => {
                        Ok(Started::Blocked(Op::Connect(fd)))
                    }
                    r => done(Ret::from(r, |_| 0)),
                }
            }
            "read" | "recv" => {
                self.arity(ev, sc, &[if sc.name == "read" { 3 } else { 4 }])?;
                let fd = self.fd_arg(ev, &a[0])?;
                self.ellipsis(ev, &a[1], "buffer")?;
                let max = int(&a[2]).map_err(|m| self.error_at(ev.span, m))?;
                if sc.name == "recv" && int(&a[3]) != Ok(0) {
                    return Err(
                        self.error_at(ev.span, "recv flags other than 0 are not supported yet")
                    );
                }
                self.attempt(Op::Read(fd, max.max(0) as usize), fd)
            }
            "write" | "send" => {
                self.arity(ev, sc, &[if sc.name == "write" { 3 } else { 4 }])?;
                let fd = self.fd_arg(ev, &a[0])?;
                self.ellipsis(ev, &a[1], "buffer")?;
                let len = int(&a[2]).map_err(|m| self.error_at(ev.span, m))?;
                if sc.name == "send" && int(&a[3]) != Ok(0) {
                    return Err(
                        self.error_at(ev.span, "send flags other than 0 are not supported yet")
                    );
                }
                // packetdrill writes zeros (alloc_buffer with set_zero).
                let data = vec![0; len.max(0) as usize];
                let r = self.stack.write(fd, &data);
                if let Ok(n) = r {
                    self.model(fd, Call::Write { len: n as u32 });
                }
                done(Ret::from(r, |n| n as i64))
            }
            "shutdown" => {
                self.arity(ev, sc, &[2])?;
                let fd = self.fd_arg(ev, &a[0])?;
                let how = match int(&a[1]).map_err(|m| self.error_at(ev.span, m))? {
                    x if x == libc::SHUT_RD as i64 => Shutdown::Read,
                    x if x == libc::SHUT_WR as i64 => Shutdown::Write,
                    x if x == libc::SHUT_RDWR as i64 => Shutdown::Both,
                    x => return Err(self.error_at(ev.span, format!("bad shutdown mode {x}"))),
                };
                let r = self.stack.shutdown(fd, how);
                if r.is_ok() {
                    let read = matches!(how, Shutdown::Read | Shutdown::Both);
                    let write = matches!(how, Shutdown::Write | Shutdown::Both);
                    self.model(fd, Call::Shutdown { read, write });
                }
                done(Ret::from(r, |_| 0))
            }
            "close" => {
                self.arity(ev, sc, &[1])?;
                let n = int(&a[0]).map_err(|m| self.error_at(ev.span, m))?;
                let fd = self.fd_arg(ev, &a[0])?;
                let r = self.stack.close(fd);
                if r.is_ok() {
                    self.model(fd, Call::Close);
                    self.fds.remove(&n);
                    self.nonblocking.remove(&fd);
                }
                done(Ret::from(r, |_| 0))
            }
            "setsockopt" => {
                self.arity(ev, sc, &[5])?;
                let fd = self.fd_arg(ev, &a[0])?;
                let opt = self.sockopt(ev, &a[1], &a[2], &a[3])?;
                let r = self.stack.setsockopt(fd, opt);
                if r.is_ok() {
                    self.model(fd, model_option(opt));
                }
                done(Ret::from(r, |_| 0))
            }
            "getsockopt" => {
                self.arity(ev, sc, &[5])?;
                let fd = self.fd_arg(ev, &a[0])?;
                let level = int(&a[1]).map_err(|m| self.error_at(ev.span, m))?;
                let name = int(&a[2]).map_err(|m| self.error_at(ev.span, m))?;
                if level != libc::SOL_SOCKET as i64 || name != libc::SO_ERROR as i64 {
                    return Err(self.error_at(
                        ev.span,
                        "getsockopt: only SOL_SOCKET, SO_ERROR is supported yet",
                    ));
                }
                let want = bracketed(&a[3]).map_err(|m| self.error_at(ev.span, m))?;
                let r = self.stack.take_error(fd);
                if let Ok(got) = &r {
                    let got = got.map_or(0, |e| e as i64);
                    if got != want {
                        let actual = format!("SO_ERROR {got} ({})", got_desc(got));
                        return Err(self.fail(
                            ev,
                            actual,
                            format!("bad getsockopt optval: expected {want}"),
                        ));
                    }
                }
                done(Ret::from(r, |_| 0))
            }
            "fcntl" => {
                self.arity(ev, sc, &[2, 3])?;
                let fd = self.fd_arg(ev, &a[0])?;
                let cmd = int(&a[1]).map_err(|m| self.error_at(ev.span, m))?;
                if cmd == libc::F_GETFL as i64 && a.len() == 2 {
                    let nb = !self.is_blocking(fd);
                    let flags = libc::O_RDWR as i64 | if nb { libc::O_NONBLOCK as i64 } else { 0 };
                    return done(Ret::ok(flags));
                }
                if cmd == libc::F_SETFL as i64 && a.len() == 3 {
                    let flags = int(&a[2]).map_err(|m| self.error_at(ev.span, m))?;
                    let on = flags & libc::O_NONBLOCK as i64 != 0;
                    let r = self.stack.set_nonblocking(fd, on);
                    if r.is_ok() {
                        self.nonblocking.insert(fd, on);
                    }
                    return done(Ret::from(r, |_| 0));
                }
                Err(self.error_at(ev.span, "fcntl: only F_GETFL and F_SETFL are supported yet"))
            }
            other => Err(self.error_at(
                ev.span,
                format!("system call `{other}` is not supported yet"),
            )),
        }
    }

    /// First attempt at a call that may block: parked when the script's socket is blocking.
    fn attempt(&mut self, op: Op, fd: Fd) -> Step<Started> {
        match self.try_op(op)? {
            Some(ret) => Ok(Started::Done(ret)),
            None if self.is_blocking(fd) => Ok(Started::Blocked(op)),
            None => {
                match op {
                    Op::Accept(_) => self.model(fd, Call::Accept { accepted: None }),
                    Op::Read(..) => self.model(fd, Call::Read { len: None }),
                    Op::Connect(_) => {}
                }
                Ok(Started::Done(Ret::err(Errno::EAGAIN)))
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
    fn start_model(&mut self) -> Step {
        // Every fresh namespace starts from the same sysctl values (the kernel's per-netns
        // defaults, some copied from the host's, which a run does not change), so they are
        // read once per process: reading sixteen /proc files cost about as much as the
        // rest of the model's work on an untimed scenario. A scenario whose init command
        // set sysctls is read from its own namespace.
        static FRESH: std::sync::OnceLock<Profile> = std::sync::OnceLock::new();
        self.differ = match self.opts.model {
            ModelProfile::Off => None,
            ModelProfile::Linux if self.script.init_command.is_none() => {
                let profile = match FRESH.get() {
                    Some(p) => p.clone(),
                    None => {
                        let p = self.profile(ModelProfile::Linux)?;
                        FRESH.get_or_init(|| p).clone()
                    }
                };
                Some(Differ::new(profile))
            }
            kind => Some(Differ::new(self.profile(kind)?)),
        };
        Ok(())
    }

    fn profile(&self, kind: ModelProfile) -> Step<Profile> {
        match kind {
            ModelProfile::Rfc9293 | ModelProfile::Off => Ok(Profile::rfc9293()),
            ModelProfile::Linux => {
                let mut values = BTreeMap::new();
                for name in Profile::LINUX_SYSCTLS {
                    if let Ok(v) = self.stack.sandbox().sysctl(name) {
                        values.insert(name.to_string(), v);
                    }
                }
                Profile::linux(&values).map_err(|e| Stop::Error(format!("harness: {e}")))
            }
        }
    }

    fn sockopt(&self, ev: &Event, level: &Expr, name: &Expr, value: &Expr) -> Step<SockOpt> {
        let e = |m: String| self.error_at(ev.span, m);
        let level = int(level).map_err(e)?;
        let name_v = int(name).map_err(e)?;
        let flag = || bracketed(value).map_err(e);
        let sol_socket = level == libc::SOL_SOCKET as i64;
        let tcp = level == libc::IPPROTO_TCP as i64;
        Ok(match (sol_socket, tcp, name_v as i32) {
            (true, _, libc::SO_REUSEADDR) => SockOpt::ReuseAddr(flag()? != 0),
            (true, _, libc::SO_LINGER) => {
                let Expr::Struct(fields) = value else {
                    return Err(e(format!(
                        "SO_LINGER takes {{onoff=N, linger=N}}, not `{value}`"
                    )));
                };
                let mut onoff = 0;
                let mut secs = 0;
                for f in fields {
                    match f {
                        Expr::Assign(k, v) => match (k.as_ref(), int(v)) {
                            (Expr::Word(k), Ok(v)) if k == "onoff" || k == "l_onoff" => onoff = v,
                            (Expr::Word(k), Ok(v)) if k == "linger" || k == "l_linger" => secs = v,
                            _ => return Err(e(format!("bad SO_LINGER field `{f}`"))),
                        },
                        _ => return Err(e(format!("bad SO_LINGER field `{f}`"))),
                    }
                }
                SockOpt::Linger((onoff != 0).then(|| Duration::from_secs(secs.max(0) as u64)))
            }
            (_, true, libc::TCP_NODELAY) => SockOpt::NoDelay(flag()? != 0),
            (_, true, libc::TCP_QUICKACK) => SockOpt::QuickAck(flag()? != 0),
            (_, true, libc::TCP_USER_TIMEOUT) => {
                SockOpt::UserTimeout(Duration::from_millis(flag()?.max(0) as u64))
            }
            (_, true, libc::TCP_MAXSEG) => SockOpt::MaxSeg(flag()? as u16),
            (true, _, libc::SO_KEEPALIVE) => SockOpt::KeepAlive(flag()? != 0),
            (true, _, libc::SO_RCVBUF) => SockOpt::RecvBuffer(flag()?.max(0) as u32),
            (true, _, libc::SO_SNDBUF) => SockOpt::SendBuffer(flag()?.max(0) as u32),
            (_, true, libc::TCP_KEEPIDLE) => {
                SockOpt::KeepIdle(Duration::from_secs(flag()?.max(0) as u64))
            }
            (_, true, libc::TCP_KEEPINTVL) => {
                SockOpt::KeepInterval(Duration::from_secs(flag()?.max(0) as u64))
            }
            (_, true, libc::TCP_KEEPCNT) => SockOpt::KeepCount(flag()?.max(0) as u32),
            _ => {
                return Err(e(format!(
                    "setsockopt({level}, {name}) is not supported yet"
                )))
            }
        })
    }
}

/// What a socket option means to the model.
fn model_option(opt: SockOpt) -> Call {
    match opt {
        SockOpt::Linger(l) => Call::Linger {
            abort_on_close: l == Some(Duration::ZERO),
        },
        SockOpt::UserTimeout(t) => Call::UserTimeout((!t.is_zero()).then_some(t)),
        SockOpt::KeepAlive(on) => Call::KeepAlive(on),
        SockOpt::KeepIdle(d) => Call::KeepAliveTimes {
            idle: Some(d),
            interval: None,
            probes: None,
        },
        SockOpt::KeepInterval(d) => Call::KeepAliveTimes {
            idle: None,
            interval: Some(d),
            probes: None,
        },
        SockOpt::KeepCount(n) => Call::KeepAliveTimes {
            idle: None,
            interval: None,
            probes: Some(n),
        },
        // The window, segment sizes under the MSS and when a delayed ACK goes are the
        // stack's choice within what the model already allows.
        _ => Call::Harmless,
    }
}

fn got_desc(errno: i64) -> &'static str {
    if errno == 0 {
        "no error"
    } else {
        Errno::from_raw(errno as i32).desc()
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
