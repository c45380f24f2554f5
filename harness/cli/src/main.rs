//! The `tcpcheck` binary: the command line ([`tcpcheck::cli`]) with every stack of this
//! workspace registered, Linux (built in to the harness) and smoltcp (`stacks/smoltcp`).
//!
//! It is a package of its own because the smoltcp adapter depends on the harness library:
//! the harness cannot link it back, so the binary sits above both.

use std::process::ExitCode;

fn main() -> ExitCode {
    tcpcheck::cli::main(tcpcheck::stack::Registry::builtin().with(&tcpcheck_smoltcp::FACTORY))
}
