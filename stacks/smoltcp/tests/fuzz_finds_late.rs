//! More divergences of the fuzz target judged (see `fuzz_finds.rs`): the finds of the
//! `TCPCHECK_FUZZ_FINDS` campaigns, most of them two known departures in one case, or one
//! showing events later than where it happened, each shrunk (events removed while the
//! divergence stayed) and run again against smoltcp and the model.

mod common;
mod fuzz_case;

use common::class_of;
use fuzz_case::{seg, setup};

use tcpcheck::explore::event::AckOf::{Iss, SndNxt, SndUna};
use tcpcheck::explore::event::SeqAt::{PeerIsn, RcvNxt, WndEnd};
use tcpcheck::explore::{Case, Event};

/// A model artefact, fixed there, uncovering a known departure (fuzz crash-757820…, shrunk).
/// Simultaneous open (smoltcp's window 65535 from RCV.NXT 4), an ACK of unsent data (smoltcp
/// answers it, starting its one-per-second limit), shutdown, 1460 bytes from the peer's ISN
/// (1457 new, their ACK delayed), then a FIN acknowledging ours 3 below RCV.NXT + 65535: past
/// the edge smoltcp advertised, which it keeps (RFC 9293 3.10.7.4 lets RCV.NXT + RCV.WND stay
/// put as text is taken; the rfc9293 model moved it with RCV.NXT and alone took the FIN).
/// smoltcp finds the FIN unacceptable, owes an ACK and holds it back: it stays in FIN-WAIT-1,
/// where the model's branch that took the FIN is in FIN-WAIT-2.
#[test]
fn a_fin_past_the_advertised_edge_draws_a_rate_limited_ack() {
    let case = Case {
        setup: setup(false, true, 1, Some(536), true, Some(7), false),
        events: vec![
            seg("S", PeerIsn(2), Iss(0), 0, 65535, true),
            seg(".", RcvNxt(0), SndNxt(0), 0, 0, false),
            seg(".", RcvNxt(0), SndNxt(1), 0, 65535, false),
            seg("SP.", RcvNxt(0), SndUna(0), 0, 1000, false),
            Event::Shutdown,
            seg(".", PeerIsn(0), SndNxt(-1), 1460, 1, false),
            seg("F.", WndEnd(-3), SndUna(1), 0, 1, false),
        ],
    };
    assert_eq!(class_of(case), "unacceptable-segment-ack-one-per-second");
}

/// A replay of text under an ACK now old (fuzz crash-2009b5…, shrunk). Passive; 100 bytes
/// acknowledging SND.NXT-3 draw RSTs in SYN-RECEIVED; a FIN with 3000 bytes at the window's
/// end completes the handshake (held); the 100 bytes replayed, their ACK now below SND.UNA:
/// the model takes them (RFC 9293 3.10.7.4, a duplicate ACK is ignored), smoltcp drops the
/// segment whole, and its next ACK is 100 short.
#[test]
fn a_replayed_old_ack_with_text_leaves_the_ack_short_by_its_text() {
    let case = Case {
        setup: setup(true, false, 2147483647, Some(1460), false, Some(7), true),
        events: vec![
            seg("S", PeerIsn(0), SndNxt(0), 0, 0, false),
            seg(".", RcvNxt(0), SndNxt(-3), 100, 65535, false),
            Event::Replay(0),
            Event::Replay(1),
            seg("FP.", WndEnd(-2), SndNxt(0), 3000, 65535, true),
            Event::Replay(3),
            Event::Replay(1),
        ],
    };
    assert_eq!(class_of(case), "old-ack-drops-segment");
}

/// Two departures on one segment (fuzz crash-470e83…, shrunk). Active open, the SYN,ACK
/// offers a window of 1 (unscaled), write(10) twice (one byte sent), then 1460 bytes at
/// RCV.NXT-3 acknowledging SND.NXT+3 with win 1000: smoltcp takes the ACK of queued unsent
/// data and sends from there, the model retransmits. With the ACK lowered to SND.NXT, the
/// segment's window still lets smoltcp send where the RFC keeps SND.WND. The same with a FIN
/// on the segment, placed from the peer's ISN (fuzz crash-9fa36a…, shrunk).
#[test]
fn an_ack_of_queued_data_with_a_window_the_rfc_ignores() {
    for last in [
        seg("P.", RcvNxt(-3), SndNxt(3), 1460, 1000, false),
        seg("F.", PeerIsn(-3), SndNxt(3), 1460, 1000, false),
    ] {
        let case = Case {
            setup: setup(false, true, 1, Some(536), false, Some(14), false),
            events: vec![
                seg("S.", RcvNxt(-3), SndNxt(0), 1460, 1, true),
                seg(".", RcvNxt(0), SndNxt(2), 3000, 65535, true),
                Event::Write(10),
                Event::Write(10),
                last,
            ],
        };
        assert_eq!(class_of(case), "ack-of-queued-unsent-data-accepted");
    }
}

/// Text held from IRS+2 (fuzz crash-59c028…, shrunk). Passive, a SYN with 3000 bytes, a FIN
/// with 3000 bytes at IRS+2 completing the handshake (held beyond IRS+1), then a FIN with 1460
/// bytes at RCV.NXT: the model ends the stream at that FIN, smoltcp joins the held text and
/// acknowledges a FIN after it.
#[test]
fn a_fin_inside_text_held_past_the_irs_is_misplaced() {
    let case = Case {
        setup: setup(true, false, 1, None, false, Some(0), false),
        events: vec![
            seg("", PeerIsn(-3), Iss(-1), 1460, 64240, true),
            Event::Replay(0),
            seg("S", PeerIsn(0), SndNxt(2), 3000, 65535, true),
            seg("FP.", PeerIsn(2), SndUna(1), 3000, 65535, false),
            Event::Replay(3),
            seg("FP.", RcvNxt(0), SndNxt(0), 1460, 1, false),
        ],
    };
    assert_eq!(class_of(case), "fin-inside-held-text-misplaced");
}

/// A forgotten FIN and an old ACK in one case (fuzz crash-5c3af5…, shrunk): a FIN with text
/// held past RCV.NXT (smoltcp forgets the FIN), text under ACK ISS (smoltcp drops it whole),
/// then writes and shutdown: smoltcp's FIN and ACK differ from the model's retransmission.
/// Each edit alone uncovers the other departure earlier; both together remove it.
#[test]
fn a_forgotten_fin_and_an_old_ack_in_one_case() {
    let case = Case {
        setup: setup(false, true, 0, Some(536), true, None, false),
        events: vec![
            seg("SP.", RcvNxt(0), SndNxt(0), 3000, 65535, true),
            seg("S.", WndEnd(-1), SndNxt(2), 3000, 0, false),
            seg("FP.", RcvNxt(1), SndUna(-1073741824), 3000, 65535, false),
            Event::Write(1),
            seg("P.", RcvNxt(-3), Iss(0), 1000, 0, false),
            Event::Write(10),
            Event::Shutdown,
        ],
    };
    assert_eq!(class_of(case), "out-of-order-fin-forgotten");
}

/// The same pair in FIN-WAIT-1 (fuzz crash-6dca8f…, shrunk): the held FIN forgotten, one byte
/// under ACK ISS dropped, then text acknowledging our FIN: the model (its FIN processed once
/// the gap filled) acknowledges where smoltcp does not.
#[test]
fn a_forgotten_fin_and_an_old_ack_after_shutdown() {
    let case = Case {
        setup: setup(false, true, 4294967280, Some(100), true, Some(7), true),
        events: vec![
            seg("SP.", RcvNxt(0), SndNxt(0), 3000, 64240, true),
            seg("FP.", RcvNxt(3), SndUna(0), 3000, 1000, true),
            Event::Shutdown,
            seg("P.", RcvNxt(0), Iss(0), 1, 65535, true),
            seg(".", PeerIsn(3), Iss(2), 1460, 65535, true),
        ],
    };
    assert_eq!(class_of(case), "out-of-order-fin-forgotten");
}

/// The same pair in ESTABLISHED (fuzz crash-c7d914…, shrunk).
#[test]
fn a_forgotten_fin_and_an_old_ack_before_the_gap_fills() {
    let case = Case {
        setup: setup(false, true, 4294967280, Some(100), true, Some(7), true),
        events: vec![
            seg("SP.", RcvNxt(-2), SndNxt(0), 0, 0, false),
            Event::Write(10),
            seg("FP.", RcvNxt(1), Iss(0), 3000, 1, true),
            seg(".", RcvNxt(-2), Iss(1), 1460, 64240, true),
        ],
    };
    assert_eq!(class_of(case), "out-of-order-fin-forgotten");
}

/// A FIN after the FIN, placed from the peer's ISN (fuzz crash-a0d426…, shrunk). Passive, a
/// SYN at ISN+2, a FIN with text from ISN+2 (CLOSE-WAIT), write(1), a second FIN at RCV.NXT
/// acknowledging the byte: smoltcp drops it with its ACK, so Nagle holds the next write(1)
/// where the model sends it.
#[test]
fn a_fin_after_a_fin_from_the_irs_drops_its_ack() {
    let case = Case {
        setup: setup(true, false, 1, Some(100), true, None, false),
        events: vec![
            seg("S", PeerIsn(2), SndNxt(2), 3000, 65535, true),
            seg("FP.", PeerIsn(2), SndUna(1), 3000, 65535, false),
            Event::Write(1),
            seg("FP.", RcvNxt(0), SndNxt(0), 3000, 65535, true),
            Event::Write(1),
        ],
    };
    assert_eq!(class_of(case), "fin-after-fin-dropped");
}

/// Two departures at one event (fuzz crash-b2f0ab…, shrunk). Text under ACK ISS with window 0,
/// dropped whole by smoltcp, so write(10) goes out with an ACK 997 short; with the ACK raised,
/// the segment's window (older than the one that set SND.WND) lets smoltcp send where the RFC
/// keeps the window. A FIN acknowledging SND.UNA - 2^30 before it is dropped by both (RFC 5961
/// 5.2), so the edit leaves its ACK alone.
#[test]
fn an_old_ack_with_a_zero_window_the_rfc_ignores() {
    let case = Case {
        setup: setup(false, true, 0, Some(536), true, None, false),
        events: vec![
            seg("SP.", RcvNxt(0), SndNxt(0), 3000, 65535, true),
            seg("S.", WndEnd(-1), SndNxt(2), 3000, 0, false),
            seg("FP.", RcvNxt(1), SndUna(-1073741824), 3000, 65535, false),
            seg("P.", RcvNxt(-3), Iss(0), 1000, 0, false),
            Event::Write(10),
        ],
    };
    assert_eq!(class_of(case), "old-ack-drops-segment");
}

/// An ACK of queued data in a zero window (fuzz crash-fd75a5…, shrunk). Active open into a
/// zero window, write(1) queued, then 3000 bytes acknowledging SND.UNA+1: smoltcp takes the
/// ACK of its unsent byte, so shutdown() sends its FIN from SND.NXT+1 where the model sends
/// nothing. With the ACK lowered the text is taken, and its ACK, owed at once (SHLD-19),
/// smoltcp delays: cut to 1000 bytes as well, the case runs through.
#[test]
fn an_ack_of_queued_data_in_a_zero_window_moves_the_fin() {
    let case = Case {
        setup: setup(false, true, 0, Some(536), true, None, false),
        events: vec![
            seg("S.", RcvNxt(-3), SndNxt(0), 1, 0, false),
            Event::Write(1),
            Event::Replay(0),
            seg("P.", RcvNxt(0), SndUna(1), 3000, 0, true),
            Event::Shutdown,
        ],
    };
    assert_eq!(class_of(case), "ack-of-queued-unsent-data-accepted");
}

/// Old text with a FIN at RCV.NXT, through a replay (a `TCPCHECK_FUZZ_FINDS` find, shrunk).
/// Active open; a FIN with one byte at the IRS, acknowledging ISS+1, is dropped in SYN-SENT
/// (no SYN); the SYN,ACK (its text dropped by both) makes RCV.NXT IRS+1; the FIN replayed,
/// its numbers as first sent, is one old byte and a FIN at RCV.NXT: the model takes the FIN,
/// smoltcp leaves the FIN out of SEG.LEN and answers with a duplicate ACK. The same in a
/// simultaneous open (the SYN without ACK, the FIN replayed in SYN-RECEIVED).
#[test]
fn a_replayed_fin_after_one_old_byte_is_unacceptable() {
    for syn in ["SP.", "SP"] {
        let case = Case {
            setup: setup(false, false, 4294967280, None, true, Some(0), true),
            events: vec![
                seg("F.", RcvNxt(0), SndNxt(0), 1, 1, true),
                seg(syn, RcvNxt(0), SndNxt(0), 3000, 65535, true),
                Event::Replay(1),
            ],
        };
        assert_eq!(class_of(case), "fin-after-old-text-unacceptable", "{syn}");
    }
}
