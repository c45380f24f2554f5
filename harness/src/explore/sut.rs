//! A stack as proptest-state-machine's system under test, for `prop_state_machine!` tests
//! (the kernel in [`Kernel`], any stack in [`OnStack`]): a divergence panics with the
//! model's account of it, which proptest shrinks and records in the test's regression file
//! like any other failure.

use std::marker::PhantomData;
use std::sync::OnceLock;

use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use tcpcheck_model::profile::{Profile, ProfileKind};

use super::campaign::live_profile;
use super::driver::{Pace, Session, Target};
use super::event::{Event, Setup};
use super::reference::{Explore, ProfileSource, RefState};

/// The Linux kernel in a fresh sandbox per case, checked by the model on profile `P`.
pub struct Kernel<P>(PhantomData<P>);

/// The stack a [`OnStack`] test runs on, as a type (proptest-state-machine's tests are
/// types): a stack's crate names its factory here.
pub trait StackSource: 'static {
    /// The factory of fresh stacks, one per case.
    fn factory() -> &'static dyn crate::stack::StackFactory;
}

/// Any stack, a fresh one per case, checked by the model on profile `P` (for another stack
/// than Linux, `RfcProfile`).
pub struct OnStack<P, S>(PhantomData<(P, S)>);

impl<P: ProfileSource, S: StackSource> StateMachineTest for OnStack<P, S> {
    type SystemUnderTest = Session;
    type Reference = Explore<P>;

    fn init_test(ref_state: &RefState) -> Session {
        let target = Target {
            stack: S::factory(),
            ..Target::default()
        };
        open_checked(target, ref_state.setup, &P::profile())
    }

    fn apply(
        sut: Session,
        _ref_state: &<Self::Reference as ReferenceStateMachine>::State,
        ev: Event,
    ) -> Session {
        step_checked(sut, &ev)
    }

    fn teardown(sut: Session, _ref_state: RefState) {
        finish_checked(sut)
    }
}

fn profile_of<P: ProfileSource>() -> Profile {
    static LINUX: OnceLock<Profile> = OnceLock::new();
    match P::KIND {
        ProfileKind::Rfc9293 => P::profile(),
        ProfileKind::Linux => LINUX
            .get_or_init(|| live_profile(P::KIND).unwrap_or_else(|_| P::profile()))
            .clone(),
    }
}

impl<P: ProfileSource> StateMachineTest for Kernel<P> {
    type SystemUnderTest = Session;
    type Reference = Explore<P>;

    fn init_test(ref_state: &RefState) -> Session {
        open_checked(Target::default(), ref_state.setup, &profile_of::<P>())
    }

    fn apply(
        sut: Session,
        _ref_state: &<Self::Reference as ReferenceStateMachine>::State,
        ev: Event,
    ) -> Session {
        step_checked(sut, &ev)
    }

    fn teardown(sut: Session, _ref_state: RefState) {
        finish_checked(sut)
    }
}

/// The case opened on `target`; a harness failure or a divergence while opening panics, as
/// proptest's state machine expects of a failing step.
fn open_checked(target: Target, setup: Setup, profile: &Profile) -> Session {
    let s = Session::open_on(target, setup, profile, Pace::default())
        .unwrap_or_else(|e| panic!("harness: {e}"));
    if let Some(f) = s.found() {
        panic!("divergence: {f}");
    }
    s
}

/// One event; a divergence panics.
fn step_checked(mut sut: Session, ev: &Event) -> Session {
    if let Err(f) = sut.step(ev) {
        panic!("divergence: {f}");
    }
    sut
}

/// The end of the case; a harness failure panics.
fn finish_checked(sut: Session) {
    if let Err(e) = sut.finish() {
        panic!("harness: {e}");
    }
}
