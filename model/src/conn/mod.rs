//! Connection state machine of RFC 9293 §3.10.

pub mod state;

pub use state::State;
