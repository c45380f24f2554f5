//! setsockopt(), getsockopt() and fcntl(): options and flags.

use std::time::Duration;

use nix::errno::Errno;

use super::{Ret, Started};
use crate::differ::Call;
use crate::runner::exec::{Exec, Step};
use crate::runner::Check;
use crate::scenario::Event;
use crate::stack::{GetOpt, SockOpt};

fn done(ret: Ret) -> Step<Started> {
    Ok(Started::Done(ret))
}

impl Exec<'_> {
    pub(super) fn setsockopt(&mut self, ev: &Event, fd: i64, opt: SockOpt) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        let r = self.stack.setsockopt(fd, opt);
        if r.is_ok() {
            self.model(fd, model_option(opt));
        }
        done(Ret::from(r, |_| 0))
    }

    /// getsockopt(SO_ERROR), which also checks the value against the script's `[expected]`.
    pub(super) fn get_error(&mut self, ev: &Event, fd: i64, expected: i64) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        let r = self.stack.take_error(fd);
        if let Ok(got) = &r {
            let got = got.map_or(0, |e| e as i64);
            if got != expected {
                let actual = format!("SO_ERROR {got} ({})", got_desc(got));
                return Err(self.fail(
                    ev,
                    actual,
                    Check::Other,
                    format!("bad getsockopt optval: expected {expected}"),
                ));
            }
        }
        done(Ret::from(r, |_| 0))
    }

    /// getsockopt() of an integer option, checked against the script's `[expected]` as
    /// packetdrill checks it (`bad getsockopt optval`).
    pub(super) fn get_option(
        &mut self,
        ev: &Event,
        fd: i64,
        opt: GetOpt,
        expected: i64,
    ) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        let r = self.stack.getsockopt(fd, opt);
        if let Ok(got) = r {
            if got != expected {
                let (_, name) = opt.names();
                return Err(self.fail(
                    ev,
                    format!("{name} {got}"),
                    Check::Other,
                    format!("bad getsockopt optval: expected {expected}"),
                ));
            }
        }
        done(Ret::from(r, |_| 0))
    }

    /// fcntl(F_GETFL).
    pub(super) fn get_flags(&mut self, ev: &Event, fd: i64) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        let nb = !self.is_blocking(fd);
        let flags = libc::O_RDWR as i64 | if nb { libc::O_NONBLOCK as i64 } else { 0 };
        done(Ret::ok(flags))
    }

    /// fcntl(F_SETFL).
    pub(super) fn set_flags(&mut self, ev: &Event, fd: i64, nonblocking: bool) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        let r = self.stack.set_nonblocking(fd, nonblocking);
        if r.is_ok() {
            self.nonblocking.insert(fd, nonblocking);
        }
        done(Ret::from(r, |_| 0))
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
