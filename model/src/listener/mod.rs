//! A listening socket's two queues: requests waiting for the handshake's last ACK (the SYN
//! queue, connections in SYN-RECEIVED) and established children waiting for accept() (the
//! accept queue).
//!
//! RFC 9293 gives a passive OPEN one TCB and says nothing of how many connections may wait
//! on it: §3.10.7.2 answers every SYN with a SYN-ACK. How many a listener holds, what it does
//! with a SYN it cannot hold and how long it keeps retransmitting SYN-ACKs are the stack's
//! choices, so checking a stack needs the stack's own rules. The `linux` profile carries
//! Linux's (kernel 6.18, design §4), each naming the kernel function it follows. The
//! `rfc9293` profile gets the plainest reading instead: the user's backlog bounds each queue
//! and nothing else happens. Where the two differ, the difference is a Linux choice, a known
//! deviation for the requirement matrix:
//!
//! - the accept queue holds `backlog + 1` children (`sk_acceptq_is_full()` tests `>`), and
//!   since 6.13 so does the SYN queue (`inet_csk_reqsk_queue_is_full()`, also `>`);
//! - SYN cookies (`tcp_syncookies` 1 and 2) answer SYNs while keeping no request;
//! - with cookies off, the last quarter of `tcp_max_syn_backlog` is kept for proven peers;
//! - a SYN that reopens a TIME-WAIT connection bypasses the SYN-queue limits;
//! - a repeated SYN is answered with the SYN-ACK again, where RFC 9293 §3.10.7.4 finds it
//!   unacceptable and answers with an ACK;
//! - SYN-ACK retries are cut when old requests fill more than half the SYN queue;
//! - a cookie ACK into a full accept queue is dropped even with `tcp_abort_on_overflow`.
//!
//! The listener knows connections only by a key of the caller's choosing (`K`, typically the
//! remote address and port), so it decides queueing, not segments: whether a segment is
//! acceptable for a request (its sequence and acknowledgment numbers) is the connection
//! state machine's business, and the listener hears only of SYNs and of final ACKs that a
//! request (or a cookie) accepts.
//!
//! Timers fire only in [`Listener::on_timer`]. Call it with `now` before feeding an event at
//! `now`, so requests age, and are pruned, in the order they would be on the stack.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use crate::conn::State;
use crate::profile::{Profile, ProfileKind};

#[cfg(test)]
mod tests;

/// `TCP_RTO_MAX` (include/net/tcp.h), the cap `reqsk_timer_handler()` puts on a request's
/// backoff through `reqsk_timeout()`. It is a constant in 6.18; from 6.19
/// `tcp_reqsk_timeout()` caps at the listener's `tcp_rto_max_ms` (`Profile::rto_max`) instead,
/// which differs only when that sysctl is changed and `tcp_synack_retries` exceeds 6.
const TCP_RTO_MAX: Duration = Duration::from_secs(120);

/// `TCP_SYNCOOKIE_VALID` (include/net/tcp.h), `MAX_SYNCOOKIE_AGE` × `TCP_SYNCOOKIE_PERIOD`:
/// a cookie ACK is only looked at this long after the listener last sent a cookie, so that
/// a listener not under a SYN flood cannot be opened by guessing cookies.
const SYNCOOKIE_VALID: Duration = Duration::from_secs(120);

/// `HZ` as `tcp_synq_overflow()` and `tcp_synq_no_recent_overflow()` use it: the stamp of the
/// last cookie moves at most once a second, and the check allows a second before it.
const OVERFLOW_STAMP_SLACK: Duration = Duration::from_secs(1);

/// `reqsk_timer_handler()`: pruning starts only when requests fill more than half of
/// `max(8, backlog)`, so small listeners are never pruned.
const PRUNE_FLOOR: u64 = 8;

/// `reqsk_timer_handler()` never cuts the SYN-ACK retries below two.
const PRUNE_MIN_RETRIES: u32 = 2;

/// What the stack knows of a SYN's sender beyond its key. Two of `tcp_conn_request()`'s
/// rules depend on it, and the kernel keeps it per remote address (TCP metrics) or per
/// four-tuple (TIME-WAIT), so only the caller can say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SynSender {
    /// Nothing known: the common case, and the case of a SYN flood.
    #[default]
    Unknown,
    /// `tcp_peer_is_proven()`: the kernel's TCP metrics hold an RTT for the peer's address
    /// because an earlier connection to it completed, so the last-quarter rule lets it in.
    Proven,
    /// The SYN reopens a TIME-WAIT connection (RFC 9293 MAY-2; `tcp_timewait_state_process()`
    /// returned `TCP_TW_SYN`). `tcp_conn_request()` then has a non-zero `tcp_tw_isn` and skips
    /// the SYN-queue, cookie and last-quarter checks: "TW buckets are converted to open
    /// requests without limitations, they conserve resources and peer is evidently real one".
    TimeWait,
}

/// What a listener does with a SYN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SynOutcome {
    /// A request is kept in SYN-RECEIVED and a SYN-ACK sent, its retransmission scheduled.
    /// Linux: `tcp_conn_request()` → `inet_csk_reqsk_queue_hash_add()`, `send_synack()`;
    /// RFC 9293 §3.10.7.2, third check.
    SynAck,
    /// A SYN-ACK whose ISN is a cookie, with nothing kept: the connection exists only if the
    /// peer's ACK brings the cookie back. Linux: `tcp_conn_request()` with `want_cookie` set
    /// by `tcp_syn_flood_action()`, `cookie_init_sequence()`.
    Cookie(CookieReason),
    /// No answer at all: the peer will retransmit its SYN.
    Dropped(SynDrop),
    /// The key already has a request and the SYN repeats it: Linux sends the SYN-ACK again and
    /// restarts the request's timer from now (`tcp_check_req()`, "pure retransmitted SYN":
    /// `inet_rtx_syn_ack()`, `mod_timer_pending()`). The kernel's comment calls RFC 793's
    /// figures, which show this, wrong and the formal description, which says ACK, silent.
    SynAckResent,
    /// The key already has a request and the SYN repeats it: RFC 9293 §3.10.7.4, first check,
    /// finds a SYN at IRS (below RCV.NXT) unacceptable and answers
    /// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
    Ack,
    /// The key names an established child waiting for accept(): the segment is the child's to
    /// answer (RFC 9293 §3.10.7.4 with RFC 5961 §4.2: a challenge ACK), not the listener's.
    ToChild,
}

/// Why a SYN got a cookie rather than a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CookieReason {
    /// `tcp_syncookies` = 2: every SYN gets one, whatever the queues hold.
    Always,
    /// `tcp_syncookies` = 1 and the SYN queue is full (`inet_csk_reqsk_queue_is_full()`).
    SynQueueFull,
}

/// Why a SYN went unanswered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SynDrop {
    /// The SYN queue is full and cookies are off: `tcp_syn_flood_action()` returns false
    /// (`TCPReqQFullDrop`). In the rfc9293 profile: `backlog` requests are waiting.
    SynQueueFull,
    /// The accept queue is full. `tcp_conn_request()` tests `sk_acceptq_is_full()` before it
    /// allocates anything, so even a cookie is refused (`ListenOverflows`). In the rfc9293
    /// profile: `backlog` children are waiting.
    AcceptQueueFull,
    /// Cookies are off and less than a quarter of `tcp_max_syn_backlog` is left, which
    /// `tcp_conn_request()` keeps for `tcp_peer_is_proven()` peers ("Kill the following
    /// clause, if you dislike this way").
    LastQuarter,
    /// A repeated SYN within `tcp_invalid_ratelimit` of the request's last answer to an
    /// out-of-window segment (`tcp_check_req()` → `tcp_oow_rate_limited()`), so that two
    /// confused peers cannot ping-pong SYN-ACKs at line rate.
    RateLimited,
}

/// What a listener does with an acceptable final ACK of the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AckOutcome {
    /// The handshake completes and the child joins the back of the accept queue, ESTABLISHED.
    Established(Via),
    /// The ACK goes unanswered.
    Dropped(AckDrop),
    /// The ACK is answered with <SEQ=SEG.ACK><CTL=RST>.
    Reset(AckReset),
    /// The key names an established child waiting for accept(): the segment is the child's.
    ToChild,
}

/// What the ACK completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Via {
    /// A request in the SYN queue (Linux `tcp_check_req()` → `tcp_v4_syn_recv_sock()` →
    /// `inet_csk_complete_hashdance()`; RFC 9293 §3.10.7.4, fifth check, SYN-RECEIVED).
    Request,
    /// A cookie: the request is rebuilt from the ACK (`cookie_v4_check()` →
    /// `tcp_get_cookie_sock()` → `inet_csk_reqsk_queue_add()`).
    Cookie,
}

/// Why a final ACK went unanswered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AckDrop {
    /// The accept queue is full and `tcp_abort_on_overflow` is 0: `tcp_check_req()`'s
    /// `listen_overflow` sets `inet_rsk(req)->acked` and keeps the request, whose SYN-ACK
    /// retransmissions will draw the ACK again, so the connection completes once accept()
    /// makes room — or the request expires.
    AcceptQueueFull,
    /// A valid cookie, but the accept queue is full: `tcp_v4_syn_recv_sock()` makes no child,
    /// `tcp_get_cookie_sock()` returns NULL and `cookie_v4_check()` drops the segment. There
    /// is no request to keep and no RST, whatever `tcp_abort_on_overflow` says.
    CookieAcceptQueueFull,
}

/// Why a final ACK drew a reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AckReset {
    /// The accept queue is full and `tcp_abort_on_overflow` is 1: `tcp_check_req()` goes from
    /// `listen_overflow` to `embryonic_reset`, which also drops the request.
    AcceptQueueFull,
    /// No request and no cookie to accept: the ACK meets LISTEN. RFC 9293 §3.10.7.2, second
    /// check ("Any acknowledgment is bad if it arrives on a connection still in the LISTEN
    /// state"), and §3.5.2 rule 2; no Appendix B label covers it. Linux:
    /// `tcp_rcv_state_process()` rejects an ACK in LISTEN and `tcp_v4_do_rcv()` resets.
    NoRequest,
    /// The ACK carries a valid cookie, but the listener has sent none within
    /// `TCP_SYNCOOKIE_VALID` (2 min): `cookie_tcp_check()` → `tcp_synq_no_recent_overflow()`
    /// ignores it, and the ACK meets LISTEN as in [`AckReset::NoRequest`].
    CookieNotRecent,
}

/// What the request timers did.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TimerEvent<K> {
    /// The request's SYN-ACK went out again (`reqsk_timer_handler()` → `inet_rtx_syn_ack()`).
    /// `retransmission` counts timer firings (`req->num_timeout`), 1 for the first; answers
    /// to repeated SYNs do not count here.
    SynAckRetransmitted {
        key: K,
        at: Duration,
        retransmission: u32,
    },
    /// The request was given up (`syn_ack_recalc()` sets `expire`;
    /// `inet_csk_reqsk_queue_drop_and_put()`), so a late ACK meets LISTEN and draws a RST.
    /// `pruned` when that came before `tcp_synack_retries` retransmissions because old
    /// requests crowded the SYN queue.
    Expired { key: K, at: Duration, pruned: bool },
}

impl<K> TimerEvent<K> {
    pub fn key(&self) -> &K {
        match self {
            TimerEvent::SynAckRetransmitted { key, .. } | TimerEvent::Expired { key, .. } => key,
        }
    }

    pub fn at(&self) -> Duration {
        match *self {
            TimerEvent::SynAckRetransmitted { at, .. } | TimerEvent::Expired { at, .. } => at,
        }
    }
}

/// A request as inet_diag shows a SYN_RECV socket, so checks can compare field by field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestInfo {
    pub arrived: Duration,
    /// `req->num_timeout`: timer firings so far. It alone drives backoff and expiry.
    pub num_timeout: u32,
    /// `req->num_retrans` (inet_diag `idiag_retrans`): SYN-ACKs sent again, by the timer or
    /// for a repeated SYN.
    pub num_retrans: u32,
    /// When the timer fires next; inet_diag's `idiag_expires` is this minus now.
    pub expires: Duration,
    /// `inet_rsk(req)->acked`: a final ACK met a full accept queue. It does not change the
    /// schedule here: Linux reads it only to keep a request whose SYN-ACK could not be sent
    /// and for TCP_DEFER_ACCEPT, neither of which the model has.
    pub acked: bool,
}

/// When a request that is never answered sees its SYN-ACK again, and when it is given up,
/// counted from the first SYN-ACK. It is what one request sees on an otherwise quiet
/// listener; crowded listeners prune sooner (see [`TimerEvent::Expired`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynAckSchedule {
    pub retransmissions: Vec<Duration>,
    pub expires: Duration,
}

/// The SYN-ACK schedule a profile gives an unanswered request: the timer starts at
/// `rto_initial` (Linux `TCP_TIMEOUT_INIT` through `tcp_timeout_init()`), doubles at each
/// firing up to the cap (`reqsk_timeout()`), and the firing after `synack_retries`
/// retransmissions drops the request (`syn_ack_recalc()`). Linux defaults: 1, 3, 7, 15, 31 s,
/// given up at 63 s.
pub fn synack_schedule(profile: &Profile) -> SynAckSchedule {
    let mut t = Duration::ZERO;
    let mut retransmissions = Vec::new();
    for n in 0..profile.synack_retries {
        t += request_timeout(profile, n);
        retransmissions.push(t);
    }
    t += request_timeout(profile, profile.synack_retries);
    SynAckSchedule {
        retransmissions,
        expires: t,
    }
}

/// `reqsk_timeout()`: `req->timeout << num_timeout`, capped. RFC 6298 §5.5 doubles the RTO
/// the same way; §2.5 lets the RFC profile cap it at `rto_max`.
fn request_timeout(profile: &Profile, num_timeout: u32) -> Duration {
    let cap = match profile.kind {
        ProfileKind::Linux => TCP_RTO_MAX,
        ProfileKind::Rfc9293 => profile.rto_max,
    };
    let mut t = profile.rto_initial;
    for _ in 0..num_timeout {
        if t >= cap {
            break;
        }
        t = t.saturating_mul(2);
    }
    t.min(cap)
}

/// The listen() backlog as the stack stores it (`sk_max_ack_backlog`, inet_diag's send-q).
fn effective_backlog(backlog: i32, profile: &Profile) -> u32 {
    match profile.kind {
        // `__sys_listen_socket()`: `if ((unsigned int)backlog > somaxconn) backlog =
        // somaxconn;` — the unsigned compare turns a negative backlog into somaxconn.
        ProfileKind::Linux => (backlog as u32).min(profile.somaxconn),
        // POSIX listen(): a negative backlog acts as 0, 0 may mean an implementation-defined
        // minimum (here 1, so the listener can be used at all), and an implementation may
        // silently cap it (SOMAXCONN).
        ProfileKind::Rfc9293 => (backlog.max(0) as u32).min(profile.somaxconn).max(1),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Request {
    arrived: Duration,
    /// Breaks ties between timers due at the same instant: first come, first fired.
    order: u64,
    num_timeout: u32,
    num_retrans: u32,
    expires: Duration,
    acked: bool,
    /// `tcp_rsk(req)->last_oow_ack_time`; `None` is the kernel's 0, "never".
    last_oow_ack: Option<Duration>,
}

/// A listening socket's queues under one profile. See the module documentation.
#[derive(Clone, Debug)]
pub struct Listener<K> {
    profile: Profile,
    backlog: u32,
    requests: BTreeMap<K, Request>,
    accept_queue: VecDeque<K>,
    /// The keys of `accept_queue`, so a key is found without a scan.
    children: BTreeSet<K>,
    arrivals: u64,
    /// `tcp_sk(listener)->rx_opt.ts_recent_stamp` as `tcp_synq_overflow()` uses it: when a
    /// cookie was last sent, to the second. `None` is "never".
    last_overflow: Option<Duration>,
}

impl<K: Ord + Clone> Listener<K> {
    /// listen(2) with `backlog` under `profile`; the profile is copied, as the kernel reads
    /// sysctls as segments arrive but a check fixes them before it starts.
    pub fn new(backlog: i32, profile: &Profile) -> Listener<K> {
        Listener {
            profile: profile.clone(),
            backlog: effective_backlog(backlog, profile),
            requests: BTreeMap::new(),
            accept_queue: VecDeque::new(),
            children: BTreeSet::new(),
            arrivals: 0,
            last_overflow: None,
        }
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// listen(2) again on a listening socket: only the backlog changes (Linux
    /// inet_listen() sets `sk_max_ack_backlog`), the queues stay as they are.
    pub fn set_backlog(&mut self, backlog: i32) {
        self.backlog = effective_backlog(backlog, &self.profile);
    }

    /// The backlog as stored after listen()'s cap, which is what inet_diag reports as the
    /// listener's send-q (`sk_max_ack_backlog`); Linux holds one child more.
    pub fn accept_queue_limit(&self) -> u32 {
        self.backlog
    }

    /// How many children the accept queue holds before a SYN or final ACK meets it full:
    /// Linux `sk_acceptq_is_full()` is `sk_ack_backlog > sk_max_ack_backlog`, so one more
    /// than the backlog (kept on purpose, commit 64a146513f8f "Revert incorrect accept queue
    /// backlog changes"); the rfc9293 profile holds exactly the backlog.
    pub fn accept_queue_capacity(&self) -> usize {
        match self.profile.kind {
            ProfileKind::Linux => self.backlog as usize + 1,
            ProfileKind::Rfc9293 => self.backlog as usize,
        }
    }

    /// How many requests the SYN queue holds before it counts as full. Linux 6.13 and later
    /// (commit 3479c7549fb1, backported to stable kernels, 6.12 among them): `qlen >
    /// sk_max_ack_backlog`, so one more than the backlog, to match the accept queue and let
    /// listen(fd, 0) work without cookies; older kernels test `>=`. SYNs that reopen TIME-WAIT connections are not counted against it
    /// (see [`SynSender::TimeWait`]), so they can take the queue past this.
    pub fn syn_queue_capacity(&self) -> usize {
        self.accept_queue_capacity()
    }

    /// Children waiting for accept() (`sk_ack_backlog`, inet_diag's recv-q for a listener).
    pub fn accept_queue_len(&self) -> usize {
        self.accept_queue.len()
    }

    /// Requests in SYN-RECEIVED (`reqsk_queue_len()`, `icsk_accept_queue.qlen`).
    pub fn syn_queue_len(&self) -> usize {
        self.requests.len()
    }

    /// Where the key's connection is, if the listener holds it: a request is SYN-RECEIVED, a
    /// child waiting for accept() is ESTABLISHED.
    pub fn state_of(&self, key: &K) -> Option<State> {
        if self.requests.contains_key(key) {
            Some(State::SynReceived)
        } else if self.children.contains(key) {
            Some(State::Established)
        } else {
            None
        }
    }

    pub fn request(&self, key: &K) -> Option<RequestInfo> {
        self.requests.get(key).map(Request::info)
    }

    /// The requests in key order, as inet_diag would list the SYN_RECV sockets.
    pub fn requests(&self) -> impl Iterator<Item = (&K, RequestInfo)> {
        self.requests.iter().map(|(k, r)| (k, r.info()))
    }

    /// The children, oldest first: the order accept() will return them.
    pub fn accept_queue(&self) -> impl Iterator<Item = &K> {
        self.accept_queue.iter()
    }

    /// accept(2): the oldest child (`inet_csk_accept()` → `reqsk_queue_remove()`), making
    /// room that the next final ACK can use.
    pub fn accept(&mut self) -> Option<K> {
        let key = self.accept_queue.pop_front()?;
        self.children.remove(&key);
        Some(key)
    }

    /// A SYN from a sender the stack knows nothing about. See [`Listener::on_syn_from`].
    pub fn on_syn(&mut self, now: Duration, key: K) -> SynOutcome {
        self.on_syn_from(now, key, SynSender::Unknown)
    }

    /// A SYN for `key` at `now`. A key the listener already holds is the repeat of a SYN
    /// (the caller sends other SYNs for a request, with a new ISN, to the connection model:
    /// `tcp_check_req()` answers those with an ACK or, in window, an embryonic reset).
    pub fn on_syn_from(&mut self, now: Duration, key: K, sender: SynSender) -> SynOutcome {
        if self.children.contains(&key) {
            return SynOutcome::ToChild;
        }
        if self.requests.contains_key(&key) {
            return match self.profile.kind {
                ProfileKind::Linux => self.linux_repeated_syn(now, &key),
                ProfileKind::Rfc9293 => SynOutcome::Ack,
            };
        }
        match self.profile.kind {
            ProfileKind::Linux => self.linux_syn(now, key, sender),
            ProfileKind::Rfc9293 => self.rfc_syn(now, key),
        }
    }

    /// `tcp_conn_request()`, its checks in the kernel's order.
    fn linux_syn(&mut self, now: Duration, key: K, sender: SynSender) -> SynOutcome {
        let syncookies = self.profile.syncookies;
        let from_time_wait = sender == SynSender::TimeWait;
        let mut cookie = None;
        // `if (syncookies == 2 || inet_csk_reqsk_queue_is_full(sk))`, unless `tcp_tw_isn`.
        if !from_time_wait && (syncookies == 2 || self.syn_queue_full()) {
            // `tcp_syn_flood_action()`: a cookie whenever `tcp_syncookies` is non-zero.
            if syncookies == 0 {
                return SynOutcome::Dropped(SynDrop::SynQueueFull);
            }
            cookie = Some(if syncookies == 2 {
                CookieReason::Always
            } else {
                CookieReason::SynQueueFull
            });
        }
        // `if (sk_acceptq_is_full(sk))`: ListenOverflows, for cookies too.
        if self.accept_queue_full() {
            return SynOutcome::Dropped(SynDrop::AcceptQueueFull);
        }
        if let Some(reason) = cookie {
            self.note_cookie_sent(now);
            return SynOutcome::Cookie(reason);
        }
        // `if (!want_cookie && !isn)`, then `!syncookies && (max_syn_backlog -
        // inet_csk_reqsk_queue_len(sk) < (max_syn_backlog >> 2)) && !tcp_peer_is_proven()`.
        if !from_time_wait && syncookies == 0 && sender != SynSender::Proven {
            let max = i64::from(self.profile.max_syn_backlog);
            if max - (self.requests.len() as i64) < max >> 2 {
                return SynOutcome::Dropped(SynDrop::LastQuarter);
            }
        }
        self.add_request(now, key);
        SynOutcome::SynAck
    }

    /// RFC 9293 §3.10.7.2 takes every SYN; the bound is the profile's plain reading of the
    /// backlog, applied where Linux applies its own.
    fn rfc_syn(&mut self, now: Duration, key: K) -> SynOutcome {
        if self.syn_queue_full() {
            return SynOutcome::Dropped(SynDrop::SynQueueFull);
        }
        if self.accept_queue_full() {
            return SynOutcome::Dropped(SynDrop::AcceptQueueFull);
        }
        self.add_request(now, key);
        SynOutcome::SynAck
    }

    /// `tcp_check_req()`, "pure retransmitted SYN": unless `tcp_oow_rate_limited()`, resend
    /// the SYN-ACK (`num_retrans` only) and push the timer to now + `reqsk_timeout()`.
    fn linux_repeated_syn(&mut self, now: Duration, key: &K) -> SynOutcome {
        let interval = self.profile.challenge_ack_interval;
        let rto = {
            let req = &self.requests[key];
            request_timeout(&self.profile, req.num_timeout)
        };
        let req = self
            .requests
            .get_mut(key)
            .expect("caller checked the request");
        // `__tcp_oow_rate_limited()`: limited when `0 <= now - last < tcp_invalid_ratelimit`;
        // a zero stamp, as a new request has, never limits.
        if let Some(last) = req.last_oow_ack {
            if now >= last && now - last < interval {
                return SynOutcome::Dropped(SynDrop::RateLimited);
            }
        }
        req.last_oow_ack = Some(now);
        req.num_retrans += 1;
        req.expires = now + rto;
        SynOutcome::SynAckResent
    }

    /// The final ACK of a handshake for `key`, acceptable to its request if it has one
    /// (ACK = ISS + 1, in window: the connection model checks that, and an unacceptable ACK
    /// never reaches here). `cookie_valid` says whether SEG.ACK − 1 is a cookie the stack
    /// issued for this key within the cookie's lifetime; only Linux with `tcp_syncookies`
    /// on reads it, and only when there is no request.
    pub fn on_ack(&mut self, now: Duration, key: K, cookie_valid: bool) -> AckOutcome {
        if self.children.contains(&key) {
            return AckOutcome::ToChild;
        }
        if self.requests.contains_key(&key) {
            return self.complete_request(key);
        }
        let cookies_on = match self.profile.kind {
            ProfileKind::Rfc9293 => false,
            ProfileKind::Linux => self.profile.syncookies != 0,
        };
        // `cookie_v4_check()`: only with `tcp_syncookies` on, and `cookie_tcp_check()` only
        // after a recent overflow; otherwise the ACK reaches LISTEN.
        if cookies_on && cookie_valid {
            if !self.cookie_recent(now) {
                return AckOutcome::Reset(AckReset::CookieNotRecent);
            }
            if self.accept_queue_full() {
                return AckOutcome::Dropped(AckDrop::CookieAcceptQueueFull);
            }
            self.push_child(key);
            return AckOutcome::Established(Via::Cookie);
        }
        AckOutcome::Reset(AckReset::NoRequest)
    }

    /// `tcp_check_req()` → `syn_recv_sock()`: `tcp_v4_syn_recv_sock()` makes no child when
    /// `sk_acceptq_is_full()`, and `listen_overflow` then follows `tcp_abort_on_overflow`.
    fn complete_request(&mut self, key: K) -> AckOutcome {
        if self.accept_queue_full() {
            if self.profile.abort_on_overflow {
                // `embryonic_reset`: `send_reset()`, `inet_csk_reqsk_queue_drop()`.
                self.requests.remove(&key);
                return AckOutcome::Reset(AckReset::AcceptQueueFull);
            }
            if let Some(req) = self.requests.get_mut(&key) {
                req.acked = true;
            }
            return AckOutcome::Dropped(AckDrop::AcceptQueueFull);
        }
        // `inet_csk_complete_hashdance()`: out of the SYN queue, onto the accept queue.
        self.requests.remove(&key);
        self.push_child(key);
        AckOutcome::Established(Via::Request)
    }

    /// A RST for the request, or a SYN inside its window (`tcp_check_req()`'s
    /// `embryonic_reset` → `inet_csk_reqsk_queue_drop()`). Every request came from this
    /// listener's passive OPEN, so losing it leaves the listener listening, as required by
    /// RFC 9293 §3.5: MUST-11 (a SYN-RECEIVED connection remembers it came from LISTEN, and
    /// §3.10.7.4 "returns to LISTEN"). Whether the segment qualifies is the connection
    /// model's call. Returns whether there was a request.
    pub fn remove_request(&mut self, key: &K) -> bool {
        self.requests.remove(key).is_some()
    }

    /// When the earliest request timer fires, if any request is waiting.
    pub fn next_timer(&self) -> Option<Duration> {
        self.requests.values().map(|r| r.expires).min()
    }

    /// Fires every request timer due at or before `now`, each at its own time and in time
    /// order (arrival order within an instant), since a firing changes the queue the next
    /// one sees. A timer rearmed within `now` fires again in the same call.
    pub fn on_timer(&mut self, now: Duration) -> Vec<TimerEvent<K>> {
        let mut events = Vec::new();
        while let Some(key) = self.due(now) {
            events.push(self.fire(key));
        }
        events
    }

    fn due(&self, now: Duration) -> Option<K> {
        self.requests
            .iter()
            .filter(|(_, r)| r.expires <= now)
            .min_by_key(|(_, r)| (r.expires, r.order))
            .map(|(k, _)| k.clone())
    }

    /// `reqsk_timer_handler()` for one request, at its due time.
    fn fire(&mut self, key: K) -> TimerEvent<K> {
        let retries = self.profile.synack_retries;
        let max_retries = match self.profile.kind {
            ProfileKind::Linux => self.pruned_retries(retries),
            ProfileKind::Rfc9293 => retries,
        };
        let req = &self.requests[&key];
        let at = req.expires;
        // `syn_ack_recalc()` without TCP_DEFER_ACCEPT: expire once `num_timeout` reaches the
        // (possibly cut) retries, resend otherwise.
        if req.num_timeout >= max_retries {
            let pruned = req.num_timeout < retries;
            self.requests.remove(&key);
            return TimerEvent::Expired { key, at, pruned };
        }
        let num_timeout = req.num_timeout + 1;
        let rto = request_timeout(&self.profile, num_timeout);
        let req = self.requests.get_mut(&key).expect("looked up above");
        req.num_retrans += 1;
        req.num_timeout = num_timeout;
        req.expires = at + rto;
        TimerEvent::SynAckRetransmitted {
            key,
            at,
            retransmission: num_timeout,
        }
    }

    /// `reqsk_timer_handler()`'s defence of the SYN queue: "we reserve half of room for young
    /// embrions; and abort old ones without pity, if old ones are about to clog our table".
    /// Once requests fill more than half of `max(8, backlog)`, each halving of the share of
    /// young requests (never timed out) costs one retry, down to two: with `young` the young
    /// requests, the retries drop by one for each k = 1, 2, … with `qlen >= young << k`.
    fn pruned_retries(&self, retries: u32) -> u32 {
        let qlen = self.requests.len() as u64;
        let mut max_retries = retries;
        if qlen << 1 > PRUNE_FLOOR.max(u64::from(self.backlog)) {
            let young = self
                .requests
                .values()
                .filter(|r| r.num_timeout == 0)
                .count() as u64;
            let mut young = young << 1;
            while max_retries > PRUNE_MIN_RETRIES {
                if qlen < young {
                    break;
                }
                max_retries -= 1;
                young = young.saturating_mul(2);
            }
        }
        max_retries
    }

    fn add_request(&mut self, now: Duration, key: K) {
        let order = self.arrivals;
        self.arrivals += 1;
        let req = Request {
            arrived: now,
            order,
            num_timeout: 0,
            num_retrans: 0,
            expires: now + request_timeout(&self.profile, 0),
            acked: false,
            last_oow_ack: None,
        };
        self.requests.insert(key, req);
    }

    fn push_child(&mut self, key: K) {
        self.children.insert(key.clone());
        self.accept_queue.push_back(key);
    }

    fn syn_queue_full(&self) -> bool {
        self.requests.len() >= self.syn_queue_capacity()
    }

    fn accept_queue_full(&self) -> bool {
        self.accept_queue.len() >= self.accept_queue_capacity()
    }

    /// `cookie_init_sequence()` → `tcp_synq_overflow()`: restamp unless within a second of
    /// the last stamp (`!time_between32(now, last, last + HZ)`).
    fn note_cookie_sent(&mut self, now: Duration) {
        let keep = self
            .last_overflow
            .is_some_and(|last| last <= now && now <= last + OVERFLOW_STAMP_SLACK);
        if !keep {
            self.last_overflow = Some(now);
        }
    }

    /// `!tcp_synq_no_recent_overflow()`: `time_between32(now, last - HZ, last +
    /// TCP_SYNCOOKIE_VALID)`.
    fn cookie_recent(&self, now: Duration) -> bool {
        self.last_overflow.is_some_and(|last| {
            last.saturating_sub(OVERFLOW_STAMP_SLACK) <= now && now <= last + SYNCOOKIE_VALID
        })
    }
}

impl Request {
    fn info(&self) -> RequestInfo {
        RequestInfo {
            arrived: self.arrived,
            num_timeout: self.num_timeout,
            num_retrans: self.num_retrans,
            expires: self.expires,
            acked: self.acked,
        }
    }
}
