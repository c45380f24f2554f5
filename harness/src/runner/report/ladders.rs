//! Ladders for the reports and the terminal (`run --ladder`). A ladder is drawn from the
//! run's trace and the script it ran; the reports are given runs, so each script is read
//! again from the path the run names, once per path. A built-in check has no script: its
//! ladder is drawn from its trace alone.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::runner::ladder::{self, Row};
use crate::runner::{load, ScenarioRun};
use crate::scenario::Script;

/// The scripts of a batch of runs, by path: the text and the parsed script, or why there is
/// none (a run of text that was never a file, a file since changed into something else).
pub struct Sources {
    by_path: HashMap<String, Result<(String, Script), String>>,
}

impl Sources {
    pub fn load(runs: &[ScenarioRun]) -> Sources {
        let mut by_path = HashMap::new();
        for r in runs.iter().filter(|r| !r.is_builtin()) {
            by_path
                .entry(r.path.clone())
                .or_insert_with(|| load(Path::new(&r.path)));
        }
        Sources { by_path }
    }

    fn get(&self, path: &str) -> Result<&(String, Script), String> {
        match self.by_path.get(path) {
            Some(Ok(s)) => Ok(s),
            Some(Err(e)) => Err(e.clone()),
            None => Err(format!("{path}: not among the scripts read")),
        }
    }

    /// The ladder's rows of `r`, or why it has none.
    /// A built-in check has no script: its rows are its trace's.
    pub fn rows(&self, r: &ScenarioRun) -> Result<Vec<Row>, String> {
        if r.trace.events.is_empty() {
            return Err("the run recorded nothing".into());
        }
        if r.is_builtin() {
            return Ok(ladder::traced::rows(&r.trace));
        }
        let (_, script) = self.get(&r.path)?;
        Ok(ladder::rows(&r.trace, script))
    }

    /// The text of script line `line` of `r`'s script, trimmed.
    pub fn line(&self, r: &ScenarioRun, line: u32) -> Option<String> {
        let (text, _) = self.get(&r.path).ok()?;
        let l = text.lines().nth((line as usize).checked_sub(1)?)?;
        Some(l.trim().to_string())
    }

    /// The text diagram of `r` (as the snapshots keep it), or a line saying why there is
    /// none.
    pub fn ladder(&self, r: &ScenarioRun) -> String {
        if r.is_builtin() {
            return ladder::ladder_of_trace(r);
        }
        match self.get(&r.path) {
            Ok((_, script)) => ladder::ladder(r, script),
            Err(e) => format!(
                "scenario  {}\nip        {}\nno ladder: {e}\n",
                r.path,
                r.ip.name()
            ),
        }
    }
}

/// Every run's ladder, one after the other, for the terminal.
pub fn ladders(runs: &[ScenarioRun]) -> String {
    let sources = Sources::load(runs);
    let mut out = String::new();
    for r in runs {
        let _ = writeln!(out, "{}", sources.ladder(r));
    }
    out
}

/// `run --ladder`: [`ladders`] on stdout, or on stderr when stdout carries JSON.
pub fn print_ladders(runs: &[ScenarioRun], stdout_is_json: bool) {
    let text = ladders(runs);
    if stdout_is_json {
        eprint!("{text}");
    } else {
        out!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use tcpcheck_model::seq::SeqNumber;
    use tcpcheck_model::wire::{IpRepr, Ipv4Repr, SegmentRepr, TcpFlags, TcpRepr};

    use super::*;
    use crate::differ::ModelVerdict;
    use crate::runner::{Check, Divergence, IpVersion, Verdict};
    use crate::trace::{EventKind, Trace};

    /// A built-in check's run that failed, with the SYN it sent and the SYN-ACK it got.
    fn failed_check() -> ScenarioRun {
        let seg = |src: [u8; 4], dst: [u8; 4], flags, seq| {
            SegmentRepr {
                ip: IpRepr::V4(Ipv4Repr::new(Ipv4Addr::from(src), Ipv4Addr::from(dst))),
                tcp: TcpRepr {
                    src_port: 40000,
                    dst_port: 8080,
                    seq: SeqNumber(seq),
                    flags,
                    window: 512,
                    ..TcpRepr::default()
                },
            }
            .emit()
            .expect("a valid segment")
        };
        let mut trace = Trace::default();
        trace.push(
            Duration::from_millis(1),
            EventKind::Note {
                text: "builtin/isn-clock: made up".into(),
            },
        );
        trace.push(
            Duration::from_millis(2),
            EventKind::Captured {
                packet: seg([192, 0, 2, 1], [192, 0, 2, 2], TcpFlags::SYN, 123_456),
                note: None,
            },
        );
        trace.push(
            Duration::from_millis(3),
            EventKind::Injected {
                packet: seg([192, 0, 2, 2], [192, 0, 2, 1], TcpFlags::SYN, 999),
                note: None,
            },
        );
        ScenarioRun {
            path: "builtin/isn-clock".into(),
            ip: IpVersion::V4,
            iteration: 0,
            verdict: Verdict::Fail(Divergence {
                line: 0,
                message: "MUST-8: made up".into(),
                expected: "ISNs that advance with time".into(),
                actual: "the same ISN twice".into(),
                check: Check::Other,
            }),
            duration: Duration::ZERO,
            script_time: Duration::ZERO,
            trace,
            model: ModelVerdict::Off("a built-in check".into()),
            states_off: None,
            stack: crate::stack::StackKind::Linux,
        }
    }

    #[test]
    fn a_builtin_check_has_a_ladder_from_its_trace() {
        let run = failed_check();
        let sources = Sources::load(std::slice::from_ref(&run));
        let text = sources.ladder(&run);
        assert!(!text.contains("no ladder"), "{text}");
        assert!(!text.contains("No such file"), "{text}");
        assert!(text.contains("verdict   fail: MUST-8: made up"), "{text}");
        assert!(
            text.contains("check     ISNs that advance with time"),
            "{text}"
        );
        // Both segments, whole (the check judges absolute numbers), in their lanes.
        assert!(text.contains("seq 123456"), "{text}");
        assert!(text.contains("seq 999"), "{text}");
        let rows = sources.rows(&run).expect("rows from the trace");
        assert_eq!(rows.len(), 2, "the note is not a row: {rows:?}");
        assert_eq!(rows[0].lane, ladder::Lane::Out(1));
        assert_eq!(rows[1].lane, ladder::Lane::In(1));
    }

    #[test]
    fn a_failed_builtin_check_reads_as_a_check() {
        let text = failed_check().describe();
        assert!(
            text.contains("\n  check:  ISNs that advance with time"),
            "{text}"
        );
        assert!(text.contains("\n  kernel: the same ISN twice"), "{text}");
        assert!(!text.contains("script:"), "{text}");
        assert!(!text.contains(":0:"), "no script line: {text}");
    }
}
