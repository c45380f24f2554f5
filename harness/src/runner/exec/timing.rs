//! Timing: packetdrill's run.c, when each event runs and whether it ran on time
//! (`adjust_relative_event_times`, `wait_for_event`, `verify_time`), and the waits in
//! between, which capture the stack's packets and retry a parked blocking call.

use super::{Exec, Step, Stop};
use super::{AWAIT_IDLE_USECS, CANCEL_POLL_USECS, PENDING_POLL_USECS, SPIN_USECS};
use crate::runner::Check;
use crate::scenario::{Action, Direction, Event, EventTime, Secs};

impl Exec<'_> {
    /// packetdrill's `adjust_relative_event_times`: relative times count from now, except
    /// that consecutive inbound packets count from each other's scheduled times so harness
    /// overhead does not accumulate. Returns (time, range end, blocking call end).
    pub(super) fn adjust(&self, ev: &Event) -> (i64, i64, Option<i64>) {
        let inbound = matches!(&ev.action, Action::Packet(p) if p.direction == Direction::Inbound);
        let offset = || match self.last_time {
            Some(last) if self.last_inbound && inbound => last,
            _ => self.now_us(),
        };
        let end = match &ev.action {
            Action::Syscall(sc) => sc.end.map(|e| e as i64),
            _ => None,
        };
        match ev.time {
            EventTime::Absolute(t) => (t as i64, t as i64, end),
            EventTime::AbsoluteRange(a, b) => (a as i64, b as i64, end),
            EventTime::Relative(t) => {
                let o = offset();
                (t as i64 + o, t as i64 + o, end.map(|e| e + o))
            }
            EventTime::RelativeRange(a, b) => {
                let o = offset();
                (a as i64 + o, b as i64 + o, end)
            }
            EventTime::Any => {
                let o = offset();
                (o, o, end)
            }
        }
    }

    /// packetdrill's `verify_time`.
    pub(super) fn verify_time(
        &self,
        time: EventTime,
        t: i64,
        t_end: i64,
        actual: i64,
        last: Option<i64>,
        what: &str,
    ) -> Result<(), String> {
        let tol = self.tolerance(t, last);
        self.verify_time_within(time, t, t_end, actual, tol, tol, what)
    }

    /// packetdrill's tolerance for an event at `t` after one scheduled at `last`: the
    /// larger of `--tolerance_usecs` and `--tolerance_percent` of the interval.
    pub(super) fn tolerance(&self, t: i64, last: Option<i64>) -> i64 {
        let mut tol = self.tol_usecs;
        if let Some(last) = last {
            tol = tol.max((self.tol_percent / 100.0 * (t - last) as f64) as i64);
        }
        tol
    }

    /// [`Exec::verify_time`] with the tolerance before (`early`) and after (`late`) the
    /// expected time given.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn verify_time_within(
        &self,
        time: EventTime,
        t: i64,
        t_end: i64,
        actual: i64,
        early: i64,
        late: i64,
        what: &str,
    ) -> Result<(), String> {
        let secs = |us: i64| format!("{:.6}", us as f64 / 1e6);
        match time {
            EventTime::Any => Ok(()),
            EventTime::AbsoluteRange(..) | EventTime::RelativeRange(..) => {
                if actual < t - early || actual > t_end + late {
                    Err(format!(
                        "timing error: expected {what} in time range {}~{} sec but happened at {} sec",
                        secs(t),
                        secs(t_end),
                        secs(actual)
                    ))
                } else {
                    Ok(())
                }
            }
            _ => {
                if actual < t - early || actual > t + late {
                    let shown = if early == late {
                        secs(early)
                    } else {
                        format!("-{} +{}", secs(early), secs(late))
                    };
                    Err(format!(
                        "timing error: expected {what} at {} sec but happened at {} sec; tolerance {shown} sec",
                        secs(t),
                        secs(actual),
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Sleeps until the event's time, capturing packets meanwhile, then checks the harness
    /// itself is not late (packetdrill's `wait_for_event` + `check_event_time`).
    pub(super) fn wait_for_event(&mut self, ev: &Event, t: i64) -> Step {
        self.pump(t)?;
        if self.num_events > 0 {
            let now = self.now_us();
            let what = match &ev.action {
                Action::Packet(_) => "inbound packet",
                Action::Syscall(_) => "system call start",
                _ => "command",
            };
            if let Err(m) = self.verify_time(ev.time, t, t, now, self.last_time, what) {
                let at = format!("at {} sec", Secs(now.max(0) as u64));
                let check = Check::Time { outbound: false };
                return Err(match self.fail(ev, at, check, m) {
                    Stop::Fail(d) => Stop::HarnessLate(d),
                    other => other,
                });
            }
        }
        Ok(())
    }

    /// Captures packets until `until` (script time), precisely, retrying a parked call.
    pub(super) fn pump(&mut self, until: i64) -> Step {
        loop {
            let now = self.now_us();
            if now >= until {
                return Ok(());
            }
            let slice = if self.pending.is_some() {
                until.min(now + PENDING_POLL_USECS)
            } else {
                until
            };
            let slice = self.cancel_point(now, slice)?;
            let block_until = slice - SPIN_USECS;
            let deadline = if now < block_until { block_until } else { now };
            if let Some(p) = self.stack.next_packet(self.at(deadline))? {
                self.distribute(vec![p]);
            }
            self.poll_pending()?;
        }
    }

    /// A wait's next slice, cut short so the cancel flag is seen; `Stop::Cancelled` once it
    /// is set. Without a flag (tests, benches) the slice is left as it is.
    pub(super) fn cancel_point(&self, now: i64, slice: i64) -> Step<i64> {
        match self.opts.cancel {
            None => Ok(slice),
            Some(flag) if flag.load(std::sync::atomic::Ordering::Relaxed) => Err(Stop::Cancelled),
            Some(_) => Ok(slice.min(now + CANCEL_POLL_USECS)),
        }
    }

    pub(super) fn pump_while_pending(&mut self, until: i64) -> Step {
        while self.pending.is_some() && self.now_us() < until {
            let slice = until.min(self.now_us() + PENDING_POLL_USECS);
            self.pump(slice)?;
        }
        Ok(())
    }

    /// `await_idle_thread`: a blocking call (one written with `...end`) waits up to a second
    /// for the one in progress to return, and is a script error if it does not. Other calls
    /// run at once, as on packetdrill's main thread (a `close()` of the socket a `connect()`
    /// is blocked on, say).
    pub(super) fn await_idle(&mut self, ev: &Event, blocking: bool) -> Step {
        if self.pending.is_none() || !blocking {
            return Ok(());
        }
        let until = self.now_us() + AWAIT_IDLE_USECS;
        self.pump_while_pending(until)?;
        if blocking && self.pending.is_some() {
            return Err(self.error_at(
                ev.span,
                "blocking system call while another blocking system call is already in progress",
            ));
        }
        Ok(())
    }
}
