//! The rule a state divergence cites: the transition of RFC 9293's Figure 5 (§3.3.2) and
//! §3.10's event processing that the model took (or the absence of one), so a report says
//! which step of the standard the stack's state departs from.

use tcpcheck_model::conn::State;
use tcpcheck_model::rule::{Label, Rule};

use crate::differ::Trigger;

pub const PASSIVE_OPEN: Rule = Rule::rfc(9293, "3.10.1").says("OPEN, passive: enter LISTEN");
pub const ACTIVE_OPEN: Rule =
    Rule::rfc(9293, "3.10.1").says("OPEN, active: send a SYN, enter SYN-SENT");
pub const SYN_IN_LISTEN: Rule =
    Rule::rfc(9293, "3.10.7.2").says("a SYN in LISTEN: send a SYN,ACK, enter SYN-RECEIVED");
pub const SYN_SENT_ACKED: Rule =
    Rule::rfc(9293, "3.10.7.3").says("our SYN acknowledged in SYN-SENT: enter ESTABLISHED");
pub const SIMULTANEOUS_OPEN: Rule =
    Rule::rfc(9293, "3.10.7.3").says("a SYN without ACK in SYN-SENT: enter SYN-RECEIVED");
pub const SYN_RECEIVED_ACKED: Rule = Rule::rfc(9293, "3.10.7.4")
    .says("fifth, the ACK field: an acceptable ACK in SYN-RECEIVED enters ESTABLISHED");
pub const CLOSE_ESTABLISHED: Rule =
    Rule::rfc(9293, "3.10.4").says("CLOSE in ESTABLISHED: send a FIN, enter FIN-WAIT-1");
pub const CLOSE_CLOSE_WAIT: Rule =
    Rule::rfc(9293, "3.10.4").says("CLOSE in CLOSE-WAIT: send a FIN, enter LAST-ACK");
pub const CLOSE_DELETES: Rule =
    Rule::rfc(9293, "3.10.4").says("CLOSE in LISTEN or SYN-SENT: delete the TCB");
pub const FIN_CLOSE_WAIT: Rule =
    Rule::rfc(9293, "3.10.7.4").says("eighth, the FIN bit: ESTABLISHED enters CLOSE-WAIT");
pub const FIN_ACKED_FIN_WAIT_2: Rule = Rule::rfc(9293, "3.10.7.4")
    .says("fifth, the ACK field: FIN-WAIT-1 whose FIN is acknowledged enters FIN-WAIT-2");
pub const FIN_CLOSING: Rule = Rule::rfc(9293, "3.10.7.4")
    .says("eighth, the FIN bit: FIN-WAIT-1 whose FIN is not acknowledged enters CLOSING");
pub const FIN_TIME_WAIT: Rule = Rule::rfc(9293, "3.10.7.4").says(
    "eighth, the FIN bit: FIN-WAIT-2 (or FIN-WAIT-1 with its FIN acknowledged) enters TIME-WAIT",
);
pub const CLOSING_ACKED: Rule = Rule::rfc(9293, "3.10.7.4")
    .says("fifth, the ACK field: CLOSING whose FIN is acknowledged enters TIME-WAIT");
pub const LAST_ACK_ACKED: Rule = Rule::rfc(9293, "3.10.7.4")
    .says("fifth, the ACK field: LAST-ACK whose FIN is acknowledged enters CLOSED");
pub const TIME_WAIT_ENDS: Rule = Rule::rfc(9293, "3.10.8")
    .says("when the TIME-WAIT timeout expires, delete the TCB and enter CLOSED");
pub const TIME_WAIT_LINGERS: Rule = Rule::rfc(9293, "3.6.1")
    .labels(&[Label::Must(13)])
    .says("an active close lingers in TIME-WAIT");
pub const FIN_WAIT_2_TIMEOUT: Rule = Rule::linux("tcp_fin_timeout")
    .says("an orphaned FIN-WAIT-2 ends after net.ipv4.tcp_fin_timeout");
pub const RST_CLOSES: Rule =
    Rule::rfc(9293, "3.10.7.4").says("second, the RST bit: the connection enters CLOSED");
pub const RST_BACK_TO_LISTEN: Rule = Rule::rfc(9293, "3.10.7.4")
    .says("second, the RST bit: SYN-RECEIVED from a passive OPEN returns to LISTEN");
pub const ABORT_CLOSES: Rule = Rule::rfc(9293, "3.10.5").says("ABORT: enter CLOSED");
pub const GIVE_UP: Rule = Rule::rfc(9293, "3.8.3")
    .labels(&[Label::Must(20)])
    .says("after R2 retransmissions the connection is closed");
pub const ICMP_HARD_ABORTS: Rule = Rule::rfc(9293, "3.9.2.2")
    .labels(&[Label::Shld(26)])
    .says("a hard ICMP error (destination unreachable 2 to 4) aborts the connection");
pub const ICMP_SOFT_KEEPS: Rule = Rule::rfc(9293, "3.9.2.2").labels(&[Label::Must(56)]).says(
    "a soft ICMP error (destination unreachable 0, 1, 5, time exceeded, parameter \
         problem), or one the connection ignores, does not abort it",
);
pub const NO_TRANSITION: Rule = Rule::rfc(9293, "3.3.2")
    .aside("Figure 5")
    .says("no transition for this event in this state");
/// The model moved in a way none of the rules above names (a model rule this table does
/// not know yet, or the planted bug): the section, and that the move is not Figure 5's.
pub const EVENT_PROCESSING: Rule = Rule::rfc(9293, "3.10")
    .says("event processing, by a move that is not among Figure 5's transitions");

/// The rule of the model's move from `from` to `to` on `trigger`; `timer`: no event moved
/// it, a timer did.
pub fn rule_of(from: State, to: State, trigger: Trigger, timer: bool) -> &'static Rule {
    use State::*;
    match (from, to) {
        (TimeWait, Closed) => &TIME_WAIT_ENDS,
        (FinWait2, Closed) if timer => &FIN_WAIT_2_TIMEOUT,
        (_, Closed) if timer => &GIVE_UP,
        (_, Closed) if matches!(trigger, Trigger::Segment(f) if f.rst()) => &RST_CLOSES,
        (SynReceived, Listen) if matches!(trigger, Trigger::Segment(f) if f.rst()) => {
            &RST_BACK_TO_LISTEN
        }
        (_, Closed) if trigger == Trigger::Icmp => &ICMP_HARD_ABORTS,
        (a, b) if a == b && trigger == Trigger::Icmp => &ICMP_SOFT_KEEPS,
        (_, Closed) if trigger == Trigger::Abort => &ABORT_CLOSES,
        (Listen | SynSent, Closed) => &CLOSE_DELETES,
        (LastAck, Closed) => &LAST_ACK_ACKED,
        (Closed, Listen) => &PASSIVE_OPEN,
        (Closed, SynSent) => &ACTIVE_OPEN,
        (Listen | Closed, SynReceived) => &SYN_IN_LISTEN,
        (SynSent, Established) => &SYN_SENT_ACKED,
        (SynSent, SynReceived) => &SIMULTANEOUS_OPEN,
        (SynReceived, Established) => &SYN_RECEIVED_ACKED,
        (SynReceived | Established, FinWait1) => &CLOSE_ESTABLISHED,
        (CloseWait, LastAck) => &CLOSE_CLOSE_WAIT,
        (SynReceived | Established, CloseWait) => &FIN_CLOSE_WAIT,
        (FinWait1, FinWait2) => &FIN_ACKED_FIN_WAIT_2,
        (FinWait1, Closing) => &FIN_CLOSING,
        (FinWait1 | FinWait2, TimeWait) => &FIN_TIME_WAIT,
        (Closing, TimeWait) => &CLOSING_ACKED,
        (TimeWait, TimeWait) => &TIME_WAIT_LINGERS,
        (a, b) if a == b => &NO_TRANSITION,
        _ => &EVENT_PROCESSING,
    }
}

#[cfg(test)]
mod tests {
    use tcpcheck_model::wire::TcpFlags;

    use super::*;

    #[test]
    fn figure_5_transitions_cite_their_step() {
        let fin = Trigger::Segment(TcpFlags::FIN | TcpFlags::ACK);
        let rule = rule_of(State::FinWait2, State::TimeWait, fin, false);
        assert_eq!(
            rule.to_string(),
            "RFC 9293 3.10.7.4: eighth, the FIN bit: FIN-WAIT-2 (or FIN-WAIT-1 with its FIN \
             acknowledged) enters TIME-WAIT"
        );
        let rst = Trigger::Segment(TcpFlags::RST);
        assert_eq!(
            rule_of(State::Established, State::Closed, rst, false),
            &RST_CLOSES
        );
        assert_eq!(
            rule_of(State::TimeWait, State::Closed, Trigger::Other, true),
            &TIME_WAIT_ENDS
        );
        assert_eq!(
            rule_of(State::CloseWait, State::CloseWait, Trigger::Other, false),
            &NO_TRANSITION
        );
        assert_eq!(
            rule_of(State::SynReceived, State::Listen, rst, false),
            &RST_BACK_TO_LISTEN
        );
        assert_eq!(
            rule_of(State::Closed, State::Listen, Trigger::Other, false),
            &PASSIVE_OPEN
        );
        // A move no rule names (the planted state bug's FIN-WAIT-1 to CLOSED on a FIN)
        // says so in a whole sentence.
        assert_eq!(
            rule_of(State::FinWait1, State::Closed, fin, false).to_string(),
            "RFC 9293 3.10: event processing, by a move that is not among Figure 5's \
             transitions"
        );
        assert_eq!(
            TIME_WAIT_LINGERS.to_string(),
            "RFC 9293 3.6.1: MUST-13, an active close lingers in TIME-WAIT"
        );
    }
}
