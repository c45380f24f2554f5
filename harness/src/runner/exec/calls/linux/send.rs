//! `send`, `sendto` and `sendmsg` with flags: the model hears a non-blocking send's answer
//! as a write's, a blocking one parks like write(), and a flag the model has no rule for
//! (`MSG_MORE`) turns it off for the connection, by name.

use nix::errno::Errno;

use super::{done, last_err};
use crate::differ::Call;
use crate::runner::exec::calls::{Op, Ret, Started};
use crate::runner::exec::{Exec, Step};
use crate::scenario::Event;
use crate::stack::Fd;

/// Send flags that change when or how the data goes in ways the model has no rule for.
const UNMODELLED_SEND: [(i32, &str); 1] = [(libc::MSG_MORE, "MSG_MORE")];

impl Exec<'_> {
    pub(super) fn send_flags(
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
    pub(in crate::runner::exec::calls) fn send_raw(
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
}
