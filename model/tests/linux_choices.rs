//! The rules added for Linux's documented choices and the RFC clauses behind them: PAWS,
//! the half-duplex close, the orphaned FIN-WAIT-2 timeout, reopening from TIME-WAIT, the IPv6
//! default MSS, probes, the repeated SYN, the SYN-SENT rearm, RFC 5961 5.2 as Linux bounds
//! it, the simultaneous-open TSopt and the tail loss probe.
//!
//! Each test shows the allowed behaviour passing and a wrong one refused, so none of them can
//! pass because the model allows anything. Sequence numbers sit near 2^32 where a rule does
//! arithmetic on them, so the wrap is crossed.

use std::collections::BTreeMap;
use std::time::Duration;

use tcpcheck_model::conn::{rules, Connection, Divergence, Report, Seg, State};
use tcpcheck_model::profile::{KeepAlive, Profile};
use tcpcheck_model::rule::{Label, Source};
use tcpcheck_model::timers::timer_tolerance;
use tcpcheck_model::wire::TcpFlags;

const SYN: TcpFlags = TcpFlags::SYN;
const ACK: TcpFlags = TcpFlags::ACK;
const RST: TcpFlags = TcpFlags::RST;
const FIN: TcpFlags = TcpFlags::FIN;

/// The sequence number the project's traces use just below the wrap.
const NEAR_WRAP: u32 = 4_294_967_290;

const MUST_18: Label = Label::Must(18);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn seg(flags: TcpFlags, seq: u32, ack: u32) -> Seg {
    Seg::new(flags, seq, ack, 0)
}

fn data(seq: u32, ack: u32, len: u32) -> Seg {
    Seg::new(ACK, seq, ack, len)
}

fn ts(mut s: Seg, val: u32, ecr: u32) -> Seg {
    s.options.timestamps = Some((val, ecr));
    s
}

fn mss(mut s: Seg, v: u16) -> Seg {
    s.options.mss = Some(v);
    s
}

fn wnd(mut s: Seg, w: u16) -> Seg {
    s.wnd = w;
    s
}

fn sack_ok(mut s: Seg) -> Seg {
    s.options.sack_permitted = true;
    s
}

fn linux_with(name: &str, value: &str) -> Profile {
    let mut sysctls = BTreeMap::new();
    sysctls.insert(name.to_string(), value.to_string());
    Profile::linux(&sysctls).unwrap()
}

/// The model must allow `s` at `at`, and then owe nothing overdue.
#[track_caller]
fn sends(c: &mut Connection, at: Duration, s: Seg) {
    if let Err(d) = c.emitted(at, &s) {
        panic!("the model refused {s:?}: {d}");
    }
    if let Err(d) = c.check_overdue(at) {
        panic!("still owed after {s:?}: {d}");
    }
}

/// Whether the stack sending `s` at `at` (then nothing else) is accepted, on a clone.
fn accepts(c: &Connection, at: Duration, s: Seg) -> bool {
    let mut c = c.clone();
    c.emitted(at, &s).is_ok() && c.check_overdue(at).is_ok()
}

/// The model must refuse `s` at `at` when it is sent (on a clone); returns why.
#[track_caller]
fn refusal(c: &Connection, at: Duration, s: Seg) -> Divergence {
    let mut c = c.clone();
    match c.emitted(at, &s) {
        Err(d) => d,
        Ok(()) => panic!("the model allowed a wrong segment at {at:?}: {s:?}"),
    }
}

/// Saying nothing by `at` is refused: something was owed.
#[track_caller]
fn silence_refused(c: &Connection, at: Duration) {
    assert!(
        c.clone().check_overdue(at).is_err(),
        "nothing was owed by {at:?}: {:?}",
        c.obligations()
    );
}

/// Passive open on `p`: the peer's SYN (with `syn`'s options) at IRS `irs`, the stack's
/// SYN-ACK `synack` (ISS from it), the peer's ACK (with `ack`'s options and window) at 10 ms.
fn passive(p: Profile, syn: Seg, synack: Seg, ack: Seg) -> Connection {
    let mut c = Connection::new(p);
    c.open_passive(ms(0)).unwrap();
    c.arrive(ms(0), &syn);
    sends(&mut c, ms(0), synack);
    c.arrive(ms(10), &ack);
    assert_eq!(c.state(), State::Established);
    c
}

/// ESTABLISHED, no options, the stack at ISS `s`, the peer at IRS `p`.
fn established(prof: Profile, s: u32, p: u32) -> Connection {
    passive(
        prof,
        seg(SYN, p, 0),
        seg(SYN | ACK, s, p.wrapping_add(1)),
        seg(ACK, p.wrapping_add(1), s.wrapping_add(1)),
    )
}

/// RFC 7323 5.3 R1 (PAWS): once timestamps are on, a segment whose TSval is older than
/// TS.Recent is acknowledged (ACK = RCV.NXT as it was) and dropped; the same data with a newer
/// TSval is taken; a RST is never dropped by PAWS. TSvals and sequence numbers cross 2^32.
#[test]
fn paws_drops_old_tsval_but_not_a_rst() {
    let p = NEAR_WRAP; // the peer's data wraps past 0
    let s = 70_000;
    let t0 = u32::MAX - 1; // the peer's TSvals wrap too
    for prof in [Profile::linux_defaults(), Profile::rfc9293()] {
        let mut c = passive(
            prof,
            ts(seg(SYN, p, 0), t0, 0),
            ts(seg(SYN | ACK, s, p.wrapping_add(1)), 7000, t0),
            ts(seg(ACK, p.wrapping_add(1), s + 1), t0.wrapping_add(1), 7000),
        );
        let (p1, p11, p21) = (p.wrapping_add(1), p.wrapping_add(11), p.wrapping_add(21));
        c.arrive(ms(20), &ts(data(p1, s + 1, 10), t0.wrapping_add(2), 7000));
        assert_eq!(c.readable(), 10);
        sends(
            &mut c,
            ms(20),
            ts(seg(ACK, s + 1, p11), 7001, t0.wrapping_add(2)),
        );

        // An older TSval (2^32 - 1, older than TS.Recent = 0 across the wrap, though newer
        // than the SYN's): ACK with the old RCV.NXT, data dropped.
        c.arrive(ms(30), &ts(data(p11, s + 1, 10), t0.wrapping_add(1), 7000));
        assert_eq!(c.readable(), 10, "PAWS: the data must not be taken");
        assert_eq!(c.state(), State::Established);
        let d = refusal(
            &c,
            ms(30),
            ts(seg(ACK, s + 1, p21), 7002, t0.wrapping_add(2)),
        );
        assert!(d.rule.is(Source::Rfc(7323), "5.3"), "{d}");
        silence_refused(&c, ms(30));
        sends(
            &mut c,
            ms(30),
            ts(seg(ACK, s + 1, p11), 7002, t0.wrapping_add(2)),
        );

        // The same data with a newer TSval (t0 + 3 wraps to 1) is taken.
        c.arrive(ms(40), &ts(data(p11, s + 1, 10), t0.wrapping_add(3), 7000));
        assert_eq!(c.readable(), 20);
        refusal(
            &c,
            ms(40),
            ts(seg(ACK, s + 1, p11), 7003, t0.wrapping_add(3)),
        );
        sends(
            &mut c,
            ms(40),
            ts(seg(ACK, s + 1, p21), 7003, t0.wrapping_add(3)),
        );

        // A RST with an old TSval at RCV.NXT still resets.
        let old = t0.wrapping_sub(100);
        let mut ack_old = c.clone();
        ack_old.arrive(ms(600), &ts(seg(ACK, p21, s + 1), old, 7003));
        assert_eq!(
            ack_old.state(),
            State::Established,
            "a plain ACK is PAWS-dropped"
        );
        assert!(accepts(
            &ack_old,
            ms(600),
            ts(seg(ACK, s + 1, p21), 7004, t0.wrapping_add(3))
        ));
        c.arrive(ms(600), &ts(seg(RST, p21, 0), old, 0));
        assert_eq!(c.state(), State::Closed, "a RST is not PAWS-dropped");
        assert!(c.reports().contains(&Report::ConnectionReset));
        refusal(
            &c,
            ms(600),
            ts(seg(ACK, s + 1, p21), 7004, t0.wrapping_add(3)),
        );
    }
}

/// RFC 9293 3.6.1 MAY-1, SHLD-3: close() of the last descriptor with unread data resets
/// (<SEQ=SND.NXT><CTL=RST>), where a plain close would send a FIN.
#[test]
fn release_with_unread_data_sends_rst() {
    let (s, p) = (u32::MAX, 5000); // SND.NXT wraps to 0
    for prof in [Profile::linux_defaults(), Profile::rfc9293()] {
        let mut c = established(prof, s, p);
        c.arrive(ms(20), &data(p + 1, 0, 10));
        sends(&mut c, ms(20), seg(ACK, 0, p + 11));
        let mut plain = c.clone();
        c.close_and_release(ms(30)).unwrap();
        assert_eq!(c.state(), State::Closed);
        assert!(c
            .choices()
            .iter()
            .any(|ch| ch.rule == &rules::HALF_DUPLEX_CLOSE));
        assert!(accepts(&c, ms(30), seg(RST, 0, 0)));
        assert!(accepts(&c, ms(30), seg(RST | ACK, 0, p + 11)));
        refusal(&c, ms(30), seg(FIN | ACK, 0, p + 11));
        refusal(&c, ms(30), seg(RST, u32::MAX, 0));
        silence_refused(&c, ms(30));

        // shutdown(SHUT_WR), a plain CLOSE, sends the FIN and keeps the data readable.
        plain.close(ms(30)).unwrap();
        assert_eq!(plain.state(), State::FinWait1);
        refusal(&plain, ms(30), seg(RST, 0, 0));
        sends(&mut plain, ms(30), seg(FIN | ACK, 0, p + 11));
        assert_eq!(plain.readable(), 10);
    }
}

/// RFC 9293 3.6.1 SHLD-3 holds after the peer's FIN too: data left unread when the last
/// descriptor closes in LAST-ACK or CLOSING (the FIN already sent after shutdown(SHUT_WR)) is
/// reported lost with <SEQ=SND.NXT><CTL=RST>, as Linux tcp_close() does for any state that
/// still has a socket. In TIME-WAIT there is no socket left to reset.
#[test]
fn release_with_unread_data_after_the_fins_sends_rst() {
    let (s, p) = (u32::MAX - 1, 5000); // SND.NXT after our FIN wraps to 0
    for prof in [Profile::linux_defaults(), Profile::rfc9293()] {
        // LAST-ACK: the peer's data and FIN, unread; shutdown sends our FIN.
        let mut c = established(prof.clone(), s, p);
        c.arrive(ms(20), &Seg::new(FIN | ACK, p + 1, u32::MAX, 10));
        assert_eq!(c.state(), State::CloseWait);
        sends(&mut c, ms(20), seg(ACK, u32::MAX, p + 12));
        c.close(ms(30)).unwrap();
        sends(&mut c, ms(30), seg(FIN | ACK, u32::MAX, p + 12));
        assert_eq!(c.state(), State::LastAck);
        c.close_and_release(ms(40)).unwrap();
        assert_eq!(c.state(), State::Closed);
        silence_refused(&c, ms(40));
        refusal(&c, ms(40), seg(RST, u32::MAX, 0));
        sends(&mut c, ms(40), seg(RST | ACK, 0, p + 12));

        // CLOSING: our FIN crossed theirs, the data before it unread.
        let mut c = established(prof.clone(), s, p);
        c.arrive(ms(20), &data(p + 1, u32::MAX, 10));
        sends(&mut c, ms(20), seg(ACK, u32::MAX, p + 11));
        c.close(ms(30)).unwrap();
        sends(&mut c, ms(30), seg(FIN | ACK, u32::MAX, p + 11));
        c.arrive(ms(31), &seg(FIN | ACK, p + 11, u32::MAX));
        assert_eq!(c.state(), State::Closing);
        sends(&mut c, ms(31), seg(ACK, 0, p + 12));
        let mut tw = c.clone();
        c.close_and_release(ms(40)).unwrap();
        assert_eq!(c.state(), State::Closed);
        silence_refused(&c, ms(40));
        sends(&mut c, ms(40), seg(RST, 0, 0));

        // TIME-WAIT: nothing to send, and TIME-WAIT goes on (a FIN again is ACKed).
        tw.arrive(ms(35), &seg(ACK, p + 12, 0));
        assert_eq!(tw.state(), State::TimeWait);
        let _ = tw.close_and_release(ms(40));
        assert_eq!(tw.state(), State::TimeWait);
        refusal(&tw, ms(40), seg(RST, 0, 0));
        tw.arrive(ms(50), &seg(FIN | ACK, p + 11, 0));
        refusal(&tw, ms(50), seg(RST, 0, 0));
        sends(&mut tw, ms(50), seg(ACK, 0, p + 12));
    }
}

/// RFC 9293 3.6.1 MAY-1, SHLD-3: after close() without unread data, new data in FIN-WAIT-1 or
/// FIN-WAIT-2 draws <SEQ=SEG.ACK><CTL=RST> and the connection is gone; after a plain CLOSE
/// (shutdown) the data is acknowledged.
#[test]
fn data_after_release_draws_rst() {
    let (s, p) = (NEAR_WRAP, 9000);
    let (s1, s2) = (s.wrapping_add(1), s.wrapping_add(2));
    for prof in [Profile::linux_defaults(), Profile::rfc9293()] {
        let mut c = established(prof.clone(), s, p);
        c.arrive(ms(20), &data(p + 1, s1, 10));
        sends(&mut c, ms(20), seg(ACK, s1, p + 11));
        assert_eq!(c.receive(10), Ok(10));
        c.close_and_release(ms(30)).unwrap();
        sends(&mut c, ms(30), seg(FIN | ACK, s1, p + 11));
        assert_eq!(c.state(), State::FinWait1);

        // FIN-WAIT-1, the ACK not yet covering the FIN: RST at SEG.ACK, not SND.NXT.
        let mut w1 = c.clone();
        w1.arrive(ms(40), &data(p + 11, s1, 5));
        assert_eq!(w1.state(), State::Closed);
        assert!(w1.reports().contains(&Report::ConnectionReset));
        assert!(accepts(&w1, ms(40), seg(RST, s1, 0)));
        assert!(accepts(&w1, ms(40), seg(RST | ACK, s1, p + 16)));
        let d = refusal(&w1, ms(40), seg(RST, s2, 0));
        assert!(d.rule.labels.contains(&Label::Shld(3)), "{d}");
        refusal(&w1, ms(40), seg(ACK, s2, p + 16));
        silence_refused(&w1, ms(40));

        // FIN-WAIT-2.
        c.arrive(ms(40), &seg(ACK, p + 11, s2));
        assert_eq!(c.state(), State::FinWait2);
        // A retransmission of data already received is not new data: a duplicate ACK.
        let mut dup = c.clone();
        dup.arrive(ms(50), &data(p + 1, s2, 10));
        assert_eq!(dup.state(), State::FinWait2);
        refusal(&dup, ms(50), seg(RST, s2, 0));
        sends(&mut dup, ms(50), seg(ACK, s2, p + 11));
        let mut w2 = c.clone();
        w2.arrive(ms(50), &data(p + 11, s2, 5));
        assert_eq!(w2.state(), State::Closed);
        refusal(&w2, ms(50), seg(ACK, s2, p + 16));
        sends(&mut w2, ms(50), seg(RST, s2, 0));

        // A plain CLOSE: the same data is acknowledged and readable.
        let mut sh = established(prof, s, p);
        sh.close(ms(30)).unwrap();
        sends(&mut sh, ms(30), seg(FIN | ACK, s1, p + 1));
        sh.arrive(ms(40), &seg(ACK, p + 1, s2));
        assert_eq!(sh.state(), State::FinWait2);
        sh.arrive(ms(50), &data(p + 1, s2, 5));
        assert_eq!(sh.state(), State::FinWait2);
        assert_eq!(sh.readable(), 5);
        refusal(&sh, ms(50), seg(RST, s2, 0));
        sends(&mut sh, ms(50), seg(ACK, s2, p + 6));
    }
}

/// Linux `tcp_fin_timeout`: an orphaned FIN-WAIT-2 connection waits that long for the
/// peer's FIN (the FIN is ACKed, TIME-WAIT), then is gone (a FIN draws a RST). The rfc9293
/// profile waits forever, and so does Linux for a connection that was only shut down.
#[test]
fn orphaned_fin_wait_2_times_out() {
    assert_eq!(Profile::rfc9293().fin_timeout, None);
    assert_eq!(Profile::linux_defaults().fin_timeout, Some(secs(60)));
    let prof = linux_with("net.ipv4.tcp_fin_timeout", "5");
    assert_eq!(prof.fin_timeout, Some(secs(5)));
    let mut bad = BTreeMap::new();
    bad.insert("net.ipv4.tcp_fin_timeout".to_string(), "soon".to_string());
    assert!(Profile::linux(&bad)
        .unwrap_err()
        .contains("tcp_fin_timeout"));

    let (s, p) = (1000, NEAR_WRAP);
    let (p1, p2) = (p.wrapping_add(1), p.wrapping_add(2));
    let to_fin_wait_2 = |prof: Profile, release: bool| {
        let mut c = established(prof, s, p);
        if release {
            c.close_and_release(secs(1)).unwrap();
        } else {
            c.close(secs(1)).unwrap();
        }
        sends(&mut c, secs(1), seg(FIN | ACK, s + 1, p1));
        c.arrive(secs(1) + ms(10), &seg(ACK, p1, s + 2));
        assert_eq!(c.state(), State::FinWait2);
        c
    };
    let fin = seg(FIN | ACK, p1, s + 2);

    // The timer runs from entering FIN-WAIT-2, at 1.01 s: gone at 6.01 s.
    let c = to_fin_wait_2(prof.clone(), true);
    let mut before = c.clone();
    before.arrive(ms(6009), &fin);
    assert_eq!(before.state(), State::TimeWait);
    refusal(&before, ms(6009), seg(RST, s + 2, 0));
    sends(&mut before, ms(6009), seg(ACK, s + 2, p2));

    let mut after = c.clone();
    after.arrive(ms(6010), &fin);
    assert_eq!(after.state(), State::Closed);
    refusal(&after, ms(6010), seg(ACK, s + 2, p2));
    sends(&mut after, ms(6010), seg(RST, s + 2, 0));

    let mut polled = c.clone();
    polled.poll(ms(6009));
    assert_eq!(polled.state(), State::FinWait2);
    polled.poll(ms(6010));
    assert_eq!(polled.state(), State::Closed);

    // No timeout: rfc9293 released, Linux only shut down.
    for c in [
        to_fin_wait_2(Profile::rfc9293(), true),
        to_fin_wait_2(prof, false),
    ] {
        let mut c = c;
        c.poll(secs(1000));
        assert_eq!(c.state(), State::FinWait2);
        c.arrive(secs(1000), &fin);
        assert_eq!(c.state(), State::TimeWait);
        refusal(&c, secs(1000), seg(RST, s + 2, 0));
        sends(&mut c, secs(1000), seg(ACK, s + 2, p2));
    }
}

/// TIME-WAIT after an active close, the stack at SND.NXT `s + 2`, RCV.NXT `p + 2`.
fn time_wait(prof: Profile, s: u32, p: u32) -> Connection {
    let mut c = established(prof, s, p);
    let (s1, s2) = (s.wrapping_add(1), s.wrapping_add(2));
    let (p1, p2) = (p.wrapping_add(1), p.wrapping_add(2));
    c.close(ms(20)).unwrap();
    sends(&mut c, ms(20), seg(FIN | ACK, s1, p1));
    c.arrive(ms(30), &seg(FIN | ACK, p1, s2));
    assert_eq!(c.state(), State::TimeWait);
    sends(&mut c, ms(30), seg(ACK, s2, p2));
    c
}

/// RFC 9293 3.6.1 MAY-2: a SYN beyond RCV.NXT reopens a TIME-WAIT connection, and the new ISN
/// must lie above the old SND.NXT (here 0, just past the wrap); a SYN not beyond RCV.NXT does
/// not reopen.
#[test]
fn syn_reopens_time_wait_with_a_higher_isn() {
    let (s, p) = (u32::MAX - 1, 3000); // the old SND.NXT is s + 2 = 0
    for prof in [Profile::linux_defaults(), Profile::rfc9293()] {
        let tw = time_wait(prof, s, p);

        // At or below RCV.NXT, no timestamps: no reopening; the SYN gets an ACK.
        for seq in [p + 2, p + 1, p - 1000] {
            let mut c = tw.clone();
            assert!(!c.reopen_from_time_wait(ms(40), &seg(SYN, seq, 0)));
            assert_eq!(c.state(), State::TimeWait);
            c.arrive(ms(40), &seg(SYN, seq, 0));
            assert_eq!(c.state(), State::TimeWait);
            refusal(&c, ms(40), seg(SYN | ACK, 1000, seq + 1));
            sends(&mut c, ms(40), seg(ACK, 0, p + 2));
        }
        // A SYN with ACK or RST never reopens.
        assert!(!tw
            .clone()
            .reopen_from_time_wait(ms(40), &seg(SYN | ACK, p + 100, 0)));

        let mut c = tw.clone();
        let syn = seg(SYN, p + 100_000, 0);
        assert!(c.reopen_from_time_wait(ms(40), &syn));
        assert_eq!(c.state(), State::SynReceived);
        assert!(c
            .choices()
            .iter()
            .any(|ch| ch.rule == &rules::TIME_WAIT_REOPEN));
        for isn in [u32::MAX - 1, u32::MAX, 0] {
            let d = refusal(&c, ms(40), seg(SYN | ACK, isn, p + 100_001));
            assert!(d.rule.labels.contains(&Label::May(2)), "ISN {isn}: {d}");
        }
        let d = refusal(&c, ms(40), seg(SYN | ACK, 1000, p + 100_000));
        assert!(!d.rule.labels.contains(&Label::May(2)), "{d}");
        silence_refused(&c, ms(40));
        sends(&mut c, ms(40), seg(SYN | ACK, 1000, p + 100_001));
        c.arrive(ms(50), &seg(ACK, p + 100_001, 1001));
        assert_eq!(c.state(), State::Established);
    }
}

/// RFC 9293 3.6.1 MAY-2 with timestamps (Linux tcp_timewait_state_process()): a SYN at RCV.NXT
/// reopens when its TSval is newer than the last one seen, not when it is older.
#[test]
fn syn_with_newer_tsval_reopens_time_wait() {
    let (s, p) = (NEAR_WRAP, 3000);
    let (s1, s2) = (s.wrapping_add(1), s.wrapping_add(2));
    let mut c = passive(
        Profile::linux_defaults(),
        ts(seg(SYN, p, 0), 100, 0),
        ts(seg(SYN | ACK, s, p + 1), 900, 100),
        ts(seg(ACK, p + 1, s1), 101, 900),
    );
    c.close(ms(20)).unwrap();
    sends(&mut c, ms(20), ts(seg(FIN | ACK, s1, p + 1), 901, 101));
    c.arrive(ms(30), &ts(seg(FIN | ACK, p + 1, s2), 102, 901));
    assert_eq!(c.state(), State::TimeWait);
    sends(&mut c, ms(30), ts(seg(ACK, s2, p + 2), 902, 102));

    let mut older = c.clone();
    assert!(!older.reopen_from_time_wait(ms(40), &ts(seg(SYN, p + 2, 0), 50, 0)));
    assert_eq!(older.state(), State::TimeWait);

    let mut newer = c.clone();
    assert!(newer.reopen_from_time_wait(ms(40), &ts(seg(SYN, p + 2, 0), 103, 0)));
    assert_eq!(newer.state(), State::SynReceived);
    let d = refusal(&newer, ms(40), ts(seg(SYN | ACK, s2, p + 3), 903, 103));
    assert!(d.rule.labels.contains(&Label::May(2)), "{d}");
    sends(
        &mut newer,
        ms(40),
        ts(seg(SYN | ACK, s2.wrapping_add(65537), p + 3), 903, 103),
    );
}

/// Data segments of up to `len` bytes after SEND on a connection whose peer sent no MSS
/// option: which sizes does the model allow?
fn default_mss_allows(ipv6: bool, syn: Seg, len: u32) -> bool {
    let mut c = Connection::new(Profile::linux_defaults());
    c.set_ipv6(ipv6);
    c.open_passive(ms(0)).unwrap();
    c.arrive(ms(0), &syn);
    sends(&mut c, ms(0), mss(seg(SYN | ACK, 500, 10_001), 1460));
    c.arrive(ms(10), &seg(ACK, 10_001, 501));
    c.send(ms(20), 5000).unwrap();
    accepts(&c, ms(20), data(501, 10_001, len))
}

/// RFC 9293 3.7.1 MUST-15: without an MSS option the send MSS is 536 on IPv4 and 1220
/// (1280 - 60) on IPv6; an MSS option overrides either.
#[test]
fn default_send_mss_follows_the_ip_version() {
    let bare = seg(SYN, 10_000, 0);
    assert!(default_mss_allows(true, bare, 1220));
    assert!(!default_mss_allows(true, bare, 1221));
    assert!(default_mss_allows(false, bare, 536));
    assert!(!default_mss_allows(false, bare, 537));
    assert!(default_mss_allows(true, mss(bare, 1400), 1400));
    assert!(!default_mss_allows(true, mss(bare, 1400), 1401));

    // The default survives a reset back to LISTEN, which starts a new incarnation.
    let mut c = Connection::new(Profile::rfc9293());
    c.set_ipv6(true);
    c.open_passive(ms(0)).unwrap();
    c.arrive(ms(0), &seg(SYN, 7, 0));
    sends(&mut c, ms(0), seg(SYN | ACK, 500, 8));
    c.arrive(ms(5), &seg(RST, 8, 0));
    assert_eq!(c.state(), State::Listen);
    c.arrive(ms(6), &bare);
    sends(&mut c, ms(6), seg(SYN | ACK, 900, 10_001));
    c.arrive(ms(10), &seg(ACK, 10_001, 901));
    c.send(ms(20), 5000).unwrap();
    assert!(accepts(&c, ms(20), data(901, 10_001, 1220)));
    assert!(!accepts(&c, ms(20), data(901, 10_001, 1221)));
}

/// RFC 9293 3.8.6.1 MUST-35 and 3.8.4 MAY-5: <SEQ=SND.UNA-1><ACK=RCV.NXT><CTL=ACK> is a
/// zero-window probe while the peer's window is 0 and data waits, a keep-alive when those
/// are on and nothing is outstanding, and otherwise not allowed. SND.UNA is 0, so the probe's
/// sequence number is 2^32 - 1.
#[test]
fn zero_window_and_keepalive_probes() {
    let (s, p) = (u32::MAX, 40_000);
    let open = |w: u16| {
        passive(
            Profile::linux_defaults(),
            seg(SYN, p, 0),
            seg(SYN | ACK, s, p + 1),
            wnd(seg(ACK, p + 1, 0), w),
        )
    };
    let probe = seg(ACK, u32::MAX, p + 1);

    // Zero window, data queued: the probe is allowed (and nothing is owed).
    let mut zero = open(0);
    let idle_zero = zero.clone();
    zero.send(ms(20), 100).unwrap();
    assert!(zero.clone().check_overdue(ms(20)).is_ok());
    assert!(accepts(&zero, secs(1), probe));
    let mut probed = zero.clone();
    probed.emitted(secs(1), &probe).unwrap();
    assert!(probed
        .choices()
        .iter()
        .any(|ch| ch.rule.labels.contains(&Label::Must(35))));
    // Wrong numbers are not probes.
    refusal(&zero, secs(1), seg(ACK, u32::MAX - 1, p + 1));
    refusal(&zero, secs(1), seg(ACK, u32::MAX, p));
    // Zero window, nothing queued: nothing to probe for.
    refusal(&idle_zero, secs(1), probe);

    // Open window, nothing outstanding, keep-alive off: refused.
    let mut c = open(65535);
    let d = refusal(&c, secs(1), probe);
    assert!(d.rule == &rules::NO_RULE, "{d}");
    // Keep-alive on at 20 ms (idle 1 s): allowed once idle, counted from when keep-alives
    // were turned on (Linux tcp_set_keepalive() arms the timer then; seen on 6.18, see
    // corpus/scenarios/timers/keepalive-off-by-default.pkt), not from the last ACK (10 ms).
    c.set_keepalive_times(
        ms(20),
        KeepAlive {
            idle: secs(1),
            interval: secs(1),
            probes: 3,
        },
    );
    c.set_keepalive(ms(20), true);
    let idle = timer_tolerance(secs(1)).after(ms(20));
    assert!(accepts(&c, idle.earliest, probe));
    assert!(accepts(&c, ms(1030), probe));
    refusal(&c, ms(1010), probe);
    let mut kept = c.clone();
    kept.emitted(ms(1030), &probe).unwrap();
    assert!(kept
        .choices()
        .iter()
        .all(|ch| !ch.rule.labels.contains(&Label::Must(35))));
    // Not before the idle time, and not with a wrong acknowledgment number.
    refusal(&c, ms(500), probe);
    refusal(&c, ms(1030), seg(ACK, u32::MAX, p + 2));
    // Keep-alive on but data outstanding: not a keep-alive.
    c.send(ms(20), 100).unwrap();
    sends(&mut c, ms(20), data(0, p + 1, 100));
    refusal(&c, ms(1030), probe);
}

/// Linux tcp_check_req(): a repeated SYN in SYN-RECEIVED is answered with the SYN-ACK at
/// once, at most once per `challenge_ack_interval`, and restarts the SYN-ACK timer. On
/// rfc9293 the repeat, before RCV.NXT, draws an ACK, and an early SYN-ACK breaks MUST-18.
#[test]
fn repeated_syn_in_syn_received() {
    let (s, p) = (NEAR_WRAP, 77);
    let synack = seg(SYN | ACK, s, p + 1);
    let start = |prof: Profile| {
        let mut c = Connection::new(prof);
        c.open_passive(ms(0)).unwrap();
        c.arrive(ms(0), &seg(SYN, p, 0));
        sends(&mut c, ms(0), synack);
        c
    };

    let mut c = start(Profile::linux_defaults());
    // Without a repeat, the SYN-ACK goes again on its 1 s timer.
    assert!(accepts(&c, ms(1000), synack));
    c.arrive(ms(300), &seg(SYN, p, 0));
    assert_eq!(c.state(), State::SynReceived);
    silence_refused(&c, ms(300));
    sends(&mut c, ms(300), synack);
    // The timer restarted from 300 ms.
    let d = refusal(&c, ms(1000), synack);
    assert!(d.rule.labels.contains(&MUST_18), "{d}");
    assert!(c.clone().check_overdue(ms(1200)).is_ok());
    // Rate limited: a second repeat within 500 ms gets nothing.
    let mut limited = c.clone();
    limited.arrive(ms(500), &seg(SYN, p, 0));
    assert!(limited.clone().check_overdue(ms(500)).is_ok());
    refusal(&limited, ms(500), synack);
    assert!(accepts(&limited, ms(1300), synack));
    // After the interval, the next repeat is answered again.
    let mut again = c.clone();
    again.arrive(ms(800), &seg(SYN, p, 0));
    silence_refused(&again, ms(800));
    sends(&mut again, ms(800), synack);
    assert!(!accepts(&again, ms(1300), synack));
    assert!(accepts(&again, ms(1800), synack));
    // The handshake still completes.
    c.arrive(ms(1100), &seg(ACK, p + 1, s.wrapping_add(1)));
    assert_eq!(c.state(), State::Established);

    // RFC 9293 3.3.2: the SYN again lies before RCV.NXT, an unacceptable segment: an ACK.
    let mut rfc = start(Profile::rfc9293());
    rfc.arrive(ms(300), &seg(SYN, p, 0));
    assert_eq!(rfc.state(), State::SynReceived);
    assert!(
        rfc.clone().check_overdue(ms(300)).is_err(),
        "the ACK is owed"
    );
    sends(&mut rfc, ms(300), seg(ACK, s.wrapping_add(1), p + 1));
    let d = refusal(&rfc, ms(300), synack);
    assert!(d.rule.labels.contains(&MUST_18), "{d}");
    sends(&mut rfc, ms(1000), synack);
}

/// Linux tcp_rcv_synsent_state_process(): after an unacceptable ACK (or RST,ACK) in SYN-SENT,
/// a SYN not yet retransmitted goes again after TCP_TIMEOUT_MIN (8 ms) rather than the RTO.
/// The rfc9293 profile keeps the 1 s timer (MUST-18).
#[test]
fn syn_sent_unacceptable_ack_rearms_the_syn() {
    let s = NEAR_WRAP;
    let syn = seg(SYN, s, 0);
    let min = timer_tolerance(ms(8));
    let start = |prof: Profile| {
        let mut c = Connection::new(prof);
        c.open_active(ms(0)).unwrap();
        sends(&mut c, ms(0), syn);
        c
    };
    // Without a bad ACK, nothing is owed for a while.
    assert!(start(Profile::linux_defaults())
        .check_overdue(ms(500))
        .is_ok());

    for bad in [seg(ACK, 9, s), seg(RST | ACK, 9, s.wrapping_add(5))] {
        let mut c = start(Profile::linux_defaults());
        c.arrive(ms(100), &bad);
        assert_eq!(c.state(), State::SynSent);
        if !bad.flags.rst() {
            silence_refused(&c, ms(100));
            sends(&mut c, ms(100), seg(RST, s, 0));
        }
        let d = refusal(&c, ms(100) + min.earliest - Duration::from_micros(1), syn);
        assert!(d.rule.labels.contains(&MUST_18), "{d}");
        assert!(accepts(&c, ms(108), syn));
        assert!(accepts(&c, ms(100) + min.earliest, syn));
        assert!(c.clone().check_overdue(ms(100) + min.latest).is_ok());
        silence_refused(&c, ms(100) + min.latest + ms(1));
    }

    // Only if the SYN has not been retransmitted yet.
    let mut c = start(Profile::linux_defaults());
    sends(&mut c, ms(1000), syn);
    c.arrive(ms(1100), &seg(ACK, 9, s));
    sends(&mut c, ms(1100), seg(RST, s, 0));
    refusal(&c, ms(1108), syn);
    assert!(c.clone().check_overdue(ms(1500)).is_ok());
    assert!(accepts(&c, ms(2000), syn));

    let mut rfc = start(Profile::rfc9293());
    rfc.arrive(ms(100), &seg(ACK, 9, s));
    sends(&mut rfc, ms(100), seg(RST, s, 0));
    let d = refusal(&rfc, ms(108), syn);
    assert!(d.rule.labels.contains(&MUST_18), "{d}");
    assert!(rfc.clone().check_overdue(ms(500)).is_ok());
    assert!(accepts(&rfc, ms(1000), syn));
}

/// RFC 5961 5.2 (RFC 9293 MAY-12) with Linux's bound: an ACK below SND.UNA - min(MAX.SND.WND,
/// bytes acked) draws a challenge ACK and its data is dropped; within the bound the data is
/// taken. The rfc9293 profile bounds by the window alone. SND.UNA wraps past 0.
#[test]
fn old_ack_bound_is_min_of_window_and_bytes_acked() {
    let (s, p) = (NEAR_WRAP, 1000);
    let prepare = |prof: Profile| {
        let mut c = established(prof, s, p);
        c.send(ms(20), 100).unwrap();
        sends(&mut c, ms(20), data(s.wrapping_add(1), p + 1, 100));
        c.arrive(ms(30), &seg(ACK, p + 1, s.wrapping_add(101)));
        assert_eq!(c.tcb().snd_una.0, s.wrapping_add(101));
        c
    };
    let una = s.wrapping_add(101);
    let taken = |c: &Connection, below: u32| {
        let mut c = c.clone();
        // A window other than the one recorded keeps the segment off Linux's header
        // prediction, whose fast path takes text before judging the ACK (see
        // tests/explorer_findings.rs).
        let mut d = data(p + 1, una.wrapping_sub(below), 10);
        d.wnd = 60000;
        c.arrive(ms(40), &d);
        let took = c.readable() == 10;
        if took {
            refusal(&c, ms(40), seg(ACK, una, p + 1));
            sends(&mut c, ms(40), seg(ACK, una, p + 11));
        } else {
            assert_eq!(c.state(), State::Established);
            refusal(&c, ms(40), seg(ACK, una, p + 11));
            silence_refused(&c, ms(40));
            sends(&mut c, ms(40), seg(ACK, una, p + 1));
        }
        took
    };

    let linux = prepare(Profile::linux_defaults());
    assert!(!taken(&linux, 1000));
    assert!(taken(&linux, 50));
    assert!(taken(&linux, 100));
    assert!(!taken(&linux, 101));

    let rfc = prepare(Profile::rfc9293());
    assert!(taken(&rfc, 1000));
    assert!(taken(&rfc, 65535));
    assert!(!taken(&rfc, 65536));
}

/// Linux answers a crossed SYN with its own SYN again plus ACK, so the SYN-ACK may carry the
/// TSopt its SYN offered even when the peer's SYN had none. RFC 7323 3.2 forbids that, and so
/// does Linux itself in a passive open.
#[test]
fn simultaneous_open_synack_may_keep_our_tsopt_on_linux() {
    let (s, p) = (NEAR_WRAP, 600);
    let crossed = |prof: Profile, our_syn: Seg| {
        let mut c = Connection::new(prof);
        c.open_active(ms(0)).unwrap();
        sends(&mut c, ms(0), our_syn);
        c.arrive(ms(5), &seg(SYN, p, 0));
        assert_eq!(c.state(), State::SynReceived);
        c
    };
    let synack_ts = ts(seg(SYN | ACK, s, p + 1), 101, 0);
    let synack = seg(SYN | ACK, s, p + 1);

    let linux = crossed(Profile::linux_defaults(), ts(seg(SYN, s, 0), 100, 0));
    assert!(accepts(&linux, ms(5), synack_ts));
    assert!(accepts(&linux, ms(5), synack));
    refusal(&linux, ms(5), ts(seg(SYN | ACK, s, p), 101, 0));

    let rfc = crossed(Profile::rfc9293(), ts(seg(SYN, s, 0), 100, 0));
    assert!(accepts(&rfc, ms(5), synack));
    let d = refusal(&rfc, ms(5), synack_ts);
    assert_eq!(d.rule, &rules::NO_TSOPT_IN_SYNACK);

    // Linux, but our SYN offered no timestamps: nothing to keep.
    let plain = crossed(Profile::linux_defaults(), seg(SYN, s, 0));
    let d = refusal(&plain, ms(5), synack_ts);
    assert!(d.rule.is(Source::Rfc(7323), "3.2"), "{d}");

    // Linux, passive open: the SYN-ACK answers the peer's options only.
    let mut passive = Connection::new(Profile::linux_defaults());
    passive.open_passive(ms(0)).unwrap();
    passive.arrive(ms(0), &seg(SYN, p, 0));
    let d = refusal(&passive, ms(0), synack_ts);
    assert!(d.rule.is(Source::Rfc(7323), "3.2"), "{d}");
    assert!(accepts(&passive, ms(0), synack));
}

/// Linux's tail loss probe: a copy of the last segment sent before the RTO is allowed, and
/// the RTO restarts from the probe (tcp_send_loss_probe()). Not on rfc9293 (MUST-18), nor
/// with `tcp_early_retrans` below 3.
#[test]
fn tail_loss_probe_rearms_the_rto() {
    let (s, p) = (NEAR_WRAP, 1);
    let s1 = s.wrapping_add(1);
    let prepare = |prof: Profile| {
        let mut c = passive(
            prof,
            sack_ok(mss(seg(SYN, p, 0), 1460)),
            sack_ok(mss(seg(SYN | ACK, s, p + 1), 1460)),
            seg(ACK, p + 1, s1),
        );
        c.send(ms(20), 1000).unwrap();
        sends(&mut c, ms(20), data(s1, p + 1, 1000));
        c
    };
    let rtx_due = |c: &Connection| {
        c.obligations()
            .iter()
            .find(|e| e.rule.labels.contains(&MUST_18))
            .map(|e| e.due)
            .expect("a retransmission is scheduled")
    };
    let copy = data(s1, p + 1, 1000);

    let mut c = prepare(Profile::linux_defaults());
    let before = rtx_due(&c);
    let probe_at = ms(20) + (before.earliest - ms(20)) / 2;
    // Without a probe the retransmission is overdue after its window.
    silence_refused(&c, before.latest + ms(1));
    // Data never sent is no probe.
    refusal(&c, probe_at, data(s1, p + 1, 1001));
    sends(&mut c, probe_at, copy);
    assert!(c.choices().iter().any(|ch| ch.taken == "tail loss probe"));
    let after = rtx_due(&c);
    assert_eq!(after.earliest, before.earliest + (probe_at - ms(20)));
    assert_eq!(after.latest, before.latest + (probe_at - ms(20)));
    assert!(c.clone().check_overdue(before.latest + ms(1)).is_ok());
    silence_refused(&c, after.latest + ms(1));
    sends(&mut c, after.earliest, copy);

    for prof in [
        Profile::rfc9293(),
        linux_with("net.ipv4.tcp_early_retrans", "2"),
    ] {
        let c = prepare(prof);
        let due = rtx_due(&c);
        let d = refusal(&c, ms(20) + (due.earliest - ms(20)) / 2, copy);
        assert!(d.rule.labels.contains(&MUST_18), "{d}");
        assert!(accepts(&c, due.earliest, copy));
    }
}

/// RFC 9293 3.8.5: MUST-30, MUST-62. Sending urgent data (MSG_OOB): every segment that starts
/// before SND.UP carries URG and the offset of SND.UP; a segment without URG, or with the
/// pointer at the last urgent octet (RFC 793's reading), is refused; once SND.UP is
/// acknowledged, URG is refused. Receiving with SO_OOBINLINE: the out-of-band byte is read in
/// its place. Sequence numbers cross 2^32.
#[test]
fn urgent_data_sent_and_read_inline() {
    let (s, p) = (NEAR_WRAP, 9000);
    let s1 = s.wrapping_add(1);
    let urg = |mut x: Seg, up: u16| {
        x.flags |= TcpFlags::URG;
        x.up = up;
        x
    };
    for prof in [Profile::linux_defaults(), Profile::rfc9293()] {
        let mut c = established(prof.clone(), s, p);
        // 1000 octets in segments of the default MSS, 536.
        c.send(ms(20), 1000).unwrap();
        c.mark_urgent();
        let first = data(s1, p + 1, 536);
        let d = refusal(&c, ms(20), first);
        assert_eq!(d.rule, &rules::URGENT_SEND, "{d}");
        let d = refusal(&c, ms(20), urg(first, 999));
        assert_eq!(d.rule, &rules::URGENT_SEND, "{d}");
        sends(&mut c, ms(20), urg(first, 1000));
        sends(
            &mut c,
            ms(20),
            urg(data(s1.wrapping_add(536), p + 1, 464), 464),
        );
        c.arrive(ms(30), &seg(ACK, p + 1, s1.wrapping_add(1000)));
        c.send(ms(40), 10).unwrap();
        let plain = data(s1.wrapping_add(1000), p + 1, 10);
        let d = refusal(&c, ms(40), urg(plain, 1));
        assert_eq!(d.rule, &rules::URGENT_SEND, "{d}");
        sends(&mut c, ms(40), plain);

        // Inline: a read stops before the urgent octet (the 10th), the next starts at it.
        let mut c = established(prof, s, p);
        c.set_oob_inline(true);
        c.arrive(ms(20), &urg(data(p + 1, s1, 10), 10));
        assert_eq!(c.receive(100), Ok(9));
        c.arrive(ms(30), &data(p + 11, s1, 10));
        assert_eq!(c.receive(100), Ok(11));
    }
}
