//! The model's third of a three-way check: every event a run makes (socket calls, segments
//! injected) and every segment the stack sends is replayed, as it happens, through the
//! reference model, which says whether the stack was allowed to do it.
//!
//! The script says what one test author expected; the model says what the standard (or
//! Linux's documented choices, on the `linux` profile) allows. They answer different
//! questions, so a run's verdict stays the script's and the model's view is reported beside
//! it: `agree`, or `diverge` with the rule the stack broke.
//!
//! One model [`Connection`] per four-tuple, created the way the stack creates its
//! connections: by connect(), by a SYN to a listener (after the listener's queues, modelled
//! by [`Listener`], agree to take it), or as the CLOSED or LISTEN "TCB" that answers a
//! segment nothing else owns (RFC 9293 3.10.7.1, 3.10.7.2). Sockets are followed by the
//! stack's descriptor numbers, so calls reach the connection they name.
//!
//! Time is the script's: zero when its first event ran.

mod address;
mod calls;
mod fast_open;
mod follow;
mod icmp;
mod noted;
pub mod profile;
pub mod receive;
pub mod rules;
pub mod send;
pub mod states;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_virtual;
mod verdict;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tcpcheck_model::conn::fast_open::{FastOpenServer, SynFastOpen};
use tcpcheck_model::conn::fast_open_client::FastOpenClient;
use tcpcheck_model::conn::{Actual, Connection, Divergence as ModelFault, Required, Seg, State};
use tcpcheck_model::listener::{Listener, SynOutcome, SynSender};
use tcpcheck_model::profile::{KeepAlive, Profile};
use tcpcheck_model::timers::{Hz, TimerPrecision, SCHEDULING_SLACK};
use tcpcheck_model::wire::SegmentRepr;

/// RFC 2385's TCP MD5 Signature option.
const KIND_MD5: u8 = 19;

pub use calls::{Blocking, Call};
pub use verdict::{Departure, ModelDivergence, ModelVerdict, Owed, Sent, Trigger};

/// How late a segment the model owes "at once" may trail the event that called for it
/// before it counts as missing; the one grace of the runner, the explorer and their tests.
///
/// The kernel sends some of these from a timer armed for the next jiffy (a FIN after
/// close() behind the pacing or TSQ timer, the ACK of a FIN on a fresh passive socket). A
/// timer armed for one jiffy fires on the second tick boundary at the latest: two jiffies,
/// 8 ms at HZ=250. On top comes [`SCHEDULING_SLACK`] (10 ms), what a loaded machine adds to
/// any wake-up, the softirq's and the harness's capture alike: 18 ms in all. (12 ms, the
/// explorer's old figure, left 4 ms of slack, less than one jiffy.)
pub fn at_once_grace() -> Duration {
    Hz::TARGET.jiffy() * 2 + SCHEDULING_SLACK
}

/// The grace for a stack whose timers have `precision`: [`at_once_grace`] for a kernel's
/// timer wheel, none on a virtual clock. A stack on a virtual clock sends what it owes at
/// the instant it owes it (the clock stands still while it works); the grace exists only for
/// a real kernel's jiffies and scheduling, and kept there it would hide a reply up to 18 ms
/// late (issue 13: "timer checks are exact, with no jiffy tolerance").
pub fn grace_for(precision: TimerPrecision) -> Duration {
    match precision {
        TimerPrecision::Wheel(_) => at_once_grace(),
        TimerPrecision::Exact => Duration::ZERO,
    }
}

/// A connection as both sides name it: the stack's port and the peer's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub local_port: u16,
    pub peer: SocketAddr,
}

/// What a descriptor of the stack is, as far as the model follows it.
#[derive(Clone, Debug)]
enum Sock {
    Fresh {
        port: Option<u16>,
    },
    Listening {
        port: u16,
    },
    /// connect() was called; the stack picks the local port, learnt from its SYN.
    Connecting,
    /// connect() with `TCP_FASTOPEN_CONNECT` returned without a SYN: the first write to
    /// `peer` sends it (RFC 7413 3, Linux `tcp_fastopen_defer_connect()`).
    Deferred {
        peer: SocketAddr,
    },
    Conn(Key),
    Gone,
}

#[derive(Clone, Debug, Default)]
struct SockOpts {
    linger_zero: bool,
    user_timeout: Option<Duration>,
    keepalive: bool,
    /// TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT as set; the profile's for the rest.
    keepalive_times: Option<KeepAlive>,
    /// TCP_FASTOPEN's queue length (0: not set).
    fast_open_qlen: u32,
    /// TCP_FASTOPEN_NO_COOKIE.
    fast_open_no_cookie: bool,
    /// TCP_SYNCNT.
    syn_retries: Option<u32>,
    /// SO_OOBINLINE.
    oob_inline: bool,
}

struct Tracked {
    conn: Connection,
    /// Script line of the event that last fed this connection, for the report.
    line: u32,
    /// Belongs to this listener's queues until accept() takes it.
    listener: Option<u16>,
    /// The listener answered with a SYN cookie: no request is kept, the final ACK is
    /// checked against the cookie.
    cookie: bool,
    /// Reached a synchronized state once: its end makes the peer known to the stack.
    synchronized: bool,
    /// The state before the event that last fed this connection, and that event (see
    /// [`ModelDivergence::event`]), for naming a divergence.
    before: State,
    event: String,
    trigger: Trigger,
    /// See [`ModelDivergence::after`].
    after: Option<&'static crate::explore::deviations::Deviation>,
    /// Made by a listener, not by connect().
    passive: bool,
    /// Whether the peer's SYN (without ACK) offered window scaling, once one came.
    peer_syn_scaled: Option<bool>,
    /// See [`ModelDivergence::unscaled`].
    unscaled: bool,
}

impl Tracked {
    fn new(conn: Connection, line: u32, listener: Option<u16>, cookie: bool) -> Tracked {
        Tracked {
            before: conn.state(),
            conn,
            line,
            listener,
            cookie,
            synchronized: false,
            event: String::new(),
            trigger: Trigger::Other,
            after: None,
            passive: listener.is_some(),
            peer_syn_scaled: None,
            unscaled: false,
        }
    }

    /// The event `event` (`trigger` as a value) at script line `line` feeds this connection
    /// now.
    fn fed(&mut self, line: u32, event: impl Into<String>, trigger: Trigger) {
        self.line = line;
        self.before = self.conn.state();
        self.event = event.into();
        self.trigger = trigger;
    }
}

/// Follows one run through the model. Feed it every event in time order; ask for the
/// [`ModelVerdict`] at the end.
pub struct Differ {
    profile: Profile,
    socks: BTreeMap<i32, Sock>,
    opts: BTreeMap<i32, SockOpts>,
    listeners: BTreeMap<u16, Listener<Key>>,
    conns: BTreeMap<Key, Tracked>,
    /// Active opens whose SYN has not been seen, by descriptor.
    connecting: BTreeMap<i32, (SocketAddr, Tracked)>,
    /// Peers an earlier connection closed cleanly with: Linux keeps their RTT in its TCP
    /// metrics, and `tcp_peer_is_proven()` lets them into the SYN queue's last quarter.
    proven: BTreeSet<IpAddr>,
    /// The Fast Open cookies the stack gave (RFC 7413), for a key the model does not know.
    fast_open: FastOpenServer,
    /// The client's Fast Open cookie cache (RFC 7413 4.1.3), which outlives connections.
    fast_open_client: FastOpenClient,
    first: Option<ModelDivergence>,
    off: Option<String>,
    grace: Duration,
    now: Duration,
    /// The state each event left its connection in (see [`noted`]).
    states: Vec<crate::trace::states::StateNote>,
    /// The stack's own states, compared with the model's (see [`states`]).
    check: states::StateCheck,
    /// The stack's subnet broadcast address, if the runner knows it (see [`address`]).
    directed_broadcast: Option<IpAddr>,
    /// Four-tuples whose segments the model discarded for their addresses, with the rule:
    /// a reply on one is judged by it.
    refused: BTreeMap<Key, &'static tcpcheck_model::rule::Rule>,
}

impl Differ {
    pub fn new(profile: Profile) -> Differ {
        let grace = grace_for(profile.timer_precision);
        Differ {
            profile,
            socks: BTreeMap::new(),
            opts: BTreeMap::new(),
            listeners: BTreeMap::new(),
            conns: BTreeMap::new(),
            connecting: BTreeMap::new(),
            proven: BTreeSet::new(),
            fast_open: FastOpenServer::default(),
            fast_open_client: FastOpenClient::default(),
            first: None,
            off: None,
            grace,
            now: Duration::ZERO,
            states: Vec::new(),
            check: states::StateCheck::default(),
            directed_broadcast: None,
            refused: BTreeMap::new(),
        }
    }

    /// The profile changes when a scenario sets a sysctl: connections and listeners made
    /// afterwards follow the new numbers, as the kernel reads most of them when a
    /// connection or request is created.
    pub fn set_profile(&mut self, profile: Profile) {
        self.grace = grace_for(profile.timer_precision);
        self.profile = profile;
    }

    /// How late a segment owed at once may come before it is missing: [`grace_for`] the
    /// profile's timer precision (none on a virtual clock).
    pub fn grace(&self) -> Duration {
        self.grace
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    fn new_connection(&self, peer: SocketAddr) -> Connection {
        let mut conn = Connection::new(self.profile.clone());
        conn.set_ipv6(peer.is_ipv6());
        conn
    }

    /// Stops following the run: something happened that the model does not describe (a
    /// socket option it has no rule for), so anything it said afterwards would be a guess.
    pub fn give_up(&mut self, why: impl Into<String>) {
        if self.off.is_none() && self.first.is_none() {
            self.off = Some(why.into());
        }
    }

    fn active(&self) -> bool {
        self.first.is_none() && self.off.is_none()
    }

    pub fn verdict(&self) -> ModelVerdict {
        match (&self.first, &self.off) {
            (Some(d), _) => ModelVerdict::Diverge(d.clone()),
            (None, Some(why)) => ModelVerdict::Off(why.clone()),
            (None, None) => ModelVerdict::Agree,
        }
    }

    fn diverge(
        &mut self,
        line: u32,
        at: Duration,
        fault: ModelFault,
        key: Option<Key>,
        sent: Sent,
    ) {
        let tracked = key.and_then(|k| self.conns.get(&k));
        let owed = Owed::of(&fault.expected);
        let context = tracked.map(Context::of).unwrap_or_default();
        self.diverge_in(line, at, fault, key, context, (owed, sent));
    }

    fn diverge_in(
        &mut self,
        line: u32,
        at: Duration,
        fault: ModelFault,
        key: Option<Key>,
        context: Context,
        (owed, sent): (Owed, Sent),
    ) {
        if self.first.is_none() {
            let mut d = ModelDivergence {
                line,
                at,
                rule: fault.rule,
                expected: fault.expected.to_string(),
                actual: fault.actual.to_string(),
                departure: Box::new(Departure { owed, sent }),
                connection: key,
                state: context.state,
                event: context.event,
                trigger: context.trigger,
                deviation: None,
                after: context.after,
                passive: context.passive,
                unscaled: context.unscaled,
            };
            d.deviation =
                crate::explore::deviations::classify_model(&d, &self.profile).map(|dev| dev.name);
            self.first = Some(d);
        }
    }

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

    /// A segment crossing the tun at `now` (`inbound`: into the stack): time moves there
    /// first; then its connection's four-tuple and the segment as the model reads it, unless
    /// the model has stopped following the run.
    fn crossing(&mut self, now: Duration, seg: &SegmentRepr, inbound: bool) -> Option<(Key, Seg)> {
        self.arrive_at(now);
        if !self.active() {
            return None;
        }
        let key = key_of(seg, inbound)?;
        self.check.learn_local(key, local_ip(seg, inbound));
        Some((key, Seg::from_repr(&seg.tcp)))
    }

    /// Every connection the model follows: by four-tuple, or still connecting.
    fn all_tracked(&self) -> impl Iterator<Item = &Tracked> {
        self.conns
            .values()
            .chain(self.connecting.values().map(|(_, t)| t))
    }

    /// A segment the harness wrote into the stack at `now`, for script line `line`.
    fn feed_injected(&mut self, now: Duration, line: u32, seg: &SegmentRepr) {
        if self.address_discards(seg) {
            // RFC 9293 3.9.2.3: MUST-57, MUST-63, dropped before any connection sees it.
            self.arrive_at(now);
            return;
        }
        let Some((key, s)) = self.crossing(now, seg, true) else {
            return;
        };
        if seg.tcp.options.iter().any(|o| o.kind() == KIND_MD5) {
            // Linux drops a segment signed for a connection without a key (RFC 2385 3:
            // TCPMD5Unexpected), and checks the signature where it has one.
            return self.give_up("the TCP MD5 signature option (RFC 2385) is not modelled");
        }
        let event = format!("< {}", seg.tcp.flags.packetdrill());
        let scaled = (s.flags.syn() && !s.flags.ack()).then_some(s.options.window_scale.is_some());
        // RFC 9293 3.9.1.1: MUST-41, MUST-42, a segment goes first to the connection its
        // four-tuple names, and a listener on the port gets only what no connection owns:
        // a LISTEN beside SYN-SENT, SYN-RECEIVED or ESTABLISHED connections on its port
        // changes none of them (harness/tests/listen_semantics.rs checks the kernel).
        if let Some(t) = self.conns.get_mut(&key) {
            // A connection in LISTEN is the listener's answer to a segment it dropped (a
            // RST, say): the next one meets the listener again, its queues included.
            if !matches!(t.conn.state(), State::Closed | State::Listen) {
                if t.conn.synack_echo_unknown(&s) {
                    return self.give_up(
                        "a SYN-ACK in SYN-SENT echoes a TSval the stack did not send last; \
                         Linux's check of it against its clock (tcp_rcv_synsent_state_process(), \
                         PAWS) is not modelled",
                    );
                }
                t.fed(line, event, Trigger::Segment(seg.tcp.flags));
                t.peer_syn_scaled = scaled.or(t.peer_syn_scaled);
                if !listener_admits_ack(&mut self.listeners, t, key, &s, now) {
                    return;
                }
                let port = key.local_port;
                if let Some(l) = self.listeners.get_mut(&port) {
                    if t.conn.reopen_from_time_wait(now, &s) {
                        // Linux hands the SYN to the listener (TCP_TW_SYN), past its SYN
                        // queue limits.
                        l.on_syn_from(now, key, SynSender::TimeWait);
                        t.listener = Some(port);
                        self.orphan_descriptors(key);
                        return;
                    }
                }
                let (tcb, unread) = (*t.conn.tcb(), t.conn.readable());
                t.conn.arrive(now, &s);
                if let Some(learned) = t.conn.take_fast_open_learned() {
                    // RFC 7413 4.1.3: the client caches what the server's SYN-ACK said.
                    self.fast_open_client.learn(key.peer.ip(), learned);
                }
                if t.after.is_none() {
                    t.after = crate::explore::deviations::taint(
                        t.before, &tcb, unread, t.unscaled, t.passive, &s, &t.conn,
                    );
                }
                self.note_end(key);
                self.follow_request(key, now);
                return;
            }
        }
        // A segment no connection owns meets the listener, or the closed port.
        let mut conn = self.new_connection(key.peer);
        let before = if self.listeners.contains_key(&key.local_port) {
            State::Listen
        } else {
            State::Closed
        };
        let mut listener = None;
        let mut cookie = false;
        let mut fast_open = None;
        let sender = if self.proven.contains(&key.peer.ip()) {
            SynSender::Proven
        } else {
            SynSender::Unknown
        };
        if let Some(l) = self.listeners.get_mut(&key.local_port) {
            listener = Some(key.local_port);
            if s.flags.syn() && !s.flags.ack() && !s.flags.rst() {
                match l.on_syn_from(now, key, sender) {
                    SynOutcome::Cookie(_) => cookie = true,
                    SynOutcome::Dropped(_) => return,
                    _ => {}
                }
                if !cookie {
                    let addrs = (key.peer.ip(), local_ip(seg, true));
                    let listener_tfo = match self.fast_open_queue(key.local_port) {
                        Ok(on) => on,
                        Err(why) => return self.give_up(why),
                    };
                    let fo = self.fast_open.on_syn(
                        self.profile.fast_open,
                        listener_tfo,
                        addrs,
                        s.options.fast_open,
                        s.len,
                    );
                    if let SynFastOpen::Unknown(why) = fo {
                        return self.give_up(format!("TCP Fast Open: {why}"));
                    }
                    fast_open = Some(fo);
                }
            }
            let _ = conn.open_passive(now);
        }
        if let Some(fo) = fast_open {
            conn.set_fast_open(fo);
        }
        conn.arrive(now, &s);
        if cookie {
            conn.answered_by_cookie();
        }
        let mut t = Tracked::new(conn, line, listener, cookie);
        t.before = before;
        t.event = event;
        // A deviation the connection this four-tuple had went through still explains what
        // follows (the RFC's CLOSED connection is Linux's timewait socket).
        t.after = self.conns.get(&key).and_then(|old| old.after);
        t.peer_syn_scaled = scaled;
        if self.conns.insert(key, t).is_some() {
            self.orphan_descriptors(key);
        }
        self.follow_request(key, now);
    }

    /// Whether the listener on `port` has a Fast Open queue of its own (TCP_FASTOPEN), with
    /// room left: Linux falls back to the ordinary handshake when its Fast Open children
    /// not yet past SYN-RECEIVED fill it (`tcp_fastopen_queue_check()`), and drops the
    /// oldest reset ones first, which the model does not follow: then it stops, naming why.
    fn fast_open_queue(&self, port: u16) -> Result<bool, String> {
        let qlen = self
            .socks
            .iter()
            .filter(|(_, s)| matches!(s, Sock::Listening { port: p } if *p == port))
            .filter_map(|(fd, _)| self.opts.get(fd))
            .map(|o| o.fast_open_qlen)
            .max()
            .unwrap_or(0);
        if qlen == 0 {
            return Ok(false);
        }
        let children = self
            .conns
            .values()
            .filter(|t| {
                t.listener == Some(port)
                    && t.conn.is_fast_open_child()
                    && t.conn.state() == State::SynReceived
            })
            .count();
        if children as u64 >= u64::from(qlen) {
            return Err(format!(
                "TCP Fast Open: the listener's TCP_FASTOPEN queue ({qlen}) is full, and Linux's \
                 choice then is not modelled"
            ));
        }
        Ok(true)
    }

    /// The listener's SYN queue follows its request's connection: a request whose
    /// connection went back to LISTEN or CLOSED (reset, or its SYN dropped, as Linux drops
    /// a SYN with FIN) leaves it (`inet_csk_reqsk_queue_drop()`) and no longer counts
    /// against the backlog; one the connection model synchronized by another way than the
    /// final ACK [`listener_admits_ack`] hands over (a SYN-ACK in SYN-RECEIVED, on the
    /// rfc9293 profile) joins the accept queue as that ACK would have it.
    fn follow_request(&mut self, key: Key, now: Duration) {
        let Some(t) = self.conns.get(&key) else {
            return;
        };
        let Some(port) = t.listener else {
            return;
        };
        let (state, cookie) = (t.conn.state(), t.cookie);
        let Some(l) = self.listeners.get_mut(&port) else {
            return;
        };
        if l.state_of(&key) != Some(State::SynReceived) {
            return;
        }
        if matches!(state, State::Closed | State::Listen) {
            l.remove_request(&key);
        } else if state.is_synchronized() || t.conn.is_fast_open_child() {
            // RFC 7413 4.2.2: a Fast Open SYN opens the connection at once; Linux queues its
            // child for accept() before the handshake's last ACK (tcp_fastopen_create_child()).
            let _ = l.on_ack(now, key, cookie);
        }
    }

    /// The connection `key` named has ended and a new one took its four-tuple: a
    /// descriptor still open on the old socket (closed, or handed to a timewait socket)
    /// names nothing the model follows, and a call on it must not reach the new one.
    fn orphan_descriptors(&mut self, key: Key) {
        for s in self.socks.values_mut() {
            if matches!(s, Sock::Conn(k) if *k == key) {
                *s = Sock::Gone;
            }
        }
    }

    /// A segment the stack sent, captured at `now`; `line` is the script line it is owed to
    /// if one matched it, else the line of the event that provoked it.
    fn feed_captured(&mut self, now: Duration, line: u32, seg: &SegmentRepr) {
        let Some((key, s)) = self.crossing(now, seg, false) else {
            return;
        };
        if !self.conns.contains_key(&key) && s.flags.syn() && !s.flags.ack() {
            // The SYN of a connect(): now the local port is known.
            let fd = self
                .connecting
                .iter()
                .find(|(_, (peer, _))| *peer == key.peer)
                .map(|(fd, _)| *fd);
            if let Some(fd) = fd {
                let (_, t) = self.connecting.remove(&fd).expect("found above");
                self.conns.insert(key, t);
                self.socks.insert(fd, Sock::Conn(key));
            }
        }
        if s.flags.syn() && s.flags.ack() {
            if let Some(c) = s.options.fast_open {
                // RFC 7413 4.1.2: the server picks its cookie; the first one sent binds.
                self.fast_open
                    .gave((key.peer.ip(), local_ip(seg, false)), c.as_slice());
            }
        }
        if !self.conns.contains_key(&key) && self.diverge_refused(now, line, key, &s) {
            return;
        }
        let Some(t) = self.conns.get_mut(&key) else {
            let fault = ModelFault {
                rule: &rules::NO_CONNECTION,
                expected: Required::Nothing(None),
                actual: Actual::Seen(seg.to_string()),
            };
            self.diverge(line, now, fault, Some(key), Sent::Stray(Box::new(s)));
            return;
        };
        if let Err(f) = t.conn.emitted(now, &s) {
            let l = t.line.max(line);
            self.diverge(l, now, f, Some(key), Sent::Segment(Box::new(s)));
        } else {
            t.unscaled |=
                crate::explore::deviations::scales_unnegotiated(&s, t.peer_syn_scaled, &t.conn);
        }
        self.note_end(key);
    }

    /// A connection that was synchronized and has ended (CLOSED, or TIME-WAIT) leaves its
    /// peer's metrics with Linux (tcp_update_metrics()).
    fn note_end(&mut self, key: Key) {
        let Some(t) = self.conns.get_mut(&key) else {
            return;
        };
        let state = t.conn.state();
        t.synchronized |= state.is_synchronized();
        if t.synchronized && matches!(state, State::Closed | State::TimeWait) {
            self.proven.insert(key.peer.ip());
        }
    }
}

/// What a divergence on a connection is told of it, to be named.
#[derive(Default)]
struct Context {
    state: Option<State>,
    event: String,
    trigger: Trigger,
    after: Option<&'static crate::explore::deviations::Deviation>,
    passive: bool,
    unscaled: bool,
}

impl Context {
    fn of(t: &Tracked) -> Context {
        Context {
            state: Some(t.before),
            event: t.event.clone(),
            trigger: t.trigger,
            after: t.after,
            passive: t.passive,
            unscaled: t.unscaled,
        }
    }
}

/// The final ACK of a handshake reaches the listener's accept queue first: Linux drops it
/// (or resets) when the queue is full, before the connection sees it. Returns whether the
/// connection should process the segment.
fn listener_admits_ack(
    listeners: &mut BTreeMap<u16, Listener<Key>>,
    t: &mut Tracked,
    key: Key,
    s: &Seg,
    now: Duration,
) -> bool {
    let Some(port) = t.listener else {
        return true;
    };
    let Some(l) = listeners.get_mut(&port) else {
        return true;
    };
    if t.conn.state() != State::SynReceived || s.flags.syn() || s.flags.rst() || !s.flags.ack() {
        return true;
    }
    let tcb = t.conn.tcb();
    // A cookie ACK acknowledges the cookie (ISS + 1); anything else meets the listener.
    let request = l.state_of(&key) == Some(State::SynReceived);
    if s.ack != tcb.snd_nxt || !(request || t.cookie) {
        return true;
    }
    // Only an ACK the connection takes completes the request: one it refuses (Linux
    // tcp_check_req()'s TSecr or PAWS check, say) leaves the request where it was.
    let mut probe = t.conn.clone();
    probe.arrive(now, s);
    if probe.state() == State::SynReceived {
        return true;
    }
    use tcpcheck_model::listener::{AckOutcome, AckReset};
    match l.on_ack(now, key, t.cookie) {
        AckOutcome::Established(_) | AckOutcome::ToChild => true,
        AckOutcome::Dropped(_) => false,
        AckOutcome::Reset(AckReset::AcceptQueueFull) => {
            // Linux `tcp_abort_on_overflow`: the request is reset.
            let _ = t.conn.abort(now);
            false
        }
        AckOutcome::Reset(_) => true,
    }
}

/// The stack's address in a segment.
fn local_ip(seg: &SegmentRepr, inbound: bool) -> IpAddr {
    let (src, dst) = match &seg.ip {
        tcpcheck_model::wire::IpRepr::V4(ip) => (IpAddr::V4(ip.src), IpAddr::V4(ip.dst)),
        tcpcheck_model::wire::IpRepr::V6(ip) => (IpAddr::V6(ip.src), IpAddr::V6(ip.dst)),
    };
    if inbound {
        dst
    } else {
        src
    }
}

/// The four-tuple of a segment, from the stack's point of view.
fn key_of(seg: &SegmentRepr, inbound: bool) -> Option<Key> {
    let (src, dst) = match &seg.ip {
        tcpcheck_model::wire::IpRepr::V4(ip) => (IpAddr::V4(ip.src), IpAddr::V4(ip.dst)),
        tcpcheck_model::wire::IpRepr::V6(ip) => (IpAddr::V6(ip.src), IpAddr::V6(ip.dst)),
    };
    Some(if inbound {
        Key {
            local_port: seg.tcp.dst_port,
            peer: SocketAddr::new(src, seg.tcp.src_port),
        }
    } else {
        Key {
            local_port: seg.tcp.src_port,
            peer: SocketAddr::new(dst, seg.tcp.dst_port),
        }
    })
}
