//! `%{ ... }%` code blocks beyond `assert tcpi_X OP VALUE`: packetdrill's code.c. Each block
//! records the socket's `TCP_INFO` when its event runs; after the last event, one Python
//! program runs every block in order, each after the `tcpi_*` values of its own moment, so
//! a block may use what an earlier one defined. It fails at the block that raised, as
//! packetdrill's `_file:_line: error in Python code` says. Running code needs
//! `--allow-shell`, as shell commands do.

/// One block and what it sees.
pub struct Fragment {
    /// The script line of the block's event.
    pub line: u32,
    pub code: String,
    /// `tcpi_*` by packetdrill's names, at the block's time.
    pub vars: Vec<(&'static str, u64)>,
}

/// packetdrill's preamble: an exception names the script's file and line, not the
/// generated program's.
const PREAMBLE: &str = "\
import sys
import traceback
def excepthook(etype, value, tb):
  sys.stderr.write(\"%s:%d: error in Python code\\n\" % (_file, _line))
  traceback.print_exception(etype, value, tb)

sys.excepthook = excepthook
";

/// The names packetdrill's Python sees beside `tcpi_*` (Linux's values: tcp_states.h,
/// the congestion-avoidance states, `tcpi_options` bits).
pub(super) const SYMBOLS: [(&str, u64); 24] = [
    ("TCP_ESTABLISHED", 1),
    ("TCP_SYN_SENT", 2),
    ("TCP_SYN_RECV", 3),
    ("TCP_FIN_WAIT1", 4),
    ("TCP_FIN_WAIT2", 5),
    ("TCP_TIME_WAIT", 6),
    ("TCP_CLOSE", 7),
    ("TCP_CLOSE_WAIT", 8),
    ("TCP_LAST_ACK", 9),
    ("TCP_LISTEN", 10),
    ("TCP_CLOSING", 11),
    ("TCP_CA_Open", 0),
    ("TCP_CA_Disorder", 1),
    ("TCP_CA_CWR", 2),
    ("TCP_CA_Recovery", 3),
    ("TCP_CA_Loss", 4),
    ("TCPI_OPT_TIMESTAMPS", 1),
    ("TCPI_OPT_SACK", 2),
    ("TCPI_OPT_WSCALE", 4),
    ("TCPI_OPT_ECN", 8),
    ("TCPI_OPT_ECN_SEEN", 16),
    ("TCPI_OPT_SYN_DATA", 32),
    ("TCPI_OPT_USEC_TS", 64),
    ("TCPI_OPT_TFO_CHILD", 128),
];

/// A Python string literal of `s`.
fn quoted(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' | '\'' => {
                out.push('\\');
                out.push(c)
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The program packetdrill would write for `fragments` of the script `file`.
pub fn program(file: &str, fragments: &[Fragment]) -> String {
    let mut out = String::from(PREAMBLE);
    out.push('\n');
    for f in fragments {
        for (name, value) in SYMBOLS.iter().copied().chain(f.vars.iter().copied()) {
            out.push_str(&format!("{name} = {value}\n"));
        }
        out.push_str(&format!(
            "\n_file = {}\n_line = {}\n{}\n\n",
            quoted(file),
            f.line,
            f.code
        ));
    }
    out
}

/// The script line a failed program names (`FILE:LINE: error in Python code`), and the
/// exception's last line, from its output.
pub fn failure(output: &str) -> (Option<u32>, String) {
    let line = output.lines().find_map(|l| {
        let head = l.strip_suffix(": error in Python code")?;
        head.rsplit(':').next()?.parse().ok()
    });
    let last = output
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no output")
        .to_string();
    (line, last)
}

/// `TCP_INFO` fields the kernel counts in whole jiffies (`tcp_get_info()`: the `tcp_chrono`
/// times, the `last_*` ages, the RTO and ATO), converted to µs or ms only when read.
const IN_JIFFIES: [&str; 8] = [
    "tcpi_busy_time",
    "tcpi_rwnd_limited",
    "tcpi_sndbuf_limited",
    "tcpi_last_data_sent",
    "tcpi_last_data_recv",
    "tcpi_last_ack_recv",
    "tcpi_rto",
    "tcpi_ato",
];

/// For a failed block: which of its values the kernel counts in jiffies, and why such a
/// count is the same on every run (see `runner/jiffy.rs`), so the reader knows a range
/// written for another HZ from a flaky verdict. `None` when the block uses none.
pub fn jiffy_note(code: &str, jiffy: std::time::Duration) -> Option<String> {
    let used: Vec<&str> = IN_JIFFIES
        .iter()
        .copied()
        .filter(|name| {
            code.match_indices(name).any(|(i, _)| {
                let next = code[i + name.len()..].chars().next();
                !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        })
        .collect();
    if used.is_empty() {
        return None;
    }
    let us = jiffy.as_micros();
    let hz = 1_000_000u128.checked_div(us).unwrap_or(0);
    Some(format!(
        "{} {} counted in jiffies, {} µs each on this kernel (HZ={hz}); the script starts \
         {} µs into a jiffy, as packetdrill's do, so the count is the same on every run; \
         a range that holds no multiple of {} µs near the \
         time it means was written for another HZ",
        used.join(", "),
        if used.len() == 1 { "is" } else { "are" },
        us,
        super::jiffy::OFFSET.as_micros(),
        us,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_sets_each_fragments_values_before_it() {
        let p = program(
            "a'b.pkt",
            &[
                Fragment {
                    line: 7,
                    code: "x = tcpi_snd_cwnd".into(),
                    vars: vec![("tcpi_snd_cwnd", 10)],
                },
                Fragment {
                    line: 9,
                    code: "assert x == 10 and tcpi_snd_cwnd == 20".into(),
                    vars: vec![("tcpi_snd_cwnd", 20)],
                },
            ],
        );
        let first = p.find("tcpi_snd_cwnd = 10").expect("first values");
        let second = p.find("tcpi_snd_cwnd = 20").expect("second values");
        let code = p.find("assert x == 10").expect("second code");
        assert!(first < p.find("_line = 7").expect("first line"));
        assert!(second < code && p.find("_line = 9").expect("line") < code);
        assert!(p.contains("_file = 'a\\'b.pkt'"));
        assert!(p.contains("TCP_CA_Loss = 4"));
    }

    #[test]
    fn jiffy_note_names_the_values_counted_in_jiffies() {
        let j = std::time::Duration::from_millis(4);
        let note = jiffy_note("assert 49000 <= tcpi_busy_time <= 52000, tcpi_busy_time", j)
            .expect("busy time is counted in jiffies");
        assert!(
            note.starts_with("tcpi_busy_time is counted in jiffies, 4000 µs"),
            "{note}"
        );
        assert!(note.contains("HZ=250"), "{note}");
        assert_eq!(
            jiffy_note("assert tcpi_rtt < 1000 and tcpi_rto_x == 1", j),
            None
        );
        let both = jiffy_note("tcpi_rto > 0 and tcpi_sndbuf_limited", j).unwrap();
        assert!(
            both.starts_with("tcpi_sndbuf_limited, tcpi_rto are"),
            "{both}"
        );
    }

    #[test]
    fn failure_names_the_line_and_the_exception() {
        let out = "x.pkt:12: error in Python code\nTraceback (most recent call last):\n  \
                   File \"/tmp/c.py\", line 3, in <module>\nAssertionError: cwnd=9\n";
        assert_eq!(failure(out), (Some(12), "AssertionError: cwnd=9".into()));
        assert_eq!(failure("  File x\nSyntaxError: bad\n").0, None);
    }
}
