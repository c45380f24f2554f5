//! Properties shared by the fuzz targets and `cargo test`.
//!
//! Each function takes arbitrary bytes and returns `Err` describing the first property that
//! failed. The fuzz targets panic on `Err`; the tests report it with the seed's file name. So
//! the corpus that CI replays checks exactly what the fuzzer checks.

mod codec;
mod machine;

pub use codec::{is_canonical, segment};
pub use machine::model;
