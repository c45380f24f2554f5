//! Blocking calls: started, parked as [`Pending`] when they would block, and retried
//! whenever something could complete them (see the parent module).

use nix::errno::Errno;

use super::{accepted, Ret, Started};
use crate::differ::{Blocking, Call};
use crate::runner::exec::{Exec, Step};
use crate::runner::syscall::Expected;
use crate::scenario::Action;
use crate::stack::Fd;
use crate::stack::{CallError, TcpState, Wait};

/// A blocking call that has not returned yet.
pub(in crate::runner::exec) struct Pending {
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
pub(in crate::runner::exec) enum Op {
    Accept(Fd),
    Connect(Fd),
    Read(Fd, usize),
    /// `len` bytes asked for, `queued` of them taken by the kernel so far; `flags` and
    /// `iovs` of a `send`/`sendmsg` (0 and 1 for a `write`).
    Write {
        fd: Fd,
        len: usize,
        queued: usize,
        flags: i32,
        iovs: usize,
    },
    /// A blocking `sendto(MSG_FASTOPEN)`: the SYN went with `queued` of `len` bytes; the
    /// call waits for the handshake, as connect() does, then writes the rest
    /// (`tcp_sendmsg_fastopen()`), or returns the handshake's error.
    FastOpen {
        fd: Fd,
        len: usize,
        queued: usize,
        flags: i32,
        iovs: usize,
    },
    /// A call on the kernel descriptor (script event `event`: a receive with flags,
    /// `splice`) that would block on a blocking socket: made again until it does not.
    Again {
        event: usize,
        fd: Fd,
    },
    /// A `poll` or `epoll_wait` (script event `event`) until script time `until`.
    Wait {
        event: usize,
        until: i64,
    },
}

impl Op {
    pub(super) fn fd(self) -> Fd {
        match self {
            Op::Accept(fd)
            | Op::Connect(fd)
            | Op::Read(fd, _)
            | Op::Write { fd, .. }
            | Op::FastOpen { fd, .. }
            | Op::Again { fd, .. } => fd,
            // No socket: a close() while it waits does not concern it.
            Op::Wait { .. } => Fd(-1),
        }
    }

    /// What the model judges of its return.
    fn blocking(self) -> Blocking {
        match self {
            Op::Accept(_) => Blocking::Accept,
            Op::Connect(_) => Blocking::Connect,
            Op::Read(..) => Blocking::Read,
            Op::Write { len, .. } | Op::FastOpen { len, .. } => Blocking::Write { len: len as u64 },
            Op::Wait { .. } | Op::Again { .. } => {
                unreachable!("the model is told of these calls by the calls themselves")
            }
        }
    }
}

impl Exec<'_> {
    pub(in crate::runner::exec) fn poll_pending(&mut self) -> Step {
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
    pub(super) fn returned(&mut self, op: Op, ret: &Ret, line: u32) {
        if matches!(op, Op::Wait { .. } | Op::Again { .. }) {
            // A poll changes nothing the model follows; a call on the kernel descriptor
            // told the model itself.
            return;
        }
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
    pub(super) fn try_op(&mut self, op: &mut Op) -> Step<Option<Ret>> {
        let mark = self.stack.trace().events.len();
        let progress_before = match *op {
            Op::Write { queued, .. } => queued,
            _ => 0,
        };
        let ret = match *op {
            Op::Accept(fd) => self.try_accept(fd),
            Op::Read(fd, max) => self.try_read(fd, max),
            Op::Connect(fd) => self.try_connect(fd)?,
            Op::Write { fd, .. } => self.try_write(fd, op),
            Op::Wait { event, until } => self.try_wait(event, until)?,
            Op::Again { event, .. } => self.try_again(event)?,
            Op::FastOpen {
                fd,
                len,
                queued,
                flags,
                iovs,
            } => match self.try_connect(fd)? {
                None => None,
                Some(r) if r.errno.is_some() => {
                    self.end_fast_open(fd, false);
                    Some(r)
                }
                Some(_) => {
                    *op = Op::Write {
                        fd,
                        len,
                        queued,
                        flags: flags & !libc::MSG_FASTOPEN,
                        iovs,
                    };
                    let ret = if queued == len {
                        Some(Ret::ok(len as i64))
                    } else {
                        self.write_some(op)
                    };
                    // After the rest went, with the handshake's ACK on it.
                    let sent_more = matches!(*op, Op::Write { queued: q, .. } if q > queued);
                    self.end_fast_open(fd, sent_more);
                    ret
                }
            },
        };
        let progress = match *op {
            Op::Write { queued, .. } => queued,
            _ => 0,
        };
        if ret.is_none() && progress == progress_before {
            self.stack.trace_mut().events.truncate(mark);
        }
        Ok(ret)
    }

    /// accept(): a connection from the queue, or `None` while it is empty.
    fn try_accept(&mut self, fd: Fd) -> Option<Ret> {
        match self.stack.accept(fd, Wait::No) {
            Err(CallError::Errno(Errno::EAGAIN)) => None,
            r => {
                let accepted = accepted(&r);
                if accepted.is_some() {
                    self.model(fd, Call::Accept { accepted });
                }
                let new_fd = r.as_ref().ok().map(|(f, _)| *f);
                let mut ret = Ret::from(r, |(f, _)| i64::from(f.0));
                ret.new_fd = new_fd;
                ret.judged = accepted.is_some();
                Some(ret)
            }
        }
    }

    /// read(): data, the end of the stream or an error; `None` while nothing is there. The
    /// model judges the answer, an error's errno included, as the explorer's does
    /// (differ/receive.rs).
    fn try_read(&mut self, fd: Fd, max: usize) -> Option<Ret> {
        let asked = max as u64;
        match self.stack.read(fd, max, Wait::No) {
            Err(CallError::Errno(Errno::EAGAIN)) => None,
            r => {
                let judged = match &r {
                    Ok(d) => {
                        let len = Some(d.len() as u64);
                        self.model(fd, Call::Read { asked, len });
                        true
                    }
                    Err(CallError::Errno(errno)) => {
                        let errno = *errno;
                        self.model(fd, Call::ReadFailed { asked, errno });
                        true
                    }
                    Err(CallError::Deadline | CallError::Unsupported(_)) => false,
                };
                let mut ret = Ret::from(r, |d| d.len() as i64);
                ret.judged = judged;
                Some(ret)
            }
        }
    }

    /// connect(): the handshake's outcome, from the socket's error and state; `None` while
    /// it is still in SYN-SENT.
    fn try_connect(&mut self, fd: Fd) -> Step<Option<Ret>> {
        Ok(match self.stack.take_error(fd) {
            Ok(Some(e)) => Some(Ret::err(e)),
            Err(e) => Some(Ret::from::<()>(Err(e), |_| 0)),
            Ok(None) => match self.stack.state(fd)? {
                TcpState::SynSent => None,
                // The handshake may have failed between the two reads (the SYN timer
                // sets the error, then closes): read the error again now that the
                // state has moved on.
                _ => match self.stack.take_error(fd) {
                    Ok(Some(e)) => Some(Ret::err(e)),
                    _ => Some(Ret::ok(0)),
                },
            },
        })
    }

    /// write(): more of the data once poll() says the socket takes it.
    fn try_write(&mut self, fd: Fd, op: &mut Op) -> Option<Ret> {
        match self.stack.writable(fd) {
            Ok(true) => self.write_some(op),
            Ok(false) => None,
            Err(e) => Some(Ret::from::<()>(Err(e), |_| 0)),
        }
    }

    /// A blocking write's next step: as much of the rest as the kernel takes now. `None`
    /// while data is left and the connection stands.
    pub(super) fn write_some(&mut self, op: &mut Op) -> Option<Ret> {
        let Op::Write {
            fd,
            len,
            queued,
            flags,
            iovs,
        } = op
        else {
            unreachable!("only writes write")
        };
        // packetdrill writes zeros (alloc_buffer with set_zero).
        let data = vec![0; *len - *queued];
        let r = if *flags == 0 && *iovs <= 1 {
            self.stack.write(*fd, &data)
        } else {
            self.send_raw(*fd, data.len(), *iovs, *flags)
                .map_err(CallError::Errno)
        };
        match r {
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

    /// First attempt at a call that may block: parked when the script's socket is blocking.
    pub(super) fn attempt(&mut self, op: Op, fd: Fd) -> Step<Started> {
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
                    Op::Connect(_)
                    | Op::Write { .. }
                    | Op::Wait { .. }
                    | Op::FastOpen { .. }
                    | Op::Again { .. } => {}
                }
                let mut ret = Ret::err(Errno::EAGAIN);
                ret.judged = matches!(op, Op::Accept(_) | Op::Read(..));
                Ok(Started::Done(ret))
            }
        }
    }
}
