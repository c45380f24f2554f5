//! [`SmoltcpStack`]: the descriptor table and the engine together, and every socket call
//! mapped onto `tcp::Socket` (the crate's docs list each mapping and each gap).

use std::collections::BTreeMap;
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::time::Duration;

use nix::errno::Errno;
use smoltcp::socket::tcp::State;
use smoltcp::wire::{IpEndpoint, IpListenEndpoint};
use tcpcheck::stack::{CallError, CallResult, Capability, Fd, SockOpt, Wait};
use tcpcheck_model::wire::{ChecksumPolicy, IpRepr, SegmentRepr};

use crate::engine::{socket_addr, Engine, Panicked, Sent};
use crate::sockets::{Conn, Entry, Kind, Listener, Opts};

/// Where ephemeral ports start: IANA's dynamic range (RFC 6335), clear of the ports the
/// harness's peers use (40000 up). A fixed start, in order, keeps traces identical run to
/// run.
const EPHEMERAL_FIRST: u16 = 49152;

/// How a [`SmoltcpStack`] is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmoltcpConfig {
    /// Seeds smoltcp's random numbers (its ISNs): the same seed, the same bytes.
    pub seed: u64,
    /// Offer and answer the timestamps option (RFC 7323): smoltcp does when the
    /// application gives it a TSval generator; the adapter's counts virtual milliseconds.
    pub timestamps: bool,
}

impl SmoltcpConfig {
    /// Seed 1, timestamps on.
    pub const DEFAULT: SmoltcpConfig = SmoltcpConfig {
        seed: 1,
        timestamps: true,
    };
}

impl Default for SmoltcpConfig {
    fn default() -> Self {
        SmoltcpConfig::DEFAULT
    }
}

/// smoltcp's TCP, in this process, on a virtual clock, behind tcpcheck's socket calls.
pub struct SmoltcpStack {
    pub(crate) engine: Engine,
    pub(crate) fds: BTreeMap<Fd, Entry>,
    config: SmoltcpConfig,
    next_port: u16,
    /// The injected packet being processed was a RST from this remote to this local
    /// endpoint: a connection that closes on it was reset, not timed out.
    rst_from: Option<(SocketAddr, SocketAddr)>,
}

impl Default for SmoltcpStack {
    fn default() -> Self {
        SmoltcpStack::new(SmoltcpConfig::default())
    }
}

impl SmoltcpStack {
    /// A stack with its two addresses (192.0.2.1/24 and 2001:db8::1/64, as the Linux
    /// sandbox has them), no socket, and its clock at zero.
    pub fn new(config: SmoltcpConfig) -> SmoltcpStack {
        SmoltcpStack {
            engine: Engine::new(config.seed),
            fds: BTreeMap::new(),
            config,
            next_port: EPHEMERAL_FIRST,
            rst_from: None,
        }
    }

    /// The panic that stopped smoltcp, if one did.
    pub fn panicked(&self) -> Option<&Panicked> {
        self.engine.panicked.as_ref()
    }

    pub(crate) fn entry(&mut self, fd: Fd) -> CallResult<&mut Entry> {
        self.fds.get_mut(&fd).ok_or(CallError::Errno(Errno::EBADF))
    }

    fn ephemeral(&mut self) -> u16 {
        let p = self.next_port;
        self.next_port = if p == u16::MAX {
            EPHEMERAL_FIRST
        } else {
            p + 1
        };
        p
    }

    /// Whether binding `fd` to `addr` conflicts with another socket, by the rule
    /// applications are written against (Linux inet_csk_bind_conflict()): a socket bound to
    /// the same port and an overlapping address (either unspecified, or the same) conflicts
    /// unless both set SO_REUSEADDR and neither listens. smoltcp itself reserves no ports:
    /// a listening socket and connections on its port live side by side.
    fn port_taken(&self, addr: SocketAddr, except: Fd) -> bool {
        let reuse = self.fds.get(&except).is_some_and(|e| e.opts.reuse_addr);
        self.fds.iter().any(|(f, e)| {
            let Some(b) = e.bound.filter(|b| b.port() == addr.port()) else {
                return false;
            };
            let overlaps =
                b.ip().is_unspecified() || addr.ip().is_unspecified() || b.ip() == addr.ip();
            let shared = reuse && e.opts.reuse_addr && !matches!(e.kind, Kind::Listener(_));
            *f != except && overlaps && !shared
        })
    }

    /// A panic inside smoltcp, as a socket call's answer: `EIO`, and the panic itself comes
    /// out of the next `settle` or `next_packet` (see the crate's docs).
    fn panic_errno(_: Panicked) -> CallError {
        CallError::Errno(Errno::EIO)
    }

    /// After smoltcp ran: the listeners' queues refilled, each connection's state change
    /// turned into the error an application would read.
    pub(crate) fn after_poll(&mut self) {
        let rst = self.rst_from.take();
        let SmoltcpStack {
            engine,
            fds,
            config,
            ..
        } = self;
        for entry in fds.values_mut() {
            let opts = entry.opts;
            match &mut entry.kind {
                Kind::Fresh => {}
                Kind::Conn(c) => observe(engine, c, rst),
                Kind::Listener(l) => refill(engine, l, opts, config.timestamps),
            }
        }
    }

    /// Polls now and digests the result.
    pub(crate) fn poll(&mut self) -> Result<(), Panicked> {
        let r = self.engine.poll();
        self.after_poll();
        r
    }

    pub(crate) fn note_injected(&mut self, packet: &[u8]) {
        self.rst_from = SegmentRepr::parse_with(packet, ChecksumPolicy::Accept)
            .ok()
            .filter(|s| s.tcp.flags.rst())
            .map(|s| {
                let (src, dst): (IpAddr, IpAddr) = match &s.ip {
                    IpRepr::V4(ip) => (ip.src.into(), ip.dst.into()),
                    IpRepr::V6(ip) => (ip.src.into(), ip.dst.into()),
                };
                (
                    SocketAddr::new(dst, s.tcp.dst_port),
                    SocketAddr::new(src, s.tcp.src_port),
                )
            });
    }

    /// Runs `op` until it stops saying `EAGAIN`; on a blocking socket asked to wait, lets
    /// virtual time pass (polling at smoltcp's own deadlines) until the deadline.
    fn blocking<T>(
        &mut self,
        fd: Fd,
        wait: Wait,
        mut op: impl FnMut(&mut SmoltcpStack) -> CallResult<T>,
    ) -> CallResult<T> {
        let mut idle = 0;
        loop {
            match op(self) {
                Err(CallError::Errno(Errno::EAGAIN)) => {}
                other => return other,
            }
            let nonblocking = self.entry(fd)?.nonblocking;
            let deadline = match (wait, nonblocking) {
                (Wait::Until(d), false) => d,
                _ => return Err(CallError::Errno(Errno::EAGAIN)),
            };
            if self.engine.now() >= deadline {
                return Err(CallError::Deadline);
            }
            // Time passes; what smoltcp sends meanwhile stays queued for the harness.
            self.step(deadline, &mut idle).map_err(Self::panic_errno)?;
        }
    }

    /// One move of the virtual clock (see [`Engine::step`]), digested.
    pub(crate) fn step(&mut self, deadline: Duration, idle: &mut u32) -> Result<(), Panicked> {
        let r = self.engine.step(deadline, idle);
        self.after_poll();
        r
    }

    /// The next packet smoltcp sends by `deadline`, the clock jumping from one of smoltcp's
    /// deadlines to the next; `None` with the clock at `deadline` when nothing came.
    pub(crate) fn next_sent(&mut self, deadline: Duration) -> Result<Option<Sent>, Panicked> {
        let mut idle = 0;
        loop {
            if let Some(p) = self.engine.pop_sent() {
                return Ok(Some(p));
            }
            if self.engine.now() >= deadline {
                return Ok(None);
            }
            self.step(deadline, &mut idle)?;
        }
    }

    pub(crate) fn socket(&mut self, v6: bool) -> CallResult<Fd> {
        let mut n = 3;
        while self.fds.contains_key(&Fd(n)) {
            n += 1;
        }
        self.fds.insert(Fd(n), Entry::new(v6));
        Ok(Fd(n))
    }

    pub(crate) fn bind(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()> {
        let e = self.entry(fd)?;
        if addr.is_ipv6() != e.v6 {
            return Err(Errno::EINVAL.into());
        }
        if e.bound.is_some() || !matches!(e.kind, Kind::Fresh) {
            return Err(Errno::EINVAL.into());
        }
        if !addr.ip().is_unspecified() && !Engine::is_local(addr.ip()) {
            return Err(Errno::EADDRNOTAVAIL.into());
        }
        let port = if addr.port() == 0 {
            self.ephemeral()
        } else {
            addr.port()
        };
        if self.port_taken(SocketAddr::new(addr.ip(), port), fd) {
            return Err(Errno::EADDRINUSE.into());
        }
        self.entry(fd)?.bound = Some(SocketAddr::new(addr.ip(), port));
        Ok(())
    }

    pub(crate) fn listen(&mut self, fd: Fd, backlog: i32) -> CallResult<()> {
        let backlog = backlog.max(0) as usize;
        let e = self.entry(fd)?;
        match &mut e.kind {
            Kind::Listener(l) => {
                l.backlog = backlog;
                return Ok(());
            }
            Kind::Conn(_) => return Err(Errno::EINVAL.into()),
            Kind::Fresh => {}
        }
        let local = match e.bound {
            Some(b) => b,
            None => {
                let any = if e.v6 {
                    IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
                } else {
                    IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
                };
                let port = self.ephemeral();
                SocketAddr::new(any, port)
            }
        };
        let e = self.entry(fd)?;
        e.bound = Some(local);
        e.kind = Kind::Listener(Listener {
            local,
            backlog,
            queue: Vec::new(),
        });
        let opts = e.opts;
        let timestamps = self.config.timestamps;
        let SmoltcpStack { engine, fds, .. } = self;
        let Some(Entry {
            kind: Kind::Listener(l),
            ..
        }) = fds.get_mut(&fd)
        else {
            unreachable!("made a listener above")
        };
        engine
            .guard("listen", |eng| refill(eng, l, opts, timestamps))
            .map_err(Self::panic_errno)
    }

    pub(crate) fn accept(&mut self, fd: Fd, wait: Wait) -> CallResult<(Fd, SocketAddr)> {
        self.blocking(fd, wait, |s| s.try_accept(fd))
    }

    fn try_accept(&mut self, fd: Fd) -> CallResult<(Fd, SocketAddr)> {
        let SmoltcpStack { engine, fds, .. } = self;
        let e = fds.get_mut(&fd).ok_or(CallError::Errno(Errno::EBADF))?;
        let (v6, opts) = (e.v6, e.opts);
        let Kind::Listener(l) = &mut e.kind else {
            return Err(Errno::EINVAL.into());
        };
        let ready = l.queue.iter().position(|&h| {
            !matches!(
                engine.tcp_ref(h).state(),
                State::Listen | State::SynReceived | State::Closed
            )
        });
        let Some(i) = ready else {
            return Err(Errno::EAGAIN.into());
        };
        let h = l.queue.remove(i);
        let sock = engine.tcp_ref(h);
        let (state, local, remote) = (sock.state(), sock.local_endpoint(), sock.remote_endpoint());
        let mut c = Conn::new(h, state);
        c.local = local.map(socket_addr);
        c.remote = remote.map(socket_addr);
        c.was_connected = true;
        let peer = c.remote.ok_or(CallError::Errno(Errno::ECONNABORTED))?;
        let new = self.socket(v6)?;
        let e = self.entry(new)?;
        e.opts = opts;
        e.bound = c.local;
        e.kind = Kind::Conn(c);
        // The queue is one shorter: a listening socket may be due.
        self.after_poll();
        Ok((new, peer))
    }

    pub(crate) fn connect(&mut self, fd: Fd, addr: SocketAddr) -> CallResult<()> {
        let timestamps = self.config.timestamps;
        let e = self.entry(fd)?;
        match &mut e.kind {
            Kind::Listener(_) => return Err(Errno::EISCONN.into()),
            Kind::Conn(c) => {
                if let Some(err) = c.error.take() {
                    return Err(err.into());
                }
                return Err(match c.last {
                    State::SynSent => Errno::EALREADY,
                    State::Closed => Errno::EINVAL,
                    _ => Errno::EISCONN,
                }
                .into());
            }
            Kind::Fresh => {}
        }
        if addr.is_ipv6() != e.v6 {
            return Err(Errno::EAFNOSUPPORT.into());
        }
        let opts = e.opts;
        let bound = e.bound;
        let local_port = match bound {
            Some(b) => b.port(),
            None => self.ephemeral(),
        };
        let local_addr = bound.map(|b| b.ip()).filter(|ip| !ip.is_unspecified());
        let remote = IpEndpoint::new(addr.ip().into(), addr.port());
        let local = IpListenEndpoint {
            addr: local_addr.map(Into::into),
            port: local_port,
        };
        let r = self.engine.guard("connect", |eng| {
            let h = eng.add_socket(opts.rcvbuf, opts.sndbuf, timestamps);
            apply(eng, h, opts);
            let cx = eng.iface.context();
            let r = eng
                .sockets
                .get_mut::<smoltcp::socket::tcp::Socket>(h)
                .connect(cx, remote, local);
            (h, r)
        });
        let (h, r) = r.map_err(Self::panic_errno)?;
        if r.is_err() {
            self.engine.sockets.remove(h);
            return Err(Errno::EADDRNOTAVAIL.into());
        }
        let sock = self.engine.tcp_ref(h);
        let mut c = Conn::new(h, sock.state());
        c.local = sock.local_endpoint().map(socket_addr);
        c.remote = sock.remote_endpoint().map(socket_addr);
        let e = self.entry(fd)?;
        e.bound = c.local;
        e.kind = Kind::Conn(c);
        // The SYN leaves at once, as a kernel's does inside connect().
        self.poll().map_err(Self::panic_errno)?;
        Err(Errno::EINPROGRESS.into())
    }

    /// The connection on `fd`, or the errno a data call on anything else gets.
    fn conn(&mut self, fd: Fd) -> CallResult<&mut Conn> {
        match &mut self.entry(fd)?.kind {
            Kind::Conn(c) => Ok(c),
            Kind::Fresh | Kind::Listener(_) => Err(Errno::ENOTCONN.into()),
        }
    }

    pub(crate) fn write(&mut self, fd: Fd, data: &[u8]) -> CallResult<usize> {
        let c = self.conn(fd)?;
        if let Some(err) = c.error.take() {
            return Err(err.into());
        }
        let (h, write_shut) = (c.handle, c.write_shut);
        if write_shut {
            return Err(Errno::EPIPE.into());
        }
        let r = self
            .engine
            .guard("send", |eng| {
                let s = eng.tcp(h);
                match s.state() {
                    State::SynSent | State::SynReceived => Err(Errno::EAGAIN),
                    _ if !s.may_send() => Err(Errno::EPIPE),
                    _ => match s.send_slice(data) {
                        Ok(0) if !data.is_empty() => Err(Errno::EAGAIN),
                        Ok(n) => Ok(n),
                        Err(_) => Err(Errno::EPIPE),
                    },
                }
            })
            .map_err(Self::panic_errno)?;
        Ok(r?)
    }

    pub(crate) fn read(&mut self, fd: Fd, max: usize, wait: Wait) -> CallResult<Vec<u8>> {
        self.blocking(fd, wait, |s| s.try_read(fd, max))
    }

    fn try_read(&mut self, fd: Fd, max: usize) -> CallResult<Vec<u8>> {
        let c = self.conn(fd)?;
        let (h, read_shut, was_connected) = (c.handle, c.read_shut, c.was_connected);
        if read_shut {
            return Ok(Vec::new());
        }
        let got = self
            .engine
            .guard("recv", |eng| {
                let s = eng.tcp(h);
                let mut buf = vec![0; max];
                let mut n = 0;
                while n < max {
                    match s.recv_slice(&mut buf[n..]) {
                        Ok(0) => break,
                        Ok(k) => n += k,
                        Err(_) => break,
                    }
                }
                buf.truncate(n);
                (buf, s.state(), s.can_recv())
            })
            .map_err(Self::panic_errno)?;
        let (buf, state, _) = got;
        if !buf.is_empty() || max == 0 {
            return Ok(buf);
        }
        let c = self.conn(fd)?;
        if let Some(err) = c.error.take() {
            return Err(err.into());
        }
        match state {
            // The peer's FIN was received and everything before it read: end of file.
            State::CloseWait | State::LastAck | State::Closing | State::TimeWait => Ok(buf),
            State::Closed if was_connected => Ok(buf),
            State::Closed => Err(Errno::ENOTCONN.into()),
            _ => Err(Errno::EAGAIN.into()),
        }
    }

    pub(crate) fn shutdown(&mut self, fd: Fd, how: Shutdown) -> CallResult<()> {
        let c = self.conn(fd)?;
        let h = c.handle;
        if !c.was_connected && c.last != State::SynSent {
            return Err(Errno::ENOTCONN.into());
        }
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            c.read_shut = true;
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            c.write_shut = true;
            self.engine
                .guard("close", |eng| eng.tcp(h).close())
                .map_err(Self::panic_errno)?;
            self.poll().map_err(Self::panic_errno)?;
        }
        Ok(())
    }

    pub(crate) fn close(&mut self, fd: Fd) -> CallResult<()> {
        let e = self.fds.remove(&fd).ok_or(CallError::Errno(Errno::EBADF))?;
        let abort = e.opts.linger_abort;
        let handles: Vec<_> = match e.kind {
            Kind::Fresh => return Ok(()),
            Kind::Conn(c) => vec![c.handle],
            Kind::Listener(l) => l.queue,
        };
        let listener = handles.len() != 1 || abort;
        self.engine
            .guard("close", |eng| {
                for h in handles {
                    let s = eng.tcp(h);
                    // A listener's unaccepted connections are aborted, as a BSD listener
                    // resets its queue; a connection closes gracefully (FIN) unless
                    // SO_LINGER {1, 0} asked for an abort (RST).
                    if abort || (listener && s.state() != State::Listen) {
                        s.abort();
                    } else {
                        s.close();
                    }
                }
            })
            .map_err(Self::panic_errno)?;
        self.poll().map_err(Self::panic_errno)
    }

    pub(crate) fn setsockopt(&mut self, fd: Fd, opt: SockOpt) -> CallResult<()> {
        let e = self.entry(fd)?;
        let fresh = matches!(e.kind, Kind::Fresh);
        let o = &mut e.opts;
        match opt {
            SockOpt::ReuseAddr(on) => o.reuse_addr = on,
            SockOpt::Linger(None) => o.linger_abort = false,
            SockOpt::Linger(Some(d)) if d.is_zero() => o.linger_abort = true,
            // A close() that blocks until its FIN is acknowledged: smoltcp has no such call.
            SockOpt::Linger(Some(_)) => return Err(CallError::Unsupported(Capability::Linger)),
            SockOpt::NoDelay(on) => o.nodelay = on,
            // smoltcp's buffers are fixed when its socket is made, by connect() or listen().
            SockOpt::RecvBuffer(n) if fresh => o.rcvbuf = clamp_buffer(n),
            SockOpt::SendBuffer(n) if fresh => o.sndbuf = clamp_buffer(n),
            // Keep-alive: smoltcp probes at one interval, forever (no count, no separate
            // interval); the rest is not offered either (see the crate's docs).
            other => return Err(CallError::Unsupported(other.needs())),
        }
        let opts = *o;
        if let Kind::Conn(c) = &e.kind {
            let h = c.handle;
            self.engine
                .guard("setsockopt", |eng| apply(eng, h, opts))
                .map_err(Self::panic_errno)?;
        }
        Ok(())
    }

    pub(crate) fn take_error(&mut self, fd: Fd) -> CallResult<Option<Errno>> {
        match &mut self.entry(fd)?.kind {
            Kind::Conn(c) => Ok(c.error.take()),
            _ => Ok(None),
        }
    }

    pub(crate) fn set_nonblocking(&mut self, fd: Fd, on: bool) -> CallResult<()> {
        self.entry(fd)?.nonblocking = on;
        Ok(())
    }

    pub(crate) fn writable(&mut self, fd: Fd) -> CallResult<bool> {
        let c = self.conn(fd)?;
        if c.error.is_some() || c.write_shut {
            // poll() says POLLOUT (with POLLERR) on a failed socket: the write then fails.
            return Ok(true);
        }
        let h = c.handle;
        let s = self.engine.tcp_ref(h);
        Ok(match s.state() {
            State::SynSent | State::SynReceived => false,
            _ if !s.may_send() => true,
            _ => s.can_send(),
        })
    }

    pub(crate) fn state(&mut self, fd: Fd) -> CallResult<State> {
        let handle = match &self.entry(fd)?.kind {
            Kind::Conn(c) => c.handle,
            Kind::Listener(_) => return Ok(State::Listen),
            Kind::Fresh => return Ok(State::Closed),
        };
        Ok(self.engine.tcp_ref(handle).state())
    }
}

/// Buffer sizes smoltcp accepts: at least a byte, at most 1 GiB (its window-scale limit).
fn clamp_buffer(n: u32) -> usize {
    (n as usize).clamp(1, 1 << 30)
}

/// Applies the options smoltcp has a setter for.
fn apply(eng: &mut Engine, h: smoltcp::iface::SocketHandle, o: Opts) {
    let s = eng.tcp(h);
    s.set_nagle_enabled(!o.nodelay);
}

/// Records how a connection's state changed since the last look, and the error an
/// application would read for it: a connection that closed without the application asking
/// was refused (a RST in SYN-SENT), reset (a RST later) or timed out (no RST).
fn observe(engine: &Engine, c: &mut Conn, rst: Option<(SocketAddr, SocketAddr)>) {
    let s = engine.tcp_ref(c.handle);
    let state = s.state();
    if let (Some(l), Some(r)) = (s.local_endpoint(), s.remote_endpoint()) {
        c.local = Some(socket_addr(l));
        c.remote = Some(socket_addr(r));
    }
    if !matches!(state, State::Closed | State::SynSent | State::Listen) {
        c.was_connected = true;
    }
    if state == State::Closed && c.last != State::Closed {
        let reset = match (rst, c.local, c.remote) {
            (Some((l, r)), Some(cl), Some(cr)) => l.port() == cl.port() && r == cr,
            _ => false,
        };
        // A close the application asked for (close(), SO_LINGER abort) removed the entry:
        // only connections still held by a descriptor reach here.
        c.error = match (c.last, reset) {
            (State::SynSent, true) => Some(Errno::ECONNREFUSED),
            (State::TimeWait | State::LastAck | State::Closing, _) => None,
            (_, true) => Some(Errno::ECONNRESET),
            (_, false) => Some(Errno::ETIMEDOUT),
        };
    }
    c.last = state;
}

/// Keeps the emulated listen queue (see [`Listener`]): drops sockets that went back to
/// CLOSED, and adds a socket in LISTEN when none is and the queue has room.
fn refill(engine: &mut Engine, l: &mut Listener, opts: Opts, timestamps: bool) {
    l.queue
        .retain(|&h| engine.tcp_ref(h).state() != State::Closed);
    let listening = l
        .queue
        .iter()
        .any(|&h| engine.tcp_ref(h).state() == State::Listen);
    if listening || l.queue.len() > l.backlog {
        return;
    }
    let h = engine.add_socket(opts.rcvbuf, opts.sndbuf, timestamps);
    apply(engine, h, opts);
    let addr = (!l.local.ip().is_unspecified()).then(|| l.local.ip().into());
    let ep = IpListenEndpoint {
        addr,
        port: l.local.port(),
    };
    // LISTEN on a fresh socket with a nonzero port cannot fail.
    let _ = engine.tcp(h).listen(ep);
    l.queue.push(h);
}

impl SmoltcpStack {
    /// Ends the check: every descriptor closed and every connection smoltcp still runs
    /// aborted; returns how many were still running after the descriptors closed.
    pub(crate) fn abort_all(&mut self) -> usize {
        let fds: Vec<Fd> = self.fds.keys().copied().collect();
        for fd in fds {
            let _ = self.close(fd);
        }
        let left = self
            .engine
            .guard("abort", |eng| {
                let mut left = 0;
                for (_, sock) in eng.sockets.iter_mut() {
                    if let Some(s) =
                        <smoltcp::socket::tcp::Socket as smoltcp::socket::AnySocket>::downcast_mut(
                            sock,
                        )
                    {
                        if s.is_active() {
                            left += 1;
                            s.abort();
                        }
                    }
                }
                left
            })
            .unwrap_or(0);
        left
    }
}
