//! report.html: the batch for a person, in one file that opens anywhere (no script, no
//! stylesheet or font fetched from anywhere). The summary table links to each run; a run
//! shows its verdict, the first divergence (the script line, what was expected, what the
//! stack did, the rule), its ladder as SVG with the states and the divergence's rows shaded,
//! and a time plot of every retransmission series against the model's schedule.
//!
//! Every text that comes from a run or a script is escaped: a script can hold any bytes.

use std::fmt::Write as _;

use super::ladders::Sources;
use super::{model_agrees_with_stack, model_texts, plot, schedules, summary, MODEL_AGREES};
use crate::differ::ModelVerdict;
use crate::runner::ladder::svg::{escape, ladder_svg, Highlight};
use crate::runner::{ScenarioRun, Verdict};

const STYLE: &str = "\
body{font-family:sans-serif;margin:1.5em;color:#111}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}\
tr.fail td,tr.error td{background:#fde}tr.diverge td{background:#ffe9c6}\
pre{background:#f6f6f6;padding:6px;overflow-x:auto}\
section.run{border-top:2px solid #888;margin-top:2em}\
.divergence-box{border:2px solid #c00;background:#fff3f3;padding:6px 10px;margin:8px 0}\
.divergence-box dt{font-weight:bold}.divergence-box dd{margin:0 0 4px 1.5em;font-family:monospace}\
.ladder-wrap,.plot-wrap{overflow-x:auto}\
.intro dt{font-weight:bold}.intro dd{font-family:monospace;margin:0 0 6px 1.5em}\
.pass{color:#070}.fail,.error{color:#b00}\
table.card td{vertical-align:top}";

/// What is wrong in a run, as the page shows it.
struct Shown {
    whose: &'static str,
    line: u32,
    expected: String,
    actual: String,
    rule: String,
}

/// The script's failure first, then the model's divergence when it is on another line.
fn divergences(r: &ScenarioRun) -> Vec<Shown> {
    let mut out = Vec::new();
    if let Verdict::Fail(d) = &r.verdict {
        let rule = match &r.model {
            _ if model_agrees_with_stack(r) => MODEL_AGREES.to_string(),
            ModelVerdict::Diverge(m) => format!("the model: {}", m.rule_named()),
            ModelVerdict::Agree => "the model has no rule on what this line checks".into(),
            ModelVerdict::Off(why) => format!("the model is off ({why})"),
        };
        out.push(Shown {
            whose: if r.is_builtin() {
                "the check"
            } else {
                "the script"
            },
            line: d.line,
            expected: d.expected.clone(),
            actual: format!("{}: {}", d.message, d.actual),
            rule,
        });
    }
    if let ModelVerdict::Diverge(m) = &r.model {
        if out.first().is_none_or(|s| s.line != m.line) {
            let (expected, actual) = model_texts(&r.trace, m);
            out.push(Shown {
                whose: "the model",
                line: m.line,
                expected,
                actual,
                rule: m.rule_named(),
            });
        }
    }
    out
}

/// The page for `runs`; `title` heads it, and `intro`'s pairs (a name, its text) come
/// first, as a list (an explorer bundle's finding).
pub fn html(
    runs: &[ScenarioRun],
    sources: &Sources,
    title: &str,
    intro: &[(&str, String)],
) -> String {
    html_with(runs, sources, title, intro, "")
}

/// [`html`] with `extra`, an HTML fragment its maker escaped (the stack's scorecard), after
/// the summary table.
pub fn html_with(
    runs: &[ScenarioRun],
    sources: &Sources,
    title: &str,
    intro: &[(&str, String)],
    extra: &str,
) -> String {
    let s = summary(runs);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title),
    );
    if !intro.is_empty() {
        out.push_str("<dl class=\"intro\">");
        for (name, text) in intro {
            let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(name), escape(text));
        }
        out.push_str("</dl>\n");
    }
    let _ = writeln!(out, "<p>{}</p>", escape(&s.line()));
    out.push_str(
        "<table class=\"summary\"><tr><th>scenario</th><th>ip</th><th>verdict</th>\
         <th>model</th><th>ms</th></tr>\n",
    );
    for (i, r) in runs.iter().enumerate() {
        let class = match (&r.verdict, &r.model) {
            (Verdict::Pass, ModelVerdict::Diverge(_)) => "diverge",
            (v, _) => v.name(),
        };
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td><a href=\"#run-{i}\">{}</a></td><td>{}</td>\
             <td class=\"{}\">{}</td><td>{}</td><td>{:.1}</td></tr>",
            escape(&r.path),
            r.ip.name(),
            r.verdict.name(),
            r.verdict.name(),
            r.model.name(),
            r.duration.as_secs_f64() * 1e3
        );
    }
    out.push_str("</table>\n");
    out.push_str(extra);
    for (i, r) in runs.iter().enumerate() {
        run_section(&mut out, i, r, sources);
    }
    out.push_str("</body></html>\n");
    out
}

fn run_section(out: &mut String, i: usize, r: &ScenarioRun, sources: &Sources) {
    let _ = write!(
        out,
        "<section class=\"run\" id=\"run-{i}\"><h2>{} ({}, run {})</h2>\n<pre>{}</pre>\n",
        escape(&r.path),
        r.ip.name(),
        r.iteration + 1,
        escape(&r.describe())
    );
    let shown = divergences(r);
    for d in &shown {
        // A built-in check has no script line to show.
        let script_line = match r.is_builtin() {
            true => String::new(),
            false => format!(
                "<dt>script line {}</dt><dd>{}</dd>",
                d.line,
                escape(&sources.line(r, d.line).unwrap_or_default())
            ),
        };
        let _ = writeln!(
            out,
            "<div class=\"divergence-box\"><b>First divergence, found by {}</b><dl>\
             {}<dt>expected</dt><dd>{}</dd>\
             <dt>the stack did</dt><dd>{}</dd><dt>rule</dt><dd>{}</dd></dl></div>",
            d.whose,
            script_line,
            escape(&d.expected),
            escape(&d.actual),
            escape(&d.rule)
        );
    }
    match sources.rows(r) {
        Ok(rows) => {
            let highlights: Vec<Highlight> = shown
                .iter()
                .map(|d| Highlight {
                    line: d.line,
                    why: format!(
                        "{}: expected {}, the stack did {} ({})",
                        d.whose, d.expected, d.actual, d.rule
                    ),
                })
                .collect();
            let _ = writeln!(
                out,
                "<h3>Ladder</h3><div class=\"ladder-wrap\">{}</div>",
                ladder_svg(&rows, &highlights, &format!("run-{i}"), r.stack.word())
            );
        }
        Err(why) => {
            let _ = writeln!(out, "<p>No ladder: {}</p>", escape(&why));
        }
    }
    for s in schedules(r) {
        let _ = writeln!(
            out,
            "<h3>Retransmissions: {} {}</h3><pre>{}</pre><div class=\"plot-wrap\">{}</div>",
            escape(&s.segment),
            escape(&s.connection),
            escape(&s.render_for(r.stack)),
            plot::series_svg(&s)
        );
    }
    out.push_str("</section>\n");
}
