//! What the `linux_choices_*.rs` tests share: segments with options, a connection brought to
//! ESTABLISHED, and the three ways a test asks the model (it must allow, it must refuse, it
//! must owe something).

use std::collections::BTreeMap;
use std::time::Duration;

use tcpcheck_model::conn::{Connection, Divergence, Seg, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::rule::Label;
use tcpcheck_model::wire::TcpFlags;

pub const SYN: TcpFlags = TcpFlags::SYN;
pub const ACK: TcpFlags = TcpFlags::ACK;
pub const RST: TcpFlags = TcpFlags::RST;
pub const FIN: TcpFlags = TcpFlags::FIN;

/// The sequence number the project's traces use just below the wrap.
pub const NEAR_WRAP: u32 = 4_294_967_290;

pub const MUST_18: Label = Label::Must(18);

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub fn seg(flags: TcpFlags, seq: u32, ack: u32) -> Seg {
    Seg::new(flags, seq, ack, 0)
}

pub fn data(seq: u32, ack: u32, len: u32) -> Seg {
    Seg::new(ACK, seq, ack, len)
}

pub fn ts(mut s: Seg, val: u32, ecr: u32) -> Seg {
    s.options.timestamps = Some((val, ecr));
    s
}

pub fn mss(mut s: Seg, v: u16) -> Seg {
    s.options.mss = Some(v);
    s
}

pub fn wnd(mut s: Seg, w: u16) -> Seg {
    s.wnd = w;
    s
}

pub fn sack_ok(mut s: Seg) -> Seg {
    s.options.sack_permitted = true;
    s
}

pub fn linux_with(name: &str, value: &str) -> Profile {
    let mut sysctls = BTreeMap::new();
    sysctls.insert(name.to_string(), value.to_string());
    Profile::linux(&sysctls).unwrap()
}

/// The model must allow `s` at `at`, and then owe nothing overdue.
#[track_caller]
pub fn sends(c: &mut Connection, at: Duration, s: Seg) {
    if let Err(d) = c.emitted(at, &s) {
        panic!("the model refused {s:?}: {d}");
    }
    if let Err(d) = c.check_overdue(at) {
        panic!("still owed after {s:?}: {d}");
    }
}

/// Whether the stack sending `s` at `at` (then nothing else) is accepted, on a clone.
pub fn accepts(c: &Connection, at: Duration, s: Seg) -> bool {
    let mut c = c.clone();
    c.emitted(at, &s).is_ok() && c.check_overdue(at).is_ok()
}

/// The model must refuse `s` at `at` when it is sent (on a clone); returns why.
#[track_caller]
pub fn refusal(c: &Connection, at: Duration, s: Seg) -> Divergence {
    let mut c = c.clone();
    match c.emitted(at, &s) {
        Err(d) => d,
        Ok(()) => panic!("the model allowed a wrong segment at {at:?}: {s:?}"),
    }
}

/// Saying nothing by `at` is refused: something was owed.
#[track_caller]
pub fn silence_refused(c: &Connection, at: Duration) {
    assert!(
        c.clone().check_overdue(at).is_err(),
        "nothing was owed by {at:?}: {:?}",
        c.obligations()
    );
}

/// Passive open on `p`: the peer's SYN (with `syn`'s options) at IRS `irs`, the stack's
/// SYN-ACK `synack` (ISS from it), the peer's ACK (with `ack`'s options and window) at 10 ms.
pub fn passive(p: Profile, syn: Seg, synack: Seg, ack: Seg) -> Connection {
    let mut c = Connection::new(p);
    c.open_passive(ms(0)).unwrap();
    c.arrive(ms(0), &syn);
    sends(&mut c, ms(0), synack);
    c.arrive(ms(10), &ack);
    assert_eq!(c.state(), State::Established);
    c
}

/// ESTABLISHED, no options, the stack at ISS `s`, the peer at IRS `p`.
pub fn established(prof: Profile, s: u32, p: u32) -> Connection {
    passive(
        prof,
        seg(SYN, p, 0),
        seg(SYN | ACK, s, p.wrapping_add(1)),
        seg(ACK, p.wrapping_add(1), s.wrapping_add(1)),
    )
}
