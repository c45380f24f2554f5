//! Builds the requirement matrix from the workspace's sources, with nothing but std.
//!
//! `harness/build.rs` includes this file by `#[path]` to generate the static table at build
//! time, and the library exposes it as `tcpcheck::requirements::scan`, so that the tests
//! check the very code that produced the table (a build script cannot be unit-tested).
//!
//! What it reads:
//! - `model/requirements/rfc9293-appendix-b.tsv`, the 119 labels of RFC 9293 Appendix B;
//! - citations in comments of `model/src` and `harness/src`: the words "RFC 9293", a section
//!   number, a colon and one or more labels separated by commas (see `citations`);
//! - test functions in `model/tests`, `harness/tests` and the `#[cfg(test)]` modules of the
//!   source trees, with the labels their comments mention (see `test_fns`);
//! - `model/requirements/notes.tsv`, the hand-kept notes.
//!
//! Only comments count, never string literals: a test that asserts on the text of a label
//! (as the matrix's own tests do) does not thereby exercise the requirement.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

/// Where the labels of Appendix B live, relative to the workspace root.
pub const APPENDIX_PATH: &str = "model/requirements/rfc9293-appendix-b.tsv";
/// Where the hand-kept notes live, relative to the workspace root.
pub const NOTES_PATH: &str = "model/requirements/notes.tsv";
/// Trees whose comments may cite requirements (and may hold `#[cfg(test)]` modules).
pub const CODE_DIRS: [&str; 2] = ["model/src", "harness/src"];
/// Trees holding integration tests.
pub const TEST_DIRS: [&str; 2] = ["model/tests", "harness/tests"];
/// Everything the matrix depends on, for `cargo:rerun-if-changed`.
pub const INPUT_DIRS: [&str; 5] = [
    "model/src",
    "model/tests",
    "harness/src",
    "harness/tests",
    "model/requirements",
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
    /// "path::fn" of each test.
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
    matrix(&appendix, &notes, &code, &tests)
}

/// The `.rs` files under `root/dir`, recursively, as sorted workspace-relative paths so that
/// the table comes out the same on every machine.
pub fn rust_files(root: &Path, dir: &str) -> io::Result<Vec<String>> {
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
            } else if name.ends_with(".rs") {
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
    let requirements = parse_appendix(appendix)?;
    let mut errors = Vec::new();
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
                Some(&i) => push_unique(&mut locations[i], citation.at),
                None => errors.push(Error {
                    at: citation.at,
                    message: format!(
                        "cites {} (RFC 9293 {}), which RFC 9293 Appendix B does not define",
                        citation.label, citation.section
                    ),
                }),
            }
        }
    }

    let mut all_tests = BTreeSet::new();
    for file in tests {
        for test in test_fns(file) {
            for (label, line) in &test.labels {
                match index.get(label.as_str()) {
                    Some(&i) => push_unique(&mut tested_by[i], test.name.clone()),
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

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// Parses the Appendix B table: '#' lines are comments, then a header line, then one row per
/// label with exactly five tab-separated columns.
pub fn parse_appendix(file: &SourceFile) -> Result<Vec<Requirement>, Vec<Error>> {
    const HEADER: &str = "id\tlevel\tgroup\tfeature\tsection";
    let mut errors = Vec::new();
    let mut out: Vec<Requirement> = Vec::new();
    let mut header = false;
    for (n, line) in file.text.lines().enumerate() {
        let n = n + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !header {
            if line != HEADER {
                errors.push(Error::new(
                    &file.path,
                    n,
                    format!("expected the header line {HEADER:?}"),
                ));
            }
            header = true;
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [id, level, group, feature, section] = fields[..] else {
            errors.push(Error::new(
                &file.path,
                n,
                format!("expected 5 tab-separated columns, found {}", fields.len()),
            ));
            continue;
        };
        if parse_label(id, 0) != Some(id.len()) {
            errors.push(Error::new(&file.path, n, format!("{id:?} is not a label")));
        } else if out.iter().any(|r| r.id == id) {
            errors.push(Error::new(&file.path, n, format!("{id} is listed twice")));
        }
        out.push(Requirement {
            id: id.to_string(),
            level: level.to_string(),
            group: group.to_string(),
            feature: feature.to_string(),
            section: section.to_string(),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The kinds of row in the notes file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKind {
    NotObservable,
    Note,
    Test,
}

/// One row of the notes file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub id: String,
    pub kind: NoteKind,
    pub text: String,
    pub path: String,
    pub line: usize,
}

/// Parses the notes file: '#' lines are comments, each other line is id, kind and text,
/// tab-separated. Whether ids and tests exist is checked by `matrix`, which knows them.
pub fn parse_notes(file: &SourceFile) -> Result<Vec<Note>, Vec<Error>> {
    let (notes, errors) = notes_and_errors(file);
    if errors.is_empty() {
        Ok(notes)
    } else {
        Err(errors)
    }
}

/// The well-formed rows and the errors of the others, so that `matrix` can check the former
/// and still report all problems at once.
fn notes_and_errors(file: &SourceFile) -> (Vec<Note>, Vec<Error>) {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (n, line) in file.text.lines().enumerate() {
        let n = n + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.splitn(3, '\t').collect();
        let [id, kind, text] = fields[..] else {
            errors.push(Error::new(&file.path, n, "expected id<TAB>kind<TAB>text"));
            continue;
        };
        let kind = match kind {
            "not-observable" => NoteKind::NotObservable,
            "note" => NoteKind::Note,
            "test" => NoteKind::Test,
            other => {
                errors.push(Error::new(
                    &file.path,
                    n,
                    format!("unknown kind {other:?} (not-observable, note or test)"),
                ));
                continue;
            }
        };
        let text = text.trim();
        if text.is_empty() {
            errors.push(Error::new(&file.path, n, "empty text"));
            continue;
        }
        out.push(Note {
            id: id.trim().to_string(),
            kind,
            text: text.to_string(),
            path: file.path.clone(),
            line: n,
        });
    }
    (out, errors)
}

/// One label cited in a comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Citation {
    pub label: String,
    pub section: String,
    /// "path:line".
    pub at: String,
}

/// The citations in a file's comments: "RFC 9293", a section number (a '§' before it is
/// allowed), a colon, then labels separated by commas or "and". A colon followed by prose,
/// as in a comment quoting what section 3.1 says, is no citation.
pub fn citations(file: &SourceFile) -> Vec<Citation> {
    let mut out = Vec::new();
    for token in lex(&file.text) {
        let Tok::Comment(text) = &token.tok else {
            continue;
        };
        let mut from = 0;
        while let Some(pos) = text[from..].find("RFC 9293") {
            let start = from + pos;
            from = start + "RFC 9293".len();
            let Some((section, labels)) = parse_citation(&text[from..]) else {
                continue;
            };
            let line = token.line + text[..start].matches('\n').count();
            for label in labels {
                out.push(Citation {
                    label,
                    section: section.clone(),
                    at: format!("{}:{line}", file.path),
                });
            }
        }
    }
    out
}

/// Parses what follows "RFC 9293" in a citation: the section and the labels.
fn parse_citation(s: &str) -> Option<(String, Vec<String>)> {
    let rest = s.strip_prefix([' ', '\t'])?.trim_start();
    let rest = rest.strip_prefix('§').unwrap_or(rest);
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let section = rest[..end].trim_end_matches('.');
    if !section.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut rest = rest[end..].strip_prefix(':')?;
    let mut labels = Vec::new();
    loop {
        let trimmed = rest.trim_start();
        let Some(len) = parse_label(trimmed, 0) else {
            break;
        };
        labels.push(trimmed[..len].to_string());
        rest = trimmed[len..].trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("and ") {
            rest = r;
        } else {
            break;
        }
    }
    if labels.is_empty() {
        None
    } else {
        Some((section.to_string(), labels))
    }
}

/// The length of the label (like "MUST-7") starting at byte `at` of `s`, if one does; it must
/// not run on into a letter or digit.
fn parse_label(s: &str, at: usize) -> Option<usize> {
    let rest = &s[at..];
    for kind in LABEL_KINDS {
        let Some(after) = rest.strip_prefix(kind).and_then(|r| r.strip_prefix('-')) else {
            continue;
        };
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let len = kind.len() + 1 + digits;
        let next = rest[len..].chars().next();
        if digits > 0 && !next.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return Some(len);
        }
    }
    None
}

/// Every label token in `text`, wherever it stands, with its byte offset.
fn labels_in(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        let boundary = !prev.is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '-');
        if boundary && c.is_ascii_uppercase() {
            if let Some(len) = parse_label(text, i) {
                out.push((i, text[i..i + len].to_string()));
            }
        }
        prev = Some(c);
    }
    out
}

/// A test function with the labels its comments mention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestFn {
    /// "path::fn".
    pub name: String,
    /// Each label with the line of the comment that mentions it.
    pub labels: Vec<(String, usize)>,
}

/// The test functions of a file (`#[test]`, which includes those in `proptest!` blocks), each
/// with the labels mentioned in its doc comment, the comments before it, the comments in its
/// body, and likewise for the functions of the same file it calls, transitively: a helper
/// that does the work for the IPv4 and IPv6 variants of a test is where the comment will be.
///
/// A function handed to a macro of the same file whose template writes `#[test] fn $name`
/// (as in `both_families!(passive_close, …)`, which makes a v4 and a v6 test of it) counts as
/// a test under its own name.
pub fn test_fns(file: &SourceFile) -> Vec<TestFn> {
    let tokens = lex(&file.text);
    let mut fns = fn_items(&tokens);
    let made_tests = macro_made_tests(&tokens);
    for f in &mut fns {
        f.is_test |= made_tests.contains(&f.name);
    }
    let by_name: BTreeMap<&str, Vec<usize>> =
        fns.iter()
            .enumerate()
            .fold(BTreeMap::new(), |mut map, (i, f)| {
                map.entry(f.name.as_str()).or_default().push(i);
                map
            });
    let mut out = Vec::new();
    for f in fns.iter().filter(|f| f.is_test) {
        let mut seen = BTreeSet::new();
        let mut queue = vec![f];
        let mut labels = Vec::new();
        while let Some(g) = queue.pop() {
            if !seen.insert(g.start) {
                continue;
            }
            for token in &tokens[g.start..g.end] {
                if let Tok::Comment(text) = &token.tok {
                    for (offset, label) in labels_in(text) {
                        let line = token.line + text[..offset].matches('\n').count();
                        if !labels.iter().any(|(l, _)| *l == label) {
                            labels.push((label, line));
                        }
                    }
                }
            }
            for callee in &g.calls {
                for &i in by_name.get(callee.as_str()).into_iter().flatten() {
                    queue.push(&fns[i]);
                }
            }
        }
        out.push(TestFn {
            name: format!("{}::{}", file.path, f.name),
            labels,
        });
    }
    out
}

/// A `fn` item: its tokens run from its first doc comment or attribute to its closing brace.
struct FnItem {
    name: String,
    is_test: bool,
    start: usize,
    end: usize,
    /// Names followed by '(' in the body, i.e. what it may call.
    calls: BTreeSet<String>,
}

fn fn_items(tokens: &[Token]) -> Vec<FnItem> {
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if token.tok != Tok::Word("fn".into()) {
            continue;
        }
        // `fn(u8)` is a pointer type, `fn $name` a macro's template.
        let Some(Tok::Word(name)) = next_code(tokens, i + 1).map(|j| &tokens[j].tok) else {
            continue;
        };
        let Some((open, close)) = body(tokens, i + 1) else {
            continue;
        };
        let (start, is_test) = preamble(tokens, i);
        let calls = (open..close)
            .filter_map(|j| match (&tokens[j].tok, next_code(tokens, j + 1)) {
                (Tok::Word(w), Some(k)) if tokens[k].tok == Tok::Punct('(') => Some(w.clone()),
                _ => None,
            })
            .collect();
        out.push(FnItem {
            name: name.clone(),
            is_test,
            start,
            end: close + 1,
            calls,
        });
    }
    out
}

/// The words passed to invocations of this file's macros whose templates define a `#[test]`
/// function with a name taken from a macro variable.
fn macro_made_tests(tokens: &[Token]) -> BTreeSet<String> {
    let code: Vec<&Tok> = tokens
        .iter()
        .map(|t| &t.tok)
        .filter(|t| !matches!(t, Tok::Comment(_)))
        .collect();
    let word = |i: usize| match code.get(i) {
        Some(Tok::Word(w)) => Some(w.as_str()),
        _ => None,
    };
    let punct = |i: usize, c: char| code.get(i) == Some(&&Tok::Punct(c));
    // The span of the group opened at `open`, whatever its delimiter.
    let group = |open: usize| {
        let mut depth = 0i32;
        for (j, tok) in code.iter().enumerate().skip(open) {
            match tok {
                Tok::Punct('(' | '[' | '{') => depth += 1,
                Tok::Punct(')' | ']' | '}') => {
                    depth -= 1;
                    if depth == 0 {
                        return j;
                    }
                }
                _ => {}
            }
        }
        code.len()
    };
    let mut makers = BTreeSet::new();
    for i in 0..code.len() {
        if word(i) == Some("macro_rules") && punct(i + 1, '!') {
            if let Some(name) = word(i + 2) {
                let end = group(i + 3);
                let makes_tests = (i + 3..end.saturating_sub(6)).any(|j| {
                    punct(j, '#')
                        && punct(j + 1, '[')
                        && word(j + 2) == Some("test")
                        && punct(j + 3, ']')
                        && word(j + 4) == Some("fn")
                        && punct(j + 5, '$')
                });
                if makes_tests {
                    makers.insert(name);
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    for i in 0..code.len() {
        let Some(name) = word(i) else { continue };
        if makers.contains(name) && punct(i + 1, '!') {
            let end = group(i + 2);
            out.extend((i + 2..end).filter_map(|j| word(j).map(str::to_string)));
        }
    }
    out
}

/// The first token at or after `i` that is not a comment.
fn next_code(tokens: &[Token], i: usize) -> Option<usize> {
    (i..tokens.len()).find(|&j| !matches!(tokens[j].tok, Tok::Comment(_)))
}

/// The braces of the body of the fn whose name is near `from`: the first '{' outside the
/// parameter list, and its match. None for a declaration without a body.
fn body(tokens: &[Token], from: usize) -> Option<(usize, usize)> {
    let mut parens = 0i32;
    let mut open = None;
    for (j, token) in tokens.iter().enumerate().skip(from) {
        match token.tok {
            Tok::Punct('(') | Tok::Punct('[') => parens += 1,
            Tok::Punct(')') | Tok::Punct(']') => parens -= 1,
            Tok::Punct(';') if parens == 0 => return None,
            Tok::Punct('{') if parens == 0 => {
                open = Some(j);
                break;
            }
            _ => {}
        }
    }
    let open = open?;
    let mut depth = 0i32;
    for (j, token) in tokens.iter().enumerate().skip(open) {
        match token.tok {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth -= 1;
                if depth == 0 {
                    return Some((open, j));
                }
            }
            _ => {}
        }
    }
    None
}

/// Walks back from a `fn` keyword over its qualifiers, attributes and the comments before it;
/// returns where that preamble starts and whether one of the attributes is `#[test]`.
fn preamble(tokens: &[Token], fn_at: usize) -> (usize, bool) {
    const QUALIFIERS: [&str; 8] = [
        "pub", "crate", "super", "in", "async", "unsafe", "const", "extern",
    ];
    let mut start = fn_at;
    let mut is_test = false;
    while start > 0 {
        let j = start - 1;
        match &tokens[j].tok {
            Tok::Comment(_) | Tok::Literal => start = j,
            Tok::Word(w) if QUALIFIERS.contains(&w.as_str()) => start = j,
            Tok::Punct('(') | Tok::Punct(')') => start = j,
            Tok::Punct(']') => {
                // Find the matching '[' and the '#' before it.
                let mut depth = 0i32;
                let mut k = j;
                loop {
                    match tokens[k].tok {
                        Tok::Punct(']') => depth += 1,
                        Tok::Punct('[') => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 || k == 0 {
                        break;
                    }
                    k -= 1;
                }
                if depth != 0 || k == 0 || tokens[k - 1].tok != Tok::Punct('#') {
                    break;
                }
                let inner: Vec<&Tok> = tokens[k + 1..j]
                    .iter()
                    .map(|t| &t.tok)
                    .filter(|t| !matches!(t, Tok::Comment(_)))
                    .collect();
                if inner == [&Tok::Word("test".into())] {
                    is_test = true;
                }
                start = k - 1;
            }
            _ => break,
        }
    }
    (start, is_test)
}

/// What the scanner needs of Rust's tokens: words, punctuation, comments (with their text),
/// and literals, whose contents must not be mistaken for code or comments.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Punct(char),
    Comment(String),
    Literal,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    /// The line the token starts on, from 1.
    line: usize,
}

fn lex(text: &str) -> Vec<Token> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Advances past `c[from..to]`, counting lines.
    let skip = |from: usize, to: usize, line: &mut usize| {
        *line += c[from..to.min(c.len())]
            .iter()
            .filter(|&&ch| ch == '\n')
            .count();
        to.min(c.len())
    };
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch.is_whitespace() {
            i = skip(i, i + 1, &mut line);
        } else if ch == '/' && next == Some('/') {
            let end = (i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len());
            out.push(Token {
                tok: Tok::Comment(c[i + 2..end].iter().collect()),
                line,
            });
            i = end;
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0;
            let mut j = i;
            while j < c.len() {
                if c[j] == '/' && c.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if c[j] == '*' && c.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            let inner_end = if depth == 0 { j - 2 } else { c.len() };
            out.push(Token {
                tok: Tok::Comment(c[i + 2..inner_end.max(i + 2)].iter().collect()),
                line,
            });
            i = skip(i, j, &mut line);
        } else if let Some(end) = raw_string_end(&c, i) {
            out.push(Token {
                tok: Tok::Literal,
                line,
            });
            i = skip(i, end, &mut line);
        } else if ch == '"' || (matches!(ch, 'b' | 'c') && next == Some('"')) {
            let mut j = if ch == '"' { i + 1 } else { i + 2 };
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            out.push(Token {
                tok: Tok::Literal,
                line,
            });
            i = skip(i, j + 1, &mut line);
        } else if ch == '\'' || (ch == 'b' && next == Some('\'')) {
            let q = if ch == '\'' { i } else { i + 1 };
            let end = if c.get(q + 1) == Some(&'\\') {
                // An escaped char: up to the closing quote.
                (q + 3..c.len()).find(|&j| c[j] == '\'').map(|j| j + 1)
            } else if c.get(q + 2) == Some(&'\'') {
                Some(q + 3)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.push(Token {
                        tok: Tok::Literal,
                        line,
                    });
                    i = skip(i, end, &mut line);
                }
                None => {
                    // A lifetime or label: the quote and the word after it.
                    let end = (q + 1..c.len())
                        .find(|&j| !(c[j].is_alphanumeric() || c[j] == '_'))
                        .unwrap_or(c.len());
                    out.push(Token {
                        tok: Tok::Literal,
                        line,
                    });
                    i = end.max(q + 1);
                }
            }
        } else if ch.is_alphanumeric() || ch == '_' {
            let end = (i..c.len())
                .find(|&j| !(c[j].is_alphanumeric() || c[j] == '_'))
                .unwrap_or(c.len());
            out.push(Token {
                tok: Tok::Word(c[i..end].iter().collect()),
                line,
            });
            i = end;
        } else {
            out.push(Token {
                tok: Tok::Punct(ch),
                line,
            });
            i += 1;
        }
    }
    out
}

/// If a raw string (`r"…"`, `r#"…"#`, `br"…"`, `cr"…"`) starts at `i`, the index past its end.
fn raw_string_end(c: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if matches!(c[j], 'b' | 'c') {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = (j..c.len()).take_while(|&k| c[k] == '#').count();
    j += hashes;
    if c.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < c.len() {
        if c[j] == '"' && (1..=hashes).all(|h| c.get(j + h) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(c.len())
}
