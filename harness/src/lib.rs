//! tcpcheck's harness: drives real TCP stacks with packets and compares what they do with the
//! reference model in `tcpcheck-model`.

// The command line's modules name this crate `tcpcheck`, as the binary they came from did.
extern crate self as tcpcheck;

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
pub mod trace;
