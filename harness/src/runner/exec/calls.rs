//! System calls: packetdrill's run_system_call.c over [`LinuxStack`]'s non-blocking
//! descriptors, with the kernel's blocking semantics.
//!
//! packetdrill runs a call written with `...end` on a second thread, where it blocks as any
//! call on a blocking socket does, while the main thread goes on with later events. Here the
//! call is started, parked as [`Pending`] when it would block, and retried whenever
//! something could complete it (after every injected packet, and every millisecond while
//! waiting), which gives its completion time to within a millisecond. The retries keep what
//! a blocking call can return:
//!
//! - a blocking `write()` returns once all its data is queued, or, when the connection
//!   fails, with the count queued before (the error if none was): never a short count while
//!   the connection stands, never `EAGAIN` (Linux `tcp_sendmsg_locked()`). After its first
//!   attempt it takes more data only when poll() says `POLLOUT`, the condition
//!   (`__sk_stream_is_writeable()`) under which the kernel wakes a writer blocked for
//!   send-buffer space, so the data enters the send queue when it would in the kernel;
//! - closing a descriptor another call is blocked on does not end that call: the call holds
//!   the file, so the socket stays open until the call returns, and closes then. A blocking
//!   `connect()` closed while it waits still returns `ETIMEDOUT` or `ECONNREFUSED`.

use std::net::SocketAddr;
use std::time::Duration;

use nix::errno::Errno;

use super::{Exec, Step};
use crate::differ::{Blocking, Call};
use crate::runner::annotate;
use crate::runner::packet::{self, SCRIPT_PORT};
use crate::runner::syscall::{self, Decoded, Expected};
use crate::scenario::{Action, Event, EventTime, Syscall};
use crate::stack::linux::Fd;
use crate::stack::{CallError, SockOpt, Stack, TcpState, Wait};
use crate::trace::EventKind;

/// A blocking call that has not returned yet.
pub(super) struct Pending {
    pub event: usize,
    pub op: Op,
    /// Script-live time it must return at (`None`: a call without `...end` that blocks,
    /// which in packetdrill blocks the whole interpreter).
    pub end: Option<i64>,
    pub start: i64,
    pub expected: Expected,
    /// The script closed the descriptor while the call was blocked on it: the socket closes
    /// when the call returns.
    pub closed: bool,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Op {
    Accept(Fd),
    Connect(Fd),
    Read(Fd, usize),
    /// `len` bytes asked for, `queued` of them taken by the kernel so far.
    Write {
        fd: Fd,
        len: usize,
        queued: usize,
    },
}

impl Op {
    fn fd(self) -> Fd {
        match self {
            Op::Accept(fd) | Op::Connect(fd) | Op::Read(fd, _) | Op::Write { fd, .. } => fd,
        }
    }

    /// What the model judges of its return.
    fn blocking(self) -> Blocking {
        match self {
            Op::Accept(_) => Blocking::Accept,
            Op::Connect(_) => Blocking::Connect,
            Op::Read(..) => Blocking::Read,
            Op::Write { len, .. } => Blocking::Write { len: len as u64 },
        }
    }
}

/// What a call returned, as the script sees it.
pub(super) struct Ret {
    value: i64,
    errno: Option<Errno>,
    new_fd: Option<Fd>,
}

/// What the model needs of a call's result beyond [`Ret`].
fn accepted(r: &Result<(Fd, SocketAddr), CallError>) -> Option<(i32, SocketAddr)> {
    r.as_ref().ok().map(|(f, a)| (f.0, *a))
}

impl Ret {
    fn ok(value: i64) -> Ret {
        Ret {
            value,
            errno: None,
            new_fd: None,
        }
    }

    fn err(e: Errno) -> Ret {
        Ret {
            value: -1,
            errno: Some(e),
            new_fd: None,
        }
    }

    fn from<T>(r: Result<T, CallError>, value: impl FnOnce(T) -> i64) -> Ret {
        match r {
            Ok(v) => Ret::ok(value(v)),
            Err(CallError::Errno(e)) => Ret::err(e),
            Err(CallError::Deadline) => Ret::err(Errno::ETIMEDOUT),
        }
    }

    fn show(&self) -> String {
        match self.errno {
            Some(e) => format!("-1 {e:?} ({})", e.desc()),
            None => self.value.to_string(),
        }
    }

    /// The count returned, or the errno, for the model.
    fn result(&self) -> Result<u64, Errno> {
        match self.errno {
            Some(e) => Err(e),
            None => Ok(self.value.max(0) as u64),
        }
    }
}

enum Started {
    Done(Ret),
    Blocked(Op),
}

impl Exec<'_> {
    fn fd_arg(&self, ev: &Event, n: i64) -> Step<Fd> {
        self.fds
            .get(&n)
            .copied()
            .ok_or_else(|| self.error_at(ev.span, format!("unable to find fd with script fd {n}")))
    }

    fn peer_addr(&self) -> SocketAddr {
        self.socket_addr(packet::peer_ip(self.v6, 1), SCRIPT_PORT)
    }

    /// An address as the script's sockets name it: IPv4-mapped on an IPv6 socket.
    fn socket_addr(&self, ip: std::net::IpAddr, port: u16) -> SocketAddr {
        match ip {
            std::net::IpAddr::V4(v4) if self.mapped => {
                SocketAddr::new(std::net::IpAddr::V6(v4.to_ipv6_mapped()), port)
            }
            _ => SocketAddr::new(ip, port),
        }
    }

    fn is_blocking(&self, fd: Fd) -> bool {
        !self.nonblocking.get(&fd).copied().unwrap_or(false)
    }

    pub(super) fn syscall(
        &mut self,
        index: usize,
        ev: &Event,
        sc: &Syscall,
        t: i64,
        end: Option<i64>,
    ) -> Step {
        // validate() decoded every call before the run started; this cannot fail on a
        // script that got here, and says the same if it does.
        let (call, expected) =
            syscall::decode(sc).map_err(|b| self.error_at(ev.span, b.message))?;
        let started = self.start_call(ev, call)?;
        match started {
            Started::Done(ret) => {
                self.finish_call(ev, sc, &expected, ret, t, end)?;
            }
            Started::Blocked(op) => {
                if self.pending.is_some() {
                    return Err(self.error_at(
                        ev.span,
                        "this call blocks while another blocking call is in progress: two \
                         blocked calls at once are not supported yet",
                    ));
                }
                self.pending = Some(Pending {
                    event: index,
                    op,
                    end,
                    start: t,
                    expected,
                    closed: false,
                });
                if end.is_none() {
                    // packetdrill's interpreter itself blocks in such a call.
                    let limit = self.now_us() + self.opts.hang_limit.as_micros() as i64;
                    self.pump_while_pending(limit)?;
                    if self.pending.take().is_some() {
                        return Err(self.fail(
                            ev,
                            format!("still blocked after {:?}", self.opts.hang_limit),
                            "the call blocked (packetdrill would hang here)",
                        ));
                    }
                }
            }
        }
        let out = self.stack.settle()?;
        self.distribute(out);
        self.poll_pending()
    }

    /// Checks a returned call against the script: result, errno (`end_syscall`), then the
    /// return time of a blocking call.
    fn finish_call(
        &mut self,
        ev: &Event,
        sc: &Syscall,
        expected: &Expected,
        ret: Ret,
        t: i64,
        end: Option<i64>,
    ) -> Step {
        let now = self.now_us();
        let shown = format!("returned {} at {} sec", ret.show(), super::fmt_secs(now));
        annotate::call(self.stack.sandbox_mut(), ev, sc, &ret.show());
        let fd_call = matches!(sc.name.as_str(), "socket" | "accept");
        if fd_call && expected.result >= 0 {
            if ret.value < 0 {
                return Err(self.fail(ev, shown, "expected a non-negative result"));
            }
        } else if ret.value != expected.result {
            return Err(self.fail(ev, shown, format!("expected result {}", expected.result)));
        }
        if let (Some(want), Some(written)) = (expected.errno, &sc.errno) {
            if ret.errno != Some(want) {
                return Err(self.fail(ev, shown, format!("expected errno {}", written.name)));
            }
        }
        if let (true, Some(fd)) = (fd_call, ret.new_fd) {
            if self.fds.insert(expected.result, fd).is_some() {
                return Err(self.error_at(
                    ev.span,
                    format!("duplicate fd {} in script", expected.result),
                ));
            }
        }
        if let Some(end) = end {
            let time = match ev.time {
                EventTime::Absolute(_) => EventTime::Absolute(0),
                _ => EventTime::Relative(0),
            };
            if let Err(m) = self.verify_time(time, end, end, now, Some(t), "system call return") {
                return Err(self.fail(ev, shown, m));
            }
        }
        Ok(())
    }

    pub(super) fn poll_pending(&mut self) -> Step {
        let Some(p) = &self.pending else {
            return Ok(());
        };
        let (mut op, index, end, start, expected) = (p.op, p.event, p.end, p.start, p.expected);
        let ret = self.try_op(&mut op)?;
        if let Some(p) = &mut self.pending {
            p.op = op;
        }
        let Some(ret) = ret else {
            return Ok(());
        };
        let closed = self.pending.take().is_some_and(|p| p.closed);
        let ev = &self.script.events[index];
        self.returned(op, &ret, ev.span.line);
        let Action::Syscall(sc) = &ev.action else {
            unreachable!("pending calls come from syscall events")
        };
        // A call without `...end` is checked by the caller that waits for it.
        let checked = self.finish_call(ev, sc, &expected, ret, start, end);
        if closed {
            // The last reference to the file goes with the call: the socket closes now.
            let fd = op.fd();
            if self.stack.close(fd).is_ok() {
                self.model(fd, Call::Close);
                self.nonblocking.remove(&fd);
            }
        }
        checked
    }

    /// Tells the model what a call on a blocking socket returned; `line` is the call's own,
    /// which later events may have passed while it was blocked.
    fn returned(&mut self, op: Op, ret: &Ret, line: u32) {
        let now = self.stack.now().saturating_sub(self.start);
        let call = Call::BlockingReturn {
            call: op.blocking(),
            result: ret.result(),
        };
        if let Some(d) = &mut self.differ {
            d.call(now, line, op.fd().0, call);
        }
    }

    /// One attempt at a parked call; `None` while it would still block. Attempts that
    /// changed nothing are removed from the trace so it shows the call once.
    fn try_op(&mut self, op: &mut Op) -> Step<Option<Ret>> {
        let mark = self.stack.sandbox().trace().events.len();
        let progress_before = match *op {
            Op::Write { queued, .. } => queued,
            _ => 0,
        };
        let ret = match *op {
            Op::Accept(fd) => match self.stack.accept(fd, Wait::No) {
                Err(CallError::Errno(Errno::EAGAIN)) => None,
                r => {
                    let accepted = accepted(&r);
                    if accepted.is_some() {
                        self.model(fd, Call::Accept { accepted });
                    }
                    let new_fd = r.as_ref().ok().map(|(f, _)| *f);
                    let mut ret = Ret::from(r, |(f, _)| i64::from(f.0));
                    ret.new_fd = new_fd;
                    Some(ret)
                }
            },
            Op::Read(fd, max) => match self.stack.read(fd, max, Wait::No) {
                Err(CallError::Errno(Errno::EAGAIN)) => None,
                r => {
                    if let Ok(d) = &r {
                        let len = Some(d.len() as u64);
                        let asked = max as u64;
                        self.model(fd, Call::Read { asked, len });
                    }
                    Some(Ret::from(r, |d| d.len() as i64))
                }
            },
            Op::Connect(fd) => match self.stack.take_error(fd) {
                Ok(Some(e)) => Some(Ret::err(e)),
                Err(e) => Some(Ret::from::<()>(Err(e), |_| 0)),
                Ok(None) => match self.stack.tcp_info(fd)?.state {
                    TcpState::SynSent => None,
                    // The handshake may have failed between the two reads (the SYN timer
                    // sets the error, then closes): read the error again now that the
                    // state has moved on.
                    _ => match self.stack.take_error(fd) {
                        Ok(Some(e)) => Some(Ret::err(e)),
                        _ => Some(Ret::ok(0)),
                    },
                },
            },
            Op::Write { fd, .. } => match self.stack.writable(fd) {
                Ok(true) => self.write_some(op),
                Ok(false) => None,
                Err(e) => Some(Ret::from::<()>(Err(e), |_| 0)),
            },
        };
        let progress = match *op {
            Op::Write { queued, .. } => queued,
            _ => 0,
        };
        if ret.is_none() && progress == progress_before {
            self.stack.sandbox_mut().trace_mut().events.truncate(mark);
        }
        Ok(ret)
    }

    /// A blocking write's next step: as much of the rest as the kernel takes now. `None`
    /// while data is left and the connection stands.
    fn write_some(&mut self, op: &mut Op) -> Option<Ret> {
        let Op::Write { fd, len, queued } = op else {
            unreachable!("only writes write")
        };
        // packetdrill writes zeros (alloc_buffer with set_zero).
        let data = vec![0; *len - *queued];
        match self.stack.write(*fd, &data) {
            Ok(n) => {
                *queued += n;
                let fd = *fd;
                // At most MAX_IO_BYTES.
                self.model(
                    fd,
                    Call::Write {
                        len: u32::try_from(n).unwrap_or(u32::MAX),
                    },
                );
                (*queued == *len).then(|| Ret::ok(*len as i64))
            }
            Err(CallError::Errno(Errno::EAGAIN)) => None,
            // tcp_sendmsg_locked(): an error after some data was copied returns the count.
            Err(_) if *queued > 0 => Some(Ret::ok(*queued as i64)),
            Err(e) => Some(Ret::from::<()>(Err(e), |_| 0)),
        }
    }

    fn start_call(&mut self, ev: &Event, call: Decoded) -> Step<Started> {
        let done = |r| Ok(Started::Done(r));
        match call {
            Decoded::Socket { v6, nonblocking } => {
                let v6 = v6.unwrap_or(self.v6 || self.mapped);
                let r = self.stack.socket(v6);
                if let Ok(fd) = r {
                    self.model(fd, Call::Socket);
                    self.nonblocking.insert(fd, nonblocking);
                    if nonblocking {
                        let _ = self.stack.set_nonblocking(fd, true);
                    }
                }
                let new_fd = r.as_ref().ok().copied();
                let mut ret = Ret::from(r, |f| i64::from(f.0));
                ret.new_fd = new_fd;
                done(ret)
            }
            Decoded::Bind { fd } => {
                let fd = self.fd_arg(ev, fd)?;
                // run_syscall_bind: always the stack's address and live_bind_port.
                let addr = self.socket_addr(packet::peer_ip(self.v6, 0), SCRIPT_PORT);
                let r = self.stack.bind(fd, addr);
                if r.is_ok() {
                    self.model(fd, Call::Bind { port: SCRIPT_PORT });
                }
                done(Ret::from(r, |_| 0))
            }
            Decoded::Listen { fd, backlog } => {
                let fd = self.fd_arg(ev, fd)?;
                let r = self.stack.listen(fd, backlog);
                if r.is_ok() {
                    self.listen_epoch += 1;
                    self.model(fd, Call::Listen { backlog });
                }
                done(Ret::from(r, |_| 0))
            }
            Decoded::Accept { fd } => {
                let fd = self.fd_arg(ev, fd)?;
                self.attempt(Op::Accept(fd), fd)
            }
            Decoded::Connect { fd } => {
                let fd = self.fd_arg(ev, fd)?;
                self.connecting = true;
                let addr = self.peer_addr();
                let r = self.stack.connect(fd, addr);
                if matches!(r, Ok(()) | Err(CallError::Errno(Errno::EINPROGRESS))) {
                    self.model(fd, Call::Connect { peer: addr });
                }
                match r {
                    Err(CallError::Errno(Errno::EINPROGRESS)) if self.is_blocking(fd) => {
                        Ok(Started::Blocked(Op::Connect(fd)))
                    }
                    r => done(Ret::from(r, |_| 0)),
                }
            }
            Decoded::Read { fd, len } => {
                let fd = self.fd_arg(ev, fd)?;
                self.attempt(Op::Read(fd, len), fd)
            }
            Decoded::Write { fd, len } => {
                let fd = self.fd_arg(ev, fd)?;
                if self.is_blocking(fd) {
                    let mut op = Op::Write { fd, len, queued: 0 };
                    return Ok(match self.write_some(&mut op) {
                        Some(ret) => {
                            self.returned(op, &ret, ev.span.line);
                            Started::Done(ret)
                        }
                        None => Started::Blocked(op),
                    });
                }
                let data = vec![0; len];
                let r = self.stack.write(fd, &data);
                if let Ok(n) = r {
                    // At most MAX_IO_BYTES.
                    self.model(
                        fd,
                        Call::Write {
                            len: u32::try_from(n).unwrap_or(u32::MAX),
                        },
                    );
                }
                done(Ret::from(r, |n| n as i64))
            }
            Decoded::Shutdown { fd, how } => {
                let fd = self.fd_arg(ev, fd)?;
                let r = self.stack.shutdown(fd, how);
                if r.is_ok() {
                    use std::net::Shutdown;
                    let read = matches!(how, Shutdown::Read | Shutdown::Both);
                    let write = matches!(how, Shutdown::Write | Shutdown::Both);
                    self.model(fd, Call::Shutdown { read, write });
                }
                done(Ret::from(r, |_| 0))
            }
            Decoded::Close { fd: n } => {
                let fd = self.fd_arg(ev, n)?;
                if let Some(p) = self.pending.as_mut().filter(|p| p.op.fd() == fd) {
                    // The blocked call holds the file: closing the descriptor only takes the
                    // number away, and the socket lives until the call returns.
                    p.closed = true;
                    self.fds.remove(&n);
                    self.stack.sandbox_mut().note(EventKind::Note {
                        text: format!(
                            "close({fd}) while a call is blocked on it: the socket closes \
                             when that call returns"
                        ),
                    });
                    return done(Ret::ok(0));
                }
                let r = self.stack.close(fd);
                if r.is_ok() {
                    self.model(fd, Call::Close);
                    self.fds.remove(&n);
                    self.nonblocking.remove(&fd);
                }
                done(Ret::from(r, |_| 0))
            }
            Decoded::SetSockOpt { fd, opt } => {
                let fd = self.fd_arg(ev, fd)?;
                let r = self.stack.setsockopt(fd, opt);
                if r.is_ok() {
                    self.model(fd, model_option(opt));
                }
                done(Ret::from(r, |_| 0))
            }
            Decoded::GetError { fd, expected } => {
                let fd = self.fd_arg(ev, fd)?;
                let r = self.stack.take_error(fd);
                if let Ok(got) = &r {
                    let got = got.map_or(0, |e| e as i64);
                    if got != expected {
                        let actual = format!("SO_ERROR {got} ({})", got_desc(got));
                        return Err(self.fail(
                            ev,
                            actual,
                            format!("bad getsockopt optval: expected {expected}"),
                        ));
                    }
                }
                done(Ret::from(r, |_| 0))
            }
            Decoded::GetFlags { fd } => {
                let fd = self.fd_arg(ev, fd)?;
                let nb = !self.is_blocking(fd);
                let flags = libc::O_RDWR as i64 | if nb { libc::O_NONBLOCK as i64 } else { 0 };
                done(Ret::ok(flags))
            }
            Decoded::SetFlags { fd, nonblocking } => {
                let fd = self.fd_arg(ev, fd)?;
                let r = self.stack.set_nonblocking(fd, nonblocking);
                if r.is_ok() {
                    self.nonblocking.insert(fd, nonblocking);
                }
                done(Ret::from(r, |_| 0))
            }
        }
    }

    /// First attempt at a call that may block: parked when the script's socket is blocking.
    fn attempt(&mut self, op: Op, fd: Fd) -> Step<Started> {
        let mut op = op;
        match self.try_op(&mut op)? {
            Some(ret) => {
                if self.is_blocking(fd) {
                    self.returned(op, &ret, self.line);
                }
                Ok(Started::Done(ret))
            }
            None if self.is_blocking(fd) => Ok(Started::Blocked(op)),
            None => {
                match op {
                    Op::Accept(_) => self.model(fd, Call::Accept { accepted: None }),
                    Op::Read(_, max) => self.model(
                        fd,
                        Call::Read {
                            asked: max as u64,
                            len: None,
                        },
                    ),
                    Op::Connect(_) | Op::Write { .. } => {}
                }
                Ok(Started::Done(Ret::err(Errno::EAGAIN)))
            }
        }
    }
}

/// What a socket option means to the model.
fn model_option(opt: SockOpt) -> Call {
    match opt {
        SockOpt::Linger(l) => Call::Linger {
            abort_on_close: l == Some(Duration::ZERO),
        },
        SockOpt::UserTimeout(t) => Call::UserTimeout((!t.is_zero()).then_some(t)),
        SockOpt::KeepAlive(on) => Call::KeepAlive(on),
        SockOpt::KeepIdle(d) => Call::KeepAliveTimes {
            idle: Some(d),
            interval: None,
            probes: None,
        },
        SockOpt::KeepInterval(d) => Call::KeepAliveTimes {
            idle: None,
            interval: Some(d),
            probes: None,
        },
        SockOpt::KeepCount(n) => Call::KeepAliveTimes {
            idle: None,
            interval: None,
            probes: Some(n),
        },
        // The window, segment sizes under the MSS and when a delayed ACK goes are the
        // stack's choice within what the model already allows.
        _ => Call::Harmless,
    }
}

fn got_desc(errno: i64) -> &'static str {
    if errno == 0 {
        return "no error";
    }
    i32::try_from(errno).map_or("unknown error", |e| Errno::from_raw(e).desc())
}
