//! Invariants of the connection model under random event programs (the same checks the
//! `model` fuzz target makes): SND.UNA =< SND.NXT, RCV.NXT never goes back, only RFC 9293's
//! state transitions, out-of-order ranges sorted, disjoint and beyond RCV.NXT, and the model
//! always accepts the segments it itself expects.

use proptest::prelude::*;
use tcpcheck_model::oracle;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    #[test]
    fn random_programs_keep_the_invariants(program in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Err(e) = oracle::model(&program) {
            return Err(TestCaseError::fail(e));
        }
    }

    /// Programs biased to the events that move a connection forward: opens, the expected
    /// segment, in-window arrivals.
    #[test]
    fn forward_programs_keep_the_invariants(
        profile in any::<u8>(),
        steps in proptest::collection::vec((prop_oneof![Just(0u8), Just(1), Just(6), Just(7), Just(7), Just(2), Just(4), Just(9)], any::<[u8; 8]>()), 0..80),
    ) {
        let mut program = vec![profile];
        for (op, args) in steps {
            program.push(op);
            program.extend_from_slice(&args);
        }
        if let Err(e) = oracle::model(&program) {
            return Err(TestCaseError::fail(e));
        }
    }
}
