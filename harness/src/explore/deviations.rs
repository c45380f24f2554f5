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

fn expected_nothing_got(f: &Found, flags: &str) -> bool {
    f.expected.starts_with("nothing") && f.actual.contains(&format!("<CTL={flags}>"))
}

pub static DEVIATIONS: &[Deviation] = &[
    Deviation {
        name: "oow-ack-rate-limit",
        linux: "An ACK answering an out-of-window segment that carries no data (a pure ACK \
                or a SYN) is rate limited per socket, sharing the challenge-ACK budget of one \
                per tcp_invalid_ratelimit (500 ms): later ones in the interval are not sent.",
        rfc: "RFC 9293 3.10.7.4, first check: an unacceptable segment draws \
              <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> (unless it is a RST); only RFC 5961's \
              challenge ACKs may be rate limited (RFC 5961 section 10).",
        source: "net/ipv4/tcp_input.c: tcp_validate_incoming() and tcp_oow_rate_limited(), \
                 Linux commit f2b2c582e824 (\"tcp: mitigate ACK loops for connections as \
                 tcp_sock\"); Documentation/networking/ip-sysctl.rst tcp_invalid_ratelimit",
        scenario: "corpus/deviations/oow-ack-rate-limit.pkt",
        matches: |f| {
            f.rule
                .starts_with("RFC 9293 3.10.7.4: unacceptable segment")
                && f.actual.starts_with("nothing")
        },
    },
    Deviation {
        name: "syn-recv-in-window-rst",
        linux: "A request socket (SYN-RECEIVED after a passive open) is dropped by any RST \
                whose sequence number is in the window, not only one exactly at RCV.NXT: no \
                challenge ACK.",
        rfc: "RFC 9293 3.10.7.4, second check (RFC 5961 3.2): a RST in the window but not \
              at RCV.NXT draws a challenge ACK and is dropped, in every state but SYN-SENT.",
        source: "net/ipv4/tcp_minisocks.c: tcp_check_req(), \"RFC793: second check the RST \
                 bit\" goes to embryonic_reset for any in-window RST",
        scenario: "corpus/deviations/syn-recv-in-window-rst.pkt",
        matches: |f| {
            f.state == State::SynReceived
                && f.rule.starts_with("RFC 5961 3.2")
                && f.actual.starts_with("nothing")
        },
    },
];

/// The known deviation that explains `found`, if any. Only the `rfc9293` profile has them:
/// on `linux` every divergence is unexplained.
pub fn classify(found: &Found, profile: &Profile) -> Option<&'static Deviation> {
    if profile.kind != ProfileKind::Rfc9293 {
        return None;
    }
    let _ = expected_nothing_got;
    DEVIATIONS.iter().find(|d| (d.matches)(found))
}

pub fn by_name(name: &str) -> Option<&'static Deviation> {
    DEVIATIONS.iter().find(|d| d.name == name)
}
