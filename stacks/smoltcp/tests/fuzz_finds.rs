//! Divergences the fuzz target (fuzz/fuzz_targets/smoltcp.rs) found in no class, each put in
//! its class once judged: the cases are the target's own (generated, printed by `cargo fuzz
//! run --sanitizer none smoltcp <crash file>`), run again against smoltcp and the model.

mod common;
use common::class_of;

use tcpcheck::explore::event::{AckOf, SegEvent, SeqAt};
use tcpcheck::explore::{Case, Event, Setup};
use tcpcheck_model::wire::TcpFlags;

/// Passive, a SYN with text, a SYN,ACK acknowledging ours (the model enters ESTABLISHED, smoltcp drops it),
/// then a FIN out of the window with an old ACK: the model owes an ACK, smoltcp (still in
/// SYN-RECEIVED, checking the ACK first) sends <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn a_reply_only_syn_received_gives_after_a_syn_ack_it_dropped() {
    let case = Case {
        setup: Setup {
            passive: true,
            v6: true,
            peer_isn: 4294967280,
            mss: Some(100),
            sack: true,
            wscale: Some(14),
            ts: true,
        },
        events: vec![
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(1),
            Event::Replay(0),
            Event::Replay(3),
            Event::Segment(SegEvent {
                flags: TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::PeerIsn(-3),
                ack: AckOf::SndNxt(-3),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(1),
            Event::Replay(0),
            Event::Replay(3),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::SYN,
                seq: SeqAt::PeerIsn(-3),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 65535,
                options: false,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::SndNxt(-3),
                len: 0,
                wnd: 65535,
                options: false,
            }),
        ],
    };
    assert_eq!(class_of(case), "syn-ack-after-syn-received-dropped");
}

/// Simultaneous open; a FIN with 3000 bytes at RCV.NXT+3 is held (its ACK moves SYN-RECEIVED
/// on); the FIN with 3000 bytes at RCV.NXT is acknowledged 3 past where it ends.
#[test]
fn a_fin_after_held_text_with_a_fin_is_acknowledged_past_it() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: true,
            peer_isn: 2147483647,
            mss: Some(536),
            sack: false,
            wscale: Some(0),
            ts: true,
        },
        events: vec![
            Event::Read(1),
            Event::Segment(SegEvent {
                flags: TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::PeerIsn(-1073741824),
                ack: AckOf::Iss(-2),
                len: 0,
                wnd: 65535,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN,
                seq: SeqAt::RcvNxt(3),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Write(1000),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN,
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK
                    | TcpFlags::PSH
                    | TcpFlags::RST
                    | TcpFlags::SYN
                    | TcpFlags::FIN,
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::SndNxt(-3),
                len: 0,
                wnd: 65535,
                options: false,
            }),
        ],
    };
    assert_eq!(class_of(case), "fin-inside-held-text-misplaced");
}

/// 3000 bytes held at IRS+2 (named from the peer's ISN), then a FIN with 1460 bytes at RCV.NXT:
/// smoltcp acknowledges the held text's end and a FIN after it.
#[test]
fn a_fin_inside_text_held_from_the_peers_isn_is_misplaced() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: true,
            peer_isn: 2147483647,
            mss: Some(1460),
            sack: true,
            wscale: Some(7),
            ts: true,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(-2),
                ack: AckOf::SndNxt(0),
                len: 0,
                wnd: 0,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK,
                seq: SeqAt::PeerIsn(2),
                ack: AckOf::SndUna(0),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(2),
            Event::Replay(3),
            Event::Replay(2),
            Event::Write(1),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN,
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::SndNxt(-1),
                len: 1460,
                wnd: 65535,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::RST | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::SndNxt(-3),
                len: 0,
                wnd: 65535,
                options: false,
            }),
        ],
    };
    assert_eq!(class_of(case), "fin-inside-held-text-misplaced");
}

/// Passive, a SYN, an out-of-window FIN, a second SYN (the model returns to LISTEN, smoltcp stays in
/// SYN-RECEIVED), shutdown, the FIN again: LISTEN owes a RST, smoltcp sends an ACK.
#[test]
fn an_ack_from_the_kept_request_where_listen_owes_a_reset() {
    let case = Case {
        setup: Setup {
            passive: true,
            v6: false,
            peer_isn: 1,
            mss: Some(100),
            sack: false,
            wscale: Some(0),
            ts: true,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::PeerIsn(-1073741824),
                ack: AckOf::Iss(-2),
                len: 0,
                wnd: 65535,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN,
                seq: SeqAt::PeerIsn(-2),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(2),
            Event::Replay(0),
            Event::Replay(3),
            Event::Replay(0),
            Event::Segment(SegEvent {
                flags: TcpFlags::SYN,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Shutdown,
            Event::Replay(3),
        ],
    };
    assert_eq!(class_of(case), "syn-in-syn-received-keeps-request");
}

/// Simultaneous open, SYNs and unacceptable ACKs smoltcp drops or resets in SYN-RECEIVED, then
/// abort: its RST,ACK echoes TSval 1, the first SYN's.
#[test]
fn the_reset_of_abort_echoes_the_first_tsval_after_dropped_syns() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: false,
            peer_isn: 0,
            mss: Some(1460),
            sack: true,
            wscale: Some(14),
            ts: true,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::WndEnd(0),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(3),
            Event::Replay(2),
            Event::Replay(0),
            Event::Replay(1),
            Event::Replay(1),
            Event::Replay(2),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH,
                seq: SeqAt::RcvNxt(3),
                ack: AckOf::SndUna(3),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Abort,
            Event::Replay(0),
            Event::Abort,
            Event::Replay(0),
        ],
    };
    assert_eq!(class_of(case), "ts-recent-only-from-segments-processed");
}

/// As above with other numbers: eight segments after the SYN, each dropped or reset.
#[test]
fn the_reset_of_abort_echoes_the_tsval_of_the_last_segment_processed() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: false,
            peer_isn: 4294967295,
            mss: Some(1460),
            sack: true,
            wscale: Some(7),
            ts: true,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::SYN,
                seq: SeqAt::WndEnd(1073741824),
                ack: AckOf::SndUna(1073741824),
                len: 0,
                wnd: 64240,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::SndNxt(2),
                len: 100,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(0),
            Event::Replay(0),
            Event::Replay(3),
            Event::Replay(1),
            Event::Replay(0),
            Event::Replay(0),
            Event::Replay(0),
            Event::Abort,
            Event::Write(1),
        ],
    };
    assert_eq!(class_of(case), "ts-recent-only-from-segments-processed");
}

/// A SYN,ACK with window 0, write(1000) (queued, unsent), then old text acknowledging SND.NXT+1
/// with window 65535: smoltcp takes the ACK and the window and sends 536 bytes.
#[test]
fn an_ack_of_queued_data_taken_with_an_old_window() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: true,
            peer_isn: 4294967280,
            mss: Some(536),
            sack: true,
            wscale: Some(0),
            ts: false,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 0,
                options: true,
            }),
            Event::Replay(3),
            Event::Write(1000),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK,
                seq: SeqAt::PeerIsn(-3),
                ack: AckOf::SndNxt(1),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
        ],
    };
    assert_eq!(class_of(case), "ack-of-queued-unsent-data-accepted");
}

/// Connect, the peer's SYN, then its SYN,ACK with one byte after the SYN: the model is ESTABLISHED
/// with the byte, smoltcp in SYN-RECEIVED acknowledges only the SYN.
#[test]
fn the_text_of_a_syn_ack_in_a_simultaneous_open_is_left_unacknowledged() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: false,
            peer_isn: 4294967295,
            mss: None,
            sack: false,
            wscale: Some(0),
            ts: true,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::SYN,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::Iss(-1),
                len: 0,
                wnd: 65535,
                options: false,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(-1),
                ack: AckOf::SndNxt(0),
                len: 1,
                wnd: 65535,
                options: false,
            }),
            Event::Replay(0),
        ],
    };
    assert_eq!(class_of(case), "simultaneous-open-synack-ignored");
}

/// Connect, < S. win 0, write(1), then 1460 bytes at IRS-1 under ACK SND.UNA-1 with win 64240
/// (dropped by smoltcp alone, its window older than the SYN,ACK's), writes, and text after the
/// 1460 bytes: in order to the model, SACKed as out of order by smoltcp.
#[test]
fn text_under_an_old_ack_older_than_the_window_is_dropped() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: true,
            peer_isn: 4294967295,
            mss: Some(1460),
            sack: true,
            wscale: Some(14),
            ts: true,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::SndNxt(0),
                len: 0,
                wnd: 0,
                options: true,
            }),
            Event::Write(1),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK,
                seq: SeqAt::RcvNxt(-2),
                ack: AckOf::SndNxt(-1),
                len: 1460,
                wnd: 64240,
                options: false,
            }),
            Event::Write(1),
            Event::Write(10),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::SndUna(3),
                len: 10,
                wnd: 65535,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::SYN,
                seq: SeqAt::PeerIsn(1),
                ack: AckOf::SndNxt(3),
                len: 0,
                wnd: 0,
                options: false,
            }),
            Event::Replay(2),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK,
                seq: SeqAt::RcvNxt(1),
                ack: AckOf::SndNxt(-2),
                len: 10,
                wnd: 1,
                options: true,
            }),
            Event::Write(1000),
            Event::Shutdown,
            Event::Replay(0),
        ],
    };
    assert_eq!(class_of(case), "old-ack-drops-segment");
}

/// As above, then old text (to the model) acknowledging queued unsent data: smoltcp, which
/// never took the 1460 bytes, takes it and sends.
#[test]
fn text_under_an_old_ack_then_an_early_ack_on_old_text() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: true,
            peer_isn: 4294967295,
            mss: Some(1460),
            sack: true,
            wscale: Some(14),
            ts: true,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::SndNxt(0),
                len: 0,
                wnd: 0,
                options: true,
            }),
            Event::Write(1),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK,
                seq: SeqAt::RcvNxt(-2),
                ack: AckOf::SndNxt(-1),
                len: 1460,
                wnd: 64240,
                options: false,
            }),
            Event::Write(1),
            Event::Write(10),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH,
                seq: SeqAt::PeerIsn(2),
                ack: AckOf::SndNxt(3),
                len: 1000,
                wnd: 1000,
                options: false,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::PSH,
                seq: SeqAt::RcvNxt(-1073741824),
                ack: AckOf::SndNxt(1),
                len: 10,
                wnd: 64240,
                options: false,
            }),
            Event::Read(1),
            Event::Abort,
            Event::Replay(2),
            Event::Replay(2),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::SndNxt(-1),
                len: 1,
                wnd: 1,
                options: false,
            }),
            Event::Write(10),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::SYN | TcpFlags::FIN,
                seq: SeqAt::WndEnd(1),
                ack: AckOf::SndUna(0),
                len: 10,
                wnd: 64240,
                options: false,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::FIN,
                seq: SeqAt::PeerIsn(0),
                ack: AckOf::Iss(3),
                len: 0,
                wnd: 65535,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::SYN | TcpFlags::FIN,
                seq: SeqAt::PeerIsn(-3),
                ack: AckOf::SndUna(1),
                len: 1,
                wnd: 65535,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::PSH | TcpFlags::FIN,
                seq: SeqAt::WndEnd(-1073741824),
                ack: AckOf::Iss(-3),
                len: 0,
                wnd: 65535,
                options: false,
            }),
        ],
    };
    assert_eq!(class_of(case), "old-ack-drops-segment");
}

/// Passive, requests reset and renewed, then < S. IRS with 3000 bytes ack SND.NXT (ESTABLISHED
/// to the model, dropped by smoltcp), a RST outside the model's window (in smoltcp's, which
/// returns to LISTEN), and a SYN: smoltcp answers with a SYN,ACK, the model owes an ACK.
#[test]
fn a_syn_ack_dropped_in_syn_received_lets_a_reset_reopen_the_listener() {
    let case = Case {
        setup: Setup {
            passive: true,
            v6: true,
            peer_isn: 0,
            mss: None,
            sack: false,
            wscale: Some(7),
            ts: true,
        },
        events: vec![
            Event::Replay(0),
            Event::Shutdown,
            Event::Segment(SegEvent {
                flags: TcpFlags::PSH | TcpFlags::RST,
                seq: SeqAt::PeerIsn(1),
                ack: AckOf::SndNxt(1073741824),
                len: 0,
                wnd: 1000,
                options: true,
            }),
            Event::Shutdown,
            Event::Segment(SegEvent {
                flags: TcpFlags::SYN,
                seq: SeqAt::PeerIsn(-3),
                ack: AckOf::SndNxt(-3),
                len: 0,
                wnd: 65535,
                options: false,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::SYN,
                seq: SeqAt::PeerIsn(0),
                ack: AckOf::Iss(0),
                len: 0,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(2),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Segment(SegEvent {
                flags: TcpFlags::empty(),
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::Iss(2),
                len: 1,
                wnd: 1,
                options: false,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::SYN,
                seq: SeqAt::PeerIsn(-3),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
        ],
    };
    assert_eq!(class_of(case), "syn-ack-after-syn-received-dropped");
}

/// Connect, < S. win 1000, write(5000) (536 bytes sent), then 3000 bytes at RCV.NXT-3
/// acknowledging SND.NXT+3 with win 65535: smoltcp takes the ACK and the window and sends new
/// data; the model drops the segment and retransmits.
#[test]
fn an_ack_of_queued_data_on_old_text_with_a_new_window() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: true,
            peer_isn: 4294967280,
            mss: Some(1460),
            sack: false,
            wscale: Some(0),
            ts: true,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::SndNxt(0),
                len: 0,
                wnd: 1000,
                options: false,
            }),
            Event::Replay(3),
            Event::Read(65535),
            Event::Write(5000),
            Event::Write(100),
            Event::Replay(3),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::SndNxt(3),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
        ],
    };
    assert_eq!(class_of(case), "ack-of-queued-unsent-data-accepted");
}

/// A harness artefact, fixed in the model: after three duplicate ACKs smoltcp retransmits
/// SND.UNA's byte at once (socket/tcp.rs, "received duplicate ACK"), which RFC 5681 3.2 says
/// a stack SHOULD do; the model owed it only at the RTO. Passive, write(1), three duplicate
/// ACKs: no divergence.
#[test]
fn a_fast_retransmit_after_three_duplicate_acks_is_allowed() {
    let case = Case {
        setup: Setup {
            passive: true,
            v6: true,
            peer_isn: 2147483647,
            mss: Some(536),
            sack: true,
            wscale: Some(7),
            ts: false,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::SYN,
                seq: SeqAt::PeerIsn(0),
                ack: AckOf::Iss(-3),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(3),
            Event::Replay(1),
            Event::Replay(3),
            Event::Shutdown,
            Event::Replay(0),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH,
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::SndNxt(0),
                len: 0,
                wnd: 65535,
                options: false,
            }),
            Event::Replay(0),
            Event::Write(1),
            Event::Replay(0),
            Event::Replay(2),
            Event::Read(65535),
            Event::Read(65535),
            Event::Replay(0),
            Event::Replay(0),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::RST,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::SndNxt(-3),
                len: 0,
                wnd: 65535,
                options: false,
            }),
        ],
    };
    let out = common::run(&case);
    assert!(out.found.is_none(), "{}", out.script.text(""));
}

/// Simultaneous open, 3000 bytes from the window's end (3 held), then 100 bytes at RCV.NXT-3
/// without a TSopt under an old ACK: the model holds 97 new bytes, smoltcp dropped the
/// segment, so read() would block.
#[test]
fn text_under_an_old_ack_without_a_tsopt_is_never_read() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: false,
            peer_isn: 4294967280,
            mss: Some(536),
            sack: true,
            wscale: Some(14),
            ts: true,
        },
        events: vec![
            Event::Replay(3),
            Event::Read(10),
            Event::Segment(SegEvent {
                flags: TcpFlags::SYN,
                seq: SeqAt::PeerIsn(1),
                ack: AckOf::SndUna(0),
                len: 0,
                wnd: 1000,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK,
                seq: SeqAt::WndEnd(-3),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::SndNxt(-3),
                len: 100,
                wnd: 1000,
                options: false,
            }),
            Event::Read(1000),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::WndEnd(1),
                ack: AckOf::Iss(-3),
                len: 0,
                wnd: 65535,
                options: false,
            }),
        ],
    };
    assert_eq!(class_of(case), "old-ack-drops-segment");
}

/// Connect, < S. win 0, two writes of 1 byte (queued, unsent), then < P. ack SND.UNA+2: the
/// model owes a challenge ACK from SND.NXT, smoltcp takes the ACK and answers from SND.NXT+2.
#[test]
fn an_ack_of_queued_data_named_from_snd_una() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: false,
            peer_isn: 2147483647,
            mss: Some(100),
            sack: true,
            wscale: Some(14),
            ts: true,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::WndEnd(1),
                ack: AckOf::SndUna(1),
                len: 1460,
                wnd: 0,
                options: false,
            }),
            Event::Write(1),
            Event::Segment(SegEvent {
                flags: TcpFlags::PSH,
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(2),
            Event::Write(1),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH,
                seq: SeqAt::RcvNxt(1),
                ack: AckOf::SndUna(2),
                len: 1,
                wnd: 65535,
                options: false,
            }),
            Event::Write(10),
            Event::Write(10),
            Event::Segment(SegEvent {
                flags: TcpFlags::SYN | TcpFlags::FIN,
                seq: SeqAt::WndEnd(-3),
                ack: AckOf::SndNxt(-3),
                len: 0,
                wnd: 65535,
                options: false,
            }),
        ],
    };
    assert_eq!(class_of(case), "ack-of-queued-unsent-data-accepted");
}

/// Connect, a SYN,ACK with a bad ACK (reset), the peer's SYN (simultaneous open), then its
/// SYN,ACK with one byte: the model is ESTABLISHED with the byte, smoltcp acknowledges only the
/// SYN.
#[test]
fn a_syn_ack_after_a_reset_syn_ack_and_a_syn_is_ignored() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: false,
            peer_isn: 0,
            mss: Some(100),
            sack: false,
            wscale: None,
            ts: true,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(1073741824),
                ack: AckOf::SndUna(-1073741824),
                len: 10,
                wnd: 0,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::SYN,
                seq: SeqAt::RcvNxt(1073741824),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 0,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(-1),
                ack: AckOf::SndNxt(0),
                len: 1,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(0),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Replay(3),
            Event::Segment(SegEvent {
                flags: TcpFlags::PSH | TcpFlags::RST,
                seq: SeqAt::RcvNxt(-2162),
                ack: AckOf::SndNxt(-3),
                len: 0,
                wnd: 65535,
                options: false,
            }),
        ],
    };
    assert_eq!(class_of(case), "simultaneous-open-synack-ignored");
}

/// Connect, write(1) sent, write(100) held, then a FIN with one byte acknowledging ISS+3 (one
/// past SND.NXT): the model owes a challenge ACK and later retransmits SND.UNA's byte; smoltcp
/// takes the ACK and sends from SND.NXT+1.
#[test]
fn an_ack_of_queued_data_named_from_the_iss() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: true,
            peer_isn: 12345,
            mss: Some(536),
            sack: true,
            wscale: Some(7),
            ts: false,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::SYN,
                seq: SeqAt::WndEnd(-1073741824),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 65535,
                options: false,
            }),
            Event::Write(1),
            Event::Write(100),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH,
                seq: SeqAt::WndEnd(44958),
                ack: AckOf::Iss(2),
                len: 0,
                wnd: 1,
                options: true,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN,
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::Iss(3),
                len: 1,
                wnd: 1,
                options: false,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::RST | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(-1073741824),
                ack: AckOf::SndUna(-3),
                len: 0,
                wnd: 1,
                options: false,
            }),
            Event::Shutdown,
            Event::Shutdown,
            Event::Shutdown,
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::RST,
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 0,
                options: true,
            }),
            Event::Read(10),
            Event::Segment(SegEvent {
                flags: TcpFlags::PSH | TcpFlags::RST | TcpFlags::SYN | TcpFlags::FIN,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::SndNxt(-3),
                len: 0,
                wnd: 65535,
                options: false,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::SYN | TcpFlags::FIN,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::SndNxt(-3),
                len: 1,
                wnd: 64240,
                options: false,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::RST | TcpFlags::SYN,
                seq: SeqAt::WndEnd(3),
                ack: AckOf::SndUna(3),
                len: 3000,
                wnd: 65535,
                options: false,
            }),
        ],
    };
    assert_eq!(class_of(case), "ack-of-queued-unsent-data-accepted");
}

/// Connect, < S. win 0, write(1), < P. ack SND.UNA+2 (beyond even the queue: both refuse it),
/// writes of 10 and 1 bytes, then the same segment again: now inside smoltcp's queue, taken,\n/// and its next ACK goes from SND.NXT+2.
#[test]
fn an_ack_of_queued_data_replayed_once_more_is_queued() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: false,
            peer_isn: 0,
            mss: Some(1460),
            sack: false,
            wscale: Some(0),
            ts: true,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(2),
                ack: AckOf::Iss(1),
                len: 1,
                wnd: 0,
                options: false,
            }),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(1),
                ack: AckOf::SndUna(2),
                len: 1,
                wnd: 0,
                options: false,
            }),
            Event::Write(1),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH,
                seq: SeqAt::RcvNxt(1),
                ack: AckOf::SndUna(2),
                len: 1,
                wnd: 0,
                options: false,
            }),
            Event::Write(10),
            Event::Write(1),
            Event::Replay(3),
            Event::Replay(0),
            Event::Shutdown,
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::RST,
                seq: SeqAt::RcvNxt(-3),
                ack: AckOf::SndNxt(-3),
                len: 0,
                wnd: 65535,
                options: false,
            }),
        ],
    };
    assert_eq!(class_of(case), "ack-of-queued-unsent-data-accepted");
}

/// The same artefact with queued data: after three duplicate ACKs smoltcp sends from SND.UNA
/// again, the unacknowledged bytes and a queued one in one segment, which RFC 5681 3.2's
/// retransmission of "the missing segment" allows. Connect, write(1000) sent, write(1) held,
/// ACK of 998 bytes, three duplicates: no divergence.
#[test]
fn a_fast_retransmit_may_carry_queued_data() {
    let case = Case {
        setup: Setup {
            passive: false,
            v6: true,
            peer_isn: 0,
            mss: Some(1460),
            sack: false,
            wscale: Some(7),
            ts: false,
        },
        events: vec![
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::SYN,
                seq: SeqAt::RcvNxt(-2),
                ack: AckOf::SndNxt(0),
                len: 3000,
                wnd: 65535,
                options: true,
            }),
            Event::Write(1000),
            Event::Write(1),
            Event::Segment(SegEvent {
                flags: TcpFlags::ACK | TcpFlags::PSH,
                seq: SeqAt::RcvNxt(0),
                ack: AckOf::SndNxt(-2),
                len: 0,
                wnd: 65535,
                options: true,
            }),
            Event::Replay(3),
            Event::Replay(0),
            Event::Replay(0),
            Event::Replay(1),
            Event::Replay(1),
            Event::Segment(SegEvent {
                flags: TcpFlags::RST,
                seq: SeqAt::PeerIsn(1073741824),
                ack: AckOf::Iss(-1073741824),
                len: 1000,
                wnd: 64240,
                options: true,
            }),
            Event::Abort,
            Event::Read(1),
        ],
    };
    let out = common::run(&case);
    assert!(out.found.is_none(), "{}", out.script.text(""));
}
