//! One case against the kernel, diffed with the model: the only place that decides what
//! counts as a divergence, behind [`run_case`].
//!
//! Each case gets a fresh stack (for Linux its own network namespace) and a fresh
//! [`Differ`], the runner's adapter from events into the model: every call, every segment
//! injected and every segment the kernel sent reaches the model through it, so a case
//! judged here is judged the same when its `case.pkt` is replayed with `tcpcheck run
//! --model` (one connection per four-tuple, the listener's queues, descriptors, the grace,
//! RECEIVE and SEND, the naming of known deviations). What the explorer adds is its own:
//! it reads the differ's connection for the numbers of its next segment and for what is
//! owed soon; after every event it waits for the replies owed at once (or, with
//! [`Pace::Thorough`], within [`TIMER_HORIZON`]), up to the differ's grace past their due
//! time ([`crate::differ::grace_for`]: none on a virtual clock), before [`Differ::advance`]
//! calls a missing one. Segments owed later are timers,
//! out of the explorer's scope.

mod calls;
mod states;

use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use nix::errno::Errno;
use tcpcheck_model::conn::{Connection, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::{SegmentRepr, TcpOption};

pub use super::case::{Case, Found, HarnessError, Outcome};
use super::event::{resolve, Clock, Event, Resolved, Setup};
use super::reference::REPLAY_DEPTH;
use super::render::Script;
use crate::differ::{Call, Departure, Differ, Key, Owed, Sent, Trigger};
use crate::observe::tcp_info::TcpState;
use crate::peer::Peer;
use crate::runner::timing::Punctual;
use crate::sandbox::Packet;
use crate::stack::registry::LinuxFactory;
use crate::stack::{CallError, Capabilities, Capability, Fd, Purpose, Recorder, SockOpt};
use crate::stack::{StackFactory, StackKind, Wait};

/// With [`Pace::Thorough`], segments owed later than this after their event are timers
/// (retransmissions) and not waited for; delayed ACKs (under 0.5 s by MUST-40, 200 ms in the
/// profiles) are.
pub const TIMER_HORIZON: Duration = Duration::from_millis(250);

/// How long a step waits for what the model says the kernel owes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pace {
    /// Only for segments owed at once (within the differ's grace). A segment the kernel may
    /// send later (a delayed ACK, a retransmission) is checked when it comes during a later
    /// step; one still allowed to be late when the case ends is not waited for. Delayed
    /// ACKs take 40 ms or more, a quarter of all cases owe one, and waiting for them made
    /// nine tenths of a campaign's time.
    #[default]
    Quick,
    /// Also for delayed ACKs and anything else due within [`TIMER_HORIZON`].
    Thorough,
}

/// The "rule" of a panic inside the stack under test: no RFC's, every stack's.
pub const PANIC_RULE: &str = "the stack panicked";

const STACK_PORT: u16 = 8080;
const PEER_PORT: u16 = 40000;

/// The stack a case runs on, and the capabilities it is to be treated as lacking.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub stack: &'static dyn StackFactory,
    /// Capabilities the stack has but the case treats as missing (tests of "not
    /// applicable").
    pub hide: Capabilities,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            stack: &LinuxFactory,
            hide: Capabilities::NONE,
        }
    }
}

/// What an event needs of a stack beyond the core, if anything.
pub fn needs(ev: &Event) -> Option<Capability> {
    match ev {
        Event::Shutdown => Some(Capability::HalfClose),
        Event::Abort => Some(Capability::Linger),
        Event::DelayedAcks => Some(Capability::QuickAck),
        _ => None,
    }
}

/// Runs `case` in a fresh sandbox on the calling thread, with the model on `profile`.
pub fn run_case(case: &Case, profile: &Profile) -> Result<Outcome, HarnessError> {
    run_case_paced(case, profile, Pace::default())
}

/// [`run_case`] at the given pace.
pub fn run_case_paced(case: &Case, profile: &Profile, pace: Pace) -> Result<Outcome, HarnessError> {
    run_case_on(Target::default(), case, profile, pace)
}

/// [`run_case_paced`] on the given stack.
pub fn run_case_on(
    target: Target,
    case: &Case,
    profile: &Profile,
    pace: Pace,
) -> Result<Outcome, HarnessError> {
    run_case_scripted(target, case, profile, pace, Script::new(case.setup.v6))
}

/// [`run_case_on`] for the verdict alone: the outcome's script is empty
/// ([`Script::muted`]), everything else is as [`run_case_on`] gives it. For the runs whose
/// script nobody reads (a campaign's first run of a case, a fuzzer's).
pub fn run_case_unscripted(
    target: Target,
    case: &Case,
    profile: &Profile,
    pace: Pace,
) -> Result<Outcome, HarnessError> {
    run_case_scripted(target, case, profile, pace, Script::muted(case.setup.v6))
}

fn run_case_scripted(
    target: Target,
    case: &Case,
    profile: &Profile,
    pace: Pace,
    script: Script,
) -> Result<Outcome, HarnessError> {
    let mut session = Session::open_scripted(target, case.setup, profile, pace, script)?;
    if session.found.is_none() && session.case_not_applicable.is_none() {
        for ev in &case.events {
            if session.step(ev).is_err() {
                break;
            }
        }
    }
    session.finish()
}

/// A case in progress: the kernel in its sandbox and the model beside it, one event at a
/// time (proptest-state-machine's system under test, and [`run_case`]'s loop).
pub struct Session {
    d: Driver,
    found: Option<Found>,
    events_run: usize,
    not_applicable: Vec<Capability>,
    case_not_applicable: Option<Capability>,
}

impl Session {
    /// A fresh sandbox with the connection opened as `setup` says.
    pub fn open(setup: Setup, profile: &Profile) -> Result<Session, HarnessError> {
        Session::open_paced(setup, profile, Pace::default())
    }

    /// [`Session::open`] at the given pace, on Linux.
    pub fn open_paced(
        setup: Setup,
        profile: &Profile,
        pace: Pace,
    ) -> Result<Session, HarnessError> {
        Session::open_on(Target::default(), setup, profile, pace)
    }

    /// [`Session::open_paced`] on the given stack, made for one case
    /// ([`Purpose::Case`]: Linux serves the case's IP version alone and sets no sysctl, so
    /// the profile's numbers are the defaults a fresh namespace has). A case on an IP
    /// version the stack lacks opens nothing: it is not applicable.
    pub fn open_on(
        target: Target,
        setup: Setup,
        profile: &Profile,
        pace: Pace,
    ) -> Result<Session, HarnessError> {
        Session::open_scripted(target, setup, profile, pace, Script::new(setup.v6))
    }

    /// [`Session::open_on`], writing the case into `script`.
    fn open_scripted(
        target: Target,
        setup: Setup,
        profile: &Profile,
        pace: Pace,
        script: Script,
    ) -> Result<Session, HarnessError> {
        super::heap::keep_freed_memory();
        let stack = target
            .stack
            .open(Purpose::Case { v6: setup.v6 })
            .map_err(|e| HarnessError(format!("cannot create the stack: {e}")))?;
        let mut rec = Recorder::new(stack);
        rec.mask(target.hide);
        // The timer windows follow the stack's clock (exact on a virtual one).
        let profile = rec.clock().timing(profile.clone());
        let mut d = Driver::new(rec, setup, profile, target.stack.kind());
        d.pace = pace;
        d.start_state_check();
        d.script = script;
        if setup.v6 && !d.stack.has(Capability::Ipv6) {
            return Ok(Session {
                d,
                found: None,
                events_run: 0,
                not_applicable: Vec::new(),
                case_not_applicable: Some(Capability::Ipv6),
            });
        }
        let opened = d.open();
        let found = d.panicked().or(opened.err());
        Ok(Session {
            d,
            found,
            events_run: 0,
            not_applicable: Vec::new(),
            case_not_applicable: None,
        })
    }

    /// Runs one more event; after a divergence nothing more runs and the divergence is
    /// returned again.
    pub fn step(&mut self, ev: &Event) -> Result<(), Found> {
        if let Some(f) = &self.found {
            return Err(f.clone());
        }
        if self.case_not_applicable.is_some() {
            // Nothing opened: nothing runs.
            return Ok(());
        }
        let i = self.events_run;
        self.events_run += 1;
        if let Some(c) = needs(ev).filter(|c| !self.d.stack.has(*c)) {
            // Not run: neither a pass nor a divergence, counted apart.
            self.d
                .script
                .comment(&format!("event {} not applicable (needs {c}): {ev}", i + 1));
            self.not_applicable.push(c);
            return Ok(());
        }
        let stepped = self.d.step(ev);
        if let Some(mut f) = self.d.panicked().or(stepped.err()) {
            f.step = Some(i);
            f.event = ev.to_string().into();
            f.trigger = match ev {
                Event::Segment(s) => Trigger::Segment(s.flags),
                Event::Abort => Trigger::Abort,
                Event::Icmp(_) => Trigger::Icmp,
                // The segment sent again: its control bits, as the differ read them when
                // it went in (as the runner, replaying the script, has them too).
                Event::Replay(_) => f.trigger,
                _ => Trigger::Other,
            };
            self.found = Some(f.clone());
            return Err(f);
        }
        Ok(())
    }

    /// The divergence so far, if any.
    pub fn found(&self) -> Option<&Found> {
        self.found.as_ref()
    }

    /// What each event not applicable so far needed.
    pub fn not_applicable(&self) -> &[Capability] {
        &self.not_applicable
    }

    /// Ends the case: what it produced, or the harness's own failure.
    pub fn finish(mut self) -> Result<Outcome, HarnessError> {
        // No orphans left to keep the namespace alive (Linux: LinuxStack::end_check).
        let _ = self.d.stack.end();
        if let Some(e) = self.d.harness_error.take() {
            return Err(e);
        }
        if let Some(f) = &self.found {
            self.d.script.comment(&format!("divergence: {f}"));
        }
        Ok(Outcome {
            found: self.found,
            trace: self.d.stack.into_trace(),
            script: self.d.script,
            events_run: self.events_run,
            not_applicable: self.not_applicable,
            case_not_applicable: self.case_not_applicable,
        })
    }
}

struct Driver {
    stack: Recorder,
    /// The model's view of the case: the runner's adapter, so both judge alike.
    differ: Differ,
    /// What the next segment's numbers are resolved against while the differ follows no
    /// connection of the case (before the peer's SYN to the listener, or after the
    /// connection closed there): a connection in LISTEN.
    listening: Connection,
    setup: Setup,
    peer: Peer,
    listener: Option<Fd>,
    fd: Option<Fd>,
    injected: Vec<Resolved>,
    clock: Clock,
    script: Script,
    /// The state before the current event, for reports.
    state_before: State,
    /// The event being run, counted from 1 (0: the opening calls); the differ's "line".
    line: u32,
    harness_error: Option<HarnessError>,
    pace: Pace,
    /// Which stack, for the texts of what it did.
    kind: StackKind,
}

type Checked = Result<(), Found>;

impl Driver {
    fn new(stack: Recorder, setup: Setup, profile: Profile, kind: StackKind) -> Driver {
        let peer = if setup.passive {
            Peer::new(setup.v6, PEER_PORT, STACK_PORT, setup.peer_isn)
        } else {
            // The kernel connects to the peer's port 8080 from an ephemeral port, learned
            // from its SYN.
            Peer::new(setup.v6, STACK_PORT, 0, setup.peer_isn)
        };
        let mut listening = Connection::new(profile.clone());
        // The default send MSS without an MSS option depends on the IP version (MUST-15).
        listening.set_ipv6(setup.v6);
        let _ = listening.open_passive(Duration::ZERO);
        Driver {
            stack,
            differ: Differ::new(profile),
            listening,
            setup,
            peer,
            listener: None,
            fd: None,
            injected: Vec::new(),
            clock: Clock::start(),
            script: Script::new(setup.v6),
            state_before: State::Closed,
            line: 0,
            harness_error: None,
            pace: Pace::default(),
            kind,
        }
    }

    /// The case's four-tuple as the differ names it (the stack's port is 0 until an
    /// active open's SYN shows it).
    fn key(&self) -> Key {
        Key {
            local_port: self.peer.remote.port(),
            peer: self.peer.local,
        }
    }

    /// The model's connection for the case, as the differ follows it.
    fn model(&self) -> &Connection {
        let followed = self
            .differ
            .connection(&self.key())
            .or_else(|| self.fd.and_then(|fd| self.differ.connection_of(fd.0)));
        match followed {
            // The listener answers the peer's next SYN.
            Some(c) if self.setup.passive && c.state() == State::Closed => &self.listening,
            Some(c) => c,
            None => &self.listening,
        }
    }

    fn found(&self, rule: impl Into<String>, expected: String, actual: String) -> Found {
        Found {
            step: None,
            state: self.state_before,
            event: Box::from(""),
            trigger: Trigger::Other,
            rule: rule.into(),
            expected: expected.into(),
            actual: actual.into(),
            departure: Box::new(Departure {
                owed: Owed::Other,
                sent: Sent::Other,
            }),
            after: None,
            passive: self.setup.passive,
            unscaled: false,
            stack: self.kind,
        }
    }

    /// The stack's panic, as a divergence: a finding with its case.
    fn panicked(&mut self) -> Option<Found> {
        let m = self.stack.panicked()?.to_string();
        // Whatever the panic made of the step, it is not the harness's failure.
        self.harness_error = None;
        Some(self.found(
            PANIC_RULE,
            "the stack carries on".into(),
            format!("panicked: {m}"),
        ))
    }

    /// The differ's first divergence as the explorer reports it.
    fn diverged(&self) -> Checked {
        let Some(d) = self.differ.divergence() else {
            return Ok(());
        };
        Err(Found {
            state: d.state.unwrap_or(self.state_before),
            trigger: d.trigger,
            after: d.after,
            unscaled: d.unscaled,
            departure: d.departure.clone(),
            ..self.found(d.rule.to_string(), d.expected.clone(), d.actual.clone())
        })
    }

    /// Tells the differ of a call on `fd` that returned at `now`, and what it concluded.
    fn call(&mut self, now: Duration, fd: Fd, call: Call) -> Checked {
        self.differ.call(now, self.line, fd.0, call);
        self.diverged()
    }

    /// A harness failure stops the case; it is reported as an error, never as the kernel's.
    fn harness(&mut self, e: impl std::fmt::Display) -> Found {
        self.harness_error = Some(HarnessError(e.to_string()));
        self.found("harness", String::new(), e.to_string())
    }

    fn open(&mut self) -> Checked {
        // As for every step (see `step`): the SYN of a connect() was read 24 ms late once.
        let _punctual = Punctual::enter_for(self.stack.clock());
        let v6 = self.setup.v6;
        let fd = match self.stack.socket(v6) {
            Ok(fd) => fd,
            Err(e) => return Err(self.harness(format!("socket(): {e}"))),
        };
        self.script
            .call(format!("socket(..., SOCK_STREAM, IPPROTO_TCP) = {fd}"));
        let t0 = self.stack.now();
        self.call(t0, fd, Call::Socket)?;
        if self.setup.passive {
            let addr = SocketAddr::new(self.peer.remote.ip(), STACK_PORT);
            // Harness hygiene, not part of the case: skipped where the stack has no such
            // option.
            let reuse = self.stack.has(Capability::ReuseAddr);
            let r = if reuse {
                self.stack.setsockopt(fd, SockOpt::ReuseAddr(true))
            } else {
                Ok(())
            };
            let r = r
                .and_then(|()| self.stack.bind(fd, addr))
                .and_then(|()| self.stack.listen(fd, 1));
            if let Err(e) = r {
                return Err(self.harness(format!("listening: {e}")));
            }
            if reuse {
                self.script.call(format!(
                    "setsockopt({fd}, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0"
                ));
            }
            self.script.call(format!("bind({fd}, ..., ...) = 0"));
            self.script.call(format!("listen({fd}, 1) = 0"));
            self.listener = Some(fd);
            self.call(t0, fd, Call::Bind { port: STACK_PORT })?;
            self.call(t0, fd, Call::Listen { backlog: 1 })?;
        } else {
            let _ = self.stack.set_nonblocking(fd, true);
            self.script
                .call(format!("fcntl({fd}, F_SETFL, O_RDWR|O_NONBLOCK) = 0"));
            let r = self.stack.connect(fd, self.peer.local);
            if r != Err(CallError::Errno(Errno::EINPROGRESS)) {
                return Err(self.harness(format!("connect() = {r:?}, not EINPROGRESS")));
            }
            self.script.call(format!(
                "connect({fd}, ..., ...) = -1 EINPROGRESS (Operation now in progress)"
            ));
            self.fd = Some(fd);
            self.call(
                t0,
                fd,
                Call::Connect {
                    peer: self.peer.local,
                },
            )?;
        }
        self.observe(t0)
    }

    fn step(&mut self, ev: &Event) -> Checked {
        // Each event is timed by when the harness reads the kernel's reply (no kernel packet
        // stamps here): preempted between the injection and the read by busy threads of
        // normal priority (a loaded machine), the thread read a RST sent at once 20-25 ms
        // later, past the grace, and "nothing by" was the kernel's fault (seed 9001: 70
        // such cases in 2,000, all but one gone on replay). At real-time priority for the
        // step (it sleeps in its waits), the read follows the kernel's reply.
        let _punctual = Punctual::enter_for(self.stack.clock());
        self.line += 1;
        self.state_before = self.model().state();
        // What a timer sent since the last step (a delayed ACK, when the machine is loaded
        // and steps lie far apart) left before this event: the model sees it first, in the
        // order the kernel sent it, not after the event as its reply.
        self.drain_sent()?;
        let t0 = self.stack.now();
        match *ev {
            Event::Segment(s) => {
                let r = resolve(&s, self.model(), &self.setup, self.clock);
                self.inject(r, t0)?;
            }
            Event::Replay(n) => {
                let Some(mut r) = self.injected.iter().rev().nth(usize::from(n)).cloned() else {
                    return Ok(());
                };
                r.restamp(self.clock.peer_tsval, self.clock.stack_tsval);
                self.inject(r, t0)?;
            }
            Event::Icmp(i) => self.icmp(i, t0)?,
            Event::Write(n) => self.write(n, t0)?,
            Event::Read(n) => self.read(n, t0)?,
            Event::Shutdown => {
                let Some(fd) = self.fd else { return Ok(()) };
                let r = self.stack.shutdown(fd, Shutdown::Write);
                self.script
                    .call(format!("shutdown({fd}, SHUT_WR) = {}", result_text(&r)));
                // Results are not compared: Linux answers 0 to a second shutdown where the
                // RFC says "connection closing"; only the segments matter.
                let call = Call::Shutdown {
                    read: false,
                    write: true,
                };
                self.call(t0, fd, call)?;
            }
            Event::Abort => {
                let Some(fd) = self.fd.take() else {
                    return Ok(());
                };
                let r = self
                    .stack
                    .setsockopt(fd, SockOpt::Linger(Some(Duration::ZERO)));
                self.script.call(format!(
                    "setsockopt({fd}, SOL_SOCKET, SO_LINGER, {{onoff=1, linger=0}}, 8) = {}",
                    result_text(&r)
                ));
                let r = self.stack.close(fd);
                self.script
                    .call(format!("close({fd}) = {}", result_text(&r)));
                let linger = Call::Linger {
                    abort_on_close: true,
                };
                self.call(t0, fd, linger)?;
                self.call(t0, fd, Call::Close)?;
            }
            Event::DelayedAcks => {
                let Some(fd) = self.fd else { return Ok(()) };
                let r = self.stack.setsockopt(fd, SockOpt::QuickAck(false));
                self.script.call(format!(
                    "setsockopt({fd}, IPPROTO_TCP, TCP_QUICKACK, [0], 4) = {}",
                    result_text(&r)
                ));
                // Nothing for the model: it lets every ACK of in-order data wait (within
                // the profile's delay) whatever the mode.
            }
        }
        self.observe(t0)
    }

    fn inject(&mut self, r: Resolved, t0: Duration) -> Checked {
        self.peer.window = r.wnd;
        let bytes = self
            .peer
            .segment(
                r.flags,
                r.seq,
                r.ack,
                r.options.clone(),
                &vec![0; usize::from(r.len)],
            )
            .emit()
            .map_err(|e| self.harness(format!("building a segment: {e}")))?;
        let seg = SegmentRepr::parse(&bytes)
            .map_err(|e| self.harness(format!("reading back a segment built: {e}")))?;
        self.script.inbound(&r, self.setup.peer_isn);
        if let Err(e) = self.stack.inject(&bytes) {
            return Err(self.harness(format!("inject: {e}")));
        }
        self.clock.peer_tsval += 1;
        self.differ.injected(t0, self.line, &seg);
        // A passive case's listener owns the port: a SYN may reopen TIME-WAIT, or meet the
        // listener after the connection closed. The old socket (its timewait socket took
        // over) names nothing the model follows any more: it is closed, sending nothing,
        // and the new connection is accepted anew.
        if let (true, Some(fd)) = (self.setup.passive, self.fd) {
            if self.differ.connection_of(fd.0).is_none() {
                self.fd = None;
                let r = self.stack.close(fd);
                self.script
                    .call(format!("close({fd}) = {}", result_text(&r)));
                self.call(t0, fd, Call::Close)?;
            }
        }
        self.injected.push(r);
        if self.injected.len() > REPLAY_DEPTH {
            self.injected.remove(0);
        }
        self.diverged()
    }

    /// Collects the kernel's reaction to the event at `t0` and diffs it with the model.
    fn observe(&mut self, t0: Duration) -> Checked {
        let packets = match self.stack.settle() {
            Ok(p) => p,
            Err(e) => return Err(self.harness(format!("barrier: {e}"))),
        };
        for p in packets {
            self.feed(&p, false)?;
        }
        // Wait for what is owed now (an ACK the kernel may send a jiffy later).
        let horizon = match self.pace {
            Pace::Quick => t0,
            Pace::Thorough => t0 + TIMER_HORIZON,
        };
        loop {
            let now = self.stack.now();
            let Some(latest) = self.differ.owed_within(now, horizon) else {
                break;
            };
            let deadline = latest.max(t0) + self.differ.grace();
            match self.stack.next_packet(deadline) {
                Ok(Some(p)) => self.feed(&p, true)?,
                Ok(None) => break,
                Err(e) => return Err(self.harness(format!("capture: {e}"))),
            }
        }
        let now = self.stack.now();
        self.differ.advance(now);
        if let Some(d) = self.differ.divergence() {
            if let Some(&spec) = d.departure.owed.segment() {
                self.script.comment(&format!(
                    "the model requires, and {} did not send:",
                    self.kind.subject()
                ));
                self.script.expected(&spec, self.setup.peer_isn);
            }
            return self.diverged();
        }
        self.check_states()?;
        // Branches the wire has not told apart (Linux's fast path took text the slow path
        // drops, and a RST then reset one of them): the socket's state tells.
        let key = self.key();
        let branched = self
            .differ
            .connection(&key)
            .is_some_and(|c| c.branches() > 0);
        if let (Some(fd), true) = (self.fd, branched) {
            if let Ok(state) = self.stack.state(fd) {
                // A socket gone to TIME-WAIT is closed too (tcp_time_wait() -> tcp_done()).
                let gone = state == TcpState::Close;
                self.differ.keep_branches_where(&key, |c| {
                    matches!(c.state(), State::Closed | State::TimeWait) == gone
                });
            }
        }
        // The listener is still there when the connection is gone: the old socket is
        // closed (reset, or its close completed), which sends nothing, and the next
        // connection is accepted anew.
        let closed = self
            .differ
            .connection(&key)
            .is_some_and(|c| c.state() == State::Closed);
        if let (true, true, Some(fd)) = (self.setup.passive, closed, self.fd) {
            self.fd = None;
            let r = self.stack.close(fd);
            self.script
                .call(format!("close({fd}) = {}", result_text(&r)));
            self.call(now, fd, Call::Close)?;
        }
        self.accept(now)
    }

    /// Feeds what the kernel has sent and nobody has read yet, without waiting.
    fn drain_sent(&mut self) -> Checked {
        loop {
            match self.stack.next_packet(Duration::ZERO) {
                Ok(Some(p)) => self.feed(&p, true)?,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.harness(format!("capture: {e}"))),
            }
        }
    }

    /// A passive connection is accepted as soon as the kernel has one to hand out.
    fn accept(&mut self, now: Duration) -> Checked {
        let (Some(l), None) = (self.listener, self.fd) else {
            return Ok(());
        };
        if !self.model().state().is_synchronized() {
            return Ok(());
        }
        while let Ok((fd, addr)) = self.stack.accept(l, Wait::No) {
            self.script.call(format!("accept({l}, ..., ...) = {fd}"));
            // An earlier connection of the case may wait in the accept queue already reset
            // (Linux queues a request's child before its handshake completes, and a RST
            // then kills it in place): not the connection the model follows.
            let dead = self.stack.state(fd).is_ok_and(|s| s == TcpState::Close);
            if dead {
                let r = self.stack.close(fd);
                self.script
                    .comment("an earlier connection, reset in the accept queue");
                self.script
                    .call(format!("close({fd}) = {}", result_text(&r)));
                continue;
            }
            let _ = self.stack.set_nonblocking(fd, true);
            self.script
                .call(format!("fcntl({fd}, F_SETFL, O_RDWR|O_NONBLOCK) = 0"));
            self.fd = Some(fd);
            let accepted = Some((fd.0, addr));
            return self.call(now, l, Call::Accept { accepted });
        }
        Ok(())
    }

    fn feed(&mut self, p: &Packet, late: bool) -> Checked {
        let Ok(seg) = SegmentRepr::parse(&p.bytes) else {
            // Not TCP (an ICMP error, say): not the model's business.
            return Ok(());
        };
        if !self.setup.passive && seg.tcp.flags.syn() && !seg.tcp.flags.ack() {
            self.peer.remote.set_port(seg.tcp.src_port);
        }
        if !self.peer.is_ours(&seg) {
            return Ok(());
        }
        for o in &seg.tcp.options {
            if let TcpOption::Timestamps { val, .. } = o {
                self.clock.stack_tsval = *val;
            }
        }
        self.script.outbound(&seg, self.setup.peer_isn, late);
        self.differ.captured(p.at, self.line, &seg);
        self.diverged()
    }
}

fn result_text<T>(r: &Result<T, CallError>) -> String {
    match r {
        Ok(_) => "0".to_string(),
        Err(e) => e.to_string(),
    }
}
