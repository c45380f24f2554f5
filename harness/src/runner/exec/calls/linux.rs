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

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

use super::timestamping::ScriptClock;
use super::{Op, Ret, Started};
use crate::differ::Call;
use crate::runner::exec::{Exec, Step};
use crate::runner::syscall::{CmsgData, EpollEvent, LinuxCall, RecvMsg};
use crate::scenario::Event;
use crate::stack::Fd;
use crate::trace::EventKind;

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

/// Send flags that change when or how the data goes in ways the model has no rule for.
const UNMODELLED_SEND: [(i32, &str); 1] = [(libc::MSG_MORE, "MSG_MORE")];

/// include/uapi/asm-generic/sockios.h; libc does not name it.
const SIOCATMARK: libc::Ioctl = 0x8905;

fn done(ret: Ret) -> Step<Started> {
    Ok(Started::Done(ret))
}

/// The errno of the last call, as a [`Ret`].
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

    /// Tells the model of data a `splice` or `sendfile` moved out of or into a socket of
    /// the stack, as a read or a non-blocking write.
    fn model_moved(&mut self, from: i64, to: i64, asked: usize, result: Result<u64, Errno>) {
        if let Some(&fd) = self.fds.get(&from) {
            if let Ok(n) = result {
                let asked = asked as u64;
                self.model(
                    fd,
                    Call::Read {
                        asked,
                        len: Some(n),
                    },
                );
            }
        }
        if let Some(&fd) = self.fds.get(&to) {
            let asked = u32::try_from(asked).unwrap_or(u32::MAX);
            self.model(fd, Call::WriteReturned { asked, result });
        }
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
            LinuxCall::Pipe { ends } => {
                let mut raw = [0; 2];
                // SAFETY: raw holds two ints. Non-blocking, like every descriptor the
                // harness holds: a call on a full or empty pipe answers EAGAIN, not a hang.
                let r =
                    unsafe { libc::pipe2(raw.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
                if r < 0 {
                    return done(last_err());
                }
                for (n, fd) in ends.into_iter().zip(raw) {
                    // SAFETY: fresh descriptors nothing else owns.
                    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                    self.fds.remove(&n);
                    self.files.insert(n, owned);
                }
                done(Ret::ok(0))
            }
            LinuxCall::Open { path, flags } => {
                let real = self
                    .shell
                    .resolve(&path)
                    .map_err(|m| self.error_at(ev.span, m))?;
                let Ok(c) = std::ffi::CString::new(real.as_os_str().as_encoded_bytes()) else {
                    return Err(self.error_at(ev.span, "a path with a NUL byte"));
                };
                // SAFETY: a NUL-terminated path that outlives the call.
                let r = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
                done(new_file(r))
            }
            LinuxCall::Splice {
                fd_in,
                fd_out,
                len,
                flags,
            } => {
                let (i, o) = (self.raw_of(ev, fd_in)?, self.raw_of(ev, fd_out)?);
                // SAFETY: NULL offsets; the kernel moves data between the descriptors.
                let r = unsafe {
                    libc::splice(i, std::ptr::null_mut(), o, std::ptr::null_mut(), len, flags)
                };
                let result = if r < 0 {
                    Err(Errno::last())
                } else {
                    Ok(r as u64)
                };
                if let (Err(Errno::EAGAIN), Some(fd)) = (result, self.blocking_socket(fd_in)) {
                    if flags & libc::SPLICE_F_NONBLOCK == 0 {
                        // tcp_splice_read(): a blocking splice that found nothing while the
                        // receive queue holds something (urgent data) returns 0 rather
                        // than wait; only an empty queue waits.
                        // FIONREAD leaves the urgent byte out; SIOCATMARK tells it is next.
                        let (mut queued, mut at_mark): (libc::c_int, libc::c_int) = (0, 0);
                        // SAFETY: both requests write one int.
                        let (r, m) = unsafe {
                            (
                                libc::ioctl(i, libc::FIONREAD, &mut queued),
                                libc::ioctl(i, SIOCATMARK, &mut at_mark),
                            )
                        };
                        if (r == 0 && queued > 0) || (m == 0 && at_mark > 0) {
                            return done(Ret::ok(0));
                        }
                        return Ok(Started::Blocked(Op::Again { event: index, fd }));
                    }
                }
                self.model_moved(fd_in, fd_out, len, result);
                done(match result {
                    Ok(n) => Ret::ok(n as i64),
                    Err(e) => Ret::err(e),
                })
            }
            LinuxCall::SendFile {
                out,
                file,
                offset,
                count,
            } => {
                let (o, i) = (self.raw_of(ev, out)?, self.raw_of(ev, file)?);
                let mut off: libc::off_t = offset;
                // SAFETY: off outlives the call.
                let r = unsafe { libc::sendfile(o, i, &mut off, count) };
                let result = if r < 0 {
                    Err(Errno::last())
                } else {
                    Ok(r as u64)
                };
                self.model_moved(file, out, count, result);
                done(match result {
                    Ok(n) => Ret::ok(n as i64),
                    Err(e) => Ret::err(e),
                })
            }
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
            } => {
                let fd = self.fd_arg(ev, fd)?;
                let raw = self.stack.raw_fd(fd)?;
                // The string's bytes, zero-padded to the length given (the C string's NUL).
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
            LinuxCall::GetInt {
                fd,
                level,
                name,
                expected,
            } => {
                let raw = self.raw_of(ev, fd)?;
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
            LinuxCall::Ioctl {
                fd,
                request,
                expected,
            } => {
                let raw = self.raw_of(ev, fd)?;
                let mut v: libc::c_int = 0;
                // SAFETY: these requests write one int to the pointer.
                let r =
                    unsafe { libc::ioctl(raw, request as libc::Ioctl, &mut v as *mut libc::c_int) };
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
            LinuxCall::EpollCreate { size } => {
                // SAFETY: a plain system call.
                let r = unsafe { libc::epoll_create(size) };
                done(new_file(r))
            }
            LinuxCall::EpollCtl {
                epfd,
                op,
                fd,
                event,
            } => {
                let ep = self.raw_of(ev, epfd)?;
                let target = self.raw_of(ev, fd)?;
                let mut e = libc::epoll_event {
                    events: event.events,
                    u64: event.data,
                };
                // SAFETY: e outlives the call.
                let r = unsafe { libc::epoll_ctl(ep, op, target, &mut e) };
                done(if r < 0 { last_err() } else { Ret::ok(0) })
            }
            LinuxCall::Poll { timeout_ms, .. } | LinuxCall::EpollWait { timeout_ms, .. } => {
                let until = match timeout_ms {
                    t if t < 0 => self.now_us() + self.opts.hang_limit.as_micros() as i64,
                    t => self.now_us() + i64::from(t) * 1000,
                };
                let op = Op::Wait {
                    event: index,
                    until,
                };
                match self.try_wait(index, until)? {
                    Some(ret) => done(ret),
                    None => Ok(Started::Blocked(op)),
                }
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

    /// One zero-timeout `poll()` or `epoll_wait()` of event `index`'s call: its answer,
    /// or `None` while nothing is ready and its timeout has not passed.
    pub(super) fn try_wait(&mut self, index: usize, until: i64) -> Step<Option<Ret>> {
        let ev = &self.script.events[index];
        let crate::scenario::Action::Syscall(sc) = &ev.action else {
            unreachable!("waits come from system calls")
        };
        let Ok((crate::runner::syscall::Decoded::Linux(call), _)) =
            crate::runner::syscall::decode(sc)
        else {
            unreachable!("validated before the run")
        };
        let timed_out = self.now_us() >= until;
        match call {
            LinuxCall::Poll { fds, .. } => {
                let mut pfds = Vec::new();
                for p in &fds {
                    pfds.push(libc::pollfd {
                        fd: self.raw_of(ev, p.fd)?,
                        events: p.events,
                        revents: 0,
                    });
                }
                // SAFETY: pfds is a valid array of its length.
                let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, 0) };
                if r < 0 {
                    return Ok(Some(last_err()));
                }
                if r == 0 && !timed_out {
                    return Ok(None);
                }
                let mut ret = Ret::ok(i64::from(r));
                if let Some((want, got)) =
                    fds.iter().zip(&pfds).find(|(w, g)| w.revents != g.revents)
                {
                    ret.mismatch = Some((
                        format!("revents {:#x} for fd {}", got.revents, want.fd),
                        format!("bad poll revents: expected {:#x}", want.revents),
                    ));
                }
                Ok(Some(ret))
            }
            LinuxCall::EpollWait {
                epfd,
                expected,
                max,
                ..
            } => {
                let ep = self.raw_of(ev, epfd)?;
                let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; max as usize];
                // SAFETY: events holds `max` entries.
                let r = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), max, 0) };
                if r < 0 {
                    return Ok(Some(last_err()));
                }
                if r == 0 && !timed_out {
                    return Ok(None);
                }
                let got = EpollEvent {
                    events: events[0].events,
                    data: events[0].u64,
                };
                let mut ret = Ret::ok(i64::from(r));
                // packetdrill compares the first event only.
                if got != expected {
                    ret.mismatch = Some((
                        format!("events {:#x}, data {}", got.events, got.data),
                        format!(
                            "epoll_event does not match script: expected events {:#x}, data {}",
                            expected.events, expected.data
                        ),
                    ));
                }
                Ok(Some(ret))
            }
            _ => unreachable!("only poll and epoll_wait wait"),
        }
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

    fn send_flags(
        &mut self,
        ev: &Event,
        n: i64,
        iov: Vec<usize>,
        flags: i32,
        null: bool,
        family: Option<i32>,
    ) -> Step<Started> {
        let fd = self.fd_arg(ev, n)?;
        self.stack.raw_fd(fd)?;
        self.send_family = family;
        let len: usize = iov.iter().sum();
        if null {
            let raw = self.stack.raw_fd(fd)?;
            // SAFETY: a NULL buffer is what the script asks for; the kernel checks it.
            let r = unsafe { libc::send(raw, std::ptr::null(), len, flags) };
            return done(if r < 0 { last_err() } else { Ret::ok(r as i64) });
        }
        if flags & libc::MSG_FASTOPEN != 0 {
            // Like connect(): the next outbound SYN opens the script's connection.
            self.connecting = true;
        }
        if let Some((_, name)) = UNMODELLED_SEND.iter().find(|(f, _)| flags & f != 0) {
            self.model(fd, Call::Unmodelled(format!("send flag {name}")));
        }
        let blocking = self.is_blocking(fd) && flags & libc::MSG_DONTWAIT == 0;
        let mut op = Op::Write {
            fd,
            len,
            queued: 0,
            flags,
            iovs: iov.len(),
        };
        let deferred = self.takes_fast_open_write(fd);
        if blocking && (flags & libc::MSG_FASTOPEN != 0 || deferred) {
            // The kernel's blocking call sends the SYN (with what data fits), waits for the
            // handshake like connect(), then writes the rest (calls/fast_open.rs).
            return self.start_fast_open(fd, len, iov.len(), flags);
        }
        let urgent = flags & libc::MSG_OOB != 0;
        if blocking {
            return Ok(match self.write_some(&mut op) {
                Some(ret) => {
                    self.returned(op, &ret, ev.span.line);
                    if urgent && ret.errno.is_none() {
                        self.model(fd, Call::UrgentMark);
                    }
                    Started::Done(ret)
                }
                None => {
                    if urgent {
                        // Linux marks the end of what the call queued in all (tcp_push()
                        // at its end): the model hears of the data in parts.
                        self.model(
                            fd,
                            Call::Unmodelled("MSG_OOB on a write that blocks".into()),
                        );
                    }
                    Started::Blocked(op)
                }
            });
        }
        let r = self.send_raw(fd, len, iov.len(), flags);
        if flags & libc::MSG_FASTOPEN != 0 || deferred {
            // RFC 7413 3: the call may open the connection.
            self.model_fast_open(fd, len, r.map(|n| n as u64));
            return done(r.map_or_else(Ret::err, |n| Ret::ok(n as i64)));
        }
        let ret = match r {
            Ok(n) => {
                self.model_sent(fd, len, Ok(n as u64), flags);
                if urgent && n > 0 {
                    self.model(fd, Call::UrgentMark);
                }
                Ret::ok(n as i64)
            }
            Err(e) => {
                self.model_sent(fd, len, Err(e), flags);
                Ret::err(e)
            }
        };
        done(ret)
    }

    /// Tells the model a non-blocking send's answer, as a non-blocking write's.
    fn model_sent(&mut self, fd: Fd, asked: usize, result: Result<u64, Errno>, flags: i32) {
        if UNMODELLED_SEND.iter().any(|(f, _)| flags & f != 0) {
            return;
        }
        let asked = u32::try_from(asked).unwrap_or(u32::MAX);
        self.model(fd, Call::WriteReturned { asked, result });
    }

    /// `sendmsg()` of `len` zero bytes over `iovs` iovecs (packetdrill's buffers are
    /// zeros), with `flags`, on the kernel descriptor; `MSG_FASTOPEN` to the peer.
    pub(super) fn send_raw(
        &mut self,
        fd: Fd,
        len: usize,
        iovs: usize,
        flags: i32,
    ) -> Result<usize, Errno> {
        let raw = self.stack.raw_fd(fd).map_err(|_| Errno::EBADF)?;
        let iovs = iovs.max(1);
        // One byte apart, as packetdrill's buffers (one allocation per iovec) are: with
        // MSG_ZEROCOPY the kernel pins the pages and merges touching iovecs into one
        // fragment, so contiguous ones would fill fewer fragments than the script's.
        let data = vec![0u8; len + iovs];
        let per = len / iovs;
        let mut v: Vec<libc::iovec> = (0..iovs)
            .map(|i| {
                let start = i * per;
                let end = if i + 1 == iovs { len } else { start + per };
                libc::iovec {
                    iov_base: data[start + i..].as_ptr() as *mut libc::c_void,
                    iov_len: end - start,
                }
            })
            .collect();
        let peer = nix::sys::socket::SockaddrStorage::from(self.peer_addr());
        // SAFETY: a zeroed msghdr is valid; every pointer in it outlives the call.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = v.as_mut_ptr();
        msg.msg_iovlen = v.len();
        // sendto's address: the peer's, with the family the script gave in its place.
        let mut name: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        if flags & libc::MSG_FASTOPEN != 0 || self.send_family.is_some() {
            use nix::sys::socket::SockaddrLike;
            let len = peer.len() as usize;
            // SAFETY: copies the peer's sockaddr, at most its length, into storage that
            // holds any.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    peer.as_ptr().cast::<u8>(),
                    (&mut name as *mut libc::sockaddr_storage).cast::<u8>(),
                    len.min(std::mem::size_of::<libc::sockaddr_storage>()),
                );
            }
            if let Some(f) = self.send_family {
                name.ss_family = f as libc::sa_family_t;
            }
            msg.msg_name = (&mut name as *mut libc::sockaddr_storage).cast();
            msg.msg_namelen = peer.len();
        }
        // SAFETY: msg describes valid buffers.
        let r = unsafe { libc::sendmsg(raw, &msg, flags | libc::MSG_NOSIGNAL) };
        if flags & libc::MSG_ZEROCOPY != 0 {
            self.zerocopy_buffers.push(data);
        }
        if r < 0 {
            Err(Errno::last())
        } else {
            Ok(r as usize)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn recv_flags(
        &mut self,
        ev: &Event,
        index: usize,
        n: i64,
        len: usize,
        flags: i32,
        null: bool,
        msg: Option<RecvMsg>,
    ) -> Step<Started> {
        let fd = self.fd_arg(ev, n)?;
        let raw = self.stack.raw_fd(fd)?;
        let mut data = vec![0u8; len];
        let mut control = vec![0u8; 512];
        let mut iov = libc::iovec {
            iov_base: if null {
                std::ptr::null_mut()
            } else {
                data.as_mut_ptr().cast()
            },
            iov_len: len,
        };
        // SAFETY: a zeroed msghdr is valid; every pointer in it outlives the call.
        let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
        m.msg_iov = &mut iov;
        m.msg_iovlen = 1;
        m.msg_control = control.as_mut_ptr().cast();
        m.msg_controllen = control.len();
        // SAFETY: m describes valid buffers.
        let r = unsafe { libc::recvmsg(raw, &mut m, flags) };
        if r < 0 {
            let e = Errno::last();
            let waits = e == Errno::EAGAIN
                && self.is_blocking(fd)
                && flags & (libc::MSG_DONTWAIT | libc::MSG_ERRQUEUE) == 0;
            if waits {
                return Ok(Started::Blocked(Op::Again { event: index, fd }));
            }
            return done(Ret::err(e));
        }
        // MSG_OOB reads the out-of-band byte's copy (tcp_recv_urg()): the stream, which the
        // model follows, is untouched.
        let consumed = flags & (libc::MSG_PEEK | libc::MSG_ERRQUEUE | libc::MSG_OOB) == 0;
        if consumed {
            self.model(
                fd,
                Call::Read {
                    asked: len as u64,
                    len: Some(r as u64),
                },
            );
        }
        let mut ret = Ret::ok(r as i64);
        if let Some(want) = msg {
            let clock = ScriptClock::now(self.now_us(), self.tol_usecs);
            ret.mismatch = check_msg(&m, &want, clock);
        }
        done(ret)
    }
}

/// What differs between a received message and the script's, in packetdrill's order
/// (`msg_flags`, then the control messages).
fn check_msg(m: &libc::msghdr, want: &RecvMsg, clock: ScriptClock) -> Option<(String, String)> {
    if m.msg_flags != want.msg_flags {
        return Some((
            format!("msg_flags {:#010x}", m.msg_flags),
            format!("Expected msg_flags {:#010x}", want.msg_flags),
        ));
    }
    let Some(expected) = &want.control else {
        return None;
    };
    let mut got = Vec::new();
    // SAFETY: walks the control buffer the kernel filled, within msg_controllen.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(m);
        while !c.is_null() {
            let data = libc::CMSG_DATA(c);
            let len = (*c).cmsg_len - libc::CMSG_LEN(0) as usize;
            got.push((
                (*c).cmsg_level,
                (*c).cmsg_type,
                std::slice::from_raw_parts(data, len).to_vec(),
            ));
            c = libc::CMSG_NXTHDR(m, c);
        }
    }
    if got.len() > expected.len() {
        return Some((
            format!("{} control messages", got.len()),
            format!("received more than {} cmsgs", expected.len()),
        ));
    }
    for (i, want) in expected.iter().enumerate() {
        let Some((level, kind, data)) = got.get(i) else {
            return Some((
                format!("{} control messages", got.len()),
                format!(
                    "expected control message {} (level {}, type {})",
                    i + 1,
                    want.level,
                    want.kind
                ),
            ));
        };
        if (*level, *kind) != (want.level, want.kind) {
            return Some((
                format!("cmsg {} level {level} type {kind}", i + 1),
                format!("expected cmsg level {} type {}", want.level, want.kind),
            ));
        }
        let ok = match &want.data {
            CmsgData::Int(v) => {
                data.len() >= 4 && i32::from_ne_bytes([data[0], data[1], data[2], data[3]]) == *v
            }
            CmsgData::ExtendedErr {
                errno,
                origin,
                kind,
                code,
                info,
                data: d,
            } => {
                data.len() >= 16 && {
                    let u32_at = |o: usize| {
                        u32::from_ne_bytes([data[o], data[o + 1], data[o + 2], data[o + 3]])
                    };
                    u32_at(0) == *errno
                        && data[4] == *origin
                        && data[5] == *kind
                        && data[6] == *code
                        && u32_at(8) == *info
                        && u32_at(12) == *d
                }
            }
            CmsgData::Timestamping { usecs } => match clock.check(*usecs, data) {
                Ok(()) => true,
                Err(e) => return Some((format!("cmsg {} {e}", i + 1), e)),
            },
        };
        if !ok {
            return Some((
                format!("cmsg {} data {:02x?}", i + 1, data),
                format!("bad cmsg_data: expected {:?}", want.data),
            ));
        }
    }
    None
}
