//! The state check's step in the explorer: after each event, once the kernel's replies are
//! read, its state of every connection the model follows is compared with the model's
//! ([`crate::differ::states`]), so the explorer finds and shrinks a wrong state as it does a
//! wrong segment.

use super::{Checked, Driver};
use crate::differ::states;

impl Driver {
    /// A stack that cannot tell its states is not checked, and the case's script says why.
    pub(super) fn start_state_check(&mut self) {
        if let Some(why) = states::unreadable(|c| self.stack.has(c)) {
            self.script.comment(&format!("states: {why}"));
            self.differ.states_off_because(why);
        }
    }

    /// Reads the states, tells the model what the kernel sent up to the read, compares.
    pub(super) fn check_states(&mut self) -> Checked {
        let probes = self.differ.state_probes();
        if probes.is_empty() {
            return Ok(());
        }
        let seen = match states::read::read(&mut self.stack, &probes) {
            Ok(seen) => seen,
            Err(e) => return Err(self.harness(format!("reading the stack's states: {e}"))),
        };
        let now = self.stack.now();
        self.drain_sent()?;
        self.differ.stack_states(now, self.line, &seen);
        self.diverged()
    }
}
