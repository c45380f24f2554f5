//! Rules the explorer (harness/src/explore) found the model missing or getting wrong against
//! Linux 6.18, each checked in the profile it belongs to. The `linux` ones are the model's
//! side of the known deviations in harness/src/explore/deviations/.
//!
//! This file: what is owed when, timers and the races between them (the other findings: the other
//! `explorer_findings_*.rs`).

mod common;

use tcpcheck_model::conn::{ObligationKind, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::rule::Label;
use tcpcheck_model::wire::TcpFlags;

use common::findings::*;

/// RFC 9293 3.8.6.2.1 (sender SWS avoidance): data that does not fit the window as one
/// segment may wait, so SEND owes nothing at once then (both profiles).
#[test]
fn send_owes_nothing_when_the_first_segment_does_not_fit() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        // One byte, acknowledged, then the window shrinks with a later sequence number.
        c.arrive(ms(1), &seg(ACK, 5001, 1001, 1));
        c.emitted(ms(1), &seg(ACK, 1001, 5002, 0)).unwrap();
        let mut small = seg(ACK, 5002, 1001, 0);
        small.wnd = 100;
        c.arrive(ms(1), &small);
        c.send(ms(2), 500).unwrap();
        assert!(
            c.check_overdue(ms(100)).is_ok(),
            "nothing owed with a 100-byte window"
        );
        assert!(
            accepts(&c, ms(3), seg(ACK, 1001, 5002, 100)),
            "a window's worth is allowed"
        );
    }
}

/// Linux tcp_rcv_established(): header prediction may take text whose ACK is too old for
/// tcp_ack() (the fast path queues it first), or the slow path drops it, as the socket's
/// memory decides; nothing on the wire tells which when the challenge ACK is rate limited
/// and the text's ACK delayed. A RST at the old RCV.NXT then resets the slow path only
/// (tcp_validate_incoming(): not at RCV.NXT on the fast one). The socket's state, read by
/// the harness, keeps the branch that matches (explorer, seed 2718, case 765).
#[test]
fn linux_socket_state_tells_the_fast_path_from_the_slow() {
    let mut c = established(Profile::linux_defaults());
    // A first challenge ACK spends the rate limit.
    c.arrive(ms(1), &seg(RST, 5002, 0, 0));
    c.emitted(ms(1), &seg(ACK, 1001, 5001, 0)).unwrap();
    c.send(ms(1), 1).unwrap();
    c.emitted(ms(1), &seg(ACK | TcpFlags::PSH, 1001, 5001, 1))
        .unwrap();
    // Text at RCV.NXT acknowledging less than SND.UNA: too old (nothing acknowledged yet).
    c.arrive(ms(2), &seg(ACK, 5001, 1000, 1));
    assert_eq!(c.branches(), 1, "fast and slow path both followed");
    c.arrive(ms(3), &seg(RST, 5001, 0, 0));
    assert_eq!(c.state(), State::Closed, "the slow path is reset");
    // A state no branch is in changes nothing.
    assert!(!c.keep_branches_where(|b| b.state() == State::Listen));
    assert_eq!(c.state(), State::Closed);
    // The kernel's socket is still connected: the fast path it is.
    assert!(c.keep_branches_where(|b| b.state() != State::Closed));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.tcb().rcv_nxt.0, 5002, "the text was taken");
    assert_eq!(c.branches(), 0);
}

/// A retransmission timer races the input that makes it needless: a FIN retransmitted when
/// its RTO was due, read after the ACK that acknowledged it, is the timer firing first, and
/// allowed until the step is checked for what is overdue; one not yet due, or seen after that check, is not.
#[test]
fn a_retransmission_due_when_acknowledged_raced_the_ack() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.close(ms(10)).unwrap();
        c.emitted(ms(10), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
        let due = c
            .obligations()
            .iter()
            .find(|e| e.spec.flags.fin())
            .map(|e| e.due.earliest)
            .expect("the FIN's retransmission is owed");
        let mut early = c.clone();
        let mut raced = c.clone();
        // Acknowledged once the retransmission was due: it may still come, once.
        raced.arrive(due, &seg(ACK, 5001, 1002, 0));
        assert_eq!(raced.state(), State::FinWait2);
        let fin = seg(FIN | ACK, 1001, 5001, 0);
        assert!(raced.emitted(due + ms(1), &fin).is_ok());
        assert!(raced.emitted(due + ms(1), &fin).is_err(), "only once");
        let mut settled = c.clone();
        settled.arrive(due, &seg(ACK, 5001, 1002, 0));
        settled.check_overdue(due).unwrap();
        assert!(
            settled.emitted(due + ms(1), &fin).is_err(),
            "not after the settle"
        );
        // Acknowledged long before it was due: no race.
        early.arrive(ms(11), &seg(ACK, 5001, 1002, 0));
        assert!(early.emitted(ms(12), &fin).is_err());
    }
}

/// An ACK owed (the delayed ACK of a FIN in CLOSE-WAIT) when an ABORT or a RST makes it
/// needless may still come once in that step: its timer raced the input (explorer, seed 7
/// case 1673, seed 31337 case 4549). Both profiles.
#[test]
fn an_owed_ack_due_when_aborted_raced_the_abort() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 0));
        assert_eq!(c.state(), State::CloseWait);
        let ack = seg(ACK, 1001, 5002, 0);
        let mut r = c.clone();
        c.close_linger_zero(ms(2)).unwrap();
        // The differ checks what is overdue by a grace before the time it reads a reply.
        c.check_overdue(ms(1)).unwrap();
        let mut late = c.clone();
        assert!(c.emitted(ms(2), &ack).is_ok(), "the timer fired first");
        assert!(c.emitted(ms(2), &ack).is_err(), "only once");
        r.arrive(ms(2), &seg(RST, 5002, 0, 0));
        assert_eq!(r.state(), State::Closed);
        assert!(r.emitted(ms(2), &ack).is_ok());
        late.emitted(ms(2), &seg(RST, 1001, 0, 0)).unwrap();
        late.check_overdue(ms(3)).unwrap();
        assert!(
            late.emitted(ms(3), &ack).is_err(),
            "not after a settle past the input"
        );
    }
}

/// The stack's segment matches nothing owed: the divergence names what it stands in for,
/// the ACK owed now, not the first thing owed (the retransmission still to come), so that
/// what is reported, and the known deviation recognised, is that ACK's. RFC 9293: an ACK
/// of the peer's text at SND.NXT; Linux's tcp_acceptable_seq() puts it at SND.UNA + SND.WND
/// once the window shrank below SND.NXT (explorer, rfc9293 profile, seed 8, 200 events,
/// case 189).
#[test]
fn a_divergence_names_the_owed_segment_the_stack_sent_instead() {
    let mut c = established(Profile::rfc9293());
    c.send(ms(1), 3).unwrap();
    c.emitted(ms(1), &seg(ACK | TcpFlags::PSH, 1001, 5001, 3))
        .unwrap();
    let mut text = seg(ACK | TcpFlags::PSH, 5001, 1002, 1);
    text.wnd = 1;
    c.arrive(ms(2), &text);
    let err = c
        .emitted(ms(2), &seg(ACK, 1003, 5002, 0))
        .expect_err("the RFC's ACK carries SND.NXT");
    let owed = err.expected.spec().map(|s| s.to_string());
    assert_eq!(
        owed.as_deref(),
        Some("<SEQ=1004><ACK=5002><CTL=ACK>"),
        "{err}"
    );
    assert!(!err.rule.labels.contains(&Label::Must(18)), "{err}");
}

/// RFC 9293 3.8.1: a retransmission carries the current RCV.NXT, not the one of when its
/// timer was armed: text that came in meanwhile is acknowledged by it (both profiles; seen
/// on 6.18 with tcp_early_retrans=0 while reproducing the case above).
#[test]
fn a_retransmission_acknowledges_text_received_since_its_timer_was_armed() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.send(ms(1), 3).unwrap();
        c.emitted(ms(1), &seg(ACK | TcpFlags::PSH, 1001, 5001, 3))
            .unwrap();
        c.arrive(ms(2), &seg(ACK | TcpFlags::PSH, 5001, 1001, 1));
        c.emitted(ms(2), &seg(ACK, 1004, 5002, 0)).unwrap();
        let due = c
            .obligations()
            .iter()
            .find(|e| e.kind == ObligationKind::Retransmission)
            .expect("the data's retransmission")
            .due
            .earliest;
        let resent = seg(ACK | TcpFlags::PSH, 1001, 5002, 3);
        assert!(accepts(&c, due, resent), "ACK = RCV.NXT now");
        assert!(!accepts(&c, due, seg(ACK, 1001, 5001, 3)));
    }
}
