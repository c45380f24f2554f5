//! Just enough of a Rust lexer to tell comments, code and literals apart.

/// What the scanner needs of Rust's tokens: words, punctuation, comments (with their text),
/// and literals, whose contents must not be mistaken for code or comments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Tok {
    Word(String),
    Punct(char),
    Comment(String),
    /// A plain string literal, with its text as written between the quotes (escapes
    /// left as they are): a model's rule strings cite labels too.
    Str(String),
    Literal,
}

#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) tok: Tok,
    /// The line the token starts on, from 1.
    pub(super) line: usize,
}

pub(super) fn lex(text: &str) -> Vec<Token> {
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
            let from = j;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            out.push(Token {
                tok: Tok::Str(c[from.min(c.len())..j.min(c.len())].iter().collect()),
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
