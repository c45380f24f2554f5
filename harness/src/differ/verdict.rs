//! What the model concluded about a run.

use std::fmt;
use std::time::Duration;

use tcpcheck_model::conn::{Required, Seg, SegSpec, State};
use tcpcheck_model::rule::Rule;
use tcpcheck_model::wire::TcpFlags;

use super::Key;

/// What the model required where the stack departed from it, as a value the deviation
/// registry and the reports can match on (the model's words stay in `expected`, for people).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owed {
    /// No rule allowed the stack to send anything.
    Nothing,
    /// A segment of this shape: the one the model owed, or owed later.
    Segment(SegSpec),
    /// Something only words say: an option left out, an ISN floor, a call's result.
    Other,
    /// The connection in this state, once the stack had settled after the step.
    State(State),
}

impl Owed {
    /// What a divergence of the model (or of the differ's own rules) says was required.
    pub fn of(required: &Required) -> Owed {
        match required {
            Required::Nothing(_) => Owed::Nothing,
            _ => required
                .spec()
                .map_or(Owed::Other, |spec| Owed::Segment(*spec)),
        }
    }

    /// The segment the model owed, if that is what it owed.
    pub fn segment(&self) -> Option<&SegSpec> {
        match self {
            Owed::Segment(spec) => Some(spec),
            _ => None,
        }
    }
}

/// What the stack did where it departed from the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// Nothing, by the time the owed segment was due.
    Nothing,
    /// This segment, on the connection the divergence is about.
    Segment(Box<Seg>),
    /// This segment, of no connection the model follows.
    Stray(Box<Seg>),
    /// A call's result (see `actual`).
    Other,
    /// Its own state of the connection was this (RFC 9293's name for it).
    State(State),
}

/// The control bits the model writes (`ctl_names`): ECE and CWR are not modelled.
const MODELLED: TcpFlags = TcpFlags(!(TcpFlags::ECE.0 | TcpFlags::CWR.0));

impl Sent {
    /// The segment the stack sent on the connection, if that is what it did.
    pub fn segment(&self) -> Option<&Seg> {
        match self {
            Sent::Segment(seg) => Some(seg),
            _ => None,
        }
    }

    /// Whether the stack sent a segment on the connection with exactly these control bits
    /// (among those the model knows).
    pub fn ctl_is(&self, ctl: TcpFlags) -> bool {
        self.segment().is_some_and(|s| s.flags & MODELLED == ctl)
    }
}

/// The event a divergence followed, as far as the known-deviation registry tells events
/// apart (`event` says it in words).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Trigger {
    /// A segment injected with these control bits.
    Segment(TcpFlags),
    /// close() with SO_LINGER {1, 0}.
    Abort,
    /// An ICMP error quoting one of the connection's segments.
    Icmp,
    /// A socket call, or nothing yet.
    #[default]
    Other,
}

/// What the model owed where the stack departed from it, and what the stack sent instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Departure {
    pub owed: Owed,
    pub sent: Sent,
}

/// The first place the stack did something the model does not allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelDivergence {
    /// The script line of the event that called for the segment (or that the segment was
    /// matched to).
    pub line: u32,
    /// Script time.
    pub at: Duration,
    /// The rule, one of the model's ([`tcpcheck_model::conn::rules`]) or the differ's.
    pub rule: &'static Rule,
    /// What the model required, in its words.
    pub expected: String,
    /// What the stack did, in the model's words.
    pub actual: String,
    /// `expected` and `actual` as values (boxed: most runs agree, and a verdict travels).
    pub departure: Box<Departure>,
    pub connection: Option<Key>,
    /// The connection's state before the event that led here (`None`: no connection).
    pub state: Option<State>,
    /// That event as the explorer writes it: `< F.` for a segment injected with those
    /// flags, `write`, `read`, `close`, `abort (SO_LINGER 0, close)`, `shutdown(SHUT_WR)`.
    pub event: String,
    /// That event as a value.
    pub trigger: Trigger,
    /// On the `rfc9293` profile, the known Linux deviation this is
    /// ([`crate::explore::deviations`]), by name.
    pub deviation: Option<&'static str>,
    /// A known deviation the connection went through earlier without a divergence showing
    /// ([`crate::explore::deviations::taint`]).
    pub after: Option<&'static crate::explore::deviations::Deviation>,
    /// The connection was a listener's, not connect()'s.
    pub passive: bool,
    /// See [`crate::explore::deviations::scales_unnegotiated`].
    pub unscaled: bool,
}

impl ModelDivergence {
    /// The rule, and the known deviation's name when it is one.
    pub fn rule_named(&self) -> String {
        match self.deviation {
            Some(name) => format!("{} [known deviation {name}]", self.rule),
            None => self.rule.to_string(),
        }
    }
}

impl fmt::Display for ModelDivergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}: model expected {}, stack: {} ({})",
            self.line,
            self.expected,
            self.actual,
            self.rule_named()
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelVerdict {
    /// Every segment the stack sent was allowed, and every one owed was sent.
    Agree,
    Diverge(ModelDivergence),
    /// The model did not follow this run, and why (not asked for, or the run used
    /// something the model has no rules for).
    Off(String),
}

impl ModelVerdict {
    /// The JSON report's word.
    pub fn name(&self) -> &'static str {
        match self {
            ModelVerdict::Agree => "agree",
            ModelVerdict::Diverge(_) => "diverge",
            ModelVerdict::Off(_) => "off",
        }
    }
}
