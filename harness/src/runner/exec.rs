//! The interpreter loop: packetdrill's run.c, run_packet.c and run_system_call.c semantics
//! on one thread, over any [`crate::stack::Stack`], through its [`Recorder`].
//!
//! packetdrill runs blocking calls on a second thread and lets the main thread go on with
//! later events. A stack is driven from one thread with non-blocking calls, so a blocking
//! call is parked as a [`calls::Pending`] call and retried (see `calls`).
//!
//! The files follow packetdrill's own split: this one runs the events in order (and the
//! commands, run_command.c); `timing` decides when each runs and whether it ran on time
//! (run.c); `packets` injects and sniffs segments (run_packet.c); `calls` runs system calls,
//! each in its own function (run_system_call.c); `model` keeps the differ beside the run.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use super::annotate;
use super::command;
use super::native_cmd;
use super::native_sh;
use super::packet::Conn;
use super::{Check, Divergence, IpVersion, RunOptions};
use crate::differ::Differ;
use crate::scenario::{Action, Direction, Event, EventTime, Script, Span};
use crate::stack::{needed, Capability, Fd, Packet, Recorder};
use crate::trace::EventKind;
use crate::trace::Trace;

mod addresses;
mod calls;
mod model;
mod offload;
mod packets;
mod states;
mod timing;
mod validate;
use calls::Pending;
use packets::fmt_secs;
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
    /// The line being run needs what the stack does not have.
    NotApplicable(Capability),
}

type Step<T = ()> = Result<T, Stop>;

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        match needed(&e) {
            Some(c) => Stop::NotApplicable(c),
            None => Stop::Error(format!("harness: {e}")),
        }
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
    pub stack: Recorder,
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
    /// packetdrill's `--strict_segments`: no joining of segments to reach a line's length.
    strict_segments: bool,
    /// packetdrill's `--tcp_ts_ecr_scaled`.
    ts_ecr_scaled: bool,
    /// packetdrill's `--tcp_ts_tick_usecs`: outbound TS vals checked at this tick, if set.
    ts_tick_usecs: Option<u32>,
    /// Per peer's connection, its first outbound TS val matched: the script's and the
    /// stack's (packetdrill's `first_script_ts_val`, `first_actual_ts_val`).
    first_ts: BTreeMap<u16, (u32, u32)>,
    start: Duration,
    /// The adjusted script time of the previous event (packetdrill's `last_event`).
    last_time: Option<i64>,
    last_inbound: bool,
    fds: HashMap<i64, Fd>,
    /// Descriptors the script made that are no socket of the stack (`epoll_create`), by
    /// script number.
    files: HashMap<i64, std::os::fd::OwnedFd>,
    /// Buffers sent with `MSG_ZEROCOPY`: the kernel sends from their pages until the data
    /// is acknowledged, so they live as long as the run (packetdrill's `--send_omit_free`).
    zerocopy_buffers: Vec<Vec<u8>>,
    nonblocking: HashMap<Fd, bool>,
    queues: BTreeMap<u16, VecDeque<Packet>>,
    conns: BTreeMap<u16, Conn>,
    ports_used: BTreeMap<u16, u16>,
    listen_epoch: u32,
    connecting: bool,
    /// Earlier active connections by peer, kernel port and ISN: a copy of their SYN is not
    /// the SYN of a later connect().
    retired_syns: std::collections::BTreeSet<(u16, u16, u32)>,
    /// packetdrill's `socket_under_test`: the script fd of the newest socket a socket() or
    /// accept() returned, which code blocks read TCP_INFO from.
    under_test: Option<i64>,
    /// Sockets with `TCP_FASTOPEN_CONNECT` whose first write opens the connection.
    fast_open_deferred: std::collections::HashSet<Fd>,
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
    /// Where backquoted shell commands run.
    shell: command::ShellEnv,
    /// The script's `--local_ip` and `--remote_ip` (`exec/addresses.rs`).
    addresses: Option<crate::sandbox::Addresses>,
    /// Sources that `[src ADDR]` lines gave, with their peer: a reply to one is that
    /// peer's to match (`exec/addresses.rs`).
    stray_sources: HashMap<std::net::IpAddr, u16>,
    /// The address family the `sendto` being run gives instead of `...`.
    send_family: Option<i32>,
    /// Code blocks for Python, run after the last event (`runner/python.rs`).
    python: Vec<super::python::Fragment>,
}

impl<'a> Exec<'a> {
    pub fn new(
        stack: Recorder,
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
            strict_segments: settings.strict_segments,
            ts_ecr_scaled: settings.ts_ecr_scaled,
            ts_tick_usecs: settings.ts_tick_usecs,
            first_ts: BTreeMap::new(),
            start: Duration::ZERO,
            last_time: None,
            last_inbound: false,
            fds: HashMap::new(),
            files: HashMap::new(),
            zerocopy_buffers: Vec::new(),
            nonblocking: HashMap::new(),
            queues: BTreeMap::new(),
            conns: BTreeMap::new(),
            ports_used: BTreeMap::new(),
            listen_epoch: 0,
            connecting: false,
            under_test: None,
            retired_syns: Default::default(),
            fast_open_deferred: Default::default(),
            pending: None,
            num_events: 0,
            timeline: 0,
            differ: None,
            line: 0,
            model_floor: Duration::ZERO,
            effect: 0,
            last_effect: 0,
            adjusted_at: 0,
            shell: command::ShellEnv::for_script(file),
            python: Vec::new(),
            send_family: None,
            addresses: settings.wire.addresses,
            stray_sources: HashMap::new(),
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

    fn fail(
        &self,
        event: &Event,
        actual: String,
        check: Check,
        message: impl Into<String>,
    ) -> Stop {
        Stop::Fail(Divergence {
            line: event.span.line,
            expected: event.to_string().trim().to_string(),
            actual,
            message: message.into(),
            check,
        })
    }

    /// Checks a `%{ assert tcpi_... }%` block against the TCP_INFO of the socket under test:
    /// packetdrill's, the newest socket a socket() or accept() returned (not the highest
    /// number: a script may leave an older connection open on a higher one); when that one
    /// is closed, the highest-numbered socket the script still has open.
    fn code(&mut self, ev: &Event, code: &str) -> Step {
        let newest = self.under_test.and_then(|n| self.fds.get(&n)).copied();
        let highest = self
            .fds
            .iter()
            .max_by_key(|(script_fd, _)| **script_fd)
            .map(|(_, fd)| *fd);
        let Some(fd) = newest.or(highest) else {
            return Err(self.error_at(ev.span, "no open socket to read TCP_INFO from"));
        };
        let Ok(assertions) = super::assert::parse(code) else {
            // Python, run after the last event with the values of now (validate() made
            // sure --allow-shell was given).
            let raw = self.stack.raw_fd(fd)?;
            // SAFETY: the stack holds the descriptor open for the whole call.
            let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(raw) };
            let vars = crate::observe::tcp_info::python_vars(borrowed)
                .map_err(|e| Stop::Error(format!("harness: TCP_INFO for a code block: {e}")))?;
            annotate::step(&mut self.stack, ev);
            self.python.push(super::python::Fragment {
                line: ev.span.line,
                code: code.to_string(),
                vars,
            });
            return Ok(());
        };
        let info = self.stack.tcp_info(fd)?;
        annotate::step(&mut self.stack, ev);
        super::assert::check(&assertions, &info)
            .map_err(|m| self.fail(ev, format!("tcpi_state {}", info.state), Check::Other, m))
    }

    /// The script line being run (0 before the first).
    pub fn line(&self) -> u32 {
        self.line
    }

    /// Ends the run: its trace.
    pub fn into_trace(self) -> Trace {
        self.stack.into_trace()
    }

    /// The script's own timeline so far: the latest time an event was scheduled for, so
    /// callers can tell the harness's overhead from the time the script asks to wait.
    pub fn timeline(&self) -> Duration {
        Duration::from_micros(self.timeline.max(0) as u64)
    }

    pub fn run(&mut self) -> Step {
        // Before any command changes them: the schedule report's base numbers, and the
        // model's when the script sets no sysctl first.
        let fresh = self.stack.profile();
        if let Some(judged) = fresh
            .as_ref()
            .ok()
            .and_then(|p| super::schedule::judged_event(p.kind))
        {
            self.stack.note(judged);
        }
        if let Some(c) = &self.script.init_command {
            self.command(c.span, &c.text, None)?;
        }
        self.start_model(fresh)?;
        self.start_state_check();
        let result = {
            let clock = self.stack.clock();
            let _punctual = super::timing::Punctual::enter_for(clock);
            // Where the events fall in their jiffies is packetdrill's (see `jiffy`), so
            // what the kernel counts in jiffies is the same every run.
            if clock == crate::stack::Clock::Real && !super::jiffy::align() {
                self.stack.note(EventKind::Note {
                    text: "the script starts anywhere in a jiffy: no kernel tick was seen \
                           (CLOCK_MONOTONIC_COARSE)"
                        .to_string(),
                });
            }
            self.start = self.stack.now();
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
    /// script closed itself is destroyed (Linux: see `LinuxStack::end_check`); an orphan would
    /// otherwise keep the namespace alive for a minute or two after the verdict.
    fn end(&mut self) -> Step {
        self.stack.end().map(drop).map_err(|e| {
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
            let inbound = matches!(&ev.action, Action::Packet(p) if p.direction == Direction::Inbound)
                || matches!(&ev.action, Action::Icmp(_));
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
                Action::Icmp(p) => {
                    self.wait_for_event(ev, t)?;
                    self.effect = self.now_us();
                    self.icmp(ev, p)?;
                }
            }
            self.check_states()?;
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
                    Check::Other,
                    "exiting while a blocking system call is in progress",
                ));
            }
        }
        self.run_python()?;
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
                    check: Check::Other,
                }));
            }
        }
        Ok(())
    }

    /// packetdrill's `code_execute()` at the end of the script: every Python block in one
    /// program; an exception fails the script at its block's line.
    fn run_python(&mut self) -> Step {
        if self.python.is_empty() {
            return Ok(());
        }
        if super::pyeval::run(&self.python) == super::pyeval::Outcome::Pass {
            self.stack.note(EventKind::Note {
                text: format!(
                    "{} Python code blocks evaluated without python3: every statement within \
                     the subset, every assertion held",
                    self.python.len()
                ),
            });
            return Ok(());
        }
        let program = super::python::program(self.file, &self.python);
        let Err(output) =
            command::run_python(&program, self.opts.command_deadline, &mut self.shell)
        else {
            return Ok(());
        };
        let (line, last) = super::python::failure(&output);
        if line.is_none() {
            // Python did not get to run the blocks: nothing is known of the stack.
            return Err(Stop::Error(format!(
                "harness: cannot run the code blocks with python3: {output}"
            )));
        }
        let events = &self.script.events;
        let ev = line.and_then(|l| events.iter().find(|e| e.span.line == l));
        match ev {
            Some(ev) => {
                let code = self
                    .python
                    .iter()
                    .find(|f| Some(f.line) == line)
                    .map_or("", |f| f.code.as_str());
                let note = super::jiffy::length()
                    .and_then(|j| super::python::jiffy_note(code, j))
                    .map_or(String::new(), |n| format!("\n  note: {n}"));
                Err(self.fail(
                    ev,
                    last,
                    Check::Other,
                    format!("error in Python code: {}{note}", output.trim()),
                ))
            }
            None => Err(Stop::Error(format!("error in Python code: {output}"))),
        }
    }

    // --- commands ---

    fn command(&mut self, span: Span, text: &str, ev: Option<&Event>) -> Step {
        if let Some(ev) = ev {
            annotate::step(&mut self.stack, ev);
        }
        // set_sysctls.py's restore file, in the scenario's private /tmp: only for a command
        // that may write or run it (resolving it makes that /tmp).
        let pid = std::process::id();
        let restore = if text.contains("set_sysctls.py") || text.contains("sysctl_restore_") {
            let name = format!("/tmp/sysctl_restore_{pid}.sh");
            Some(
                self.shell
                    .resolve(&name)
                    .map_err(|e| self.error_at(span, e))?,
            )
        } else {
            None
        };
        let native = match command::parse_sysctls(text) {
            Some(_) => None,
            None => native_cmd::plan(text, self.shell.dir(), restore.as_deref(), pid),
        };
        match command::parse_sysctls(text) {
            Some(settings) => {
                for (name, value) in settings {
                    self.stack
                        .set_setting(&name, &value)
                        .map_err(|e| match needed(&e) {
                            Some(c) => Stop::NotApplicable(c),
                            None => self.error_at(span, e.to_string()),
                        })?;
                }
            }
            None if native.is_some() => {
                let lines = native.expect("just matched");
                let what: Vec<String> = lines
                    .iter()
                    .map(|l| match l {
                        native_cmd::Line::File(path, ops) => {
                            format!("{} ({} commands)", path.display(), ops.len())
                        }
                        native_cmd::Line::Op(_) => "a sysctl line".to_string(),
                        native_cmd::Line::SetSysctls(s) => {
                            format!("set_sysctls.py ({} values)", s.len())
                        }
                    })
                    .collect();
                self.stack.note(EventKind::Note {
                    text: format!(
                        "`{text}`: run without a shell, each line a setting of the namespace: \
                         {}",
                        what.join(", ")
                    ),
                });
                let mut ns = NativeNs {
                    stack: &mut self.stack,
                    needs: None,
                    restore,
                };
                let result = native_cmd::run(&lines, &mut ns);
                if let Some(c) = ns.needs {
                    return Err(Stop::NotApplicable(c));
                }
                if let Err(m) = result {
                    let message = format!("error executing `{text}` command: {m}");
                    return Err(match ev {
                        Some(ev) => {
                            self.fail(ev, "the command failed".into(), Check::Other, message)
                        }
                        None => self.error_at(span, message),
                    });
                }
            }
            None if self.opts.allow_shell => {
                self.stack.note(EventKind::Note {
                    text: format!("sh -c `{text}`"),
                });
                // The command may set sysctls (packetdrill's defaults.sh does): the model's
                // numbers are read again below.
                self.stack.stack_mut().settings_touched();
                // A queueing discipline can hold, pace or drop what the stack sends
                // (packetdrill's `pfifo limit 0` emulates a congested host, its `fq` paces):
                // the model has no rule for those, and says which command it stopped at.
                if let Some(why) = super::qdisc::unfollowed(text, self.shell.dir()) {
                    if let Some(d) = &mut self.differ {
                        d.give_up(why);
                    }
                }
                if text.contains("tcp_metrics") {
                    if let Some(d) = &mut self.differ {
                        d.tcp_metrics_command(text);
                    }
                }
                if let Err(m) =
                    command::run_shell(text, self.opts.command_deadline, &mut self.shell)
                {
                    let message = format!("error executing `{text}` command: {m}");
                    return Err(match ev {
                        Some(ev) => {
                            self.fail(ev, "the command failed".into(), Check::Other, message)
                        }
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
}

/// The namespace a settings file changes (`native_sh`): sysctls through the stack, as
/// inline `sysctl` commands go, and the device's netlink requests on this thread, which is
/// in the sandbox's namespace as a shell command's child would be.
struct NativeNs<'r> {
    stack: &'r mut Recorder,
    /// A setting the stack cannot make: the line is not applicable to it.
    needs: Option<Capability>,
    /// Where `set_sysctls.py`'s restore file goes (the scenario's private `/tmp`).
    restore: Option<std::path::PathBuf>,
}

impl native_cmd::Host for NativeNs<'_> {
    fn read_sysctl(&mut self, name: &str) -> std::io::Result<String> {
        self.stack.setting(name).map(|v| v.trim().to_string())
    }

    fn write_restore(&mut self, text: &str, done: bool) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let Some(path) = &self.restore else {
            return Err(std::io::Error::other(
                "no private /tmp for the restore file",
            ));
        };
        std::fs::write(path, text)?;
        // `chmod u+x` of a new 0644 file.
        let mode = if done { 0o744 } else { 0o644 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
}

impl native_sh::Namespace for NativeNs<'_> {
    fn sysctl(&mut self, name: &str, value: &str) -> std::io::Result<()> {
        self.stack
            .set_setting(name, value)
            .map(drop)
            .inspect_err(|e| {
                if let Some(c) = needed(e) {
                    self.needs.get_or_insert(c);
                }
            })
    }

    fn flush_tcp_metrics(&mut self) -> std::io::Result<()> {
        crate::sandbox::flush_tcp_metrics()
    }

    fn add_root_qdisc(&mut self, dev: &str, kind: &str) -> std::io::Result<()> {
        crate::sandbox::add_root_qdisc(dev, kind)
    }
}
