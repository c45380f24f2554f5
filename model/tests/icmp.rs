//! ICMP errors reaching a connection (RFC 9293 3.9.2.2, RFC 5927 4.1) on both profiles.

use std::time::Duration;

use tcpcheck_model::conn::icmp::{IcmpClass, IcmpEffect, IcmpError};
use tcpcheck_model::conn::{Connection, Seg, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::seq::SeqNumber;
use tcpcheck_model::wire::TcpFlags;

const ISS: u32 = 7000;

fn syn_sent(profile: Profile) -> Connection {
    let mut c = Connection::new(profile);
    c.open_active(Duration::ZERO).unwrap();
    c.emitted(Duration::ZERO, &Seg::new(TcpFlags::SYN, ISS, 0, 0))
        .unwrap();
    c
}

fn error(class: IcmpClass, icmp_type: u8, code: u8, seq: u32) -> IcmpError {
    IcmpError {
        class,
        v6: false,
        icmp_type,
        code,
        seq: SeqNumber(seq),
    }
}

#[test]
fn syn_sent_soft_error_aborts_on_linux_only() {
    let soft = error(IcmpClass::Soft, 3, 1, ISS);
    let mut linux = syn_sent(Profile::linux_defaults());
    assert_eq!(linux.icmp_error(Duration::ZERO, &soft), IcmpEffect::Aborted);
    assert_eq!(linux.state(), State::Closed);
    // RFC 9293 3.9.2.2: MUST-56, the attempt goes on; the SYN is still owed again.
    let mut rfc = syn_sent(Profile::rfc9293());
    assert_eq!(rfc.icmp_error(Duration::ZERO, &soft), IcmpEffect::NoAbort);
    assert_eq!(rfc.state(), State::SynSent);
    assert!(!rfc.obligations().is_empty());
}

#[test]
fn hard_errors_abort_and_quench_is_discarded() {
    let hard = error(IcmpClass::Hard, 3, 3, ISS);
    for p in [Profile::linux_defaults(), Profile::rfc9293()] {
        let mut c = syn_sent(p);
        assert_eq!(c.icmp_error(Duration::ZERO, &hard), IcmpEffect::Aborted);
        assert!(c.obligations().is_empty(), "no SYN after the abort");
    }
    let quench = error(IcmpClass::SourceQuench, 4, 0, ISS);
    let mut c = syn_sent(Profile::rfc9293());
    assert_eq!(c.icmp_error(Duration::ZERO, &quench), IcmpEffect::Discarded);
    assert_eq!(c.state(), State::SynSent);
}

#[test]
fn an_error_quoting_a_sequence_number_not_in_flight_is_ignored() {
    let hard = error(IcmpClass::Hard, 3, 3, ISS + 1000);
    let mut c = syn_sent(Profile::rfc9293());
    assert!(matches!(
        c.icmp_error(Duration::ZERO, &hard),
        IcmpEffect::Ignored(_)
    ));
    assert_eq!(c.state(), State::SynSent);
}

#[test]
fn packet_too_big_is_not_followed() {
    let ptb = error(IcmpClass::PacketTooBig { mtu: 1000 }, 3, 4, ISS);
    let mut c = syn_sent(Profile::linux_defaults());
    assert!(matches!(
        c.icmp_error(Duration::ZERO, &ptb),
        IcmpEffect::NotFollowed(_)
    ));
}

#[test]
fn classes_follow_rfc_9293_3_9_2_2() {
    use std::net::SocketAddr;
    use tcpcheck_model::wire::icmp::{IcmpRepr, QuotedTcp};
    let class = |v6: bool, t: u8, c: u8| {
        let (s, d): (SocketAddr, SocketAddr) = if v6 {
            (
                "[2001:db8::1]:8080".parse().unwrap(),
                "[2001:db8::2]:1".parse().unwrap(),
            )
        } else {
            (
                "192.0.2.1:8080".parse().unwrap(),
                "192.0.2.2:1".parse().unwrap(),
            )
        };
        let body = IcmpRepr::quote_tcp(
            QuotedTcp {
                src: s,
                dst: d,
                seq: 5,
            },
            0,
        );
        let m = IcmpRepr {
            src: d.ip(),
            dst: s.ip(),
            icmp_type: t,
            code: c,
            rest: 1280,
            body,
        };
        let e = IcmpError::of(&m).expect("quotes TCP");
        assert_eq!(e.seq, SeqNumber(5));
        e.class
    };
    for c in [0, 1, 5] {
        assert_eq!(
            class(false, 3, c),
            IcmpClass::Soft,
            "v4 unreachable code {c}"
        );
    }
    for c in [2, 3] {
        assert_eq!(
            class(false, 3, c),
            IcmpClass::Hard,
            "v4 unreachable code {c}"
        );
    }
    assert_eq!(class(false, 3, 4), IcmpClass::PacketTooBig { mtu: 1280 });
    assert_eq!(class(false, 4, 0), IcmpClass::SourceQuench);
    assert_eq!(class(false, 11, 0), IcmpClass::Soft);
    assert_eq!(class(true, 1, 0), IcmpClass::Soft);
    assert_eq!(class(true, 1, 4), IcmpClass::Hard);
    assert_eq!(class(true, 2, 0), IcmpClass::PacketTooBig { mtu: 1280 });
    assert_eq!(class(true, 4, 1), IcmpClass::Soft);
}
