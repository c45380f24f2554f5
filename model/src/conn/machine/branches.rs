//! Branches: the model is a relation, and where Linux may take one of two paths the wire
//! does not yet show, both are followed. The public calls here run an input on every branch
//! (`each_branch`) or keep the branches that allow an output (`observe_branches`); the
//! `*_on_branch` functions they call act on a single branch, and never call the public ones
//! back (so `each_branch` never runs nested).

use std::time::Duration;

use crate::conn::expect::{Divergence, Obligation};
use crate::conn::segment::Seg;
use crate::conn::state::State;
use crate::seq::SeqNumber;

use super::*;

impl Connection {
    /// Runs an input on every branch; branches it opens are followed too.
    pub(super) fn each_branch<R>(&mut self, f: impl Fn(&mut Connection) -> R) -> R {
        let alts = std::mem::take(&mut self.branches.alts);
        let r = f(self);
        let mut next = self.take_new_branches();
        for mut a in alts {
            f(&mut a);
            let more = a.take_new_branches();
            next.push(a);
            next.extend(more);
        }
        next.truncate(MAX_BRANCHES);
        self.branches.alts = next;
        r
    }

    /// The branches this connection opened during the last input.
    #[inline]
    pub(super) fn take_new_branches(&mut self) -> Vec<Connection> {
        // Most inputs open none: answer that without entering the frame that holds a whole
        // `Connection` (the model bench spent a tenth of its time setting that frame up).
        if self.branches.fast_path_wl1.is_none()
            && self.branches.fast_path_ts.is_none()
            && self.branches.new_alt.is_none()
        {
            return Vec::new();
        }
        self.take_opened_branches()
    }

    /// `take_new_branches` when at least one branch was opened.
    #[inline(never)]
    fn take_opened_branches(&mut self) -> Vec<Connection> {
        let mut out = Vec::new();
        let (wl1, ts) = (
            self.branches.fast_path_wl1.take(),
            self.branches.fast_path_ts.take(),
        );
        if wl1.is_some() || ts.is_some() {
            let mut a = self.clone();
            a.branches.alts.clear();
            a.branches.new_alt = None;
            if let Some(seq) = wl1 {
                a.tcb.snd_wl1 = seq;
            }
            if ts.is_some() {
                a.ts.recent = ts;
            }
            out.push(a);
        }
        if let Some(a) = self.branches.new_alt.take() {
            let mut a = *a;
            a.branches.alts.clear();
            out.push(a);
        }
        out
    }

    /// Runs an output check on every branch and keeps the ones that allow it (this one
    /// first); fails only when none does.
    pub(super) fn observe_branches(
        &mut self,
        f: impl Fn(&mut Connection) -> Result<(), Divergence>,
    ) -> Result<(), Divergence> {
        if self.branches.alts.is_empty() {
            return f(self);
        }
        let alts = std::mem::take(&mut self.branches.alts);
        let mut primary = self.clone();
        let first = f(&mut primary);
        let mut kept: Vec<Connection> = Vec::new();
        if first.is_ok() {
            kept.push(primary.clone());
        }
        for mut a in alts {
            if f(&mut a).is_ok() {
                kept.push(a);
            }
        }
        if kept.is_empty() {
            *self = primary;
            return first;
        }
        let mut it = kept.into_iter();
        *self = it.next().expect("not empty");
        self.branches.alts = it.collect();
        Ok(())
    }

    /// How many other branches the model follows (see `Connection::alts`).
    pub fn branches(&self) -> usize {
        self.branches.alts.len()
    }

    /// The state and RCV.NXT (when synchronized) of every branch followed, this one first.
    /// An input one branch refuses leaves another in its place, so a check of the model's
    /// own transitions compares the state after an input with every branch's before it.
    pub fn branch_states(&self) -> Vec<(State, Option<SeqNumber>)> {
        std::iter::once(self)
            .chain(self.branches.alts.iter())
            .map(|c| {
                let state = c.state();
                (state, state.is_synchronized().then_some(c.tcb().rcv_nxt))
            })
            .collect()
    }

    /// Keeps the branches whose connection `fits` what the harness learned of the stack by
    /// other means than the wire (this one first), as [`Connection::receive_where`] does with
    /// a read: Linux's header prediction may take text the slow path drops (see
    /// `Connection::alts`), and when neither the ACK nor a reply shows which path ran, a RST
    /// that follows resets one branch and not the other; the socket's state (TCP_INFO) then
    /// tells them apart. Returns false, keeping everything, when no branch fits.
    pub fn keep_branches_where(&mut self, fits: impl Fn(&Connection) -> bool) -> bool {
        if self.branches.alts.is_empty() {
            return fits(self);
        }
        let alts = std::mem::take(&mut self.branches.alts);
        let mut kept: Vec<Connection> = Vec::new();
        if fits(self) {
            kept.push(self.clone());
        }
        kept.extend(alts.iter().filter(|a| fits(a)).cloned());
        if kept.is_empty() {
            self.branches.alts = alts;
            return false;
        }
        let mut it = kept.into_iter();
        *self = it.next().expect("not empty");
        self.branches.alts = it.collect();
        true
    }

    /// A segment from the peer reaches the stack.
    pub fn arrive(&mut self, now: Duration, seg: &Seg) {
        self.each_branch(|c| {
            c.arrive_on_branch(now, seg);
            // What the segment brought is acknowledged by a retransmission owed already.
            c.refresh_retransmission_ack();
        })
    }

    /// SEND of `n` bytes.
    pub fn send(&mut self, now: Duration, n: u32) -> Result<(), UserError> {
        self.each_branch(|c| c.send_on_branch(now, n))
    }

    /// RECEIVE of up to `n` bytes; returns how many the model says are there.
    pub fn receive(&mut self, n: u64) -> Result<u64, UserError> {
        self.receive_where(n, |_| true)
    }

    /// RECEIVE at `now`: as [`Connection::receive_where`], and an ACK the read makes due
    /// (see `ack_after_read`) is owed by `now` on every branch.
    pub fn receive_where_at(
        &mut self,
        now: Duration,
        n: u64,
        fits: impl Fn(&Result<u64, UserError>) -> bool,
    ) -> Result<u64, UserError> {
        let answer = self.receive_where(n, fits);
        self.ack_after_read(now, n);
        for a in &mut self.branches.alts {
            a.ack_after_read(now, n);
        }
        answer
    }

    /// RECEIVE, where the stack's answer is known: a branch whose answer `fits` is kept
    /// (this one first), so a read can decide an open choice.
    pub fn receive_where(
        &mut self,
        n: u64,
        fits: impl Fn(&Result<u64, UserError>) -> bool,
    ) -> Result<u64, UserError> {
        if self.branches.alts.is_empty() {
            return self.receive_on_branch(n);
        }
        let alts = std::mem::take(&mut self.branches.alts);
        let mut primary = self.clone();
        let mine = primary.receive_on_branch(n);
        let mut kept: Vec<(Connection, Result<u64, UserError>)> = Vec::new();
        if fits(&mine) {
            kept.push((primary.clone(), mine));
        }
        for mut a in alts {
            let theirs = a.receive_on_branch(n);
            if fits(&theirs) {
                kept.push((a, theirs));
            }
        }
        if kept.is_empty() {
            *self = primary;
            return mine;
        }
        let mut it = kept.into_iter();
        let (first, answer) = it.next().expect("not empty");
        *self = first;
        self.branches.alts = it.map(|(c, _)| c).collect();
        answer
    }

    /// CLOSE.
    pub fn close(&mut self, now: Duration) -> Result<(), UserError> {
        self.each_branch(|c| c.close_on_branch(now))
    }

    /// CLOSE by an application that also lets go of the connection (close(2) on its last
    /// descriptor, where shutdown(2) is a plain CLOSE): nobody will read what arrives later.
    pub fn close_and_release(&mut self, now: Duration) -> Result<(), UserError> {
        self.each_branch(|c| c.close_and_release_on_branch(now))
    }

    /// close(2) with `SO_LINGER {1, 0}` (see `close_linger_zero_on_branch`).
    pub fn close_linger_zero(&mut self, now: Duration) -> Result<(), UserError> {
        self.each_branch(|c| c.close_linger_zero_on_branch(now))
    }

    /// ABORT.
    pub fn abort(&mut self, now: Duration) -> Result<(), UserError> {
        self.each_branch(|c| c.abort_on_branch(now))
    }

    /// Runs the timers that end a connection: TIME-WAIT, giving up on retransmission, the
    /// user timeout.
    pub fn poll(&mut self, now: Duration) {
        self.each_branch(|c| c.poll_on_branch(now))
    }

    /// RFC 9293 3.6.1: MAY-2, a SYN reopening TIME-WAIT (see `reopen_from_time_wait_on_branch`).
    pub fn reopen_from_time_wait(&mut self, now: Duration, seg: &Seg) -> bool {
        self.each_branch(|c| c.reopen_from_time_wait_on_branch(now, seg))
    }

    /// The stack sent `seg` at `now`: check it against what is allowed, then apply it.
    pub fn emitted(&mut self, now: Duration, seg: &Seg) -> Result<(), Divergence> {
        self.observe_branches(|c| c.emitted_on_branch(now, seg))
    }

    /// Everything owed by `now` has been sent; returns the first overdue expectation.
    pub fn check_overdue(&mut self, now: Duration) -> Result<(), Divergence> {
        self.observe_branches(|c| c.check_overdue_on_branch(now))
    }

    /// What the stack owes on any open branch, for a harness deciding how long to wait.
    pub fn obligations_any(&self) -> impl Iterator<Item = &Obligation> {
        self.record.obligations.iter().chain(
            self.branches
                .alts
                .iter()
                .flat_map(|a| a.record.obligations.iter()),
        )
    }
}
