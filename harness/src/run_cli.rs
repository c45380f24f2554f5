//! `tcpcheck run`: flags, the scripts to run, progress while they run, Ctrl-C and the exit
//! status.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Args as ClapArgs, ValueEnum};
use tcpcheck::requirements::builtin;
use tcpcheck::runner::{self, report, IpVersion, Job, RunOptions, ScenarioRun};
use tcpcheck::stack::{Registry, StackKind};

use super::{Format, ProfileArg};

/// Where `run` looks when no path is given: the corpus, relative to the repository's top.
const CORPUS: &str = "corpus/scenarios";

/// Scenarios mostly sleep on the kernel's timers, so many run at once on few CPUs. With the
/// slow scripts started first, 16 workers run the corpus's 83 scenarios in about the time of
/// its longest script (134 s of script time; 135 s measured on 2 cores; 8 workers too), and
/// leave room for `--ip both` and `--repeat`, whose slow jobs multiply: `--ip both`'s 164
/// runs, 22 of them slow, also took 135 s. `-j 1` takes the sum, about 7 min 45 s.
pub const DEFAULT_JOBS: u64 = 16;

#[derive(ClapArgs)]
pub struct Args {
    /// Scripts, or directories searched recursively for *.pkt, or built-in checks
    /// (`builtin/NAME`, `builtin` for all) [default: corpus/scenarios, from the
    /// repository's top directory, and every built-in check].
    paths: Vec<PathBuf>,
    /// Scenarios run at once, each on its own thread and sandbox.
    #[arg(short, long, default_value_t = DEFAULT_JOBS,
          value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: u64,
    /// Run every scenario this many times.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    repeat: u32,
    /// IP version: 4, 6, `mapped` (AF_INET6 sockets over IPv4-mapped addresses), `both`
    /// (4 and 6) or `all` (4, 6 and mapped). A script's own `--ip_version` wins.
    #[arg(long, value_parser = ["4", "6", "mapped", "both", "all"], default_value = "4")]
    ip: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write report.json, report.md, report.html, ladders.txt, junit.xml and one pcapng
    /// per run here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Print each run's ladder diagram, with the model's states (on stderr with
    /// `--format json`).
    #[arg(long)]
    ladder: bool,
    /// Run backquoted commands other than sysctl with `sh -c` in the scenario's namespace.
    #[arg(long)]
    allow_shell: bool,
    /// packetdrill's `-D NAME=VALUE`: the word NAME in the scripts reads as VALUE.
    #[arg(short = 'D', long = "define", value_name = "NAME=VALUE", value_parser = crate::scenario::definition)]
    define: Vec<(String, String)>,
    /// Fail on packets the kernel sends after the last event (packetdrill ignores them).
    #[arg(long)]
    strict_trailing: bool,
    /// The model checked beside the script: `linux` (Linux's documented choices, with the
    /// numbers of the scenario's sysctls), `rfc9293` (the standard as written), `off`.
    #[arg(long, value_enum, default_value_t = ModelArg::Linux)]
    model: ModelArg,
    /// Fail a scenario when the model diverges, even if the script passed.
    #[arg(long)]
    strict_model: bool,
    /// The stack under test: `linux` (the kernel, each scenario in its own network
    /// namespace) or `smoltcp` (in-process, when this binary has it built in).
    #[arg(long, value_enum, default_value_t = StackKind::Linux)]
    stack: StackKind,
}

impl Args {
    /// The stack asked for.
    pub fn stack(&self) -> StackKind {
        self.stack
    }
}

/// `--model`: a profile ([`ProfileArg`]'s names), or no model.
#[derive(Clone, Copy, ValueEnum)]
enum ModelArg {
    Linux,
    Rfc9293,
    Off,
}

impl ModelArg {
    fn profile(self) -> Option<ProfileArg> {
        match self {
            ModelArg::Linux => Some(ProfileArg::Linux),
            ModelArg::Rfc9293 => Some(ProfileArg::Rfc9293),
            ModelArg::Off => None,
        }
    }
}

/// Set by the SIGINT handler; the runner's waits look at it.
static CANCEL: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    CANCEL.store(true, Ordering::Relaxed);
}

/// The first Ctrl-C asks the run to stop cleanly; `SA_RESETHAND` gives the second one the
/// default action, so a stuck stop can still be killed from the keyboard.
fn catch_sigint() -> nix::Result<()> {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(
        SigHandler::Handler(on_sigint),
        SaFlags::SA_RESETHAND,
        SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic.
    unsafe { sigaction(Signal::SIGINT, &action) }.map(|_| ())
}

pub fn main(args: Args, registry: &Registry) -> ExitCode {
    let factory = match registry.get(args.stack) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("tcpcheck: {e}");
            return ExitCode::from(2);
        }
    };
    // `builtin/NAME` (or `builtin`, all of them) names built-in checks, which the corpus
    // run includes.
    let (named_builtins, script_paths): (Vec<PathBuf>, Vec<PathBuf>) =
        args.paths.iter().cloned().partition(|p| {
            let p = p.to_string_lossy();
            p == "builtin" || p.starts_with(builtin::PREFIX)
        });
    let mut builtins: Vec<&builtin::BuiltinCheck> = Vec::new();
    for p in &named_builtins {
        let p = p.to_string_lossy();
        if p == "builtin" {
            builtins.extend(builtin::CHECKS);
        } else if let Some(c) = builtin::find(&p) {
            builtins.push(c);
        } else {
            let known: Vec<&str> = builtin::CHECKS.iter().map(|c| c.name).collect();
            eprintln!(
                "tcpcheck: {p}: no such built-in check (there are: {})",
                known.join(", ")
            );
            return ExitCode::from(2);
        }
    }
    let paths = if args.paths.is_empty() {
        if !Path::new(CORPUS).is_dir() {
            let here = std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|_| ".".into());
            // Where the repository this binary was built from keeps it, if it still does.
            let built = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(CORPUS);
            let hint = match built.canonicalize() {
                Ok(p) if p.is_dir() => format!(" (this build's is `tcpcheck run {}`)", p.display()),
                _ => String::new(),
            };
            eprintln!(
                "tcpcheck: no path given, and ./{CORPUS} does not exist in {here}: with no \
                 path, `tcpcheck run` runs the corpus of the repository, so start it from the \
                 repository's top directory, or name scripts or directories: `tcpcheck run \
                 /path/to/tcpcheck/{CORPUS}`{hint}"
            );
            return ExitCode::from(2);
        }
        builtins.extend(builtin::CHECKS);
        vec![PathBuf::from(CORPUS)]
    } else {
        script_paths
    };
    let requested = match args.ip.as_str() {
        "6" => vec![IpVersion::V6],
        "mapped" => vec![IpVersion::V4Mapped],
        "both" => vec![IpVersion::V4, IpVersion::V6],
        "all" => vec![IpVersion::V4, IpVersion::V6, IpVersion::V4Mapped],
        _ => vec![IpVersion::V4],
    };
    let files = match runner::collect_all(&paths) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("tcpcheck: {message}");
            return ExitCode::from(2);
        }
    };
    let defines: crate::scenario::Definitions = args.define.iter().cloned().collect();
    let mut work = Vec::new();
    for file in &files {
        let source = Arc::new(runner::load_defined(file, &defines));
        let versions = match source.as_ref() {
            Ok((_, script)) => runner::versions_for(script, &requested),
            Err(_) => requested[..1].to_vec(),
        };
        for iteration in 0..args.repeat {
            for &v in &versions {
                work.push(Job {
                    path: file.display().to_string(),
                    ip: v,
                    iteration,
                    source: Arc::clone(&source),
                });
            }
        }
    }
    if let Err(e) = catch_sigint() {
        eprintln!("tcpcheck: cannot catch Ctrl-C: {e}");
        return ExitCode::from(2);
    }
    let opts = RunOptions {
        allow_shell: args.allow_shell,
        strict_trailing: args.strict_trailing,
        model: args.model.profile().map(ProfileArg::kind),
        strict_model: args.strict_model,
        cancel: Some(&CANCEL),
        stack: factory,
        ..RunOptions::default()
    };
    let total = work.len() + builtins.len();
    let jobs = args.jobs as usize;
    let progress = Progress::new(&work, jobs, matches!(args.format, Format::Text));
    let finished = AtomicBool::new(false);
    let runs = std::thread::scope(|s| {
        if progress.bar.is_some() {
            // The estimate and the running times move between events too.
            s.spawn(|| {
                while !finished.load(Ordering::Relaxed) {
                    progress.refresh();
                    std::thread::sleep(Duration::from_millis(250));
                }
            });
        }
        let mut runs = runner::run_jobs_observed(work, jobs, &opts, &progress);
        // The built-in checks after the scenarios, one at a time: the ISN check measures
        // the stack's timing, best not shared with a full machine.
        for check in &builtins {
            if CANCEL.load(Ordering::Relaxed) {
                break;
            }
            let run = builtin::run(check, factory, opts.model);
            runner::Observer::finished(&progress, &run);
            runs.push(run);
        }
        finished.store(true, Ordering::Relaxed);
        runs
    });
    if let Some(bar) = &progress.bar {
        bar.finish_and_clear();
    }
    let interrupted = CANCEL.load(Ordering::Relaxed);
    let not_started = total - runs.len();
    if args.ladder {
        report::print_ladders(&runs, matches!(args.format, Format::Json));
    }
    match args.format {
        Format::Text => {
            let mut out = String::new();
            for r in runs.iter().filter(|r| r.verdict != runner::Verdict::Pass) {
                out.push_str(r.describe().lines().next().unwrap_or_default());
                out.push('\n');
            }
            if !out.is_empty() {
                out.insert_str(0, "\nnot passed:\n");
            }
            out.push_str(&report::summary(&runs).line());
            if not_started > 0 {
                out.push_str(&format!(", {not_started} not started"));
            }
            outln!("{out}");
        }
        Format::Json => {
            let mut v = report::json(&runs);
            if interrupted {
                v["summary"]["not_started"] = not_started.into();
            }
            outln!("{v}");
        }
    }
    if let Some(dir) = &args.report {
        let model = args.model.profile().map_or("off", ProfileArg::name);
        // The stack's scorecard from these very runs, in report.md and report.html.
        let extra = tcpcheck::requirements::card::in_report(&runs, args.stack.name(), model)
            .map(|c| c.extra())
            .unwrap_or_default();
        if let Err(e) = report::write_dir_with(dir, &runs, &extra) {
            eprintln!("tcpcheck: writing the report to {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    if interrupted {
        eprintln!("tcpcheck: interrupted (Ctrl-C): {not_started} scenarios not started");
        return ExitCode::from(130);
    }
    let s = report::summary(&runs);
    if s.errors > 0 {
        ExitCode::from(2)
    } else if s.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Expected wall time of a script without a `// slow:` marker: the corpus marks every
/// script whose events span more than 3 s, and most span well under 1 s.
const UNMARKED_SECONDS: f64 = 1.0;

/// What the terminal shows while scenarios run (a bar on stderr: elapsed time, scenarios
/// running now, passed and failed so far, an estimate of the rest) and, in text mode, each
/// scenario's lines on stdout as soon as it finishes.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    jobs: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Started and not finished: label, start, expected seconds.
    running: Vec<(String, Instant, f64)>,
    /// Expected seconds of the jobs not started yet.
    queued: f64,
    passed: usize,
    failed: usize,
    errors: usize,
}

fn label(path: &str, ip: IpVersion, iteration: u32) -> String {
    let short = path.strip_prefix(CORPUS).unwrap_or(path);
    let short = short.trim_start_matches('/');
    match iteration {
        0 => format!("{short} ({})", ip.name()),
        i => format!("{short} ({}) #{}", ip.name(), i + 1),
    }
}

fn expected_seconds(job: &Job) -> f64 {
    match job.slow_seconds() {
        s if s > 0.0 => s,
        _ => UNMARKED_SECONDS,
    }
}

impl Progress {
    fn new(work: &[Job], jobs: usize, lines: bool) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(work.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} {bar:20} {pos}/{len} {wide_msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            lines,
            jobs: jobs.max(1),
            state: Mutex::new(State {
                queued: work.iter().map(expected_seconds).sum(),
                ..State::default()
            }),
        }
    }

    /// `3 passed, 0 failed | about 42 s left | running 2: timers/a.pkt (ipv4) #1, ...`
    fn refresh(&self) {
        let Some(bar) = &self.bar else { return };
        let state = self.state.lock().expect("progress lock");
        let now = Instant::now();
        let left = |(_, began, expected): &(String, Instant, f64)| {
            (expected - now.duration_since(*began).as_secs_f64()).max(0.0)
        };
        let longest = state.running.iter().map(left).fold(0.0, f64::max);
        let spread =
            (state.running.iter().map(left).sum::<f64>() + state.queued) / self.jobs as f64;
        let mut msg = format!("{} passed, {} failed", state.passed, state.failed);
        if state.errors > 0 {
            msg.push_str(&format!(", {} errors", state.errors));
        }
        if CANCEL.load(Ordering::Relaxed) {
            msg.push_str(" | stopping (Ctrl-C)");
        } else {
            msg.push_str(&format!(
                " | about {:.0} s left",
                longest.max(spread).ceil()
            ));
        }
        let names: Vec<&str> = state.running.iter().map(|(l, _, _)| l.as_str()).collect();
        msg.push_str(&format!(" | running {}: {}", names.len(), names.join(", ")));
        bar.set_message(msg);
    }
}

impl runner::Observer for Progress {
    fn started(&self, job: &Job) {
        {
            let mut state = self.state.lock().expect("progress lock");
            let expected = expected_seconds(job);
            state.queued = (state.queued - expected).max(0.0);
            state.running.push((
                label(&job.path, job.ip, job.iteration),
                Instant::now(),
                expected,
            ));
        }
        self.refresh();
    }

    fn finished(&self, run: &ScenarioRun) {
        {
            let mut state = self.state.lock().expect("progress lock");
            let name = label(&run.path, run.ip, run.iteration);
            if let Some(i) = state.running.iter().position(|(l, _, _)| *l == name) {
                state.running.remove(i);
            }
            match run.verdict {
                runner::Verdict::Pass => state.passed += 1,
                runner::Verdict::Fail(_) => state.failed += 1,
                runner::Verdict::Error(_) => state.errors += 1,
                runner::Verdict::Interrupted | runner::Verdict::NotApplicable { .. } => {}
            }
        }
        if self.lines {
            let text = report::text_of(run);
            let print = || out!("{text}");
            match &self.bar {
                Some(bar) => bar.suspend(print),
                None => print(),
            }
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        self.refresh();
    }
}
