//! RFC 9293 3.10.7.4, fourth: the SYN bit (with RFC 5961 4.2).

use std::time::Duration;

use crate::conn::state::State;

use super::super::*;

impl Connection {
    /// A SYN that got past the sequence and RST checks (a repeated SYN of the handshake was
    /// trimmed before the first check).
    pub(in crate::conn::machine) fn check_syn(&mut self, now: Duration) {
        if self.state == State::SynReceived
            && self.handshake.passive
            && !self.profile.behaviour.request_child_challenges_trimmed_syn
        {
            // RFC 9293 3.10.7.4: SYN-RECEIVED from a passive OPEN returns to LISTEN.
            self.back_to_listen();
            return;
        }
        // RFC 5961 4.2: a SYN in a synchronized state, wherever it falls, draws a
        // challenge ACK and is dropped.
        self.challenge_ack(now, &rules::SYN_CHALLENGE_ACK);
    }
}
