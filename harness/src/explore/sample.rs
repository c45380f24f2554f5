//! A case drawn straight from proptest's random stream, exactly as the strategies of
//! [`super::reference`] draw it, without building their value trees.
//!
//! A value tree is what shrinking needs; a case that passes (most of them) needs only its
//! value. Building the trees cost half of the explorer's CPU on smoltcp: every option of a
//! union passed over keeps a copy of the runner with a fresh ChaCha generator, and the
//! nested trees, hundreds of bytes each, are moved level by level. Here every draw calls the
//! proptest function the mirrored strategy calls, in the same order: a leaf (a range, `any`,
//! a weighted bool) through the leaf strategy itself, a union's pick through the same
//! uniform sample over the summed weights, each option passed over through the same draw
//! of a child generator's seed (the generator itself is not made). So the same seed gives the same case; the tests below check
//! it case for case against the strategies, and the campaign regenerates a case through
//! proptest as soon as it has to shrink it.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use proptest_state_machine::ReferenceStateMachine;
use tcpcheck_model::conn::State;
use tcpcheck_model::wire::TcpFlags;

use super::event::{icmp_event, AckOf, Event, IcmpKind, SegEvent, SeqAt, Setup};
use super::reference::{flags_of, Explore, ProfileSource, RefState};

/// A value of the leaf strategy `s`, drawn as proptest draws it.
fn leaf<S: Strategy>(r: &mut TestRunner, s: S) -> Option<S::Value> {
    s.new_tree(r).ok().map(|t| t.current())
}

/// A weighted union's choice (proptest's `pick_weighted`), with the seed of the child
/// generator each option before it takes (`LazyValueTree::new`); the caller then draws the
/// option picked.
fn pick(r: &mut TestRunner, weights: &[u32]) -> Option<usize> {
    let sum: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    let x = leaf(r, 0..sum)?;
    let picked = weights
        .iter()
        .scan(0u64, |acc, &w| {
            *acc += u64::from(w);
            Some(*acc)
        })
        .filter(|&v| v <= x)
        .count();
    for _ in 0..picked {
        // What `TestRunner::new_rng` draws for the child's ChaCha seed, without making it.
        let _: [u8; 32] = r.rng().random();
    }
    Some(picked)
}

/// [`super::reference::setup`].
fn setup(r: &mut TestRunner) -> Option<Setup> {
    let passive = leaf(r, prop::bool::weighted(0.7))?;
    let v6 = leaf(r, prop::bool::weighted(0.15))?;
    let peer_isn = match pick(r, &[3, 1, 2, 1])? {
        0 => leaf(r, any::<u32>())?,
        1 => 0,
        2 => u32::MAX - leaf(r, 0u32..2000)?,
        _ => i32::MAX as u32,
    };
    let mss = match pick(r, &[4, 1, 1])? {
        0 => Some(1460),
        1 => Some(536),
        _ => None,
    };
    let sack = leaf(r, prop::bool::weighted(0.7))?;
    let wscale = match pick(r, &[3, 1, 1, 1])? {
        0 => Some(7),
        1 => None,
        2 => Some(0),
        _ => Some(14),
    };
    let ts = leaf(r, prop::bool::weighted(0.3))?;
    Some(Setup {
        passive,
        v6,
        peer_isn,
        mss,
        sack,
        wscale,
        ts,
    })
}

/// `reference::delta`.
fn delta(r: &mut TestRunner) -> Option<i32> {
    Some(match pick(r, &[6, 2, 2, 1, 1, 1])? {
        0 => 0,
        1 => 1,
        2 => -1,
        3 => leaf(r, -3i32..=3)?,
        4 => leaf(r, -70_000i32..70_000)?,
        _ => leaf(r, any::<i32>())?,
    })
}

/// A sequence number strategy of the reference's.
#[derive(Clone, Copy)]
enum Seq {
    /// `seq_at()`.
    Any,
    /// `Just(v)`.
    Just(SeqAt),
    /// `prop_oneof![w => Just(v), x => seq_at()]`.
    Mostly(u32, SeqAt, u32),
}

/// An acknowledgment number strategy of the reference's.
#[derive(Clone, Copy)]
enum Ack {
    /// `ack_of()`.
    Any,
    /// `prop_oneof![w => Just(v), x => ack_of()]`.
    Mostly(u32, AckOf, u32),
}

/// A length strategy of the reference's.
#[derive(Clone, Copy)]
enum Len {
    /// `len()`.
    Any,
    /// `Just(n)`.
    Just(u16),
    /// `prop_oneof![w => Just(n), x => len()]`.
    Mostly(u32, u16, u32),
    /// `lo..=hi`.
    Range(u16, u16),
}

fn seq_at(r: &mut TestRunner) -> Option<SeqAt> {
    Some(match pick(r, &[8, 2, 1])? {
        0 => SeqAt::RcvNxt(delta(r)?),
        1 => SeqAt::WndEnd(delta(r)?),
        _ => SeqAt::PeerIsn(delta(r)?),
    })
}

fn ack_of(r: &mut TestRunner) -> Option<AckOf> {
    Some(match pick(r, &[8, 2, 1])? {
        0 => AckOf::SndNxt(delta(r)?),
        1 => AckOf::SndUna(delta(r)?),
        _ => AckOf::Iss(delta(r)?),
    })
}

fn len(r: &mut TestRunner) -> Option<u16> {
    Some(match pick(r, &[5, 3, 1])? {
        0 => 0,
        1 => leaf(r, 1u16..=100)?,
        _ => 1000,
    })
}

fn wnd(r: &mut TestRunner) -> Option<u16> {
    Some(match pick(r, &[6, 1, 1, 2])? {
        0 => 65535,
        1 => 0,
        2 => 1,
        _ => leaf(r, any::<u16>())?,
    })
}

/// `reference::segment`: flags (`None`: `any_flags()`), then seq, ack, len, window and
/// options, in the tuple's order.
fn segment(
    r: &mut TestRunner,
    flags: Option<TcpFlags>,
    seq: Seq,
    ack: Ack,
    len_of: Len,
) -> Option<Event> {
    let flags = match flags {
        Some(f) => f,
        None => {
            let bits = leaf(r, 0u8..16)?;
            flags_of(bits, leaf(r, prop::bool::weighted(0.2))?)
        }
    };
    let seq = match seq {
        Seq::Any => seq_at(r)?,
        Seq::Just(v) => v,
        Seq::Mostly(w, v, x) => match pick(r, &[w, x])? {
            0 => v,
            _ => seq_at(r)?,
        },
    };
    let ack = match ack {
        Ack::Any => ack_of(r)?,
        Ack::Mostly(w, v, x) => match pick(r, &[w, x])? {
            0 => v,
            _ => ack_of(r)?,
        },
    };
    let len = match len_of {
        Len::Any => len(r)?,
        Len::Just(n) => n,
        Len::Mostly(w, n, x) => match pick(r, &[w, x])? {
            0 => n,
            _ => len(r)?,
        },
        Len::Range(lo, hi) => leaf(r, lo..=hi)?,
    };
    let wnd = wnd(r)?;
    let options = leaf(r, prop::bool::weighted(0.9))?;
    Some(Event::Segment(SegEvent {
        flags,
        seq,
        ack,
        len,
        wnd,
        options,
    }))
}

/// One option of `reference::transitions`.
#[derive(Clone, Copy)]
enum Choice {
    Segment(Option<TcpFlags>, Seq, Ack, Len),
    Replay(u8),
    Write,
    Read,
    Shutdown,
    Abort,
    DelayedAcks,
    Icmp,
}

/// `reference::build_transitions`: the same options, weights and order.
fn transition(r: &mut TestRunner, state: &RefState) -> Option<Event> {
    use Choice::Segment as S;
    let a = TcpFlags::ACK;
    let rst = Some(TcpFlags::RST);
    let syn = Some(TcpFlags::SYN);
    let mut choices: Vec<(u32, Choice)> = Vec::with_capacity(16);
    choices.push((3, S(None, Seq::Any, Ack::Any, Len::Any)));
    choices.push((1, S(rst, Seq::Any, Ack::Any, Len::Just(0))));
    if !state.injected.is_empty() {
        choices.push((1, Choice::Replay(state.injected.len() as u8)));
    }
    let conn_state = state.conn.state();
    let peer_isn = Seq::Mostly(4, SeqAt::PeerIsn(0), 1);
    let snd_nxt = Ack::Mostly(4, AckOf::SndNxt(0), 1);
    match conn_state {
        State::Listen => choices.push((12, S(syn, peer_isn, Ack::Any, Len::Just(0)))),
        State::SynSent => {
            choices.push((
                12,
                S(Some(TcpFlags::SYN | a), peer_isn, snd_nxt, Len::Just(0)),
            ));
            let isn = Seq::Just(SeqAt::PeerIsn(0));
            choices.push((1, S(syn, isn, Ack::Any, Len::Just(0))));
        }
        State::SynReceived => {
            let rcv_nxt = Seq::Mostly(4, SeqAt::RcvNxt(0), 1);
            choices.push((12, S(Some(a), rcv_nxt, snd_nxt, Len::Mostly(4, 0, 1))));
        }
        _ => {}
    }
    if conn_state.is_synchronized() || conn_state == State::SynSent {
        choices.push((1, Choice::Icmp));
    }
    if conn_state.is_synchronized() {
        let in_order = Seq::Mostly(6, SeqAt::RcvNxt(0), 2);
        let good_ack = Ack::Mostly(6, AckOf::SndNxt(0), 1);
        choices.extend([
            (
                6,
                S(
                    Some(a | TcpFlags::PSH),
                    in_order,
                    good_ack,
                    Len::Range(1, 200),
                ),
            ),
            (3, S(Some(a), Seq::Any, good_ack, Len::Just(0))),
            (3, S(Some(a | TcpFlags::FIN), in_order, good_ack, Len::Any)),
            (2, S(rst, Seq::Any, Ack::Any, Len::Just(0))),
            (1, S(syn, Seq::Any, Ack::Any, Len::Just(0))),
        ]);
    }
    if state.has_fd {
        choices.extend([
            (4, Choice::Write),
            (2, Choice::Read),
            (1, Choice::Shutdown),
            (1, Choice::Abort),
        ]);
    }
    if state.has_fd && conn_state.is_synchronized() {
        choices.push((1, Choice::DelayedAcks));
    }
    let weights: Vec<u32> = choices.iter().map(|&(w, _)| w).collect();
    Some(match choices[pick(r, &weights)?].1 {
        S(flags, seq, ack, len) => segment(r, flags, seq, ack, len)?,
        Choice::Replay(n) => Event::Replay(leaf(r, 0..n)?),
        Choice::Write => Event::Write(leaf(r, 1u16..=1000)?),
        Choice::Read => Event::Read(leaf(r, 1u16..=2000)?),
        Choice::Shutdown => Event::Shutdown,
        Choice::Abort => Event::Abort,
        Choice::DelayedAcks => Event::DelayedAcks,
        Choice::Icmp => {
            let kind = leaf(r, 0usize..IcmpKind::ALL.len())?;
            let selector = leaf(r, 0u8..6)?;
            icmp_event(kind, selector, leaf(r, -3i32..=3)?)
        }
    })
}

/// The case `Explore::<P>::sequential_strategy(1..=max_events)` generates from `r`, as
/// proptest-state-machine's `Sequential::new_tree` draws it: the initial state, the number
/// of events, then each event from the state the ones before left (one the preconditions
/// refuse counts as a local reject, and is drawn again). `None` where proptest would give
/// up (too many rejects).
pub(crate) fn case<P: ProfileSource>(
    r: &mut TestRunner,
    max_events: usize,
) -> Option<(Setup, Vec<Event>)> {
    let setup = setup(r)?;
    let mut state = RefState::new(setup, P::profile());
    let size = proptest::num::sample_uniform_incl(r, 1usize, max_events.max(1));
    let mut events = Vec::with_capacity(size);
    while events.len() < size {
        let ev = transition(r, &state)?;
        if Explore::<P>::preconditions(&state, &ev) {
            state.step(&ev);
            events.push(ev);
        } else {
            r.reject_local("Pre-conditions were not satisfied").ok()?;
        }
    }
    Some((setup, events))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use proptest::test_runner::{Config, RngAlgorithm, TestRng};

    use super::*;
    use crate::explore::campaign::case_seed;
    use crate::explore::reference::{LinuxProfile, RfcProfile};

    fn runner(seed: &[u8; 32]) -> TestRunner {
        let config = Config {
            cases: 1,
            failure_persistence: None,
            ..Config::default()
        };
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, seed))
    }

    /// The case proptest's own run generates from `seed`.
    fn by_proptest<P: ProfileSource>(seed: &[u8; 32], max: usize) -> (Setup, Vec<Event>) {
        let got = RefCell::new(None);
        let strategy = Explore::<P>::sequential_strategy(1..=max);
        let _ = runner(seed).run(&strategy, |(state, events, _)| {
            *got.borrow_mut() = Some((state.setup, events));
            Ok(())
        });
        got.into_inner().expect("one case ran")
    }

    /// The same, drawn here: the campaign takes the child generator proptest's run takes
    /// for its one case (`gen_get_seed`), then draws.
    fn by_sampler<P: ProfileSource>(seed: &[u8; 32], max: usize) -> (Setup, Vec<Event>) {
        let mut outer = runner(seed);
        let rng = outer.new_rng();
        let mut r = TestRunner::new_with_rng(outer.config().clone(), rng);
        case::<P>(&mut r, max).expect("drawn")
    }

    fn same_cases<P: ProfileSource>(campaign_seed: u64, max: usize) {
        for index in 0..1500 {
            let seed = case_seed(campaign_seed, index);
            assert_eq!(
                by_sampler::<P>(&seed, max),
                by_proptest::<P>(&seed, max),
                "case {index} of seed {campaign_seed}, up to {max} events"
            );
        }
    }

    #[test]
    fn the_sampler_draws_the_cases_proptest_draws_on_the_rfc9293_profile() {
        same_cases::<RfcProfile>(1, 19);
        same_cases::<RfcProfile>(42, 12);
    }

    #[test]
    fn the_sampler_draws_the_cases_proptest_draws_on_the_linux_profile() {
        same_cases::<LinuxProfile>(7, 12);
        same_cases::<LinuxProfile>(9001, 30);
    }
}
