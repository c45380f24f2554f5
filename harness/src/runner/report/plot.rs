//! A retransmission series drawn for report.html: the stack's copies on a time line above
//! the model's schedule, then each interval as a pair of bars, the stack's beside the
//! model's, so a backoff that fails to double (or doubles once too often) shows at a glance.
//!
//! Times are from the series' first copy. The model's copies are placed at the sums of its
//! nominal intervals, which is where a stack with punctual timers would send them; the
//! comparison itself (and its tolerance) is the series' own, written in the caption.

use std::fmt::Write as _;
use std::time::Duration;

use crate::runner::ladder::svg::escape;
use crate::runner::schedule::{secs, Series};

const WIDTH: f64 = 760.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const STACK_Y: f64 = 40.0;
const MODEL_Y: f64 = 72.0;
const BARS_TOP: f64 = 110.0;
const BARS_H: f64 = 110.0;
const STACK_FILL: &str = "#d33";
const MODEL_FILL: &str = "#36c";

/// The picture of one series.
pub fn series_svg(s: &Series) -> String {
    let first = s.sends.first().copied().unwrap_or_default();
    let stack: Vec<f64> = s.sends.iter().map(|&t| (t - first).as_secs_f64()).collect();
    let stack_end = s.give_up.map(|g| g.saturating_sub(first).as_secs_f64());
    let expected = s.expected.as_ref().ok();
    let nominal = shown_intervals(s);
    let model: Vec<f64> = expected
        .map(|_| {
            let mut at = 0.0;
            let mut out = vec![0.0];
            for d in &nominal {
                at += d.as_secs_f64();
                out.push(at);
            }
            out
        })
        .unwrap_or_default();
    let model_end = expected
        .filter(|e| s.sends.len() >= e.sends)
        .and_then(|e| Some(model.last()? + e.give_up_after(&s.sends).as_secs_f64()));
    let span = stack
        .iter()
        .chain(&model)
        .chain(stack_end.iter())
        .chain(model_end.iter())
        .fold(0.0_f64, |a, &b| a.max(b))
        .max(0.001);
    let x = |t: f64| LEFT + (WIDTH - LEFT - RIGHT) * t / span;
    let height = BARS_TOP + BARS_H + 34.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"retransmissions\" width=\"{WIDTH}\" \
         height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" \
         font-size=\"11\">"
    );
    // The time axis, with ticks at a round step.
    let step = tick_step(span);
    let axis_y = MODEL_Y + 16.0;
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#999\"/>",
        WIDTH - RIGHT
    );
    let mut t = 0.0;
    while t <= span * 1.0001 {
        let _ = write!(
            out,
            "<line x1=\"{0:.1}\" y1=\"{axis_y}\" x2=\"{0:.1}\" y2=\"{1}\" stroke=\"#999\"/>\
             <text x=\"{0:.1}\" y=\"{2}\" text-anchor=\"middle\" fill=\"#555\">{3}</text>",
            x(t),
            axis_y + 4.0,
            axis_y + 15.0,
            tick_label(t)
        );
        t += step;
    }
    let label = |out: &mut String, y: f64, text: &str| {
        let _ = write!(
            out,
            "<text x=\"4\" y=\"{}\" font-weight=\"bold\">{text}</text>",
            y + 4.0
        );
    };
    label(&mut out, STACK_Y, "stack");
    label(&mut out, MODEL_Y, "model");
    // Each stack copy joined to the model's copy of the same rank: the slope is the lag.
    for (a, b) in stack.iter().zip(&model) {
        let _ = write!(
            out,
            "<line x1=\"{:.1}\" y1=\"{STACK_Y}\" x2=\"{:.1}\" y2=\"{MODEL_Y}\" stroke=\"#bbb\" \
             stroke-dasharray=\"3,3\"/>",
            x(*a),
            x(*b)
        );
    }
    for (i, &t) in stack.iter().enumerate() {
        let _ = write!(
            out,
            "<circle class=\"stack-copy\" cx=\"{:.1}\" cy=\"{STACK_Y}\" r=\"5\" \
             fill=\"{STACK_FILL}\"><title>copy {} at +{} s</title></circle>",
            x(t),
            i + 1,
            secs(Duration::from_secs_f64(t))
        );
    }
    for (i, &t) in model.iter().enumerate() {
        let _ = write!(
            out,
            "<circle class=\"model-copy\" cx=\"{:.1}\" cy=\"{MODEL_Y}\" r=\"5\" fill=\"white\" \
             stroke=\"{MODEL_FILL}\" stroke-width=\"2\"><title>model copy {} at +{} s</title>\
             </circle>",
            x(t),
            i + 1,
            secs(Duration::from_secs_f64(t))
        );
    }
    for (end, y, colour, who) in [
        (stack_end, STACK_Y, STACK_FILL, "stack gave up"),
        (model_end, MODEL_Y, MODEL_FILL, "model gives up"),
    ] {
        if let Some(t) = end {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\" \
                 font-weight=\"bold\">&#215;<title>{who} at +{} s</title></text>",
                x(t),
                y + 4.0,
                secs(Duration::from_secs_f64(t))
            );
        }
    }
    bars(&mut out, s);
    out.push_str("</svg>");
    out
}

/// Each interval as two bars, the stack's and the model's, with the stack's value above.
fn bars(out: &mut String, s: &Series) {
    let measured = s.intervals();
    let nominal = shown_intervals(s);
    let n = measured.len().max(nominal.len());
    if n == 0 {
        return;
    }
    let top = measured
        .iter()
        .chain(&nominal)
        .map(Duration::as_secs_f64)
        .fold(0.0_f64, f64::max)
        .max(0.001);
    let slot = (WIDTH - LEFT - RIGHT) / n as f64;
    let bar_w = (slot / 2.0 - 3.0).clamp(2.0, 28.0);
    let base = BARS_TOP + BARS_H;
    let _ = write!(
        out,
        "<text x=\"4\" y=\"{}\" font-weight=\"bold\">interval</text>\
         <line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#999\"/>",
        BARS_TOP + 10.0,
        WIDTH - RIGHT
    );
    for i in 0..n {
        let cx = LEFT + slot * (i as f64 + 0.5);
        for (value, dx, colour, class) in [
            (measured.get(i), -bar_w - 1.0, STACK_FILL, "stack-interval"),
            (nominal.get(i), 1.0, MODEL_FILL, "model-interval"),
        ] {
            let Some(v) = value else { continue };
            let h = (BARS_H - 14.0) * v.as_secs_f64() / top;
            let _ = write!(
                out,
                "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bar_w:.1}\" \
                 height=\"{h:.1}\" fill=\"{colour}\"><title>{} s</title></rect>",
                cx + dx,
                base - h,
                secs(*v)
            );
        }
        let _ = write!(
            out,
            "<text x=\"{cx:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            base + 13.0,
            escape(&format!("copy {}", i + 2))
        );
    }
    let _ = write!(
        out,
        "<text x=\"{LEFT}\" y=\"{}\" fill=\"{STACK_FILL}\">&#9632; stack</text>\
         <text x=\"{}\" y=\"{}\" fill=\"{MODEL_FILL}\">&#9632; model (nominal)</text>",
        base + 28.0,
        LEFT + 70.0,
        base + 28.0
    );
}

/// The model's intervals worth drawing: as many as the stack's copies had when the
/// series ended with the peer's ACK (the model's later copies would never be sent either,
/// and a 15-copy data schedule would squash the two that were), all of them when the stack
/// gave up, so that giving up early or late shows.
fn shown_intervals(s: &Series) -> Vec<Duration> {
    let Ok(e) = &s.expected else {
        return Vec::new();
    };
    let n = if s.give_up.is_some() {
        e.intervals.len()
    } else {
        s.sends.len().saturating_sub(1).min(e.intervals.len())
    };
    e.intervals[..n].to_vec()
}

/// A round tick step giving at most about ten ticks over `span` seconds.
fn tick_step(span: f64) -> f64 {
    let raw = span / 10.0;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag)
}

fn tick_label(t: f64) -> String {
    let s = format!("{t:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::schedule::{ExpectedSchedule, SegmentKind};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn copies_intervals_and_give_ups_are_drawn() {
        let s = Series {
            connection: "192.0.2.1:40000 > 192.0.2.2:8080".into(),
            kind: SegmentKind::Syn,
            segment: "SYN".into(),
            sends: vec![ms(100), ms(1110), ms(3130), ms(7150)],
            give_up: Some(ms(15_160)),
            expected: Ok(ExpectedSchedule {
                intervals: vec![ms(1000), ms(2000), ms(4000)],
                give_up: ms(8000),
                sends: 4,
                basis: "initial RTO".into(),
                budget: None,
            }),
            rearmed: None,
        };
        let svg = series_svg(&s);
        assert_eq!(svg.matches("class=\"stack-copy\"").count(), 4);
        assert_eq!(svg.matches("class=\"model-copy\"").count(), 4);
        assert_eq!(svg.matches("class=\"stack-interval\"").count(), 3);
        assert_eq!(svg.matches("class=\"model-interval\"").count(), 3);
        assert!(svg.contains("model copy 4 at +7.00 s"), "{svg}");
        assert!(svg.contains("stack gave up at +15.06 s"), "{svg}");
        assert!(svg.contains("model gives up at +15.00 s"), "{svg}");
    }

    #[test]
    fn an_acked_series_is_drawn_against_as_many_model_copies() {
        let s = Series {
            connection: "192.0.2.1:8080 > 192.0.2.2:40000".into(),
            kind: SegmentKind::Data,
            segment: "data 1:101".into(),
            sends: vec![ms(100), ms(435), ms(1075)],
            give_up: None,
            expected: Ok(ExpectedSchedule {
                intervals: (0..15).map(|i| ms(304 << i.min(8))).collect(),
                give_up: ms(120_000),
                sends: 16,
                basis: "RTO 304 ms".into(),
                budget: None,
            }),
            rearmed: None,
        };
        let svg = series_svg(&s);
        assert_eq!(svg.matches("class=\"model-copy\"").count(), 3);
        assert_eq!(svg.matches("class=\"model-interval\"").count(), 2);
        assert!(!svg.contains("gives up"), "{svg}");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(63.0), 10.0);
        assert_eq!(tick_step(3.1), 0.5);
        assert_eq!(tick_label(0.5), "0.5 s");
        assert_eq!(tick_label(20.0), "20 s");
    }
}
