//! A small synchronous inet_diag (`ss`-style) client.
//!
//! [`socket`] holds what a dump reports, [`wire`] the netlink messages it travels in; this file
//! the exchange with the kernel: requests, deadlines and abandoned dumps.

mod socket;
mod wire;

pub use socket::{DiagSocket, StateSet, TimerKind};

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use netlink_packet_core::{
    Emitable, NetlinkHeader, NetlinkMessage, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_sock_diag::constants::{
    AF_INET, IPPROTO_TCP, SOCK_DESTROY, SOCK_DIAG_BY_FAMILY,
};
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use netlink_sys::Socket;
use nix::sys::socket::{setsockopt, sockopt, AddressFamily};
use nix::sys::time::TimeVal;

use super::tcp_info::TcpState;
use socket::same_endpoint;
use wire::{exact, family_byte, invalid, parse_datagram, DumpProgress};

/// How long one `recv` may block. The kernel answers a dump from the caller's own context, so
/// a silent socket means something is wrong, not slow.
const RECV_TIMEOUT: Duration = Duration::from_secs(2);
/// Bound on a whole dump, so a kernel that kept streaming could not hold a test forever.
const DUMP_DEADLINE: Duration = Duration::from_secs(10);
/// Netlink dump skbs are capped near 32 KiB; twice that means a datagram is never truncated.
const RECV_BUF_LEN: usize = 64 * 1024;
/// How often a dump the kernel flags as inconsistent (`NLM_F_DUMP_INTR`) is retried.
const DUMP_ATTEMPTS: usize = 3;
/// The kernel's answer to a request about one exact socket.
enum Answer {
    Socket(Box<DiagSocket>),
    /// It ended the exchange (an ACK, or the end of a dump) without naming a socket.
    Done,
    /// ENOENT: no socket on those endpoints.
    NoSuchSocket,
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
        // The answer is one message: the socket, or NLMSG_ERROR with ENOENT.
        let kind = SOCK_DIAG_BY_FAMILY;
        match self.one_socket(kind, local, remote, NLM_F_REQUEST, "inet_diag")? {
            Answer::Socket(s) => Ok(Some(*s)),
            Answer::Done | Answer::NoSuchSocket => Ok(None),
        }
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
        let flags = NLM_F_REQUEST | NLM_F_ACK;
        match self.one_socket(SOCK_DESTROY, local, remote, flags, "SOCK_DESTROY")? {
            Answer::Socket(_) | Answer::Done => Ok(true),
            Answer::NoSuchSocket => Ok(false),
        }
    }

    /// Sends a request of type `kind` about the one socket on exactly these endpoints (a
    /// lookup, or `SOCK_DESTROY`) and reads the kernel's answer, `what` naming it if none
    /// comes.
    fn one_socket(
        &mut self,
        kind: u16,
        local: SocketAddr,
        remote: SocketAddr,
        flags: u16,
        what: &str,
    ) -> io::Result<Answer> {
        let (family, socket_id) = exact(local, remote)?;
        if self.dirty {
            self.drain()?;
        }
        self.dirty = true;
        let seq = self.send_as(kind, family, StateSet::all(), socket_id, flags)?;
        let mut found = Vec::new();
        let mut interrupted = false;
        let deadline = Instant::now() + DUMP_DEADLINE;
        let result = loop {
            let n = self.recv()?;
            match parse_datagram(&self.buf[..n], seq, &mut found, &mut interrupted) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => break Ok(Answer::NoSuchSocket),
                Err(e) => break Err(e),
                Ok(_) if !found.is_empty() => {
                    break Ok(Answer::Socket(Box::new(found.pop().expect("not empty"))))
                }
                Ok(DumpProgress::Done) => break Ok(Answer::Done),
                Ok(DumpProgress::More) if Instant::now() > deadline => {
                    break Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no {what} answer within {DUMP_DEADLINE:?}"),
                    ))
                }
                Ok(DumpProgress::More) => {}
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
        let flags = NLM_F_REQUEST | NLM_F_DUMP;
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
            if parse_datagram(&self.buf[..n], seq, &mut sockets, &mut interrupted)?
                == DumpProgress::Done
            {
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

#[cfg(test)]
mod tests;
