//! read() and write(): the data calls, which block on a blocking socket.

use super::{Op, Ret, Started};
use crate::differ::Call;
use crate::runner::exec::{Exec, Step};
use crate::scenario::Event;
use crate::stack::CallError;

impl Exec<'_> {
    pub(super) fn read(&mut self, ev: &Event, fd: i64, len: usize) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        self.attempt(Op::Read(fd, len), fd)
    }

    pub(super) fn write(&mut self, ev: &Event, fd: i64, len: usize) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        let deferred = self.takes_fast_open_write(fd);
        if deferred && self.is_blocking(fd) {
            // The write that sends a deferred Fast Open connect()'s SYN waits for the
            // handshake (calls/fast_open.rs).
            return self.start_fast_open(fd, len, 1, 0);
        }
        if self.is_blocking(fd) {
            let mut op = Op::Write {
                fd,
                len,
                queued: 0,
                flags: 0,
                iovs: 1,
            };
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
        // The model judges a non-blocking write's answer, count or errno, as the explorer's
        // does (differ/send.rs): SEND told what the kernel took when a short count is the
        // stack's choice, else all of it.
        let result = match &r {
            Ok(n) => Some(Ok(*n as u64)),
            Err(CallError::Errno(e)) => Some(Err(*e)),
            Err(CallError::Deadline | CallError::Unsupported(_)) => None,
        };
        let judged = result.is_some();
        if let Some(result) = result {
            if deferred {
                // The deferred connect()'s SYN went with this write (RFC 7413 3).
                self.model_fast_open(fd, len, result);
            } else {
                // At most MAX_IO_BYTES.
                let asked = u32::try_from(len).unwrap_or(u32::MAX);
                self.model(fd, Call::WriteReturned { asked, result });
            }
        }
        let mut ret = Ret::from(r, |n| n as i64);
        ret.judged = judged;
        Ok(Started::Done(ret))
    }
}
