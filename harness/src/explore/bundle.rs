//! A counterexample on disk: the minimal case as a packetdrill script (replayable with
//! `tcpcheck run`), the run's pcapng, a report naming the rule involved, and report.html
//! with the minimal case replayed and drawn as a ladder.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use super::campaign::{Config, Replays};
use super::driver::{Case, Found, Outcome};
use super::report;
use crate::trace::write_pcapng_marked;

/// The file names inside a bundle directory.
pub const SCRIPT: &str = "case.pkt";
pub const PCAPNG: &str = "trace.pcapng";
pub const REPORT: &str = "report.md";
pub const HTML: &str = "report.html";

/// A short, file-name-safe slug of the rule: `rfc-5961-3-2`.
fn slug(rule: &str) -> String {
    let head = rule.split(':').next().unwrap_or(rule);
    let mut s: String = head
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    s.trim_matches('-').to_string()
}

/// The header of the script and the report: what failed and how to run it again.
pub fn header(config: &Config, index: u64, found: &Found, case: &Case) -> String {
    let profile = match config.profile {
        tcpcheck_model::profile::ProfileKind::Linux => "linux",
        tcpcheck_model::profile::ProfileKind::Rfc9293 => "rfc9293",
    };
    let mut h = String::new();
    let _ = writeln!(
        h,
        "tcpcheck explore counterexample ({} events, profile {profile})",
        case.events.len()
    );
    let _ = writeln!(h, "rule: {}", found.rule);
    let _ = writeln!(h, "model: {}", found.expected);
    let _ = writeln!(h, "{}: {}", found.stack.word(), found.actual);
    let _ = writeln!(
        h,
        "reproduce: tcpcheck explore {}--profile {profile} --seed {} --case {index} --events {}",
        found.stack.flag(),
        config.seed,
        config.max_events
    );
    let _ = writeln!(h, "replay: tcpcheck run --strict-trailing case.pkt");
    h
}

/// Writes the bundle for case `index` under `dir` and returns its directory.
pub fn write(
    dir: &Path,
    config: &Config,
    index: u64,
    original: &Found,
    case: &Case,
    outcome: &Outcome,
) -> io::Result<PathBuf> {
    let found = outcome.found.as_ref().unwrap_or(original);
    let out = dir.join(format!("case-{index}-{}", slug(&found.rule)));
    let report = report::markdown(config, index, original, case, outcome);
    write_in(&out, config, index, found, case, outcome, &report)
}

/// Writes the bundle of a divergence that did not come back on every replay (see
/// [`super::campaign::Verdict::Unconfirmed`]): the run that showed it, not shrunk, in its
/// own `unconfirmed-case-…` directory so that it is never taken for a confirmed one.
pub fn write_unconfirmed(
    dir: &Path,
    config: &Config,
    index: u64,
    found: &Found,
    case: &Case,
    outcome: &Outcome,
    replays: Replays,
) -> io::Result<PathBuf> {
    let out = dir.join(format!("unconfirmed-case-{index}-{}", slug(&found.rule)));
    let note = format!(
        "Not confirmed: the same case, run again in a fresh sandbox, {replays}. A kernel \
         that departs from the model does so every time; this run was probably spoilt by \
         the machine (a segment or a timer late under load). The trace below is the run \
         that diverged. Not shrunk, and not counted as a failure.\n"
    );
    // The report's own title line gives way to this bundle's title and note.
    let body = report::markdown(config, index, found, case, outcome);
    let body = body.split_once('\n').map_or("", |(_, rest)| rest);
    let report = format!("# Unconfirmed divergence: case {index}\n\n{note}{body}");
    write_in(&out, config, index, found, case, outcome, &report)
}

fn write_in(
    out: &Path,
    config: &Config,
    index: u64,
    found: &Found,
    case: &Case,
    outcome: &Outcome,
    report: &str,
) -> io::Result<PathBuf> {
    let out = out.to_path_buf();
    std::fs::create_dir_all(&out)?;
    // The script's header says it in the script's numbers too.
    let peer_isn = case.setup.peer_isn;
    let (expected, actual) = report::readable_words(outcome, found, peer_isn);
    let script = outcome
        .script
        .with_readable_comments(&[(&found.expected, &expected), (&found.actual, &actual)]);
    let shown = Found {
        expected: expected.into(),
        actual: actual.into(),
        ..found.clone()
    };
    let head = header(config, index, &shown, case);
    std::fs::write(out.join(SCRIPT), script.text(&head))?;
    let marks = report::marks(case, outcome, found);
    let pcapng = BufWriter::new(File::create(out.join(PCAPNG))?);
    write_pcapng_marked(&outcome.trace, &marks, pcapng)?;
    std::fs::write(out.join(REPORT), report)?;
    let html = html(config, index, &shown, &out.join(SCRIPT));
    std::fs::write(out.join(HTML), html)?;
    Ok(out)
}

/// A bundle's report.html: the finding as the explorer saw it, then the minimal case
/// (`script`, the bundle's case.pkt) replayed by the runner, as `tcpcheck run --report`
/// draws a run: its ladder with the model's states, the divergence shaded, the
/// retransmission plots. The replay is a run of its own, in a fresh sandbox; its verdict is
/// shown as it came, so a case that does not come back says so on the page.
fn html(config: &Config, index: u64, found: &Found, script: &std::path::Path) -> String {
    use crate::runner::report::{self, Sources};
    use crate::runner::{run_script, IpVersion, RunOptions, ScenarioRun};

    let name = script.display().to_string();
    // On the stack the case ran on: a smoltcp finding replayed on Linux would show
    // another stack's run.
    let opts = RunOptions {
        strict_trailing: true,
        model: Some(config.profile),
        stack: config.target.stack,
        hide: config.target.hide,
        ..RunOptions::default()
    };
    let runs: Vec<ScenarioRun> = match crate::runner::load(script) {
        // The script's own `--ip_version` line wins over the version given here.
        Ok((text, parsed)) => vec![run_script(&name, &text, &parsed, IpVersion::V4, &opts)],
        Err(_) => Vec::new(),
    };
    let sources = Sources::load(&runs);
    let did = format!("{} did", found.stack.subject());
    let intro = [
        ("rule", found.rule.to_string()),
        ("the model expected", found.expected.to_string()),
        (did.as_str(), found.actual.to_string()),
        (
            "reproduce",
            format!(
                "tcpcheck explore {}--profile {} --seed {} --case {index} --events {}",
                found.stack.flag(),
                match config.profile {
                    tcpcheck_model::profile::ProfileKind::Linux => "linux",
                    tcpcheck_model::profile::ProfileKind::Rfc9293 => "rfc9293",
                },
                config.seed,
                config.max_events
            ),
        ),
        (
            "below",
            "case.pkt replayed by the runner (tcpcheck run --strict-trailing case.pkt), in \
             a fresh sandbox, with its own verdict"
                .to_string(),
        ),
    ];
    report::html(
        &runs,
        &sources,
        &format!("tcpcheck explore: case {index}"),
        &intro,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(super::slug("RFC 5961 3.2: in-window RST"), "rfc-5961-3-2");
    }
}
