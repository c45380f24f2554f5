//! The ladder as inline SVG for report.html: the kernel and each peer a vertical lane, each
//! segment an arrow between them, each side's state at the left where RFC 9293's diagrams
//! put it, and the rows of a divergence shaded.
//!
//! Drawn with presentation attributes only, so the picture is the same in any page and
//! needs no stylesheet; every text from a run is escaped.

use std::fmt::Write as _;

use tcpcheck_model::conn::State;

use super::{Lane, Row};

const ROW_H: usize = 22;
const TOP: usize = 34;
/// A character of the 12 px monospace font, wide enough for any browser's.
const CHAR_W: f64 = 7.3;
const STATE_W: usize = 112;
const LANE_GAP: usize = 150;

/// A row to shade: the script line, and what is said of it on hover.
pub struct Highlight {
    pub line: u32,
    pub why: String,
}

/// The picture of `rows`; `id` is unique in the page (arrow heads are referred to by id);
/// `stack` names the stack's lane (`kernel` for Linux).
pub fn ladder_svg(rows: &[Row], highlights: &[Highlight], id: &str, stack: &str) -> String {
    let peers = super::peers(rows);
    let has_model = rows.iter().any(|r| r.model.is_some());
    let has_stack = rows.iter().any(|r| r.stack.is_some());
    let line_x = 6;
    let time_x = 58;
    let time_w = rows.iter().map(|r| r.time.len()).max().unwrap_or(0).max(4);
    let model_x = time_x + (time_w as f64 * CHAR_W) as usize + 12;
    let stack_x = model_x + if has_model { STATE_W } else { 0 };
    let kernel_x = stack_x + if has_stack { STATE_W } else { 0 } + 16;
    let lane_x = |i: usize| kernel_x + LANE_GAP * i;
    let peer_x = |p: u16| {
        peers
            .iter()
            .position(|&q| q == p)
            .map(|i| lane_x(i + 1))
            .unwrap_or(kernel_x)
    };
    let text_x = lane_x(peers.len()) + 16;
    let text_w = rows
        .iter()
        .map(|r| r.text.chars().count())
        .max()
        .unwrap_or(0);
    let width = text_x + (text_w as f64 * CHAR_W) as usize + 12;
    let height = TOP + ROW_H * rows.len() + 8;

    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ladder\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"monospace\" \
         font-size=\"12\"><defs><marker id=\"arrow-{id}\" viewBox=\"0 0 10 10\" refX=\"10\" \
         refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
         <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/></marker></defs>",
        id = escape(id)
    );
    // Shaded rows first, under everything else.
    for (i, r) in rows.iter().enumerate() {
        let Some(h) = r.line.and_then(|l| highlights.iter().find(|h| h.line == l)) else {
            continue;
        };
        let _ = write!(
            out,
            "<rect class=\"divergence\" x=\"0\" y=\"{}\" width=\"{width}\" height=\"{ROW_H}\" \
             fill=\"#ffd6d6\" stroke=\"#c00\"><title>{}</title></rect>",
            TOP + ROW_H * i,
            escape(&h.why)
        );
    }
    let head_y = TOP - 12;
    let mut head = |x: usize, text: &str| {
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{head_y}\" font-weight=\"bold\">{}</text>",
            escape(text)
        );
    };
    head(line_x, "line");
    head(time_x, "time");
    if has_model {
        head(model_x, "model");
    }
    if has_stack {
        head(stack_x, "stack");
    }
    let bottom = TOP + ROW_H * rows.len();
    let mut lanes = vec![(kernel_x, stack.to_string())];
    lanes.extend(peers.iter().map(|&p| (peer_x(p), format!("peer {p}"))));
    for (x, name) in &lanes {
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{head_y}\" font-weight=\"bold\" text-anchor=\"middle\">{}</text>\
             <line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{bottom}\" stroke=\"#999\"/>",
            escape(name),
            TOP - 6
        );
    }
    let mut last = (None, None);
    for (i, r) in rows.iter().enumerate() {
        let y = TOP + ROW_H * i + ROW_H / 2;
        let base = y + 4;
        let line = r.line.map_or("-".to_string(), |l| format!("L{l}"));
        let _ = write!(
            out,
            "<text x=\"{line_x}\" y=\"{base}\">{}</text><text x=\"{time_x}\" y=\"{base}\">{}</text>",
            escape(&line),
            escape(&r.time)
        );
        let differ = r.states_differ();
        state_cell(&mut out, model_x, y, r.model, last.0, differ);
        state_cell(&mut out, stack_x, y, r.stack, last.1, differ);
        last = (r.model.or(last.0), r.stack.or(last.1));
        match r.lane {
            Lane::Kernel => {
                let _ = write!(
                    out,
                    "<circle cx=\"{kernel_x}\" cy=\"{y}\" r=\"4\" fill=\"#333\"/>"
                );
            }
            Lane::Stray => {
                let _ = write!(
                    out,
                    "<text x=\"{kernel_x}\" y=\"{base}\" text-anchor=\"middle\" \
                     fill=\"#a60\">?</text>"
                );
            }
            Lane::In(p) | Lane::Out(p) => {
                let (x1, x2) = match r.lane {
                    Lane::In(_) => (peer_x(p), kernel_x),
                    _ => (kernel_x, peer_x(p)),
                };
                // A little slope, as segments take time on the textbook's ladders.
                let _ = write!(
                    out,
                    "<line class=\"segment\" x1=\"{x1}\" y1=\"{}\" x2=\"{x2}\" y2=\"{}\" \
                     stroke=\"#333\" stroke-width=\"1.4\" marker-end=\"url(#arrow-{})\"/>",
                    y - 5,
                    y + 5,
                    escape(id)
                );
            }
        }
        let colour = if r.line.is_none() { "#666" } else { "#000" };
        let _ = write!(
            out,
            "<text x=\"{text_x}\" y=\"{base}\" fill=\"{colour}\" xml:space=\"preserve\">{}</text>",
            escape(&r.text)
        );
    }
    out.push_str("</svg>");
    out
}

/// A state where it changes, boxed and bold; the same state again, grey; a state that the
/// other side does not share, red.
fn state_cell(
    out: &mut String,
    x: usize,
    y: usize,
    state: Option<State>,
    before: Option<State>,
    differ: bool,
) {
    let Some(s) = state else {
        return;
    };
    let changed = before != Some(s);
    if changed {
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\" rx=\"3\" fill=\"{}\"/>",
            x - 3,
            y - 8,
            STATE_W - 8,
            if differ { "#fbb" } else { "#dde9ff" }
        );
    }
    let fill = match (differ, changed) {
        (true, _) => "#b00",
        (false, true) => "#000",
        (false, false) => "#888",
    };
    let _ = write!(
        out,
        "<text class=\"state\" x=\"{x}\" y=\"{}\" fill=\"{fill}\"{}>{}</text>",
        y + 4,
        if changed { " font-weight=\"bold\"" } else { "" },
        s.rfc_name()
    );
}

/// Text for XML, attribute values included.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_the_divergence_shaded() {
        let rows = vec![
            Row {
                line: Some(3),
                time: "0".into(),
                lane: Lane::In(1),
                text: "S 0:0(0) <mss 1460> & \"x\"".into(),
                model: Some(State::SynReceived),
                stack: None,
            },
            Row {
                line: Some(4),
                time: "+0".into(),
                lane: Lane::Out(1),
                text: "R. 1:1(0) ack 1".into(),
                model: None,
                stack: None,
            },
        ];
        let svg = ladder_svg(
            &rows,
            &[Highlight {
                line: 4,
                why: "expected <S.>".into(),
            }],
            "a1",
            "kernel",
        );
        assert!(svg.contains("S 0:0(0) &lt;mss 1460&gt; &amp; &quot;x&quot;"));
        assert!(!svg.contains("<mss"));
        assert!(svg.contains("<title>expected &lt;S.&gt;</title>"));
        assert_eq!(svg.matches("class=\"divergence\"").count(), 1);
        assert!(svg.contains(">SYN-RECEIVED</text>"));
        assert_eq!(svg.matches("class=\"segment\"").count(), 2);
    }
}
