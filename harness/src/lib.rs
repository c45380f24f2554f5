//! tcpcheck's harness: drives real TCP stacks with packets and compares what they do with the
//! reference model in `tcpcheck-model`.

// The command line's modules name this crate `tcpcheck`, as the binary they came from did.
extern crate self as tcpcheck;

/// `print!` for the user's output, ending quietly when the reader goes ([`stdout`]).
macro_rules! out {
    ($($arg:tt)*) => { $crate::stdout::write_fmt(format_args!($($arg)*)) };
}

/// `println!` for the user's output, ending quietly when the reader goes ([`stdout`]).
macro_rules! outln {
    () => { $crate::stdout::write_fmt(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::stdout::write_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}

pub mod cli;
pub mod decode;
pub mod differ;
pub mod doctor;
pub mod explore;
pub mod io;
pub mod observe;
pub mod peer;
pub mod requirements;
pub mod rootless;
pub mod runner;
pub mod sandbox;
pub mod scenario;
pub mod stack;
pub mod stdout;
pub mod trace;
