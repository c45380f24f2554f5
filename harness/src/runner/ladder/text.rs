//! A segment's text in the diagram: the script's own notation, less what the lanes show and
//! what would differ from run to run.

use tcpcheck_model::wire::SegmentRepr;

use crate::runner::packet;
use crate::scenario::{self, Action, Event, TcpOptions};

/// Flags and length alone, for a segment whose numbers have no base to count from.
pub(super) fn flags_of(seg: &SegmentRepr) -> String {
    let t = &seg.tcp;
    let flags = packet::script_flags(&seg.tcp);
    format!("{flags} ({})", t.payload.len())
}

/// The TS val a script line's packet gives the kernel, if it spells its options out.
pub(super) fn script_ts_val(e: &Event) -> Option<u32> {
    match &e.action {
        Action::Packet(p) => ts_val(p),
        _ => None,
    }
}

fn ts_val(p: &scenario::Packet) -> Option<u32> {
    let TcpOptions::Exactly(list) = &p.options else {
        return None;
    };
    list.iter().find_map(|o| match o {
        scenario::TcpOption::Timestamp { val, .. } => Some(*val),
        _ => None,
    })
}

pub(super) fn set_ts_val(p: &mut scenario::Packet, to: u32) {
    if let TcpOptions::Exactly(list) = &mut p.options {
        for o in list {
            if let scenario::TcpOption::Timestamp { val, .. } = o {
                *val = to;
            }
        }
    }
}

/// The packet without its direction and peer, which the lanes show; `hide_ts` replaces the
/// kernel's TS val by `?`.
pub(super) fn segment_text(p: scenario::Packet, hide_ts: bool) -> String {
    p.body(hide_ts).to_string()
}
