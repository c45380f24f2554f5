//! The `tcpcheck` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tcpcheck::decode::{decode_file, render, Decoded};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    }
}
