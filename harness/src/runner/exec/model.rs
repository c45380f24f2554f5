//! The model's view of the run: the differ started on the profile asked for, told of every
//! call that returned, and given its grace at the end.

use std::time::Duration;

use tcpcheck_model::profile::{Profile, ProfileKind};

use super::{Exec, Step, Stop};
use crate::differ::{Call, Differ};
use crate::stack::Fd;

impl Exec<'_> {
    /// After the script failed: the model judges up to now too (the stack's last packets
    /// read first), so that what it says of the failing moment covers a segment the script
    /// waited for in vain. When those packets cannot be read, it stops following the run
    /// rather than judge without them.
    pub(super) fn model_catch_up(&mut self) {
        if self.differ.is_none() {
            return;
        }
        match self.stack.settle() {
            Ok(packets) => {
                self.distribute(packets);
                let now = self.stack.now().saturating_sub(self.start);
                if let Some(d) = &mut self.differ {
                    d.advance(now);
                }
            }
            Err(e) => {
                if let Some(d) = &mut self.differ {
                    d.give_up(format!("the stack's last packets could not be read: {e}"));
                }
            }
        }
    }

    /// The end of the run: a reply the model owes at once for the last events is given
    /// the same grace as any other before it counts as missing, so the run waits for it
    /// when (and only when) one is still owed.
    pub(super) fn finish_model(&mut self) -> Step {
        let Some(owed) = self.differ.as_ref().and_then(Differ::owed_by) else {
            if let Some(d) = &mut self.differ {
                let now = self.stack.now().saturating_sub(self.start);
                d.finish(now);
            }
            return Ok(());
        };
        let grace = self.differ.as_ref().map_or(Duration::ZERO, Differ::grace);
        let until = (owed + grace).as_micros() as i64;
        while self.now_us() < until {
            if let Some(p) = self.stack.next_packet(self.at(until))? {
                self.distribute(vec![p]);
                if self.differ.as_ref().and_then(Differ::owed_by).is_none() {
                    break;
                }
            }
        }
        let now = self.stack.now().saturating_sub(self.start);
        if let Some(d) = &mut self.differ {
            d.finish(now.min(owed));
        }
        Ok(())
    }

    /// Tells the model about a call that returned.
    pub(super) fn model(&mut self, fd: Fd, call: Call) {
        let now = self.stack.now().saturating_sub(self.start);
        self.model_floor = now;
        if let Some(d) = &mut self.differ {
            d.call(now, self.line, fd.0, call);
        }
    }

    /// Starts the model on the profile asked for, with the numbers of the namespace's
    /// sysctls as they are now (after the init command).
    pub(super) fn start_model(&mut self, fresh: Result<Profile, String>) -> Step {
        let linux = if self.script.init_command.is_none() {
            fresh
        } else {
            self.stack.profile()
        };
        // The timer windows follow the stack's clock: the wheel's in real time, exact on
        // a virtual clock.
        let clock = self.stack.clock();
        self.differ = match self.opts.model {
            None => None,
            // Linux's documented choices, with the numbers of the scenario's sysctls.
            Some(ProfileKind::Linux) => Some(Differ::new(
                clock.timing(linux.map_err(Self::harness_error)?),
            )),
            Some(ProfileKind::Rfc9293) => Some(Differ::new(clock.timing(Profile::rfc9293()))),
        };
        let broadcast = self.directed_broadcast();
        if let Some(d) = &mut self.differ {
            d.set_directed_broadcast(broadcast);
        }
        Ok(())
    }

    pub(super) fn harness_error(e: String) -> Stop {
        Stop::Error(format!("harness: {e}"))
    }

    pub(super) fn profile(&mut self, kind: Option<ProfileKind>) -> Step<Profile> {
        match kind {
            Some(ProfileKind::Rfc9293) | None => Ok(Profile::rfc9293()),
            Some(ProfileKind::Linux) => self.stack.profile().map_err(Self::harness_error),
        }
    }
}
