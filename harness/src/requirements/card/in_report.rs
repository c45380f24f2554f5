//! The stack's scorecard inside a run's own report (report.md, report.html), computed from
//! the runs of that report: a reader of one run sees, label by label, what those scenarios
//! made of the stack, without a second run of `requirements --stack`.
//!
//! A run need not hold the whole corpus. A label is on the card when one of its scenarios
//! ran (or a run's model divergence names it), or when no scenario could ever show it (not
//! observable, or none written yet); a label whose scenarios were all left out of the run
//! is left off the card, and the heading counts it, rather than showing it as an error.

use std::fmt::Write as _;

use super::{card, heading, mark, markdown_table, scenarios_of, Mark, Row, CORPUS_PREFIX};
use crate::requirements::{Entry, OTHER_REQUIREMENTS, REQUIREMENTS};
use crate::runner::report::Extra;
use crate::runner::ScenarioRun;

/// The card of one run.
#[derive(Clone, Debug)]
pub struct InReport {
    pub title: String,
    pub rows: Vec<Row>,
    /// Labels with scenarios, none of which this run held.
    pub left_out: usize,
}

impl InReport {
    /// The card as the report's extra section.
    pub fn extra(&self) -> Extra {
        let esc = crate::runner::ladder::svg::escape;
        let mut markdown = format!("## Scorecard\n\n{}\n\n", self.title);
        markdown.push_str(&markdown_table(&self.rows));
        let mut html = format!(
            "<section class=\"scorecard\" id=\"scorecard\"><h2>Scorecard</h2>\n<p>{}</p>\n",
            esc(&self.title)
        );
        html.push_str(&super::html_table(&self.rows));
        html.push_str("</section>\n");
        Extra { markdown, html }
    }
}

/// A run's path as the matrix names scenarios: from `corpus/scenarios/` on, whatever
/// directory the run was started from.
fn corpus_name(path: &str) -> String {
    match path.find(CORPUS_PREFIX) {
        Some(i) => path[i..].to_string(),
        None => path.to_string(),
    }
}

/// The card of `runs` against `stack` with the `model` beside them, or `None` when no run
/// is a scenario that checks a label (scripts outside the corpus).
pub fn in_report(runs: &[ScenarioRun], stack: &str, model: &str) -> Option<InReport> {
    let names: Vec<String> = runs.iter().map(|r| corpus_name(&r.path)).collect();
    let ran = |e: &Entry| scenarios_of(e).any(|s| names.iter().any(|n| n == s));
    let all: Vec<&Entry> = REQUIREMENTS.iter().chain(OTHER_REQUIREMENTS).collect();
    if !all.iter().any(|e| ran(e)) {
        return None;
    }
    let name_of = |p: &str| corpus_name(p);
    let mut kept = Vec::new();
    let mut left_out = 0;
    for e in all {
        let has_scenarios = scenarios_of(e).next().is_some();
        if has_scenarios && !ran(e) && !matches!(mark(e, runs, &name_of), Mark::Fail { .. }) {
            left_out += 1;
            continue;
        }
        kept.push(e);
    }
    let rows = card(&kept, runs, &name_of);
    let mut title = heading(stack, model, &rows);
    if left_out > 0 {
        let _ = write!(
            title,
            " ({left_out} labels left out: this run held none of their scenarios)"
        );
    }
    Some(InReport {
        title,
        rows,
        left_out,
    })
}
