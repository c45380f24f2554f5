//! The state check fed by hand: the model's states against states a stack might report.

use std::time::Duration;

use tcpcheck_model::conn::State;
use tcpcheck_model::profile::Profile;

use super::super::tests::*;
use super::{transitions, Probe, Whose};
use crate::differ::{Call, Differ, Owed, Sent};
use crate::trace::states::{After, Side};

const FIN: tcpcheck_model::wire::TcpFlags = tcpcheck_model::wire::TcpFlags::FIN;

/// Reads the probes as a stack would answer: `conn` for the connection, LISTEN for the
/// listener.
fn read(d: &Differ, conn: State) -> Vec<(Probe, State)> {
    d.state_probes()
        .into_iter()
        .map(|p| match p.whose {
            Whose::Fd(_) => (p, State::Listen),
            Whose::Conn(_) => (p, conn),
        })
        .collect()
}

#[test]
fn an_agreeing_state_is_noted_beside_the_model_and_a_differing_one_diverges() {
    let mut d = listening(Profile::linux_defaults());
    handshake(&mut d);
    let probes = d.state_probes();
    assert!(probes.iter().any(|p| p.whose == Whose::Fd(LISTEN_FD)));
    let conn = probes
        .iter()
        .find(|p| p.whose == Whose::Conn(key()))
        .expect("the connection is probed");
    assert_eq!(conn.fd, None, "not accepted yet: read by its endpoints");
    assert_eq!(conn.ends.map(|(_, remote)| remote), Some(peer()));
    let seen = read(&d, State::Established);
    d.stack_states(ms(20), 6, &seen);
    agrees(&d);
    assert!(d.states().iter().any(|n| n.side == Side::Stack));

    let mut d = listening(Profile::linux_defaults());
    handshake(&mut d);
    let seen = read(&d, State::CloseWait);
    d.stack_states(ms(20), 6, &seen);
    let div = divergence(&d);
    assert_eq!(div.departure.owed, Owed::State(State::Established));
    assert_eq!(div.departure.sent, Sent::State(State::CloseWait));
    assert_eq!(div.rule, &transitions::SYN_RECEIVED_ACKED);
    assert_eq!(div.line, 6);
}

/// Lines 7 to 12: accept(), close(), the FIN, the peer's ACK and FIN, the last ACK: the
/// connection enters TIME-WAIT at 60 ms.
fn time_wait() -> Differ {
    let mut d = listening(Profile::linux_defaults());
    handshake(&mut d);
    let isn = PEER_ISN.wrapping_add(1);
    d.call(
        ms(30),
        7,
        LISTEN_FD,
        Call::Accept {
            accepted: Some((CONN_FD, peer())),
        },
    );
    d.call(ms(40), 8, CONN_FD, Call::Close);
    d.captured(ms(40), 9, &outbound(FIN | ACK, STACK_ISN + 1, isn));
    d.injected(ms(50), 10, &inbound(ACK, isn, STACK_ISN + 2));
    d.injected(ms(60), 11, &inbound(FIN | ACK, isn, STACK_ISN + 2));
    d.captured(
        ms(60),
        12,
        &outbound(ACK, STACK_ISN + 2, isn.wrapping_add(1)),
    );
    agrees(&d);
    d
}

#[test]
fn time_wait_ends_within_its_timer_window_and_not_outside_it() {
    let at = |s: u64| ms(60) + Duration::from_secs(s);
    // TIME-WAIT read as TIME-WAIT; CLOSED before the 60 s are up is wrong.
    let mut d = time_wait();
    let seen = read(&d, State::TimeWait);
    d.stack_states(ms(61), 12, &seen);
    agrees(&d);
    d.advance(at(30));
    let seen = read(&d, State::Closed);
    d.stack_states(at(30), 12, &seen);
    let div = divergence(&d);
    assert_eq!(div.departure.owed, Owed::State(State::TimeWait));
    assert_eq!(div.departure.sent, Sent::State(State::Closed));
    // The stack was seen in TIME-WAIT after the FIN, and no event came since: it left
    // TIME-WAIT too early (MUST-13), rather than missing the FIN's transition.
    assert_eq!(div.rule, &transitions::TIME_WAIT_LINGERS);
    // CLOSED at the first read after the FIN: the FIN's transition is what it missed.
    let mut d = time_wait();
    let seen = read(&d, State::Closed);
    d.stack_states(ms(61), 12, &seen);
    assert_eq!(divergence(&d).rule, &transitions::FIN_TIME_WAIT);

    // At the deadline either state is right: the kernel's timer wheel rounds 60 s up by
    // up to 2 s, and the model moves a grace after its own deadline.
    for (s, stack) in [(60, State::Closed), (61, State::TimeWait)] {
        let mut d = time_wait();
        d.advance(at(s));
        let seen = read(&d, stack);
        d.stack_states(at(s), 12, &seen);
        agrees(&d);
    }
    // Long after, a connection still in TIME-WAIT is wrong.
    let mut d = time_wait();
    d.advance(at(70));
    let seen = read(&d, State::TimeWait);
    assert!(
        !seen.is_empty(),
        "a connection the model just closed is read once more"
    );
    d.stack_states(at(70), 12, &seen);
    let div = divergence(&d);
    assert_eq!(div.departure.owed, Owed::State(State::Closed));
    assert_eq!(div.rule, &transitions::TIME_WAIT_ENDS);
}

#[test]
fn a_stack_without_states_is_not_probed_and_says_why() {
    let mut d = listening(Profile::linux_defaults());
    handshake(&mut d);
    let why = super::unreadable(|_| false).expect("no capability, no states");
    d.states_off_because(why);
    assert!(d.state_probes().is_empty());
    assert!(d
        .states_off()
        .is_some_and(|w| w.contains("connection-state")));
}

/// connect()'s row: the descriptor is read before the step's SYN is told to the model
/// (the runner's order), so the read names the descriptor, and the SYN then names the
/// connection. The read is the connection's: compared with its state, and shown beside the
/// row's SYN-SENT.
#[test]
fn a_connect_read_before_its_syn_is_the_connection_it_became() {
    let connect = |stack: State| {
        let mut d = Differ::new(Profile::linux_defaults());
        d.call(ms(0), 1, CONN_FD, Call::Socket);
        d.call(ms(0), 2, CONN_FD, Call::Connect { peer: peer() });
        let probes = d.state_probes();
        assert_eq!(
            probes.iter().map(|p| p.whose).collect::<Vec<_>>(),
            [Whose::Fd(CONN_FD)]
        );
        let seen: Vec<_> = probes.into_iter().map(|p| (p, stack)).collect();
        d.captured(ms(0), 2, &outbound(SYN, STACK_ISN, 0));
        d.stack_states(ms(0), 2, &seen);
        d
    };
    let d = connect(State::SynSent);
    agrees(&d);
    // Both rows, connect()'s and the SYN's, carry the stack's SYN-SENT.
    let stack: Vec<_> = d
        .states()
        .iter()
        .filter(|n| n.side == Side::Stack)
        .map(|n| (n.after, n.state))
        .collect();
    assert_eq!(stack.len(), 2, "{:?}", d.states());
    assert_eq!(stack[0], (After::Call { line: 2 }, State::SynSent));
    assert!(matches!(stack[1], (After::Segment { .. }, State::SynSent)));

    let div = divergence(&connect(State::Closed));
    assert_eq!(div.departure.owed, Owed::State(State::SynSent));
    assert_eq!(div.departure.sent, Sent::State(State::Closed));
    assert_eq!(div.rule, &transitions::ACTIVE_OPEN);
    assert_eq!(div.line, 2);
}

/// Segments the listener meets that make no connection (an ACK, then a RST): each row gets
/// the stack's state beside the model's LISTEN, the second too, although both sides had
/// already agreed there was no connection after the first.
#[test]
fn every_segment_the_listener_meets_gets_the_stacks_state() {
    let mut d = listening(Profile::linux_defaults());
    d.injected(ms(10), 4, &inbound(ACK, 1000, 5000));
    d.captured(ms(10), 5, &outbound(RST, 5000, 0));
    let seen = read(&d, State::Closed);
    d.stack_states(ms(10), 5, &seen);
    d.injected(ms(20), 6, &inbound(RST | ACK, 1000, 5000));
    let seen = read(&d, State::Closed);
    assert!(
        seen.iter().any(|(p, _)| p.whose == Whose::Conn(key())),
        "{seen:?}"
    );
    d.stack_states(ms(20), 6, &seen);
    agrees(&d);
    let rows = |side| {
        d.states()
            .iter()
            .filter(|n| n.side == side && matches!(n.after, After::Segment { .. }))
            .count()
    };
    assert_eq!(rows(Side::Stack), rows(Side::Model), "{:#?}", d.states());
    assert_eq!(rows(Side::Model), 3);
    // With nothing new noted, nothing gone on both sides is read again.
    let seen = read(&d, State::Closed);
    assert!(
        !seen.iter().any(|(p, _)| p.whose == Whose::Conn(key())),
        "{seen:?}"
    );
}
