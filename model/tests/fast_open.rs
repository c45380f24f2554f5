//! The passive Fast Open connection (RFC 7413 4.2): the listener's decision changes what the
//! SYN-ACK must carry and acknowledge.

use std::time::Duration;

use tcpcheck_model::conn::fast_open::{Cookie, SynFastOpen};
use tcpcheck_model::conn::{Connection, Seg, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::TcpFlags;

const COOKIE: [u8; 8] = [0xb3, 0xf9, 0x36, 0xa5, 0x1b, 0xae, 0xaf, 0x84];

fn listening(decision: SynFastOpen) -> Connection {
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_passive(Duration::ZERO).unwrap();
    c.set_fast_open(decision);
    let mut syn = Seg::new(TcpFlags::SYN, 1000, 0, 10);
    syn.options.mss = Some(1460);
    c.arrive(Duration::ZERO, &syn);
    c
}

fn synack(ack: u32, cookie: Option<Cookie>) -> Seg {
    let mut s = Seg::new(TcpFlags::SYN | TcpFlags::ACK, 5000, ack, 0);
    s.options.mss = Some(1460);
    s.options.fast_open = cookie;
    s
}

#[test]
fn an_accepted_syn_has_its_data_acknowledged_and_readable() {
    let mut c = listening(SynFastOpen::Accept);
    assert!(c.is_fast_open_child());
    // The SYN-ACK that acks only the SYN is not the one owed.
    assert!(c
        .clone()
        .emitted(Duration::ZERO, &synack(1001, None))
        .is_err());
    c.emitted(Duration::ZERO, &synack(1011, None)).unwrap();
    assert_eq!(c.state(), State::SynReceived);
    assert_eq!(c.readable(), 10);
}

#[test]
fn a_cookie_request_is_answered_with_the_cookie() {
    let decision = SynFastOpen::SendCookie {
        cookie: Some(COOKIE.to_vec()),
        exp: false,
    };
    let c = listening(decision);
    assert!(!c.is_fast_open_child());
    let right = Cookie::new(&COOKIE, false);
    c.clone()
        .emitted(Duration::ZERO, &synack(1001, right))
        .unwrap();
    // None at all, another value, or the other form: each diverges.
    let err = c
        .clone()
        .emitted(Duration::ZERO, &synack(1001, None))
        .unwrap_err();
    assert_eq!(err.rule.section, "4.2.1");
    let wrong = Cookie::new(&[1; 8], false);
    assert!(c
        .clone()
        .emitted(Duration::ZERO, &synack(1001, wrong))
        .is_err());
    let exp = Cookie::new(&COOKIE, true);
    assert!(c
        .clone()
        .emitted(Duration::ZERO, &synack(1001, exp))
        .is_err());
    assert_eq!(c.readable(), 0);
}
