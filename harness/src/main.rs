//! The `tcpcheck` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod explore_cli;
use tcpcheck::decode::{decode_file, render, Decoded};
use tcpcheck::doctor::{self, Check};
use tcpcheck::requirements::{self, Status, REQUIREMENTS};
use tcpcheck::rootless;
use tcpcheck::runner::{self, IpVersion, Job, ModelProfile, RunOptions};
use tcpcheck::scenario;

#[derive(Parser)]
#[command(
    name = "tcpcheck",
    version,
    about = "Checks a TCP stack against RFC 9293"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode files holding one raw IP packet each (IPv4 or IPv6 carrying TCP) and print them
    /// tcpdump-style, or say exactly which field is malformed.
    Decode {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Check that this machine and user can run checks (privileges, /dev/net/tun, a sandbox,
    /// a SYN answered by RST over IPv4 and IPv6) and say how to fix what fails.
    Doctor,
    /// Parse packetdrill scripts (files, or directories searched recursively for *.pkt) and
    /// check everything `run` checks before it starts; print each one's event count or the
    /// error pointing at the offending column.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Accept backquoted commands other than sysctl, as `run --allow-shell` runs them.
        #[arg(long)]
        allow_shell: bool,
    },
    /// Print the requirement matrix of RFC 9293 Appendix B: for each of its 119 labels, where
    /// the model implements it, which tests exercise it, or why the wire cannot show it.
    Requirements {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Only the labels with this status.
        #[arg(long, value_parser = ["tested", "implemented", "not-observable", "missing"])]
        status: Option<String>,
    },
    /// Run packetdrill scripts (files, or directories searched recursively for *.pkt) against
    /// the Linux kernel, each in a fresh network namespace.
    Run {
        #[arg(default_value = "corpus/scenarios")]
        paths: Vec<PathBuf>,
        /// Scenarios run at once, each on its own thread and sandbox.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Run every scenario this many times.
        #[arg(long, default_value_t = 1)]
        repeat: u32,
        /// IP version: 4, 6, `mapped` (AF_INET6 sockets over IPv4-mapped addresses), `both`
        /// (4 and 6) or `all` (4, 6 and mapped). A script's own `--ip_version` wins.
        #[arg(long, value_parser = ["4", "6", "mapped", "both", "all"], default_value = "4")]
        ip: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Write report.json, report.md, junit.xml and one pcapng per run here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Run backquoted commands other than sysctl with `sh -c` in the scenario's namespace.
        #[arg(long)]
        allow_shell: bool,
        /// Fail on packets the kernel sends after the last event (packetdrill ignores them).
        #[arg(long)]
        strict_trailing: bool,
        /// The model checked beside the script: `linux` (Linux's documented choices, with the
        /// numbers of the scenario's sysctls), `rfc9293` (the standard as written), `off`.
        #[arg(long, value_enum, default_value_t = Model::Linux)]
        model: Model,
        /// Fail a scenario when the model diverges, even if the script passed.
        #[arg(long)]
        strict_model: bool,
    },
    /// Explore: random event sequences generated from the model's own state, run against the
    /// kernel (a fresh namespace per case) and diffed; each unexplained divergence is shrunk
    /// to a minimal case and written out as a bundle (packetdrill script, pcapng, report).
    Explore(explore_cli::Args),
}

#[derive(Clone, Copy, ValueEnum)]
enum Model {
    Linux,
    Rfc9293,
    Off,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

impl Command {
    /// Whether the subcommand runs a stack in network namespaces, so that it cannot go on
    /// when `rootless::enter_user_namespace_if_needed` failed. `doctor` needs them too, but
    /// reports that failure as one of its checks.
    fn needs_namespaces(&self) -> bool {
        match self {
            Command::Decode { .. }
            | Command::Doctor
            | Command::Check { .. }
            | Command::Requirements { .. } => false,
            Command::Run { .. } | Command::Explore(_) => true,
        }
    }
}

fn main() -> ExitCode {
    // Before anything else: the kernel refuses a user namespace to a process that already has
    // a second thread. A failure only matters to the subcommands that need namespaces.
    let privilege = rootless::enter_user_namespace_if_needed();
    let cli = Cli::parse();
    if let Err(e) = &privilege {
        if cli.command.needs_namespaces() {
            eprintln!("tcpcheck: {e}");
            return ExitCode::from(2);
        }
    }
    match cli.command {
        Command::Decode { files } => {
            let mut malformed = false;
            for path in &files {
                match decode_file(path) {
                    Ok(decoded) => {
                        malformed |= matches!(decoded, Decoded::Malformed { .. });
                        println!("{}", render(path, &decoded));
                    }
                    Err(message) => {
                        eprintln!("tcpcheck: {message}");
                        return ExitCode::from(2);
                    }
                }
            }
            ExitCode::from(u8::from(malformed))
        }
        Command::Doctor => {
            let checks = doctor::run();
            for check in &checks {
                println!("{check}");
            }
            ExitCode::from(u8::from(!checks.iter().all(Check::passed)))
        }
        Command::Check { paths, allow_shell } => check(&paths, allow_shell),
        Command::Explore(args) => explore_cli::main(args),
        Command::Run {
            paths,
            jobs,
            repeat,
            ip,
            format,
            report,
            allow_shell,
            strict_trailing,
            model,
            strict_model,
        } => {
            let opts = RunOptions {
                allow_shell,
                strict_trailing,
                model: match model {
                    Model::Linux => ModelProfile::Linux,
                    Model::Rfc9293 => ModelProfile::Rfc9293,
                    Model::Off => ModelProfile::Off,
                },
                strict_model,
                ..RunOptions::default()
            };
            run(&paths, jobs, repeat, &ip, format, report.as_deref(), &opts)
        }
        Command::Requirements { format, status } => {
            let status = status.as_deref().and_then(Status::parse);
            let shown: Vec<_> = REQUIREMENTS
                .iter()
                .filter(|e| status.is_none_or(|s| e.status == s))
                .collect();
            match format {
                Format::Text => print!("{}", requirements::render_text(REQUIREMENTS, &shown)),
                Format::Json => print!("{}", requirements::render_json(&shown)),
            }
            ExitCode::SUCCESS
        }
    }
}

fn check(paths: &[PathBuf], allow_shell: bool) -> ExitCode {
    let opts = RunOptions {
        allow_shell,
        ..RunOptions::default()
    };
    let mut failed = false;
    for path in paths {
        let mut scripts = Vec::new();
        if let Err(message) = runner::collect_scripts(path, true, &mut scripts) {
            eprintln!("tcpcheck: {message}");
            failed = true;
            continue;
        }
        for script in scripts {
            let name = script.display().to_string();
            match std::fs::read(&script) {
                Err(e) => {
                    eprintln!("tcpcheck: {name}: {e}");
                    failed = true;
                }
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    let checked = scenario::parse(&name, &text)
                        .map_err(|e| e.to_string())
                        .and_then(|s| {
                            runner::check_script(&name, &text, &s, &opts).map(|()| s.events.len())
                        });
                    match checked {
                        Ok(events) => println!("ok {name} ({events} events)"),
                        Err(e) => {
                            println!("{e}");
                            failed = true;
                        }
                    }
                }
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn run(
    paths: &[PathBuf],
    jobs: usize,
    repeat: u32,
    ip: &str,
    format: Format,
    report: Option<&Path>,
    opts: &RunOptions,
) -> ExitCode {
    use std::io::IsTerminal;
    use std::sync::Arc;

    let requested = match ip {
        "6" => vec![IpVersion::V6],
        "mapped" => vec![IpVersion::V4Mapped],
        "both" => vec![IpVersion::V4, IpVersion::V6],
        "all" => vec![IpVersion::V4, IpVersion::V6, IpVersion::V4Mapped],
        _ => vec![IpVersion::V4],
    };
    let mut files = Vec::new();
    for path in paths {
        if let Err(message) = runner::collect_scripts(path, true, &mut files) {
            eprintln!("tcpcheck: {message}");
            return ExitCode::from(2);
        }
    }
    let mut work = Vec::new();
    for file in &files {
        let source = Arc::new(runner::load(file));
        let versions = match source.as_ref() {
            Ok((_, script)) => runner::versions_for(script, &requested),
            Err(_) => requested[..1].to_vec(),
        };
        for iteration in 0..repeat.max(1) {
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
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(work.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let on_done = |r: &runner::ScenarioRun| {
        if let Some(bar) = &bar {
            bar.set_message(format!("{} {}", r.verdict.name(), r.path));
            bar.inc(1);
        }
    };
    let runs = runner::run_jobs(work, jobs, opts, &on_done);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    match format {
        Format::Text => print!("{}", runner::report::text(&runs)),
        Format::Json => println!("{}", runner::report::json(&runs)),
    }
    if let Some(dir) = report {
        if let Err(e) = runner::report::write_dir(dir, &runs) {
            eprintln!("tcpcheck: writing the report to {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    let s = runner::report::summary(&runs);
    if s.errors > 0 {
        ExitCode::from(2)
    } else if s.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
