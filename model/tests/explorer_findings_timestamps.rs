//! Rules the explorer (harness/src/explore) found the model missing or getting wrong against
//! Linux 6.18, each checked in the profile it belongs to. The `linux` ones are the model's
//! side of the known deviations in harness/src/explore/deviations/.
//!
//! This file: which TSval a stack echoes and when it takes one (the other findings: the other
//! `explorer_findings_*.rs`).

mod common;

use tcpcheck_model::conn::{Connection, Seg, State};
use tcpcheck_model::profile::Profile;

use common::findings::*;

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
