//! Known departures of smoltcp 0.14, each reproduced from its minimal case against smoltcp
//! and the model, and put in its class: if smoltcp (or the harness) changes so that a case
//! no longer diverges, or diverges otherwise, the class list is stale and this fails.

use tcpcheck::explore::event::{AckOf, SegEvent, SeqAt};
use tcpcheck::explore::{run_case_on, Case, Event, Pace, Setup, Target};
use tcpcheck::stack::Capabilities;
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::TcpFlags;
use tcpcheck_smoltcp::findings::classify;

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

/// The class the case's divergence falls in.
fn class_of(case: Case) -> &'static str {
    let target = Target {
        stack: &tcpcheck_smoltcp::FACTORY,
        hide: Capabilities::NONE,
    };
    let out = run_case_on(target, &case, &Profile::rfc9293(), Pace::Quick).expect("runs");
    let found = out.found.expect("smoltcp diverges");
    classify(&found, &case).map_or("unclassified", |c| c.name)
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

#[test]
fn a_write_in_syn_sent_is_refused() {
    let case = Case {
        setup: setup(false),
        events: vec![Event::Write(1)],
    };
    assert_eq!(class_of(case), "send-before-established-refused");
}
