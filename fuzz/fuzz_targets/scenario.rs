//! Any bytes, read as lossy UTF-8: the script parser never panics, its errors render, and a
//! script it accepts prints back to text that parses to the same tree. The property lives in
//! `tcpcheck::scenario::fuzz_property` so `cargo test` replays the seed corpus through it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(failure) = tcpcheck::scenario::fuzz_property(data) {
        panic!("{failure}");
    }
});
