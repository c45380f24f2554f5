//! Rules the explorer (harness/src/explore) found the model missing or getting wrong against
//! Linux 6.18, each checked in the profile it belongs to. The `linux` ones are the model's
//! side of the known deviations in harness/src/explore/deviations/.

use std::time::Duration;

use tcpcheck_model::conn::{Connection, ObligationKind, Seg, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::rule::Label;
use tcpcheck_model::wire::{SackBlock, SackBlocks, TcpFlags};

const SYN: TcpFlags = TcpFlags::SYN;
const ACK: TcpFlags = TcpFlags::ACK;
const RST: TcpFlags = TcpFlags::RST;
const FIN: TcpFlags = TcpFlags::FIN;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn seg(flags: TcpFlags, seq: u32, ack: u32, len: u32) -> Seg {
    Seg::new(flags, seq, ack, len)
}

/// SYN-RECEIVED after a passive open: the stack's ISS 1000, the peer's 5000, window 65535.
fn syn_received(p: Profile) -> Connection {
    let mut c = Connection::new(p);
    c.open_passive(ms(0)).unwrap();
    c.arrive(ms(0), &seg(SYN, 5000, 0, 0));
    c.emitted(ms(0), &seg(SYN | ACK, 1000, 5001, 0)).unwrap();
    c
}

fn established(p: Profile) -> Connection {
    let mut c = syn_received(p);
    c.arrive(ms(0), &seg(ACK, 5001, 1001, 0));
    assert_eq!(c.state(), State::Established);
    c
}

fn accepts(c: &Connection, at: Duration, s: Seg) -> bool {
    let mut c = c.clone();
    c.emitted(at, &s).is_ok() && c.check_overdue(at).is_ok()
}

/// RFC 9293 3.10.7.4, eighth: a FIN ends the stream where it stands, so data held out of
/// order beyond it does not move RCV.NXT past it (both profiles).
#[test]
fn fin_ends_the_stream_before_held_data() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.arrive(ms(1), &seg(ACK, 5011, 1001, 100));
        let _ = c.emitted(ms(1), &seg(ACK, 1001, 5001, 0));
        c.arrive(ms(2), &seg(ACK | FIN, 5001, 1001, 20));
        assert_eq!(c.state(), State::CloseWait);
        assert_eq!(
            c.tcb().rcv_nxt.0,
            5022,
            "20 bytes and the FIN, nothing held beyond"
        );
    }
}

/// RFC 9293 3.8.6.2.1 (sender SWS avoidance): data that does not fit the window as one
/// segment may wait, so SEND owes nothing at once then (both profiles).
#[test]
fn send_owes_nothing_when_the_first_segment_does_not_fit() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        // One byte, acknowledged, then the window shrinks with a later sequence number.
        c.arrive(ms(1), &seg(ACK, 5001, 1001, 1));
        c.emitted(ms(1), &seg(ACK, 1001, 5002, 0)).unwrap();
        let mut small = seg(ACK, 5002, 1001, 0);
        small.wnd = 100;
        c.arrive(ms(1), &small);
        c.send(ms(2), 500).unwrap();
        assert!(
            c.check_overdue(ms(100)).is_ok(),
            "nothing owed with a 100-byte window"
        );
        assert!(
            accepts(&c, ms(3), seg(ACK, 1001, 5002, 100)),
            "a window's worth is allowed"
        );
    }
}

/// Linux tcp_check_req(): the peer's SYN again draws the SYN-ACK again at once.
#[test]
fn linux_request_resends_synack_for_a_duplicate_syn() {
    let mut c = syn_received(Profile::linux_defaults());
    c.arrive(ms(5), &seg(SYN, 5000, 0, 0));
    assert!(accepts(&c, ms(5), seg(SYN | ACK, 1000, 5001, 0)));
    assert!(!accepts(&c, ms(5), seg(ACK, 1001, 5001, 0)));
}

/// Linux tcp_check_req(): an ACK of anything but the SYN-ACK is reset before the sequence
/// number is checked; RFC 9293 answers the out-of-window segment with an ACK.
#[test]
fn linux_request_resets_a_bad_ack_first() {
    let mut c = syn_received(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK, 900_000, 1005, 0));
    assert!(accepts(&c, ms(1), seg(RST, 1005, 0, 0)));
    let mut r = syn_received(Profile::rfc9293());
    r.arrive(ms(1), &seg(ACK, 900_000, 1005, 0));
    assert!(accepts(&r, ms(1), seg(ACK, 1001, 5001, 0)));
}

/// Linux tcp_sequence(): a RST exactly at the right window edge is in the window and draws
/// a challenge ACK; RFC 9293 drops it.
#[test]
fn linux_rst_at_the_right_edge_draws_a_challenge_ack() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(RST, 5001 + 65535, 0, 0));
    assert!(accepts(&c, ms(1), seg(ACK, 1001, 5001, 0)));
    let mut r = established(Profile::rfc9293());
    r.arrive(ms(1), &seg(RST, 5001 + 65535, 0, 0));
    assert!(r.check_overdue(ms(50)).is_ok(), "nothing owed");
}

/// Linux tcp_ack(): right after a passive open no byte is acknowledged yet, so an ACK of the
/// ISN is too old (RFC 5961 5.2's window capped by bytes acked): challenge ACK, data dropped.
#[test]
fn linux_old_ack_window_is_capped_by_bytes_acked() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK, 5001, 1000, 10));
    assert_eq!(c.tcb().rcv_nxt.0, 5001, "data dropped");
    assert!(accepts(&c, ms(1), seg(ACK, 1001, 5001, 0)));
    let mut r = established(Profile::rfc9293());
    r.arrive(ms(1), &seg(ACK, 5001, 1000, 10));
    assert_eq!(r.tcb().rcv_nxt.0, 5011, "RFC 5961 5.2: within MAX.SND.WND");
}

/// Linux: once the peer's FIN is in, a second FIN is ignored, and data reaching past RCV.NXT
/// from before it resets the connection with <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn linux_after_the_peers_fin() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 0));
    let _ = c.emitted(ms(2), &seg(ACK, 1001, 5002, 0));
    let mut second = c.clone();
    second.arrive(ms(3), &seg(ACK | FIN, 5002, 1001, 0));
    assert_eq!(second.tcb().rcv_nxt.0, 5002);
    assert!(second.check_overdue(ms(300)).is_ok(), "nothing owed");
    c.arrive(ms(3), &seg(ACK, 5001, 1001, 20));
    assert_eq!(c.state(), State::Closed);
    assert!(accepts(&c, ms(3), seg(RST, 1001, 0, 0)));
}

/// Linux drops a SYN that carries FIN in LISTEN; RFC 9293 answers it.
#[test]
fn linux_listen_drops_syn_fin() {
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_passive(ms(0)).unwrap();
    c.arrive(ms(0), &seg(SYN | FIN, 5000, 0, 0));
    assert_eq!(c.state(), State::Listen);
    let mut r = Connection::new(Profile::rfc9293());
    r.open_passive(ms(0)).unwrap();
    r.arrive(ms(0), &seg(SYN | FIN, 5000, 0, 0));
    assert_eq!(r.state(), State::SynReceived);
}

/// An active open that met the peer's SYN (simultaneous open), SYN-ACK sent: the stack's
/// ISS 1000, the peer's 5000.
fn simultaneous(p: Profile) -> Connection {
    let mut c = Connection::new(p);
    c.open_active(ms(0)).unwrap();
    c.emitted(ms(0), &seg(SYN, 1000, 0, 0)).unwrap();
    c.arrive(ms(0), &seg(SYN, 5000, 0, 0));
    c.emitted(ms(0), &seg(SYN | ACK, 1000, 5001, 0)).unwrap();
    assert_eq!(c.state(), State::SynReceived);
    c
}

/// Linux tcp_check_req() on 6.18: a RST is judged by its sequence number before its ACK
/// field: at RCV.NXT it drops the request silently, elsewhere in the window it draws a
/// challenge ACK, whatever it acknowledges.
#[test]
fn linux_request_judges_a_rst_by_its_sequence_number_alone() {
    let mut c = syn_received(Profile::linux_defaults());
    c.arrive(ms(1), &seg(RST | ACK, 5001, 999, 0));
    assert_eq!(c.state(), State::Listen);
    assert!(c.check_overdue(ms(50)).is_ok(), "dropped silently");
    let mut c = syn_received(Profile::linux_defaults());
    c.arrive(ms(1), &seg(RST | ACK, 6001, 999, 0));
    assert_eq!(c.state(), State::SynReceived);
    assert!(accepts(&c, ms(1), seg(ACK, 1001, 5001, 0)), "challenge ACK");
    assert!(!accepts(&c, ms(1), seg(RST, 999, 0, 0)));
    // The peer's ISN is not trimmed first: a SYN,RST,FIN there is in the window, not at
    // RCV.NXT.
    let mut c = syn_received(Profile::linux_defaults());
    c.arrive(ms(1), &seg(SYN | RST | FIN, 5000, 0, 0));
    assert_eq!(c.state(), State::SynReceived);
    assert!(accepts(&c, ms(1), seg(ACK, 1001, 5001, 0)));
}

/// Linux tcp_rcv_state_process() in a simultaneous open: only the exact SYN,ACK of RFC 9293
/// Figure 7 is trimmed; a SYN,FIN at the peer's ISN draws a challenge ACK (RFC 5961 4.2)
/// and its FIN is not taken, where RFC 9293 trims the SYN and takes the FIN.
#[test]
fn linux_simultaneous_open_trims_only_the_plain_synack() {
    let mut c = simultaneous(Profile::linux_defaults());
    c.arrive(ms(1), &seg(SYN | FIN | ACK, 5000, 1001, 0));
    assert_eq!(c.tcb().rcv_nxt.0, 5001);
    assert!(accepts(&c, ms(1), seg(ACK, 1001, 5001, 0)));
    let mut r = simultaneous(Profile::rfc9293());
    r.arrive(ms(1), &seg(SYN | FIN | ACK, 5000, 1001, 0));
    assert_eq!(r.state(), State::CloseWait);
    let mut c = simultaneous(Profile::linux_defaults());
    c.arrive(ms(1), &seg(SYN | ACK, 5000, 1001, 0));
    assert_eq!(c.state(), State::Established, "Figure 7, line 6");
}

/// Linux tcp_ack(): a simultaneous open's full socket counts its SYN among the bytes
/// acknowledged, so an ACK of the ISN is not too old (a passive open's is).
#[test]
fn linux_simultaneous_open_counts_the_syn_as_acknowledged() {
    let mut c = simultaneous(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK, 5001, 1001, 0));
    assert_eq!(c.state(), State::Established);
    c.arrive(ms(2), &seg(ACK, 5001, 1000, 10));
    assert_eq!(c.tcb().rcv_nxt.0, 5011, "data taken");
}

/// Linux tcp_validate_incoming(): tcp_reset_check() also applies to a RST inside the window,
/// so after the peer's FIN a RST at RCV.NXT - 1 resets (RFC 5961 3.2: challenge ACK).
#[test]
fn linux_in_window_rst_at_rcv_nxt_minus_one_after_fin_resets() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 0));
    let _ = c.emitted(ms(1), &seg(ACK, 1001, 5002, 0));
    let mut l = c.clone();
    l.arrive(ms(2), &seg(RST, 5001, 0, 1));
    assert_eq!(l.state(), State::Closed);
    let mut r = established(Profile::rfc9293());
    r.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 0));
    let _ = r.emitted(ms(1), &seg(ACK, 1001, 5002, 0));
    r.arrive(ms(2), &seg(RST, 5001, 0, 1));
    assert_eq!(r.state(), State::CloseWait);
}

/// RFC 9293 3.10.7.4: SHLD-31, a FIN beyond a hole is held with the data and processed when
/// the hole fills (both profiles); Linux's SACK blocks cover it.
#[test]
fn fin_beyond_a_hole_is_held_and_sacked() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.arrive(ms(1), &seg(ACK | FIN, 5011, 1001, 0));
        assert_eq!(
            c.out_of_order(),
            &[(tcpcheck_model::seq::SeqNumber(5011), 1)]
        );
        c.arrive(ms(2), &seg(ACK, 5001, 1001, 10));
        assert_eq!(c.state(), State::CloseWait);
        assert_eq!(c.tcb().rcv_nxt.0, 5012);
        assert_eq!(c.readable(), 10);
    }
}

/// Linux tcp_sequence() (6.17 on): while unread data waits, a segment reaching past the
/// right window edge is unacceptable (a duplicate ACK), not held.
#[test]
fn linux_segment_past_the_edge_with_unread_data_is_unacceptable() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK, 5001, 1001, 1));
    let _ = c.emitted(ms(1), &seg(ACK, 1001, 5002, 0));
    c.arrive(ms(2), &seg(ACK, 5002 + 65000, 1001, 1000));
    assert!(c.out_of_order().is_empty());
    assert!(accepts(&c, ms(2), seg(ACK, 1001, 5002, 0)));
    c.receive(10).unwrap();
    c.arrive(ms(3), &seg(ACK, 5002 + 65000, 1001, 1000));
    assert!(!c.out_of_order().is_empty(), "held once the queue is empty");
}

/// Linux drops a segment with none of ACK, RST and SYN before the sequence check: an
/// unacceptable one draws no ACK (RFC 9293 acknowledges it).
#[test]
fn linux_drops_segments_without_ack_rst_or_syn() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(FIN, 5001 + 100_000, 0, 0));
    assert!(c.check_overdue(ms(50)).is_ok(), "nothing owed");
    let mut r = established(Profile::rfc9293());
    r.arrive(ms(1), &seg(FIN, 5001 + 100_000, 0, 0));
    assert!(r.check_overdue(ms(50)).is_err(), "an ACK owed");
}

/// TIME-WAIT after an active close: FIN sent and acknowledged, the peer's FIN taken.
fn time_wait(p: Profile) -> Connection {
    let mut c = established(p);
    c.close(ms(1)).unwrap();
    c.emitted(ms(1), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    c.arrive(ms(2), &seg(FIN | ACK, 5001, 1002, 0));
    c.emitted(ms(2), &seg(ACK, 1002, 5002, 0)).unwrap();
    assert_eq!(c.state(), State::TimeWait);
    c
}

/// Linux tcp_timewait_state_process(): a RST not at RCV.NXT is dropped without a challenge
/// ACK; a second FIN at RCV.NXT is answered with an ACK of RCV.NXT and not taken.
#[test]
fn linux_time_wait_answers_as_the_timewait_socket() {
    let mut c = time_wait(Profile::linux_defaults());
    c.arrive(ms(3), &seg(RST, 5003, 0, 0));
    assert!(c.check_overdue(ms(50)).is_ok());
    c.arrive(ms(4), &seg(FIN | ACK, 5002, 1002, 0));
    assert_eq!(c.tcb().rcv_nxt.0, 5002);
    assert!(accepts(&c, ms(4), seg(ACK, 1002, 5002, 0)));
    let mut r = time_wait(Profile::rfc9293());
    r.arrive(ms(3), &seg(RST, 5003, 0, 0));
    assert!(accepts(&r, ms(3), seg(ACK, 1002, 5002, 0)), "challenge ACK");
}

/// Linux: close() with SO_LINGER 0 in TIME-WAIT cannot reach the timewait socket, which
/// stays; RFC 9293's ABORT deletes the TCB.
#[test]
fn linux_linger_zero_close_leaves_time_wait() {
    let mut c = time_wait(Profile::linux_defaults());
    c.close_linger_zero(ms(3)).unwrap();
    assert_eq!(c.state(), State::TimeWait);
    let mut r = time_wait(Profile::rfc9293());
    r.close_linger_zero(ms(3)).unwrap();
    assert_eq!(r.state(), State::Closed);
}

/// Linux tcp_acceptable_seq(): with SND.NXT beyond the peer's window (a FIN sent into a
/// window that then closed) an ACK carries SEQ = SND.UNA + SND.WND.
#[test]
fn linux_ack_seq_stays_inside_the_peers_window() {
    let mut c = established(Profile::linux_defaults());
    c.close(ms(1)).unwrap();
    c.emitted(ms(1), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    let mut zero = seg(ACK, 5001, 1001, 1);
    zero.wnd = 0;
    c.arrive(ms(2), &zero);
    assert!(accepts(&c, ms(2), seg(ACK, 1001, 5002, 0)));
    assert!(!accepts(&c, ms(2), seg(ACK, 1002, 5002, 0)));
}

/// Linux tcp_rcv_established(): header prediction's fast path queues in-order text before
/// tcp_ack() refuses a too-old ACK; the slow path drops it. The socket's memory decides, so
/// the model allows both and the stack's next segment (or a read) tells which ran.
#[test]
fn linux_fast_path_may_take_text_with_a_too_old_ack() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK, 5001, 1001, 1));
    c.emitted(ms(1), &seg(ACK, 1001, 5002, 0)).unwrap();
    // The ISN itself is too old right after a passive open (nothing acknowledged yet).
    c.arrive(ms(2), &seg(ACK, 5002, 1000, 10));
    assert!(accepts(&c, ms(2), seg(ACK, 1001, 5012, 0)), "fast path");
    assert!(
        accepts(&c, ms(2), seg(ACK, 1001, 5002, 0)),
        "slow path's challenge ACK"
    );
    let mut taken = c.clone();
    taken.emitted(ms(2), &seg(ACK, 1001, 5012, 0)).unwrap();
    assert_eq!(taken.readable(), 11);
    let mut read = c.clone();
    assert_eq!(read.receive_where(100, |r| *r == Ok(11)), Ok(11));
    // Another window keeps it off the fast path: dropped.
    let mut slow = established(Profile::linux_defaults());
    slow.arrive(ms(1), &seg(ACK, 5001, 1001, 1));
    slow.emitted(ms(1), &seg(ACK, 1001, 5002, 0)).unwrap();
    let mut d = seg(ACK, 5002, 1000, 10);
    d.wnd = 1000;
    slow.arrive(ms(2), &d);
    assert!(!accepts(&slow, ms(2), seg(ACK, 1001, 5012, 0)));
}

/// Linux tcp_sequence(): the window counts from RCV.WUP, so while the ACK of data is
/// delayed an old pure ACK ending between RCV.WUP and RCV.NXT is acceptable (no ACK owed).
#[test]
fn linux_window_counts_from_rcv_wup() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 30));
    c.arrive(ms(2), &seg(ACK, 5001, 1001, 0));
    assert!(
        accepts(&c, ms(2), seg(ACK, 1001, 5032, 0)),
        "only the delayed ACK"
    );
    let mut r = established(Profile::rfc9293());
    r.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 30));
    r.arrive(ms(2), &seg(ACK, 5001, 1001, 0));
    assert!(r.check_overdue(ms(3)).is_err(), "an ACK owed at once");
}

/// Linux, simultaneous open without the peer's Window Scale option: the stack keeps the
/// shift its SYN offered for its own windows.
#[test]
fn linux_simultaneous_open_keeps_its_receive_scale() {
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_active(ms(0)).unwrap();
    let mut syn = seg(SYN, 1000, 0, 0);
    syn.options.window_scale = Some(10);
    c.emitted(ms(0), &syn).unwrap();
    c.arrive(ms(0), &seg(SYN, 5000, 0, 0));
    let mut synack = seg(SYN | ACK, 1000, 5001, 0);
    synack.options.window_scale = Some(10);
    c.emitted(ms(0), &synack).unwrap();
    c.arrive(ms(1), &seg(ACK, 5001, 1001, 0));
    let mut ack = seg(ACK, 1001, 5001, 0);
    ack.wnd = 63;
    c.emitted(ms(1), &ack).unwrap();
    assert_eq!(c.tcb().rcv_wnd, 63 << 10);
}

/// Linux: shutdown(SHUT_WR) in a simultaneous open's SYN-RECEIVED sends nothing; the FIN
/// goes with the ACK that completes the handshake. RFC 9293 sends it at once.
#[test]
fn linux_shutdown_in_simultaneous_synrecv_holds_the_fin() {
    let mut c = simultaneous(Profile::linux_defaults());
    c.close(ms(1)).unwrap();
    assert_eq!(c.state(), State::SynReceived);
    assert!(c.check_overdue(ms(50)).is_ok(), "nothing owed yet");
    c.arrive(ms(60), &seg(ACK, 5001, 1001, 0));
    assert_eq!(c.state(), State::FinWait1);
    assert!(accepts(&c, ms(60), seg(FIN | ACK, 1001, 5001, 0)));
    let mut r = simultaneous(Profile::rfc9293());
    r.close(ms(1)).unwrap();
    assert!(r.check_overdue(ms(50)).is_err(), "the FIN owed at once");
}

/// Linux, simultaneous open: an ACK of the ISN itself establishes (RFC 9293 resets).
#[test]
fn linux_simultaneous_open_takes_an_ack_of_snd_una() {
    let mut c = simultaneous(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK, 5001, 1000, 0));
    assert_eq!(c.state(), State::Established);
    let mut r = simultaneous(Profile::rfc9293());
    r.arrive(ms(1), &seg(ACK, 5001, 1000, 0));
    assert!(accepts(&r, ms(1), seg(RST, 1000, 0, 0)));
}

/// Linux: a request socket's child judges the SYN the request trimmed: challenge ACK, the
/// FIN not taken, still SYN-RECEIVED; the plain ACK then establishes.
#[test]
fn linux_request_child_challenges_the_trimmed_syn() {
    let mut c = syn_received(Profile::linux_defaults());
    c.arrive(ms(1), &seg(SYN | FIN | ACK, 5000, 1001, 0));
    assert_eq!(c.state(), State::SynReceived);
    assert_eq!(c.tcb().rcv_nxt.0, 5001);
    assert!(accepts(&c, ms(1), seg(ACK, 1001, 5001, 0)));
    c.arrive(ms(2), &seg(ACK, 5001, 1001, 0));
    assert_eq!(c.state(), State::Established);
}

/// Linux tcp_check_req(): a TSecr that echoes none of the SYN-ACKs is refused like a segment
/// outside the window (an ACK; a RST is dropped), so the connection is not established.
#[test]
fn linux_request_refuses_a_tsecr_of_no_synack() {
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_passive(ms(0)).unwrap();
    let mut syn = seg(SYN, 5000, 0, 0);
    syn.options.timestamps = Some((1, 0));
    c.arrive(ms(0), &syn);
    let mut synack = seg(SYN | ACK, 1000, 5001, 0);
    synack.options.timestamps = Some((700, 1));
    c.emitted(ms(0), &synack).unwrap();
    let mut ack = seg(ACK, 5001, 1001, 0);
    ack.options.timestamps = Some((2, 701));
    c.arrive(ms(1), &ack);
    assert_eq!(c.state(), State::SynReceived);
    ack.options.timestamps = Some((3, 700));
    c.arrive(ms(600), &ack);
    assert_eq!(c.state(), State::Established);
}

/// Linux tcp_disconnect(): close() with SO_LINGER 0 in LAST-ACK with the FIN not yet sent
/// (a zero window) resets; RFC 9293's ABORT there sends nothing.
#[test]
fn linux_linger_zero_close_with_an_unsent_fin_resets() {
    for (p, rst) in [
        (Profile::linux_defaults(), true),
        (Profile::rfc9293(), false),
    ] {
        let mut c = established(p);
        let mut zero = seg(ACK | FIN, 5001, 1001, 0);
        zero.wnd = 0;
        c.arrive(ms(1), &zero);
        let _ = c.emitted(ms(1), &seg(ACK, 1001, 5002, 0));
        c.close(ms(2)).unwrap();
        assert_eq!(c.state(), State::LastAck);
        c.close_linger_zero(ms(3)).unwrap();
        assert_eq!(c.state(), State::Closed);
        assert_eq!(c.check_overdue(ms(20)).is_err(), rst, "a RST owed: {rst}");
    }
}

/// Linux tcp_rcv_established(): header prediction may take text whose ACK is too old for
/// tcp_ack() (the fast path queues it first), or the slow path drops it, as the socket's
/// memory decides; nothing on the wire tells which when the challenge ACK is rate limited
/// and the text's ACK delayed. A RST at the old RCV.NXT then resets the slow path only
/// (tcp_validate_incoming(): not at RCV.NXT on the fast one). The socket's state, read by
/// the harness, keeps the branch that matches (explorer, seed 2718, case 765).
#[test]
fn linux_socket_state_tells_the_fast_path_from_the_slow() {
    let mut c = established(Profile::linux_defaults());
    // A first challenge ACK spends the rate limit.
    c.arrive(ms(1), &seg(RST, 5002, 0, 0));
    c.emitted(ms(1), &seg(ACK, 1001, 5001, 0)).unwrap();
    c.send(ms(1), 1).unwrap();
    c.emitted(ms(1), &seg(ACK | TcpFlags::PSH, 1001, 5001, 1))
        .unwrap();
    // Text at RCV.NXT acknowledging less than SND.UNA: too old (nothing acknowledged yet).
    c.arrive(ms(2), &seg(ACK, 5001, 1000, 1));
    assert_eq!(c.branches(), 1, "fast and slow path both followed");
    c.arrive(ms(3), &seg(RST, 5001, 0, 0));
    assert_eq!(c.state(), State::Closed, "the slow path is reset");
    // A state no branch is in changes nothing.
    assert!(!c.keep_branches_where(|b| b.state() == State::Listen));
    assert_eq!(c.state(), State::Closed);
    // The kernel's socket is still connected: the fast path it is.
    assert!(c.keep_branches_where(|b| b.state() != State::Closed));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.tcb().rcv_nxt.0, 5002, "the text was taken");
    assert_eq!(c.branches(), 0);
}

/// Linux tcp_ofo_queue() and tcp_fin(): of two FINs held out of order, the earlier ends the
/// stream when the hole fills, and the out-of-order queue is purged with it, so the ACK
/// carries no SACK block (explorer, seed 2718, case 1820). Both profiles end the stream at
/// the first FIN (RFC 9293 3.10.7.4, eighth).
#[test]
fn the_earlier_of_two_held_fins_ends_the_stream() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.arrive(ms(1), &seg(ACK | FIN, 5097, 1001, 0));
        let _ = c.emitted(ms(1), &seg(ACK, 1001, 5001, 0));
        c.arrive(ms(2), &seg(ACK | FIN, 5002, 1001, 40));
        let _ = c.emitted(ms(2), &seg(ACK, 1001, 5001, 0));
        c.arrive(ms(3), &seg(ACK, 5001, 1001, 1));
        assert_eq!(c.state(), State::CloseWait);
        assert_eq!(c.tcb().rcv_nxt.0, 5043, "41 bytes and the FIN at 5042");
        assert!(c.out_of_order().is_empty(), "the later FIN is purged");
    }
}

/// Linux tcp_select_window(): a window field of 65535 (unscaled) may stand for a wider
/// window, so text at the advertised right edge may be held (and reported in SACK blocks)
/// as well as dropped (explorer, seed 2718, case 2033).
#[test]
fn linux_text_at_a_clamped_window_edge_may_be_held() {
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_passive(ms(0)).unwrap();
    let mut syn = seg(SYN, 5000, 0, 0);
    syn.options.sack_permitted = true;
    c.arrive(ms(0), &syn);
    let mut synack = seg(SYN | ACK, 1000, 5001, 0);
    synack.options.sack_permitted = true;
    c.emitted(ms(0), &synack).unwrap();
    c.arrive(ms(0), &seg(ACK, 5001, 1001, 0));
    // Something held out of order keeps the ACKs immediate.
    c.arrive(ms(1), &seg(ACK, 5101, 1001, 10));
    let _ = c.emitted(ms(1), &seg(ACK, 1001, 5001, 0));
    c.arrive(ms(2), &seg(ACK, 5001, 1001, 20));
    let mut ack = seg(ACK, 1001, 5021, 0);
    ack.wnd = 65535;
    ack.options.sack = SackBlocks::new(&[SackBlock::new(5101, 5111)]);
    c.emitted(ms(2), &ack).unwrap();
    c.arrive(ms(3), &seg(ACK, 5021 + 65535, 1001, 1));
    let mut held = seg(ACK, 1001, 5021, 0);
    held.options.sack = SackBlocks::new(&[
        SackBlock::new(5021 + 65535, 5021 + 65536),
        SackBlock::new(5101, 5111),
    ]);
    let mut dropped = seg(ACK, 1001, 5021, 0);
    dropped.options.sack = SackBlocks::new(&[SackBlock::new(5101, 5111)]);
    assert!(accepts(&c, ms(3), held), "held, as the wider window allows");
    assert!(
        accepts(&c, ms(3), dropped),
        "dropped, as the advertised edge says"
    );
}

/// Linux tcp_data_queue() after tcp_rcv_state_process() in CLOSE-WAIT: a segment starting
/// before RCV.NXT whose text ends at RCV.NXT and that carries a FIN moves RCV.NXT over that
/// FIN again, and the ACK says so (explorer, seed 2718 case 2321, seed 4242 case 925).
#[test]
fn linux_close_wait_takes_a_fin_ending_a_partial_segment() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 1));
    assert_eq!(c.state(), State::CloseWait);
    c.emitted(ms(2), &seg(ACK, 1001, 5003, 0)).unwrap();
    // From RCV.NXT - 2: two bytes, the second where the FIN was, then a FIN at RCV.NXT.
    c.arrive(ms(3), &seg(ACK | FIN, 5001, 1001, 2));
    assert_eq!(c.tcb().rcv_nxt.0, 5004);
    assert!(accepts(&c, ms(3), seg(ACK, 1001, 5004, 0)));
    assert!(
        !accepts(&c, ms(3), seg(ACK, 1001, 5003, 0)),
        "the old RCV.NXT is not what Linux acknowledges"
    );
    assert!(
        c.clone().check_overdue(ms(3 + 500)).is_err(),
        "the ACK is owed"
    );
    // CLOSE then sends a FIN acknowledging the new RCV.NXT.
    c.emitted(ms(4), &seg(ACK, 1001, 5004, 0)).unwrap();
    c.close(ms(5)).unwrap();
    assert!(accepts(&c, ms(5), seg(FIN | ACK, 1001, 5004, 0)));
    assert!(!accepts(&c, ms(5), seg(FIN | ACK, 1001, 5003, 0)));
}

/// Linux tcp_fin() in FIN-WAIT-2 sends its ACK before the SACK blocks are trimmed
/// (tcp_sack_remove() runs after tcp_ofo_queue()): the block that covered the FIN just taken
/// from the out-of-order queue is still reported (explorer, seed 2718, case 1546).
#[test]
fn linux_fin_wait_2_ack_reports_the_block_of_the_fin_it_takes() {
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_passive(ms(0)).unwrap();
    let mut syn = seg(SYN, 5000, 0, 0);
    syn.options.sack_permitted = true;
    c.arrive(ms(0), &syn);
    let mut synack = seg(SYN | ACK, 1000, 5001, 0);
    synack.options.sack_permitted = true;
    c.emitted(ms(0), &synack).unwrap();
    c.arrive(ms(0), &seg(ACK, 5001, 1001, 0));
    c.close(ms(1)).unwrap();
    c.emitted(ms(1), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    c.arrive(ms(2), &seg(ACK, 5001, 1002, 0));
    assert_eq!(c.state(), State::FinWait2);
    // 17 bytes and a FIN beyond a one-byte hole.
    c.arrive(ms(3), &seg(FIN | ACK, 5002, 1002, 17));
    let mut sack = seg(ACK, 1002, 5001, 0);
    sack.options.sack = SackBlocks::new(&[SackBlock::new(5002, 5020)]);
    c.emitted(ms(3), &sack).unwrap();
    // Another 17 bytes and FIN, one later: the block grows to 5021.
    c.arrive(ms(3), &seg(FIN | ACK, 5003, 1002, 17));
    let mut sack = seg(ACK, 1002, 5001, 0);
    sack.options.sack = SackBlocks::new(&[SackBlock::new(5002, 5021)]);
    c.emitted(ms(3), &sack).unwrap();
    c.arrive(ms(4), &seg(ACK, 5001, 1002, 1));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.tcb().rcv_nxt.0, 5020, "the earlier FIN ends the stream");
    let mut stale = seg(ACK, 1002, 5020, 0);
    stale.options.sack = SackBlocks::new(&[SackBlock::new(5002, 5021)]);
    assert!(accepts(&c, ms(4), stale), "the block as it stood");
    let mut beyond = seg(ACK, 1002, 5020, 0);
    beyond.options.sack = SackBlocks::new(&[SackBlock::new(5002, 5030)]);
    assert!(!accepts(&c, ms(4), beyond), "nothing beyond what was held");
}

/// A retransmission timer races the input that makes it needless: a FIN retransmitted when
/// its RTO was due, read after the ACK that acknowledged it, is the timer firing first, and
/// allowed until the step is checked for what is overdue; one not yet due, or seen after that check, is not.
#[test]
fn a_retransmission_due_when_acknowledged_raced_the_ack() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.close(ms(10)).unwrap();
        c.emitted(ms(10), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
        let due = c
            .obligations()
            .iter()
            .find(|e| e.spec.flags.fin())
            .map(|e| e.due.earliest)
            .expect("the FIN's retransmission is owed");
        let mut early = c.clone();
        let mut raced = c.clone();
        // Acknowledged once the retransmission was due: it may still come, once.
        raced.arrive(due, &seg(ACK, 5001, 1002, 0));
        assert_eq!(raced.state(), State::FinWait2);
        let fin = seg(FIN | ACK, 1001, 5001, 0);
        assert!(raced.emitted(due + ms(1), &fin).is_ok());
        assert!(raced.emitted(due + ms(1), &fin).is_err(), "only once");
        let mut settled = c.clone();
        settled.arrive(due, &seg(ACK, 5001, 1002, 0));
        settled.check_overdue(due).unwrap();
        assert!(
            settled.emitted(due + ms(1), &fin).is_err(),
            "not after the settle"
        );
        // Acknowledged long before it was due: no race.
        early.arrive(ms(11), &seg(ACK, 5001, 1002, 0));
        assert!(early.emitted(ms(12), &fin).is_err());
    }
}

/// Linux tcp_v4_rcv(), TCP_TW_SYN: a SYN with FIN beyond RCV.NXT ends TIME-WAIT and goes to
/// the listener, which drops it; the next SYN is a fresh connection whose ISN need not lie
/// above the old sequence numbers (explorer, seed 4242, cases 736 and 750). A SYN the
/// listener takes keeps the MAY-2 floor.
#[test]
fn linux_time_wait_ended_by_a_dropped_syn_keeps_no_isn_floor() {
    let mut c = time_wait(Profile::linux_defaults());
    assert!(c.reopen_from_time_wait(ms(3), &seg(SYN | FIN, 5100, 0, 0)));
    assert_eq!(c.state(), State::Listen, "the listener dropped it");
    c.arrive(ms(4), &seg(SYN, 7000, 0, 0));
    assert!(c.emitted(ms(4), &seg(SYN | ACK, 500, 7001, 0)).is_ok());
    let mut k = time_wait(Profile::linux_defaults());
    assert!(k.reopen_from_time_wait(ms(3), &seg(SYN, 5100, 0, 0)));
    assert!(
        k.emitted(ms(3), &seg(SYN | ACK, 500, 5101, 0)).is_err(),
        "a reopened connection's ISN lies above the old SND.NXT"
    );
}

/// Linux tcp_timewait_state_process(): without timestamps the timewait socket does not read
/// a SYN's TSval, so an old SYN is answered within the out-of-window rate limit, not as a
/// SYN with a newer TSval (explorer, seed 31337, case 608).
#[test]
fn linux_time_wait_ignores_tsvals_without_timestamps() {
    let mut c = established(Profile::linux_defaults());
    c.close(ms(1)).unwrap();
    c.emitted(ms(1), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    let mut fin = seg(FIN | ACK, 5001, 1002, 0);
    fin.options.timestamps = Some((3, 0));
    c.arrive(ms(2), &fin);
    c.emitted(ms(2), &seg(ACK, 1002, 5002, 0)).unwrap();
    assert_eq!(c.state(), State::TimeWait);
    let mut syn = seg(SYN, 5000, 0, 0);
    syn.options.timestamps = Some((4, 0));
    c.arrive(ms(3), &syn);
    c.emitted(ms(3), &seg(ACK, 1002, 5002, 0)).unwrap();
    syn.options.timestamps = Some((6, 0));
    c.arrive(ms(4), &syn);
    assert!(
        c.check_overdue(ms(100)).is_ok(),
        "the second answer is rate limited"
    );
}

/// Timestamps on both SYNs (the peer's TSval 1, the stack's 700), the ACK not yet in.
fn syn_received_with_timestamps() -> Connection {
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_passive(ms(0)).unwrap();
    let mut syn = seg(SYN, 5000, 0, 0);
    syn.options.timestamps = Some((1, 0));
    c.arrive(ms(0), &syn);
    let mut synack = seg(SYN | ACK, 1000, 5001, 0);
    synack.options.timestamps = Some((700, 1));
    c.emitted(ms(0), &synack).unwrap();
    c
}

/// Eight TSvals from `first` on, in empty ACKs just past RCV.NXT: none becomes TS.Recent
/// (it follows only a segment at or before RCV.WUP), so an echo of an older TSval can only
/// be TS.Recent's.
fn crowd_out_tsvals(c: &mut Connection, at: Duration, first: u32) {
    let nxt = c.tcb().rcv_nxt.0;
    let una = c.tcb().snd_una.0;
    for v in first..first + 8 {
        let mut s = seg(ACK, nxt + 1, una, 0);
        s.options.timestamps = Some((v, 700));
        c.arrive(at, &s);
    }
}

/// Linux tcp_check_req() since 6.14 ("tcp: Defer ts_recent changes until req is owned"):
/// the request keeps the SYN's TSval; a segment it drops (here a FIN without ACK) does not
/// change it, and the child takes the completing ACK's TSval only if it has one (explorer,
/// seed 9001, case 1753).
#[test]
fn linux_request_keeps_the_syns_tsval() {
    let mut c = syn_received_with_timestamps();
    let mut fin = seg(FIN, 5001, 0, 0);
    fin.options.timestamps = Some((6, 0));
    c.arrive(ms(1), &fin);
    c.arrive(ms(2), &seg(ACK, 5001, 1001, 0));
    assert_eq!(c.state(), State::Established);
    crowd_out_tsvals(&mut c, ms(3), 10);
    let echo = |ecr| {
        let mut a = seg(ACK, 1001, 5001, 0);
        a.options.timestamps = Some((701, ecr));
        a
    };
    assert!(accepts(&c, ms(3), echo(1)), "the SYN's TSval");
    assert!(!accepts(&c, ms(3), echo(6)), "the dropped FIN's");
    // An ACK with a TSval gives the child that one.
    let mut k = syn_received_with_timestamps();
    let mut ack = seg(ACK, 5001, 1001, 0);
    ack.options.timestamps = Some((3, 700));
    k.arrive(ms(2), &ack);
    crowd_out_tsvals(&mut k, ms(3), 10);
    assert!(accepts(&k, ms(3), echo(3)));
    assert!(!accepts(&k, ms(3), echo(1)));
}

/// Linux tcp_rcv_established(): the fast path stores a predicted segment's TSval as
/// TS.Recent (RCV.NXT = RCV.WUP) before tcp_ack() looks at its ACK, so an ACK behind
/// SND.UNA sets it too; the slow path leaves tcp_ack() at old_ack first (explorer, seed
/// 9001, case 201).
#[test]
fn linux_fast_path_takes_the_tsval_of_an_old_ack() {
    let echo = |ack, ecr| {
        let mut a = seg(ACK, 1001, ack, 0);
        a.options.timestamps = Some((701, ecr));
        a
    };
    let mut c = syn_received_with_timestamps();
    let mut ack = seg(ACK, 5001, 1001, 0);
    ack.options.timestamps = Some((2, 700));
    c.arrive(ms(1), &ack);
    assert_eq!(c.state(), State::Established);
    // A pure ACK of SND.UNA-1: too old (a passive open counts no byte acknowledged yet),
    // so a challenge ACK, after TS.Recent took its TSval.
    let mut old = seg(ACK, 5001, 1000, 0);
    old.options.timestamps = Some((3, 700));
    let mut pure = c.clone();
    pure.arrive(ms(2), &old);
    pure.emitted(ms(2), &echo(5001, 3)).unwrap();
    crowd_out_tsvals(&mut pure, ms(3), 10);
    assert!(accepts(&pure, ms(3), echo(5001, 3)));
    assert!(!accepts(&pure, ms(3), echo(5001, 2)));
    // Text with that ACK: the fast path queues it and stores the TSval first.
    old.len = 10;
    let mut text = c.clone();
    text.arrive(ms(2), &old);
    text.emitted(ms(2), &echo(5011, 3)).unwrap();
    crowd_out_tsvals(&mut text, ms(3), 10);
    assert!(accepts(&text, ms(3), echo(5011, 3)));
}

/// Linux tcp_ofo_queue(): a held FIN that text in order has since covered is dropped with
/// its segment, and the next held FIN ends the stream; it is not lost, nor its sequence
/// number read as a byte (explorer, seed 9001, case 263). Both profiles.
#[test]
fn a_held_fin_covered_by_text_in_order_gives_way_to_the_next() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.arrive(ms(1), &seg(ACK | FIN, 5003, 1001, 95));
        let _ = c.emitted(ms(1), &seg(ACK, 1001, 5001, 0));
        c.arrive(ms(2), &seg(ACK | FIN, 5002, 1001, 0));
        let _ = c.emitted(ms(2), &seg(ACK, 1001, 5001, 0));
        c.arrive(ms(3), &seg(ACK, 5001, 1001, 76));
        assert_eq!(c.state(), State::CloseWait);
        assert_eq!(c.tcb().rcv_nxt.0, 5099, "97 bytes and the FIN at 5098");
        assert_eq!(c.readable(), 97);
    }
}

/// Linux tcp_check_req() gives the child the TSval of the ACK that made it even without
/// timestamps, tcp_time_wait() copies it as tw_ts_recent, and tcp_v4_send_ack() adds TSopt
/// whenever that TSecr is not zero: the timewait socket's ACKs carry TSopt, the full
/// socket's ACK of the FIN does not (explorer, seed 4242, case 2876).
#[test]
fn linux_time_wait_echoes_the_tsval_of_the_handshakes_ack() {
    let mut c = syn_received(Profile::linux_defaults());
    let mut ack = seg(ACK, 5001, 1001, 0);
    ack.options.timestamps = Some((11, 700));
    c.arrive(ms(1), &ack);
    assert_eq!(c.state(), State::Established);
    c.close(ms(2)).unwrap();
    c.emitted(ms(2), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    c.arrive(ms(3), &seg(FIN | ACK, 5001, 1002, 0));
    assert_eq!(c.state(), State::TimeWait);
    let plain = seg(ACK, 1002, 5002, 0);
    let mut stamped = plain;
    stamped.options.timestamps = Some((900, 11));
    assert!(!accepts(&c, ms(3), stamped), "the full socket's ACK");
    c.emitted(ms(3), &plain).unwrap();
    c.arrive(ms(4), &seg(FIN | ACK, 5001, 1002, 0));
    assert!(accepts(&c, ms(4), stamped), "the timewait socket's ACK");
    assert!(!accepts(&c, ms(4), plain));
    stamped.options.timestamps = Some((900, 12));
    assert!(!accepts(&c, ms(4), stamped));
    // Without a TSval in that ACK the timewait socket sends none.
    let mut t = time_wait(Profile::linux_defaults());
    t.arrive(ms(4), &seg(FIN | ACK, 5001, 1002, 0));
    assert!(accepts(&t, ms(4), plain));
}

/// Text whose ACK is old but within the window: the slow path takes it with TS.Recent
/// unchanged (tcp_ack() leaves at old_ack), the fast path (as the stack's memory allows)
/// with TS.Recent from it; the model keeps both.
#[test]
fn linux_text_with_an_old_ack_may_set_ts_recent() {
    let ts = |mut s: Seg, val, ecr| {
        s.options.timestamps = Some((val, ecr));
        s
    };
    let mut c = Connection::new(Profile::linux_defaults());
    c.open_active(ms(0)).unwrap();
    c.emitted(ms(0), &ts(seg(SYN, 1000, 0, 0), 700, 0)).unwrap();
    c.arrive(ms(0), &ts(seg(SYN, 5000, 0, 0), 1, 0));
    c.emitted(ms(0), &ts(seg(SYN | ACK, 1000, 5001, 0), 700, 1))
        .unwrap();
    c.arrive(ms(1), &ts(seg(ACK, 5001, 1001, 0), 2, 700));
    assert_eq!(c.state(), State::Established);
    // SEG.ACK = ISS: old, and in the window (a simultaneous open counts its SYN acked).
    c.arrive(ms(2), &ts(seg(ACK, 5001, 1000, 10), 3, 700));
    assert_eq!(c.tcb().rcv_nxt.0, 5011);
    c.emitted(ms(2), &ts(seg(ACK, 1001, 5011, 0), 701, 2))
        .unwrap();
    crowd_out_tsvals(&mut c, ms(3), 10);
    let echo = |ecr| ts(seg(ACK, 1001, 5011, 0), 701, ecr);
    assert!(accepts(&c, ms(3), echo(3)), "the fast path's");
    assert!(accepts(&c, ms(3), echo(2)), "the slow path's");
}

/// RFC 9293 3.10.7.4, second (RFC 5961 3.2): a RST is judged by its own sequence number, so
/// a SYN,RST at the peer's ISN is not trimmed into a RST at RCV.NXT: alone it lies outside
/// the window and is dropped, the request staying in SYN-RECEIVED; with text reaching into
/// the window it draws a challenge ACK (both profiles; explorer rfc9293, seed 2026, cases
/// 1252 and 7493).
#[test]
fn syn_rst_at_the_peer_isn_is_not_a_reset() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = syn_received(p.clone());
        c.arrive(ms(1), &seg(SYN | RST | ACK, 5000, 1001, 0));
        assert_eq!(c.state(), State::SynReceived, "{:?}", p.kind);
        assert!(
            c.check_overdue(ms(50)).is_ok(),
            "{:?}: nothing owed",
            p.kind
        );
        let mut d = syn_received(p.clone());
        d.arrive(ms(1), &seg(SYN | RST, 5000, 0, 1));
        assert_eq!(d.state(), State::SynReceived, "{:?}", p.kind);
        assert!(
            accepts(&d, ms(1), seg(ACK, 1001, 5001, 0)),
            "{:?}: a challenge ACK",
            p.kind
        );
    }
}

/// RFC 9293 3.3.2: after a passive open the peer's SYN again at its ISN, acknowledging the
/// SYN-ACK but with no text or FIN, is not acceptable (its one sequence number lies before
/// RCV.NXT): an ACK, the connection still in SYN-RECEIVED, as Linux's request socket has it
/// (tcp_check_req(), tcp_in_window()); explorer rfc9293, seed 60607, case 1379.
#[test]
fn passive_syn_ack_at_the_peer_isn_is_unacceptable() {
    let mut r = syn_received(Profile::rfc9293());
    r.arrive(ms(1), &seg(SYN | ACK, 5000, 1001, 0));
    assert_eq!(r.state(), State::SynReceived);
    assert!(accepts(&r, ms(1), seg(ACK, 1001, 5001, 0)));
    assert!(r.check_overdue(ms(1)).is_err(), "the ACK is owed at once");
}

/// Linux tcp_timewait_state_process(): a SYN reopens TIME-WAIT by its TSval only with
/// timestamps on, judged against tw_ts_recent, and an older TSval is a PAWS reject even
/// beyond RCV.NXT (explorer, seed 7, case 2842).
#[test]
fn linux_time_wait_reopens_by_tsval_only_with_timestamps() {
    let syn = |seq, val| {
        let mut s = seg(SYN, seq, 0, 0);
        s.options.timestamps = Some((val, 0));
        s
    };
    // Without timestamps: a FIN with TSval 3, then a SYN below RCV.NXT with TSval 4.
    let mut c = established(Profile::linux_defaults());
    c.close(ms(1)).unwrap();
    c.emitted(ms(1), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    let mut fin = seg(FIN | ACK, 5001, 1002, 0);
    fin.options.timestamps = Some((3, 0));
    c.arrive(ms(2), &fin);
    c.emitted(ms(2), &seg(ACK, 1002, 5002, 0)).unwrap();
    assert_eq!(c.state(), State::TimeWait);
    assert!(!c.reopen_from_time_wait(ms(3), &syn(5000, 4)));
    assert_eq!(c.state(), State::TimeWait);
    // With timestamps (TS.Recent 2).
    let mut t = syn_received_with_timestamps();
    let mut ack = seg(ACK, 5001, 1001, 0);
    ack.options.timestamps = Some((2, 700));
    t.arrive(ms(1), &ack);
    t.close(ms(1)).unwrap();
    let mut our_fin = seg(FIN | ACK, 1001, 5001, 0);
    our_fin.options.timestamps = Some((701, 2));
    t.emitted(ms(1), &our_fin).unwrap();
    let mut fin = seg(FIN | ACK, 5001, 1002, 0);
    fin.options.timestamps = Some((2, 701));
    t.arrive(ms(2), &fin);
    assert_eq!(t.state(), State::TimeWait);
    assert!(
        !t.clone().reopen_from_time_wait(ms(3), &syn(9000, 1)),
        "PAWS"
    );
    assert!(
        t.reopen_from_time_wait(ms(3), &syn(5000, 3)),
        "a newer TSval"
    );
}

/// Linux tcp_recvmsg(): a FIN that came with text (or was merged into the queue's last
/// skb) is taken with the last byte read, so the receive queue is empty and tcp_sequence()
/// takes a segment reaching past the window's edge; a read that leaves a byte leaves the
/// queue holding it (explorer, seed 7, case 1417).
#[test]
fn linux_reading_the_last_byte_takes_the_fin_with_it() {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 100));
    assert_eq!(c.state(), State::CloseWait);
    // A window under 65535, so that the field is not clamped (it would then stand for a
    // window that may be wider).
    let mut ack = seg(ACK, 1001, 5102, 0);
    ack.wnd = 64000;
    c.emitted(ms(1), &ack).unwrap();
    let edge = c.tcb().rcv_wup.0 + c.tcb().rcv_wnd;
    let past = seg(ACK, edge, 1001, 10);
    let mut part = c.clone();
    assert_eq!(part.receive(99), Ok(99));
    part.arrive(ms(2), &past);
    assert!(
        part.check_overdue(ms(50)).is_err(),
        "a byte unread: not acceptable, an ACK"
    );
    assert_eq!(c.receive(100), Ok(100));
    c.arrive(ms(2), &past);
    assert!(
        c.check_overdue(ms(50)).is_ok(),
        "taken (and ignored after the FIN)"
    );
}

/// An ACK owed (the delayed ACK of a FIN in CLOSE-WAIT) when an ABORT or a RST makes it
/// needless may still come once in that step: its timer raced the input (explorer, seed 7
/// case 1673, seed 31337 case 4549). Both profiles.
#[test]
fn an_owed_ack_due_when_aborted_raced_the_abort() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.arrive(ms(1), &seg(ACK | FIN, 5001, 1001, 0));
        assert_eq!(c.state(), State::CloseWait);
        let ack = seg(ACK, 1001, 5002, 0);
        let mut r = c.clone();
        c.close_linger_zero(ms(2)).unwrap();
        // The differ checks what is overdue by a grace before the time it reads a reply.
        c.check_overdue(ms(1)).unwrap();
        let mut late = c.clone();
        assert!(c.emitted(ms(2), &ack).is_ok(), "the timer fired first");
        assert!(c.emitted(ms(2), &ack).is_err(), "only once");
        r.arrive(ms(2), &seg(RST, 5002, 0, 0));
        assert_eq!(r.state(), State::Closed);
        assert!(r.emitted(ms(2), &ack).is_ok());
        late.emitted(ms(2), &seg(RST, 1001, 0, 0)).unwrap();
        late.check_overdue(ms(3)).unwrap();
        assert!(
            late.emitted(ms(3), &ack).is_err(),
            "not after a settle past the input"
        );
    }
}

/// A segment with RST (`flags`, `len` octets) just past the advertised window edge of a
/// Linux connection whose window field is clamped at 65535: the window may be wider, so it
/// may draw a challenge ACK, which starts the out-of-window budget and holds back the
/// challenge ACK of a SYN right after.
fn rst_past_a_clamped_window_edge(flags: TcpFlags, len: u32) {
    let mut c = established(Profile::linux_defaults());
    c.arrive(ms(1), &seg(ACK, 5001, 1001, 10));
    c.emitted(ms(1), &seg(ACK, 1001, 5011, 0)).unwrap();
    let edge = c.tcb().rcv_wup.0 + c.tcb().rcv_wnd;
    c.arrive(ms(2), &seg(flags, edge, 0, len));
    assert!(
        accepts(&c, ms(2), seg(ACK, 1001, 5011, 0)),
        "in a wider window"
    );
    assert!(
        c.clone().check_overdue(ms(50)).is_ok(),
        "dropped in the advertised one"
    );
    c.emitted(ms(2), &seg(ACK, 1001, 5011, 0)).unwrap();
    c.arrive(ms(3), &seg(SYN, 5011, 0, 0));
    assert!(c.check_overdue(ms(50)).is_ok(), "rate limited");
}

/// Linux tcp_select_window(): behind a window field of 65535 the window may be wider, so a
/// RST past the advertised edge may be inside it and draw a challenge ACK (explorer, seed
/// 9001, case 3137).
#[test]
fn linux_rst_past_a_clamped_window_edge_may_draw_a_challenge_ack() {
    rst_past_a_clamped_window_edge(RST, 1);
}

/// A SYN,RST in that wider window is a RST there (Linux checks RST before SYN,
/// tcp_validate_incoming()), with the same challenge ACK (explorer, seed 1, 1000 events,
/// cases 1811 and 4240).
#[test]
fn linux_syn_rst_past_a_clamped_window_edge_may_draw_a_challenge_ack() {
    rst_past_a_clamped_window_edge(SYN | RST, 0);
}

/// The same wider window takes an empty FIN past the advertised edge: in CLOSING it is
/// ignored there, where the advertised window answers it with an ACK (explorer, seed 2026,
/// case 3976).
#[test]
fn linux_empty_segment_past_a_clamped_window_edge_may_be_inside() {
    let mut c = established(Profile::linux_defaults());
    c.close(ms(1)).unwrap();
    c.emitted(ms(1), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    c.arrive(ms(2), &seg(ACK | FIN, 5001, 1001, 10));
    assert_eq!(c.state(), State::Closing);
    c.emitted(ms(2), &seg(ACK, 1002, 5012, 0)).unwrap();
    let edge = c.tcb().rcv_wup.0 + c.tcb().rcv_wnd;
    c.arrive(ms(3), &seg(ACK | FIN, edge + 1, 1001, 0));
    assert!(
        accepts(&c, ms(3), seg(ACK, 1002, 5012, 0)),
        "the advertised window"
    );
    assert!(
        c.check_overdue(ms(50)).is_ok(),
        "in a wider window: ignored"
    );
}

/// A passive SYN-RECEIVED with window scaling and SACK on both sides: the stack's SYN-ACK
/// offers 64240 with shift 7, and a RST in the window draws the request's challenge ACK,
/// which advertises 64240 >> 7 = 501 (a right edge of 5001 + 64128).
fn request_after_rounded_ack(p: Profile) -> Connection {
    let mut c = Connection::new(p);
    c.open_passive(ms(0)).unwrap();
    let mut syn = seg(SYN, 5000, 0, 0);
    syn.options.window_scale = Some(0);
    syn.options.sack_permitted = true;
    c.arrive(ms(0), &syn);
    let mut synack = seg(SYN | ACK, 1000, 5001, 0);
    synack.wnd = 64240;
    synack.options.window_scale = Some(7);
    synack.options.sack_permitted = true;
    c.emitted(ms(0), &synack).unwrap();
    c.arrive(ms(1), &seg(RST, 5002, 0, 0));
    let mut challenge = seg(ACK, 1001, 5001, 0);
    challenge.wnd = 501;
    c.emitted(ms(1), &challenge).unwrap();
    c
}

/// Linux (`request_ack_window_rounded_down`): the request's ACK advertised its window
/// rounded down to the scale, but a FIN,ACK past that edge and inside the SYN-ACK's window
/// creates the connection and is held out of order, SACKed; the RFC's window is the one
/// advertised, so the FIN is unacceptable and draws a plain ACK (explorer, rfc9293 profile,
/// seed 8, case 1842).
#[test]
fn request_keeps_the_synack_window_its_ack_rounded_down() {
    let mut sacked = seg(ACK, 1001, 5001, 0);
    sacked.options.sack = SackBlocks::new(&[SackBlock::new(69200, 69201)]);
    let plain = seg(ACK, 1001, 5001, 0);
    let fin = seg(FIN | ACK, 69200, 1001, 0);

    let mut linux = request_after_rounded_ack(Profile::linux_defaults());
    linux.arrive(ms(2), &fin);
    assert_eq!(linux.state(), State::Established);
    assert!(accepts(&linux, ms(2), sacked), "Linux: the FIN is held");

    let mut rfc = request_after_rounded_ack(Profile::rfc9293());
    rfc.arrive(ms(2), &fin);
    assert_eq!(rfc.state(), State::SynReceived);
    assert!(accepts(&rfc, ms(2), plain), "RFC: unacceptable, an ACK");
    assert!(!accepts(&rfc, ms(2), sacked));

    // The switch alone makes the difference.
    let mut p = Profile::linux_defaults();
    p.behaviour.request_ack_window_rounded_down = false;
    let mut off = request_after_rounded_ack(p);
    off.arrive(ms(2), &fin);
    assert_eq!(off.state(), State::SynReceived);
}

/// The stack's segment matches nothing owed: the divergence names what it stands in for,
/// the ACK owed now, not the first thing owed (the retransmission still to come), so that
/// what is reported, and the known deviation recognised, is that ACK's. RFC 9293: an ACK
/// of the peer's text at SND.NXT; Linux's tcp_acceptable_seq() puts it at SND.UNA + SND.WND
/// once the window shrank below SND.NXT (explorer, rfc9293 profile, seed 8, 200 events,
/// case 189).
#[test]
fn a_divergence_names_the_owed_segment_the_stack_sent_instead() {
    let mut c = established(Profile::rfc9293());
    c.send(ms(1), 3).unwrap();
    c.emitted(ms(1), &seg(ACK | TcpFlags::PSH, 1001, 5001, 3))
        .unwrap();
    let mut text = seg(ACK | TcpFlags::PSH, 5001, 1002, 1);
    text.wnd = 1;
    c.arrive(ms(2), &text);
    let err = c
        .emitted(ms(2), &seg(ACK, 1003, 5002, 0))
        .expect_err("the RFC's ACK carries SND.NXT");
    let owed = err.expected.spec().map(|s| s.to_string());
    assert_eq!(
        owed.as_deref(),
        Some("<SEQ=1004><ACK=5002><CTL=ACK>"),
        "{err}"
    );
    assert!(!err.rule.labels.contains(&Label::Must(18)), "{err}");
}

/// RFC 9293 3.8.1: a retransmission carries the current RCV.NXT, not the one of when its
/// timer was armed: text that came in meanwhile is acknowledged by it (both profiles; seen
/// on 6.18 with tcp_early_retrans=0 while reproducing the case above).
#[test]
fn a_retransmission_acknowledges_text_received_since_its_timer_was_armed() {
    for p in [Profile::rfc9293(), Profile::linux_defaults()] {
        let mut c = established(p);
        c.send(ms(1), 3).unwrap();
        c.emitted(ms(1), &seg(ACK | TcpFlags::PSH, 1001, 5001, 3))
            .unwrap();
        c.arrive(ms(2), &seg(ACK | TcpFlags::PSH, 5001, 1001, 1));
        c.emitted(ms(2), &seg(ACK, 1004, 5002, 0)).unwrap();
        let due = c
            .obligations()
            .iter()
            .find(|e| e.kind == ObligationKind::Retransmission)
            .expect("the data's retransmission")
            .due
            .earliest;
        let resent = seg(ACK | TcpFlags::PSH, 1001, 5002, 3);
        assert!(accepts(&c, due, resent), "ACK = RCV.NXT now");
        assert!(!accepts(&c, due, seg(ACK, 1001, 5001, 3)));
    }
}
