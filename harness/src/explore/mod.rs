//! The explorer: property-based testing of the kernel against the model.
//!
//! The model is proptest-state-machine's reference state machine ([`reference`]): from the
//! state a connection is in, it generates the events that make sense there, and the ones that
//! are interestingly wrong (sequence numbers at and just outside the window edges, near 2^32,
//! every combination of SYN, FIN, RST and ACK, duplicates, zero windows, options present and
//! absent). The kernel is the system under test ([`driver`]): each case runs in a fresh
//! network namespace and every segment it sends is checked by the model. A divergence the
//! [`deviations`] registry does not explain is shrunk to a minimal case and written out as a
//! [`bundle`]. [`campaign`] spreads cases over seeds, shards and threads.

pub mod bundle;
pub mod campaign;
pub mod case;
pub mod deviations;
pub mod driver;
pub mod event;
pub mod findings;
mod heap;
pub mod reference;
pub mod render;
pub mod report;
mod sample;

pub use campaign::{run, Config, Summary, Verdict};
pub use driver::Session;
pub use driver::{
    run_case, run_case_on, run_case_paced, run_case_unscripted, Case, Found, Outcome, Pace, Target,
};
pub use event::{Event, Setup};
pub use reference::{Explore, LinuxProfile, RfcProfile};
pub mod sut;
