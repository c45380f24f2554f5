//! ECN negotiation on the linux profile follows net.ipv4.tcp_ecn (RFC 3168 6.1.1).

use std::collections::BTreeMap;
use std::time::Duration;

use tcpcheck_model::conn::{Connection, Seg};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::TcpFlags;

fn linux(ecn: &str) -> Profile {
    let s = BTreeMap::from([("net.ipv4.tcp_ecn".to_string(), ecn.to_string())]);
    Profile::linux(&s).unwrap()
}

fn after_syn(profile: Profile, flags: TcpFlags) -> Connection {
    let mut c = Connection::new(profile);
    c.open_passive(Duration::ZERO).unwrap();
    c.arrive(Duration::ZERO, &Seg::new(flags, 100, 0, 0));
    c
}

fn synack(extra: TcpFlags) -> Seg {
    Seg::new(TcpFlags::SYN | TcpFlags::ACK | extra, 9000, 101, 0)
}

#[test]
fn an_ecn_setup_syn_gets_ece_unless_ecn_is_off() {
    let setup = TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR;
    for mode in ["1", "2"] {
        let c = after_syn(linux(mode), setup);
        c.clone()
            .emitted(Duration::ZERO, &synack(TcpFlags::ECE))
            .unwrap();
        assert!(c
            .clone()
            .emitted(Duration::ZERO, &synack(TcpFlags::empty()))
            .is_err());
    }
    let off = after_syn(linux("0"), setup);
    off.clone()
        .emitted(Duration::ZERO, &synack(TcpFlags::empty()))
        .unwrap();
    assert!(off
        .clone()
        .emitted(Duration::ZERO, &synack(TcpFlags::ECE))
        .is_err());
    // A plain SYN is never answered with ECE.
    let plain = after_syn(linux("2"), TcpFlags::SYN);
    assert!(plain
        .clone()
        .emitted(Duration::ZERO, &synack(TcpFlags::ECE))
        .is_err());
    // The standard leaves it to the stack.
    let rfc = after_syn(Profile::rfc9293(), setup);
    rfc.clone()
        .emitted(Duration::ZERO, &synack(TcpFlags::ECE))
        .unwrap();
    rfc.clone()
        .emitted(Duration::ZERO, &synack(TcpFlags::empty()))
        .unwrap();
}

#[test]
fn an_active_open_asks_for_ecn_when_tcp_ecn_is_1() {
    let syn = |flags| Seg::new(flags, 9000, 0, 0);
    let mut asks = Connection::new(linux("1"));
    asks.open_active(Duration::ZERO).unwrap();
    assert!(asks
        .clone()
        .emitted(Duration::ZERO, &syn(TcpFlags::SYN))
        .is_err());
    asks.emitted(
        Duration::ZERO,
        &syn(TcpFlags::SYN | TcpFlags::ECE | TcpFlags::CWR),
    )
    .unwrap();
    let mut quiet = Connection::new(linux("2"));
    quiet.open_active(Duration::ZERO).unwrap();
    quiet.emitted(Duration::ZERO, &syn(TcpFlags::SYN)).unwrap();
}
