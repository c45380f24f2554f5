//! A small synchronous inet_diag (`ss`-style) client.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::time::{Duration, Instant};

use netlink_packet_core::{
    DoneBuffer, Emitable, ErrorBuffer, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NlasIterator,
    Parseable, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_packet_sock_diag::constants::{
    AF_INET, AF_INET6, INET_DIAG_INFO, IPPROTO_TCP, SOCK_DESTROY, SOCK_DIAG_BY_FAMILY,
};
use netlink_packet_sock_diag::inet::{
    ExtensionFlags, InetRequest, InetResponseHeader, SocketId, StateFlags,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use netlink_sys::Socket;
use nix::sys::socket::{setsockopt, sockopt, AddressFamily};
use nix::sys::time::TimeVal;

use super::tcp_info::{TcpInfo, TcpState};

/// How long one `recv` may block. The kernel answers a dump from the caller's own context, so
/// a silent socket means something is wrong, not slow.
const RECV_TIMEOUT: Duration = Duration::from_secs(2);
/// Bound on a whole dump, so a kernel that kept streaming could not hold a test forever.
const DUMP_DEADLINE: Duration = Duration::from_secs(10);
/// Netlink dump skbs are capped near 32 KiB; twice that means a datagram is never truncated.
const RECV_BUF_LEN: usize = 64 * 1024;
/// `sizeof(struct inet_diag_msg)`: the fixed header before the attributes.
const INET_DIAG_MSG_LEN: usize = 72;
/// Offset of `idiag_expires` in `struct inet_diag_msg`.
const EXPIRES_OFFSET: usize = 52;
/// How often a dump the kernel flags as inconsistent (`NLM_F_DUMP_INTR`) is retried.
const DUMP_ATTEMPTS: usize = 3;

/// A set of TCP states to ask the kernel for; the kernel filters, so asking for less is cheaper
/// than filtering afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StateSet(u32);

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

    /// Decodes one `struct inet_diag_msg` plus attributes (a `SOCK_DIAG_BY_FAMILY` payload).
    ///
    /// The fixed part goes through netlink-packet-sock-diag, but the timer fields are read
    /// here: the crate folds them into a `Timer` enum that drops `expires` for `TIME_WAIT` and
    /// `retransmits` for every timer but the retransmit one.
    fn parse(payload: &[u8]) -> io::Result<DiagSocket> {
        if payload.len() < INET_DIAG_MSG_LEN {
            return Err(invalid(format!(
                "inet_diag_msg of {} bytes, expected at least {INET_DIAG_MSG_LEN}",
                payload.len()
            )));
        }
        let header = InetResponseHeader::parse(&payload[..INET_DIAG_MSG_LEN])
            .map_err(|e| invalid(format!("inet_diag_msg: {e}")))?;
        let family = match header.family {
            AF_INET => AddressFamily::Inet,
            AF_INET6 => AddressFamily::Inet6,
            other => return Err(invalid(format!("inet_diag_msg of family {other}"))),
        };
        let id = &header.socket_id;
        let expires_ms = u32::from_ne_bytes(
            payload[EXPIRES_OFFSET..EXPIRES_OFFSET + 4]
                .try_into()
                .expect("4 bytes"),
        );
        // The kernel stores the cookie as two native-endian u32 halves, low half first.
        let lo = u32::from_ne_bytes(id.cookie[..4].try_into().expect("4 bytes"));
        let hi = u32::from_ne_bytes(id.cookie[4..].try_into().expect("4 bytes"));

        let mut tcp_info = None;
        for nla in NlasIterator::new(&payload[INET_DIAG_MSG_LEN..]) {
            let nla = nla.map_err(|e| invalid(format!("inet_diag attribute: {e}")))?;
            if nla.kind() == INET_DIAG_INFO {
                tcp_info = Some(TcpInfo::from_bytes(nla.value()));
            }
        }

        Ok(DiagSocket {
            family,
            state: TcpState::from_u8(payload[1]),
            src: socket_addr(id.source_address, id.source_port, id.interface_id),
            dst: socket_addr(id.destination_address, id.destination_port, id.interface_id),
            interface: id.interface_id,
            timer: payload[2],
            expires_ms,
            retransmits: payload[3],
            recv_q: header.recv_queue,
            send_q: header.send_queue,
            uid: header.uid,
            inode: header.inode,
            cookie: u64::from(hi) << 32 | u64::from(lo),
            tcp_info,
        })
    }
}

fn socket_addr(ip: IpAddr, port: u16, interface: u32) -> SocketAddr {
    match ip {
        IpAddr::V4(ip) => SocketAddr::V4(SocketAddrV4::new(ip, port)),
        IpAddr::V6(ip) => {
            // Match what getsockname() reports: a scope id only where the address needs one.
            let scope = if needs_scope(&ip) { interface } else { 0 };
            SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope))
        }
    }
}

fn needs_scope(ip: &Ipv6Addr) -> bool {
    let s = ip.segments()[0];
    (s & 0xffc0) == 0xfe80 || (ip.is_multicast() && (s & 0x000f) <= 2)
}

/// Compares addresses the way the kernel matches them: a v4 connection accepted by a dual-stack
/// v6 listener is reported in the v6 table with IPv4-mapped addresses.
fn same_endpoint(a: SocketAddr, b: SocketAddr) -> bool {
    fn canonical(ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        }
    }
    a.port() == b.port() && canonical(a.ip()) == canonical(b.ip())
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn family_byte(family: AddressFamily) -> io::Result<u8> {
    match family {
        AddressFamily::Inet => Ok(AF_INET),
        AddressFamily::Inet6 => Ok(AF_INET6),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("inet_diag dumps AF_INET or AF_INET6, not {other:?}"),
        )),
    }
}

/// What one datagram of a dump told us.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    More,
    Done,
}

/// Decodes one received datagram of the dump answering request `seq`, appending sockets to
/// `out`. Messages with another sequence number are leftovers of an abandoned dump and are
/// skipped.
fn parse_datagram(
    buf: &[u8],
    seq: u32,
    out: &mut Vec<DiagSocket>,
    interrupted: &mut bool,
) -> io::Result<Step> {
    let mut off = 0;
    while off < buf.len() {
        let msg = NetlinkBuffer::new_checked(&buf[off..])
            .map_err(|e| invalid(format!("netlink message at offset {off}: {e}")))?;
        let len = msg.length() as usize;
        off += (len + 3) & !3;
        if msg.sequence_number() != seq {
            continue;
        }
        if msg.flags() & NLM_F_DUMP_INTR != 0 {
            *interrupted = true;
        }
        let payload = msg.payload();
        match msg.message_type() {
            NLMSG_NOOP => {}
            NLMSG_DONE => {
                // The kernel ends a dump with an int: 0, or a negative errno if it failed
                // part-way after sending some sockets.
                let code = DoneBuffer::new_checked(payload).map_or(0, |d| d.code());
                if code < 0 {
                    return Err(io::Error::from_raw_os_error(-code));
                }
                return Ok(Step::Done);
            }
            NLMSG_ERROR => {
                let err = ErrorBuffer::new_checked(payload)
                    .map_err(|e| invalid(format!("NLMSG_ERROR: {e}")))?;
                return match err.code() {
                    // An ACK; we never ask for one, but it ends the exchange all the same.
                    None => Ok(Step::Done),
                    Some(code) => Err(io::Error::from_raw_os_error(code.get().abs())),
                };
            }
            NLMSG_OVERRUN => return Err(invalid("NLMSG_OVERRUN".to_string())),
            SOCK_DIAG_BY_FAMILY => out.push(DiagSocket::parse(payload)?),
            other => return Err(invalid(format!("unexpected netlink message type {other}"))),
        }
    }
    Ok(Step::More)
}

/// A `NETLINK_SOCK_DIAG` socket for dumping TCP sockets.
///
/// The socket belongs to the network namespace of the thread that called [`Diag::new`], for its
/// whole life: moving the `Diag` to another thread, or the creating thread later `setns()`ing
/// elsewhere, does not change which namespace it reports on. Create it after entering the
/// namespace under test.
pub struct Diag {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
    /// A dump was abandoned part-way; its remaining messages must be drained before the
    /// kernel accepts another dump on this socket (it answers EBUSY otherwise).
    dirty: bool,
}

impl Diag {
    /// Opens the socket in the calling thread's current network namespace (see [`Diag`]).
    pub fn new() -> io::Result<Diag> {
        let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
        socket.bind_auto()?;
        socket.connect(&netlink_sys::SocketAddr::new(0, 0))?;
        setsockopt(
            &socket,
            sockopt::ReceiveTimeout,
            &TimeVal::new(
                RECV_TIMEOUT.as_secs() as _,
                RECV_TIMEOUT.subsec_micros() as _,
            ),
        )?;
        Ok(Diag {
            socket,
            seq: 0,
            buf: vec![0; RECV_BUF_LEN],
            dirty: false,
        })
    }

    /// Lists the TCP sockets of one address family whose state is in `states`.
    ///
    /// A dual-stack IPv6 listener, and connections it accepted from IPv4 peers, appear only in
    /// the `Inet6` dump (with IPv4-mapped addresses).
    pub fn dump(&mut self, family: AddressFamily, states: StateSet) -> io::Result<Vec<DiagSocket>> {
        let family = family_byte(family)?;
        if self.dirty {
            self.drain()?;
        }
        for attempt in 1..=DUMP_ATTEMPTS {
            self.dirty = true;
            let seq = self.send_request(family, states)?;
            let (sockets, interrupted) = self.receive_dump(seq)?;
            self.dirty = false;
            if !interrupted || attempt == DUMP_ATTEMPTS {
                return Ok(sockets);
            }
        }
        unreachable!("the last attempt returns")
    }

    /// [`Diag::dump`] for IPv4 then IPv6: every TCP socket of the namespace in `states`.
    pub fn dump_all(&mut self, states: StateSet) -> io::Result<Vec<DiagSocket>> {
        let mut all = self.dump(AddressFamily::Inet, states)?;
        all.extend(self.dump(AddressFamily::Inet6, states)?);
        Ok(all)
    }

    /// Listening sockets on `port`, IPv4 and IPv6 alike.
    pub fn listeners(&mut self, port: u16) -> io::Result<Vec<DiagSocket>> {
        let mut found = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let sockets = self.dump(family, StateSet::only(TcpState::Listen))?;
            found.extend(sockets.into_iter().filter(|s| s.src.port() == port));
        }
        Ok(found)
    }

    /// The socket (full, request or `TIME_WAIT`) whose local and remote endpoints are these,
    /// in any state but `LISTEN`. An IPv4 pair also matches a socket of a dual-stack IPv6
    /// listener that carries the IPv4-mapped forms.
    pub fn find(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> io::Result<Option<DiagSocket>> {
        let families: &[AddressFamily] = match local {
            SocketAddr::V4(_) => &[AddressFamily::Inet, AddressFamily::Inet6],
            SocketAddr::V6(_) => &[AddressFamily::Inet6],
        };
        let mut states = StateSet::all();
        states.0 &= !(1 << TcpState::Listen.as_u8());
        for &family in families {
            let sockets = self.dump(family, states)?;
            if let Some(s) = sockets
                .into_iter()
                .find(|s| same_endpoint(s.src, local) && same_endpoint(s.dst, remote))
            {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    /// The one socket the kernel finds for this pair of endpoints, the way it finds the socket
    /// for an arriving segment (net/ipv4/inet_diag.c `inet_diag_find_one_icsk()`): an
    /// established, request or TIME_WAIT socket on exactly these endpoints, else the listener
    /// that would take the segment. A hash lookup, where a dump of request sockets walks the
    /// whole established hash (shared with the host unless the namespace has its own), so
    /// it costs microseconds however many sockets the machine has. `None` when there is
    /// none at all.
    ///
    /// `local` and `remote` must be of one family; an IPv4 pair is looked up in the IPv4
    /// table only.
    pub fn lookup(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> io::Result<Option<DiagSocket>> {
        let (family, socket_id) = exact(local, remote)?;
        if self.dirty {
            self.drain()?;
        }
        self.dirty = true;
        let seq = self.send(family, StateSet::all(), socket_id, NLM_F_REQUEST)?;
        // The answer is one message: the socket, or NLMSG_ERROR with ENOENT.
        let mut found = Vec::new();
        let mut interrupted = false;
        let deadline = Instant::now() + DUMP_DEADLINE;
        let result = loop {
            let n = self.recv()?;
            match parse_datagram(&self.buf[..n], seq, &mut found, &mut interrupted) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => break Ok(None),
                Err(e) => break Err(e),
                Ok(_) if !found.is_empty() => break Ok(found.pop()),
                Ok(Step::Done) => break Ok(None),
                Ok(Step::More) if Instant::now() > deadline => {
                    break Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no inet_diag answer within {DUMP_DEADLINE:?}"),
                    ))
                }
                Ok(Step::More) => {}
            }
        };
        self.dirty = false;
        result
    }

    /// Ends the socket on these endpoints the way `ss -K` does (`SOCK_DESTROY`,
    /// `tcp_abort()`): a full socket sends a RST and is freed, a request or `TIME_WAIT` mini
    /// socket is dropped. The kernel finds it as it finds the socket for an arriving segment
    /// (`inet_diag_find_one_icsk()`, a hash probe: a dump would walk the whole established
    /// hash, 262,144 buckets on this machine, shared with the host). True if there was one.
    ///
    /// This is how a check's end reaches the connections its script closed itself: an
    /// orphan has no descriptor left to abort, retransmits into a TUN nobody reads for a
    /// minute or two, and holds its network namespace alive all that while.
    pub fn destroy(&mut self, local: SocketAddr, remote: SocketAddr) -> io::Result<bool> {
        // A dual-stack socket names one end IPv4-mapped where the other may be plain IPv4;
        // the kernel keeps such a connection in the IPv4 table.
        let v4 = |a: SocketAddr| match a {
            SocketAddr::V6(v6) => v6
                .ip()
                .to_ipv4_mapped()
                .map_or(a, |ip| SocketAddr::new(ip.into(), a.port())),
            v4 => v4,
        };
        let (local, remote) = if local.is_ipv4() == remote.is_ipv4() {
            (local, remote)
        } else {
            (v4(local), v4(remote))
        };
        let (family, socket_id) = exact(local, remote)?;
        if self.dirty {
            self.drain()?;
        }
        self.dirty = true;
        let seq = self.send_as(
            SOCK_DESTROY,
            family,
            StateSet::all(),
            socket_id,
            NLM_F_REQUEST | NLM_F_ACK,
        )?;
        let mut unused = Vec::new();
        let mut interrupted = false;
        let deadline = Instant::now() + DUMP_DEADLINE;
        let result = loop {
            let n = self.recv()?;
            match parse_datagram(&self.buf[..n], seq, &mut unused, &mut interrupted) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => break Ok(false),
                Err(e) => break Err(e),
                Ok(Step::Done) => break Ok(true),
                Ok(Step::More) if Instant::now() > deadline => {
                    break Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no SOCK_DESTROY answer within {DUMP_DEADLINE:?}"),
                    ))
                }
                Ok(Step::More) => {}
            }
        };
        self.dirty = false;
        result
    }

    fn send_request(&mut self, family: u8, states: StateSet) -> io::Result<u32> {
        let socket_id = if family == AF_INET {
            SocketId::new_v4()
        } else {
            SocketId::new_v6()
        };
        self.send(family, states, socket_id, NLM_F_REQUEST | NLM_F_DUMP)
    }

    fn send(
        &mut self,
        family: u8,
        states: StateSet,
        socket_id: SocketId,
        flags: u16,
    ) -> io::Result<u32> {
        self.send_as(SOCK_DIAG_BY_FAMILY, family, states, socket_id, flags)
    }

    /// Sends an `inet_diag_req_v2` as a message of type `kind`: `SOCK_DIAG_BY_FAMILY` or
    /// `SOCK_DESTROY`, which take the same request.
    fn send_as(
        &mut self,
        kind: u16,
        family: u8,
        states: StateSet,
        socket_id: SocketId,
        flags: u16,
    ) -> io::Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut msg = NetlinkMessage::new(
            header,
            SockDiagMessage::InetRequest(InetRequest {
                family,
                protocol: IPPROTO_TCP,
                extensions: ExtensionFlags::INFO,
                states: StateFlags::from_bits_retain(states.bits()),
                socket_id,
            })
            .into(),
        );
        msg.finalize();
        msg.header.message_type = kind;
        let mut out = vec![0; msg.buffer_len()];
        msg.emit(&mut out);
        let sent = self.socket.send(&out, 0)?;
        if sent != out.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("sent {sent} of {} request bytes", out.len()),
            ));
        }
        Ok(self.seq)
    }

    fn receive_dump(&mut self, seq: u32) -> io::Result<(Vec<DiagSocket>, bool)> {
        let deadline = Instant::now() + DUMP_DEADLINE;
        let mut sockets = Vec::new();
        let mut interrupted = false;
        loop {
            let n = self.recv()?;
            if parse_datagram(&self.buf[..n], seq, &mut sockets, &mut interrupted)? == Step::Done {
                return Ok((sockets, interrupted));
            }
            if Instant::now() > deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("inet_diag dump still going after {DUMP_DEADLINE:?}"),
                ));
            }
        }
    }

    /// One datagram into `self.buf`; its length.
    fn recv(&mut self) -> io::Result<usize> {
        // MSG_TRUNC makes the kernel return the datagram's real length, so truncation is
        // detected instead of silently cutting a message in half.
        match self.socket.recv(&mut &mut self.buf[..], libc::MSG_TRUNC) {
            Ok(n) if n > self.buf.len() => Err(invalid(format!(
                "netlink datagram of {n} bytes exceeds the {} byte buffer",
                self.buf.len()
            ))),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no inet_diag answer within {RECV_TIMEOUT:?}"),
            )),
            Err(e) => Err(e),
        }
    }

    /// Reads until the socket is empty. Each receive lets the kernel produce the next part of
    /// a pending dump, so this runs an abandoned dump to its end.
    fn drain(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + DUMP_DEADLINE;
        loop {
            match self
                .socket
                .recv(&mut &mut self.buf[..], libc::MSG_DONTWAIT | libc::MSG_TRUNC)
            {
                Ok(_) if Instant::now() < deadline => {}
                Ok(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "could not drain an abandoned inet_diag dump",
                    ))
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        self.dirty = false;
        Ok(())
    }
}

/// The address family and exact socket id of a pair of endpoints of one family, for the
/// kernel's one-socket lookup (`inet_diag_find_one_icsk()`): no cookie
/// (INET_DIAG_NOCOOKIE), so whatever socket holds these endpoints now.
fn exact(local: SocketAddr, remote: SocketAddr) -> io::Result<(u8, SocketId)> {
    let family = match (local, remote) {
        (SocketAddr::V4(_), SocketAddr::V4(_)) => AF_INET,
        (SocketAddr::V6(_), SocketAddr::V6(_)) => AF_INET6,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{local} and {remote} are of different families"),
            ))
        }
    };
    let socket_id = SocketId {
        source_port: local.port(),
        destination_port: remote.port(),
        source_address: local.ip(),
        destination_address: remote.ip(),
        interface_id: 0,
        cookie: [0xff; 8],
    };
    Ok((family, socket_id))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::os::fd::{AsFd, AsRawFd, OwnedFd};

    use nix::sys::socket::{
        accept, bind, listen, socket, Backlog, SockFlag, SockType, SockaddrStorage,
    };

    use super::*;
    use crate::observe::testns::{wait_for, NetnsGuard};

    const WAIT: Duration = Duration::from_secs(5);

    // ---- decoding of hand-built kernel messages ----

    struct RawMsg {
        family: u8,
        state: u8,
        timer: u8,
        retrans: u8,
        sport: u16,
        dport: u16,
        src: [u8; 16],
        dst: [u8; 16],
        ifindex: u32,
        cookie: u64,
        expires: u32,
        rqueue: u32,
        wqueue: u32,
        uid: u32,
        inode: u32,
        attrs: Vec<(u16, Vec<u8>)>,
    }

    impl RawMsg {
        fn v4(state: TcpState) -> RawMsg {
            let mut src = [0; 16];
            src[..4].copy_from_slice(&[10, 0, 0, 1]);
            let mut dst = [0; 16];
            dst[..4].copy_from_slice(&[10, 0, 0, 2]);
            RawMsg {
                family: AF_INET,
                state: state.as_u8(),
                timer: 0,
                retrans: 0,
                sport: 80,
                dport: 40000,
                src,
                dst,
                ifindex: 0,
                cookie: 0x1122_3344_5566_7788,
                expires: 0,
                rqueue: 0,
                wqueue: 0,
                uid: 0,
                inode: 0,
                attrs: Vec::new(),
            }
        }

        /// `struct inet_diag_msg` laid out by hand from the kernel's uapi header, to check the
        /// decoder against the ABI rather than against the crate that helps implement it.
        fn payload(&self) -> Vec<u8> {
            let mut p = vec![self.family, self.state, self.timer, self.retrans];
            p.extend(self.sport.to_be_bytes());
            p.extend(self.dport.to_be_bytes());
            p.extend(self.src);
            p.extend(self.dst);
            p.extend(self.ifindex.to_ne_bytes());
            p.extend((self.cookie as u32).to_ne_bytes());
            p.extend(((self.cookie >> 32) as u32).to_ne_bytes());
            for v in [self.expires, self.rqueue, self.wqueue, self.uid, self.inode] {
                p.extend(v.to_ne_bytes());
            }
            assert_eq!(p.len(), INET_DIAG_MSG_LEN);
            for (kind, value) in &self.attrs {
                p.extend((4 + value.len() as u16).to_ne_bytes());
                p.extend(kind.to_ne_bytes());
                p.extend(value);
                while p.len() % 4 != 0 {
                    p.push(0);
                }
            }
            p
        }
    }

    fn nlmsg(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend((16 + payload.len() as u32).to_ne_bytes());
        m.extend(kind.to_ne_bytes());
        m.extend(flags.to_ne_bytes());
        m.extend(seq.to_ne_bytes());
        m.extend(0u32.to_ne_bytes());
        m.extend(payload);
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m
    }

    const MULTI: u16 = netlink_packet_core::NLM_F_MULTIPART;

    #[test]
    fn observe_parse_syn_recv_request_socket() {
        let mut raw = RawMsg::v4(TcpState::SynRecv);
        raw.timer = 1;
        raw.retrans = 2;
        raw.expires = 2970;
        let mut buf = nlmsg(SOCK_DIAG_BY_FAMILY, MULTI, 7, &raw.payload());
        buf.extend(nlmsg(NLMSG_DONE, MULTI, 7, &0i32.to_ne_bytes()));

        let mut out = Vec::new();
        let mut intr = false;
        assert_eq!(
            parse_datagram(&buf, 7, &mut out, &mut intr).unwrap(),
            Step::Done
        );
        assert!(!intr);
        let [s] = &out[..] else { panic!("{out:?}") };
        assert_eq!(s.state, TcpState::SynRecv);
        assert_eq!(s.timer_kind(), TimerKind::Retransmit);
        assert_eq!((s.retransmits, s.expires_ms), (2, 2970));
        assert_eq!(s.src, "10.0.0.1:80".parse().unwrap());
        assert_eq!(s.dst, "10.0.0.2:40000".parse().unwrap());
        assert_eq!(s.cookie, 0x1122_3344_5566_7788);
        assert_eq!(s.family, AddressFamily::Inet);
        assert_eq!(s.accept_queue_len(), None);
        assert_eq!(s.tcp_info, None);
    }

    #[test]
    fn observe_parse_agrees_with_crate_encoding() {
        // The same request socket encoded by netlink-packet-sock-diag, to catch a layout
        // mismatch between our reading of the ABI and the crate's.
        use netlink_packet_sock_diag::inet::{InetResponse, Timer};
        let resp = InetResponse {
            header: InetResponseHeader {
                family: AF_INET6,
                state: TcpState::SynRecv.as_u8(),
                timer: Some(Timer::Retransmit(Duration::from_millis(1234), 3)),
                socket_id: SocketId {
                    source_port: 443,
                    destination_port: 50000,
                    source_address: "fe80::1".parse().unwrap(),
                    destination_address: "fe80::2".parse().unwrap(),
                    interface_id: 5,
                    cookie: [1, 0, 0, 0, 2, 0, 0, 0],
                },
                recv_queue: 0,
                send_queue: 0,
                uid: 0,
                inode: 0,
            },
            nlas: Default::default(),
        };
        let mut payload = vec![0; resp.buffer_len()];
        resp.emit(&mut payload);
        let s = DiagSocket::parse(&payload).unwrap();
        assert_eq!(s.state, TcpState::SynRecv);
        assert_eq!((s.timer, s.retransmits, s.expires_ms), (1, 3, 1234));
        assert_eq!(s.src, "[fe80::1%5]:443".parse().unwrap());
        assert_eq!(s.dst, "[fe80::2%5]:50000".parse().unwrap());
        if cfg!(target_endian = "little") {
            assert_eq!(s.cookie, 2 << 32 | 1);
        }
    }

    #[test]
    fn observe_parse_multipart_time_wait_and_info() {
        let mut tw = RawMsg::v4(TcpState::TimeWait);
        tw.timer = 3;
        tw.expires = 59_000;
        let mut est = RawMsg::v4(TcpState::Established);
        est.dport = 40001;
        let mut info = vec![0u8; 232];
        info[0] = TcpState::Established.as_u8();
        info[8..12].copy_from_slice(&204_000u32.to_ne_bytes());
        est.attrs.push((8, vec![0])); // INET_DIAG_SHUTDOWN, ignored
        est.attrs.push((INET_DIAG_INFO, info));

        // Two datagrams, the first carrying two messages and a stale one from another dump.
        let mut first = nlmsg(SOCK_DIAG_BY_FAMILY, MULTI, 3, &tw.payload());
        first.extend(nlmsg(SOCK_DIAG_BY_FAMILY, MULTI, 2, &est.payload()));
        first.extend(nlmsg(SOCK_DIAG_BY_FAMILY, MULTI, 3, &est.payload()));
        let second = nlmsg(NLMSG_DONE, MULTI, 3, &0i32.to_ne_bytes());

        let mut out = Vec::new();
        let mut intr = false;
        assert_eq!(
            parse_datagram(&first, 3, &mut out, &mut intr).unwrap(),
            Step::More
        );
        assert_eq!(
            parse_datagram(&second, 3, &mut out, &mut intr).unwrap(),
            Step::Done
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].state, TcpState::TimeWait);
        assert_eq!(out[0].timer_kind(), TimerKind::TimeWait);
        assert_eq!(
            out[0].expires_ms, 59_000,
            "the crate's Timer::TimeWait drops this"
        );
        let info = out[1].tcp_info.as_ref().expect("INET_DIAG_INFO");
        assert_eq!(info.state, TcpState::Established);
        assert_eq!(info.rto_us, 204_000);
        assert_eq!(info.reported_len, 232);

        // NLM_F_DUMP_INTR on any message marks the dump inconsistent.
        let mut out = Vec::new();
        let buf = nlmsg(
            SOCK_DIAG_BY_FAMILY,
            MULTI | NLM_F_DUMP_INTR,
            4,
            &est.payload(),
        );
        assert_eq!(
            parse_datagram(&buf, 4, &mut out, &mut intr).unwrap(),
            Step::More
        );
        assert!(intr);
    }

    #[test]
    fn observe_parse_errors() {
        // NLMSG_ERROR carries -errno and the offending request's header.
        let mut payload = (-libc::EINVAL).to_ne_bytes().to_vec();
        payload.extend(nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 9, &[]));
        let buf = nlmsg(NLMSG_ERROR, 0, 9, &payload);
        let err = parse_datagram(&buf, 9, &mut Vec::new(), &mut false).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL));

        // A dump that fails part-way ends with a negative NLMSG_DONE code.
        let buf = nlmsg(NLMSG_DONE, MULTI, 9, &(-libc::ENOBUFS).to_ne_bytes());
        let err = parse_datagram(&buf, 9, &mut Vec::new(), &mut false).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOBUFS));

        // Truncated inet_diag_msg and truncated netlink header.
        let buf = nlmsg(SOCK_DIAG_BY_FAMILY, MULTI, 9, &[AF_INET, 1, 0, 0]);
        let err = parse_datagram(&buf, 9, &mut Vec::new(), &mut false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let err = parse_datagram(&buf[..10], 9, &mut Vec::new(), &mut false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn observe_state_set() {
        let s = StateSet::only(TcpState::Listen).with(TcpState::SynRecv);
        assert_eq!(s.bits(), 1 << 10 | 1 << 3);
        assert!(s.contains(TcpState::Listen) && !s.contains(TcpState::Established));
        let all = StateSet::all();
        assert!(TcpState::ALL.iter().all(|t| all.contains(*t)));
        assert!(!all.contains(TcpState::Unknown(13)) && !all.contains(TcpState::Unknown(0)));
        assert_eq!(TcpState::ALL.into_iter().collect::<StateSet>(), all);
    }

    // ---- live dumps in a private namespace ----

    fn sockaddr_of(addr: SocketAddr) -> SockaddrStorage {
        SockaddrStorage::from(addr)
    }

    /// A listener with an exact backlog; std's `TcpListener::bind` always asks for 128.
    fn listener(addr: SocketAddr, backlog: i32) -> (OwnedFd, SocketAddr) {
        let family = match addr {
            SocketAddr::V4(_) => AddressFamily::Inet,
            SocketAddr::V6(_) => AddressFamily::Inet6,
        };
        let fd = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None).unwrap();
        bind(fd.as_raw_fd(), &sockaddr_of(addr)).unwrap();
        listen(&fd, Backlog::new(backlog).unwrap()).unwrap();
        let local: SockaddrStorage = nix::sys::socket::getsockname(fd.as_raw_fd()).unwrap();
        let local = match (local.as_sockaddr_in(), local.as_sockaddr_in6()) {
            (Some(v4), _) => SocketAddr::from(SocketAddrV4::from(*v4)),
            (_, Some(v6)) => SocketAddr::from(SocketAddrV6::from(*v6)),
            _ => unreachable!(),
        };
        (fd, local)
    }

    fn only_listener(diag: &mut Diag, port: u16) -> DiagSocket {
        let ls = diag.listeners(port).unwrap();
        let [l] = &ls[..] else {
            panic!("expected one listener on {port}: {ls:?}")
        };
        l.clone()
    }

    fn accept_queue(addr: &str) {
        let _ns = NetnsGuard::enter();
        let (lfd, laddr) = listener(addr.parse().unwrap(), 2);
        let mut diag = Diag::new().unwrap();

        let l = only_listener(&mut diag, laddr.port());
        assert_eq!(l.state, TcpState::Listen);
        assert_eq!(l.src, laddr);
        assert_eq!(
            (l.accept_queue_len(), l.accept_queue_limit()),
            (Some(0), Some(2))
        );
        assert_eq!(l.tcp_info.as_ref().map(|i| i.state), Some(TcpState::Listen));

        let clients: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(laddr).unwrap()).collect();
        // Each client is ESTABLISHED when connect() returns; the server-side child is queued
        // when the client's ACK is processed, which on loopback may trail slightly.
        wait_for("3 connections in the accept queue", WAIT, || {
            let l = only_listener(&mut diag, laddr.port());
            (l.accept_queue_len() == Some(3)).then_some(())
        });
        assert_eq!(
            only_listener(&mut diag, laddr.port()).accept_queue_limit(),
            Some(2)
        );

        let (afd, peer) = accept(lfd.as_raw_fd())
            .map(|fd| {
                // SAFETY: accept() returned a fresh descriptor we now own.
                let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
                let peer: SockaddrStorage = nix::sys::socket::getpeername(fd.as_raw_fd()).unwrap();
                (fd, peer)
            })
            .unwrap();
        assert_eq!(
            only_listener(&mut diag, laddr.port()).accept_queue_len(),
            Some(2)
        );

        // The accepted connection, found from both ends by its 4-tuple.
        let client = clients
            .iter()
            .find(|c| sockaddr_of(c.local_addr().unwrap()) == peer)
            .expect("accepted peer is one of our clients");
        let caddr = client.local_addr().unwrap();
        let server_side = diag.find(laddr, caddr).unwrap().expect("server side");
        let client_side = diag.find(caddr, laddr).unwrap().expect("client side");
        for s in [&server_side, &client_side] {
            assert_eq!(s.state, TcpState::Established);
            assert_eq!(s.tcp_info.as_ref().unwrap().state, TcpState::Established);
            assert_ne!(s.inode, 0);
            assert_eq!(
                s.family,
                if laddr.is_ipv4() {
                    AddressFamily::Inet
                } else {
                    AddressFamily::Inet6
                }
            );
        }
        assert_eq!(cookie(afd.as_fd()), server_side.cookie);
        assert_eq!(cookie(client.as_fd()), client_side.cookie);
        assert_ne!(server_side.cookie, client_side.cookie);
        // The same sockets by a hash lookup; for unknown endpoints the lookup falls back to
        // the listener, as for an arriving segment, and finds nothing on a port without one.
        let looked_up = diag.lookup(laddr, caddr).unwrap().expect("server side");
        assert_eq!(
            (looked_up.state, looked_up.cookie),
            (TcpState::Established, server_side.cookie)
        );
        // Port 1 is never an ephemeral port, so no client has it.
        let mut stranger = caddr;
        stranger.set_port(1);
        let fallback = diag.lookup(laddr, stranger).unwrap().expect("the listener");
        assert_eq!((fallback.state, fallback.src), (TcpState::Listen, laddr));
        let mut nowhere = laddr;
        nowhere.set_port(1);
        assert_eq!(diag.lookup(nowhere, stranger).unwrap(), None);
        // Not-yet-accepted children are full sockets in the established table too.
        let established = diag
            .dump(
                if laddr.is_ipv4() {
                    AddressFamily::Inet
                } else {
                    AddressFamily::Inet6
                },
                StateSet::only(TcpState::Established),
            )
            .unwrap();
        assert_eq!(
            established.len(),
            6,
            "3 clients + 3 children: {established:#?}"
        );
    }

    fn cookie(fd: std::os::fd::BorrowedFd<'_>) -> u64 {
        let mut v = 0u64;
        let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
        // SAFETY: SO_COOKIE writes a u64 into `v`.
        let rc = unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                57, // SO_COOKIE
                (&mut v as *mut u64).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0, "SO_COOKIE: {}", io::Error::last_os_error());
        v
    }

    #[test]
    fn observe_diag_accept_queue_v4() {
        accept_queue("127.0.0.1:0");
    }

    #[test]
    fn observe_diag_accept_queue_v6() {
        accept_queue("[::1]:0");
    }

    fn time_wait(addr: &str) {
        let _ns = NetnsGuard::enter();
        let listener = TcpListener::bind(addr).unwrap();
        let laddr = listener.local_addr().unwrap();
        let mut diag = Diag::new().unwrap();

        let client = TcpStream::connect(laddr).unwrap();
        let caddr = client.local_addr().unwrap();
        let (mut server, _) = listener.accept().unwrap();

        // The client closes first: FIN_WAIT2 once the server ACKs its FIN. Closing the
        // descriptor orphans it, and an orphaned FIN_WAIT2 connection becomes a mini socket
        // with the TIME_WAIT timer but state FIN_WAIT2.
        drop(client);
        let fw2 = wait_for("client in FIN_WAIT2", WAIT, || {
            diag.find(caddr, laddr)
                .unwrap()
                .filter(|s| s.state == TcpState::FinWait2)
        });
        assert_eq!(fw2.timer_kind(), TimerKind::TimeWait);
        assert_eq!(fw2.tcp_info, None, "mini sockets carry no tcp_info");
        let srv = diag.find(laddr, caddr).unwrap().expect("server side");
        assert_eq!(srv.state, TcpState::CloseWait);

        // Then the server closes: the client, having received the FIN, is in TIME_WAIT.
        let mut buf = [0u8; 1];
        assert_eq!(server.read(&mut buf).unwrap(), 0);
        server.shutdown(Shutdown::Write).unwrap();
        let tw = wait_for("client in TIME_WAIT", WAIT, || {
            diag.find(caddr, laddr)
                .unwrap()
                .filter(|s| s.state == TcpState::TimeWait)
        });
        assert_eq!(tw.timer_kind(), TimerKind::TimeWait);
        assert!(
            tw.expires_ms > 0 && tw.expires_ms <= 60_000,
            "TIME_WAIT expiry {} ms",
            tw.expires_ms
        );
        assert_eq!(tw.cookie, fw2.cookie, "the same mini socket moved on");
        let listed = diag
            .dump(
                if laddr.is_ipv4() {
                    AddressFamily::Inet
                } else {
                    AddressFamily::Inet6
                },
                StateSet::only(TcpState::TimeWait),
            )
            .unwrap();
        assert_eq!(listed.len(), 1, "{listed:#?}");
        // The server side got its last ACK and left the lookup tables; its descriptor, still
        // open, reads CLOSE, and inet_diag can only list sockets it finds in those tables.
        wait_for("server side gone", WAIT, || {
            diag.find(laddr, caddr).unwrap().is_none().then_some(())
        });
    }

    #[test]
    fn observe_diag_time_wait_v4() {
        time_wait("127.0.0.1:0");
    }

    #[test]
    fn observe_diag_time_wait_v6() {
        time_wait("[::1]:0");
    }

    /// A request socket on loopback: with TCP_DEFER_ACCEPT the listener ignores the client's
    /// bare handshake ACK, so the connection stays a SYN_RECV request until data arrives,
    /// while the client already considers itself ESTABLISHED.
    #[test]
    fn observe_diag_syn_recv_with_defer_accept() {
        let _ns = NetnsGuard::enter();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let laddr = listener.local_addr().unwrap();
        // nix has no wrapper for TCP_DEFER_ACCEPT. 5 s keeps the request waiting for data
        // well past the first SYN-ACK timer, so nothing below races a retransmission.
        let secs: libc::c_int = 5;
        // SAFETY: TCP_DEFER_ACCEPT reads one int from `secs`.
        let rc = unsafe {
            libc::setsockopt(
                listener.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_DEFER_ACCEPT,
                (&secs as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "TCP_DEFER_ACCEPT: {}", io::Error::last_os_error());
        let mut diag = Diag::new().unwrap();

        let mut client = TcpStream::connect(laddr).unwrap();
        let caddr = client.local_addr().unwrap();
        let req = wait_for("request socket", WAIT, || diag.find(laddr, caddr).unwrap());
        assert_eq!(req.state, TcpState::SynRecv);
        assert_eq!(req.timer_kind(), TimerKind::Retransmit);
        assert_eq!(req.retransmits, 0, "no SYN-ACK retransmitted yet");
        assert!(req.expires_ms > 0, "SYN-ACK timer pending");
        assert_eq!(req.tcp_info, None);
        assert_eq!((req.recv_q, req.send_q, req.inode), (0, 0, 0));
        let l = only_listener(&mut diag, laddr.port());
        assert_eq!(
            l.accept_queue_len(),
            Some(0),
            "a request is not in the accept queue"
        );
        // Only the SYN_RECV filter shows it.
        let syn_recv = diag
            .dump(AddressFamily::Inet, StateSet::only(TcpState::SynRecv))
            .unwrap();
        assert_eq!(syn_recv.len(), 1);
        let est = diag
            .dump(AddressFamily::Inet, StateSet::only(TcpState::Established))
            .unwrap();
        assert_eq!(est.len(), 1, "only the client: {est:#?}");

        // Data completes the handshake on the server side.
        client.write_all(b"x").unwrap();
        let (_server, _) = listener.accept().unwrap();
        let full = diag.find(laddr, caddr).unwrap().expect("server side");
        assert_eq!(full.state, TcpState::Established);
        assert_ne!(full.cookie, 0);
    }

    #[test]
    fn observe_diag_rejects_other_families() {
        let _ns = NetnsGuard::enter();
        let mut diag = Diag::new().unwrap();
        let err = diag.dump(AddressFamily::Unix, StateSet::all()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        // And the socket still works afterwards, in an empty namespace.
        assert!(diag
            .dump(AddressFamily::Inet, StateSet::all())
            .unwrap()
            .is_empty());
        assert!(diag
            .dump(AddressFamily::Inet6, StateSet::all())
            .unwrap()
            .is_empty());
    }
}
