//! Deviations the model goes through unseen: the kernel did not do what the rfc9293 model
//! did at a segment or a call, and nothing shows yet, so a later divergence is named by the
//! deviation it follows from (see [`taint`]).

use tcpcheck_model::seq::segment_acceptable;

use super::*;

/// A known deviation the model went through on `seg` without anything to see yet, or
/// seen only as a divergence another name would also explain: the kernel did not do what
/// the model did, so from here on the model's numbers are not the kernel's, and whatever
/// diverges later, in whatever shape (an ACK one behind, a RST the kernel takes at what the
/// model thinks is RCV.NXT - 1, a write failing on the connection that RST ended), follows
/// from it. `before`, `tcb` and `unread` are the connection's state, variables and bytes
/// held for the application before `seg`, `conn` the model after it; `unscaled`: the
/// receive window is not Linux's ([`scales_unnegotiated`]), so nothing is concluded from
/// where its edge lies.
pub fn taint(
    before: State,
    tcb: &Tcb,
    unread: u64,
    unscaled: bool,
    passive: bool,
    seg: &Seg,
    conn: &Connection,
) -> Option<&'static Deviation> {
    // A request socket (SYN-RECEIVED) judges the window edge as Linux's full sockets do;
    // nothing else here applies to it.
    let request = before == State::SynReceived;
    if !explained_by_deviations(conn.profile().kind) || !(before.is_synchronized() || request) {
        return None;
    }
    // A request socket refuses a TSecr none of its SYN-ACKs carried; the RFC establishes.
    if let (true, true, Some((_, ecr)), Some((first, last))) = (
        request && passive,
        seg.flags.ack() && !seg.flags.rst(),
        seg.options.timestamps,
        conn.synack_tsvals(),
    ) {
        let (ecr, first, last) = (SeqNumber(ecr), SeqNumber(first), SeqNumber(last));
        if ecr.0 != 0 && (ecr.before(first) || ecr.after(last)) && conn.state() != before {
            return by_name("request-refuses-unsent-tsecr");
        }
    }
    // A simultaneous open's SYN-RECEIVED: an in-window ACK of SND.UNA (the ISN) establishes
    // the connection on Linux and takes its text; the RFC resets it and stays, so what the
    // kernel then sends (an ACK of that text) has no rule.
    if request
        && !passive
        && seg.flags.ack()
        && !seg.flags.intersects(TcpFlags::RST | TcpFlags::SYN)
        && seg.ack == tcb.snd_una
        && !seg.seq.before(tcb.rcv_nxt)
        && seg.seq.before(tcb.rcv_nxt + tcb.rcv_wnd)
        && conn.state() == State::SynReceived
    {
        return by_name("simultaneous-open-ack-of-iss-establishes");
    }
    if request && passive && synack_window_takes(tcb, seg, conn) {
        return by_name("request-ack-window-rounded-down");
    }
    // A simultaneous open whose SYN-ACK scaled a window the peer's SYN did not agree to
    // scale: Linux's receive window is the field shifted by its own SYN's scale (at least
    // 1 with its default buffers), the RFC's the field itself (RFC 7323 2.3). Text or a FIN
    // the RFC trims at its right edge (RFC 9293 3.10.7.4, first) Linux takes, so RCV.NXT
    // differs from here on, with nothing to see yet (explorer rfc9293, seed 123456, case
    // 9873: a FIN one byte past the unscaled window, then text after it, which Linux
    // answers with a RST, data-after-fin-resets, in a state the RFC's model is not in).
    let end = seg.seq + seg.seg_len();
    if unscaled
        && !seg.flags.syn()
        && tcb.rcv_wnd > 0
        && seg.seg_len() > 0
        && segment_acceptable(seg.seq, seg.seg_len(), tcb.rcv_nxt, tcb.rcv_wnd)
        && end.after(tcb.rcv_nxt + tcb.rcv_wnd)
    {
        return by_name("simultaneous-open-scales-unnegotiated-window");
    }
    let name = taint_name(before, tcb, unread, seg, conn)
        .filter(|&n| !request || n == "rst-at-right-window-edge");
    let by_window = matches!(
        name,
        Some(
            "rst-at-right-window-edge"
                | "window-counted-from-rcv-wup"
                | "past-window-end-with-unread-data-dropped"
        )
    );
    if unscaled && by_window {
        return None;
    }
    name.and_then(by_name)
}

fn taint_name(
    before: State,
    tcb: &Tcb,
    unread: u64,
    seg: &Seg,
    conn: &Connection,
) -> Option<&'static str> {
    // Linux processes nothing at or past RCV.NXT once the peer's FIN is in; the RFC counts
    // a FIN there.
    if fin_in(before) && seg.flags.fin() && conn.tcb().rcv_nxt != tcb.rcv_nxt {
        return Some("fin-after-fin-ignored");
    }
    // Linux resets on a RST at RCV.NXT - 1 there; the RFC drops it as outside the window.
    let minus_one = tcb.rcv_nxt.wrapping_add(u32::MAX);
    if fin_in(before) && seg.flags.rst() && seg.seq == minus_one && conn.state() == before {
        return Some("reset-at-rcv-nxt-minus-one-after-fin");
    }
    let empty = seg.seg_len() == 0 && !seg.flags.syn();
    // Linux takes a segment starting at the right edge as in the window: a RST there draws
    // a challenge ACK and spends the socket's budget of them, an ACK there is processed
    // (its window too) while its text is not taken.
    if !seg.flags.syn() && tcb.rcv_wnd > 0 && seg.seq == tcb.rcv_nxt + tcb.rcv_wnd {
        return Some("rst-at-right-window-edge");
    }
    // Linux resets on a RST exactly at the right edge of the highest SACK block (RFC 5961
    // 3.2 as tcp_validate_incoming() extends it), SYN or not (the RST bit is checked first)
    // and also at the window's right edge, which its tcp_sequence() takes as inside; the
    // RFC's model challenged or dropped it and goes on, with only the state to show it
    // (explorer rfc9293, seed 60607, case 3606: a SYN,RST just past a FIN held at the edge).
    if seg.flags.rst() && conn.state() == before && conn.highest_sack_edge() == Some(seg.seq) {
        return Some("rst-at-sack-edge-resets");
    }
    // Linux drops a segment whose text reaches past the right edge while the application
    // has data or the FIN to read (tcp_sequence(), 6.17 on: the receive queue is not empty,
    // and an unread FIN is in it: explorer rfc9293, seed 777, cases 580 and 4223); the RFC
    // takes what lies in the window (RFC 9293 3.3.2), the segment's ACK and window too.
    let queued = unread > 0 || fin_in(before) && conn.fin_unread();
    let edge = tcb.rcv_nxt + tcb.rcv_wnd;
    if seg.len > 0
        && queued
        && !seg.seq.before(tcb.rcv_nxt)
        && seg.seq.before(edge)
        && (seg.seq + seg.len).after(edge)
    {
        return Some("past-window-end-with-unread-data-dropped");
    }
    // Linux drops a segment whose ACK is older than SND.UNA minus the bytes acknowledged
    // so far, text included; an ACK of the ISN or older is that (nothing of the SYN counts
    // on a passive open) where the RFC ignores the ACK and takes the text.
    if seg.flags.ack() && !seg.flags.rst() && seg.ack.before(tcb.snd_una) && !seg.ack.after(tcb.iss)
    {
        return Some("old-ack-capped-by-bytes-acked");
    }
    if window_update_differs(tcb, seg, conn) {
        return Some("send-window-update-by-new-ack");
    }
    // Linux's fast path moves SND.WL1 back to the SEQ of in-order text that acknowledges
    // nothing new and leaves the window as it was (header prediction's own conditions).
    if before == State::Established
        && seg.flags & !TcpFlags::PSH == TcpFlags::ACK
        && seg.len > 0
        && seg.options.sack.is_none()
        && seg.seq == tcb.rcv_nxt
        && seg.ack == tcb.snd_una
        && u32::from(seg.wnd) << conn.snd_wnd_shift() == tcb.snd_wnd
        && tcb.snd_wl1.after(seg.seq)
    {
        return Some("fast-path-moves-snd-wl1");
    }
    // Linux counts the window from RCV.WUP: an empty segment between RCV.WUP and RCV.NXT
    // is acceptable and draws nothing, where the RFC answers it with an ACK.
    if empty
        && !seg.flags.rst()
        && tcb.rcv_wup.before(tcb.rcv_nxt)
        && seg.seq.before(tcb.rcv_nxt)
        && !seg.seq.before(tcb.rcv_wup)
    {
        return Some("window-counted-from-rcv-wup");
    }
    // A segment whose end reaches RCV.WUP is acceptable there (tcp_sequence() refuses only
    // one ending before it), so an old one ending exactly at RCV.NXT = RCV.WUP has its ACK
    // and window taken (its text dropped, a duplicate ACK); the RFC finds it unacceptable
    // and takes nothing. Counted when Linux's tcp_ack() would change something with it.
    let end = seg.seq + seg.seg_len();
    let nwin = u32::from(seg.wnd) << conn.snd_wnd_shift();
    if seg.seg_len() > 0
        && seg.flags.ack()
        && !seg.flags.intersects(TcpFlags::RST | TcpFlags::SYN)
        && seg.seq.before(tcb.rcv_nxt)
        && !end.before(tcb.rcv_wup)
        && !end.after(tcb.rcv_nxt)
        && (seg.ack.after(tcb.snd_una) && !seg.ack.after(tcb.snd_nxt)
            || tcb.snd_wl1.before(seg.seq)
            || tcb.snd_wl1 == seg.seq && nwin != tcb.snd_wnd && (nwin > tcb.snd_wnd || nwin == 0))
    {
        return Some("window-counted-from-rcv-wup");
    }
    // Its right edge, RCV.WUP + RCV.WND, has not moved with RCV.NXT: a segment starting
    // past it is outside Linux's window (dropped, a duplicate ACK) and inside the RFC's.
    // So is one starting at or before that edge whose text ends past it while the receive
    // queue holds unread data or an unread FIN (tcp_sequence(), 6.17 on: "Only accept this
    // packet if receive queue is empty"; a FIN alone may stick out), which the RFC takes
    // whole (RFC 9293 3.3.2): its ACK and window too (explorer rfc9293, seed 5151, case
    // 3305: a byte exactly at Linux's edge after an unread FIN, its window of 1 taken only
    // by the RFC's model, which then owed a FIN the kernel held in a zero window).
    let wup_edge = tcb.rcv_wup + tcb.rcv_wnd;
    if !seg.flags.syn()
        && tcb.rcv_wup.before(tcb.rcv_nxt)
        && seg.seq.before(tcb.rcv_nxt + tcb.rcv_wnd)
        && (seg.seq.after(wup_edge) || queued && (seg.seq + seg.len).after(wup_edge))
    {
        return Some("window-counted-from-rcv-wup");
    }
    None
}

/// Whether `seg`, arriving in a passive SYN-RECEIVED, lies outside the window the RFC's
/// model judges by (the one the request socket's last ACK advertised, rounded down to the
/// window scale) but inside the SYN-ACK's, which a Linux request socket and its child keep
/// (`tcp_check_req()`'s tcp_in_window(): the left edge, a segment reaching into the window,
/// an empty one at the right edge). Only segments the request judges by the window alone
/// count: an ACK of anything but the SYN-ACK is reset first, a SYN resets the request.
fn synack_window_takes(tcb: &Tcb, seg: &Seg, conn: &Connection) -> bool {
    let Some(wnd) = conn.synack_window() else {
        return false;
    };
    if tcb.rcv_wnd >= wnd
        || seg.flags.syn()
        || seg.flags.ack() && !seg.flags.rst() && seg.ack != tcb.iss + 1
        || segment_acceptable(seg.seq, seg.seg_len(), tcb.rcv_nxt, tcb.rcv_wnd)
    {
        return false;
    }
    let (left, right, end) = (tcb.rcv_nxt, tcb.rcv_nxt + wnd, seg.seq + seg.seg_len());
    seg.seq == left || end.after(left) && seg.seq.before(right) || seg.seq == right && end == right
}

/// Whether the model, having taken `seg`'s ACK (`tcb` before it, `conn` after), left the
/// send window other than Linux's tcp_may_update_window() would: Linux also updates on an
/// ACK of new data whatever SEG.SEQ, and at SND.WL1 without new data only when the window
/// grows or closes; the RFC updates when SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and
/// SND.WL2 =< SEG.ACK). It counts when the window ends up different, or SND.WL1 does (Linux
/// then judges the next segment's window against a SEG.SEQ the RFC did not record).
fn window_update_differs(tcb: &Tcb, seg: &Seg, conn: &Connection) -> bool {
    if !seg.flags.ack() || seg.flags.rst() || seg.flags.syn() {
        return false;
    }
    let after = conn.tcb();
    let nwin = u32::from(seg.wnd) << conn.snd_wnd_shift();
    let rfc =
        tcb.snd_wl1.before(seg.seq) || (tcb.snd_wl1 == seg.seq && !seg.ack.before(tcb.snd_wl2));
    let acks_new = seg.ack.after(tcb.snd_una) && !seg.ack.after(tcb.snd_nxt);
    if acks_new {
        // The model took the ACK (SND.UNA moved to it) but, by the RFC's rule, not its
        // window and SEQ, which Linux takes.
        !rfc && after.snd_una == seg.ack
            && after.snd_wl1 == tcb.snd_wl1
            && (nwin != tcb.snd_wnd || seg.seq.before(tcb.snd_wl1))
    } else {
        // The model shrank the window at SND.WL1 (not to zero), which Linux keeps.
        seg.ack == tcb.snd_una
            && tcb.snd_wl1 == seg.seq
            && rfc
            && nwin != 0
            && nwin < tcb.snd_wnd
            && after.snd_wnd == nwin
            && after.snd_wl1 == seg.seq
    }
}

/// Whether a segment the stack sent (and the model allowed) is a simultaneous open's
/// SYN-ACK offering window scaling to a peer whose SYN did not (`peer_syn_scaled`: its SYN
/// carried the option): Linux scales its windows from then on, the RFC reads them
/// unscaled. Unlike [`taint`] this only names a divergence nothing else explains (see
/// [`Found::unscaled`]): every such open has it, whatever else goes on.
pub fn scales_unnegotiated(seg: &Seg, peer_syn_scaled: Option<bool>, conn: &Connection) -> bool {
    explained_by_deviations(conn.profile().kind)
        && seg.flags.syn()
        && seg.flags.ack()
        && seg.options.window_scale.is_some()
        && peer_syn_scaled == Some(false)
}

/// [`taint`] for a close(): SO_LINGER {1, 0} in TIME-WAIT ends it on the RFC's reading,
/// not on Linux's, whose timewait socket goes on answering.
pub fn taint_abort(before: State, profile: &Profile) -> Option<&'static Deviation> {
    (explained_by_deviations(profile.kind) && before == State::TimeWait)
        .then(|| by_name("linger-zero-close-keeps-time-wait"))
        .flatten()
}

/// [`taint`] for shutdown(SHUT_WR): in a simultaneous open's SYN-RECEIVED the RFC's CLOSE
/// enters FIN-WAIT-1 at once, Linux holds the FIN and the state, and with a closed peer
/// window neither sends anything to see.
pub fn taint_shutdown(before: State, profile: &Profile) -> Option<&'static Deviation> {
    (explained_by_deviations(profile.kind) && before == State::SynReceived)
        .then(|| by_name("synrecv-shutdown-holds-fin"))
        .flatten()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tcpcheck_model::conn::{Connection, Seg, State};
    use tcpcheck_model::profile::Profile;
    use tcpcheck_model::wire::TcpFlags;

    use super::taint;

    /// A passive open (the stack's ISS 1000, the peer's 5000, the SYN-ACK's window 64240)
    /// completed by the peer's FIN at 1 ms, unread and not yet acknowledged: CLOSE-WAIT.
    fn fin_unread() -> Connection {
        let ms = Duration::from_millis;
        let mut c = Connection::new(Profile::rfc9293());
        c.open_passive(ms(0)).unwrap();
        c.arrive(ms(0), &Seg::new(TcpFlags::SYN, 5000, 0, 0));
        let mut synack = Seg::new(TcpFlags::SYN | TcpFlags::ACK, 1000, 5001, 0);
        synack.wnd = 64240;
        c.emitted(ms(0), &synack).unwrap();
        c.arrive(
            ms(1),
            &Seg::new(TcpFlags::FIN | TcpFlags::ACK, 5001, 1001, 0),
        );
        c
    }

    /// Explorer rfc9293, seed 5151, case 3305: a passive open (the stack's ISS 1000, the
    /// peer's 5000, the SYN-ACK's window 64240) completed by the peer's FIN, whose ACK is
    /// still delayed (RCV.WUP 5001, RCV.NXT 5002, the FIN unread); then one byte exactly at
    /// Linux's right edge, RCV.WUP + RCV.WND = 69241, with a window of 1. Linux drops it
    /// (its text ends past the edge and the receive queue holds the FIN); the RFC takes its
    /// window (the edge is RCV.NXT + RCV.WND = 69242), so a later zero window is not.
    #[test]
    fn a_byte_at_linuxs_edge_after_an_unread_fin_is_counted_from_rcv_wup() {
        let ms = Duration::from_millis;
        let c = fin_unread();
        assert_eq!(c.state(), State::CloseWait);
        let tcb = *c.tcb();
        assert_eq!((tcb.rcv_wup.0, tcb.rcv_nxt.0), (5001, 5002));
        let mut byte = Seg::new(TcpFlags::PSH | TcpFlags::ACK, 5001 + 64240, 1001, 1);
        byte.wnd = 1;
        let name = |c: &Connection, seg: &Seg| {
            let mut after = c.clone();
            after.arrive(ms(2), seg);
            taint(State::CloseWait, c.tcb(), 0, false, true, seg, &after).map(|d| d.name)
        };
        assert_eq!(name(&c, &byte), Some("window-counted-from-rcv-wup"));
        // Empty, it is inside both windows: nothing to name.
        let mut ack = Seg::new(TcpFlags::ACK, 5001 + 64240, 1001, 0);
        ack.wnd = 1;
        assert_eq!(name(&c, &ack), None);
        // With the FIN read, Linux's receive queue is empty and takes the byte's ACK too.
        let mut read = c.clone();
        assert!(
            read.receive(100).is_err(),
            "RFC 9293 3.10.3: connection closing"
        );
        assert_eq!(name(&read, &byte), None);
    }

    /// Explorer rfc9293, seed 777, case 4223 (case 580 is the same in CLOSING): the peer's
    /// FIN is in and unread, its ACK sent (RCV.WUP = RCV.NXT = 5002, the window 64239);
    /// then two bytes from one before the right edge, with a window of 0. Linux drops the
    /// segment (its text ends past the edge and the receive queue holds the FIN), so its
    /// window is not taken; the RFC trims it and takes its window.
    #[test]
    fn text_past_the_edge_after_an_unread_fin_is_dropped_whole() {
        let ms = Duration::from_millis;
        let mut c = fin_unread();
        let mut ack = Seg::new(TcpFlags::ACK, 1001, 5002, 0);
        ack.wnd = 64239;
        c.emitted(ms(1), &ack).unwrap();
        assert_eq!(c.state(), State::CloseWait);
        let tcb = *c.tcb();
        assert_eq!(
            (tcb.rcv_wup.0, tcb.rcv_nxt.0, tcb.rcv_wnd),
            (5002, 5002, 64239)
        );
        let mut text = Seg::new(TcpFlags::PSH | TcpFlags::ACK, 5002 + 64238, 1001, 2);
        text.wnd = 0;
        let name = |c: &Connection| {
            let mut after = c.clone();
            after.arrive(ms(2), &text);
            taint(State::CloseWait, c.tcb(), 0, false, true, &text, &after).map(|d| d.name)
        };
        assert_eq!(name(&c), Some("past-window-end-with-unread-data-dropped"));
        // With the FIN read, the queue is empty and Linux takes the segment too.
        let mut read = c.clone();
        assert!(
            read.receive(100).is_err(),
            "RFC 9293 3.10.3: connection closing"
        );
        assert_eq!(name(&read), None);
    }

    /// Explorer rfc9293, seed 123456, case 9873: a simultaneous open whose SYN-ACK offered
    /// window scaling to a peer whose SYN did not; the stack's next ACK advertises 63 (64,512
    /// bytes on Linux, 63 as the RFC reads it). 64 bytes and a FIN: the RFC takes 63 and
    /// trims the rest, Linux takes it all.
    #[test]
    fn text_the_unscaled_window_trims_is_named_by_the_unscaled_open() {
        let ms = Duration::from_millis;
        let mut c = Connection::new(Profile::rfc9293());
        c.open_active(ms(0)).unwrap();
        c.emitted(ms(0), &Seg::new(TcpFlags::SYN, 1000, 0, 0))
            .unwrap();
        c.arrive(ms(0), &Seg::new(TcpFlags::SYN, 5000, 0, 0));
        let mut synack = Seg::new(TcpFlags::SYN | TcpFlags::ACK, 1000, 5001, 0);
        synack.wnd = 64240;
        synack.options.window_scale = Some(10);
        c.emitted(ms(0), &synack).unwrap();
        c.arrive(ms(1), &Seg::new(TcpFlags::SYN, 5001, 0, 0));
        let mut ack = Seg::new(TcpFlags::ACK, 1001, 5001, 0);
        ack.wnd = 63;
        c.emitted(ms(1), &ack).unwrap();
        assert_eq!(c.state(), State::SynReceived);
        assert_eq!((c.tcb().rcv_nxt.0, c.tcb().rcv_wnd), (5001, 63));
        let name = |seg: &Seg, unscaled: bool| {
            let mut after = c.clone();
            after.arrive(ms(2), seg);
            taint(State::SynReceived, c.tcb(), 0, unscaled, false, seg, &after).map(|d| d.name)
        };
        let fin = Seg::new(TcpFlags::FIN | TcpFlags::ACK, 5001, 1001, 64);
        assert_eq!(
            name(&fin, true),
            Some("simultaneous-open-scales-unnegotiated-window")
        );
        // Inside the unscaled window both take it all; with the scale agreed, nothing.
        let inside = Seg::new(TcpFlags::FIN | TcpFlags::ACK, 5001, 1001, 62);
        assert_eq!(name(&inside, true), None);
        assert_eq!(name(&fin, false), None);
    }

    /// Explorer rfc9293, seed 60607, case 3606: with SACK on, a FIN held out of order at
    /// the last sequence number of the window (SACKed as 69240:69241), then a SYN,RST at
    /// 69241, the window's right edge and the SACK block's. Linux resets; the RFC finds the
    /// segment outside the window and drops it.
    #[test]
    fn a_rst_at_the_sack_edge_past_the_window_is_named() {
        let ms = Duration::from_millis;
        let open = |sack: bool| {
            let mut c = Connection::new(Profile::rfc9293());
            c.open_passive(ms(0)).unwrap();
            let mut syn = Seg::new(TcpFlags::SYN, 5000, 0, 0);
            syn.options.sack_permitted = sack;
            c.arrive(ms(0), &syn);
            let mut synack = Seg::new(TcpFlags::SYN | TcpFlags::ACK, 1000, 5001, 0);
            synack.wnd = 64240;
            synack.options.sack_permitted = sack;
            c.emitted(ms(0), &synack).unwrap();
            c.arrive(ms(1), &Seg::new(TcpFlags::ACK, 5001, 1001, 0));
            c.arrive(
                ms(1),
                &Seg::new(TcpFlags::FIN | TcpFlags::ACK, 69240, 1001, 0),
            );
            assert_eq!(c.state(), State::Established);
            c
        };
        let syn_rst = Seg::new(TcpFlags::SYN | TcpFlags::RST, 69241, 0, 0);
        let name = |c: &Connection| {
            let mut after = c.clone();
            after.arrive(ms(2), &syn_rst);
            taint(
                State::Established,
                c.tcb(),
                0,
                false,
                true,
                &syn_rst,
                &after,
            )
            .map(|d| d.name)
        };
        let sacked = open(true);
        assert_eq!(sacked.highest_sack_edge().map(|e| e.0), Some(69241));
        assert_eq!(name(&sacked), Some("rst-at-sack-edge-resets"));
        // Without SACK no block reports the FIN: Linux does not reset (it challenges the
        // RST at its window's edge), so this name does not apply.
        assert_eq!(name(&open(false)), None);
    }
}
