//! The rules the connection model cites, one constant each: an obligation, a choice or a
//! divergence carries `&'static Rule`, so the harness names a rule by its constant instead of
//! by its words. The comment at the code that implements a rule cites it too (the
//! requirement matrix reads comments, not these strings).

use crate::rule::{Label::*, Rule};

/// Linux limits the ACKs it sends for out-of-window segments.
pub const OOW_RATE_LIMITED: Rule = Rule::linux("tcp_oow_rate_limited");
/// Challenge ACKs are rate-limited.
pub const CHALLENGE_ACK_LIMIT: Rule = Rule::rfc(5961, "7");
pub const ACTIVE_OPEN: Rule =
    Rule::rfc(9293, "3.10.1").says("active OPEN sends <SEQ=ISS><CTL=SYN>");
pub const SEND_SEGMENTIZES: Rule =
    Rule::rfc(9293, "3.10.2").says("SEND in ESTABLISHED segmentizes and sends");
pub const HALF_DUPLEX_CLOSE: Rule = Rule::rfc(9293, "3.6.1").labels(&[May(1), Shld(3)]);
pub const CLOSE_WITH_UNREAD_DATA: Rule = Rule::rfc(9293, "3.6.1")
    .labels(&[Shld(3)])
    .says("CLOSE with unread data sends <SEQ=SND.NXT><CTL=RST>");
/// ABORT, as a choice's rule.
pub const ABORT_CALL: Rule = Rule::rfc(9293, "3.10.5");
pub const LINUX_DISCONNECT_RST: Rule = Rule::linux("tcp_disconnect")
    .says("unsent data or FIN in CLOSING or LAST-ACK: <SEQ=SND.NXT><CTL=RST>");
pub const CLOSE_SENDS_FIN: Rule =
    Rule::rfc(9293, "3.10.4").says("CLOSE sends a FIN once queued data is sent");
pub const ABORT_SENDS_RST: Rule =
    Rule::rfc(9293, "3.10.5").says("ABORT sends <SEQ=SND.NXT><CTL=RST>");
pub const REOPEN_ISN_ABOVE: Rule = Rule::rfc(9293, "3.6.1")
    .labels(&[May(2)])
    .says("a connection reopened from TIME-WAIT uses an ISN above the old sequence numbers");
/// What the stack sent when nothing was owed.
pub const NO_RULE: Rule = Rule::rfc(9293, "3.10").says("no rule allows this segment in this state");
pub const ZERO_WINDOW_PROBE: Rule = Rule::rfc(9293, "3.8.6").labels(&[Must(35)]);
pub const WINDOW_UPDATE: Rule = Rule::rfc(9293, "3.8.6.2.2");
pub const FAST_RETRANSMIT: Rule =
    Rule::rfc(5681, "3.2").says("SND.UNA's segment retransmitted after three duplicate ACKs");
pub const TAIL_LOSS_PROBE: Rule = Rule::linux("tcp_schedule_loss_probe");
pub const MSS_ONLY_IN_SYN: Rule = Rule::rfc(9293, "3.2")
    .labels(&[Must(65)])
    .says("no MSS option outside SYN segments");
pub const MSS_OPTION_SENT: Rule = Rule::rfc(9293, "3.7.1").labels(&[Shld(5)]);
pub const NO_TSOPT_IN_SYNACK: Rule =
    Rule::rfc(7323, "3.2").says("no TSopt in a SYN-ACK to a SYN without one");
pub const TIMEWAIT_TSOPT: Rule = Rule::linux("tcp_v4_send_ack")
    .says("TSopt exactly when the timewait socket's TS.Recent is not zero");
pub const TSOPT_IN_EVERY_SEGMENT: Rule =
    Rule::rfc(7323, "3.2").says("TSopt in every non-RST segment once negotiated");
pub const TSVAL_MONOTONE: Rule = Rule::rfc(7323, "5.4").says("TSval never goes back");
pub const TSECR_ECHOES: Rule = Rule::rfc(7323, "4.3").says("TSecr echoes the peer's TSval");
pub const NO_TSOPT_UNNEGOTIATED: Rule =
    Rule::rfc(7323, "3.2").says("no TSopt unless both SYNs carried it");
pub const NO_SACK_UNNEGOTIATED: Rule =
    Rule::rfc(2018, "2").says("no SACK option unless SACK-permitted was exchanged");
pub const SACK_BLOCKS_HELD: Rule =
    Rule::rfc(2018, "4").says("each SACK block reports data received and held");
pub const SACK_ON_EVERY_ACK: Rule = Rule::rfc(2018, "4")
    .aside("SHOULD, Linux does")
    .says("ACKs carry SACK blocks while data is held");
pub const KEEPALIVE_PROBE: Rule = Rule::rfc(9293, "3.8.4")
    .labels(&[May(5)])
    .says("a keep-alive probe after the idle time");
pub const KEEPALIVE_RESET: Rule = Rule::rfc(9293, "3.8.4")
    .says("the connection is dropped after unanswered keep-alives (Linux: RST)");
/// Every retransmission the model owes cites this one.
pub const RETRANSMISSION: Rule = Rule::rfc(9293, "3.8.1")
    .labels(&[Must(18)])
    .says("retransmission when the RFC 6298 timer expires");
/// A SYN (or SYN-ACK) retransmission owed and not sent by its deadline: within R2 for a
/// SYN, which lasts at least 3 minutes, the stack stopped retransmitting (had it only been
/// late, its copy would have been the retransmission; an early one cites RETRANSMISSION).
pub const SYN_RETRANSMITTED_FOR_R2: Rule = Rule::rfc(9293, "3.8.3")
    .labels(&[Must(23)])
    .says("a SYN is retransmitted for at least 3 minutes (R2 for a SYN): one owed is not sent");
/// Urgent data sent (the sockets interface's MSG_OOB): every segment that starts before
/// SND.UP carries URG and the pointer to SND.UP.
pub const URGENT_SEND: Rule = Rule::rfc(9293, "3.8.5")
    .labels(&[Must(30), Must(62)])
    .says("URG with the urgent pointer at the octet after the urgent data, while SND.UP is ahead");
pub const RST_CHALLENGE_ACK: Rule =
    Rule::rfc(5961, "3.2").says("in-window RST not at RCV.NXT: challenge ACK");
pub const LINUX_FAST_PATH: Rule = Rule::linux("tcp_rcv_established");
pub const ACK_CHALLENGE_ACK: Rule =
    Rule::rfc(5961, "5.2").says("ACK outside SND.UNA-MAX.SND.WND..SND.NXT: challenge ACK");
pub const LISTEN_ACK_RST: Rule =
    Rule::rfc(9293, "3.10.7.2").says("LISTEN, ACK: <SEQ=SEG.ACK><CTL=RST>");
pub const LINUX_RCV_STATE_PROCESS: Rule = Rule::linux("tcp_rcv_state_process");
pub const LISTEN_SYN: Rule =
    Rule::rfc(9293, "3.10.7.2").says("LISTEN, SYN: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>");
pub const SYN_CHALLENGE_ACK: Rule =
    Rule::rfc(5961, "4.2").says("SYN in a synchronized state: challenge ACK");
pub const DATA_AFTER_HALF_CLOSE_RST: Rule = Rule::rfc(9293, "3.6.1")
    .labels(&[Shld(3)])
    .says("data after a half-duplex close draws a RST");
pub const LINUX_DATA_AFTER_FIN_RST: Rule =
    Rule::linux("tcp_rcv_state_process").says("data after the peer's FIN: <SEQ=SEG.ACK><CTL=RST>");
pub const TEXT_BEYOND_WINDOW: Rule =
    Rule::rfc(9293, "3.10.7.4").says("text beyond the window: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>");
pub const OUT_OF_ORDER_ACK: Rule = Rule::rfc(9293, "3.10.7.4")
    .labels(&[May(13)])
    .says("out-of-order data acknowledged at once (RFC 5681 4.2)");
pub const OUT_OF_ORDER_HELD: Rule = Rule::rfc(9293, "3.10.7.4").labels(&[May(13)]);
pub const DELAYED_ACK: Rule = Rule::rfc(9293, "3.8.6.3")
    .labels(&[Must(40)])
    .says("data acknowledged within the ACK delay limit");
pub const ACK_EVERY_SECOND_SEGMENT: Rule = Rule::rfc(9293, "3.8.6.3")
    .labels(&[Shld(19)])
    .says("an ACK for at least every second full-sized segment");
pub const LINUX_SECOND_SEGMENT_ACK_AT_READ: Rule = Rule::linux("tcp_cleanup_rbuf")
    .says("more than one full-sized segment unacknowledged: the read sends the ACK");
pub const UNPUSHED_DATA_RELEASED: Rule = Rule::rfc(9293, "3.9.1.2")
    .labels(&[Must(60)])
    .says("data held while earlier data was in flight is sent once that is acknowledged");
pub const CLOSED_ACK_ON: Rule =
    Rule::rfc(9293, "3.10.7.1").says("CLOSED, ACK on: <SEQ=SEG.ACK><CTL=RST>");
pub const CLOSED_ACK_OFF: Rule =
    Rule::rfc(9293, "3.10.7.1").says("CLOSED, ACK off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>");
pub const SYN_SENT_BAD_ACK: Rule =
    Rule::rfc(9293, "3.10.7.3").says("SYN-SENT, unacceptable ACK: <SEQ=SEG.ACK><CTL=RST>");
pub const SYN_SENT_ACKED: Rule = Rule::rfc(9293, "3.10.7.3")
    .says("SYN-SENT, our SYN acknowledged: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>");
pub const SIMULTANEOUS_OPEN: Rule = Rule::rfc(9293, "3.10.7.3")
    .says("SYN-SENT, SYN without ACK: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>");
pub const FIN_ACKED: Rule =
    Rule::rfc(9293, "3.10.7.4").says("a FIN is acknowledged: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>");
pub const TIME_WAIT_REOPEN: Rule = Rule::rfc(9293, "3.6.1").labels(&[May(2)]);
pub const TIME_WAIT_ACK: Rule = Rule::linux("tcp_timewait_state_process")
    .says("TIME-WAIT answers with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>");
pub const LINUX_TIME_WAIT: Rule = Rule::linux("tcp_timewait_state_process");
pub const ZERO_WINDOW_TEXT: Rule =
    Rule::rfc(9293, "3.10.7.4").says("zero window: text dropped, ACK sent");
/// SEGMENT ARRIVES in a synchronized state, as a choice's rule.
pub const SEGMENT_ARRIVES: Rule = Rule::rfc(9293, "3.10.7.4");
pub const PAWS: Rule = Rule::rfc(7323, "5.3")
    .says("R1, PAWS: an old TSval makes the segment unacceptable: ACK and drop");
pub const UNACCEPTABLE_SEGMENT: Rule =
    Rule::rfc(9293, "3.10.7.4").says("unacceptable segment: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>");
pub const SYN_RECEIVED_BAD_ACK: Rule =
    Rule::rfc(9293, "3.10.7.4").says("SYN-RECEIVED, unacceptable ACK: <SEQ=SEG.ACK><CTL=RST>");
pub const REQUEST_SYN_RST: Rule = Rule::linux("tcp_check_req")
    .says("a SYN in the window resets the request: <SEQ=SEG.ACK><CTL=RST>");
pub const REQUEST_SYN_RST_ACK: Rule = Rule::linux("tcp_check_req")
    .says("a SYN in the window resets the request: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>");
pub const REQUEST_SYN_AGAIN: Rule =
    Rule::linux("tcp_check_req").says("a repeated SYN is answered with the SYN-ACK again");
pub const ACK_OF_UNSENT: Rule =
    Rule::rfc(9293, "3.10.7.4").says("ACK of unsent data: send an ACK and drop");

/// Every rule above, for the tests that check the catalogue.
pub const ALL: &[&Rule] = &[
    &OOW_RATE_LIMITED,
    &CHALLENGE_ACK_LIMIT,
    &ACTIVE_OPEN,
    &SEND_SEGMENTIZES,
    &HALF_DUPLEX_CLOSE,
    &CLOSE_WITH_UNREAD_DATA,
    &ABORT_CALL,
    &LINUX_DISCONNECT_RST,
    &CLOSE_SENDS_FIN,
    &ABORT_SENDS_RST,
    &REOPEN_ISN_ABOVE,
    &NO_RULE,
    &ZERO_WINDOW_PROBE,
    &WINDOW_UPDATE,
    &TAIL_LOSS_PROBE,
    &FAST_RETRANSMIT,
    &MSS_ONLY_IN_SYN,
    &MSS_OPTION_SENT,
    &NO_TSOPT_IN_SYNACK,
    &TIMEWAIT_TSOPT,
    &TSOPT_IN_EVERY_SEGMENT,
    &TSVAL_MONOTONE,
    &TSECR_ECHOES,
    &NO_TSOPT_UNNEGOTIATED,
    &NO_SACK_UNNEGOTIATED,
    &SACK_BLOCKS_HELD,
    &SACK_ON_EVERY_ACK,
    &KEEPALIVE_PROBE,
    &KEEPALIVE_RESET,
    &RETRANSMISSION,
    &URGENT_SEND,
    &SYN_RETRANSMITTED_FOR_R2,
    &RST_CHALLENGE_ACK,
    &LINUX_FAST_PATH,
    &ACK_CHALLENGE_ACK,
    &LISTEN_ACK_RST,
    &LINUX_RCV_STATE_PROCESS,
    &LISTEN_SYN,
    &SYN_CHALLENGE_ACK,
    &DATA_AFTER_HALF_CLOSE_RST,
    &LINUX_DATA_AFTER_FIN_RST,
    &TEXT_BEYOND_WINDOW,
    &OUT_OF_ORDER_ACK,
    &OUT_OF_ORDER_HELD,
    &DELAYED_ACK,
    &ACK_EVERY_SECOND_SEGMENT,
    &LINUX_SECOND_SEGMENT_ACK_AT_READ,
    &UNPUSHED_DATA_RELEASED,
    &CLOSED_ACK_ON,
    &CLOSED_ACK_OFF,
    &SYN_SENT_BAD_ACK,
    &SYN_SENT_ACKED,
    &SIMULTANEOUS_OPEN,
    &FIN_ACKED,
    &TIME_WAIT_REOPEN,
    &TIME_WAIT_ACK,
    &LINUX_TIME_WAIT,
    &ZERO_WINDOW_TEXT,
    &SEGMENT_ARRIVES,
    &PAWS,
    &UNACCEPTABLE_SEGMENT,
    &SYN_RECEIVED_BAD_ACK,
    &REQUEST_SYN_RST,
    &REQUEST_SYN_RST_ACK,
    &REQUEST_SYN_AGAIN,
    &ACK_OF_UNSENT,
];

pub const FAST_OPEN_COOKIE: Rule = Rule::rfc(7413, "4.2.1").says(
    "a SYN with a cookie request or an invalid cookie gets the server's cookie in the SYN-ACK",
);
pub const FAST_OPEN_SYN: Rule = Rule::rfc(7413, "4.2.2").says(
    "an active Fast Open SYN carries the cached cookie and data, or a cookie request and none",
);
pub const FAST_OPEN_SYN_DATA: Rule = Rule::linux("tcp_send_syn_data")
    .says("SYN data fills the cached MSS less 40 bytes of option space");
pub const FAST_OPEN_SYN_RETRY: Rule =
    Rule::linux("tcp_send_syn_data").says("a Fast Open SYN goes again without its option");
pub const FAST_OPEN_DATA_RETRANSMIT: Rule = Rule::rfc(7413, "4.2.2")
    .says("SYN data the SYN-ACK did not acknowledge is sent again after the handshake");

#[cfg(test)]
mod tests {
    use super::*;

    /// Each label cited is one RFC 9293 Appendix B defines.
    #[test]
    fn labels_are_appendix_b_labels() {
        let appendix = include_str!("../../requirements/rfc9293-appendix-b.tsv");
        let defined: Vec<&str> = appendix
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split('\t').next())
            .collect();
        for rule in ALL {
            assert!(
                rule.source == crate::rule::Source::Rfc(9293) || rule.labels.is_empty(),
                "{rule}: Appendix B labels belong to RFC 9293"
            );
            for label in rule.labels {
                assert!(
                    defined.contains(&label.to_string().as_str()),
                    "{rule}: {label}"
                );
            }
        }
    }

    /// No two constants say the same thing: a rule's words name one constant.
    #[test]
    fn rules_are_distinct() {
        for (i, a) in ALL.iter().enumerate() {
            for b in &ALL[i + 1..] {
                assert_ne!(a.to_string(), b.to_string());
            }
        }
    }
}
