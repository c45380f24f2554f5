//! Helpers shared by the integration tests split by concern (`explorer_findings_*.rs`,
//! `linux_choices_*.rs`). Each test file is its own crate and uses only some of them, so
//! the rest would warn as dead code there.
#![allow(dead_code)]

pub mod findings;
pub mod linux_choices;
