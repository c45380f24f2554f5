//! Known departures of smoltcp 0.14, each reproduced from its minimal case against smoltcp
//! and the model, and put in its class: if smoltcp (or the harness) changes so that a case
//! no longer diverges, or diverges otherwise, the class list is stale and this fails.

mod common;
use common::class_of;

use tcpcheck::explore::event::{AckOf, SegEvent, SeqAt};
use tcpcheck::explore::{Case, Event, Setup};
use tcpcheck_model::wire::TcpFlags;

fn setup(passive: bool) -> Setup {
    Setup {
        passive,
        v6: false,
        peer_isn: 1000,
        mss: Some(1460),
        sack: false,
        wscale: None,
        ts: false,
    }
}

fn seg(flags: TcpFlags, seq: SeqAt) -> Event {
    Event::Segment(SegEvent {
        flags,
        seq,
        ack: AckOf::SndNxt(0),
        len: 0,
        wnd: 65535,
        options: true,
    })
}

#[test]
fn a_second_syn_in_syn_received_leaves_no_listener() {
    let events = [0, 100, 200].map(|d| seg(TcpFlags::SYN, SeqAt::PeerIsn(d)));
    let case = Case {
        setup: setup(true),
        events: events.to_vec(),
    };
    assert_eq!(class_of(case), "syn-in-syn-received-keeps-request");
}

#[test]
fn a_syn_fin_in_listen_is_dropped() {
    let case = Case {
        setup: setup(true),
        events: vec![seg(TcpFlags::SYN | TcpFlags::FIN, SeqAt::PeerIsn(0))],
    };
    assert_eq!(class_of(case), "several-controls-dropped");
}

/// In SYN-RECEIVED (a simultaneous open: the peer's SYN without ACK): the model queues the
/// byte. In SYN-SENT the model now lets a SEND wait (`send_may_be_short()`: Linux's
/// non-blocking write answers EAGAIN there, and a Fast Open SYN may take part of it), so
/// smoltcp's EAGAIN there no longer diverges.
#[test]
fn a_write_in_syn_received_is_refused() {
    let case = Case {
        setup: setup(false),
        events: vec![seg(TcpFlags::SYN, SeqAt::PeerIsn(0)), Event::Write(1)],
    };
    assert_eq!(class_of(case), "send-before-established-refused");
}

/// A passive open's handshake (the peer's SYN and ACK), then `events`.
fn established(events: Vec<Event>) -> Case {
    let mut all = vec![
        seg(TcpFlags::SYN, SeqAt::PeerIsn(0)),
        seg_with(TcpFlags::ACK, SeqAt::RcvNxt(0), AckOf::SndNxt(0), 0),
    ];
    all.extend(events);
    Case {
        setup: setup(true),
        events: all,
    }
}

fn seg_with(flags: TcpFlags, seq: SeqAt, ack: AckOf, len: u16) -> Event {
    Event::Segment(SegEvent {
        flags,
        seq,
        ack,
        len,
        wnd: 65535,
        options: true,
    })
}

#[test]
fn text_under_an_old_ack_is_dropped() {
    let case = established(vec![
        seg_with(
            TcpFlags::PSH | TcpFlags::ACK,
            SeqAt::RcvNxt(0),
            AckOf::SndUna(-1),
            10,
        ),
        Event::Read(100),
    ]);
    assert_eq!(class_of(case), "old-ack-drops-segment");
}

#[test]
fn a_fin_after_old_text_is_unacceptable() {
    let case = established(vec![seg_with(
        TcpFlags::FIN | TcpFlags::PSH | TcpFlags::ACK,
        SeqAt::RcvNxt(-2),
        AckOf::SndNxt(0),
        2,
    )]);
    assert_eq!(class_of(case), "fin-after-old-text-unacceptable");
}

#[test]
fn a_fin_held_out_of_order_is_forgotten() {
    let data = TcpFlags::PSH | TcpFlags::ACK;
    let case = established(vec![
        seg_with(
            data | TcpFlags::FIN,
            SeqAt::RcvNxt(3),
            AckOf::SndNxt(0),
            100,
        ),
        seg_with(data, SeqAt::RcvNxt(0), AckOf::SndNxt(0), 3),
    ]);
    assert_eq!(class_of(case), "out-of-order-fin-forgotten");
}

#[test]
fn an_abort_in_time_wait_sends_a_reset() {
    let fin = TcpFlags::FIN | TcpFlags::ACK;
    let case = Case {
        setup: setup(false),
        events: vec![
            seg_with(
                TcpFlags::SYN | TcpFlags::ACK,
                SeqAt::PeerIsn(0),
                AckOf::SndNxt(0),
                0,
            ),
            Event::Shutdown,
            seg_with(fin, SeqAt::RcvNxt(0), AckOf::SndNxt(0), 0),
            Event::Abort,
        ],
    };
    assert_eq!(class_of(case), "abort-in-time-wait-resets");
}

fn with(setup: Setup, events: Vec<Event>) -> Case {
    Case { setup, events }
}

#[test]
fn a_fin_acknowledging_ours_in_last_ack_is_dropped_with_its_ack() {
    let fin = TcpFlags::FIN | TcpFlags::ACK;
    let case = established(vec![
        seg_with(fin, SeqAt::RcvNxt(0), AckOf::SndNxt(0), 0),
        Event::Shutdown,
        seg_with(fin, SeqAt::RcvNxt(0), AckOf::SndNxt(0), 0),
    ]);
    assert_eq!(class_of(case), "fin-after-fin-dropped");
}

#[test]
fn text_after_the_fin_moves_the_window_a_reset_then_misses() {
    let case = established(vec![
        seg_with(
            TcpFlags::FIN | TcpFlags::ACK,
            SeqAt::RcvNxt(0),
            AckOf::SndNxt(0),
            0,
        ),
        seg_with(
            TcpFlags::PSH | TcpFlags::ACK,
            SeqAt::RcvNxt(0),
            AckOf::SndNxt(0),
            189,
        ),
        seg(TcpFlags::RST, SeqAt::RcvNxt(0)),
    ]);
    assert_eq!(class_of(case), "text-after-fin-accepted");
}

#[test]
fn an_older_segment_sets_the_send_window() {
    let data = TcpFlags::PSH | TcpFlags::ACK;
    let mut held = seg_with(data, SeqAt::RcvNxt(2), AckOf::SndNxt(0), 10);
    if let Event::Segment(s) = &mut held {
        s.wnd = 100;
    }
    let case = established(vec![
        held,
        seg_with(data, SeqAt::RcvNxt(0), AckOf::SndNxt(0), 2),
        Event::Write(1000),
    ]);
    assert_eq!(class_of(case), "window-updated-by-any-segment");
}

#[test]
fn the_ack_of_the_syn_is_taken_for_the_ack_of_an_unsent_fin() {
    let mut syn = seg(TcpFlags::SYN, SeqAt::PeerIsn(0));
    let mut fin = seg_with(
        TcpFlags::FIN | TcpFlags::ACK,
        SeqAt::RcvNxt(0),
        AckOf::SndNxt(0),
        58,
    );
    for e in [&mut syn, &mut fin] {
        if let Event::Segment(s) = e {
            s.wnd = 1;
            s.options = false;
        }
    }
    let later = seg_with(
        TcpFlags::PSH | TcpFlags::ACK,
        SeqAt::RcvNxt(0),
        AckOf::SndNxt(0),
        10,
    );
    let case = with(setup(false), vec![syn, Event::Shutdown, fin, later]);
    assert_eq!(class_of(case), "syn-ack-taken-for-fin-ack");
}

#[test]
fn sack_blocks_after_the_fin_are_one_too_high() {
    let fin = TcpFlags::FIN | TcpFlags::ACK;
    let mut case = established(vec![
        seg_with(fin, SeqAt::WndEnd(-1), AckOf::SndNxt(0), 1000),
        seg_with(fin, SeqAt::RcvNxt(0), AckOf::SndNxt(0), 78),
    ]);
    case.setup.sack = true;
    assert_eq!(class_of(case), "sack-blocks-shifted-after-fin");
}

#[test]
fn a_fin_inside_text_held_out_of_order_is_put_after_it() {
    let case = established(vec![
        seg_with(
            TcpFlags::PSH | TcpFlags::ACK,
            SeqAt::RcvNxt(1),
            AckOf::SndNxt(0),
            86,
        ),
        seg_with(
            TcpFlags::FIN | TcpFlags::ACK,
            SeqAt::RcvNxt(0),
            AckOf::SndNxt(0),
            35,
        ),
    ]);
    assert_eq!(class_of(case), "fin-inside-held-text-misplaced");
}

#[test]
fn a_syn_in_time_wait_draws_nothing() {
    let fin = TcpFlags::FIN | TcpFlags::ACK;
    let case = established(vec![
        Event::Shutdown,
        seg_with(fin, SeqAt::RcvNxt(0), AckOf::SndNxt(0), 0),
        seg(TcpFlags::SYN, SeqAt::RcvNxt(100)),
    ]);
    assert_eq!(class_of(case), "syn-without-ack-dropped");
}
