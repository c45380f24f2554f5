//! A case and what running it produced: the values the driver hands to the campaign, the
//! shrinker, the known-deviation registry and the reports.

use tcpcheck_model::conn::State;

use super::deviations::Deviation;
use super::event::{Event, Setup};
use super::render::Script;
use crate::differ::{Departure, Trigger};
use crate::stack::{Capability, StackKind};
use crate::trace::Trace;

/// A case: how the connection opens, then the events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    pub setup: Setup,
    pub events: Vec<Event>,
}

/// Where the kernel departed from the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The event (0-based) whose reaction diverged; `None` for the opening calls.
    pub step: Option<usize>,
    /// The model's state before that event.
    pub state: State,
    /// The event, as [`Event`]'s Display shows it (empty for the opening calls).
    pub event: Box<str>,
    /// The event as a value.
    pub trigger: Trigger,
    /// The rule involved, as the model cites it.
    pub rule: String,
    /// What the model required, in its words.
    pub expected: Box<str>,
    /// What the kernel did, in the model's words.
    pub actual: Box<str>,
    /// Both as values.
    pub departure: Box<Departure>,
    /// A known deviation the case went through earlier without a divergence showing
    /// (see [`super::deviations::taint`]): the model's numbers are off from there.
    pub after: Option<&'static Deviation>,
    /// The connection was opened passively (a listener's), not by connect().
    pub passive: bool,
    /// See [`super::deviations::scales_unnegotiated`].
    pub unscaled: bool,
    /// The stack the case ran on, so texts name it (`kernel:`, `smoltcp:`).
    pub stack: StackKind,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.step {
            Some(i) => write!(f, "event {} in {}: ", i + 1, self.state)?,
            None => write!(f, "opening the connection: ")?,
        }
        write!(
            f,
            "expected {}, {}: {} ({})",
            self.expected,
            self.stack.word(),
            self.actual,
            self.rule
        )
    }
}

/// What running a case produced.
#[derive(Debug)]
pub struct Outcome {
    pub found: Option<Found>,
    /// The case so far as a packetdrill script (up to and including the divergence).
    pub script: Script,
    pub trace: Trace,
    /// Events run (all of them unless a divergence stopped the case), the ones not
    /// applicable included.
    pub events_run: usize,
    /// What each event that did not run for lack of it needed (see [`needs`]).
    pub not_applicable: Vec<Capability>,
    /// The case could not open for lack of this (its IP version): nothing ran.
    pub case_not_applicable: Option<Capability>,
}

/// Why a case could not run: the harness, not the kernel.
#[derive(Debug)]
pub struct HarnessError(pub String);

impl std::fmt::Display for HarnessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for HarnessError {
    fn from(e: std::io::Error) -> Self {
        HarnessError(e.to_string())
    }
}
