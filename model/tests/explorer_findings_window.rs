//! Rules the explorer (harness/src/explore) found the model missing or getting wrong against
//! Linux 6.18, each checked in the profile it belongs to. The `linux` ones are the model's
//! side of the known deviations in harness/src/explore/deviations/.
//!
//! This file: acceptability: window edges, RSTs and old ACKs (the other findings: the other
//! `explorer_findings_*.rs`).

mod common;

use tcpcheck_model::conn::{Connection, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::{SackBlock, SackBlocks, TcpFlags};

use common::findings::*;

/// Linux tcp_sequence(): a RST exactly at the right window edge is in the window and draws
/// a challenge ACK; RFC 9293 drops it.
#[test]
fn linux_rst_at_the_right_edge_draws_a_challenge_ack() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(RST, 5001 + 65535, 0, 0));
    assert!(accepts(&c, ms(1), seg(ACK, 1001, 5001, 0)));
    let mut r = established(Profile::rfc9293());
    r.arrive(ms(1), &seg(RST, 5001 + 65535, 0, 0));
    assert!(r.check_overdue(ms(50)).is_ok(), "nothing owed");
}

/// Linux tcp_ack(): right after a passive open no byte is acknowledged yet, so an ACK of the
/// ISN is too old (RFC 5961 5.2's window capped by bytes acked): challenge ACK, data dropped.
#[test]
fn linux_old_ack_window_is_capped_by_bytes_acked() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK, 5001, 1000, 10));
    assert_eq!(c.tcb().rcv_nxt.0, 5001, "data dropped");
    assert!(accepts(&c, ms(1), seg(ACK, 1001, 5001, 0)));
    let mut r = established(Profile::rfc9293());
    r.arrive(ms(1), &seg(ACK, 5001, 1000, 10));
    assert_eq!(r.tcb().rcv_nxt.0, 5011, "RFC 5961 5.2: within MAX.SND.WND");
}

/// Linux tcp_sequence() (6.17 on): while unread data waits, a segment reaching past the
/// right window edge is unacceptable (a duplicate ACK), not held.
#[test]
fn linux_segment_past_the_edge_with_unread_data_is_unacceptable() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK, 5001, 1001, 1));
    let _ = c.emitted(ms(1), &seg(ACK, 1001, 5002, 0));
    c.arrive(ms(2), &seg(ACK, 5002 + 65000, 1001, 1000));
    assert!(c.out_of_order().is_empty());
    assert!(accepts(&c, ms(2), seg(ACK, 1001, 5002, 0)));
    c.receive(10).unwrap();
    c.arrive(ms(3), &seg(ACK, 5002 + 65000, 1001, 1000));
    assert!(!c.out_of_order().is_empty(), "held once the queue is empty");
}

/// Linux drops a segment with none of ACK, RST and SYN before the sequence check: an
/// unacceptable one draws no ACK (RFC 9293 acknowledges it).
#[test]
fn linux_drops_segments_without_ack_rst_or_syn() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(FIN, 5001 + 100_000, 0, 0));
    assert!(c.check_overdue(ms(50)).is_ok(), "nothing owed");
    let mut r = established(Profile::rfc9293());
    r.arrive(ms(1), &seg(FIN, 5001 + 100_000, 0, 0));
    assert!(r.check_overdue(ms(50)).is_err(), "an ACK owed");
}

/// Linux tcp_acceptable_seq(): with SND.NXT beyond the peer's window (a FIN sent into a
/// window that then closed) an ACK carries SEQ = SND.UNA + SND.WND.
#[test]
fn linux_ack_seq_stays_inside_the_peers_window() {
    let mut c = established(Profile::linux_defaults());
    c.close(ms(1)).unwrap();
    c.emitted(ms(1), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    let mut zero = seg(ACK, 5001, 1001, 1);
    zero.wnd = 0;
    c.arrive(ms(2), &zero);
    assert!(accepts(&c, ms(2), seg(ACK, 1001, 5002, 0)));
    assert!(!accepts(&c, ms(2), seg(ACK, 1002, 5002, 0)));
}

/// Linux tcp_rcv_established(): header prediction's fast path queues in-order text before
/// tcp_ack() refuses a too-old ACK; the slow path drops it. The socket's memory decides, so
/// the model allows both and the stack's next segment (or a read) tells which ran.
#[test]
fn linux_fast_path_may_take_text_with_a_too_old_ack() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK, 5001, 1001, 1));
    c.emitted(ms(1), &seg(ACK, 1001, 5002, 0)).unwrap();
    // The ISN itself is too old right after a passive open (nothing acknowledged yet).
    c.arrive(ms(2), &seg(ACK, 5002, 1000, 10));
    assert!(accepts(&c, ms(2), seg(ACK, 1001, 5012, 0)), "fast path");
    assert!(
        accepts(&c, ms(2), seg(ACK, 1001, 5002, 0)),
        "slow path's challenge ACK"
    );
    let mut taken = c.clone();
    taken.emitted(ms(2), &seg(ACK, 1001, 5012, 0)).unwrap();
    assert_eq!(taken.readable(), 11);
    let mut read = c.clone();
    assert_eq!(read.receive_where(100, |r| *r == Ok(11)), Ok(11));
    // Another window keeps it off the fast path: dropped.
    let mut slow = established(Profile::linux_defaults());
    slow.arrive(ms(1), &seg(ACK, 5001, 1001, 1));
    slow.emitted(ms(1), &seg(ACK, 1001, 5002, 0)).unwrap();
    let mut d = seg(ACK, 5002, 1000, 10);
    d.wnd = 1000;
    slow.arrive(ms(2), &d);
    assert!(!accepts(&slow, ms(2), seg(ACK, 1001, 5012, 0)));
}

/// Linux tcp_sequence(): the window counts from RCV.WUP, so while the ACK of data is
/// delayed an old pure ACK ending between RCV.WUP and RCV.NXT is acceptable (no ACK owed).
#[test]
fn linux_window_counts_from_rcv_wup() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 30));
    c.arrive(ms(2), &seg(ACK, 5001, 1001, 0));
    assert!(
        accepts(&c, ms(2), seg(ACK, 1001, 5032, 0)),
        "only the delayed ACK"
    );
    let mut r = established(Profile::rfc9293());
    r.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 30));
    r.arrive(ms(2), &seg(ACK, 5001, 1001, 0));
    assert!(r.check_overdue(ms(3)).is_err(), "an ACK owed at once");
}

/// Linux tcp_select_window(): a window field of 65535 (unscaled) may stand for a wider
/// window, so text at the advertised right edge may be held (and reported in SACK blocks)
/// as well as dropped (explorer, seed 2718, case 2033).
#[test]
fn linux_text_at_a_clamped_window_edge_may_be_held() {
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_passive(ms(0)).unwrap();
    let mut syn = seg(SYN, 5000, 0, 0);
    syn.options.sack_permitted = true;
    c.arrive(ms(0), &syn);
    let mut synack = seg(SYN | ACK, 1000, 5001, 0);
    synack.options.sack_permitted = true;
    c.emitted(ms(0), &synack).unwrap();
    c.arrive(ms(0), &seg(ACK, 5001, 1001, 0));
    // Something held out of order keeps the ACKs immediate.
    c.arrive(ms(1), &seg(ACK, 5101, 1001, 10));
    let _ = c.emitted(ms(1), &seg(ACK, 1001, 5001, 0));
    c.arrive(ms(2), &seg(ACK, 5001, 1001, 20));
    let mut ack = seg(ACK, 1001, 5021, 0);
    ack.wnd = 65535;
    ack.options.sack = SackBlocks::new(&[SackBlock::new(5101, 5111)]);
    c.emitted(ms(2), &ack).unwrap();
    c.arrive(ms(3), &seg(ACK, 5021 + 65535, 1001, 1));
    let mut held = seg(ACK, 1001, 5021, 0);
    held.options.sack = SackBlocks::new(&[
        SackBlock::new(5021 + 65535, 5021 + 65536),
        SackBlock::new(5101, 5111),
    ]);
    let mut dropped = seg(ACK, 1001, 5021, 0);
    dropped.options.sack = SackBlocks::new(&[SackBlock::new(5101, 5111)]);
    assert!(accepts(&c, ms(3), held), "held, as the wider window allows");
    assert!(
        accepts(&c, ms(3), dropped),
        "dropped, as the advertised edge says"
    );
}

/// A segment with RST (`flags`, `len` octets) just past the advertised window edge of a
/// Linux connection whose window field is clamped at 65535: the window may be wider, so it
/// may draw a challenge ACK, which starts the out-of-window budget and holds back the
/// challenge ACK of a SYN right after.
fn rst_past_a_clamped_window_edge(flags: TcpFlags, len: u32) {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK, 5001, 1001, 10));
    c.emitted(ms(1), &seg(ACK, 1001, 5011, 0)).unwrap();
    let edge = c.tcb().rcv_wup.0 + c.tcb().rcv_wnd;
    c.arrive(ms(2), &seg(flags, edge, 0, len));
    assert!(
        accepts(&c, ms(2), seg(ACK, 1001, 5011, 0)),
        "in a wider window"
    );
    assert!(
        c.clone().check_overdue(ms(50)).is_ok(),
        "dropped in the advertised one"
    );
    c.emitted(ms(2), &seg(ACK, 1001, 5011, 0)).unwrap();
    c.arrive(ms(3), &seg(SYN, 5011, 0, 0));
    assert!(c.check_overdue(ms(50)).is_ok(), "rate limited");
}

/// Linux tcp_select_window(): behind a window field of 65535 the window may be wider, so a
/// RST past the advertised edge may be inside it and draw a challenge ACK (explorer, seed
/// 9001, case 3137).
#[test]
fn linux_rst_past_a_clamped_window_edge_may_draw_a_challenge_ack() {
    rst_past_a_clamped_window_edge(RST, 1);
}

/// A SYN,RST in that wider window is a RST there (Linux checks RST before SYN,
/// tcp_validate_incoming()), with the same challenge ACK (explorer, seed 1, 1000 events,
/// cases 1811 and 4240).
#[test]
fn linux_syn_rst_past_a_clamped_window_edge_may_draw_a_challenge_ack() {
    rst_past_a_clamped_window_edge(SYN | RST, 0);
}

/// The same wider window takes an empty FIN past the advertised edge: in CLOSING it is
/// ignored there, where the advertised window answers it with an ACK (explorer, seed 2026,
/// case 3976).
#[test]
fn linux_empty_segment_past_a_clamped_window_edge_may_be_inside() {
    let mut c = established(Profile::linux_defaults());
    c.close(ms(1)).unwrap();
    c.emitted(ms(1), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    c.arrive(ms(2), &seg(ACK | FIN, 5001, 1001, 10));
    assert_eq!(c.state(), State::Closing);
    c.emitted(ms(2), &seg(ACK, 1002, 5012, 0)).unwrap();
    let edge = c.tcb().rcv_wup.0 + c.tcb().rcv_wnd;
    c.arrive(ms(3), &seg(ACK | FIN, edge + 1, 1001, 0));
    assert!(
        accepts(&c, ms(3), seg(ACK, 1002, 5012, 0)),
        "the advertised window"
    );
    assert!(
        c.check_overdue(ms(50)).is_ok(),
        "in a wider window: ignored"
    );
}
