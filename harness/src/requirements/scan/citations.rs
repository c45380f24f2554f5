//! Citations of labels in comments.

use super::lex::{lex, Tok};
use super::{SourceFile, LABEL_KINDS};

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
        if let Tok::Comment(text) = &token.tok {
            cite(text, &file.path, token.line, &mut out);
        }
    }
    out
}

/// The citations in a scenario's comments (`//` to the end of a line, as packetdrill
/// writes them), in the same form: the labels a scenario checks on the wire.
pub fn scenario_citations(file: &SourceFile) -> Vec<Citation> {
    let mut out = Vec::new();
    for (n, line) in file.text.lines().enumerate() {
        if let Some(pos) = line.find("//") {
            cite(&line[pos + 2..], &file.path, n + 1, &mut out);
        }
    }
    out
}

/// The citations in one comment's `text`, which starts on `line` of `path`.
fn cite(text: &str, path: &str, line: usize, out: &mut Vec<Citation>) {
    let mut from = 0;
    while let Some(pos) = text[from..].find("RFC 9293") {
        let start = from + pos;
        from = start + "RFC 9293".len();
        let Some((section, labels)) = parse_citation(&text[from..]) else {
            continue;
        };
        let line = line + text[..start].matches('\n').count();
        for label in labels {
            out.push(Citation {
                label,
                section: section.clone(),
                at: format!("{path}:{line}"),
            });
        }
    }
}

/// The citations that open a string literal, as a model's rules are written (the words
/// "RFC 9293", the section, a colon, the labels, then the rule in words): checked like
/// those in comments, though only a comment at the code counts as implementing the label.
pub fn rule_citations(file: &SourceFile) -> Vec<Citation> {
    let mut out = Vec::new();
    for token in lex(&file.text) {
        let Tok::Str(text) = &token.tok else {
            continue;
        };
        let Some(rest) = text.strip_prefix("RFC 9293") else {
            continue;
        };
        let Some((section, labels)) = parse_citation(rest) else {
            continue;
        };
        for label in labels {
            out.push(Citation {
                label,
                section: section.clone(),
                at: format!("{}:{}", file.path, token.line),
            });
        }
    }
    out
}

/// The other RFCs the model cites, whose requirements have rows by section in
/// `model/requirements/other-rfcs.tsv`.
pub const OTHER_RFCS: [&str; 5] = ["2018", "5961", "6298", "7323", "7413"];

/// Each section of one of [`OTHER_RFCS`] that `text` names (the words "RFC", the number, a
/// space, an optional '§' and the section, whatever follows), as the id of its row ("RFC",
/// the number and the section), with its byte offset; a list of sections after one RFC
/// number, separated by ", ", names each.
pub fn other_sections_in(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for rfc in OTHER_RFCS {
        let prefix = format!("RFC {rfc}");
        let mut from = 0;
        while let Some(pos) = text[from..].find(&prefix) {
            let start = from + pos;
            from = start + prefix.len();
            let Some(rest) = text[from..].strip_prefix(' ') else {
                continue;
            };
            // A section, then any more after ", " ("RFC 7323 3.2, 4.3: ...").
            let mut rest = rest.strip_prefix('§').unwrap_or(rest);
            loop {
                let end = rest
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .unwrap_or(rest.len());
                let section = rest[..end].trim_end_matches('.');
                if !section.starts_with(|c: char| c.is_ascii_digit()) {
                    break;
                }
                out.push((start, format!("RFC {rfc} {section}")));
                match rest[end..].strip_prefix(", ") {
                    Some(more) => rest = more.strip_prefix('§').unwrap_or(more),
                    None => break,
                }
            }
        }
    }
    out.sort();
    out
}

/// The sections of [`OTHER_RFCS`] a file's comments name, as citations of their rows.
pub fn other_citations(file: &SourceFile) -> Vec<Citation> {
    let mut out = Vec::new();
    for token in lex(&file.text) {
        if let Tok::Comment(text) = &token.tok {
            for (offset, id) in other_sections_in(text) {
                let line = token.line + text[..offset].matches('\n').count();
                out.push(other_citation(id, &file.path, line));
            }
        }
    }
    out
}

/// [`other_citations`] for a scenario's `//` comments.
pub fn other_scenario_citations(file: &SourceFile) -> Vec<Citation> {
    let mut out = Vec::new();
    for (n, line) in file.text.lines().enumerate() {
        if let Some(pos) = line.find("//") {
            for (_, id) in other_sections_in(&line[pos + 2..]) {
                out.push(other_citation(id, &file.path, n + 1));
            }
        }
    }
    out
}

fn other_citation(id: String, path: &str, line: usize) -> Citation {
    let section = id.rsplit(' ').next().unwrap_or_default().to_string();
    Citation {
        label: id,
        section,
        at: format!("{path}:{line}"),
    }
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
pub(super) fn parse_label(s: &str, at: usize) -> Option<usize> {
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
pub(super) fn labels_in(text: &str) -> Vec<(usize, String)> {
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
