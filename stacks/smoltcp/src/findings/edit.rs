//! Classes recognised by what removes them: a divergence is of a class if running its case
//! again with one kind of segment field edited away (and nothing else changed) no longer
//! diverges at or before the same event. Stronger than matching on the divergence's text,
//! since several of smoltcp's departures show only events later, as a state or a sequence
//! number the model left behind.

use tcpcheck::explore::event::AckOf;
use tcpcheck::explore::{run_case_on, Case, Event, Pace, Target};
use tcpcheck::stack::Capabilities;
use tcpcheck_model::profile::Profile;

/// The step (`None`: the opening calls) at which `case` first diverges on smoltcp against
/// the `rfc9293` profile, if it does.
fn divergence(case: &Case) -> Option<Option<usize>> {
    let target = Target {
        stack: &crate::FACTORY,
        hide: Capabilities::NONE,
    };
    let out = run_case_on(target, case, &Profile::rfc9293(), Pace::Quick).ok()?;
    out.found.map(|f| f.step)
}

/// Whether `case` diverges, and with every injected segment passed through `edit` (which
/// says whether it changed anything) it no longer diverges at or before that step.
pub(super) fn removed_by(case: &Case, edit: fn(&mut Event) -> bool) -> bool {
    let mut edited = case.clone();
    let mut changed = false;
    for e in &mut edited.events {
        changed |= edit(e);
    }
    if !changed {
        return false;
    }
    let Some(Some(step)) = divergence(case) else {
        return false;
    };
    match divergence(&edited) {
        None => true,
        Some(later) => later.is_some_and(|s| s > step),
    }
}

/// [`removed_by`] for an edit that needs the whole sequence (what came before an event):
/// `edit` changes the events in place and says whether it changed anything.
pub(super) fn removed_by_events(case: &Case, edit: fn(&mut [Event]) -> bool) -> bool {
    let mut edited = case.clone();
    if !edit(&mut edited.events) {
        return false;
    }
    let Some(Some(step)) = divergence(case) else {
        return false;
    };
    match divergence(&edited) {
        None => true,
        Some(later) => later.is_some_and(|s| s > step),
    }
}

/// Whether `case` diverges, and without the segments `drop` picks it no longer diverges at
/// or before that step (a replay counts from the segments left).
pub(super) fn removed_without(case: &Case, drop: fn(&Event) -> bool) -> bool {
    let mut edited = case.clone();
    edited.events.retain(|e| !drop(e));
    if edited.events.len() == case.events.len() {
        return false;
    }
    let Some(Some(step)) = divergence(case) else {
        return false;
    };
    // The events before the divergence lost some: compare against the step it moved to.
    let dropped_before = case.events[..step.min(case.events.len())]
        .iter()
        .filter(|e| drop(e))
        .count();
    match divergence(&edited) {
        None => true,
        Some(later) => later.is_some_and(|s| s + dropped_before > step),
    }
}

/// A RST (without SYN) anywhere but at RCV.NXT: one RFC 5961 3.2 answers with a challenge
/// ACK, or drops when outside the window.
pub(super) fn rst_off_rcv_nxt(e: &Event) -> bool {
    matches!(e, Event::Segment(s) if s.flags.rst() && !s.flags.syn()
        && s.seq != tcpcheck::explore::event::SeqAt::RcvNxt(0))
}

/// The FIN of a segment that starts past RCV.NXT (one held out of order) taken off.
pub(super) fn out_of_order_fin_off(e: &mut Event) -> bool {
    match e {
        Event::Segment(s)
            if s.flags.fin()
                && !s.flags.rst()
                && !s.flags.syn()
                && matches!(s.seq, tcpcheck::explore::event::SeqAt::RcvNxt(d) if d > 0) =>
        {
            s.flags = s.flags & !tcpcheck_model::wire::TcpFlags::FIN;
            true
        }
        _ => false,
    }
}

/// An ACK field below SND.UNA (a duplicate's, RFC 9293 3.10.7.4 fifth check) raised to
/// SND.UNA: what the segment acknowledges is unchanged (nothing new).
pub(super) fn old_ack_to_snd_una(e: &mut Event) -> bool {
    match e {
        Event::Segment(s) if s.flags.ack() => match s.ack {
            AckOf::SndUna(d) if d < 0 => {
                s.ack = AckOf::SndUna(0);
                true
            }
            // ISS + d for d =< 0 is below SND.UNA once the SYN is acknowledged, and below
            // ISS + 1 (the only acceptable ACK) before; ISS + 1 is SND.UNA or below it once
            // the SYN is acknowledged (an edit to SND.UNA then changes nothing the stack
            // acts on, and the rerun still diverges).
            AckOf::Iss(d) if d <= 1 => {
                s.ack = AckOf::SndUna(0);
                true
            }
            // SND.NXT - d is below SND.UNA when nothing is in flight, as in most cases that
            // reach this; when something is, the edit also drops a partial ACK, which the
            // rerun then shows (the divergence stays or moves).
            AckOf::SndNxt(d) if d < 0 => {
                s.ack = AckOf::SndUna(0);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// An ACK field above SND.NXT (of something not yet sent) lowered to SND.NXT.
pub(super) fn early_ack_to_snd_nxt(e: &mut Event) -> bool {
    match e {
        Event::Segment(s) if s.flags.ack() => match s.ack {
            AckOf::SndNxt(d) if d > 0 => {
                s.ack = AckOf::SndNxt(0);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// Text on segments after the peer's first FIN at RCV.NXT (one without SYN or RST, whose
/// FIN is the next sequence number expected, so it is taken) taken off: what RFC 9293
/// 3.10.7.4 says "should not occur" and is ignored.
pub(super) fn text_after_fin_off(events: &mut [Event]) -> bool {
    let mut fin_seen = false;
    let mut changed = false;
    for e in events {
        let Event::Segment(s) = e else { continue };
        if s.flags.syn() || s.flags.rst() {
            continue;
        }
        if fin_seen && s.len > 0 {
            s.len = 0;
            changed = true;
        }
        fin_seen |= s.flags.fin()
            && matches!(s.seq, tcpcheck::explore::event::SeqAt::RcvNxt(d)
                if d <= 0 && d + i32::from(s.len) >= 0);
    }
    changed
}

/// Every segment's window field the same (the largest): then which segment updates the
/// send window (RFC 9293 3.10.7.4's SND.WL1 and SND.WL2 check) changes nothing.
pub(super) fn one_window(e: &mut Event) -> bool {
    match e {
        Event::Segment(s) if s.wnd != u16::MAX => {
            s.wnd = u16::MAX;
            true
        }
        _ => false,
    }
}

/// Text held out of order: a segment of text (no SYN, FIN or RST) starting past RCV.NXT.
pub(super) fn out_of_order_text(e: &Event) -> bool {
    matches!(e, Event::Segment(s) if s.len > 0
        && !s.flags.syn() && !s.flags.fin() && !s.flags.rst()
        && matches!(s.seq, tcpcheck::explore::event::SeqAt::RcvNxt(d) if d > 0))
}
