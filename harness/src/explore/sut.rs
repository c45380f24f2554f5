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
use super::event::Event;
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
        let s = Session::open_on(target, ref_state.setup, &P::profile(), Pace::default())
            .unwrap_or_else(|e| panic!("harness: {e}"));
        if let Some(f) = s.found() {
            panic!("divergence: {f}");
        }
        s
    }

    fn apply(
        mut sut: Session,
        _ref_state: &<Self::Reference as ReferenceStateMachine>::State,
        ev: Event,
    ) -> Session {
        if let Err(f) = sut.step(&ev) {
            panic!("divergence: {f}");
        }
        sut
    }

    fn teardown(sut: Session, _ref_state: RefState) {
        if let Err(e) = sut.finish() {
            panic!("harness: {e}");
        }
    }
}

fn profile_of<P: ProfileSource>() -> Profile {
    static LINUX: OnceLock<Profile> = OnceLock::new();
    let p = P::profile();
    if p.kind != ProfileKind::Linux {
        return p;
    }
    LINUX
        .get_or_init(|| live_profile(ProfileKind::Linux).unwrap_or(p))
        .clone()
}

impl<P: ProfileSource> StateMachineTest for Kernel<P> {
    type SystemUnderTest = Session;
    type Reference = Explore<P>;

    fn init_test(ref_state: &RefState) -> Session {
        let s = Session::open(ref_state.setup, &profile_of::<P>())
            .unwrap_or_else(|e| panic!("harness: {e}"));
        if let Some(f) = s.found() {
            panic!("divergence: {f}");
        }
        s
    }

    fn apply(
        mut sut: Session,
        _ref_state: &<Self::Reference as ReferenceStateMachine>::State,
        ev: Event,
    ) -> Session {
        if let Err(f) = sut.step(&ev) {
            panic!("divergence: {f}");
        }
        sut
    }

    fn teardown(sut: Session, _ref_state: RefState) {
        if let Err(e) = sut.finish() {
            panic!("harness: {e}");
        }
    }
}
