//! The stack under test, as the harness sees it: the one seam between tcpcheck and any TCP
//! stack. The runner, the differ's adapters, the explorer and the reports use a stack only
//! through [`Stack`] (as `Box<dyn Stack>`), and the command line picks one in one place
//! ([`registry`]).
//!
//! # The contract
//!
//! The harness plays the remote hosts and the application: it writes raw IP packets into the
//! stack, reads what the stack sends, and makes socket calls. The stack owns time.
//!
//! - **Time.** [`Stack::now`] is the stack's clock, a `Duration` since the stack was made,
//!   never going back. Every time the harness records or judges comes from it, so a stack on
//!   a virtual clock gets exact timer checks. The kernel's clock is the monotonic clock.
//! - **Waiting.** [`Stack::next_packet`]`(deadline)` is the only way time passes for the
//!   harness. A packet the stack sent and nobody read yet comes back at once, whatever the
//!   deadline (`next_packet(Duration::ZERO)` drains them). Otherwise time passes until the
//!   stack sends one, returned, or until `deadline`, and then `None` with
//!   `now() >= deadline`. A stack on real time waits (Linux: a poll on its TUN); an
//!   in-process stack on a virtual clock runs its timers and jumps its clock to
//!   `min(deadline, its next timer)`, so waiting 64 s costs microseconds. It must not return
//!   `None` while `now() < deadline`, nor let its clock pass `deadline`.
//! - **Packets in.** [`Stack::inject`] hands the stack one raw IPv4 or IPv6 packet (with TCP
//!   in it, checksums right unless the check meant them wrong), as if it arrived at `now()`.
//! - **Packets out.** [`Stack::settle`] returns everything the stack has sent in reaction to
//!   what it was given so far (packets and socket calls), without letting time pass, in the
//!   order sent; each [`Packet`] carries the time it was sent by the stack's clock. A packet
//!   is returned once, by `settle` or `next_packet`.
//! - **Socket calls** are BSD-shaped (what a packetdrill script writes) on descriptors the
//!   stack numbers from 3 ([`Fd`]). They never block the harness: a call on a socket in
//!   blocking mode that would block returns `EAGAIN` when asked with [`Wait::No`], and the
//!   harness retries it as time passes. Errors are errno values, as an application sees them.
//! - **Capabilities.** Whatever only some stacks have is declared in
//!   [`Stack::capabilities`] and reached through the optional methods (their defaults answer
//!   [`Capability::missing`]). A check needing one the stack lacks is "not applicable".
//! - **The record.** The harness records every packet and call crossing this seam itself
//!   ([`Recorder`]); a stack only adds what the harness cannot see, through
//!   [`Stack::take_log`] (packets it filtered, observations of its state).
//!
//! A panic inside a stack is caught at the seam and reported as a finding with its case
//! ([`Recorder::panicked`]); the stack is not called again. The plain accessors (`name`,
//! `capabilities`, `reference`, `clock`, `now`) and `Drop` are not guarded: they must not
//! panic.
//!
//! A stack must guarantee: nothing it does hangs (every wait ends by its deadline), nothing it
//! sends is lost between `settle`/`next_packet` calls, and the same inputs at the same
//! virtual times give the same outputs when its clock is virtual.

// The seam is what stack authors implement from their own crates: every public item says
// what it is for (clippy -D warnings turns a missing doc into an error).
#![warn(missing_docs)]

mod capability;
mod choice;
pub mod linux;
mod panic;
mod recorder;
pub mod registry;

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use nix::errno::Errno;
use tcpcheck_model::profile::Profile;

pub use crate::observe::diag::DiagSocket;
pub use crate::observe::{TcpInfo, TcpState};
pub use crate::sandbox::Packet;
use crate::trace::TraceEvent;
pub use capability::{needed, Capabilities, Capability, Needs};
pub use choice::{documented, Choice};
pub use recorder::{Panicked, Recorder};
pub use registry::{Purpose, Registry, StackFactory, StackKind};

/// A socket of the stack under test, numbered as a script numbers it: from 3 like a fresh
/// process's descriptors, lowest free number first, so traces read the same on every run
/// and every stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fd(pub i32);

impl fmt::Display for Fd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a socket call did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The stack returned this errno.
    Errno(Errno),
    /// A blocking call did not complete before its deadline.
    Deadline,
    /// The call needs what the stack does not have: not applicable, not a failure.
    Unsupported(Capability),
}

impl From<Errno> for CallError {
    fn from(e: Errno) -> Self {
        CallError::Errno(e)
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `-1 ECONNREFUSED (Connection refused)`, as packetdrill and strace write it.
            CallError::Errno(e) => write!(f, "-1 {e:?} ({})", e.desc()),
            CallError::Deadline => f.write_str("did not return before its deadline"),
            CallError::Unsupported(c) => write!(f, "not applicable (needs {c})"),
        }
    }
}

/// A socket call's result.
pub type CallResult<T> = Result<T, CallError>;

/// How long a call may block: not at all (the socket's O_NONBLOCK behaviour), or until the
/// harness gives up. Every wait has a deadline, so a silent stack cannot hang a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Answer at once, `EAGAIN` if the call would block.
    No,
    /// Block until this time of [`Stack::now`] at most, then fail with
    /// [`CallError::Deadline`] (only a stack with [`Capability::Blocking`] is asked this).
    Until(Duration),
}

/// A socket option the harness can set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockOpt {
    /// SO_REUSEADDR.
    ReuseAddr(bool),
    /// `None` turns lingering off; `Some(0s)` makes close() abort with a RST.
    Linger(Option<Duration>),
    /// TCP_NODELAY.
    NoDelay(bool),
    /// TCP_QUICKACK.
    QuickAck(bool),
    /// TCP_USER_TIMEOUT; 0 restores the system default.
    UserTimeout(Duration),
    /// TCP_MAXSEG.
    MaxSeg(u16),
    /// SO_KEEPALIVE.
    KeepAlive(bool),
    /// Idle time before the first keep-alive probe (whole seconds on Linux).
    KeepIdle(Duration),
    /// TCP_KEEPINTVL.
    KeepInterval(Duration),
    /// Unanswered probes before the connection is dropped.
    KeepCount(u32),
    /// Requested receive buffer (Linux doubles it for bookkeeping).
    RecvBuffer(u32),
    /// SO_SNDBUF.
    SendBuffer(u32),
}

impl SockOpt {
    /// The capability a stack needs to take this option.
    pub fn needs(self) -> Capability {
        match self {
            SockOpt::ReuseAddr(_) => Capability::ReuseAddr,
            SockOpt::Linger(_) => Capability::Linger,
            SockOpt::NoDelay(_) => Capability::NoDelay,
            SockOpt::QuickAck(_) => Capability::QuickAck,
            SockOpt::UserTimeout(_) => Capability::UserTimeout,
            SockOpt::MaxSeg(_) => Capability::MaxSeg,
            SockOpt::KeepAlive(_)
            | SockOpt::KeepIdle(_)
            | SockOpt::KeepInterval(_)
            | SockOpt::KeepCount(_) => Capability::KeepAlive,
            SockOpt::RecvBuffer(_) | SockOpt::SendBuffer(_) => Capability::Buffers,
        }
    }
}

/// How a stack's time passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Real time: waiting costs wall time, the stack's timers fire late by its tick and its
    /// scheduling, and the harness itself can fall behind (it then runs at real-time
    /// priority where it may, and a run it was late for is void).
    Real,
    /// A virtual clock the stack moves only in [`Stack::next_packet`]: waiting costs
    /// nothing, timers fire when due, and the harness is never late.
    Virtual,
}

impl Clock {
    /// The precision the model assumes of the stack's timers: a kernel's timer wheel at
    /// the target's HZ in real time; exact on a virtual clock, where a timer fires at the
    /// instant it is due and anything else is the stack's divergence.
    pub fn timer_precision(self) -> tcpcheck_model::timers::TimerPrecision {
        use tcpcheck_model::timers::{Hz, TimerPrecision};
        match self {
            Clock::Real => TimerPrecision::Wheel(Hz::TARGET),
            Clock::Virtual => TimerPrecision::Exact,
        }
    }

    /// `profile` with the timer precision of this clock.
    pub fn timing(self, mut profile: Profile) -> Profile {
        profile.timer_precision = self.timer_precision();
        profile
    }
}

/// A socket option `getsockopt()` reads as an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetOpt {
    /// TCP_MAXSEG: the MSS the connection sends with (before it is connected, the one set
    /// or the default).
    MaxSeg,
    /// SO_SNDBUF (Linux reports double what was set: its bookkeeping).
    SendBuffer,
    /// SO_RCVBUF.
    RecvBuffer,
    /// TCP_NODELAY.
    NoDelay,
}

impl GetOpt {
    /// The capability a stack needs to answer it.
    pub fn needs(self) -> Capability {
        match self {
            GetOpt::MaxSeg => Capability::MaxSeg,
            GetOpt::SendBuffer | GetOpt::RecvBuffer => Capability::Buffers,
            GetOpt::NoDelay => Capability::NoDelay,
        }
    }

    /// Its level and name as scripts write them.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            GetOpt::MaxSeg => ("SOL_TCP", "TCP_MAXSEG"),
            GetOpt::SendBuffer => ("SOL_SOCKET", "SO_SNDBUF"),
            GetOpt::RecvBuffer => ("SOL_SOCKET", "SO_RCVBUF"),
            GetOpt::NoDelay => ("SOL_TCP", "TCP_NODELAY"),
        }
    }
}

/// What a packetdrill script's outbound lines describe for a stack, and so how a scenario's
/// verdict combines the script with the model (README, "Verdicts for a stack that is not
/// Linux").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// The scripts were written against this stack (the corpus describes Linux): every field
    /// of an outbound line is checked, the model's view is reported beside it.
    Scripts,
    /// The model's `rfc9293` profile is the reference: it judges every segment, and a
    /// script's outbound lines are checked only in the fields RFC 9293 fixes.
    Rfc9293,
}

/// A TCP stack under test. See the module documentation for the contract.
pub trait Stack {
    /// The stack's name and version for reports (`linux 6.18.0`, `smoltcp 0.14`).
    fn name(&self) -> String;

    /// What the stack has beyond the core (see [`Capability`]).
    fn capabilities(&self) -> Capabilities;

    /// What scripts' outbound lines mean for this stack. Only a stack the corpus was written
    /// against answers [`Reference::Scripts`].
    fn reference(&self) -> Reference {
        Reference::Rfc9293
    }

    /// The model profile describing this stack as it is configured now (its documented
    /// choices and the numbers of its settings). The `rfc9293` profile unless the stack has
    /// its own.
    fn profile(&mut self) -> Result<Profile, String> {
        Ok(Profile::rfc9293())
    }

    /// The stack's clock: time since the stack was made.
    fn now(&self) -> Duration;

    /// How its time passes. Real unless the stack says otherwise.
    fn clock(&self) -> Clock {
        Clock::Real
    }

    /// Hands the stack one raw IP packet, arriving now.
    fn inject(&mut self, packet: &[u8]) -> io::Result<()>;

    /// Everything the stack has sent in reaction to the events so far, without time passing.
    fn settle(&mut self) -> io::Result<Vec<Packet>>;

    /// A packet sent and not yet read, at once; else the next packet the stack sends by
    /// `deadline` (a time of [`Stack::now`]), letting time pass until then at most; `None`
    /// when `deadline` came first.
    fn next_packet(&mut self, deadline: Duration) -> io::Result<Option<Packet>>;

    /// `socket(AF_INET or AF_INET6, SOCK_STREAM, IPPROTO_TCP)`.
    fn socket(&mut self, v6: bool) -> CallResult<Fd>;
    /// `bind()`.
    fn bind(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()>;
    /// `listen()`; `backlog` is the script's number, which a stack without
    /// [`Capability::ListenBacklog`] may ignore.
    fn listen(&mut self, fd: Fd, backlog: i32) -> CallResult<()>;
    /// `accept()`: a connection and its peer's address.
    fn accept(&mut self, fd: Fd, wait: Wait) -> CallResult<(Fd, SocketAddr)>;
    /// Starts the handshake; `EINPROGRESS` is the normal answer.
    fn connect(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()>;
    /// `write()`: how many bytes the stack took.
    fn write(&mut self, fd: Fd, data: &[u8]) -> CallResult<usize>;
    /// `read()` of `max` bytes at most; empty at the end of the stream.
    fn read(&mut self, fd: Fd, max: usize, wait: Wait) -> CallResult<Vec<u8>>;
    /// `shutdown()`; one direction alone needs [`Capability::HalfClose`].
    fn shutdown(&mut self, fd: Fd, how: Shutdown) -> CallResult<()>;
    /// `close()`.
    fn close(&mut self, fd: Fd) -> CallResult<()>;
    /// `setsockopt()`; an option the stack lacks answers
    /// [`CallError::Unsupported`]`(opt.needs())`.
    fn setsockopt(&mut self, fd: Fd, opt: SockOpt) -> CallResult<()>;
    /// `getsockopt(SO_ERROR)`: the pending error, cleared by reading it.
    fn take_error(&mut self, fd: Fd) -> CallResult<Option<Errno>>;
    /// `getsockopt()` of an integer option; a stack without it answers
    /// [`CallError::Unsupported`]`(opt.needs())`, the default.
    fn getsockopt(&mut self, fd: Fd, opt: GetOpt) -> CallResult<i64> {
        let _ = fd;
        Err(CallError::Unsupported(opt.needs()))
    }
    /// `fcntl(F_SETFL, O_NONBLOCK)`: whether calls on `fd` may block (see [`Wait`]).
    fn set_nonblocking(&mut self, fd: Fd, on: bool) -> CallResult<()>;
    /// Whether a write on `fd` would take data now (poll()'s `POLLOUT`): when a blocked
    /// writer is woken.
    fn writable(&mut self, fd: Fd) -> CallResult<bool>;

    /// The TCP state of the connection on `fd` ([`Capability::ConnectionState`]).
    fn state(&mut self, fd: Fd) -> io::Result<TcpState> {
        let _ = fd;
        Err(Capability::ConnectionState.missing())
    }

    /// Linux's `TCP_INFO` for `fd` ([`Capability::TcpInfo`]).
    fn tcp_info(&mut self, fd: Fd) -> io::Result<TcpInfo> {
        let _ = fd;
        Err(Capability::TcpInfo.missing())
    }

    /// Every TCP connection the stack has, including listeners' request sockets and
    /// TIME-WAIT ones no descriptor refers to any more ([`Capability::ConnectionTable`]).
    fn connections(&mut self) -> io::Result<Vec<DiagSocket>> {
        Err(Capability::ConnectionTable.missing())
    }

    /// The state of the connection on exactly these endpoints, found the way the stack finds
    /// the connection for an arriving segment, a descriptor or not (a request socket, an
    /// orphan, TIME-WAIT); `None` when it has none, or only a listener would take the
    /// segment ([`Capability::ConnectionTable`]).
    fn state_at(&mut self, local: SocketAddr, remote: SocketAddr) -> io::Result<Option<TcpState>> {
        let _ = (local, remote);
        Err(Capability::ConnectionTable.missing())
    }

    /// The value of setting `name` (a Linux sysctl, `net.ipv4.tcp_sack`)
    /// ([`Capability::Settings`]).
    fn setting(&mut self, name: &str) -> io::Result<String> {
        let _ = name;
        Err(Capability::Settings.missing())
    }

    /// Sets `name` to `value` and returns the value in force ([`Capability::Settings`]).
    fn set_setting(&mut self, name: &str, value: &str) -> io::Result<String> {
        let _ = (name, value);
        Err(Capability::Settings.missing())
    }

    /// Something outside the seam may have changed the stack's settings (a script's shell
    /// command ran `sysctl` or wrote /proc/sys itself): [`Stack::profile`] must read them
    /// again rather than trust what it knew.
    fn settings_touched(&mut self) {}

    /// Ends everything the check made, so nothing of it outlives it; returns how many
    /// connections were left to end after the descriptors closed.
    fn end(&mut self) -> io::Result<usize> {
        Ok(0)
    }

    /// The kernel descriptor behind `fd`, for Linux's own system calls the seam does not
    /// name ([`Capability::LinuxCalls`]): only a stack that is the kernel has one. The
    /// descriptor stays the stack's: the caller must not close it, and calls that could
    /// block are made non-blocking (it is `O_NONBLOCK`).
    fn raw_fd(&self, fd: Fd) -> Option<std::os::fd::RawFd> {
        let _ = fd;
        None
    }

    /// What the stack logged since the last call that the harness did not see cross the
    /// seam (packets it filtered as noise, observations of its state, notes), for the
    /// trace. Not the packets and calls themselves: the [`Recorder`] records those.
    fn take_log(&mut self) -> Vec<TraceEvent> {
        Vec::new()
    }
}
