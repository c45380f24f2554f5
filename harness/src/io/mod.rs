//! Packet I/O with the kernel under test.

pub mod barrier;
pub mod tap;
pub mod tun;
