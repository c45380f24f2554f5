//! RFC 9293 3.10.7.4, fifth step's send window update (SND.WND, SND.WL1, SND.WL2), and the
//! window a SYN offers.

use crate::conn::segment::Seg;
use crate::profile::behaviour::WindowUpdate;
use crate::seq::SeqNumber;

use super::super::*;

impl Connection {
    /// The window field of a segment after the SYNs, scaled by the peer's shift.
    pub(in crate::conn::machine) fn scaled_window(&self, seg: &Seg) -> u32 {
        u32::from(seg.wnd) << self.opts.snd_shift
    }

    /// SND.WND, SND.WL1 and SND.WL2 from a segment, and MAX.SND.WND (RFC 5961 5.2) with them.
    pub(in crate::conn::machine) fn set_send_window(
        &mut self,
        wnd: u32,
        wl1: SeqNumber,
        wl2: SeqNumber,
    ) {
        self.tcb.snd_wnd = wnd;
        self.tcb.snd_wl1 = wl1;
        self.tcb.snd_wl2 = wl2;
        self.snd.max_wnd = self.snd.max_wnd.max(wnd);
    }

    /// The peer's window in its SYN is never scaled (RFC 7323 2.2).
    pub(in crate::conn::machine) fn update_send_window_from_syn(&mut self, seg: &Seg) {
        self.set_send_window(u32::from(seg.wnd), seg.seq, seg.ack);
    }

    /// Window update: if SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK).
    /// `acks_new` says whether the segment acknowledged new data.
    pub(in crate::conn::machine) fn update_send_window(&mut self, seg: &Seg, acks_new: bool) {
        if self.header_predicted(seg) && !acks_new && self.tcb.snd_wl1.after(seg.seq) {
            // The fast path's tcp_update_wl() sets SND.WL1 to SEG.SEQ even backwards.
            self.branches.fast_path_wl1 = Some(seg.seq);
        }
        let nwin = self.scaled_window(seg);
        let update = match self.profile.behaviour.window_update {
            WindowUpdate::Rfc => {
                self.tcb.snd_wl1.before(seg.seq)
                    || (self.tcb.snd_wl1 == seg.seq && !seg.ack.before(self.tcb.snd_wl2))
            }
            // Linux tcp_may_update_window(): also whenever new data is acknowledged, and
            // at SND.WL1 only when the window grows or closes.
            WindowUpdate::LinuxMayUpdateWindow => {
                acks_new
                    || self.tcb.snd_wl1.before(seg.seq)
                    || (self.tcb.snd_wl1 == seg.seq && (nwin > self.tcb.snd_wnd || nwin == 0))
            }
        };
        if !seg.ack.before(self.tcb.snd_una) && update {
            if self.tcb.snd_wnd != nwin {
                // tcp_ack_update_window(): tcp_fast_path_check() with the new window.
                self.linux.header_prediction = self.reasm.is_empty() && self.tcb.rcv_wnd > 0;
            }
            self.set_send_window(nwin, seg.seq, seg.ack);
        }
    }
}
