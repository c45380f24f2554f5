//! [smoltcp](https://docs.rs/smoltcp/0.14)'s TCP as a tcpcheck stack: in this process, with
//! no namespace, no TUN and no root, on a virtual clock.
//!
//! This crate is also the worked example of testing a stack from outside tcpcheck: it
//! implements [`tcpcheck::stack::Stack`] for [`SmoltcpStack`], and its tests run tcpcheck's
//! corpus and explorer against smoltcp from its own `cargo test`, as a stack's authors would
//! from theirs.
//!
//! # The wire
//! A `phy::Device` with `Medium::Ip` carries raw IPv4 and IPv6 packets both ways in memory
//! queues. The interface has the addresses the Linux sandbox gives its stack, 192.0.2.1/24
//! and 2001:db8::1/64, and the harness plays the peers at the others. smoltcp checks every
//! checksum (a corrupt segment is dropped, as the kernel drops it) and answers a segment
//! for no socket with a RST, as RFC 9293 3.10.7.1 says.
//!
//! # Time
//! smoltcp never reads a clock: each poll is told the time. The adapter's clock is virtual:
//! it stands still while the harness works and, when the harness waits
//! ([`tcpcheck::stack::Stack::next_packet`]), jumps to the next instant smoltcp asked to be
//! polled at (`Interface::poll_at`) or to the harness's deadline, whichever comes first.
//! So a full SYN retransmission schedule takes microseconds, timers are checked exactly,
//! and a case replayed with the same seed gives byte-identical packets at identical times.
//! Every packet is stamped with the virtual time of the poll that emitted it. The TSval
//! generator counts virtual milliseconds.
//!
//! # Socket calls
//! smoltcp has no descriptors and no BSD socket API; the adapter maps each call:
//!
//! | call | on smoltcp |
//! |---|---|
//! | `socket()` | a descriptor (numbered from 3) and nothing else yet: a `tcp::Socket` is made by `connect()` or `listen()`, with the buffers set by then |
//! | `bind()` | remembered; the address must be the stack's (or unspecified), the port unused by an overlapping address (`EADDRINUSE`) unless both sockets set `SO_REUSEADDR` and neither listens, as Linux's bind rule has it; port 0 takes an ephemeral one (49152 up, in order, as `connect()` does) |
//! | `listen()` | an emulated listener, below |
//! | `accept()` | the oldest socket of the listener that left SYN-RECEIVED synchronized; `EAGAIN` if none |
//! | `connect()` | `tcp::Socket::connect()` from the bound or an ephemeral port, polled at once (the SYN leaves inside the call); answers `EINPROGRESS`; again while connecting `EALREADY`, once connected `EISCONN` |
//! | `write()` | `send_slice()`; `EAGAIN` while the handshake is on or the buffer is full; `EPIPE` once the sending side is closed |
//! | `read()` | `recv_slice()`; 0 (end of file) once the peer's FIN is read, `EAGAIN` while the connection may still receive |
//! | `shutdown(SHUT_WR)` | `tcp::Socket::close()`, which is smoltcp's half-close (a FIN) |
//! | `shutdown(SHUT_RD)` | the adapter returns end of file to reads from then on; smoltcp still takes and acknowledges data, as Linux does |
//! | `close()` | `tcp::Socket::close()` (FIN); the socket goes on without a descriptor until its close completes. With `SO_LINGER {1, 0}`, `abort()` (RST). On a listener, every unaccepted connection is aborted |
//! | `SO_ERROR` | the adapter's: a connection that closed without the application asking was refused (a RST in SYN-SENT: `ECONNREFUSED`), reset (a RST later: `ECONNRESET`) or timed out (no RST: `ETIMEDOUT`), judged from the segment that closed it |
//! | `O_NONBLOCK` | whether `accept()` and `read()` asked to wait let virtual time pass |
//! | `TCP_NODELAY` | `set_nagle_enabled(false)` |
//! | `SO_RCVBUF`, `SO_SNDBUF` | the sizes of the socket's buffers, before `connect()`/`listen()` only (smoltcp cannot resize them) |
//! | `SO_REUSEADDR` | kept for the adapter's bind() rule above; smoltcp itself reserves no ports |
//!
//! # The emulated listener
//! smoltcp has one socket per connection and no backlog: a socket in LISTEN becomes the
//! connection when a SYN arrives. The adapter keeps a queue of smoltcp sockets per listener
//! and adds a fresh one in LISTEN whenever none is left and fewer than `backlog + 1` wait
//! to be accepted (Linux's own bound). A SYN that finds none is answered by smoltcp as for a
//! closed port, with a RST, where Linux would drop it. Because this is the adapter's
//! emulation and not smoltcp's, the stack does not declare the `listen-backlog`
//! capability: checks of backlog behaviour are not applicable.
//!
//! # Gaps (capabilities not declared, so "not applicable")
//! - `TCP_INFO`, listener queue lengths, a connection table, sysctls, shell commands: smoltcp
//!   has none of them (its state is readable, and is offered as `connection-state`).
//! - Keep-alive: smoltcp probes at one interval (`set_keep_alive`) forever and never drops
//!   the connection for it; it has no probe count or separate idle time, so the `TCP_KEEP*`
//!   options cannot be honoured.
//! - `TCP_USER_TIMEOUT`: smoltcp's `set_timeout` ends a connection that *received* nothing
//!   for that long, not one whose data went unacknowledged; not the same option.
//! - `TCP_MAXSEG`: the MSS smoltcp advertises follows the MTU (1500 here), with no setter.
//! - `TCP_QUICKACK`; `SO_LINGER` with a timeout; IPv4-mapped IPv6 sockets.
//!
//! # Panics
//! Every call into smoltcp runs under the adapter's `catch_unwind`, which keeps the panic
//! (what smoltcp was doing, and its message: [`Panicked`]) and lets it unwind on to
//! tcpcheck's guard at the seam, which reports it as a finding of the check and calls the
//! stack no more. Called directly after a panic, the stack touches smoltcp no more: socket
//! calls fail with `EIO`, and `inject`, `settle` and `next_packet` return an `io::Error`
//! whose source is the kept [`Panicked`].
//!
//! # Documented choices
//! [`findings::CHOICES`] (the factory's `choices()`) lists what smoltcp states it does and
//! the RFCs allow; tcpcheck labels those divergences and does not count them as defects.
//! [`findings::CLASSES`] judges every class the explorer and the fuzz target found.
//!
//! # Compiler
//! smoltcp 0.14 needs Rust 1.91. The workspace's `rust-version` (1.85) stays for the
//! model and the harness, which do not depend on this crate; this crate declares 1.91 as its
//! own, so an older toolchain refuses it by name instead of failing inside smoltcp.

mod adapter;
mod clock;
mod device;
mod engine;
mod factory;
pub mod findings;
mod sockets;
mod stack;

pub use adapter::capabilities;
pub use engine::Panicked;
pub use factory::{SmoltcpFactory, FACTORY};
pub use stack::{SmoltcpConfig, SmoltcpStack};
