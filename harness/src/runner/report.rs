//! What a batch of runs produced, for machines (JSON, JUnit XML) and people (text,
//! Markdown), plus one pcapng per run so any failure can be opened in Wireshark.
//!
//! report.html draws the same for a person: each run's ladder as SVG with the states, the
//! first divergence shaded, and a time plot of each retransmission series; report.md carries
//! each ladder as a Mermaid `sequenceDiagram`, which code hosts draw.
//!
//! Every report also carries the retransmission schedules the run's trace shows, measured
//! beside the model's ([`super::schedule`]): they are how a timer scenario's numbers are
//! read, and they stay information beside the verdict, which is the script's.

mod failing;
mod html;
mod ladders;
mod plot;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::schedule::{self, secs, Series};
use super::{IpVersion, ScenarioRun, Verdict};
use crate::differ::ModelVerdict;
use crate::trace::{write_pcapng_marked, Readable};

pub use failing::{
    marks, model_agrees_with_stack, model_judged, model_texts, model_view_readable, MODEL_AGREES,
};
pub use html::{html, html_with};
pub use ladders::{ladders, print_ladders, Sources};

pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    /// Runs stopped by Ctrl-C before their end.
    pub interrupted: usize,
    /// Runs that need what the stack does not have: neither passed nor failed.
    pub not_applicable: usize,
    /// Runs whose script passed while the model diverged: the stack did what the script
    /// says, but not what the model allows. Counted, so "all passed" does not hide them.
    pub passed_with_model_divergence: usize,
}

pub fn summary(runs: &[ScenarioRun]) -> Summary {
    let count = |name: &str| runs.iter().filter(|r| r.verdict.name() == name).count();
    Summary {
        passed: count("pass"),
        failed: count("fail"),
        errors: count("error"),
        interrupted: count("interrupted"),
        not_applicable: count("not applicable"),
        passed_with_model_divergence: runs
            .iter()
            .filter(|r| r.verdict == Verdict::Pass && matches!(r.model, ModelVerdict::Diverge(_)))
            .count(),
    }
}

impl Summary {
    /// `83 passed (1 with a model divergence), 0 failed, 0 errors`, with `, N interrupted`
    /// after a Ctrl-C.
    pub fn line(&self) -> String {
        let mut out = format!("{} passed", self.passed);
        if self.passed_with_model_divergence > 0 {
            let n = self.passed_with_model_divergence;
            let _ = if n == 1 {
                write!(out, " (1 with a model divergence)")
            } else {
                write!(out, " ({n} with model divergences)")
            };
        }
        let _ = write!(out, ", {} failed, {} errors", self.failed, self.errors);
        if self.not_applicable > 0 {
            let _ = write!(out, ", {} not applicable", self.not_applicable);
        }
        if self.interrupted > 0 {
            let _ = write!(out, ", {} interrupted", self.interrupted);
        }
        out
    }
}

/// The model's view in one line: what a reader needs beside the script's verdict.
pub fn model_view(model: &ModelVerdict) -> String {
    match model {
        ModelVerdict::Agree => "agree".into(),
        ModelVerdict::Diverge(d) => format!(
            "diverge at line {}: expected {}, got {} ({})",
            d.line,
            d.expected,
            d.actual,
            d.rule_named()
        ),
        ModelVerdict::Off(why) => format!("off ({why})"),
    }
}

/// The model's line under a verdict: its view, and on a failure it judged and allowed, that
/// the script may be what is wrong.
pub fn model_line(r: &ScenarioRun) -> String {
    let view = model_view_readable(r);
    if model_agrees_with_stack(r) {
        format!("{view}\n  {MODEL_AGREES}")
    } else {
        view
    }
}

/// The shape `tcpcheck run --format json` promises. `first_divergence` is the script's when
/// the stack contradicted it, with the model's view beside it (`model_agrees_with_stack`:
/// the model judged the failing line and allowed what the stack did, so the script's
/// expectation may be wrong); when the script passed and the model did not, it is the
/// model's.
pub fn json(runs: &[ScenarioRun]) -> Value {
    let s = summary(runs);
    let scenarios: Vec<Value> = runs
        .iter()
        .map(|r| {
            let divergence = match (&r.verdict, &r.model) {
                (Verdict::Fail(d), m) => json!({
                    "line": d.line,
                    "expected": d.expected,
                    "actual": format!("{}: {}", d.message, d.actual),
                    "model": model_view(m),
                    "model_agrees_with_stack": model_agrees_with_stack(r),
                }),
                (_, ModelVerdict::Diverge(d)) => {
                    let mut v = json!({
                        "line": d.line,
                        "expected": d.expected,
                        "actual": d.actual,
                        "model": d.rule.to_string(),
                    });
                    if let Some(name) = d.deviation {
                        v["deviation"] = json!(name);
                    }
                    v
                }
                _ => Value::Null,
            };
            let mut scenario = json!({
                "path": r.path,
                "ip": r.ip.number(),
                "verdict": r.verdict.name(),
                "duration_ms": r.duration.as_secs_f64() * 1e3,
                // The script's own timeline: duration_ms less this is the harness's cost.
                "script_ms": r.script_time.as_secs_f64() * 1e3,
                "model": r.model.name(),
                "first_divergence": divergence,
            });
            if let Verdict::Error(message) = &r.verdict {
                scenario["error"] = json!(message);
            }
            if let Some(why) = &r.states_off {
                scenario["states_off"] = json!(why);
            }
            if let Verdict::NotApplicable { line, needs } = &r.verdict {
                scenario["needs"] = json!(needs.name());
                scenario["line"] = json!(line);
            }
            if r.ip == IpVersion::V4Mapped {
                // "ip" is what is on the wire; the socket family is told apart here.
                scenario["socket"] = json!(r.ip.name());
            }
            let schedules = schedules(r);
            if !schedules.is_empty() {
                scenario["schedules"] = schedules.iter().map(Series::to_json).collect();
            }
            scenario
        })
        .collect();
    json!({
        "summary": {
            "passed": s.passed,
            "failed": s.failed,
            "errors": s.errors,
            "interrupted": s.interrupted,
            "not_applicable": s.not_applicable,
            "passed_with_model_divergence": s.passed_with_model_divergence,
        },
        "scenarios": scenarios,
    })
}

/// The retransmission series of a run's trace, with the model's schedules.
pub fn schedules(r: &ScenarioRun) -> Vec<Series> {
    schedule::extract(&r.trace)
}

pub fn text(runs: &[ScenarioRun]) -> String {
    let mut out = String::new();
    for r in runs {
        out.push_str(&text_of(r));
    }
    let _ = writeln!(out, "{}", summary(runs).line());
    out
}

/// One run's lines of [`text`]: the verdict and, below it, its retransmission schedules.
pub fn text_of(r: &ScenarioRun) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", r.describe());
    for s in schedules(r) {
        for line in s.render_for(r.stack).lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}

pub fn markdown(runs: &[ScenarioRun]) -> String {
    markdown_with(runs, &Sources::load(runs))
}

/// [`markdown`] with the runs' scripts already read.
pub fn markdown_with(runs: &[ScenarioRun], sources: &Sources) -> String {
    let s = summary(runs);
    let mut out = format!(
        "# tcpcheck run\n\n{}\n\n| scenario | ip | verdict | model | ms |\n|---|---|---|---|---|\n",
        s.line()
    );
    for r in runs {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {:.1} |",
            r.path,
            r.ip.name(),
            r.verdict.name(),
            r.model.name(),
            r.duration.as_secs_f64() * 1e3
        );
    }
    let mut table = String::new();
    for r in runs {
        for s in schedules(r) {
            let e = s.expected.as_ref().ok();
            let n = s.intervals().len();
            let model: Vec<String> = e
                .map(|e| e.intervals.iter().take(n).map(|d| secs(*d)).collect())
                .unwrap_or_default();
            let kernel: Vec<String> = s.intervals().into_iter().map(secs).collect();
            let _ = writeln!(
                table,
                "| `{}` | {} | {} `{}` | {}{} | {}{} | {} |",
                r.path,
                r.ip.name(),
                s.segment,
                s.connection,
                kernel.join(" "),
                s.give_up_after()
                    .map(|g| format!(" (ETIMEDOUT +{})", secs(g)))
                    .unwrap_or_default(),
                if model.is_empty() {
                    "-".to_string()
                } else {
                    model.join(" ")
                },
                e.filter(|e| s.sends.len() >= e.sends)
                    .map(|e| format!(" (give-up +{})", secs(e.give_up)))
                    .unwrap_or_default(),
                s.compare().name()
            );
        }
    }
    if !table.is_empty() {
        let _ = write!(
            out,
            "\n## Retransmission schedules\n\nIntervals in seconds, each from the copy before; \
             the model's nominal ones beside, compared within the kernel-tick tolerance.\n\n\
             | scenario | ip | segment | kernel | model | |\n|---|---|---|---|---|---|\n{table}"
        );
    }
    for r in runs
        .iter()
        .filter(|r| r.verdict != Verdict::Pass || matches!(r.model, ModelVerdict::Diverge(_)))
    {
        let _ = write!(
            out,
            "\n## `{}` ({})\n\n```\n{}\n```\n",
            r.path,
            r.ip.name(),
            r.describe()
        );
        if !r.trace.events.is_empty() {
            let _ = write!(
                out,
                "\nTrace ({}):\n\n```\n{}```\n",
                pcap_name(r),
                Readable::new(&r.trace, &marks(r))
            );
        }
    }
    out.push_str("\n## Ladders\n");
    for r in runs {
        let _ = write!(out, "\n### `{}` ({})\n\n", r.path, r.ip.name());
        match sources.rows(r) {
            Ok(rows) => {
                let _ = write!(
                    out,
                    "```mermaid\n{}```\n",
                    crate::runner::ladder::mermaid::sequence_diagram(&rows)
                );
            }
            Err(why) => {
                let _ = writeln!(out, "No ladder: {why}");
            }
        }
    }
    out
}

/// report.md with `extra` after the summary table (before the schedules, failures and
/// ladders, which are long).
fn with_extra_md(mut md: String, extra: &str) -> String {
    if extra.is_empty() {
        return md;
    }
    match md.find("\n## ") {
        Some(i) => md.insert_str(i + 1, &format!("{}\n\n", extra.trim_end())),
        None => {
            let _ = write!(md, "\n{}\n", extra.trim_end());
        }
    }
    md
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn junit(runs: &[ScenarioRun]) -> String {
    let s = summary(runs);
    let total: f64 = runs.iter().map(|r| r.duration.as_secs_f64()).sum();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"tcpcheck\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{total:.3}\">\n",
        runs.len(),
        s.failed,
        s.errors,
        s.interrupted + s.not_applicable
    );
    for r in runs {
        let name = format!("{} ({}) #{}", r.path, r.ip.name(), r.iteration + 1);
        let _ = write!(
            out,
            "    <testcase classname=\"tcpcheck\" name=\"{}\" time=\"{:.3}\"",
            xml(&name),
            r.duration.as_secs_f64()
        );
        match &r.verdict {
            Verdict::Pass => out.push_str("/>\n"),
            Verdict::Fail(d) => {
                let _ = write!(
                    out,
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                    xml(&format!("line {}: {}", d.line, d.message)),
                    xml(&r.describe())
                );
            }
            Verdict::Error(e) => {
                let _ = write!(
                    out,
                    ">\n      <error message=\"{}\">{}</error>\n    </testcase>\n",
                    xml(e.lines().next().unwrap_or("")),
                    xml(e)
                );
            }
            Verdict::Interrupted => out.push_str(
                ">\n      <skipped message=\"interrupted (Ctrl-C)\"/>\n    </testcase>\n",
            ),
            Verdict::NotApplicable { needs, .. } => {
                let _ = write!(
                    out,
                    ">\n      <skipped message=\"not applicable (needs {})\"/>\n    </testcase>\n",
                    xml(needs.name())
                );
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// `dir/name.pkt` run 2 on IPv6 → `dir_name-ipv6-2.pcapng`.
pub fn pcap_name(r: &ScenarioRun) -> String {
    let stem: String = r
        .path
        .trim_start_matches("./")
        .trim_end_matches(".pkt")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{stem}-{}-{}.pcapng", r.ip.name(), r.iteration + 1)
}

/// Writes report.json, report.md, report.html, junit.xml and one pcapng per run into `dir`.
pub fn write_dir(dir: &Path, runs: &[ScenarioRun]) -> io::Result<Vec<PathBuf>> {
    write_dir_with(dir, runs, &Extra::default())
}

/// A section a caller computed from the same runs (the stack's scorecard), for report.md
/// and report.html, placed after the summary table. The report knows nothing of what it
/// says, so the runner does not depend on the requirement matrix that computes it.
#[derive(Clone, Debug, Default)]
pub struct Extra {
    /// Markdown, starting with its own `##` heading.
    pub markdown: String,
    /// An HTML fragment (escaped by its maker), starting with its own `<h2>`.
    pub html: String,
}

/// [`write_dir`] with `extra` in report.md and report.html.
pub fn write_dir_with(dir: &Path, runs: &[ScenarioRun], extra: &Extra) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut put = |name: &str, body: String| -> io::Result<()> {
        let p = dir.join(name);
        std::fs::write(&p, body)?;
        written.push(p);
        Ok(())
    };
    put(
        "report.json",
        serde_json::to_string_pretty(&json(runs)).expect("JSON values serialise") + "\n",
    )?;
    let sources = Sources::load(runs);
    put(
        "report.md",
        with_extra_md(markdown_with(runs, &sources), &extra.markdown),
    )?;
    put(
        "report.html",
        html_with(runs, &sources, "tcpcheck run", &[], &extra.html),
    )?;
    put("ladders.txt", ladders(runs))?;
    put("junit.xml", junit(runs))?;
    for r in runs {
        let p = dir.join(pcap_name(r));
        write_pcapng_marked(&r.trace, &marks(r), BufWriter::new(File::create(&p)?))?;
        written.push(p);
    }
    Ok(written)
}
