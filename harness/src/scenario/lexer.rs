//! Splits a script into tokens.
//!
//! packetdrill's language is free-form: newlines are plain whitespace, so a system call may
//! span several lines and an event ends only where the next one's time begins. The lexer
//! therefore knows nothing about lines; tokens carry byte offsets and the error renderer maps
//! them back to lines and columns.
//!
//! Numbers and words are told apart by longest match, like flex does for packetdrill: `1e5` is
//! one word, `0x1f` a hex number, `192.0.2.1` an IPv4 address, `0...0.5` an integer, an
//! ellipsis and a float. Integers keep their text: whether `4294967296` is out of range
//! depends on where it stands, which only the parser knows.

use super::error::ParseError;
use super::Source;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok<'a> {
    /// `--name` or `--name=value`. The value is taken raw up to the next whitespace (quotes
    /// may protect spaces) because option values are addresses, paths and shell snippets that
    /// the token rules for events would tear apart.
    Opt {
        name: &'a str,
        value: Option<&'a str>,
    },
    /// Decimal integer text, possibly with a leading `-`.
    Int(&'a str),
    /// `0x...` text.
    Hex(&'a str),
    /// `[-]digits.digits` text; the integer part may be empty (`.1`).
    Float(&'a str),
    Ipv4(&'a str),
    Word(&'a str),
    /// Between the quotes, escapes left as written.
    Str(&'a str),
    /// Between the backquotes, escapes left as written.
    BackQuoted(&'a str),
    /// Between `%{` and `}%`, trimmed of spaces and tabs at both ends as packetdrill does.
    Code(&'a str),
    Ellipsis,
    Punct(char),
    Eof,
}

#[derive(Clone, Copy, Debug)]
pub struct Token<'a> {
    pub tok: Tok<'a>,
    /// Byte offsets into the script text.
    pub start: usize,
    pub end: usize,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn count_while(bytes: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> usize {
    bytes[from.min(bytes.len())..]
        .iter()
        .take_while(|&&b| pred(b))
        .count()
}

/// Length of `[0-9]*[.][0-9]+` at `at`, or 0.
fn float_len(bytes: &[u8], at: usize) -> usize {
    let int = count_while(bytes, at, |b| b.is_ascii_digit());
    if bytes.get(at + int) != Some(&b'.') {
        return 0;
    }
    let frac = count_while(bytes, at + int + 1, |b| b.is_ascii_digit());
    if frac == 0 {
        0
    } else {
        int + 1 + frac
    }
}

/// Length of `[0-9]+(.[0-9]+){3}` at `at`, or 0.
fn ipv4_len(bytes: &[u8], at: usize) -> usize {
    let mut pos = at;
    for part in 0..4 {
        if part > 0 {
            if bytes.get(pos) != Some(&b'.') {
                return 0;
            }
            pos += 1;
        }
        let digits = count_while(bytes, pos, |b| b.is_ascii_digit());
        if digits == 0 {
            return 0;
        }
        pos += digits;
    }
    pos - at
}

pub fn tokenize<'a>(src: &Source<'a>) -> Result<Vec<Token<'a>>, ParseError> {
    static NONE: super::Definitions = super::Definitions::new();
    tokenize_defined(src, &NONE)
}

/// What a defined word reads as: packetdrill's lexer (`word()`) makes `"v"` a string,
/// `` `v` `` a command, a whole number an integer and anything else a word.
fn defined<'a>(value: &'a str) -> Tok<'a> {
    let quoted = |q: char| {
        value
            .strip_prefix(q)
            .and_then(|v| v.strip_suffix(q))
            .filter(|_| value.len() >= 2)
    };
    if let Some(v) = quoted('"') {
        return Tok::Str(v);
    }
    if let Some(v) = quoted('`') {
        return Tok::BackQuoted(v);
    }
    if value.parse::<i64>().is_ok() {
        return Tok::Int(value);
    }
    let hex = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"));
    if hex.is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Tok::Hex(value);
    }
    Tok::Word(value)
}

/// [`tokenize`], reading a word `defines` names as its value (spans stay the word's).
pub fn tokenize_defined<'a>(
    src: &Source<'a>,
    defines: &'a super::Definitions,
) -> Result<Vec<Token<'a>>, ParseError> {
    let text = src.text;
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let b = bytes[pos];
        let start = pos;
        let rest = &bytes[pos..];
        if b.is_ascii_whitespace() {
            pos += 1;
            continue;
        }
        if rest.starts_with(b"//") {
            pos += count_while(bytes, pos, |b| b != b'\n');
            continue;
        }
        if rest.starts_with(b"/*") {
            match text[pos + 2..].find("*/") {
                Some(i) => pos += 2 + i + 2,
                None => return Err(src.error(start, start + 2, "unterminated `/*` comment")),
            }
            continue;
        }
        let (tok, len) = if rest.starts_with(b"%{") {
            match text[pos + 2..].find("}%") {
                Some(i) => {
                    let inner = text[pos + 2..pos + 2 + i].trim_matches([' ', '\t']);
                    (Tok::Code(inner), 2 + i + 2)
                }
                None => return Err(src.error(start, start + 2, "unterminated `%{` code block")),
            }
        } else if rest.starts_with(b"...") {
            (Tok::Ellipsis, 3)
        } else if rest.starts_with(b"--") && rest.get(2).is_some_and(|&b| is_word_byte(b)) {
            let name_len = count_while(bytes, pos + 2, is_word_byte);
            let name = &text[pos + 2..pos + 2 + name_len];
            let mut len = 2 + name_len;
            let mut value = None;
            if bytes.get(pos + len) == Some(&b'=') {
                len += 1;
                let value_start = pos + len;
                let mut quoted = false;
                while let Some(&c) = bytes.get(pos + len) {
                    if c == b'"' {
                        quoted = !quoted;
                    } else if c.is_ascii_whitespace() && !quoted {
                        break;
                    }
                    len += 1;
                }
                if quoted {
                    return Err(src.error(start, pos + len, "unterminated string in option value"));
                }
                value = Some(&text[value_start..pos + len]);
            }
            (Tok::Opt { name, value }, len)
        } else if b == b'"' || b == b'`' {
            let mut len = 1;
            loop {
                match bytes.get(pos + len) {
                    None => {
                        let what = if b == b'"' { "string" } else { "`command`" };
                        return Err(src.error(start, start + 1, format!("unterminated {what}")));
                    }
                    Some(&b'\\') if pos + len + 1 < bytes.len() => len += 2,
                    Some(&c) if c == b => break,
                    Some(_) => len += 1,
                }
            }
            let inner = &text[pos + 1..pos + len];
            let tok = if b == b'"' {
                Tok::Str(inner)
            } else {
                Tok::BackQuoted(inner)
            };
            (tok, len + 1)
        } else if b.is_ascii_digit()
            || (b == b'.' && rest.get(1).is_some_and(u8::is_ascii_digit))
            || (b == b'-'
                && (rest.get(1).is_some_and(u8::is_ascii_digit)
                    || (rest.get(1) == Some(&b'.') && rest.get(2).is_some_and(u8::is_ascii_digit))))
        {
            let sign = usize::from(b == b'-');
            let at = pos + sign;
            let word = if sign == 0 {
                count_while(bytes, at, is_word_byte)
            } else {
                0
            };
            let int = count_while(bytes, at, |b| b.is_ascii_digit());
            let float = float_len(bytes, at);
            let ipv4 = if sign == 0 { ipv4_len(bytes, at) } else { 0 };
            let hex = if sign == 0
                && bytes[at..].starts_with(b"0x")
                && bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit)
            {
                2 + count_while(bytes, at + 2, |b| b.is_ascii_hexdigit())
            } else {
                0
            };
            // Longest match wins; on a tie the earlier flex rule (float, integer, hex, word).
            let best = word.max(int).max(float).max(ipv4).max(hex);
            let len = sign + best;
            let t = &text[pos..pos + len];
            let tok = if ipv4 == best {
                Tok::Ipv4(t)
            } else if float == best {
                Tok::Float(t)
            } else if int == best {
                Tok::Int(t)
            } else if hex == best {
                Tok::Hex(t)
            } else {
                Tok::Word(t)
            };
            (tok, len)
        } else if is_word_byte(b) {
            let len = count_while(bytes, pos, is_word_byte);
            let word = &text[pos..pos + len];
            match defines.get(word) {
                Some(value) => (defined(value), len),
                None => (Tok::Word(word), len),
            }
        } else {
            let c = text[pos..].chars().next().unwrap_or('\u{fffd}');
            (Tok::Punct(c), c.len_utf8())
        };
        pos += len;
        tokens.push(Token {
            tok,
            start,
            end: pos,
        });
    }
    let eof = text.trim_end().len();
    tokens.push(Token {
        tok: Tok::Eof,
        start: eof,
        end: eof,
    });
    Ok(tokens)
}
