//! tcpcheck's reference model of TCP, sans-IO.
//!
//! Nothing here opens a socket, reads a clock or starts a thread: packets come in as bytes,
//! time comes in as an argument, and what a stack may do comes out as data. That keeps the
//! model deterministic, fuzzable and fast, and lets the harness drive any stack with it.
//!
//! # Module map
//!
//! - [`wire`]: the codec. IPv4 and IPv6 headers, the TCP header and its options, checksums,
//!   parsed into typed representations and emitted back, with errors that name the field.
//! - [`seq`]: sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4) and the acceptability
//!   test of §3.3.2.
//! - [`rule`]: a rule as the model cites it (source, section, Appendix B labels, what it
//!   says), a value a harness compares, shown as the citation's text.
//! - [`profile`]: whose rules apply. The numbers a rule reads (RTO bounds, retries, timers,
//!   the Linux sysctls) and, in [`profile::behaviour`], the behaviour switches: each place
//!   where Linux departs from RFC 9293, or narrows what it leaves open, as one named field.
//! - [`timers`]: the RFC 6298 retransmission timeout (`rto.rs`), the retransmission
//!   schedules each profile expects (`schedule.rs`), and the window a real kernel's timers
//!   fire within (`window.rs`, `precision.rs`: a timer wheel's, or exact on a virtual clock).
//! - [`address`]: which remote addresses TCP opens to and takes segments from (RFC 9293
//!   3.9.1.1, 3.9.2.3): broadcast, multicast and invalid sources.
//! - [`listener`]: a listening socket's queues (SYN backlog, accept queue, SYN cookies).
//! - [`conn`]: one connection, RFC 9293 §3.10. [`conn::Connection`] takes user calls and
//!   arriving segments, checks every segment the stack sends against the
//!   [`conn::Obligation`]s and allowances, and reports a [`conn::Divergence`]: the rule,
//!   what the model required ([`conn::Required`]: an owed segment's spec, nothing, an
//!   option rule) and what the stack did ([`conn::Actual`]). `expect.rs` holds these types,
//!   [`conn::rules`] every rule the connection cites, one constant each, `negotiate.rs`
//!   the options the SYNs negotiate, `segment.rs` the segment as the machine reads it,
//!   `state.rs` the states, [`conn::icmp`] the classes of ICMP errors, and
//!   [`conn::fast_open`] and [`conn::fast_open_client`] what outlives a connection in RFC
//!   7413 (the server's decision on a SYN, the client's cookie cache). Inside,
//!   `conn/machine/` is split by concern:
//!   - `mod.rs`: the connection's variables, grouped (handshake, record, send, receive,
//!     options, timestamps, Linux socket state, timers, keep-alive, branches);
//!   - `user.rs`: OPEN, SEND, RECEIVE, CLOSE, ABORT, STATUS;
//!   - `arrive/`: SEGMENT ARRIVES, one file per state group (`closed`, `listen`,
//!     `syn_sent`, Linux's `request` socket, `time_wait`), and for SYN-RECEIVED and the
//!     synchronized states one file per step of §3.10.7.4 (`sequence`, `rst`, `syn`,
//!     `ack`, `window`, `text`, `fin`), with Linux's header prediction in `fast_path`;
//!   - `reassembly.rs`: the out-of-order queue, a type of its own;
//!   - `urgent.rs`: where the urgent pointer puts the out-of-band byte, and reads around it;
//!   - `options.rs`: what the SYNs negotiated and the option rules for what the stack sends;
//!   - `ecn.rs`: ECN negotiation (RFC 3168 6.1.1);
//!   - `fast_open.rs`, `fast_open_active.rs`: a passive and an active Fast Open connection;
//!   - `icmp.rs`: an ICMP error reaching the connection it quotes, on each profile;
//!   - `own.rs`: the stack's own segments, checked then applied, and what is overdue;
//!   - `deadlines.rs`: retransmission and keep-alive (owed segments with a due time), and
//!     the deadlines that end a state or the connection, as one table (`DEADLINES`);
//!   - `state_timer.rs`: the next timer that moves the state, and the window it fires in;
//!   - `rfc5961.rs`: challenge ACKs and their rate limit;
//!   - `branches.rs`: the public calls, run on every branch the model follows where the
//!     wire has not yet shown which path Linux took.
//! - `oracle` (feature `oracle`): checks of the model against itself for the fuzz targets.

// The planted bugs make the model wrong on purpose, each for the one test that must find it
// (harness/tests/explore_planted.rs, states_planted.rs). With either on, the rest of the
// suite fails where the planted rule decides (16 and 19 model tests, and the corpus), so
// `cargo test --workspace --all-features` could only report failures that mean nothing. It
// is refused here instead, with how to run what the features are for.
#[cfg(all(feature = "planted-bug", feature = "planted-state-bug"))]
compile_error!(
    "the features planted-bug and planted-state-bug each plant a model bug for one test, and \
     the rest of the suite fails under either: do not build them together (not \
     --all-features). Run `cargo test --workspace` for the suite, then each planted test with \
     its own feature: `cargo test -p tcpcheck --features planted-bug --test explore_planted`, \
     `cargo test -p tcpcheck --features planted-state-bug --test states_planted`."
);

pub mod address;
pub mod conn;
pub mod listener;
pub mod profile;
pub mod rule;
pub mod seq;
pub mod timers;
pub mod wire;

#[cfg(feature = "oracle")]
pub mod oracle;
