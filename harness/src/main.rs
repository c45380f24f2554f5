//! The `tcpcheck` binary: the command line ([`tcpcheck::cli`]) with the stacks built in to
//! this crate (Linux).

use std::process::ExitCode;

fn main() -> ExitCode {
    tcpcheck::cli::main(tcpcheck::stack::Registry::builtin())
}
