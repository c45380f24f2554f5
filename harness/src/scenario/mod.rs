//! packetdrill's script language: lexer, parser, syntax tree and error rendering.
//!
//! Scripts written for packetdrill parse unchanged, as far as their TCP subset goes, with
//! inbound ICMP error lines and the ECN codepoint (`[ect0]`) of IP-level fields; the other
//! IP-level fields, UDP, outbound ICMP and encapsulations are recognised and refused with a
//! clear "not supported yet" rather than misread. The runner that executes a [`Script`] lives elsewhere; this module
//! only turns text into a tree or into an error that points at the offending column.
//!
//! # Extension: several peers
//!
//! packetdrill's local mode has a single remote endpoint, but accept-queue and
//! connection-limit scenarios need several connections at once. A packet line may therefore
//! name its peer right after the direction:
//!
//! ```text
//! +0   < [peer 2] S 0:0(0) win 1000 <mss 1460>
//! +0   > [peer 2] S. 0:0(0) ack 1 <...>
//! ```
//!
//! Peers are numbered from 1; an untagged packet belongs to peer 1, so plain packetdrill
//! scripts mean what they always meant, and `[peer 1]` is printed back as no tag at all. The
//! tag cannot be confused with packetdrill's `[ect0]`-style IP fields because `peer` is not
//! one of their keywords. corpus/scenarios/EXTENSIONS.md documents it for script authors.

pub mod ast;
pub mod error;
pub mod lexer;
pub mod parser;

pub use ast::*;
pub use error::ParseError;

/// The text being parsed, with what is needed to turn byte offsets into lines and columns.
pub struct Source<'a> {
    pub file: &'a str,
    pub text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            file,
            text,
            line_starts,
        }
    }

    /// 0-based line index and 1-based character column of a byte offset.
    fn locate(&self, offset: usize) -> (usize, u32) {
        let offset = self.floor_boundary(offset.min(self.text.len()));
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let col = self.text[self.line_starts[line]..offset].chars().count() + 1;
        (line, col as u32)
    }

    fn floor_boundary(&self, mut offset: usize) -> usize {
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    fn line_text(&self, line: usize) -> &'a str {
        let start = self.line_starts[line];
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |&next| next - 1);
        self.text[start..end].trim_end_matches('\r')
    }

    pub fn span(&self, start: usize, end: usize) -> Span {
        let (line, col) = self.locate(start);
        let (end_line, end_col) = self.locate(end);
        Span {
            line: line as u32 + 1,
            col,
            end_line: end_line as u32 + 1,
            end_col,
        }
    }

    /// An error about the bytes `start..end`; a span running past its first line is
    /// underlined to the end of that line.
    pub fn error(&self, start: usize, end: usize, message: impl Into<String>) -> ParseError {
        let (line, col) = self.locate(start);
        let (end_line, end_col) = self.locate(end.max(start));
        let source_line = self.line_text(line).to_string();
        let line_chars = source_line.chars().count() as u32;
        let last = if end_line == line {
            end_col
        } else {
            line_chars + 1
        };
        let width = last.saturating_sub(col).max(1);
        ParseError {
            file: self.file.to_string(),
            line: line as u32 + 1,
            col,
            message: message.into(),
            source_line,
            width,
        }
    }
}

/// Parses a whole script; `file_name` only labels errors.
pub fn parse(file_name: &str, text: &str) -> Result<Script, ParseError> {
    parse_defined(file_name, text, &Definitions::new())
}

/// packetdrill's `-D NAME=VALUE` definitions: a word of the script equal to `NAME` reads as
/// `VALUE` (an integer, a `"string"`, a `` `command` `` or a word), as its lexer does.
pub type Definitions = std::collections::BTreeMap<String, String>;

/// Reads `-D`'s `NAME=VALUE`, refusing what packetdrill refuses (no `=`, an empty name).
pub fn definition(arg: &str) -> Result<(String, String), String> {
    match arg.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("bad definition `{arg}`: expected NAME=VALUE")),
    }
}

/// [`parse`] with `-D` definitions.
pub fn parse_defined(
    file_name: &str,
    text: &str,
    defines: &Definitions,
) -> Result<Script, ParseError> {
    let src = Source::new(file_name, text);
    let tokens = lexer::tokenize_defined(&src, defines)?;
    parser::Parser::new(&src, tokens).script()
}

/// The fuzz target's property, here so `cargo test` replays the seeds through the same code:
/// any bytes, read as lossy UTF-8, either fail to parse with an error that renders, or parse
/// to a script whose printed form parses again to the same tree (spans aside).
pub fn fuzz_property(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data);
    let script = match parse("fuzz.pkt", &text) {
        Ok(script) => script,
        Err(e) => {
            let _rendered = e.to_string();
            return Ok(());
        }
    };
    let printed = script.to_string();
    match parse("printed.pkt", &printed) {
        Ok(again) if again.without_spans() == script.without_spans() => Ok(()),
        Ok(again) => Err(format!(
            "printed script parses to a different tree\n--- printed:\n{printed}\n--- first:\n{:?}\n--- again:\n{:?}",
            script.without_spans(),
            again.without_spans()
        )),
        Err(e) => Err(format!(
            "printed script does not parse:\n{e}\n--- printed:\n{printed}"
        )),
    }
}
