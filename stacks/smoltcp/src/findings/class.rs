//! A class of divergence and how it was judged.

use tcpcheck::explore::{Case, Found};

/// How a class was judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// smoltcp departs from the RFC rule named.
    Departure,
    /// smoltcp departs from the RFC rule named on purpose, says so in its source or README,
    /// and the RFCs allow it (a MAY, a limit they leave to the stack): registered as a
    /// documented choice ([`super::CHOICES`]).
    DocumentedChoice,
}

/// One class of divergence.
pub struct Class {
    /// A stable name.
    pub name: &'static str,
    /// The RFC rule smoltcp departs from.
    pub rule: &'static str,
    /// What smoltcp does instead, and where in its source.
    pub smoltcp: &'static str,
    pub judgement: Judgement,
    /// A minimal case, in the explorer's words (`explore --stack smoltcp --profile rfc9293
    /// --seed 1 --case N`).
    pub example: &'static str,
    pub(super) matches: fn(&Found, &Case) -> bool,
}

impl Class {
    /// Whether `found`, met running `case`, is of this class.
    pub fn matches(&self, found: &Found, case: &Case) -> bool {
        (self.matches)(found, case)
    }
}
