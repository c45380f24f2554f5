//! Known deviations: where Linux departs from RFC 9293 as the `rfc9293` profile reads it.
//!
//! Each is a named entry saying what Linux does, what the RFC says, where the Linux
//! behaviour comes from, and a scenario in `corpus/deviations/` that demonstrates it on the
//! kernel. The `linux` profile encodes Linux's choice in the model, so exploring with it finds
//! none of these; exploring with `rfc9293` finds them and labels them with these names, and
//! anything a name does not explain is a finding.

use tcpcheck_model::conn::State;
use tcpcheck_model::profile::{Profile, ProfileKind};

use super::driver::Found;

pub struct Deviation {
    /// Short, stable, kebab-case.
    pub name: &'static str,
    pub linux: &'static str,
    pub rfc: &'static str,
    /// Where the Linux behaviour is defined.
    pub source: &'static str,
    /// A scenario that shows it, relative to the repository root.
    pub scenario: &'static str,
    /// Whether a divergence found on the `rfc9293` profile is this deviation.
    pub matches: fn(&Found) -> bool,
}

impl std::fmt::Debug for Deviation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// The kernel sent a segment with exactly these control bits.
fn sent(f: &Found, ctl: &str) -> bool {
    f.actual.contains(&format!("<CTL={ctl}>"))
}

/// The model owed a reply the kernel did not send.
fn missing(f: &Found, rule_prefix: &str) -> bool {
    f.rule.starts_with(rule_prefix) && f.actual.starts_with("nothing")
}

const NO_RULE: &str = "RFC 9293 3.10: no rule allows";
const UNACCEPTABLE: &str = "RFC 9293 3.10.7.4: unacceptable segment";
const FIN_ACKED: &str = "RFC 9293 3.10.7.4: a FIN is acknowledged";

fn fin_in(s: State) -> bool {
    matches!(s, State::CloseWait | State::Closing | State::LastAck)
}

pub static DEVIATIONS: &[Deviation] = &[
    Deviation {
        name: "oow-ack-rate-limit",
        linux: "An ACK answering an out-of-window segment without data or FIN (a pure ACK, \
                or a SYN) is rate limited per socket, sharing the challenge-ACK budget of one \
                per tcp_invalid_ratelimit (500 ms); segments with data are always answered.",
        rfc: "RFC 9293 3.10.7.4, first check: every unacceptable segment but a RST draws \
              <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; RFC 5961 section 10 allows rate limiting \
              challenge ACKs only.",
        source: "net/ipv4/tcp_input.c: tcp_validate_incoming(), tcp_oow_rate_limited(); \
                 Documentation/networking/ip-sysctl.rst: tcp_invalid_ratelimit",
        scenario: "corpus/deviations/oow-ack-rate-limit.pkt",
        matches: |f| missing(f, UNACCEPTABLE) && f.state.is_synchronized(),
    },
    Deviation {
        name: "synrecv-dup-syn-resends-synack",
        linux: "In SYN-RECEIVED after a passive open, the peer's SYN again (same ISN, no \
                ACK) is answered at once with the SYN-ACK again, within the out-of-window \
                rate limit.",
        rfc: "RFC 9293 3.10.7.4: the SYN again lies before RCV.NXT: an unacceptable segment \
              (an ACK), and nothing that would retransmit the SYN-ACK before its timer.",
        source: "net/ipv4/tcp_minisocks.c: tcp_check_req(), \"Check for pure retransmitted \
                 SYN\" and inet_rtx_syn_ack()",
        scenario: "corpus/deviations/synrecv-dup-syn-resends-synack.pkt",
        matches: |f| f.state == State::SynReceived && sent(f, "SYN,ACK"),
    },
    Deviation {
        name: "synrecv-bad-ack-resets-first",
        linux: "In SYN-RECEIVED after a passive open, a segment whose ACK does not acknowledge \
                the SYN-ACK is answered with <SEQ=SEG.ACK><CTL=RST> by the listener before \
                its sequence number is looked at; an in-window SYN resets the request with a \
                RST.",
        rfc: "RFC 9293 3.10.7.4: the sequence number is checked first (an unacceptable \
              segment draws an ACK), then the RST bit, then the SYN bit (which returns a \
              passive SYN-RECEIVED connection to LISTEN silently), then the ACK.",
        source: "net/ipv4/tcp_minisocks.c: tcp_check_req() (the ACK test before \
                 tcp_in_window(), embryonic_reset)",
        scenario: "corpus/deviations/synrecv-bad-ack-resets-first.pkt",
        matches: |f| f.state == State::SynReceived && (sent(f, "RST") || sent(f, "RST,ACK")),
    },
    Deviation {
        name: "rst-at-right-window-edge",
        linux: "A segment starting exactly at the right edge of the receive window \
                (RCV.NXT + RCV.WND) is taken as in the window: an empty ACK there is \
                processed silently, a RST there draws a challenge ACK.",
        rfc: "RFC 9293 3.3.2: acceptable only if RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND (or its \
              end is inside); an unacceptable ACK draws an ACK, an unacceptable RST nothing.",
        source: "net/ipv4/tcp_input.c: tcp_sequence() (!after(seq, rcv_nxt + window))",
        scenario: "corpus/deviations/rst-at-right-window-edge.pkt",
        matches: |f| f.rule.starts_with(NO_RULE) && sent(f, "ACK") && f.state.is_synchronized(),
    },
    Deviation {
        name: "listen-syn-fin-dropped",
        linux: "A SYN that also carries FIN is dropped in LISTEN.",
        rfc: "RFC 9293 3.10.7.2: a SYN in LISTEN is answered with <SEQ=ISS><ACK=RCV.NXT>\
              <CTL=SYN,ACK>; other controls it carries are processed in SYN-RECEIVED.",
        source: "net/ipv4/tcp_input.c: tcp_rcv_state_process(), case TCP_LISTEN \
                 (\"if (th->fin) goto discard\")",
        scenario: "corpus/deviations/listen-syn-fin-dropped.pkt",
        matches: |f| f.state == State::Listen && missing(f, "RFC 9293 3.10.7.2: LISTEN, SYN"),
    },
    Deviation {
        name: "fin-after-fin-ignored",
        linux: "Once the peer's FIN is in (CLOSE-WAIT, CLOSING, LAST-ACK), a segment at or \
                past RCV.NXT is not processed: a second FIN is neither counted nor \
                acknowledged.",
        rfc: "RFC 9293 3.10.7.4, eighth: a FIN advances RCV.NXT over it and is acknowledged.",
        source: "net/ipv4/tcp_input.c: tcp_rcv_state_process(), step 7 for TCP_CLOSE_WAIT, \
                 TCP_CLOSING, TCP_LAST_ACK",
        scenario: "corpus/deviations/fin-after-fin-ignored.pkt",
        matches: |f| fin_in(f.state) && missing(f, FIN_ACKED),
    },
    Deviation {
        name: "reset-at-rcv-nxt-minus-one-after-fin",
        linux: "In CLOSE-WAIT, CLOSING and LAST-ACK a RST at RCV.NXT - 1 (from a peer that \
                did not count its own FIN) resets the connection.",
        rfc: "RFC 9293 3.10.7.4 / RFC 5961 3.2: a RST outside the window is dropped.",
        source: "net/ipv4/tcp_input.c: tcp_validate_incoming(), tcp_reset_check()",
        scenario: "corpus/deviations/reset-at-rcv-nxt-minus-one-after-fin.pkt",
        // After the reset the kernel answers the next segment with a RST where the model
        // (which dropped the RST) expected nothing or an ACK.
        matches: |f| fin_in(f.state) && sent(f, "RST") && f.expected.starts_with("nothing"),
    },
    Deviation {
        name: "data-after-fin-resets",
        linux: "In CLOSE-WAIT, CLOSING and LAST-ACK a segment starting before RCV.NXT that \
                carries data past it resets the connection and is answered with \
                <SEQ=SEG.ACK><CTL=RST>.",
        rfc: "RFC 9293 3.10.7.4, seventh: text after the peer's FIN \"should not occur\"; \
              it is ignored.",
        source: "net/ipv4/tcp_input.c: tcp_rcv_state_process(), step 7 \
                 (LINUX_MIB_TCPABORTONDATA)",
        scenario: "corpus/deviations/data-after-fin-resets.pkt",
        matches: |f| fin_in(f.state) && sent(f, "RST"),
    },
    Deviation {
        name: "old-ack-capped-by-bytes-acked",
        linux: "The oldest acceptable ACK is SND.UNA minus the smaller of the largest window \
                offered and the bytes acknowledged so far; older ACKs draw a challenge ACK \
                and their segment, data included, is dropped.",
        rfc: "RFC 5961 5.2: acceptable from SND.UNA - MAX.SND.WND, MAX.SND.WND being the \
              largest window the peer offered.",
        source: "net/ipv4/tcp_input.c: tcp_ack() (\"do not accept ACK for bytes we never \
                 sent\", Linux 6.0 and later)",
        scenario: "corpus/deviations/old-ack-capped-by-bytes-acked.pkt",
        matches: |f| {
            f.rule.starts_with("RFC 9293 3.8.6.3: MUST-40") && sent(f, "ACK")
                || f.rule.starts_with(FIN_ACKED) && sent(f, "ACK") && !fin_in(f.state)
        },
    },
    Deviation {
        name: "simultaneous-open-synack-tsopt",
        linux: "In a simultaneous open the SYN-ACK repeats the options of the stack's own \
                SYN, TSopt included, even when the peer's SYN carried no TSopt.",
        rfc: "RFC 7323 3.2: a <SYN,ACK> may carry TSopt only if the <SYN> it answers did.",
        source: "net/ipv4/tcp_input.c: tcp_rcv_synsent_state_process() (simultaneous open \
                 keeps tp->rx_opt as sent); net/ipv4/tcp_output.c: tcp_send_synack()",
        scenario: "corpus/deviations/simultaneous-open-synack-tsopt.pkt",
        matches: |f| f.rule.starts_with("RFC 7323 3.2: no TSopt in a SYN-ACK"),
    },
];

/// The known deviation that explains `found`, if any. Only the `rfc9293` profile has them:
/// on `linux` every divergence is unexplained.
pub fn classify(found: &Found, profile: &Profile) -> Option<&'static Deviation> {
    if profile.kind != ProfileKind::Rfc9293 {
        return None;
    }
    DEVIATIONS.iter().find(|d| (d.matches)(found))
}

pub fn by_name(name: &str) -> Option<&'static Deviation> {
    DEVIATIONS.iter().find(|d| d.name == name)
}
