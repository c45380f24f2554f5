//! The two hand-kept tables: RFC 9293 Appendix B and the notes.

use super::citations::parse_label;
use super::{Error, Requirement, SourceFile};

/// Parses the Appendix B table: '#' lines are comments, then a header line, then one row per
/// label with exactly five tab-separated columns.
pub fn parse_appendix(file: &SourceFile) -> Result<Vec<Requirement>, Vec<Error>> {
    parse_rows(file, |id, _| {
        (parse_label(id, 0) != Some(id.len())).then(|| format!("{id:?} is not a label"))
    })
}

/// The rows of a requirement table; `bad_id` says what is wrong with a row's id, given its
/// section, if anything.
fn parse_rows(
    file: &SourceFile,
    bad_id: impl Fn(&str, &str) -> Option<String>,
) -> Result<Vec<Requirement>, Vec<Error>> {
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
        if let Some(message) = bad_id(id, section) {
            errors.push(Error::new(&file.path, n, message));
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

/// Parses `model/requirements/other-rfcs.tsv`: the same columns as Appendix B's table,
/// each id being "RFC", one of [`super::OTHER_RFCS`] and the row's section.
pub fn parse_other_rfcs(file: &SourceFile) -> Result<Vec<Requirement>, Vec<Error>> {
    let rows = parse_rows(file, |id, section| {
        let ok = super::OTHER_RFCS
            .iter()
            .any(|rfc| id == format!("RFC {rfc} {section}"));
        (!ok).then(|| {
            format!(
                "{id:?} is not \"RFC <n> <section>\" for one of RFC {} and its section {section:?}",
                super::OTHER_RFCS.join(", ")
            )
        })
    })?;
    Ok(rows)
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
pub(super) fn notes_and_errors(file: &SourceFile) -> (Vec<Note>, Vec<Error>) {
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
