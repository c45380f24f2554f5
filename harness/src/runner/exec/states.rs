//! The state check's step in the runner: after each script line, the stack's state of every
//! connection the model follows is read and compared with the model's
//! ([`crate::differ::states`]).

use std::time::Duration;

use super::{Exec, Step, Stop};
use crate::differ::states;
use crate::trace::EventKind;

impl Exec<'_> {
    /// Whether states are compared in this run: asked for, and the stack can tell them. A
    /// stack that cannot says so in the trace, and the model's view stays the segments'.
    pub(super) fn start_state_check(&mut self) {
        let why = if !self.opts.read_states {
            Some("not asked for: the state check is off".to_string())
        } else {
            states::unreadable(|c| self.stack.has(c))
        };
        if let (Some(why), Some(d)) = (why, &mut self.differ) {
            d.states_off_because(why.clone());
            self.stack.note(EventKind::Note {
                text: format!("states: {why}"),
            });
        }
    }

    /// After a line: the stack's states are read, then what it sent up to the read is told
    /// to the model (so the model is not behind the states it is compared with), then they
    /// are compared. Reads nothing when the model follows nothing.
    pub(super) fn check_states(&mut self) -> Step {
        let Some(probes) = self.differ.as_ref().map(|d| d.state_probes()) else {
            return Ok(());
        };
        if probes.is_empty() {
            return Ok(());
        }
        let seen = states::read::read(&mut self.stack, &probes).map_err(|e| {
            Stop::Error(format!(
                "harness: cannot read the stack's connection states: {e}"
            ))
        })?;
        let now = self.stack.now().saturating_sub(self.start);
        while let Some(p) = self.stack.next_packet(Duration::ZERO)? {
            self.distribute(vec![p]);
        }
        let line = self.line;
        if let Some(d) = &mut self.differ {
            d.stack_states(now.max(self.model_floor), line, &seen);
        }
        Ok(())
    }
}
