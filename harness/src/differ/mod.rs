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
mod segments;
pub mod send;
pub mod states;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_virtual;
mod time;
mod verdict;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tcpcheck_model::conn::fast_open::FastOpenServer;
use tcpcheck_model::conn::fast_open_client::FastOpenClient;
use tcpcheck_model::conn::{Connection, Divergence as ModelFault, State};
use tcpcheck_model::listener::Listener;
use tcpcheck_model::profile::{KeepAlive, Profile};
use tcpcheck_model::timers::{Hz, TimerPrecision, SCHEDULING_SLACK};

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

    /// Every connection the model follows: by four-tuple, or still connecting.
    fn all_tracked(&self) -> impl Iterator<Item = &Tracked> {
        self.conns
            .values()
            .chain(self.connecting.values().map(|(_, t)| t))
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
