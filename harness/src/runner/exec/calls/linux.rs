//! The calls made on the kernel descriptor ([`crate::stack::Capability::LinuxCalls`]):
//! send and receive with flags and messages, options the seam does not name, `ioctl`,
//! `poll` and `epoll`. Each is the kernel's own system call on the descriptor the stack
//! holds, which is non-blocking: a call that would block on a blocking socket is parked
//! like the core calls (`poll` and `epoll_wait` until their timeout), and what the script
//! says beyond the count (`revents`, a control message, an option's value) is checked when
//! the call returns.
//!
//! The model is told what these calls do to the connection where it follows it (data
//! queued or read); where it does not (`MSG_MORE`, `MSG_FASTOPEN`, `TCP_CORK`, ...), it is
//! told it no longer follows the connection, by name, so it never reports a divergence it
//! has no rule for.
//!
//! By concern: options and `ioctl` here, `send` and `sendmsg` in `linux/send.rs`, `recv` and
//! its message in `linux/recv.rs`, the descriptors a script makes and the data moved
//! between them (`pipe`, `open`, `splice`, `sendfile`) in `linux/files.rs`, `poll` and
//! `epoll` in `linux/wait.rs`.

mod files;
mod recv;
mod send;
mod wait;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

use super::{Ret, Started};
use crate::differ::Call;
use crate::runner::exec::{Exec, Step};
use crate::runner::syscall::LinuxCall;
use crate::scenario::Event;
use crate::stack::Fd;
use crate::trace::EventKind;
use wait::epoll_create;

/// Options whose effect the model does not need: they change what the application is told
/// (readiness, ancillary data, error reports), not what goes on the wire.
const HARMLESS: [(i32, i32); 11] = [
    // IP header fields, which the model does not pin.
    (libc::SOL_IP, libc::IP_TOS),
    (libc::SOL_IP, libc::IP_TTL),
    (libc::SOL_SOCKET, libc::SO_ZEROCOPY),
    (libc::SOL_SOCKET, libc::SO_TIMESTAMPING),
    (libc::SOL_SOCKET, libc::SO_MARK),
    (libc::SOL_SOCKET, libc::SO_RCVLOWAT),
    (libc::IPPROTO_TCP, libc::TCP_INQ),
    (libc::IPPROTO_TCP, libc::TCP_NOTSENT_LOWAT),
    (libc::SOL_IP, libc::IP_RECVERR),
    (libc::SOL_IP, libc::IP_FREEBIND),
    (libc::SOL_IPV6, libc::IPV6_RECVERR),
];

fn done(ret: Ret) -> Step<Started> {
    Ok(Started::Done(ret))
}

/// A call that returns a new descriptor: the script's result, with the descriptor kept so
/// the script can use it and the run closes it.
fn new_file(r: libc::c_int) -> Ret {
    if r < 0 {
        return last_err();
    }
    // SAFETY: a fresh descriptor the kernel just returned, which nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(r) };
    let mut ret = Ret::ok(i64::from(r));
    ret.new_file = Some(owned);
    ret
}

/// The errno of the last call, as a [`Ret`].
fn last_err() -> Ret {
    Ret::err(Errno::last())
}

impl Exec<'_> {
    /// The kernel descriptor behind script descriptor `n`: a socket of the stack, or a
    /// descriptor the script made itself (`epoll_create`).
    fn raw_of(&self, ev: &Event, n: i64) -> Step<RawFd> {
        if let Some(f) = self.files.get(&n) {
            return Ok(f.as_raw_fd());
        }
        let fd = self.fd_arg(ev, n)?;
        Ok(self.stack.raw_fd(fd)?)
    }

    /// The socket behind script descriptor `n` when it is one of the stack's in blocking
    /// mode.
    fn blocking_socket(&self, n: i64) -> Option<Fd> {
        let fd = *self.fds.get(&n)?;
        self.is_blocking(fd).then_some(fd)
    }

    fn note_call(&mut self, text: String) {
        self.stack.note(EventKind::Note { text });
    }

    /// Event `index`'s call, `call` as decoded: one function per call.
    pub(super) fn linux_call(
        &mut self,
        ev: &Event,
        index: usize,
        call: LinuxCall,
    ) -> Step<Started> {
        match call {
            LinuxCall::Send {
                fd,
                iov,
                flags,
                null,
                family,
            } => self.send_flags(ev, fd, iov, flags, null, family),
            LinuxCall::Pipe { ends } => self.pipe(ends),
            LinuxCall::Open { path, flags } => self.open(ev, &path, flags),
            LinuxCall::Splice {
                fd_in,
                fd_out,
                len,
                flags,
            } => self.splice(ev, index, (fd_in, fd_out), len, flags),
            LinuxCall::SendFile {
                out,
                file,
                offset,
                count,
            } => self.send_file(ev, out, file, offset, count),
            LinuxCall::Recv {
                fd,
                len,
                flags,
                null,
                msg,
            } => self.recv_flags(ev, index, fd, len, flags, null, msg),
            LinuxCall::SetInt {
                fd,
                level,
                name,
                value,
                what,
            } => self.set_int(ev, fd, level, name, value, &what),
            LinuxCall::SetBytes {
                fd,
                level,
                name,
                value,
                len,
                what,
            } => self.set_bytes(ev, fd, (level, name), value, len, &what),
            LinuxCall::GetInt {
                fd,
                level,
                name,
                expected,
            } => self.get_int(ev, fd, level, name, expected),
            LinuxCall::Ioctl {
                fd,
                request,
                expected,
            } => self.ioctl(ev, fd, request, expected),
            LinuxCall::EpollCreate { size } => epoll_create(size),
            LinuxCall::EpollCtl {
                epfd,
                op,
                fd,
                event,
            } => self.epoll_ctl(ev, epfd, op, fd, event),
            LinuxCall::Poll { timeout_ms, .. } | LinuxCall::EpollWait { timeout_ms, .. } => {
                self.start_wait(index, timeout_ms)
            }
        }
    }

    /// Event `index`'s call made again: its answer, or `None` while it would still block.
    pub(super) fn try_again(&mut self, index: usize) -> Step<Option<Ret>> {
        let ev = &self.script.events[index];
        let crate::scenario::Action::Syscall(sc) = &ev.action else {
            unreachable!("retried calls come from system calls")
        };
        let Ok((crate::runner::syscall::Decoded::Linux(call), _)) =
            crate::runner::syscall::decode(sc)
        else {
            unreachable!("validated before the run")
        };
        Ok(match self.linux_call(ev, index, call)? {
            Started::Done(ret) => Some(ret),
            Started::Blocked(_) => None,
        })
    }

    fn set_int(
        &mut self,
        ev: &Event,
        n: i64,
        level: i32,
        name: i32,
        value: i32,
        what: &str,
    ) -> Step<Started> {
        let fd = self.fd_arg(ev, n)?;
        let raw = self.stack.raw_fd(fd)?;
        // SAFETY: the value is an int that outlives the call.
        let r = unsafe {
            libc::setsockopt(
                raw,
                level,
                name,
                (&value as *const i32).cast(),
                std::mem::size_of::<i32>() as libc::socklen_t,
            )
        };
        self.note_call(format!("setsockopt({fd}, {what}, {value}) = {r}"));
        if r < 0 {
            return done(last_err());
        }
        if (level, name) == (libc::IPPROTO_TCP, libc::TCP_FASTOPEN_CONNECT) {
            self.note_fast_open_connect(fd, value != 0);
        }
        let call = if HARMLESS.contains(&(level, name)) {
            Call::Harmless
        } else if (level, name) == (libc::IPPROTO_TCP, libc::TCP_FASTOPEN_CONNECT) {
            // Its effect reaches the model through connect() (Call::FastOpenConnect).
            Call::Harmless
        } else if (level, name) == (libc::IPPROTO_TCP, libc::TCP_SYNCNT) {
            Call::SynRetries(value.max(0) as u32)
        } else if (level, name) == (libc::IPPROTO_TCP, libc::TCP_FASTOPEN_NO_COOKIE) {
            Call::FastOpenNoCookie(value != 0)
        } else if (level, name) == (libc::IPPROTO_TCP, libc::TCP_FASTOPEN) {
            Call::FastOpenQueue {
                qlen: value.max(0) as u32,
            }
        } else if (level, name) == (libc::SOL_SOCKET, libc::SO_OOBINLINE) {
            Call::OobInline(value != 0)
        } else {
            Call::Unmodelled(format!("setsockopt({what})"))
        };
        self.model(fd, call);
        done(Ret::ok(0))
    }

    /// setsockopt() with a string value, zero-padded to the length given (the C string's
    /// NUL).
    fn set_bytes(
        &mut self,
        ev: &Event,
        n: i64,
        (level, name): (i32, i32),
        value: Vec<u8>,
        len: u32,
        what: &str,
    ) -> Step<Started> {
        let fd = self.fd_arg(ev, n)?;
        let raw = self.stack.raw_fd(fd)?;
        let mut buf = value;
        buf.resize(buf.len().max(len as usize), 0);
        // SAFETY: buf holds at least `len` bytes and outlives the call.
        let r = unsafe { libc::setsockopt(raw, level, name, buf.as_ptr().cast(), len) };
        self.note_call(format!("setsockopt({fd}, {what}, {len} bytes) = {r}"));
        if r < 0 {
            return done(last_err());
        }
        // A listener's own Fast Open key: its cookies are no longer the ones the
        // profile's key gives.
        self.model(fd, Call::Unmodelled(format!("setsockopt({what})")));
        done(Ret::ok(0))
    }

    /// getsockopt() of an int, checked against the script's value.
    fn get_int(
        &mut self,
        ev: &Event,
        n: i64,
        level: i32,
        name: i32,
        expected: i64,
    ) -> Step<Started> {
        let raw = self.raw_of(ev, n)?;
        let mut v: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: v and len are valid for writing and sized for an int.
        let r = unsafe {
            libc::getsockopt(
                raw,
                level,
                name,
                (&mut v as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        let mut ret = if r < 0 { last_err() } else { Ret::ok(0) };
        if r == 0 && i64::from(v) != expected {
            ret.mismatch = Some((
                format!("optval {v}"),
                format!("bad getsockopt optval: expected {expected}"),
            ));
        }
        done(ret)
    }

    /// An ioctl() that writes one int, checked against the script's value.
    fn ioctl(&mut self, ev: &Event, n: i64, request: i32, expected: i64) -> Step<Started> {
        let raw = self.raw_of(ev, n)?;
        let mut v: libc::c_int = 0;
        // SAFETY: these requests write one int to the pointer.
        let r = unsafe { libc::ioctl(raw, request as libc::Ioctl, &mut v as *mut libc::c_int) };
        let mut ret = if r < 0 {
            last_err()
        } else {
            Ret::ok(i64::from(r))
        };
        if r >= 0 && i64::from(v) != expected {
            ret.mismatch = Some((
                format!("optval {v}"),
                format!("bad ioctl optval: expected {expected}"),
            ));
        }
        done(ret)
    }
}
