#![allow(dead_code, missing_docs)]
//! TEMPORARY: seam's draft trait, until wip/seam lands. Not to be committed.
use nix::errno::Errno;
use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;
pub use tcpcheck::observe::diag::DiagSocket;
pub use tcpcheck::observe::{TcpInfo, TcpState};
pub use tcpcheck::sandbox::Packet;
use tcpcheck_model::profile::Profile;
pub type TraceEvent = ();
// What a stack has beyond the core of TCP: declared by the stack, consulted by the runner
// and the explorer before they use it, so a check that needs what a stack lacks is "not
// applicable" rather than a pass or a failure.

/// One thing only some stacks have. The set is open to growth (`#[non_exhaustive]`): a stack
/// declares what it has, and anything it does not name it lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Capability {
    /// IPv6 on the wire.
    Ipv6,
    /// An AF_INET6 socket talking IPv4 through IPv4-mapped addresses (`::ffff:192.0.2.1`).
    V4MappedV6,
    /// listen()'s backlog bounds the accept queue, several connections wait there, and a
    /// listener's unaccepted connections are reset when it closes (as BSD sockets do).
    ListenBacklog,
    /// SO_LINGER, and with it close() that aborts with a RST (linger 0).
    Linger,
    /// shutdown() of one direction (SHUT_WR, SHUT_RD) leaving the other open.
    HalfClose,
    /// The stack tells a connection's TCP state ([`super::Stack::state`]).
    ConnectionState,
    /// Linux's `TCP_INFO` ([`super::Stack::tcp_info`]): `%{ assert tcpi_... }%` blocks.
    TcpInfo,
    /// A listener's accept and SYN queue lengths, observed into the trace.
    ListenerQueues,
    /// Every TCP connection the stack holds, descriptor or not ([`super::Stack::connections`]):
    /// request sockets, TIME-WAIT.
    ConnectionTable,
    /// Named settings (Linux sysctls, `net.ipv4.tcp_*`): backquoted `sysctl` commands.
    Settings,
    /// Shell commands run beside the stack (backquoted commands other than sysctl).
    Shell,
    /// SO_KEEPALIVE and the TCP_KEEP* options.
    KeepAlive,
    /// TCP_NODELAY (Nagle's algorithm off).
    NoDelay,
    /// TCP_QUICKACK.
    QuickAck,
    /// TCP_USER_TIMEOUT.
    UserTimeout,
    /// TCP_MAXSEG.
    MaxSeg,
    /// SO_RCVBUF and SO_SNDBUF.
    Buffers,
    /// SO_REUSEADDR.
    ReuseAddr,
    /// Selective acknowledgements (RFC 2018) negotiated and sent.
    Sack,
    /// The timestamps option (RFC 7323) negotiated and sent.
    Timestamps,
    /// Window scaling (RFC 7323) negotiated.
    WindowScale,
    /// Blocking calls on a socket in blocking mode (accept, connect, read, write that wait).
    Blocking,
}

impl Capability {
    /// Every capability, in declaration order.
    pub const ALL: [Capability; 22] = [
        Capability::Ipv6,
        Capability::V4MappedV6,
        Capability::ListenBacklog,
        Capability::Linger,
        Capability::HalfClose,
        Capability::ConnectionState,
        Capability::TcpInfo,
        Capability::ListenerQueues,
        Capability::ConnectionTable,
        Capability::Settings,
        Capability::Shell,
        Capability::KeepAlive,
        Capability::NoDelay,
        Capability::QuickAck,
        Capability::UserTimeout,
        Capability::MaxSeg,
        Capability::Buffers,
        Capability::ReuseAddr,
        Capability::Sack,
        Capability::Timestamps,
        Capability::WindowScale,
        Capability::Blocking,
    ];

    /// The name reports print (`needs linger`) and scripts use (`// needs: linger`).
    pub fn name(self) -> &'static str {
        match self {
            Capability::Ipv6 => "ipv6",
            Capability::V4MappedV6 => "ipv4-mapped-ipv6",
            Capability::ListenBacklog => "listen-backlog",
            Capability::Linger => "linger",
            Capability::HalfClose => "half-close",
            Capability::ConnectionState => "connection-state",
            Capability::TcpInfo => "tcp-info",
            Capability::ListenerQueues => "listener-queues",
            Capability::ConnectionTable => "connection-table",
            Capability::Settings => "settings",
            Capability::Shell => "shell",
            Capability::KeepAlive => "keep-alive",
            Capability::NoDelay => "no-delay",
            Capability::QuickAck => "quick-ack",
            Capability::UserTimeout => "user-timeout",
            Capability::MaxSeg => "max-seg",
            Capability::Buffers => "buffers",
            Capability::ReuseAddr => "reuse-addr",
            Capability::Sack => "sack",
            Capability::Timestamps => "timestamps",
            Capability::WindowScale => "window-scale",
            Capability::Blocking => "blocking",
        }
    }

    /// The capability named `name` (as [`Capability::name`] spells it).
    pub fn parse(name: &str) -> Option<Capability> {
        Capability::ALL.into_iter().find(|c| c.name() == name)
    }

    fn bit(self) -> u64 {
        1 << (self as u32)
    }

    /// An error saying this capability is missing, which [`needed`] recognises: for a stack
    /// whose optional method was called anyway.
    pub fn missing(self) -> io::Error {
        io::Error::new(io::ErrorKind::Unsupported, Needs(self))
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The payload of [`Capability::missing`]'s error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs(pub Capability);

impl fmt::Display for Needs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not applicable (needs {})", self.0)
    }
}

impl std::error::Error for Needs {}

/// The capability an error from [`Capability::missing`] names, if it is one.
pub fn needed(e: &io::Error) -> Option<Capability> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Needs>())
        .map(|n| n.0)
}

/// A set of capabilities, as a stack declares them.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Capabilities(u64);

impl Capabilities {
    /// No capability: the core of TCP alone (IPv4, socket, bind, listen, accept, connect,
    /// read, write, close, non-blocking calls).
    pub const NONE: Capabilities = Capabilities(0);

    /// Every capability there is.
    pub fn all() -> Capabilities {
        Capability::ALL.into_iter().collect()
    }

    /// This set with `c` added.
    pub fn with(self, c: Capability) -> Capabilities {
        Capabilities(self.0 | c.bit())
    }

    /// This set without `c`.
    pub fn without(self, c: Capability) -> Capabilities {
        Capabilities(self.0 & !c.bit())
    }

    pub fn has(self, c: Capability) -> bool {
        self.0 & c.bit() != 0
    }

    /// The first of `needs` this set lacks.
    pub fn lacks(self, needs: impl IntoIterator<Item = Capability>) -> Option<Capability> {
        needs.into_iter().find(|c| !self.has(*c))
    }

    /// The capabilities in the set, in [`Capability::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL.into_iter().filter(move |c| self.has(*c))
    }
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        iter.into_iter()
            .fold(Capabilities::NONE, Capabilities::with)
    }
}

impl fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Capability::name).collect();
        f.write_str(&names.join(", "))
    }
}

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

    /// Hands the stack one raw IP packet, arriving now.
    fn inject(&mut self, packet: &[u8]) -> io::Result<()>;

    /// Everything the stack has sent in reaction to the events so far, without time passing.
    fn settle(&mut self) -> io::Result<Vec<Packet>>;

    /// The next packet the stack sends by `deadline` (a time of [`Stack::now`]), letting time
    /// pass until then at most; `None` when `deadline` came first.
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

    /// Ends everything the check made, so nothing of it outlives it; returns how many
    /// connections were left to end after the descriptors closed.
    fn end(&mut self) -> io::Result<usize> {
        Ok(0)
    }

    /// What the stack logged since the last call that the harness did not see cross the
    /// seam (packets it filtered as noise, observations of its state, notes), for the
    /// trace. Not the packets and calls themselves: the [`Recorder`] records those.
    fn take_log(&mut self) -> Vec<TraceEvent> {
        Vec::new()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StackKind {
    Linux,
    Smoltcp,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Scenario,
    Case { v6: bool },
}
pub trait StackFactory: Sync {
    fn kind(&self) -> StackKind;
    fn open(&self, purpose: Purpose) -> io::Result<Box<dyn Stack>>;
}
