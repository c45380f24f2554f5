//! Any sequence of events (user calls, arriving segments, the stack's segments, time passing)
//! never panics the model, and its invariants hold after each one. The properties live in
//! `tcpcheck_model::oracle` so `cargo test` replays the seed corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(failure) = tcpcheck_model::oracle::model(data) {
        panic!("{failure}");
    }
});
