//! A check must never pass because the model allows anything: each test here feeds the model
//! a stack that gets one thing wrong and shows the model refuses it, beside the right
//! behaviour, which it accepts.

use std::time::Duration;

use tcpcheck_model::conn::{Connection, Seg, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::TcpFlags;

const SYN: TcpFlags = TcpFlags::SYN;
const ACK: TcpFlags = TcpFlags::ACK;
const RST: TcpFlags = TcpFlags::RST;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn seg(flags: TcpFlags, seq: u32, ack: u32) -> Seg {
    Seg::new(flags, seq, ack, 0)
}

/// ESTABLISHED with the stack at SND.NXT 1001 and RCV.NXT 5001 (profile `p`).
fn established(p: Profile) -> Connection {
    let mut c = Connection::new(p);
    c.open_passive(ms(0)).unwrap();
    c.arrive(ms(0), &seg(SYN, 5000, 0));
    c.emitted(ms(0), &seg(SYN | ACK, 1000, 5001)).unwrap();
    c.arrive(ms(0), &seg(ACK, 5001, 1001));
    assert_eq!(c.state(), State::Established);
    c
}

/// Whether the stack sending `s` at `at` (then nothing else) is accepted.
fn accepts(c: &Connection, at: Duration, s: Seg) -> bool {
    let mut c = c.clone();
    c.emitted(at, &s).is_ok() && c.check_overdue(at).is_ok()
}

/// RFC 9293 3.10.7.4 and RFC 5961 3.2: an in-window RST not at RCV.NXT draws a challenge ACK.
#[test]
fn rst_instead_of_challenge_ack_is_refused() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.arrive(ms(1), &seg(RST, 5002, 0));
        assert_eq!(c.state(), State::Established, "the RST must not be taken");
        assert!(accepts(&c, ms(1), seg(ACK, 1001, 5001)));
        assert!(
            !accepts(&c, ms(1), seg(RST, 1001, 0)),
            "RST instead of challenge ACK"
        );
        assert!(!accepts(&c, ms(1), seg(ACK, 1001, 5002)), "ack off by one");
        assert!(
            !accepts(
                &c,
                ms(1),
                seg(ACK | TcpFlags::PSH | TcpFlags::FIN, 1001, 5001)
            ),
            "wrong flag"
        );
        // Saying nothing is refused too.
        let mut silent = c.clone();
        assert!(silent.check_overdue(ms(2)).is_err());
    }
}

/// RFC 5961 4.2: a SYN in ESTABLISHED draws a challenge ACK, not a RST and not a SYN-ACK.
#[test]
fn syn_in_established_needs_a_challenge_ack() {
    let mut c = established(Profile::rfc9293());
    c.arrive(ms(1), &seg(SYN, 7777, 0));
    assert!(accepts(&c, ms(1), seg(ACK, 1001, 5001)));
    assert!(!accepts(&c, ms(1), seg(RST | ACK, 1001, 5001)));
    assert!(!accepts(&c, ms(1), seg(SYN | ACK, 1000, 7778)));
}

/// Linux limits challenge ACKs to one per `tcp_invalid_ratelimit` (500 ms) per socket: a
/// second within the interval is not owed, and one after it is.
#[test]
fn challenge_acks_are_rate_limited() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(RST, 5002, 0));
    c.emitted(ms(1), &seg(ACK, 1001, 5001)).unwrap();
    c.arrive(ms(100), &seg(RST, 5002, 0));
    assert!(
        c.check_overdue(ms(100)).is_ok(),
        "no second challenge ACK within 500 ms"
    );
    c.arrive(ms(600), &seg(RST, 5002, 0));
    assert!(
        c.check_overdue(ms(600)).is_err(),
        "one is owed again after 500 ms"
    );
}

/// RFC 6298 2.1 and 5.5 (MUST-18): the SYN is retransmitted after 1 s, then after 2 s more. A stack
/// retransmitting at 2 s instead of 1 s is refused, and so is one at 0.5 s.
#[test]
fn syn_retransmission_at_two_seconds_instead_of_one_is_refused() {
    let mut c = Connection::new(Profile::rfc9293());
    c.open_active(ms(0)).unwrap();
    c.emitted(ms(0), &seg(SYN, 42, 0)).unwrap();
    // Nothing owed before the timer runs out.
    assert!(c.check_overdue(ms(900)).is_ok());
    // Too early.
    assert!(c.clone().emitted(ms(500), &seg(SYN, 42, 0)).is_err());
    // Too late: by 2 s the 1 s retransmission is overdue.
    assert!(c.clone().check_overdue(ms(2000)).is_err());
    // On time, then the next at 1 + 2 = 3 s.
    c.emitted(ms(1000), &seg(SYN, 42, 0)).unwrap();
    assert!(c.clone().emitted(ms(2000), &seg(SYN, 42, 0)).is_err());
    c.emitted(ms(3000), &seg(SYN, 42, 0)).unwrap();
}

/// Linux's `tcp_syn_linear_timeouts` (4 by default) keeps the first SYN retransmissions 1 s
/// apart; the RFC profile doubles at once.
#[test]
fn linux_linear_syn_timeouts() {
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_active(ms(0)).unwrap();
    c.emitted(ms(0), &seg(SYN, 42, 0)).unwrap();
    for t in [1000, 2000, 3000, 4000] {
        c.emitted(ms(t), &seg(SYN, 42, 0))
            .unwrap_or_else(|d| panic!("at {t} ms: {d}"));
    }
    let mut rfc = Connection::new(Profile::rfc9293());
    rfc.open_active(ms(0)).unwrap();
    rfc.emitted(ms(0), &seg(SYN, 42, 0)).unwrap();
    rfc.emitted(ms(1000), &seg(SYN, 42, 0)).unwrap();
    assert!(rfc.emitted(ms(2000), &seg(SYN, 42, 0)).is_err());
}

/// TIME-WAIT lasts 2 MSL (4 minutes), MUST-13; Linux uses a fixed 60 s.
#[test]
fn time_wait_length_by_profile() {
    for (p, secs) in [(Profile::rfc9293(), 240), (Profile::linux_defaults(), 60)] {
        let mut c = established(p);
        c.close(ms(1)).unwrap();
        c.emitted(ms(1), &seg(TcpFlags::FIN | ACK, 1001, 5001))
            .unwrap();
        c.arrive(ms(2), &seg(TcpFlags::FIN | ACK, 5001, 1002));
        c.emitted(ms(2), &seg(ACK, 1002, 5002)).unwrap();
        assert_eq!(c.state(), State::TimeWait);
        c.poll(ms(2) + Duration::from_secs(secs) - ms(1));
        assert_eq!(c.state(), State::TimeWait);
        c.poll(ms(2) + Duration::from_secs(secs));
        assert_eq!(c.state(), State::Closed);
    }
}

/// Out-of-order data: Linux acknowledges at once (RFC 5681 4.2, MAY-13); the data is held
/// (SHLD-31) and delivered when the hole fills.
#[test]
fn out_of_order_data_is_held_and_acknowledged() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &Seg::new(ACK, 5011, 1001, 10));
    assert_eq!(c.readable(), 0);
    assert!(
        !accepts(&c, ms(1), seg(ACK, 1001, 5021)),
        "cannot acknowledge beyond the hole"
    );
    c.emitted(ms(1), &seg(ACK, 1001, 5001)).unwrap();
    c.arrive(ms(2), &Seg::new(ACK, 5001, 1001, 10));
    assert_eq!(c.readable(), 20);
    assert_eq!(c.tcb().rcv_nxt.0, 5021);
    assert!(c.out_of_order().is_empty());
}

/// An MSS option outside a SYN is refused (MUST-65); in the SYN it is fine (MUST-14).
#[test]
fn mss_only_in_syn() {
    let mut c = established(Profile::rfc9293());
    c.arrive(ms(1), &Seg::new(ACK, 5001, 1001, 10));
    let mut with_mss = seg(ACK, 1001, 5011);
    with_mss.options.mss = Some(1460);
    assert!(!accepts(&c, ms(1), with_mss));
    assert!(accepts(&c, ms(1), seg(ACK, 1001, 5011)));
    let mut a = Connection::new(Profile::rfc9293());
    a.open_active(ms(0)).unwrap();
    let mut syn = seg(SYN, 7, 0);
    syn.options.mss = Some(1460);
    assert!(a.emitted(ms(0), &syn).is_ok());
}

/// The whole SYN schedule, then giving up (MUST-20): Linux's defaults send SYNs at 0, 1, 2,
/// 3, 4, 5, 7, 11, 19, 35 and 67 s and fail the connect at 131 s; with
/// `tcp_syn_linear_timeouts` 0, at 0, 1, 3, 7, 15, 31, 63 s and fail at 127 s.
#[test]
fn syn_schedule_and_give_up() {
    use std::collections::BTreeMap;
    use tcpcheck_model::conn::Report;
    let linear0: BTreeMap<String, String> = [(
        "net.ipv4.tcp_syn_linear_timeouts".to_string(),
        "0".to_string(),
    )]
    .into();
    for (profile, sends, give_up) in [
        (
            Profile::linux_defaults(),
            vec![1, 2, 3, 4, 5, 7, 11, 19, 35, 67],
            131,
        ),
        (
            Profile::linux(&linear0).unwrap(),
            vec![1, 3, 7, 15, 31, 63],
            127,
        ),
    ] {
        let mut c = Connection::new(profile);
        c.open_active(ms(0)).unwrap();
        c.emitted(ms(0), &seg(SYN, 42, 0)).unwrap();
        for s in &sends {
            c.emitted(Duration::from_secs(*s), &seg(SYN, 42, 0))
                .unwrap_or_else(|d| panic!("SYN at {s} s: {d}"));
        }
        assert!(
            c.check_overdue(Duration::from_secs(give_up) - ms(10))
                .is_ok(),
            "nothing more owed"
        );
        assert_eq!(c.state(), State::SynSent);
        c.poll(Duration::from_secs(give_up));
        assert_eq!(c.state(), State::Closed);
        assert!(c.reports().contains(&Report::TimedOut));
    }
}

/// RFC 9293 3.10.8: the user timeout aborts a connection whose data stays unacknowledged.
#[test]
fn user_timeout_aborts() {
    use tcpcheck_model::conn::Report;
    let mut c = established(Profile::linux_defaults());
    c.set_user_timeout(Some(Duration::from_secs(5)));
    c.send(ms(10), 100).unwrap();
    c.emitted(ms(10), &Seg::new(ACK | TcpFlags::PSH, 1001, 5001, 100))
        .unwrap();
    c.poll(ms(5009));
    assert_eq!(c.state(), State::Established);
    c.poll(ms(5010));
    assert_eq!(c.state(), State::Closed);
    assert!(c.reports().contains(&Report::TimedOut));
    assert_eq!(
        c.status(),
        Err(tcpcheck_model::conn::UserError::DoesNotExist)
    );
}

/// Negotiated options bind what every later segment carries (RFC 7323 3.2, RFC 2018).
#[test]
fn negotiated_options_are_enforced() {
    // Both SYNs carry timestamps and SACK-permitted.
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_passive(ms(0)).unwrap();
    let mut syn = seg(SYN, 5000, 0);
    syn.options.timestamps = Some((100, 0));
    syn.options.sack_permitted = true;
    c.arrive(ms(0), &syn);
    let mut synack = seg(SYN | ACK, 1000, 5001);
    synack.options.timestamps = Some((7, 100));
    synack.options.sack_permitted = true;
    c.emitted(ms(0), &synack).unwrap();
    let mut ack = seg(ACK, 5001, 1001);
    ack.options.timestamps = Some((101, 7));
    c.arrive(ms(1), &ack);
    // Out-of-order data: the ACK must carry TS and, on Linux, a SACK block for it.
    let mut ooo = Seg::new(ACK, 5011, 1001, 10);
    ooo.options.timestamps = Some((102, 7));
    c.arrive(ms(2), &ooo);
    let bare = seg(ACK, 1001, 5001);
    assert!(!accepts(&c, ms(2), bare), "no TSopt although negotiated");
    let mut ts_only = bare;
    ts_only.options.timestamps = Some((8, 102));
    assert!(
        !accepts(&c, ms(2), ts_only),
        "no SACK block while data is held"
    );
    let mut good = ts_only;
    good.options.sack =
        tcpcheck_model::wire::SackBlocks::new(&[tcpcheck_model::wire::SackBlock::new(5011, 5021)]);
    assert!(accepts(&c, ms(2), good));
    let mut wrong_block = ts_only;
    wrong_block.options.sack =
        tcpcheck_model::wire::SackBlocks::new(&[tcpcheck_model::wire::SackBlock::new(5011, 5031)]);
    assert!(
        !accepts(&c, ms(2), wrong_block),
        "a block beyond the data held"
    );
    let mut clock_back = good;
    clock_back.options.timestamps = Some((6, 102));
    assert!(!accepts(&c, ms(2), clock_back), "TSval went back");
    let mut bad_echo = good;
    bad_echo.options.timestamps = Some((8, 55));
    assert!(
        !accepts(&c, ms(2), bad_echo),
        "TSecr echoes nothing the peer sent"
    );
}
