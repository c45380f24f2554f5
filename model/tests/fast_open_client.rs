//! The active Fast Open connection (RFC 7413 3, 4.1.3, 4.2): a cookie request, the cached
//! cookie with data, a server that does not acknowledge the data, and the fallbacks.

use std::net::IpAddr;
use std::time::Duration;

use tcpcheck_model::conn::fast_open::{Cookie, FastOpenSettings};
use tcpcheck_model::conn::fast_open_client::{ClientDecision, FastOpenClient, SynPlan};
use tcpcheck_model::conn::{Connection, ObligationKind, Seg, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::TcpFlags;

const ISS: u32 = 7000;
const COOKIE: [u8; 4] = [0xab, 0xcd, 0x12, 0x34];

fn server() -> IpAddr {
    "192.0.2.2".parse().unwrap()
}

fn settings() -> FastOpenSettings {
    Profile::linux_defaults().fast_open
}

fn plan(cache: &FastOpenClient) -> SynPlan {
    match cache.plan(settings(), server(), false) {
        ClientDecision::Syn(p) => p,
        other => panic!("the client side is on by default: {other:?}"),
    }
}

/// An active open with `plan`, `offered` bytes of which `syn_data` went on the SYN.
fn opened(plan: SynPlan, offered: u32, syn_data: u32) -> Connection {
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_active_fast_open(Duration::ZERO, plan, offered, syn_data)
        .unwrap();
    c
}

fn syn(len: u32, cookie: Option<Cookie>) -> Seg {
    let mut s = Seg::new(TcpFlags::SYN, ISS, 0, len);
    s.options.mss = Some(1460);
    s.options.fast_open = cookie;
    s
}

fn synack(ack: u32, mss: u16, cookie: Option<Cookie>) -> Seg {
    let mut s = Seg::new(TcpFlags::SYN | TcpFlags::ACK, 500, ack, 0);
    s.options.mss = Some(mss);
    s.options.fast_open = cookie;
    s
}

fn cookie() -> Option<Cookie> {
    Cookie::new(&COOKIE, false)
}

/// The cache after a cookie request answered with `COOKIE` and MSS `mss`.
fn warmed(mss: u16) -> FastOpenClient {
    let mut cache = FastOpenClient::default();
    let mut c = opened(plan(&cache), 0, 0);
    c.emitted(Duration::ZERO, &syn(0, Cookie::new(&[], false)))
        .unwrap();
    c.arrive(Duration::from_millis(10), &synack(ISS + 1, mss, cookie()));
    cache.learn(server(), c.take_fast_open_learned().unwrap());
    cache
}

#[test]
fn without_a_cookie_the_syn_requests_one_and_carries_no_data() {
    let cache = FastOpenClient::default();
    let p = plan(&cache);
    assert_eq!(p, SynPlan::Request { exp: false });
    let c = opened(p, 0, 0);
    // RFC 7413 4.2.1: an empty Fast Open option; none, or a cookie, diverges.
    c.clone()
        .emitted(Duration::ZERO, &syn(0, Cookie::new(&[], false)))
        .unwrap();
    let err = c
        .clone()
        .emitted(Duration::ZERO, &syn(0, None))
        .unwrap_err();
    assert_eq!(err.rule.section, "4.2.2");
    assert!(c
        .clone()
        .emitted(Duration::ZERO, &syn(0, cookie()))
        .is_err());
    // The SYN-ACK's cookie and MSS are cached for the next connection (RFC 7413 4.1.3).
    let cache = warmed(940);
    assert!(matches!(plan(&cache), SynPlan::Cookie { cookie: c, .. } if c.as_slice() == COOKIE));
}

#[test]
fn a_cached_cookie_goes_with_data_up_to_the_cached_mss() {
    let cache = warmed(940);
    let p = plan(&cache);
    // Linux: 940 - 40 bytes of option space.
    let mut c = opened(p, 1900, 900);
    let wrong = c.clone().emitted(Duration::ZERO, &syn(1000, cookie()));
    assert!(wrong.is_err(), "the SYN carries what the call returned");
    let short = opened(p, 1900, 800)
        .emitted(Duration::ZERO, &syn(800, cookie()))
        .unwrap_err();
    assert!(short.rule.to_string().contains("tcp_send_syn_data"));
    c.emitted(Duration::ZERO, &syn(900, cookie())).unwrap();
    assert_eq!(c.tcb().snd_nxt.0, ISS + 901);
    // The server accepts the data: its SYN-ACK acknowledges it all; a pure ACK follows.
    c.arrive(Duration::from_millis(10), &synack(ISS + 901, 1460, None));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.tcb().snd_una.0, ISS + 901);
    let ack = Seg::new(TcpFlags::ACK, ISS + 901, 501, 0);
    c.emitted(Duration::from_millis(10), &ack).unwrap();
    c.check_overdue(Duration::from_millis(20)).unwrap();
}

#[test]
fn data_the_synack_does_not_acknowledge_is_sent_again_at_once() {
    let cache = warmed(1460);
    let mut c = opened(plan(&cache), 700, 700);
    c.emitted(Duration::ZERO, &syn(700, cookie())).unwrap();
    let t = Duration::from_millis(20);
    // RFC 7413 4.2.2: the server acknowledges only the SYN.
    c.arrive(t, &synack(ISS + 1, 1040, None));
    assert_eq!(c.state(), State::Established);
    let owed = c
        .obligations()
        .iter()
        .find(|e| e.spec.len != tcpcheck_model::conn::LenSpec::Exact(0))
        .expect("the data is owed again");
    assert_eq!(owed.kind, ObligationKind::Reply);
    // Nothing sent: the retransmission is missing.
    assert!(c
        .clone()
        .check_overdue(t + Duration::from_millis(1))
        .is_err());
    let again = Seg::new(TcpFlags::ACK | TcpFlags::PSH, ISS + 1, 501, 700);
    c.emitted(t, &again).unwrap();
    c.check_overdue(t + Duration::from_millis(1)).unwrap();
    // The SYN-ACK's cookie was absent: the cache keeps the old one.
    let learned = c.take_fast_open_learned().unwrap();
    assert_eq!(learned.cookie, None);
    assert_eq!(learned.mss, Some(1040));
}

#[test]
fn fallbacks_no_cookie_answer_and_syn_timeout() {
    // RFC 7413 4.1.3.1: a request that drew no cookie; Linux asks in the other form next.
    let mut cache = FastOpenClient::default();
    let mut c = opened(plan(&cache), 0, 0);
    c.emitted(Duration::ZERO, &syn(0, Cookie::new(&[], false)))
        .unwrap();
    c.arrive(Duration::from_millis(10), &synack(ISS + 1, 1460, None));
    cache.learn(server(), c.take_fast_open_learned().unwrap());
    assert_eq!(plan(&cache), SynPlan::Request { exp: true });

    // A SYN that times out goes again without its option or data (Linux
    // tcp_send_syn_data()); the SYN-ACK still teaches the cookie.
    let cache = warmed(1460);
    let mut c = opened(plan(&cache), 1000, 1000);
    c.emitted(Duration::ZERO, &syn(1000, cookie())).unwrap();
    let rto = Duration::from_secs(1);
    assert!(c
        .clone()
        .emitted(rto, &syn(0, cookie()))
        .is_err_and(|e| e.rule.to_string().contains("without its option")));
    c.emitted(rto, &syn(0, None)).unwrap();
    c.arrive(
        rto + Duration::from_millis(10),
        &synack(ISS + 1, 1460, cookie()),
    );
    let learned = c.take_fast_open_learned().unwrap();
    assert_eq!(learned.try_exp, 0);
    assert_eq!(learned.cookie, cookie());
    // The data goes after the handshake.
    let again = Seg::new(TcpFlags::ACK, ISS + 1, 501, 1000);
    c.emitted(rto + Duration::from_millis(10), &again).unwrap();
}

#[test]
fn a_disabled_client_and_the_no_cookie_mode() {
    let cache = FastOpenClient::default();
    let off = FastOpenSettings {
        sysctl: Some(0x2),
        ..settings()
    };
    assert_eq!(cache.plan(off, server(), false), ClientDecision::Disabled);
    // TFO_CLIENT_NO_COOKIE: data on the SYN, no option at all.
    let no_cookie = FastOpenSettings {
        sysctl: Some(0x5),
        ..settings()
    };
    let ClientDecision::Syn(p) = cache.plan(no_cookie, server(), false) else {
        panic!("on");
    };
    let c = opened(p, 100, 100);
    c.clone().emitted(Duration::ZERO, &syn(100, None)).unwrap();
    assert!(c
        .clone()
        .emitted(Duration::ZERO, &syn(100, Cookie::new(&[], false)))
        .is_err());
}

#[test]
fn syn_retries_set_after_the_syn_time_it_anew() {
    // packetdrill's client scripts set TCP_SYNCNT to 1 right after sendto(MSG_FASTOPEN):
    // one retransmission, then the open gives up at 3 s (Linux reads it when the timer
    // fires). Without tcp_syn_linear_timeouts, for a plain doubling.
    let cache = warmed(1460);
    let mut profile = Profile::linux_defaults();
    profile.syn_linear_timeouts = 0;
    let mut c = Connection::new(profile);
    c.open_active_fast_open(Duration::ZERO, plan(&cache), 2000, 1420)
        .unwrap();
    c.emitted(Duration::ZERO, &syn(1420, cookie())).unwrap();
    let mut six = c.clone();
    c.set_syn_retries(1);
    let rto = Duration::from_secs(1);
    c.emitted(rto, &syn(0, None)).unwrap();
    six.emitted(rto, &syn(0, None)).unwrap();
    c.check_overdue(Duration::from_secs(10)).unwrap();
    assert_eq!(c.state(), State::Closed);
    // With the default count the SYN is owed again at 3 s.
    assert!(six.check_overdue(Duration::from_secs(10)).is_err());
}
