//! Rules the explorer (harness/src/explore) found the model missing or getting wrong against
//! Linux 6.18, each checked in the profile it belongs to. The `linux` ones are the model's
//! side of the known deviations in harness/src/explore/deviations/.
//!
//! This file: FINs, held data and where the stream ends (the other findings: the other
//! `explorer_findings_*.rs`).

mod common;

use tcpcheck_model::conn::{Connection, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::{SackBlock, SackBlocks};

use common::findings::*;

/// RFC 9293 3.10.7.4, eighth: a FIN ends the stream where it stands, so data held out of
/// order beyond it does not move RCV.NXT past it (both profiles).
#[test]
fn fin_ends_the_stream_before_held_data() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.arrive(ms(1), &seg(ACK, 5011, 1001, 100));
        let _ = c.emitted(ms(1), &seg(ACK, 1001, 5001, 0));
        c.arrive(ms(2), &seg(ACK | FIN, 5001, 1001, 20));
        assert_eq!(c.state(), State::CloseWait);
        assert_eq!(
            c.tcb().rcv_nxt.0,
            5022,
            "20 bytes and the FIN, nothing held beyond"
        );
    }
}

/// Linux: once the peer's FIN is in, a second FIN is ignored, and data reaching past RCV.NXT
/// from before it resets the connection with <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn linux_after_the_peers_fin() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 0));
    let _ = c.emitted(ms(2), &seg(ACK, 1001, 5002, 0));
    let mut second = c.clone();
    second.arrive(ms(3), &seg(ACK | FIN, 5002, 1001, 0));
    assert_eq!(second.tcb().rcv_nxt.0, 5002);
    assert!(second.check_overdue(ms(300)).is_ok(), "nothing owed");
    c.arrive(ms(3), &seg(ACK, 5001, 1001, 20));
    assert_eq!(c.state(), State::Closed);
    assert!(accepts(&c, ms(3), seg(RST, 1001, 0, 0)));
}

/// Linux tcp_validate_incoming(): tcp_reset_check() also applies to a RST inside the window,
/// so after the peer's FIN a RST at RCV.NXT - 1 resets (RFC 5961 3.2: challenge ACK).
#[test]
fn linux_in_window_rst_at_rcv_nxt_minus_one_after_fin_resets() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 0));
    let _ = c.emitted(ms(1), &seg(ACK, 1001, 5002, 0));
    let mut l = c.clone();
    l.arrive(ms(2), &seg(RST, 5001, 0, 1));
    assert_eq!(l.state(), State::Closed);
    let mut r = established(Profile::rfc9293());
    r.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 0));
    let _ = r.emitted(ms(1), &seg(ACK, 1001, 5002, 0));
    r.arrive(ms(2), &seg(RST, 5001, 0, 1));
    assert_eq!(r.state(), State::CloseWait);
}

/// RFC 9293 3.10.7.4: SHLD-31, a FIN beyond a hole is held with the data and processed when
/// the hole fills (both profiles); Linux's SACK blocks cover it.
#[test]
fn fin_beyond_a_hole_is_held_and_sacked() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.arrive(ms(1), &seg(ACK | FIN, 5011, 1001, 0));
        assert_eq!(
            c.out_of_order(),
            &[(tcpcheck_model::seq::SeqNumber(5011), 1)]
        );
        c.arrive(ms(2), &seg(ACK, 5001, 1001, 10));
        assert_eq!(c.state(), State::CloseWait);
        assert_eq!(c.tcb().rcv_nxt.0, 5012);
        assert_eq!(c.readable(), 10);
    }
}

/// Linux tcp_ofo_queue() and tcp_fin(): of two FINs held out of order, the earlier ends the
/// stream when the hole fills, and the out-of-order queue is purged with it, so the ACK
/// carries no SACK block (explorer, seed 2718, case 1820). Both profiles end the stream at
/// the first FIN (RFC 9293 3.10.7.4, eighth).
#[test]
fn the_earlier_of_two_held_fins_ends_the_stream() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.arrive(ms(1), &seg(ACK | FIN, 5097, 1001, 0));
        let _ = c.emitted(ms(1), &seg(ACK, 1001, 5001, 0));
        c.arrive(ms(2), &seg(ACK | FIN, 5002, 1001, 40));
        let _ = c.emitted(ms(2), &seg(ACK, 1001, 5001, 0));
        c.arrive(ms(3), &seg(ACK, 5001, 1001, 1));
        assert_eq!(c.state(), State::CloseWait);
        assert_eq!(c.tcb().rcv_nxt.0, 5043, "41 bytes and the FIN at 5042");
        assert!(c.out_of_order().is_empty(), "the later FIN is purged");
    }
}

/// Linux tcp_data_queue() after tcp_rcv_state_process() in CLOSE-WAIT: a segment starting
/// before RCV.NXT whose text ends at RCV.NXT and that carries a FIN moves RCV.NXT over that
/// FIN again, and the ACK says so (explorer, seed 2718 case 2321, seed 4242 case 925).
#[test]
fn linux_close_wait_takes_a_fin_ending_a_partial_segment() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 1));
    assert_eq!(c.state(), State::CloseWait);
    c.emitted(ms(2), &seg(ACK, 1001, 5003, 0)).unwrap();
    // From RCV.NXT - 2: two bytes, the second where the FIN was, then a FIN at RCV.NXT.
    c.arrive(ms(3), &seg(ACK | FIN, 5001, 1001, 2));
    assert_eq!(c.tcb().rcv_nxt.0, 5004);
    assert!(accepts(&c, ms(3), seg(ACK, 1001, 5004, 0)));
    assert!(
        !accepts(&c, ms(3), seg(ACK, 1001, 5003, 0)),
        "the old RCV.NXT is not what Linux acknowledges"
    );
    assert!(
        c.clone().check_overdue(ms(3 + 500)).is_err(),
        "the ACK is owed"
    );
    // CLOSE then sends a FIN acknowledging the new RCV.NXT.
    c.emitted(ms(4), &seg(ACK, 1001, 5004, 0)).unwrap();
    c.close(ms(5)).unwrap();
    assert!(accepts(&c, ms(5), seg(FIN | ACK, 1001, 5004, 0)));
    assert!(!accepts(&c, ms(5), seg(FIN | ACK, 1001, 5003, 0)));
}

/// Linux tcp_fin() in FIN-WAIT-2 sends its ACK before the SACK blocks are trimmed
/// (tcp_sack_remove() runs after tcp_ofo_queue()): the block that covered the FIN just taken
/// from the out-of-order queue is still reported (explorer, seed 2718, case 1546).
#[test]
fn linux_fin_wait_2_ack_reports_the_block_of_the_fin_it_takes() {
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_passive(ms(0)).unwrap();
    let mut syn = seg(SYN, 5000, 0, 0);
    syn.options.sack_permitted = true;
    c.arrive(ms(0), &syn);
    let mut synack = seg(SYN | ACK, 1000, 5001, 0);
    synack.options.sack_permitted = true;
    c.emitted(ms(0), &synack).unwrap();
    c.arrive(ms(0), &seg(ACK, 5001, 1001, 0));
    c.close(ms(1)).unwrap();
    c.emitted(ms(1), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    c.arrive(ms(2), &seg(ACK, 5001, 1002, 0));
    assert_eq!(c.state(), State::FinWait2);
    // 17 bytes and a FIN beyond a one-byte hole.
    c.arrive(ms(3), &seg(FIN | ACK, 5002, 1002, 17));
    let mut sack = seg(ACK, 1002, 5001, 0);
    sack.options.sack = SackBlocks::new(&[SackBlock::new(5002, 5020)]);
    c.emitted(ms(3), &sack).unwrap();
    // Another 17 bytes and FIN, one later: the block grows to 5021.
    c.arrive(ms(3), &seg(FIN | ACK, 5003, 1002, 17));
    let mut sack = seg(ACK, 1002, 5001, 0);
    sack.options.sack = SackBlocks::new(&[SackBlock::new(5002, 5021)]);
    c.emitted(ms(3), &sack).unwrap();
    c.arrive(ms(4), &seg(ACK, 5001, 1002, 1));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.tcb().rcv_nxt.0, 5020, "the earlier FIN ends the stream");
    let mut stale = seg(ACK, 1002, 5020, 0);
    stale.options.sack = SackBlocks::new(&[SackBlock::new(5002, 5021)]);
    assert!(accepts(&c, ms(4), stale), "the block as it stood");
    let mut beyond = seg(ACK, 1002, 5020, 0);
    beyond.options.sack = SackBlocks::new(&[SackBlock::new(5002, 5030)]);
    assert!(!accepts(&c, ms(4), beyond), "nothing beyond what was held");
}

/// Linux tcp_ofo_queue(): a held FIN that text in order has since covered is dropped with
/// its segment, and the next held FIN ends the stream; it is not lost, nor its sequence
/// number read as a byte (explorer, seed 9001, case 263). Both profiles.
#[test]
fn a_held_fin_covered_by_text_in_order_gives_way_to_the_next() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.arrive(ms(1), &seg(ACK | FIN, 5003, 1001, 95));
        let _ = c.emitted(ms(1), &seg(ACK, 1001, 5001, 0));
        c.arrive(ms(2), &seg(ACK | FIN, 5002, 1001, 0));
        let _ = c.emitted(ms(2), &seg(ACK, 1001, 5001, 0));
        c.arrive(ms(3), &seg(ACK, 5001, 1001, 76));
        assert_eq!(c.state(), State::CloseWait);
        assert_eq!(c.tcb().rcv_nxt.0, 5099, "97 bytes and the FIN at 5098");
        assert_eq!(c.readable(), 97);
    }
}

/// Linux tcp_recvmsg(): a FIN that came with text (or was merged into the queue's last
/// skb) is taken with the last byte read, so the receive queue is empty and tcp_sequence()
/// takes a segment reaching past the window's edge; a read that leaves a byte leaves the
/// queue holding it (explorer, seed 7, case 1417).
#[test]
fn linux_reading_the_last_byte_takes_the_fin_with_it() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 100));
    assert_eq!(c.state(), State::CloseWait);
    // A window under 65535, so that the field is not clamped (it would then stand for a
    // window that may be wider).
    let mut ack = seg(ACK, 1001, 5102, 0);
    ack.wnd = 64000;
    c.emitted(ms(1), &ack).unwrap();
    let edge = c.tcb().rcv_wup.0 + c.tcb().rcv_wnd;
    let past = seg(ACK, edge, 1001, 10);
    let mut part = c.clone();
    assert_eq!(part.receive(99), Ok(99));
    part.arrive(ms(2), &past);
    assert!(
        part.check_overdue(ms(50)).is_err(),
        "a byte unread: not acceptable, an ACK"
    );
    assert_eq!(c.receive(100), Ok(100));
    c.arrive(ms(2), &past);
    assert!(
        c.check_overdue(ms(50)).is_ok(),
        "taken (and ignored after the FIN)"
    );
}
