//! One TCP connection as RFC 9293 §3.10 specifies it, seen from the stack under test.
//!
//! The model plays the stack's side: user calls and segments arriving from the peer are its
//! inputs, and every segment the stack sends is checked against what the model allows and
//! then applied, so free values (the ISN, the window) are bound from what the stack actually
//! chose. What the standard requires the stack to send is kept as a list of [`Obligation`]
//! segments with the time they are due; [`Connection::check_overdue`] reports any that is overdue.
//!
//! Sans-IO: time is an argument, nothing here reads a clock.

mod arrive;
mod branches;
mod deadlines;
mod ecn;
mod fast_open;
mod fast_open_active;
mod icmp;
mod options;
mod own;
mod reassembly;
mod rfc5961;
mod state_timer;
mod urgent;
mod user;

pub use state_timer::StateTimer;

use reassembly::Reassembly;

use std::time::Duration;

use crate::conn::expect::{Choice, Due, LenSpec, Obligation, ObligationKind, SegSpec};
use crate::conn::negotiate::Negotiation;
use crate::conn::rules;
use crate::conn::state::State;
use crate::profile::{KeepAlive, Profile};
use crate::rule::Rule;
use crate::seq::SeqNumber;
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
    /// An ICMP error ended the connection (RFC 9293 3.9.2.2).
    Unreachable,
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

/// One connection of the stack under test, as the model sees it. Its variables are grouped
/// by what they serve: the handshake, the record of what the stack owes, each direction of
/// the data, the negotiated options, the timers, Linux's socket state and the open branches.
#[derive(Clone, Debug)]
pub struct Connection {
    profile: Profile,
    state: State,
    tcb: Tcb,
    handshake: Handshake,
    record: Record,
    snd: Send,
    rcv: Receive,
    reasm: Reassembly,
    opts: Negotiated,
    ts: Timestamps,
    linux: LinuxSocket,
    fast_open: fast_open::PassiveFastOpen,
    /// An active open with Fast Open (RFC 7413 3): what its SYN carries.
    active_fo: Option<fast_open_active::ActiveFastOpen>,
    ecn: ecn::Ecn,
    timers: Timers,
    ka: KeepAliveTimer,
    branches: Branches,
    /// The application has closed its descriptor: nobody will read again (Linux orphans
    /// the socket; RFC 9293 3.6's half-duplex close, MAY-1).
    released: bool,
    /// Events processed, for the benchmark and the fuzz target's sanity checks.
    pub events: u64,
}

/// How the connection came to be.
#[derive(Clone, Copy, Debug, Default)]
struct Handshake {
    /// RFC 9293 3.5: MUST-11, whether SYN-RECEIVED came from a passive OPEN.
    passive: bool,
    /// The stack's SYN has been seen, so `tcb.iss` is bound.
    iss_bound: bool,
    /// A connection reopened from TIME-WAIT must choose an ISN above this (RFC 9293 3.6.1:
    /// MAY-2, condition 1).
    iss_floor: Option<SeqNumber>,
    /// The listener answered this connection's SYN with a SYN cookie.
    cookie: bool,
    /// The window the stack's SYN-ACK offered (never scaled, RFC 7323 2.2).
    synack_wnd: Option<u32>,
}

/// What the model has found so far: what the stack owes, the open choices it took, what
/// the application was told.
#[derive(Clone, Debug, Default)]
struct Record {
    obligations: Vec<Obligation>,
    choices: Vec<Choice>,
    reports: Vec<Report>,
    /// Retransmissions that were due when an input made them needless (an ACK of what they
    /// carry, an ABORT, a RST), with the input's time: the stack's timer may have fired just
    /// before the input reached it, and the harness reads the segment after the input. Each
    /// is allowed once until the next `check_overdue` (see `note_raced_retransmissions`).
    raced: Vec<(Obligation, Duration)>,
}

/// The sending side beyond the TCB.
#[derive(Clone, Debug)]
struct Send {
    /// Bytes SEND has queued that the stack has not sent yet.
    unsent: u32,
    /// CLOSE was called: a FIN goes after the queued data.
    fin_queued: bool,
    /// The sequence number of the stack's FIN, once sent.
    fin_seq: Option<SeqNumber>,
    rtx: Option<Rtx>,
    rto: timers::RtoEstimator,
    /// The largest window the peer has offered (RFC 5961 5.2's MAX.SND.WND).
    max_wnd: u32,
    /// Bytes (and SYN, FIN) the peer has acknowledged: Linux's cap on MAX.SND.WND.
    bytes_acked: u64,
    /// Duplicate ACKs (RFC 5681 2's definition) since SND.UNA last advanced: the third lets
    /// the stack retransmit SND.UNA's segment at once (RFC 5681 3.2, fast retransmit).
    dup_acks: u32,
    /// The effective send MSS (RFC 9293 3.7.1: MUST-16).
    mss: u32,
    /// The send MSS without an MSS option: 536 on IPv4, 1220 on IPv6 (MUST-15).
    default_mss: u32,
    /// SND.UP: the octet after the last urgent data sent (see `urgent.rs`).
    up: Option<SeqNumber>,
}

/// The receiving side beyond the TCB and the out-of-order queue.
#[derive(Clone, Copy, Debug, Default)]
struct Receive {
    /// In-order bytes received and not yet read by the application.
    readable: u64,
    /// The peer's FIN is in and the application has not read the end of the stream: Linux
    /// keeps it in the receive queue, which tcp_sequence() looks at.
    fin_unread: bool,
    /// The FIN joined unread text (its own segment's, or tcp_try_coalesce() merged it into
    /// the receive queue's tail): Linux's tcp_recvmsg() takes it with the last byte
    /// (found_fin_ok), however much the read asked for.
    fin_in_tail: bool,
    /// The out-of-band byte (the last urgent octet) not yet read past: how many in-order
    /// bytes of the stream lie before it, counted from the application's read position
    /// (see `urgent.rs`).
    urgent_ahead: Option<u64>,
    /// SO_OOBINLINE: the out-of-band byte stays in the stream.
    oob_inline: bool,
    /// This branch keeps the right edge it advertised while RCV.NXT moves on
    /// (`arrive/kept_edge.rs`).
    kept_edge: bool,
}

/// What the two SYNs agreed on, and the window scale each side uses for its own window
/// field once negotiated.
#[derive(Clone, Copy, Debug, Default)]
struct Negotiated {
    negotiation: Negotiation,
    snd_shift: u8,
    rcv_shift: u8,
}

/// RFC 7323 timestamps as both sides sent them.
#[derive(Clone, Copy, Debug, Default)]
struct Timestamps {
    /// The stack's last TSval, once timestamps are on: its clock must not go back.
    clock: Option<u32>,
    /// The peer's latest TSvals, the only values the stack may echo.
    peer_vals: [Option<u32>; 8],
    /// RFC 7323 4.3's TS.Recent: the TSval to echo, and PAWS's reference.
    recent: Option<u32>,
    /// The TSvals of the first and the latest SYN-ACK the stack sent (Linux's request socket
    /// keeps them as snt_tsval_first and snt_tsval_last).
    synack: Option<(u32, u32)>,
}

/// Where a Linux socket stands beyond the RFC's variables.
#[derive(Clone, Copy, Debug, Default)]
struct LinuxSocket {
    /// The request socket has handed the connection to a full child socket, which judges
    /// segments as tcp_rcv_state_process() does.
    child: bool,
    /// SYN-RECEIVED was reached by a simultaneous open (tcp_rcv_synsent_state_process()).
    simultaneous: bool,
    /// CLOSE came in a simultaneous open's SYN-RECEIVED, before the SYN was acknowledged
    /// (the socket is in FIN-WAIT-1 with its FIN held).
    closed_in_synrecv: bool,
    /// The FIN owed by that late handshake left before the segment's text was looked at:
    /// it carries no SACK block for what the segment brought.
    fin_before_text: bool,
    /// The timewait socket has taken an input since TIME-WAIT began, so what the stack
    /// sends now is the timewait socket's (tcp_v4_timewait_ack()), not the full socket's
    /// ACK of the FIN that led here.
    tw_socket: bool,
    /// Header prediction is on (tp->pred_flags set): the fast path of
    /// tcp_rcv_established() may take an in-order segment before tcp_ack() judges it.
    header_prediction: bool,
}

/// The deadlines that end a connection or a state, and the challenge-ACK rate limit.
#[derive(Clone, Copy, Debug, Default)]
struct Timers {
    time_wait: Option<Duration>,
    /// When retransmission gives up (RFC 9293 3.8.3 R2), once the last one has gone out.
    give_up: Option<Duration>,
    /// RFC 9293 3.10.8 / RFC 5482: the user timeout, when set (Linux TCP_USER_TIMEOUT).
    user_timeout: Option<Duration>,
    /// When an orphaned FIN-WAIT-2 gives up waiting for the peer's FIN.
    fin_wait_2: Option<Duration>,
    /// When the last challenge (or rate-limited out-of-window) ACK was owed.
    last_challenge: Option<Duration>,
    /// The last retransmission interval's timer window, with the precision it was computed
    /// for: the RTO seldom changes from one send to the next (see `retransmission_due`).
    rtx_window: Option<(timers::TimerPrecision, Duration, timers::TimeWindow)>,
}

/// Keep-alives (RFC 9293 3.8.4).
#[derive(Clone, Copy, Debug)]
struct KeepAliveTimer {
    /// Keep-alives are on (MAY-5; MUST-25, off unless asked for).
    on: bool,
    /// When they were last turned on: the first probe waits the idle time from then too.
    on_since: Duration,
    /// The socket's keep-alive numbers (the profile's until set).
    times: KeepAlive,
    /// Probes sent since the peer was last heard from.
    probes_out: u32,
    /// When the peer was last heard from (an acceptable ACK).
    last_rcv: Duration,
    last_probe: Option<Duration>,
}

/// The other branches of choices the wire does not show yet (the model is a relation):
/// Linux's header prediction runs the fast path of tcp_rcv_established() only when the
/// socket's memory reserve (sk_forward_alloc) covers the segment, and the two paths differ
/// for a too-old ACK on text (the fast path takes the text) and for SND.WL1 (the fast path
/// sets it to SEG.SEQ). Every input goes to every branch; an output keeps the branches that
/// allow it. At most [`MAX_BRANCHES`] are followed.
#[derive(Clone, Debug, Default)]
struct Branches {
    alts: Vec<Connection>,
    /// A branch made while processing an input, installed once the input is done.
    new_alt: Option<Box<Connection>>,
    /// SND.WL1 of the fast path, when it differs from the slow path's after this input.
    fast_path_wl1: Option<SeqNumber>,
    /// TS.Recent of the fast path, when it differs from the slow path's after this input.
    fast_path_ts: Option<u32>,
}

/// RFC 9293 3.7.1: MUST-15, without an MSS option the send MSS is 536 (IPv4).
const DEFAULT_MSS: u32 = 536;
/// RFC 9293 3.7.1: MUST-15, "or 1220 (1280 - 60) for IPv6".
const DEFAULT_MSS_IPV6: u32 = 1220;

/// How many other branches the model follows at most (see `Branches`).
const MAX_BRANCHES: usize = 8;

/// Linux `TCP_TIMEOUT_MIN`: two jiffies (include/net/tcp.h).
const LINUX_TIMEOUT_MIN: Duration = Duration::from_millis(8);

impl Connection {
    pub fn new(profile: Profile) -> Connection {
        let rto = timers::RtoEstimator::new(&profile);
        let ka = KeepAliveTimer {
            on: false,
            on_since: Duration::ZERO,
            times: profile.keepalive,
            probes_out: 0,
            last_rcv: Duration::ZERO,
            last_probe: None,
        };
        Connection {
            profile,
            state: State::Closed,
            tcb: Tcb::default(),
            handshake: Handshake::default(),
            record: Record::default(),
            snd: Send {
                unsent: 0,
                fin_queued: false,
                fin_seq: None,
                rtx: None,
                rto,
                max_wnd: 0,
                bytes_acked: 0,
                dup_acks: 0,
                mss: DEFAULT_MSS,
                default_mss: DEFAULT_MSS,
                up: None,
            },
            rcv: Receive::default(),
            reasm: Reassembly::default(),
            opts: Negotiated::default(),
            ts: Timestamps::default(),
            linux: LinuxSocket::default(),
            fast_open: Default::default(),
            active_fo: None,
            ecn: Default::default(),
            timers: Timers::default(),
            ka,
            branches: Branches::default(),
            released: false,
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
    /// The shift applied to the peer's window field (RFC 7323 2.3), so that a segment's
    /// window can be read as this connection reads it.
    pub fn snd_wnd_shift(&self) -> u8 {
        self.opts.snd_shift
    }
    /// The TSvals of the first and the latest SYN-ACK the stack sent, once one carried TSopt.
    pub fn synack_tsvals(&self) -> Option<(u32, u32)> {
        self.ts.synack
    }
    /// The window the stack's SYN-ACK offered: the window a Linux request socket judges by
    /// whatever its later ACKs advertise (see `request_ack_window_rounded_down`).
    pub fn synack_window(&self) -> Option<u32> {
        self.handshake.synack_wnd
    }

    /// What the stack owes, oldest first.
    pub fn obligations(&self) -> &[Obligation] {
        &self.record.obligations
    }

    pub fn choices(&self) -> &[Choice] {
        &self.record.choices
    }

    pub fn reports(&self) -> &[Report] {
        &self.record.reports
    }

    /// Bytes the application can read.
    pub fn readable(&self) -> u64 {
        self.rcv.readable
    }

    /// The peer's FIN is in and not yet read: with unread bytes, what makes Linux's receive
    /// queue non-empty, which its window check looks at (tcp_sequence()).
    pub fn fin_unread(&self) -> bool {
        self.rcv.fin_unread
    }

    /// The right edge of the highest SACK block the stack reports, when SACK is on and
    /// out-of-order data (or a FIN) is held (RFC 2018 4): where Linux also takes a RST as
    /// exact (tcp_validate_incoming()).
    pub fn highest_sack_edge(&self) -> Option<SeqNumber> {
        self.opts
            .negotiation
            .sack()
            .then(|| self.reasm.highest_edge(self.tcb.rcv_nxt))
            .flatten()
    }

    /// Out-of-order ranges held, as (first sequence number, length).
    pub fn out_of_order(&self) -> &[(SeqNumber, u32)] {
        self.reasm.held()
    }

    fn immediately(&self, now: Duration) -> Due {
        Due {
            earliest: now,
            latest: now,
        }
    }

    fn oblige(&mut self, spec: SegSpec, due: Due, rule: &'static Rule) {
        self.record.obligations.push(Obligation {
            spec,
            due,
            kind: ObligationKind::Reply,
            rule,
        });
    }

    /// The SEQ of an ACK or RST the stack sends on its own: SND.NXT (RFC 9293 3.10.7.4).
    /// Linux tcp_acceptable_seq() uses the right edge of the peer's window, SND.UNA +
    /// SND.WND, when SND.NXT lies beyond it (a window that shrank, or closed under a FIN),
    /// so that the peer finds the segment acceptable; with window scaling an overshoot
    /// smaller than one unit of the window scale still uses SND.NXT.
    fn ack_seq(&self) -> SeqNumber {
        let nxt = self.tcb.snd_nxt;
        // A request socket answers with SEQ = its ISS + 1 (tcp_v4_reqsk_send_ack()).
        if !self.profile.behaviour.ack_seq_at_window_edge
            || !self.handshake.iss_bound
            || self.in_request_socket()
        {
            return nxt;
        }
        let wnd_end = self.tcb.snd_una + self.tcb.snd_wnd;
        let scaled = self.opts.negotiation.window_scale().is_some();
        if !wnd_end.before(nxt)
            || (scaled && nxt.forward_distance(wnd_end) < 1 << self.opts.rcv_shift)
        {
            nxt
        } else {
            wnd_end
        }
    }

    /// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`, the reply of many rules.
    fn ack_now(&mut self, now: Duration, rule: &'static Rule) {
        let spec = SegSpec::ctl(TcpFlags::ACK, self.ack_seq(), Some(self.tcb.rcv_nxt));
        let due = self.immediately(now);
        // A newer ACK supersedes an older one still owed: the stack need not send both.
        self.drop_owed_pure_acks();
        self.oblige(spec, due, rule);
    }

    /// A newer ACK (or any segment carrying the ACK) supersedes a pure ACK still owed: the
    /// stack need not send both (ACK aggregation, RFC 9293 §3.10.7.4).
    fn drop_owed_pure_acks(&mut self) {
        self.record
            .obligations
            .retain(|e| !(e.spec.flags == TcpFlags::ACK && e.spec.len == LenSpec::Exact(0)));
    }

    fn enter(&mut self, state: State) {
        self.state = state;
        self.linux.tw_socket &= state == State::TimeWait;
        if state != State::FinWait2 {
            self.timers.fin_wait_2 = None;
        }
        if state == State::Closed {
            self.record.obligations.retain(|e| e.spec.flags.rst());
            self.snd.rtx = None;
            self.timers.time_wait = None;
            self.timers.give_up = None;
            self.reasm.purge();
        }
    }

    /// A half-open connection from a passive OPEN goes back to listening, forgetting all of
    /// the attempt (RFC 9293 3.10.7.4).
    fn back_to_listen(&mut self) {
        self.forget();
        self.record.obligations.clear();
        self.handshake.passive = true;
        self.state = State::Listen;
    }

    /// Starts a new incarnation: nothing of the old connection's variables survives, only
    /// what was owed on the wire (a RST from an ABORT) and the record of what happened.
    fn forget(&mut self) {
        let profile = self.profile.clone();
        let old = std::mem::replace(self, Connection::new(profile));
        self.events = old.events;
        self.record = old.record;
        self.timers.last_challenge = old.timers.last_challenge;
        self.snd.default_mss = old.snd.default_mss;
        self.snd.mss = old.snd.default_mss;
        self.ka.on = old.ka.on;
        self.ka.times = old.ka.times;
    }

    /// The connection runs over IPv6, which changes the default send MSS (MUST-15).
    pub fn set_ipv6(&mut self, v6: bool) {
        self.snd.default_mss = if v6 { DEFAULT_MSS_IPV6 } else { DEFAULT_MSS };
        if !self.state.is_synchronized() && self.state != State::SynReceived {
            self.snd.mss = self.snd.default_mss;
        }
    }

    /// The listener answers this connection's SYN with a SYN cookie (RFC 4987 3.6): the
    /// SYN-ACK is the only thing it keeps of the attempt, so it is never retransmitted.
    pub fn answered_by_cookie(&mut self) {
        self.handshake.cookie = true;
        self.record.obligations.retain(|e| !is_retransmission_of(e));
        if self.snd.rtx.is_some_and(|r| r.flags.syn()) {
            self.snd.rtx = None;
        }
    }
}

fn is_keepalive(e: &Obligation) -> bool {
    matches!(
        e.kind,
        ObligationKind::KeepAliveProbe | ObligationKind::KeepAliveReset
    )
}

fn is_retransmission_of(e: &Obligation) -> bool {
    e.kind == ObligationKind::Retransmission
}
