//! `recv` and `recvmsg` with flags: what the call consumed reaches the model as a read, and
//! the message's flags and control messages are checked against the script's in
//! packetdrill's order.

use nix::errno::Errno;

use super::done;
use crate::differ::Call;
use crate::runner::exec::calls::timestamping::ScriptClock;
use crate::runner::exec::calls::{Op, Ret, Started};
use crate::runner::exec::{Exec, Step};
use crate::runner::syscall::{CmsgData, RecvMsg};
use crate::scenario::Event;

impl Exec<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn recv_flags(
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
