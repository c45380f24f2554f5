//! The connection state machine of RFC 9293 §3.10, as a sans-IO model of the stack under
//! test: user calls and arriving segments in, allowed segments out.

mod expect;
pub mod fast_open;
pub mod fast_open_client;
pub mod icmp;
mod machine;
mod negotiate;
pub mod rules;
mod segment;
pub mod state;

pub use expect::{
    ctl_names, Actual, Choice, Divergence, Due, LenSpec, Obligation, ObligationKind,
    OptionsRequired, Required, SegSpec, SeqSpec,
};
pub use machine::{Connection, Report, StateTimer, Status, Tcb, UserError};
pub use negotiate::{Negotiation, SynOptions};
pub use segment::{Seg, SegOptions};
pub use state::State;
