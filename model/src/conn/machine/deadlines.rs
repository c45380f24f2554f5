//! Timers: retransmission (RFC 6298, RFC 9293 §3.8.1 and §3.8.3), keep-alive (§3.8.4), and
//! the deadlines that end a state or the connection (TIME-WAIT, the orphaned FIN-WAIT-2,
//! giving up, the user timeout).

use std::time::Duration;

use crate::conn::expect::{Due, LenSpec, Obligation, ObligationKind, SegSpec, SeqSpec};
use crate::conn::state::State;
use crate::profile::behaviour::{GiveUp, TimeWait};
use crate::profile::KeepAlive;
use crate::timers;
use crate::wire::TcpFlags;

use super::*;

impl Connection {
    /// Keep-alives on or off (RFC 9293 3.8.4; the socket option SO_KEEPALIVE).
    pub fn set_keepalive(&mut self, now: Duration, on: bool) {
        // Linux tcp_set_keepalive(): turning keep-alives on arms the timer for the idle
        // time from now (inet_csk_reset_keepalive_timer()), so a connection idle for longer
        // already still waits that long for its first probe.
        if on && !self.ka.on {
            self.ka.on_since = now;
        }
        self.ka.on = on;
        self.plan_keepalive(now);
    }

    /// The socket's own keep-alive numbers (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT).
    pub fn set_keepalive_times(&mut self, now: Duration, times: KeepAlive) {
        self.ka.times = times;
        self.plan_keepalive(now);
    }

    /// Expects the next keep-alive action: RFC 9293 3.8.4 (MAY-5) sends a probe
    /// `<SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK>` once the connection has been idle (nothing
    /// outstanding, nothing heard) for the idle time, then every interval while the peer
    /// stays silent; Linux's tcp_keepalive_timer() resets the connection after the given
    /// number of unanswered probes (tcp_send_active_reset(), ETIMEDOUT), the RFC's "MAY
    /// drop" taken. Keep-alives count from the last thing heard, so an answer restarts the
    /// idle time.
    pub(super) fn plan_keepalive(&mut self, now: Duration) {
        self.record.obligations.retain(|e| !is_keepalive(e));
        let live = matches!(
            self.state,
            State::Established | State::CloseWait | State::FinWait1 | State::FinWait2
        );
        if !self.ka.on || !live || self.tcb.snd_una != self.tcb.snd_nxt || self.snd.unsent > 0 {
            return;
        }
        let t = self.ka.times;
        let fire = match (self.ka.probes_out, self.ka.last_probe) {
            (0, None) => self.ka.last_rcv.max(self.ka.on_since) + t.idle,
            (0, Some(p)) => (self.ka.last_rcv + t.idle).max(p + t.interval),
            (_, p) => p.unwrap_or(now) + t.interval,
        };
        let due = timer_due(self.profile.timer_precision, fire.saturating_sub(now), now);
        if self.ka.probes_out >= t.probes {
            let spec = SegSpec {
                optional_flags: TcpFlags::ACK,
                ..SegSpec::ctl(TcpFlags::RST, self.ack_seq(), None)
            };
            self.record.obligations.push(Obligation {
                spec,
                due,
                kind: ObligationKind::KeepAliveReset,
                rule: &rules::KEEPALIVE_RESET,
            });
        } else {
            let mut spec =
                SegSpec::ctl(TcpFlags::ACK, self.tcb.snd_nxt - 1, Some(self.tcb.rcv_nxt));
            if self.profile.behaviour.keepalive_garbage_octet {
                // RFC 9293 3.8.4: SHLD-12, MAY-6, a probe without data, or with one garbage
                // octet (the last one acknowledged, at SND.NXT - 1). Linux never sends the
                // octet (tcp_xmit_probe_skb()), so its profile wants the empty probe.
                spec.len = LenSpec::AtMost(1);
                spec.optional_flags = TcpFlags::PSH;
            }
            self.record.obligations.push(Obligation {
                spec,
                due,
                kind: ObligationKind::KeepAliveProbe,
                rule: &rules::KEEPALIVE_PROBE,
            });
        }
    }

    /// Keeps the retransmissions owed by `now` (within a jiffy, the kernel's timer
    /// resolution: the input reaches the stack a little after the model's `now`) that an
    /// input is about to make needless: the timer races the input, and a retransmission
    /// sent just before it is not the stack's error.
    pub(super) fn note_raced_retransmissions(&mut self, now: Duration) {
        let slack = timers::Hz::TARGET.jiffy();
        let raced = self
            .record
            .obligations
            .iter()
            .filter(|e| is_retransmission_of(e) && e.due.earliest <= now + slack)
            .map(|e| (*e, now));
        self.record.raced.extend(raced);
    }

    /// The same for an owed ACK (a delayed one) that an ABORT or a RST is about to make
    /// needless: allowed from now, it may leave just before the input is processed, and the
    /// harness reads it with the input's reaction. Seen on 6.18 (explorer, seed 7 case 1673,
    /// seed 31337 case 4549): the ACK of a FIN in CLOSE-WAIT came right before the RST of
    /// an ABORT 35 µs after the FIN, and once right after a RST; neither came back on
    /// replay. What made the kernel send it then was not found.
    pub(super) fn note_raced_acks(&mut self, now: Duration) {
        let slack = timers::Hz::TARGET.jiffy();
        let raced = self
            .record
            .obligations
            .iter()
            .filter(|e| {
                e.spec.flags == TcpFlags::ACK
                    && e.spec.len == LenSpec::Exact(0)
                    && e.due.earliest <= now + slack
            })
            .map(|e| (*e, now));
        self.record.raced.extend(raced);
    }

    /// The stack's SYN or SYN-ACK is acknowledged: RFC 6298 5.7 (and Linux
    /// tcp_init_metrics()): no RTT sample from the handshake (a retransmitted SYN or SYN-ACK,
    /// or a SYN cookie that kept no send time) puts the data RTO at 3 s.
    pub(super) fn handshake_acked(&mut self, now: Duration) {
        let expired = self.snd.rtx.is_some_and(|r| r.count > 0);
        self.rtx_acked(now);
        self.snd
            .rto
            .on_handshake_complete(expired || self.handshake.cookie);
    }

    pub(super) fn rtx_acked(&mut self, now: Duration) {
        self.note_raced_retransmissions(now);
        if let Some(rtx) = self.snd.rtx {
            // RFC 6298 5 / RFC 9293 3.8.1: MUST-18, Karn: no sample from a retransmission.
            self.snd
                .rto
                .on_ack(now.saturating_sub(rtx.sent_at), rtx.count > 0);
        }
        self.record.obligations.retain(|e| !is_retransmission_of(e));
        // Progress: whatever gave up before starts over.
        self.timers.give_up = None;
        if self.tcb.snd_una == self.tcb.snd_nxt {
            self.snd.rtx = None;
        } else if let Some(rtx) = &mut self.snd.rtx {
            rtx.count = 0;
            rtx.sent_at = now;
            rtx.first_sent = now;
            rtx.first_rtx_at = None;
            self.schedule_retransmission();
        }
    }

    /// Expects the oldest unacknowledged segment again when its timer runs out.
    /// A retransmission acknowledges what has come in since its timer was armed: it carries
    /// RCV.NXT as it stands when it goes (RFC 9293 3.8.1, the segment is sent again with
    /// the current <ACK=RCV.NXT>; Linux tcp_transmit_skb() fills in tp->rcv_nxt).
    pub(super) fn refresh_retransmission_ack(&mut self) {
        let rcv_nxt = self.tcb.rcv_nxt;
        for e in &mut self.record.obligations {
            if is_retransmission_of(e) && e.spec.ack.is_some() {
                e.spec.ack = Some(rcv_nxt);
            }
        }
    }

    pub(super) fn schedule_retransmission(&mut self) {
        let Some(rtx) = self.snd.rtx else { return };
        // RFC 9293 3.8.6: SHLD-17, data beyond the right window edge does not time the
        // connection out. A window shrunk to zero leaves every byte in flight beyond it;
        // the retransmissions then serve as zero-window probes (MUST-35) and go on while
        // the window stays closed (Linux tcp_retransmit_timer(): "Receiver dastardly shrinks
        // window. Our retransmits become zero probes, but we should not timeout this
        // connection"; it gives up only after TCP_USER_TIMEOUT or 2 * TCP_RTO_MAX, 240 s,
        // without a word from the peer, tcp_rtx_probe0_timed_out()).
        let shrunk_shut = self.tcb.snd_wnd == 0 && !rtx.flags.syn();
        let interval = if shrunk_shut {
            Some(self.snd.rto.rto())
        } else {
            self.retransmission_interval(rtx.count, rtx.flags)
        };
        let Some(interval) = interval else {
            // RFC 9293 3.8.3: MUST-20, after R2 the connection is closed. The last timeout
            // runs out first: the schedule's give-up time for a SYN or SYN-ACK, one more
            // RTO for data.
            self.timers.give_up = Some(if rtx.flags.syn() {
                let schedule = if rtx.flags.ack() {
                    timers::synack_schedule(&self.profile)
                } else {
                    timers::syn_schedule(&self.profile)
                };
                rtx.first_sent + schedule.give_up
            } else {
                rtx.sent_at + self.snd.rto.rto()
            });
            return;
        };
        if let (GiveUp::LinuxTimeBudget, false, false, Some(stamp)) = (
            self.profile.behaviour.give_up,
            rtx.flags.syn(),
            shrunk_shut,
            rtx.first_rtx_at,
        ) {
            // Linux retransmits_timed_out(): `tcp_retries2` is a time budget, the time
            // `tcp_retries2` retransmissions would take from TCP_RTO_MIN doubling
            // (tcp_model_timeout()), counted from the first retransmission and checked when
            // the timer fires; past it the connection is dropped without a RST.
            let budget = timers::retries_timeout(
                timers::schedule::LINUX_TCP_RTO_MIN,
                self.profile.retries2,
                self.profile.rto_max,
            );
            let fires = rtx.sent_at + interval;
            if fires.saturating_sub(stamp) >= budget {
                self.timers.give_up = Some(fires);
                return;
            }
        }
        let mut spec = SegSpec {
            flags: rtx.flags,
            optional_flags: TcpFlags::PSH | TcpFlags::ECE | TcpFlags::CWR,
            seq: SeqSpec::Exact(self.tcb.snd_una),
            ack: rtx.flags.ack().then_some(self.tcb.rcv_nxt),
            // RFC 9293 3.8.6: MAY-7, the retransmission may reach beyond SND.UNA + SND.WND
            // when the window shrank: it is as long as the segment first sent. Linux cuts
            // it to the window, except that SND.UNA's segment goes whole when none of it
            // fits (tcp_retransmit_skb(): avail_wnd = cur_mss), a zero-window probe.
            len: if rtx.len == 0 {
                LenSpec::Exact(0)
            } else {
                LenSpec::UpTo(rtx.len)
            },
        };
        if rtx.flags.syn() {
            spec.seq = SeqSpec::Exact(self.tcb.iss);
        }
        // The tolerance is for the interval, measured from the send that armed the timer.
        let due = self.retransmission_due(interval, rtx.sent_at);
        self.record.obligations.push(Obligation {
            spec,
            due,
            kind: ObligationKind::Retransmission,
            rule: &rules::RETRANSMISSION,
        });
    }

    /// `timer_due` for the retransmission timer. Its window is computed again only when the
    /// interval (or the profile's precision) changed since the last one: the wheel's window
    /// costs several divisions and was a twentieth of the model bench, where every send and
    /// every ACK of new data re-arms the timer with the same RTO. The window depends on
    /// nothing else, so the result is the same.
    fn retransmission_due(&mut self, interval: Duration, armed_at: Duration) -> Due {
        let precision = self.profile.timer_precision;
        let window = match self.timers.rtx_window {
            Some((p, i, window)) if p == precision && i == interval => window,
            _ => {
                let window = precision.window(interval);
                self.timers.rtx_window = Some((precision, interval, window));
                window
            }
        }
        .after(armed_at);
        Due {
            earliest: window.earliest,
            latest: window.latest,
        }
    }

    /// The time from the `count`-th transmission to the next, or `None` once the stack
    /// should give up.
    pub(super) fn retransmission_interval(&self, count: u32, flags: TcpFlags) -> Option<Duration> {
        if flags.syn() {
            let schedule = if flags.ack() {
                timers::synack_schedule(&self.profile)
            } else {
                timers::syn_schedule(&self.profile)
            };
            let i = count as usize;
            let at = schedule.sends.get(i)?;
            let next = schedule.sends.get(i + 1)?;
            return Some(*next - *at);
        }
        // RFC 9293 3.8.3: R2 as a count of retransmissions; Linux's time budget is checked
        // in schedule_retransmission(). The RTO already includes the backoff of every
        // retransmission so far.
        if let (GiveUp::Retransmissions, true) = (
            self.profile.behaviour.give_up,
            count >= self.profile.retries2,
        ) {
            return None;
        }
        Some(self.snd.rto.rto())
    }

    /// Runs the timers that end a state or the connection ([`DEADLINES`], in order).
    pub(super) fn poll_on_branch(&mut self, now: Duration) {
        for deadline in &DEADLINES {
            if (deadline.at)(self).is_some_and(|at| now >= at) {
                (deadline.fire)(self);
            }
        }
    }

    /// The user was told the connection timed out: RFC 9293 3.10.8, on a user timeout,
    /// flush the queues, tell the user "connection aborted due to user timeout" and enter
    /// CLOSED; RFC 9293 3.8.3: MUST-20, likewise after R2 retransmissions.
    fn time_out(&mut self) {
        self.record.reports.push(Report::TimedOut);
        self.record.obligations.clear();
        self.enter(State::Closed);
    }

    pub(super) fn enter_time_wait(&mut self, now: Duration) {
        self.enter(State::TimeWait);
        self.snd.rtx = None;
        if let TimeWait::LinuxMiniSocket = self.profile.behaviour.time_wait {
            // The timewait socket starts a fresh out-of-window budget
            // (tcp_time_wait(): tw_last_oow_ack_time = 0).
            self.timers.last_challenge = None;
        }
        // RFC 9293 3.6.1: MUST-13, linger in TIME-WAIT for 2 MSL (Linux: a fixed 60 s).
        self.timers.time_wait = Some(now + self.profile.time_wait);
    }
}

/// A timer that ends a state or the connection: when it fires, if it is armed and applies
/// in the connection's state, and what firing does. (Retransmission and keep-alive are
/// obligations, owed segments with a due time, not deadlines.)
struct Deadline {
    at: fn(&Connection) -> Option<Duration>,
    fire: fn(&mut Connection),
}

/// The deadlines, in the order they are checked: each sees the state the ones before left.
const DEADLINES: [Deadline; 4] = [
    // An orphaned FIN-WAIT-2 gives up waiting for the peer's FIN (Linux tcp_fin_timeout).
    Deadline {
        at: |c| c.timers.fin_wait_2.filter(|_| c.state == State::FinWait2),
        fire: |c| c.enter(State::Closed),
    },
    // RFC 9293 3.10.8: when the TIME-WAIT timeout expires, delete the TCB.
    Deadline {
        at: |c| c.timers.time_wait,
        fire: |c| c.enter(State::Closed),
    },
    // RFC 9293 3.8.3: MUST-20, retransmission gives up after R2.
    Deadline {
        at: |c| c.timers.give_up.filter(|_| c.state != State::Closed),
        fire: Connection::time_out,
    },
    // RFC 9293 3.10.8: the user timeout, counted from the first send of what is
    // outstanding.
    Deadline {
        at: |c| {
            let rtx = c.snd.rtx?;
            let timeout = c.timers.user_timeout.filter(|_| c.state != State::Closed)?;
            Some(rtx.first_sent + timeout)
        },
        fire: Connection::time_out,
    },
];

/// When a timer armed at `armed_at` to run `interval` fires, within the precision the
/// profile assumes of the stack's timers (a kernel's wheel, see
/// [`timers::timer_tolerance`]; exact on a virtual clock).
pub(super) fn timer_due(
    precision: timers::TimerPrecision,
    interval: Duration,
    armed_at: Duration,
) -> Due {
    let window = precision.window(interval).after(armed_at);
    Due {
        earliest: window.earliest,
        latest: window.latest,
    }
}
