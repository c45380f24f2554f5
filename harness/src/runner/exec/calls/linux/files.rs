//! Descriptors the script makes itself (`pipe`, `open`) and the data `splice` and
//! `sendfile` move between them and the stack's sockets, which the model hears of as a read
//! or a non-blocking write.

use std::os::fd::{FromRawFd, OwnedFd};

use nix::errno::Errno;

use super::{done, last_err, new_file};
use crate::differ::Call;
use crate::runner::exec::calls::{Op, Ret, Started};
use crate::runner::exec::{Exec, Step};
use crate::scenario::Event;

/// include/uapi/asm-generic/sockios.h; libc does not name it.
const SIOCATMARK: libc::Ioctl = 0x8905;

impl Exec<'_> {
    /// pipe(): both ends non-blocking, like every descriptor the harness holds, so a call
    /// on a full or empty pipe answers EAGAIN, not a hang.
    pub(super) fn pipe(&mut self, ends: [i64; 2]) -> Step<Started> {
        let mut raw = [0; 2];
        // SAFETY: raw holds two ints.
        let r = unsafe { libc::pipe2(raw.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
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

    /// open() of a path inside the run's shell directory.
    pub(super) fn open(&mut self, ev: &Event, path: &str, flags: i32) -> Step<Started> {
        let real = self
            .shell
            .resolve(path)
            .map_err(|m| self.error_at(ev.span, m))?;
        let Ok(c) = std::ffi::CString::new(real.as_os_str().as_encoded_bytes()) else {
            return Err(self.error_at(ev.span, "a path with a NUL byte"));
        };
        // SAFETY: a NUL-terminated path that outlives the call.
        let r = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
        done(new_file(r))
    }

    /// splice() between descriptors `fd_in` and `fd_out`; a blocking socket with nothing
    /// to read parks the call.
    pub(super) fn splice(
        &mut self,
        ev: &Event,
        index: usize,
        (fd_in, fd_out): (i64, i64),
        len: usize,
        flags: u32,
    ) -> Step<Started> {
        let (i, o) = (self.raw_of(ev, fd_in)?, self.raw_of(ev, fd_out)?);
        // SAFETY: NULL offsets; the kernel moves data between the descriptors.
        let r =
            unsafe { libc::splice(i, std::ptr::null_mut(), o, std::ptr::null_mut(), len, flags) };
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

    /// sendfile() of `count` bytes of `file` from `offset` to `out`.
    pub(super) fn send_file(
        &mut self,
        ev: &Event,
        out: i64,
        file: i64,
        offset: i64,
        count: usize,
    ) -> Step<Started> {
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
}
