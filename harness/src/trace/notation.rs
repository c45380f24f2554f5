//! The model's own way of writing what it expected and what it saw, read back for people.
//!
//! The model explains a divergence in RFC 9293's notation with absolute numbers
//! (`<SEQ=3000000001><ACK=1001><CTL=ACK>`) and `Duration`'s `Debug` times
//! (`12.345678ms`). A report finds the frame such a segment names, and reprints it in the
//! script's notation with the numbers relative to each side's ISN and the times in
//! milliseconds; anything else in the text is left as the model wrote it.

use std::ops::Range;
use std::time::Duration;

use tcpcheck_model::wire::{SegmentRepr, TcpFlags};

/// A segment as the model writes it: `<SEQ=n|ISS>[<ACK=n>]<CTL=…>[<DATA …>]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelSeg {
    /// `None`: `SEQ=ISS`, the stack's ISN, whatever it is.
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    pub flags: TcpFlags,
    pub len: DataLen,
}

/// The flags the model writes (`ctl_names`): ECE and CWR are not modelled.
const MODEL_FLAGS: [TcpFlags; 6] = [
    TcpFlags::SYN,
    TcpFlags::FIN,
    TcpFlags::RST,
    TcpFlags::PSH,
    TcpFlags::URG,
    TcpFlags::ACK,
];

impl ModelSeg {
    /// Whether `seg` is the segment the model wrote (`SEQ=ISS` matches any number).
    pub fn is(&self, seg: &SegmentRepr) -> bool {
        let t = &seg.tcp;
        let flags_agree = MODEL_FLAGS
            .iter()
            .all(|&f| t.flags.contains(f) == self.flags.contains(f));
        let len = t.payload.len() as u32;
        flags_agree
            && self.seq.is_none_or(|s| s == t.seq.0)
            && self.ack.is_none_or(|a| a == t.ack.0)
            && match self.len {
                DataLen::Exact(n) => n == len,
                DataLen::UpTo(n) => (1..=n).contains(&len),
            }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataLen {
    Exact(u32),
    /// At least one and at most this many bytes.
    UpTo(u32),
}

fn ctl(names: &str) -> Option<TcpFlags> {
    let mut flags = TcpFlags::empty();
    for name in names.split(',').filter(|n| !n.is_empty()) {
        let flag = match name {
            "SYN" => TcpFlags::SYN,
            "FIN" => TcpFlags::FIN,
            "RST" => TcpFlags::RST,
            "PSH" => TcpFlags::PSH,
            "URG" => TcpFlags::URG,
            "ACK" => TcpFlags::ACK,
            _ => return None,
        };
        flags |= flag;
    }
    Some(flags)
}

/// The `<…>` fields from `at` on: the text of each and where the run of them ends.
fn fields(text: &str, at: usize) -> (Vec<&str>, usize) {
    let mut out = Vec::new();
    let mut end = at;
    while text[end..].starts_with('<') {
        let Some(close) = text[end..].find('>') else {
            break;
        };
        out.push(&text[end + 1..end + close]);
        end += close + 1;
    }
    (out, end)
}

fn parse_one(fields: &[&str]) -> Option<ModelSeg> {
    let mut seg = ModelSeg {
        seq: None,
        ack: None,
        flags: TcpFlags::empty(),
        len: DataLen::Exact(0),
    };
    let mut seen_ctl = false;
    for (i, f) in fields.iter().enumerate() {
        if let Some(v) = f.strip_prefix("SEQ=") {
            if i != 0 {
                return None;
            }
            seg.seq = if v == "ISS" {
                None
            } else {
                Some(v.parse().ok()?)
            };
        } else if let Some(v) = f.strip_prefix("ACK=") {
            seg.ack = Some(v.parse().ok()?);
        } else if let Some(v) = f.strip_prefix("CTL=") {
            seg.flags = ctl(v)?;
            seen_ctl = true;
        } else if let Some(v) = f
            .strip_prefix("DATA ")
            .and_then(|v| v.strip_suffix(" bytes"))
        {
            seg.len = match v.strip_prefix("1..=") {
                Some(n) => DataLen::UpTo(n.parse().ok()?),
                None => DataLen::Exact(v.parse().ok()?),
            };
        } else {
            return None;
        }
    }
    seen_ctl.then_some(seg)
}

/// Every segment written in the model's notation in `text`, with where it is.
pub fn segments(text: &str) -> Vec<(Range<usize>, ModelSeg)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("<SEQ=") {
        let start = from + i;
        let (fs, end) = fields(text, start);
        match parse_one(&fs) {
            Some(seg) => {
                out.push((start..end, seg));
                from = end;
            }
            None => from = start + 1,
        }
    }
    out
}

/// `text` with each segment in the model's notation replaced by `show(segment)`.
pub fn rewrite_segments(text: &str, mut show: impl FnMut(&ModelSeg) -> String) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (range, seg) in segments(text) {
        out += &text[last..range.start];
        out += &show(&seg);
        last = range.end;
    }
    out + &text[last..]
}

/// `seg`, sent by the stack, in the script's notation: `> . 1:1(0) ack 101`, its sequence
/// number less `seq_base` and its acknowledgment number less `ack_base` (absolute when a
/// base is unknown; `SEQ=ISS` is 0 whatever the base).
pub fn packetdrill(seg: &ModelSeg, seq_base: Option<u32>, ack_base: Option<u32>) -> String {
    let seq = seg.seq.map_or(0, |s| s.wrapping_sub(seq_base.unwrap_or(0)));
    let mut out = match seg.len {
        DataLen::Exact(n) => format!(
            "> {} {seq}:{}({n})",
            seg.flags.packetdrill(),
            seq.wrapping_add(n)
        ),
        DataLen::UpTo(n) => format!("> {} {seq}:?(1 to {n} bytes)", seg.flags.packetdrill()),
    };
    if let Some(a) = seg.ack {
        out += &format!(" ack {}", a.wrapping_sub(ack_base.unwrap_or(0)));
    }
    out
}

/// A `Duration`'s `Debug` text at the start of `s` (`12.345678ms`, `2s`, `150µs`): the
/// duration and the length of its text.
fn duration_at(s: &str) -> Option<(Duration, usize)> {
    let digits = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let number = &s[..digits];
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let rest = &s[digits..];
    let (unit, scale) = [("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0)]
        .into_iter()
        .find(|(u, _)| rest.starts_with(u))?;
    // A unit is a whole word: "5s" is a time, "5sec" or "2ssthresh" is not.
    if rest[unit.len()..]
        .chars()
        .next()
        .is_some_and(char::is_alphanumeric)
    {
        return None;
    }
    // A number too large for a Duration is not one the model wrote: left as text.
    let d = Duration::try_from_secs_f64(value * scale).ok()?;
    Some((d, digits + unit.len()))
}

/// `text` with every `Duration` `Debug` time written in milliseconds (`12.346 ms`).
pub fn times_in_ms(text: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < text.len() {
        let starts_word = i == 0
            || !text[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '.');
        if starts_word {
            if let Some((d, len)) = duration_at(&text[i..]) {
                out += &ms(d);
                i += len;
                continue;
            }
        }
        let c = text[i..].chars().next().expect("i is on a char boundary");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// A time as reports print it: milliseconds, to the microsecond.
pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_model_segments() {
        let text = "<SEQ=3000000001><ACK=1001><CTL=ACK> at 12.5ms or later";
        let found = segments(text);
        assert_eq!(found.len(), 1);
        let (range, seg) = &found[0];
        assert_eq!(&text[range.clone()], "<SEQ=3000000001><ACK=1001><CTL=ACK>");
        assert_eq!(
            *seg,
            ModelSeg {
                seq: Some(3_000_000_001),
                ack: Some(1001),
                flags: TcpFlags::ACK,
                len: DataLen::Exact(0),
            }
        );
        let syn = segments("<SEQ=ISS><CTL=SYN>")[0].1;
        assert_eq!(syn.seq, None);
        assert_eq!(syn.flags, TcpFlags::SYN);
        let data = segments("x <SEQ=5><ACK=7><CTL=PSH,ACK><DATA 1..=100 bytes> y")[0].1;
        assert_eq!(data.flags, TcpFlags::PSH | TcpFlags::ACK);
        assert_eq!(data.len, DataLen::UpTo(100));
        // Not the model's notation: left alone.
        assert!(segments("<SEQ=x><CTL=ACK>").is_empty());
        assert!(segments("<SEQ=1><ACK=2>").is_empty());
        assert!(segments("<SEQ=1><CTL=BOGUS>").is_empty());
    }

    #[test]
    fn segments_in_script_notation() {
        let ack = segments("<SEQ=3000000001><ACK=1001><CTL=ACK>")[0].1;
        assert_eq!(
            packetdrill(&ack, Some(3_000_000_000), Some(1000)),
            "> . 1:1(0) ack 1"
        );
        assert_eq!(
            packetdrill(&ack, None, None),
            "> . 3000000001:3000000001(0) ack 1001"
        );
        let data = segments("<SEQ=4294967295><ACK=5><CTL=PSH,ACK><DATA 10 bytes>")[0].1;
        assert_eq!(
            packetdrill(&data, Some(4_294_967_290), Some(0)),
            "> P. 5:15(10) ack 5"
        );
        let some = segments("<SEQ=11><CTL=PSH><DATA 1..=100 bytes>")[0].1;
        assert_eq!(
            packetdrill(&some, Some(10), None),
            "> P 1:?(1 to 100 bytes)"
        );
        let syn = segments("<SEQ=ISS><CTL=SYN>")[0].1;
        assert_eq!(packetdrill(&syn, Some(77), None), "> S 0:0(0)");
    }

    #[test]
    fn rewrites_segments_and_leaves_the_rest() {
        let out = rewrite_segments("a <SEQ=1><CTL=RST> b <SEQ=2><CTL=FIN> c", |s| {
            format!("[{}]", s.seq.unwrap())
        });
        assert_eq!(out, "a [1] b [2] c");
    }

    #[test]
    fn debug_durations_become_milliseconds() {
        assert_eq!(
            times_in_ms("due by 12.345678ms, nothing by 2.01s; 150µs, 7ns, 3s."),
            "due by 12.346 ms, nothing by 2010.000 ms; 0.150 ms, 0.000 ms, 3000.000 ms."
        );
        // Words, rule numbers and other digits stay.
        let kept = "RFC 9293 3.10.7.4: MUST-66, 5 segments, 2ssthresh, 1.5sec, v6s, \
                    99999999999999999999999s";
        assert_eq!(times_in_ms(kept), kept);
    }
}
