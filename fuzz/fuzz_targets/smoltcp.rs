//! Coverage-guided search on smoltcp: the input decodes (through `arbitrary`) into an
//! explorer case, a setup and a program of events (segments with symbolic numbers, replays,
//! writes, reads, shutdown, abort), which runs against smoltcp in-process on its virtual clock
//! with the model's `rfc9293` profile judging every segment, exactly as
//! `tcpcheck explore --stack smoltcp` runs a case. A panic inside smoltcp, or a divergence
//! of no class `tcpcheck_smoltcp::findings` has judged, is a crash (a divergence of a judged
//! class is not, so the search goes on for new ones); libFuzzer keeps its input, and
//! `cargo fuzz run --sanitizer none smoltcp <file>` replays it, printing the case.
//!
//! With `TCPCHECK_FUZZ_FINDS=DIR` set, such an input is recorded instead (see [`finds`]) and
//! the search goes on: a campaign runs for its whole time, past every unjudged find.
#![no_main]

#[path = "smoltcp/finds.rs"]
mod finds;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use tcpcheck::explore::event::{AckOf, SegEvent, SeqAt};
use tcpcheck::explore::findings::Class;
use tcpcheck::explore::{run_case_unscripted, Case, Event, Pace, Setup, Target};
use tcpcheck::stack::Capabilities;
use tcpcheck_model::profile::Profile;
use tcpcheck_model::wire::TcpFlags;

/// Events per case at most: the explorer's default length is about ten.
const MAX_EVENTS: usize = 24;

fn setup(u: &mut Unstructured) -> Result<Setup> {
    Ok(Setup {
        passive: u.arbitrary()?,
        v6: u.arbitrary()?,
        peer_isn: *u.choose(&[0, 1, 0x7fff_ffff, 0xffff_fff0, 0xffff_ffff, 12345])?,
        mss: *u.choose(&[Some(1460), Some(536), None, Some(100)])?,
        sack: u.arbitrary()?,
        wscale: *u.choose(&[Some(7), None, Some(0), Some(14)])?,
        ts: u.arbitrary()?,
    })
}

/// An offset near an edge: mostly small, sometimes a window's worth.
fn delta(u: &mut Unstructured) -> Result<i32> {
    Ok(match u.int_in_range(0..=9)? {
        0..=6 => u.int_in_range(-3..=3)?,
        7 => u.int_in_range(-70000..=70000)?,
        8 => i32::MIN / 2,
        _ => 1 << 30,
    })
}

fn segment(u: &mut Unstructured) -> Result<SegEvent> {
    let mut flags = TcpFlags::empty();
    for f in [
        TcpFlags::SYN,
        TcpFlags::FIN,
        TcpFlags::RST,
        TcpFlags::PSH,
        TcpFlags::ACK,
    ] {
        if u.ratio(1, 3)? {
            flags |= f;
        }
    }
    let seq = match u.int_in_range(0..=2)? {
        0 => SeqAt::RcvNxt(delta(u)?),
        1 => SeqAt::WndEnd(delta(u)?),
        _ => SeqAt::PeerIsn(delta(u)?),
    };
    let ack = match u.int_in_range(0..=2)? {
        0 => AckOf::SndNxt(delta(u)?),
        1 => AckOf::SndUna(delta(u)?),
        _ => AckOf::Iss(delta(u)?),
    };
    Ok(SegEvent {
        flags,
        seq,
        ack,
        len: *u.choose(&[0, 0, 1, 10, 100, 1000, 1460, 3000])?,
        wnd: *u.choose(&[65535, 0, 1, 1000, 64240])?,
        options: u.arbitrary()?,
    })
}

fn event(u: &mut Unstructured) -> Result<Event> {
    Ok(match u.int_in_range(0..=9)? {
        0..=4 => Event::Segment(segment(u)?),
        5 => Event::Replay(u.int_in_range(0..=3)?),
        6 => Event::Write(*u.choose(&[1, 10, 100, 1000, 5000])?),
        7 => Event::Read(*u.choose(&[1, 10, 1000, 65535])?),
        8 => Event::Shutdown,
        _ => Event::Abort,
    })
}

fn case(u: &mut Unstructured) -> Result<Case> {
    let setup = setup(u)?;
    let mut events = Vec::new();
    while events.len() < MAX_EVENTS && !u.is_empty() {
        events.push(event(u)?);
    }
    Ok(Case { setup, events })
}

fuzz_target!(|data: &[u8]| {
    let Ok(case) = case(&mut Unstructured::new(data)) else {
        return;
    };
    let target = Target {
        stack: &tcpcheck_smoltcp::FACTORY,
        hide: Capabilities::NONE,
    };
    // Quick, as the explorer runs a case: the judged classes are recognised by rerunning the
    // case (edited) at that pace, so a divergence only another pace shows would be judged
    // against runs that do not show it. Unscripted: a crash prints the case and the
    // divergence, never the script.
    let outcome = match run_case_unscripted(target, &case, &Profile::rfc9293(), Pace::Quick) {
        Ok(o) => o,
        Err(e) => {
            // The error's first line without its numbers is its signature.
            let first = e.to_string().lines().next().unwrap_or("").to_string();
            let signature: String = first.chars().filter(|c| !c.is_ascii_digit()).collect();
            if finds::record(data, &format!("harness-error {signature}"), &e.to_string()) {
                return;
            }
            panic!("{e}\ncase: {case:?}")
        }
    };
    if let Some(found) = outcome.found {
        // Classes already judged (tcpcheck_smoltcp::findings) are not crashes: the search
        // is for new ones. A panic inside smoltcp is a `found` of its own rule, so it is
        // recorded (or crashes) here too.
        if tcpcheck_smoltcp::findings::classify_run(&found, &case).is_none() {
            let class = Class::of(&found).to_string();
            if finds::record(data, &class, &format!("{found}\ncase: {case:?}")) {
                return;
            }
            panic!("divergence on smoltcp: {found}\ncase: {case:?}");
        }
    }
});
