//! System calls: packetdrill's run_system_call.c over the [`Stack`]'s non-blocking
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
//!
//! [`Exec::start_call`] runs each call through its own function: `calls/socket.rs` for the
//! calls that make, connect and end sockets, `calls/data.rs` for read() and write(),
//! `calls/options.rs` for options and flags, `calls/blocking.rs` for a call that waits.

mod blocking;
mod data;
mod fast_open;
mod linux;
mod options;
mod socket;
mod timestamping;

use std::net::SocketAddr;

use nix::errno::Errno;

use super::{Exec, Step, Stop};
use crate::runner::annotate;
use crate::runner::packet::SCRIPT_PORT;
use crate::runner::syscall::{self, Decoded, Expected};
use crate::runner::Check;
use crate::scenario::{Event, EventTime, Syscall};
use crate::stack::{CallError, Capability, Fd};
use crate::trace::EventKind;

use blocking::Op;
pub(super) use blocking::Pending;

/// What a call returned, as the script sees it.
pub(super) struct Ret {
    value: i64,
    errno: Option<Errno>,
    new_fd: Option<Fd>,
    /// The model was told this answer in a form it judges (differ/calls.rs): a failure of
    /// the script's check on it is then one the model has a rule on.
    judged: bool,
    /// The stack refused the call for lack of this: the line is not applicable.
    unsupported: Option<Capability>,
    /// What the call returned besides its count that differs from the script (a `poll`'s
    /// `revents`, a control message, an option's value): what it was, and the check.
    mismatch: Option<(String, String)>,
    /// A descriptor the call made that is no socket of the stack (`epoll_create`).
    new_file: Option<std::os::fd::OwnedFd>,
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
            judged: false,
            unsupported: None,
            mismatch: None,
            new_file: None,
        }
    }

    fn err(e: Errno) -> Ret {
        Ret {
            value: -1,
            errno: Some(e),
            new_fd: None,
            judged: false,
            unsupported: None,
            mismatch: None,
            new_file: None,
        }
    }

    fn from<T>(r: Result<T, CallError>, value: impl FnOnce(T) -> i64) -> Ret {
        match r {
            Ok(v) => Ret::ok(value(v)),
            Err(CallError::Errno(e)) => Ret::err(e),
            Err(CallError::Deadline) => Ret::err(Errno::ETIMEDOUT),
            Err(CallError::Unsupported(c)) => Ret {
                unsupported: Some(c),
                ..Ret::err(Errno::EOPNOTSUPP)
            },
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
        self.socket_addr(self.peer_ip(1), SCRIPT_PORT)
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

    pub(in crate::runner::exec) fn syscall(
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
        let started = self.start_call(ev, index, call)?;
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
                            Check::Other,
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
        if let Some(c) = ret.unsupported {
            return Err(Stop::NotApplicable(c));
        }
        let now = self.now_us();
        let shown = format!("returned {} at {} sec", ret.show(), super::fmt_secs(now));
        annotate::call(&mut self.stack, ev, sc, &ret.show());
        let fd_call = matches!(
            sc.name.as_str(),
            "socket" | "accept" | "epoll_create" | "open"
        );
        let returned = || Check::CallReturn {
            call: sc.name.clone(),
            judged: ret.judged,
        };
        if fd_call && expected.result >= 0 {
            if ret.value < 0 {
                let m = "expected a non-negative result";
                return Err(self.fail(ev, shown, Check::Other, m));
            }
        } else if ret.value != expected.result {
            let m = format!("expected result {}", expected.result);
            return Err(self.fail(ev, shown, returned(), m));
        }
        if let (Some(want), Some(written)) = (expected.errno, &sc.errno) {
            if ret.errno != Some(want) {
                let m = format!("expected errno {}", written.name);
                return Err(self.fail(ev, shown, returned(), m));
            }
        }
        if let Some((actual, message)) = ret.mismatch {
            return Err(self.fail(ev, actual, Check::Other, message));
        }
        if let (true, Some(fd)) = (fd_call, ret.new_fd) {
            // packetdrill accepts a number the script used before without closing it: the
            // number names the new socket from now on, the old one stays open unnamed.
            self.files.remove(&expected.result);
            self.under_test = Some(expected.result);
            if let Some(old) = self.fds.insert(expected.result, fd) {
                self.stack.note(EventKind::Note {
                    text: format!(
                        "script fd {} now names socket {fd}; socket {old} stays open",
                        expected.result
                    ),
                });
            }
        }
        if let (true, Some(file)) = (fd_call, ret.new_file) {
            self.fds.remove(&expected.result);
            self.files.insert(expected.result, file);
        }
        if let Some(end) = end {
            let time = match ev.time {
                EventTime::Absolute(_) => EventTime::Absolute(0),
                _ => EventTime::Relative(0),
            };
            if let Err(m) = self.verify_time(time, end, end, now, Some(t), "system call return") {
                let check = Check::Time { outbound: false };
                return Err(self.fail(ev, shown, check, m));
            }
        }
        Ok(())
    }

    /// Runs the call, each in its own function: done, or parked when it blocks.
    fn start_call(&mut self, ev: &Event, index: usize, call: Decoded) -> Step<Started> {
        match call {
            Decoded::Socket { v6, nonblocking } => self.socket(v6, nonblocking),
            Decoded::Bind { fd, to } => self.bind(ev, fd, to),
            Decoded::Listen { fd, backlog } => self.listen(ev, fd, backlog),
            Decoded::Accept { fd } => self.accept(ev, fd),
            Decoded::Connect { fd, to } => self.connect(ev, fd, to),
            Decoded::Read { fd, len } => self.read(ev, fd, len),
            Decoded::Write { fd, len } => self.write(ev, fd, len),
            Decoded::Shutdown { fd, how } => self.shutdown(ev, fd, how),
            Decoded::Close { fd } => self.close(ev, fd),
            Decoded::SetSockOpt { fd, opt } => self.setsockopt(ev, fd, opt),
            Decoded::GetError { fd, expected } => self.get_error(ev, fd, expected),
            Decoded::GetSockOpt { fd, opt, expected } => self.get_option(ev, fd, opt, expected),
            Decoded::GetFlags { fd } => self.get_flags(ev, fd),
            Decoded::SetFlags { fd, nonblocking } => self.set_flags(ev, fd, nonblocking),
            Decoded::Linux(call) => self.linux_call(ev, index, call),
        }
    }
}
