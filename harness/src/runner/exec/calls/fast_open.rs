//! A blocking call that opens a connection with TCP Fast Open (RFC 7413 3): `sendto()` or
//! `sendmsg()` with `MSG_FASTOPEN`, or the first `write()`/`send()` on a socket whose
//! `connect()` was deferred by `TCP_FASTOPEN_CONNECT`.
//!
//! The kernel's blocking call sends the SYN with what data fits, waits for the handshake as
//! connect() does (`__inet_stream_connect()`), then writes the rest; a handshake that fails
//! returns its error, whatever the SYN carried (`tcp_sendmsg_locked()`: `out_err`). While it
//! waits it counts as a pending writer (`sk_write_pending`), and with a writer pending the
//! SYN-ACK's ACK is held back for the data to come (`tcp_rcv_synsent_state_process()`), so
//! the rest goes out with the ACK on it. The harness's descriptors never block, so nothing
//! is pending in the kernel: the same hold is asked for with `TCP_QUICKACK` 0 (ping-pong
//! mode, the other condition of that test) for the time the call waits, and `TCP_QUICKACK`
//! 1 when it is done sends at once an ACK still held (`__tcp_sock_set_quickack()`), as the
//! kernel's writer does on its way out when it had nothing left to send. When it did send
//! the rest, the kernel's socket is in ping-pong mode from then on (data sent within the
//! delayed-ACK timeout of the SYN-ACK: `tcp_event_data_sent()`), so that mode is set again,
//! at its threshold as the kernel's count would be.

use nix::errno::Errno;

use super::{Op, Ret, Started};
use crate::differ::Call;
use crate::runner::exec::{Exec, Step};
use crate::stack::Fd;

impl Exec<'_> {
    /// `setsockopt(TCP_FASTOPEN_CONNECT)` set `on` for `fd`: its next connect() returns at
    /// once and the first write sends the SYN (`tcp_fastopen_defer_connect()`).
    pub(super) fn note_fast_open_connect(&mut self, fd: Fd, on: bool) {
        if on {
            self.fast_open_deferred.insert(fd);
        } else {
            self.fast_open_deferred.remove(&fd);
        }
    }

    /// The first write on `fd` opens its connection with Fast Open (a deferred connect()),
    /// and the mark is used up.
    pub(super) fn takes_fast_open_write(&mut self, fd: Fd) -> bool {
        self.fast_open_deferred.remove(&fd)
    }

    /// Starts a blocking Fast Open call of `len` bytes over `iovs` iovecs with `flags`.
    pub(super) fn start_fast_open(
        &mut self,
        fd: Fd,
        len: usize,
        iovs: usize,
        flags: i32,
    ) -> Step<Started> {
        set_quickack(self.stack.raw_fd(fd)?, false);
        let sent = self.send_raw(fd, len, iovs, flags);
        self.model_fast_open(fd, len, sent.map(|n| n as u64));
        let queued = match sent {
            Ok(n) => n,
            Err(Errno::EINPROGRESS) => 0,
            Err(e) => {
                self.end_fast_open(fd, false);
                return Ok(Started::Done(Ret::err(e)));
            }
        };
        Ok(Started::Blocked(Op::FastOpen {
            fd,
            len,
            queued,
            flags,
            iovs,
        }))
    }

    /// Tells the model a call that may open `fd`'s connection with Fast Open, of `len`
    /// bytes, returned `result` (on the kernel's descriptor, which never blocks).
    pub(super) fn model_fast_open(&mut self, fd: Fd, len: usize, result: Result<u64, Errno>) {
        let peer = self.peer_addr();
        let asked = u32::try_from(len).unwrap_or(u32::MAX);
        self.model(
            fd,
            Call::FastOpenSend {
                peer,
                asked,
                result,
            },
        );
    }

    /// The handshake of a blocking Fast Open call is over and the call has written what it
    /// will right after it: the socket acknowledges as the kernel's would now; `sent_more`:
    /// data went after the SYN-ACK.
    pub(super) fn end_fast_open(&mut self, fd: Fd, sent_more: bool) {
        if let Ok(raw) = self.stack.raw_fd(fd) {
            set_quickack(raw, true);
            if sent_more {
                set_quickack(raw, false);
            }
        }
    }
}

/// `TCP_QUICKACK`: `false` holds ACKs back (ping-pong mode), `true` ends that and sends an
/// ACK still held. Best effort: a socket that is gone needs neither.
fn set_quickack(raw: std::os::fd::RawFd, on: bool) {
    let v: libc::c_int = on.into();
    // SAFETY: the value is an int that outlives the call.
    unsafe {
        libc::setsockopt(
            raw,
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}
