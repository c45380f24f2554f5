//! The `tcpcheck` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tcpcheck::decode::{decode_file, render, Decoded};
use tcpcheck::doctor::{self, Check};
use tcpcheck::requirements::{self, Status, REQUIREMENTS};
use tcpcheck::rootless;
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
    /// print each one's event count or the error pointing at the offending column.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
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
        Command::Check { paths } => check(&paths),
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

/// Directories are searched recursively for `*.pkt`, in sorted order so the output is stable;
/// files named on the command line are parsed whatever their extension.
fn collect_scripts(path: &Path, named: bool, out: &mut Vec<PathBuf>) -> Result<(), String> {
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
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn check(paths: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for path in paths {
        let mut scripts = Vec::new();
        if let Err(message) = collect_scripts(path, true, &mut scripts) {
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
                Ok(bytes) => match scenario::parse(&name, &String::from_utf8_lossy(&bytes)) {
                    Ok(parsed) => println!("ok {name} ({} events)", parsed.events.len()),
                    Err(e) => {
                        println!("{e}");
                        failed = true;
                    }
                },
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
