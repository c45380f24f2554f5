//! A stack's documented choices: departures from what the model's `rfc9293` profile
//! requires that the stack's own documentation states and the RFC allows a stack to make
//! (a MAY, a SHOULD with its reason, a limit of the implementation the RFC leaves open). A
//! divergence matching one is labelled with its name and not counted as a defect. Each
//! stack keeps its own list, in its own crate ([`super::StackFactory::choices`]).

/// One documented choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// A short name, shown where a divergence is labelled (`smoltcp-no-time-wait`).
    pub name: &'static str,
    /// Where the stack documents it (a README section, a doc comment), and why the RFC
    /// allows it.
    pub source: &'static str,
    /// The start of the model's rule text this choice departs from, as the model cites it
    /// (`RFC 9293 3.10.7.4`).
    pub rule: &'static str,
    /// The model states (as the model prints them, `TIME-WAIT`) it applies in; empty: any.
    pub states: &'static [&'static str],
}

impl Choice {
    /// Whether a divergence from `rule` in `state` (the model's state before the event, if
    /// any) is this choice.
    pub fn matches(&self, rule: &str, state: Option<&str>) -> bool {
        rule.starts_with(self.rule)
            && (self.states.is_empty() || state.is_some_and(|s| self.states.contains(&s)))
    }
}

/// The first of `choices` that a divergence from `rule` in `state` is.
pub fn documented<'a>(
    choices: &'a [Choice],
    rule: &str,
    state: Option<&str>,
) -> Option<&'a Choice> {
    choices.iter().find(|c| c.matches(rule, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_TIME_WAIT: Choice = Choice {
        name: "no-time-wait",
        source: "the stack's README: connections close without TIME-WAIT",
        rule: "RFC 9293 3.10.7.4",
        states: &["TIME-WAIT"],
    };

    #[test]
    fn a_choice_matches_its_rule_in_its_states() {
        let r = "RFC 9293 3.10.7.4: unacceptable segment";
        assert!(NO_TIME_WAIT.matches(r, Some("TIME-WAIT")));
        assert!(!NO_TIME_WAIT.matches(r, Some("ESTABLISHED")));
        assert!(!NO_TIME_WAIT.matches(r, None));
        assert!(!NO_TIME_WAIT.matches("RFC 5961 4.2", Some("TIME-WAIT")));
        let any_state = Choice {
            states: &[],
            ..NO_TIME_WAIT
        };
        assert!(any_state.matches(r, None));
        assert_eq!(
            documented(&[NO_TIME_WAIT], r, Some("TIME-WAIT")),
            Some(&NO_TIME_WAIT)
        );
    }
}
