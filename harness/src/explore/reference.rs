//! The model as proptest-state-machine's reference state machine: it decides which events
//! make sense (or are interestingly wrong) in the state the connection is in.
//!
//! Generation runs before the kernel does, so the reference plays the stack too: a canonical
//! stack that sends exactly what the model owes, at once, with a fixed ISN and window. A
//! conforming kernel reaches the same states, which is all generation needs: the numbers of
//! each event are symbolic and resolved against the live connection when the case runs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::time::Duration;

use proptest::prelude::*;
use proptest_state_machine::ReferenceStateMachine;
use tcpcheck_model::conn::{Connection, LenSpec, Seg, SegOptions, SegSpec, SeqSpec, State};
use tcpcheck_model::profile::{Profile, ProfileKind};
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::{SackBlock, SackBlocks, TcpFlags};

use std::net::SocketAddr;

use tcpcheck_model::conn::icmp::IcmpError;

use super::event::{
    icmp_event, icmp_repr, resolve, AckOf, Clock, Event, IcmpKind, Resolved, SegEvent, SeqAt, Setup,
};
use crate::sandbox::{PEER_V4, PEER_V6, STACK_V4, STACK_V6};

/// A [`ProfileKind`] as a type: proptest's reference machine is a set of associated
/// functions, with no value to carry the choice.
pub trait ProfileSource: 'static {
    const KIND: ProfileKind;

    /// The kind's defaults (for Linux, what a fresh namespace's sysctls give).
    fn profile() -> Profile {
        Profile::defaults(Self::KIND)
    }
}

pub struct LinuxProfile;
pub struct RfcProfile;

impl ProfileSource for LinuxProfile {
    const KIND: ProfileKind = ProfileKind::Linux;
}
impl ProfileSource for RfcProfile {
    const KIND: ProfileKind = ProfileKind::Rfc9293;
}

/// How many injected segments a case remembers for [`Event::Replay`].
pub const REPLAY_DEPTH: usize = 4;

/// The reference's state: the model driven by the canonical stack.
#[derive(Clone, Debug)]
pub struct RefState {
    pub setup: Setup,
    pub conn: Connection,
    /// Model time: a millisecond per event, so rate limits behave as in a real case.
    pub now: Duration,
    /// The application holds a descriptor for the connection (accepted, or connecting).
    pub has_fd: bool,
    pub injected: Vec<Resolved>,
    pub clock: Clock,
}

/// The canonical stack's ISN and window.
const CANON_ISS: u32 = 0x1000_0000;
const CANON_WND: u16 = 64240;

impl RefState {
    pub fn new(setup: Setup, profile: Profile) -> RefState {
        let mut s = RefState {
            setup,
            conn: {
                let mut c = Connection::new(profile);
                c.set_ipv6(setup.v6);
                c
            },
            now: Duration::ZERO,
            has_fd: !setup.passive,
            injected: Vec::new(),
            clock: Clock::start(),
        };
        let _ = if setup.passive {
            s.conn.open_passive(s.now)
        } else {
            s.conn.open_active(s.now)
        };
        s.emit_owed();
        s
    }

    /// The canonical stack sends everything owed now.
    fn emit_owed(&mut self) {
        for _ in 0..8 {
            let Some(e) = self
                .conn
                .obligations()
                .iter()
                .find(|e| e.due.earliest <= self.now)
                .copied()
            else {
                return;
            };
            let seg = self.canonical(&e.spec);
            if self.conn.emitted(self.now, &seg).is_err() {
                return;
            }
        }
    }

    fn canonical(&mut self, spec: &SegSpec) -> Seg {
        let seq = match spec.seq {
            SeqSpec::Exact(s) => s,
            SeqSpec::Iss => SeqNumber(CANON_ISS),
        };
        let len = match spec.len {
            LenSpec::Exact(n) | LenSpec::UpTo(n) => n,
            // The choice RFC 9293 3.8.4 prefers (SHLD-12): no data.
            LenSpec::AtMost(_) => 0,
        };
        let mut options = SegOptions::default();
        let syn = spec.flags.syn();
        let answering = spec.flags.ack();
        let st = &self.setup;
        if syn {
            options.mss = Some(1460);
            options.sack_permitted = !answering || st.sack;
            options.window_scale = (!answering || st.wscale.is_some()).then_some(7);
        }
        self.clock.stack_tsval += 1;
        let ts_on = st.ts && (syn || self.conn.tcb().iss == SeqNumber(CANON_ISS));
        if ts_on && (!syn || !answering || st.ts) {
            let ecr = if answering {
                self.clock.peer_tsval.saturating_sub(1)
            } else {
                0
            };
            options.timestamps = Some((self.clock.stack_tsval, ecr));
        }
        let ooo = self.conn.out_of_order();
        if !syn && st.sack && !ooo.is_empty() {
            let blocks: Vec<SackBlock> = ooo
                .iter()
                .take(4)
                .map(|&(s, l)| SackBlock::new(s.0, (s + l).0))
                .collect();
            options.sack = SackBlocks::new(&blocks);
        }
        Seg {
            seq,
            ack: spec.ack.unwrap_or(SeqNumber(0)),
            flags: spec.flags,
            wnd: CANON_WND,
            len,
            options,
            up: 0,
        }
    }

    /// Applies one event to the reference.
    pub fn step(&mut self, ev: &Event) {
        self.now += Duration::from_millis(1);
        let now = self.now;
        match *ev {
            Event::Segment(s) => {
                let r = resolve(&s, &self.conn, &self.setup, self.clock);
                self.inject(r);
            }
            Event::Replay(n) => {
                if let Some(r) = self.injected.iter().rev().nth(usize::from(n)).cloned() {
                    let mut r = r;
                    r.restamp(self.clock.peer_tsval, self.clock.stack_tsval);
                    self.inject(r);
                }
            }
            Event::Icmp(i) => {
                let v6 = self.setup.v6;
                let (stack, peer) = if v6 {
                    (STACK_V6.into(), PEER_V6.into())
                } else {
                    (STACK_V4.into(), PEER_V4.into())
                };
                let msg = icmp_repr(
                    &i,
                    &self.conn,
                    SocketAddr::new(stack, 8080),
                    SocketAddr::new(peer, 40000),
                );
                if let Some(err) = IcmpError::of(&msg) {
                    let _ = self.conn.icmp_error(now, &err);
                }
            }
            Event::Write(n) => {
                let _ = self.conn.send(now, u32::from(n));
            }
            Event::Read(n) => {
                let _ = self.conn.receive_where_at(now, u64::from(n), |_| true);
            }
            Event::Shutdown => {
                let _ = self.conn.close(now);
            }
            Event::Abort => {
                let _ = self.conn.close_linger_zero(now);
                self.has_fd = false;
            }
            Event::DelayedAcks => {}
        }
        self.emit_owed();
        if self.setup.passive && self.conn.state() == State::Closed {
            // The listener is still there (see driver.rs).
            let _ = self.conn.open_passive(now);
            self.has_fd = false;
        }
        if self.setup.passive && !self.has_fd && accepted(self.conn.state()) {
            self.has_fd = true;
        }
    }

    fn inject(&mut self, r: Resolved) {
        self.clock.peer_tsval += 1;
        if self.setup.passive && self.conn.reopen_from_time_wait(self.now, &r.seg()) {
            self.has_fd = false;
        } else {
            self.conn.arrive(self.now, &r.seg());
        }
        self.injected.push(r);
        if self.injected.len() > REPLAY_DEPTH {
            self.injected.remove(0);
        }
    }
}

/// States in which a passive connection has left the listener's queues for the application.
pub fn accepted(state: State) -> bool {
    state.is_synchronized()
}

/// The explorer's reference state machine, over profile `P`.
pub struct Explore<P>(PhantomData<P>);

impl<P: ProfileSource> ReferenceStateMachine for Explore<P> {
    type State = RefState;
    type Transition = Event;

    fn init_state() -> BoxedStrategy<RefState> {
        setup().prop_map(|s| RefState::new(s, P::profile())).boxed()
    }

    fn transitions(state: &RefState) -> BoxedStrategy<Event> {
        transitions(state)
    }

    fn apply(mut state: RefState, ev: &Event) -> RefState {
        state.step(ev);
        state
    }

    fn preconditions(state: &RefState, ev: &Event) -> bool {
        match ev {
            Event::Replay(n) => usize::from(*n) < state.injected.len(),
            Event::Write(_) => {
                state.has_fd
                    && matches!(
                        state.conn.state(),
                        State::Established
                            | State::CloseWait
                            | State::FinWait1
                            | State::FinWait2
                            | State::Closing
                            | State::LastAck
                            | State::TimeWait
                    )
            }
            Event::Read(_) | Event::Shutdown | Event::Abort => state.has_fd,
            Event::DelayedAcks => state.has_fd && state.conn.state().is_synchronized(),
            Event::Segment(_) | Event::Icmp(_) => true,
        }
    }
}

/// The setup: passive more often than active; ISNs at the edges of the sequence space.
pub fn setup() -> impl Strategy<Value = Setup> {
    let isn = prop_oneof![
        3 => any::<u32>(),
        1 => Just(0u32),
        2 => (0u32..2000).prop_map(|d| u32::MAX - d),
        1 => Just(i32::MAX as u32),
    ];
    let mss = prop_oneof![4 => Just(Some(1460u16)), 1 => Just(Some(536)), 1 => Just(None)];
    let wscale =
        prop_oneof![3 => Just(Some(7u8)), 1 => Just(None), 1 => Just(Some(0)), 1 => Just(Some(14))];
    (
        prop::bool::weighted(0.7),
        prop::bool::weighted(0.15),
        isn,
        mss,
        prop::bool::weighted(0.7),
        wscale,
        prop::bool::weighted(0.3),
    )
        .prop_map(|(passive, v6, peer_isn, mss, sack, wscale, ts)| Setup {
            passive,
            v6,
            peer_isn,
            mss,
            sack,
            wscale,
            ts,
        })
}

/// Offsets biased to the edges: exactly on, one either side, a little, within a window or
/// two, and anywhere in the sequence space (with window scaling a window reaches 2^30).
fn delta() -> impl Strategy<Value = i32> {
    prop_oneof![
        6 => Just(0),
        2 => Just(1),
        2 => Just(-1),
        1 => -3i32..=3,
        1 => -70_000i32..70_000,
        1 => any::<i32>(),
    ]
}

fn seq_at() -> impl Strategy<Value = SeqAt> {
    prop_oneof![
        8 => delta().prop_map(SeqAt::RcvNxt),
        2 => delta().prop_map(SeqAt::WndEnd),
        1 => delta().prop_map(SeqAt::PeerIsn),
    ]
}

fn ack_of() -> impl Strategy<Value = AckOf> {
    prop_oneof![
        8 => delta().prop_map(AckOf::SndNxt),
        2 => delta().prop_map(AckOf::SndUna),
        1 => delta().prop_map(AckOf::Iss),
    ]
}

fn len() -> impl Strategy<Value = u16> {
    prop_oneof![5 => Just(0u16), 3 => 1u16..=100, 1 => Just(1000)]
}

fn wnd() -> impl Strategy<Value = u16> {
    prop_oneof![6 => Just(65535u16), 1 => Just(0), 1 => Just(1), 2 => any::<u16>()]
}

/// Any combination of SYN, FIN, RST and ACK, with PSH now and then.
fn any_flags() -> impl Strategy<Value = TcpFlags> {
    (0u8..16, prop::bool::weighted(0.2)).prop_map(|(bits, psh)| flags_of(bits, psh))
}

/// SYN, FIN, RST and ACK as the low four bits of `bits` say, PSH as `psh` does.
pub(crate) fn flags_of(bits: u8, psh: bool) -> TcpFlags {
    let mut f = TcpFlags::empty();
    for (bit, flag) in [
        (1, TcpFlags::SYN),
        (2, TcpFlags::FIN),
        (4, TcpFlags::RST),
        (8, TcpFlags::ACK),
    ] {
        if bits & bit != 0 {
            f |= flag;
        }
    }
    if psh {
        f |= TcpFlags::PSH;
    }
    f
}

fn segment(
    flags: impl Strategy<Value = TcpFlags>,
    seq: impl Strategy<Value = SeqAt>,
    ack: impl Strategy<Value = AckOf>,
    len: impl Strategy<Value = u16>,
) -> impl Strategy<Value = Event> {
    (flags, seq, ack, len, wnd(), prop::bool::weighted(0.9)).prop_map(
        |(flags, seq, ack, len, wnd, options)| {
            Event::Segment(SegEvent {
                flags,
                seq,
                ack,
                len,
                wnd,
                options,
            })
        },
    )
}

fn exact(f: TcpFlags) -> impl Strategy<Value = TcpFlags> {
    Just(f)
}

/// Events that make sense in `state`, and some that are wrong in interesting ways.
///
/// The strategy depends on the connection's state, the segments remembered for replay and
/// whether the application holds a descriptor, nothing else; built, it is kept (per thread)
/// and shared: building and dropping its hundreds of boxed parts for every event of every
/// case was the larger part of the explorer's own time. A strategy holds no state between
/// draws, so a shared one draws exactly what a fresh one would.
pub fn transitions(state: &RefState) -> BoxedStrategy<Event> {
    type Key = (State, usize, bool);
    thread_local! {
        static BUILT: RefCell<HashMap<Key, BoxedStrategy<Event>>> = RefCell::new(HashMap::new());
    }
    let key = (state.conn.state(), state.injected.len(), state.has_fd);
    BUILT.with(|built| {
        built
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| build_transitions(key.0, key.1, key.2))
            .clone()
    })
}

/// [`transitions`] for a connection in `conn_state`, with `injected` segments to replay.
fn build_transitions(conn_state: State, injected: usize, has_fd: bool) -> BoxedStrategy<Event> {
    let a = TcpFlags::ACK;
    let mut choices: Vec<(u32, BoxedStrategy<Event>)> = vec![
        // Anything at all, in every state.
        (3, segment(any_flags(), seq_at(), ack_of(), len()).boxed()),
        (
            1,
            segment(exact(TcpFlags::RST), seq_at(), ack_of(), Just(0)).boxed(),
        ),
    ];
    if injected > 0 {
        let n = injected as u8;
        choices.push((1, (0..n).prop_map(Event::Replay).boxed()));
    }
    match conn_state {
        State::Listen => {
            let syn = segment(
                exact(TcpFlags::SYN),
                prop_oneof![4 => Just(SeqAt::PeerIsn(0)), 1 => seq_at()],
                ack_of(),
                Just(0),
            );
            choices.push((12, syn.boxed()));
        }
        State::SynSent => {
            let synack = segment(
                exact(TcpFlags::SYN | a),
                prop_oneof![4 => Just(SeqAt::PeerIsn(0)), 1 => seq_at()],
                prop_oneof![4 => Just(AckOf::SndNxt(0)), 1 => ack_of()],
                Just(0),
            );
            choices.push((12, synack.boxed()));
            let syn = segment(
                exact(TcpFlags::SYN),
                Just(SeqAt::PeerIsn(0)),
                ack_of(),
                Just(0),
            );
            choices.push((1, syn.boxed()));
        }
        State::SynReceived => {
            let ack = segment(
                exact(a),
                prop_oneof![4 => Just(SeqAt::RcvNxt(0)), 1 => seq_at()],
                prop_oneof![4 => Just(AckOf::SndNxt(0)), 1 => ack_of()],
                prop_oneof![4 => Just(0u16), 1 => len()],
            );
            choices.push((12, ack.boxed()));
        }
        _ => {}
    }
    if conn_state.is_synchronized() || conn_state == State::SynSent {
        // RFC 9293 3.9.2.2: an ICMP error about one of the connection's segments.
        let icmp = (0usize..IcmpKind::ALL.len(), 0u8..6, -3i32..=3)
            .prop_map(|(k, sel, d)| icmp_event(k, sel, d));
        choices.push((1, icmp.boxed()));
    }
    if conn_state.is_synchronized() {
        let in_order = prop_oneof![6 => Just(SeqAt::RcvNxt(0)), 2 => seq_at()];
        let good_ack = prop_oneof![6 => Just(AckOf::SndNxt(0)), 1 => ack_of()];
        choices.extend([
            (
                6,
                segment(
                    exact(a | TcpFlags::PSH),
                    in_order.clone(),
                    good_ack.clone(),
                    1u16..=200,
                )
                .boxed(),
            ),
            (
                3,
                segment(exact(a), seq_at(), good_ack.clone(), Just(0)).boxed(),
            ),
            (
                3,
                segment(
                    exact(a | TcpFlags::FIN),
                    in_order.clone(),
                    good_ack.clone(),
                    len(),
                )
                .boxed(),
            ),
            (
                2,
                segment(exact(TcpFlags::RST), seq_at(), ack_of(), Just(0)).boxed(),
            ),
            (
                1,
                segment(exact(TcpFlags::SYN), seq_at(), ack_of(), Just(0)).boxed(),
            ),
        ]);
    }
    if has_fd {
        choices.extend([
            (4, (1u16..=1000).prop_map(Event::Write).boxed()),
            (2, (1u16..=2000).prop_map(Event::Read).boxed()),
            (1, Just(Event::Shutdown).boxed()),
            (1, Just(Event::Abort).boxed()),
        ]);
    }
    // Once the connection is up: in SYN-SENT Linux's pingpong mode also delays the ACK of
    // the SYN-ACK (tcp_rcv_synsent_state_process()), which the model does not follow.
    if has_fd && conn_state.is_synchronized() {
        choices.push((1, Just(Event::DelayedAcks).boxed()));
    }
    prop::strategy::Union::new_weighted(choices).boxed()
}
