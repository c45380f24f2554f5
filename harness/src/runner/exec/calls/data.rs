//! read() and write(): the data calls, which block on a blocking socket.

use super::{Op, Ret, Started};
use crate::differ::Call;
use crate::runner::exec::{Exec, Step};
use crate::scenario::Event;
use crate::stack::Stack;

impl Exec<'_> {
    pub(super) fn read(&mut self, ev: &Event, fd: i64, len: usize) -> Step<Started> {
        let fd = self.fd_arg(ev, fd)?;
        self.attempt(Op::Read(fd, len), fd)
    }

    pub(super) fn write(&mut self, ev: &Event, fd: i64, len: usize) -> Step<Started> {
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
        Ok(Started::Done(Ret::from(r, |n| n as i64)))
    }
}
