//! A series: the copies of one segment, their intervals against the model's, and how they
//! are shown.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Value};
use tcpcheck_model::timers::{timer_tolerance_hz, TimeWindow};

use super::{secs, timeout_min, ExpectedSchedule, SegmentKind, CALL_POLL_SLACK, HZ};

/// One segment sent more than once, with what the model expected of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    /// `192.0.2.1:8080 > 192.0.2.2:40000`, the stack's side first.
    pub connection: String,
    pub kind: SegmentKind,
    /// `SYN`, `SYN-ACK`, `FIN 101`, `data 1:101`, sequence numbers relative to the stack's
    /// ISN as in the scripts.
    pub segment: String,
    /// When each copy left, trace time (since the sandbox started).
    pub sends: Vec<Duration>,
    /// When the application was told the stack gave up (a call failing with ETIMEDOUT),
    /// trace time.
    pub give_up: Option<Duration>,
    /// The model's schedule, or why there is none.
    pub expected: Result<ExpectedSchedule, String>,
    /// A copy the stack sent early because a segment from the peer rearmed its timer, and
    /// when that segment came (trace time): Linux answers an unacceptable ACK in SYN-SENT
    /// by rearming the SYN's timer at `TCP_TIMEOUT_MIN` (tcp_rcv_synsent_state_process(),
    /// "Previous FIN/ACK or RST/ACK might be ignored"). Its interval is not a backoff: it is
    /// checked against `TCP_TIMEOUT_MIN` from the peer's segment, as the model has it.
    pub rearmed: Option<(usize, Duration)>,
}

/// How a series compares with its model.
#[derive(Clone, Debug, PartialEq)]
pub enum Comparison {
    /// Every measured interval lies in the tolerance window of its nominal one.
    Within,
    /// The first disagreement, in words.
    Differs(String),
    /// No model to compare with, and why.
    NotCompared(String),
}

impl Comparison {
    pub fn name(&self) -> &'static str {
        match self {
            Comparison::Within => "within",
            Comparison::Differs(_) => "differs",
            Comparison::NotCompared(_) => "not compared",
        }
    }
}

impl Series {
    /// Measured intervals, each from the copy before.
    pub fn intervals(&self) -> Vec<Duration> {
        self.sends.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// The nominal interval before copy `i + 1` (from the copy before) and its tolerance
    /// window: the model's backoff interval, or for a rearmed copy `TCP_TIMEOUT_MIN` after
    /// the peer's segment that rearmed it.
    fn due(&self, i: usize, backoff: Duration) -> (Duration, TimeWindow) {
        match self.rearmed {
            Some((copy, by)) if copy == i + 1 => {
                let lead = by.saturating_sub(self.sends[i]);
                let w = timer_tolerance_hz(timeout_min(), HZ);
                (
                    lead + timeout_min(),
                    TimeWindow {
                        earliest: lead + w.earliest,
                        latest: lead + w.latest,
                    },
                )
            }
            _ => (backoff, timer_tolerance_hz(backoff, HZ)),
        }
    }

    /// The measured give-up, counted from the last copy.
    pub fn give_up_after(&self) -> Option<Duration> {
        let last = *self.sends.last()?;
        self.give_up.map(|g| g.saturating_sub(last))
    }

    /// Checks each measured interval, and the give-up, against the window the kernel's tick
    /// allows around the model's nominal value.
    pub fn compare(&self) -> Comparison {
        let expected = match &self.expected {
            Ok(e) => e,
            Err(why) => return Comparison::NotCompared(why.clone()),
        };
        let measured = self.intervals();
        if measured.len() > expected.intervals.len() {
            return Comparison::Differs(format!(
                "{} copies, the model sends {}",
                self.sends.len(),
                expected.sends
            ));
        }
        for (i, (&got, &nominal)) in measured.iter().zip(&expected.intervals).enumerate() {
            let (nominal, window) = self.due(i, nominal);
            if !window.contains(got) {
                return Comparison::Differs(format!(
                    "copy {}: {} after the one before, the model {} ({})",
                    i + 2,
                    secs(got),
                    secs(nominal),
                    show_window(window)
                ));
            }
        }
        if let Some(got) = self.give_up_after() {
            if measured.len() < expected.intervals.len() {
                return Comparison::Differs(format!(
                    "gave up after {} copies, the model sends {}",
                    self.sends.len(),
                    expected.sends
                ));
            }
            let nominal = expected.give_up_after(&self.sends);
            let mut window = timer_tolerance_hz(nominal, HZ);
            window.latest += CALL_POLL_SLACK;
            if !window.contains(got) {
                return Comparison::Differs(format!(
                    "gave up {} after the last copy, the model {} ({})",
                    secs(got),
                    secs(nominal),
                    show_window(window)
                ));
            }
        }
        Comparison::Within
    }

    /// Two aligned lines, kernel then model, e.g.
    ///
    /// ```text
    /// SYN 192.0.2.1:40000 > 192.0.2.2:8080: intervals (s) from the copy before
    ///   kernel  1.01  2.02  4.26  8.19 16.13 33.54  ETIMEDOUT +64.51
    ///   model   1.00  2.00  4.00  8.00 16.00 32.00  ETIMEDOUT +64.00  [initial RTO; within ...]
    /// ```
    pub fn render(&self) -> String {
        self.render_for(crate::stack::StackKind::Linux)
    }

    /// [`Series::render`], the measured line named for `stack` (`kernel` for Linux).
    pub fn render_for(&self, stack: crate::stack::StackKind) -> String {
        let measured: Vec<String> = self.intervals().into_iter().map(secs).collect();
        let (model, model_end, note): (Vec<String>, Option<String>, String) = match &self.expected {
            Ok(e) => {
                let n = measured.len().min(e.intervals.len());
                let shown: Vec<String> = e.intervals[..n]
                    .iter()
                    .enumerate()
                    .map(|(i, &d)| secs(self.due(i, d).0))
                    .collect();
                // The model's give-up is shown when the kernel went the whole course.
                let end = (self.sends.len() >= e.sends)
                    .then(|| give_up_word(self.kind, e.give_up_after(&self.sends)));
                let rearm = match self.rearmed {
                    Some((copy, _)) => format!(
                        ", copy {} rearmed at TCP_TIMEOUT_MIN by the peer's segment",
                        copy + 1
                    ),
                    None => String::new(),
                };
                (
                    shown,
                    end,
                    format!("{}{rearm}; {}", e.basis, self.compare().describe()),
                )
            }
            Err(why) => (Vec::new(), None, format!("no model: {why}")),
        };
        let kernel_end = self
            .give_up_after()
            .map(|d| format!("ETIMEDOUT +{}", secs(d)));
        let width = measured
            .iter()
            .chain(&model)
            .map(String::len)
            .max()
            .unwrap_or(1);
        let row = |values: &[String], end: Option<String>| {
            let mut line: String = values.iter().map(|v| format!(" {v:>width$}")).collect();
            if values.is_empty() {
                line.push_str(" -");
            }
            if let Some(end) = end {
                let _ = write!(line, "  {end}");
            }
            line
        };
        let w = stack.word().len().max("model ".len());
        format!(
            "{} {}: intervals (s) from the copy before\n  {:<w$}{}\n  {:<w$}{}  [{}]",
            self.segment,
            self.connection,
            stack.word(),
            row(&measured, kernel_end),
            "model",
            row(&model, model_end),
            note
        )
    }

    /// The JSON form in `report.json`'s optional `schedules` array.
    pub fn to_json(&self) -> Value {
        let s = |d: Duration| d.as_secs_f64();
        let comparison = self.compare();
        let model = match &self.expected {
            Ok(e) => json!({
                "intervals_s": e.intervals.iter().map(|&d| s(d)).collect::<Vec<_>>(),
                "give_up_after_s": s(e.give_up_after(&self.sends)),
                "sends": e.sends,
                "basis": e.basis,
            }),
            Err(why) => json!({ "none": why }),
        };
        json!({
            "connection": self.connection,
            "segment": self.segment,
            "kind": match self.kind {
                SegmentKind::Syn => "syn",
                SegmentKind::SynAck => "syn-ack",
                SegmentKind::Fin => "fin",
                SegmentKind::Data => "data",
            },
            "sends": self.sends.len(),
            "intervals_s": self.intervals().into_iter().map(s).collect::<Vec<_>>(),
            "give_up_after_s": self.give_up_after().map(s),
            "model": model,
            "comparison": comparison.name(),
            "detail": comparison.describe(),
        })
    }
}

impl Comparison {
    fn describe(&self) -> String {
        match self {
            Comparison::Within => "within the kernel-tick tolerance".into(),
            Comparison::Differs(why) => format!("differs: {why}"),
            Comparison::NotCompared(why) => format!("not compared: {why}"),
        }
    }
}

fn give_up_word(kind: SegmentKind, after: Duration) -> String {
    match kind {
        // The request socket is dropped silently (syn_ack_recalc()): nothing on the wire.
        SegmentKind::SynAck => format!("dropped +{}", secs(after)),
        _ => format!("ETIMEDOUT +{}", secs(after)),
    }
}

fn show_window(w: TimeWindow) -> String {
    format!("allowed {} to {}", secs(w.earliest), secs(w.latest))
}
