//! tcpcheck's command line with smoltcp registered beside Linux: what a stack's own crate
//! writes to offer `--stack <its name>`.
//!
//! ```text
//! cargo run --release -p tcpcheck-smoltcp --example tcpcheck -- run --stack smoltcp
//! # the same as the workspace's own binary (harness/cli): cargo run --release -- run --stack smoltcp
//! cargo run --release -p tcpcheck-smoltcp --example tcpcheck -- explore --stack smoltcp --profile rfc9293
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    tcpcheck::cli::main(tcpcheck::stack::Registry::builtin().with(&tcpcheck_smoltcp::FACTORY))
}
