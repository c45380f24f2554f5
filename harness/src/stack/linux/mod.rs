//! The Linux kernel's TCP, in a [`Sandbox`], driven through real sockets.

mod syscalls;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::PollFlags;
use tcpcheck_model::wire::{ChecksumPolicy, IpRepr, SegmentRepr};

use tcpcheck_model::profile::Profile;

pub use super::Fd;
use super::{CallError, CallResult, Capabilities, Capability, Reference, SockOpt, Stack, Wait};
use crate::observe::diag::{Diag, DiagSocket, StateSet};
use crate::observe::{tcp_info, TcpInfo, TcpState};
use crate::sandbox::{Packet, Sandbox, SandboxConfig};
use crate::trace::{EventKind, TraceEvent};

struct Socket {
    fd: OwnedFd,
    nonblocking: bool,
}

/// The Linux kernel's TCP in a private network namespace of its own ([`Sandbox`]): real
/// time, raw packets through a TUN device, real sockets, and the kernel's own views of its
/// connections (TCP_INFO, inet_diag, sysctls) as optional capabilities.
pub struct LinuxStack {
    sockets: HashMap<Fd, Socket>,
    /// Listening sockets and their addresses, whose queues are observed after each step.
    listeners: Vec<(Fd, SocketAddr)>,
    /// The last queue observation recorded, so that only changes reach the trace.
    last_queues: String,
    /// Peers that sent a listener a SYN (listener address, peer address), in order, while
    /// they may have a request socket.
    syn_senders: Vec<(SocketAddr, SocketAddr)>,
    /// The SYN-ACKs each request socket has retransmitted, as last looked up.
    requests: HashMap<(SocketAddr, SocketAddr), u8>,
    /// Something since the last lookup may have changed a SYN queue.
    requests_stale: bool,
    /// The endpoints of every connected socket the script closed: the kernel may keep the
    /// connection going without a descriptor (see [`LinuxStack::end_check`]).
    closed: Vec<(SocketAddr, SocketAddr)>,
    /// Opened on first use: most checks never look at the connection table.
    diag: Option<Diag>,
    /// A setting was changed: the model's numbers must be read again, not taken from a fresh
    /// namespace's.
    settings_changed: bool,
    /// The sandbox serves IPv6.
    ipv6: bool,
    // Last: sockets and the diag socket close before the sandbox leaves the namespace.
    sandbox: Sandbox,
}

impl LinuxStack {
    /// A kernel stack in a fresh sandbox on the calling thread.
    pub fn new() -> io::Result<LinuxStack> {
        LinuxStack::with_config(SandboxConfig::default())
    }

    /// A kernel stack in a fresh sandbox set up as `config` says (IPv4 alone is cheaper).
    pub fn with_config(config: SandboxConfig) -> io::Result<LinuxStack> {
        let sandbox = Sandbox::with_config(config)?;
        Ok(LinuxStack {
            sockets: HashMap::new(),
            listeners: Vec::new(),
            last_queues: String::new(),
            syn_senders: Vec::new(),
            requests: HashMap::new(),
            requests_stale: false,
            closed: Vec::new(),
            diag: None,
            settings_changed: false,
            ipv6: config.ipv6,
            sandbox,
        })
    }

    /// The namespace and its TUN device.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Ends everything the check made, so nothing of it outlives it: every open socket is
    /// closed with `SO_LINGER {1, 0}` (a RST at once instead of an orphan), and every
    /// connection the kernel may still hold in the namespace after that (one the script
    /// closed itself, left in FIN_WAIT_1, LAST_ACK, CLOSING or TIME_WAIT; a request socket)
    /// is destroyed through inet_diag (`SOCK_DESTROY`, as `ss -K`). Those are looked up by
    /// their endpoints, known from the close and from the SYNs injected: a listener closes
    /// its unaccepted children itself, and a linger-0 close leaves nothing. An orphan keeps
    /// retransmitting into a TUN nobody reads for one to two minutes and, being a full
    /// socket, keeps its network namespace alive all that while; thousands of short checks
    /// would leave thousands of namespaces for the kernel to tear down later, slowing
    /// everything after them. Nothing is recorded: the check is over.
    ///
    /// [`LinuxStack::end_check`] for a caller with nothing to do about a failed cleanup.
    pub fn abort_all(&mut self) {
        let _ = self.end_check();
    }

    /// See [`LinuxStack::abort_all`]. Returns how many connections were left after the
    /// descriptors closed (and were destroyed), or the error that stopped the cleanup: no
    /// verdict depends on it, but a cleanup that cannot run should not go unnoticed.
    pub fn end_check(&mut self) -> io::Result<usize> {
        for (_, s) in self.sockets.drain() {
            let _ = syscalls::set_linger(s.fd.as_fd(), Some(Duration::ZERO));
        }
        self.listeners.clear();
        let mut left = std::mem::take(&mut self.closed);
        left.append(&mut self.syn_senders);
        let mut destroyed = 0;
        for (local, remote) in left {
            if self.diag()?.destroy(local, remote)? {
                destroyed += 1;
            }
        }
        Ok(destroyed)
    }

    /// Whether a write on `fd` would take data now: poll()'s `POLLOUT`, which for TCP is the
    /// condition under which the kernel wakes a writer blocked for send-buffer space
    /// (`__sk_stream_is_writeable()`), so a blocking write made of non-blocking ones takes
    /// its data when the kernel's own would.
    pub fn writable(&self, fd: Fd) -> CallResult<bool> {
        let sock = self.sock(fd)?;
        Ok(syscalls::wait(
            sock.fd.as_fd(),
            PollFlags::POLLOUT,
            std::time::Instant::now(),
        )?)
    }

    /// The namespace and its TUN device, to change.
    pub fn sandbox_mut(&mut self) -> &mut Sandbox {
        &mut self.sandbox
    }

    fn sock(&self, fd: Fd) -> CallResult<&Socket> {
        self.sockets.get(&fd).ok_or(CallError::Errno(Errno::EBADF))
    }

    fn adopt(&mut self, fd: OwnedFd) -> Fd {
        // Like the kernel, hand out the lowest free number.
        let mut n = 3;
        while self.sockets.contains_key(&Fd(n)) {
            n += 1;
        }
        self.sockets.insert(
            Fd(n),
            Socket {
                fd,
                nonblocking: false,
            },
        );
        Fd(n)
    }

    /// Runs a non-blocking call on socket `fd`.
    fn on_socket<T>(
        &mut self,
        fd: Fd,
        op: impl FnOnce(BorrowedFd<'_>) -> Result<T, Errno>,
    ) -> CallResult<T> {
        self.sock(fd).and_then(|s| Ok(op(s.fd.as_fd())?))
    }

    /// Records each listener's accept and SYN queue lengths, as the kernel reports them, as
    /// an [`EventKind::Observation`] beside the segments when they changed since the last
    /// record: the kernel's own numbers, not the harness's bookkeeping.
    ///
    /// - The accept queue and the backlog in force (after the `somaxconn` cap) come from
    ///   `TCP_INFO` on the listener, where Linux reports `sk_ack_backlog` as `tcpi_unacked`
    ///   and `sk_max_ack_backlog` as `tcpi_sacked` (net/ipv4/tcp.c `tcp_get_info()`), the
    ///   same fields inet_diag reports as the listener's queues (`tcp_diag_get_info()`).
    /// - The SYN queue is the request sockets (SYN_RECV) inet_diag finds for the peers that
    ///   sent the listener a SYN, with the SYN-ACKs each has retransmitted (`idiag_retrans`).
    ///   A cookie leaves no request, so it never counts.
    ///
    /// Both are looked up, not dumped: a dump of request sockets walks the whole established
    /// hash, which a namespace shares with the host, and took 0.25 to 0.7 ms here (9 ms on a
    /// loaded machine), long enough to shift the script's relative times; a lookup by
    /// endpoints is a hash probe. The lookups run only after a step that can change a SYN
    /// queue ([`LinuxStack::note_injected`]); a request that expires on its own shows
    /// at the next such step.
    fn observe_queues(&mut self) -> io::Result<()> {
        if self.listeners.is_empty() {
            return Ok(());
        }
        if self.requests_stale {
            self.refresh_requests()?;
        }
        let mut text = String::new();
        for &(fd, addr) in &self.listeners {
            let Some(sock) = self.sockets.get(&fd) else {
                continue;
            };
            let info = tcp_info(sock.fd.as_fd())?;
            let requests: Vec<u8> = self
                .syn_senders
                .iter()
                .filter(|(local, _)| *local == addr)
                .filter_map(|key| self.requests.get(key).copied())
                .collect();
            if !text.is_empty() {
                text.push_str("; ");
            }
            let _ = write!(
                text,
                "listener {addr}: accept queue {} (backlog {}), SYN queue {}",
                info.unacked,
                info.sacked,
                requests.len()
            );
            if requests.iter().any(|&r| r > 0) {
                let shown: Vec<String> = requests.iter().map(u8::to_string).collect();
                let _ = write!(text, " (SYN-ACKs retransmitted {})", shown.join(","));
            }
        }
        if text != self.last_queues {
            self.sandbox
                .note(EventKind::Observation { text: text.clone() });
            self.last_queues = text;
        }
        Ok(())
    }

    /// The inet_diag socket, opened on first use.
    fn diag(&mut self) -> io::Result<&mut Diag> {
        if self.diag.is_none() {
            self.diag = Some(Diag::new()?);
        }
        Ok(self.diag.as_mut().expect("opened above"))
    }

    /// Looks up every peer that sent a listener a SYN; keeps those that still have a request
    /// socket, forgets the others (their handshake completed, was reset or expired, or got a
    /// cookie).
    fn refresh_requests(&mut self) -> io::Result<()> {
        self.requests.clear();
        let mut still = Vec::new();
        let senders = self.syn_senders.clone();
        for &(local, remote) in &senders {
            if let Some(s) = self.diag()?.lookup(local, remote)? {
                if s.state == TcpState::SynRecv {
                    self.requests.insert((local, remote), s.retransmits);
                    still.push((local, remote));
                }
            }
        }
        self.syn_senders = still;
        self.requests_stale = false;
        Ok(())
    }

    /// Notes what an injected packet means for the listeners' queues: a SYN to a listening
    /// address adds a peer whose request to look up; any segment without data, or with SYN or
    /// RST, to a listening port may complete, reset or repeat a handshake, so the requests
    /// are looked up again after the step.
    fn note_injected(&mut self, packet: &[u8]) {
        let Ok(seg) = SegmentRepr::parse_with(packet, ChecksumPolicy::Accept) else {
            return;
        };
        let t = &seg.tcp;
        let (src, dst): (IpAddr, IpAddr) = match &seg.ip {
            IpRepr::V4(ip) => (ip.src.into(), ip.dst.into()),
            IpRepr::V6(ip) => (ip.src.into(), ip.dst.into()),
        };
        let remote = SocketAddr::new(src, t.src_port);
        let Some(&(_, local)) = self
            .listeners
            .iter()
            .find(|(_, a)| a.port() == t.dst_port && (a.ip() == dst || a.ip().is_unspecified()))
        else {
            return;
        };
        if t.flags.syn() && !t.flags.ack() {
            if !self.syn_senders.contains(&(local, remote)) {
                self.syn_senders.push((local, remote));
            }
            self.requests_stale = true;
        } else if t.flags.rst() || (t.payload.is_empty() && !t.flags.fin()) {
            self.requests_stale = true;
        }
    }

    /// Retries `op` while it says EAGAIN, polling for `events`, until the wait's deadline.
    fn blocking<T>(
        &self,
        fd: Fd,
        wait: Wait,
        events: PollFlags,
        mut op: impl FnMut(&Socket) -> Result<T, Errno>,
    ) -> CallResult<T> {
        let sock = self.sock(fd)?;
        loop {
            match op(sock) {
                Err(Errno::EAGAIN) => {}
                other => return other.map_err(CallError::Errno),
            }
            let deadline = match (wait, sock.nonblocking) {
                (Wait::Until(d), false) => self.sandbox.instant_at(d),
                _ => return Err(CallError::Errno(Errno::EAGAIN)),
            };
            if !syscalls::wait(sock.fd.as_fd(), events, deadline)? {
                return Err(CallError::Deadline);
            }
        }
    }
}

impl Stack for LinuxStack {
    fn name(&self) -> String {
        match std::fs::read_to_string("/proc/sys/kernel/osrelease") {
            Ok(release) => format!("linux {}", release.trim()),
            Err(_) => "linux".to_string(),
        }
    }

    fn capabilities(&self) -> Capabilities {
        // Everything: the capabilities were named after what this stack offers. IPv6 only
        // when the sandbox was set up for it.
        let all = Capabilities::all();
        if self.ipv6 {
            all
        } else {
            all.without(Capability::Ipv6)
        }
    }

    fn reference(&self) -> Reference {
        // The corpus was written against Linux.
        Reference::Scripts
    }

    fn profile(&mut self) -> Result<Profile, String> {
        if self.settings_changed {
            crate::differ::profile::read_linux(&self.sandbox)
        } else {
            crate::differ::profile::fresh_linux(&self.sandbox)
        }
    }

    fn now(&self) -> Duration {
        self.sandbox.now()
    }

    fn socket(&mut self, v6: bool) -> CallResult<Fd> {
        let family = if v6 {
            std::net::IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
        } else {
            std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
        };
        syscalls::socket(family)
            .map(|fd| {
                // CUBIC on every socket, whatever the namespace's default (an IPv4-only
                // sandbox leaves the host's, and BBR paces: see Sandbox::with_config).
                // Accepted sockets inherit it from the listener.
                if syscalls::set_congestion(fd.as_fd(), "cubic").is_err() {
                    let _ = syscalls::set_congestion(fd.as_fd(), "reno");
                }
                self.adopt(fd)
            })
            .map_err(CallError::from)
    }

    fn bind(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()> {
        self.on_socket(fd, |f| syscalls::bind(f, addr))
    }

    fn listen(&mut self, fd: Fd, backlog: i32) -> CallResult<()> {
        let result = self.on_socket(fd, |f| syscalls::listen(f, backlog));
        if result.is_ok() {
            if let Ok(addr) = self
                .sock(fd)
                .and_then(|s| Ok(syscalls::local_addr(s.fd.as_fd())?))
            {
                self.listeners.retain(|(f, _)| *f != fd);
                self.listeners.push((fd, addr));
                self.requests_stale = true;
            }
        }
        result
    }

    fn accept(&mut self, fd: Fd, wait: Wait) -> CallResult<(Fd, SocketAddr)> {
        self.blocking(fd, wait, PollFlags::POLLIN, |s| {
            syscalls::accept(s.fd.as_fd())
        })
        .map(|(owned, peer)| (self.adopt(owned), peer))
    }

    fn connect(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()> {
        self.on_socket(fd, |f| syscalls::connect(f, addr))
    }

    fn write(&mut self, fd: Fd, data: &[u8]) -> CallResult<usize> {
        self.sock(fd)
            .and_then(|s| Ok(syscalls::write(s.fd.as_fd(), data)?))
    }

    fn read(&mut self, fd: Fd, max: usize, wait: Wait) -> CallResult<Vec<u8>> {
        self.blocking(fd, wait, PollFlags::POLLIN, |s| {
            syscalls::read(s.fd.as_fd(), max)
        })
    }

    fn shutdown(&mut self, fd: Fd, how: Shutdown) -> CallResult<()> {
        self.on_socket(fd, |f| syscalls::shutdown(f, how))
    }

    fn close(&mut self, fd: Fd) -> CallResult<()> {
        if let Some(ends) = self.sockets.get(&fd).and_then(|s| {
            let fd = s.fd.as_fd();
            Some((
                syscalls::local_addr(fd).ok()?,
                syscalls::peer_addr(fd).ok()?,
            ))
        }) {
            self.closed.push(ends);
        }
        // Dropping the OwnedFd closes it; close() on a socket does not fail on Linux.
        let result = self
            .sockets
            .remove(&fd)
            .map(drop)
            .ok_or(CallError::Errno(Errno::EBADF));
        self.listeners.retain(|(f, _)| *f != fd);
        result
    }

    fn setsockopt(&mut self, fd: Fd, opt: SockOpt) -> CallResult<()> {
        self.on_socket(fd, |f| match (opt, int_option(opt)) {
            (SockOpt::Linger(l), _) => syscalls::set_linger(f, l),
            (_, Some((level, name, value))) => syscalls::set_int(f, level, name, value),
            (_, None) => Err(Errno::ENOPROTOOPT),
        })
    }

    fn take_error(&mut self, fd: Fd) -> CallResult<Option<Errno>> {
        self.sock(fd).and_then(|s| {
            let e = syscalls::get_int(s.fd.as_fd(), libc::SOL_SOCKET, libc::SO_ERROR)?;
            Ok((e != 0).then(|| Errno::from_raw(e)))
        })
    }

    fn getsockopt(&mut self, fd: Fd, opt: super::GetOpt) -> CallResult<i64> {
        let (level, name) = match opt {
            super::GetOpt::MaxSeg => (libc::SOL_TCP, libc::TCP_MAXSEG),
            super::GetOpt::SendBuffer => (libc::SOL_SOCKET, libc::SO_SNDBUF),
            super::GetOpt::RecvBuffer => (libc::SOL_SOCKET, libc::SO_RCVBUF),
            super::GetOpt::NoDelay => (libc::SOL_TCP, libc::TCP_NODELAY),
        };
        self.sock(fd)
            .and_then(|s| Ok(i64::from(syscalls::get_int(s.fd.as_fd(), level, name)?)))
    }

    fn set_nonblocking(&mut self, fd: Fd, on: bool) -> CallResult<()> {
        // The descriptor itself stays non-blocking (nothing may hang the harness); the flag
        // decides whether calls wait for their deadline.
        match self.sockets.get_mut(&fd) {
            Some(s) => {
                s.nonblocking = on;
                Ok(())
            }
            None => Err(CallError::Errno(Errno::EBADF)),
        }
    }

    fn writable(&mut self, fd: Fd) -> CallResult<bool> {
        LinuxStack::writable(self, fd)
    }

    fn inject(&mut self, packet: &[u8]) -> io::Result<()> {
        self.note_injected(packet);
        self.sandbox.inject(packet)
    }

    fn settle(&mut self) -> io::Result<Vec<Packet>> {
        let packets = self.sandbox.settle()?;
        self.observe_queues()?;
        Ok(packets)
    }

    fn next_packet(&mut self, deadline: Duration) -> io::Result<Option<Packet>> {
        self.sandbox.next_packet(deadline)
    }

    fn state(&mut self, fd: Fd) -> io::Result<TcpState> {
        Ok(Stack::tcp_info(self, fd)?.state)
    }

    fn tcp_info(&mut self, fd: Fd) -> io::Result<TcpInfo> {
        let sock = self
            .sockets
            .get(&fd)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no socket {fd}")))?;
        Ok(tcp_info(sock.fd.as_fd())?)
    }

    fn connections(&mut self) -> io::Result<Vec<DiagSocket>> {
        self.diag()?.dump_all(StateSet::all())
    }

    fn state_at(&mut self, local: SocketAddr, remote: SocketAddr) -> io::Result<Option<TcpState>> {
        // A hash probe, not a dump (see `observe_queues`).
        Ok(self.diag()?.lookup(local, remote)?.map(|s| s.state))
    }

    fn setting(&mut self, name: &str) -> io::Result<String> {
        self.sandbox.sysctl(name)
    }

    fn set_setting(&mut self, name: &str, value: &str) -> io::Result<String> {
        self.settings_changed = true;
        self.sandbox.write_sysctl(name, value)
    }

    fn settings_touched(&mut self) {
        self.settings_changed = true;
    }

    fn end(&mut self) -> io::Result<usize> {
        self.end_check()
    }

    fn raw_fd(&self, fd: Fd) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.sockets.get(&fd).map(|s| s.fd.as_raw_fd())
    }

    fn take_log(&mut self) -> Vec<TraceEvent> {
        // The sandbox records the packets too, for its own users; through the seam the
        // recorder records those itself.
        std::mem::take(&mut self.sandbox.trace_mut().events)
            .into_iter()
            .filter(|e| {
                !matches!(
                    e.kind,
                    EventKind::Injected { .. } | EventKind::Captured { .. }
                )
            })
            .collect()
    }
}

/// The level, name and int value of an option; `None` for SO_LINGER, which takes a struct.
fn int_option(opt: SockOpt) -> Option<(i32, i32, i32)> {
    let int = |v: u128| v.min(i32::MAX as u128) as i32;
    let (sol, tcp) = (libc::SOL_SOCKET, libc::IPPROTO_TCP);
    Some(match opt {
        SockOpt::ReuseAddr(on) => (sol, libc::SO_REUSEADDR, i32::from(on)),
        SockOpt::KeepAlive(on) => (sol, libc::SO_KEEPALIVE, i32::from(on)),
        SockOpt::RecvBuffer(n) => (sol, libc::SO_RCVBUF, int(n.into())),
        SockOpt::SendBuffer(n) => (sol, libc::SO_SNDBUF, int(n.into())),
        SockOpt::NoDelay(on) => (tcp, libc::TCP_NODELAY, i32::from(on)),
        SockOpt::QuickAck(on) => (tcp, libc::TCP_QUICKACK, i32::from(on)),
        SockOpt::UserTimeout(d) => (tcp, libc::TCP_USER_TIMEOUT, int(d.as_millis())),
        SockOpt::MaxSeg(mss) => (tcp, libc::TCP_MAXSEG, i32::from(mss)),
        SockOpt::KeepIdle(d) => (tcp, libc::TCP_KEEPIDLE, int(d.as_secs().into())),
        SockOpt::KeepInterval(d) => (tcp, libc::TCP_KEEPINTVL, int(d.as_secs().into())),
        SockOpt::KeepCount(n) => (tcp, libc::TCP_KEEPCNT, int(n.into())),
        SockOpt::Linger(_) => return None,
    })
}
