//! What inet_diag reports about one socket, and the state sets a dump asks for.

use std::net::{IpAddr, SocketAddr};

use nix::sys::socket::AddressFamily;

use crate::observe::tcp_info::{TcpInfo, TcpState};

/// A set of TCP states to ask the kernel for; the kernel filters, so asking for less is cheaper
/// than filtering afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StateSet(pub(super) u32);

impl StateSet {
    pub const fn empty() -> StateSet {
        StateSet(0)
    }

    /// Every named state. Deliberately not `u32::MAX`: bit 13 (`TCP_BOUND_INACTIVE`, Linux ≥ 6.5)
    /// makes the kernel also list sockets that are merely bound, which no TCP peer can see.
    pub const fn all() -> StateSet {
        StateSet(((1 << 13) - 1) & !1)
    }

    pub fn only(state: TcpState) -> StateSet {
        StateSet::empty().with(state)
    }

    /// Adds a state. Asking for `SynRecv` also yields request sockets: the kernel adds
    /// `NEW_SYN_RECV` to the filter itself.
    pub fn with(self, state: TcpState) -> StateSet {
        let bit = state.as_u8();
        if bit < 32 {
            StateSet(self.0 | 1 << bit)
        } else {
            self
        }
    }

    pub fn contains(self, state: TcpState) -> bool {
        let bit = state.as_u8();
        bit < 32 && self.0 & (1 << bit) != 0
    }

    pub fn bits(self) -> u32 {
        self.0
    }
}

impl FromIterator<TcpState> for StateSet {
    fn from_iter<I: IntoIterator<Item = TcpState>>(iter: I) -> StateSet {
        iter.into_iter().fold(StateSet::empty(), StateSet::with)
    }
}

/// `idiag_timer`: which timer was pending when the kernel took the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    None,
    /// Retransmission (also RACK reordering and tail-loss-probe timers, and a request socket's
    /// SYN-ACK timer); `retransmits` counts expiries.
    Retransmit,
    /// `sk_timer`: keepalive, or an orphaned FIN_WAIT2's timer when `tcp_fin_timeout` exceeds
    /// the 60 s a `TIME_WAIT` mini socket can cover; `retransmits` counts unanswered probes.
    KeepAlive,
    /// A `TIME_WAIT` (or orphaned `FIN_WAIT2`) mini socket's death timer.
    TimeWait,
    /// Zero-window probe; `retransmits` counts unanswered probes.
    ZeroWindowProbe,
    Unknown(u8),
}

impl TimerKind {
    pub fn from_u8(v: u8) -> TimerKind {
        match v {
            0 => TimerKind::None,
            1 => TimerKind::Retransmit,
            2 => TimerKind::KeepAlive,
            3 => TimerKind::TimeWait,
            4 => TimerKind::ZeroWindowProbe,
            other => TimerKind::Unknown(other),
        }
    }
}

/// One socket as inet_diag reports it.
///
/// Besides full sockets the kernel reports two kinds of mini socket, which have no descriptor
/// and so cannot be seen with `TCP_INFO`:
/// * request sockets (a SYN answered, the final ACK not yet accepted) come with state
///   [`TcpState::SynRecv`], `timer` 1, and `retransmits` = SYN-ACKs retransmitted so far;
///   their `uid`, `inode` and queues read 0;
/// * `TIME_WAIT` sockets come with `timer` 3 and `expires_ms` until they die. An orphaned
///   `FIN_WAIT2` connection (closed locally, peer still open) is the same kind of mini socket
///   and reads `FinWait2` with timer 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagSocket {
    pub family: AddressFamily,
    pub state: TcpState,
    /// Local address. IPv6 link-local addresses carry the bound interface as scope id.
    pub src: SocketAddr,
    /// Remote address; unspecified with port 0 for listeners.
    pub dst: SocketAddr,
    /// `idiag_if`: the interface the socket is bound to, 0 if none.
    pub interface: u32,
    /// Raw `idiag_timer`; see [`DiagSocket::timer_kind`].
    pub timer: u8,
    /// Milliseconds until `timer` fires (0 when no timer is pending).
    pub expires_ms: u32,
    /// `idiag_retrans`: expiries or unanswered probes of `timer`, see [`TimerKind`].
    pub retransmits: u8,
    /// Unread bytes; for listeners the accept queue length.
    pub recv_q: u32,
    /// Unacknowledged bytes (`write_seq - snd_una`); for listeners the backlog limit.
    pub send_q: u32,
    pub uid: u32,
    pub inode: u32,
    /// The socket's `SO_COOKIE`: a per-boot unique id that, unlike the 4-tuple, tells apart
    /// successive connections that reuse the same ports.
    pub cookie: u64,
    /// `INET_DIAG_INFO`, present for full sockets only (not request or `TIME_WAIT` ones).
    pub tcp_info: Option<TcpInfo>,
}

impl DiagSocket {
    pub fn timer_kind(&self) -> TimerKind {
        TimerKind::from_u8(self.timer)
    }

    /// Connections completed but not yet `accept()`ed. Linux admits one more than the backlog:
    /// the queue is "full" only when its length *exceeds* the limit, so `listen(fd, 2)` holds 3.
    /// `None` unless this is a listener, since the same field means unread bytes otherwise.
    pub fn accept_queue_len(&self) -> Option<u32> {
        (self.state == TcpState::Listen).then_some(self.recv_q)
    }

    /// The backlog as the kernel applied it (after capping at `net.core.somaxconn`).
    /// `None` unless this is a listener.
    pub fn accept_queue_limit(&self) -> Option<u32> {
        (self.state == TcpState::Listen).then_some(self.send_q)
    }
}

/// Compares addresses the way the kernel matches them: a v4 connection accepted by a dual-stack
/// v6 listener is reported in the v6 table with IPv4-mapped addresses.
pub(super) fn same_endpoint(a: SocketAddr, b: SocketAddr) -> bool {
    fn canonical(ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        }
    }
    a.port() == b.port() && canonical(a.ip()) == canonical(b.ip())
}
