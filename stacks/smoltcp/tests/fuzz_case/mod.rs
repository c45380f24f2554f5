//! The fuzz target's cases written out: segment events and setups in its own terms.

use tcpcheck::explore::event::{AckOf, SegEvent, SeqAt};
use tcpcheck::explore::{Event, Setup};
use tcpcheck_model::wire::TcpFlags;

/// A segment event in the fuzz target's terms: its control bits as packetdrill writes them
/// ("S", "F", "R", "P", "." for ACK; "" for none), where its sequence number and ACK point,
/// its length, its window, and whether it carries the options of the setup.
pub fn seg(flags: &str, seq: SeqAt, ack: AckOf, len: u16, wnd: u16, options: bool) -> Event {
    let mut f = TcpFlags::empty();
    for c in flags.chars() {
        f |= match c {
            'S' => TcpFlags::SYN,
            'F' => TcpFlags::FIN,
            'R' => TcpFlags::RST,
            'P' => TcpFlags::PSH,
            '.' => TcpFlags::ACK,
            other => panic!("no control bit {other:?} in {flags:?}"),
        };
    }
    Event::Segment(SegEvent {
        flags: f,
        seq,
        ack,
        len,
        wnd,
        options,
    })
}

/// A case's setup, its fields in the order the fuzz target prints them.
pub fn setup(
    passive: bool,
    v6: bool,
    peer_isn: u32,
    mss: Option<u16>,
    sack: bool,
    wscale: Option<u8>,
    ts: bool,
) -> Setup {
    Setup {
        passive,
        v6,
        peer_isn,
        mss,
        sack,
        wscale,
        ts,
    }
}
