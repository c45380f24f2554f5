//! The model's account of a divergence, rewritten for people.
//!
//! The model explains a divergence in RFC 9293's notation with absolute numbers
//! (`<SEQ=3000000001><ACK=1001><CTL=ACK>`) and `Duration`'s `Debug` times
//! (`12.345678ms`). A report shows the segment it owed or saw — as the value the divergence
//! carries ([`crate::differ::Departure`]), never read back from the text — in the script's
//! notation with the numbers relative to each side's ISN, and the times in milliseconds;
//! the rest of the model's words are kept as it wrote them.

use std::time::Duration;

use tcpcheck_model::conn::{LenSpec, Seg, SegSpec, SeqSpec};
use tcpcheck_model::wire::{SegmentRepr, TcpFlags};

/// The control bits the model writes (`ctl_names`): ECE and CWR are not modelled.
fn modelled(flags: TcpFlags) -> TcpFlags {
    flags & !(TcpFlags::ECE | TcpFlags::CWR)
}

/// The spec that is exactly `seg`, as the model writes a segment the stack sent: its
/// numbers (the ACK only when its bit is set), its length, the control bits it models.
pub fn exactly(seg: &Seg) -> SegSpec {
    SegSpec {
        flags: modelled(seg.flags),
        optional_flags: TcpFlags::empty(),
        seq: SeqSpec::Exact(seg.seq),
        ack: seg.flags.ack().then_some(seg.ack),
        len: LenSpec::Exact(seg.len),
    }
}

/// Whether the captured `frame` is `seg` as far as the model tells segments apart: control
/// bits, numbers (the ACK only when its bit is set) and length; the window and options may
/// differ.
pub fn is(seg: &Seg, frame: &SegmentRepr) -> bool {
    let t = &frame.tcp;
    modelled(t.flags) == modelled(seg.flags)
        && t.seq == seg.seq
        && (!seg.flags.ack() || t.ack == seg.ack)
        && t.payload.len() as u32 == seg.len
}

/// `seg`, owed by or seen from the stack, in the script's notation: `> . 1:1(0) ack 101`,
/// its sequence number less `seq_base` and its acknowledgment number less `ack_base`
/// (absolute when a base is unknown; `SEQ=ISS` is 0 whatever the base).
pub fn packetdrill(seg: &SegSpec, seq_base: Option<u32>, ack_base: Option<u32>) -> String {
    let seq = match seg.seq {
        SeqSpec::Exact(s) => s.0.wrapping_sub(seq_base.unwrap_or(0)),
        SeqSpec::Iss => 0,
    };
    let mut out = match seg.len {
        LenSpec::Exact(n) => format!(
            "> {} {seq}:{}({n})",
            seg.flags.packetdrill(),
            seq.wrapping_add(n)
        ),
        LenSpec::UpTo(n) => format!("> {} {seq}:?(1 to {n} bytes)", seg.flags.packetdrill()),
        LenSpec::AtMost(n) => format!("> {} {seq}:?(0 to {n} bytes)", seg.flags.packetdrill()),
    };
    if let Some(a) = seg.ack {
        out += &format!(" ack {}", a.0.wrapping_sub(ack_base.unwrap_or(0)));
    }
    out
}

/// The model's `words` for a person: when they start with `seg` as the model writes it,
/// that is replaced by `show(seg)`; then every time is in milliseconds.
pub fn readable(words: &str, seg: Option<&SegSpec>, show: impl Fn(&SegSpec) -> String) -> String {
    let shown = seg.and_then(|seg| {
        let rest = words.strip_prefix(&seg.to_string())?;
        (!rest.starts_with('<')).then(|| show(seg) + rest)
    });
    times_in_ms(shown.as_deref().unwrap_or(words))
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

    use tcpcheck_model::seq::SeqNumber;

    fn spec(flags: TcpFlags, seq: SeqSpec, ack: Option<u32>, len: LenSpec) -> SegSpec {
        SegSpec {
            flags,
            optional_flags: TcpFlags::empty(),
            seq,
            ack: ack.map(SeqNumber),
            len,
        }
    }

    #[test]
    fn segments_in_script_notation() {
        let exact = |s| SeqSpec::Exact(SeqNumber(s));
        let ack = spec(
            TcpFlags::ACK,
            exact(3_000_000_001),
            Some(1001),
            LenSpec::Exact(0),
        );
        assert_eq!(
            packetdrill(&ack, Some(3_000_000_000), Some(1000)),
            "> . 1:1(0) ack 1"
        );
        assert_eq!(
            packetdrill(&ack, None, None),
            "> . 3000000001:3000000001(0) ack 1001"
        );
        let psh_ack = TcpFlags::PSH | TcpFlags::ACK;
        let data = spec(psh_ack, exact(4_294_967_295), Some(5), LenSpec::Exact(10));
        assert_eq!(
            packetdrill(&data, Some(4_294_967_290), Some(0)),
            "> P. 5:15(10) ack 5"
        );
        let some = spec(TcpFlags::PSH, exact(11), None, LenSpec::UpTo(100));
        assert_eq!(
            packetdrill(&some, Some(10), None),
            "> P 1:?(1 to 100 bytes)"
        );
        let syn = spec(TcpFlags::SYN, SeqSpec::Iss, None, LenSpec::Exact(0));
        assert_eq!(packetdrill(&syn, Some(77), None), "> S 0:0(0)");
    }

    /// A segment the stack sent reads as the model wrote it, so the words about it start
    /// with it; ECE and CWR, which the model does not write, are left out.
    #[test]
    fn a_sent_segment_is_the_spec_the_model_writes() {
        let seg = Seg::new(TcpFlags::ACK | TcpFlags::ECE, 5001, 1001, 0);
        assert_eq!(exactly(&seg).to_string(), "<SEQ=5001><ACK=1001><CTL=ACK>");
        let fin = Seg::new(TcpFlags::FIN, 7, 99, 3);
        assert_eq!(exactly(&fin).to_string(), "<SEQ=7><CTL=FIN><DATA 3 bytes>");
    }

    #[test]
    fn only_the_named_segment_is_rewritten() {
        let ack = exactly(&Seg::new(TcpFlags::ACK, 1, 2, 0));
        let show = |s: &SegSpec| packetdrill(s, Some(0), Some(0));
        assert_eq!(
            readable(
                "<SEQ=1><ACK=2><CTL=ACK> by 4.5ms (RFC: <SEQ=SND.NXT><CTL=ACK>)",
                Some(&ack),
                show
            ),
            "> . 1:1(0) ack 2 by 4.500 ms (RFC: <SEQ=SND.NXT><CTL=ACK>)"
        );
        // Words that do not start with it (here a longer segment) are only retimed.
        assert_eq!(
            readable(
                "<SEQ=1><ACK=2><CTL=ACK><DATA 5 bytes> at 1ms",
                Some(&ack),
                show
            ),
            "<SEQ=1><ACK=2><CTL=ACK><DATA 5 bytes> at 1.000 ms"
        );
        assert_eq!(
            readable("nothing by 2s", None, show),
            "nothing by 2000.000 ms"
        );
    }

    #[test]
    fn debug_durations_become_milliseconds() {
        assert_eq!(
            times_in_ms("due by 12.345678ms, nothing by 2.01s; 150µs, 7ns, 3s."),
            "due by 12.346 ms, nothing by 2010.000 ms; 0.150 ms, 0.000 ms, 3000.000 ms."
        );
        // Words, rule numbers and other digits stay.
        let kept = "RFC 9293 3.4: MUST-66, 5 segments, 2ssthresh, 1.5sec, v6s, \
                    99999999999999999999999s";
        assert_eq!(times_in_ms(kept), kept);
    }
}
