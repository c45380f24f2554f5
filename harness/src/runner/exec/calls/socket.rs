//! The calls that make, connect and end sockets: socket(), bind(), listen(), accept(),
//! connect(), shutdown(), close().

use std::net::Shutdown;

use nix::errno::Errno;

use super::{Op, Ret, Started};
use crate::differ::Call;
use crate::runner::exec::{Exec, Step};
use crate::runner::packet::SCRIPT_PORT;
use crate::scenario::Event;
use crate::stack::CallError;
use crate::trace::EventKind;

fn done(ret: Ret) -> Step<Started> {
    Ok(Started::Done(ret))
}

impl Exec<'_> {
    /// `v6`: `None` for the run's own family.
    pub(super) fn socket(&mut self, v6: Option<bool>, nonblocking: bool) -> Step<Started> {
        let v6 = v6.unwrap_or(self.v6 || self.mapped);
        let r = self.stack.socket(v6);
        if let Ok(fd) = r {
            self.model(fd, Call::Socket);
            self.nonblocking.insert(fd, nonblocking);
            // A number the kernel reuses: no deferred Fast Open connect() of an old socket.
            self.note_fast_open_connect(fd, false);
            if nonblocking {
                let _ = self.stack.set_nonblocking(fd, true);
            }
        }
        let new_fd = r.as_ref().ok().copied();
        let mut ret = Ret::from(r, |f| i64::from(f.0));
        ret.new_fd = new_fd;
        done(ret)
    }

    /// `to`: an address the script names (the wildcard, say) instead of the stack's.
    pub(super) fn bind(
        &mut self,
        ev: &Event,
        fd: i64,
        to: Option<std::net::SocketAddr>,
    ) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        // run_syscall_bind: always the stack's address and live_bind_port.
        let addr = match to {
            Some(a) => self.socket_addr(a.ip(), a.port()),
            None => self.socket_addr(self.peer_ip(0), SCRIPT_PORT),
        };
        let r = self.stack.bind(fd, addr);
        if r.is_ok() {
            self.model(fd, Call::Bind { port: SCRIPT_PORT });
        }
        done(Ret::from(r, |_| 0))
    }

    pub(super) fn listen(&mut self, ev: &Event, fd: i64, backlog: i32) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        let r = self.stack.listen(fd, backlog);
        if r.is_ok() {
            self.listen_epoch += 1;
            self.model(fd, Call::Listen { backlog });
        }
        done(Ret::from(r, |_| 0))
    }

    pub(super) fn accept(&mut self, ev: &Event, fd: i64) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        self.attempt(Op::Accept(fd), fd)
    }

    /// `to`: an address the script names instead of the peer's.
    pub(super) fn connect(
        &mut self,
        ev: &Event,
        fd: i64,
        to: Option<std::net::SocketAddr>,
    ) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        self.connecting = true;
        let addr = match to {
            Some(a) => self.socket_addr(a.ip(), a.port()),
            None => self.peer_addr(),
        };
        let r = self.stack.connect(fd, addr);
        if matches!(r, Ok(()) | Err(CallError::Errno(Errno::EINPROGRESS))) {
            let call = if self.fast_open_deferred.contains(&fd) {
                // TCP_FASTOPEN_CONNECT: a connect() that returns 0 at once sent no SYN.
                Call::FastOpenConnect {
                    peer: addr,
                    deferred: r.is_ok(),
                }
            } else {
                Call::Connect { peer: addr }
            };
            self.model(fd, call);
        }
        match r {
            Err(CallError::Errno(Errno::EINPROGRESS)) if self.is_blocking(fd) => {
                Ok(Started::Blocked(Op::Connect(fd)))
            }
            r => done(Ret::from(r, |_| 0)),
        }
    }

    pub(super) fn shutdown(&mut self, ev: &Event, fd: i64, how: Shutdown) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        let r = self.stack.shutdown(fd, how);
        if r.is_ok() {
            let read = matches!(how, Shutdown::Read | Shutdown::Both);
            let write = matches!(how, Shutdown::Write | Shutdown::Both);
            self.model(fd, Call::Shutdown { read, write });
        }
        done(Ret::from(r, |_| 0))
    }

    /// `n`: the script's descriptor.
    pub(super) fn close(&mut self, ev: &Event, n: i64) -> Step<Started> {
        if self.files.remove(&n).is_some() {
            return done(Ret::ok(0));
        }
        let fd = self.fd_arg(ev, n)?;
        if let Some(p) = self.pending.as_mut().filter(|p| p.op.fd() == fd) {
            // The blocked call holds the file: closing the descriptor only takes the
            // number away, and the socket lives until the call returns.
            p.closed = true;
            self.fds.remove(&n);
            self.stack.note(EventKind::Note {
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
            self.note_fast_open_connect(fd, false);
        }
        done(Ret::from(r, |_| 0))
    }
}
