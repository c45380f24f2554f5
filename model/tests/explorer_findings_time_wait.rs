//! Rules the explorer (harness/src/explore) found the model missing or getting wrong against
//! Linux 6.18, each checked in the profile it belongs to. The `linux` ones are the model's
//! side of the known deviations in harness/src/explore/deviations/.
//!
//! This file: closing into TIME-WAIT and what TIME-WAIT answers (the other findings: the other
//! `explorer_findings_*.rs`).

mod common;

use tcpcheck_model::conn::State;
use tcpcheck_model::profile::Profile;

use common::findings::*;

/// Linux tcp_timewait_state_process(): a RST not at RCV.NXT is dropped without a challenge
/// ACK; a second FIN at RCV.NXT is answered with an ACK of RCV.NXT and not taken.
#[test]
fn linux_time_wait_answers_as_the_timewait_socket() {
    let mut c = time_wait(Profile::linux_defaults());
    c.arrive(ms(3), &seg(RST, 5003, 0, 0));
    assert!(c.check_overdue(ms(50)).is_ok());
    c.arrive(ms(4), &seg(FIN | ACK, 5002, 1002, 0));
    assert_eq!(c.tcb().rcv_nxt.0, 5002);
    assert!(accepts(&c, ms(4), seg(ACK, 1002, 5002, 0)));
    let mut r = time_wait(Profile::rfc9293());
    r.arrive(ms(3), &seg(RST, 5003, 0, 0));
    assert!(accepts(&r, ms(3), seg(ACK, 1002, 5002, 0)), "challenge ACK");
}

/// Linux: close() with SO_LINGER 0 in TIME-WAIT cannot reach the timewait socket, which
/// stays; RFC 9293's ABORT deletes the TCB.
#[test]
fn linux_linger_zero_close_leaves_time_wait() {
    let mut c = time_wait(Profile::linux_defaults());
    c.close_linger_zero(ms(3)).unwrap();
    assert_eq!(c.state(), State::TimeWait);
    let mut r = time_wait(Profile::rfc9293());
    r.close_linger_zero(ms(3)).unwrap();
    assert_eq!(r.state(), State::Closed);
}

/// Linux tcp_disconnect(): close() with SO_LINGER 0 in LAST-ACK with the FIN not yet sent
/// (a zero window) resets; RFC 9293's ABORT there sends nothing.
#[test]
fn linux_linger_zero_close_with_an_unsent_fin_resets() {
    for (p, rst) in [
        (Profile::linux_defaults(), true),
        (Profile::rfc9293(), false),
    ] {
        let mut c = established(p);
        let mut zero = seg(ACK | FIN, 5001, 1001, 0);
        zero.wnd = 0;
        c.arrive(ms(1), &zero);
        let _ = c.emitted(ms(1), &seg(ACK, 1001, 5002, 0));
        c.close(ms(2)).unwrap();
        assert_eq!(c.state(), State::LastAck);
        c.close_linger_zero(ms(3)).unwrap();
        assert_eq!(c.state(), State::Closed);
        assert_eq!(c.check_overdue(ms(20)).is_err(), rst, "a RST owed: {rst}");
    }
}

/// Linux tcp_v4_rcv(), TCP_TW_SYN: a SYN with FIN beyond RCV.NXT ends TIME-WAIT and goes to
/// the listener, which drops it; the next SYN is a fresh connection whose ISN need not lie
/// above the old sequence numbers (explorer, seed 4242, cases 736 and 750). A SYN the
/// listener takes keeps the MAY-2 floor.
#[test]
fn linux_time_wait_ended_by_a_dropped_syn_keeps_no_isn_floor() {
    let mut c = time_wait(Profile::linux_defaults());
    assert!(c.reopen_from_time_wait(ms(3), &seg(SYN | FIN, 5100, 0, 0)));
    assert_eq!(c.state(), State::Listen, "the listener dropped it");
    c.arrive(ms(4), &seg(SYN, 7000, 0, 0));
    assert!(c.emitted(ms(4), &seg(SYN | ACK, 500, 7001, 0)).is_ok());
    let mut k = time_wait(Profile::linux_defaults());
    assert!(k.reopen_from_time_wait(ms(3), &seg(SYN, 5100, 0, 0)));
    assert!(
        k.emitted(ms(3), &seg(SYN | ACK, 500, 5101, 0)).is_err(),
        "a reopened connection's ISN lies above the old SND.NXT"
    );
}

/// Linux tcp_timewait_state_process(): without timestamps the timewait socket does not read
/// a SYN's TSval, so an old SYN is answered within the out-of-window rate limit, not as a
/// SYN with a newer TSval (explorer, seed 31337, case 608).
#[test]
fn linux_time_wait_ignores_tsvals_without_timestamps() {
    let mut c = established(Profile::linux_defaults());
    c.close(ms(1)).unwrap();
    c.emitted(ms(1), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    let mut fin = seg(FIN | ACK, 5001, 1002, 0);
    fin.options.timestamps = Some((3, 0));
    c.arrive(ms(2), &fin);
    c.emitted(ms(2), &seg(ACK, 1002, 5002, 0)).unwrap();
    assert_eq!(c.state(), State::TimeWait);
    let mut syn = seg(SYN, 5000, 0, 0);
    syn.options.timestamps = Some((4, 0));
    c.arrive(ms(3), &syn);
    c.emitted(ms(3), &seg(ACK, 1002, 5002, 0)).unwrap();
    syn.options.timestamps = Some((6, 0));
    c.arrive(ms(4), &syn);
    assert!(
        c.check_overdue(ms(100)).is_ok(),
        "the second answer is rate limited"
    );
}

/// Linux tcp_check_req() gives the child the TSval of the ACK that made it even without
/// timestamps, tcp_time_wait() copies it as tw_ts_recent, and tcp_v4_send_ack() adds TSopt
/// whenever that TSecr is not zero: the timewait socket's ACKs carry TSopt, the full
/// socket's ACK of the FIN does not (explorer, seed 4242, case 2876).
#[test]
fn linux_time_wait_echoes_the_tsval_of_the_handshakes_ack() {
    let mut c = syn_received(Profile::linux_defaults());
    let mut ack = seg(ACK, 5001, 1001, 0);
    ack.options.timestamps = Some((11, 700));
    c.arrive(ms(1), &ack);
    assert_eq!(c.state(), State::Established);
    c.close(ms(2)).unwrap();
    c.emitted(ms(2), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    c.arrive(ms(3), &seg(FIN | ACK, 5001, 1002, 0));
    assert_eq!(c.state(), State::TimeWait);
    let plain = seg(ACK, 1002, 5002, 0);
    let mut stamped = plain;
    stamped.options.timestamps = Some((900, 11));
    assert!(!accepts(&c, ms(3), stamped), "the full socket's ACK");
    c.emitted(ms(3), &plain).unwrap();
    c.arrive(ms(4), &seg(FIN | ACK, 5001, 1002, 0));
    assert!(accepts(&c, ms(4), stamped), "the timewait socket's ACK");
    assert!(!accepts(&c, ms(4), plain));
    stamped.options.timestamps = Some((900, 12));
    assert!(!accepts(&c, ms(4), stamped));
    // Without a TSval in that ACK the timewait socket sends none.
    let mut t = time_wait(Profile::linux_defaults());
    t.arrive(ms(4), &seg(FIN | ACK, 5001, 1002, 0));
    assert!(accepts(&t, ms(4), plain));
}

/// Linux tcp_timewait_state_process(): a SYN reopens TIME-WAIT by its TSval only with
/// timestamps on, judged against tw_ts_recent, and an older TSval is a PAWS reject even
/// beyond RCV.NXT (explorer, seed 7, case 2842).
#[test]
fn linux_time_wait_reopens_by_tsval_only_with_timestamps() {
    let syn = |seq, val| {
        let mut s = seg(SYN, seq, 0, 0);
        s.options.timestamps = Some((val, 0));
        s
    };
    // Without timestamps: a FIN with TSval 3, then a SYN below RCV.NXT with TSval 4.
    let mut c = established(Profile::linux_defaults());
    c.close(ms(1)).unwrap();
    c.emitted(ms(1), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    let mut fin = seg(FIN | ACK, 5001, 1002, 0);
    fin.options.timestamps = Some((3, 0));
    c.arrive(ms(2), &fin);
    c.emitted(ms(2), &seg(ACK, 1002, 5002, 0)).unwrap();
    assert_eq!(c.state(), State::TimeWait);
    assert!(!c.reopen_from_time_wait(ms(3), &syn(5000, 4)));
    assert_eq!(c.state(), State::TimeWait);
    // With timestamps (TS.Recent 2).
    let mut t = syn_received_with_timestamps();
    let mut ack = seg(ACK, 5001, 1001, 0);
    ack.options.timestamps = Some((2, 700));
    t.arrive(ms(1), &ack);
    t.close(ms(1)).unwrap();
    let mut our_fin = seg(FIN | ACK, 1001, 5001, 0);
    our_fin.options.timestamps = Some((701, 2));
    t.emitted(ms(1), &our_fin).unwrap();
    let mut fin = seg(FIN | ACK, 5001, 1002, 0);
    fin.options.timestamps = Some((2, 701));
    t.arrive(ms(2), &fin);
    assert_eq!(t.state(), State::TimeWait);
    assert!(
        !t.clone().reopen_from_time_wait(ms(3), &syn(9000, 1)),
        "PAWS"
    );
    assert!(
        t.reopen_from_time_wait(ms(3), &syn(5000, 3)),
        "a newer TSval"
    );
}
