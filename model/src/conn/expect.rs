//! What the model allows a stack to send, and what it found when the stack did otherwise.
//!
//! An expectation pins exactly what the standard pins and nothing more: the ISN is free until
//! the stack's SYN binds it, the window and option values are the stack's choice, the time
//! of a delayed ACK is a window, not an instant. Everything else — flags, sequence and
//! acknowledgment numbers, lengths — is exact, so a wrong flag or an ack off by one can never
//! pass.

use core::fmt;
use std::time::Duration;

use super::segment::Seg;
use super::state::State;
use crate::rule::Rule;
use crate::seq::SeqNumber;
use crate::wire::TcpFlags;

/// The sequence number an expected segment must carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqSpec {
    Exact(SeqNumber),
    /// The stack's initial sequence number: any value, bound when seen (RFC 9293 §3.4.1
    /// leaves its choice to the stack, within MUST-8 and MUST-9, which a single connection
    /// cannot observe).
    Iss,
}

/// Payload length allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LenSpec {
    Exact(u32),
    /// At least one and at most this many bytes (a data segment of the stack's choosing).
    UpTo(u32),
    /// None or at most this many bytes (a keep-alive that may carry a garbage octet).
    AtMost(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegSpec {
    pub flags: TcpFlags,
    /// Flags the stack may add (PSH on data, ECE/CWR are not modelled).
    pub optional_flags: TcpFlags,
    pub seq: SeqSpec,
    /// `Some` when the ACK bit is set and its value pinned.
    pub ack: Option<SeqNumber>,
    pub len: LenSpec,
}

impl SegSpec {
    pub fn ctl(flags: TcpFlags, seq: SeqNumber, ack: Option<SeqNumber>) -> SegSpec {
        SegSpec {
            flags,
            optional_flags: TcpFlags::empty(),
            seq: SeqSpec::Exact(seq),
            ack,
            len: LenSpec::Exact(0),
        }
    }

    /// Whether `seg` is this segment (an `Iss` sequence number matches any value).
    pub fn matches(&self, seg: &Seg) -> bool {
        let extra = seg.flags & !self.flags;
        if seg.flags & self.flags != self.flags || (extra & !self.optional_flags).bits() != 0 {
            return false;
        }
        if let SeqSpec::Exact(s) = self.seq {
            if seg.seq != s {
                return false;
            }
        }
        if let Some(a) = self.ack {
            if seg.ack != a {
                return false;
            }
        }
        match self.len {
            LenSpec::Exact(n) => seg.len == n,
            LenSpec::UpTo(n) => seg.len >= 1 && seg.len <= n,
            LenSpec::AtMost(n) => seg.len <= n,
        }
    }

    /// Whether `seg` is this segment but for its numbers: the same control bits (those it
    /// may add, and PSH, aside), and text if and only if text is owed.
    pub fn resembles(&self, seg: &Seg) -> bool {
        let free = self.optional_flags | TcpFlags::PSH;
        let flags = seg.flags & !free == self.flags & !free;
        match self.len {
            LenSpec::AtMost(_) => flags,
            LenSpec::Exact(0) => flags && seg.len == 0,
            _ => flags && seg.len > 0,
        }
    }
}

impl fmt::Display for SegSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<SEQ=")?;
        match self.seq {
            SeqSpec::Exact(s) => write!(f, "{s}")?,
            SeqSpec::Iss => write!(f, "ISS")?,
        }
        if let Some(a) = self.ack {
            write!(f, "><ACK={a}")?;
        }
        write!(f, "><CTL={}>", ctl_names(self.flags))?;
        match self.len {
            LenSpec::Exact(0) => Ok(()),
            LenSpec::Exact(n) => write!(f, "<DATA {n} bytes>"),
            LenSpec::UpTo(n) => write!(f, "<DATA 1..={n} bytes>"),
            LenSpec::AtMost(n) => write!(f, "<DATA 0..={n} bytes>"),
        }
    }
}

/// RFC 9293's way of writing control bits: `SYN,ACK`.
pub fn ctl_names(flags: TcpFlags) -> String {
    let mut names = Vec::new();
    for (f, n) in [
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::URG, "URG"),
        (TcpFlags::ACK, "ACK"),
    ] {
        if flags.contains(f) {
            names.push(n);
        }
    }
    names.join(",")
}

/// When an expected segment must appear, in time since the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub earliest: Duration,
    pub latest: Duration,
}

/// Why a segment is owed: what sending it does to the model depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObligationKind {
    /// A rule's answer to an input or a user call.
    Reply,
    /// The oldest unacknowledged segment again, when its timer runs out (RFC 9293 3.8.1:
    /// MUST-18, RFC 6298 5).
    Retransmission,
    /// A keep-alive probe (RFC 9293 3.8.4: MAY-5).
    KeepAliveProbe,
    /// The RST that ends a connection after unanswered keep-alives.
    KeepAliveReset,
}

/// A segment the stack owes, why, and by when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Obligation {
    pub spec: SegSpec,
    pub due: Due,
    pub kind: ObligationKind,
    /// The rule that requires it (one of [`crate::conn::rules`]).
    pub rule: &'static Rule,
}

/// What an option rule requires of a segment the stack sent (RFC 9293 3.7.1, RFC 7323,
/// RFC 2018), where it sent something else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionsRequired {
    NoMss,
    SynAckWithoutTimestamps,
    /// A TSopt whose TSecr is this (a timewait socket's TS.Recent).
    TsoptEchoing(u32),
    NoTsopt,
    Tsopt,
    /// A TSval at least this (the last one sent).
    TsvalAtLeast(u32),
    EchoedTsecr,
    NoSack,
    SackBlocksHeld,
    Sack,
    /// A Fast Open option in this form (experimental kind or not), with this cookie when
    /// the model knows it.
    FastOpenCookie {
        cookie: Option<super::fast_open::Cookie>,
        exp: bool,
    },
    /// An active open's SYN with this Fast Open option (an empty cookie: a request), or
    /// with none.
    FastOpenSyn(Option<super::fast_open::Cookie>),
    /// A SYN carrying this many bytes of data.
    SynData(u32),
}

impl fmt::Display for OptionsRequired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionsRequired::NoMss => f.write_str("no MSS option"),
            OptionsRequired::SynAckWithoutTimestamps => f.write_str("a SYN-ACK without timestamps"),
            OptionsRequired::TsoptEchoing(r) => write!(f, "TSopt with TSecr {r}"),
            OptionsRequired::NoTsopt => f.write_str("no TSopt"),
            OptionsRequired::Tsopt => f.write_str("a TSopt"),
            OptionsRequired::TsvalAtLeast(last) => write!(f, "TSval >= {last}"),
            OptionsRequired::EchoedTsecr => f.write_str("a TSecr the peer sent"),
            OptionsRequired::NoSack => f.write_str("no SACK option"),
            OptionsRequired::SackBlocksHeld => {
                f.write_str("blocks within the out-of-order data held")
            }
            OptionsRequired::Sack => f.write_str("a SACK option"),
            OptionsRequired::FastOpenCookie { cookie, exp } => {
                f.write_str(if *exp { "FOEXP" } else { "FO" })?;
                match cookie {
                    Some(c) => {
                        f.write_str(" ")?;
                        c.as_slice().iter().try_for_each(|b| write!(f, "{b:02x}"))
                    }
                    None => f.write_str(" with a cookie"),
                }
            }
            OptionsRequired::FastOpenSyn(None) => f.write_str("no Fast Open option"),
            OptionsRequired::FastOpenSyn(Some(c)) if c.is_request() => {
                write!(f, "{c:?} (a cookie request)")
            }
            OptionsRequired::FastOpenSyn(Some(c)) => write!(f, "{c:?}"),
            OptionsRequired::SynData(n) => write!(f, "a SYN carrying {n} bytes of data"),
        }
    }
}

/// What the model required where a stack departed from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Required {
    /// No segment: no rule allows one (in this state, when a connection's).
    Nothing(Option<State>),
    /// An owed segment, sent before it was due.
    NotBefore { spec: SegSpec, earliest: Duration },
    /// An owed segment, not sent by its deadline.
    By { spec: SegSpec, latest: Duration },
    /// The first segment owed, where the stack sent one nothing allows: its rule, and the
    /// state.
    Owed {
        spec: SegSpec,
        rule: &'static Rule,
        state: State,
    },
    /// A SYN whose sequence number is after this one (a connection reopened from
    /// TIME-WAIT).
    IsnAbove(SeqNumber),
    /// What the option rules require.
    Options(OptionsRequired),
    /// A socket call's result, as the harness judges it, in its words.
    Call(String),
    /// The URG bit with this urgent pointer (`Some`), or no URG bit (`None`).
    Urgent(Option<u16>),
}

impl Required {
    /// The segment the model owed, when that is what it required.
    pub fn spec(&self) -> Option<&SegSpec> {
        match self {
            Required::NotBefore { spec, .. }
            | Required::By { spec, .. }
            | Required::Owed { spec, .. } => Some(spec),
            _ => None,
        }
    }
}

impl fmt::Display for Required {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Required::Nothing(None) => f.write_str("nothing"),
            Required::Nothing(Some(state)) => write!(f, "nothing in {state}"),
            Required::NotBefore { spec, earliest } => write!(f, "{spec} at {earliest:?} or later"),
            Required::By { spec, latest } => write!(f, "{spec} by {latest:?}"),
            Required::Owed { spec, rule, state } => write!(f, "{spec} ({rule}) in {state}"),
            Required::IsnAbove(floor) => write!(f, "a SYN-ACK with SEQ > {floor}"),
            Required::Options(o) => o.fmt(f),
            Required::Call(words) => f.write_str(words),
            Required::Urgent(Some(up)) => write!(f, "URG with urgent pointer {up}"),
            Required::Urgent(None) => f.write_str("no URG bit"),
        }
    }
}

/// What the stack did instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actual {
    /// It sent this segment.
    Segment(Box<Seg>),
    /// It sent this segment at this time, too early.
    SegmentAt(Box<Seg>, Duration),
    /// It sent nothing by this time.
    NothingBy(Duration),
    /// What the harness saw, in its words (a call's result, a segment of no connection).
    Seen(String),
}

impl Actual {
    /// The segment the stack sent, when that is what it did.
    pub fn segment(&self) -> Option<&Seg> {
        match self {
            Actual::Segment(seg) | Actual::SegmentAt(seg, _) => Some(seg),
            _ => None,
        }
    }
}

impl fmt::Display for Actual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actual::Segment(seg) => seg.fmt(f),
            Actual::SegmentAt(seg, at) => write!(f, "{seg} at {at:?}"),
            Actual::NothingBy(at) => write!(f, "nothing by {at:?}"),
            Actual::Seen(words) => f.write_str(words),
        }
    }
}

/// How a stack departed from what the model allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    pub rule: &'static Rule,
    pub expected: Required,
    pub actual: Actual,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected {}, got {} ({})",
            self.expected, self.actual, self.rule
        )
    }
}

impl std::error::Error for Divergence {}

/// A choice the standard leaves open, as the stack made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub rule: &'static Rule,
    pub taken: &'static str,
}
