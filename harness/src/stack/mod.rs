//! The stack under test, as the harness sees it: socket calls in, segments in and out,
//! observations of its state.
//!
//! The Linux kernel in a network namespace is the first implementation. The trait is shaped so
//! a user-space stack (smoltcp, say) can implement it in-process: sockets are opaque handles,
//! errors are errno values (what an application sees), and time is a `Duration` since the
//! stack started, which a simulated stack can advance on its own in `next_packet`.

pub mod linux;

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use nix::errno::Errno;

pub use crate::observe::diag::DiagSocket;
pub use crate::observe::{TcpInfo, TcpState};
pub use crate::sandbox::Packet;

/// Why a socket call did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The stack returned this errno.
    Errno(Errno),
    /// A blocking call did not complete before its deadline.
    Deadline,
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
        }
    }
}

pub type CallResult<T> = Result<T, CallError>;

/// How long a call may block: not at all (the socket's O_NONBLOCK behaviour), or until the
/// harness gives up. Every wait has a deadline, so a silent stack cannot hang a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    No,
    Until(Duration),
}

/// A socket option the harness can set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockOpt {
    ReuseAddr(bool),
    /// `None` turns lingering off; `Some(0s)` makes close() abort with a RST.
    Linger(Option<Duration>),
    NoDelay(bool),
    QuickAck(bool),
    /// 0 restores the system default.
    UserTimeout(Duration),
    MaxSeg(u16),
    KeepAlive(bool),
    /// Idle time before the first keep-alive probe (whole seconds on Linux).
    KeepIdle(Duration),
    KeepInterval(Duration),
    /// Unanswered probes before the connection is dropped.
    KeepCount(u32),
    /// Requested receive buffer (Linux doubles it for bookkeeping).
    RecvBuffer(u32),
    SendBuffer(u32),
}

pub trait Stack {
    /// A socket of this stack.
    type Fd: Copy + Eq + std::hash::Hash + fmt::Debug + fmt::Display;

    /// Time since the stack started.
    fn now(&self) -> Duration;

    // Socket calls.
    fn socket(&mut self, v6: bool) -> CallResult<Self::Fd>;
    fn bind(&mut self, fd: Self::Fd, addr: SocketAddr) -> CallResult<()>;
    fn listen(&mut self, fd: Self::Fd, backlog: i32) -> CallResult<()>;
    fn accept(&mut self, fd: Self::Fd, wait: Wait) -> CallResult<(Self::Fd, SocketAddr)>;
    /// Starts the handshake; `EINPROGRESS` is the normal answer.
    fn connect(&mut self, fd: Self::Fd, addr: SocketAddr) -> CallResult<()>;
    fn write(&mut self, fd: Self::Fd, data: &[u8]) -> CallResult<usize>;
    fn read(&mut self, fd: Self::Fd, max: usize, wait: Wait) -> CallResult<Vec<u8>>;
    fn shutdown(&mut self, fd: Self::Fd, how: Shutdown) -> CallResult<()>;
    fn close(&mut self, fd: Self::Fd) -> CallResult<()>;
    fn setsockopt(&mut self, fd: Self::Fd, opt: SockOpt) -> CallResult<()>;
    /// `getsockopt(SO_ERROR)`: the pending error, cleared by reading it.
    fn take_error(&mut self, fd: Self::Fd) -> CallResult<Option<Errno>>;
    /// `fcntl(F_SETFL, O_NONBLOCK)`.
    fn set_nonblocking(&mut self, fd: Self::Fd, on: bool) -> CallResult<()>;

    // Segments.
    fn inject(&mut self, packet: &[u8]) -> io::Result<()>;
    /// Everything the stack has sent in reaction to the events so far.
    fn settle(&mut self) -> io::Result<Vec<Packet>>;
    /// The next packet, waiting until `deadline` (since the stack started) at most: timers.
    fn next_packet(&mut self, deadline: Duration) -> io::Result<Option<Packet>>;

    // Observations.
    fn tcp_info(&mut self, fd: Self::Fd) -> io::Result<TcpInfo>;
    /// Every TCP socket the stack has, including listeners' request sockets and TIME_WAIT
    /// sockets that no descriptor refers to any more.
    fn connections(&mut self) -> io::Result<Vec<DiagSocket>>;
}
