//! Builds the requirement matrix from the workspace's sources, with nothing but std.
//!
//! `harness/build.rs` includes this file by `#[path]` to generate the static table at build
//! time, and the library exposes it as `tcpcheck::requirements::scan`, so that the tests
//! check the very code that produced the table (a build script cannot be unit-tested).
//!
//! What it reads:
//! - `model/requirements/rfc9293-appendix-b.tsv`, the 119 labels of RFC 9293 Appendix B;
//! - `model/requirements/other-rfcs.tsv`, the requirements of RFC 2018, 5961, 6298, 7323 and 7413
//!   the sources cite, one row per section (those RFCs label none), in the same form; any
//!   comment naming such a section is a citation of its row;
//! - citations in comments of `model/src` and `harness/src`: the words "RFC 9293", a section
//!   number, a colon and one or more labels separated by commas (see `citations`);
//! - test functions in `model/tests`, `harness/tests` and the `#[cfg(test)]` modules of the
//!   source trees, with the labels their comments mention (see `test_fns`);
//! - the scenarios of `corpus/scenarios` (run on the kernel by `harness/tests/scenarios.rs`),
//!   with the labels their comments cite in the same form: a scenario that cites a label
//!   checks it on the wire, and counts as its test;
//! - `model/requirements/notes.tsv`, the hand-kept notes.
//!
//! Only comments count, never string literals: a test that asserts on the text of a label
//! (as the matrix's own tests do) does not thereby exercise the requirement.
//!
//! This file joins the inputs into rows; `tables` reads the two TSV files, `citations` and
//! `test_fns` read the Rust sources, through the small lexer in `lex`.

mod citations;
mod lex;
mod tables;
mod test_fns;

pub use citations::{
    citations, other_citations, other_scenario_citations, other_sections_in, rule_citations,
    scenario_citations, Citation, OTHER_RFCS,
};
pub use tables::{parse_appendix, parse_notes, parse_other_rfcs, Note, NoteKind};
pub use test_fns::{test_fns, TestFn};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use tables::notes_and_errors;

/// Where the labels of Appendix B live, relative to the workspace root.
pub const APPENDIX_PATH: &str = "model/requirements/rfc9293-appendix-b.tsv";
/// Where the rows of the other RFCs the model cites live, relative to the workspace root.
pub const OTHER_PATH: &str = "model/requirements/other-rfcs.tsv";
/// Where the hand-kept notes live, relative to the workspace root.
pub const NOTES_PATH: &str = "model/requirements/notes.tsv";
/// Trees whose comments may cite requirements (and may hold `#[cfg(test)]` modules).
pub const CODE_DIRS: [&str; 2] = ["model/src", "harness/src"];
/// Trees holding integration tests.
pub const TEST_DIRS: [&str; 2] = ["model/tests", "harness/tests"];
/// Scenarios (`.pkt`) whose comments name the labels they check.
pub const SCENARIO_DIR: &str = "corpus/scenarios";
/// Everything the matrix depends on, for `cargo:rerun-if-changed`.
pub const INPUT_DIRS: [&str; 6] = [
    "model/src",
    "model/tests",
    "harness/src",
    "harness/tests",
    "model/requirements",
    SCENARIO_DIR,
];

/// The label prefixes of RFC 9293, in the order Appendix B's summary counts them.
pub const LABEL_KINDS: [&str; 4] = ["MUST", "SHLD", "MAY", "REC"];

/// One row of Appendix B.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub id: String,
    pub level: String,
    pub group: String,
    pub feature: String,
    pub section: String,
}

/// A file's text under its path relative to the workspace root ('/'-separated), which is how
/// locations are reported.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// How far a requirement is covered, best first: a test beats a citation, which beats a note
/// saying the wire cannot show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Tested,
    Implemented,
    NotObservable,
    Missing,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Tested,
        Status::Implemented,
        Status::NotObservable,
        Status::Missing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Tested => "tested",
            Status::Implemented => "implemented",
            Status::NotObservable => "not-observable",
            Status::Missing => "missing",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One requirement with what the sources say about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub requirement: Requirement,
    pub status: Status,
    /// "path:line" of each citation.
    pub locations: Vec<String>,
    /// "path::fn" of each test, and the path of each scenario that checks it.
    pub tests: Vec<String>,
    pub note: String,
}

/// A problem in the inputs, at "path:line".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub at: String,
    pub message: String,
}

impl Error {
    fn new(path: &str, line: usize, message: impl Into<String>) -> Self {
        Error {
            at: format!("{path}:{line}"),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// Reads the inputs under the workspace root and builds the matrix.
pub fn matrix_at(root: &Path) -> Result<Vec<Row>, Vec<Error>> {
    let read = |path: &str| {
        fs::read_to_string(root.join(path))
            .map(|text| SourceFile::new(path, text))
            .map_err(|e| vec![Error::new(path, 0, format!("cannot read: {e}"))])
    };
    let appendix = read(APPENDIX_PATH)?;
    let other = read(OTHER_PATH)?;
    let notes = read(NOTES_PATH)?;
    let mut code = Vec::new();
    let mut tests = Vec::new();
    for (dirs, into) in [(&CODE_DIRS, &mut code), (&TEST_DIRS, &mut tests)] {
        for dir in dirs {
            let paths = rust_files(root, dir)
                .map_err(|e| vec![Error::new(dir, 0, format!("cannot list: {e}"))])?;
            for path in paths {
                into.push(read(&path)?);
            }
        }
    }
    // Source trees hold `#[cfg(test)]` modules too.
    tests.extend(code.iter().cloned());
    let mut scenarios = Vec::new();
    for path in files_with(root, SCENARIO_DIR, ".pkt")
        .map_err(|e| vec![Error::new(SCENARIO_DIR, 0, format!("cannot list: {e}"))])?
    {
        scenarios.push(read(&path)?);
    }
    matrix_with_scenarios(&appendix, Some(&other), &notes, &code, &tests, &scenarios)
}

/// The `.rs` files under `root/dir`, recursively, as sorted workspace-relative paths so that
/// the table comes out the same on every machine.
pub fn rust_files(root: &Path, dir: &str) -> io::Result<Vec<String>> {
    files_with(root, dir, ".rs")
}

/// The files under `root/dir` whose names end in `ext`, as [`rust_files`] lists them.
pub fn files_with(root: &Path, dir: &str, ext: &str) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_string()];
    while let Some(dir) = pending.pop() {
        let full = root.join(&dir);
        if !full.is_dir() {
            continue;
        }
        for entry in fs::read_dir(&full)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("{dir}/{name}");
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else if name.ends_with(ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Builds the matrix: `code` is searched for citations, `tests` for test functions. Every
/// problem is reported, not only the first, so that one build shows all of them.
pub fn matrix(
    appendix: &SourceFile,
    notes: &SourceFile,
    code: &[SourceFile],
    tests: &[SourceFile],
) -> Result<Vec<Row>, Vec<Error>> {
    matrix_with_scenarios(appendix, None, notes, code, tests, &[])
}

/// [`matrix`], with the rows of the other RFCs (after Appendix B's; without them their
/// sections are not looked for) and the scenarios whose citations count as tests.
pub fn matrix_with_scenarios(
    appendix: &SourceFile,
    other: Option<&SourceFile>,
    notes: &SourceFile,
    code: &[SourceFile],
    tests: &[SourceFile],
    scenarios: &[SourceFile],
) -> Result<Vec<Row>, Vec<Error>> {
    let mut requirements = parse_appendix(appendix)?;
    if let Some(other) = other {
        requirements.extend(parse_other_rfcs(other)?);
    }
    let mut errors = Vec::new();
    let no_row = |c: &Citation| Error {
        at: c.at.clone(),
        message: format!("names {}, which {OTHER_PATH} has no row for", c.label),
    };
    let index: BTreeMap<&str, usize> = requirements
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut locations = vec![Vec::<String>::new(); requirements.len()];
    let mut tested_by = vec![Vec::<String>::new(); requirements.len()];
    let mut reasons = vec![Vec::<String>::new(); requirements.len()];
    let mut texts = vec![Vec::<String>::new(); requirements.len()];

    for file in code {
        for citation in citations(file) {
            match index.get(citation.label.as_str()) {
                Some(&i) => {
                    if let Some(error) = wrong_section(&citation, &requirements[i]) {
                        errors.push(error);
                    }
                    push_unique(&mut locations[i], citation.at)
                }
                None => errors.push(undefined(&citation)),
            }
        }
    }

    // A rule string names its label too: the same section check, and the same error for a
    // label Appendix B does not define.
    for file in code {
        for citation in rule_citations(file) {
            match index.get(citation.label.as_str()) {
                Some(&i) => errors.extend(wrong_section(&citation, &requirements[i])),
                None => errors.push(undefined(&citation)),
            }
        }
    }

    if other.is_some() {
        for file in code {
            for citation in other_citations(file) {
                match index.get(citation.label.as_str()) {
                    Some(&i) => push_unique(&mut locations[i], citation.at),
                    None => errors.push(no_row(&citation)),
                }
            }
        }
    }

    let mut all_tests = BTreeSet::new();
    for file in tests {
        for test in test_fns(file) {
            for (label, line) in &test.labels {
                if other.is_none() && label.starts_with("RFC ") {
                    continue;
                }
                match index.get(label.as_str()) {
                    Some(&i) => push_unique(&mut tested_by[i], test.name.clone()),
                    None if label.starts_with("RFC ") => errors.push(Error::new(
                        &file.path,
                        *line,
                        format!(
                            "{} mentions {label}, which {OTHER_PATH} has no row for",
                            test.name
                        ),
                    )),
                    None => errors.push(Error::new(
                        &file.path,
                        *line,
                        format!(
                            "{} mentions {label}, which RFC 9293 Appendix B does not define",
                            test.name
                        ),
                    )),
                }
            }
            all_tests.insert(test.name);
        }
    }

    // A scenario checks on the wire each label it cites; its citations are held to the
    // same section check as the code's.
    for file in scenarios {
        for citation in scenario_citations(file) {
            match index.get(citation.label.as_str()) {
                Some(&i) => {
                    errors.extend(wrong_section(&citation, &requirements[i]));
                    push_unique(&mut tested_by[i], file.path.clone());
                }
                None => errors.push(undefined(&citation)),
            }
        }
    }

    if other.is_some() {
        for file in scenarios {
            for citation in other_scenario_citations(file) {
                match index.get(citation.label.as_str()) {
                    Some(&i) => push_unique(&mut tested_by[i], file.path.clone()),
                    None => errors.push(no_row(&citation)),
                }
            }
        }
    }

    let (notes, mut note_errors) = notes_and_errors(notes);
    errors.append(&mut note_errors);
    for note in notes {
        let Some(&i) = index.get(note.id.as_str()) else {
            errors.push(Error::new(
                &note.path,
                note.line,
                format!("{} is not a label of RFC 9293 Appendix B", note.id),
            ));
            continue;
        };
        match note.kind {
            NoteKind::NotObservable => reasons[i].push(note.text),
            NoteKind::Note => texts[i].push(note.text),
            NoteKind::Test => {
                if all_tests.contains(&note.text) {
                    push_unique(&mut tested_by[i], note.text);
                } else {
                    errors.push(Error::new(
                        &note.path,
                        note.line,
                        format!(
                            "names test {}, but no test function of that name exists \
                             (write it as path::fn, e.g. harness/tests/x.rs::name)",
                            note.text
                        ),
                    ));
                }
            }
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(requirements
        .into_iter()
        .enumerate()
        .map(|(i, requirement)| {
            let status = if !tested_by[i].is_empty() {
                Status::Tested
            } else if !locations[i].is_empty() {
                Status::Implemented
            } else if !reasons[i].is_empty() {
                Status::NotObservable
            } else {
                Status::Missing
            };
            let mut note: Vec<String> = std::mem::take(&mut reasons[i]);
            note.append(&mut texts[i]);
            Row {
                requirement,
                status,
                locations: std::mem::take(&mut locations[i]),
                tests: std::mem::take(&mut tested_by[i]),
                note: note.join("; "),
            }
        })
        .collect())
}

/// A citation must name the section that defines its label (Appendix B's section column,
/// one of several when the body labels it in more than one place). Citing SHLD-2 under
/// section 3.6 for the half-duplex close's RST, which 3.6.1 labels SHLD-3 (SHLD-2 is 3.5.3's
/// "RST can contain data"), was a wrong label that the label alone could not show.
/// A citation of a label Appendix B does not define.
fn undefined(citation: &Citation) -> Error {
    Error {
        at: citation.at.clone(),
        message: format!(
            "cites {} (RFC 9293 {}), which RFC 9293 Appendix B does not define",
            citation.label, citation.section
        ),
    }
}

fn wrong_section(citation: &Citation, requirement: &Requirement) -> Option<Error> {
    let own: Vec<&str> = requirement.section.split(',').map(str::trim).collect();
    if own.contains(&citation.section.as_str()) {
        return None;
    }
    Some(Error {
        at: citation.at.clone(),
        message: format!(
            "cites RFC 9293 {}: {}, but Appendix B defines {} in section {} ({}: {})",
            citation.section,
            citation.label,
            citation.label,
            own.join(" or "),
            requirement.group,
            requirement.feature
        ),
    })
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}
