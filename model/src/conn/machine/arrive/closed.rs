//! RFC 9293 §3.10.7.1: a segment arrives in CLOSED.

use std::time::Duration;

use crate::conn::expect::SegSpec;
use crate::conn::segment::Seg;
use crate::seq::SeqNumber;
use crate::wire::TcpFlags;

use super::super::*;

impl Connection {
    /// RFC 9293 3.10.7.1: everything but a RST draws a RST.
    pub(in crate::conn::machine) fn arrive_closed(&mut self, now: Duration, seg: &Seg) {
        if seg.flags.rst() {
            return;
        }
        let due = self.immediately(now);
        if seg.flags.ack() {
            let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
            self.oblige(spec, due, &rules::CLOSED_ACK_ON);
        } else {
            let spec = SegSpec::ctl(
                TcpFlags::RST | TcpFlags::ACK,
                SeqNumber(0),
                Some(seg.seq + seg.seg_len()),
            );
            self.oblige(spec, due, &rules::CLOSED_ACK_OFF);
        }
    }
}
