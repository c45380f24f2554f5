//! tcpcheck's reference model of TCP, sans-IO.
//!
//! Nothing here opens a socket, reads a clock or starts a thread: packets come in as bytes,
//! time comes in as an argument, and what a stack may do comes out as data. That keeps the
//! model deterministic, fuzzable and fast, and lets the harness drive any stack with it.

pub mod conn;
pub mod listener;
pub mod profile;
pub mod seq;
pub mod timers;
pub mod wire;

#[cfg(feature = "oracle")]
pub mod oracle;
