//! Urgent data on the receiving side: where the urgent pointer puts the out-of-band byte,
//! and how reads go around it.
//!
//! RFC 9293 3.8.5 keeps urgent data in the stream and leaves its delivery to the
//! application interface. The sockets interface (POSIX.1-2017 2.10.12, BSD and Linux) takes
//! the last urgent octet out of the stream unless SO_OOBINLINE is set, which is the default
//! the harness runs with: a read stops before that byte, and a read that starts at it skips
//! it (Linux tcp_recvmsg()). That is what the model predicts for read() on both profiles;
//! with SO_OOBINLINE the byte is read in its place.
//!
//! Sending: SEND with the urgent flag (MSG_OOB) sets SND.UP to the end of the data queued,
//! so the pointer names the octet after the urgent data, as RFC 1122 4.2.2.4 fixed and RFC
//! 9293 3.8.5 keeps (Linux tcp_mark_urg(): snd_up = write_seq). Every segment that starts
//! before SND.UP carries URG and SND.UP - SEG.SEQ in its pointer field (tcp_transmit_skb());
//! once the peer has acknowledged SND.UP no segment starts before it, and URG is off.

use super::{Connection, State};
use crate::conn::expect::{Actual, Divergence, Required};
use crate::conn::{rules, Seg};
use crate::wire::TcpFlags;

impl Connection {
    /// The data SEND just queued is urgent (MSG_OOB): SND.UP is the end of the queue.
    pub fn mark_urgent(&mut self) {
        self.each_branch(|c| {
            // RFC 9293 3.8.5: MUST-30, urgent data can be sent; MUST-62, the pointer will
            // name the octet after it.
            c.snd.up = Some(c.tcb.snd_nxt + c.snd.unsent);
        })
    }

    /// SO_OOBINLINE: whether the out-of-band byte stays in the stream.
    pub fn set_oob_inline(&mut self, on: bool) {
        self.each_branch(|c| c.rcv.oob_inline = on)
    }

    /// The URG bit and pointer of a segment the stack sent: on, pointing to SND.UP, exactly
    /// when the segment starts before SND.UP.
    pub(super) fn check_urgent(&self, seg: &Seg) -> Result<(), Divergence> {
        if seg.flags.syn() || seg.flags.rst() {
            return Ok(());
        }
        let urg = seg.flags.contains(TcpFlags::URG);
        let owed = self.snd.up.filter(|up| seg.seq.before(*up));
        let expected = match owed {
            // RFC 9293 3.8.5: MUST-30, MUST-62, the pointer is SND.UP's offset from this
            // segment. One too far for the field is not pinned: Linux sends 0xFFFF, or no
            // URG when the segment is not the last (tcp_transmit_skb()).
            Some(up) => match u16::try_from(up.forward_distance(seg.seq)) {
                Ok(field) if urg && seg.up == field => return Ok(()),
                Ok(field) => Some(field),
                Err(_) if !urg || seg.up == u16::MAX => return Ok(()),
                Err(_) => Some(u16::MAX),
            },
            None if !urg => return Ok(()),
            None => None,
        };
        Err(Divergence {
            rule: &rules::URGENT_SEND,
            expected: Required::Urgent(expected),
            actual: Actual::Segment(Box::new(*seg)),
        })
    }

    /// RFC 9293 3.10.7.4, sixth: the URG bit of an acceptable segment.
    pub(super) fn urgent(&mut self, seg: &Seg) {
        if !matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        ) {
            // RFC 9293 3.10.7.4: after the peer's FIN, "this should not occur".
            return;
        }
        // RFC 9293 3.8.5: MUST-30, the urgent pointer is supported; MUST-62, it points to
        // the first octet after the urgent data, so the out-of-band byte is the one before
        // it (Linux tcp_check_urg() with tcp_stdurg 0, the default: ptr - 1; a pointer of 0
        // names SEG.SEQ itself); MUST-31, the urgent data may run past this segment: the
        // pointer is kept until the byte arrives, however far ahead.
        let ptr = seg.seq + u32::from(seg.up).saturating_sub(1);
        // tcp_check_urg(): a byte already read, or already received, is not urgent again.
        if ptr.before(self.tcb.rcv_nxt) {
            return;
        }
        let ahead = self.rcv.readable + u64::from(ptr.forward_distance(self.tcb.rcv_nxt));
        if self.rcv.urgent_ahead.is_some_and(|old| ahead <= old) {
            // Not beyond the urgent byte already pending.
            return;
        }
        // tcp_check_urg(): a new pointer while the old out-of-band byte sits unread at the
        // read position drops that byte (copied_seq++), when more data follows it.
        if self.rcv.urgent_ahead == Some(0) && self.rcv.readable > 0 && !self.rcv.oob_inline {
            self.rcv.readable -= 1;
            return self.urgent_at(ahead - 1);
        }
        self.urgent_at(ahead);
    }

    fn urgent_at(&mut self, ahead: u64) {
        self.rcv.urgent_ahead = Some(ahead);
        // tcp_fast_path_check(): no header prediction while urgent data is pending.
        self.linux.header_prediction = false;
    }

    /// Takes up to `n` readable bytes for a read, as Linux tcp_recvmsg() does around the
    /// out-of-band byte: it stops before the byte once it has copied something, and skips
    /// the byte (not SO_OOBINLINE) when the read starts at it. Returns the bytes copied.
    pub(super) fn take_readable(&mut self, n: u64) -> u64 {
        let mut got = 0;
        while got < n && self.rcv.readable > 0 {
            let take = match self.rcv.urgent_ahead {
                Some(0) if got > 0 => break,
                // SO_OOBINLINE: the byte is read in its place, and what follows with it.
                Some(0) if self.rcv.oob_inline => {
                    self.rcv.urgent_ahead = None;
                    continue;
                }
                Some(0) => {
                    self.rcv.readable -= 1;
                    self.rcv.urgent_ahead = None;
                    continue;
                }
                Some(k) => k.min(n - got).min(self.rcv.readable),
                None => (n - got).min(self.rcv.readable),
            };
            self.rcv.readable -= take;
            got += take;
            if let Some(k) = &mut self.rcv.urgent_ahead {
                *k -= take;
            }
        }
        got
    }
}
