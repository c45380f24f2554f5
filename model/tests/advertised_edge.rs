//! The receive window's right edge while an ACK is delayed (RFC 9293 3.10.7.4, seventh: RCV.WND
//! is adjusted "as appropriate to the current buffer availability. The total of RCV.NXT and
//! RCV.WND should not be reduced"). On the `rfc9293` profile a stack may keep the edge it
//! advertised (smoltcp: fuzz crash-757820…) or let it move on with RCV.NXT; on Linux the edge
//! is counted from RCV.WUP.

mod common;

use tcpcheck_model::conn::{Connection, State};
use tcpcheck_model::profile::Profile;

use common::findings::*;

/// FIN-WAIT-1 (our FIN 1001 sent with window 60000 at RCV.NXT 5001: not Linux's clamped
/// maximum, which may stand for a wider window), then 1460 bytes in whose ACK is delayed:
/// RCV.NXT 6461, the advertised edge still 5001 + 60000.
fn fin_wait_1_with_a_delayed_ack(p: Profile) -> Connection {
    let mut c = established(p);
    c.close(ms(1)).unwrap();
    let mut fin = seg(FIN | ACK, 1001, 5001, 0);
    fin.wnd = 60000;
    c.emitted(ms(1), &fin).unwrap();
    c.arrive(ms(2), &seg(ACK, 5001, 1001, 1460));
    assert_eq!(c.tcb().rcv_nxt.0, 6461);
    c
}

/// A FIN acknowledging ours, 3 below RCV.NXT + 60000: past the advertised edge.
fn fin_past_the_advertised_edge() -> tcpcheck_model::conn::Seg {
    seg(FIN | ACK, 6461 + 60000 - 3, 1002, 0)
}

/// Either edge: a stack keeping the advertised one finds the FIN unacceptable (its ACK, the
/// state as it was); one whose edge moved with RCV.NXT holds it beyond the gap and takes its
/// ACK field (our FIN acknowledged). Each answers with an ACK of RCV.NXT.
#[test]
fn rfc_a_stack_may_keep_the_advertised_edge_or_move_it_with_rcv_nxt() {
    for state in [State::FinWait1, State::FinWait2] {
        let mut c = fin_wait_1_with_a_delayed_ack(Profile::rfc9293());
        c.arrive(ms(3), &fin_past_the_advertised_edge());
        assert!(c.keep_branches_where(|b| b.state() == state), "{state:?}");
        assert!(accepts(&c, ms(3), seg(ACK, 1002, 6461, 0)), "{state:?}");
    }
}

/// Text reaching past the advertised edge: a stack keeping it takes only what fits.
#[test]
fn rfc_a_stack_keeping_the_advertised_edge_takes_text_up_to_it() {
    let mut c = established(Profile::rfc9293());
    c.arrive(ms(1), &seg(ACK, 5001, 1001, 1000));
    c.arrive(ms(1), &seg(ACK, 6001, 1001, 65535));
    assert!(c.keep_branches_where(|b| b.tcb().rcv_nxt.0 == 5001 + 65535));
    assert!(accepts(&c, ms(1), seg(ACK, 1001, 5001 + 65535, 0)));
    let mut c = established(Profile::rfc9293());
    c.arrive(ms(1), &seg(ACK, 5001, 1001, 1000));
    c.arrive(ms(1), &seg(ACK, 6001, 1001, 65535));
    assert!(c.keep_branches_where(|b| b.tcb().rcv_nxt.0 == 6001 + 65535));
}

/// A stack that advertised its window anew has no older edge to keep: no branch.
#[test]
fn rfc_no_branch_once_the_window_is_advertised_again() {
    let mut c = fin_wait_1_with_a_delayed_ack(Profile::rfc9293());
    c.emitted(ms(3), &seg(ACK, 1002, 6461, 0)).unwrap();
    c.arrive(ms(4), &fin_past_the_advertised_edge());
    assert_eq!(c.branches(), 0);
    assert_eq!(c.state(), State::FinWait2);
}

/// Linux counts the window from RCV.WUP already (tcp_sequence()): the FIN is outside, and no
/// branch takes it.
#[test]
fn linux_keeps_the_edge_from_rcv_wup() {
    let mut c = fin_wait_1_with_a_delayed_ack(Profile::linux_defaults());
    c.arrive(ms(3), &fin_past_the_advertised_edge());
    assert!(!c.keep_branches_where(|b| b.state() == State::FinWait2));
    assert_eq!(c.state(), State::FinWait1);
}
