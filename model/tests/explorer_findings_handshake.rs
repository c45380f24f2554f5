//! Rules the explorer (harness/src/explore) found the model missing or getting wrong against
//! Linux 6.18, each checked in the profile it belongs to. The `linux` ones are the model's
//! side of the known deviations in harness/src/explore/deviations/.
//!
//! This file: the handshake: requests, LISTEN and simultaneous open (the other findings: the other
//! `explorer_findings_*.rs`).

mod common;

use tcpcheck_model::conn::{Connection, State};
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::{SackBlock, SackBlocks};

use common::findings::*;

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

/// Linux: the held FIN's window test counts the SYN the completing ACK acknowledges, so a
/// window of 1 lets it go at once, acknowledging RCV.NXT from before the ACK's text, then
/// the text's ACK (explorer seed 99 case 50897).
#[test]
fn linux_held_fin_fits_a_window_of_one_after_the_syn_is_acked() {
    let mut c = simultaneous(Profile::linux_defaults());
    c.close(ms(1)).unwrap();
    let mut ack = seg(ACK, 5001, 1001, 1);
    ack.wnd = 1;
    c.arrive(ms(2), &ack);
    assert_eq!(c.state(), State::FinWait1);
    assert!(accepts(&c, ms(2), seg(FIN | ACK, 1001, 5001, 0)));
    c.emitted(ms(2), &seg(FIN | ACK, 1001, 5001, 0)).unwrap();
    assert!(accepts(&c, ms(2), seg(ACK, 1002, 5002, 0)));
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
    let mut c = syn_received_with_timestamps();
    let mut ack = seg(ACK, 5001, 1001, 0);
    ack.options.timestamps = Some((2, 701));
    c.arrive(ms(1), &ack);
    assert_eq!(c.state(), State::SynReceived);
    ack.options.timestamps = Some((3, 700));
    c.arrive(ms(600), &ack);
    assert_eq!(c.state(), State::Established);
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
