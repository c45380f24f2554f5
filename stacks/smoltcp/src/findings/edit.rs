//! Classes recognised by what removes them: a divergence is of a class if running its case
//! again with one kind of segment field edited away (and nothing else changed) no longer
//! diverges at or before the same event. Stronger than matching on the divergence's text,
//! since several of smoltcp's departures show only events later, as a state or a sequence
//! number the model left behind.

use tcpcheck::explore::event::{AckOf, SegEvent, SeqAt};
use tcpcheck::explore::{run_case_unscripted, Case, Event, Found, Pace, Target};
use tcpcheck::stack::Capabilities;
use tcpcheck_model::profile::Profile;

/// The step (`None`: the opening calls) at which `edited`, a case that diverged as `before`
/// until a recogniser edited it, first diverges on smoltcp against the `rfc9293` profile, if
/// it does, and whether that divergence is another known one: other than `before`, and of a
/// class that recognises it by itself (from the divergence and the case, without running
/// anything again). Where that other divergence shows at the same event as `before`, the
/// edit took one known departure away and uncovered a second at that event: the case is a
/// combination of the two (smoltcp's departures often meet in one case: a FIN misplaced after
/// held text where the SYN's ACK was also taken for the FIN's, one oversized segment's ACK
/// held back where an old segment also opened the window). One that shows earlier was not
/// uncovered but made by the edit, and does not count.
fn divergence(edited: &Case, before: &Found) -> Option<(Option<usize>, bool)> {
    let after = found(edited)?;
    let same = after.state == before.state
        && after.rule == before.rule
        && after.expected == before.expected
        && after.actual == before.actual;
    let known = !same && cheap(|| super::CLASSES.iter().any(|c| c.matches(&after, edited)));
    Some((after.step, known))
}

/// Whether `edited`, made from `case` by a recogniser, no longer diverges at or before the
/// event `case` diverged at: it runs through, diverges only later, or shows another known
/// departure at that same event ([`divergence`]). `at` places an edited event at the original
/// event it ran as (`None`: past the original's end).
fn gone(case: &Case, edited: &Case, at: impl Fn(usize) -> Option<usize>) -> bool {
    let Some(before) = original(case) else {
        return false;
    };
    let Some(step) = before.step else {
        return false;
    };
    match divergence(edited, &before) {
        None => true,
        Some((later, known)) => {
            later.is_some_and(|s| at(s).is_none_or(|i| i > step || (known && i == step)))
        }
    }
}

thread_local! {
    /// Set while [`cheap`] runs: no recogniser reruns a case.
    static NO_RERUNS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `f` with every recogniser that reruns the case answering "no": the classes a
/// divergence shows by itself are tried first, so most cases are classified without running
/// again (the fuzz target classifies every divergent input).
pub(super) fn cheap<T>(f: impl FnOnce() -> T) -> T {
    let was = NO_RERUNS.replace(true);
    let out = f();
    NO_RERUNS.set(was);
    out
}

thread_local! {
    /// The last case [`original`] ran, with its divergence.
    static LAST: std::cell::RefCell<Option<(Case, Option<Found>)>> =
        const { std::cell::RefCell::new(None) };
}

/// The divergence of the unedited `case`. Classifying one case asks this once per
/// recogniser; the last answer is kept (per thread), so the case runs once. A run is
/// deterministic on the virtual clock, so the kept answer is the one a run would give.
fn original(case: &Case) -> Option<Found> {
    if NO_RERUNS.get() {
        return None;
    }
    if let Some(hit) = LAST.with_borrow(|last| {
        last.as_ref()
            .filter(|(c, _)| c == case)
            .map(|(_, f)| f.clone())
    }) {
        return hit;
    }
    let f = found(case);
    LAST.with_borrow_mut(|last| *last = Some((case.clone(), f.clone())));
    f
}

/// Keeps `found` as the divergence of the unedited `case`, which the caller has just run
/// exactly as [`found`] runs it: then [`original`] does not run it again.
pub(super) fn ran(case: &Case, found: &Found) {
    LAST.with_borrow_mut(|last| *last = Some((case.clone(), Some(found.clone()))));
}

/// The divergence of `case` on smoltcp against the `rfc9293` profile, if any.
fn found(case: &Case) -> Option<Found> {
    if NO_RERUNS.get() {
        return None;
    }
    let target = Target {
        stack: &crate::FACTORY,
        hide: Capabilities::NONE,
    };
    // Unscripted: a recogniser reads the divergence, never the script.
    let out = run_case_unscripted(target, case, &Profile::rfc9293(), Pace::Quick).ok()?;
    out.found
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
    gone(case, &edited, Some)
}

/// [`removed_by`] with only the diverging event edited: for a case whose earlier segments
/// the edit would also change (and so change what the case tests before that event).
pub(super) fn removed_by_at_divergence(case: &Case, edit: fn(&mut Event) -> bool) -> bool {
    edited_at_divergence(case, edit).is_some_and(|(_, edited)| gone(case, &edited, Some))
}

/// The divergence of the unedited `case` and `case` with `edit` applied to the event it
/// diverged at, if it diverged at an event and the edit changed it.
fn edited_at_divergence(case: &Case, edit: fn(&mut Event) -> bool) -> Option<(Found, Case)> {
    let before = original(case)?;
    let step = before.step?;
    let mut edited = case.clone();
    edited
        .events
        .get_mut(step)
        .is_some_and(edit)
        .then_some((before, edited))
}

/// [`removed_by`], or the edit leaves a divergence at the same event that another rule
/// names: the edited segment was the first cause, and a second departure (of another class)
/// shows at the same event once it is gone.
pub(super) fn removed_or_changed_by(case: &Case, edit: fn(&mut Event) -> bool) -> bool {
    let mut edited = case.clone();
    let mut changed = false;
    for e in &mut edited.events {
        changed |= edit(e);
    }
    changed && removed_or_changed(case, &edited)
}

/// Whether `edited`, made from `case`, runs through, diverges later than `case`, or at the
/// same event under another rule.
fn removed_or_changed(case: &Case, edited: &Case) -> bool {
    let Some(before) = original(case) else {
        return false;
    };
    let Some(step) = before.step else {
        return false;
    };
    match found(edited) {
        None => true,
        Some(after) => after
            .step
            .is_some_and(|s| s > step || (s == step && after.rule != before.rule)),
    }
}

/// Whether `case` diverges, and without the replays of segments `pick` chooses it no
/// longer diverges at or before that step (a replay keeps its segment's numbers, so an edit
/// of the segment cannot reach what the replay sent).
pub(super) fn removed_without_replays(case: &Case, pick: fn(&SegEvent) -> bool) -> bool {
    let mut sent: Vec<SegEvent> = Vec::new();
    let mut kept: Vec<usize> = Vec::new();
    for (i, e) in case.events.iter().enumerate() {
        match e {
            Event::Segment(s) => {
                sent.push(*s);
                kept.push(i);
            }
            Event::Replay(n) => {
                let original = sent.iter().rev().nth(usize::from(*n)).copied();
                match original {
                    Some(s) if pick(&s) => {}
                    Some(s) => {
                        sent.push(s);
                        kept.push(i);
                    }
                    None => kept.push(i),
                }
            }
            _ => kept.push(i),
        }
    }
    if kept.len() == case.events.len() {
        return false;
    }
    // Replays count back over the segments kept: an index past a dropped one would name
    // another segment. Only cases where that does not arise are judged this way.
    let edited = Case {
        setup: case.setup,
        events: kept.iter().map(|&i| case.events[i]).collect(),
    };
    gone(case, &edited, |s| kept.get(s).copied())
}

/// An ACK field the stack may have passed since the segment was first sent, on a segment
/// with text or a FIN (not SYN or RST).
pub(super) fn old_ack_with_text(s: &SegEvent) -> bool {
    s.flags.ack()
        && !s.flags.syn()
        && !s.flags.rst()
        && (s.len > 0 || s.flags.fin())
        && matches!(
            s.ack,
            AckOf::Iss(_) | AckOf::SndUna(..=0) | AckOf::SndNxt(..0)
        )
}

/// [`removed_by`] for an edit that needs the whole sequence (what came before an event):
/// `edit` changes the events in place and says whether it changed anything.
pub(super) fn removed_by_events(case: &Case, edit: fn(&mut [Event]) -> bool) -> bool {
    let mut edited = case.clone();
    if !edit(&mut edited.events) {
        return false;
    }
    gone(case, &edited, Some)
}

/// Whether `case` diverges, and without the segments `drop` picks it no longer diverges at
/// or before that step (a replay counts from the segments left).
pub(super) fn removed_without(case: &Case, drop: fn(&Event) -> bool) -> bool {
    // The original index of each event kept.
    let kept: Vec<usize> = (0..case.events.len())
        .filter(|&i| !drop(&case.events[i]))
        .collect();
    if kept.len() == case.events.len() {
        return false;
    }
    let edited = Case {
        setup: case.setup,
        events: kept.iter().map(|&i| case.events[i]).collect(),
    };
    // The edited case's divergence, placed at the original event it ran as.
    gone(case, &edited, |s| kept.get(s).copied())
}

/// Whether `case` diverges at an event `pick` chooses, and without that one event it no
/// longer diverges there or before (the other events as they were).
pub(super) fn removed_without_diverging(case: &Case, pick: fn(&Event) -> bool) -> bool {
    let Some(before) = original(case) else {
        return false;
    };
    let Some(step) = before.step else {
        return false;
    };
    if !case.events.get(step).is_some_and(pick) {
        return false;
    }
    let kept: Vec<usize> = (0..case.events.len()).filter(|&i| i != step).collect();
    let edited = Case {
        setup: case.setup,
        events: kept.iter().map(|&i| case.events[i]).collect(),
    };
    gone(case, &edited, |s| kept.get(s).copied())
}

/// A RST (without SYN) anywhere but at RCV.NXT: one RFC 5961 3.2 answers with a challenge
/// ACK, or drops when outside the window.
pub(super) fn rst_off_rcv_nxt(e: &Event) -> bool {
    matches!(e, Event::Segment(s) if s.flags.rst() && !s.flags.syn()
        && s.seq != tcpcheck::explore::event::SeqAt::RcvNxt(0))
}

/// The FIN of a segment that does not start at or before RCV.NXT (one held out of order,
/// or named from the peer's ISN or the window's end) taken off.
pub(super) fn out_of_order_fin_off(e: &mut Event) -> bool {
    match e {
        Event::Segment(s)
            if s.flags.fin()
                && !s.flags.rst()
                && !s.flags.syn()
                && !matches!(s.seq, tcpcheck::explore::event::SeqAt::RcvNxt(d) if d <= 0) =>
        {
            s.flags = s.flags & !tcpcheck_model::wire::TcpFlags::FIN;
            true
        }
        _ => false,
    }
}

/// [`old_ack_to_snd_una`] on ACK fields written as SND.UNA - d alone: those given as ISS + 1
/// complete a handshake in SYN-RECEIVED, where SND.UNA is ISS and the edit would draw a RST
/// (fuzz: a simultaneous open completed by a segment acknowledging ISS + 1, then text under
/// SND.UNA - 3 filling the gap before held text).
pub(super) fn old_snd_una_ack_to_snd_una(e: &mut Event) -> bool {
    matches!(e, Event::Segment(s) if matches!(s.ack, AckOf::SndUna(d) if d < 0))
        && old_ack_to_snd_una(e)
}

/// An ACK field below SND.UNA (a duplicate's, RFC 9293 3.10.7.4 fifth check) raised to
/// SND.UNA: what the segment acknowledges is unchanged (nothing new).
pub(super) fn old_ack_to_snd_una(e: &mut Event) -> bool {
    match e {
        // Not a SYN,ACK: in SYN-SENT SND.UNA is ISS, and ISS + 1 the only acceptable ACK.
        Event::Segment(s) if s.flags.ack() && !s.flags.syn() => match s.ack {
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

/// [`early_ack_to_snd_nxt`] lowers this ACK field: past SND.NXT (or ISS + 1) when the
/// segment is injected, on a segment with ACK and without SYN.
pub(super) fn early_ack(s: &SegEvent) -> bool {
    let mut e = Event::Segment(*s);
    early_ack_to_snd_nxt(&mut e)
}

/// An ACK field above SND.NXT (of something not yet sent) lowered to SND.NXT. SND.UNA + d
/// is above SND.NXT when nothing is in flight, and ISS + d (d > 1) when little was sent, as
/// in the cases that reach this (the rerun shows what the edit did otherwise).
pub(super) fn early_ack_to_snd_nxt(e: &mut Event) -> bool {
    match e {
        // Not a SYN,ACK: past SYN-SENT its SYN draws a challenge ACK whatever it
        // acknowledges, and in SYN-SENT its ACK is checked against ISS + 1 alone.
        Event::Segment(s) if s.flags.ack() && !s.flags.syn() => match s.ack {
            AckOf::SndNxt(d) | AckOf::SndUna(d) if d > 0 => {
                s.ack = AckOf::SndNxt(0);
                true
            }
            AckOf::Iss(d) if d > 1 => {
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
    after_fin(events, |s| {
        let changed = s.len > 0;
        s.len = 0;
        changed
    })
}

/// The same text moved wholly before RCV.NXT: an old duplicate to both, answered with an
/// ACK (which a data segment draws from smoltcp at once, outside its one-per-second limit),
/// where taking it off would leave an empty segment that limit silences.
pub(super) fn text_after_fin_old(events: &mut [Event]) -> bool {
    after_fin(events, |s| {
        let old = SeqAt::RcvNxt(-i32::from(s.len) - 1);
        let changed = s.len > 0 && s.seq != old;
        if changed {
            s.seq = old;
        }
        changed
    })
}

/// `edit` applied to every segment (no SYN or RST) after the peer's first FIN at RCV.NXT.
fn after_fin(events: &mut [Event], edit: fn(&mut SegEvent) -> bool) -> bool {
    let mut fin_seen = false;
    let mut changed = false;
    for e in events {
        let Event::Segment(s) = e else { continue };
        if s.flags.syn() || s.flags.rst() {
            continue;
        }
        if fin_seen {
            changed |= edit(s);
        }
        fin_seen |= s.flags.fin() && at_rcv_nxt_with_fin(s);
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

/// Every segment with ACK offers the window the first one did: no window update at all, so
/// none the RFC would ignore (an old segment's) can open what it keeps shut.
pub(super) fn first_window_kept(events: &mut [Event]) -> bool {
    let mut first: Option<u16> = None;
    let mut changed = false;
    for e in events {
        let Event::Segment(s) = e else { continue };
        if !s.flags.ack() || s.flags.rst() {
            continue;
        }
        match first {
            None => first = Some(s.wnd),
            Some(w) if w != s.wnd => {
                s.wnd = w;
                changed = true;
            }
            Some(_) => {}
        }
    }
    changed
}

/// Text held out of order: a segment of text (no SYN or RST; a FIN, which smoltcp then
/// forgets, may end it) starting past RCV.NXT.
pub(super) fn out_of_order_text(e: &Event) -> bool {
    matches!(e, Event::Segment(s) if s.len > 0
        && !s.flags.syn() && !s.flags.rst()
        && matches!(s.seq, tcpcheck::explore::event::SeqAt::RcvNxt(d) if d > 0))
}

/// The FIN taken off every segment after the peer's first FIN at RCV.NXT: a FIN after the
/// FIN, which RFC 9293 3.10.7.4 acknowledges and smoltcp drops with all the segment says
/// (its ACK, its window).
pub(super) fn fin_after_fin_off(events: &mut [Event]) -> bool {
    fins_after_first_off(events, at_rcv_nxt_with_fin)
}

/// The FIN taken off every segment (no SYN or RST) after the first FIN segment `first` picks.
fn fins_after_first_off(events: &mut [Event], first: impl Fn(&SegEvent) -> bool) -> bool {
    let mut fin_seen = false;
    let mut changed = false;
    for e in events {
        let Event::Segment(s) = e else { continue };
        if s.flags.syn() || s.flags.rst() {
            continue;
        }
        if fin_seen && s.flags.fin() {
            s.flags = s.flags & !tcpcheck_model::wire::TcpFlags::FIN;
            changed = true;
        } else {
            fin_seen |= s.flags.fin() && first(s);
        }
    }
    changed
}

/// A FIN segment whose FIN is at RCV.NXT or before (so it is taken).
fn at_rcv_nxt_with_fin(s: &tcpcheck::explore::event::SegEvent) -> bool {
    matches!(s.seq, tcpcheck::explore::event::SeqAt::RcvNxt(d)
        if d <= 0 && d + i32::from(s.len) >= 0)
}

/// A SYN,ACK from the peer (no RST).
pub(super) fn syn_ack(e: &Event) -> bool {
    matches!(e, Event::Segment(s) if s.flags.syn() && s.flags.ack() && !s.flags.rst())
}

/// [`text_after_fin_old`] and [`fin_after_fin_off`] together: nothing after the peer's FIN
/// is new but its ACK and window.
pub(super) fn after_fin_old(events: &mut [Event]) -> bool {
    text_edit_and_fin_after_fin_off(events, text_after_fin_old)
}

/// `text_edit`, and if it changed anything (only a case with text after the FIN is the
/// text's), [`fin_after_fin_off`] too.
fn text_edit_and_fin_after_fin_off(
    events: &mut [Event],
    text_edit: fn(&mut [Event]) -> bool,
) -> bool {
    let text = text_edit(events);
    if text {
        fin_after_fin_off(events);
    }
    text
}

/// Text that may be held out of order (a segment of text, no SYN or RST, not starting at or
/// before RCV.NXT) taken off, with its FIN: what else the segment says (its ACK, its window)
/// still counts, where dropping it whole would change the state it leads to.
pub(super) fn out_of_order_text_emptied(e: &mut Event) -> bool {
    match e {
        Event::Segment(s)
            if s.len > 0
                && !s.flags.syn()
                && !s.flags.rst()
                && !matches!(s.seq, SeqAt::RcvNxt(d) if d <= 0) =>
        {
            s.len = 0;
            s.flags = s.flags & !tcpcheck_model::wire::TcpFlags::FIN;
            true
        }
        _ => false,
    }
}

/// [`old_ack_to_snd_una`] on the segments with text or a FIN, each given the window of the
/// segment injected before it: taken (as RFC 9293 3.10.7.4 takes it), such a segment, often
/// older than the one that set the send window, would otherwise set a window the RFC ignores
/// (window-updated-by-any-segment) before the old ACK's own effect shows.
pub(super) fn old_ack_keeping_window(events: &mut [Event]) -> bool {
    keeping_window(events, |e| {
        matches!(e, Event::Segment(s) if s.len > 0 || s.flags.fin()) && old_ack_to_snd_una(e)
    })
}

/// [`early_ack_to_snd_nxt`], each segment edited given the window of the segment injected
/// before it, as [`old_ack_keeping_window`] does: taken, an old segment's window would
/// otherwise show window-updated-by-any-segment at the same event.
pub(super) fn early_ack_keeping_window(events: &mut [Event]) -> bool {
    keeping_window(events, early_ack_to_snd_nxt)
}

/// `edit` on every event, each segment it changes given the window of the segment injected
/// before it that could set the send window (with ACK, without RST), and the options the setup negotiated: once taken, the segment
/// draws an ACK, which without a TSopt to answer would show tsopt-only-in-replies-to-tsopt
/// first.
fn keeping_window(events: &mut [Event], edit: fn(&mut Event) -> bool) -> bool {
    let mut last_wnd: Option<u16> = None;
    let mut changed = false;
    for e in events {
        let Event::Segment(s) = e else { continue };
        let (wnd, sets_window) = (s.wnd, s.flags.ack() && !s.flags.rst());
        if edit(&mut *e) {
            if let Event::Segment(s) = &mut *e {
                s.wnd = last_wnd.unwrap_or(s.wnd);
                s.options = true;
            }
            changed = true;
        }
        if sets_window {
            last_wnd = Some(wnd);
        }
    }
    changed
}

/// [`removed_or_changed_by`] for an edit of the whole sequence.
pub(super) fn removed_or_changed_by_events(case: &Case, edit: fn(&mut [Event]) -> bool) -> bool {
    let mut edited = case.clone();
    edit(&mut edited.events) && removed_or_changed(case, &edited)
}

/// [`text_after_fin_off`] and [`fin_after_fin_off`] together: everything after the peer's
/// FIN reduced to its ACK and window.
pub(super) fn after_fin_off(events: &mut [Event]) -> bool {
    text_edit_and_fin_after_fin_off(events, text_after_fin_off)
}

/// [`old_ack_to_snd_una`] and [`one_window`] together: text under an old ACK, which once
/// taken also sets the send window from a segment older than the one that last set it
/// (seed 1 case 23579: two departures, the old ACK first).
pub(super) fn old_ack_and_one_window(e: &mut Event) -> bool {
    let ack = old_ack_to_snd_una(e);
    one_window(e) | ack
}

/// [`out_of_order_fin_off`] and [`one_window`] together: the text held with a forgotten FIN
/// set the send window, which the segment filling the gap (older) may not set again (seed 1
/// case 52857: two departures, the forgotten FIN shown first).
pub(super) fn out_of_order_fin_and_one_window(e: &mut Event) -> bool {
    let fin = out_of_order_fin_off(e);
    one_window(e) | fin
}

/// [`out_of_order_fin_off`] and [`old_ack_to_snd_una`] together: a FIN held beyond a gap
/// (forgotten by smoltcp) and text under an old ACK (dropped whole by smoltcp) in one case,
/// each edit alone uncovering the other's departure earlier (fuzz crash-5c3af5…,
/// crash-6dca8f…, crash-c7d914…).
pub(super) fn out_of_order_fin_and_old_ack(e: &mut Event) -> bool {
    let fin = out_of_order_fin_off(e);
    old_ack_to_snd_una(e) | fin
}

/// Whether `edit` on every event leaves, at the same event as `case`'s divergence and under
/// the same rule, another divergence that the class named `uncovered` recognises (its own
/// recognisers rerunning the edited case, which [`divergence`]'s cheap look cannot): the
/// edited segment was the first of two departures that both break one rule there (fuzz:
/// an ACK of queued unsent data on a segment one below RCV.NXT with a smaller window; with
/// the ACK lowered, the window taken from that older segment shows at the same event).
pub(super) fn uncovers(case: &Case, edit: fn(&mut Event) -> bool, uncovered: &str) -> bool {
    if NO_RERUNS.get() {
        return false;
    }
    let mut edited = case.clone();
    let mut changed = false;
    for e in &mut edited.events {
        changed |= edit(e);
    }
    if !changed {
        return false;
    }
    let Some(before) = original(case) else {
        return false;
    };
    uncovered_in(case, &before, &edited, uncovered, true)
}

/// Whether `edited` (made from `case`, which diverged as `before`) diverges at the same event
/// (`same_rule`: under the same rule too) in the class named `uncovered`.
fn uncovered_in(
    case: &Case,
    before: &Found,
    edited: &Case,
    uncovered: &str,
    same_rule: bool,
) -> bool {
    let Some(after) = found(edited) else {
        return false;
    };
    if after.step != before.step || (same_rule && after.rule != before.rule) {
        return false;
    }
    let hit = super::CLASSES
        .iter()
        .find(|c| c.name == uncovered)
        .is_some_and(|c| c.matches(&after, edited));
    // The class's recognisers ran the edited case: the unedited one is the last run again.
    ran(case, before);
    hit
}

/// Whether smoltcp's one-per-second limit on its ACKs to unacceptable segments is in force
/// at the event `case` diverged at: with that event replaced by an empty ACK far past the
/// window (which RFC 9293 3.10.7.4 answers with an ACK), smoltcp sends nothing there.
pub(super) fn ack_limit_in_force_at_divergence(case: &Case) -> bool {
    let Some(before) = original(case) else {
        return false;
    };
    let Some(step) = before.step else {
        return false;
    };
    let mut probed = case.clone();
    let Some(e) = probed.events.get_mut(step) else {
        return false;
    };
    *e = Event::Segment(SegEvent {
        flags: tcpcheck_model::wire::TcpFlags::ACK,
        seq: SeqAt::WndEnd(1000),
        ack: AckOf::SndNxt(0),
        len: 0,
        wnd: 65535,
        options: true,
    });
    found(&probed).is_some_and(|after| {
        after.step == Some(step)
            && after.rule.contains("unacceptable segment")
            && matches!(after.departure.sent, tcpcheck::differ::Sent::Nothing)
    })
}

/// [`uncovers`] with only the diverging event edited, under whatever rule the uncovered
/// departure breaks there: the edited segment carried two departures at once (fuzz
/// crash-470e83…: an ACK of queued unsent data on an old segment with a new window; with the
/// ACK lowered to SND.NXT smoltcp still sends into the window the RFC keeps shut).
pub(super) fn uncovers_at_divergence(
    case: &Case,
    edit: fn(&mut Event) -> bool,
    uncovered: &str,
) -> bool {
    if NO_RERUNS.get() {
        return false;
    }
    let Some((before, edited)) = edited_at_divergence(case, edit) else {
        return false;
    };
    uncovered_in(case, &before, &edited, uncovered, false)
}

/// [`fin_after_fin_off`] where the first FIN's segment is placed from the peer's ISN: the
/// first FIN covering the sequence number after the SYN's (RCV.NXT while no text has been
/// taken), on a passive open whose SYN is placed from the peer's ISN too (fuzz
/// crash-a0d426…: a SYN at ISN+2, then text with a FIN from ISN+2 on).
pub(super) fn fin_after_fin_from_the_irs_off(events: &mut [Event]) -> bool {
    let Some(irs) = events.iter().find_map(|e| match e {
        Event::Segment(s) if s.flags.syn() && !s.flags.ack() && !s.flags.rst() => match s.seq {
            SeqAt::PeerIsn(d) => Some(d),
            _ => None,
        },
        _ => None,
    }) else {
        return false;
    };
    fins_after_first_off(
        events,
        |s| matches!(s.seq, SeqAt::PeerIsn(d) if d <= irs + 1 && d + i32::from(s.len) > irs),
    )
}

/// [`old_ack_to_snd_una`] on ACK fields within a window below SND.UNA only: an ACK field
/// further below (SND.UNA - 2^30) is one RFC 5961 5.2 drops with its segment (a challenge
/// ACK), which smoltcp does too; raising it would make that segment count (fuzz
/// crash-b2f0ab…: such a FIN, then text under ISS).
pub(super) fn near_old_ack_to_snd_una(e: &mut Event) -> bool {
    if matches!(e, Event::Segment(s) if matches!(s.ack, AckOf::SndUna(d) if d < -70000)) {
        return false;
    }
    old_ack_to_snd_una(e)
}

/// [`early_ack_to_snd_nxt`], and the text of a segment so edited cut to 1000 octets: lowering
/// the ACK lets the model take text it dropped, and a segment of more than two full-sized
/// ones would then owe an ACK at once that smoltcp delays
/// (`one-segment-of-two-rmss-ack-delayed`), earlier than the departure looked at (fuzz
/// crash-fd75a5…).
pub(super) fn early_ack_to_snd_nxt_short(e: &mut Event) -> bool {
    if !early_ack_to_snd_nxt(e) {
        return false;
    }
    if let Event::Segment(s) = e {
        s.len = s.len.min(1000);
    }
    true
}

/// The text of every segment that [`early_ack_to_snd_nxt`] would edit cut to 1000 octets,
/// its ACK left as it is.
pub(super) fn early_ack_text_short(e: &mut Event) -> bool {
    match e {
        Event::Segment(s) if s.len > 1000 && early_ack(s) => {
            s.len = 1000;
            true
        }
        _ => false,
    }
}

/// Whether the event `case` diverged at replays a FIN segment with text that, replayed, was
/// old text whose FIN fell at RCV.NXT: put in its place, that segment written as such (at
/// RCV.NXT - SEG.LEN, its other fields as they were) diverges there in the same words. A
/// replay keeps the numbers the segment had when first sent (fuzz: a FIN with one byte at the
/// IRS, sent in SYN-SENT and dropped, replayed once the SYN,ACK made RCV.NXT IRS+1).
pub(super) fn replay_is_old_text_with_fin(case: &Case, replayed: &SegEvent) -> bool {
    let Some(before) = original(case) else {
        return false;
    };
    let Some(step) = before.step else {
        return false;
    };
    if !matches!(case.events.get(step), Some(Event::Replay(_))) {
        return false;
    }
    let mut edited = case.clone();
    edited.events[step] = Event::Segment(SegEvent {
        seq: SeqAt::RcvNxt(-i32::from(replayed.len)),
        ..*replayed
    });
    found(&edited).is_some_and(|after| {
        after.step == before.step
            && after.rule == before.rule
            && after.expected == before.expected
            && after.actual == before.actual
    })
}
