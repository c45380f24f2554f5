//! A stack's scorecard: for each requirement, what the scenarios that check it on the wire
//! made of the stack.
//!
//! The matrix says which scenarios check a label (a script's last line names it); running
//! those scenarios against a stack, with the model beside them, gives the label's mark. A
//! script's failure counts against the labels it names; a model divergence counts against a
//! label only when the rule the model cites names it, in whichever scenario it shows: Linux
//! departs from RFC 6298's 1 s RTO floor (the model's MUST-18 rule) in every retransmission
//! scenario, which fails MUST-18 and says nothing about, say, its urgent pointer.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Value};
use tcpcheck_model::rule::{Rule, Source};

use super::{scan::Status, Entry};
use crate::differ::{ModelDivergence, ModelVerdict};
use crate::runner::{ScenarioRun, Verdict};

mod in_report;
pub use in_report::{in_report, InReport};

/// Where the corpus sits, relative to the workspace root; a test naming a path under it is
/// a scenario that checks the label on the wire.
pub const CORPUS_PREFIX: &str = "corpus/scenarios/";

/// What the scenarios of one label made of the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Every scenario that ran passed, and the model found nothing against the label.
    Pass {
        scenarios: Vec<String>,
        /// The model's divergences on other rules in those runs ("scenario: rule"): they
        /// do not count against this label, but the reader should know of them.
        elsewhere: Vec<String>,
    },
    /// A scenario failed, or the model diverged on a rule naming this label.
    Fail {
        scenario: String,
        divergence: String,
    },
    /// Every scenario needs something the stack does not have.
    NotApplicable { scenario: String, needs: String },
    /// A scenario could not run (a harness error): no verdict.
    Error { scenario: String, message: String },
    /// The matrix says the wire cannot show it.
    NotObservable { why: String },
    /// No scenario checks it on the wire (yet): the matrix's status says what else there is,
    /// and the label's note in `notes.tsv` (empty when none) why there is no scenario.
    NoScenario { status: Status, why: String },
}

impl Mark {
    /// The word the text, JSON and reports use.
    pub fn word(&self) -> &'static str {
        match self {
            Mark::Pass { .. } => "pass",
            Mark::Fail { .. } => "fail",
            Mark::NotApplicable { .. } => "not applicable",
            Mark::Error { .. } => "error",
            Mark::NotObservable { .. } => "not observable",
            Mark::NoScenario { .. } => "no scenario",
        }
    }

    /// What follows the word: the evidence.
    pub fn detail(&self) -> String {
        match self {
            Mark::Pass {
                scenarios,
                elsewhere,
            } => {
                let mut s = scenarios.join(", ");
                if !elsewhere.is_empty() {
                    let _ = write!(
                        s,
                        " (the model diverged on other rules: {})",
                        elsewhere.join("; ")
                    );
                }
                s
            }
            Mark::Fail {
                scenario,
                divergence,
            } => format!("{scenario}: {divergence}"),
            Mark::NotApplicable { scenario, needs } => format!("{scenario} needs {needs}"),
            Mark::Error { scenario, message } => format!("{scenario}: {message}"),
            Mark::NotObservable { why } => why.clone(),
            Mark::NoScenario { status, why } if why.is_empty() => {
                format!("matrix status: {status}")
            }
            Mark::NoScenario { status, why } => format!("matrix status: {status}; {why}"),
        }
    }
}

/// One row of the card.
#[derive(Clone, Debug)]
pub struct Row {
    pub id: &'static str,
    pub level: &'static str,
    pub feature: &'static str,
    pub mark: Mark,
}

/// The scenarios (paths relative to the workspace root) that check `entry` on the wire, then
/// the built-in checks that give its verdict (`builtin/NAME`, see [`super::builtin`]).
pub fn scenarios_of(entry: &Entry) -> impl Iterator<Item = &'static str> + '_ {
    entry
        .tests
        .iter()
        .copied()
        .filter(|t| t.starts_with(CORPUS_PREFIX))
        .chain(super::builtin::of_label(entry.id))
}

/// Whether `rule` is the requirement `entry`: an RFC 9293 rule naming its label, or for the
/// other RFCs' rows ("RFC 6298 2.4") a rule from that RFC and section.
fn rule_is(rule: &Rule, entry: &Entry) -> bool {
    if let Some(rest) = entry.id.strip_prefix("RFC ") {
        let mut parts = rest.splitn(2, ' ');
        let number = parts.next().and_then(|n| n.parse::<u16>().ok());
        let section = parts.next().unwrap_or_default();
        return number.is_some_and(|n| {
            rule.source == Source::Rfc(n)
                && (rule.section == section
                    || rule
                        .section
                        .strip_prefix(section)
                        .is_some_and(|r| r.starts_with('.')))
        });
    }
    rule.source == Source::Rfc(9293) && rule.labels.iter().any(|l| l.to_string() == entry.id)
}

/// The first line of a failing run's description after its heading: `path:line: message`,
/// then what the script and the stack did.
fn failure_text(run: &ScenarioRun) -> String {
    // A built-in check has no script line: what the requirement asks, what the stack did.
    if let (true, Verdict::Fail(d)) = (run.path.starts_with(super::builtin::PREFIX), &run.verdict) {
        return format!(
            "{}; expected {}; {}: {}",
            d.message,
            d.expected,
            run.stack.word(),
            d.actual
        );
    }
    run.describe()
        .lines()
        .skip(1)
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A model divergence as the card shows it.
fn model_text(d: &ModelDivergence) -> String {
    format!(
        "line {}: the model ({}) expected {}, the stack: {}",
        d.line,
        d.rule_named(),
        d.expected,
        d.actual
    )
}

/// The mark of `entry` from `runs` (every run of every scenario; `name_of` maps a run's path
/// back to the path the matrix names).
pub fn mark(entry: &Entry, runs: &[ScenarioRun], name_of: &dyn Fn(&str) -> String) -> Mark {
    let wanted: Vec<&str> = scenarios_of(entry).collect();
    let mine: Vec<(String, &ScenarioRun)> = runs
        .iter()
        .map(|r| (name_of(&r.path), r))
        .filter(|(name, _)| wanted.contains(&name.as_str()))
        .collect();
    let label = |name: &str, r: &ScenarioRun| format!("{name} ({})", r.ip.name());
    // A built-in check's pass says what it measured.
    let passed_label = |name: &str, r: &ScenarioRun| match super::builtin::measured(r) {
        Some(m) => format!("{} [{m}]", label(name, r)),
        None => label(name, r),
    };
    let mut passed = Vec::new();
    let mut elsewhere = Vec::new();
    let mut not_applicable = None;
    let mut error = None;
    for (name, r) in &mine {
        match &r.verdict {
            Verdict::Fail(_) => {
                return Mark::Fail {
                    scenario: label(name, r),
                    divergence: failure_text(r),
                }
            }
            Verdict::Pass => match &r.model {
                ModelVerdict::Diverge(d) if rule_is(d.rule, entry) => {
                    return Mark::Fail {
                        scenario: label(name, r),
                        divergence: model_text(d),
                    }
                }
                ModelVerdict::Diverge(d) => {
                    passed.push(passed_label(name, r));
                    elsewhere.push(format!("{name}:{} {}", d.line, d.rule_named()));
                }
                _ => passed.push(passed_label(name, r)),
            },
            Verdict::NotApplicable { needs, .. } => {
                not_applicable.get_or_insert((label(name, r), needs.to_string()));
            }
            Verdict::Error(e) => {
                error.get_or_insert((label(name, r), e.lines().next().unwrap_or("").into()));
            }
            Verdict::Interrupted => {
                error.get_or_insert((label(name, r), "interrupted".into()));
            }
        }
    }
    // Any other run in which the model found the stack departing from this very rule: the
    // scenario was written for another label, but what it showed counts against this one.
    for r in runs {
        if let (Verdict::Pass, ModelVerdict::Diverge(d)) = (&r.verdict, &r.model) {
            if rule_is(d.rule, entry) {
                return Mark::Fail {
                    scenario: label(&name_of(&r.path), r),
                    divergence: model_text(d),
                };
            }
        }
    }
    if wanted.is_empty() {
        return match entry.status {
            Status::NotObservable => Mark::NotObservable {
                why: entry.note.to_string(),
            },
            status => Mark::NoScenario {
                status,
                why: entry.note.to_string(),
            },
        };
    }
    if let Some((scenario, message)) = error {
        return Mark::Error { scenario, message };
    }
    if !passed.is_empty() {
        return Mark::Pass {
            scenarios: passed,
            elsewhere,
        };
    }
    match not_applicable {
        Some((scenario, needs)) => Mark::NotApplicable { scenario, needs },
        None => Mark::Error {
            scenario: wanted.join(", "),
            message: "not run".into(),
        },
    }
}

/// The card of `entries` from `runs`.
pub fn card(
    entries: &[&Entry],
    runs: &[ScenarioRun],
    name_of: &dyn Fn(&str) -> String,
) -> Vec<Row> {
    entries
        .iter()
        .map(|e| Row {
            id: e.id,
            level: e.level,
            feature: e.feature,
            mark: mark(e, runs, name_of),
        })
        .collect()
}

/// How many rows have each mark, in a fixed order.
pub fn tally(rows: &[Row]) -> BTreeMap<&'static str, usize> {
    let mut t = BTreeMap::new();
    for word in WORDS {
        t.insert(word, 0);
    }
    for r in rows {
        *t.entry(r.mark.word()).or_default() += 1;
    }
    t
}

const WORDS: [&str; 6] = [
    "pass",
    "fail",
    "not applicable",
    "error",
    "not observable",
    "no scenario",
];

fn tally_line(rows: &[Row]) -> String {
    let t = tally(rows);
    WORDS
        .iter()
        .map(|w| format!("{} {w}", t[w]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The card's heading line: which stack, which model, and the counts.
pub fn heading(stack: &str, model: &str, rows: &[Row]) -> String {
    format!(
        "Scorecard of {stack} (model {model}): {} requirements: {}",
        rows.len(),
        tally_line(rows)
    )
}

/// A heading, then one line per row: id, mark, feature, evidence.
pub fn render_text(title: &str, rows: &[Row]) -> String {
    let mut out = format!("{title}\n\n");
    let id_width = rows.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in rows {
        let _ = writeln!(
            out,
            "{:<id_width$} {:<14} \"{}\"; {}",
            r.id,
            r.mark.word(),
            r.feature,
            r.mark.detail()
        );
    }
    out
}

/// A JSON object: the stack, the model, the tally and one object per row.
pub fn render_json(stack: &str, model: &str, rows: &[Row]) -> Value {
    let counts = tally(rows);
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = json!({
                "id": r.id,
                "level": r.level,
                "feature": r.feature,
                "mark": r.mark.word(),
                "detail": r.mark.detail(),
            });
            match &r.mark {
                Mark::Pass {
                    scenarios,
                    elsewhere,
                } => {
                    v["scenarios"] = json!(scenarios);
                    v["model_elsewhere"] = json!(elsewhere);
                }
                Mark::Fail {
                    scenario,
                    divergence,
                } => {
                    v["scenario"] = json!(scenario);
                    v["divergence"] = json!(divergence);
                }
                Mark::NotApplicable { scenario, needs } => {
                    v["scenario"] = json!(scenario);
                    v["needs"] = json!(needs);
                }
                Mark::Error { scenario, message } => {
                    v["scenario"] = json!(scenario);
                    v["error"] = json!(message);
                }
                Mark::NotObservable { why } => v["why"] = json!(why),
                Mark::NoScenario { status, why } => {
                    v["matrix_status"] = json!(status.as_str());
                    if !why.is_empty() {
                        v["why"] = json!(why);
                    }
                }
            }
            v
        })
        .collect();
    json!({
        "stack": stack,
        "model": model,
        "tally": counts,
        "rows": rows,
    })
}

/// A Markdown table.
pub fn render_markdown(title: &str, rows: &[Row]) -> String {
    format!("# {}\n\n{}", md_cell(title), markdown_table(rows))
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The card's rows as a Markdown table.
pub fn markdown_table(rows: &[Row]) -> String {
    let mut out =
        String::from("| label | level | mark | requirement | evidence |\n|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            r.id,
            md_cell(r.level),
            r.mark.word(),
            md_cell(r.feature),
            md_cell(&r.mark.detail())
        );
    }
    out
}

/// An HTML page: the same table, each row coloured by its mark.
pub fn render_html(title: &str, rows: &[Row]) -> String {
    let esc = crate::runner::ladder::svg::escape;
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 6px;vertical-align:top}}\
         .pass{{background:#e6f4e6}}.fail{{background:#f8dada}}.error{{background:#f8ecd0}}\
         .na{{background:#eee}}</style></head><body>\n<h1>{t}</h1>\n{}</body></html>\n",
        html_table(rows),
        t = esc(title)
    )
}

/// The card's rows as an HTML table (every text escaped), each row's class its mark's:
/// `pass`, `fail`, `error` or `na`.
pub fn html_table(rows: &[Row]) -> String {
    let esc = crate::runner::ladder::svg::escape;
    let mut out = String::from(
        "<table class=\"card\"><tr><th>label</th><th>level</th><th>mark</th>\
         <th>requirement</th><th>evidence</th></tr>\n",
    );
    for r in rows {
        let class = match r.mark {
            Mark::Pass { .. } => "pass",
            Mark::Fail { .. } => "fail",
            Mark::Error { .. } => "error",
            _ => "na",
        };
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(r.id),
            esc(r.level),
            esc(r.mark.word()),
            esc(r.feature),
            esc(&r.mark.detail())
        );
    }
    out.push_str("</table>\n");
    out
}
