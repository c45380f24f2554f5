//! The descriptor table: what a script's socket numbers stand for on smoltcp, which has no
//! descriptors, no `socket()` before `connect()`/`listen()`, no listener separate from its
//! connections and no error an application reads later. Each is emulated here, and
//! documented in the crate's docs.

use std::net::SocketAddr;

use nix::errno::Errno;
use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::State;

/// Socket options kept by the adapter until a smoltcp socket exists to take them (a
/// smoltcp socket is made by `connect()` or `listen()`, not by `socket()`), and inherited by
/// the sockets a listener makes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Opts {
    pub(crate) nodelay: bool,
    pub(crate) linger_abort: bool,
    pub(crate) rcvbuf: usize,
    pub(crate) sndbuf: usize,
    /// SO_REUSEADDR: what bind() may share a port with (see `SmoltcpStack::port_taken`).
    pub(crate) reuse_addr: bool,
}

/// Buffer sizes when the script sets none: 64 KiB, a window that needs no scaling.
pub(crate) const DEFAULT_BUFFER: usize = 65535;

impl Default for Opts {
    fn default() -> Self {
        Opts {
            nodelay: false,
            linger_abort: false,
            rcvbuf: DEFAULT_BUFFER,
            sndbuf: DEFAULT_BUFFER,
            reuse_addr: false,
        }
    }
}

pub(crate) enum Kind {
    /// `socket()` made it; no smoltcp socket yet.
    Fresh,
    /// One smoltcp socket, one connection (connecting, connected or over).
    Conn(Conn),
    /// The emulated listener: smoltcp sockets in LISTEN on one endpoint, and those that
    /// took a SYN and wait to be accepted (see [`Listener`]).
    Listener(Listener),
}

pub(crate) struct Conn {
    pub(crate) handle: SocketHandle,
    /// The state at the last look, to tell how it changed.
    pub(crate) last: State,
    /// The endpoints while connected: smoltcp forgets them when the socket closes, and the
    /// error it closed with is decided from them.
    pub(crate) local: Option<SocketAddr>,
    pub(crate) remote: Option<SocketAddr>,
    /// What `getsockopt(SO_ERROR)` returns next, and what the next call fails with.
    pub(crate) error: Option<Errno>,
    /// The connection was synchronized once: a read on it after it closed returns 0 (end of
    /// file) rather than `ENOTCONN`.
    pub(crate) was_connected: bool,
    /// `shutdown(SHUT_RD)`: reads return end of file from now on.
    pub(crate) read_shut: bool,
    /// `shutdown(SHUT_WR)` or a close: writes fail with `EPIPE`.
    pub(crate) write_shut: bool,
}

impl Conn {
    pub(crate) fn new(handle: SocketHandle, last: State) -> Conn {
        Conn {
            handle,
            last,
            local: None,
            remote: None,
            error: None,
            was_connected: false,
            read_shut: false,
            write_shut: false,
        }
    }
}

/// smoltcp has one socket per connection and no backlog: a socket in LISTEN becomes the
/// connection when a SYN arrives. The adapter emulates a listen queue with several smoltcp
/// sockets on the same endpoint: whenever none is left in LISTEN and fewer than
/// `backlog + 1` wait to be accepted (Linux's `sk_ack_backlog > sk_max_ack_backlog` test
/// allows one past the backlog), it adds a fresh one in LISTEN. A SYN that finds none is
/// answered by smoltcp's interface as for a closed port (a RST), where Linux would drop it.
pub(crate) struct Listener {
    pub(crate) local: SocketAddr,
    pub(crate) backlog: usize,
    /// Every smoltcp socket made for this listener and not yet accepted, oldest first.
    pub(crate) queue: Vec<SocketHandle>,
}

pub(crate) struct Entry {
    pub(crate) v6: bool,
    pub(crate) nonblocking: bool,
    pub(crate) bound: Option<SocketAddr>,
    pub(crate) opts: Opts,
    pub(crate) kind: Kind,
}

impl Entry {
    pub(crate) fn new(v6: bool) -> Entry {
        Entry {
            v6,
            nonblocking: false,
            bound: None,
            opts: Opts::default(),
            kind: Kind::Fresh,
        }
    }
}
