//! The explorer's events that are not segments: an application's write() and read() on the
//! stack's descriptor, and an ICMP error quoting the connection's segment. Each goes to the
//! stack, into the case's script, and to the model, which says whether the stack's answer
//! is one it allows.

use std::time::Duration;

use super::{Checked, Driver};
use crate::differ::Call;
use crate::explore::event::{icmp_quote, icmp_repr, IcmpEvent};
use nix::errno::Errno;

use crate::stack::{CallError, Wait};

impl Driver {
    /// An ICMP error about the connection, quoting a segment the stack sent to the peer; the
    /// model's ICMP rules (RFC 9293 3.9.2.2, RFC 5927) say what it does.
    pub(super) fn icmp(&mut self, ev: IcmpEvent, t0: Duration) -> Checked {
        let (stack, peer) = (self.peer.remote, self.peer.local);
        let msg = icmp_repr(&ev, self.model(), stack, peer);
        let quoted = icmp_quote(ev.quote, self.model());
        let bytes = msg
            .emit()
            .map_err(|e| self.harness(format!("building an ICMP error: {e}")))?;
        let (.., words) = ev.kind.wire(stack.is_ipv6());
        self.script.icmp(words, quoted);
        if let Err(e) = self.stack.inject(&bytes) {
            return Err(self.harness(format!("inject: {e}")));
        }
        self.differ.icmp(t0, self.line, &msg);
        self.diverged()
    }

    pub(super) fn write(&mut self, n: u16, t0: Duration) -> Checked {
        let Some(fd) = self.fd else { return Ok(()) };
        let kernel = self.stack.write(fd, &vec![0; usize::from(n)]);
        let shown = match &kernel {
            Ok(k) => k.to_string(),
            Err(e) => e.to_string(),
        };
        self.script.call(format!("write({fd}, ..., {n}) = {shown}"));
        let result = match kernel {
            Ok(k) => Ok(k as u64),
            Err(CallError::Errno(e)) => Err(e),
            Err(e) => return Err(self.harness(format!("write(): {e}"))),
        };
        let asked = u32::from(n);
        self.call(t0, fd, Call::WriteReturned { asked, result })
    }

    pub(super) fn read(&mut self, n: u16, t0: Duration) -> Checked {
        let Some(fd) = self.fd else { return Ok(()) };
        let kernel = self.stack.read(fd, usize::from(n), Wait::No);
        let shown = match &kernel {
            Ok(b) => b.len().to_string(),
            Err(e) => e.to_string(),
        };
        self.script.call(format!("read({fd}, ..., {n}) = {shown}"));
        let asked = u64::from(n);
        let call = match &kernel {
            Ok(b) => Call::Read {
                asked,
                len: Some(b.len() as u64),
            },
            Err(CallError::Errno(Errno::EAGAIN)) => Call::Read { asked, len: None },
            Err(CallError::Errno(e)) => Call::ReadFailed { asked, errno: *e },
            Err(e) => return Err(self.harness(format!("read(): {e}"))),
        };
        self.call(t0, fd, call)
    }
}
