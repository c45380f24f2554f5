//! The rules added for Linux's documented choices and the RFC clauses behind them: PAWS,
//! the half-duplex close, the orphaned FIN-WAIT-2 timeout, reopening from TIME-WAIT, the IPv6
//! default MSS, probes, the repeated SYN, the SYN-SENT rearm, RFC 5961 5.2 as Linux bounds
//! it, the simultaneous-open TSopt and the tail loss probe.
//!
//! Each test shows the allowed behaviour passing and a wrong one refused, so none of them can
//! pass because the model allows anything. Sequence numbers sit near 2^32 where a rule does
//! arithmetic on them, so the wrap is crossed.
//!
//! This file: the half-duplex close's RST, the orphaned FIN-WAIT-2 timeout and reopening from TIME-
//! WAIT (the rest: the other `linux_choices_*.rs`).

mod common;

use std::collections::BTreeMap;

use tcpcheck_model::conn::{rules, Connection, Report, Seg, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::rule::Label;

use common::linux_choices::*;

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
