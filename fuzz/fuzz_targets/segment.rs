//! Any bytes: the parser never panics, what it accepts re-emits and re-parses to the same
//! `Repr`, and its fields agree with etherparse and pnet_packet. The properties live in
//! `tcpcheck_model::oracle` so `cargo test` replays the seed corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(failure) = tcpcheck_model::oracle::segment(data) {
        panic!("{failure}");
    }
});
