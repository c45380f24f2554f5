//! The scenario runner: executes a parsed packetdrill script against a fresh stack under
//! test (any [`crate::stack::Stack`]; the Linux kernel in a fresh sandbox by default), with packetdrill's semantics (its run.c, run_packet.c and
//! run_system_call.c are the definition; the module docs of `exec` and `packet` say where
//! and why this differs).
//!
//! Each run owns its sandbox on the calling thread, so runs on different threads cannot see
//! each other and verdicts do not depend on how many run at once.

mod annotate;
mod assert;
mod command;
mod crafted;
mod exec;
mod icmp;
mod jiffy;
pub mod ladder;
mod native_cmd;
mod native_sh;
pub mod needs;
mod packet;
mod pyeval;
mod python;
mod qdisc;
pub mod reference;
pub mod report;
pub mod schedule;
mod syscall;
pub(crate) mod timing;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::differ::ModelVerdict;
use crate::scenario::{self, Script};
use crate::stack::registry::LinuxFactory;
use crate::stack::{Capabilities, Capability, Recorder, StackFactory, StackKind};
use crate::trace::Trace;
use tcpcheck_model::profile::ProfileKind;

pub use packet::{PEER_PORT_BASE, SCRIPT_PORT};

#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Run backquoted commands other than `sysctl` with `sh -c` in the scenario's namespace.
    pub allow_shell: bool,
    /// Fail on packets the stack sends after the last event. packetdrill ignores them (it
    /// only reads packets when a `>` line asks for one), so this is off by default.
    pub strict_trailing: bool,
    /// How long a call that packetdrill would block on forever, or a `*` packet, may wait.
    pub hang_limit: Duration,
    /// How long a shell command may run.
    pub command_deadline: Duration,
    /// Whose rules the model that follows the run beside the script applies (the three-way
    /// check); `None`: no model. `Linux` means the stack's own profile
    /// ([`crate::stack::Stack::profile`]): for Linux, its documented choices with the numbers
    /// of the scenario's sysctls; `rfc9293` for a stack without one.
    pub model: Option<ProfileKind>,
    /// A divergence from the model fails the scenario, not only the script's.
    pub strict_model: bool,
    /// After every line, read the stack's own state of each connection the model follows
    /// and diff it with the model's (on by default; off to measure what the reads cost).
    pub read_states: bool,
    /// Set (by a Ctrl-C handler) to stop: running scenarios end at their next wait as
    /// [`Verdict::Interrupted`], dropping their sandboxes, and no new one starts.
    pub cancel: Option<&'static AtomicBool>,
    /// The stack under test: a fresh one of this kind per run.
    pub stack: &'static dyn StackFactory,
    /// Capabilities the stack has but the run treats as missing: to test "not applicable"
    /// on a stack that has everything.
    pub hide: Capabilities,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            allow_shell: false,
            strict_trailing: false,
            hang_limit: Duration::from_secs(30),
            command_deadline: Duration::from_secs(10),
            model: Some(ProfileKind::Linux),
            strict_model: false,
            read_states: true,
            cancel: None,
            stack: &LinuxFactory,
            hide: Capabilities::NONE,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpVersion {
    V4,
    V6,
    /// An AF_INET6 socket talking IPv4 through IPv4-mapped addresses (`::ffff:192.0.2.1`):
    /// the wire is IPv4, the socket calls are IPv6 (packetdrill's `ipv4-mapped-ipv6`).
    V4Mapped,
}

impl IpVersion {
    /// The IP version on the wire.
    pub fn number(self) -> u8 {
        match self {
            IpVersion::V4 | IpVersion::V4Mapped => 4,
            IpVersion::V6 => 6,
        }
    }

    /// packetdrill's `--ip_version` spelling.
    pub fn name(self) -> &'static str {
        match self {
            IpVersion::V4 => "ipv4",
            IpVersion::V6 => "ipv6",
            IpVersion::V4Mapped => "ipv4-mapped-ipv6",
        }
    }

    pub fn parse(name: &str) -> Option<IpVersion> {
        match name {
            "ipv4" => Some(IpVersion::V4),
            "ipv6" => Some(IpVersion::V6),
            "ipv4-mapped-ipv6" => Some(IpVersion::V4Mapped),
            _ => None,
        }
    }
}

/// The first place the stack departed from the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// 1-based script line.
    pub line: u32,
    /// The script's event, as written (canonically printed).
    pub expected: String,
    /// What the stack did, with sequence numbers relative as in the script.
    pub actual: String,
    /// Which check failed, in packetdrill's words where it has them.
    pub message: String,
    /// The same, as a value: what the reports and the retries decide on.
    pub check: Check,
}

/// What a script line's failing check was about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// A field of an outbound segment, by packetdrill's name for it (`tcp_seq`,
    /// `payload length`).
    Field(&'static str),
    /// No outbound segment came in time.
    NoPacket,
    /// An event at the wrong time: an outbound segment's (`outbound`), or a blocking call's
    /// return.
    Time { outbound: bool },
    /// A call's result or errno, by the call's name; `judged`: the model was told the
    /// answer in a form it judges (an accept()'s, a read()'s, a non-blocking write()'s).
    CallReturn { call: String, judged: bool },
    /// Anything else: a checksum, the payload's bytes, a getsockopt value, a TCP_INFO
    /// assertion, a command, a call that hung, the model under `--strict-model`.
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(Divergence),
    /// The script could not run: parse error, unsupported construct, harness failure.
    Error(String),
    /// Stopped before its end (Ctrl-C): says nothing about the stack.
    Interrupted,
    /// The script needs what the stack does not have (line 0: its IP version): neither a
    /// pass nor a failure, counted apart.
    NotApplicable {
        line: u32,
        needs: Capability,
    },
}

impl Verdict {
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail(_) => "fail",
            Verdict::Error(_) => "error",
            Verdict::Interrupted => "interrupted",
            Verdict::NotApplicable { .. } => "not applicable",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ScenarioRun {
    pub path: String,
    pub ip: IpVersion,
    /// 0-based, for `--repeat`.
    pub iteration: u32,
    pub verdict: Verdict,
    /// Wall time of the whole run, sandbox creation included.
    pub duration: Duration,
    /// How far the script's own timeline got; `duration` minus this is the harness's cost.
    pub script_time: Duration,
    pub trace: Trace,
    /// The model's view of what the stack did (the third way of the check).
    pub model: ModelVerdict,
    /// Why the stack's own states were not compared with the model's, when the model
    /// followed the run and they were not (see [`crate::differ::states`]).
    pub states_off: Option<String>,
    /// The stack it ran on, so texts name it (`kernel:`, `smoltcp:`).
    pub stack: StackKind,
}

impl ScenarioRun {
    /// A built-in check's run (`builtin/NAME`): no script, so no script line, and what it
    /// expected is the check's, not a script's.
    pub fn is_builtin(&self) -> bool {
        self.path.starts_with(crate::requirements::builtin::PREFIX)
    }

    /// `path:line: message` and both sides, for terminals and reports; a line more when
    /// the stack's states were not compared, and why.
    pub fn describe(&self) -> String {
        match &self.states_off {
            Some(why) if !matches!(self.model, ModelVerdict::Off(_)) => {
                format!("{}\n  states: {why}", self.describe_verdict())
            }
            _ => self.describe_verdict(),
        }
    }

    fn describe_verdict(&self) -> String {
        match &self.verdict {
            Verdict::Pass => match &self.model {
                ModelVerdict::Diverge(d) => {
                    let (expected, actual) = report::model_texts(&self.trace, d);
                    format!(
                        "ok {} ({}), but the model diverges\n{}:{}: {}\n  model:  {}\n  {}: {}",
                        self.path,
                        self.ip.name(),
                        self.path,
                        d.line,
                        d.rule_named(),
                        expected,
                        self.stack.word(),
                        actual
                    )
                }
                _ => format!("ok {} ({})", self.path, self.ip.name()),
            },
            Verdict::Fail(d) if self.is_builtin() => format!(
                "FAIL {} ({})\n{}: {}\n  check:  {}\n  {}: {}\n  model:  {}",
                self.path,
                self.ip.name(),
                self.path,
                d.message,
                d.expected,
                self.stack.word(),
                d.actual,
                report::model_line(self)
            ),
            Verdict::Fail(d) => format!(
                "FAIL {} ({})\n{}:{}: {}\n  script: {}\n  {}: {}\n  model:  {}",
                self.path,
                self.ip.name(),
                self.path,
                d.line,
                d.message,
                d.expected,
                self.stack.word(),
                d.actual,
                report::model_line(self)
            ),
            Verdict::Error(e) => {
                format!("ERROR {} ({})\n{e}", self.path, self.ip.name())
            }
            Verdict::Interrupted => format!(
                "INTERRUPTED {} ({}) after {:.1} s",
                self.path,
                self.ip.name(),
                self.duration.as_secs_f64()
            ),
            Verdict::NotApplicable { line, needs } => format!(
                "n/a {} ({}): not applicable (needs {needs}){}",
                self.path,
                self.ip.name(),
                match line {
                    0 => String::new(),
                    l => format!(", line {l}"),
                }
            ),
        }
    }
}

/// Which IP versions a script runs on: its own `--ip_version` wins over the request.
pub fn versions_for(script: &Script, requested: &[IpVersion]) -> Vec<IpVersion> {
    for o in &script.options {
        if o.name == "ip_version" {
            if let Some(v) = o
                .value
                .as_deref()
                .and_then(|v| IpVersion::parse(v.trim_matches('"')))
            {
                return vec![v];
            }
        }
    }
    requested.to_vec()
}

/// Everything `run` refuses before it starts a sandbox, refused the same way (file:line:col):
/// `tcpcheck check` accepts exactly the scripts `run` starts.
pub fn check_script(
    file: &str,
    text: &str,
    script: &Script,
    opts: &RunOptions,
) -> Result<(), String> {
    exec::validate(file, text, script, opts).map(drop)
}

/// Parses and runs one script text on the calling thread.
pub fn run_text(file: &str, text: &str, ip: IpVersion, opts: &RunOptions) -> ScenarioRun {
    match scenario::parse(file, text) {
        Ok(script) => run_script(file, text, &script, ip, opts),
        Err(e) => ScenarioRun {
            path: file.to_string(),
            ip,
            iteration: 0,
            verdict: Verdict::Error(e.to_string()),
            duration: Duration::ZERO,
            script_time: Duration::ZERO,
            trace: Trace::default(),
            model: ModelVerdict::Off("the script did not parse".into()),
            states_off: None,
            stack: opts.stack.kind(),
        },
    }
}

/// Runs a parsed script in a fresh sandbox on the calling thread; `text` is the source the
/// script was parsed from, for error messages.
pub fn run_script(
    file: &str,
    text: &str,
    script: &Script,
    ip: IpVersion,
    opts: &RunOptions,
) -> ScenarioRun {
    let began = Instant::now();
    let mut run = ScenarioRun {
        path: file.to_string(),
        ip,
        iteration: 0,
        verdict: Verdict::Pass,
        duration: Duration::ZERO,
        script_time: Duration::ZERO,
        trace: Trace::default(),
        model: ModelVerdict::Off("the script did not run".into()),
        states_off: None,
        stack: opts.stack.kind(),
    };
    let settings = match exec::validate(file, text, script, opts) {
        Ok(s) => s,
        Err(e) => {
            run.verdict = Verdict::Error(e);
            run.duration = began.elapsed();
            return run;
        }
    };
    let ip = settings.ip.unwrap_or(ip);
    let mut settings = settings;
    if let Some(a) = settings.wire.addresses {
        // Addresses of the other family than the run's do not apply to it: the run keeps the
        // sandbox's own, as packetdrill's command line (run_all.py's addresses for the
        // version) overrides a script's.
        if a.stack.is_ipv6() != (ip == IpVersion::V6) {
            settings.wire.addresses = None;
        }
    }
    let needs = match needs::needs(file, text, script, ip) {
        Ok(n) => n,
        Err(e) => {
            run.verdict = Verdict::Error(e);
            run.duration = began.elapsed();
            return run;
        }
    };
    // A run in which the harness could not keep the script's own schedule (its thread was
    // descheduled on a loaded machine) is void: it says nothing about the stack. It is run
    // again, in a fresh sandbox; only if the harness stays late is that reported, as an
    // error of the harness, never as the stack's failure.
    //
    // A timing failure is confirmed the same way: on a loaded machine the kernel runs its
    // own timers late too (softirqs deferred to ksoftirqd behind busy threads; 15 to 80 ms
    // were seen with the load average at 10 on two cores), which says nothing about the
    // stack's rules. It is reported when every attempt fails; a wrong schedule (2 s for
    // 1 s) fails them all, so nothing real is hidden, and each earlier attempt's failure
    // stays in the trace.
    let mut earlier = Vec::new();
    for attempt in 0..=HARNESS_LATE_RETRIES {
        let stack = match opts.stack.open(crate::stack::Purpose::Script(
            settings.wire.for_ipv6(ip == IpVersion::V6),
        )) {
            Ok(s) => s,
            // A sandbox whose setup timed out (its IPv6 address configured in a kernel work
            // queue that a machine overloaded for seconds did not run) says nothing about
            // the stack either: a fresh one is tried, as for a run the harness fell behind.
            Err(e)
                if e.kind() == std::io::ErrorKind::TimedOut && attempt < HARNESS_LATE_RETRIES =>
            {
                earlier.push(format!(
                    "attempt {} void, run again: cannot create the stack: {e}",
                    attempt + 1
                ));
                continue;
            }
            Err(e) => {
                run.verdict = Verdict::Error(format!("cannot create the stack: {e}"));
                run.duration = began.elapsed();
                return run;
            }
        };
        let mut rec = Recorder::new(stack);
        rec.mask(opts.hide);
        if let Some(m) = needs::first_missing(&needs, rec.capabilities()) {
            // Nothing ran: the trace is the stack's setup alone.
            run.verdict = Verdict::NotApplicable {
                line: m.line,
                needs: m.needs,
            };
            run.model = ModelVerdict::Off("not applicable".into());
            run.trace = rec.into_trace();
            run.duration = began.elapsed();
            return run;
        }
        let mut ex = exec::Exec::new(rec, file, text, script, opts, &settings, ip);
        let result = ex.run();
        // A panic inside the stack is its failure at the line that made it, whatever the
        // run made of the errors that followed.
        let result = match ex.stack.panicked() {
            Some(m) => Err(exec::Stop::Fail(Divergence {
                line: ex.line(),
                expected: "the stack carries on".into(),
                actual: format!("panicked: {m}"),
                message: "the stack panicked".into(),
                check: Check::Other,
            })),
            None => result,
        };
        let (verdict, late) = match result {
            Ok(()) => (Verdict::Pass, false),
            Err(exec::Stop::Fail(d)) => {
                let timing = matches!(d.check, Check::Time { .. });
                (Verdict::Fail(d), timing)
            }
            Err(exec::Stop::Error(e)) => (Verdict::Error(e), false),
            Err(exec::Stop::NotApplicable(needs)) => {
                let _ = ex.stack.end();
                let line = ex.line();
                (Verdict::NotApplicable { line, needs }, false)
            }
            Err(exec::Stop::Cancelled) => {
                // Cut off mid-script, its connections would linger as orphans, each keeping
                // the namespace alive in the kernel after the process is gone.
                let _ = ex.stack.end();
                (Verdict::Interrupted, false)
            }
            Err(exec::Stop::HarnessLate(d)) => (
                Verdict::Error(format!(
                    "the harness fell behind the script's schedule {} times (machine \
                     overloaded?{}); last at line {}: {}",
                    attempt + 1,
                    if timing::Punctual::available() {
                        ""
                    } else {
                        "; no real-time priority without CAP_SYS_NICE"
                    },
                    d.line,
                    d.message
                )),
                true,
            ),
        };
        run.model = match (&verdict, &ex.differ) {
            (Verdict::Error(_), _) => ModelVerdict::Off("the run stopped with an error".into()),
            (Verdict::Interrupted, _) => ModelVerdict::Off("the run was interrupted".into()),
            (Verdict::NotApplicable { .. }, _) => ModelVerdict::Off("not applicable".into()),
            (_, None) => ModelVerdict::Off("not asked for".into()),
            (_, Some(d)) => d.verdict(),
        };
        let reference = ex.stack.reference();
        let judged = reference::label(reference, opts.stack.choices(), &mut run.model);
        run.verdict = reference::combine(reference, verdict, &judged, opts.strict_model);
        run.script_time = ex.timeline();
        let states = ex.differ.as_ref().map(|d| d.states().to_vec());
        run.states_off = ex
            .differ
            .as_ref()
            .and_then(|d| d.states_off().map(str::to_string));
        run.trace = ex.into_trace();
        if let Some(states) = states {
            run.trace.states = states;
        }
        if !late || attempt == HARNESS_LATE_RETRIES {
            break;
        }
        earlier.push(format!(
            "attempt {} void, run again: {}",
            attempt + 1,
            match &run.verdict {
                Verdict::Fail(d) => format!("line {}: {}", d.line, d.message),
                Verdict::Error(e) => e.clone(),
                Verdict::Pass | Verdict::Interrupted | Verdict::NotApplicable { .. } => {
                    String::new()
                }
            }
        ));
    }
    for (i, text) in earlier.into_iter().enumerate() {
        run.trace.events.insert(
            i,
            crate::trace::TraceEvent {
                at: Duration::ZERO,
                kind: crate::trace::EventKind::Note { text },
            },
        );
    }
    run.duration = began.elapsed();
    run
}

/// Whether the runner's thread gets real-time priority while it keeps a script's schedule
/// (it needs `CAP_SYS_NICE`); `tcpcheck doctor` reports it.
pub fn realtime_priority() -> bool {
    timing::Punctual::available()
}

/// How many times a run the harness was late for (or that failed on timing) is repeated
/// before its verdict stands.
const HARNESS_LATE_RETRIES: u32 = 2;

/// A script to run: its path and, once read, its text and tree (or the error to report).
pub struct Job {
    pub path: String,
    pub ip: IpVersion,
    pub iteration: u32,
    pub source: std::sync::Arc<Result<(String, Script), String>>,
}

impl Job {
    /// The script time its `// slow: N s` marker announces, 0 when unmarked or unreadable.
    pub fn slow_seconds(&self) -> f64 {
        match self.source.as_ref() {
            Ok((text, _)) => slow_seconds(text).unwrap_or(0.0),
            Err(_) => 0.0,
        }
    }
}

/// What the caller of [`run_jobs_observed`] hears while the jobs run, on the workers'
/// threads: progress displays and per-scenario output are built on it.
pub trait Observer: Sync {
    fn started(&self, _job: &Job) {}
    fn finished(&self, _run: &ScenarioRun) {}
}

struct OnDone<'a>(&'a (dyn Fn(&ScenarioRun) + Sync));

impl Observer for OnDone<'_> {
    fn finished(&self, run: &ScenarioRun) {
        (self.0)(run)
    }
}

/// [`run_jobs_observed`] with only a callback for each finished run.
pub fn run_jobs(
    jobs: Vec<Job>,
    threads: usize,
    opts: &RunOptions,
    on_done: &(dyn Fn(&ScenarioRun) + Sync),
) -> Vec<ScenarioRun> {
    run_jobs_observed(jobs, threads, opts, &OnDone(on_done))
}

/// Runs every job on `threads` worker threads, each scenario in its own sandbox on the
/// worker's thread. Results come back in job order whatever finished first.
///
/// Jobs marked `// slow: N s` start first, longest first: a two-minute timer scenario
/// picked up last would add its whole length to the batch, while started first it runs
/// alongside everything else (the workers mostly wait on timers, not on the CPU).
///
/// Once `opts.cancel` is set no job starts; the running ones come back as
/// [`Verdict::Interrupted`] and the ones never started are not in the result.
pub fn run_jobs_observed(
    jobs: Vec<Job>,
    threads: usize,
    opts: &RunOptions,
    observer: &dyn Observer,
) -> Vec<ScenarioRun> {
    let total = jobs.len();
    let mut order: Vec<(usize, Job)> = jobs.into_iter().enumerate().collect();
    // A stable sort: equally slow (and unmarked) jobs keep their order.
    order.sort_by(|(_, a), (_, b)| b.slow_seconds().total_cmp(&a.slow_seconds()));
    let cancelled = || opts.cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let queue = Mutex::new(order.into_iter().collect::<VecDeque<_>>());
    let results = Mutex::new(Vec::with_capacity(total));
    std::thread::scope(|s| {
        for _ in 0..threads.max(1).min(total.max(1)) {
            s.spawn(|| loop {
                if cancelled() {
                    break;
                }
                let Some((index, job)) = queue.lock().expect("queue lock").pop_front() else {
                    break;
                };
                observer.started(&job);
                let mut run = match job.source.as_ref() {
                    Ok((text, script)) => run_script(&job.path, text, script, job.ip, opts),
                    Err(e) => ScenarioRun {
                        path: job.path.clone(),
                        ip: job.ip,
                        iteration: 0,
                        verdict: Verdict::Error(e.clone()),
                        duration: Duration::ZERO,
                        script_time: Duration::ZERO,
                        trace: Trace::default(),
                        model: ModelVerdict::Off("the script did not parse".into()),
                        states_off: None,
                        stack: opts.stack.kind(),
                    },
                };
                run.iteration = job.iteration;
                observer.finished(&run);
                results.lock().expect("results lock").push((index, run));
            });
        }
    });
    let mut results = results.into_inner().expect("results lock");
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The script time a `// slow: N s of script time.` header line announces (the corpus
/// convention for scripts whose events span more than 3 s).
pub fn slow_seconds(text: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.trim_start().strip_prefix("//")?.trim_start();
        let n = rest.strip_prefix("slow:")?.split_whitespace().next()?;
        n.parse().ok()
    })
}

/// Directories are searched recursively for `*.pkt` in sorted order; files named on the
/// command line are taken whatever their extension.
pub fn collect_scripts(path: &Path, named: bool, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        entries.sort();
        for entry in entries {
            collect_scripts(&entry, false, out)?;
        }
    } else if named || path.extension().is_some_and(|e| e == "pkt") {
        if !path.exists() {
            return Err(format!("{}: no such file or directory", path.display()));
        }
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// The scripts the command-line `paths` name (see [`collect_scripts`]). A path that holds
/// no script is an error: a run of nothing would pass silently.
pub fn collect_all(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        let before = files.len();
        collect_scripts(path, true, &mut files)?;
        if files.len() == before {
            return Err(format!(
                "{}: holds no scripts (no *.pkt file in it or below it)",
                path.display()
            ));
        }
    }
    Ok(files)
}

/// Reads and parses one script file; the error is rendered for the user. A script without
/// events is refused: it would check nothing and pass.
pub fn load(path: &Path) -> Result<(String, Script), String> {
    load_defined(path, &scenario::Definitions::new())
}

/// [`load`] with packetdrill's `-D NAME=VALUE` definitions.
pub fn load_defined(
    path: &Path,
    defines: &scenario::Definitions,
) -> Result<(String, Script), String> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("{name}: {e}"))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let script = scenario::parse_defined(&name, &text, defines).map_err(|e| e.to_string())?;
    if script.events.is_empty() {
        return Err(format!(
            "{name}: the script has no events, so it would check nothing (a script needs at \
             least one timed line such as `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3`)"
        ));
    }
    Ok((text, script))
}

#[cfg(test)]
mod tests {
    #[test]
    fn slow_marker_is_read_from_the_header() {
        let text = "// RFC 6298: x\n// slow: 134 s of script time.\n\n0 socket(...) = 3\n";
        assert_eq!(super::slow_seconds(text), Some(134.0));
        assert_eq!(super::slow_seconds("// RFC\n0 socket(...) = 3\n"), None);
    }
}
