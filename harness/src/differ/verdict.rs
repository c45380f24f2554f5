//! What the model concluded about a run.

use std::fmt;
use std::time::Duration;

use tcpcheck_model::conn::State;

use super::Key;

/// The first place the stack did something the model does not allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelDivergence {
    /// The script line of the event that called for the segment (or that the segment was
    /// matched to).
    pub line: u32,
    /// Script time.
    pub at: Duration,
    /// The rule, as cited in the model: "RFC 9293 3.10.7.4: ...".
    pub rule: String,
    pub expected: String,
    pub actual: String,
    pub connection: Option<Key>,
    /// The connection's state before the event that led here (`None`: no connection).
    pub state: Option<State>,
    /// That event as the explorer writes it: `< F.` for a segment injected with those
    /// flags, `write`, `read`, `close`, `abort (SO_LINGER 0, close)`, `shutdown(SHUT_WR)`.
    pub event: String,
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
            None => self.rule.clone(),
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
