//! Matchers on divergences as the explorer and the runner report them.

use super::*;
use crate::differ::Departure;
use crate::stack::StackKind;

/// A divergence of the connection's state in SYN-RECEIVED, after the stack's SYN-ACK
/// did (`unscaled`) or did not offer window scaling to a peer whose SYN had none.
fn state_divergence(unscaled: bool) -> Found {
    Found {
        step: Some(1),
        state: State::SynReceived,
        event: "< .".into(),
        trigger: Trigger::Segment(TcpFlags::ACK),
        rule: "RFC 9293 3.3.2 (Figure 5): no transition for this event in this state".into(),
        expected: "state SYN-RECEIVED".into(),
        actual: "state ESTABLISHED".into(),
        departure: Box::new(Departure {
            owed: Owed::State(State::SynReceived),
            sent: Sent::State(State::Established),
        }),
        after: None,
        passive: false,
        unscaled,
        stack: StackKind::Linux,
    }
}

/// Explorer rfc9293, seed 777, case 7356: a simultaneous open whose SYN-ACK scaled its
/// window for a peer that did not offer scaling (Linux tcp_rcv_synsent_state_process()):
/// an ACK of the SYN-ACK carrying a byte inside the scaled window establishes the
/// connection on Linux, while the RFC reads the window unscaled (RFC 7323 2.3), finds the
/// segment unacceptable (RFC 9293 3.3.2) and stays in SYN-RECEIVED.
#[test]
fn an_unscaled_open_established_past_the_unscaled_window_is_named() {
    let rfc = Profile::rfc9293();
    assert_eq!(
        classify(&state_divergence(true), &rfc).map(|d| d.name),
        Some("simultaneous-open-scales-unnegotiated-window")
    );
    // Without the unscaled window, nothing explains it.
    assert_eq!(classify(&state_divergence(false), &rfc), None);
    // Nor does the linux profile, which encodes the deviation.
    assert_eq!(
        classify(&state_divergence(true), &Profile::linux_defaults()),
        None
    );
}
