//! What a divergence shows by itself, read by the class recognisers that need no rerun: the
//! segments the case injected before it, the one it diverged on, what smoltcp sent.

use tcpcheck::differ::{Owed, Sent};
use tcpcheck::explore::event::SegEvent;
use tcpcheck::explore::{Case, Event, Found};
use tcpcheck_model::wire::TcpFlags;

/// The control bits of the segments injected up to and including the diverging event, a
/// replay counted as the segment it repeats.
pub(super) fn injected(found: &Found, case: &Case) -> impl Iterator<Item = TcpFlags> {
    let upto = found.step.map_or(0, |s| s + 1).min(case.events.len());
    let mut sent: Vec<TcpFlags> = Vec::new();
    for e in &case.events[..upto] {
        match e {
            Event::Segment(s) => sent.push(s.flags),
            Event::Replay(n) => {
                if let Some(&f) = sent.iter().rev().nth(usize::from(*n)) {
                    sent.push(f);
                }
            }
            _ => {}
        }
    }
    sent.into_iter()
}

/// The segment the diverging event injected (a replay resolved to the segment it repeats),
/// with whether it was a replay.
pub(super) fn diverging_segment(found: &Found, case: &Case) -> Option<(SegEvent, bool)> {
    let step = found.step?;
    let mut sent: Vec<SegEvent> = Vec::new();
    for (i, e) in case.events.iter().enumerate().take(step + 1) {
        let seg = match e {
            Event::Segment(s) => Some((*s, false)),
            Event::Replay(n) => sent.iter().rev().nth(usize::from(*n)).map(|s| (*s, true)),
            _ => None,
        };
        if let Some((s, replay)) = seg {
            if i == step {
                return Some((s, replay));
            }
            sent.push(s);
        }
    }
    None
}

pub(super) fn controls(f: TcpFlags) -> u32 {
    [TcpFlags::SYN, TcpFlags::FIN, TcpFlags::RST]
        .into_iter()
        .filter(|c| f.contains(*c))
        .count() as u32
}

pub(super) fn sent_nothing(found: &Found) -> bool {
    matches!(found.departure.sent, Sent::Nothing)
}

/// smoltcp's ACK is past the one the model owed: it acknowledged more than the peer sent.
pub(super) fn acked_past_owed(found: &Found) -> bool {
    match (&found.departure.owed, &found.departure.sent) {
        (Owed::Segment(owed), Sent::Segment(s)) => owed.ack.is_some_and(|a| s.ack.after(a)),
        _ => false,
    }
}

/// An earlier segment carried text starting past RCV.NXT (held out of order) before the
/// diverging event.
pub(super) fn held_text_before(found: &Found, case: &Case) -> bool {
    let upto = found.step.unwrap_or(0).min(case.events.len());
    case.events[..upto]
        .iter()
        .any(|e| super::edit::out_of_order_text(e) || text_past_the_irs(e))
}

/// Text (no SYN or RST) starting two or more past the peer's ISN: past RCV.NXT while no text
/// has been taken (fuzz crash-59c028…: held at IRS+2 after a SYN whose text smoltcp dropped).
fn text_past_the_irs(e: &Event) -> bool {
    matches!(e, Event::Segment(s) if s.len > 0
        && !s.flags.syn() && !s.flags.rst()
        && matches!(s.seq, tcpcheck::explore::event::SeqAt::PeerIsn(d) if d >= 2))
}

/// How far smoltcp's ACK field is behind the one the model owed, if it is.
pub(super) fn acked_short_by(found: &Found) -> Option<u32> {
    match (&found.departure.owed, &found.departure.sent) {
        (Owed::Segment(owed), Sent::Segment(s)) => owed
            .ack
            .filter(|&a| s.ack.before(a))
            .map(|a| a.forward_distance(s.ack)),
        _ => None,
    }
}

/// The segments injected before the diverging event, a replay resolved to the segment it
/// repeats, each with whether it was a replay.
pub(super) fn injected_before(found: &Found, case: &Case) -> Vec<(SegEvent, bool)> {
    let upto = found.step.unwrap_or(0).min(case.events.len());
    let mut sent: Vec<(SegEvent, bool)> = Vec::new();
    for e in &case.events[..upto] {
        match e {
            Event::Segment(s) => sent.push((*s, false)),
            Event::Replay(n) => {
                if let Some(&(s, _)) = sent.iter().rev().nth(usize::from(*n)) {
                    sent.push((s, true));
                }
            }
            _ => {}
        }
    }
    sent
}

/// smoltcp neither answered nor moved: nothing sent, or its state still the one the model
/// left.
pub(super) fn dropped_whole(found: &Found) -> bool {
    match found.departure.sent {
        Sent::Nothing => true,
        Sent::State(st) => st == found.state,
        _ => false,
    }
}

pub(super) fn sent_flags(found: &Found) -> Option<TcpFlags> {
    match &found.departure.sent {
        Sent::Segment(s) | Sent::Stray(s) => Some(s.flags),
        _ => None,
    }
}
