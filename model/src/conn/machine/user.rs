//! User calls (RFC 9293 §3.10.1 to §3.10.6): OPEN, SEND, RECEIVE, CLOSE, ABORT and STATUS,
//! with the close(2) variants a socket API adds. Each acts on one branch; `branches.rs`
//! runs them on all.

use std::time::Duration;

use crate::conn::expect::{Choice, LenSpec, SegSpec, SeqSpec};
use crate::conn::state::State;
use crate::profile::behaviour::LingerZeroClose;
use crate::wire::TcpFlags;

use super::*;

impl Connection {
    /// OPEN, passive: listen for a connection.
    pub fn open_passive(&mut self, _now: Duration) -> Result<(), UserError> {
        self.events += 1;
        if self.state != State::Closed {
            return Err(UserError::AlreadyExists);
        }
        self.forget();
        self.handshake.passive = true;
        self.enter(State::Listen);
        Ok(())
    }

    /// OPEN, active: the stack must send `<SEQ=ISS><CTL=SYN>` at once.
    pub fn open_active(&mut self, now: Duration) -> Result<(), UserError> {
        self.events += 1;
        if self.state != State::Closed {
            return Err(UserError::AlreadyExists);
        }
        self.forget();
        self.handshake.passive = false;
        let (ecn, ecn_allowed) = self.ecn_syn_flags();
        let spec = SegSpec {
            flags: TcpFlags::SYN | ecn,
            optional_flags: ecn_allowed,
            seq: SeqSpec::Iss,
            ack: None,
            len: LenSpec::Exact(0),
        };
        let due = self.immediately(now);
        // RFC 9293 3.10.1: "A SYN segment of the form <SEQ=ISS><CTL=SYN> is sent".
        self.oblige(spec, due, &rules::ACTIVE_OPEN);
        self.enter(State::SynSent);
        Ok(())
    }

    /// SEND of `n` bytes.
    pub(super) fn send_on_branch(&mut self, now: Duration, n: u32) -> Result<(), UserError> {
        self.events += 1;
        let result = self.send_inner(now, n);
        if self.ka.on {
            self.plan_keepalive(now);
        }
        result
    }

    pub(super) fn send_inner(&mut self, now: Duration, n: u32) -> Result<(), UserError> {
        match self.state {
            State::Closed => Err(UserError::DoesNotExist),
            // RFC 9293 3.10.2: in LISTEN, SYN-SENT and SYN-RECEIVED data is queued.
            State::Listen | State::SynSent | State::SynReceived => {
                self.snd.unsent += n;
                Ok(())
            }
            State::Established | State::CloseWait => {
                let idle = self.tcb.snd_una == self.tcb.snd_nxt && self.snd.unsent == 0;
                self.snd.unsent += n;
                // RFC 9293 3.8.6.2.1: sender SWS avoidance may hold data that does not fit the
                // window as a full segment, or all of it; Linux sends only when the first
                // segment fits (tcp_snd_wnd_test). So data is owed at once only then.
                if idle && n > 0 && n.min(self.snd.mss) <= self.tcb.snd_wnd {
                    // With nothing in flight, neither Nagle (RFC 9293 3.7.4) nor the window
                    // holds the first segment back.
                    let spec = SegSpec {
                        flags: TcpFlags::ACK,
                        optional_flags: TcpFlags::PSH,
                        seq: SeqSpec::Exact(self.tcb.snd_nxt),
                        ack: Some(self.tcb.rcv_nxt),
                        len: LenSpec::UpTo(n.min(self.snd.mss).min(self.tcb.snd_wnd)),
                    };
                    let due = self.immediately(now);
                    self.oblige(spec, due, &rules::SEND_SEGMENTIZES);
                }
                Ok(())
            }
            _ => Err(UserError::Closing),
        }
    }

    /// Whether a SEND may take fewer bytes than offered (a short non-blocking write(), or
    /// EAGAIN): RFC 9293 3.10.2 lets a SEND wait for buffer space. Linux's send buffer fills
    /// long before its 16 KiB with a peer whose window is under one MSS: tcp_xmit_size_goal()
    /// cuts segments to half the largest window (tcp_bound_to_half_wnd(), 48 bytes at the
    /// least) and each segment carries its own buffer overhead. The model cannot count that
    /// overhead, so with such a window and data already queued it lets the stack choose.
    ///
    /// In SYN-SENT a Fast Open SYN may have taken part of a SEND (RFC 7413 3), and a stack
    /// that waits for the connection before it takes data answers a non-blocking SEND
    /// with nothing (`Behaviour::syn_sent_send_waits`; RFC 9293 3.10.2 queues it).
    pub fn send_may_be_short(&self) -> bool {
        let queued = self.snd.unsent > 0 || self.tcb.snd_nxt != self.tcb.snd_una;
        (matches!(self.state, State::Established | State::CloseWait)
            && queued
            && self.tcb.snd_wnd < self.snd.mss)
            || (self.state == State::SynSent
                && (self.active_fo.is_some() || self.profile.behaviour.syn_sent_send_waits))
    }

    /// RECEIVE of up to `n` bytes; returns how many the model says are there.
    pub(super) fn receive_on_branch(&mut self, n: u64) -> Result<u64, UserError> {
        self.events += 1;
        match self.state {
            State::Closed => Err(UserError::DoesNotExist),
            _ if self.rcv.readable > 0 => {
                let got = self.take_readable(n);
                // Linux tcp_recvmsg() goes on to the FIN behind the data while the read has
                // room left, and takes it off the receive queue; a FIN in the last byte's own
                // skb goes with that byte (seen on 6.18, explorer seed 7 case 1417: the
                // queue was empty, so a segment past the window's edge was taken).
                if self.rcv.readable == 0 && (n > got || self.rcv.fin_in_tail) {
                    self.rcv.fin_unread = false;
                }
                Ok(got)
            }
            // RFC 9293 3.10.3: once the remote FIN is in, RECEIVE reports "connection closing".
            State::CloseWait | State::Closing | State::LastAck | State::TimeWait => {
                self.rcv.fin_unread = false;
                Err(UserError::Closing)
            }
            _ => Ok(0),
        }
    }

    /// CLOSE.
    pub(super) fn close_on_branch(&mut self, now: Duration) -> Result<(), UserError> {
        self.events += 1;
        match self.state {
            State::Closed => Err(UserError::DoesNotExist),
            // RFC 9293 3.10.4: in LISTEN and SYN-SENT, delete the TCB.
            State::Listen | State::SynSent => {
                self.record.obligations.clear();
                self.enter(State::Closed);
                Ok(())
            }
            // Linux: shutdown(SHUT_WR) in a simultaneous open's SYN-RECEIVED only marks the
            // socket (inet_shutdown() sets SEND_SHUTDOWN; tcp_shutdown() acts in
            // ESTABLISHED, SYN-SENT and CLOSE-WAIT alone): the connection stays in
            // SYN-RECEIVED and the FIN leaves when the handshake completes. RFC 9293 3.10.4
            // sends it at once and enters FIN-WAIT-1.
            State::SynReceived
                if self.profile.behaviour.synrecv_shutdown_holds_fin && self.linux.simultaneous =>
            {
                self.snd.fin_queued = true;
                self.linux.closed_in_synrecv = true;
                Ok(())
            }
            State::SynReceived | State::Established => {
                self.queue_fin(now);
                self.enter(State::FinWait1);
                Ok(())
            }
            State::CloseWait => {
                self.queue_fin(now);
                self.enter(State::LastAck);
                Ok(())
            }
            _ => Err(UserError::Closing),
        }
    }

    /// CLOSE by an application that also lets go of the connection (close(2) on its last
    /// descriptor, where shutdown(2) is a plain CLOSE): nobody will read what arrives later.
    pub(super) fn close_and_release_on_branch(&mut self, now: Duration) -> Result<(), UserError> {
        // In TIME-WAIT Linux has no socket left to reset (tcp_time_wait() handed the
        // connection to a timewait sock): the CLOSE below only reports "connection closing".
        if self.rcv.readable > 0
            && (self.state.is_synchronized() || self.state == State::SynReceived)
            && self.state != State::TimeWait
        {
            // RFC 9293 3.6.1: MAY-1, SHLD-3: a half-duplex close; "If such a host issues a
            // CLOSE call while received data is still pending in TCP ... its TCP SHOULD send
            // a RST to show that data was lost" (Linux tcp_close(): data_was_unread).
            self.record.choices.push(Choice {
                rule: &rules::HALF_DUPLEX_CLOSE,
                taken: "close with unread data: RST",
            });
            if matches!(self.state, State::Closing | State::LastAck) {
                // RFC 9293 3.10.5's ABORT sends nothing in CLOSING and LAST-ACK, but SHLD-3
                // asks for the RST whatever the state, and Linux tcp_close() sends it
                // (tcp_send_active_reset(), SEQ=SND.NXT) in every state with a socket.
                self.reset_on_close(now, &rules::CLOSE_WITH_UNREAD_DATA);
                return Ok(());
            }
            return self.abort_on_branch(now);
        }
        let result = self.close_on_branch(now);
        self.released = true;
        self.arm_fin_wait_2(now);
        result
    }

    /// A close that resets where the RFC's ABORT would send nothing (CLOSING, LAST-ACK):
    /// `<SEQ=SND.NXT><CTL=RST>` at once, then CLOSED.
    pub(super) fn reset_on_close(&mut self, now: Duration, rule: &'static Rule) {
        self.events += 1;
        self.record.obligations.clear();
        let spec = SegSpec {
            optional_flags: TcpFlags::ACK,
            ..SegSpec::ctl(TcpFlags::RST, self.ack_seq(), None)
        };
        let due = self.immediately(now);
        self.oblige(spec, due, rule);
        self.enter(State::Closed);
    }

    /// close(2) with `SO_LINGER {1, 0}`: ABORT (RFC 9293 3.10.5). On Linux it is
    /// tcp_close(): unread data resets the connection in every state with a socket (as
    /// [`Connection::close_and_release`] does); in TIME-WAIT the connection already belongs
    /// to a timewait socket that close() cannot reach, so TIME-WAIT runs its course where
    /// the RFC's ABORT would delete the TCB; otherwise tcp_disconnect() is the ABORT.
    pub(super) fn close_linger_zero_on_branch(&mut self, now: Duration) -> Result<(), UserError> {
        match self.profile.behaviour.linger_zero_close {
            LingerZeroClose::Abort => return self.abort_on_branch(now),
            LingerZeroClose::LinuxTcpClose => {}
        }
        match self.state {
            State::TimeWait => {
                self.events += 1;
                self.released = true;
                self.record.choices.push(Choice {
                    rule: &rules::ABORT_CALL,
                    taken: "Linux: close() in TIME-WAIT leaves the timewait socket",
                });
                Ok(())
            }
            _ if self.rcv.readable > 0 => self.close_and_release_on_branch(now),
            // tcp_disconnect(): in CLOSING and LAST-ACK a FIN or data still unsent is
            // thrown away with a RST (<SEQ=SND.NXT><CTL=RST>); the RFC's ABORT sends nothing.
            State::Closing | State::LastAck
                if self.snd.unsent > 0 || self.snd.fin_seq.is_none() =>
            {
                self.reset_on_close(now, &rules::LINUX_DISCONNECT_RST);
                Ok(())
            }
            _ => self.abort_on_branch(now),
        }
    }

    /// Linux tcp_close() and tcp_rcv_state_process(): an orphaned connection waits
    /// `tcp_fin_timeout` in FIN-WAIT-2 for the peer's FIN, then is gone.
    pub(super) fn arm_fin_wait_2(&mut self, now: Duration) {
        if self.released && self.state == State::FinWait2 && self.timers.fin_wait_2.is_none() {
            self.timers.fin_wait_2 = self.profile.fin_timeout.map(|t| now + t);
        }
    }

    /// The FIN goes after all queued data; with none queued, at once.
    pub(super) fn queue_fin(&mut self, now: Duration) {
        self.snd.fin_queued = true;
        // Before the stack's own SYN is seen its ISN, and so the FIN's sequence number, is
        // unknown: the FIN is expected once the SYN has gone out.
        // A FIN takes a sequence number: with a zero window it may wait for the window to
        // open (Linux tcp_snd_wnd_test), and is then allowed, not owed.
        // RFC 9293 3.8.6.2.1 / 3.10.4: the FIN is sent within the window, SND.NXT + 1 =<
        // SND.UNA + SND.WND (Linux tcp_snd_wnd_test()); an unacknowledged SYN counts.
        let fits = !(self.tcb.snd_nxt + 1).after(self.tcb.snd_una + self.tcb.snd_wnd);
        if self.snd.unsent == 0 && self.handshake.iss_bound && fits {
            let spec = SegSpec {
                flags: TcpFlags::FIN | TcpFlags::ACK,
                optional_flags: TcpFlags::PSH,
                seq: SeqSpec::Exact(self.tcb.snd_nxt),
                ack: Some(self.tcb.rcv_nxt),
                len: LenSpec::Exact(0),
            };
            let due = self.immediately(now);
            // A pending pure ACK is carried by the FIN.
            self.drop_owed_pure_acks();
            self.oblige(spec, due, &rules::CLOSE_SENDS_FIN);
        }
    }

    /// ABORT.
    pub(super) fn abort_on_branch(&mut self, now: Duration) -> Result<(), UserError> {
        self.note_raced_retransmissions(now);
        self.note_raced_acks(now);
        self.events += 1;
        match self.state {
            State::Closed => Err(UserError::DoesNotExist),
            State::Listen | State::SynSent | State::TimeWait | State::Closing | State::LastAck => {
                self.record.obligations.clear();
                self.enter(State::Closed);
                Ok(())
            }
            _ => {
                self.record.obligations.clear();
                let spec = SegSpec::ctl(TcpFlags::RST, self.ack_seq(), None);
                let due = self.immediately(now);
                // RFC 9293 3.10.5: in synchronized states, send <SEQ=SND.NXT><CTL=RST>. Linux
                // sets ACK on it too, which the rule allows.
                self.oblige(
                    SegSpec {
                        optional_flags: TcpFlags::ACK,
                        ..spec
                    },
                    due,
                    &rules::ABORT_SENDS_RST,
                );
                self.enter(State::Closed);
                Ok(())
            }
        }
    }

    /// Sets the user timeout (RFC 9293 3.9.1.1; Linux TCP_USER_TIMEOUT): how long data may
    /// stay unacknowledged before the connection is aborted.
    pub fn set_user_timeout(&mut self, timeout: Option<Duration>) {
        self.timers.user_timeout = timeout;
    }

    /// Sets how many times a SYN goes again before the open gives up (Linux TCP_SYNCNT,
    /// the socket's own `tcp_syn_retries`; RFC 9293 3.8.3: MUST-23 leaves R2 for a SYN to
    /// the stack, at least 3 minutes). Linux reads it each time the SYN's timer fires
    /// (tcp_write_timeout()), so a SYN already waiting is timed anew.
    pub fn set_syn_retries(&mut self, retries: u32) {
        self.profile.syn_retries = retries;
        if self.snd.rtx.is_some_and(|r| r.flags.syn()) {
            self.record.obligations.retain(|e| !is_retransmission_of(e));
            self.timers.give_up = None;
            self.schedule_retransmission();
        }
    }

    /// STATUS (RFC 9293 3.10.6): what the connection looks like to its user.
    pub fn status(&self) -> Result<Status, UserError> {
        if self.state == State::Closed {
            return Err(UserError::DoesNotExist);
        }
        Ok(Status {
            state: self.state,
            send_window: self.tcb.snd_wnd,
            receive_window: self.tcb.rcv_wnd,
            unacknowledged: self.tcb.snd_nxt.forward_distance(self.tcb.snd_una),
            readable: self.rcv.readable,
            unsent: self.snd.unsent,
        })
    }
}
