//! The `tcpcheck` command line, as a library function so that a binary built with more
//! stacks than Linux runs the same command line: [`main`] with its [`Registry`].
//!
//! ```no_run
//! use tcpcheck::stack::Registry;
//! fn main() -> std::process::ExitCode {
//!     tcpcheck::cli::main(Registry::builtin())
//! }
//! ```

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

// The subcommands' own files sit beside this one (they were the binary's modules).
#[path = "explore_cli.rs"]
mod explore_cli;
#[path = "requirements_cli.rs"]
mod requirements_cli;
#[path = "run_cli.rs"]
mod run_cli;
use tcpcheck::decode::{decode_file, render, Decoded};
use tcpcheck::doctor::{self, Check};
use tcpcheck::rootless;
use tcpcheck::runner;
use tcpcheck::stack::{Registry, StackKind};
use tcpcheck_model::profile::ProfileKind;

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
        /// packetdrill's `-D NAME=VALUE`, as `run -D` reads it.
        #[arg(short = 'D', long = "define", value_name = "NAME=VALUE", value_parser = crate::scenario::definition)]
        define: Vec<(String, String)>,
    },
    /// Print the requirement matrix of RFC 9293 Appendix B: for each of its 119 labels, where
    /// the model implements it, which tests exercise it, or why the wire cannot show it; with
    /// `--stack`, that stack's scorecard.
    Requirements(requirements_cli::Args),
    /// Run packetdrill scripts (files, or directories searched recursively for *.pkt) against
    /// the Linux kernel, each in a fresh network namespace.
    Run(run_cli::Args),
    /// Explore: random event sequences generated from the model's own state, run against the
    /// kernel (a fresh namespace per case) and diffed; each unexplained divergence is shrunk
    /// to a minimal case and written out as a bundle (packetdrill script, pcapng, report).
    Explore(explore_cli::Args),
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// The profile the model judges by, as every subcommand's command line names it (`explore
/// --profile`, `requirements --model`, and `run --model`, which can also turn the model
/// off): one value type, turned into the model's [`ProfileKind`] here only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ProfileArg {
    Linux,
    Rfc9293,
}

impl ProfileArg {
    fn kind(self) -> ProfileKind {
        match self {
            ProfileArg::Linux => ProfileKind::Linux,
            ProfileArg::Rfc9293 => ProfileKind::Rfc9293,
        }
    }

    /// The name the command line takes, for the reports.
    fn name(self) -> &'static str {
        match self {
            ProfileArg::Linux => "linux",
            ProfileArg::Rfc9293 => "rfc9293",
        }
    }
}

impl Command {
    /// Whether the subcommand runs a stack in network namespaces, so that it cannot go on
    /// when `rootless::enter_user_namespace_if_needed` failed. `doctor` needs them too, but
    /// reports that failure as one of its checks.
    fn needs_namespaces(&self) -> bool {
        match self {
            Command::Decode { .. } | Command::Doctor | Command::Check { .. } => false,
            Command::Requirements(args) => args.stack() == Some(StackKind::Linux),
            Command::Run(args) => args.stack() == StackKind::Linux,
            Command::Explore(args) => args.stack() == StackKind::Linux,
        }
    }
}

/// Runs the command line with the stacks of `registry` (`--stack` picks one of them).
pub fn main(registry: Registry) -> ExitCode {
    main_from(registry, std::env::args_os())
}

/// [`main`] on `args` (the program's name first) instead of the process's own: how a test
/// drives a binary's command line with a registry of its choosing, in-process. A usage error
/// exits the process, as it does for the binary.
pub fn main_from<I, T>(registry: Registry, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // Before anything else: the kernel refuses a user namespace to a process that already has
    // a second thread. A failure only matters to the subcommands that need namespaces.
    let privilege = rootless::enter_user_namespace_if_needed();
    let cli = Cli::parse_from(args);
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
                        outln!("{}", render(path, &decoded));
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
                outln!("{check}");
            }
            ExitCode::from(u8::from(!checks.iter().all(Check::passed)))
        }
        Command::Check {
            paths,
            allow_shell,
            define,
        } => check(&paths, allow_shell, &define.into_iter().collect()),
        Command::Explore(args) => explore_cli::main(args, &registry),
        Command::Run(args) => run_cli::main(args, &registry),
        Command::Requirements(args) => requirements_cli::main(args, &registry),
    }
}

fn check(paths: &[PathBuf], allow_shell: bool, defines: &crate::scenario::Definitions) -> ExitCode {
    let opts = runner::RunOptions {
        allow_shell,
        ..runner::RunOptions::default()
    };
    let mut failed = false;
    for path in paths {
        let scripts = match runner::collect_all(std::slice::from_ref(path)) {
            Ok(scripts) => scripts,
            Err(message) => {
                eprintln!("tcpcheck: {message}");
                failed = true;
                continue;
            }
        };
        for script in scripts {
            // The same reading and parsing as `run`'s, so what one refuses the other does.
            match runner::load_defined(&script, defines).and_then(|(text, parsed)| {
                let name = script.display().to_string();
                runner::check_script(&name, &text, &parsed, &opts).map(|()| parsed)
            }) {
                Ok(parsed) => {
                    outln!("ok {} ({} events)", script.display(), parsed.events.len())
                }
                Err(e) => {
                    outln!("{e}");
                    failed = true;
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
