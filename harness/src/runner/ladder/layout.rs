//! Draws the rows: one lane per party, so the direction of every segment and who it involves
//! read at a glance, and a diff of a snapshot points at the row that changed.

use std::fmt::Write as _;

use tcpcheck_model::conn::State;

use super::{Lane, Row};

/// Columns between two lanes.
const LANE_WIDTH: usize = 10;

/// Lanes at fixed columns, the text after them; `line`, `time` and the states padded to
/// their widest. The model's state column is there when some row has one, the stack's
/// likewise, and a `!` after them marks a row where the two differ.
/// `stack` names the stack's lane (`kernel` for Linux).
pub(super) fn layout(rows: &[Row], stack: &str) -> String {
    let peers = super::peers(rows);
    let line_w = rows
        .iter()
        .map(|r| r.line.map_or(1, |l| l.to_string().len() + 1))
        .max()
        .unwrap_or(1)
        .max("line".len());
    let time_w = rows
        .iter()
        .map(|r| r.time.len())
        .max()
        .unwrap_or(0)
        .max("time".len());
    let state_w = |get: fn(&Row) -> Option<State>, title: &str| {
        let w = rows
            .iter()
            .filter_map(|r| get(r).map(|s| s.rfc_name().len()))
            .max()?;
        Some(w.max(title.len()))
    };
    let model_w = state_w(|r| r.model, "model");
    let stack_w = state_w(|r| r.stack, "stack");
    let both = model_w.is_some() && stack_w.is_some();
    let states = |r: Option<&Row>| {
        let mut out = String::new();
        let name = |s: Option<State>| s.map_or("", State::rfc_name);
        if let Some(w) = model_w {
            let text = r.map_or("model", |r| name(r.model));
            let _ = write!(out, "{text:<w$}  ");
        }
        if let Some(w) = stack_w {
            let text = r.map_or("stack", |r| name(r.stack));
            let _ = write!(out, "{text:<w$}  ");
        }
        if both {
            out.push_str(if r.is_some_and(Row::states_differ) {
                "!  "
            } else {
                "   "
            });
        }
        out
    };
    let lanes_w = LANE_WIDTH * peers.len() + 1;
    let mut out = String::new();
    let mut title = format!("{:<line_w$}  {:<time_w$}  {}", "line", "time", states(None));
    let mut names = format!("{:<LANE_WIDTH$}", stack);
    for p in &peers {
        names.push_str(&format!("{:<LANE_WIDTH$}", format!("peer {p}")));
    }
    title.push_str(names.trim_end());
    let _ = writeln!(out, "{}", title.trim_end());
    for r in rows {
        let line = r.line.map_or("-".to_string(), |l| format!("L{l}"));
        let lanes = lanes(r.lane, &peers);
        let _ = writeln!(
            out,
            "{line:<line_w$}  {:<time_w$}  {}{lanes:<lanes_w$}  {}",
            r.time,
            states(Some(r)),
            r.text
        );
    }
    out
}

/// The kernel's lane at column 0, peer `peers[i]` at `LANE_WIDTH * (i + 1)`.
pub(super) fn lanes(lane: Lane, peers: &[u16]) -> String {
    let width = LANE_WIDTH * peers.len() + 1;
    let mut cells = vec![' '; width];
    cells[0] = '|';
    for i in 0..peers.len() {
        cells[LANE_WIDTH * (i + 1)] = '|';
    }
    let col = |p: u16| {
        peers
            .iter()
            .position(|&q| q == p)
            .map(|i| LANE_WIDTH * (i + 1))
    };
    match lane {
        Lane::Kernel => cells[0] = '*',
        Lane::Stray => cells[0] = '?',
        Lane::In(p) | Lane::Out(p) => {
            if let Some(end) = col(p) {
                for c in &mut cells[1..end] {
                    *c = if *c == '|' { '+' } else { '-' };
                }
                if matches!(lane, Lane::In(_)) {
                    cells[1] = '<';
                } else {
                    cells[end - 1] = '>';
                }
            }
        }
    }
    cells.into_iter().collect()
}
