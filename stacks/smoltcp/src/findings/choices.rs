//! smoltcp's documented choices the RFCs allow.

use tcpcheck::stack::Choice;

/// smoltcp's documented choices, as tcpcheck labels them ([`crate::FACTORY`]'s
/// `StackFactory::choices`): divergences from these rules are smoltcp's stated behaviour,
/// allowed by the RFC, and not counted as defects.
pub static CHOICES: &[Choice] = &[
    Choice {
        name: "smoltcp-challenge-ack-one-per-second",
        source: "smoltcp 0.14 socket/tcp.rs challenge_ack_reply(): \"Rate-limit to 1 per second \
                 max\"; RFC 5961 7 lets a stack limit challenge ACKs",
        rule: "RFC 5961 4.2",
        states: &[],
    },
    Choice {
        name: "smoltcp-challenge-ack-one-per-second",
        source: "smoltcp 0.14 socket/tcp.rs challenge_ack_reply(): \"Rate-limit to 1 per second \
                 max\"; RFC 5961 7 lets a stack limit challenge ACKs",
        rule: "RFC 5961 5.2",
        states: &[],
    },
];
