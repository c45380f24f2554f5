//! One TCP connection as RFC 9293 §3.10 specifies it, seen from the stack under test.
//!
//! The model plays the stack's side: user calls and segments arriving from the peer are its
//! inputs, and every segment the stack sends is checked against what the model allows and
//! then applied, so free values (the ISN, the window) are bound from what the stack actually
//! chose. What the standard requires the stack to send is kept as a list of [`Expected`]
//! segments with the time they are due; [`Connection::settle`] reports any that is overdue.
//!
//! Sans-IO: time is an argument, nothing here reads a clock.

use std::time::Duration;

use super::expect::{Choice, Divergence, Due, Expected, LenSpec, SegSpec, SeqSpec};
use super::negotiate::{Negotiation, SynOptions};
use super::segment::Seg;
use super::state::State;
use crate::profile::{KeepAlive, Profile, ProfileKind};
use crate::seq::{segment_acceptable, SeqNumber};
use crate::timers;
use crate::wire::TcpFlags;

/// The send and receive sequence variables of RFC 9293 §3.3.1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tcb {
    pub snd_una: SeqNumber,
    pub snd_nxt: SeqNumber,
    /// Scaled, in bytes.
    pub snd_wnd: u32,
    pub snd_wl1: SeqNumber,
    pub snd_wl2: SeqNumber,
    pub iss: SeqNumber,
    pub rcv_nxt: SeqNumber,
    /// Linux's RCV.WUP: RCV.NXT as of the last segment the stack sent (tcp_select_window()),
    /// from where its receive window is counted; behind RCV.NXT while an ACK is delayed.
    pub rcv_wup: SeqNumber,
    /// Scaled, in bytes: what the stack last advertised.
    pub rcv_wnd: u32,
    pub irs: SeqNumber,
}

/// What the application is told (RFC 9293 §3.9.1.8 asynchronous reports).
// RFC 9293 3.6: MUST-12, a close by FIN and an abort by RST are reported differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    ConnectionReset,
    ConnectionRefused,
    ConnectionClosing,
    TimedOut,
}

/// What STATUS reports (RFC 9293 §3.10.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    pub state: State,
    pub send_window: u32,
    pub receive_window: u32,
    /// Bytes (and SYN, FIN) sent and not yet acknowledged.
    pub unacknowledged: u32,
    pub readable: u64,
    pub unsent: u32,
}

/// Why a user call fails (RFC 9293 §3.10.1 to §3.10.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserError {
    /// "error: connection already exists"
    AlreadyExists,
    /// "error: connection does not exist"
    DoesNotExist,
    /// "error: connection closing"
    Closing,
    /// "error: connection illegal for this process"
    Illegal,
}

/// The retransmission timer for the oldest unacknowledged segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rtx {
    /// When the oldest unacknowledged segment was first sent.
    first_sent: Duration,
    /// When the segment was last sent.
    sent_at: Duration,
    /// Retransmissions so far.
    count: u32,
    /// When the first retransmission went out: Linux measures its give-up budget from
    /// there (`retrans_stamp`, retransmits_timed_out()).
    first_rtx_at: Option<Duration>,
    /// What the oldest unacknowledged segment is: SYN, SYN-ACK, data, FIN.
    flags: TcpFlags,
    len: u32,
}

#[derive(Clone, Debug)]
pub struct Connection {
    profile: Profile,
    state: State,
    /// RFC 9293 3.5: MUST-11, whether SYN-RECEIVED came from a passive OPEN.
    passive: bool,
    tcb: Tcb,
    /// The stack's SYN has been seen, so `tcb.iss` is bound.
    iss_bound: bool,
    expected: Vec<Expected>,
    choices: Vec<Choice>,
    reports: Vec<Report>,
    /// Bytes SEND has queued that the stack has not sent yet.
    unsent: u32,
    /// CLOSE was called: a FIN goes after the queued data.
    fin_queued: bool,
    /// The sequence number of the stack's FIN, once sent.
    fin_seq: Option<SeqNumber>,
    rtx: Option<Rtx>,
    rto: timers::RtoEstimator,
    /// Out-of-order data held for later (RFC 9293 3.10.7.4: SHLD-31), as sorted, disjoint
    /// ranges relative to nothing: absolute sequence numbers and lengths.
    ooo: Vec<(SeqNumber, u32)>,
    /// FINs held out of order, each as (the first sequence number of its segment, the
    /// FIN's): its range in `ooo` covers it, as Linux's SACK blocks do; processed when the
    /// hole before it fills. Linux keeps each segment with its own FIN, so a peer that sent
    /// two may leave two.
    ooo_fins: Vec<(SeqNumber, SeqNumber)>,
    /// The peer's FIN is in and the application has not read the end of the stream: Linux
    /// keeps it in the receive queue, which tcp_sequence() looks at.
    fin_unread: bool,
    /// The FIN joined unread text (its own segment's, or tcp_try_coalesce() merged it into
    /// the receive queue's tail): Linux's tcp_recvmsg() takes it with the last byte
    /// (found_fin_ok), however much the read asked for.
    fin_in_tail: bool,
    /// Linux: the request socket has handed the connection to a full child socket, which
    /// judges segments as tcp_rcv_state_process() does.
    linux_child: bool,
    /// Linux: SYN-RECEIVED was reached by a simultaneous open (tcp_rcv_synsent_state_process()).
    linux_simultaneous: bool,
    /// Linux: CLOSE came in a simultaneous open's SYN-RECEIVED, before the SYN was
    /// acknowledged (the socket is in FIN-WAIT-1 with its FIN held).
    linux_closed_in_synrecv: bool,
    /// The FIN owed by that late handshake left before the segment's text was looked at:
    /// it carries no SACK block for what the segment brought.
    fin_before_text: bool,
    /// Linux header prediction is on (tp->pred_flags set): the fast path of
    /// tcp_rcv_established() may take an in-order segment before tcp_ack() judges it.
    linux_hp: bool,
    /// The other branches of choices the wire does not show yet (the model is a relation):
    /// Linux's header prediction runs the fast path of tcp_rcv_established() only when the
    /// socket's memory reserve (sk_forward_alloc) covers the segment, and the two paths
    /// differ for a too-old ACK on text (the fast path takes the text) and for SND.WL1 (the
    /// fast path sets it to SEG.SEQ). Every input goes to every branch; an output keeps the
    /// branches that allow it. At most [`MAX_BRANCHES`] are followed.
    alts: Vec<Connection>,
    /// A branch made while processing an input, installed once the input is done.
    new_alt: Option<Box<Connection>>,
    /// SND.WL1 of the fast path, when it differs from the slow path's after this input.
    fast_path_wl1: Option<SeqNumber>,
    /// TS.Recent of the fast path, when it differs from the slow path's after this input.
    fast_path_ts: Option<u32>,
    /// Out-of-order ranges just dropped by a FIN or the end of the connection: Linux's
    /// reply sent in the same breath (the ACK of that FIN in FIN-WAIT-1 and -2, a RST from
    /// close()) still carries them as SACK blocks (tcp_fin() purges after tcp_send_ack()).
    purged_ooo: Vec<(SeqNumber, u32)>,
    /// Retransmissions that were due when an input made them needless (an ACK of what they
    /// carry, an ABORT, a RST), with the input's time: the stack's timer may have fired just
    /// before the input reached it, and the harness reads the segment after the input. Each
    /// is allowed once until the next settle (see `note_raced_retransmissions`).
    raced: Vec<(Expected, Duration)>,
    /// Linux: the timewait socket has taken an input since TIME-WAIT began, so what the
    /// stack sends now is the timewait socket's (tcp_v4_timewait_ack()), not the full
    /// socket's ACK of the FIN that led here.
    linux_tw_socket: bool,
    /// The TSvals of the first and the latest SYN-ACK the stack sent (Linux's request socket
    /// keeps them as snt_tsval_first and snt_tsval_last).
    synack_tsvals: Option<(u32, u32)>,
    /// In-order bytes received and not yet read by the application.
    readable: u64,
    /// The window scale each side uses for its own window field, once negotiated.
    snd_shift: u8,
    rcv_shift: u8,
    negotiation: Negotiation,
    /// The stack's last TSval, once timestamps are on: its clock must not go back.
    ts_clock: Option<u32>,
    /// The peer's latest TSvals, the only values the stack may echo.
    peer_tsvals: [Option<u32>; 8],
    /// RFC 7323 4.3's TS.Recent: the TSval to echo, and PAWS's reference.
    ts_recent: Option<u32>,
    /// The largest window the peer has offered (RFC 5961 5.2's MAX.SND.WND).
    max_snd_wnd: u32,
    time_wait_until: Option<Duration>,
    /// When retransmission gives up (RFC 9293 3.8.3 R2), once the last one has gone out.
    give_up_at: Option<Duration>,
    /// RFC 9293 3.10.8 / RFC 5482: the user timeout, when set (Linux TCP_USER_TIMEOUT).
    user_timeout: Option<Duration>,
    last_challenge: Option<Duration>,
    /// Bytes (and SYN, FIN) the peer has acknowledged: Linux's cap on MAX.SND.WND.
    bytes_acked: u64,
    /// The effective send MSS (RFC 9293 3.7.1: MUST-16).
    send_mss: u32,
    /// The send MSS without an MSS option: 536 on IPv4, 1220 on IPv6 (MUST-15).
    default_mss: u32,
    /// The application has closed its descriptor: nobody will read again (Linux orphans
    /// the socket; RFC 9293 3.6's half-duplex close, MAY-1).
    released: bool,
    /// When an orphaned FIN-WAIT-2 gives up waiting for the peer's FIN.
    fin_wait_2_until: Option<Duration>,
    /// Keep-alives are on (RFC 9293 3.8.4: MAY-5; MUST-26, off unless asked for).
    keepalive: bool,
    /// The listener answered this connection's SYN with a SYN cookie.
    cookie: bool,
    /// The socket's keep-alive numbers (the profile's until set).
    ka_times: KeepAlive,
    /// Probes sent since the peer was last heard from.
    ka_probes_out: u32,
    /// When the peer was last heard from (an acceptable ACK).
    ka_last_rcv: Duration,
    ka_last_probe: Option<Duration>,
    /// A connection reopened from TIME-WAIT must choose an ISN above this (RFC 9293 3.6.1:
    /// MAY-2, condition 1).
    iss_floor: Option<SeqNumber>,
    /// Events processed, for the benchmark and the fuzz target's sanity checks.
    pub events: u64,
}

/// RFC 9293 3.7.1: MUST-15, without an MSS option the send MSS is 536 (IPv4).
const DEFAULT_MSS: u32 = 536;
/// RFC 9293 3.7.1: MUST-15, "or 1220 (1280 - 60) for IPv6".
const DEFAULT_MSS_IPV6: u32 = 1220;

/// How many other branches the model follows at most (see `Connection::alts`).
const MAX_BRANCHES: usize = 8;

/// Linux `TCP_TIMEOUT_MIN`: two jiffies (include/net/tcp.h).
const LINUX_TIMEOUT_MIN: Duration = Duration::from_millis(8);

impl Connection {
    pub fn new(profile: Profile) -> Connection {
        let rto = timers::RtoEstimator::new(&profile);
        let profile_keepalive = profile.keepalive;
        Connection {
            profile,
            state: State::Closed,
            passive: false,
            tcb: Tcb::default(),
            iss_bound: false,
            expected: Vec::new(),
            choices: Vec::new(),
            reports: Vec::new(),
            unsent: 0,
            fin_queued: false,
            fin_seq: None,
            rtx: None,
            rto,
            ooo: Vec::new(),
            ooo_fins: Vec::new(),
            fin_unread: false,
            fin_in_tail: false,
            linux_child: false,
            linux_simultaneous: false,
            linux_closed_in_synrecv: false,
            fin_before_text: false,
            linux_hp: false,
            alts: Vec::new(),
            new_alt: None,
            fast_path_wl1: None,
            fast_path_ts: None,
            linux_tw_socket: false,
            purged_ooo: Vec::new(),
            raced: Vec::new(),
            synack_tsvals: None,
            readable: 0,
            snd_shift: 0,
            rcv_shift: 0,
            negotiation: Negotiation::default(),
            ts_clock: None,
            peer_tsvals: [None; 8],
            ts_recent: None,
            max_snd_wnd: 0,
            time_wait_until: None,
            give_up_at: None,
            user_timeout: None,
            last_challenge: None,
            bytes_acked: 0,
            send_mss: DEFAULT_MSS,
            default_mss: DEFAULT_MSS,
            released: false,
            fin_wait_2_until: None,
            keepalive: false,
            cookie: false,
            ka_times: profile_keepalive,
            ka_probes_out: 0,
            ka_last_rcv: Duration::ZERO,
            ka_last_probe: None,
            iss_floor: None,
            events: 0,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }
    pub fn tcb(&self) -> &Tcb {
        &self.tcb
    }
    pub fn profile(&self) -> &Profile {
        &self.profile
    }
    /// What the stack owes, oldest first.
    pub fn expected(&self) -> &[Expected] {
        &self.expected
    }
    pub fn choices(&self) -> &[Choice] {
        &self.choices
    }
    pub fn reports(&self) -> &[Report] {
        &self.reports
    }
    /// Bytes the application can read.
    pub fn readable(&self) -> u64 {
        self.readable
    }
    /// Out-of-order ranges held, as (first sequence number, length).
    pub fn out_of_order(&self) -> &[(SeqNumber, u32)] {
        &self.ooo
    }

    fn immediately(&self, now: Duration) -> Due {
        Due {
            earliest: now,
            latest: now,
        }
    }

    fn expect(&mut self, spec: SegSpec, due: Due, rule: &'static str) {
        self.expected.push(Expected { spec, due, rule });
    }

    /// The SEQ of an ACK or RST the stack sends on its own: SND.NXT (RFC 9293 3.10.7.4).
    /// Linux tcp_acceptable_seq() uses the right edge of the peer's window, SND.UNA +
    /// SND.WND, when SND.NXT lies beyond it (a window that shrank, or closed under a FIN),
    /// so that the peer finds the segment acceptable; with window scaling an overshoot
    /// smaller than one unit of the window scale still uses SND.NXT.
    fn ack_seq(&self) -> SeqNumber {
        let nxt = self.tcb.snd_nxt;
        // A request socket answers with SEQ = its ISS + 1 (tcp_v4_reqsk_send_ack()).
        if self.profile.kind != ProfileKind::Linux || !self.iss_bound || self.linux_request() {
            return nxt;
        }
        let wnd_end = self.tcb.snd_una + self.tcb.snd_wnd;
        let scaled = self.negotiation.window_scale().is_some();
        if !wnd_end.before(nxt) || (scaled && nxt.forward_distance(wnd_end) < 1 << self.rcv_shift) {
            nxt
        } else {
            wnd_end
        }
    }

    /// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`, the reply of many rules.
    fn ack_now(&mut self, now: Duration, rule: &'static str) {
        let spec = SegSpec::ctl(TcpFlags::ACK, self.ack_seq(), Some(self.tcb.rcv_nxt));
        let due = self.immediately(now);
        // A newer ACK supersedes an older one still owed: the stack need not send both.
        self.drop_owed_pure_acks();
        self.expect(spec, due, rule);
    }

    /// A newer ACK (or any segment carrying the ACK) supersedes a pure ACK still owed: the
    /// stack need not send both (ACK aggregation, RFC 9293 §3.10.7.4).
    fn drop_owed_pure_acks(&mut self) {
        self.expected
            .retain(|e| !(e.spec.flags == TcpFlags::ACK && e.spec.len == LenSpec::Exact(0)));
    }

    fn enter(&mut self, state: State) {
        self.state = state;
        self.linux_tw_socket &= state == State::TimeWait;
        if state != State::FinWait2 {
            self.fin_wait_2_until = None;
        }
        if state == State::Closed {
            self.expected.retain(|e| e.spec.flags.rst());
            self.rtx = None;
            self.time_wait_until = None;
            self.give_up_at = None;
            self.purged_ooo = std::mem::take(&mut self.ooo);
            self.ooo_fins.clear();
        }
    }

    /// A half-open connection from a passive OPEN goes back to listening, forgetting all of
    /// the attempt (RFC 9293 3.10.7.4).
    fn back_to_listen(&mut self) {
        self.forget();
        self.expected.clear();
        self.passive = true;
        self.state = State::Listen;
    }

    /// Starts a new incarnation: nothing of the old connection's variables survives, only
    /// what was owed on the wire (a RST from an ABORT) and the record of what happened.
    fn forget(&mut self) {
        let profile = self.profile.clone();
        let old = std::mem::replace(self, Connection::new(profile));
        self.events = old.events;
        self.choices = old.choices;
        self.reports = old.reports;
        self.expected = old.expected;
        self.last_challenge = old.last_challenge;
        self.raced = old.raced;
        self.default_mss = old.default_mss;
        self.send_mss = old.default_mss;
        self.keepalive = old.keepalive;
        self.ka_times = old.ka_times;
    }

    /// The connection runs over IPv6, which changes the default send MSS (MUST-15).
    pub fn set_ipv6(&mut self, v6: bool) {
        self.default_mss = if v6 { DEFAULT_MSS_IPV6 } else { DEFAULT_MSS };
        if !self.state.is_synchronized() && self.state != State::SynReceived {
            self.send_mss = self.default_mss;
        }
    }

    /// The listener answers this connection's SYN with a SYN cookie (RFC 4987 3.6): the
    /// SYN-ACK is the only thing it keeps of the attempt, so it is never retransmitted.
    pub fn answered_by_cookie(&mut self) {
        self.cookie = true;
        self.expected.retain(|e| !is_retransmission_of(e));
        if self.rtx.is_some_and(|r| r.flags.syn()) {
            self.rtx = None;
        }
    }

    /// Keep-alives on or off (RFC 9293 3.8.4; the socket option SO_KEEPALIVE).
    pub fn set_keepalive(&mut self, now: Duration, on: bool) {
        self.keepalive = on;
        self.plan_keepalive(now);
    }

    /// The socket's own keep-alive numbers (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT).
    pub fn set_keepalive_times(&mut self, now: Duration, times: KeepAlive) {
        self.ka_times = times;
        self.plan_keepalive(now);
    }

    /// Expects the next keep-alive action: RFC 9293 3.8.4 (MAY-5) sends a probe
    /// `<SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK>` once the connection has been idle (nothing
    /// outstanding, nothing heard) for the idle time, then every interval while the peer
    /// stays silent; Linux's tcp_keepalive_timer() resets the connection after the given
    /// number of unanswered probes (tcp_send_active_reset(), ETIMEDOUT), the RFC's "MAY
    /// drop" taken. Keep-alives count from the last thing heard, so an answer restarts the
    /// idle time.
    fn plan_keepalive(&mut self, now: Duration) {
        self.expected.retain(|e| !is_keepalive(e));
        let live = matches!(
            self.state,
            State::Established | State::CloseWait | State::FinWait1 | State::FinWait2
        );
        if !self.keepalive || !live || self.tcb.snd_una != self.tcb.snd_nxt || self.unsent > 0 {
            return;
        }
        let t = self.ka_times;
        let fire = match (self.ka_probes_out, self.ka_last_probe) {
            (0, None) => self.ka_last_rcv + t.idle,
            (0, Some(p)) => (self.ka_last_rcv + t.idle).max(p + t.interval),
            (_, p) => p.unwrap_or(now) + t.interval,
        };
        let window = timers::timer_tolerance(fire.saturating_sub(now)).after(now);
        let due = Due {
            earliest: window.earliest,
            latest: window.latest,
        };
        if self.ka_probes_out >= t.probes {
            let spec = SegSpec {
                optional_flags: TcpFlags::ACK,
                ..SegSpec::ctl(TcpFlags::RST, self.ack_seq(), None)
            };
            self.expect(spec, due, KEEPALIVE_RESET_RULE);
        } else {
            let spec = SegSpec::ctl(TcpFlags::ACK, self.tcb.snd_nxt - 1, Some(self.tcb.rcv_nxt));
            self.expect(spec, due, KEEPALIVE_RULE);
        }
    }

    // --- User calls (RFC 9293 3.10.1 to 3.10.6) ---

    /// OPEN, passive: listen for a connection.
    pub fn open_passive(&mut self, _now: Duration) -> Result<(), UserError> {
        self.events += 1;
        if self.state != State::Closed {
            return Err(UserError::AlreadyExists);
        }
        self.forget();
        self.passive = true;
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
        self.passive = false;
        let spec = SegSpec {
            flags: TcpFlags::SYN,
            optional_flags: TcpFlags::ECE | TcpFlags::CWR,
            seq: SeqSpec::Iss,
            ack: None,
            len: LenSpec::Exact(0),
        };
        let due = self.immediately(now);
        // RFC 9293 3.10.1: "A SYN segment of the form <SEQ=ISS><CTL=SYN> is sent".
        self.expect(
            spec,
            due,
            "RFC 9293 3.10.1: active OPEN sends <SEQ=ISS><CTL=SYN>",
        );
        self.enter(State::SynSent);
        Ok(())
    }

    /// SEND of `n` bytes.
    fn send_one(&mut self, now: Duration, n: u32) -> Result<(), UserError> {
        self.events += 1;
        let result = self.send_inner(now, n);
        if self.keepalive {
            self.plan_keepalive(now);
        }
        result
    }

    fn send_inner(&mut self, now: Duration, n: u32) -> Result<(), UserError> {
        match self.state {
            State::Closed => Err(UserError::DoesNotExist),
            // RFC 9293 3.10.2: in LISTEN, SYN-SENT and SYN-RECEIVED data is queued.
            State::Listen | State::SynSent | State::SynReceived => {
                self.unsent += n;
                Ok(())
            }
            State::Established | State::CloseWait => {
                let idle = self.tcb.snd_una == self.tcb.snd_nxt && self.unsent == 0;
                self.unsent += n;
                // RFC 9293 3.8.6.2.1: sender SWS avoidance may hold data that does not fit the
                // window as a full segment, or all of it; Linux sends only when the first
                // segment fits (tcp_snd_wnd_test). So data is owed at once only then.
                if idle && n > 0 && n.min(self.send_mss) <= self.tcb.snd_wnd {
                    // With nothing in flight, neither Nagle (RFC 9293 3.7.4) nor the window
                    // holds the first segment back.
                    let spec = SegSpec {
                        flags: TcpFlags::ACK,
                        optional_flags: TcpFlags::PSH,
                        seq: SeqSpec::Exact(self.tcb.snd_nxt),
                        ack: Some(self.tcb.rcv_nxt),
                        len: LenSpec::UpTo(n.min(self.send_mss).min(self.tcb.snd_wnd)),
                    };
                    let due = self.immediately(now);
                    self.expect(
                        spec,
                        due,
                        "RFC 9293 3.10.2: SEND in ESTABLISHED segmentizes and sends",
                    );
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
    pub fn send_may_be_short(&self) -> bool {
        let queued = self.unsent > 0 || self.tcb.snd_nxt != self.tcb.snd_una;
        matches!(self.state, State::Established | State::CloseWait)
            && queued
            && self.tcb.snd_wnd < self.send_mss
    }

    /// RECEIVE of up to `n` bytes; returns how many the model says are there.
    fn receive_one(&mut self, n: u64) -> Result<u64, UserError> {
        self.events += 1;
        match self.state {
            State::Closed => Err(UserError::DoesNotExist),
            _ if self.readable > 0 => {
                let got = self.readable.min(n);
                self.readable -= got;
                // Linux tcp_recvmsg() goes on to the FIN behind the data while the read has
                // room left, and takes it off the receive queue; a FIN in the last byte's own
                // skb goes with that byte (seen on 6.18, explorer seed 7 case 1417: the
                // queue was empty, so a segment past the window's edge was taken).
                if self.readable == 0 && (n > got || self.fin_in_tail) {
                    self.fin_unread = false;
                }
                Ok(got)
            }
            // RFC 9293 3.10.3: once the remote FIN is in, RECEIVE reports "connection closing".
            State::CloseWait | State::Closing | State::LastAck | State::TimeWait => {
                self.fin_unread = false;
                Err(UserError::Closing)
            }
            _ => Ok(0),
        }
    }

    /// CLOSE.
    fn close_one(&mut self, now: Duration) -> Result<(), UserError> {
        self.events += 1;
        match self.state {
            State::Closed => Err(UserError::DoesNotExist),
            // RFC 9293 3.10.4: in LISTEN and SYN-SENT, delete the TCB.
            State::Listen | State::SynSent => {
                self.expected.clear();
                self.enter(State::Closed);
                Ok(())
            }
            // Linux: shutdown(SHUT_WR) in a simultaneous open's SYN-RECEIVED only marks the
            // socket (inet_shutdown() sets SEND_SHUTDOWN; tcp_shutdown() acts in
            // ESTABLISHED, SYN-SENT and CLOSE-WAIT alone): the connection stays in
            // SYN-RECEIVED and the FIN leaves when the handshake completes. RFC 9293 3.10.4
            // sends it at once and enters FIN-WAIT-1.
            State::SynReceived
                if self.profile.kind == ProfileKind::Linux && self.linux_simultaneous =>
            {
                self.fin_queued = true;
                self.linux_closed_in_synrecv = true;
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
    fn close_and_release_one(&mut self, now: Duration) -> Result<(), UserError> {
        // In TIME-WAIT Linux has no socket left to reset (tcp_time_wait() handed the
        // connection to a timewait sock): the CLOSE below only reports "connection closing".
        if self.readable > 0
            && (self.state.is_synchronized() || self.state == State::SynReceived)
            && self.state != State::TimeWait
        {
            // RFC 9293 3.6: MAY-1, a half-duplex close; SHLD-2, "If such a host issues a
            // CLOSE call while received data is still pending in TCP ... its TCP SHOULD send
            // a RST to show that data was lost" (Linux tcp_close(): data_was_unread).
            self.choices.push(Choice {
                rule: "RFC 9293 3.6: MAY-1, SHLD-2",
                taken: "close with unread data: RST",
            });
            if matches!(self.state, State::Closing | State::LastAck) {
                // RFC 9293 3.10.5's ABORT sends nothing in CLOSING and LAST-ACK, but SHLD-2
                // asks for the RST whatever the state, and Linux tcp_close() sends it
                // (tcp_send_active_reset(), SEQ=SND.NXT) in every state with a socket.
                self.reset_on_close(
                    now,
                    "RFC 9293 3.6: SHLD-2, CLOSE with unread data sends <SEQ=SND.NXT><CTL=RST>",
                );
                return Ok(());
            }
            return self.abort(now);
        }
        let result = self.close(now);
        self.released = true;
        self.arm_fin_wait_2(now);
        result
    }

    /// A close that resets where the RFC's ABORT would send nothing (CLOSING, LAST-ACK):
    /// `<SEQ=SND.NXT><CTL=RST>` at once, then CLOSED.
    fn reset_on_close(&mut self, now: Duration, rule: &'static str) {
        self.events += 1;
        self.expected.clear();
        let spec = SegSpec {
            optional_flags: TcpFlags::ACK,
            ..SegSpec::ctl(TcpFlags::RST, self.ack_seq(), None)
        };
        let due = self.immediately(now);
        self.expect(spec, due, rule);
        self.enter(State::Closed);
    }

    /// close(2) with `SO_LINGER {1, 0}`: ABORT (RFC 9293 3.10.5). On Linux it is
    /// tcp_close(): unread data resets the connection in every state with a socket (as
    /// [`Connection::close_and_release`] does); in TIME-WAIT the connection already belongs
    /// to a timewait socket that close() cannot reach, so TIME-WAIT runs its course where
    /// the RFC's ABORT would delete the TCB; otherwise tcp_disconnect() is the ABORT.
    fn close_linger_zero_one(&mut self, now: Duration) -> Result<(), UserError> {
        if self.profile.kind != ProfileKind::Linux {
            return self.abort(now);
        }
        match self.state {
            State::TimeWait => {
                self.events += 1;
                self.released = true;
                self.choices.push(Choice {
                    rule: "RFC 9293 3.10.5",
                    taken: "Linux: close() in TIME-WAIT leaves the timewait socket",
                });
                Ok(())
            }
            _ if self.readable > 0 => self.close_and_release(now),
            // tcp_disconnect(): in CLOSING and LAST-ACK a FIN or data still unsent is
            // thrown away with a RST (<SEQ=SND.NXT><CTL=RST>); the RFC's ABORT sends nothing.
            State::Closing | State::LastAck if self.unsent > 0 || self.fin_seq.is_none() => {
                self.reset_on_close(
                    now,
                    "Linux tcp_disconnect: unsent data or FIN in CLOSING or LAST-ACK: <SEQ=SND.NXT><CTL=RST>",
                );
                Ok(())
            }
            _ => self.abort(now),
        }
    }

    /// Linux tcp_close() and tcp_rcv_state_process(): an orphaned connection waits
    /// `tcp_fin_timeout` in FIN-WAIT-2 for the peer's FIN, then is gone.
    fn arm_fin_wait_2(&mut self, now: Duration) {
        if self.released && self.state == State::FinWait2 && self.fin_wait_2_until.is_none() {
            self.fin_wait_2_until = self.profile.fin_timeout.map(|t| now + t);
        }
    }

    /// RFC 9293 3.6.1: MAY-2, a SYN may reopen a connection in TIME-WAIT if the new ISN is
    /// above every sequence number the old one used (condition 1). Linux takes it when the
    /// SYN lies beyond RCV.NXT or carries a newer TSval (tcp_timewait_state_process()) and
    /// a listener owns the port, which only the caller knows. Returns whether it reopened:
    /// then the connection is a new passive one that received this SYN.
    fn reopen_from_time_wait_one(&mut self, now: Duration, seg: &Seg) -> bool {
        if self.state != State::TimeWait || !seg.flags.syn() || seg.flags.ack() || seg.flags.rst() {
            return false;
        }
        let newer_ts = match (seg.options.timestamps, self.peer_tsvals[0]) {
            (Some((val, _)), Some(recent)) => SeqNumber(recent).before(SeqNumber(val)),
            _ => false,
        };
        if self.profile.kind == ProfileKind::Linux {
            // tcp_timewait_state_process(): the timewait socket reads TSopt only with
            // timestamps on (tw_ts_recent_stamp set), and judges a SYN's TSval against
            // tw_ts_recent, an older one being a PAWS reject (seen on 6.18, explorer seed 7
            // case 2842: a newer TSval without timestamps drew the timewait ACK).
            let ts = seg
                .options
                .timestamps
                .filter(|_| self.negotiation.timestamps());
            let (newer, paws_reject) = match (ts, self.ts_recent) {
                (Some((val, _)), Some(recent)) => (
                    SeqNumber(recent).before(SeqNumber(val)),
                    SeqNumber(val).before(SeqNumber(recent)),
                ),
                _ => (false, false),
            };
            if paws_reject || !(seg.seq.after(self.tcb.rcv_nxt) || newer) {
                return false;
            }
        } else if !(seg.seq.after(self.tcb.rcv_nxt) || newer_ts) {
            return false;
        }
        let floor = self.tcb.snd_nxt;
        self.events += 1;
        self.forget();
        self.choices.push(Choice {
            rule: "RFC 9293 3.6.1: MAY-2",
            taken: "a SYN reopens the connection from TIME-WAIT",
        });
        self.passive = true;
        self.state = State::Listen;
        self.iss_floor = Some(floor);
        self.note_peer_tsval(seg);
        self.arrive_listen(now, seg);
        if self.state == State::Listen {
            // The listener dropped the SYN (a SYN with FIN, say): TIME-WAIT is gone all the
            // same (Linux tcp_v4_rcv(), TCP_TW_SYN: inet_twsk_deschedule_put() before the
            // listener sees the segment), and the ISN it proposed went with that segment, so
            // the next SYN is a fresh connection with a fresh ISN (explorer, seed 4242,
            // cases 736 and 750).
            self.iss_floor = None;
        }
        true
    }

    /// The FIN goes after all queued data; with none queued, at once.
    fn queue_fin(&mut self, now: Duration) {
        self.fin_queued = true;
        // Before the stack's own SYN is seen its ISN, and so the FIN's sequence number, is
        // unknown: the FIN is expected once the SYN has gone out.
        // A FIN takes a sequence number: with a zero window it may wait for the window to
        // open (Linux tcp_snd_wnd_test), and is then allowed, not owed.
        // RFC 9293 3.8.6.2.1 / 3.10.4: the FIN is sent within the window, SND.NXT + 1 =<
        // SND.UNA + SND.WND (Linux tcp_snd_wnd_test()); an unacknowledged SYN counts.
        let fits = !(self.tcb.snd_nxt + 1).after(self.tcb.snd_una + self.tcb.snd_wnd);
        if self.unsent == 0 && self.iss_bound && fits {
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
            self.expect(
                spec,
                due,
                "RFC 9293 3.10.4: CLOSE sends a FIN once queued data is sent",
            );
        }
    }

    /// ABORT.
    fn abort_one(&mut self, now: Duration) -> Result<(), UserError> {
        self.note_raced_retransmissions(now);
        self.note_raced_acks(now);
        self.events += 1;
        match self.state {
            State::Closed => Err(UserError::DoesNotExist),
            State::Listen | State::SynSent | State::TimeWait | State::Closing | State::LastAck => {
                self.expected.clear();
                self.enter(State::Closed);
                Ok(())
            }
            _ => {
                self.expected.clear();
                let spec = SegSpec::ctl(TcpFlags::RST, self.ack_seq(), None);
                let due = self.immediately(now);
                // RFC 9293 3.10.5: in synchronized states, send <SEQ=SND.NXT><CTL=RST>. Linux
                // sets ACK on it too, which the rule allows.
                self.expect(
                    SegSpec {
                        optional_flags: TcpFlags::ACK,
                        ..spec
                    },
                    due,
                    "RFC 9293 3.10.5: ABORT sends <SEQ=SND.NXT><CTL=RST>",
                );
                self.enter(State::Closed);
                Ok(())
            }
        }
    }

    // --- SEGMENT ARRIVES (RFC 9293 3.10.7) ---

    /// A segment from the peer reaches the stack.
    fn arrive_one(&mut self, now: Duration, seg: &Seg) {
        self.events += 1;
        self.note_peer_tsval(seg);
        match self.state {
            State::Closed => self.arrive_closed(now, seg),
            State::Listen => self.arrive_listen(now, seg),
            State::SynSent => self.arrive_syn_sent(now, seg),
            _ => self.arrive_other(now, seg),
        }
        if self.keepalive {
            self.plan_keepalive(now);
        }
    }

    /// RFC 9293 3.10.7.1: everything but a RST draws a RST.
    fn arrive_closed(&mut self, now: Duration, seg: &Seg) {
        if seg.flags.rst() {
            return;
        }
        let due = self.immediately(now);
        if seg.flags.ack() {
            let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
            self.expect(
                spec,
                due,
                "RFC 9293 3.10.7.1: CLOSED, ACK on: <SEQ=SEG.ACK><CTL=RST>",
            );
        } else {
            let spec = SegSpec::ctl(
                TcpFlags::RST | TcpFlags::ACK,
                SeqNumber(0),
                Some(seg.seq + seg.seg_len()),
            );
            self.expect(
                spec,
                due,
                "RFC 9293 3.10.7.1: CLOSED, ACK off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>",
            );
        }
    }

    /// RFC 9293 3.10.7.2.
    fn arrive_listen(&mut self, now: Duration, seg: &Seg) {
        // First, check for a RST: ignore it.
        if seg.flags.rst() {
            return;
        }
        let due = self.immediately(now);
        // Second, check for an ACK: <SEQ=SEG.ACK><CTL=RST>.
        if seg.flags.ack() {
            let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
            self.expect(
                spec,
                due,
                "RFC 9293 3.10.7.2: LISTEN, ACK: <SEQ=SEG.ACK><CTL=RST>",
            );
            return;
        }
        // Third, check for a SYN.
        if seg.flags.syn() {
            if self.profile.kind == ProfileKind::Linux {
                // Linux tcp_rcv_state_process(), LISTEN: "if (th->fin) goto discard". RFC
                // 9293 3.10.7.2 would answer it and process the FIN in SYN-RECEIVED.
                if seg.flags.fin() {
                    self.choices.push(Choice {
                        rule: "Linux tcp_rcv_state_process",
                        taken: "SYN with FIN in LISTEN dropped",
                    });
                    return;
                }
                // A new request socket: its own out-of-window ACK budget.
                self.last_challenge = None;
            }
            self.tcb.irs = seg.seq;
            self.tcb.rcv_nxt = seg.seq + 1;
            self.tcb.rcv_wup = self.tcb.rcv_nxt;
            self.tcb.rcv_wup = self.tcb.rcv_nxt;
            self.take_peer_options(seg, true);
            self.update_send_window_from_syn(seg);
            let spec = SegSpec {
                flags: TcpFlags::SYN | TcpFlags::ACK,
                optional_flags: TcpFlags::ECE,
                seq: SeqSpec::Iss,
                ack: Some(self.tcb.rcv_nxt),
                len: LenSpec::Exact(0),
            };
            self.expect(
                spec,
                due,
                "RFC 9293 3.10.7.2: LISTEN, SYN: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>",
            );
            self.passive = true;
            self.enter(State::SynReceived);
        }
        // Fourth, other text or control: drop.
    }

    /// RFC 9293 3.10.7.3.
    fn arrive_syn_sent(&mut self, now: Duration, seg: &Seg) {
        let due = self.immediately(now);
        // First, check the ACK bit.
        let mut ack_ok = false;
        if seg.flags.ack() {
            // If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit is set).
            let acceptable =
                self.iss_bound && seg.ack.after(self.tcb.iss) && !seg.ack.after(self.tcb.snd_nxt);
            if !acceptable {
                if !seg.flags.rst() {
                    let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
                    self.expect(
                        spec,
                        due,
                        "RFC 9293 3.10.7.3: SYN-SENT, unacceptable ACK: <SEQ=SEG.ACK><CTL=RST>",
                    );
                }
                self.linux_syn_sent_rearm(now);
                return;
            }
            ack_ok = true;
        }
        // Second, check the RST bit: with an acceptable ACK the connection is reset.
        if seg.flags.rst() {
            if ack_ok {
                self.reports.push(Report::ConnectionRefused);
                self.expected.clear();
                self.enter(State::Closed);
            }
            return;
        }
        // Fourth, check the SYN bit.
        if !seg.flags.syn() {
            return;
        }
        self.tcb.irs = seg.seq;
        self.tcb.rcv_nxt = seg.seq + 1;
        self.tcb.rcv_wup = self.tcb.rcv_nxt;
        self.take_peer_options(seg, true);
        // The SYN we sent is no longer owed a retransmission if it is acknowledged.
        if ack_ok {
            // Linux counts the SYN of an active open among the bytes acknowledged.
            self.bytes_acked += u64::from(seg.ack.forward_distance(self.tcb.snd_una));
            self.tcb.snd_una = seg.ack;
        }
        self.update_send_window_from_syn(seg);
        if self.tcb.snd_una.after(self.tcb.iss) {
            let expired = self.rtx.is_some_and(|r| r.count > 0);
            self.rtx_acked(now);
            // RFC 6298 5.7 (and Linux tcp_init_metrics()): no RTT sample from the
            // handshake puts the data RTO at 3 s.
            self.rto.on_handshake_complete(expired);
            self.enter(State::Established);
            // tcp_finish_connect(): header prediction only without a send window scale.
            self.linux_hp = self.snd_shift == 0;
            self.ka_last_rcv = now;
            // Data or controls queued for transmission may be included; a pure ACK suffices.
            self.ack_now(
                now,
                "RFC 9293 3.10.7.3: SYN-SENT, our SYN acknowledged: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
            );
        } else {
            // RFC 9293 3.5: MUST-10, simultaneous open is supported.
            self.linux_simultaneous = true;
            self.apply_negotiation();
            self.enter(State::SynReceived);
            let spec = SegSpec {
                flags: TcpFlags::SYN | TcpFlags::ACK,
                optional_flags: TcpFlags::empty(),
                // The stack's own SYN may not have been seen yet: its ISN binds either.
                seq: if self.iss_bound {
                    SeqSpec::Exact(self.tcb.iss)
                } else {
                    SeqSpec::Iss
                },
                ack: Some(self.tcb.rcv_nxt),
                len: LenSpec::Exact(0),
            };
            self.expect(
                spec,
                due,
                "RFC 9293 3.10.7.3: SYN-SENT, SYN without ACK: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>",
            );
        }
    }

    /// Linux tcp_rcv_synsent_state_process(): "Previous FIN/ACK or RST/ACK might be
    /// ignored": after an unacceptable ACK, a SYN not yet retransmitted goes again after
    /// `TCP_TIMEOUT_MIN` instead of the full RTO. RFC 9293 3.10.7.3 only sends the RST; a
    /// retransmission is the stack's to time (RFC 6298 5 bounds it from below only on the
    /// `rfc9293` profile).
    fn linux_syn_sent_rearm(&mut self, now: Duration) {
        if self.profile.kind != ProfileKind::Linux {
            return;
        }
        let Some(rtx) = &mut self.rtx else { return };
        if rtx.count != 0 || !rtx.flags.syn() {
            return;
        }
        let window = timers::timer_tolerance(LINUX_TIMEOUT_MIN).after(now);
        rtx.sent_at = now;
        self.expected.retain(|e| !is_retransmission_of(e));
        self.expected.push(Expected {
            spec: SegSpec {
                optional_flags: TcpFlags::ECE | TcpFlags::CWR,
                ..SegSpec::ctl(TcpFlags::SYN, self.tcb.iss, None)
            },
            due: Due {
                earliest: window.earliest,
                latest: window.latest,
            },
            rule: RETRANSMISSION_RULE,
        });
    }

    /// Linux tcp_check_req(), "pure retransmitted SYN": the SYN-ACK goes again at once
    /// (unless `tcp_oow_rate_limited()`), and the request's timer restarts from now with the
    /// current timeout. RFC 9293 3.10.7.4 would trim the SYN away and drop what is left,
    /// which has no ACK bit; a stack is free to retransmit early, so the `rfc9293` profile
    /// only records the difference when it sees the SYN-ACK.
    fn linux_repeated_syn(&mut self, now: Duration) {
        if self.rate_limited(now) {
            self.choices.push(Choice {
                rule: "Linux tcp_oow_rate_limited",
                taken: "repeated SYN: SYN-ACK suppressed by the rate limit",
            });
            return;
        }
        let spec = SegSpec {
            flags: TcpFlags::SYN | TcpFlags::ACK,
            optional_flags: TcpFlags::ECE,
            seq: SeqSpec::Exact(self.tcb.iss),
            ack: Some(self.tcb.rcv_nxt),
            len: LenSpec::Exact(0),
        };
        self.expected.retain(|e| !is_retransmission_of(e));
        let due = self.immediately(now);
        self.expect(
            spec,
            due,
            "Linux tcp_check_req: a repeated SYN is answered with the SYN-ACK again",
        );
        if let Some(rtx) = &mut self.rtx {
            rtx.sent_at = now;
        }
        self.schedule_retransmission();
    }

    /// Linux: a passive SYN-RECEIVED connection is a request socket, and tcp_check_req()
    /// (net/ipv4/tcp_minisocks.c) answers segments in its own order. Returns true when the
    /// segment goes on to the full socket (an acceptable ACK), false when it was handled.
    fn arrive_request_linux(&mut self, now: Duration, seg: &Seg) -> bool {
        let ctl = TcpFlags::RST | TcpFlags::SYN | TcpFlags::ACK;
        let mut flg = seg.flags & ctl;
        let due = self.immediately(now);
        // "Check for pure retransmitted SYN": the SYN-ACK again, within the rate limit.
        if seg.seq == self.tcb.irs && flg == TcpFlags::SYN {
            self.linux_repeated_syn(now);
            return false;
        }
        // tcp_in_window() against the SYN-ACK's window: the left edge is always in, a
        // segment reaching into the window is in, an empty one at the right edge is in.
        let (left, right) = (self.tcb.rcv_nxt, self.tcb.rcv_nxt + self.tcb.rcv_wnd);
        let end = seg.end();
        let in_window = seg.seq == left
            || (end.after(left) && seg.seq.before(right))
            || (seg.seq == right && seg.seq == end);
        // An ACK of anything but the SYN-ACK goes to the listener, which resets it whatever
        // its sequence number or TSecr (RFC 9293 3.10.7.4's RST, before the window check).
        // A RST is not answered so (below).
        if flg.ack() && !flg.rst() && seg.ack != self.tcb.iss + 1 {
            let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
            self.expect(
                spec,
                due,
                "RFC 9293 3.10.7.4: SYN-RECEIVED, unacceptable ACK: <SEQ=SEG.ACK><CTL=RST>",
            );
            return false;
        }
        // tcp_check_req() (6.15 on): a TSecr that echoes none of the SYN-ACKs sent (between
        // the first and the latest one's TSval) is refused like a segment outside the window
        // (an ACK, none for a RST), before the RST bit is looked at (seen on 6.18: a RST at
        // RCV.NXT with such a TSecr leaves the request). RFC 7323 4.3 leaves an unexpected
        // TSecr to the implementation.
        let tsecr_reject = match (seg.options.timestamps, self.synack_tsvals) {
            (Some((_, ecr)), Some((first, last))) if ecr != 0 => {
                SeqNumber(ecr).before(SeqNumber(first)) || SeqNumber(ecr).after(SeqNumber(last))
            }
            _ => false,
        };
        if tsecr_reject {
            if !flg.rst() {
                self.unacceptable_ack(
                    now,
                    seg,
                    "RFC 9293 3.10.7.4: unacceptable segment: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
                );
            }
            return false;
        }
        // RFC 9293 3.10.7.4, second (RFC 5961 3.2): a RST is judged by its sequence number
        // alone. Seen on 6.18, whatever its ACK field, SYN or FIN bit: outside the window it
        // is dropped; exactly at RCV.NXT it drops the request silently; elsewhere in the
        // window (the peer's ISN included: the SYN is not trimmed first) it draws a challenge
        // ACK from the request's out-of-window budget and is dropped.
        if flg.rst() {
            if !in_window {
                return false;
            }
            if seg.seq == self.tcb.rcv_nxt {
                self.back_to_listen();
            } else {
                self.challenge_ack(
                    now,
                    "RFC 5961 3.2: in-window RST not at RCV.NXT: challenge ACK",
                );
            }
            return false;
        }
        if !in_window {
            self.unacceptable_ack(
                now,
                seg,
                "RFC 9293 3.10.7.4: unacceptable segment: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
            );
            return false;
        }
        // A SYN at the peer's ISN is out of the window that starts after it: truncated.
        if seg.seq == self.tcb.irs {
            flg = flg & !TcpFlags::SYN;
        }
        // "fourth, check the SYN bit": drops the request (embryonic_reset) with a RST.
        if flg.syn() {
            self.back_to_listen();
            {
                let (spec, rule) = if seg.flags.ack() {
                    (
                        SegSpec::ctl(TcpFlags::RST, seg.ack, None),
                        "Linux tcp_check_req: a SYN in the window resets the request: <SEQ=SEG.ACK><CTL=RST>",
                    )
                } else {
                    (
                        SegSpec::ctl(
                            TcpFlags::RST | TcpFlags::ACK,
                            SeqNumber(0),
                            Some(seg.seq + seg.seg_len()),
                        ),
                        "Linux tcp_check_req: a SYN in the window resets the request: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>",
                    )
                };
                self.expect(spec, due, rule);
            }
            return false;
        }
        // Without ACK the segment is dropped silently.
        if !flg.ack() {
            return false;
        }
        // tcp_check_req() (6.14 on, "tcp: Defer ts_recent changes until req is owned"): the
        // request keeps the SYN's TSval as TS.Recent whatever else arrives; only the child
        // this segment creates takes its TSval, if the segment is at or before RCV.NXT.
        // (Seen on 6.18, explorer seed 9001 case 1753: a FIN without ACK left TS.Recent.)
        if let Some((val, _)) = seg.options.timestamps {
            if !seg.seq.after(self.tcb.rcv_nxt) {
                self.ts_recent = Some(val);
            }
        }
        true
    }

    /// The peer's window in its SYN is never scaled (RFC 7323 2.2).
    fn update_send_window_from_syn(&mut self, seg: &Seg) {
        self.tcb.snd_wnd = u32::from(seg.wnd);
        self.tcb.snd_wl1 = seg.seq;
        self.tcb.snd_wl2 = seg.ack;
        self.max_snd_wnd = self.max_snd_wnd.max(self.tcb.snd_wnd);
    }

    fn take_peer_options(&mut self, seg: &Seg, syn: bool) {
        if !syn {
            return;
        }
        // RFC 9293 3.7.1: MUST-16, the effective send MSS is the smaller of the peer's MSS
        // and what our path allows; MUST-15 gives 536 when the peer sends none.
        self.send_mss = seg.options.mss.map_or(self.default_mss, u32::from);
        // RFC 7323 4.3: TS.Recent starts from the SYN's TSval.
        self.ts_recent = seg.options.timestamps.map(|(val, _)| val);
        self.negotiation.theirs = Some(SynOptions::of(seg));
        self.apply_negotiation();
    }

    fn apply_negotiation(&mut self) {
        if let Some((rcv, snd)) = self.negotiation.window_scale() {
            self.rcv_shift = rcv;
            self.snd_shift = snd;
        } else {
            self.rcv_shift = 0;
            self.snd_shift = 0;
            // Linux, simultaneous open: tcp_rcv_synsent_state_process() does not clear the
            // receive scale it offered when the peer's SYN has no Window Scale option (the
            // SYN-ACK path does), so the stack goes on scaling the windows it advertises.
            // RFC 7323 2.3 turns scaling off in both directions.
            if self.profile.kind == ProfileKind::Linux && self.linux_simultaneous {
                if let Some(ours) = self.negotiation.ours.and_then(|o| o.window_scale) {
                    self.rcv_shift = ours;
                }
            }
        }
    }

    /// Remembers a TSval the peer sent, so an echo of it can be recognised.
    fn note_peer_tsval(&mut self, seg: &Seg) {
        if let Some((val, _)) = seg.options.timestamps {
            self.peer_tsvals.rotate_right(1);
            self.peer_tsvals[0] = Some(val);
        }
    }

    /// The option rules every segment the stack sends must follow, whatever else it is.
    fn check_options(&mut self, seg: &Seg) -> Result<(), Divergence> {
        let fail = |rule: &'static str, expected: &str| Divergence {
            rule,
            expected: expected.to_string(),
            actual: show(seg),
        };
        // RFC 9293 3.7.1: MUST-65, the MSS option is sent only in SYN segments.
        if seg.options.mss.is_some() && !seg.flags.syn() {
            return Err(fail(
                "RFC 9293 3.7.1: MUST-65, no MSS option outside SYN segments",
                "no MSS option",
            ));
        }
        // RFC 9293 3.7.1: MUST-14, SHLD-5, MAY-3: a stack implements the MSS option and
        // sends it unless its receive MSS is the default; sending none is recorded, since
        // the model cannot know the stack's receive MSS.
        if seg.flags.syn() && seg.options.mss.is_none() {
            self.choices.push(Choice {
                rule: "RFC 9293 3.7.1: SHLD-5",
                taken:
                    "SYN without an MSS option (allowed only when the receive MSS is 536 or 1220)",
            });
        }
        if seg.flags.syn() {
            // A SYN-ACK answers a SYN that did or did not offer timestamps.
            let theirs_without_ts = self.negotiation.theirs.is_some_and(|t| !t.timestamps);
            // Linux, simultaneous open: the SYN-ACK repeats the options of the stack's own
            // SYN, TSopt included (tcp_rcv_synsent_state_process, tcp_send_synack).
            let linux_repeat = self.profile.kind == ProfileKind::Linux
                && !self.passive
                && self.negotiation.ours.is_some_and(|o| o.timestamps);
            if seg.flags.ack()
                && seg.options.timestamps.is_some()
                && theirs_without_ts
                && !linux_repeat
            {
                return Err(fail(
                    "RFC 7323 3.2: no TSopt in a SYN-ACK to a SYN without one",
                    "a SYN-ACK without timestamps",
                ));
            }
            return Ok(());
        }
        if !self.negotiation.done() {
            return Ok(());
        }
        let ts = seg.options.timestamps;
        if self.linux_tw_socket && !self.negotiation.timestamps() {
            // Linux tcp_v4_send_ack() (and tcp_v6_send_response()) add TSopt whenever the
            // TSecr, the timewait socket's tw_ts_recent, is not zero, timestamps on or off:
            // a request socket's child takes the TSval of the ACK that made it whatever was
            // negotiated (tcp_check_req()), and tcp_time_wait() copies it (seen on 6.18,
            // explorer seed 4242 case 2876). RFC 7323 3.2 sends none.
            let recent = self.ts_recent.filter(|&r| r != 0);
            return match (ts, recent) {
                (None, None) => Ok(()),
                (Some((_, ecr)), Some(r)) if ecr == r => Ok(()),
                _ => Err(fail(
                    "Linux tcp_v4_send_ack: TSopt exactly when the timewait socket's TS.Recent is not zero",
                    &recent.map_or("no TSopt".into(), |r| format!("TSopt with TSecr {r}")),
                )),
            };
        }
        if self.negotiation.timestamps() {
            // RFC 7323 3.2: once negotiated, TSopt is sent in every non-RST segment.
            let Some((val, ecr)) = ts else {
                if seg.flags.rst() {
                    return Ok(());
                }
                return Err(fail(
                    "RFC 7323 3.2: TSopt in every non-RST segment once negotiated",
                    "a TSopt",
                ));
            };
            // RFC 7323 5.4: the TSval clock is monotone non-decreasing.
            if let Some(last) = self.ts_clock {
                if SeqNumber(val).before(SeqNumber(last)) {
                    return Err(fail(
                        "RFC 7323 5.4: TSval never goes back",
                        &format!("TSval >= {last}"),
                    ));
                }
            }
            self.ts_clock = Some(val);
            // RFC 7323 4.3: TSecr echoes a TSval the peer sent.
            // (TS.Recent itself may be older than the last eight TSvals when later segments
            // did not update it.)
            let seen =
                self.peer_tsvals.iter().flatten().any(|&v| v == ecr) || self.ts_recent == Some(ecr);
            if seg.flags.ack() && self.peer_tsvals[0].is_some() && !seen {
                return Err(fail(
                    "RFC 7323 4.3: TSecr echoes the peer's TSval",
                    "a TSecr the peer sent",
                ));
            }
        } else if ts.is_some() {
            return Err(fail(
                "RFC 7323 3.2: no TSopt unless both SYNs carried it",
                "no TSopt",
            ));
        }
        if let Some(blocks) = seg.options.sack {
            // RFC 2018 2: SACK only to a peer that said SACK-permitted.
            if !self.negotiation.sack() {
                return Err(fail(
                    "RFC 2018 2: no SACK option unless SACK-permitted was exchanged",
                    "no SACK option",
                ));
            }
            for b in blocks.as_slice() {
                // RFC 2018 4: a block reports data held; RFC 2883 allows a block at or below
                // RCV.NXT (a duplicate).
                let purged =
                    self.profile.kind == ProfileKind::Linux && self.state != State::CloseWait;
                let held = self
                    .ooo
                    .iter()
                    .chain(self.purged_ooo.iter().filter(|_| purged))
                    .any(|&(start, len)| {
                        b.left.in_range_inclusive(start, start + len)
                            && b.right.in_range_inclusive(start, start + len)
                    });
                let duplicate = !b.right.after(self.tcb.rcv_nxt);
                if !b.left.before(b.right) || !(held || duplicate) {
                    return Err(fail(
                        "RFC 2018 4: each SACK block reports data received and held",
                        "blocks within the out-of-order data held",
                    ));
                }
            }
        } else if self.profile.kind == ProfileKind::Linux
            && self.negotiation.sack()
            && !self.ooo.is_empty()
            && !(seg.flags.fin() && std::mem::take(&mut self.fin_before_text))
            && seg.flags.ack()
            && seg.len == 0
            && seg.ack == self.tcb.rcv_nxt
        {
            // Linux: tcp_build_sack_options() puts the held ranges on every ACK while any
            // are held (design §4: "an immediate duplicate ACK carrying a SACK block").
            return Err(fail(
                "RFC 2018 4 (SHOULD, Linux does): ACKs carry SACK blocks while data is held",
                "a SACK option",
            ));
        }
        Ok(())
    }

    /// RFC 9293 3.10.7.4, for SYN-RECEIVED and the synchronized states.
    fn arrive_other(&mut self, now: Duration, seg: &Seg) {
        if !self.iss_bound {
            // The stack has not answered the SYN yet, so SND.NXT and RCV.WND are unknown and
            // no reply can be pinned. A stack answers a SYN at once, and the missing SYN-ACK
            // is reported by itself; this segment is not judged.
            self.choices.push(Choice {
                rule: "RFC 9293 3.10.7.4",
                taken: "segment arrived before the stack's SYN-ACK: not judged",
            });
            return;
        }
        if self.profile.kind == ProfileKind::Linux
            && self.state == State::SynReceived
            && self.passive
            && !self.linux_child
        {
            if !self.arrive_request_linux(now, seg) {
                return;
            }
            // tcp_check_req() created the child, which repeats every check on the segment
            // as it came (tcp_child_process()), with its own out-of-window budget.
            self.linux_child = true;
            self.last_challenge = None;
            // tcp_create_openreq_child(): the child starts with its SYN-ACK acknowledged and
            // the window of this segment (SND.WL1 at the peer's ISN).
            self.tcb.snd_una = seg.ack;
            self.tcb.snd_wnd = u32::from(seg.wnd) << self.snd_shift;
            self.tcb.snd_wl1 = self.tcb.irs;
            self.tcb.snd_wl2 = seg.ack;
            self.max_snd_wnd = self.max_snd_wnd.max(self.tcb.snd_wnd);
            let expired = self.rtx.is_some_and(|r| r.count > 0);
            self.rtx_acked(now);
            // RFC 6298 5.7 (and Linux tcp_init_metrics()): no RTT sample from the handshake
            // (a retransmitted SYN-ACK, or a SYN cookie that kept no send time) puts the
            // data RTO at 3 s.
            self.rto.on_handshake_complete(expired || self.cookie);
        }
        let due = self.immediately(now);
        if self.profile.kind == ProfileKind::Linux
            && self.state != State::TimeWait
            && !(self.state == State::FinWait2 && self.released)
            && !seg
                .flags
                .intersects(TcpFlags::ACK | TcpFlags::RST | TcpFlags::SYN)
        {
            // Linux tcp_rcv_established() and tcp_rcv_state_process() drop a segment with
            // none of ACK, RST and SYN before its sequence number is looked at, so even an
            // unacceptable one draws no ACK (RFC 9293 3.10.7.4 would acknowledge it).
            self.choices.push(Choice {
                rule: "Linux tcp_rcv_state_process",
                taken: "segment without ACK, RST or SYN dropped before the sequence check",
            });
            return;
        }
        if self.state == State::FinWait2 && self.fin_wait_2_until.is_some_and(|t| now >= t) {
            // The orphan's FIN-WAIT-2 timeout ran out: the connection is gone.
            self.enter(State::Closed);
            return self.arrive_closed(now, seg);
        }
        let mut trimmed;
        let mut seg = seg;
        // Linux trims nothing in a full socket's SYN-RECEIVED (a simultaneous open): its
        // tcp_rcv_state_process() lets only the exact SYN,ACK of Figure 7, line 6 through
        // (SEG.SEQ+1 = RCV.NXT, no text, no FIN, SEG.ACK = SND.NXT); any other SYN, RST
        // included, is judged where it stands (a RST not at RCV.NXT draws a challenge ACK,
        // a SYN the challenge ACK of RFC 5961 4.2). A request socket has already trimmed
        // (tcp_check_req).
        let linux_passes = self.profile.kind != ProfileKind::Linux
            || (!self.passive
                && seg.flags.ack()
                && !seg.flags.rst()
                && !seg.flags.fin()
                && seg.len == 0
                && seg.ack == self.tcb.snd_nxt);
        // (A request socket's child has no socket of its own yet, so tcp_rcv_state_process()
        // lets no SYN through: the one tcp_check_req() trimmed draws a challenge ACK there.)
        if self.state == State::SynReceived
            && seg.flags.syn()
            && seg.seq + 1 == self.tcb.rcv_nxt
            && linux_passes
        {
            // RFC 9293 3.10.7.4: "trimming off any portions that lie outside the window
            // (including SYN and FIN)": the peer's SYN again, as in a simultaneous open's
            // SYN,ACK (Figure 7, line 6), is the idealized segment that starts at RCV.NXT.
            trimmed = *seg;
            trimmed.seq = seg.seq + 1;
            trimmed.flags = seg.flags & !TcpFlags::SYN;
            seg = &trimmed;
        }
        if self.state == State::TimeWait {
            if let Some(until) = self.time_wait_until {
                if now >= until {
                    self.enter(State::Closed);
                    return self.arrive_closed(now, seg);
                }
            }
            if self.profile.kind == ProfileKind::Linux {
                return self.arrive_time_wait_linux(now, seg);
            }
        }
        // RFC 7323 5.3: R1, PAWS, before the sequence number check: a segment whose TSval
        // is older than TS.Recent is not acceptable (a RST is never dropped this way).
        if let (Some((val, _)), Some(recent), true) = (
            seg.options.timestamps,
            self.ts_recent,
            self.negotiation.timestamps(),
        ) {
            if SeqNumber(val).before(SeqNumber(recent)) && !seg.flags.rst() {
                self.unacceptable_ack(
                    now,
                    seg,
                    "RFC 7323 5.3: R1, PAWS: an old TSval makes the segment unacceptable: ACK and drop",
                );
                return;
            }
        }
        // First, check the sequence number.
        let rcv_wnd = self.tcb.rcv_wnd;
        // RFC 9293 3.4: MUST-66, with a zero window the RST, URG and ACK of a segment at
        // RCV.NXT are still processed; only its text is not taken.
        let mut zero_window_allowance = false;
        // RFC 9293 3.3.2 / 3.10.7.4: the four-case acceptability test.
        if rcv_wnd == 0 && seg.seq == self.tcb.rcv_nxt && seg.seg_len() > 0 {
            zero_window_allowance = true;
        } else if !self.acceptable(seg) {
            self.branch_on_wider_window(now, seg);
            if seg.flags.rst() && self.linux_reset_check(seg) {
                self.reset(now);
                return;
            }
            if !seg.flags.rst() {
                self.unacceptable_ack(
                    now,
                    seg,
                    "RFC 9293 3.10.7.4: unacceptable segment: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
                );
            }
            return;
        }
        // RFC 7323 5.3: R3, TS.Recent follows a segment that covers the left window edge.
        // (Linux does it later, in tcp_ack(): see below.)
        if let Some((val, _)) = seg.options.timestamps {
            if self.profile.kind != ProfileKind::Linux && !seg.seq.after(self.tcb.rcv_nxt) {
                self.ts_recent = Some(val);
            }
        }
        // Second, check the RST bit (RFC 5961 3.2). Any data it carries is ignored.
        // RFC 9293 3.5.3: SHLD-2, a RST may carry data; the model accepts one that does.
        if seg.flags.rst() {
            // The explorer's planted bug (test only): every in-window RST resets.
            let exact = seg.seq == self.tcb.rcv_nxt
                || cfg!(feature = "planted-bug")
                || self.linux_reset_check(seg)
                || self.linux_rst_at_sack_edge(seg);
            if exact {
                self.reset(now);
            } else {
                // RFC 5961 3.2: a RST in the window but not exactly at RCV.NXT draws a
                // challenge ACK and is dropped.
                self.challenge_ack(
                    now,
                    "RFC 5961 3.2: in-window RST not at RCV.NXT: challenge ACK",
                );
            }
            return;
        }
        // Fourth, check the SYN bit.
        if seg.flags.syn() {
            if self.state == State::SynReceived
                && self.passive
                && self.profile.kind != ProfileKind::Linux
            {
                // RFC 9293 3.10.7.4: SYN-RECEIVED from a passive OPEN returns to LISTEN.
                self.back_to_listen();
                return;
            }
            // RFC 5961 4.2: a SYN in a synchronized state, wherever it falls, draws a
            // challenge ACK and is dropped.
            self.challenge_ack(
                now,
                "RFC 5961 4.2: SYN in a synchronized state: challenge ACK",
            );
            return;
        }
        // Fifth, check the ACK field.
        if !seg.flags.ack() {
            return;
        }
        let completes_handshake = self.state == State::SynReceived;
        if self.state == State::SynReceived {
            // If SND.UNA < SEG.ACK =< SND.NXT, enter ESTABLISHED; else <SEQ=SEG.ACK><CTL=RST>.
            // Linux, simultaneous open: tcp_ack() takes an ACK of SND.UNA itself (the SYN
            // not acknowledged) as acceptable, and the connection is ESTABLISHED with its
            // SYN still outstanding. RFC 9293 resets: SND.UNA < SEG.ACK is required.
            let linux_una = self.profile.kind == ProfileKind::Linux
                && (self.linux_simultaneous || self.linux_child)
                && seg.ack == self.tcb.snd_una;
            let ok = self.iss_bound
                && (seg.ack.after(self.tcb.snd_una) || linux_una)
                && !seg.ack.after(self.tcb.snd_nxt);
            if !ok {
                let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
                self.expect(
                    spec,
                    due,
                    "RFC 9293 3.10.7.4: SYN-RECEIVED, unacceptable ACK: <SEQ=SEG.ACK><CTL=RST>",
                );
                return;
            }
            self.enter(State::Established);
            // tcp_rcv_state_process(), SYN-RECEIVED: tcp_fast_path_on().
            self.linux_hp = true;
            self.tcb.snd_wnd = u32::from(seg.wnd) << self.snd_shift;
            self.tcb.snd_wl1 = seg.seq;
            self.tcb.snd_wl2 = seg.ack;
            self.max_snd_wnd = self.max_snd_wnd.max(self.tcb.snd_wnd);
            if std::mem::take(&mut self.linux_closed_in_synrecv) {
                // The FIN held since the CLOSE goes at once, before the segment's own text
                // is looked at, so it acknowledges RCV.NXT as it stood (seen on 6.18).
                self.enter(State::FinWait1);
                if self.unsent == 0 {
                    self.queue_fin(now);
                    self.fin_before_text = true;
                }
            }
        }
        // RFC 9293 3.10.7.4: MAY-12, RFC 5961 5.2: acceptable only if
        // SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT; otherwise drop and ACK.
        let max_wnd = if self.profile.kind == ProfileKind::Linux {
            // Linux tcp_ack(): "do not accept ACK for bytes we never sent": MAX.SND.WND is
            // capped by the bytes acknowledged so far (a passive open's SYN not counted).
            self.max_snd_wnd
                .min(self.bytes_acked.min(u64::from(u32::MAX)) as u32)
        } else {
            self.max_snd_wnd.max(1)
        };
        let oldest = self.tcb.snd_una - max_wnd;
        // The fast path takes every pure ACK it predicts (text only as memory allows: a
        // branch, below), so TS.Recent follows such an ACK whatever its SEG.ACK (seen on
        // 6.18, explorer seed 9001 case 201: an ACK of SND.UNA-1 gave the TSecr).
        let fast_tsval = self.linux_fast_path_tsval(seg);
        if let (Some(val), 0) = (fast_tsval, seg.len) {
            self.ts_recent = Some(val);
        }
        if !seg.ack.in_range_inclusive(oldest, self.tcb.snd_nxt) {
            if self.linux_header_predicted(seg) {
                // Linux tcp_rcv_established(): on the fast path the text is queued before
                // tcp_ack() refuses the ACK; the slow path drops it. Either, as the stack's
                // memory decides.
                let mut fast = self.clone();
                fast.fast_path_take(now, seg);
                self.new_alt = Some(Box::new(fast));
            }
            self.challenge_ack(
                now,
                "RFC 5961 5.2: ACK outside SND.UNA-MAX.SND.WND..SND.NXT: challenge ACK",
            );
            return;
        }
        if seg.ack.after(self.tcb.snd_nxt) {
            self.ack_now(
                now,
                "RFC 9293 3.10.7.4: ACK of unsent data: send an ACK and drop",
            );
            return;
        }
        // Linux tcp_ack() (FLAG_UPDATE_TS_RECENT) and the fast path: TS.Recent follows only a
        // segment that got this far (no RST, no SYN) with an ACK not behind SND.UNA (an old
        // one leaves tcp_ack() at old_ack first) and that covers RCV.WUP
        // (tcp_replace_ts_recent(): SEG.SEQ =< RCV.WUP).
        // A full socket reads no TSopt without timestamps (tcp_parse_options() with estab
        // set wants tstamp_ok).
        let ts = seg
            .options
            .timestamps
            .filter(|_| self.negotiation.timestamps());
        if let (ProfileKind::Linux, Some((val, _))) = (self.profile.kind, ts) {
            if !seg.seq.after(self.tcb.rcv_wup) && !seg.ack.before(self.tcb.snd_una) {
                self.ts_recent = Some(val);
            } else if fast_tsval.is_some() && seg.len > 0 {
                // Text on the fast path (as the stack's memory allows) stored it first.
                self.fast_path_ts = Some(val);
            }
        }
        // The peer is heard from: keep-alives count again from now (Linux tcp_ack():
        // rcv_tstamp, icsk_probes_out = 0).
        self.ka_last_rcv = now;
        self.ka_probes_out = 0;
        let acks_new = seg.ack.after(self.tcb.snd_una);
        if acks_new {
            // A request socket's child starts with its SYN-ACK already acknowledged, so a
            // passive open's SYN is not counted; a simultaneous open's full socket counts it
            // in tcp_ack() like any other byte (Linux tcp_snd_una_update()).
            if !(completes_handshake && self.passive) {
                self.bytes_acked += u64::from(seg.ack.forward_distance(self.tcb.snd_una));
            }
            self.tcb.snd_una = seg.ack;
            let expired = self.rtx.is_some_and(|r| r.count > 0);
            self.rtx_acked(now);
            if completes_handshake {
                // RFC 6298 5.7 (and Linux tcp_init_metrics()): no RTT sample from the
                // handshake (a retransmitted SYN-ACK, or a SYN cookie that kept no send
                // time) puts the data RTO at 3 s.
                self.rto.on_handshake_complete(expired || self.cookie);
            }
        }
        // Window update: if SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK).
        if self.linux_header_predicted(seg) && !acks_new && self.tcb.snd_wl1.after(seg.seq) {
            // The fast path's tcp_update_wl() sets SND.WL1 to SEG.SEQ even backwards.
            self.fast_path_wl1 = Some(seg.seq);
        }
        let update = if self.profile.kind == ProfileKind::Linux {
            // Linux tcp_may_update_window(): also whenever new data is acknowledged, and
            // at SND.WL1 only when the window grows or closes.
            let nwin = u32::from(seg.wnd) << self.snd_shift;
            acks_new
                || self.tcb.snd_wl1.before(seg.seq)
                || (self.tcb.snd_wl1 == seg.seq && (nwin > self.tcb.snd_wnd || nwin == 0))
        } else {
            self.tcb.snd_wl1.before(seg.seq)
                || (self.tcb.snd_wl1 == seg.seq && !seg.ack.before(self.tcb.snd_wl2))
        };
        if !seg.ack.before(self.tcb.snd_una) && update {
            if self.tcb.snd_wnd != u32::from(seg.wnd) << self.snd_shift {
                // tcp_ack_update_window(): tcp_fast_path_check() with the new window.
                self.linux_hp = self.ooo.is_empty() && self.tcb.rcv_wnd > 0;
            }
            self.tcb.snd_wnd = u32::from(seg.wnd) << self.snd_shift;
            self.tcb.snd_wl1 = seg.seq;
            self.tcb.snd_wl2 = seg.ack;
            self.max_snd_wnd = self.max_snd_wnd.max(self.tcb.snd_wnd);
        }
        let fin_acked = self
            .fin_seq
            .is_some_and(|f| !self.tcb.snd_una.before(f + 1));
        match self.state {
            State::FinWait1 if fin_acked => {
                self.enter(State::FinWait2);
                self.arm_fin_wait_2(now);
            }
            State::Closing if fin_acked => {
                self.enter_time_wait(now);
                if self.profile.kind == ProfileKind::Linux {
                    // tcp_rcv_state_process(): the timewait socket takes over and the rest of
                    // the segment (a FIN again, text) is not processed ("goto consume").
                    return;
                }
            }
            State::LastAck if fin_acked => {
                self.enter(State::Closed);
                return;
            }
            State::TimeWait => {
                // The only thing that can arrive is a retransmission of the peer's FIN,
                // handled below.
            }
            _ => {}
        }
        // Sixth, URG: not modelled (RFC 9293 3.8.5's urgent pointer is kept by the codec).
        if zero_window_allowance {
            // The text does not fit a zero window: acknowledge what we have instead.
            self.ack_now(
                now,
                "RFC 9293 3.10.7.4: zero window: text dropped, ACK sent",
            );
            return;
        }
        // Seventh, process the segment text.
        if seg.len > 0 {
            self.text(now, seg);
        }
        // Eighth, check the FIN bit (unless the text reset the connection).
        if seg.flags.fin() && self.state != State::Closed {
            self.fin(now, seg);
        }
    }

    fn text(&mut self, now: Duration, seg: &Seg) {
        let new_data = (seg.seq + u32::from(seg.flags.syn()) + seg.len).after(self.tcb.rcv_nxt);
        if self.released && matches!(self.state, State::FinWait1 | State::FinWait2) && new_data {
            // RFC 9293 3.6: MAY-1, SHLD-2, "if new data is received after CLOSE is called,
            // its TCP SHOULD send a RST to show that data was lost". Linux
            // tcp_rcv_state_process() resets with <SEQ=SEG.ACK><CTL=RST> (tcp_v4_send_reset).
            let spec = SegSpec {
                optional_flags: TcpFlags::ACK,
                ..SegSpec::ctl(TcpFlags::RST, seg.ack, None)
            };
            let due = self.immediately(now);
            self.expected.clear();
            self.expect(
                spec,
                due,
                "RFC 9293 3.6: SHLD-2, data after a half-duplex close draws a RST",
            );
            self.reports.push(Report::ConnectionReset);
            self.enter(State::Closed);
            return;
        }
        let fin_in = matches!(
            self.state,
            State::CloseWait | State::Closing | State::LastAck
        );
        let data_end = seg.seq + u32::from(seg.flags.syn()) + seg.len;
        if self.profile.kind == ProfileKind::Linux
            && fin_in
            && seg.seq.before(self.tcb.rcv_nxt)
            && data_end.after(self.tcb.rcv_nxt)
        {
            // Linux tcp_rcv_state_process(): data beyond the peer's FIN resets the
            // connection (RFC 1122 4.2.2.13's reset for data after close, applied to the
            // receive side); the RST answers the segment: <SEQ=SEG.ACK><CTL=RST>.
            self.expected.clear();
            let spec = SegSpec::ctl(TcpFlags::RST, seg.ack, None);
            let due = self.immediately(now);
            self.expect(
                spec,
                due,
                "Linux tcp_rcv_state_process: data after the peer's FIN: <SEQ=SEG.ACK><CTL=RST>",
            );
            self.reports.push(Report::ConnectionReset);
            self.enter(State::Closed);
            return;
        }
        match self.state {
            State::Established | State::FinWait1 | State::FinWait2 => {}
            // RFC 9293 3.10.7.4: text after the remote FIN "should not occur": ignore it.
            _ => return,
        }
        let data_start = seg.seq + u32::from(seg.flags.syn());
        let end = data_start + seg.len;
        if !data_start.before(self.window_edge()) && seg.len > 0 {
            self.branch_on_wider_window(now, seg);
            // Only Linux's acceptability test lets data starting at the right edge get
            // here: tcp_data_queue() drops it and acknowledges at once.
            self.ack_now(
                now,
                "RFC 9293 3.10.7.4: text beyond the window: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
            );
            return;
        }
        if !data_start.after(self.tcb.rcv_nxt) {
            // In order (possibly overlapping what we have): take what is new.
            if end.after(self.tcb.rcv_nxt) {
                let new = end.forward_distance(self.tcb.rcv_nxt);
                let window = self.tcb.rcv_wnd;
                let taken = new.min(window.max(1));
                self.tcb.rcv_nxt += taken;
                self.readable += u64::from(taken);
                // tcp_data_queue(): tcp_fast_path_check() once the text is queued.
                self.linux_hp = self.tcb.rcv_wnd > 0;
                // RFC 9293 3.10.7.4, eighth: the FIN ends the stream at its sequence number,
                // so data held beyond it is not part of it (fin() drops it).
                if !seg.flags.fin() && self.pull_out_of_order() {
                    self.ack_data(now);
                    return self.fin_at_rcv_nxt(now);
                }
            }
            self.ack_data(now);
        } else {
            // RFC 9293 3.10.7.4: SHLD-31, segments beyond RCV.NXT are held for later, a FIN
            // they carry with them.
            self.hold_segment(data_start, seg.len, seg.flags.fin());
            // tcp_data_queue_ofo(): header prediction off while data is held.
            self.linux_hp = false;
            self.ack_out_of_order(now);
        }
    }

    /// RFC 9293 3.10.7.4: MAY-13, an in-window segment not at the left edge may be
    /// acknowledged at once; RFC 5681 4.2 says it SHOULD (a duplicate ACK). Linux does.
    fn ack_out_of_order(&mut self, now: Duration) {
        if self.profile.kind == ProfileKind::Linux {
            self.ack_now(
                now,
                "RFC 9293 3.10.7.4: MAY-13, out-of-order data acknowledged at once (RFC 5681 4.2)",
            );
        } else {
            self.choices.push(Choice {
                rule: "RFC 9293 3.10.7.4: MAY-13",
                taken: "out-of-order data: immediate ACK allowed, not required",
            });
        }
    }

    /// An ACK for in-order data: at once or delayed, but RFC 9293 3.8.6.3: MUST-40 by less
    /// than 0.5 s (the profile's `ack_delay_max`).
    fn ack_data(&mut self, now: Duration) {
        let spec = SegSpec::ctl(TcpFlags::ACK, self.ack_seq(), Some(self.tcb.rcv_nxt));
        self.drop_owed_pure_acks();
        let due = Due {
            earliest: now,
            latest: now + self.profile.ack_delay_max,
        };
        // RFC 9293 3.8.6.3: SHLD-18, a delayed ACK; MUST-40, less than 0.5 seconds.
        self.expect(
            spec,
            due,
            "RFC 9293 3.8.6.3: MUST-40, data acknowledged within the ACK delay limit",
        );
    }

    /// Holds a segment that starts beyond RCV.NXT, with its FIN. Linux keeps segments, not
    /// bytes (tcp_data_queue_ofo()): one whose every byte and FIN is already held is dropped
    /// whole, its FIN with it; one that covers the held FIN's whole segment replaces it.
    fn hold_segment(&mut self, start: SeqNumber, len: u32, fin: bool) {
        let end = start + len + u32::from(fin);
        if self.profile.kind == ProfileKind::Linux {
            let covered = self
                .ooo
                .iter()
                .any(|&(s, l)| !start.before(s) && !end.after(s + l));
            if covered {
                return;
            }
            self.ooo_fins
                .retain(|&(fin_start, fin_seq)| start.after(fin_start) || end.before(fin_seq + 1));
        }
        self.hold_out_of_order(start, len + u32::from(fin));
        // Of two FINs held, the earlier still ahead of RCV.NXT ends the stream when the hole
        // fills (pull_out_of_order()): Linux keeps each segment with its own FIN
        // (tcp_data_queue_ofo()), tcp_ofo_queue() meets the earlier first, and tcp_fin() then
        // purges the out-of-order queue, the later FIN with it (explorer, seed 2718, case
        // 1820). RFC 9293 3.10.7.4, eighth, likewise ends the stream at the first FIN.
        if fin && !self.ooo_fins.contains(&(start, start + len)) {
            self.ooo_fins.push((start, start + len));
        }
    }

    fn hold_out_of_order(&mut self, start: SeqNumber, len: u32) {
        // Keep ranges sorted by distance from RCV.NXT and merged.
        let base = self.tcb.rcv_nxt;
        let mut ranges: Vec<(u32, u32)> = self
            .ooo
            .iter()
            .map(|(s, l)| (s.forward_distance(base), s.forward_distance(base) + l))
            .collect();
        let from = start.forward_distance(base);
        ranges.push((from, from.saturating_add(len)));
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.ooo = merged.into_iter().map(|(a, b)| (base + a, b - a)).collect();
    }

    /// Moves held data that now follows RCV.NXT into the stream; returns true when it
    /// reached a held FIN (RCV.NXT then stands at the FIN, which the caller processes).
    fn pull_out_of_order(&mut self) -> bool {
        while let Some(&(start, len)) = self.ooo.first() {
            if start.after(self.tcb.rcv_nxt) {
                break;
            }
            let mut end = start + len;
            // tcp_ofo_queue() drops a held segment that ends at or before RCV.NXT, its FIN
            // with it (text in order had covered it: seen on 6.18, explorer seed 9001 case
            // 263), and takes the first that reaches beyond.
            let nxt = self.tcb.rcv_nxt;
            self.ooo_fins.retain(|&(_, f)| !f.before(nxt));
            let fin = self
                .ooo_fins
                .iter()
                .map(|&(_, f)| f)
                .filter(|f| f.before(end))
                .min_by_key(|f| f.forward_distance(nxt));
            if let Some(f) = fin {
                end = f;
            }
            if end.after(self.tcb.rcv_nxt) {
                let new = end.forward_distance(self.tcb.rcv_nxt);
                self.tcb.rcv_nxt = end;
                self.readable += u64::from(new);
            }
            if fin.is_some() {
                // The range stays for fin_at_rcv_nxt() to purge with the rest: Linux's SACK
                // blocks are trimmed only after tcp_ofo_queue() returns (tcp_sack_remove()),
                // so the ACK tcp_fin() sends in FIN-WAIT-2 (or FIN-WAIT-1) still reports the
                // block that covered this FIN (explorer, seed 2718, case 1546).
                return true;
            }
            self.ooo.remove(0);
        }
        false
    }

    fn fin(&mut self, now: Duration, seg: &Seg) {
        if self.profile.kind == ProfileKind::Linux
            && matches!(
                self.state,
                State::CloseWait | State::Closing | State::LastAck
            )
        {
            let fin_seq = seg.seq + u32::from(seg.flags.syn()) + seg.len;
            if seg.seq.before(self.tcb.rcv_nxt) && fin_seq == self.tcb.rcv_nxt {
                // Linux tcp_rcv_state_process(): a segment starting before RCV.NXT falls
                // through to tcp_data_queue() (its text ends at RCV.NXT, so it is not data
                // after the FIN), which queues it as a partial packet and moves RCV.NXT to its
                // END_SEQ (tcp_rcv_nxt_update()): over its FIN, a second time; tcp_fin()
                // changes no state in CLOSE-WAIT, CLOSING or LAST-ACK, and schedules the ACK
                // (inet_csk_schedule_ack(), at once or delayed). The text under it is never
                // read: the first FIN ends the stream (explorer, seed 2718 case 2321, seed
                // 4242 case 925). RFC 9293 3.10.7.4 takes nothing before RCV.NXT.
                self.tcb.rcv_nxt += 1;
                self.ack_data(now);
                return;
            }
            // Linux tcp_rcv_state_process(): once the peer's FIN is in, a segment at or past
            // RCV.NXT is not queued, so a second FIN is neither taken nor acknowledged. RFC
            // 9293 3.10.7.4 would advance RCV.NXT over it and acknowledge it.
            self.choices.push(Choice {
                rule: "Linux tcp_rcv_state_process",
                taken: "FIN after the peer's FIN ignored",
            });
            return;
        }
        let fin_seq = seg.seq + u32::from(seg.flags.syn()) + seg.len;
        if fin_seq.after(self.tcb.rcv_nxt) {
            // RFC 9293 3.10.7.4: SHLD-31, the FIN lies beyond a hole: held (with the text
            // before it, which text() held) and processed when the hole fills. Linux queues
            // it out of order and reports it in its SACK blocks (tcp_data_queue_ofo()).
            if seg.len == 0 && !fin_seq.before(self.window_edge()) {
                // As text() does for data at the right edge (Linux tcp_data_queue()).
                self.ack_now(
                    now,
                    "RFC 9293 3.10.7.4: text beyond the window: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
                );
            } else if seg.len == 0 {
                self.hold_segment(fin_seq, 0, true);
                self.ack_out_of_order(now);
            }
            return;
        }
        if fin_seq != self.tcb.rcv_nxt {
            return;
        }
        self.fin_at_rcv_nxt(now);
    }

    /// RFC 9293 3.10.7.4, eighth: the FIN at RCV.NXT is taken.
    fn fin_at_rcv_nxt(&mut self, now: Duration) {
        self.tcb.rcv_nxt += 1;
        self.fin_unread = true;
        self.fin_in_tail = self.readable > 0;
        // Nothing follows a FIN: data held beyond it was never part of the stream.
        self.purged_ooo = std::mem::take(&mut self.ooo);
        self.ooo_fins.clear();
        self.reports.push(Report::ConnectionClosing);
        match self.state {
            State::SynReceived | State::Established => self.enter(State::CloseWait),
            State::FinWait1 => {
                let acked = self
                    .fin_seq
                    .is_some_and(|f| !self.tcb.snd_una.before(f + 1));
                if acked {
                    self.enter_time_wait(now);
                } else {
                    self.enter(State::Closing);
                }
            }
            State::FinWait2 => self.enter_time_wait(now),
            // RFC 9293 3.10.7.4: in TIME-WAIT a FIN restarts the 2 MSL timeout.
            State::TimeWait => self.enter_time_wait(now),
            _ => {}
        }
        // The FIN is acknowledged. Linux may delay it (ping-pong mode after a FIN in
        // ESTABLISHED), within the ACK delay limit.
        let spec = SegSpec::ctl(TcpFlags::ACK, self.ack_seq(), Some(self.tcb.rcv_nxt));
        self.drop_owed_pure_acks();
        let latest = if self.state == State::CloseWait {
            now + self.profile.ack_delay_max
        } else {
            now
        };
        self.expect(
            spec,
            Due {
                earliest: now,
                latest,
            },
            "RFC 9293 3.10.7.4: a FIN is acknowledged: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>",
        );
    }

    /// Linux: TIME-WAIT belongs to a timewait mini-socket, and tcp_timewait_state_process()
    /// answers in its own way. Only an empty segment or a RST exactly at RCV.NXT is "in the
    /// window": the RST ends TIME-WAIT (tcp_rfc1337 = 0), the empty one restarts it, both
    /// silently. A SYN beyond RCV.NXT (or with a newer TSval) goes to a listener if one owns
    /// the port (the caller's [`Connection::reopen_from_time_wait`]); with none it is
    /// answered with an ACK, not rate limited. A RST anywhere else is dropped, with no
    /// challenge ACK. Everything else (a second FIN at RCV.NXT, text, an old segment) is not
    /// processed and is answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, within the
    /// out-of-window rate limit unless it carries text or a FIN. RFC 9293 3.10.7.4 would
    /// challenge the RST (RFC 5961 3.2), take a FIN at RCV.NXT and ignore text silently.
    fn arrive_time_wait_linux(&mut self, now: Duration, seg: &Seg) {
        self.linux_tw_socket = true;
        let paws_reject = match (seg.options.timestamps, self.ts_recent) {
            (Some((val, _)), Some(recent)) if self.negotiation.timestamps() => {
                SeqNumber(val).before(SeqNumber(recent)) && !seg.flags.rst()
            }
            _ => false,
        };
        let empty = seg.seg_len() == 0;
        if !paws_reject && seg.seq == self.tcb.rcv_nxt && (empty || seg.flags.rst()) {
            if seg.flags.rst() {
                self.expected.clear();
                self.enter(State::Closed);
            } else {
                self.time_wait_until = Some(now + self.profile.time_wait);
                // Read only with timestamps on (tw_ts_recent_stamp set).
                if let (Some((val, _)), true) =
                    (seg.options.timestamps, self.negotiation.timestamps())
                {
                    self.ts_recent = Some(val);
                }
            }
            return;
        }
        // The timewait socket reads a TSopt only when timestamps are on (tw_ts_recent_stamp
        // set): without them a SYN's TSval is not newer than anything (explorer, seed 31337,
        // case 608).
        let newer_ts = match (seg.options.timestamps, self.ts_recent) {
            (Some((val, _)), Some(recent)) if self.negotiation.timestamps() => {
                SeqNumber(recent).before(SeqNumber(val))
            }
            _ => false,
        };
        let rule = "Linux tcp_timewait_state_process: TIME-WAIT answers with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>";
        if seg.flags.syn()
            && !seg.flags.rst()
            && !seg.flags.ack()
            && !paws_reject
            && (seg.seq.after(self.tcb.rcv_nxt) || newer_ts)
        {
            // TCP_TW_SYN with no listener falls through to the ACK, outside the rate limit.
            self.ack_now(now, rule);
            return;
        }
        if seg.flags.rst() {
            self.choices.push(Choice {
                rule: "Linux tcp_timewait_state_process",
                taken: "TIME-WAIT: a RST not at RCV.NXT dropped without a challenge ACK",
            });
            return;
        }
        if paws_reject || seg.flags.ack() {
            self.time_wait_until = Some(now + self.profile.time_wait);
        }
        self.unacceptable_ack(now, seg, rule);
    }

    fn enter_time_wait(&mut self, now: Duration) {
        self.enter(State::TimeWait);
        self.rtx = None;
        if self.profile.kind == ProfileKind::Linux {
            // The timewait socket starts a fresh out-of-window budget
            // (tcp_time_wait(): tw_last_oow_ack_time = 0).
            self.last_challenge = None;
        }
        // RFC 9293 3.6: MUST-13, linger in TIME-WAIT for 2 MSL (Linux: a fixed 60 s).
        self.time_wait_until = Some(now + self.profile.time_wait);
    }

    /// The first check of RFC 9293 3.10.7.4 (the four-case acceptability test of §3.3.2),
    /// or on Linux tcp_sequence(): a segment is in when it ends at or after RCV.NXT and
    /// starts at or before the right window edge, so an empty segment exactly at the right
    /// edge is in (the RFC wants it strictly inside).
    fn acceptable(&self, seg: &Seg) -> bool {
        let (nxt, wnd) = (self.tcb.rcv_nxt, self.tcb.rcv_wnd);
        if self.profile.kind == ProfileKind::Linux {
            // Since 6.17 a segment reaching past the right edge is taken only while the
            // receive queue is empty (tcp_sequence(): "Only accept this packet if receive
            // queue is empty"; the queue holds unread data and an unread FIN), so that unread
            // data bounds what the window can hold; a FIN alone may stick out ("Some stacks
            // are known to handle FIN incorrectly").
            // The window is counted from RCV.WUP, and a segment is old only if it ends before
            // RCV.WUP (tcp_sequence(), tcp_receive_window()): while an ACK is delayed, what
            // ends between RCV.WUP and RCV.NXT is still acceptable, and the right edge has not
            // moved with RCV.NXT.
            let edge = self.linux_window_edge();
            let queued = self.readable > 0 || self.fin_unread;
            let past_edge = (seg.end() - u32::from(seg.flags.fin())).after(edge) && queued;
            return !seg.end().before(self.tcb.rcv_wup) && !seg.seq.after(edge) && !past_edge;
        }
        segment_acceptable(seg.seq, seg.seg_len(), nxt, wnd)
    }

    fn note_synack_tsval(&mut self, seg: &Seg) {
        if let (true, Some((val, _))) = (seg.flags.syn() && seg.flags.ack(), seg.options.timestamps)
        {
            let first = self.synack_tsvals.map_or(val, |(f, _)| f);
            self.synack_tsvals = Some((first, val));
        }
    }

    /// Linux: the connection is still a request socket (passive SYN-RECEIVED, no child).
    fn linux_request(&self) -> bool {
        self.profile.kind == ProfileKind::Linux
            && self.state == State::SynReceived
            && self.passive
            && !self.linux_child
    }

    /// Linux tcp_rcv_established()'s header prediction for text, all but the memory test.
    fn linux_header_predicted(&self, seg: &Seg) -> bool {
        self.linux_header_matches(seg) && seg.len > 0
    }

    /// Linux tcp_rcv_established()'s header prediction: an in-order segment with ACK (and
    /// PSH) only, the header length the connection predicts (TSopt exactly when negotiated,
    /// and not older than TS.Recent), the window last recorded, an ACK not beyond SND.NXT.
    fn linux_header_matches(&self, seg: &Seg) -> bool {
        let ts_ok = match (self.negotiation.timestamps(), seg.options.timestamps) {
            (true, Some((val, _))) => self
                .ts_recent
                .is_none_or(|r| !SeqNumber(val).before(SeqNumber(r))),
            (false, None) => true,
            _ => false,
        };
        self.profile.kind == ProfileKind::Linux
            && self.state == State::Established
            && self.linux_hp
            && self.ooo.is_empty()
            && seg.flags & !TcpFlags::PSH == TcpFlags::ACK
            && seg.options.sack.is_none()
            && ts_ok
            && seg.seq == self.tcb.rcv_nxt
            && !seg.ack.after(self.tcb.snd_nxt)
            && u32::from(seg.wnd) == self.tcb.snd_wnd >> self.snd_shift
    }

    /// The TSval Linux's fast path stores as TS.Recent before tcp_ack() judges the ACK
    /// (tcp_rcv_established(): tcp_store_ts_recent() when RCV.NXT = RCV.WUP), so even an
    /// old ACK's TSval is kept there; the slow path's tcp_ack() leaves at old_ack first.
    fn linux_fast_path_tsval(&self, seg: &Seg) -> Option<u32> {
        let (val, _) = seg.options.timestamps?;
        (self.linux_header_matches(seg) && self.tcb.rcv_nxt == self.tcb.rcv_wup).then_some(val)
    }

    /// Linux's fast path for text whose ACK is too old: the text is queued (as in order),
    /// then tcp_ack() refuses the ACK and sends its challenge ACK, which now acknowledges
    /// the text; if the rate limit holds it back, the text's own ACK follows
    /// (__tcp_ack_snd_check(), at once or delayed).
    fn fast_path_take(&mut self, now: Duration, seg: &Seg) {
        self.choices.push(Choice {
            rule: "Linux tcp_rcv_established",
            taken: "header prediction queued text whose ACK was too old",
        });
        if let Some(val) = self.linux_fast_path_tsval(seg) {
            self.ts_recent = Some(val);
        }
        self.tcb.rcv_nxt += seg.len;
        self.readable += u64::from(seg.len);
        if self.rate_limited(now) {
            self.ack_data(now);
        } else {
            self.ack_now(
                now,
                "RFC 5961 5.2: ACK outside SND.UNA-MAX.SND.WND..SND.NXT: challenge ACK",
            );
        }
    }

    /// The right edge of the receive window: RCV.NXT + RCV.WND, or on Linux RCV.WUP +
    /// RCV.WND (never left of RCV.NXT: tcp_receive_window() is not negative).
    fn window_edge(&self) -> SeqNumber {
        if self.profile.kind == ProfileKind::Linux {
            self.linux_window_edge()
        } else {
            self.tcb.rcv_nxt + self.tcb.rcv_wnd
        }
    }

    fn linux_window_edge(&self) -> SeqNumber {
        let edge = self.tcb.rcv_wup + self.tcb.rcv_wnd;
        if edge.before(self.tcb.rcv_nxt) {
            self.tcb.rcv_nxt
        } else {
            edge
        }
    }

    /// Linux tcp_select_window() keeps in tp->rcv_wnd the window it chose before clamping
    /// the header's field to 65535 << RCV.WIND.SHIFT: an advertised maximum may stand for a
    /// wider window, whose edge the wire does not show. Text starting within the advertised
    /// window and beyond is then taken by tcp_sequence() and tcp_data_queue() as inside, up
    /// to the receive buffer the window is carved from (tcp_full_space(), at most tcp_rmem's
    /// default of 128 KiB without SO_RCVBUF): followed as another branch, with the window
    /// just wide enough (explorer, seed 2718, case 2033).
    fn branch_on_wider_window(&mut self, now: Duration, seg: &Seg) {
        const LINUX_RMEM_DEFAULT: u32 = 131_072;
        let edge = self.linux_window_edge();
        // An empty segment is in the wider window too: a RST there draws a challenge ACK
        // instead of being dropped (seen on 6.18, explorer seed 9001 case 3137: the ACK
        // started the out-of-window budget, so a SYN's challenge ACK after it was held
        // back), and a FIN or an ACK draws no duplicate ACK (seed 2026 case 3976). A SYN
        // draws a challenge ACK either way.
        if !self.linux_window_field_clamped()
            || seg.flags.syn()
            || seg.end().forward_distance(self.tcb.rcv_wup) > LINUX_RMEM_DEFAULT
            || !seg.end().after(edge)
            || seg.end().before(self.tcb.rcv_nxt)
        {
            return;
        }
        let mut wide = self.clone();
        wide.alts.clear();
        wide.new_alt = None;
        wide.tcb.rcv_wnd = seg.end().forward_distance(self.tcb.rcv_wup);
        wide.arrive_other(now, seg);
        wide.new_alt = None;
        self.new_alt = Some(Box::new(wide));
    }

    /// Linux: the stack's last window field was the largest the header can carry
    /// (tcp_select_window(): `min(new_win, 65535U << rcv_wscale)` after tp->rcv_wnd is set).
    fn linux_window_field_clamped(&self) -> bool {
        self.profile.kind == ProfileKind::Linux
            && self.tcb.rcv_wnd == u32::from(u16::MAX) << self.rcv_shift
    }

    /// Linux tcp_reset_check(): once the peer's FIN is in, a RST at RCV.NXT - 1 (a peer that
    /// did not count its FIN) resets the connection although it is outside the window.
    fn linux_reset_check(&self, seg: &Seg) -> bool {
        self.profile.kind == ProfileKind::Linux
            && seg.seq + 1 == self.tcb.rcv_nxt
            && matches!(
                self.state,
                State::CloseWait | State::LastAck | State::Closing
            )
    }

    /// Linux tcp_validate_incoming(): RFC 5961 3.2 "extended to match ... the right-most
    /// SACK block": while out-of-order data is held and SACK is on, a RST exactly at the
    /// right edge of the highest block reported resets the connection like one at RCV.NXT
    /// (a peer that has only seen our SACKs may reset from there). RFC 5961 3.2 would send a
    /// challenge ACK.
    fn linux_rst_at_sack_edge(&self, seg: &Seg) -> bool {
        if self.profile.kind != ProfileKind::Linux || !self.negotiation.sack() {
            return false;
        }
        let base = self.tcb.rcv_nxt;
        self.ooo
            .iter()
            .map(|&(s, l)| s + l)
            .max_by_key(|e| e.forward_distance(base))
            .is_some_and(|edge| seg.seq == edge)
    }

    /// RST accepted: RFC 9293 3.10.7.4, second, per state.
    fn reset(&mut self, now: Duration) {
        self.note_raced_retransmissions(now);
        self.note_raced_acks(now);
        self.expected.clear();
        match self.state {
            State::SynReceived if self.passive => self.back_to_listen(),
            State::SynReceived => {
                self.reports.push(Report::ConnectionRefused);
                self.enter(State::Closed);
            }
            State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait => {
                self.reports.push(Report::ConnectionReset);
                self.enter(State::Closed);
            }
            _ => self.enter(State::Closed),
        }
    }

    /// An ACK for an unacceptable segment (first check). In TIME-WAIT the same reply.
    fn unacceptable_ack(&mut self, now: Duration, seg: &Seg, rule: &'static str) {
        // Linux tcp_oow_rate_limited(): a segment carrying data or a FIN (and no SYN) is
        // always answered; pure ACKs and SYNs share the challenge-ACK budget.
        let exempt = seg.seg_len() > 0 && !seg.flags.syn();
        if self.profile.kind == ProfileKind::Linux && !exempt && self.rate_limited(now) {
            // Linux: tcp_oow_rate_limited() limits these duplicate ACKs like challenge ACKs.
            self.choices.push(Choice {
                rule: "Linux tcp_oow_rate_limited",
                taken: "out-of-window ACK suppressed by the rate limit",
            });
            return;
        }
        self.ack_now(now, rule);
    }

    /// RFC 5961 challenge ACK: `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`, rate limited
    /// (RFC 5961 10; Linux one per `tcp_invalid_ratelimit` per socket).
    fn challenge_ack(&mut self, now: Duration, rule: &'static str) {
        if self.rate_limited(now) {
            self.choices.push(Choice {
                rule: "RFC 5961 10",
                taken: "challenge ACK suppressed by the rate limit",
            });
            return;
        }
        self.ack_now(now, rule);
    }

    fn rate_limited(&mut self, now: Duration) -> bool {
        if let Some(last) = self.last_challenge {
            if now < last + self.profile.challenge_ack_interval {
                return true;
            }
        }
        self.last_challenge = Some(now);
        false
    }

    // --- Timers and retransmission ---

    /// Keeps the retransmissions owed by `now` (within a jiffy, the kernel's timer
    /// resolution: the input reaches the stack a little after the model's `now`) that an
    /// input is about to make needless: the timer races the input, and a retransmission
    /// sent just before it is not the stack's error.
    fn note_raced_retransmissions(&mut self, now: Duration) {
        let slack = timers::Hz::TARGET.jiffy();
        let raced = self
            .expected
            .iter()
            .filter(|e| is_retransmission_of(e) && e.due.earliest <= now + slack)
            .map(|e| (*e, now));
        self.raced.extend(raced);
    }

    /// The same for an owed ACK (a delayed one) that an ABORT or a RST is about to make
    /// needless: allowed from now, it may leave just before the input is processed, and the
    /// harness reads it with the input's reaction. Seen on 6.18 (explorer, seed 7 case 1673,
    /// seed 31337 case 4549): the ACK of a FIN in CLOSE-WAIT came right before the RST of
    /// an ABORT 35 µs after the FIN, and once right after a RST; neither came back on
    /// replay. What made the kernel send it then was not found.
    fn note_raced_acks(&mut self, now: Duration) {
        let slack = timers::Hz::TARGET.jiffy();
        let raced = self
            .expected
            .iter()
            .filter(|e| {
                e.spec.flags == TcpFlags::ACK
                    && e.spec.len == LenSpec::Exact(0)
                    && e.due.earliest <= now + slack
            })
            .map(|e| (*e, now));
        self.raced.extend(raced);
    }

    fn rtx_acked(&mut self, now: Duration) {
        self.note_raced_retransmissions(now);
        if let Some(rtx) = self.rtx {
            // RFC 6298 5 / RFC 9293 3.8.1: MUST-18, Karn: no sample from a retransmission.
            self.rto
                .on_ack(now.saturating_sub(rtx.sent_at), rtx.count > 0);
        }
        self.expected.retain(|e| !is_retransmission_of(e));
        // Progress: whatever gave up before starts over.
        self.give_up_at = None;
        if self.tcb.snd_una == self.tcb.snd_nxt {
            self.rtx = None;
        } else if let Some(rtx) = &mut self.rtx {
            rtx.count = 0;
            rtx.sent_at = now;
            rtx.first_sent = now;
            rtx.first_rtx_at = None;
            self.schedule_retransmission();
        }
    }

    /// Expects the oldest unacknowledged segment again when its timer runs out.
    fn schedule_retransmission(&mut self) {
        let Some(rtx) = self.rtx else { return };
        let Some(interval) = self.retransmission_interval(rtx.count, rtx.flags) else {
            // RFC 9293 3.8.3: MUST-20, after R2 the connection is closed. The last timeout
            // runs out first: the schedule's give-up time for a SYN or SYN-ACK, one more
            // RTO for data.
            self.give_up_at = Some(if rtx.flags.syn() {
                let schedule = if rtx.flags.ack() {
                    timers::synack_schedule(&self.profile)
                } else {
                    timers::syn_schedule(&self.profile)
                };
                rtx.first_sent + schedule.give_up
            } else {
                rtx.sent_at + self.rto.rto()
            });
            return;
        };
        if let (ProfileKind::Linux, false, Some(stamp)) =
            (self.profile.kind, rtx.flags.syn(), rtx.first_rtx_at)
        {
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
                self.give_up_at = Some(fires);
                return;
            }
        }
        // The tolerance is for the interval, measured from the send that armed the timer.
        let window = timers::timer_tolerance(interval).after(rtx.sent_at);
        let mut spec = SegSpec {
            flags: rtx.flags,
            optional_flags: TcpFlags::PSH | TcpFlags::ECE | TcpFlags::CWR,
            seq: SeqSpec::Exact(self.tcb.snd_una),
            ack: rtx.flags.ack().then_some(self.tcb.rcv_nxt),
            len: if rtx.len == 0 {
                LenSpec::Exact(0)
            } else {
                LenSpec::UpTo(rtx.len)
            },
        };
        if rtx.flags.syn() {
            spec.seq = SeqSpec::Exact(self.tcb.iss);
        }
        self.expected.push(Expected {
            spec,
            due: Due {
                earliest: window.earliest,
                latest: window.latest,
            },
            rule: RETRANSMISSION_RULE,
        });
    }

    /// The time from the `count`-th transmission to the next, or `None` once the stack
    /// should give up.
    fn retransmission_interval(&self, count: u32, flags: TcpFlags) -> Option<Duration> {
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
        if self.profile.kind == ProfileKind::Rfc9293 && count >= self.profile.retries2 {
            return None;
        }
        Some(self.rto.rto())
    }

    /// Runs the timers that end a connection: TIME-WAIT, giving up on retransmission, the
    /// user timeout.
    fn poll_one(&mut self, now: Duration) {
        if let Some(until) = self.fin_wait_2_until {
            if now >= until && self.state == State::FinWait2 {
                self.enter(State::Closed);
            }
        }
        if let Some(until) = self.time_wait_until {
            // RFC 9293 3.10.8: when the TIME-WAIT timeout expires, delete the TCB.
            if now >= until {
                self.enter(State::Closed);
            }
        }
        let user_deadline = self
            .user_timeout
            .zip(self.rtx)
            .map(|(timeout, rtx)| rtx.first_sent + timeout);
        for deadline in [self.give_up_at, user_deadline].into_iter().flatten() {
            if now >= deadline && self.state != State::Closed {
                // RFC 9293 3.10.8: on a user timeout, flush the queues, tell the user
                // "connection aborted due to user timeout" and enter CLOSED; RFC 9293 3.8.3:
                // MUST-20, likewise after R2 retransmissions.
                self.reports.push(Report::TimedOut);
                self.expected.clear();
                self.enter(State::Closed);
            }
        }
    }

    /// Sets the user timeout (RFC 9293 3.9.1.1; Linux TCP_USER_TIMEOUT): how long data may
    /// stay unacknowledged before the connection is aborted.
    pub fn set_user_timeout(&mut self, timeout: Option<Duration>) {
        self.user_timeout = timeout;
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
            readable: self.readable,
            unsent: self.unsent,
        })
    }

    // --- The stack's own segments ---

    /// The stack sent `seg` at `now`: check it against what is allowed, then apply it.
    fn emitted_one(&mut self, now: Duration, seg: &Seg) -> Result<(), Divergence> {
        self.events += 1;
        let checked = self.check_options(seg);
        // Only the reply sent in the same breath as the purge carries the purged ranges.
        self.purged_ooo.clear();
        checked?;
        if let (true, false, Some(floor)) = (seg.flags.syn(), self.iss_bound, self.iss_floor) {
            if !seg.seq.after(floor) {
                return Err(Divergence {
                    rule: "RFC 9293 3.6.1: MAY-2, a connection reopened from TIME-WAIT uses an ISN above the old sequence numbers",
                    expected: format!("a SYN-ACK with SEQ > {floor}"),
                    actual: show(seg),
                });
            }
        }
        // An expectation already due wins over one that matches but is not due yet (a
        // SYN-ACK answering a duplicate SYN is not its early retransmission).
        let found = self
            .expected
            .iter()
            .position(|e| e.spec.matches(seg) && now >= e.due.earliest)
            .or_else(|| self.expected.iter().position(|e| e.spec.matches(seg)));
        if let Some(i) = found {
            let e = self.expected[i];
            if now < e.due.earliest
                && e.rule == RETRANSMISSION_RULE
                && self.allowed_unasked(now, seg)
            {
                // Not the retransmission, but something sent on its own that looks the same
                // (a tail loss probe).
                self.apply_own(now, seg);
                return Ok(());
            }
            if now < e.due.earliest {
                return Err(Divergence {
                    rule: e.rule,
                    expected: format!("{} at {:?} or later", e.spec, e.due.earliest),
                    actual: format!("{} at {:?}", show(seg), now),
                });
            }
            self.expected.remove(i);
            if e.rule == KEEPALIVE_RULE {
                self.ka_probes_out += 1;
                self.ka_last_probe = Some(now);
                self.plan_keepalive(now);
                return Ok(());
            }
            if e.rule == KEEPALIVE_RESET_RULE {
                self.reports.push(Report::TimedOut);
                self.expected.clear();
                self.enter(State::Closed);
                return Ok(());
            }
            if e.rule == RETRANSMISSION_RULE {
                if let Some(rtx) = &mut self.rtx {
                    rtx.count += 1;
                    rtx.sent_at = now;
                    rtx.first_rtx_at.get_or_insert(now);
                }
                self.rto.on_timeout();
                self.schedule_retransmission();
                return Ok(());
            }
            self.apply_own(now, seg);
            if self.keepalive {
                self.plan_keepalive(now);
            }
            return Ok(());
        }
        if self.allowed_unasked(now, seg) {
            self.apply_own(now, seg);
            if self.keepalive {
                self.plan_keepalive(now);
            }
            return Ok(());
        }
        if let Some(i) = self.raced.iter().position(|(e, _)| e.spec.matches(seg)) {
            self.raced.remove(i);
            self.choices.push(Choice {
                rule: RETRANSMISSION_RULE,
                taken: "a segment due when an input made it needless: its timer fired first",
            });
            return Ok(());
        }
        let expected = match self.expected.first() {
            Some(e) => format!("{} ({})", e.spec, e.rule),
            None => "nothing".to_string(),
        };
        Err(Divergence {
            rule: self.expected.first().map_or(
                "RFC 9293 3.10: no rule allows this segment in this state",
                |e| e.rule,
            ),
            expected: format!("{expected} in {}", self.state),
            actual: show(seg),
        })
    }

    /// Segments no rule demands but the standard allows at any time.
    fn allowed_unasked(&mut self, now: Duration, seg: &Seg) -> bool {
        if !self.state.is_synchronized() && self.state != State::SynReceived {
            return false;
        }
        if seg.flags.syn() || seg.flags.rst() || !seg.flags.ack() || seg.ack != self.tcb.rcv_nxt {
            return false;
        }
        // Probes carry an old sequence number so the peer answers with an ACK:
        // <SEQ=SND.UNA-1><ACK=RCV.NXT><CTL=ACK>.
        if seg.flags & !TcpFlags::PSH == TcpFlags::ACK
            && seg.seq == self.tcb.snd_una - 1
            && seg.len <= 1
        {
            // RFC 9293 3.8.6.1: MUST-35, a zero window is probed. Linux probes without data
            // (tcp_xmit_probe_skb()), which the window cannot refuse.
            if self.tcb.snd_wnd == 0 && self.unsent > 0 && seg.len == 0 {
                self.choices.push(Choice {
                    rule: "RFC 9293 3.8.6.1: MUST-35",
                    taken: "zero-window probe: SND.UNA-1, no data",
                });
                return true;
            }
        }
        // A window update or a repeated ACK.
        if seg.len == 0 && !seg.flags.fin() && seg.seq == self.ack_seq() {
            self.choices.push(Choice {
                rule: "RFC 9293 3.8.6.2.2",
                taken: "window update or duplicate ACK",
            });
            return true;
        }
        // More queued data, within the window and the MSS.
        if seg.len > 0
            && seg.seq == self.tcb.snd_nxt
            && seg.len <= self.unsent
            && seg.len <= self.send_mss
        {
            return true;
        }
        // A FIN after all queued data.
        if seg.flags.fin()
            && self.fin_queued
            && self.unsent == seg.len
            && self.fin_seq.is_none()
            && seg.seq == self.tcb.snd_nxt
        {
            return true;
        }
        // Linux's tail loss probe: the last segment again, before the RTO.
        if self.profile.tail_loss_probe
            && seg.seg_len() > 0
            && !seg.seq.before(self.tcb.snd_una)
            && !seg.end().after(self.tcb.snd_nxt)
        {
            self.choices.push(Choice {
                rule: "Linux tcp_schedule_loss_probe",
                taken: "tail loss probe",
            });
            // tcp_send_loss_probe() rearms the RTO from the probe.
            if let Some(rtx) = &mut self.rtx {
                rtx.sent_at = now;
                self.expected.retain(|e| !is_retransmission_of(e));
                self.schedule_retransmission();
            }
            return true;
        }
        false
    }

    /// Applies a segment the stack sent to the model's view of it.
    fn apply_own(&mut self, now: Duration, seg: &Seg) {
        if seg.flags.rst() {
            // The state change belongs to the input that called for the RST (an ABORT, or a
            // segment refused): sending it changes nothing more.
            return;
        }
        if seg.flags.syn() && self.iss_bound {
            // A SYN or SYN-ACK again (simultaneous open, retransmission): the ISN is already
            // bound and every spec that let this segment through carried it.
            self.negotiation.ours = Some(SynOptions::of(seg));
            self.apply_negotiation();
            self.note_synack_tsval(seg);
            // A simultaneous open turns the SYN waiting for its ACK into a SYN-ACK
            // (Linux tcp_send_synack() sets ACK on the queued SYN): retransmitted as such.
            if let Some(rtx) = &mut self.rtx {
                if rtx.flags.syn() && seg.flags.ack() && !rtx.flags.ack() {
                    rtx.flags |= TcpFlags::ACK;
                    self.expected.retain(|e| !is_retransmission_of(e));
                    self.schedule_retransmission();
                }
            }
        } else if seg.flags.syn() {
            self.tcb.iss = seg.seq;
            self.iss_bound = true;
            // The ISN is bound once: any SYN still owed must carry the same one.
            for e in &mut self.expected {
                if e.spec.seq == SeqSpec::Iss {
                    e.spec.seq = SeqSpec::Exact(seg.seq);
                }
            }
            self.tcb.snd_una = seg.seq;
            self.tcb.snd_nxt = seg.seq + 1;
            self.negotiation.ours = Some(SynOptions::of(seg));
            self.apply_negotiation();
            if let Some((val, _)) = seg.options.timestamps {
                self.ts_clock = Some(val);
            }
            self.note_synack_tsval(seg);
            // RFC 7323 2.2: the window in a SYN is never scaled.
            self.tcb.rcv_wnd = u32::from(seg.wnd);
            if self.fin_queued && self.fin_seq.is_none() {
                self.queue_fin(now);
            }
        } else {
            // A request socket's ACKs show its window rounded down to the scale
            // (tcp_v4_reqsk_send_ack()); the window it judges by, and hands to the child,
            // stays the SYN-ACK's.
            if !self.linux_request() {
                self.tcb.rcv_wnd = u32::from(seg.wnd) << self.rcv_shift;
                if seg.flags.ack() {
                    self.tcb.rcv_wup = seg.ack;
                }
            }
            let end = seg.end();
            if end.after(self.tcb.snd_nxt) {
                let new_data = end.forward_distance(self.tcb.snd_nxt) - u32::from(seg.flags.fin());
                self.unsent = self.unsent.saturating_sub(new_data);
                self.tcb.snd_nxt = end;
            }
            if seg.flags.fin() {
                self.fin_seq = Some(seg.seq + seg.len);
            }
        }
        // A pure ACK (or anything carrying the ACK) settles an owed ACK.
        if seg.flags.ack() && seg.ack == self.tcb.rcv_nxt {
            self.drop_owed_pure_acks();
        }
        // A SYN-ACK carrying a SYN cookie is sent by a listener that keeps nothing: it is
        // never retransmitted (Linux cookie_v4_init_sequence(), no request socket).
        let stateless = self.cookie && seg.flags.syn();
        if seg.seg_len() > 0 && self.rtx.is_none() && !stateless {
            self.rtx = Some(Rtx {
                first_sent: now,
                sent_at: now,
                count: 0,
                first_rtx_at: None,
                flags: seg.flags & (TcpFlags::SYN | TcpFlags::ACK | TcpFlags::FIN),
                len: seg.len,
            });
            self.schedule_retransmission();
        }
    }

    /// Everything owed by `now` has been sent; returns the first overdue expectation.
    fn settle_one(&mut self, now: Duration) -> Result<(), Divergence> {
        // A raced segment comes with the input's reaction or not at all. A harness checks
        // what is overdue by a time a grace before it reads a reply (the differ's advance()),
        // which may lie before the input: what raced it stays allowed until then.
        self.raced.retain(|&(_, at)| at > now);
        self.poll(now);
        match self
            .expected
            .iter()
            .find(|e| e.due.latest < now || (e.due.latest == e.due.earliest && e.due.latest <= now))
        {
            None => Ok(()),
            Some(e) => Err(Divergence {
                rule: e.rule,
                expected: format!("{} by {:?}", e.spec, e.due.latest),
                actual: format!("nothing by {now:?}"),
            }),
        }
    }

    /// The earliest time something is due, for a harness deciding how long to wait.
    pub fn next_deadline(&self) -> Option<Duration> {
        let owed = self.expected.iter().map(|e| e.due.latest).min();
        match (owed, self.time_wait_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // --- Branches: every input to both, the first output one refuses decides ---

    /// Runs an input on every branch; branches it opens are followed too.
    fn each_branch<R>(&mut self, f: impl Fn(&mut Connection) -> R) -> R {
        let alts = std::mem::take(&mut self.alts);
        let r = f(self);
        let mut next = self.take_new_branches();
        for mut a in alts {
            f(&mut a);
            let more = a.take_new_branches();
            next.push(a);
            next.extend(more);
        }
        next.truncate(MAX_BRANCHES);
        self.alts = next;
        r
    }

    /// The branches this connection opened during the last input.
    fn take_new_branches(&mut self) -> Vec<Connection> {
        let mut out = Vec::new();
        let (wl1, ts) = (self.fast_path_wl1.take(), self.fast_path_ts.take());
        if wl1.is_some() || ts.is_some() {
            let mut a = self.clone();
            a.alts.clear();
            a.new_alt = None;
            if let Some(seq) = wl1 {
                a.tcb.snd_wl1 = seq;
            }
            if ts.is_some() {
                a.ts_recent = ts;
            }
            out.push(a);
        }
        if let Some(a) = self.new_alt.take() {
            let mut a = *a;
            a.alts.clear();
            out.push(a);
        }
        out
    }

    /// Runs an output check on every branch and keeps the ones that allow it (this one
    /// first); fails only when none does.
    fn observe_branches(
        &mut self,
        f: impl Fn(&mut Connection) -> Result<(), Divergence>,
    ) -> Result<(), Divergence> {
        if self.alts.is_empty() {
            return f(self);
        }
        let alts = std::mem::take(&mut self.alts);
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
        self.alts = it.collect();
        Ok(())
    }

    /// How many other branches the model follows (see `Connection::alts`).
    pub fn branches(&self) -> usize {
        self.alts.len()
    }

    /// The state and RCV.NXT (when synchronized) of every branch followed, this one first.
    /// An input one branch refuses leaves another in its place, so a check of the model's
    /// own transitions compares the state after an input with every branch's before it.
    pub fn branch_states(&self) -> Vec<(State, Option<SeqNumber>)> {
        std::iter::once(self)
            .chain(self.alts.iter())
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
        if self.alts.is_empty() {
            return fits(self);
        }
        let alts = std::mem::take(&mut self.alts);
        let mut kept: Vec<Connection> = Vec::new();
        if fits(self) {
            kept.push(self.clone());
        }
        kept.extend(alts.iter().filter(|a| fits(a)).cloned());
        if kept.is_empty() {
            self.alts = alts;
            return false;
        }
        let mut it = kept.into_iter();
        *self = it.next().expect("not empty");
        self.alts = it.collect();
        true
    }

    /// A segment from the peer reaches the stack.
    pub fn arrive(&mut self, now: Duration, seg: &Seg) {
        self.each_branch(|c| c.arrive_one(now, seg))
    }

    /// SEND of `n` bytes.
    pub fn send(&mut self, now: Duration, n: u32) -> Result<(), UserError> {
        self.each_branch(|c| c.send_one(now, n))
    }

    /// RECEIVE of up to `n` bytes; returns how many the model says are there.
    pub fn receive(&mut self, n: u64) -> Result<u64, UserError> {
        self.receive_where(n, |_| true)
    }

    /// RECEIVE, where the stack's answer is known: a branch whose answer `fits` is kept
    /// (this one first), so a read can decide an open choice.
    pub fn receive_where(
        &mut self,
        n: u64,
        fits: impl Fn(&Result<u64, UserError>) -> bool,
    ) -> Result<u64, UserError> {
        if self.alts.is_empty() {
            return self.receive_one(n);
        }
        let alts = std::mem::take(&mut self.alts);
        let mut primary = self.clone();
        let mine = primary.receive_one(n);
        let mut kept: Vec<(Connection, Result<u64, UserError>)> = Vec::new();
        if fits(&mine) {
            kept.push((primary.clone(), mine));
        }
        for mut a in alts {
            let theirs = a.receive_one(n);
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
        self.alts = it.map(|(c, _)| c).collect();
        answer
    }

    /// CLOSE.
    pub fn close(&mut self, now: Duration) -> Result<(), UserError> {
        self.each_branch(|c| c.close_one(now))
    }

    /// CLOSE by an application that also lets go of the connection (close(2) on its last
    /// descriptor, where shutdown(2) is a plain CLOSE): nobody will read what arrives later.
    pub fn close_and_release(&mut self, now: Duration) -> Result<(), UserError> {
        self.each_branch(|c| c.close_and_release_one(now))
    }

    /// close(2) with `SO_LINGER {1, 0}` (see `close_linger_zero_one`).
    pub fn close_linger_zero(&mut self, now: Duration) -> Result<(), UserError> {
        self.each_branch(|c| c.close_linger_zero_one(now))
    }

    /// ABORT.
    pub fn abort(&mut self, now: Duration) -> Result<(), UserError> {
        self.each_branch(|c| c.abort_one(now))
    }

    /// Runs the timers that end a connection: TIME-WAIT, giving up on retransmission, the
    /// user timeout.
    pub fn poll(&mut self, now: Duration) {
        self.each_branch(|c| c.poll_one(now))
    }

    /// RFC 9293 3.6.1: MAY-2, a SYN reopening TIME-WAIT (see `reopen_from_time_wait_one`).
    pub fn reopen_from_time_wait(&mut self, now: Duration, seg: &Seg) -> bool {
        self.each_branch(|c| c.reopen_from_time_wait_one(now, seg))
    }

    /// The stack sent `seg` at `now`: check it against what is allowed, then apply it.
    pub fn emitted(&mut self, now: Duration, seg: &Seg) -> Result<(), Divergence> {
        self.observe_branches(|c| c.emitted_one(now, seg))
    }

    /// Everything owed by `now` has been sent; returns the first overdue expectation.
    pub fn settle(&mut self, now: Duration) -> Result<(), Divergence> {
        self.observe_branches(|c| c.settle_one(now))
    }

    /// What the stack owes on any open branch, for a harness deciding how long to wait.
    pub fn expected_any(&self) -> impl Iterator<Item = &Expected> {
        self.expected
            .iter()
            .chain(self.alts.iter().flat_map(|a| a.expected.iter()))
    }
}

const KEEPALIVE_RULE: &str = "RFC 9293 3.8.4: MAY-5, a keep-alive probe after the idle time";
const KEEPALIVE_RESET_RULE: &str =
    "RFC 9293 3.8.4: the connection is dropped after unanswered keep-alives (Linux: RST)";

fn is_keepalive(e: &Expected) -> bool {
    e.rule == KEEPALIVE_RULE || e.rule == KEEPALIVE_RESET_RULE
}

const RETRANSMISSION_RULE: &str =
    "RFC 9293 3.8.1: MUST-18, retransmission when the RFC 6298 timer expires";

fn is_retransmission_of(e: &Expected) -> bool {
    e.rule == RETRANSMISSION_RULE
}

fn show(seg: &Seg) -> String {
    let mut s = format!("<SEQ={}", seg.seq);
    if seg.flags.ack() {
        s += &format!("><ACK={}", seg.ack);
    }
    s += &format!("><CTL={}>", super::expect::ctl_names(seg.flags));
    if seg.len > 0 {
        s += &format!("<DATA {} bytes>", seg.len);
    }
    s
}
