//! Test functions and the labels their comments mention.

use std::collections::{BTreeMap, BTreeSet};

use super::citations::{labels_in, other_sections_in};
use super::lex::{lex, Tok, Token};
use super::SourceFile;

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
                    let mut mentioned = labels_in(text);
                    mentioned.extend(other_sections_in(text));
                    for (offset, label) in mentioned {
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
            Tok::Comment(_) | Tok::Str(_) | Tok::Literal => start = j,
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
