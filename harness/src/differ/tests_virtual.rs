//! On a virtual clock (exact timers) the differ gives no grace: a stack there sends what it
//! owes at the instant it owes it, so a reply a millisecond late is late. These fail if the
//! kernel's 18 ms grace comes back for a virtual-clock stack.

use std::time::Duration;

use tcpcheck_model::conn::rules as model_rules;
use tcpcheck_model::profile::Profile;
use tcpcheck_model::timers::TimerPrecision;

use super::tests::{inbound, listening, ms, outbound, ACK, PEER_ISN, STACK_ISN, SYN};
use super::{at_once_grace, grace_for, Differ};

fn exact() -> Profile {
    let mut p = Profile::rfc9293();
    p.timer_precision = TimerPrecision::Exact;
    p
}

#[test]
fn no_grace_on_a_virtual_clock_and_the_kernels_on_a_wheel() {
    assert_eq!(grace_for(TimerPrecision::Exact), Duration::ZERO);
    assert_eq!(Differ::new(exact()).grace(), Duration::ZERO);
    let wheel = Profile::rfc9293();
    assert!(matches!(wheel.timer_precision, TimerPrecision::Wheel(_)));
    assert_eq!(Differ::new(wheel).grace(), at_once_grace());
    // A profile set later (a sysctl) keeps the clock's precision's grace.
    let mut d = Differ::new(Profile::rfc9293());
    d.set_profile(exact());
    assert_eq!(d.grace(), Duration::ZERO);
}

#[test]
fn a_reply_one_millisecond_late_is_missing_on_a_virtual_clock() {
    let t0 = ms(100);
    let synack = outbound(SYN | ACK, STACK_ISN, PEER_ISN.wrapping_add(1));

    // Sent at the instant it is owed: agrees.
    let mut d = listening(exact());
    d.injected(t0, 4, &inbound(SYN, PEER_ISN, 0));
    d.captured(t0, 5, &synack);
    d.finish(t0);
    assert!(d.divergence().is_none(), "{:?}", d.divergence());

    // A millisecond late: missing when it comes (on a kernel's wheel it would be on time).
    let mut d = listening(exact());
    d.injected(t0, 4, &inbound(SYN, PEER_ISN, 0));
    d.captured(t0 + ms(1), 5, &synack);
    let div = d.divergence().expect("a late SYN-ACK diverges");
    assert_eq!(div.line, 4);
    assert_eq!(div.rule, &model_rules::LISTEN_SYN);
    assert!(div.actual.starts_with("nothing by"), "{div}");

    // Never sent: missing once the stack has settled at the same instant.
    let mut d = listening(exact());
    d.injected(t0, 4, &inbound(SYN, PEER_ISN, 0));
    d.advance(t0);
    assert_eq!(d.divergence().map(|d| d.line), Some(4));
}

#[test]
fn the_same_reply_late_by_a_millisecond_is_on_time_on_a_kernel() {
    let t0 = ms(100);
    let mut wheel = Profile::rfc9293();
    wheel.timer_precision = TimerPrecision::default();
    let mut d = listening(wheel);
    d.injected(t0, 4, &inbound(SYN, PEER_ISN, 0));
    d.captured(
        t0 + ms(1),
        5,
        &outbound(SYN | ACK, STACK_ISN, PEER_ISN.wrapping_add(1)),
    );
    d.finish(t0 + ms(1));
    assert!(d.divergence().is_none(), "{:?}", d.divergence());
}
