//! Time passing in a run: the listeners' timers run, and what a connection owed by then and
//! did not get is a divergence, judged a grace after it was due (none on a virtual clock).

use std::time::Duration;

use tcpcheck_model::conn::Divergence as ModelFault;

use super::{Context, Differ, Owed, Sent, Tracked};

impl Differ {
    /// Time passes to `now`, the stack settled there (it has sent all it will at `now`, and
    /// the harness has fed it all): timers run, and anything owed more than the grace ago
    /// and not sent is a divergence. On a virtual clock (no grace) that is anything owed by
    /// `now` itself.
    pub fn advance(&mut self, now: Duration) {
        self.advance_to(now, true);
    }

    /// Time moves to `now` as an event happens there (a call returns, a segment crosses):
    /// the stack may still be sending what it owes at `now`, so only what was owed before it
    /// can be missing. With a grace this is [`Differ::advance`]; without one (a virtual
    /// clock) it stops short of `now` itself.
    pub(super) fn arrive_at(&mut self, now: Duration) {
        self.advance_to(now, false);
    }

    fn advance_to(&mut self, now: Duration, settled: bool) {
        self.now = self.now.max(now);
        if !self.active() {
            return;
        }
        // Nothing can be more than a grace late before a grace has passed. Saturating at 0
        // instead would judge what is owed at 0 (an active open's SYN) missing at the very
        // instant a stack on a virtual clock sends it, before the capture is matched.
        // Without a grace, an event at `now` checks up to the instant before it (a
        // nanosecond, the clock's resolution): what is owed at `now` is judged once the
        // stack has settled there.
        let back = if self.grace.is_zero() && !settled {
            Duration::from_nanos(1)
        } else {
            self.grace
        };
        let Some(check) = now.checked_sub(back) else {
            return;
        };
        for listener in self.listeners.values_mut() {
            for ev in listener.on_timer(check) {
                if let tcpcheck_model::listener::TimerEvent::Expired { key, .. } = ev {
                    // The request is gone from the stack; a late segment for it meets the
                    // listener again.
                    self.conns.remove(&key);
                }
            }
        }
        // Nothing was sent where the model owed something: what it owed is in the
        // connection's expectations still.
        let missing = |_: &Tracked, f: &ModelFault| (Owed::of(&f.expected), Sent::Nothing);
        let mut fault = None;
        for (key, t) in self.conns.iter_mut() {
            let (from, timer) = (t.conn.state(), t.conn.state_timer());
            let overdue = t.conn.check_overdue(check);
            // A timer moved the state: the stack's own may run up to its window's end.
            if let Some(timer) = timer.filter(|s| s.at <= check && t.conn.state() != from) {
                self.check
                    .timer_moved(*key, from, t.conn.state(), timer.latest);
            }
            if let Err(f) = overdue {
                fault = Some((t.line, missing(t, &f), f, Some(*key), Context::of(t)));
                break;
            }
        }
        if fault.is_none() {
            for (_, t) in self.connecting.values_mut() {
                if let Err(f) = t.conn.check_overdue(check) {
                    fault = Some((t.line, missing(t, &f), f, None, Context::of(t)));
                    break;
                }
            }
        }
        if let Some((line, what, f, key, context)) = fault {
            self.diverge_in(line, now, f, key, context, what);
        }
    }

    /// The end of the run at `now`: what was owed at once by then must have been sent.
    pub fn finish(&mut self, now: Duration) {
        self.advance(now + self.grace);
    }

    /// The earliest time the model owes something: a harness ending a run may wait until
    /// then (plus the grace) so the last event's reply is judged too.
    pub fn owed_by(&self) -> Option<Duration> {
        if !self.active() {
            return None;
        }
        self.all_tracked()
            .filter_map(|t| {
                t.conn
                    .obligations()
                    .iter()
                    // A rule's answer owed at once; not a timer's segment, whose window is
                    // an instant too on a virtual clock (exact timers).
                    .filter(|e| {
                        e.due.earliest == e.due.latest
                            && e.kind == tcpcheck_model::conn::ObligationKind::Reply
                    })
                    .map(|e| e.due.latest)
                    .min()
            })
            .min()
    }
}
