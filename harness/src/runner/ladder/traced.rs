//! The rows of a run that had no script (a built-in check): drawn from the trace alone.
//! There is no script line to name a row's time or to count numbers from, so each row is
//! timed from the run's start and a segment is shown whole, addresses and absolute numbers
//! included (what the built-in checks judge: the ISN clock, the local address, the route).
//! These ladders change from run to run and are never kept as snapshots.

use tcpcheck_model::wire::{ChecksumPolicy, IpRepr, SegmentRepr};

use super::{Lane, Row};
use crate::trace::{EventKind, Trace};

/// One row per socket call, observation and TCP segment of `trace`, in time order;
/// filtered packets (neighbour discovery) are left out, as in a script's ladder.
pub fn rows(trace: &Trace) -> Vec<Row> {
    trace
        .events
        .iter()
        .filter_map(|e| {
            let (lane, text) = match &e.kind {
                EventKind::Call(c) => (Lane::Kernel, c.to_string()),
                EventKind::Observation { text } => (Lane::Kernel, text.clone()),
                EventKind::Sysctl { name, value } => {
                    (Lane::Kernel, format!("sysctl {name}={value}"))
                }
                EventKind::Injected { packet, .. } => segment(packet, true),
                EventKind::Captured { packet, .. } => segment(packet, false),
                EventKind::Filtered { .. }
                | EventKind::Note { .. }
                | EventKind::Judged(_)
                | EventKind::Script(_) => return None,
            };
            Some(Row {
                line: None,
                time: format!("{:.6}", e.at.as_secs_f64()),
                lane,
                text,
                model: None,
                stack: None,
            })
        })
        .collect()
}

/// The lane of a segment, by the documentation address of its peer (the source of one
/// injected, the destination of one sent), and its text.
fn segment(bytes: &[u8], inbound: bool) -> (Lane, String) {
    let Ok(seg) = SegmentRepr::parse_with(bytes, ChecksumPolicy::Accept) else {
        return (Lane::Stray, format!("{} bytes, not TCP", bytes.len()));
    };
    let peer = match &seg.ip {
        IpRepr::V4(ip) => {
            let o = if inbound { ip.src } else { ip.dst }.octets();
            (o[..3] == [192, 0, 2] && o[3] >= 2).then(|| u16::from(o[3]) - 1)
        }
        IpRepr::V6(ip) => {
            let s = if inbound { ip.src } else { ip.dst }.segments();
            (s[..7] == [0x2001, 0xdb8, 0, 0, 0, 0, 0] && s[7] >= 2).then(|| s[7] - 1)
        }
    };
    let lane = match (peer, inbound) {
        (Some(p), true) => Lane::In(p),
        (Some(p), false) => Lane::Out(p),
        (None, _) => Lane::Stray,
    };
    (lane, seg.to_string())
}
